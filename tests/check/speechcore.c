/* gst-kling: text preparation and the sample clock of klingspeak
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-speech-text.h"
#include "kling-speech-timeline.h"

GST_START_TEST (test_validate_offset)
{
  const gchar ok[] = "Hello 你好";
  const gchar bad[] = "abc\xe4\xbd" "d";        /* truncated 3-byte sequence */
  const gchar nul[] = "ab\0cd";
  const gchar overlong[] = "\xc0\xaf";
  gsize off = 99;

  fail_unless (kling_speech_text_validate (ok, strlen (ok), &off));
  fail_unless_equals_int (off, 99);
  fail_if (kling_speech_text_validate (bad, strlen (bad), &off));
  fail_unless_equals_int (off, 3);
  fail_if (kling_speech_text_validate (nul, 5, &off));
  fail_unless_equals_int (off, 2);
  fail_if (kling_speech_text_validate (overlong, 2, &off));
  fail_unless_equals_int (off, 0);
  fail_unless (kling_speech_text_validate ("", 0, &off));
}

GST_END_TEST;

GST_START_TEST (test_clean)
{
  struct
  {
    const gchar *in, *out;
  } cases[] = {
    {"Hello\x01 world\x7f", "Hello world"},
    {"  \t\n  ", ""},
    {"", ""},
    {"Buy now \xf0\x9f\x98\x80\xf0\x9f\x91\x8d!", "Buy now !"},
    /* family emoji: ZWJ sequence, and a heart with variation selector */
    {"a\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9 b \xe2\x9d\xa4\xef\xb8\x8f c",
        "a b c"},
    {"新款\r\n手机", "新款 手机"},
    {"\xe2\x80\x8bzero\xc2\xadwidth", "zerowidth"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *c = kling_speech_text_clean (cases[i].in, strlen (cases[i].in));

    fail_unless_equals_string (c, cases[i].out);
    g_free (c);
  }
  fail_unless (kling_speech_text_is_skipped (0x1F600));
  fail_if (kling_speech_text_is_skipped ('a'));
  fail_if (kling_speech_text_is_skipped (0x4F60));
}

GST_END_TEST;

GST_START_TEST (test_pieces)
{
  const gchar *t = "One two. Three four five! Six";
  gsize n;
  GString *big;
  const gchar *p;
  guint pieces = 0;
  gsize total = 0;

  fail_unless_equals_int (kling_speech_text_piece_length ("", 64), 0);
  fail_unless_equals_int (kling_speech_text_piece_length (t, 64), strlen (t));
  /* sentence end preferred */
  n = kling_speech_text_piece_length (t, 20);
  fail_unless_equals_int (n, strlen ("One two."));
  n = kling_speech_text_piece_length (t, 27);
  fail_unless_equals_int (n, strlen ("One two. Three four five!"));
  /* no sentence end in range: after a space */
  n = kling_speech_text_piece_length ("aaaa bbbb cccc dddd", 12);
  fail_unless_equals_int (n, 10);
  /* no boundary at all: at a character boundary, never inside one */
  n = kling_speech_text_piece_length ("xxxxxxx\xe4\xbd\xa0", 9);
  fail_unless_equals_int (n, 7);
  n = kling_speech_text_piece_length ("\xe4\xbd\xa0\xe5\xa5\xbd\xe5\x90\x97",
      8);
  fail_unless_equals_int (n, 6);        /* after a Han character */
  n = kling_speech_text_piece_length ("中文句子。第二句", 20);
  fail_unless_equals_int (n, strlen ("中文句子。"));

  /* a big text in pieces: bounded, covering it all, each valid UTF-8 */
  big = g_string_new (NULL);
  while (big->len < 100000)
    g_string_append (big, "The quick brown fox 跳过了 the lazy dog. ");
  for (p = big->str; *p; p += n) {
    n = kling_speech_text_piece_length (p, 500);
    fail_unless (n > 0 && n <= 500);
    fail_unless (g_utf8_validate_len (p, n, NULL));
    total += n;
    pieces++;
  }
  fail_unless_equals_int (total, big->len);
  fail_unless (pieces >= 200);
  g_string_free (big, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_script)
{
  fail_unless_equals_int (kling_speech_text_script ("Hello world"),
      KLING_SPEECH_SCRIPT_LATIN);
  fail_unless_equals_int (kling_speech_text_script ("你好世界"),
      KLING_SPEECH_SCRIPT_HAN);
  fail_unless_equals_int (kling_speech_text_script ("新款 iPhone 手机"),
      KLING_SPEECH_SCRIPT_HAN);
  fail_unless_equals_int (kling_speech_text_script
      ("The new phone 手 is great value"), KLING_SPEECH_SCRIPT_LATIN);
  fail_unless_equals_int (kling_speech_text_script ("123 !?"),
      KLING_SPEECH_SCRIPT_NONE);
  fail_unless_equals_int (kling_speech_text_script (""),
      KLING_SPEECH_SCRIPT_NONE);
}

GST_END_TEST;

GST_START_TEST (test_timeline_queue_and_interrupt)
{
  KlingSpeechTimeline tl;
  guint64 s;

  kling_speech_timeline_init (&tl, 22050);
  /* first utterance at 1 s: one second of silence before it */
  s = kling_speech_timeline_start (&tl, GST_SECOND);
  fail_unless_equals_uint64 (s, 22050);
  fail_unless_equals_uint64 (kling_speech_timeline_gap (&tl, s), 22050);
  kling_speech_timeline_advance (&tl, 22050 + 44100);   /* 2 s spoken */
  /* the next one asked for 2 s but 3 s is when the first ends: queued */
  s = kling_speech_timeline_start (&tl, 2 * GST_SECOND);
  fail_unless_equals_uint64 (s, 3 * 22050);
  fail_unless_equals_uint64 (kling_speech_timeline_gap (&tl, s), 0);
  /* no PTS: right after */
  fail_unless_equals_uint64 (kling_speech_timeline_start (&tl,
          GST_CLOCK_TIME_NONE), 3 * 22050);
  /* queue policy never cuts */
  fail_unless_equals_uint64 (kling_speech_timeline_cut (&tl,
          KLING_SPEECH_POLICY_QUEUE, 0), G_MAXUINT64);
  /* interrupt: cut at the next one's time, or now when that is past */
  fail_unless_equals_uint64 (kling_speech_timeline_cut (&tl,
          KLING_SPEECH_POLICY_INTERRUPT, 4 * GST_SECOND), 4 * 22050);
  fail_unless_equals_uint64 (kling_speech_timeline_cut (&tl,
          KLING_SPEECH_POLICY_INTERRUPT, GST_SECOND), 3 * 22050);
}

GST_END_TEST;

GST_START_TEST (test_timeline_no_drift)
{
  KlingSpeechTimeline tl;
  GstClockTime expect = 0;
  guint i;

  /* 10 hours of 1000-sample buffers at 22050 Hz (not a divisor of 1e9):
   * PTS + duration of each meets the next exactly, and the end is exact */
  kling_speech_timeline_init (&tl, 22050);
  for (i = 0; i < 10 * 3600 * 22050 / 1000; i++) {
    GstClockTime pts = kling_speech_timeline_pts (&tl, tl.position);

    fail_unless_equals_uint64 (pts, expect);
    expect = pts + kling_speech_timeline_duration (&tl, tl.position, 1000);
    kling_speech_timeline_advance (&tl, 1000);
  }
  fail_unless_equals_uint64 (expect,
      gst_util_uint64_scale (tl.position, GST_SECOND, 22050));
  fail_unless_equals_uint64 (kling_speech_timeline_samples (&tl,
          GST_SECOND / 2), 11025);
}

GST_END_TEST;

GST_START_TEST (test_words_finish)
{
  KlingSpeechWord w[] = {
    {0, 3, 100, 0},
    {4, 5, 2205, 0},
    {10, 2, 2205, 0},           /* same onset: merged into the previous */
    {13, 4, 2000, 0},           /* goes back: merged too */
    {18, 3, 5000, 0},
    {22, 3, 90000, 0},          /* after the sound: moved to its end */
  };
  guint n = kling_speech_words_finish (w, G_N_ELEMENTS (w), 8000);

  fail_unless_equals_int (n, 4);
  fail_unless_equals_uint64 (w[0].sample, 100);
  fail_unless_equals_uint64 (w[0].n_samples, 2105);
  fail_unless_equals_int (w[1].text_offset, 4);
  fail_unless_equals_int (w[1].text_length, 13);
  fail_unless_equals_uint64 (w[1].n_samples, 5000 - 2205);
  fail_unless_equals_uint64 (w[2].n_samples, 3000);
  fail_unless_equals_uint64 (w[3].sample, 8000);
  fail_unless_equals_uint64 (w[3].n_samples, 0);
  fail_unless_equals_uint64 (kling_speech_ms_to_samples (22050, 1000), 22050);
  fail_unless_equals_uint64 (kling_speech_ms_to_samples (22050, -5), 0);
}

GST_END_TEST;

GST_START_TEST (test_sound_end)
{
  gint16 s[10] = { 0, 500, -900, 3, 0, -40, 10, 0, 0, 0 };

  fail_unless_equals_uint64 (kling_speech_sound_end (s, 10, 50), 3);
  fail_unless_equals_uint64 (kling_speech_sound_end (s, 10, 5), 7);
  fail_unless_equals_uint64 (kling_speech_sound_end (s, 1, 5), 0);
}

GST_END_TEST;

static Suite *
speechcore_suite (void)
{
  Suite *s = suite_create ("speechcore");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_validate_offset);
  tcase_add_test (tc, test_clean);
  tcase_add_test (tc, test_pieces);
  tcase_add_test (tc, test_script);
  tcase_add_test (tc, test_timeline_queue_and_interrupt);
  tcase_add_test (tc, test_timeline_no_drift);
  tcase_add_test (tc, test_words_finish);
  tcase_add_test (tc, test_sound_end);
  return s;
}

GST_CHECK_MAIN (speechcore);
