/* gst-kling: log-mel spectrogram of speech, offline and streaming
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <gst/fft/gstfftf32.h>

#include "kling-mel.h"

#define SEE_DOCS "see docs/models.md, task `talking-head`"

void
kling_mel_params_init_default (KlingMelParams * p)
{
  p->rate = 16000;
  p->n_fft = 800;
  p->hop = 200;
  p->win_length = 800;
  p->window = KLING_MEL_WINDOW_HANN;
  p->n_mels = 80;
  p->fmin = 55.0;
  p->fmax = 7600.0;
  p->preemphasis = 0.97;
  p->ref_level_db = 20.0;
  p->min_level_db = -100.0;
  p->max_abs_value = 4.0;
  p->symmetric = TRUE;
  p->frames = 16;
  p->offset = -8;
}

static gboolean
invalid (GError ** error, const gchar * model, const gchar * what)
{
  g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
      "model \"%s\": %s (" SEE_DOCS ")", model ? model : "(none)", what);
  return FALSE;
}

gboolean
kling_mel_params_check (const KlingMelParams * p, const gchar * model,
    GError ** error)
{
  gchar *msg = NULL;

  if (p->rate < 4000 || p->rate > 192000)
    msg = g_strdup_printf ("manifest field `mel.rate` is %d; it must be 4000 "
        "to 192000", p->rate);
  else if (p->n_fft < 16 || p->n_fft > 16384 || p->n_fft % 2 != 0)
    msg = g_strdup_printf ("manifest field `mel.n_fft` is %d; it must be an "
        "even number from 16 to 16384", p->n_fft);
  else if (p->hop < 1 || p->hop > p->n_fft)
    msg = g_strdup_printf ("manifest field `mel.hop` is %d; it must be 1 to "
        "`mel.n_fft` (%d)", p->hop, p->n_fft);
  else if (p->win_length < 1 || p->win_length > p->n_fft)
    msg = g_strdup_printf ("manifest field `mel.win_length` is %d; it must be "
        "1 to `mel.n_fft` (%d)", p->win_length, p->n_fft);
  else if (p->n_mels < 1 || p->n_mels > 512)
    msg = g_strdup_printf ("manifest field `mel.bands` is %d; it must be 1 to "
        "512", p->n_mels);
  else if (!(p->fmin >= 0 && p->fmin < p->fmax && p->fmax <= p->rate / 2.0))
    msg = g_strdup_printf ("manifest fields `mel.fmin` (%g) and `mel.fmax` "
        "(%g) must satisfy 0 <= fmin < fmax <= rate / 2 (%g)", p->fmin,
        p->fmax, p->rate / 2.0);
  else if (!(p->preemphasis >= 0 && p->preemphasis < 1))
    msg = g_strdup_printf ("manifest field `mel.preemphasis` is %g; it must "
        "be 0 (none) up to, not including, 1", p->preemphasis);
  else if (!(p->min_level_db < 0 && p->min_level_db >= -300))
    msg = g_strdup_printf ("manifest field `mel.min_level_db` is %g; it must "
        "be below 0 and at least -300", p->min_level_db);
  else if (!(fabs (p->ref_level_db) <= 300))
    msg = g_strdup_printf ("manifest field `mel.ref_level_db` is %g; it must "
        "be -300 to 300", p->ref_level_db);
  else if (!(p->max_abs_value >= 0 && p->max_abs_value <= 1000))
    msg = g_strdup_printf ("manifest field `mel.max_abs_value` is %g; it "
        "must be 0 (no normalisation) to 1000", p->max_abs_value);
  else if (p->frames < 1 || p->frames > 1024)
    msg = g_strdup_printf ("manifest field `mel.frames` is %d; it must be 1 "
        "to 1024", p->frames);
  else if (p->offset < -4096 || p->offset > 4096)
    msg = g_strdup_printf ("manifest field `mel.offset` is %d; it must be "
        "-4096 to 4096", p->offset);
  if (msg) {
    invalid (error, model, msg);
    g_free (msg);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_int (const KlingManifest * m, const gchar * path, gint * out,
    GError ** error)
{
  JsonNode *node = kling_manifest_lookup (m, path);
  gdouble d;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || (json_node_get_value_type (node) != G_TYPE_INT64
          && json_node_get_value_type (node) != G_TYPE_DOUBLE)) {
    gchar *msg = g_strdup_printf ("manifest field `%s` must be a number",
        path);
    invalid (error, m->model, msg);
    g_free (msg);
    return FALSE;
  }
  d = json_node_get_double (node);
  if (d != floor (d) || d < G_MININT32 || d > G_MAXINT32) {
    gchar *msg = g_strdup_printf ("manifest field `%s` is %g; it must be a "
        "whole number", path, d);
    invalid (error, m->model, msg);
    g_free (msg);
    return FALSE;
  }
  *out = (gint) d;
  return TRUE;
}

static gboolean
read_double (const KlingManifest * m, const gchar * path, gdouble * out,
    GError ** error)
{
  JsonNode *node = kling_manifest_lookup (m, path);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || (json_node_get_value_type (node) != G_TYPE_INT64
          && json_node_get_value_type (node) != G_TYPE_DOUBLE)) {
    gchar *msg = g_strdup_printf ("manifest field `%s` must be a number",
        path);
    invalid (error, m->model, msg);
    g_free (msg);
    return FALSE;
  }
  *out = json_node_get_double (node);
  return TRUE;
}

gboolean
kling_mel_params_from_manifest (KlingMelParams * p, const KlingManifest * m,
    GError ** error)
{
  JsonNode *node;
  const gchar *window;
  gboolean offset_given;

  kling_mel_params_init_default (p);
  node = kling_manifest_lookup (m, "mel");
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, m->model, "manifest field `mel` must be an object");
  offset_given = kling_manifest_lookup (m, "mel.offset") != NULL;
  if (!read_int (m, "mel.rate", &p->rate, error)
      || !read_int (m, "mel.n_fft", &p->n_fft, error)
      || !read_int (m, "mel.hop", &p->hop, error)
      || !read_int (m, "mel.bands", &p->n_mels, error)
      || !read_int (m, "mel.frames", &p->frames, error)
      || !read_int (m, "mel.offset", &p->offset, error)
      || !read_double (m, "mel.fmin", &p->fmin, error)
      || !read_double (m, "mel.fmax", &p->fmax, error)
      || !read_double (m, "mel.preemphasis", &p->preemphasis, error)
      || !read_double (m, "mel.ref_level_db", &p->ref_level_db, error)
      || !read_double (m, "mel.min_level_db", &p->min_level_db, error)
      || !read_double (m, "mel.max_abs_value", &p->max_abs_value, error))
    return FALSE;
  /* the window follows n_fft unless given */
  p->win_length = p->n_fft;
  if (!read_int (m, "mel.win_length", &p->win_length, error))
    return FALSE;
  if (!offset_given)
    p->offset = -(p->frames / 2);
  node = kling_manifest_lookup (m, "mel.symmetric");
  if (node) {
    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
      return invalid (error, m->model,
          "manifest field `mel.symmetric` must be true or false");
    p->symmetric = json_node_get_boolean (node);
  }
  window = kling_manifest_get_string (m, "mel.window", "hann");
  if (strcmp (window, "hann") == 0)
    p->window = KLING_MEL_WINDOW_HANN;
  else if (strcmp (window, "hamming") == 0)
    p->window = KLING_MEL_WINDOW_HAMMING;
  else
    return invalid (error, m->model,
        "manifest field `mel.window` must be \"hann\" or \"hamming\"");
  if (kling_manifest_lookup (m, "mel.window")
      && !kling_manifest_get_string (m, "mel.window", NULL))
    return invalid (error, m->model,
        "manifest field `mel.window` must be a string");
  return kling_mel_params_check (p, m->model, error);
}

static gfloat
scale_db (const KlingMelParams * p, gdouble magnitude)
{
  gdouble floor_amp = pow (10.0, p->min_level_db / 20.0);
  gdouble s = 20.0 * log10 (MAX (floor_amp, magnitude)) - p->ref_level_db;
  gdouble v;

  if (p->max_abs_value <= 0)
    return s;
  if (p->symmetric) {
    v = 2.0 * p->max_abs_value * ((s - p->min_level_db) / -p->min_level_db)
        - p->max_abs_value;
    return CLAMP (v, -p->max_abs_value, p->max_abs_value);
  }
  v = p->max_abs_value * ((s - p->min_level_db) / -p->min_level_db);
  return CLAMP (v, 0, p->max_abs_value);
}

gfloat
kling_mel_params_silence (const KlingMelParams * p)
{
  return scale_db (p, 0.0);
}

gdouble
kling_mel_params_frame_rate (const KlingMelParams * p)
{
  return (gdouble) p->rate / p->hop;
}

gdouble
kling_mel_params_lookahead (const KlingMelParams * p)
{
  /* the last frame of the window, and half an FFT after its centre */
  gint last = p->offset + p->frames - 1;

  return MAX (0.0, ((gdouble) last * p->hop + p->n_fft / 2) / p->rate);
}

/* --- the spectrum of one frame ---------------------------------------- */

struct _KlingMel
{
  KlingMelParams params;
  gint n_bins;
  GstFFTF32 *fft;
  gfloat *window;               /* n_fft, the window centred, zeros around */
  /* band b: weights of bins first[b] .. first[b] + count[b] - 1 */
  gint *first, *count;
  gfloat **weights;
  gfloat *frame;                /* n_fft */
  GstFFTF32Complex *spectrum;   /* n_bins */
  gfloat silence;
};

static gdouble
hz_to_mel (gdouble f)
{
  /* Slaney's scale (librosa htk=False): linear below 1 kHz, log above */
  const gdouble f_sp = 200.0 / 3, min_log_hz = 1000.0;
  const gdouble min_log_mel = min_log_hz / f_sp, logstep = log (6.4) / 27.0;

  if (f >= min_log_hz)
    return min_log_mel + log (f / min_log_hz) / logstep;
  return f / f_sp;
}

static gdouble
mel_to_hz (gdouble m)
{
  const gdouble f_sp = 200.0 / 3, min_log_hz = 1000.0;
  const gdouble min_log_mel = min_log_hz / f_sp, logstep = log (6.4) / 27.0;

  if (m >= min_log_mel)
    return min_log_hz * exp (logstep * (m - min_log_mel));
  return f_sp * m;
}

KlingMel *
kling_mel_new (const KlingMelParams * params, GError ** error)
{
  KlingMel *mel;
  const KlingMelParams *p = params;
  gdouble *mel_f, lo, hi;
  gint i, b, k, pad;

  if (!kling_mel_params_check (params, NULL, error))
    return NULL;
  mel = g_new0 (KlingMel, 1);
  mel->params = *params;
  mel->n_bins = p->n_fft / 2 + 1;
  mel->fft = gst_fft_f32_new (p->n_fft, FALSE);
  mel->window = g_new0 (gfloat, p->n_fft);
  pad = (p->n_fft - p->win_length) / 2;
  for (i = 0; i < p->win_length; i++) {
    gdouble c = cos (2.0 * G_PI * i / p->win_length);
    mel->window[pad + i] = p->window == KLING_MEL_WINDOW_HANN ?
        0.5 - 0.5 * c : 0.54 - 0.46 * c;
  }

  /* librosa.filters.mel (norm="slaney"): triangles between n_mels + 2
   * points evenly spaced in mel, each scaled to unit area */
  mel_f = g_new (gdouble, p->n_mels + 2);
  lo = hz_to_mel (p->fmin);
  hi = hz_to_mel (p->fmax);
  for (i = 0; i < p->n_mels + 2; i++)
    mel_f[i] = mel_to_hz (lo + (hi - lo) * i / (p->n_mels + 1));
  mel->first = g_new0 (gint, p->n_mels);
  mel->count = g_new0 (gint, p->n_mels);
  mel->weights = g_new0 (gfloat *, p->n_mels);
  for (b = 0; b < p->n_mels; b++) {
    gdouble enorm = 2.0 / (mel_f[b + 2] - mel_f[b]);
    gdouble row[mel->n_bins];
    gint first = -1, last = -1;

    for (k = 0; k < mel->n_bins; k++) {
      gdouble f = (gdouble) k * p->rate / p->n_fft;
      gdouble lower = (f - mel_f[b]) / (mel_f[b + 1] - mel_f[b]);
      gdouble upper = (mel_f[b + 2] - f) / (mel_f[b + 2] - mel_f[b + 1]);

      row[k] = MAX (0.0, MIN (lower, upper)) * enorm;
      if (row[k] > 0) {
        if (first < 0)
          first = k;
        last = k;
      }
    }
    if (first < 0) {
      /* a band narrower than a bin: no weight (librosa warns, gives 0) */
      mel->first[b] = 0;
      mel->count[b] = 0;
      continue;
    }
    mel->first[b] = first;
    mel->count[b] = last - first + 1;
    mel->weights[b] = g_new (gfloat, mel->count[b]);
    for (k = first; k <= last; k++)
      mel->weights[b][k - first] = row[k];
  }
  g_free (mel_f);
  mel->frame = g_new0 (gfloat, p->n_fft);
  mel->spectrum = g_new0 (GstFFTF32Complex, mel->n_bins);
  mel->silence = kling_mel_params_silence (p);
  return mel;
}

void
kling_mel_free (KlingMel * mel)
{
  gint b;

  if (mel == NULL)
    return;
  gst_fft_f32_free (mel->fft);
  for (b = 0; b < mel->params.n_mels; b++)
    g_free (mel->weights[b]);
  g_free (mel->weights);
  g_free (mel->first);
  g_free (mel->count);
  g_free (mel->window);
  g_free (mel->frame);
  g_free (mel->spectrum);
  g_free (mel);
}

const KlingMelParams *
kling_mel_get_params (const KlingMel * mel)
{
  return &mel->params;
}

/* The bands of mel->frame (already filled with the frame's samples) into
 * @out, @stride apart. */
static void
mel_frame (KlingMel * mel, gfloat * out, gsize stride)
{
  const KlingMelParams *p = &mel->params;
  gint i, b;

  for (i = 0; i < p->n_fft; i++)
    mel->frame[i] *= mel->window[i];
  gst_fft_f32_fft (mel->fft, mel->frame, mel->spectrum);
  for (b = 0; b < p->n_mels; b++) {
    const gfloat *w = mel->weights[b];
    const GstFFTF32Complex *s = mel->spectrum + mel->first[b];
    gdouble sum = 0;

    for (i = 0; i < mel->count[b]; i++)
      sum += w[i] * sqrt ((gdouble) s[i].r * s[i].r + (gdouble) s[i].i *
          s[i].i);
    out[b * stride] = scale_db (p, sum);
  }
}

/* Index @j of a signal of @n samples reflect-padded at both ends, as
 * numpy's "reflect" (the edge sample not repeated), any number of times. */
static gint64
reflect (gint64 j, gint64 n)
{
  gint64 period;

  if (n <= 1)
    return 0;
  period = 2 * (n - 1);
  j %= period;
  if (j < 0)
    j += period;
  return j >= n ? period - j : j;
}

gfloat *
kling_mel_compute (KlingMel * mel, const gfloat * samples, gsize n_samples,
    gsize * n_frames)
{
  const KlingMelParams *p = &mel->params;
  gsize frames = 1 + n_samples / p->hop, f;
  gfloat *x, *out;
  gsize i;
  gint half = p->n_fft / 2, j;

  x = g_new (gfloat, MAX (n_samples, 1));
  for (i = 0; i < n_samples; i++)
    x[i] = samples[i] - (i > 0 ? p->preemphasis * samples[i - 1] : 0.0);
  if (n_samples == 0)
    x[0] = 0;
  out = g_new (gfloat, frames * p->n_mels);
  for (f = 0; f < frames; f++) {
    gint64 start = (gint64) f * p->hop - half;

    for (j = 0; j < p->n_fft; j++)
      mel->frame[j] = x[reflect (start + j, MAX (n_samples, 1))];
    mel_frame (mel, out + f, frames);
  }
  g_free (x);
  *n_frames = frames;
  return out;
}

/* --- streaming --------------------------------------------------------- */

struct _KlingMelStream
{
  KlingMel *mel;
  /* pre-emphasised samples from absolute index @base */
  gfloat *samples;
  gsize len, cap;
  guint64 base, n_in;
  gfloat last_in;               /* for pre-emphasis */
  /* frames from absolute index @frame_base, frame-major [n][n_mels] */
  gfloat *frames;
  gsize frames_len, frames_cap;
  guint64 frame_base, n_made;
  gboolean finished;
};

KlingMelStream *
kling_mel_stream_new (const KlingMelParams * params, GError ** error)
{
  KlingMel *mel = kling_mel_new (params, error);
  KlingMelStream *s;

  if (mel == NULL)
    return NULL;
  s = g_new0 (KlingMelStream, 1);
  s->mel = mel;
  return s;
}

void
kling_mel_stream_free (KlingMelStream * s)
{
  if (s == NULL)
    return;
  kling_mel_free (s->mel);
  g_free (s->samples);
  g_free (s->frames);
  g_free (s);
}

void
kling_mel_stream_reset (KlingMelStream * s)
{
  s->len = 0;
  s->base = s->n_in = 0;
  s->last_in = 0;
  s->frames_len = 0;
  s->frame_base = s->n_made = 0;
  s->finished = FALSE;
}

static gfloat *
frame_slot (KlingMelStream * s)
{
  gint nm = s->mel->params.n_mels;

  if (s->frames_len == s->frames_cap) {
    s->frames_cap = MAX (64, s->frames_cap * 2);
    s->frames = g_renew (gfloat, s->frames, s->frames_cap * nm);
  }
  return s->frames + (s->frames_len++) * nm;
}

/* Makes every frame the samples in allow, then drops samples no frame
 * still to come reads. */
static void
make_frames (KlingMelStream * s)
{
  const KlingMelParams *p = &s->mel->params;
  gint half = p->n_fft / 2, j;
  gint64 keep;

  for (;;) {
    gint64 start = (gint64) s->n_made * p->hop - half;

    if (s->finished) {
      if (s->n_made >= 1 + s->n_in / p->hop)
        break;
    } else if ((gint64) s->n_made * p->hop + half > (gint64) s->n_in
        || s->n_in <= (guint64) half) {
      /* not all its samples are in (frame 0 also reflects sample half) */
      break;
    }
    for (j = 0; j < p->n_fft; j++) {
      gint64 idx = reflect (start + j, MAX (s->n_in, 1));

      /* idx >= base: see keep below */
      s->mel->frame[j] = s->n_in ? s->samples[idx - s->base] : 0.0f;
    }
    mel_frame (s->mel, frame_slot (s), 1);
    s->n_made++;
  }
  /* the next frame reads from its start, or one sample before it when the
   * end is reflected about the last sample */
  keep = MAX (0, (gint64) s->n_made * p->hop - half - 1);
  if (keep > (gint64) s->base && keep - s->base >= 4096
      && keep - s->base <= (gint64) s->len) {
    gsize drop = keep - s->base;

    memmove (s->samples, s->samples + drop, (s->len - drop) * sizeof (gfloat));
    s->len -= drop;
    s->base += drop;
  }
}

static void
push (KlingMelStream * s, const gfloat * samples, gsize n)
{
  gdouble k = s->mel->params.preemphasis;
  gsize i;

  if (s->finished || n == 0)
    return;
  if (s->len + n > s->cap) {
    s->cap = MAX (s->len + n, s->cap * 2);
    s->samples = g_renew (gfloat, s->samples, s->cap);
  }
  for (i = 0; i < n; i++) {
    gfloat x = samples ? samples[i] : 0.0f;

    s->samples[s->len + i] = x - (s->n_in + i > 0 ? k * s->last_in : 0.0);
    s->last_in = x;
  }
  s->len += n;
  s->n_in += n;
  make_frames (s);
}

void
kling_mel_stream_push (KlingMelStream * s, const gfloat * samples, gsize n)
{
  push (s, samples, n);
}

void
kling_mel_stream_push_silence (KlingMelStream * s, gsize n)
{
  /* in pieces, so that a long gap never needs a long buffer */
  while (n > 0) {
    gsize piece = MIN (n, 16384);

    push (s, NULL, piece);
    n -= piece;
  }
}

void
kling_mel_stream_finish (KlingMelStream * s)
{
  if (s->finished)
    return;
  s->finished = TRUE;
  make_frames (s);
}

gboolean
kling_mel_stream_is_finished (const KlingMelStream * s)
{
  return s->finished;
}

guint64
kling_mel_stream_n_samples (const KlingMelStream * s)
{
  return s->n_in;
}

guint64
kling_mel_stream_n_frames (const KlingMelStream * s)
{
  return s->n_made;
}

gint64
kling_mel_stream_frame_at (const KlingMelStream * s, gdouble seconds)
{
  return (gint64) floor (seconds *
      kling_mel_params_frame_rate (&s->mel->params) + 0.5);
}

gboolean
kling_mel_stream_window (KlingMelStream * s, gdouble seconds, gfloat * out,
    gboolean * silent)
{
  const KlingMelParams *p = &s->mel->params;
  gint64 start = kling_mel_stream_frame_at (s, seconds) + p->offset;
  gint64 last = start + p->frames - 1;
  gboolean all_silent = TRUE;
  gint j, b;

  if (last >= (gint64) s->n_made && !s->finished)
    return FALSE;
  for (j = 0; j < p->frames; j++) {
    gint64 f = start + j;
    const gfloat *src = NULL;

    if (f >= (gint64) s->frame_base && f < (gint64) s->n_made)
      src = s->frames + (f - s->frame_base) * p->n_mels;
    for (b = 0; b < p->n_mels; b++) {
      gfloat v = src ? src[b] : s->mel->silence;

      out[b * p->frames + j] = v;
      if (v != s->mel->silence)
        all_silent = FALSE;
    }
  }
  if (silent)
    *silent = all_silent;
  return TRUE;
}

void
kling_mel_stream_discard (KlingMelStream * s, gint64 frame)
{
  gsize drop;
  gint nm = s->mel->params.n_mels;

  if (frame <= (gint64) s->frame_base)
    return;
  drop = MIN ((guint64) frame - s->frame_base, s->frames_len);
  if (drop < 256 && drop < s->frames_len)
    return;                     /* in batches: fewer moves */
  memmove (s->frames, s->frames + drop * nm,
      (s->frames_len - drop) * nm * sizeof (gfloat));
  s->frames_len -= drop;
  s->frame_base += drop;
}
