/* gst-kling: klingspeak
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_KLING_SPEAK_H__
#define __GST_KLING_SPEAK_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_KLING_SPEAK (gst_kling_speak_get_type ())
G_DECLARE_FINAL_TYPE (GstKlingSpeak, gst_kling_speak, GST, KLING_SPEAK,
    GstElement);

GST_ELEMENT_REGISTER_DECLARE (klingspeak);

G_END_DECLS

#endif
