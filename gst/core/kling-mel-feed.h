/* gst-kling: the audio a talking head is fed, shared between threads
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A kling-mel-timeline under a lock of its own, with the stream state
 * around it (segment, stream-id, flushing, PLAYING, upstream latency):
 * the audio pad's streaming thread feeds it, and one producer (the same
 * thread, or a live task) takes each frame's window in turn, waiting
 * for the audio to start and, live, for PLAYING.  Every wait returns
 * when flushing is switched on.
 */
#ifndef __KLING_MEL_FEED_H__
#define __KLING_MEL_FEED_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "kling-mel-timeline.h"

G_BEGIN_DECLS

typedef struct _KlingMelFeed KlingMelFeed;

/* What the producer is told about its next frame. */
typedef enum
{
  KLING_MEL_FEED_READY,         /* go on: the window is there, or the
                                 * wait is over */
  KLING_MEL_FEED_NOT_COVERED,   /* the audio does not cover the window yet
                                 * (live: there is no window at all) */
  KLING_MEL_FEED_ENDED,         /* the audio ended before this frame */
  KLING_MEL_FEED_FLUSHING,
  KLING_MEL_FEED_PAUSED,        /* live: no longer PLAYING */
} KlingMelFeedStatus;

/* Lives as long as its element; a stream's timeline comes with _open. */
KlingMelFeed *kling_mel_feed_new (void);
void kling_mel_feed_free (KlingMelFeed * feed);

/* A timeline for windows as @params gives them, video at @fps_n/@fps_d
 * (kling_mel_timeline_new).  FALSE with @error set when @params cannot
 * make a spectrogram. */
gboolean kling_mel_feed_open (KlingMelFeed * feed,
    const KlingMelParams * params, gint fps_n, gint fps_d, GError ** error);
/* Drops the timeline and the stream-id; the feed can be opened again. */
void kling_mel_feed_close (KlingMelFeed * feed);
/* Forgets the stream (a flush); keeps the format. */
void kling_mel_feed_reset (KlingMelFeed * feed);

/* Wakes every wait; while on, the audio is refused and the waits return
 * KLING_MEL_FEED_FLUSHING. */
void kling_mel_feed_set_flushing (KlingMelFeed * feed, gboolean flushing);
/* Live frames wait for PLAYING; leaving it wakes them. */
void kling_mel_feed_set_playing (KlingMelFeed * feed, gboolean playing);

/* --- the audio pad's side --------------------------------------------- */

/* kling_mel_timeline_set_format, under the lock. */
gboolean kling_mel_feed_set_format (KlingMelFeed * feed,
    const GstAudioInfo * info, GError ** error);
void kling_mel_feed_set_stream_id (KlingMelFeed * feed,
    const gchar * stream_id);
void kling_mel_feed_set_segment (KlingMelFeed * feed,
    const GstSegment * segment);
/* The min latency upstream reports: live deadlines wait for it too. */
void kling_mel_feed_set_upstream_latency (KlingMelFeed * feed,
    GstClockTime latency);

/* @buf (not taken) onto the timeline, which starts at its PTS (or the
 * segment's start).  GST_FLOW_FLUSHING while flushing,
 * GST_FLOW_NOT_NEGOTIATED before a format; *@skipped: the samples
 * dropped for time already covered. */
GstFlowReturn kling_mel_feed_push (KlingMelFeed * feed, GstBuffer * buf,
    gsize * skipped);
/* A GAP (kling_mel_timeline_gap); whether the feed has a format, so
 * that frames can be made from it. */
gboolean kling_mel_feed_gap (KlingMelFeed * feed, GstClockTime ts,
    GstClockTime duration);
/* The audio ended (EOS); whether any had come. */
gboolean kling_mel_feed_finish (KlingMelFeed * feed);

/* --- the producer's side ---------------------------------------------- */

/* The segment and the upstream stream-id (NULL before a STREAM_START; g_free
 * it) the output starts with; FALSE while flushing. */
gboolean kling_mel_feed_get_stream (KlingMelFeed * feed,
    GstSegment * segment, gchar ** upstream_id);
/* Video frame @n's time and duration on the timeline. */
void kling_mel_feed_frame_time (KlingMelFeed * feed, guint64 n,
    GstClockTime * pts, GstClockTime * duration);
/* The audio after a frame's time its window needs. */
GstClockTime kling_mel_feed_lookahead (KlingMelFeed * feed);

/* Waits until the audio starts: READY, ENDED (it ended before it began)
 * or FLUSHING. */
KlingMelFeedStatus kling_mel_feed_wait_start (KlingMelFeed * feed);
/* Waits for PLAYING: READY with *@deadline the running time at which
 * frame @n's window is complete (its time, the look-ahead, the upstream
 * latency; GST_CLOCK_TIME_NONE outside the segment), or FLUSHING. */
KlingMelFeedStatus kling_mel_feed_wait_playing (KlingMelFeed * feed,
    guint64 n, GstClockTime * deadline);
/* Frame @n's window into kling_mel_feed_get_window, asked in order, and
 * whether it is all silence: READY, NOT_COVERED, ENDED or FLUSHING.
 * With @live the frame's time has come: the audio it still lacks is
 * silence, and PAUSED says it is no longer PLAYING. */
KlingMelFeedStatus kling_mel_feed_next_window (KlingMelFeed * feed,
    guint64 n, gboolean live, gboolean * silent);
/* Whether frame @n, due at running time @deadline (from
 * kling_mel_feed_wait_playing), is more than a frame late at running time
 * @now: too late to make with the model and still keep the stream's
 * pace.  Never without a deadline or a clock (@now GST_CLOCK_TIME_NONE). */
gboolean kling_mel_feed_is_late (KlingMelFeed * feed, guint64 n,
    GstClockTime deadline, GstClockTime now);
/* The last window taken (n_mels x frames): the producer's, unlocked. */
const gfloat *kling_mel_feed_get_window (KlingMelFeed * feed);

G_END_DECLS
#endif
