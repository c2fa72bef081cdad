/* ORC kernels against plain C at 1920x1080, on random frames.
 * A = ORC, B = C: ratio B/A > 1 means ORC is faster.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-common.h"
#include "kling-convert.h"

#define FW 1920
#define FH 1080

typedef struct
{
  gint pv;
  guint8 *src;
  gfloat *dst;
  gfloat a[4], b[4];
  KlingNormalizer *norm;
  gfloat *x, *y;
  guint8 *u8;
} Data;

static void
orc_normalize (gpointer p)
{
  Data *d = p;
  kling_normalizer_run (d->norm, d->dst, FW * d->pv * 4, d->src, FW * d->pv,
      FH);
}

/* what one writes without ORC; -O2 and the compiler's own vectoriser */
static void
c_normalize (gpointer p)
{
  Data *d = p;
  gint x, y, c;

  for (y = 0; y < FH; y++) {
    const guint8 *s = d->src + (gsize) y * FW * d->pv;
    gfloat *o = d->dst + (gsize) y * FW * d->pv;
    for (x = 0; x < FW; x++)
      for (c = 0; c < d->pv; c++)
        o[x * d->pv + c] = s[x * d->pv + c] * d->a[c] + d->b[c];
  }
}

static void
orc_to_u8 (gpointer p)
{
  Data *d = p;
  kling_float_to_u8 (d->u8, FW * 3, d->dst, FW * 3 * 4, FW * 3, FH,
      KLING_RANGE_SIGNED);
}

static void
c_to_u8 (gpointer p)
{
  Data *d = p;
  gsize i, n = (gsize) FW * FH * 3;

  for (i = 0; i < n; i++) {
    gfloat v = d->dst[i] * 127.5f + 128.0f;
    v = v < 0 ? 0 : v > 255 ? 255 : v;
    d->u8[i] = (guint8) v;
  }
}

static void
orc_axpby (gpointer p)
{
  Data *d = p;
  kling_axpby (d->x, d->y, 0.98f, 0.02f, (gsize) FW * FH * 3);
}

static void
c_axpby (gpointer p)
{
  Data *d = p;
  gsize i, n = (gsize) FW * FH * 3;

  for (i = 0; i < n; i++)
    d->x[i] = 0.98f * d->x[i] + 0.02f * d->y[i];
}

int
main (int argc, char **argv)
{
  static const gfloat mean[4] = { 0.485f, 0.456f, 0.406f, 0 };
  static const gfloat std[4] = { 0.229f, 0.224f, 0.225f, 1 };
  GRand *rand = g_rand_new_with_seed (1);
  Data d;
  gsize i, n = (gsize) FW * FH * 4;
  gint pvs[] = { 3, 4 }, k;

  d.src = g_malloc (n);
  d.dst = g_new (gfloat, n);
  d.u8 = g_malloc (n);
  d.x = g_new (gfloat, n);
  d.y = g_new (gfloat, n);
  for (i = 0; i < n; i++) {
    d.src[i] = g_rand_int (rand);
    d.x[i] = g_rand_double_range (rand, -1, 1);
    d.y[i] = g_rand_double_range (rand, -1, 1);
  }

  printf ("ORC kernels against plain C, 1920x1080, A = ORC, B = C "
      "(ratio > 1: ORC faster)\n\n");
  bench_header ("A: ORC", "B: plain C");
  for (k = 0; k < 2; k++) {
    gchar *name = g_strdup_printf ("u8 %s -> f32 mean/std",
        pvs[k] == 3 ? "RGB" : "RGBx");
    d.pv = pvs[k];
    for (i = 0; i < 4; i++) {
      d.a[i] = (1 / 255.0f) / std[i];
      d.b[i] = -mean[i] / std[i];
    }
    d.norm = kling_normalizer_new (FW, d.pv, 1 / 255.0f, mean, std);
    bench_pair (name, orc_normalize, &d, c_normalize, &d, 15, 5, ">= 1.0",
        1.0, TRUE);
    kling_normalizer_free (d.norm);
    g_free (name);
  }
  for (i = 0; i < (gsize) FW * FH * 3; i++)
    d.dst[i] = d.x[i] * 1.2f;
  bench_pair ("f32 [-1,1] -> u8 RGB", orc_to_u8, &d, c_to_u8, &d, 15, 5,
      ">= 1.0", 1.0, TRUE);
  bench_pair ("axpby, 1080p RGB floats", orc_axpby, &d, c_axpby, &d, 15, 5,
      ">= 1.0", 1.0, TRUE);

  g_free (d.src);
  g_free (d.dst);
  g_free (d.u8);
  g_free (d.x);
  g_free (d.y);
  g_rand_free (rand);
  return 0;
}
