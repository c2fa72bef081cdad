/* gst-kling: manifest parsing and task checks (no libtorch involved)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "kling-manifest.h"

static const KlingMethodInfo detect_methods[] = { {"forward", 1} };

static KlingManifest *
parse_ok (const gchar * json)
{
  GError *err = NULL;
  KlingManifest *m = kling_manifest_parse (json, -1, "/x/m.pt", &err);

  fail_unless (m != NULL, "%s", err ? err->message : "");
  return m;
}

static gchar *
parse_error (const gchar * json)
{
  GError *err = NULL;
  KlingManifest *m = kling_manifest_parse (json, -1, "/x/m.pt", &err);
  gchar *msg;

  fail_unless (m == NULL, "parsed: %s", json);
  msg = g_strdup (err->message);
  g_error_free (err);
  return msg;
}

#define assert_says(msg, needle) \
  fail_unless (strstr ((msg), (needle)) != NULL, "\"%s\" lacks \"%s\"", \
      (msg), (needle))

GST_START_TEST (test_full_detect_manifest)
{
  KlingManifest *m = parse_ok ("{\"format\": 1, \"task\": \"detect\", "
      "\"name\": \"d\", \"methods\": [\"forward\"], \"input\": {\"width\": "
      "320, \"height\": 240, \"layout\": \"NHWC\", \"channels\": \"BGR\", "
      "\"scale\": 1, \"mean\": [1, 2, 3], \"std\": 2, \"resize\": "
      "\"stretch\", \"pad\": 0}, \"output\": {\"format\": \"yolov5\"}, "
      "\"labels\": [\"瓶子\", \"can\"], \"defaults\": {\"threshold\": 0.3}}");
  GError *err = NULL;

  fail_unless_equals_int (m->input_width, 320);
  fail_unless_equals_int (m->input_height, 240);
  fail_unless (m->input_nhwc);
  fail_unless_equals_string (m->input_channels, "BGR");
  fail_unless (m->input_scale == 1.0f);
  fail_unless (m->input_mean[2] == 3.0f && m->input_std[1] == 2.0f);
  fail_unless (m->input_resize == KLING_RESIZE_STRETCH);
  fail_unless_equals_int (m->input_pad, 0);
  fail_unless_equals_string (m->labels[0], "瓶子");
  fail_unless_equals_string (m->output_format, "yolov5");
  fail_unless (kling_manifest_get_double (m, "defaults.threshold", 0) == 0.3);
  fail_unless (kling_manifest_get_double (m, "defaults.nope", 7) == 7);
  fail_unless (kling_manifest_check_task (m, "detect", detect_methods, 1,
          FALSE, &err));
  kling_manifest_free (m);
}

GST_END_TEST;

GST_START_TEST (test_defaults)
{
  KlingManifest *m = parse_ok ("{\"format\": 1, \"task\": \"detect\", "
      "\"methods\": [\"forward\"]}");

  fail_unless_equals_int (m->input_width, 0);
  fail_unless (!m->input_nhwc);
  fail_unless_equals_string (m->input_channels, "RGB");
  fail_unless (m->input_scale == 1.0f / 255.0f);
  fail_unless (m->input_std[0] == 1.0f && m->input_mean[0] == 0.0f);
  fail_unless (m->input_resize == KLING_RESIZE_LETTERBOX);
  fail_unless_equals_int (m->input_pad, 114);
  fail_unless_equals_string (m->name, "m.pt");
  kling_manifest_free (m);
}

GST_END_TEST;

GST_START_TEST (test_every_problem_listed)
{
  gchar *msg = parse_error ("{\"format\": 2, \"methods\": \"forward\", "
      "\"input\": {\"width\": \"wide\", \"layout\": \"CHW\", \"mean\": [1, 2],"
      " \"std\": [1, 0, 1]}, \"tokenizer\": {\"type\": \"bpe\"}}");

  assert_says (msg, "format 2 is not supported");
  assert_says (msg, "field `task` is missing");
  assert_says (msg, "`methods` is a string, not an array of strings");
  assert_says (msg, "`input.width` is a string, expected a number");
  assert_says (msg, "`input.layout` is \"CHW\"");
  assert_says (msg, "`input.mean` must be a number or an array of 1 or 3");
  assert_says (msg, "`input.std` has a zero");
  assert_says (msg, "tokenizer \"bpe\" is not supported");
  assert_says (msg, "docs/models.md");
  g_free (msg);

  msg = parse_error ("[1, 2]");
  assert_says (msg, "not a JSON object");
  g_free (msg);
  msg = parse_error ("{\"format\": 1,");
  assert_says (msg, "not valid JSON");
  g_free (msg);
  msg = parse_error ("{\"format\": 1, \"task\": \"detect\", \"methods\": "
      "[\"forward\"], \"input\": {\"width\": 0, \"height\": 100000}}");
  assert_says (msg, "input size 0x100000 is out of range");
  g_free (msg);
  {
    GError *err = NULL;
    fail_unless (kling_manifest_parse (NULL, 0, "m.pt", &err) == NULL);
    assert_says (err->message, "no kling.json manifest");
    g_error_free (err);
  }
}

GST_END_TEST;

GST_START_TEST (test_task_check)
{
  KlingManifest *m = parse_ok ("{\"format\": 1, \"task\": \"detect\", "
      "\"methods\": [\"forward\", \"extra\"], \"output\": {\"format\": "
      "\"ssd\"}}");
  KlingMethodInfo video_methods[] = { {"encode_prompt", 2}, {"decode", 1} };
  GError *err = NULL;

  fail_if (kling_manifest_check_task (m, "detect", detect_methods, 1, FALSE,
          &err));
  assert_says (err->message, "lists method `extra`");
  assert_says (err->message, "field `input.width` is missing; task `detect` "
      "needs it");
  assert_says (err->message, "output format \"ssd\" is not supported");
  assert_says (err->message, "field `labels` is missing");
  g_clear_error (&err);

  fail_if (kling_manifest_check_task (m, "video", video_methods, 2, FALSE,
          &err));
  assert_says (err->message, "model \"m.pt\" is for task `detect`, but this "
      "element needs a `video` model");
  assert_says (err->message, "model \"m.pt\" has no method `denoise`, which "
      "task `video` needs");
  fail_if (strstr (err->message, "no method `decode`") != NULL);
  g_clear_error (&err);
  kling_manifest_free (m);

  /* labels-file stands in for manifest labels */
  m = parse_ok ("{\"format\": 1, \"task\": \"detect\", \"methods\": "
      "[\"forward\"], \"input\": {\"width\": 8, \"height\": 8}, \"output\": "
      "{\"format\": \"torchvision\"}}");
  fail_if (kling_manifest_check_task (m, "detect", detect_methods, 1, FALSE,
          NULL));
  fail_unless (kling_manifest_check_task (m, "detect", detect_methods, 1,
          TRUE, NULL));
  kling_manifest_free (m);
}

GST_END_TEST;

GST_START_TEST (test_default_search)
{
  gchar *dir = g_dir_make_tmp ("kling-models-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "some-model.pt", NULL);
  gchar *path = g_strdup_printf ("/nonexistent:%s", dir);
  gchar *found;

  g_file_set_contents (file, "x", 1, NULL);
  g_setenv ("GST_KLING_MODEL_PATH", path, TRUE);
  found = kling_package_find_default ("some-model.pt");
  fail_unless_equals_string (found, file);
  g_free (found);
  fail_unless (kling_package_find_default ("other-model.pt") == NULL);
  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
  g_free (path);
}

GST_END_TEST;

static Suite *
manifest_suite (void)
{
  Suite *s = suite_create ("manifest");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_full_detect_manifest);
  tcase_add_test (tc, test_defaults);
  tcase_add_test (tc, test_every_problem_listed);
  tcase_add_test (tc, test_task_check);
  tcase_add_test (tc, test_default_search);
  return s;
}

GST_CHECK_MAIN (manifest);
