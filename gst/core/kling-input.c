/* gst-kling: video frames (or a region of them) as a model's input values
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "kling-input.h"
#include "kling-convert.h"

struct _KlingInput
{
  KlingInputSpec spec;
  gint channels;
  GstVideoConverter *converter;
  GstVideoInfo out_info;
  GstBuffer *pixels;            /* the model's picture, packed 8 bit */
  gfloat *values;
  KlingNormalizer *norm;
  KlingLetterbox lb;
};

void
kling_input_spec_from_manifest (KlingInputSpec * spec, const KlingManifest * m)
{
  gint c;

  spec->width = m->input_width;
  spec->height = m->input_height;
  if (g_strcmp0 (m->input_channels, "BGR") == 0)
    spec->format = GST_VIDEO_FORMAT_BGR;
  else if (g_strcmp0 (m->input_channels, "GRAY") == 0)
    spec->format = GST_VIDEO_FORMAT_GRAY8;
  else
    spec->format = GST_VIDEO_FORMAT_RGB;
  spec->letterbox = m->input_resize == KLING_RESIZE_LETTERBOX;
  spec->pad = m->input_pad;
  spec->scale = m->input_scale;
  for (c = 0; c < 3; c++) {
    spec->mean[c] = m->input_mean[c];
    spec->std[c] = m->input_std[c];
  }
}

KlingInput *
kling_input_new (const KlingInputSpec * spec, const GstVideoInfo * info,
    const GstVideoRectangle * crop, GError ** error)
{
  gint src_w = crop ? crop->w : GST_VIDEO_INFO_WIDTH (info);
  gint src_h = crop ? crop->h : GST_VIDEO_INFO_HEIGHT (info);
  GstStructure *config;
  GstVideoFrame frame;
  KlingInput *in;
  gint y;

  if (src_w <= 0 || src_h <= 0 || spec->width <= 0 || spec->height <= 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "cannot convert a %dx%d picture into a %dx%d model input", src_w,
        src_h, spec->width, spec->height);
    return NULL;
  }
  in = g_new0 (KlingInput, 1);
  in->spec = *spec;
  in->channels = spec->format == GST_VIDEO_FORMAT_GRAY8 ? 1 : 3;
  kling_letterbox_init (&in->lb, src_w, src_h, spec->width, spec->height,
      spec->letterbox);
  gst_video_info_set_format (&in->out_info, spec->format, spec->width,
      spec->height);
  /* the converter wants these equal; they mean nothing to a model */
  GST_VIDEO_INFO_FPS_N (&in->out_info) = GST_VIDEO_INFO_FPS_N (info);
  GST_VIDEO_INFO_FPS_D (&in->out_info) = GST_VIDEO_INFO_FPS_D (info);
  GST_VIDEO_INFO_INTERLACE_MODE (&in->out_info) =
      GST_VIDEO_INFO_INTERLACE_MODE (info);
  in->pixels = gst_buffer_new_allocate (NULL, in->out_info.size, NULL);
  in->values = g_new (gfloat, (gsize) spec->width * spec->height *
      in->channels);
  in->norm = kling_normalizer_new (spec->width, in->channels, spec->scale,
      spec->mean, spec->std);

  /* the letterbox margin is painted once; the converter only writes the
   * picture area */
  gst_video_frame_map (&frame, &in->out_info, in->pixels, GST_MAP_WRITE);
  for (y = 0; y < spec->height; y++)
    memset ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), spec->pad,
        (gsize) spec->width * in->channels);
  gst_video_frame_unmap (&frame);

  config = gst_structure_new ("config",
      GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, in->lb.dest_x,
      GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, in->lb.dest_y,
      GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, in->lb.dest_width,
      GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, in->lb.dest_height,
      GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, FALSE,
      GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD,
      GST_TYPE_VIDEO_RESAMPLER_METHOD, GST_VIDEO_RESAMPLER_METHOD_LINEAR,
      GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
      GST_VIDEO_DITHER_NONE, NULL);
  if (crop)
    gst_structure_set (config,
        GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, crop->x,
        GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, crop->y,
        GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT, crop->w,
        GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, crop->h, NULL);
  in->converter = gst_video_converter_new ((GstVideoInfo *) info,
      &in->out_info, config);
  if (in->converter == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "cannot convert %s %dx%d video into the model's %s %dx%d input",
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info)),
        GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info),
        gst_video_format_to_string (spec->format), spec->width, spec->height);
    kling_input_free (in);
    return NULL;
  }
  return in;
}

void
kling_input_free (KlingInput * in)
{
  if (in == NULL)
    return;
  g_clear_pointer (&in->converter, gst_video_converter_free);
  gst_clear_buffer (&in->pixels);
  g_free (in->values);
  kling_normalizer_free (in->norm);
  g_free (in);
}

static void
normalise (KlingInput * in, const GstVideoFrame * out)
{
  kling_normalizer_run (in->norm, in->values,
      (gsize) in->spec.width * in->channels * sizeof (gfloat),
      GST_VIDEO_FRAME_PLANE_DATA (out, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (out, 0), in->spec.height);
}

void
kling_input_fill (KlingInput * in, const GstVideoFrame * frame)
{
  GstVideoFrame out;

  gst_video_frame_map (&out, &in->out_info, in->pixels, GST_MAP_READWRITE);
  gst_video_converter_frame (in->converter, frame, &out);
  normalise (in, &out);
  gst_video_frame_unmap (&out);
}

void
kling_input_fill_grey (KlingInput * in, guint8 level)
{
  GstVideoFrame out;

  gst_buffer_memset (in->pixels, 0, level, gst_buffer_get_size (in->pixels));
  gst_video_frame_map (&out, &in->out_info, in->pixels, GST_MAP_READ);
  normalise (in, &out);
  gst_video_frame_unmap (&out);
}

gfloat *
kling_input_get_values (KlingInput * in)
{
  return in->values;
}

gint
kling_input_get_channels (const KlingInput * in)
{
  return in->channels;
}

const KlingLetterbox *
kling_input_get_letterbox (const KlingInput * in)
{
  return &in->lb;
}
