/* gst-kling: the face of a talking head: crop, model input, paste back
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kling-face.h"

void
kling_head_spec_from_manifest (KlingHeadSpec * spec, const KlingManifest * m)
{
  JsonNode *node;
  guint i;

  memset (spec, 0, sizeof (*spec));
  if (!kling_mel_params_from_manifest (&spec->mel, m, NULL))
    kling_mel_params_init_default (&spec->mel);
  spec->face_width = kling_manifest_get_int (m, "face.width", 96);
  spec->face_height = kling_manifest_get_int (m, "face.height", 96);
  spec->mask = kling_manifest_get_double (m, "face.mask", 0.5);
  spec->batch = kling_manifest_get_int (m, "batch", 4);
  node = kling_manifest_lookup (m, "face.box");
  if (node && JSON_NODE_HOLDS_ARRAY (node)
      && json_array_get_length (json_node_get_array (node)) == 4) {
    spec->has_box = TRUE;
    for (i = 0; i < 4; i++)
      spec->box[i] = json_node_get_double (json_array_get_element
          (json_node_get_array (node), i));
  }
}

gboolean
kling_face_box_parse (const gchar * text, KlingFaceBox * box)
{
  gchar **parts;
  gint v[4];
  gboolean ok = TRUE;
  guint i;

  if (text == NULL || *text == '\0')
    return FALSE;
  parts = g_strsplit (text, ",", -1);
  if (g_strv_length (parts) != 4)
    ok = FALSE;
  for (i = 0; ok && i < 4; i++) {
    gchar *s = g_strstrip (parts[i]), *end = NULL;
    gint64 n = g_ascii_strtoll (s, &end, 10);

    if (*s == '\0' || *end != '\0' || n < 0 || n > 65535)
      ok = FALSE;
    else
      v[i] = n;
  }
  g_strfreev (parts);
  if (!ok || v[2] <= 0 || v[3] <= 0)
    return FALSE;
  box->x = v[0];
  box->y = v[1];
  box->width = v[2];
  box->height = v[3];
  return TRUE;
}

void
kling_face_box_from_fractions (const gdouble * f, gint width, gint height,
    KlingFaceBox * box)
{
  box->x = (gint) floor (f[0] * width + 0.5);
  box->y = (gint) floor (f[1] * height + 0.5);
  box->width = (gint) floor (f[2] * width + 0.5);
  box->height = (gint) floor (f[3] * height + 0.5);
}

gboolean
kling_face_box_choose (const KlingHeadSpec * spec, GstBuffer * buffer,
    gint width, gint height, const KlingFaceBox * box_prop,
    KlingFaceBox * box)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;

  if (box_prop) {
    *box = *box_prop;
    return TRUE;
  }
  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (roi->roi_type == g_quark_from_static_string ("face")) {
      box->x = roi->x;
      box->y = roi->y;
      box->width = roi->w;
      box->height = roi->h;
      return TRUE;
    }
  }
  if (spec->has_box) {
    kling_face_box_from_fractions (spec->box, width, height, box);
    return TRUE;
  }
  return FALSE;
}

struct _KlingFace
{
  GstVideoInfo portrait;
  KlingFaceBox box;
  gint fw, fh;
  gint mask_row;                /* first masked row of the face */
  gdouble feather;
  /* crop: the box of the portrait into packed RGB fw x fh */
  GstVideoConverter *crop_conv;
  GstVideoInfo rgb_info;
  GstBuffer *rgb;
  /* paste: packed RGB fw x fh into the portrait's format at box size */
  GstVideoConverter *paste_conv;
  GstVideoInfo patch_info;
  GstBuffer *patch;
};

static gboolean
format_ok (const GstVideoFormatInfo * finfo)
{
  guint c;

  if (GST_VIDEO_FORMAT_INFO_HAS_PALETTE (finfo)
      || GST_VIDEO_FORMAT_INFO_IS_TILED (finfo))
    return FALSE;
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++)
    if (GST_VIDEO_FORMAT_INFO_DEPTH (finfo, c) != 8)
      return FALSE;
  return TRUE;
}

KlingFace *
kling_face_new (const GstVideoInfo * portrait, const KlingFaceBox * box,
    gint face_width, gint face_height, gdouble mask, gint feather,
    GError ** error)
{
  const GstVideoFormatInfo *finfo = portrait->finfo;
  KlingFace *f;
  gint x0, y0, x1, y1, ax = 1, ay = 1;
  guint c;

  if (!format_ok (finfo)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "portrait format %s is not one with 8 bits per component; convert "
        "it to one of " KLING_FACE_FORMATS, GST_VIDEO_INFO_NAME (portrait));
    return NULL;
  }
  /* align to the chroma subsampling, so every chroma sample of the box
   * lies wholly inside it */
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    ax = MAX (ax, 1 << GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c));
    ay = MAX (ay, 1 << GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c));
  }
  x0 = CLAMP (box->x, 0, GST_VIDEO_INFO_WIDTH (portrait));
  y0 = CLAMP (box->y, 0, GST_VIDEO_INFO_HEIGHT (portrait));
  x1 = CLAMP ((gint64) box->x + box->width, 0, GST_VIDEO_INFO_WIDTH (portrait));
  y1 = CLAMP ((gint64) box->y + box->height, 0,
      GST_VIDEO_INFO_HEIGHT (portrait));
  x0 = (x0 + ax - 1) / ax * ax;
  y0 = (y0 + ay - 1) / ay * ay;
  x1 = x1 / ax * ax;
  y1 = y1 / ay * ay;
  if (x1 - x0 < 2 || y1 - y0 < 2) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "the face box %d,%d,%d,%d leaves less than 2x2 pixels inside the "
        "%dx%d portrait; set face-box to x,y,width,height inside it",
        box->x, box->y, box->width, box->height,
        GST_VIDEO_INFO_WIDTH (portrait), GST_VIDEO_INFO_HEIGHT (portrait));
    return NULL;
  }

  f = g_new0 (KlingFace, 1);
  f->portrait = *portrait;
  f->box.x = x0;
  f->box.y = y0;
  f->box.width = x1 - x0;
  f->box.height = y1 - y0;
  f->fw = face_width;
  f->fh = face_height;
  f->mask_row = CLAMP ((gint) floor (mask * face_height + 0.5), 0, face_height);
  f->feather = feather >= 0 ? feather :
      MAX (1, MIN (f->box.width, f->box.height) / 8);

  gst_video_info_set_format (&f->rgb_info, GST_VIDEO_FORMAT_RGB, f->fw, f->fh);
  /* GstVideoConverter wants the same frame rate on both sides */
  GST_VIDEO_INFO_FPS_N (&f->rgb_info) = GST_VIDEO_INFO_FPS_N (portrait);
  GST_VIDEO_INFO_FPS_D (&f->rgb_info) = GST_VIDEO_INFO_FPS_D (portrait);
  f->rgb = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&f->rgb_info),
      NULL);
  f->crop_conv = gst_video_converter_new ((GstVideoInfo *) portrait,
      &f->rgb_info, gst_structure_new ("kling-face-crop",
          GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, f->box.x,
          GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, f->box.y,
          GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT, f->box.width,
          GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, f->box.height, NULL));
  gst_video_info_set_format (&f->patch_info, GST_VIDEO_INFO_FORMAT (portrait),
      f->box.width, f->box.height);
  f->patch_info.colorimetry = portrait->colorimetry;
  GST_VIDEO_INFO_FPS_N (&f->patch_info) = GST_VIDEO_INFO_FPS_N (portrait);
  GST_VIDEO_INFO_FPS_D (&f->patch_info) = GST_VIDEO_INFO_FPS_D (portrait);
  f->patch_info.chroma_site = portrait->chroma_site;
  f->patch = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&f->patch_info), NULL);
  f->paste_conv = gst_video_converter_new (&f->rgb_info, &f->patch_info,
      gst_structure_new ("kling-face-paste",
          GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
          GST_VIDEO_DITHER_NONE, NULL));
  if (f->crop_conv == NULL || f->paste_conv == NULL) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "cannot convert portrait format %s to and from RGB",
        GST_VIDEO_INFO_NAME (portrait));
    kling_face_free (f);
    return NULL;
  }
  return f;
}

void
kling_face_free (KlingFace * f)
{
  if (f == NULL)
    return;
  if (f->crop_conv)
    gst_video_converter_free (f->crop_conv);
  if (f->paste_conv)
    gst_video_converter_free (f->paste_conv);
  gst_clear_buffer (&f->rgb);
  gst_clear_buffer (&f->patch);
  g_free (f);
}

const KlingFaceBox *
kling_face_get_box (const KlingFace * f)
{
  return &f->box;
}

gboolean
kling_face_crop (KlingFace * f, GstBuffer * portrait, gfloat * chw)
{
  GstVideoFrame in, out;
  gint x, y, plane = f->fw * f->fh;

  if (!gst_video_frame_map (&in, &f->portrait, portrait, GST_MAP_READ))
    return FALSE;
  if (!gst_video_frame_map (&out, &f->rgb_info, f->rgb, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&in);
    return FALSE;
  }
  gst_video_converter_frame (f->crop_conv, &in, &out);
  for (y = 0; y < f->fh; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&out, 0)
        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&out, 0);

    for (x = 0; x < f->fw; x++) {
      chw[y * f->fw + x] = row[3 * x] / 255.0f;
      chw[plane + y * f->fw + x] = row[3 * x + 1] / 255.0f;
      chw[2 * plane + y * f->fw + x] = row[3 * x + 2] / 255.0f;
    }
  }
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&in);
  return TRUE;
}

void
kling_face_make_input (const KlingFace * f, const gfloat * crop,
    const gfloat * ref, gfloat * out)
{
  gint plane = f->fw * f->fh, c;
  gsize keep = (gsize) f->mask_row * f->fw;

  for (c = 0; c < 3; c++) {
    memcpy (out + c * plane, crop + c * plane, keep * sizeof (gfloat));
    memset (out + c * plane + keep, 0, (plane - keep) * sizeof (gfloat));
  }
  memcpy (out + 3 * plane, ref, 3 * plane * sizeof (gfloat));
}

/* How much of the generated face a sample at @pos (in full-resolution
 * pixels from the box's edge, of @size) takes: 0 at the edge, 1 from
 * @feather inside. */
static gdouble
ramp (gdouble pos, gdouble size, gdouble feather)
{
  gdouble d = MIN (pos, size - pos);

  return feather <= 0 ? 1.0 : CLAMP (d / feather, 0.0, 1.0);
}

gboolean
kling_face_paste (KlingFace * f, const gfloat * gen, GstBuffer * frame)
{
  const GstVideoFormatInfo *finfo = f->portrait.finfo;
  GstVideoFrame rgb, patch, out;
  gint x, y, plane = f->fw * f->fh;
  gdouble top;
  guint c;

  /* the face as packed RGB */
  if (!gst_video_frame_map (&rgb, &f->rgb_info, f->rgb, GST_MAP_WRITE))
    return FALSE;
  for (y = 0; y < f->fh; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&rgb, 0)
        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&rgb, 0);

    for (x = 0; x < f->fw; x++)
      for (c = 0; c < 3; c++) {
        gfloat v = gen[c * plane + y * f->fw + x];

        /* NaN goes to 0 */
        v = v > 0 ? (v < 1 ? v : 1) : 0;
        row[3 * x + c] = (guint8) (v * 255.0f + 0.5f);
      }
  }
  /* resized into the portrait's format at the box's size */
  if (!gst_video_frame_map (&patch, &f->patch_info, f->patch, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&rgb);
    return FALSE;
  }
  gst_video_converter_frame (f->paste_conv, &rgb, &patch);
  gst_video_frame_unmap (&rgb);
  if (!gst_video_frame_map (&out, &f->portrait, frame, GST_MAP_READWRITE)) {
    gst_video_frame_unmap (&patch);
    return FALSE;
  }
  /* blended component by component, inside the box only, and there only
   * in the masked rows the model redrew (the rows above are the portrait's
   * own, sharper than the model's copy of them), the seam feathered above
   * the mask row */
  top = MAX (0.0, (gdouble) f->mask_row * f->box.height / f->fh - f->feather);
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    gint ws = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
    gint hs = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
    gint cw = f->box.width >> ws, ch = f->box.height >> hs;
    gint cx0 = f->box.x >> ws, cy0 = f->box.y >> hs;
    gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&out, c);
    gint os = GST_VIDEO_FRAME_COMP_STRIDE (&out, c);
    gint pps = GST_VIDEO_FRAME_COMP_PSTRIDE (&patch, c);
    gint pos = GST_VIDEO_FRAME_COMP_STRIDE (&patch, c);
    guint8 *od = GST_VIDEO_FRAME_COMP_DATA (&out, c);
    const guint8 *pd = GST_VIDEO_FRAME_COMP_DATA (&patch, c);

    if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo) && c == GST_VIDEO_COMP_A)
      continue;                 /* the portrait's own alpha */
    for (y = 0; y < ch; y++) {
      gdouble at = (y + 0.5) * (1 << hs) - top;
      gdouble ay = at < 0 ? 0.0 : ramp (at, f->box.height - top, f->feather);
      guint8 *o = od + (gsize) (cy0 + y) * os + (gsize) cx0 * ps;
      const guint8 *p = pd + (gsize) y * pos;

      if (ay <= 0.0)
        continue;

      for (x = 0; x < cw; x++) {
        gdouble a = MIN (ay, ramp ((x + 0.5) * (1 << ws), f->box.width,
                f->feather));
        gdouble v = o[x * ps] * (1.0 - a) + p[x * pps] * a;

        o[x * ps] = (guint8) (v + 0.5);
      }
    }
  }
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&patch);
  return TRUE;
}
