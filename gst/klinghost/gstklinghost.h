/* gst-kling: klinghost, a talking digital host
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_KLING_HOST_H__
#define __GST_KLING_HOST_H__

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_TYPE_KLING_HOST (gst_kling_host_get_type ())
G_DECLARE_FINAL_TYPE (GstKlingHost, gst_kling_host, GST, KLING_HOST,
    GstElement);

GST_ELEMENT_REGISTER_DECLARE (klinghost);

G_END_DECLS
#endif
