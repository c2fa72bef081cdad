/* gst-kling: the audio timeline of a talking head
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Audio in any format is placed on a timeline that starts at its first
 * sample (t0): holes are silence, audio for time already covered is
 * dropped, and everything is converted to the model's mono rate and fed
 * to a streaming log-mel spectrogram.  Video frame n is at
 * t0 + n / framerate; its mel window is ready once the audio covers the
 * window's look-ahead.  Not thread-safe: the caller holds its own lock.
 */
#ifndef __KLING_MEL_TIMELINE_H__
#define __KLING_MEL_TIMELINE_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "kling-mel.h"

G_BEGIN_DECLS

typedef struct _KlingMelTimeline KlingMelTimeline;

/* A timeline for windows as @params gives them, video at @fps_n/@fps_d.
 * NULL with @error set when @params cannot make a spectrogram. */
KlingMelTimeline *kling_mel_timeline_new (const KlingMelParams * params,
    gint fps_n, gint fps_d, GError ** error);
void kling_mel_timeline_free (KlingMelTimeline * timeline);

/* Forgets the stream (t0, samples, spectrogram, end); keeps the format. */
void kling_mel_timeline_reset (KlingMelTimeline * timeline);

/* The input format.  A rate change keeps the time reached.  FALSE with
 * @error set when it cannot be converted to the model's mono rate. */
gboolean kling_mel_timeline_set_format (KlingMelTimeline * timeline,
    const GstAudioInfo * info, GError ** error);
gboolean kling_mel_timeline_has_format (const KlingMelTimeline * timeline);

/* The timeline starts at @ts, unless it has started. */
void kling_mel_timeline_start (KlingMelTimeline * timeline, GstClockTime ts);
/* t0, GST_CLOCK_TIME_NONE before the start. */
GstClockTime kling_mel_timeline_get_start (const KlingMelTimeline * timeline);

/* @n_bytes of audio in the input format at @pts (GST_CLOCK_TIME_NONE:
 * right after the last), once started.  A hole over 20 ms before @pts is
 * silence; samples for time already covered are dropped.  Returns the
 * samples dropped. */
gsize kling_mel_timeline_push (KlingMelTimeline * timeline, GstClockTime pts,
    const guint8 * data, gsize n_bytes);
/* A GAP: silence from @ts for @duration (the timeline starts at @ts). */
void kling_mel_timeline_gap (KlingMelTimeline * timeline, GstClockTime ts,
    GstClockTime duration);
/* The audio ended: the converter drained, the last mel frames made. */
void kling_mel_timeline_finish (KlingMelTimeline * timeline);
gboolean kling_mel_timeline_is_finished (const KlingMelTimeline * timeline);

/* Video frame @n's time and duration. */
GstClockTime kling_mel_timeline_frame_pts (const KlingMelTimeline * timeline,
    guint64 n);
GstClockTime kling_mel_timeline_frame_duration (const KlingMelTimeline *
    timeline, guint64 n);
/* The frames the audio lasts (n with n / fps < its duration). */
guint64 kling_mel_timeline_n_frames (const KlingMelTimeline * timeline);

/* Frame @n's window into @mel (n_mels x frames) and whether it is all
 * silence: TRUE when the audio covers it (and, once finished, when @n is
 * one of the frames it lasts).  The spectrogram before it is dropped:
 * ask frames in order. */
gboolean kling_mel_timeline_window (KlingMelTimeline * timeline, guint64 n,
    gfloat * mel, gboolean * silent);
/* As _window, for a frame whose time has come (live): the audio it still
 * lacks is silence.  FALSE only before the start or without a format. */
gboolean kling_mel_timeline_window_now (KlingMelTimeline * timeline,
    guint64 n, gfloat * mel, gboolean * silent);

/* The audio after a frame's time its window needs. */
GstClockTime kling_mel_timeline_lookahead (const KlingMelTimeline * timeline);

G_END_DECLS
#endif
