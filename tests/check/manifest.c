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

/* Finding 3: a manifest nested 100000 levels deep crashed json-glib (stack
 * overflow); it is refused before the parser runs.  Brackets inside strings
 * do not count, and a manifest at the limit still parses. */
GST_START_TEST (test_deep_nesting_refused)
{
  GString *deep = g_string_new ("{\"format\": 1, \"task\": \"detect\", "
      "\"methods\": [\"forward\"], \"x\": ");
  gchar *msg;
  guint i;

  for (i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  for (i = 0; i < 100000; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  msg = parse_error (deep->str);
  assert_says (msg, "more than 32 levels deep");
  g_free (msg);
  g_string_free (deep, TRUE);

  /* 32 levels in all (the root object is one) parse */
  deep = g_string_new ("{\"format\": 1, \"task\": \"detect\", \"methods\": "
      "[\"forward\"], \"x\": ");
  for (i = 0; i < 31; i++)
    g_string_append_c (deep, '[');
  for (i = 0; i < 31; i++)
    g_string_append_c (deep, ']');
  g_string_append (deep,
      ", \"s\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[\"}");
  kling_manifest_free (parse_ok (deep->str));
  g_string_append_c (deep, ' ');
  /* one more level is refused */
  g_string_insert (deep, strlen ("{\"format\": 1, \"task\": \"detect\", "
          "\"methods\": [\"forward\"], \"x\": "), "[");
  g_string_insert (deep, strstr (deep->str, "], \"s\"") - deep->str, "]");
  msg = parse_error (deep->str);
  assert_says (msg, "more than 32 levels deep");
  g_free (msg);
  g_string_free (deep, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_size_refused)
{
  gsize n = KLING_MANIFEST_MAX_SIZE + 1;
  gchar *big = g_malloc (n + 1);
  GError *err = NULL;
  gchar *msg;

  memset (big, ' ', n);
  big[0] = '{';
  big[n - 1] = '}';
  big[n] = '\0';
  msg = parse_error (big);
  assert_says (msg, "1048577 bytes, more than the 1048576");
  g_free (msg);
  /* an explicit length is honoured: the first bytes alone are a document */
  fail_if (kling_manifest_parse ("{\"format\": 1}xxxx", 13, "m.pt", &err));
  assert_says (err->message, "field `task` is missing");
  fail_if (strstr (err->message, "not valid JSON") != NULL);
  g_clear_error (&err);
  g_free (big);
}

GST_END_TEST;

static gchar *
task_error (const gchar * json, const gchar * task,
    const KlingMethodInfo * methods, guint n_methods)
{
  KlingManifest *m = parse_ok (json);
  GError *err = NULL;
  gchar *msg;

  fail_if (kling_manifest_check_task (m, task, methods, n_methods, TRUE,
          &err), "accepted: %s", json);
  msg = g_strdup (err->message);
  g_error_free (err);
  kling_manifest_free (m);
  return msg;
}

static const KlingMethodInfo video_methods[] = {
  {"encode_prompt", 2}, {"denoise", 4}, {"decode", 1}
};
static const KlingMethodInfo copy_methods[] = {
  {"encode", 3}, {"decode_step", 2}
};

#define VIDEO_HEAD "{\"format\": 1, \"task\": \"video\", \"methods\": " \
  "[\"encode_prompt\", \"denoise\", \"decode\"], \"tokenizer\": {\"type\": " \
  "\"utf8-bytes\"}, "
#define COPY_HEAD "{\"format\": 1, \"task\": \"copywrite\", \"methods\": " \
  "[\"encode\", \"decode_step\"], \"tokenizer\": {\"type\": \"utf8-bytes\"" \
  ", \"vocab\": "

/* Finding 4: each field in range, their product absurd: refused with the
 * fields and the limit named, where it aborted in g_malloc before. */
GST_START_TEST (test_absurd_products_refused)
{
  KlingManifest *m;
  gchar *msg;

  msg = task_error (VIDEO_HEAD "\"latent\": {\"channels\": 64, \"frames\": "
      "1024, \"height\": 1024, \"width\": 1024}, \"size\": {\"width\": 16, "
      "\"height\": 16}}", "video", video_methods, 3);
  assert_says (msg, "the denoiser's batched conditioning input");
  assert_says (msg, "2 x 65 x 1024 x 1024 x 1024");
  assert_says (msg, "139586437120 values, more than the limit of 268435456");
  assert_says (msg, "`latent.channels`");
  g_free (msg);

  msg = task_error (VIDEO_HEAD "\"latent\": {\"channels\": 4, \"frames\": "
      "1024, \"height\": 16, \"width\": 16}, \"size\": {\"width\": 8192, "
      "\"height\": 8192}}", "video", video_methods, 3);
  assert_says (msg, "a chunk of decoded frames (`latent.frames` x "
      "`size.height` x `size.width` x 3: 1024 x 8192 x 8192 x 3) would hold "
      "206158430208 values");
  g_free (msg);

  /* the same sizes as a poster (one frame) fit */
  m = parse_ok ("{\"format\": 1, \"task\": \"poster\", \"methods\": "
      "[\"encode_prompt\", \"denoise\", \"decode\", \"encode_image\"], "
      "\"tokenizer\": {\"type\": \"utf8-bytes\"}, \"latent\": {\"channels\": "
      "4, \"height\": 1024, \"width\": 1024}, \"size\": {\"width\": 8192, "
      "\"height\": 8192}}");
  {
    const KlingMethodInfo poster_methods[] = {
      {"encode_prompt", 2}, {"denoise", 4}, {"decode", 1}, {"encode_image", 1}
    };
    GError *err = NULL;
    fail_unless (kling_manifest_check_task (m, "poster", poster_methods, 4,
            TRUE, &err), "%s", err ? err->message : "");
  }
  kling_manifest_free (m);

  /* each field out of its own range, and wider than an int */
  msg = task_error (VIDEO_HEAD "\"latent\": {\"channels\": 4294967299, "
      "\"frames\": -1, \"height\": 2.5, \"width\": 1e300}, \"size\": "
      "{\"width\": 0}, \"schedule\": {\"train_steps\": 1000000000000}, "
      "\"context_frames\": \"two\"}", "video", video_methods, 3);
  assert_says (msg, "`latent.channels` is 4294967299; it must be 1 to 64");
  assert_says (msg, "`latent.frames` is -1; it must be 1 to 1024");
  assert_says (msg, "`latent.height` is 2.5, expected a whole number");
  assert_says (msg, "`latent.width` is 9223372036854775807; it must be 1 to "
      "1024");
  assert_says (msg, "`size.width` is 0; it must be 1 to 8192");
  assert_says (msg, "`size.height` is missing");
  assert_says (msg, "`schedule.train_steps` is 1000000000000; it must be 2 "
      "to 100000");
  assert_says (msg, "`context_frames` is a string, expected a whole number");
  g_free (msg);

  msg = task_error (VIDEO_HEAD "\"latent\": {\"channels\": 4, \"frames\": 4,"
      " \"height\": 4, \"width\": 4}, \"size\": {\"width\": 16, \"height\": "
      "16}, \"context_frames\": 4}", "video", video_methods, 3);
  assert_says (msg, "`context_frames` (4) must be less than `latent.frames` "
      "(4)");
  g_free (msg);
}

GST_END_TEST;

GST_START_TEST (test_copywriter_limits)
{
  KlingManifest *m;
  GError *err = NULL;
  gchar *msg;

  msg = task_error (COPY_HEAD "-1}, \"input\": {\"width\": 32, \"height\": "
      "32}}", "copywrite", copy_methods, 2);
  assert_says (msg, "`tokenizer.vocab` is -1; it must be 2 to 1048576");
  g_free (msg);
  msg = task_error (COPY_HEAD "0}, \"input\": {\"width\": 32, \"height\": "
      "32}}", "copywrite", copy_methods, 2);
  assert_says (msg, "`tokenizer.vocab` is 0; it must be 2 to 1048576");
  g_free (msg);
  msg = task_error (COPY_HEAD "300, \"bos\": 300, \"eos\": -2, \"offset\": "
      "50}, \"input\": {\"width\": 32, \"height\": 32}, \"defaults\": "
      "{\"top_k\": -1}}", "copywrite", copy_methods, 2);
  assert_says (msg, "`tokenizer.offset` (50) + 256 byte tokens do not fit "
      "`tokenizer.vocab` (300)");
  assert_says (msg, "`tokenizer.bos` is 300; it must be 0 to 299");
  assert_says (msg, "`tokenizer.eos` is -2; it must be 0 to 299");
  assert_says (msg, "`defaults.top_k` is -1; it must be 0 to 1024");
  g_free (msg);
  /* the input image: 16384 x 16384 each in range, 3 x 2^28 values not */
  msg = task_error (COPY_HEAD "258}, \"input\": {\"width\": 16384, "
      "\"height\": 16384}}", "copywrite", copy_methods, 2);
  assert_says (msg, "the model input (`input.width` x `input.height`: 1 x 3 "
      "x 16384 x 16384) would hold 805306368 values");
  g_free (msg);
  msg = task_error ("{\"format\": 1, \"task\": \"detect\", \"methods\": "
      "[\"forward\"], \"input\": {\"width\": 16384, \"height\": 16384}, "
      "\"output\": {\"format\": \"yolov8\", \"label_offset\": 1e9}}",
      "detect", detect_methods, 1);
  assert_says (msg, "would hold 805306368 values");
  assert_says (msg, "`output.label_offset` is 1000000000; it must be "
      "-1048576 to 1048576");
  g_free (msg);
  /* as GRAY it fits */
  m = parse_ok (COPY_HEAD "258}, \"input\": {\"width\": 16384, \"height\": "
      "16384, \"channels\": \"GRAY\"}}");
  fail_unless (kling_manifest_check_task (m, "copywrite", copy_methods, 2,
          TRUE, &err), "%s", err ? err->message : "");
  kling_manifest_free (m);

  /* a width of 2^32 + 8 is not 8 */
  msg = parse_error ("{\"format\": 1, \"task\": \"detect\", \"methods\": "
      "[\"forward\"], \"input\": {\"width\": 4294967304, \"height\": 8}, "
      "\"tokenizer\": {\"offset\": -3}}");
  assert_says (msg, "input size 4294967304x8 is out of range");
  assert_says (msg, "`tokenizer.offset` is -3; it must be 0 to 1048576");
  g_free (msg);
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
  tcase_add_test (tc, test_deep_nesting_refused);
  tcase_add_test (tc, test_size_refused);
  tcase_add_test (tc, test_absurd_products_refused);
  tcase_add_test (tc, test_copywriter_limits);
  return s;
}

GST_CHECK_MAIN (manifest);
