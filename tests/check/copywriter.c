/* gst-kling: kling-copywriter over the test copywriters (tests/models)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "kling-copywriter.h"

static KlingCopywriter *
load (const gchar * name, GError ** error)
{
  KlingLoadOptions opts = { "cpu", KLING_PRECISION_FLOAT32, 1 };
  gchar *path = g_build_filename (g_getenv ("KLING_TEST_MODELS"), name,
      NULL);
  KlingCopywriter *cw = kling_copywriter_load (path, &opts, error);

  g_free (path);
  return cw;
}

static gchar *
write_line (KlingCopywriter * cw, gint label, gint language,
    const GstVideoRectangle * box, GCancellable * cancel, GError ** error)
{
  GstVideoInfo info;
  GstBuffer *buf;
  GstVideoFrame frame;
  gchar *text;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 65, 33);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, 0x70, info.size);
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READ);
  text = kling_copywriter_write (cw, &frame, box, label, language, 7, cancel,
      error);
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  return text;
}

GST_START_TEST (test_writes_per_label_and_language)
{
  GError *err = NULL;
  KlingCopywriter *cw = load ("copy-echo.pt", &err);
  GstVideoRectangle box = { 10, 5, 20, 20 };
  /* boxes reaching past the frame, or of no size, are clipped to it */
  GstVideoRectangle outside = { 60, 30, 100, 0 };
  gchar *text;

  fail_unless (cw != NULL, "%s", err ? err->message : "");
  fail_unless_equals_string (kling_copywriter_get_manifest (cw)->task,
      "copywrite");
  text = write_line (cw, 0, 1, &box, NULL, NULL);
  fail_unless_equals_string (text, "red thing");
  g_free (text);
  text = write_line (cw, 1, 0, &box, NULL, NULL);
  fail_unless_equals_string (text, "綠色的好東西");
  g_free (text);
  text = write_line (cw, 1, 1, &outside, NULL, NULL);
  fail_unless_equals_string (text, "green thing");
  g_free (text);
  kling_copywriter_free (cw);
}

GST_END_TEST;

GST_START_TEST (test_nan_logits_and_errors)
{
  GError *err = NULL;
  KlingCopywriter *cw = load ("copy-nan.pt", NULL);
  GstVideoRectangle box = { 0, 0, 8, 8 };
  GCancellable *cancel = g_cancellable_new ();

  fail_unless (cw != NULL);
  fail_unless (write_line (cw, 0, 1, &box, NULL, &err) == NULL);
  fail_unless (g_error_matches (err, KLING_TEXTGEN_ERROR,
          KLING_TEXTGEN_ERROR_NO_TOKEN), "%s", err->message);
  g_clear_error (&err);
  kling_copywriter_free (cw);

  cw = load ("copy-echo.pt", NULL);
  g_cancellable_cancel (cancel);
  fail_unless (write_line (cw, 0, 1, &box, cancel, &err) == NULL);
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&err);
  kling_copywriter_free (cw);
  g_object_unref (cancel);

  fail_unless (load ("detect-yolov8.pt", &err) == NULL);
  fail_unless (strstr (err->message, "needs a `copywrite` model") != NULL,
      "%s", err->message);
  g_clear_error (&err);
}

GST_END_TEST;

GST_START_TEST (test_copy_plan)
{
  KlingCopyPlan *plan = kling_copy_plan_new ();
  KlingDetection dets[3] = {
    {0, 0, 1, 1, 0.9f, 4}, {0, 0, 1, 1, 0.8f, 2}, {0, 0, 1, 1, 0.7f, 4}
  };

  /* nothing had copy: the best is due */
  fail_unless_equals_int (kling_copy_plan_pick (plan, dets, 3, GST_SECOND,
          10 * GST_SECOND), 0);
  kling_copy_plan_mark (plan, 4, GST_SECOND);
  /* label 4 waits; the next label is due */
  fail_unless_equals_int (kling_copy_plan_pick (plan, dets, 3,
          2 * GST_SECOND, 10 * GST_SECOND), 1);
  kling_copy_plan_mark (plan, 2, 2 * GST_SECOND);
  fail_unless_equals_int (kling_copy_plan_pick (plan, dets, 3,
          3 * GST_SECOND, 10 * GST_SECOND), -1);
  /* the interval has passed for label 4 */
  fail_unless_equals_int (kling_copy_plan_pick (plan, dets, 3,
          11 * GST_SECOND, 10 * GST_SECOND), 0);
  /* no running time: always due */
  fail_unless_equals_int (kling_copy_plan_pick (plan, dets, 3,
          GST_CLOCK_TIME_NONE, 10 * GST_SECOND), 0);
  fail_unless_equals_int (kling_copy_plan_pick (plan, dets, 0, GST_SECOND,
          0), -1);
  kling_copy_plan_reset (plan);
  fail_unless_equals_int (kling_copy_plan_pick (plan, dets, 3,
          3 * GST_SECOND, 10 * GST_SECOND), 0);
  kling_copy_plan_free (plan);
}

GST_END_TEST;

static Suite *
copywriter_suite (void)
{
  Suite *s = suite_create ("copywriter");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_writes_per_label_and_language);
  tcase_add_test (tc, test_nan_logits_and_errors);
  tcase_add_test (tc, test_copy_plan);
  return s;
}

GST_CHECK_MAIN (copywriter);
