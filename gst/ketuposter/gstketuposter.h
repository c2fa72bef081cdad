/* gst-kling: ketuposter
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_KETU_POSTER_H__
#define __GST_KETU_POSTER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_KETU_POSTER (gst_ketu_poster_get_type ())
G_DECLARE_FINAL_TYPE (GstKetuPoster, gst_ketu_poster, GST, KETU_POSTER,
    GstElement);

#define GST_TYPE_KETU_POSTER_LAYOUT (gst_ketu_poster_layout_get_type ())
GType gst_ketu_poster_layout_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (ketuposter);

G_END_DECLS

#endif
