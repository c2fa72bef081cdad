/* gst-kling: boxes and labels burnt into packed RGB frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_DRAW_H__
#define __KLING_DRAW_H__

#include <gst/video/video.h>
#include "kling-detections.h"

G_BEGIN_DECLS

/* TRUE for the 8-bit RGB, YUV and grey formats (packed, planar or
 * semi-planar) aiproductdetect accepts. */
gboolean kling_draw_supported (GstVideoFormat format);

/* Draws a 2-pixel box per detection, in a colour per label, and a tab with
 * "LABEL 87%" above it (ASCII labels; other characters show as blanks).
 * Frames of other formats are left untouched. */
void kling_draw_detections (GstVideoFrame * frame,
    const KlingDetection * dets, guint n, const gchar * const *labels);

G_END_DECLS

#endif
