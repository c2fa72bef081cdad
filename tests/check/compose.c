/* gst-kling: kling-compose (cut-out, layout, resampling, shadow,
 * composition) tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-compose.h"

static const gint rgb_off[3] = { 0, 1, 2 };

/* @w x @h packed RGB, background (10,200,30) with a product rectangle
 * [px, px+pw) x [py, py+ph) whose pixels encode their position. */
static guint8 *
photo (gint w, gint h, gint px, gint py, gint pw, gint ph)
{
  guint8 *p = g_malloc ((gsize) w * h * 3);
  gint x, y;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint8 *o = p + ((gsize) y * w + x) * 3;
      if (x >= px && x < px + pw && y >= py && y < py + ph) {
        o[0] = 100 + x;
        o[1] = 50 + y;
        o[2] = 250;
      } else {
        o[0] = 10;
        o[1] = 200;
        o[2] = 30;
      }
    }
  return p;
}

GST_START_TEST (test_cutout_alpha)
{
  gint w = 8, h = 6, x, y;
  /* padded rows: stride 40 for 8 RGBA pixels */
  guint8 *rgba = g_malloc0 (40 * h);
  KlingCutout *c;
  GError *error = NULL;

  for (y = 2; y < 5; y++)
    for (x = 3; x < 5; x++) {
      guint8 *o = rgba + y * 40 + x * 4;
      o[0] = x;
      o[1] = y;
      o[2] = 7;
      o[3] = y == 4 ? 128 : 255;
    }
  c = kling_cutout_from_alpha (rgba, 40, w, h, &error);
  fail_unless (c != NULL);
  fail_unless_equals_int (c->width, 2);
  fail_unless_equals_int (c->height, 3);
  /* cropped, pixels and alpha kept */
  fail_unless_equals_int (c->rgba[0], 3);
  fail_unless_equals_int (c->rgba[1], 2);
  fail_unless_equals_int (c->rgba[3], 255);
  fail_unless_equals_int (c->rgba[(2 * 2 + 1) * 4 + 3], 128);
  kling_cutout_free (c);

  memset (rgba, 0, 40 * h);
  fail_unless (kling_cutout_from_alpha (rgba, 40, w, h, &error) == NULL);
  fail_unless (strstr (error->message, "no product") != NULL);
  g_clear_error (&error);
  g_free (rgba);
}

GST_END_TEST;

GST_START_TEST (test_cutout_plain_background)
{
  guint8 *p = photo (20, 16, 6, 5, 7, 4);
  KlingCutout *c;
  GError *error = NULL;
  gint x, y;

  c = kling_cutout_from_plain_background (p, 20 * 3, 3, rgb_off, 20, 16, 40,
      &error);
  fail_unless (c != NULL, "%s", error ? error->message : "");
  /* the product plus its one-pixel feather */
  fail_unless_equals_int (c->width, 9);
  fail_unless_equals_int (c->height, 6);
  for (y = 0; y < 6; y++)
    for (x = 0; x < 9; x++) {
      const guint8 *o = c->rgba + (y * 9 + x) * 4;
      gboolean inside = x >= 1 && x < 8 && y >= 1 && y < 5;
      if (inside) {
        /* the product's own pixels, opaque */
        fail_unless_equals_int (o[3], 255);
        fail_unless_equals_int (o[0], 100 + 6 + x - 1);
        fail_unless_equals_int (o[1], 50 + 5 + y - 1);
      } else {
        fail_unless (o[3] > 0 && o[3] < 255, "feather %d at %d,%d", o[3], x, y);
      }
    }
  kling_cutout_free (c);
  g_free (p);

  /* a busy border: a clear error */
  p = g_malloc (20 * 16 * 3);
  for (x = 0; x < 20 * 16 * 3; x++)
    p[x] = (x * 37) & 0xff;
  fail_unless (kling_cutout_from_plain_background (p, 60, 3, rgb_off, 20, 16,
          10, &error) == NULL);
  fail_unless (strstr (error->message, "plain background") != NULL);
  g_clear_error (&error);
  /* all background */
  memset (p, 90, 20 * 16 * 3);
  fail_unless (kling_cutout_from_plain_background (p, 60, 3, rgb_off, 20, 16,
          10, &error) == NULL);
  fail_unless (strstr (error->message, "whole image is background") != NULL);
  g_clear_error (&error);
  fail_unless (kling_cutout_from_plain_background (p, 6, 3, rgb_off, 2, 2,
          10, &error) == NULL);
  fail_unless (strstr (error->message, "too small") != NULL);
  g_clear_error (&error);
  g_free (p);
}

GST_END_TEST;

GST_START_TEST (test_cutout_mask)
{
  /* BGRx pixels: offsets say where R, G, B are */
  static const gint bgrx[3] = { 2, 1, 0 };
  guint8 px[4 * 4 * 4], mask[4 * 8];
  KlingCutout *c;
  GError *error = NULL;
  gint i;

  for (i = 0; i < 16; i++) {
    px[i * 4 + 0] = 1;
    px[i * 4 + 1] = 2;
    px[i * 4 + 2] = 3 + i;
    px[i * 4 + 3] = 0;
  }
  memset (mask, 0, sizeof mask);
  mask[1 * 8 + 2] = 255;        /* stride 8 */
  mask[2 * 8 + 2] = 77;
  c = kling_cutout_from_mask (px, 16, 4, bgrx, mask, 8, 4, 4, &error);
  fail_unless (c != NULL);
  fail_unless_equals_int (c->width, 1);
  fail_unless_equals_int (c->height, 2);
  fail_unless_equals_int (c->rgba[0], 3 + 6);
  fail_unless_equals_int (c->rgba[1], 2);
  fail_unless_equals_int (c->rgba[2], 1);
  fail_unless_equals_int (c->rgba[3], 255);
  fail_unless_equals_int (c->rgba[7], 77);
  kling_cutout_free (c);
  memset (mask, 0, sizeof mask);
  fail_unless (kling_cutout_from_mask (px, 16, 4, bgrx, mask, 8, 4, 4,
          &error) == NULL);
  g_clear_error (&error);
}

GST_END_TEST;

static gboolean
inside (const KlingRect * r, gint w, gint h)
{
  return r->x >= 0 && r->y >= 0 && r->x + r->w <= w && r->y + r->h <= h;
}

static gboolean
overlap (const KlingRect * a, const KlingRect * b)
{
  return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h
      && b->y < a->y + a->h;
}

GST_START_TEST (test_layout)
{
  KlingLayout layouts[] = { KLING_LAYOUT_CENTER, KLING_LAYOUT_LEFT,
    KLING_LAYOUT_RIGHT, KLING_LAYOUT_BOTTOM
  };
  KlingRect p, t;
  gboolean scaled;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (layouts); i++) {
    /* scale 0 and it fits: the photo's pixels 1:1 */
    kling_layout_place (layouts[i], 768, 1024, 200, 300, 0, &p, &t, &scaled);
    fail_if (scaled);
    fail_unless_equals_int (p.w, 200);
    fail_unless_equals_int (p.h, 300);
    fail_unless (inside (&p, 768, 1024) && inside (&t, 768, 1024));
    fail_unless (t.w > 0 && t.h > 0);
    fail_if (overlap (&p, &t), "layout %d: text over the product", i);
    /* too big: shrunk to fit, aspect kept */
    kling_layout_place (layouts[i], 300, 200, 1000, 2000, 0, &p, &t, &scaled);
    fail_unless (scaled);
    fail_unless (inside (&p, 300, 200));
    fail_unless (ABS (p.w * 2 - p.h) <= 2, "%dx%d", p.w, p.h);
  }
  /* a scale: the product's height as a share of the poster */
  kling_layout_place (KLING_LAYOUT_CENTER, 400, 1000, 50, 100, 0.5, &p, &t,
      &scaled);
  fail_unless (scaled);
  fail_unless_equals_int (p.h, 500);
  fail_unless_equals_int (p.w, 250);
  /* ketuposter's default, 0.6: a photo larger than the poster comes down
   * to 60% of its height, leaving the band above for text */
  kling_layout_place (KLING_LAYOUT_CENTER, 768, 1024, 2000, 3000, 0.6, &p,
      &t, &scaled);
  fail_unless (scaled);
  fail_unless_equals_int (p.h, 614);
  fail_unless (t.h >= 1024 / 5, "text band %d", t.h);
  /* left/right: the product on its side */
  kling_layout_place (KLING_LAYOUT_LEFT, 1000, 500, 100, 100, 0, &p, &t,
      &scaled);
  fail_unless (p.x + p.w <= 600 && t.x >= 600);
  kling_layout_place (KLING_LAYOUT_RIGHT, 1000, 500, 100, 100, 0, &p, &t,
      &scaled);
  fail_unless (p.x >= 400 && t.x + t.w <= 400);
}

GST_END_TEST;

GST_START_TEST (test_resample)
{
  guint8 src[2 * 1 * 4] = { 255, 0, 0, 255, 0, 0, 255, 0 };
  guint8 *d;
  gint x;

  /* same size: the opaque pixel unchanged, the transparent one stays
   * transparent (its colour means nothing) */
  d = kling_resample_rgba (src, 2, 1, 2, 1);
  fail_unless (memcmp (d, src, 4) == 0);
  fail_unless_equals_int (d[7], 0);
  g_free (d);
  /* a transparent neighbour lends no colour, only transparency */
  d = kling_resample_rgba (src, 2, 1, 4, 1);
  for (x = 0; x < 4; x++)
    if (d[x * 4 + 3] > 0) {
      fail_unless_equals_int (d[x * 4 + 0], 255);
      fail_unless_equals_int (d[x * 4 + 2], 0);
    }
  fail_unless_equals_int (d[3], 255);
  fail_unless (d[2 * 4 + 3] > 0 && d[2 * 4 + 3] < 255);
  fail_unless_equals_int (d[3 * 4 + 3], 0);
  g_free (d);
}

GST_END_TEST;

GST_START_TEST (test_shadow_and_composite)
{
  gint w = 40, h = 30, x, y;
  gsize stride = w * 4 + 8;
  guint8 *scene = g_malloc (stride * h);
  guint8 prod[6 * 4 * 4];
  KlingRect r = { 10, 8, 6, 4 };
  gint darker = 0;

  memset (scene, 200, stride * h);
  kling_draw_ground_shadow (scene, stride, w, h, &r);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint8 *o = scene + y * stride + x * 4;
      if (o[0] < 200) {
        darker++;
        /* only around the product's foot, never brighter, alpha kept */
        fail_unless (y >= r.y + r.h - 3 && y <= r.y + r.h + 3, "y %d", y);
        fail_unless (o[0] >= 200 * 0.55 - 1);
      }
      fail_unless_equals_int (o[3], 200);
    }
  fail_unless (darker > 0);

  for (x = 0; x < 24; x++) {
    prod[x * 4 + 0] = x;
    prod[x * 4 + 1] = 255 - x;
    prod[x * 4 + 2] = 3 * x;
    prod[x * 4 + 3] = x % 6 == 0 ? 0 : x % 6 == 1 ? 128 : 255;
  }
  memset (scene, 100, stride * h);
  kling_composite_over (scene, stride, w, h, prod, &r);
  for (y = 0; y < r.h; y++)
    for (x = 0; x < r.w; x++) {
      const guint8 *s = prod + (y * r.w + x) * 4;
      const guint8 *o = scene + (r.y + y) * stride + (r.x + x) * 4;
      if (s[3] == 255) {
        /* opaque: bit-exact */
        fail_unless (o[0] == s[0] && o[1] == s[1] && o[2] == s[2]);
        fail_unless_equals_int (o[3], 255);
      } else if (s[3] == 0) {
        fail_unless (o[0] == 100 && o[1] == 100 && o[2] == 100);
      } else {
        fail_unless_equals_int (o[0], (s[0] * 128 + 100 * 127 + 127) / 255);
      }
    }
  /* outside the rectangle: untouched */
  fail_unless_equals_int (scene[0], 100);
  /* clipped at the edges, no write outside */
  r.x = w - 3;
  r.y = h - 2;
  kling_composite_over (scene, stride, w, h, prod, &r);
  fail_unless_equals_int (scene[(h - 1) * stride + (w - 1) * 4 + 3], 255);
  g_free (scene);
}

GST_END_TEST;

GST_START_TEST (test_poster_put_product)
{
  gint w = 40, h = 30, x, y;
  gsize stride = w * 4;
  guint8 *scene = g_malloc (stride * h);
  KlingCutout cut = { 4, 2, g_malloc (4 * 2 * 4) };
  KlingRect exact = { 5, 5, 4, 2 }, big = { 20, 10, 8, 4 };
  gint shadowed = 0;

  for (x = 0; x < 8; x++) {
    cut.rgba[x * 4 + 0] = 30 * x;
    cut.rgba[x * 4 + 1] = 200 - 20 * x;
    cut.rgba[x * 4 + 2] = 7 * x;
    cut.rgba[x * 4 + 3] = 255;
  }
  memset (scene, 180, stride * h);
  /* unscaled: the cut-out's pixels as they are, a shadow at its foot */
  kling_poster_put_product (scene, stride, w, h, &cut, &exact, FALSE);
  for (y = 0; y < 2; y++)
    for (x = 0; x < 4; x++)
      fail_unless (memcmp (scene + (5 + y) * stride + (5 + x) * 4,
              cut.rgba + (y * 4 + x) * 4, 4) == 0, "pixel %d,%d", x, y);
  for (x = 0; x < w; x++)
    shadowed += scene[(exact.y + exact.h) * stride + x * 4] < 180;
  fail_unless (shadowed > 0);

  /* scaled: resampled to the rectangle, opaque all over it, corners
   * keeping the cut-out's corner colours */
  kling_poster_put_product (scene, stride, w, h, &cut, &big, TRUE);
  for (y = 0; y < big.h; y++)
    for (x = 0; x < big.w; x++)
      fail_unless_equals_int (scene[(big.y + y) * stride + (big.x + x) * 4 +
              3], 255);
  fail_unless (memcmp (scene + big.y * stride + big.x * 4, cut.rgba,
          3) == 0);
  fail_unless (memcmp (scene + (big.y + big.h - 1) * stride + (big.x +
              big.w - 1) * 4, cut.rgba + 7 * 4, 3) == 0);
  /* beside it, the scene is untouched */
  fail_unless_equals_int (scene[big.y * stride + (big.x + big.w) * 4], 180);
  g_free (cut.rgba);
  g_free (scene);
}

GST_END_TEST;

static Suite *
compose_suite (void)
{
  Suite *s = suite_create ("compose");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_cutout_alpha);
  tcase_add_test (tc, test_cutout_plain_background);
  tcase_add_test (tc, test_cutout_mask);
  tcase_add_test (tc, test_layout);
  tcase_add_test (tc, test_resample);
  tcase_add_test (tc, test_shadow_and_composite);
  tcase_add_test (tc, test_poster_put_product);
  return s;
}

GST_CHECK_MAIN (compose);
