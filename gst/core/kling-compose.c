/* gst-kling: product masks, layout and poster composition
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kling-compose.h"
#include "kling-backend.h"

void
kling_cutout_free (KlingCutout * c)
{
  if (c) {
    g_free (c->rgba);
    g_free (c);
  }
}

static gboolean
no_product (GError ** error, const gchar * why)
{
  g_set_error (error, KLING_BACKEND_ERROR,
      KLING_BACKEND_ERROR_INVALID_ARGUMENT, "%s", why);
  return FALSE;
}

/* Crops full-size RGBA to the bounding box of alpha > 0. */
static KlingCutout *
crop_to_alpha (guint8 * full, gint width, gint height, GError ** error)
{
  gint x0 = width, y0 = height, x1 = -1, y1 = -1, x, y;
  KlingCutout *c;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      if (full[((gsize) y * width + x) * 4 + 3]) {
        x0 = MIN (x0, x);
        x1 = MAX (x1, x);
        y0 = MIN (y0, y);
        y1 = MAX (y1, y);
      }
  if (x1 < 0) {
    g_free (full);
    no_product (error, "the product image has no product in it: its mask "
        "or alpha channel is empty");
    return NULL;
  }
  c = g_new0 (KlingCutout, 1);
  c->width = x1 - x0 + 1;
  c->height = y1 - y0 + 1;
  c->rgba = g_malloc ((gsize) c->width * c->height * 4);
  for (y = 0; y < c->height; y++)
    memcpy (c->rgba + (gsize) y * c->width * 4,
        full + ((gsize) (y0 + y) * width + x0) * 4, (gsize) c->width * 4);
  g_free (full);
  return c;
}

KlingCutout *
kling_cutout_from_alpha_pixels (const guint8 * pixels, gsize stride, gint pb,
    const gint off[3], gint alpha_offset, gint width, gint height,
    GError ** error)
{
  guint8 *full = g_malloc ((gsize) width * height * 4);
  gint x, y, k;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      const guint8 *p = pixels + y * stride + (gsize) x * pb;
      guint8 *o = full + ((gsize) y * width + x) * 4;
      for (k = 0; k < 3; k++)
        o[k] = p[off[k]];
      o[3] = p[alpha_offset];
    }
  return crop_to_alpha (full, width, height, error);
}

KlingCutout *
kling_cutout_from_alpha (const guint8 * rgba, gsize stride, gint width,
    gint height, GError ** error)
{
  static const gint rgb[3] = { 0, 1, 2 };

  return kling_cutout_from_alpha_pixels (rgba, stride, 4, rgb, 3, width,
      height, error);
}

KlingCutout *
kling_cutout_from_mask (const guint8 * pixels, gsize stride, gint pb,
    const gint off[3], const guint8 * mask, gsize mask_stride, gint width,
    gint height, GError ** error)
{
  guint8 *full = g_malloc ((gsize) width * height * 4);
  gint x, y, k;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      guint8 *o = full + ((gsize) y * width + x) * 4;
      const guint8 *p = pixels + y * stride + (gsize) x * pb;
      for (k = 0; k < 3; k++)
        o[k] = p[off[k]];
      o[3] = mask[y * mask_stride + x];
    }
  return crop_to_alpha (full, width, height, error);
}

static int
cmp_u8 (const void *a, const void *b)
{
  return *(const guint8 *) a - *(const guint8 *) b;
}

KlingCutout *
kling_cutout_from_plain_background (const guint8 * pixels, gsize stride,
    gint pb, const gint off[3], gint width, gint height, gint tolerance,
    GError ** error)
{
  gsize n_border = 0, max_border = 2 * (gsize) (width + height), close = 0;
  guint8 *border[3], bg[3];
  guint8 *full, *bgmask;
  gint *stack;
  gsize sp = 0, i;
  gint x, y, k, tol2 = tolerance * tolerance;

  if (width < 3 || height < 3) {
    no_product (error, "the product image is too small to find a "
        "background in (at least 3x3 pixels)");
    return NULL;
  }
  for (k = 0; k < 3; k++)
    border[k] = g_malloc (max_border);
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      if (y != 0 && y != height - 1 && x != 0 && x != width - 1)
        continue;
      for (k = 0; k < 3; k++)
        border[k][n_border] = pixels[y * stride + (gsize) x * pb + off[k]];
      n_border++;
    }
#define DIST2(p) ((gint) ((p)[off[0]] - bg[0]) * ((p)[off[0]] - bg[0]) + \
      (gint) ((p)[off[1]] - bg[1]) * ((p)[off[1]] - bg[1]) + \
      (gint) ((p)[off[2]] - bg[2]) * ((p)[off[2]] - bg[2]))
  for (k = 0; k < 3; k++) {
    guint8 *sorted = g_memdup2 (border[k], n_border);
    qsort (sorted, n_border, 1, cmp_u8);
    bg[k] = sorted[n_border / 2];
    g_free (sorted);
  }
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      if ((y == 0 || y == height - 1 || x == 0 || x == width - 1)
          && DIST2 (pixels + y * stride + (gsize) x * pb) <= tol2)
        close++;
  for (k = 0; k < 3; k++)
    g_free (border[k]);
  if (close * 10 < n_border * 9) {
    no_product (error, "the product image has no alpha channel and no "
        "plain background to separate the product from (its border is not "
        "one colour); give an image with alpha, shoot on a plain "
        "background, or link a mask to the mask pad");
    return NULL;
  }

  /* flood the background in from the border */
  bgmask = g_malloc0 ((gsize) width * height);
  stack = g_new (gint, (gsize) width * height);
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      if ((y == 0 || y == height - 1 || x == 0 || x == width - 1)
          && DIST2 (pixels + y * stride + (gsize) x * pb) <= tol2) {
        bgmask[(gsize) y * width + x] = 1;
        stack[sp++] = y * width + x;
      }
  while (sp > 0) {
    gint p = stack[--sp], px = p % width, py = p / width, d;
    static const gint dx[4] = { 1, -1, 0, 0 }, dy[4] = { 0, 0, 1, -1 };

    for (d = 0; d < 4; d++) {
      gint nx = px + dx[d], ny = py + dy[d];
      gsize q;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height)
        continue;
      q = (gsize) ny *width + nx;
      if (!bgmask[q] && DIST2 (pixels + ny * stride + (gsize) nx * pb) <= tol2) {
        bgmask[q] = 1;
        stack[sp++] = (gint) q;
      }
    }
  }
#undef DIST2
  g_free (stack);

  /* product pixels opaque; background pixels next to the product get a
   * partial alpha: a one-pixel feather, so the cut edge is soft */
  full = g_malloc ((gsize) width * height * 4);
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      guint8 *o = full + ((gsize) y * width + x) * 4;
      const guint8 *p = pixels + y * stride + (gsize) x * pb;
      gint nb = 0, dxx, dyy;

      for (k = 0; k < 3; k++)
        o[k] = p[off[k]];
      if (!bgmask[(gsize) y * width + x]) {
        o[3] = 255;
        continue;
      }
      for (dyy = -1; dyy <= 1; dyy++)
        for (dxx = -1; dxx <= 1; dxx++) {
          gint nx = x + dxx, ny = y + dyy;
          if (nx >= 0 && ny >= 0 && nx < width && ny < height
              && !bgmask[(gsize) ny * width + nx])
            nb++;
        }
      o[3] = nb ? 24 * nb : 0;
    }
  g_free (bgmask);
  for (i = 0; i < (gsize) width * height; i++)
    if (full[i * 4 + 3] == 255)
      break;
  if (i == (gsize) width * height) {
    g_free (full);
    no_product (error, "no product found: the whole image is background");
    return NULL;
  }
  return crop_to_alpha (full, width, height, error);
}

void
kling_layout_place (KlingLayout layout, gint width, gint height, gint pw,
    gint ph, gdouble scale, KlingRect * product, KlingRect * text,
    gboolean * scaled)
{
  /* the product's box: a column or a band of the poster */
  gint box_w = layout == KLING_LAYOUT_LEFT || layout == KLING_LAYOUT_RIGHT ?
      width * 3 / 5 : width;
  gint box_h = layout == KLING_LAYOUT_BOTTOM ? height * 2 / 3 : height;
  gint margin = MAX (2, MIN (width, height) / 20);
  gint max_w = MAX (1, box_w - 2 * margin), max_h = MAX (1, box_h - 2 * margin);
  gdouble f;
  gint w, h, box_x, box_y;

  if (scale > 0)
    f = scale * height / ph;
  else
    f = 1.0;
  f = MIN (f, MIN ((gdouble) max_w / pw, (gdouble) max_h / ph));
  if (scale <= 0 && f > 1.0)
    f = 1.0;
  w = MAX (1, (gint) floor (pw * f + 0.5));
  h = MAX (1, (gint) floor (ph * f + 0.5));
  if (scale <= 0 && f >= 1.0) {
    w = pw;
    h = ph;
  }
  *scaled = w != pw || h != ph;

  box_x = layout == KLING_LAYOUT_RIGHT ? width - box_w : 0;
  box_y = layout == KLING_LAYOUT_BOTTOM ? height - box_h : 0;
  product->w = w;
  product->h = h;
  product->x = box_x + (box_w - w) / 2;
  /* standing on the ground: the lower part of its box */
  product->y = box_y + MAX (margin, box_h - margin - h - box_h / 12);

  /* the text takes the rest: the column beside the product, the band
   * above its box, or (centred) the band above the product itself */
  text->y = margin;
  if (layout == KLING_LAYOUT_LEFT || layout == KLING_LAYOUT_RIGHT) {
    text->x = layout == KLING_LAYOUT_LEFT ? box_w : margin;
    text->w = width - box_w - margin;
    text->h = height - 2 * margin;
  } else {
    text->x = margin;
    text->w = width - 2 * margin;
    text->h = layout == KLING_LAYOUT_BOTTOM ? height - box_h - margin :
        MAX (0, product->y - 2 * margin);
  }
  text->w = MAX (text->w, 0);
  text->h = MAX (text->h, 0);
}

guint8 *
kling_resample_rgba (const guint8 * src, gint sw, gint sh, gint dw, gint dh)
{
  guint8 *dst = g_malloc ((gsize) dw * dh * 4);
  gint x, y, k;

  for (y = 0; y < dh; y++) {
    gdouble fy = (y + 0.5) * sh / dh - 0.5;
    gint y0 = CLAMP ((gint) floor (fy), 0, sh - 1), y1 = MIN (y0 + 1, sh - 1);
    gdouble wy = CLAMP (fy - y0, 0, 1);
    for (x = 0; x < dw; x++) {
      gdouble fx = (x + 0.5) * sw / dw - 0.5;
      gint x0 = CLAMP ((gint) floor (fx), 0, sw - 1), x1 = MIN (x0 + 1, sw - 1);
      gdouble wx = CLAMP (fx - x0, 0, 1);
      const guint8 *p00 = src + ((gsize) y0 * sw + x0) * 4;
      const guint8 *p01 = src + ((gsize) y0 * sw + x1) * 4;
      const guint8 *p10 = src + ((gsize) y1 * sw + x0) * 4;
      const guint8 *p11 = src + ((gsize) y1 * sw + x1) * 4;
      /* premultiplied, so transparent neighbours do not bleed colour */
      gdouble a = (1 - wy) * ((1 - wx) * p00[3] + wx * p01[3]) +
          wy * ((1 - wx) * p10[3] + wx * p11[3]);
      guint8 *o = dst + ((gsize) y * dw + x) * 4;
      for (k = 0; k < 3; k++) {
        gdouble v = (1 - wy) * ((1 - wx) * p00[k] * p00[3] + wx * p01[k] *
            p01[3]) + wy * ((1 - wx) * p10[k] * p10[3] + wx * p11[k] * p11[3]);
        o[k] = a > 0 ? (guint8) CLAMP (v / a + 0.5, 0, 255) : 0;
      }
      o[3] = (guint8) CLAMP (a + 0.5, 0, 255);
    }
  }
  return dst;
}

void
kling_draw_ground_shadow (guint8 * scene, gsize stride, gint width,
    gint height, const KlingRect * p)
{
  gdouble cx = p->x + p->w / 2.0, cy = p->y + p->h;
  gdouble rx = p->w * 0.6, ry = MAX (2.0, p->h * 0.06);
  gint x, y, k;

  for (y = MAX (0, (gint) (cy - 2 * ry)); y < MIN (height, (gint) (cy + 2 *
              ry) + 1); y++)
    for (x = MAX (0, (gint) (cx - rx)); x < MIN (width, (gint) (cx + rx) + 1);
        x++) {
      gdouble dx = (x - cx) / rx, dy = (y - cy) / ry;
      gdouble d = dx * dx + dy * dy;
      if (d < 1.0) {
        gdouble dark = 1.0 - 0.45 * (1.0 - d) * (1.0 - d);
        guint8 *o = scene + y * stride + (gsize) x * 4;
        for (k = 0; k < 3; k++)
          o[k] = (guint8) (o[k] * dark + 0.5);
      }
    }
}

void
kling_composite_over (guint8 * scene, gsize stride, gint width, gint height,
    const guint8 * rgba, const KlingRect * p)
{
  gint x, y, k;

  for (y = 0; y < p->h; y++) {
    gint sy = p->y + y;
    if (sy < 0 || sy >= height)
      continue;
    for (x = 0; x < p->w; x++) {
      gint sx = p->x + x;
      const guint8 *s = rgba + ((gsize) y * p->w + x) * 4;
      guint8 *o;
      if (sx < 0 || sx >= width || s[3] == 0)
        continue;
      o = scene + sy * stride + (gsize) sx *4;
      if (s[3] == 255) {
        o[0] = s[0];
        o[1] = s[1];
        o[2] = s[2];
      } else {
        for (k = 0; k < 3; k++)
          o[k] = (guint8) ((s[k] * s[3] + o[k] * (255 - s[3]) + 127) / 255);
      }
      o[3] = 255;
    }
  }
}

void
kling_poster_put_product (guint8 * scene, gsize stride, gint width,
    gint height, const KlingCutout * cut, const KlingRect * product,
    gboolean scaled)
{
  guint8 *resampled = scaled ? kling_resample_rgba (cut->rgba, cut->width,
      cut->height, product->w, product->h) : NULL;

  kling_draw_ground_shadow (scene, stride, width, height, product);
  kling_composite_over (scene, stride, width, height,
      resampled ? resampled : cut->rgba, product);
  g_free (resampled);
}
