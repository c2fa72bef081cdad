/* gst-kling: pixel <-> tensor conversion over the ORC kernels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_CONVERT_H__
#define __KLING_CONVERT_H__

#include <glib.h>

G_BEGIN_DECLS

/* Packed 8-bit pixels to float32, value = pixel * scale[c] - ... :
 *   out = (pixel * scale - mean[c]) / std[c]
 * for each of the @pixel_values bytes of a pixel (3 for RGB/BGR, 4 for
 * RGBx/BGRx/xRGB/RGBA/BGRA, 1 for GRAY8), keeping the interleaved layout
 * so the result wraps as a channels-last tensor.  Build one per caps; the
 * per-value factors are computed once here, not per frame. */
typedef struct _KlingNormalizer KlingNormalizer;

KlingNormalizer *kling_normalizer_new (gint width, gint pixel_values,
    gfloat scale, const gfloat * mean, const gfloat * std);
void kling_normalizer_free (KlingNormalizer * norm);
void kling_normalizer_run (const KlingNormalizer * norm, gfloat * dst,
    gsize dst_stride_bytes, const guint8 * src, gsize src_stride_bytes,
    gint height);

typedef enum
{
  KLING_RANGE_UNIT,             /* [0, 1] */
  KLING_RANGE_SIGNED            /* [-1, 1] */
} KlingRange;

/* float32 rows of @n_values to 8 bits, rounded to nearest and clamped. */
void kling_float_to_u8 (guint8 * dst, gsize dst_stride_bytes,
    const gfloat * src, gsize src_stride_bytes, gint n_values, gint height,
    KlingRange range);

/* x = a * x + b * y over @n values: the update of a sampler step. */
void kling_axpby (gfloat * x, const gfloat * y, gfloat a, gfloat b, gsize n);

G_END_DECLS

#endif
