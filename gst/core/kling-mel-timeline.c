/* gst-kling: the audio timeline of a talking head
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-mel-timeline.h"

/* frames converted at a time, and the silence kept for holes */
#define PIECE 4096

struct _KlingMelTimeline
{
  KlingMelParams params;
  gint fps_n, fps_d;
  KlingMelStream *mel;

  GstAudioInfo info;
  gboolean have_info;
  GstAudioConverter *conv;
  gfloat *out;
  gsize out_len;
  guint8 *silence;              /* PIECE frames in the input format */

  GstClockTime t0;
  guint64 in_samples;           /* at the input rate, silence included */
  gboolean finished;
};

KlingMelTimeline *
kling_mel_timeline_new (const KlingMelParams * params, gint fps_n, gint fps_d,
    GError ** error)
{
  KlingMelTimeline *tl;
  KlingMelStream *mel;

  g_return_val_if_fail (fps_n > 0 && fps_d > 0, NULL);
  mel = kling_mel_stream_new (params, error);
  if (mel == NULL)
    return NULL;
  tl = g_new0 (KlingMelTimeline, 1);
  tl->params = *params;
  tl->fps_n = fps_n;
  tl->fps_d = fps_d;
  tl->mel = mel;
  tl->t0 = GST_CLOCK_TIME_NONE;
  return tl;
}

void
kling_mel_timeline_free (KlingMelTimeline * tl)
{
  if (tl == NULL)
    return;
  kling_mel_stream_free (tl->mel);
  if (tl->conv)
    gst_audio_converter_free (tl->conv);
  g_free (tl->out);
  g_free (tl->silence);
  g_free (tl);
}

void
kling_mel_timeline_reset (KlingMelTimeline * tl)
{
  kling_mel_stream_reset (tl->mel);
  if (tl->conv)
    gst_audio_converter_reset (tl->conv);
  tl->t0 = GST_CLOCK_TIME_NONE;
  tl->in_samples = 0;
  tl->finished = FALSE;
}

gboolean
kling_mel_timeline_set_format (KlingMelTimeline * tl,
    const GstAudioInfo * info, GError ** error)
{
  GstAudioInfo out;
  GstAudioConverter *conv;
  gsize silence_len;

  gst_audio_info_set_format (&out, GST_AUDIO_FORMAT_F32, tl->params.rate, 1,
      NULL);
  conv = gst_audio_converter_new (GST_AUDIO_CONVERTER_FLAG_NONE,
      (GstAudioInfo *) info, &out, NULL);
  if (conv == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "Cannot convert %s audio at %d Hz, %d channels to mono at %d Hz",
        GST_AUDIO_INFO_NAME (info), GST_AUDIO_INFO_RATE (info),
        GST_AUDIO_INFO_CHANNELS (info), tl->params.rate);
    return FALSE;
  }
  if (tl->conv)
    gst_audio_converter_free (tl->conv);
  tl->conv = conv;
  /* the samples so far were counted at the old rate: keep the time they
   * reached */
  if (tl->have_info && GST_AUDIO_INFO_RATE (&tl->info) !=
      GST_AUDIO_INFO_RATE (info) && GST_CLOCK_TIME_IS_VALID (tl->t0)) {
    GstClockTime now = gst_util_uint64_scale (tl->in_samples, GST_SECOND,
        GST_AUDIO_INFO_RATE (&tl->info));

    tl->in_samples = gst_util_uint64_scale_round (now,
        GST_AUDIO_INFO_RATE (info), GST_SECOND);
  }
  tl->info = *info;
  tl->have_info = TRUE;
  silence_len = PIECE * (gsize) GST_AUDIO_INFO_BPF (info);
  g_free (tl->silence);
  tl->silence = g_malloc (silence_len);
  gst_audio_format_info_fill_silence (info->finfo, tl->silence, silence_len);
  return TRUE;
}

gboolean
kling_mel_timeline_has_format (const KlingMelTimeline * tl)
{
  return tl->have_info;
}

void
kling_mel_timeline_start (KlingMelTimeline * tl, GstClockTime ts)
{
  if (!GST_CLOCK_TIME_IS_VALID (tl->t0))
    tl->t0 = ts;
}

GstClockTime
kling_mel_timeline_get_start (const KlingMelTimeline * tl)
{
  return tl->t0;
}

/* @n frames of @data (NULL: silence) through the converter into the
 * spectrogram, counted on the timeline when @count. */
static void
feed (KlingMelTimeline * tl, const guint8 * data, gsize n, gboolean count)
{
  gint bpf = GST_AUDIO_INFO_BPF (&tl->info);

  if (count)
    tl->in_samples += n;
  while (n > 0) {
    gsize piece = MIN (n, PIECE);
    gsize out_frames = gst_audio_converter_get_out_frames (tl->conv, piece);
    gpointer in[1] = { (gpointer) (data ? data : tl->silence) }, out[1];

    if (out_frames > tl->out_len) {
      tl->out_len = out_frames;
      tl->out = g_renew (gfloat, tl->out, out_frames);
    }
    out[0] = tl->out;
    if (gst_audio_converter_samples (tl->conv, 0, in, piece, out, out_frames))
      kling_mel_stream_push (tl->mel, tl->out, out_frames);
    if (data)
      data += piece * bpf;
    n -= piece;
  }
}

static void
fill_to (KlingMelTimeline * tl, guint64 pos)
{
  if (pos > tl->in_samples)
    feed (tl, NULL, pos - tl->in_samples, TRUE);
}

/* The sample position of @ts on the timeline. */
static guint64
position (const KlingMelTimeline * tl, GstClockTime ts)
{
  if (!GST_CLOCK_TIME_IS_VALID (ts) || ts <= tl->t0)
    return 0;
  return gst_util_uint64_scale_round (ts - tl->t0,
      GST_AUDIO_INFO_RATE (&tl->info), GST_SECOND);
}

gsize
kling_mel_timeline_push (KlingMelTimeline * tl, GstClockTime pts,
    const guint8 * data, gsize n_bytes)
{
  gsize n_frames, skip = 0;

  g_return_val_if_fail (tl->have_info, 0);
  g_return_val_if_fail (GST_CLOCK_TIME_IS_VALID (tl->t0), 0);
  n_frames = n_bytes / GST_AUDIO_INFO_BPF (&tl->info);
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    guint64 pos = position (tl, pts);
    guint64 slack = GST_AUDIO_INFO_RATE (&tl->info) / 50;

    /* a hole of more than 20 ms is silence; audio for time already
     * covered (late, or overlapping) is dropped */
    if (pos > tl->in_samples + slack)
      fill_to (tl, pos);
    else if (pos + slack < tl->in_samples)
      skip = MIN (n_frames, tl->in_samples - pos);
  }
  feed (tl, data + skip * GST_AUDIO_INFO_BPF (&tl->info), n_frames - skip,
      TRUE);
  return skip;
}

void
kling_mel_timeline_gap (KlingMelTimeline * tl, GstClockTime ts,
    GstClockTime duration)
{
  if (!tl->have_info)
    return;
  kling_mel_timeline_start (tl, ts);
  if (GST_CLOCK_TIME_IS_VALID (ts) && GST_CLOCK_TIME_IS_VALID (duration))
    fill_to (tl, position (tl, ts + duration));
}

void
kling_mel_timeline_finish (KlingMelTimeline * tl)
{
  if (tl->finished)
    return;
  if (tl->conv) {
    gsize latency = gst_audio_converter_get_max_latency (tl->conv);

    if (latency)
      feed (tl, NULL, latency, FALSE);
  }
  kling_mel_stream_finish (tl->mel);
  tl->finished = TRUE;
}

gboolean
kling_mel_timeline_is_finished (const KlingMelTimeline * tl)
{
  return tl->finished;
}

GstClockTime
kling_mel_timeline_frame_pts (const KlingMelTimeline * tl, guint64 n)
{
  return tl->t0 + gst_util_uint64_scale (n, tl->fps_d * GST_SECOND,
      tl->fps_n);
}

GstClockTime
kling_mel_timeline_frame_duration (const KlingMelTimeline * tl, guint64 n)
{
  return kling_mel_timeline_frame_pts (tl, n + 1) -
      kling_mel_timeline_frame_pts (tl, n);
}

guint64
kling_mel_timeline_n_frames (const KlingMelTimeline * tl)
{
  guint64 rate = tl->have_info ? GST_AUDIO_INFO_RATE (&tl->info) : 1;
  guint64 den = (guint64) tl->fps_d * rate;

  return (tl->in_samples * tl->fps_n + den - 1) / den;
}

static gdouble
frame_seconds (const KlingMelTimeline * tl, guint64 n)
{
  return (gdouble) n *tl->fps_d / tl->fps_n;
}

static void
discard_before (KlingMelTimeline * tl, guint64 n)
{
  kling_mel_stream_discard (tl->mel, kling_mel_stream_frame_at (tl->mel,
          frame_seconds (tl, n)) + tl->params.offset);
}

gboolean
kling_mel_timeline_window (KlingMelTimeline * tl, guint64 n, gfloat * mel,
    gboolean * silent)
{
  *silent = FALSE;
  if (tl->finished && n >= kling_mel_timeline_n_frames (tl))
    return FALSE;
  if (!kling_mel_stream_window (tl->mel, frame_seconds (tl, n), mel, silent))
    return FALSE;
  discard_before (tl, n);
  return TRUE;
}

GstClockTime
kling_mel_timeline_lookahead (const KlingMelTimeline * tl)
{
  return (GstClockTime) (kling_mel_params_lookahead (&tl->params) *
      GST_SECOND);
}

gboolean
kling_mel_timeline_window_now (KlingMelTimeline * tl, guint64 n, gfloat * mel,
    gboolean * silent)
{
  guint64 rate, need;
  guint tries;

  *silent = FALSE;
  if (!tl->have_info || !GST_CLOCK_TIME_IS_VALID (tl->t0))
    return FALSE;
  rate = GST_AUDIO_INFO_RATE (&tl->info);
  need = gst_util_uint64_scale_round (kling_mel_timeline_frame_pts (tl, n) -
      tl->t0 + kling_mel_timeline_lookahead (tl), rate, GST_SECOND);
  /* the converter may hold a few samples back: silence in steps until
   * the window is made */
  for (tries = 0; tries < 64; tries++) {
    if (kling_mel_stream_window (tl->mel, frame_seconds (tl, n), mel, silent)) {
      discard_before (tl, n);
      return TRUE;
    }
    if (tl->finished)
      return FALSE;
    fill_to (tl, MAX (need, tl->in_samples) + (tries + 1) * (rate / 200 + 1));
  }
  return FALSE;
}
