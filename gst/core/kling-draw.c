/* gst-kling: boxes and labels burnt into packed RGB frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "kling-draw.h"

#define GLYPH_W 5
#define GLYPH_H 7
#define TEXT_SCALE 2

typedef struct
{
  gchar c;
  guint8 rows[GLYPH_H];         /* bit 4 = leftmost pixel */
} Glyph;

static const Glyph font[] = {
  {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
  {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
  {'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}},
  {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}},
  {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}},
  {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
  {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
  {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
  {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}},
  {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
  {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}},
  {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
  {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
  {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
  {'A', {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
  {'B', {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}},
  {'C', {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}},
  {'D', {0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e}},
  {'E', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}},
  {'F', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}},
  {'G', {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}},
  {'H', {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
  {'I', {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}},
  {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}},
  {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
  {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}},
  {'M', {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}},
  {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
  {'O', {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
  {'P', {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}},
  {'Q', {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}},
  {'R', {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}},
  {'S', {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}},
  {'T', {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
  {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
  {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}},
  {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}},
  {'X', {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}},
  {'Y', {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}},
  {'Z', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}},
};

static const guint8 palette[][3] = {
  {255, 64, 64}, {64, 160, 255}, {64, 220, 96}, {255, 200, 0},
  {200, 96, 255}, {255, 128, 32}, {0, 220, 220}, {255, 96, 180},
};

gboolean
kling_draw_supported (GstVideoFormat format)
{
  const GstVideoFormatInfo *finfo = gst_video_format_get_info (format);

  return finfo != NULL && GST_VIDEO_FORMAT_INFO_BITS (finfo) == 8
      && (GST_VIDEO_FORMAT_INFO_IS_RGB (finfo)
      || GST_VIDEO_FORMAT_INFO_IS_YUV (finfo)
      || GST_VIDEO_FORMAT_INFO_IS_GRAY (finfo))
      && !GST_VIDEO_FORMAT_INFO_HAS_PALETTE (finfo)
      && !GST_VIDEO_FORMAT_INFO_IS_TILED (finfo);
}

/* One colour component of the frame (R, G, B; Y, U, V; or grey), each
 * with its own plane, pixel stride and subsampling, so that packed RGB,
 * planar, semi-planar and packed 4:2:2 YUV and GRAY8 all draw alike. */
typedef struct
{
  guint8 *data;
  gint stride, pstride, w_sub, h_sub;
} Component;

typedef struct
{
  Component comp[3];
  gint n_comps, width, height;
  gboolean yuv, gray;
} Canvas;

/* @rgb in the frame's components: BT.601 limited range for YUV, luma for
 * GRAY8. */
static void
to_components (const Canvas * c, const guint8 * rgb, guint8 * out)
{
  gdouble r = rgb[0], g = rgb[1], b = rgb[2];

  if (c->gray) {
    out[0] = (guint8) CLAMP (0.299 * r + 0.587 * g + 0.114 * b + 0.5, 0, 255);
  } else if (c->yuv) {
    out[0] = (guint8) CLAMP (16 + (65.481 * r + 128.553 * g + 24.966 * b)
        / 255 + 0.5, 0, 255);
    out[1] = (guint8) CLAMP (128 + (-37.797 * r - 74.203 * g + 112.0 * b)
        / 255 + 0.5, 0, 255);
    out[2] = (guint8) CLAMP (128 + (112.0 * r - 93.786 * g - 18.214 * b)
        / 255 + 0.5, 0, 255);
  } else {
    out[0] = rgb[0];
    out[1] = rgb[1];
    out[2] = rgb[2];
  }
}

static void
fill_rect (Canvas * c, gint x0, gint y0, gint x1, gint y1, const guint8 * rgb)
{
  guint8 value[3];
  gint k;

  x0 = MAX (x0, 0);
  y0 = MAX (y0, 0);
  x1 = MIN (x1, c->width);
  y1 = MIN (y1, c->height);
  if (x0 >= x1 || y0 >= y1)
    return;
  to_components (c, rgb, value);
  for (k = 0; k < c->n_comps; k++) {
    const Component *p = &c->comp[k];
    gint cx0 = x0 >> p->w_sub, cx1 = ((x1 - 1) >> p->w_sub) + 1;
    gint cy0 = y0 >> p->h_sub, cy1 = ((y1 - 1) >> p->h_sub) + 1;
    gint x, y;

    for (y = cy0; y < cy1; y++) {
      guint8 *d = p->data + (gsize) y * p->stride + (gsize) cx0 * p->pstride;
      for (x = cx0; x < cx1; x++, d += p->pstride)
        *d = value[k];
    }
  }
}

static const guint8 *
glyph_rows (gchar ch)
{
  guint i;

  ch = g_ascii_toupper (ch);
  for (i = 0; i < G_N_ELEMENTS (font); i++)
    if (font[i].c == ch)
      return font[i].rows;
  return NULL;
}

static void
draw_text (Canvas * c, gint x, gint y, const gchar * text, const guint8 * rgb)
{
  for (; *text; text++, x += (GLYPH_W + 1) * TEXT_SCALE) {
    const guint8 *rows = glyph_rows (*text);
    gint gx, gy;

    if (rows == NULL)
      continue;
    for (gy = 0; gy < GLYPH_H; gy++)
      for (gx = 0; gx < GLYPH_W; gx++)
        if (rows[gy] & (0x10 >> gx))
          fill_rect (c, x + gx * TEXT_SCALE, y + gy * TEXT_SCALE,
              x + (gx + 1) * TEXT_SCALE, y + (gy + 1) * TEXT_SCALE, rgb);
  }
}

void
kling_draw_detections (GstVideoFrame * frame, const KlingDetection * dets,
    guint n, const gchar * const *labels)
{
  static const guint8 black[3] = { 0, 0, 0 };
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  Canvas c;
  guint i;

  if (!kling_draw_supported (GST_VIDEO_FORMAT_INFO_FORMAT (finfo)))
    return;
  c.gray = GST_VIDEO_FORMAT_INFO_IS_GRAY (finfo);
  c.yuv = GST_VIDEO_FORMAT_INFO_IS_YUV (finfo);
  c.n_comps = c.gray ? 1 : 3;
  c.width = GST_VIDEO_FRAME_WIDTH (frame);
  c.height = GST_VIDEO_FRAME_HEIGHT (frame);
  for (i = 0; i < (guint) c.n_comps; i++) {
    c.comp[i].data = GST_VIDEO_FRAME_COMP_DATA (frame, i);
    c.comp[i].stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, i);
    c.comp[i].pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, i);
    c.comp[i].w_sub = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, i);
    c.comp[i].h_sub = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, i);
  }

  for (i = 0; i < n; i++) {
    const KlingDetection *d = &dets[i];
    const guint8 *rgb = palette[d->label % G_N_ELEMENTS (palette)];
    gint x0 = d->x0, y0 = d->y0, x1 = d->x1, y1 = d->y1;
    gchar *text = g_strdup_printf ("%s %d%%", labels[d->label],
        (gint) (d->score * 100 + 0.5f));
    gint tw = (gint) strlen (text) * (GLYPH_W + 1) * TEXT_SCALE + 2;
    gint th = GLYPH_H * TEXT_SCALE + 4;
    gint ty = y0 >= th ? y0 - th : y0;

    fill_rect (&c, x0, y0, x1, y0 + 2, rgb);
    fill_rect (&c, x0, y1 - 2, x1, y1, rgb);
    fill_rect (&c, x0, y0, x0 + 2, y1, rgb);
    fill_rect (&c, x1 - 2, y0, x1, y1, rgb);
    fill_rect (&c, x0, ty, x0 + tw, ty + th, rgb);
    draw_text (&c, x0 + 2, ty + 2, text, black);
    g_free (text);
  }
}
