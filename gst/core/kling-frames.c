/* gst-kling: frames between a generator thread and a streaming thread,
 * and the timing of a live source's frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kling-frames.h"

struct _KlingFrameQueue
{
  GMutex lock;
  GCond cond;
  GQueue items;
  guint max_items;
  GDestroyNotify free_item;
  gboolean cancelled, flushing, done;
  GError *error;
};

KlingFrameQueue *
kling_frame_queue_new (guint max_items, GDestroyNotify free_item)
{
  KlingFrameQueue *q = g_new0 (KlingFrameQueue, 1);

  g_mutex_init (&q->lock);
  g_cond_init (&q->cond);
  g_queue_init (&q->items);
  q->max_items = MAX (max_items, 1);
  q->free_item = free_item;
  return q;
}

void
kling_frame_queue_free (KlingFrameQueue * q)
{
  if (q == NULL)
    return;
  kling_frame_queue_reset (q);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->cond);
  g_free (q);
}

gboolean
kling_frame_queue_push (KlingFrameQueue * q, gpointer item)
{
  gboolean ok;

  g_mutex_lock (&q->lock);
  while (q->items.length >= q->max_items && !q->cancelled)
    g_cond_wait (&q->cond, &q->lock);
  ok = !q->cancelled;
  if (ok)
    g_queue_push_tail (&q->items, item);
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  if (!ok && q->free_item)
    q->free_item (item);
  return ok;
}

void
kling_frame_queue_finish (KlingFrameQueue * q, GError * error)
{
  g_mutex_lock (&q->lock);
  q->done = TRUE;
  if (q->error == NULL)
    q->error = error;
  else
    g_clear_error (&error);
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

void
kling_frame_queue_cancel (KlingFrameQueue * q)
{
  g_mutex_lock (&q->lock);
  q->cancelled = TRUE;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

gboolean
kling_frame_queue_is_cancelled (KlingFrameQueue * q)
{
  gboolean ret;

  g_mutex_lock (&q->lock);
  ret = q->cancelled;
  g_mutex_unlock (&q->lock);
  return ret;
}

KlingFrameResult
kling_frame_queue_pop (KlingFrameQueue * q, gboolean block, gpointer * item)
{
  KlingFrameResult ret;

  *item = NULL;
  g_mutex_lock (&q->lock);
  while (block && g_queue_is_empty (&q->items) && !q->flushing && !q->done)
    g_cond_wait (&q->cond, &q->lock);
  if (q->flushing)
    ret = KLING_FRAME_FLUSHING;
  else if (!g_queue_is_empty (&q->items)) {
    *item = g_queue_pop_head (&q->items);
    ret = KLING_FRAME_OK;
  } else
    ret = q->done ? KLING_FRAME_DONE : KLING_FRAME_EMPTY;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  return ret;
}

guint
kling_frame_queue_drop (KlingFrameQueue * q, guint n)
{
  GQueue dropped = G_QUEUE_INIT;
  guint i;

  g_mutex_lock (&q->lock);
  for (i = 0; i < n && q->items.length > 1; i++)
    g_queue_push_tail (&dropped, g_queue_pop_head (&q->items));
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  /* freed unlocked: a buffer's free may take locks of its own */
  g_queue_clear_full (&dropped, q->free_item);
  return i;
}

void
kling_frame_queue_set_flushing (KlingFrameQueue * q, gboolean flushing)
{
  g_mutex_lock (&q->lock);
  q->flushing = flushing;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

GError *
kling_frame_queue_take_error (KlingFrameQueue * q)
{
  GError *error;

  g_mutex_lock (&q->lock);
  error = q->error;
  q->error = NULL;
  g_mutex_unlock (&q->lock);
  return error;
}

void
kling_frame_queue_reset (KlingFrameQueue * q)
{
  GQueue items;

  g_mutex_lock (&q->lock);
  items = q->items;
  g_queue_init (&q->items);
  q->cancelled = q->flushing = q->done = FALSE;
  g_clear_error (&q->error);
  g_mutex_unlock (&q->lock);
  g_queue_clear_full (&items, q->free_item);
}

void
kling_pacer_init (KlingPacer * p, gint fps_n, gint fps_d, guint64 total)
{
  g_return_if_fail (fps_n > 0 && fps_d > 0);
  p->fps_n = fps_n;
  p->fps_d = fps_d;
  p->total = total;
  p->next = 0;
  p->start = GST_CLOCK_TIME_NONE;
}

gboolean
kling_pacer_done (const KlingPacer * p)
{
  return p->total != G_MAXUINT64 && p->next >= p->total;
}

static GstClockTime
offset_of (const KlingPacer * p, guint64 n)
{
  return gst_util_uint64_scale (n, p->fps_d * GST_SECOND, p->fps_n);
}

GstClockTime
kling_pacer_slot_time (const KlingPacer * p, guint64 n)
{
  return (GST_CLOCK_TIME_IS_VALID (p->start) ? p->start : 0) + offset_of (p, n);
}

GstClockTime
kling_pacer_slot_duration (const KlingPacer * p, guint64 n)
{
  return offset_of (p, n + 1) - offset_of (p, n);
}

guint64
kling_pacer_skip_late (KlingPacer * p, GstClockTime now)
{
  guint64 current, skipped;

  if (!GST_CLOCK_TIME_IS_VALID (p->start) || !GST_CLOCK_TIME_IS_VALID (now)
      || now < p->start)
    return 0;
  /* the slot @now falls in: everything before it has passed */
  current = gst_util_uint64_scale (now - p->start, p->fps_n,
      p->fps_d * GST_SECOND);
  if (current <= p->next)
    return 0;
  if (p->total != G_MAXUINT64 && current > p->total)
    current = p->total;
  skipped = current - p->next;
  p->next = current;
  return skipped;
}
