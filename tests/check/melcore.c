/* gst-kling: the log-mel spectrogram (kling-mel) against torch
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tests/models/make_host_models.py writes each signal with its spectrogram
 * computed by torch in float64 (Wav2Lip's audio.py, and another parameter
 * set) and the manifest giving the parameters.  The C spectrogram, float32
 * through gstfft, must agree within MEL_TOLERANCE (the features span
 * [-4, 4]; the float32 FFT is within 1.4e-4 of torch on these signals), and the streaming
 * spectrogram must equal the offline one exactly, however the signal is
 * cut into pushes.
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-mel.h"
#include "kling-mel-timeline.h"

#define MEL_TOLERANCE 1e-3

typedef struct
{
  gint n_samples, n_mels, n_frames;
  gfloat *samples, *mel;
  KlingMelParams params;
} Reference;

static void
reference_load (Reference * r, const gchar * name)
{
  gchar *bin = g_strdup_printf ("%s/mel-%s.bin", g_getenv ("KLING_TEST_MODELS"),
      name);
  gchar *json = g_strdup_printf ("%s/mel-%s.json",
      g_getenv ("KLING_TEST_MODELS"), name);
  gchar *data = NULL, *text = NULL;
  gsize len = 0, tlen = 0;
  GError *error = NULL;
  KlingManifest *m;
  gint32 hdr[3];

  fail_unless (g_file_get_contents (bin, &data, &len, NULL), "no %s", bin);
  fail_unless (len >= 12);
  memcpy (hdr, data, 12);
  r->n_samples = hdr[0];
  r->n_mels = hdr[1];
  r->n_frames = hdr[2];
  fail_unless_equals_int (len, 12 + 4 * (r->n_samples +
          (gsize) r->n_mels * r->n_frames));
  r->samples = g_memdup2 (data + 12, 4 * r->n_samples);
  r->mel = g_memdup2 (data + 12 + 4 * r->n_samples,
      4 * (gsize) r->n_mels * r->n_frames);
  fail_unless (g_file_get_contents (json, &text, &tlen, NULL));
  m = kling_manifest_parse (text, tlen, json, &error);
  fail_unless (m != NULL, "%s", error ? error->message : "");
  fail_unless (kling_mel_params_from_manifest (&r->params, m, &error), "%s",
      error ? error->message : "");
  kling_manifest_free (m);
  g_free (data);
  g_free (text);
  g_free (bin);
  g_free (json);
}

static void
reference_clear (Reference * r)
{
  g_free (r->samples);
  g_free (r->mel);
}

static void
check_offline (const gchar * name)
{
  Reference r;
  KlingMel *mel;
  GError *error = NULL;
  gfloat *out;
  gsize n_frames, i;
  gdouble worst = 0;

  reference_load (&r, name);
  mel = kling_mel_new (&r.params, &error);
  fail_unless (mel != NULL);
  fail_unless_equals_int (r.params.n_mels, r.n_mels);
  out = kling_mel_compute (mel, r.samples, r.n_samples, &n_frames);
  fail_unless_equals_int (n_frames, r.n_frames);
  for (i = 0; i < n_frames * r.n_mels; i++)
    worst = MAX (worst, fabs (out[i] - r.mel[i]));
  GST_INFO ("%s: %d frames, largest difference from torch %g", name,
      r.n_frames, worst);
  fail_unless (worst <= MEL_TOLERANCE, "%s: differs from torch by %g", name,
      worst);
  g_free (out);
  kling_mel_free (mel);
  reference_clear (&r);
}

GST_START_TEST (test_offline_matches_torch)
{
  check_offline ("chirp");
  check_offline ("noise");
  check_offline ("burst");
  check_offline ("short");
  check_offline ("other");
}

GST_END_TEST;

/* Pushed in pieces of @sizes (cycled), the stream's frames are the offline
 * ones bit for bit, and every window matches them. */
static void
check_stream (const gchar * name, const gsize * sizes, guint n_sizes)
{
  Reference r;
  KlingMel *mel;
  KlingMelStream *s;
  GError *error = NULL;
  gfloat *offline, *win, silence;
  gsize n_frames, pos = 0;
  guint k = 0;
  gint f, b, T;
  gdouble t;

  reference_load (&r, name);
  mel = kling_mel_new (&r.params, &error);
  offline = kling_mel_compute (mel, r.samples, r.n_samples, &n_frames);
  s = kling_mel_stream_new (&r.params, &error);
  fail_unless (s != NULL);
  T = r.params.frames;
  silence = kling_mel_params_silence (&r.params);
  win = g_new (gfloat, r.n_mels * T);

  while (pos < (gsize) r.n_samples) {
    gsize n = MIN (sizes[k % n_sizes], r.n_samples - pos);
    guint64 made;

    kling_mel_stream_push (s, r.samples + pos, n);
    pos += n;
    k++;
    made = kling_mel_stream_n_frames (s);
    /* a frame is out once the half FFT after its centre is in */
    fail_unless (made * r.params.hop + r.params.n_fft / 2 >= pos);
    fail_unless (made <= 1 + pos / r.params.hop);
  }
  kling_mel_stream_finish (s);
  fail_unless_equals_int (kling_mel_stream_n_frames (s), n_frames);

  /* every window, at each frame time and between them */
  for (t = 0; t < (gdouble) r.n_samples / r.params.rate + 0.3; t += 0.0173) {
    gint64 start = kling_mel_stream_frame_at (s, t) + r.params.offset;
    gboolean silent;

    fail_unless (kling_mel_stream_window (s, t, win, &silent));
    for (f = 0; f < T; f++)
      for (b = 0; b < r.n_mels; b++) {
        gint64 fr = start + f;
        gfloat want = fr < 0 || fr >= (gint64) n_frames ? silence :
            offline[b * n_frames + fr];

        fail_unless (win[b * T + f] == want,
            "%s: window at %g s, frame %d band %d: %g, offline %g", name, t,
            f, b, win[b * T + f], want);
      }
  }
  g_free (win);
  g_free (offline);
  kling_mel_stream_free (s);
  kling_mel_free (mel);
  reference_clear (&r);
}

GST_START_TEST (test_stream_equals_offline)
{
  const gsize one[] = { 1 };
  const gsize odd[] = { 7, 333, 1, 4096, 160, 2 };
  const gsize big[] = { 100000 };

  check_stream ("burst", odd, G_N_ELEMENTS (odd));
  check_stream ("burst", big, 1);
  check_stream ("short", one, 1);
  check_stream ("chirp", odd, G_N_ELEMENTS (odd));
  check_stream ("other", odd, G_N_ELEMENTS (odd));
}

GST_END_TEST;

/* The window for time t waits until its last frame is made, then stays
 * available while frames before it are discarded; silence is flagged. */
GST_START_TEST (test_stream_window_timing)
{
  KlingMelParams p;
  KlingMelStream *s;
  GError *error = NULL;
  gfloat *win, *noise;
  gboolean silent = FALSE;
  gdouble look;
  gsize i, need;

  kling_mel_params_init_default (&p);
  fail_unless_equals_int (p.offset, -8);
  fail_unless_equals_int (p.frames, 16);
  /* Wav2Lip's floor: -100 dB - 20 dB clipped to -4 */
  fail_unless_equals_float (kling_mel_params_silence (&p), -4.0f);
  look = kling_mel_params_lookahead (&p);
  /* frames t-8 .. t+7, plus half an FFT: (7 * 200 + 400) / 16000 */
  fail_unless (fabs (look - 0.1125) < 1e-9, "lookahead %g", look);

  s = kling_mel_stream_new (&p, &error);
  win = g_new (gfloat, 80 * 16);
  /* window at 1 s: needs frames up to 87, i.e. samples up to 87 * 200 +
   * 400 = 17800 */
  need = 17800;
  kling_mel_stream_push_silence (s, need - 1);
  fail_if (kling_mel_stream_window (s, 1.0, win, &silent));
  kling_mel_stream_push_silence (s, 1);
  fail_unless (kling_mel_stream_window (s, 1.0, win, &silent));
  fail_unless (silent);
  for (i = 0; i < 80 * 16; i++)
    fail_unless_equals_float (win[i], -4.0f);

  /* noise makes it not silent; the window before it still is */
  noise = g_new (gfloat, 8000);
  for (i = 0; i < 8000; i++)
    noise[i] = ((i * 7919) % 1000) / 1000.0f - 0.5f;
  kling_mel_stream_push (s, noise, 8000);
  fail_unless (kling_mel_stream_window (s, 1.3, win, &silent));
  fail_if (silent);
  kling_mel_stream_discard (s, 80);
  fail_unless (kling_mel_stream_window (s, 1.3, win, &silent));
  fail_if (silent);
  kling_mel_stream_discard (s, 1000);
  fail_unless (kling_mel_stream_n_frames (s) > 100);

  /* reset: a new signal, nothing made */
  kling_mel_stream_reset (s);
  fail_unless_equals_int (kling_mel_stream_n_frames (s), 0);
  fail_if (kling_mel_stream_window (s, 0.0, win, NULL));
  kling_mel_stream_finish (s);
  /* an empty signal has one (silent) frame, and every window is silent */
  fail_unless_equals_int (kling_mel_stream_n_frames (s), 1);
  fail_unless (kling_mel_stream_window (s, 5.0, win, &silent));
  fail_unless (silent);
  g_free (noise);
  g_free (win);
  kling_mel_stream_free (s);
}

GST_END_TEST;

/* @seconds of a 440 Hz tone, S16LE stereo at @rate (interleaved). */
static guint8 *
tone_s16_stereo (gint rate, gdouble seconds, gsize * n_bytes)
{
  gsize i, n = (gsize) (rate * seconds + 0.5);
  gint16 *s = g_new (gint16, 2 * n);

  for (i = 0; i < n; i++)
    s[2 * i] = s[2 * i + 1] = (gint16) (8000 * sin (2 * G_PI * 440 * i /
            rate));
  *n_bytes = 4 * n;
  return (guint8 *) s;
}

static KlingMelTimeline *
new_timeline (gint fps_n, gint fps_d, gint rate, gint channels,
    GstAudioFormat format)
{
  KlingMelParams p;
  GstAudioInfo info;
  GError *error = NULL;
  KlingMelTimeline *tl;

  kling_mel_params_init_default (&p);
  tl = kling_mel_timeline_new (&p, fps_n, fps_d, &error);
  fail_unless (tl != NULL, "%s", error ? error->message : "");
  fail_if (kling_mel_timeline_has_format (tl));
  gst_audio_info_set_format (&info, format, rate, channels, NULL);
  fail_unless (kling_mel_timeline_set_format (tl, &info, &error), "%s",
      error ? error->message : "");
  return tl;
}

/* Frames follow the audio from its first sample: a second of 48 kHz
 * stereo from t = 1 s lasts 25 frames at 25 fps; a hole is silence,
 * audio for time already covered is dropped, a GAP extends the timeline
 * and a rate change keeps the time reached. */
GST_START_TEST (test_timeline_frames)
{
  KlingMelTimeline *tl = new_timeline (25, 1, 48000, 2, GST_AUDIO_FORMAT_S16LE);
  gfloat *win = g_new (gfloat, 80 * 16);
  gboolean silent;
  guint8 *tone;
  gsize n_bytes;
  guint64 n;

  fail_unless_equals_uint64 (kling_mel_timeline_get_start (tl),
      GST_CLOCK_TIME_NONE);
  kling_mel_timeline_start (tl, GST_SECOND);
  kling_mel_timeline_start (tl, 5 * GST_SECOND);        /* started: kept */
  fail_unless_equals_uint64 (kling_mel_timeline_get_start (tl), GST_SECOND);
  fail_unless_equals_uint64 (kling_mel_timeline_frame_pts (tl, 3),
      GST_SECOND + 120 * GST_MSECOND);
  fail_unless_equals_uint64 (kling_mel_timeline_frame_duration (tl, 7),
      40 * GST_MSECOND);
  fail_unless_equals_uint64 (kling_mel_timeline_lookahead (tl),
      112500 * GST_USECOND);

  tone = tone_s16_stereo (48000, 1.0, &n_bytes);
  fail_unless_equals_int (kling_mel_timeline_push (tl, GST_SECOND, tone,
          n_bytes), 0);
  fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 25);
  /* frame n needs audio to n / 25 + 0.1125 s (less what the resampler
   * holds back): 0..21 are ready and loud, 24 is not yet */
  for (n = 0; n <= 21; n++) {
    fail_unless (kling_mel_timeline_window (tl, n, win, &silent), "%d", n);
    fail_if (silent, "frame %d", (gint) n);
  }
  fail_if (kling_mel_timeline_window (tl, 24, win, &silent));

  /* the same second again from 10 ms in: all but its last 10 ms are
   * time already covered, dropped */
  fail_unless_equals_int (kling_mel_timeline_push (tl, GST_SECOND + 10 *
          GST_MSECOND, tone, n_bytes), 48000 - 480);
  fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 26);
  /* 0.2 s at t = 3 s: the hole from 2 s is silence */
  fail_unless_equals_int (kling_mel_timeline_push (tl, 3 * GST_SECOND, tone,
          n_bytes / 5), 0);
  fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 55);
  for (n = 22; n <= 50; n++) {
    fail_unless (kling_mel_timeline_window (tl, n, win, &silent), "%d", n);
    /* 1.5 .. 2.0 s of the timeline: well inside the hole */
    if (n >= 30 && n <= 44)
      fail_unless (silent, "frame %d in the hole", (gint) n);
  }
  /* a GAP to 4 s: 75 frames */
  kling_mel_timeline_gap (tl, 3200 * GST_MSECOND, 800 * GST_MSECOND);
  fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 75);
  /* 16 kHz mono float from here: the count keeps the time, 0.4 s more */
  {
    GstAudioInfo info;
    gfloat *f = g_new0 (gfloat, 6400);

    gst_audio_info_set_format (&info, GST_AUDIO_FORMAT_F32, 16000, 1, NULL);
    fail_unless (kling_mel_timeline_set_format (tl, &info, NULL));
    fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 75);
    kling_mel_timeline_push (tl, GST_CLOCK_TIME_NONE, (guint8 *) f,
        6400 * sizeof (gfloat));
    fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 85);
    g_free (f);
  }
  /* the end: every frame the audio lasts, and no more */
  fail_if (kling_mel_timeline_is_finished (tl));
  kling_mel_timeline_finish (tl);
  fail_unless (kling_mel_timeline_is_finished (tl));
  for (n = 51; n < 85; n++)
    fail_unless (kling_mel_timeline_window (tl, n, win, &silent), "%d", n);
  fail_if (kling_mel_timeline_window (tl, 85, win, &silent));

  /* reset: a new stream, the format kept */
  kling_mel_timeline_reset (tl);
  fail_unless_equals_uint64 (kling_mel_timeline_get_start (tl),
      GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 0);
  fail_if (kling_mel_timeline_is_finished (tl));
  fail_unless (kling_mel_timeline_has_format (tl));
  g_free (tone);
  g_free (win);
  kling_mel_timeline_free (tl);
}

GST_END_TEST;

/* Live: a frame whose time has come gets its window even when its audio
 * has not come (that part is silence); before the start there is none. */
GST_START_TEST (test_timeline_window_now)
{
  KlingMelTimeline *tl = new_timeline (30000, 1001, 44100, 2,
      GST_AUDIO_FORMAT_S16LE);
  gfloat *win = g_new (gfloat, 80 * 16);
  gboolean silent = TRUE;
  guint8 *tone;
  gsize n_bytes;

  fail_if (kling_mel_timeline_window_now (tl, 0, win, &silent));
  kling_mel_timeline_start (tl, 0);
  tone = tone_s16_stereo (44100, 0.2, &n_bytes);
  kling_mel_timeline_push (tl, 0, tone, n_bytes);
  /* frame 2 (66.7 ms) needs audio to 179 ms: 0.2 s covers it, no filling */
  fail_unless (kling_mel_timeline_window_now (tl, 2, win, &silent));
  fail_if (silent);
  fail_unless_equals_uint64 (kling_mel_timeline_n_frames (tl), 6);
  /* frame 30 (1.001 s): not come, filled with silence up to its window */
  fail_if (kling_mel_timeline_window (tl, 30, win, &silent));
  fail_unless (kling_mel_timeline_window_now (tl, 30, win, &silent));
  fail_unless (silent);
  fail_unless (kling_mel_timeline_n_frames (tl) >= 34,
      "%" G_GUINT64_FORMAT, kling_mel_timeline_n_frames (tl));
  fail_unless (kling_mel_timeline_n_frames (tl) <= 36,
      "%" G_GUINT64_FORMAT, kling_mel_timeline_n_frames (tl));
  g_free (tone);
  g_free (win);
  kling_mel_timeline_free (tl);
}

GST_END_TEST;

static gchar *
manifest_error (const gchar * mel_json)
{
  gchar *json = g_strdup_printf ("{\"format\": 1, \"task\": \"talking-head\","
      " \"methods\": [\"forward\"], \"mel\": %s}", mel_json);
  GError *error = NULL;
  KlingManifest *m = kling_manifest_parse (json, -1, "bad.pt", &error);
  KlingMelParams p;
  gchar *msg = NULL;

  fail_unless (m != NULL);
  if (!kling_mel_params_from_manifest (&p, m, &error)) {
    msg = g_strdup (error->message);
    g_error_free (error);
  }
  kling_manifest_free (m);
  g_free (json);
  return msg;
}

GST_START_TEST (test_manifest_params)
{
  struct
  {
    const gchar *mel, *names;
  } bad[] = {
    {"{\"n_fft\": 801}", "`mel.n_fft`"},
    {"{\"hop\": 0}", "`mel.hop`"},
    {"{\"bands\": 100000}", "`mel.bands`"},
    {"{\"fmax\": 9000}", "`mel.fmax`"},
    {"{\"rate\": 1.5}", "`mel.rate`"},
    {"{\"rate\": \"fast\"}", "`mel.rate`"},
    {"{\"window\": \"kaiser\"}", "`mel.window`"},
    {"{\"preemphasis\": 1}", "`mel.preemphasis`"},
    {"{\"frames\": 0}", "`mel.frames`"},
    {"{\"symmetric\": 1}", "`mel.symmetric`"},
    {"[1, 2]", "`mel`"},
  };
  gchar *msg;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    msg = manifest_error (bad[i].mel);
    fail_unless (msg != NULL, "%s accepted", bad[i].mel);
    fail_unless (strstr (msg, bad[i].names) != NULL, "%s: %s", bad[i].mel, msg);
    fail_unless (strstr (msg, "bad.pt") != NULL);
    g_free (msg);
  }
  /* a window of 8 frames is centred unless an offset is given */
  {
    const gchar *json = "{\"format\": 1, \"task\": \"talking-head\", "
        "\"methods\": [\"forward\"], \"mel\": {\"frames\": 8, \"n_fft\": 512}}";
    KlingManifest *m = kling_manifest_parse (json, -1, "ok.pt", NULL);
    KlingMelParams p;

    fail_unless (kling_mel_params_from_manifest (&p, m, NULL));
    fail_unless_equals_int (p.offset, -4);
    fail_unless_equals_int (p.win_length, 512);
    fail_unless_equals_int (p.n_mels, 80);
    kling_manifest_free (m);
  }
  msg = manifest_error ("{\"offset\": 0}");
  fail_unless (msg == NULL);
}

GST_END_TEST;

static Suite *
melcore_suite (void)
{
  Suite *s = suite_create ("melcore");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_offline_matches_torch);
  tcase_add_test (tc, test_stream_equals_offline);
  tcase_add_test (tc, test_stream_window_timing);
  tcase_add_test (tc, test_manifest_params);
  tcase_add_test (tc, test_timeline_frames);
  tcase_add_test (tc, test_timeline_window_now);
  return s;
}

GST_CHECK_MAIN (melcore);
