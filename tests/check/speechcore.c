/* gst-kling: text preparation and the sample clock of klingspeak
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>

#include <gst/check/gstharness.h>

#include "kling-manifest.h"
#include "kling-padqueue.h"
#include "kling-speech-sched.h"
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

/* ---- kling-padqueue: the source pads' queues ---- */

static GstHarness *
new_queue_harness (KlingPadQueue ** q, GstElement ** e)
{
  GstPad *pad = gst_pad_new ("src", GST_PAD_SRC);
  GstHarness *h;

  *e = gst_bin_new ("speaker");
  gst_element_add_pad (*e, pad);
  *q = kling_pad_queue_new (*e, pad, 8, GST_CLOCK_TIME_NONE, 10 * GST_SECOND);
  h = gst_harness_new_with_element (*e, NULL, "src");
  gst_pad_set_active (pad, TRUE);
  return h;
}

static GstBuffer *
timed_buffer (GstClockTime pts, GstClockTime dur)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, 4, NULL);

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = dur;
  return b;
}

static GstEvent *
next_event (GstHarness * h)
{
  GstEvent *ev;

  while ((ev = gst_harness_pull_event (h)) && (GST_EVENT_TYPE (ev) ==
          GST_EVENT_STREAM_START || GST_EVENT_TYPE (ev) == GST_EVENT_CAPS
          || GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT))
    gst_event_unref (ev);
  return ev;
}

/* stream-start with the group id, caps, a TIME segment, then the items in
 * order; after EOS the pad's flow is EOS and later items are dropped */
GST_START_TEST (test_padqueue_order_and_flow)
{
  GstElement *e;
  KlingPadQueue *q;
  GstHarness *h = new_queue_harness (&q, &e);
  GstEvent *ev;
  GstBuffer *b;
  guint group = 0;
  GstClockTime ts, dur;
  const GstSegment *seg;

  fail_unless_equals_int (kling_pad_queue_push_buffer (q, timed_buffer (0, GST_SECOND)), GST_FLOW_FLUSHING);    /* not started */
  kling_pad_queue_set_group_id (q, 77);
  kling_pad_queue_start (q, "audio", gst_caps_new_empty_simple ("audio/x-raw"));
  fail_unless_equals_int (kling_pad_queue_push_buffer (q, timed_buffer (0,
              GST_SECOND)), GST_FLOW_OK);
  fail_unless_equals_int (kling_pad_queue_push_gap (q, GST_SECOND,
          3 * GST_SECOND), GST_FLOW_OK);
  fail_unless_equals_int (kling_pad_queue_push_eos (q), GST_FLOW_OK);

  b = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 0);
  gst_buffer_unref (b);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
  fail_unless (gst_event_parse_group_id (ev, &group));
  fail_unless_equals_int (group, 77);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CAPS);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_SEGMENT);
  gst_event_parse_segment (ev, &seg);
  fail_unless_equals_int (seg->format, GST_FORMAT_TIME);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_GAP);
  gst_event_parse_gap (ev, &ts, &dur);
  fail_unless_equals_uint64 (ts, GST_SECOND);
  fail_unless_equals_uint64 (dur, 2 * GST_SECOND);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_EOS);
  gst_event_unref (ev);
  /* the task set the flow after pushing EOS */
  while (kling_pad_queue_flow (q) == GST_FLOW_OK)
    g_usleep (1000);
  fail_unless_equals_int (kling_pad_queue_flow (q), GST_FLOW_EOS);
  fail_unless_equals_int (kling_pad_queue_push_buffer (q, timed_buffer (0,
              GST_SECOND)), GST_FLOW_EOS);
  kling_pad_queue_stop (q, TRUE);
  fail_unless_equals_int (kling_pad_queue_flow (q), GST_FLOW_FLUSHING);
  gst_harness_teardown (h);
  kling_pad_queue_free (q);
  gst_object_unref (e);
}

GST_END_TEST;

/* Held by a sync wait before PLAYING: contiguous GAPs merge (within
 * max_gap), clip shortens what is queued, and a stop drops it all. */
GST_START_TEST (test_padqueue_merge_and_clip)
{
  GstElement *e;
  KlingPadQueue *q;
  GstHarness *h = new_queue_harness (&q, &e);
  GstEvent *ev;
  GstBuffer *b;
  GstClockTime ts, dur;
  GstTestClock *clock = gst_harness_get_testclock (h);

  fail_unless (gst_element_set_clock (e, GST_CLOCK (clock)));
  gst_object_unref (clock);
  kling_pad_queue_set_sync (q, TRUE);
  kling_pad_queue_start (q, "words", gst_caps_new_empty_simple ("text/x-raw"));
  kling_pad_queue_push_buffer (q, timed_buffer (0, GST_SECOND));
  kling_pad_queue_push_gap (q, GST_SECOND, 2 * GST_SECOND);
  kling_pad_queue_push_gap (q, 2 * GST_SECOND, 3 * GST_SECOND);
  kling_pad_queue_push_buffer (q, timed_buffer (3 * GST_SECOND,
          2 * GST_SECOND));
  kling_pad_queue_push_gap (q, 5 * GST_SECOND, 20 * GST_SECOND);
  kling_pad_queue_push_gap (q, 20 * GST_SECOND, 21 * GST_SECOND);
  kling_pad_queue_clip (q, 4 * GST_SECOND);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  kling_pad_queue_set_playing (q, TRUE);
  /* the first buffer waits for the harness's test clock to reach its end */
  fail_unless (gst_harness_wait_for_clock_id_waits (h, 1, 60));
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  /* released at 1 s; the items after it go out unsynced */
  kling_pad_queue_set_sync (q, FALSE);
  fail_unless (gst_harness_crank_single_clock_wait (h));

  b = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 0);
  gst_buffer_unref (b);
  ev = next_event (h);
  gst_event_parse_gap (ev, &ts, &dur);
  fail_unless_equals_uint64 (ts, GST_SECOND);
  fail_unless_equals_uint64 (dur, 2 * GST_SECOND);      /* merged */
  gst_event_unref (ev);
  b = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 3 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), GST_SECOND);
  gst_buffer_unref (b);
  /* 15 s + 1 s would pass max_gap (10 s): two GAPs */
  ev = next_event (h);
  gst_event_parse_gap (ev, &ts, &dur);
  fail_unless_equals_uint64 (dur, 15 * GST_SECOND);
  gst_event_unref (ev);
  ev = next_event (h);
  gst_event_parse_gap (ev, &ts, &dur);
  fail_unless_equals_uint64 (ts, 20 * GST_SECOND);
  gst_event_unref (ev);

  kling_pad_queue_stop (q, TRUE);
  gst_harness_teardown (h);
  kling_pad_queue_free (q);
  gst_object_unref (e);
}

GST_END_TEST;

/* ---- kling-speech-sched: utterances onto the two pads ---- */

#define FAKE_RATE 8000

/* A fake engine: 100 samples a byte (silent for a space), a word per run
 * of non-spaces; the policy comes from @data. */
static gboolean
fake_synth (gpointer data, const gchar * piece, GstClockTime pts,
    GArray * samples, GArray * words, KlingSpeechPolicy * policy,
    GError ** error)
{
  gsize i, n = strlen (piece);

  *policy = GPOINTER_TO_INT (data);
  for (i = 0; i < n; i++) {
    gint16 v[100];
    guint k;

    for (k = 0; k < 100; k++)
      v[k] = piece[i] == ' ' ? 0 : (k % 2 ? 3000 : -3000);
    g_array_append_vals (samples, v, 100);
    if (piece[i] != ' ' && (i == 0 || piece[i - 1] == ' ')) {
      KlingSpeechWord w = { i, strcspn (piece + i, " "), i * 100, 0 };

      g_array_append_val (words, w);
    }
  }
  return TRUE;
}

typedef struct
{
  GstHarness *audio, *words;
  GstElement *e;
  KlingPadQueue *aq, *wq;
  KlingSpeechSched *s;
} SchedFixture;

static void
sched_setup (SchedFixture * f, KlingSpeechPolicy policy)
{
  GstPad *a = gst_pad_new ("src", GST_PAD_SRC);
  GstPad *w = gst_pad_new ("words", GST_PAD_SRC);

  f->e = gst_bin_new ("speaker");
  gst_element_add_pad (f->e, a);
  gst_element_add_pad (f->e, w);
  f->aq = kling_pad_queue_new (f->e, a, G_MAXUINT, GST_CLOCK_TIME_NONE,
      GST_CLOCK_TIME_NONE);
  f->wq = kling_pad_queue_new (f->e, w, 1000, GST_CLOCK_TIME_NONE,
      GST_CLOCK_TIME_NONE);
  f->audio = gst_harness_new_with_element (f->e, NULL, "src");
  f->words = gst_harness_new_with_element (f->e, NULL, "words");
  gst_pad_set_active (a, TRUE);
  gst_pad_set_active (w, TRUE);
  f->s = kling_speech_sched_new (f->e, f->aq, f->wq, fake_synth,
      GINT_TO_POINTER (policy));
  kling_speech_sched_reset (f->s, FAKE_RATE, G_MAXUINT);
  kling_pad_queue_start (f->aq, "audio", NULL);
  kling_pad_queue_start (f->wq, "words", NULL);
}

/* Runs the scheduler to EOS; returns the audio (S16) and the words. */
static GArray *
sched_run (SchedFixture * f, GPtrArray * words)
{
  GArray *audio = g_array_new (FALSE, FALSE, sizeof (gint16));
  GstClockTime next = 0;
  GstBuffer *b;
  GstEvent *ev;

  while (kling_speech_sched_iterate (f->s) == GST_FLOW_OK);
  /* audio: contiguous, timed from the sample count, then EOS */
  while ((ev = next_event (f->audio)) && GST_EVENT_TYPE (ev) != GST_EVENT_EOS)
    gst_event_unref (ev);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  while ((b = gst_harness_try_pull (f->audio))) {
    GstMapInfo map;

    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), next);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), gst_util_uint64_scale
        (audio->len, GST_SECOND, FAKE_RATE));
    next += GST_BUFFER_DURATION (b);
    gst_buffer_map (b, &map, GST_MAP_READ);
    g_array_append_vals (audio, map.data, map.size / 2);
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  while ((ev = next_event (f->words)) && GST_EVENT_TYPE (ev) != GST_EVENT_EOS)
    gst_event_unref (ev);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  while ((b = gst_harness_try_pull (f->words)))
    g_ptr_array_add (words, b);
  return audio;
}

static void
sched_teardown (SchedFixture * f)
{
  kling_pad_queue_stop (f->aq, TRUE);
  kling_pad_queue_stop (f->wq, TRUE);
  kling_speech_sched_free (f->s);
  gst_harness_teardown (f->words);
  gst_harness_teardown (f->audio);
  kling_pad_queue_free (f->aq);
  kling_pad_queue_free (f->wq);
  gst_object_unref (f->e);
}

static void
check_word (GPtrArray * words, guint i, const gchar * text, guint64 start,
    guint64 end)
{
  GstBuffer *b = g_ptr_array_index (words, i);

  fail_unless (gst_buffer_memcmp (b, 0, text, strlen (text)) == 0
      && gst_buffer_get_size (b) == strlen (text), "word %u", i);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), gst_util_uint64_scale
      (start, GST_SECOND, FAKE_RATE));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b) + GST_BUFFER_DURATION (b),
      gst_util_uint64_scale (end, GST_SECOND, FAKE_RATE));
}

/* queue: "ab cd" at 0 (500 samples), "ef" at 1 s, after silence */
GST_START_TEST (test_sched_queue)
{
  SchedFixture f;
  GPtrArray *words = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GArray *audio;

  sched_setup (&f, KLING_SPEECH_POLICY_QUEUE);
  kling_speech_sched_enqueue (f.s, g_strdup ("ab cd"), 0, FALSE);
  kling_speech_sched_enqueue (f.s, g_strdup ("ef"), GST_SECOND, FALSE);
  kling_speech_sched_enqueue (f.s, NULL, GST_CLOCK_TIME_NONE, TRUE);
  audio = sched_run (&f, words);
  fail_unless_equals_int (audio->len, FAKE_RATE + 200);
  fail_unless_equals_int (g_array_index (audio, gint16, 600), 0);
  fail_unless (g_array_index (audio, gint16, FAKE_RATE) != 0);
  fail_unless_equals_int (words->len, 3);
  check_word (words, 0, "ab", 0, 300);  /* until the next word */
  check_word (words, 1, "cd", 300, 500);
  check_word (words, 2, "ef", FAKE_RATE, FAKE_RATE + 200);
  g_array_free (audio, TRUE);
  g_ptr_array_free (words, TRUE);
  sched_teardown (&f);
}

GST_END_TEST;

/* interrupt: "aaaa bbbb" (900 samples) is cut at 0.05 s (400) by "c" */
GST_START_TEST (test_sched_interrupt)
{
  SchedFixture f;
  GPtrArray *words = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GArray *audio;

  sched_setup (&f, KLING_SPEECH_POLICY_INTERRUPT);
  kling_speech_sched_enqueue (f.s, g_strdup ("aaaa bbbb"), 0, FALSE);
  kling_speech_sched_enqueue (f.s, g_strdup ("c"), GST_SECOND / 20, FALSE);
  kling_speech_sched_enqueue (f.s, NULL, GST_CLOCK_TIME_NONE, TRUE);
  audio = sched_run (&f, words);
  fail_unless_equals_int (audio->len, 400 + 100);
  fail_unless_equals_int (words->len, 2);
  check_word (words, 0, "aaaa", 0, 400);        /* cut, and "bbbb" never */
  check_word (words, 1, "c", 400, 500);
  g_array_free (audio, TRUE);
  g_ptr_array_free (words, TRUE);
  sched_teardown (&f);
}

GST_END_TEST;

/* ---- the manifest reader knows task `speech` ---- */

static gchar *
speech_problems (const gchar * json, gboolean has_synthesize)
{
  KlingMethodInfo methods[] = { {"synthesize", 1}, {"forward", 1} };
  GError *err = NULL;
  KlingManifest *m = kling_manifest_parse (json, -1, "voice.pt", &err);
  gchar *msg = NULL;

  fail_unless (m != NULL, "%s", err ? err->message : "");
  if (!kling_manifest_check_task (m, "speech", has_synthesize ? methods :
          methods + 1, has_synthesize ? 2 : 1, FALSE, &err)) {
    msg = g_strdup (err->message);
    g_clear_error (&err);
  }
  kling_manifest_free (m);
  return msg;
}

GST_START_TEST (test_manifest_speech)
{
  const gchar *good = "{\"format\": 1, \"name\": \"v\", \"task\": "
      "\"speech\", \"methods\": [\"synthesize\"], \"audio\": {\"rate\": 16000}, \"tokenizer\": "
      "{\"type\": \"utf8-bytes\", \"max_length\": 64}, \"defaults\": "
      "{\"speaker\": 3}}";
  gchar *msg;

  fail_unless (speech_problems (good, TRUE) == NULL);
  msg = speech_problems (good, FALSE);
  fail_unless (msg && strstr (msg, "`synthesize`"), "%s", msg);
  g_free (msg);
  msg = speech_problems ("{\"format\": 1, \"name\": \"v\", \"task\": "
      "\"speech\", \"methods\": [\"synthesize\"], \"tokenizer\": {\"type\": \"utf8-bytes\"}}",
      TRUE);
  fail_unless (msg && strstr (msg, "`audio.rate` is missing"), "%s", msg);
  g_free (msg);
  msg = speech_problems ("{\"format\": 1, \"name\": \"v\", \"task\": "
      "\"speech\", \"methods\": [\"synthesize\"], \"audio\": {\"rate\": 1000}, \"tokenizer\": "
      "{\"type\": \"utf8-bytes\", \"max_length\": 5}, \"defaults\": "
      "{\"speaker\": -1}}", TRUE);
  fail_unless (msg && strstr (msg, "`audio.rate`")
      && strstr (msg, "`tokenizer.max_length`")
      && strstr (msg, "`defaults.speaker`"), "%s", msg);
  g_free (msg);
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
  tcase_add_test (tc, test_padqueue_order_and_flow);
  tcase_add_test (tc, test_padqueue_merge_and_clip);
  tcase_add_test (tc, test_manifest_speech);
  tcase_add_test (tc, test_sched_queue);
  tcase_add_test (tc, test_sched_interrupt);
  return s;
}

GST_CHECK_MAIN (speechcore);
