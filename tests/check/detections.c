/* gst-kling: detector decoding, letterbox mapping and NMS
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "kling-detections.h"

#define NEAR(a, b) (fabs ((a) - (b)) < 1e-3)

GST_START_TEST (test_letterbox)
{
  KlingLetterbox lb;
  KlingDetection d = { 96, 96, 160, 160, 0.9f, 0 };

  /* 320x240 into 256x256: scale 0.8, content 256x192 at y = 32 */
  kling_letterbox_init (&lb, 320, 240, 256, 256, TRUE);
  fail_unless (lb.dest_x == 0 && lb.dest_y == 32);
  fail_unless (lb.dest_width == 256 && lb.dest_height == 192);
  fail_unless (kling_letterbox_to_frame (&lb, &d));
  fail_unless (NEAR (d.x0, 120) && NEAR (d.y0, 80) && NEAR (d.x1, 200)
      && NEAR (d.y1, 160), "%g %g %g %g", d.x0, d.y0, d.x1, d.y1);

  /* a box straddling the bottom margin is clipped at the frame edge */
  d = (KlingDetection) {
  10, 200, 50, 250, 0.9f, 0};
  fail_unless (kling_letterbox_to_frame (&lb, &d));
  fail_unless (NEAR (d.y1, 240) && NEAR (d.y0, 210));
  /* a box wholly in the top margin is dropped */
  d = (KlingDetection) {
  10, 2, 50, 30, 0.9f, 0};
  fail_if (kling_letterbox_to_frame (&lb, &d));

  /* portrait input: margins left and right */
  kling_letterbox_init (&lb, 100, 400, 256, 256, TRUE);
  fail_unless (lb.dest_width == 64 && lb.dest_x == 96 && lb.dest_y == 0);
  /* stretch: no margins */
  kling_letterbox_init (&lb, 100, 400, 256, 128, FALSE);
  fail_unless (lb.dest_width == 256 && lb.dest_height == 128);
  d = (KlingDetection) {
  128, 64, 256, 128, 0.5f, 1};
  fail_unless (kling_letterbox_to_frame (&lb, &d));
  fail_unless (NEAR (d.x0, 50) && NEAR (d.y0, 200) && NEAR (d.x1, 100)
      && NEAR (d.y1, 400));
}

GST_END_TEST;

GST_START_TEST (test_decode_yolov8)
{
  /* [4 + 2, 3]: candidates in columns */
  gfloat data[6 * 3] = {
    10, 50, 90,                 /* cx */
    10, 50, 90,                 /* cy */
    4, 8, 2,                    /* w */
    4, 8, 2,                    /* h */
    0.9f, 0.1f, 0.3f,           /* class 0 */
    0.2f, 0.7f, 0.35f,          /* class 1 */
  };
  GArray *out = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  KlingDetection *d;

  kling_decode_yolov8 (data, 3, 2, 0.5f, out);
  fail_unless_equals_int (out->len, 2);
  d = (KlingDetection *) out->data;
  fail_unless (d[0].label == 0 && NEAR (d[0].score, 0.9) && NEAR (d[0].x0, 8)
      && NEAR (d[0].y1, 12));
  fail_unless (d[1].label == 1 && NEAR (d[1].score, 0.7) && NEAR (d[1].x0, 46));
  g_array_set_size (out, 0);
  kling_decode_yolov8 (data, 3, 2, 0.3f, out);
  fail_unless_equals_int (out->len, 3);
  fail_unless (((KlingDetection *) out->data)[2].label == 1);
  g_array_free (out, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_decode_yolov5)
{
  gfloat data[2 * 7] = {
    20, 30, 10, 6, 0.9f, 0.2f, 0.8f,
    5, 5, 2, 2, 0.4f, 1.0f, 0.0f,
  };
  GArray *out = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  KlingDetection *d;

  kling_decode_yolov5 (data, 2, 2, 0.5f, out);
  fail_unless_equals_int (out->len, 1);
  d = (KlingDetection *) out->data;
  fail_unless (d->label == 1 && NEAR (d->score, 0.72) && NEAR (d->x0, 15)
      && NEAR (d->y0, 27) && NEAR (d->x1, 25) && NEAR (d->y1, 33));
  g_array_free (out, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_decode_torchvision)
{
  gfloat boxes[3 * 4] = { 0, 0, 10, 10, 5, 5, 20, 25, 1, 1, 2, 2 };
  gint64 labels[3] = { 1, 3, 9 };
  gfloat scores[3] = { 0.95f, 0.6f, 0.99f };
  GArray *out = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  KlingDetection *d;

  /* torchvision reserves label 0 for background: offset 1 */
  kling_decode_torchvision (boxes, labels, scores, 3, 1, 4, 0.5f, out);
  fail_unless_equals_int (out->len, 2); /* label 9 is out of range */
  d = (KlingDetection *) out->data;
  fail_unless (d[0].label == 0 && NEAR (d[0].x1, 10));
  fail_unless (d[1].label == 2 && NEAR (d[1].x0, 5) && NEAR (d[1].y1, 25));
  g_array_free (out, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_nms)
{
  KlingDetection in[] = {
    {0, 0, 10, 10, 0.6f, 0},
    {1, 1, 11, 11, 0.9f, 0},    /* overlaps the first, better */
    {1, 1, 11, 11, 0.8f, 1},    /* same place, other class: kept */
    {50, 50, 60, 60, 0.7f, 0},
    {0, 0, 10, 10, NAN, 0},
  };
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  KlingDetection *d;

  g_array_append_vals (dets, in, 4);
  kling_nms (dets, 0.5f, 100);
  fail_unless_equals_int (dets->len, 3);
  d = (KlingDetection *) dets->data;
  fail_unless (NEAR (d[0].score, 0.9) && NEAR (d[1].score, 0.8)
      && NEAR (d[2].score, 0.7));
  kling_nms (dets, 0.5f, 2);
  fail_unless_equals_int (dets->len, 2);
  fail_unless (NEAR (kling_detection_iou (&in[0], &in[0]), 1.0));
  fail_unless (NEAR (kling_detection_iou (&in[0], &in[3]), 0.0));
  fail_unless (NEAR (kling_detection_iou (&in[0], &in[1]), 81.0 / 119.0));
  g_array_free (dets, TRUE);

  /* non-finite boxes never come out of a decoder */
  {
    gfloat data[6] = { NAN, 5, 5, INFINITY, 0.9f, 0.9f };
    GArray *out = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
    kling_decode_yolov8 (data, 1, 2, 0.5f, out);
    fail_unless_equals_int (out->len, 0);
    g_array_free (out, TRUE);
  }
}

GST_END_TEST;

GST_START_TEST (test_labels_file)
{
  gchar *dir = g_dir_make_tmp ("kling-labels-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "labels.txt", NULL);
  GError *err = NULL;
  gchar **labels;

  g_file_set_contents (file, " bottle\ncan \n\nbox\n\n", -1, NULL);
  labels = kling_labels_read_file (file, 1024, NULL);
  fail_unless (labels != NULL);
  fail_unless_equals_int (g_strv_length (labels), 4);
  fail_unless_equals_string (labels[0], "bottle");
  fail_unless_equals_string (labels[1], "can");
  fail_unless_equals_string (labels[2], "");
  fail_unless_equals_string (labels[3], "box");
  g_strfreev (labels);

  /* the limit is exact: 18 bytes pass at 18, fail at 17 */
  g_file_set_contents (file, "0123456789abcdefg\n", -1, NULL);
  labels = kling_labels_read_file (file, 18, NULL);
  fail_unless (labels != NULL);
  g_strfreev (labels);
  fail_unless (kling_labels_read_file (file, 17, &err) == NULL);
  fail_unless (strstr (err->message, "longer than 17 bytes") != NULL,
      "%s", err->message);
  g_clear_error (&err);

  /* endless: cut off at the limit, never read to the end */
  fail_unless (kling_labels_read_file ("/dev/zero",
          KLING_LABELS_FILE_MAX_BYTES, &err) == NULL);
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE));
  g_clear_error (&err);

  g_file_set_contents (file, "\n\n", -1, NULL);
  fail_unless (kling_labels_read_file (file, 1024, &err) == NULL);
  fail_unless (strstr (err->message, "no labels") != NULL);
  g_clear_error (&err);
  g_file_set_contents (file, "\xff\xfe\n", -1, NULL);
  fail_unless (kling_labels_read_file (file, 1024, &err) == NULL);
  fail_unless (strstr (err->message, "UTF-8") != NULL);
  g_clear_error (&err);
  fail_unless (kling_labels_read_file ("/nonexistent/labels", 1024,
          &err) == NULL);
  g_clear_error (&err);

  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

static Suite *
detections_suite (void)
{
  Suite *s = suite_create ("detections");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_letterbox);
  tcase_add_test (tc, test_decode_yolov8);
  tcase_add_test (tc, test_decode_yolov5);
  tcase_add_test (tc, test_decode_torchvision);
  tcase_add_test (tc, test_nms);
  tcase_add_test (tc, test_labels_file);
  return s;
}

GST_CHECK_MAIN (detections);
