/* gst-kling: kling-detector over the test detectors (tests/models)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "kling-check.h"

#include "kling-detector.h"

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
  GstBuffer *buf = kling_check_boxes_frame (&info);
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
  GstBuffer *buf = kling_check_boxes_frame (&info);
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
  GstBuffer *buf = kling_check_boxes_frame (&info);
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
  return s;
}

GST_CHECK_MAIN (detector);
