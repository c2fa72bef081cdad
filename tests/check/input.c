/* gst-kling: frames into model input values (kling-input)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "kling-input.h"

/* A frame of @format whose RGB pixel (x, y) is (10x, 20y, 100). */
static GstBuffer *
make_frame (GstVideoInfo * info, GstVideoFormat format, gint w, gint h)
{
  GstVideoInfo rgb;
  GstBuffer *src, *dst;
  GstVideoFrame fs, fd;
  GstVideoConverter *conv;
  gint x, y;

  gst_video_info_set_format (&rgb, GST_VIDEO_FORMAT_RGB, w, h);
  src = gst_buffer_new_allocate (NULL, rgb.size, NULL);
  gst_video_frame_map (&fs, &rgb, src, GST_MAP_WRITE);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint8 *p = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fs, 0) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&fs, 0) + x * 3;
      p[0] = 10 * x;
      p[1] = 20 * y;
      p[2] = 100;
    }
  gst_video_frame_unmap (&fs);
  gst_video_info_set_format (info, format, w, h);
  if (format == GST_VIDEO_FORMAT_RGB)
    return src;
  dst = gst_buffer_new_allocate (NULL, info->size, NULL);
  gst_video_frame_map (&fs, &rgb, src, GST_MAP_READ);
  gst_video_frame_map (&fd, info, dst, GST_MAP_WRITE);
  conv = gst_video_converter_new (&rgb, info, NULL);
  gst_video_converter_frame (conv, &fs, &fd);
  gst_video_converter_free (conv);
  gst_video_frame_unmap (&fs);
  gst_video_frame_unmap (&fd);
  gst_buffer_unref (src);
  return dst;
}

static KlingInputSpec
spec (gint w, gint h, GstVideoFormat format, gboolean letterbox)
{
  KlingInputSpec s = { w, h, format, letterbox, 114, 1.0f / 255,
    {0, 0, 0}, {1, 1, 1}
  };
  return s;
}

static gfloat *
run (const KlingInputSpec * s, GstVideoFormat format, gint w, gint h,
    const GstVideoRectangle * crop, KlingInput ** out)
{
  GstVideoInfo info;
  GstBuffer *buf = make_frame (&info, format, w, h);
  GstVideoFrame frame;
  KlingInput *in = kling_input_new (s, &info, crop, NULL);

  fail_unless (in != NULL);
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READ);
  kling_input_fill (in, &frame);
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  *out = in;
  return kling_input_get_values (in);
}

#define assert_close(a, b) \
  fail_unless (fabsf ((a) - (b)) < 1e-5f, "%s = %f, expected %f", #a, \
      (gdouble) (a), (gdouble) (b))

GST_START_TEST (test_same_size_rgb_and_bgr)
{
  KlingInputSpec s = spec (8, 4, GST_VIDEO_FORMAT_RGB, FALSE);
  KlingInput *in;
  gfloat *v = run (&s, GST_VIDEO_FORMAT_RGB, 8, 4, NULL, &in);
  gint x, y;

  fail_unless_equals_int (kling_input_get_channels (in), 3);
  for (y = 0; y < 4; y++)
    for (x = 0; x < 8; x++) {
      gfloat *p = v + (y * 8 + x) * 3;
      assert_close (p[0], 10 * x / 255.0f);
      assert_close (p[1], 20 * y / 255.0f);
      assert_close (p[2], 100 / 255.0f);
    }
  kling_input_free (in);

  s.format = GST_VIDEO_FORMAT_BGR;
  v = run (&s, GST_VIDEO_FORMAT_RGB, 8, 4, NULL, &in);
  assert_close (v[(2 * 8 + 5) * 3 + 0], 100 / 255.0f);
  assert_close (v[(2 * 8 + 5) * 3 + 2], 50 / 255.0f);
  kling_input_free (in);
}

GST_END_TEST;

GST_START_TEST (test_normalisation)
{
  KlingInputSpec s = spec (8, 4, GST_VIDEO_FORMAT_RGB, FALSE);
  KlingInput *in;
  gfloat *v;

  s.mean[0] = 0.5f;
  s.std[0] = 0.25f;
  s.mean[2] = 0.1f;
  v = run (&s, GST_VIDEO_FORMAT_RGB, 8, 4, NULL, &in);
  assert_close (v[(1 * 8 + 3) * 3 + 0], (30 / 255.0f - 0.5f) / 0.25f);
  assert_close (v[(1 * 8 + 3) * 3 + 1], 20 / 255.0f);
  assert_close (v[(1 * 8 + 3) * 3 + 2], 100 / 255.0f - 0.1f);
  kling_input_free (in);
}

GST_END_TEST;

/* 8x4 into 8x8 keeping the aspect: rows 0-1 and 6-7 are the margin. */
GST_START_TEST (test_letterbox)
{
  KlingInputSpec s = spec (8, 8, GST_VIDEO_FORMAT_RGB, TRUE);
  KlingInput *in;
  gfloat *v = run (&s, GST_VIDEO_FORMAT_RGB, 8, 4, NULL, &in);
  const KlingLetterbox *lb = kling_input_get_letterbox (in);
  gint x, c;

  fail_unless_equals_int (lb->dest_x, 0);
  fail_unless_equals_int (lb->dest_y, 2);
  fail_unless_equals_int (lb->dest_width, 8);
  fail_unless_equals_int (lb->dest_height, 4);
  for (x = 0; x < 8; x++)
    for (c = 0; c < 3; c++) {
      assert_close (v[(0 * 8 + x) * 3 + c], 114 / 255.0f);
      assert_close (v[(7 * 8 + x) * 3 + c], 114 / 255.0f);
    }
  assert_close (v[(2 * 8 + 4) * 3 + 0], 40 / 255.0f);
  assert_close (v[(2 * 8 + 4) * 3 + 1], 0.0f);
  assert_close (v[(5 * 8 + 4) * 3 + 1], 60 / 255.0f);
  /* the same again: the margin stays painted */
  kling_input_free (in);

  /* stretch fills it all */
  s.letterbox = FALSE;
  v = run (&s, GST_VIDEO_FORMAT_RGB, 8, 4, NULL, &in);
  fail_unless_equals_int (kling_input_get_letterbox (in)->dest_height, 8);
  fail_unless (fabsf (v[0] - 0.0f) < 1e-5f);
  kling_input_free (in);
}

GST_END_TEST;

GST_START_TEST (test_crop_and_formats)
{
  KlingInputSpec s = spec (2, 2, GST_VIDEO_FORMAT_RGB, FALSE);
  GstVideoRectangle crop = { 4, 2, 2, 2 };
  KlingInput *in;
  gfloat *v = run (&s, GST_VIDEO_FORMAT_RGB, 8, 4, &crop, &in);

  assert_close (v[0], 40 / 255.0f);
  assert_close (v[1], 40 / 255.0f);
  assert_close (v[3 * 3 + 0], 50 / 255.0f);
  assert_close (v[3 * 3 + 1], 60 / 255.0f);
  kling_input_free (in);

  /* a grey model from YUV input: one value per pixel */
  s = spec (8, 4, GST_VIDEO_FORMAT_GRAY8, FALSE);
  v = run (&s, GST_VIDEO_FORMAT_I420, 8, 4, NULL, &in);
  fail_unless_equals_int (kling_input_get_channels (in), 1);
  /* brighter to the right (red grows with x) */
  fail_unless (v[7] > v[0]);
  kling_input_free (in);

  /* 1x1 and odd sizes convert too */
  s = spec (16, 16, GST_VIDEO_FORMAT_RGB, TRUE);
  v = run (&s, GST_VIDEO_FORMAT_NV12, 1, 1, NULL, &in);
  kling_input_free (in);
  v = run (&s, GST_VIDEO_FORMAT_I420, 7, 3, NULL, &in);
  fail_unless_equals_int (kling_input_get_letterbox (in)->dest_height, 7);
  kling_input_free (in);
}

GST_END_TEST;

GST_START_TEST (test_errors_and_grey)
{
  KlingInputSpec s = spec (4, 4, GST_VIDEO_FORMAT_RGB, TRUE);
  GstVideoRectangle empty = { 0, 0, 0, 3 };
  GstVideoInfo info;
  GError *err = NULL;
  KlingInput *in;
  gint i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 8, 4);
  fail_unless (kling_input_new (&s, &info, &empty, &err) == NULL);
  fail_unless (err != NULL && strstr (err->message, "0x3") != NULL);
  g_clear_error (&err);

  s.mean[1] = 0.5f;
  in = kling_input_new (&s, &info, NULL, NULL);
  kling_input_fill_grey (in, 51);
  for (i = 0; i < 16; i++) {
    assert_close (kling_input_get_values (in)[i * 3], 0.2f);
    assert_close (kling_input_get_values (in)[i * 3 + 1], -0.3f);
  }
  kling_input_free (in);
}

GST_END_TEST;

GST_START_TEST (test_spec_from_manifest)
{
  const gchar *json = "{\"format\": 1, \"name\": \"t\", \"task\": \"detect\","
      "\"methods\": [\"forward\"], \"input\": {\"width\": 64, \"height\": 32,"
      "\"channels\": \"BGR\", \"resize\": \"letterbox\", \"pad\": 7,"
      "\"scale\": 0.5, \"mean\": [1, 2, 3], \"std\": [4, 5, 6]},"
      "\"output\": {\"format\": \"yolov8\"}, \"labels\": [\"a\"]}";
  KlingManifest *m = kling_manifest_parse (json, -1, "t.pt", NULL);
  KlingInputSpec s;

  fail_unless (m != NULL);
  kling_input_spec_from_manifest (&s, m);
  fail_unless_equals_int (s.width, 64);
  fail_unless_equals_int (s.height, 32);
  fail_unless_equals_int (s.format, GST_VIDEO_FORMAT_BGR);
  fail_unless (s.letterbox);
  fail_unless_equals_int (s.pad, 7);
  assert_close (s.scale, 0.5f);
  assert_close (s.mean[2], 3.0f);
  assert_close (s.std[1], 5.0f);
  kling_manifest_free (m);
}

GST_END_TEST;

static Suite *
input_suite (void)
{
  Suite *s = suite_create ("input");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_same_size_rgb_and_bgr);
  tcase_add_test (tc, test_normalisation);
  tcase_add_test (tc, test_letterbox);
  tcase_add_test (tc, test_crop_and_formats);
  tcase_add_test (tc, test_errors_and_grey);
  tcase_add_test (tc, test_spec_from_manifest);
  return s;
}

GST_CHECK_MAIN (input);
