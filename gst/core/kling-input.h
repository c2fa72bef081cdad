/* gst-kling: video frames (or a region of them) as a model's input values
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_INPUT_H__
#define __KLING_INPUT_H__

#include <gst/video/video.h>
#include "kling-detections.h"
#include "kling-manifest.h"

G_BEGIN_DECLS

/* What a model wants: its picture size, channel order, resize rule and
 * normalisation (the "input" member of a manifest). */
typedef struct
{
  gint width, height;
  GstVideoFormat format;        /* RGB, BGR or GRAY8 */
  gboolean letterbox;           /* keep aspect, pad with @pad; else stretch */
  guint8 pad;
  gfloat scale;
  gfloat mean[3], std[3];
} KlingInputSpec;

void kling_input_spec_from_manifest (KlingInputSpec * spec,
    const KlingManifest * manifest);

/* A converter from frames of one GstVideoInfo (or a crop of them) into the
 * model's size and layout, the normaliser, and the buffers they fill, all
 * made once per caps.  Values stay interleaved (H, W, C), float32. */
typedef struct _KlingInput KlingInput;

/* NULL with @error set when GstVideoConverter cannot do it (an odd
 * format, or a frame or crop of no pixels). */
KlingInput *kling_input_new (const KlingInputSpec * spec,
    const GstVideoInfo * info, const GstVideoRectangle * crop,
    GError ** error);
void kling_input_free (KlingInput * input);

/* Converts and normalises @frame (of the info given to new). */
void kling_input_fill (KlingInput * input, const GstVideoFrame * frame);
/* Fills the whole picture, margin included, with one grey level and
 * normalises it: a warm-up input, not to be filled with frames after. */
void kling_input_fill_grey (KlingInput * input, guint8 level);

/* The values: height rows of width * channels floats. */
gfloat *kling_input_get_values (KlingInput * input);
gint kling_input_get_channels (const KlingInput * input);
/* Where the frame (or crop) landed in the model's picture. */
const KlingLetterbox *kling_input_get_letterbox (const KlingInput * input);

G_END_DECLS

#endif
