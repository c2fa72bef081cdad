/* gst-kling: pixel <-> tensor conversion over the ORC kernels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-convert.h"
#include "kling-orc.h"

struct _KlingNormalizer
{
  gint width;
  gint pixel_values;
  gboolean uniform;
  gfloat a0, b0;
  gfloat *a;                    /* one row of per-value factors */
  gfloat *b;
};

KlingNormalizer *
kling_normalizer_new (gint width, gint pixel_values, gfloat scale,
    const gfloat * mean, const gfloat * std)
{
  KlingNormalizer *norm;
  gint i, c, n;

  g_return_val_if_fail (width > 0 && pixel_values > 0, NULL);

  norm = g_new0 (KlingNormalizer, 1);
  norm->width = width;
  norm->pixel_values = pixel_values;
  n = width * pixel_values;
  norm->a = g_new (gfloat, n);
  norm->b = g_new (gfloat, n);
  norm->uniform = TRUE;
  for (c = 0; c < pixel_values; c++) {
    gfloat m = mean ? mean[c] : 0.0f, s = std ? std[c] : 1.0f;
    gfloat a = scale / s, b = -m / s;

    if (c == 0) {
      norm->a0 = a;
      norm->b0 = b;
    } else if (a != norm->a0 || b != norm->b0) {
      norm->uniform = FALSE;
    }
    for (i = 0; i < width; i++) {
      norm->a[i * pixel_values + c] = a;
      norm->b[i * pixel_values + c] = b;
    }
  }
  return norm;
}

void
kling_normalizer_free (KlingNormalizer * norm)
{
  if (norm == NULL)
    return;
  g_free (norm->a);
  g_free (norm->b);
  g_free (norm);
}

void
kling_normalizer_run (const KlingNormalizer * norm, gfloat * dst,
    gsize dst_stride_bytes, const guint8 * src, gsize src_stride_bytes,
    gint height)
{
  gint n = norm->width * norm->pixel_values;

  if (norm->uniform)
    kling_orc_u8_to_f32_scalar (dst, dst_stride_bytes, src, src_stride_bytes,
        norm->a0, norm->b0, n, height);
  else
    kling_orc_u8_to_f32_pattern (dst, dst_stride_bytes, src, src_stride_bytes,
        norm->a, 0, norm->b, 0, n, height);
}

void
kling_float_to_u8 (guint8 * dst, gsize dst_stride_bytes, const gfloat * src,
    gsize src_stride_bytes, gint n_values, gint height, KlingRange range)
{
  /* +0.5 folded into the offset: the kernel truncates after clamping */
  if (range == KLING_RANGE_SIGNED)
    kling_orc_f32_to_u8 (dst, dst_stride_bytes, src, src_stride_bytes,
        127.5f, 128.0f, n_values, height);
  else
    kling_orc_f32_to_u8 (dst, dst_stride_bytes, src, src_stride_bytes,
        255.0f, 0.5f, n_values, height);
}

void
kling_axpby (gfloat * x, const gfloat * y, gfloat a, gfloat b, gsize n)
{
  /* ORC counts in int: split giant buffers */
  while (n > 0) {
    gint chunk = (gint) MIN (n, (gsize) G_MAXINT / 2);

    kling_orc_axpby (x, y, a, b, chunk);
    x += chunk;
    y += chunk;
    n -= chunk;
  }
}
