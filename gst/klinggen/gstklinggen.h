/* gst-kling: klinggen
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_KLING_GEN_H__
#define __GST_KLING_GEN_H__

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_KLING_GEN (gst_kling_gen_get_type ())
G_DECLARE_FINAL_TYPE (GstKlingGen, gst_kling_gen, GST, KLING_GEN, GstPushSrc);

GST_ELEMENT_REGISTER_DECLARE (klinggen);

G_END_DECLS

#endif
