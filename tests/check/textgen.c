/* gst-kling: the decoding loop and its UTF-8 guard
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-textgen.h"

#define VOCAB 258
#define BOS 256
#define EOS 257

/* Scripted model: prefers the bytes of @want in order, then EOS. */
typedef struct
{
  const gchar *want;
  gint calls;
  gint fail_at;
} Script;

static gboolean
scripted (const gint64 * tokens, guint n, gfloat * logits, gpointer data,
    GError ** error)
{
  Script *s = data;
  gsize pos = n - 1, len = strlen (s->want);
  guint i;

  if (++s->calls == s->fail_at) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "model failed");
    return FALSE;
  }
  fail_unless (tokens[0] == BOS);
  for (i = 0; i < VOCAB; i++)
    logits[i] = -(gfloat) (i % 7);
  logits[pos < len ? (guint8) s->want[pos] : EOS] = 10.0f;
  return TRUE;
}

static KlingTextGenParams
params (guint max, guint top_k, guint32 seed)
{
  KlingTextGenParams p = { VOCAB, 0, BOS, EOS, max, top_k, 1.0f, seed };
  return p;
}

GST_START_TEST (test_greedy)
{
  Script s = { "紅色的罐子 red can", 0, -1 };
  KlingTextGenParams p = params (96, 1, 0);
  gchar *text = kling_textgen_run (&p, scripted, &s, NULL, NULL);

  fail_unless_equals_string (text, "紅色的罐子 red can");
  fail_unless_equals_int (s.calls, strlen (s.want) + 1);
  g_free (text);
}

GST_END_TEST;

GST_START_TEST (test_max_length_cuts_whole_characters)
{
  /* 3-byte characters; 7 tokens leave one character half done */
  Script s = { "紅色的罐", 0, -1 };
  KlingTextGenParams p = params (7, 1, 0);
  gchar *text = kling_textgen_run (&p, scripted, &s, NULL, NULL);

  fail_unless_equals_string (text, "紅色");
  g_free (text);
}

GST_END_TEST;

/* A model that wants to emit broken UTF-8 (lone continuation bytes, a lead
 * byte followed by ASCII, overlong and surrogate forms) never gets to. */
static gboolean
hostile (const gint64 * tokens, guint n, gfloat * logits, gpointer data,
    GError ** error)
{
  static const guint8 bad[] = { 0x80, 0xc0, 0xe0, 0x41, 0xed, 0xa0, 0xff,
    0xf5, 0x0a, 0x00
  };
  guint i;

  for (i = 0; i < VOCAB; i++)
    logits[i] = -100;
  logits[EOS] = -50;
  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    logits[bad[(n + i) % G_N_ELEMENTS (bad)]] = 10.0f - i;
  return TRUE;
}

/* NaN logits (a broken copywriter): an error saying so, never an empty
 * line; NaN after a few good steps keeps the text written so far. */
static gboolean
nan_after (const gint64 * tokens, guint n, gfloat * logits, gpointer data,
    GError ** error)
{
  guint good = GPOINTER_TO_UINT (data), i;

  for (i = 0; i < VOCAB; i++)
    logits[i] = n > good ? NAN : (i == 'a' ? 1.0f : 0.0f);
  return TRUE;
}

GST_START_TEST (test_nan_logits)
{
  KlingTextGenParams p = params (20, 1, 0);
  GError *err = NULL;
  gchar *text;

  text = kling_textgen_run (&p, nan_after, GUINT_TO_POINTER (0), NULL, &err);
  fail_unless (text == NULL);
  fail_unless (g_error_matches (err, KLING_TEXTGEN_ERROR,
          KLING_TEXTGEN_ERROR_NO_TOKEN));
  fail_unless (strstr (err->message, "no usable token") != NULL);
  g_clear_error (&err);

  p.top_k = 5;
  text = kling_textgen_run (&p, nan_after, GUINT_TO_POINTER (0), NULL, &err);
  fail_unless (text == NULL && err != NULL);
  g_clear_error (&err);

  p.top_k = 1;
  text = kling_textgen_run (&p, nan_after, GUINT_TO_POINTER (3), NULL, &err);
  fail_unless_equals_string (text, "aaa");
  g_free (text);
}

GST_END_TEST;

GST_START_TEST (test_never_broken_utf8)
{
  guint32 seed;

  for (seed = 0; seed < 20; seed++) {
    KlingTextGenParams p = params (40, seed % 2 ? 5 : 1, seed);
    gchar *text = kling_textgen_run (&p, hostile, NULL, NULL, NULL);
    const gchar *c;

    fail_unless (text != NULL);
    fail_unless (g_utf8_validate (text, -1, NULL), "invalid: %s", text);
    for (c = text; *c; c++)
      fail_if ((guint8) * c < 0x20, "control character in output");
    g_free (text);
  }
}

GST_END_TEST;

GST_START_TEST (test_utf8_state_machine)
{
  KlingUtf8State s = { 0, 0x80, 0xbf };

  fail_unless (kling_utf8_accepts (&s, 'a'));
  fail_if (kling_utf8_accepts (&s, 0x80));
  fail_if (kling_utf8_accepts (&s, 0xc1));      /* overlong lead */
  fail_if (kling_utf8_accepts (&s, 0xf5));
  kling_utf8_push (&s, 0xe0);
  fail_if (kling_utf8_accepts (&s, 0x9f));      /* overlong 3-byte */
  fail_unless (kling_utf8_accepts (&s, 0xa0));
  kling_utf8_push (&s, 0xa0);
  fail_unless (kling_utf8_accepts (&s, 0x80));
  fail_if (kling_utf8_accepts (&s, 'a'));
  kling_utf8_push (&s, 0x80);
  fail_unless (s.need == 0);
  kling_utf8_push (&s, 0xed);
  fail_if (kling_utf8_accepts (&s, 0xa0));      /* surrogate */
  fail_unless (kling_utf8_accepts (&s, 0x9f));
}

GST_END_TEST;

static gboolean
uniform (const gint64 * tokens, guint n, gfloat * logits, gpointer data,
    GError ** error)
{
  guint i;

  for (i = 0; i < VOCAB; i++)
    logits[i] = (i >= 'a' && i <= 'z') ? 1.0f : -100.0f;
  logits[EOS] = n > 12 ? 50.0f : -100.0f;
  return TRUE;
}

GST_START_TEST (test_top_k_seeded)
{
  KlingTextGenParams p = params (30, 8, 1234);
  gchar *a = kling_textgen_run (&p, uniform, NULL, NULL, NULL);
  gchar *b = kling_textgen_run (&p, uniform, NULL, NULL, NULL);
  gchar *c;

  fail_unless_equals_string (a, b);
  fail_unless_equals_int (strlen (a), 12);
  p.seed = 99;
  c = kling_textgen_run (&p, uniform, NULL, NULL, NULL);
  fail_if (strcmp (a, c) == 0, "another seed gave the same text");
  /* top-k 8 over 26 equal letters: only the first 8 ('a'..'h') appear */
  for (guint i = 0; a[i]; i++)
    fail_unless (a[i] >= 'a' && a[i] <= 'h', "%s", a);
  g_free (a);
  g_free (b);
  g_free (c);
}

GST_END_TEST;

GST_START_TEST (test_errors_and_cancel)
{
  Script s = { "hello", 0, 3 };
  KlingTextGenParams p = params (96, 1, 0);
  GCancellable *cancel = g_cancellable_new ();
  GError *err = NULL;

  fail_unless (kling_textgen_run (&p, scripted, &s, NULL, &err) == NULL);
  fail_unless_equals_string (err->message, "model failed");
  g_clear_error (&err);
  g_cancellable_cancel (cancel);
  s.calls = 0;
  s.fail_at = -1;
  fail_unless (kling_textgen_run (&p, scripted, &s, cancel, &err) == NULL);
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  fail_unless_equals_int (s.calls, 0);
  g_clear_error (&err);
  g_object_unref (cancel);
}

GST_END_TEST;

/* Wide vocabulary: every byte token equal, so top-k keeps k of them. */
static gboolean
wide (const gint64 * tokens, guint n, gfloat * logits, gpointer data,
    GError ** error)
{
  guint vocab = GPOINTER_TO_UINT (data), i;

  for (i = 0; i < vocab; i++)
    logits[i] = -1000.0f;
  for (i = 'a'; i <= 'z'; i++)
    logits[i] = 1.0f;
  logits[EOS] = n > 4 ? 50.0f : -1000.0f;
  return TRUE;
}

GST_START_TEST (test_top_k_bounded)
{
  /* a vocabulary of a million tokens with the largest top-k works: the
   * weights are on the heap and bounded by KLING_TEXTGEN_MAX_TOP_K */
  guint vocab = 1u << 20;
  KlingTextGenParams p = { vocab, 0, BOS, EOS, 8, KLING_TEXTGEN_MAX_TOP_K,
    1.0f, 7
  };
  GError *err = NULL;
  gchar *text = kling_textgen_run (&p, wide, GUINT_TO_POINTER (vocab), NULL,
      &err);

  fail_unless (text != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (strlen (text), 4);
  g_free (text);

  /* one above the bound is a clear error, before any call */
  p.top_k = KLING_TEXTGEN_MAX_TOP_K + 1;
  fail_unless (kling_textgen_run (&p, wide, GUINT_TO_POINTER (vocab), NULL,
          &err) == NULL);
  fail_unless (g_error_matches (err, KLING_TEXTGEN_ERROR,
          KLING_TEXTGEN_ERROR_INVALID));
  fail_unless (strstr (err->message, "top_k is above the limit") != NULL,
      "%s", err->message);
  g_clear_error (&err);
  p.top_k = G_MAXUINT;
  fail_unless (kling_textgen_run (&p, wide, GUINT_TO_POINTER (vocab), NULL,
          &err) == NULL);
  fail_unless (g_error_matches (err, KLING_TEXTGEN_ERROR,
          KLING_TEXTGEN_ERROR_INVALID));
  g_clear_error (&err);
  p.top_k = 1;
  p.vocab = 0;
  fail_unless (kling_textgen_run (&p, wide, NULL, NULL, &err) == NULL);
  fail_unless (g_error_matches (err, KLING_TEXTGEN_ERROR,
          KLING_TEXTGEN_ERROR_INVALID));
  g_clear_error (&err);
}

GST_END_TEST;

static Suite *
textgen_suite (void)
{
  Suite *s = suite_create ("textgen");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_greedy);
  tcase_add_test (tc, test_max_length_cuts_whole_characters);
  tcase_add_test (tc, test_never_broken_utf8);
  tcase_add_test (tc, test_utf8_state_machine);
  tcase_add_test (tc, test_top_k_seeded);
  tcase_add_test (tc, test_errors_and_cancel);
  tcase_add_test (tc, test_nan_logits);
  tcase_add_test (tc, test_top_k_bounded);
  return s;
}

GST_CHECK_MAIN (textgen);
