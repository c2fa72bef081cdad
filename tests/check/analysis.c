/* gst-kling: kling-analysis over the test detector and copywriters
 * (tests/models: ColourBoxes finds the red and the green box of
 * kling_check_boxes_frame; EchoCopy writes "red thing" / "green thing")
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "kling-check.h"
#include "kling-analysis.h"

static KlingAnalyser *
load (const gchar * detector, const gchar * labels_file, const gchar * copy,
    KlingAnalyserFailure * failure, GError ** error)
{
  KlingLoadOptions opts = { "cpu", KLING_PRECISION_FLOAT32, 1 };
  gchar *d = kling_check_test_model (detector);
  gchar *c = copy ? kling_check_test_model (copy) : NULL;
  KlingAnalyserFailure f;
  KlingAnalyser *an = kling_analyser_load (d, labels_file, c, &opts,
      failure ? failure : &f, error);

  g_free (d);
  g_free (c);
  return an;
}

static const KlingAnalysisSettings settings = {
  0.5f, 0.45f, 100, 10 * GST_SECOND, 1
};

GST_START_TEST (test_load_failures)
{
  KlingAnalyserFailure failure;
  GError *err = NULL;
  KlingAnalyser *an;
  gchar *labels = g_build_filename (g_get_tmp_dir (), "kling-labels-XXXXXX",
      NULL);
  gint fd = g_mkstemp (labels);

  fail_unless (load ("detect-yolov8.pt", "/nonexistent/labels.txt", NULL,
          &failure, &err) == NULL);
  fail_unless_equals_int (failure, KLING_ANALYSER_FAILED_LABELS);
  g_clear_error (&err);
  fail_unless (load ("missing.pt", NULL, NULL, &failure, &err) == NULL);
  fail_unless_equals_int (failure, KLING_ANALYSER_FAILED_DETECTOR);
  g_clear_error (&err);
  /* a detector is no copywriter */
  fail_unless (load ("detect-yolov8.pt", NULL, "detect-yolov5.pt", &failure,
          &err) == NULL);
  fail_unless_equals_int (failure, KLING_ANALYSER_FAILED_COPYWRITER);
  g_clear_error (&err);

  /* labels from a file replace the manifest's */
  fail_unless (write (fd, "bottle\ncan\n", 11) == 11);
  close (fd);
  an = load ("detect-yolov8.pt", labels, "copy-echo.pt", NULL, &err);
  fail_unless (an != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (kling_analyser_get_n_labels (an), 2);
  fail_unless_equals_string (kling_analyser_get_labels (an)[1], "can");
  fail_unless_equals_string (kling_analyser_get_detector_manifest (an)->task,
      "detect");
  fail_unless_equals_string (kling_analyser_get_copywriter_manifest
      (an)->task, "copywrite");
  fail_unless (kling_analyser_measure (an) > 0);
  kling_analyser_free (an);
  an = load ("detect-yolov8.pt", NULL, NULL, NULL, NULL);
  fail_unless_equals_string (kling_analyser_get_labels (an)[0], "red");
  fail_unless (kling_analyser_get_copywriter_manifest (an) == NULL);
  kling_analyser_free (an);
  g_unlink (labels);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_detections_and_copy_plan)
{
  KlingAnalyser *an = load ("detect-yolov8.pt", NULL, "copy-echo.pt", NULL,
      NULL);
  GstVideoInfo info;
  GstBuffer *buf = kling_check_boxes_frame (&info);
  KlingAnalysis a;
  GError *err = NULL;
  GstStructure *s;
  GValue list = G_VALUE_INIT;

  kling_analysis_init (&a);
  /* no format yet: an error, not a crash */
  fail_if (kling_analyser_run (an, buf, 0, 1, &settings, NULL, &a, &err));
  fail_unless (g_error_matches (err, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_ARGUMENT));
  g_clear_error (&err);
  fail_unless (kling_analyser_set_format (an, &info, NULL));

  /* the best product (red) gets copy first */
  fail_unless (kling_analyser_run (an, buf, 0, 1, &settings, NULL, &a, &err),
      "%s", err ? err->message : "");
  fail_unless_equals_int (a.detections->len, 2);
  fail_unless_equals_int (a.copy_index, 0);
  fail_unless_equals_string (a.copy, "red thing");
  fail_unless_equals_string (a.language, "en");
  s = kling_analysis_detection (&a, 0, kling_analyser_get_labels (an), TRUE);
  fail_unless_equals_string (gst_structure_get_string (s, "label"), "red");
  fail_unless_equals_string (gst_structure_get_string (s, "copy"), "red thing");
  fail_unless (gst_structure_has_field (s, "width"));
  gst_structure_free (s);
  s = kling_analysis_detection (&a, 1, kling_analyser_get_labels (an), FALSE);
  fail_if (gst_structure_has_field (s, "width")
      || gst_structure_has_field (s, "copy"));
  gst_structure_free (s);
  kling_analysis_to_list (&a, kling_analyser_get_labels (an), &list);
  fail_unless_equals_int (gst_value_list_get_size (&list), 2);
  g_value_unset (&list);

  /* within copy-interval red waits: green is due */
  fail_unless (kling_analyser_run (an, buf, GST_SECOND, 2, &settings, NULL,
          &a, NULL));
  fail_unless_equals_int (a.copy_index, 1);
  fail_unless_equals_string (a.copy, "green thing");
  /* both waiting: detections, no copy */
  fail_unless (kling_analyser_run (an, buf, 2 * GST_SECOND, 3, &settings,
          NULL, &a, NULL));
  fail_unless_equals_int (a.detections->len, 2);
  fail_unless_equals_int (a.copy_index, -1);
  fail_unless (a.copy == NULL);
  /* after the interval red is due again; a new stream makes both due */
  fail_unless (kling_analyser_run (an, buf, 11 * GST_SECOND, 4, &settings,
          NULL, &a, NULL));
  fail_unless_equals_int (a.copy_index, 0);
  kling_analyser_reset (an);
  fail_unless (kling_analyser_run (an, buf, 12 * GST_SECOND, 5, &settings,
          NULL, &a, NULL));
  fail_unless_equals_int (a.copy_index, 0);

  kling_analysis_unset (&a);
  gst_buffer_unref (buf);
  kling_analyser_free (an);
}

GST_END_TEST;

GST_START_TEST (test_copywriter_without_a_line)
{
  KlingAnalyser *an = load ("detect-yolov8.pt", NULL, "copy-nan.pt", NULL,
      NULL);
  GstVideoInfo info;
  GstBuffer *buf = kling_check_boxes_frame (&info);
  KlingAnalysis a, b;

  kling_analysis_init (&a);
  kling_analysis_init (&b);
  fail_unless (kling_analyser_set_format (an, &info, NULL));
  /* NaN logits: no failure, the detections stand, the reason is kept */
  fail_unless (kling_analyser_run (an, buf, 0, 1, &settings, NULL, &a, NULL));
  fail_unless_equals_int (a.detections->len, 2);
  fail_unless (a.copy == NULL && a.copy_index == -1);
  fail_unless (g_error_matches (a.copy_error, KLING_TEXTGEN_ERROR,
          KLING_TEXTGEN_ERROR_NO_TOKEN));
  /* moving takes everything, leaves nothing */
  kling_analysis_move (&b, &a);
  fail_unless (b.copy_error != NULL && a.copy_error == NULL);
  fail_unless_equals_int (b.detections->len, 2);
  fail_unless_equals_int (a.detections->len, 0);
  kling_analysis_unset (&a);
  kling_analysis_unset (&b);
  gst_buffer_unref (buf);
  kling_analyser_free (an);
}

GST_END_TEST;

/* Offers the frame until a result comes back (the thread needs one call
 * of the detector); bounded so a broken worker fails instead of hanging. */
static gboolean
offer_until_result (KlingLiveAnalyser * live, GstBuffer * buf,
    KlingAnalysis * out, GError ** error)
{
  gint i;

  for (i = 0; i < 20000; i++) {
    if (kling_live_analyser_offer (live, buf, 0, i, &settings, out, error))
      return TRUE;
    if (error && *error)
      return FALSE;
    g_usleep (1000);
  }
  return FALSE;
}

GST_START_TEST (test_live)
{
  KlingAnalyser *an = load ("detect-yolov8.pt", NULL, NULL, NULL, NULL);
  GCancellable *cancel = g_cancellable_new ();
  KlingLiveAnalyser *live = kling_live_analyser_new (an, cancel);
  GstVideoInfo info, small;
  GstBuffer *buf = kling_check_boxes_frame (&info), *tiny;
  KlingAnalysis a;
  GError *err = NULL;

  kling_analysis_init (&a);
  fail_unless (kling_analyser_set_format (an, &info, NULL));
  fail_unless (offer_until_result (live, buf, &a, &err), "%s",
      err ? err->message : "no result");
  fail_unless_equals_int (a.detections->len, 2);

  /* after invalidate nothing of the old format comes back; a frame that
   * does not match the format is an error the next offer reports */
  kling_live_analyser_invalidate (live);
  gst_video_info_set_format (&small, GST_VIDEO_FORMAT_RGB, 4, 4);
  tiny = gst_buffer_new_allocate (NULL, small.size, NULL);
  fail_unless (kling_analyser_set_format (an, &info, NULL));
  fail_if (offer_until_result (live, tiny, &a, &err));
  fail_unless (g_error_matches (err, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_ARGUMENT), "%s",
      err ? err->message : "no error");
  g_clear_error (&err);
  fail_unless (offer_until_result (live, buf, &a, &err), "%s",
      err ? err->message : "no result");

  g_cancellable_cancel (cancel);
  kling_live_analyser_free (live);
  kling_analysis_unset (&a);
  gst_buffer_unref (buf);
  gst_buffer_unref (tiny);
  g_object_unref (cancel);
  kling_analyser_free (an);
}

GST_END_TEST;

static Suite *
analysis_suite (void)
{
  Suite *s = suite_create ("analysis");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_load_failures);
  tcase_add_test (tc, test_detections_and_copy_plan);
  tcase_add_test (tc, test_copywriter_without_a_line);
  tcase_add_test (tc, test_live);
  return s;
}

GST_CHECK_MAIN (analysis);
