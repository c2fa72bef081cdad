/* gst-kling: klingspeak with libespeak-ng
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#define RATE 22050
#define CHUNK 1024

typedef struct
{
  GArray *samples;              /* gint16, the whole audio */
  GPtrArray *words;             /* GstBuffer */
  GPtrArray *word_gaps;         /* GstEvent (GAP) */
  gboolean audio_eos, words_eos;
  gint rate;                    /* of the audio caps */
} Result;

static void
result_clear (Result * r)
{
  g_array_free (r->samples, TRUE);
  g_ptr_array_free (r->words, TRUE);
  g_ptr_array_free (r->word_gaps, TRUE);
}

static gchar *
word_text (GstBuffer * b)
{
  GstMapInfo map;
  gchar *s;

  gst_buffer_map (b, &map, GST_MAP_READ);
  s = g_strndup ((gchar *) map.data, map.size);
  gst_buffer_unmap (b, &map);
  return s;
}

/* Drains @h (audio) and @w (words) until both saw EOS; checks that the
 * audio is contiguous: PTS from the sample count, no holes. */
static void
collect (GstHarness * h, GstHarness * w, Result * r)
{
  guint64 n = 0;
  gint idle = 0;

  r->samples = g_array_new (FALSE, FALSE, sizeof (gint16));
  r->words = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  r->word_gaps =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_event_unref);
  r->audio_eos = r->words_eos = FALSE;
  r->rate = 0;

  while (!(r->audio_eos && r->words_eos)) {
    GstBuffer *b;
    GstEvent *e;
    gboolean got = FALSE;

    while ((b = gst_harness_try_pull (h))) {
      GstMapInfo map;

      if (r->rate == 0) {
        GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);

        fail_unless (caps != NULL);
        fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
                "rate", &r->rate));
        gst_caps_unref (caps);
      }
      fail_unless_equals_uint64 (GST_BUFFER_PTS (b),
          gst_util_uint64_scale (n, GST_SECOND, r->rate));
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), n);
      gst_buffer_map (b, &map, GST_MAP_READ);
      g_array_append_vals (r->samples, map.data, map.size / 2);
      n += map.size / 2;
      fail_unless_equals_uint64 (GST_BUFFER_PTS (b) + GST_BUFFER_DURATION (b),
          gst_util_uint64_scale (n, GST_SECOND, r->rate));
      gst_buffer_unmap (b, &map);
      gst_buffer_unref (b);
      got = TRUE;
    }
    while ((b = gst_harness_try_pull (w))) {
      g_ptr_array_add (r->words, b);
      got = TRUE;
    }
    while ((e = gst_harness_try_pull_event (h))) {
      if (GST_EVENT_TYPE (e) == GST_EVENT_EOS)
        r->audio_eos = TRUE;
      gst_event_unref (e);
      got = TRUE;
    }
    while ((e = gst_harness_try_pull_event (w))) {
      if (GST_EVENT_TYPE (e) == GST_EVENT_EOS)
        r->words_eos = TRUE;
      if (GST_EVENT_TYPE (e) == GST_EVENT_GAP)
        g_ptr_array_add (r->word_gaps, gst_event_ref (e));
      gst_event_unref (e);
      got = TRUE;
    }
    if (!got) {
      g_usleep (2000);
      fail_unless (++idle < 30000, "no EOS after 60 s");
    } else {
      idle = 0;
    }
  }
  /* buffers that were queued before the EOS event */
  {
    GstBuffer *b;

    while ((b = gst_harness_try_pull (h))) {
      GstMapInfo map;

      gst_buffer_map (b, &map, GST_MAP_READ);
      g_array_append_vals (r->samples, map.data, map.size / 2);
      gst_buffer_unmap (b, &map);
      gst_buffer_unref (b);
    }
    while ((b = gst_harness_try_pull (w)))
      g_ptr_array_add (r->words, b);
  }
}

/* @live: what the harness's source answers to a LATENCY query */
static GstHarness *
new_speak_upstream (const gchar * props, gboolean live, GstHarness ** words)
{
  GstElement *e = gst_element_factory_make ("klingspeak", NULL);
  gchar **kv = g_strsplit (props ? props : "", " ", -1);
  GstHarness *h;
  guint i;

  fail_unless (e != NULL);
  for (i = 0; kv[i]; i++) {
    gchar **p = g_strsplit (kv[i], "=", 2);

    if (p[0] && p[1])
      gst_util_set_object_arg (G_OBJECT (e), p[0], p[1]);
    g_strfreev (p);
  }
  g_strfreev (kv);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  *words = gst_harness_new_with_element (h->element, NULL, "words");
  gst_harness_set_live (h, live);
  gst_harness_set_src_caps_str (h, "text/x-raw, format=utf8");
  return h;
}

static GstHarness *
new_speak (const gchar * props, GstHarness ** words)
{
  return new_speak_upstream (props, FALSE, words);
}

static void
push_text (GstHarness * h, const gchar * text, GstClockTime pts)
{
  GstBuffer *b = gst_buffer_new_memdup (text, strlen (text));

  GST_BUFFER_PTS (b) = pts;
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
}

typedef struct
{
  const gchar *text;
  GstClockTime pts;
} Line;

static void
speak_lines (const gchar * props, const Line * lines, guint n, Result * r)
{
  GstHarness *w, *h = new_speak (props, &w);
  guint i;

  gst_harness_play (w);
  for (i = 0; i < n; i++)
    push_text (h, lines[i].text, lines[i].pts);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  collect (h, w, r);
  gst_harness_teardown (w);
  gst_harness_teardown (h);
}

static gdouble
rms (const Result * r, guint64 from, guint64 n)
{
  gdouble acc = 0;
  guint64 i, end = MIN (from + n, r->samples->len);

  if (end <= from)
    return 0;
  for (i = from; i < end; i++) {
    gdouble v = g_array_index (r->samples, gint16, i);

    acc += v * v;
  }
  return sqrt (acc / (end - from));
}

/* Where the sound of a word subtitled at @onset really starts: the first
 * 5 ms window from 150 ms before it whose RMS passes @thr; returns the
 * error in ms (negative: the sound starts before the subtitle). */
static gdouble
onset_error_ms (const Result * r, guint64 onset, gdouble thr)
{
  guint64 win = RATE / 200, s = onset > RATE * 15 / 100 ? onset - RATE *
      15 / 100 : 0, prev_end = s;

  gboolean silent_before = FALSE;

  /* start from the last silent window before the onset; in running speech
   * with no pause before the word, energy cannot place it: NAN */
  for (; s + win <= onset; s += win)
    if (rms (r, s, win) < thr) {
      prev_end = s + win;
      silent_before = TRUE;
    }
  if (!silent_before)
    return NAN;
  for (s = prev_end; s < r->samples->len; s += win)
    if (rms (r, s, win) >= thr)
      return ((gdouble) s - (gdouble) onset) * 1000.0 / RATE;
  return 1e9;
}

static guint64
to_samples (GstClockTime t)
{
  return gst_util_uint64_scale_round (t, RATE, GST_SECOND);
}

/* Words: monotonic, inside the audio, each heard where the audio is not
 * silent; returns the largest onset error in ms. */
static gdouble
check_words (const Result * r, guint min_words)
{
  GstClockTime prev_end = 0;
  gdouble max_err = 0, sum = 0;
  guint i, measured = 0;

  fail_unless (r->words->len >= min_words, "%u words, want >= %u",
      r->words->len, min_words);
  for (i = 0; i < r->words->len; i++) {
    GstBuffer *b = g_ptr_array_index (r->words, i);
    GstClockTime pts = GST_BUFFER_PTS (b), dur = GST_BUFFER_DURATION (b);
    guint64 s = to_samples (pts), e = to_samples (pts + dur);
    gdouble err;

    fail_unless (GST_CLOCK_TIME_IS_VALID (pts));
    fail_unless (GST_CLOCK_TIME_IS_VALID (dur) && dur > 0);
    fail_unless (pts >= prev_end, "word %u at %" GST_TIME_FORMAT
        " before the end of the previous one", i, GST_TIME_ARGS (pts));
    fail_unless (e <= r->samples->len, "word %u past the audio", i);
    /* heard: the word's stretch has sound in it */
    fail_unless (rms (r, s, e - s) > 300, "word %u is silent (rms %.0f)", i,
        rms (r, s, e - s));
    err = onset_error_ms (r, s, 200);
    if (!isnan (err)) {
      fail_unless (fabs (err) < 150, "word %u onset off by %.1f ms", i, err);
      max_err = MAX (max_err, fabs (err));
      sum += fabs (err);
      measured++;
    }
    prev_end = pts + dur;
  }
  fail_unless (measured >= 1, "no word onset after a pause");
  g_printerr ("onset error over %u of %u words (those after a pause): "
      "mean %.1f ms, max %.1f ms\n", measured, r->words->len,
      sum / measured, max_err);
  return max_err;
}

GST_START_TEST (test_english)
{
  const Line lines[] = {
    {"Fresh coffee, roasted this morning.", 0},
    {"Buy two today.", GST_SECOND / 2},
  };
  const gchar *expect[] = { "Fresh", "coffee", "roasted", "this", "morning",
    "Buy", "two", "today"
  };
  Result r;
  guint i;

  speak_lines (NULL, lines, 2, &r);
  fail_unless (r.audio_eos && r.words_eos);
  fail_unless_equals_int (r.rate, RATE);
  /* two short sentences: more than 2 s of sound */
  fail_unless (r.samples->len > 2 * RATE, "%u samples", r.samples->len);
  fail_unless_equals_int (r.words->len, G_N_ELEMENTS (expect));
  for (i = 0; i < r.words->len; i++) {
    gchar *t = word_text (g_ptr_array_index (r.words, i));

    fail_unless_equals_string (t, expect[i]);
    g_free (t);
  }
  check_words (&r, 8);
  /* queued: the second starts after the first, not at 0.5 s */
  fail_unless (GST_BUFFER_PTS (g_ptr_array_index (r.words, 5)) > GST_SECOND);
  result_clear (&r);
}

GST_END_TEST;

GST_START_TEST (test_chinese)
{
  const Line lines[] = { {"新款手机，价格实惠。", 0} };
  Result r, a;
  guint i;

  speak_lines ("language=zh", lines, 1, &r);
  /* one word per character */
  fail_unless_equals_int (r.words->len, 8);
  for (i = 0; i < r.words->len; i++) {
    gchar *t = word_text (g_ptr_array_index (r.words, i));

    fail_unless_equals_int (g_utf8_strlen (t, -1), 1);
    g_free (t);
  }
  check_words (&r, 8);
  /* auto picks Mandarin for Chinese text: the same sound */
  speak_lines ("language=auto", lines, 1, &a);
  fail_unless_equals_int (a.words->len, r.words->len);
  fail_unless (ABS ((gint) a.samples->len - (gint) r.samples->len) * 50 <
      (gint) r.samples->len);
  result_clear (&a);
  result_clear (&r);
}

GST_END_TEST;

static GstClockTime
first_word_of (const Result * r, const gchar * text)
{
  guint i;

  for (i = 0; i < r->words->len; i++) {
    gchar *t = word_text (g_ptr_array_index (r->words, i));
    gboolean eq = strcmp (t, text) == 0;

    g_free (t);
    if (eq)
      return GST_BUFFER_PTS (g_ptr_array_index (r->words, i));
  }
  return GST_CLOCK_TIME_NONE;
}

GST_START_TEST (test_queue_and_interrupt)
{
  const Line lines[] = {
    {"This first sentence is rather long and takes a few seconds to say.", 0},
    {"Stop.", GST_SECOND},
  };
  Result q, i;
  GstClockTime stop_q, stop_i;
  guint k;

  speak_lines ("queue-policy=queue", lines, 2, &q);
  speak_lines ("queue-policy=interrupt", lines, 2, &i);
  stop_q = first_word_of (&q, "Stop");
  stop_i = first_word_of (&i, "Stop");
  fail_unless (GST_CLOCK_TIME_IS_VALID (stop_q));
  fail_unless (GST_CLOCK_TIME_IS_VALID (stop_i));
  /* queued: after every word of the first */
  fail_unless (stop_q > 3 * GST_SECOND);
  fail_unless (first_word_of (&q, "seconds") < stop_q);
  /* interrupted: at 1 s, the first cut there */
  fail_unless (stop_i >= GST_SECOND && stop_i < GST_SECOND + GST_SECOND / 5,
      "Stop at %" GST_TIME_FORMAT, GST_TIME_ARGS (stop_i));
  fail_unless (!GST_CLOCK_TIME_IS_VALID (first_word_of (&i, "seconds")));
  for (k = 0; k < i.words->len; k++) {
    GstBuffer *b = g_ptr_array_index (i.words, k);

    if (GST_BUFFER_PTS (b) < GST_SECOND)
      fail_unless (GST_BUFFER_PTS (b) + GST_BUFFER_DURATION (b) <= GST_SECOND);
  }
  fail_unless (i.samples->len < q.samples->len / 2);
  check_words (&q, 12);
  result_clear (&q);
  result_clear (&i);
}

GST_END_TEST;

GST_START_TEST (test_silence_and_no_pts)
{
  const Line lines[] = {
    {"Hello.", 2 * GST_SECOND},
    {"Again.", GST_CLOCK_TIME_NONE},
  };
  Result r;
  guint64 k;
  GstClockTime ts, dur;

  speak_lines (NULL, lines, 2, &r);
  /* two seconds of silence before the first word */
  for (k = 0; k < 2 * RATE; k++)
    fail_unless_equals_int (g_array_index (r.samples, gint16, k), 0);
  fail_unless (rms (&r, 2 * RATE, RATE / 2) > 300);
  fail_unless_equals_int (r.words->len, 2);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (g_ptr_array_index (r.words, 0)),
      2 * GST_SECOND);
  /* and GAPs on the words pad over it, end to end from 0 */
  fail_unless (r.word_gaps->len >= 1);
  {
    GstClockTime covered = 0;

    for (k = 0; k < r.word_gaps->len; k++) {
      gst_event_parse_gap (g_ptr_array_index (r.word_gaps, k), &ts, &dur);
      if (ts == covered)
        covered = ts + dur;
    }
    fail_unless (covered >= 2 * GST_SECOND - GST_SECOND / 10);
  }
  /* no PTS: right after the first */
  fail_unless (GST_BUFFER_PTS (g_ptr_array_index (r.words, 1)) <
      GST_BUFFER_PTS (g_ptr_array_index (r.words, 0)) + GST_SECOND);
  check_words (&r, 2);
  result_clear (&r);
}

GST_END_TEST;

GST_START_TEST (test_empty_and_skipped)
{
  const Line blank[] = { {"   \t\n ", 0} };
  const Line noisy[] = { {"Hi \xf0\x9f\x98\x80\x07 there\x01!", 0} };
  const gchar *expect[] = { "Hi", "there" };
  Result r;
  guint i;

  speak_lines (NULL, blank, 1, &r);
  fail_unless (r.audio_eos && r.words_eos);
  fail_unless_equals_int (r.samples->len, 0);
  fail_unless_equals_int (r.words->len, 0);
  result_clear (&r);

  speak_lines (NULL, noisy, 1, &r);
  fail_unless_equals_int (r.words->len, 2);
  for (i = 0; i < 2; i++) {
    gchar *t = word_text (g_ptr_array_index (r.words, i));

    fail_unless_equals_string (t, expect[i]);
    g_free (t);
  }
  result_clear (&r);
}

GST_END_TEST;

static gchar *
error_text (GstBus * bus)
{
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GError *err = NULL;
  gchar *s;

  fail_unless (m != NULL, "no error posted");
  gst_message_parse_error (m, &err, NULL);
  s = g_strdup (err->message);
  g_error_free (err);
  gst_message_unref (m);
  return s;
}

GST_START_TEST (test_invalid_utf8)
{
  GstHarness *w, *h = new_speak (NULL, &w);
  GstBus *bus = gst_bus_new ();
  GstBuffer *b = gst_buffer_new_memdup ("Good\xe4\xbd text", 11);
  gchar *msg;

  gst_element_set_bus (h->element, bus);
  gst_harness_play (w);
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_ERROR);
  msg = error_text (bus);
  fail_unless (strstr (msg, "not valid UTF-8 at byte 4") != NULL, "%s", msg);
  g_free (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (w);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* An element given @prop = @value does not start; its error (to free),
 * with the element left in NULL (for another try) in *@out. */
static gchar *
start_error (const gchar * prop, const gchar * value, GstElement ** out)
{
  GstElement *e = gst_element_factory_make ("klingspeak", NULL);
  GstBus *bus = gst_bus_new ();
  gchar *msg;

  gst_element_set_bus (e, bus);
  g_object_set (e, prop, value, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = error_text (bus);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  *out = e;
  return msg;
}

GST_START_TEST (test_unknown_voice)
{
  GstElement *e;
  gchar *msg = start_error ("voice", "englsh", &e);

  fail_unless (strstr (msg, "no voice \"englsh\"") != NULL, "%s", msg);
  fail_unless (strstr (msg, "similar voices") != NULL, "%s", msg);
  fail_unless (strstr (msg, "en-US") != NULL || strstr (msg, "en-us"), "%s",
      msg);
  g_free (msg);
  /* a good voice: the same element starts */
  g_object_set (e, "voice", "en-us", NULL);
  fail_unless (gst_element_set_state (e, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
}

GST_END_TEST;

/* ---- two instances at once ---- */

typedef struct
{
  const gchar *props;
  const gchar *text;
  gchar *audio_sum;
  gchar *words_sum;
  gint n;
} Job;

/* "text@pts+dur;" lists: same texts, times within 15 ms (espeak-ng's
 * carried-over state moves onsets by up to ~10 ms) */
static gboolean
same_words (const gchar * a, const gchar * b)
{
  gchar **x = g_strsplit (a, ";", -1), **y = g_strsplit (b, ";", -1);
  gboolean ok = g_strv_length (x) == g_strv_length (y);
  guint i;

  for (i = 0; ok && x[i]; i++) {
    gchar *px = strchr (x[i], '@'), *py = strchr (y[i], '@');
    guint64 tx, ty;

    if (!px || !py) {
      ok = (px == NULL) == (py == NULL);
      continue;
    }
    ok = (px - x[i]) == (py - y[i]) && strncmp (x[i], y[i], px - x[i]) == 0;
    tx = g_ascii_strtoull (px + 1, NULL, 10);
    ty = g_ascii_strtoull (py + 1, NULL, 10);
    ok = ok && (tx > ty ? tx - ty : ty - tx) <= 15 * GST_MSECOND;
  }
  g_strfreev (x);
  g_strfreev (y);
  return ok;
}

static gpointer
run_job (gpointer data)
{
  Job *j = data;
  Line line = { j->text, 0 };
  Result r;
  GString *ws = g_string_new (NULL);
  guint i;

  speak_lines (j->props, &line, 1, &r);
  j->n = r.samples->len;
  j->audio_sum = g_compute_checksum_for_data (G_CHECKSUM_SHA1,
      (guchar *) r.samples->data, r.samples->len * 2);
  for (i = 0; i < r.words->len; i++) {
    GstBuffer *b = g_ptr_array_index (r.words, i);
    gchar *t = word_text (b);

    g_string_append_printf (ws, "%s@%" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
        ";", t, GST_BUFFER_PTS (b), GST_BUFFER_DURATION (b));
    g_free (t);
  }
  j->words_sum = g_string_free (ws, FALSE);
  result_clear (&r);
  return NULL;
}

GST_START_TEST (test_two_instances)
{
  Job alone[2] = {
    {"language=en rate=200", "A host speaks English, quickly and clearly. "
          "Then a second sentence follows it.", NULL, NULL},
    {"language=zh pitch=70",
        "另一位主持人说中文。这是第二句话。", NULL, NULL},
  };
  Job both[2];
  GThread *t[2];
  guint k, round;

  for (k = 0; k < 2; k++)
    run_job (&alone[k]);
  for (round = 0; round < 3; round++) {
    for (k = 0; k < 2; k++) {
      both[k] = alone[k];
      both[k].audio_sum = both[k].words_sum = NULL;
      t[k] = g_thread_new ("speak", run_job, &both[k]);
    }
    for (k = 0; k < 2; k++) {
      g_thread_join (t[k]);
      /* espeak-ng's voice source carries phase from call to call, so the
       * samples are not bit-exact; words and their times must match */
      fail_unless (same_words (both[k].words_sum, alone[k].words_sum),
          "%s\nvs\n%s", both[k].words_sum, alone[k].words_sum);
      fail_unless (ABS (both[k].n - alone[k].n) * 50 <= alone[k].n,
          "%u vs %u samples", both[k].n, alone[k].n);
      g_free (both[k].audio_sum);
      g_free (both[k].words_sum);
    }
  }
  fail_if (g_strcmp0 (alone[0].audio_sum, alone[1].audio_sum) == 0);
  for (k = 0; k < 2; k++) {
    g_free (alone[k].audio_sum);
    g_free (alone[k].words_sum);
  }
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  GstHarness *w, *h = new_speak (NULL, &w);
  guint i;

  for (i = 0; i < 100; i++) {
    gst_harness_play (w);
    if (i % 10 == 0) {
      GstBuffer *b;

      push_text (h, "Cycle.", GST_CLOCK_TIME_NONE);
      b = gst_harness_pull (h);
      fail_unless (b != NULL);
      gst_buffer_unref (b);
    }
    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    /* the harness re-sends its sticky events on the next play */
    gst_harness_set_src_caps_str (h, "text/x-raw, format=utf8");
  }
  gst_harness_teardown (w);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* is-live=true, or a live upstream (@upstream_live): the audio follows the
 * clock, and LATENCY says live with the element's own figure on top of
 * upstream's */
static void
check_live (const gchar * props, gboolean upstream_live)
{
  GstHarness *w, *h = new_speak_upstream (props, upstream_live, &w);
  GstTestClock *clock;
  GstQuery *q;
  gboolean live;
  GstClockTime min, max;
  guint i, loud = 0;
  guint64 n = 0;

  gst_harness_set_upstream_latency (h, 40 * GST_MSECOND);
  gst_harness_use_testclock (h);
  clock = gst_harness_get_testclock (h);
  gst_harness_play (w);
  push_text (h, "Live now.", 0);
  /* each buffer waits for the clock to reach its end */
  for (i = 0; i < 60; i++) {
    GstBuffer *b;
    GstMapInfo map;
    GstClockTime now;

    fail_unless (gst_harness_crank_single_clock_wait (h));
    b = gst_harness_pull (h);
    now = gst_clock_get_time (GST_CLOCK (clock));
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b),
        gst_util_uint64_scale (n, GST_SECOND, RATE));
    /* pushed when the clock reached its end, not before */
    fail_unless (now >= GST_BUFFER_PTS (b) + GST_BUFFER_DURATION (b),
        "buffer %u early", i);
    gst_buffer_map (b, &map, GST_MAP_READ);
    n += map.size / 2;
    if (!GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_GAP))
      loud++;
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  /* "Live now." is under a second: then silence at the clock's pace */
  fail_unless (loud > 5 && loud < 40, "%u buffers of speech", loud);
  {
    gint tries = 0;

    /* the words task pushes on its own thread */
    while (gst_harness_buffers_in_queue (w) < 2 && tries++ < 2500)
      g_usleep (2000);
    fail_unless (gst_harness_buffers_in_queue (w) >= 2);
  }

  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  /* upstream's 40 ms, the chunk, the 0.1 s queued ahead, the synthesis */
  fail_unless (min >= 40 * GST_MSECOND + GST_SECOND / 10 +
      gst_util_uint64_scale (CHUNK, GST_SECOND, RATE), "latency %"
      GST_TIME_FORMAT, GST_TIME_ARGS (min));
  fail_unless (min < 40 * GST_MSECOND + 2 * GST_SECOND);
  g_printerr ("live latency (%s): %" GST_TIME_FORMAT "\n",
      upstream_live ? "upstream live" : "is-live", GST_TIME_ARGS (min));
  gst_query_unref (q);
  gst_object_unref (clock);
  gst_harness_teardown (w);
  gst_harness_teardown (h);
}

GST_START_TEST (test_live_testclock)
{
  check_live ("is-live=true", FALSE);
}

GST_END_TEST;

GST_START_TEST (test_live_upstream)
{
  check_live ("", TRUE);
}

GST_END_TEST;

/* A flush in the middle of a long utterance (a seek upstream): the tasks
 * stop, the queues empty, and after FLUSH_STOP the next text is spoken
 * from a new segment, with no leak and no hang. */
GST_START_TEST (test_flush)
{
  GstHarness *w, *h = new_speak ("", &w);
  GString *text = g_string_new (NULL);
  GstBuffer *b;
  guint i, audio = 0;
  Result r;

  for (i = 0; i < 40; i++)
    g_string_append (text, "A long line of copy that is cut by a seek. ");
  gst_harness_play (w);
  push_text (h, text->str, 0);
  /* some of it is out, most of it not */
  b = gst_harness_pull (h);
  fail_unless (b != NULL);
  gst_buffer_unref (b);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  /* drop what came out before the flush */
  while ((b = gst_harness_try_pull (h)))
    gst_buffer_unref (b);
  while ((b = gst_harness_try_pull (w)))
    gst_buffer_unref (b);
  {
    GstSegment seg;

    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  }
  push_text (h, "After the seek.", 0);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  collect (h, w, &r);
  fail_unless (r.audio_eos && r.words_eos);
  /* a new stream from sample 0: only the new line (under 3 s) */
  fail_unless (r.samples->len > RATE / 2 && r.samples->len < 3 * RATE,
      "%u samples after the flush", r.samples->len);
  for (i = 0; i < r.words->len; i++) {
    gchar *t = word_text (g_ptr_array_index (r.words, i));

    audio += g_str_equal (t, "seek.") || g_str_equal (t, "seek");
    g_free (t);
  }
  fail_unless (audio >= 1, "the new line's words are not out");
  result_clear (&r);
  g_string_free (text, TRUE);
  gst_harness_teardown (w);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* upstream not live, is-live=false: LATENCY passes upstream's on */
GST_START_TEST (test_not_live_latency)
{
  GstHarness *w, *h = new_speak ("", &w);
  GstQuery *q = gst_query_new_latency ();
  gboolean live;
  GstClockTime min, max;

  gst_harness_set_upstream_latency (h, 40 * GST_MSECOND);
  gst_harness_play (w);
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_if (live);
  fail_unless_equals_uint64 (min, 40 * GST_MSECOND);
  gst_query_unref (q);
  gst_harness_teardown (w);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- a 1 MB buffer ---- */

static guint64 huge_samples;
static GMutex huge_lock;
static GCond huge_cond;

static GstPadProbeReturn
count_audio (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);

  g_mutex_lock (&huge_lock);
  huge_samples += gst_buffer_get_size (b) / 2;
  g_cond_broadcast (&huge_cond);
  g_mutex_unlock (&huge_lock);
  return GST_PAD_PROBE_OK;
}

static glong
rss_kb (void)
{
  gchar *s = NULL;
  glong pages = 0, res = 0;

  if (g_file_get_contents ("/proc/self/statm", &s, NULL, NULL))
    sscanf (s, "%ld %ld", &pages, &res);
  g_free (s);
  return res * (sysconf (_SC_PAGESIZE) / 1024);
}

static void
wait_audio (guint64 samples)
{
  gint64 end = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&huge_lock);
  while (huge_samples < samples)
    fail_unless (g_cond_wait_until (&huge_cond, &huge_lock, end),
        "only %" G_GUINT64_FORMAT " samples", huge_samples);
  g_mutex_unlock (&huge_lock);
}

GST_START_TEST (test_huge_buffer)
{
  GstElement *pipe = gst_parse_launch ("appsrc name=a format=time "
      "caps=text/x-raw,format=utf8 ! klingspeak name=s ! "
      "fakesink name=f sync=false s.words ! fakesink sync=false", NULL);
  GstElement *a = gst_bin_get_by_name (GST_BIN (pipe), "a");
  GstElement *f = gst_bin_get_by_name (GST_BIN (pipe), "f");
  GstPad *pad = gst_element_get_static_pad (f, "sink");
  GString *text = g_string_new (NULL);
  GstBuffer *b;
  glong rss1, rss2;

  while (text->len < 1024 * 1024)
    g_string_append (text, "The shop sells fresh bread and coffee. "
        "Every morning the baker starts at four, ");
  b = gst_buffer_new_wrapped (text->str, text->len);
  g_string_free (text, FALSE);
  huge_samples = 0;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_audio, NULL, NULL);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  GST_BUFFER_PTS (b) = 0;
  {
    GstFlowReturn ret;

    g_signal_emit_by_name (a, "push-buffer", b, &ret);
    fail_unless_equals_int (ret, GST_FLOW_OK);
    gst_buffer_unref (b);
  }
  /* about 20 hours of speech in there; listen to a minute, then ten */
  wait_audio (60 * RATE);
  rss1 = rss_kb ();
  wait_audio (600 * RATE);
  rss2 = rss_kb ();
  g_printerr ("1 MB of text: RSS %ld kB after 60 s of audio, %ld kB after "
      "600 s\n", rss1, rss2);
  fail_unless (rss2 - rss1 < 20 * 1024, "memory grew by %ld kB", rss2 - rss1);
  /* stopping in the middle returns */
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pad);
  gst_object_unref (f);
  gst_object_unref (a);
  gst_object_unref (pipe);
}

GST_END_TEST;

/* ---- model=: tests/models speech-sine.pt ---- */

/* What speech-sine.pt (tests/models/make_test_models.py, SineSpeech) says
 * a byte lasts, in samples at SINE_RATE. */
#define SINE_RATE 16000

static guint64
sine_duration (guint8 byte)
{
  return byte == ' ' ? 400 : 200 + 40 * (byte % 8);
}

static guint64
sine_samples (const gchar * text, gsize n)
{
  guint64 sum = 0;
  gsize i;

  for (i = 0; i < n; i++)
    sum += sine_duration ((guint8) text[i]);
  return sum;
}

static gchar *
model_prop (const gchar * file)
{
  const gchar *dir = g_getenv ("KLING_TEST_MODELS");

  fail_unless (dir != NULL, "KLING_TEST_MODELS is not set");
  return g_strdup_printf ("model=%s/%s", dir, file);
}

/* Each of @expect (words, in order) of the utterances @lines, spoken back
 * to back from 0: its PTS is the sum of the durations of the bytes before
 * it, it lasts until the next word (the last until the end of its sound),
 * and the audio is exactly the sum of all durations. */
static void
check_sine_words (const Line * lines, guint n_lines, const gchar ** expect,
    guint n_expect)
{
  gchar *prop = model_prop ("speech-sine.pt");
  GstClockTime prev_end = 0;
  guint64 total = 0, utt_start[8];
  guint l, k = 0;
  Result r;

  fail_unless (n_lines <= G_N_ELEMENTS (utt_start));
  for (l = 0; l < n_lines; l++) {
    utt_start[l] = total;
    total += sine_samples (lines[l].text, strlen (lines[l].text));
  }
  speak_lines (prop, lines, n_lines, &r);
  g_free (prop);
  fail_unless (r.audio_eos && r.words_eos);
  fail_unless_equals_int (r.rate, SINE_RATE);
  fail_unless_equals_uint64 (r.samples->len, total);
  fail_unless_equals_int (r.words->len, n_expect);
  for (l = 0; l < n_lines; l++) {
    const gchar *text = lines[l].text, *from = text;
    guint64 utt_end = l + 1 < n_lines ? utt_start[l + 1] : total;

    for (; k < n_expect; k++) {
      GstBuffer *b = g_ptr_array_index (r.words, k);
      const gchar *at = strstr (from, expect[k]);
      gchar *t;
      guint64 onset;

      if (at == NULL)
        break;                  /* the next line's word */
      t = word_text (b);
      fail_unless_equals_string (t, expect[k]);
      g_free (t);
      onset = utt_start[l] + sine_samples (text, at - text);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (b),
          gst_util_uint64_scale (onset, GST_SECOND, SINE_RATE));
      fail_unless (GST_BUFFER_DURATION (b) > 0);
      fail_unless (GST_BUFFER_PTS (b) >= prev_end, "word %u not monotonic", k);
      prev_end = GST_BUFFER_PTS (b) + GST_BUFFER_DURATION (b);
      /* inside its utterance */
      fail_unless (prev_end <= gst_util_uint64_scale (utt_end, GST_SECOND,
              SINE_RATE), "word %u ends past its utterance", k);
      /* the word's first byte is a sine burst: sound at the onset */
      fail_unless (rms (&r, onset, 100) > 1000, "word %u is silent", k);
      from = at + strlen (expect[k]);
    }
  }
  fail_unless_equals_int (k, n_expect);
  result_clear (&r);
}

/* speech-speaker.pt: synthesize(ids, speaker) puts each "a" burst at
 * 530 + 100 * speaker Hz; its manifest's defaults.speaker is 2.  Returns
 * the frequency the zero crossings of "aaaa" say. */
static gdouble
speaker_hz (const gchar * speaker_prop)
{
  gchar *model = model_prop ("speech-speaker.pt");
  gchar *props = g_strdup_printf ("%s %s", model, speaker_prop);
  const Line line = { "aaaa", 0 };
  guint64 i, crossings = 0;
  Result r;

  speak_lines (props, &line, 1, &r);
  fail_unless_equals_int (r.rate, SINE_RATE);
  fail_unless_equals_uint64 (r.samples->len, 4 * sine_duration ('a'));
  for (i = 1; i < r.samples->len; i++) {
    gint16 a = g_array_index (r.samples, gint16, i - 1);
    gint16 b = g_array_index (r.samples, gint16, i);

    crossings += (a < 0) != (b < 0);
  }
  result_clear (&r);
  g_free (props);
  g_free (model);
  return crossings * (gdouble) SINE_RATE / (2.0 * 4 * sine_duration ('a'));
}

GST_START_TEST (test_model_speaker)
{
  gdouble dflt = speaker_hz (""), five = speaker_hz ("speaker=5");
  gdouble zero = speaker_hz ("speaker=0");

  g_printerr ("speaker: default %.0f Hz, 0: %.0f Hz, 5: %.0f Hz\n", dflt,
      zero, five);
  /* the manifest's default, 2; then the property's */
  fail_unless (fabs (dflt - 730) < 40, "default speaker at %.0f Hz", dflt);
  fail_unless (fabs (zero - 530) < 40, "speaker 0 at %.0f Hz", zero);
  fail_unless (fabs (five - 1030) < 40, "speaker 5 at %.0f Hz", five);
}

GST_END_TEST;

GST_START_TEST (test_model_english)
{
  const Line lines[] = {
    {"Hi there, friend.", 0},
    {"Buy two today", 0},
  };
  const gchar *expect[] = { "Hi", "there,", "friend.", "Buy", "two",
    "today"
  };

  check_sine_words (lines, 2, expect, G_N_ELEMENTS (expect));
}

GST_END_TEST;

GST_START_TEST (test_model_chinese)
{
  const Line lines[] = { {"新款手机", 0} };
  const gchar *expect[] = { "新", "款", "手", "机" };

  check_sine_words (lines, 1, expect, G_N_ELEMENTS (expect));
}

GST_END_TEST;

/* an output of the wrong dtype and shape: an error naming both, no crash */
GST_START_TEST (test_model_bad_output)
{
  gchar *prop = model_prop ("speech-bad-shape.pt");
  GstHarness *w, *h = new_speak (prop, &w);
  GstBus *bus = gst_bus_new ();
  GstMessage *m;
  GError *err = NULL;

  gst_element_set_bus (h->element, bus);
  gst_harness_play (w);
  push_text (h, "Hello", 0);
  m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (m != NULL, "no error posted");
  gst_message_parse_error (m, &err, NULL);
  fail_unless (strstr (err->message, "output 0") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "is int64[2, 500];") != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, "float32 waveform [N] or [1, N]") !=
      NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (m);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  g_free (prop);
  gst_harness_teardown (w);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* a model file that is not there: the element does not start, and says
 * which file */
GST_START_TEST (test_model_missing)
{
  GstElement *e;
  gchar *msg = start_error ("model", "/nonexistent/voice.pt", &e);

  fail_unless (strstr (msg, "/nonexistent/voice.pt") != NULL, "%s", msg);
  g_printerr ("missing model: %s\n", msg);
  g_free (msg);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
klingspeak_suite (void)
{
  Suite *s = suite_create ("klingspeak");
  TCase *tc = tcase_create ("general");
  gchar *model;

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_english);
  tcase_add_test (tc, test_chinese);
  tcase_add_test (tc, test_queue_and_interrupt);
  tcase_add_test (tc, test_silence_and_no_pts);
  tcase_add_test (tc, test_empty_and_skipped);
  tcase_add_test (tc, test_invalid_utf8);
  tcase_add_test (tc, test_unknown_voice);
  tcase_add_test (tc, test_two_instances);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_live_testclock);
  tcase_add_test (tc, test_live_upstream);
  tcase_add_test (tc, test_not_live_latency);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_huge_buffer);
  tcase_add_test (tc, test_model_missing);
  /* the model engine needs the libtorch backend and tests/models */
  model = g_build_filename (g_getenv ("KLING_TEST_MODELS") ?
      g_getenv ("KLING_TEST_MODELS") : ".", "speech-sine.pt", NULL);
  if (g_file_test (model, G_FILE_TEST_EXISTS)) {
    tcase_add_test (tc, test_model_english);
    tcase_add_test (tc, test_model_chinese);
    tcase_add_test (tc, test_model_bad_output);
    tcase_add_test (tc, test_model_speaker);
  }
  g_free (model);
  return s;
}

GST_CHECK_MAIN (klingspeak);
