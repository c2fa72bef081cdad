/* gst-kling: kling-detector over the test detectors (tests/models)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "kling-detector.h"
#include "kling-draw.h"

#define W 320
#define H 240

static gchar *
test_model (const gchar * name)
{
  return g_build_filename (g_getenv ("KLING_TEST_MODELS"), name, NULL);
}

static KlingDetector *
load (const gchar * name, GError ** error)
{
  KlingLoadOptions opts = { "cpu", KLING_PRECISION_FLOAT32, 1 };
  gchar *path = test_model (name);
  KlingDetector *d = kling_detector_load (path, &opts, FALSE, error);

  g_free (path);
  return d;
}

/* Red box at (100, 60) 80x60 and green box at (220, 150) 50x70 on grey. */
static GstBuffer *
make_frame (GstVideoInfo * info)
{
  GstBuffer *buf;
  GstMapInfo map;
  gint x, y;

  gst_video_info_set_format (info, GST_VIDEO_FORMAT_RGB, W, H);
  buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      guint8 *p = map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (info, 0) + x * 3;
      gboolean red = x >= 100 && x < 180 && y >= 60 && y < 120;
      gboolean green = x >= 220 && x < 270 && y >= 150 && y < 220;
      p[0] = red ? 240 : green ? 10 : 90;
      p[1] = green ? 240 : red ? 10 : 90;
      p[2] = red || green ? 10 : 90;
    }
  gst_buffer_unmap (buf, &map);
  return buf;
}

static void
check_box (const KlingDetection * d, gint label, gint x, gint y, gint w, gint h)
{
  fail_unless_equals_int (d->label, label);
  fail_unless (ABS (d->x0 - x) <= 2 && ABS (d->y0 - y) <= 2
      && ABS (d->x1 - (x + w)) <= 2 && ABS (d->y1 - (y + h)) <= 2,
      "label %d: %.1f,%.1f - %.1f,%.1f", label, d->x0, d->y0, d->x1, d->y1);
}

static void
detect_known_boxes (const gchar * model)
{
  GError *err = NULL;
  KlingDetector *d = load (model, &err);
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  GstVideoInfo info;
  GstBuffer *buf = make_frame (&info);
  GstVideoFrame frame;

  fail_unless (d != NULL, "%s: %s", model, err ? err->message : "");
  fail_unless_equals_string (kling_detector_get_manifest (d)->task, "detect");
  fail_unless (kling_detector_set_format (d, &info, NULL));
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READ);
  fail_unless (kling_detector_run (d, &frame, 2, 0.5f, 0.45f, 100, dets,
          NULL, &err), "%s", err ? err->message : "");
  gst_video_frame_unmap (&frame);
  /* best first; the yolo models' duplicate red box is gone after NMS */
  fail_unless_equals_int (dets->len, 2);
  check_box (&g_array_index (dets, KlingDetection, 0), 0, 100, 60, 80, 60);
  check_box (&g_array_index (dets, KlingDetection, 1), 1, 220, 150, 50, 70);
  fail_unless (g_array_index (dets, KlingDetection, 0).score > 0.89f);
  gst_buffer_unref (buf);
  g_array_unref (dets);
  kling_detector_free (d);
}

GST_START_TEST (test_layouts)
{
  detect_known_boxes ("detect-yolov8.pt");
  detect_known_boxes ("detect-yolov5.pt");
  detect_known_boxes ("detect-torchvision.pt");
}

GST_END_TEST;

GST_START_TEST (test_threshold_nms_max)
{
  KlingDetector *d = load ("detect-yolov8.pt", NULL);
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  GstVideoInfo info;
  GstBuffer *buf = make_frame (&info);
  GstVideoFrame frame;

  fail_unless (kling_detector_set_format (d, &info, NULL));
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READ);
  fail_unless (kling_detector_run (d, &frame, 2, 0.85f, 0.45f, 100, dets,
          NULL, NULL));
  fail_unless_equals_int (dets->len, 1);        /* green scores 0.8 */
  fail_unless (kling_detector_run (d, &frame, 2, 0.1f, 1.0f, 100, dets,
          NULL, NULL));
  fail_unless_equals_int (dets->len, 3);        /* NMS off: duplicate kept */
  fail_unless (kling_detector_run (d, &frame, 2, 0.1f, 0.45f, 1, dets,
          NULL, NULL));
  fail_unless_equals_int (dets->len, 1);
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  g_array_unref (dets);
  kling_detector_free (d);
}

GST_END_TEST;

GST_START_TEST (test_errors)
{
  GError *err = NULL;
  KlingDetector *d;
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  GstVideoInfo info;
  GstBuffer *buf = make_frame (&info);
  GstVideoFrame frame;
  GCancellable *cancel = g_cancellable_new ();

  fail_unless (load ("missing.pt", &err) == NULL);
  fail_unless (g_error_matches (err, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_NOT_FOUND));
  g_clear_error (&err);
  fail_unless (load ("copy-echo.pt", &err) == NULL);
  fail_unless (strstr (err->message, "task `copywrite`") != NULL, "%s",
      err->message);
  g_clear_error (&err);

  d = load ("detect-yolov8.pt", NULL);
  fail_unless (kling_detector_measure (d) > 0);
  fail_unless (kling_detector_set_format (d, &info, NULL));
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READ);
  /* three labels for a two-class output: the shapes in words */
  fail_unless (!kling_detector_run (d, &frame, 3, 0.5f, 0.45f, 100, dets,
          NULL, &err));
  fail_unless (strstr (err->message, "output \"0\" is float32[1, 6, 3], "
          "expected float32[1, 7, *]") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_cancellable_cancel (cancel);
  fail_unless (!kling_detector_run (d, &frame, 2, 0.5f, 0.45f, 100, dets,
          cancel, &err));
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&err);
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  g_array_unref (dets);
  g_object_unref (cancel);
  kling_detector_free (d);
}

GST_END_TEST;

/* kling_draw_detections on every format aiproductdetect accepts: on a grey
 * frame, the left edge of a box takes the class colour (read back through
 * GstVideoConverter) and its inside is left alone. */
GST_START_TEST (test_draw_every_format)
{
  const gchar *formats[] = { "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR",
    "RGBA", "BGRA", "ARGB", "ABGR", "I420", "YV12", "NV12", "NV21", "YUY2",
    "UYVY", "Y42B", "Y444", "GRAY8"
  };
  /* label 1: palette colour 64, 160, 255 */
  KlingDetection det = { 100, 60, 180, 120, 0.9f, 1 };
  const gchar *labels[] = { "red", "green", NULL };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstVideoFormat fmt = gst_video_format_from_string (formats[i]);
    GstVideoInfo rgb_info, info;
    GstBuffer *rgb = make_frame (&rgb_info), *buf, *back;
    GstVideoFrame fin, fout;
    GstVideoConverter *conv;
    GstMapInfo map;
    gboolean gray = fmt == GST_VIDEO_FORMAT_GRAY8;
    const guint8 *edge, *inside;

    fail_unless (kling_draw_supported (fmt), "%s not supported", formats[i]);
    gst_video_info_set_format (&info, fmt, W, H);
    buf = gst_buffer_new_allocate (NULL, info.size, NULL);
    back = gst_buffer_new_allocate (NULL, rgb_info.size, NULL);
    /* grey everywhere: make_frame's boxes are elsewhere than det's edge */
    gst_buffer_memset (rgb, 0, 90, rgb_info.size);
    gst_video_frame_map (&fin, &rgb_info, rgb, GST_MAP_READ);
    gst_video_frame_map (&fout, &info, buf, GST_MAP_WRITE);
    conv = gst_video_converter_new (&rgb_info, &info, NULL);
    gst_video_converter_frame (conv, &fin, &fout);
    gst_video_converter_free (conv);
    gst_video_frame_unmap (&fin);
    kling_draw_detections (&fout, &det, 1, labels);
    gst_video_frame_unmap (&fout);

    gst_video_frame_map (&fin, &info, buf, GST_MAP_READ);
    gst_video_frame_map (&fout, &rgb_info, back, GST_MAP_WRITE);
    /* read chroma back unfiltered: a 2-pixel edge is not blurred into
     * the grey around it */
    conv = gst_video_converter_new (&info, &rgb_info,
        gst_structure_new ("options",
            GST_VIDEO_CONVERTER_OPT_CHROMA_RESAMPLER_METHOD,
            GST_TYPE_VIDEO_RESAMPLER_METHOD,
            GST_VIDEO_RESAMPLER_METHOD_NEAREST, NULL));
    gst_video_converter_frame (conv, &fin, &fout);
    gst_video_converter_free (conv);
    gst_video_frame_unmap (&fin);
    gst_video_frame_unmap (&fout);

    gst_buffer_map (back, &map, GST_MAP_READ);
    edge = map.data + (90 * GST_VIDEO_INFO_PLANE_STRIDE (&rgb_info, 0)) +
        100 * 3;
    inside = map.data + (90 * GST_VIDEO_INFO_PLANE_STRIDE (&rgb_info, 0)) +
        140 * 3;
    if (gray) {
      /* luma of 64, 160, 255 is 132 (the converter reads GRAY8 back
       * with a little range expansion) */
      fail_unless (ABS (edge[0] - 132) <= 12 && edge[0] == edge[2],
          "%s: edge %d %d %d", formats[i], edge[0], edge[1], edge[2]);
    } else {
      /* 4:2:x chroma is upsampled from neighbours the grey shares */
      gint tol = GST_VIDEO_FORMAT_INFO_W_SUB (info.finfo, 1) ? 40 : 12;

      fail_unless (ABS (edge[0] - 64) <= tol && ABS (edge[1] - 160) <= tol
          && ABS (edge[2] - 255) <= tol, "%s: edge %d %d %d", formats[i],
          edge[0], edge[1], edge[2]);
    }
    fail_unless (ABS (inside[0] - 90) <= 3 && ABS (inside[1] - 90) <= 3
        && ABS (inside[2] - 90) <= 3, "%s: inside %d %d %d", formats[i],
        inside[0], inside[1], inside[2]);
    gst_buffer_unmap (back, &map);
    gst_buffer_unref (back);
    gst_buffer_unref (buf);
    gst_buffer_unref (rgb);
  }
}

GST_END_TEST;

static Suite *
detector_suite (void)
{
  Suite *s = suite_create ("detector");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_layouts);
  tcase_add_test (tc, test_threshold_nms_max);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_draw_every_format);
  return s;
}

GST_CHECK_MAIN (detector);
