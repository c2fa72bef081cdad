/* gst-kling: product masks, layout and poster composition
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_COMPOSE_H__
#define __KLING_COMPOSE_H__

#include <glib.h>

G_BEGIN_DECLS

/* A product cut out of its photo: RGBA, straight alpha, tightly cropped to
 * the pixels that belong to it. */
typedef struct
{
  gint width, height;
  guint8 *rgba;                 /* width * height * 4 */
} KlingCutout;

void kling_cutout_free (KlingCutout * cutout);

/* From RGBA pixels whose alpha says what is product. */
KlingCutout *kling_cutout_from_alpha (const guint8 * rgba, gsize stride,
    gint width, gint height, GError ** error);

/* The same from pixels with alpha in any byte order: @offsets of R, G, B
 * and @alpha_offset within a pixel of @pixel_bytes. */
KlingCutout *kling_cutout_from_alpha_pixels (const guint8 * pixels,
    gsize stride, gint pixel_bytes, const gint offsets[3], gint alpha_offset,
    gint width, gint height, GError ** error);

/* From RGB(A) pixels on a plain background: the background colour is the
 * median of the image border; pixels connected to the border and within
 * @tolerance of it (Euclidean, 8-bit RGB) are background, everything else
 * is product, and its edge is feathered by one pixel.  Fails with an error
 * saying why when the border is not plain (less than 90% of it within
 * @tolerance of its median). */
KlingCutout *kling_cutout_from_plain_background (const guint8 * pixels,
    gsize stride, gint pixel_bytes, const gint offsets[3], gint width,
    gint height, gint tolerance, GError ** error);

/* From pixels and a separate 8-bit mask of the same size (255: product). */
KlingCutout *kling_cutout_from_mask (const guint8 * pixels, gsize stride,
    gint pixel_bytes, const gint offsets[3], const guint8 * mask,
    gsize mask_stride, gint width, gint height, GError ** error);

typedef enum
{
  KLING_LAYOUT_CENTER,
  KLING_LAYOUT_LEFT,
  KLING_LAYOUT_RIGHT,
  KLING_LAYOUT_BOTTOM
} KlingLayout;

typedef struct
{
  gint x, y, w, h;
} KlingRect;

/* Where the product and the text go on a @width x @height poster.
 * @scale: product height as a fraction of the poster height; 0 keeps the
 * photo's own pixels (1:1) unless it does not fit.  @scaled says whether
 * the product had to be resampled. */
void kling_layout_place (KlingLayout layout, gint width, gint height,
    gint product_width, gint product_height, gdouble scale,
    KlingRect * product, KlingRect * text_area, gboolean * scaled);

/* Bilinear resample of a straight-alpha RGBA image. */
guint8 *kling_resample_rgba (const guint8 * src, gint sw, gint sh,
    gint dw, gint dh);

/* Darkens @scene (RGBA, @width x @height) with a soft elliptical ground
 * shadow under @product. */
void kling_draw_ground_shadow (guint8 * scene, gsize stride, gint width,
    gint height, const KlingRect * product);

/* Puts @rgba (product->w x product->h, straight alpha) over @scene at
 * @product: where alpha is 255 the product's pixels are copied unchanged,
 * elsewhere blended. */
void kling_composite_over (guint8 * scene, gsize stride, gint width,
    gint height, const guint8 * rgba, const KlingRect * product);

/* The product on its poster: @cut resampled to @product's size when
 * @scaled (kling_layout_place says), a ground shadow under it, then the
 * product over @scene (RGBA, @width x @height) at @product. */
void kling_poster_put_product (guint8 * scene, gsize stride, gint width,
    gint height, const KlingCutout * cut, const KlingRect * product,
    gboolean scaled);

G_END_DECLS

#endif
