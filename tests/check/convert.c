/* gst-kling: the ORC kernels against plain-C references, on random data,
 * odd widths and padded strides.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-convert.h"

/* The references are compiled with -ffp-contract=off, so a*x+b rounds the
 * way the kernels do. */
static void
ref_u8_to_f32 (gfloat * dst, gsize dst_stride, const guint8 * src,
    gsize src_stride, gint width, gint pv, gint height, gfloat scale,
    const gfloat * mean, const gfloat * std)
{
  gint x, y, c;

  for (y = 0; y < height; y++) {
    const guint8 *s = src + y * src_stride;
    gfloat *d = (gfloat *) ((guint8 *) dst + y * dst_stride);
    for (x = 0; x < width; x++)
      for (c = 0; c < pv; c++) {
        gfloat a = scale / std[c], b = -mean[c] / std[c];
        d[x * pv + c] = (gfloat) s[x * pv + c] * a + b;
      }
  }
}

static guint8
ref_f32_to_u8 (gfloat v, KlingRange range)
{
  gfloat x = range == KLING_RANGE_SIGNED ? (v + 1.0f) * 127.5f : v * 255.0f;

  x = roundf (x);
  return x < 0 ? 0 : x > 255 ? 255 : (guint8) x;
}

static gboolean
close_rel (gfloat a, gfloat b)
{
  return fabsf (a - b) <= 1e-6f * MAX (fabsf (a), fabsf (b)) + 1e-30f;
}

static void
check_normalize (gint width, gint height, gint pv, gsize pad_src,
    gsize pad_dst, gboolean uniform)
{
  GRand *rand = g_rand_new_with_seed (width * 131 + height * 7 + pv);
  gsize src_stride = width * pv + pad_src;
  gsize dst_stride = (width * pv + pad_dst) * sizeof (gfloat);
  guint8 *src = g_malloc (src_stride * height);
  gfloat *dst = g_malloc0 (dst_stride * height);
  gfloat *ref = g_malloc0 (dst_stride * height);
  gfloat mean[4] = { 0.485f, 0.456f, 0.406f, 0.5f };
  gfloat std[4] = { 0.229f, 0.224f, 0.225f, 0.25f };
  gfloat umean[4] = { 0.5f, 0.5f, 0.5f, 0.5f };
  gfloat ustd[4] = { 0.5f, 0.5f, 0.5f, 0.5f };
  KlingNormalizer *norm;
  gsize i;
  gint x, y;

  for (i = 0; i < src_stride * height; i++)
    src[i] = g_rand_int_range (rand, 0, 256);
  norm = kling_normalizer_new (width, pv, 1.0f / 255.0f,
      uniform ? umean : mean, uniform ? ustd : std);
  kling_normalizer_run (norm, dst, dst_stride, src, src_stride, height);
  ref_u8_to_f32 (ref, dst_stride, src, src_stride, width, pv, height,
      1.0f / 255.0f, uniform ? umean : mean, uniform ? ustd : std);
  for (y = 0; y < height; y++) {
    gfloat *d = (gfloat *) ((guint8 *) dst + y * dst_stride);
    gfloat *r = (gfloat *) ((guint8 *) ref + y * dst_stride);
    for (x = 0; x < width * pv; x++)
      fail_unless (close_rel (d[x], r[x]), "%dx%d pv %d at %d,%d: %g vs %g",
          width, height, pv, x, y, d[x], r[x]);
    /* padding is left alone */
    for (x = width * pv; x < (gint) (dst_stride / sizeof (gfloat)); x++)
      fail_unless (d[x] == 0.0f);
  }
  kling_normalizer_free (norm);
  g_free (src);
  g_free (dst);
  g_free (ref);
  g_rand_free (rand);
}

GST_START_TEST (test_u8_to_f32)
{
  gint widths[] = { 1, 3, 7, 17, 64, 333 };
  gint pvs[] = { 1, 3, 4 };
  guint i, j;

  for (i = 0; i < G_N_ELEMENTS (widths); i++)
    for (j = 0; j < G_N_ELEMENTS (pvs); j++) {
      check_normalize (widths[i], 5, pvs[j], 0, 0, FALSE);
      check_normalize (widths[i], 3, pvs[j], 13, 5, FALSE);
      check_normalize (widths[i], 4, pvs[j], 3, 1, TRUE);
    }
}

GST_END_TEST;

static void
check_to_u8 (gint n, gint height, gsize pad_src, gsize pad_dst,
    KlingRange range)
{
  GRand *rand = g_rand_new_with_seed (n * 17 + height + range);
  gsize src_stride = (n + pad_src) * sizeof (gfloat);
  gsize dst_stride = n + pad_dst;
  gfloat *src = g_malloc (src_stride * height);
  guint8 *dst = g_malloc0 (dst_stride * height);
  gint x, y;

  for (y = 0; y < height; y++) {
    gfloat *s = (gfloat *) ((guint8 *) src + y * src_stride);
    for (x = 0; x < n + (gint) pad_src; x++) {
      /* beyond the range on both sides, to exercise clamping */
      gdouble lo = range == KLING_RANGE_SIGNED ? -1.3 : -0.3;
      s[x] = g_rand_double_range (rand, lo, 1.3);
      if (x % 11 == 0)          /* exact steps, where rounding matters */
        s[x] = range == KLING_RANGE_SIGNED ?
            (g_rand_int_range (rand, 0, 511) / 2.0f) / 127.5f - 1.0f :
            (g_rand_int_range (rand, 0, 511) / 2.0f) / 255.0f;
    }
  }
  kling_float_to_u8 (dst, dst_stride, src, src_stride, n, height, range);
  for (y = 0; y < height; y++) {
    gfloat *s = (gfloat *) ((guint8 *) src + y * src_stride);
    for (x = 0; x < n; x++) {
      gint want = ref_f32_to_u8 (s[x], range), got = dst[y * dst_stride + x];
      fail_unless (ABS (want - got) <= 1, "%g -> %d, reference %d", s[x],
          got, want);
    }
    for (x = n; x < (gint) dst_stride; x++)
      fail_unless (dst[y * dst_stride + x] == 0);
  }
  /* the extremes are exact */
  {
    gfloat e[4] = { -1.0f, 1.0f, -7.0f, 7.0f };
    guint8 o[4];
    kling_float_to_u8 (o, 4, e, 16, 4, 1, KLING_RANGE_SIGNED);
    fail_unless (o[0] == 0 && o[1] == 255 && o[2] == 0 && o[3] == 255);
    e[0] = 0.0f;
    kling_float_to_u8 (o, 4, e, 16, 4, 1, KLING_RANGE_UNIT);
    fail_unless (o[0] == 0 && o[1] == 255 && o[2] == 0 && o[3] == 255);
  }
  g_free (src);
  g_free (dst);
  g_rand_free (rand);
}

GST_START_TEST (test_f32_to_u8)
{
  gint ns[] = { 1, 5, 31, 96, 1001 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (ns); i++) {
    check_to_u8 (ns[i], 3, 0, 0, KLING_RANGE_SIGNED);
    check_to_u8 (ns[i], 4, 7, 9, KLING_RANGE_SIGNED);
    check_to_u8 (ns[i], 2, 3, 1, KLING_RANGE_UNIT);
  }
}

GST_END_TEST;

GST_START_TEST (test_axpby)
{
  GRand *rand = g_rand_new_with_seed (42);
  gsize ns[] = { 1, 3, 15, 1024, 4099 };
  guint i;
  gsize j;

  for (i = 0; i < G_N_ELEMENTS (ns); i++) {
    gfloat *x = g_new (gfloat, ns[i] + 1), *y = g_new (gfloat, ns[i]);
    gfloat *ref = g_new (gfloat, ns[i]), *x0 = g_new (gfloat, ns[i]);
    gfloat a = g_rand_double_range (rand, -2, 2);
    gfloat b = g_rand_double_range (rand, -2, 2);

    for (j = 0; j < ns[i]; j++) {
      x[j] = g_rand_double_range (rand, -10, 10);
      y[j] = g_rand_double_range (rand, -10, 10);
      x0[j] = x[j];
      ref[j] = a * x[j] + b * y[j];
    }
    x[ns[i]] = 12345.0f;        /* a guard past the end */
    kling_axpby (x, y, a, b, ns[i]);
    for (j = 0; j < ns[i]; j++)
      fail_unless (fabsf (x[j] - ref[j]) <= 1e-6f * (fabsf (a * x0[j]) +
              fabsf (b * y[j])) + 1e-30f,
          "%" G_GSIZE_FORMAT ": %g vs %g", j, x[j], ref[j]);
    fail_unless (x[ns[i]] == 12345.0f);
    g_free (x);
    g_free (y);
    g_free (ref);
    g_free (x0);
  }
  g_rand_free (rand);
}

GST_END_TEST;

static Suite *
convert_suite (void)
{
  Suite *s = suite_create ("convert");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_u8_to_f32);
  tcase_add_test (tc, test_f32_to_u8);
  tcase_add_test (tc, test_axpby);
  return s;
}

GST_CHECK_MAIN (convert);
