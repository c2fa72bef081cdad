/* gst-kling: the audio a talking head is fed, shared between threads
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-mel-feed.h"

struct _KlingMelFeed
{
  GMutex lock;
  GCond cond;
  gboolean flushing;
  gboolean playing;
  KlingMelTimeline *timeline;
  GstSegment segment;
  gchar *stream_id;
  GstClockTime upstream_latency;

  /* set in _open, read-only until _close */
  GstClockTime lookahead;
  /* the producer's alone: only it writes and reads it */
  gfloat *window;
};

KlingMelFeed *
kling_mel_feed_new (void)
{
  KlingMelFeed *feed = g_new0 (KlingMelFeed, 1);

  g_mutex_init (&feed->lock);
  g_cond_init (&feed->cond);
  gst_segment_init (&feed->segment, GST_FORMAT_TIME);
  return feed;
}

void
kling_mel_feed_free (KlingMelFeed * feed)
{
  if (feed == NULL)
    return;
  kling_mel_feed_close (feed);
  g_mutex_clear (&feed->lock);
  g_cond_clear (&feed->cond);
  g_free (feed);
}

gboolean
kling_mel_feed_open (KlingMelFeed * feed, const KlingMelParams * params,
    gint fps_n, gint fps_d, GError ** error)
{
  KlingMelTimeline *timeline = kling_mel_timeline_new (params, fps_n, fps_d,
      error);

  if (timeline == NULL)
    return FALSE;
  g_mutex_lock (&feed->lock);
  if (feed->timeline)
    kling_mel_timeline_free (feed->timeline);
  feed->timeline = timeline;
  g_mutex_unlock (&feed->lock);
  feed->lookahead = kling_mel_timeline_lookahead (timeline);
  g_free (feed->window);
  feed->window = g_new0 (gfloat, params->n_mels * params->frames);
  return TRUE;
}

void
kling_mel_feed_close (KlingMelFeed * feed)
{
  g_mutex_lock (&feed->lock);
  g_clear_pointer (&feed->timeline, kling_mel_timeline_free);
  g_clear_pointer (&feed->stream_id, g_free);
  g_mutex_unlock (&feed->lock);
  g_clear_pointer (&feed->window, g_free);
}

void
kling_mel_feed_reset (KlingMelFeed * feed)
{
  g_mutex_lock (&feed->lock);
  if (feed->timeline)
    kling_mel_timeline_reset (feed->timeline);
  g_mutex_unlock (&feed->lock);
}

/* @flag is one the waits look at: they are woken to see it. */
static void
set_flag (KlingMelFeed * feed, gboolean * flag, gboolean value)
{
  g_mutex_lock (&feed->lock);
  *flag = value;
  g_cond_broadcast (&feed->cond);
  g_mutex_unlock (&feed->lock);
}

void
kling_mel_feed_set_flushing (KlingMelFeed * feed, gboolean flushing)
{
  set_flag (feed, &feed->flushing, flushing);
}

void
kling_mel_feed_set_playing (KlingMelFeed * feed, gboolean playing)
{
  set_flag (feed, &feed->playing, playing);
}

gboolean
kling_mel_feed_set_format (KlingMelFeed * feed, const GstAudioInfo * info,
    GError ** error)
{
  gboolean ok;

  g_mutex_lock (&feed->lock);
  ok = kling_mel_timeline_set_format (feed->timeline, info, error);
  g_mutex_unlock (&feed->lock);
  return ok;
}

void
kling_mel_feed_set_stream_id (KlingMelFeed * feed, const gchar * stream_id)
{
  g_mutex_lock (&feed->lock);
  g_free (feed->stream_id);
  feed->stream_id = g_strdup (stream_id);
  g_mutex_unlock (&feed->lock);
}

void
kling_mel_feed_set_segment (KlingMelFeed * feed, const GstSegment * segment)
{
  g_mutex_lock (&feed->lock);
  feed->segment = *segment;
  g_mutex_unlock (&feed->lock);
}

void
kling_mel_feed_set_upstream_latency (KlingMelFeed * feed,
    GstClockTime latency)
{
  g_mutex_lock (&feed->lock);
  feed->upstream_latency = latency;
  g_mutex_unlock (&feed->lock);
}

GstFlowReturn
kling_mel_feed_push (KlingMelFeed * feed, GstBuffer * buf, gsize * skipped)
{
  GstMapInfo map;

  *skipped = 0;
  g_mutex_lock (&feed->lock);
  if (feed->flushing) {
    g_mutex_unlock (&feed->lock);
    return GST_FLOW_FLUSHING;
  }
  if (!kling_mel_timeline_has_format (feed->timeline)) {
    g_mutex_unlock (&feed->lock);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  kling_mel_timeline_start (feed->timeline, GST_BUFFER_PTS_IS_VALID (buf) ?
      GST_BUFFER_PTS (buf) : feed->segment.start);
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    *skipped = kling_mel_timeline_push (feed->timeline, GST_BUFFER_PTS (buf),
        map.data, map.size);
    gst_buffer_unmap (buf, &map);
  }
  g_cond_broadcast (&feed->cond);
  g_mutex_unlock (&feed->lock);
  return GST_FLOW_OK;
}

gboolean
kling_mel_feed_gap (KlingMelFeed * feed, GstClockTime ts,
    GstClockTime duration)
{
  gboolean have_format;

  g_mutex_lock (&feed->lock);
  kling_mel_timeline_gap (feed->timeline, ts, duration);
  have_format = kling_mel_timeline_has_format (feed->timeline);
  g_cond_broadcast (&feed->cond);
  g_mutex_unlock (&feed->lock);
  return have_format;
}

gboolean
kling_mel_feed_finish (KlingMelFeed * feed)
{
  gboolean started;

  g_mutex_lock (&feed->lock);
  started = GST_CLOCK_TIME_IS_VALID (kling_mel_timeline_get_start
      (feed->timeline));
  kling_mel_timeline_finish (feed->timeline);
  g_cond_broadcast (&feed->cond);
  g_mutex_unlock (&feed->lock);
  return started;
}

gboolean
kling_mel_feed_get_stream (KlingMelFeed * feed, GstSegment * segment,
    gchar ** upstream_id)
{
  gboolean ok;

  g_mutex_lock (&feed->lock);
  ok = !feed->flushing;
  *segment = feed->segment;
  *upstream_id = ok ? g_strdup (feed->stream_id) : NULL;
  g_mutex_unlock (&feed->lock);
  return ok;
}

void
kling_mel_feed_frame_time (KlingMelFeed * feed, guint64 n,
    GstClockTime * pts, GstClockTime * duration)
{
  g_mutex_lock (&feed->lock);
  *pts = kling_mel_timeline_frame_pts (feed->timeline, n);
  *duration = kling_mel_timeline_frame_duration (feed->timeline, n);
  g_mutex_unlock (&feed->lock);
}

GstClockTime
kling_mel_feed_lookahead (KlingMelFeed * feed)
{
  return feed->lookahead;
}

KlingMelFeedStatus
kling_mel_feed_wait_start (KlingMelFeed * feed)
{
  KlingMelFeedStatus status;

  g_mutex_lock (&feed->lock);
  while (!feed->flushing && !GST_CLOCK_TIME_IS_VALID
      (kling_mel_timeline_get_start (feed->timeline))
      && !kling_mel_timeline_is_finished (feed->timeline))
    g_cond_wait (&feed->cond, &feed->lock);
  if (feed->flushing)
    status = KLING_MEL_FEED_FLUSHING;
  else if (!GST_CLOCK_TIME_IS_VALID (kling_mel_timeline_get_start
          (feed->timeline)))
    status = KLING_MEL_FEED_ENDED;
  else
    status = KLING_MEL_FEED_READY;
  g_mutex_unlock (&feed->lock);
  return status;
}

KlingMelFeedStatus
kling_mel_feed_wait_playing (KlingMelFeed * feed, guint64 n,
    GstClockTime * deadline)
{
  KlingMelFeedStatus status = KLING_MEL_FEED_FLUSHING;

  *deadline = GST_CLOCK_TIME_NONE;
  g_mutex_lock (&feed->lock);
  while (!feed->flushing && !feed->playing)
    g_cond_wait (&feed->cond, &feed->lock);
  if (!feed->flushing) {
    *deadline = gst_segment_to_running_time (&feed->segment,
        GST_FORMAT_TIME, kling_mel_timeline_frame_pts (feed->timeline, n));
    if (GST_CLOCK_TIME_IS_VALID (*deadline))
      *deadline += feed->lookahead + feed->upstream_latency;
    status = KLING_MEL_FEED_READY;
  }
  g_mutex_unlock (&feed->lock);
  return status;
}

KlingMelFeedStatus
kling_mel_feed_next_window (KlingMelFeed * feed, guint64 n, gboolean live,
    gboolean * silent)
{
  KlingMelFeedStatus status = KLING_MEL_FEED_READY;
  KlingMelTimeline *timeline;

  *silent = TRUE;
  g_mutex_lock (&feed->lock);
  timeline = feed->timeline;
  if (feed->flushing)
    status = KLING_MEL_FEED_FLUSHING;
  else if (!live && !kling_mel_timeline_window (timeline, n, feed->window,
          silent))
    status = kling_mel_timeline_is_finished (timeline) ?
        KLING_MEL_FEED_ENDED : KLING_MEL_FEED_NOT_COVERED;
  else if (!live)
    status = KLING_MEL_FEED_READY;
  else if (!feed->playing)
    status = KLING_MEL_FEED_PAUSED;
  /* checked first: a live frame past the end would be made of silence */
  else if (kling_mel_timeline_is_finished (timeline)
      && n >= kling_mel_timeline_n_frames (timeline))
    status = KLING_MEL_FEED_ENDED;
  else if (!kling_mel_timeline_window_now (timeline, n, feed->window, silent))
    status = KLING_MEL_FEED_NOT_COVERED;
  g_mutex_unlock (&feed->lock);
  return status;
}

gboolean
kling_mel_feed_is_late (KlingMelFeed * feed, guint64 n, GstClockTime deadline,
    GstClockTime now)
{
  GstClockTime pts, duration;

  if (!GST_CLOCK_TIME_IS_VALID (deadline) || !GST_CLOCK_TIME_IS_VALID (now))
    return FALSE;
  kling_mel_feed_frame_time (feed, n, &pts, &duration);
  return now > deadline + duration;
}

const gfloat *
kling_mel_feed_get_window (KlingMelFeed * feed)
{
  return feed->window;
}
