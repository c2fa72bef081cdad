/* gst-kling: gst-kling-serve's pure parts: query parsing, the job table,
 * the clip cache, and the process-wide model cache of gst/core
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>

#include "kling-serve-query.h"
#include "kling-serve-jobs.h"
#include "kling-serve-cache.h"
#include "kling-model-cache.h"

static const KlingServeLimits limits = { 30.0 };

static KlingServeRequest *
parse_ok (const gchar * query)
{
  gchar *reason = NULL;
  KlingServeRequest *req = kling_serve_request_parse (query, &limits,
      &reason);

  fail_unless (req != NULL, "%s refused: %s", query, reason);
  return req;
}

/* the reason, which must contain @part */
static void
parse_bad (const gchar * query, const gchar * part)
{
  gchar *reason = NULL;
  KlingServeRequest *req = kling_serve_request_parse (query, &limits,
      &reason);
  const gchar *c;

  fail_unless (req == NULL, "%s accepted", query);
  fail_unless (reason != NULL);
  fail_unless (strstr (reason, part) != NULL, "%s: reason '%s' lacks '%s'",
      query, reason, part);
  /* fit for an RTSP status line */
  for (c = reason; *c; c++)
    fail_unless (*c >= 0x20 && *c < 0x7f, "%s: reason not plain ASCII: %s",
        query, reason);
  g_free (reason);
}

GST_START_TEST (test_query_good)
{
  KlingServeRequest *req;
  gchar *k1, *k2;

  /* 夏日海邊視頻, percent-encoded UTF-8 */
  req = parse_ok ("prompt=%E5%A4%8F%E6%97%A5%E6%B5%B7%E9%82%8A%E8%A6%96"
      "%E9%A0%BB&duration=2.5&seed=42&size=320x240");
  fail_unless_equals_string (req->prompt, "夏日海邊視頻");
  fail_unless_equals_float (req->duration, 2.5);
  fail_unless_equals_uint64 (req->seed, 42);
  fail_unless_equals_int (req->width, 320);
  fail_unless_equals_int (req->height, 240);
  k1 = kling_serve_request_key (req);
  kling_serve_request_free (req);

  /* another order, another encoding, '+' for spaces: the same clip */
  req = parse_ok ("size=320x240&seed=42&duration=2.50&prompt=%e5%a4%8f%e6%97"
      "%a5%e6%b5%b7%e9%82%8a%e8%a6%96%e9%a0%bb");
  k2 = kling_serve_request_key (req);
  fail_unless_equals_string (k1, k2);
  kling_serve_request_free (req);
  g_free (k2);

  req = parse_ok ("prompt=a+red+ball&&");
  fail_unless_equals_string (req->prompt, "a red ball");
  fail_unless_equals_float (req->duration, KLING_SERVE_DEFAULT_DURATION);
  fail_unless_equals_uint64 (req->seed, KLING_SERVE_DEFAULT_SEED);
  fail_unless_equals_int (req->width, 0);
  k2 = kling_serve_request_key (req);
  fail_if (g_strcmp0 (k1, k2) == 0);
  kling_serve_request_free (req);
  g_free (k1);
  g_free (k2);

  /* raw UTF-8 in the query is fine too; the boundaries are allowed */
  req = parse_ok ("prompt=夏日&duration=30&seed=18446744073709551615"
      "&size=16x1920");
  fail_unless_equals_uint64 (req->seed, G_MAXUINT64);
  kling_serve_request_free (req);
}

GST_END_TEST;

GST_START_TEST (test_query_bad)
{
  parse_bad (NULL, "no prompt");
  parse_bad ("", "no prompt");
  parse_bad ("duration=2", "no prompt");
  parse_bad ("prompt=", "no prompt");
  parse_bad ("prompt=+++", "no prompt");
  parse_bad ("prompt=%zz", "broken percent-encoding in the prompt");
  parse_bad ("prompt=ab%4", "broken percent-encoding");
  parse_bad ("prompt=ab%", "broken percent-encoding");
  parse_bad ("prompt=a%00b", "%00");
  parse_bad ("prompt=%E5%A4", "not valid UTF-8");
  parse_bad ("prompt=%FF%FE", "not valid UTF-8");
  parse_bad ("prompt=a%0Ab", "control characters");
  parse_bad ("prompt=a&duration=0", "\"duration\" is out of range");
  parse_bad ("prompt=a&duration=-1", "\"duration\" is out of range");
  parse_bad ("prompt=a&duration=30.5", "at most 30 seconds");
  parse_bad ("prompt=a&duration=nan", "number of seconds");
  parse_bad ("prompt=a&duration=inf", "number of seconds");
  parse_bad ("prompt=a&duration=2s", "number of seconds");
  parse_bad ("prompt=a&seed=-1", "whole number");
  parse_bad ("prompt=a&seed=18446744073709551616", "whole number");
  parse_bad ("prompt=a&size=15x16", "\"size\" is out of range");
  parse_bad ("prompt=a&size=1922x16", "\"size\" is out of range");
  parse_bad ("prompt=a&size=33x16", "even");
  parse_bad ("prompt=a&size=320", "WIDTHxHEIGHT");
  parse_bad ("prompt=a&size=320x240x2", "WIDTHxHEIGHT");
  parse_bad ("prompt=a&steps=4", "unknown parameter \"steps\"");
  parse_bad ("prompt=a&%E5%A4%8F=1", "unknown parameter: the parameters");
  parse_bad ("prompt=a&bad\r\nname=1", "unknown parameter: the");
  parse_bad ("prompt=a&x%zz=1", "broken percent-encoding in a parameter name");
  parse_bad ("prompt=a&prompt=b", "given twice");
  parse_bad ("prompt=a&seed=1&seed=2", "given twice");
  parse_bad ("prompt", "has no value");
}

GST_END_TEST;

GST_START_TEST (test_query_long)
{
  GString *q = g_string_new ("prompt=");
  guint i;

  for (i = 0; i < KLING_SERVE_PROMPT_MAX_BYTES + 1; i++)
    g_string_append_c (q, 'a');
  parse_bad (q->str, "longer than");
  for (i = 0; i < KLING_SERVE_QUERY_MAX_BYTES; i++)
    g_string_append_c (q, 'a');
  parse_bad (q->str, "the query is longer");
  g_string_free (q, TRUE);
}

GST_END_TEST;

static gboolean
json_has (const gchar * json, const gchar * text)
{
  return strstr (json, text) != NULL;
}

GST_START_TEST (test_jobs_admission)
{
  KlingJobTable *t = kling_job_table_new (2, 8);
  KlingServeRequest *a = parse_ok ("prompt=a"), *b = parse_ok ("prompt=b");
  KlingServeRequest *c = parse_ok ("prompt=c");
  guint64 ia, ib, ic, id2;
  gchar *mk, *mk2, *json;

  fail_unless_equals_int (kling_job_table_admit (t, "a", a, FALSE, 10, &ia),
      KLING_ADMIT_NEW);
  fail_unless_equals_int (kling_job_table_admit (t, "a", a, FALSE, 11, &id2),
      KLING_ADMIT_SHARED);
  fail_unless_equals_uint64 (ia, id2);
  mk = kling_job_table_media_key (t, "a");
  fail_unless_equals_string (mk, "job-1");
  g_free (mk);
  fail_unless_equals_int (kling_job_table_admit (t, "b", b, FALSE, 12, &ib),
      KLING_ADMIT_NEW);
  /* full: a third generation is refused, a share or a replay is not */
  fail_unless_equals_int (kling_job_table_admit (t, "c", c, FALSE, 13, &ic),
      KLING_ADMIT_FULL);
  fail_unless_equals_int (kling_job_table_admit (t, "b", b, FALSE, 13, &ic),
      KLING_ADMIT_SHARED);
  fail_unless_equals_int (kling_job_table_admit (t, "c", c, TRUE, 13, &ic),
      KLING_ADMIT_REPLAY);
  fail_unless_equals_uint64 (ic, 0);
  mk = kling_job_table_media_key (t, "c");
  mk2 = kling_job_table_media_key (t, "c");
  fail_unless (g_str_has_prefix (mk, "replay-"));
  fail_if (g_strcmp0 (mk, mk2) == 0);
  g_free (mk);
  g_free (mk2);
  fail_unless_equals_int (kling_job_table_active (t), 2);

  fail_unless_equals_uint64 (kling_job_table_start (t, "a", a, 20), ia);
  fail_unless_equals_int (kling_job_table_get_state (t, ia), KLING_JOB_RUNNING);
  kling_job_table_add_frames (t, ia, 1, 25);
  kling_job_table_progress (t, ia, 1, 3, 33.3, 30);
  kling_job_table_progress (t, ia, 3, 3, 100.0, 40);
  json = kling_job_table_to_json (t, NULL, 50);
  fail_unless (json_has (json, "\"first_frame_us\" : 25"), "%s", json);
  fail_unless (json_has (json, "\"generated_us\" : 40"), "%s", json);
  fail_unless (json_has (json, "\"clients\" : 2"), "%s", json);
  fail_unless (json_has (json, "\"running\" : 1"), "%s", json);
  fail_unless (json_has (json, "\"queue\" : 1"), "%s", json);
  fail_unless (json_has (json, "\"rejected_busy\" : 1"), "%s", json);
  fail_unless (json_has (json, "\"hits\" : 1"), "%s", json);
  g_free (json);

  /* a finished job frees its slot, once */
  fail_unless (kling_job_table_finish (t, ia, KLING_JOB_DONE, NULL, 60));
  fail_if (kling_job_table_finish (t, ia, KLING_JOB_CANCELLED, NULL, 61));
  fail_unless_equals_int (kling_job_table_get_state (t, ia), KLING_JOB_DONE);
  fail_unless_equals_int (kling_job_table_admit (t, "c", c, FALSE, 70, &ic),
      KLING_ADMIT_NEW);
  /* a new generation of "a" is a new media, not the finished one */
  fail_unless_equals_int (kling_job_table_admit (t, "a", a, FALSE, 71, &id2),
      KLING_ADMIT_FULL);

  /* a pending job whose media never came is reaped */
  fail_unless_equals_int (kling_job_table_reap (t, 75, 100), 0);
  fail_unless_equals_int (kling_job_table_reap (t, 1000, 100), 2);
  fail_unless_equals_int (kling_job_table_active (t), 0);

  /* a SETUP without DESCRIBE still gets a job */
  id2 = kling_job_table_start (t, "a", a, 2000);
  fail_unless_equals_int (kling_job_table_get_state (t, id2),
      KLING_JOB_RUNNING);
  fail_unless (kling_job_table_finish (t, id2, KLING_JOB_CANCELLED, NULL,
          2001));
  json = kling_job_table_to_json (t, NULL, 2002);
  fail_unless (json_has (json, "\"state\" : \"cancelled\""), "%s", json);
  fail_unless (json_has (json, "\"generations\" : 4"), "%s", json);
  g_free (json);

  kling_serve_request_free (a);
  kling_serve_request_free (b);
  kling_serve_request_free (c);
  kling_job_table_free (t);
}

GST_END_TEST;

GST_START_TEST (test_jobs_history_bounded)
{
  KlingJobTable *t = kling_job_table_new (1, 3);
  KlingServeRequest *a = parse_ok ("prompt=%22quoted%22+%E5%A4%8F");
  gchar *json;
  guint i, n = 0;
  guint64 id;
  const gchar *p;

  for (i = 0; i < 10; i++) {
    fail_unless_equals_int (kling_job_table_admit (t, "a", a, FALSE, i, &id),
        KLING_ADMIT_NEW);
    fail_unless (kling_job_table_finish (t, id, KLING_JOB_DONE, NULL, i));
  }
  json = kling_job_table_to_json (t, NULL, 100);
  for (p = json; (p = strstr (p, "\"state\"")); p++)
    n++;
  fail_unless_equals_int (n, 3);
  /* the prompt is escaped JSON */
  fail_unless (json_has (json, "\\\"quoted\\\" 夏"), "%s", json);
  g_free (json);
  kling_serve_request_free (a);
  kling_job_table_free (t);
}

GST_END_TEST;

static gchar *
write_file (const gchar * path, gsize size)
{
  gchar *data = g_malloc0 (size);

  fail_unless (g_file_set_contents (path, data, size, NULL));
  g_free (data);
  return g_strdup (path);
}

GST_START_TEST (test_clip_cache)
{
  gchar *dir = g_dir_make_tmp ("kling-cache-XXXXXX", NULL);
  KlingClipCache *c;
  KlingCacheStats s;
  gchar *part, *path, *leftover;
  GError *error = NULL;

  /* a leftover part from a crash is deleted at start */
  leftover = g_build_filename (dir, "x.7.part", NULL);
  g_free (write_file (leftover, 10));
  c = kling_clip_cache_new (dir, 1000, &error);
  fail_unless (c != NULL);
  fail_if (g_file_test (leftover, G_FILE_TEST_EXISTS));

  fail_if (kling_clip_cache_contains (c, "a"));
  part = kling_clip_cache_part_path (c, "a", 1);
  fail_unless (g_str_has_suffix (part, ".1.part"));
  g_free (write_file (part, 400));
  fail_unless (kling_clip_cache_commit (c, "a", part, NULL));
  g_free (part);
  fail_unless (kling_clip_cache_contains (c, "a"));

  part = kling_clip_cache_part_path (c, "b", 2);
  g_free (write_file (part, 400));
  fail_unless (kling_clip_cache_commit (c, "b", part, NULL));
  g_free (part);
  /* "a" used last: "b" goes when "c" needs room */
  path = kling_clip_cache_lookup (c, "a");
  fail_unless (path != NULL && g_file_test (path, G_FILE_TEST_EXISTS));
  g_free (path);
  part = kling_clip_cache_part_path (c, "c", 3);
  g_free (write_file (part, 400));
  fail_unless (kling_clip_cache_commit (c, "c", part, NULL));
  g_free (part);
  fail_unless (kling_clip_cache_contains (c, "a"));
  fail_if (kling_clip_cache_contains (c, "b"));
  fail_unless (kling_clip_cache_contains (c, "c"));
  kling_clip_cache_get_stats (c, &s);
  fail_unless_equals_uint64 (s.entries, 2);
  fail_unless_equals_uint64 (s.bytes, 800);

  /* larger than the whole cache: refused, part deleted */
  part = kling_clip_cache_part_path (c, "d", 4);
  g_free (write_file (part, 1001));
  fail_if (kling_clip_cache_commit (c, "d", part, &error));
  fail_unless (error != NULL);
  g_clear_error (&error);
  fail_if (g_file_test (part, G_FILE_TEST_EXISTS));
  g_free (part);

  /* a discarded part (cancelled job) */
  part = kling_clip_cache_part_path (c, "e", 5);
  g_free (write_file (part, 10));
  kling_clip_cache_discard (c, part);
  fail_if (g_file_test (part, G_FILE_TEST_EXISTS));
  g_free (part);
  kling_clip_cache_free (c);

  /* indexed again at start, bounded again */
  c = kling_clip_cache_new (dir, 500, NULL);
  kling_clip_cache_get_stats (c, &s);
  fail_unless_equals_uint64 (s.entries, 1);
  fail_unless_equals_uint64 (s.bytes, 400);
  kling_clip_cache_free (c);
  c = kling_clip_cache_new (dir, 0, NULL);
  kling_clip_cache_get_stats (c, &s);
  fail_unless_equals_uint64 (s.entries, 0);
  kling_clip_cache_free (c);

  fail_unless (g_rmdir (dir) == 0, "cache directory not empty");
  g_free (leftover);
  g_free (dir);
}

GST_END_TEST;

/* the model cache over a fake loader */
static gint loads;
static gchar fake_models[4];

static KlingModel *
fake_load (const gchar * path, const KlingLoadOptions * options,
    const gchar * const *extra_files, GError ** error)
{
  gint n = g_atomic_int_add (&loads, 1);

  if (n >= (gint) sizeof fake_models) {
    g_set_error_literal (error, KLING_BACKEND_ERROR,
        KLING_BACKEND_ERROR_INVALID_MODEL, "too many loads");
    return NULL;
  }
  return (KlingModel *) & fake_models[n];
}

GST_START_TEST (test_model_cache)
{
  gchar *dir = g_dir_make_tmp ("kling-models-XXXXXX", NULL);
  gchar *m1 = g_build_filename (dir, "m1.pt", NULL);
  gchar *m1b = g_build_filename (dir, ".", "m1.pt", NULL);
  gchar *m2 = g_build_filename (dir, "m2.pt", NULL);
  const gchar *extra[] = { "kling.json", NULL };
  KlingLoadOptions o1 = { NULL, KLING_PRECISION_FLOAT32, 1 };
  KlingLoadOptions o2 = { NULL, KLING_PRECISION_FLOAT32, 2 };
  KlingModel *a, *b;
  guint models, users;

  g_unsetenv (KLING_SHARE_MODELS_ENV);
  fail_if (kling_model_cache_enabled ());
  g_setenv (KLING_SHARE_MODELS_ENV, "0", TRUE);
  fail_if (kling_model_cache_enabled ());
  g_setenv (KLING_SHARE_MODELS_ENV, "1", TRUE);
  fail_unless (kling_model_cache_enabled ());

  g_free (write_file (m1, 10));
  g_free (write_file (m2, 10));
  a = kling_model_cache_load (m1, &o1, extra, fake_load, NULL);
  b = kling_model_cache_load (m1b, &o1, extra, fake_load, NULL);
  fail_unless (a != NULL && a == b);
  fail_unless_equals_int (loads, 1);
  kling_model_cache_stats (&models, &users);
  fail_unless_equals_int (models, 1);
  fail_unless_equals_int (users, 2);
  /* other threads, another file: other models */
  b = kling_model_cache_load (m1, &o2, extra, fake_load, NULL);
  fail_unless (b != a);
  b = kling_model_cache_load (m2, &o1, extra, fake_load, NULL);
  fail_unless (b != a);
  fail_unless_equals_int (loads, 3);

  /* released models stay loaded for the next user */
  fail_unless (kling_model_cache_release (a));
  fail_unless (kling_model_cache_release (a));
  fail_unless (kling_model_cache_load (m1, &o1, extra, fake_load, NULL) == a);
  fail_unless_equals_int (loads, 3);
  /* a model the cache does not know is the caller's to free */
  fail_if (kling_model_cache_release ((KlingModel *) & loads));
  /* a missing file goes to the loader, which reports it */
  fail_unless (kling_model_cache_load ("/nonexistent/m.pt", &o1, extra,
          fake_load, NULL) != NULL);
  fail_unless_equals_int (loads, 4);
  fail_unless (kling_model_cache_load ("/nonexistent/m.pt", &o1, extra,
          fake_load, NULL) == NULL);

  g_unlink (m1);
  g_unlink (m2);
  g_rmdir (dir);
  g_free (m1);
  g_free (m1b);
  g_free (m2);
  g_free (dir);
  g_unsetenv (KLING_SHARE_MODELS_ENV);
}

GST_END_TEST;

static Suite *
servecore_suite (void)
{
  Suite *s = suite_create ("servecore");
  TCase *tc = tcase_create ("general");

  tcase_add_test (tc, test_query_good);
  tcase_add_test (tc, test_query_bad);
  tcase_add_test (tc, test_query_long);
  tcase_add_test (tc, test_jobs_admission);
  tcase_add_test (tc, test_jobs_history_bounded);
  tcase_add_test (tc, test_clip_cache);
  tcase_add_test (tc, test_model_cache);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (servecore);
