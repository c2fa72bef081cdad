/* gst-kling: a source pad fed from another thread
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-padqueue.h"

GST_DEBUG_CATEGORY_STATIC (kling_pad_queue_debug);
#define GST_CAT_DEFAULT kling_pad_queue_debug

typedef enum
{
  ITEM_BUFFER,
  ITEM_GAP,
  ITEM_EOS
} ItemType;

typedef struct
{
  ItemType type;
  GstBuffer *buffer;
  GstClockTime start, end;      /* GAP */
} Item;

struct _KlingPadQueue
{
  GstElement *element;          /* not owned: the queue lives in it */
  GstPad *pad;

  GMutex lock;
  GCond cond;
  GQueue items;
  GstClockTime queued_time;
  guint max_items;
  GstClockTime max_time, max_gap;
  gboolean sync, playing, flushing;
  GstFlowReturn flow;
  GstClockID clock_id;
  guint group_id;
  gboolean have_group_id;

  /* the task's own */
  gboolean started;
  gchar *stream_name;
  GstCaps *caps;
};

static void
item_free (Item * item)
{
  if (item->buffer)
    gst_buffer_unref (item->buffer);
  g_free (item);
}

static GstClockTime
item_duration (const Item * item)
{
  if (item->type == ITEM_GAP)
    return item->end - item->start;
  if (item->type == ITEM_BUFFER && GST_BUFFER_DURATION_IS_VALID (item->buffer))
    return GST_BUFFER_DURATION (item->buffer);
  return 0;
}

KlingPadQueue *
kling_pad_queue_new (GstElement * element, GstPad * pad, guint max_items,
    GstClockTime max_time, GstClockTime max_gap)
{
  KlingPadQueue *q = g_new0 (KlingPadQueue, 1);

  if (g_once_init_enter (&kling_pad_queue_debug)) {
    GstDebugCategory *cat = NULL;

    GST_DEBUG_CATEGORY_INIT (cat, "klingpadqueue", 0,
        "gst-kling source pad queue");
    g_once_init_leave (&kling_pad_queue_debug, cat);
  }
  q->element = element;
  q->pad = gst_object_ref (pad);
  g_mutex_init (&q->lock);
  g_cond_init (&q->cond);
  g_queue_init (&q->items);
  q->max_items = MAX (max_items, 1);
  q->max_time = max_time;
  q->max_gap = max_gap;
  q->flushing = TRUE;
  q->flow = GST_FLOW_FLUSHING;
  return q;
}

void
kling_pad_queue_free (KlingPadQueue * q)
{
  if (q == NULL)
    return;
  g_queue_clear_full (&q->items, (GDestroyNotify) item_free);
  gst_object_unref (q->pad);
  g_free (q->stream_name);
  if (q->caps)
    gst_caps_unref (q->caps);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->cond);
  g_free (q);
}

void
kling_pad_queue_set_limits (KlingPadQueue * q, guint max_items,
    GstClockTime max_time)
{
  g_mutex_lock (&q->lock);
  q->max_items = MAX (max_items, 1);
  q->max_time = max_time;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

void
kling_pad_queue_set_sync (KlingPadQueue * q, gboolean sync)
{
  g_mutex_lock (&q->lock);
  q->sync = sync;
  g_mutex_unlock (&q->lock);
}

void
kling_pad_queue_set_playing (KlingPadQueue * q, gboolean playing)
{
  g_mutex_lock (&q->lock);
  q->playing = playing;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

void
kling_pad_queue_set_group_id (KlingPadQueue * q, guint group_id)
{
  g_mutex_lock (&q->lock);
  q->group_id = group_id;
  q->have_group_id = TRUE;
  g_mutex_unlock (&q->lock);
}

static void
send_start_events (KlingPadQueue * q)
{
  gchar *id = gst_pad_create_stream_id (q->pad, q->element, q->stream_name);
  GstEvent *ev = gst_event_new_stream_start (id);
  GstSegment seg;

  g_free (id);
  g_mutex_lock (&q->lock);
  if (!q->have_group_id) {
    q->group_id = gst_util_group_id_next ();
    q->have_group_id = TRUE;
  }
  gst_event_set_group_id (ev, q->group_id);
  g_mutex_unlock (&q->lock);
  gst_pad_push_event (q->pad, ev);
  if (q->caps)
    gst_pad_push_event (q->pad, gst_event_new_caps (q->caps));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  gst_pad_push_event (q->pad, gst_event_new_segment (&seg));
}

/* Waits until the clock reaches running time @t; FALSE when stopped. */
static gboolean
wait_clock (KlingPadQueue * q, GstClockTime t)
{
  GstClock *clock;
  GstClockID id;

  g_mutex_lock (&q->lock);
  while (!q->flushing && !q->playing)
    g_cond_wait (&q->cond, &q->lock);
  if (q->flushing) {
    g_mutex_unlock (&q->lock);
    return FALSE;
  }
  g_mutex_unlock (&q->lock);

  clock = gst_element_get_clock (q->element);
  if (clock == NULL)
    return TRUE;
  id = gst_clock_new_single_shot_id (clock,
      gst_element_get_base_time (q->element) + t);
  gst_object_unref (clock);
  g_mutex_lock (&q->lock);
  if (!q->flushing) {
    q->clock_id = id;
    g_mutex_unlock (&q->lock);
    gst_clock_id_wait (id, NULL);
    g_mutex_lock (&q->lock);
    q->clock_id = NULL;
  }
  g_mutex_unlock (&q->lock);
  gst_clock_id_unref (id);
  return !q->flushing;
}

static void
pad_loop (KlingPadQueue * q)
{
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean sync;
  Item *item;

  g_mutex_lock (&q->lock);
  while (!q->flushing && g_queue_is_empty (&q->items))
    g_cond_wait (&q->cond, &q->lock);
  if (q->flushing) {
    g_mutex_unlock (&q->lock);
    gst_pad_pause_task (q->pad);
    return;
  }
  item = g_queue_pop_head (&q->items);
  q->queued_time -= MIN (q->queued_time, item_duration (item));
  sync = q->sync;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);

  if (!q->started) {
    send_start_events (q);
    q->started = TRUE;
  }

  switch (item->type) {
    case ITEM_BUFFER:
      if (sync && GST_BUFFER_PTS_IS_VALID (item->buffer)
          && !wait_clock (q, GST_BUFFER_PTS (item->buffer) +
              item_duration (item))) {
        ret = GST_FLOW_FLUSHING;
        break;
      }
      GST_LOG_OBJECT (q->pad, "buffer at %" GST_TIME_FORMAT,
          GST_TIME_ARGS (GST_BUFFER_PTS (item->buffer)));
      ret = gst_pad_push (q->pad, item->buffer);
      item->buffer = NULL;
      break;
    case ITEM_GAP:
      gst_pad_push_event (q->pad, gst_event_new_gap (item->start,
              item->end - item->start));
      break;
    case ITEM_EOS:
      gst_pad_push_event (q->pad, gst_event_new_eos ());
      ret = GST_FLOW_EOS;
      break;
  }
  item_free (item);

  g_mutex_lock (&q->lock);
  if (!q->flushing)
    q->flow = ret;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED) {
    GST_DEBUG_OBJECT (q->pad, "pausing: %s", gst_flow_get_name (ret));
    if (ret < GST_FLOW_EOS && ret != GST_FLOW_FLUSHING) {
      GST_ELEMENT_FLOW_ERROR (q->element, ret);
      gst_pad_push_event (q->pad, gst_event_new_eos ());
    }
    gst_pad_pause_task (q->pad);
  }
}

void
kling_pad_queue_start (KlingPadQueue * q, const gchar * stream_name,
    GstCaps * caps)
{
  g_mutex_lock (&q->lock);
  g_queue_clear_full (&q->items, (GDestroyNotify) item_free);
  q->queued_time = 0;
  q->flushing = FALSE;
  q->flow = GST_FLOW_OK;
  g_mutex_unlock (&q->lock);
  /* the task is not running: these are the task's own */
  q->started = FALSE;
  g_free (q->stream_name);
  q->stream_name = g_strdup (stream_name);
  if (q->caps)
    gst_caps_unref (q->caps);
  q->caps = caps;
  gst_pad_start_task (q->pad, (GstTaskFunction) pad_loop, q, NULL);
}

void
kling_pad_queue_stop (KlingPadQueue * q, gboolean join)
{
  g_mutex_lock (&q->lock);
  q->flushing = TRUE;
  q->flow = GST_FLOW_FLUSHING;
  if (q->clock_id)
    gst_clock_id_unschedule (q->clock_id);
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  if (join)
    gst_pad_stop_task (q->pad);
  else
    gst_pad_pause_task (q->pad);
  g_mutex_lock (&q->lock);
  g_queue_clear_full (&q->items, (GDestroyNotify) item_free);
  q->queued_time = 0;
  g_mutex_unlock (&q->lock);
}

static gboolean
flow_accepts (GstFlowReturn flow)
{
  return flow == GST_FLOW_OK || flow == GST_FLOW_NOT_LINKED;
}

/* With the lock: waits for room; FALSE (and the flow in *ret) when the
 * item must be dropped. */
static gboolean
wait_room (KlingPadQueue * q, GstFlowReturn * ret)
{
  while (!q->flushing && flow_accepts (q->flow)
      && (g_queue_get_length (&q->items) >= q->max_items
          || (GST_CLOCK_TIME_IS_VALID (q->max_time)
              && q->queued_time >= q->max_time)))
    g_cond_wait (&q->cond, &q->lock);
  *ret = q->flushing ? GST_FLOW_FLUSHING : q->flow;
  return !q->flushing && flow_accepts (q->flow);
}

static GstFlowReturn
push_item (KlingPadQueue * q, Item * item)
{
  GstFlowReturn ret;

  Item *tail;

  g_mutex_lock (&q->lock);
  tail = g_queue_peek_tail (&q->items);
  if (item->type == ITEM_GAP && tail && tail->type == ITEM_GAP
      && tail->end == item->start && !q->flushing && flow_accepts (q->flow)
      && (!GST_CLOCK_TIME_IS_VALID (q->max_gap)
          || item->end - tail->start <= q->max_gap)) {
    /* one GAP for the whole stretch: needs no room */
    tail->end = item->end;
    q->queued_time += item->end - item->start;
    ret = q->flow;
    g_mutex_unlock (&q->lock);
    item_free (item);
    return ret;
  }
  if (!wait_room (q, &ret)) {
    g_mutex_unlock (&q->lock);
    item_free (item);
    return ret;
  }
  q->queued_time += item_duration (item);
  g_queue_push_tail (&q->items, item);
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  return ret;
}

GstFlowReturn
kling_pad_queue_push_buffer (KlingPadQueue * q, GstBuffer * buffer)
{
  Item *item = g_new0 (Item, 1);

  item->type = ITEM_BUFFER;
  item->buffer = buffer;
  return push_item (q, item);
}

GstFlowReturn
kling_pad_queue_push_gap (KlingPadQueue * q, GstClockTime start,
    GstClockTime end)
{
  Item *item;

  g_return_val_if_fail (GST_CLOCK_TIME_IS_VALID (start), GST_FLOW_ERROR);
  if (end <= start)
    return kling_pad_queue_flow (q);
  item = g_new0 (Item, 1);
  item->type = ITEM_GAP;
  item->start = start;
  item->end = end;
  return push_item (q, item);
}

GstFlowReturn
kling_pad_queue_push_eos (KlingPadQueue * q)
{
  Item *item = g_new0 (Item, 1);

  item->type = ITEM_EOS;
  return push_item (q, item);
}

void
kling_pad_queue_clip (KlingPadQueue * q, GstClockTime cut)
{
  GList *l;

  g_mutex_lock (&q->lock);
  for (l = q->items.head; l; l = l->next) {
    Item *item = l->data;
    GstClockTime pts, dur;

    if (item->type != ITEM_BUFFER)
      continue;
    pts = GST_BUFFER_PTS (item->buffer);
    dur = item_duration (item);
    if (GST_CLOCK_TIME_IS_VALID (pts) && pts + dur > cut) {
      GstClockTime keep = cut > pts ? cut - pts : 0;

      item->buffer = gst_buffer_make_writable (item->buffer);
      GST_BUFFER_DURATION (item->buffer) = keep;
      q->queued_time -= MIN (q->queued_time, dur - keep);
    }
  }
  g_mutex_unlock (&q->lock);
}

GstFlowReturn
kling_pad_queue_flow (KlingPadQueue * q)
{
  GstFlowReturn ret;

  g_mutex_lock (&q->lock);
  ret = q->flushing ? GST_FLOW_FLUSHING : q->flow;
  g_mutex_unlock (&q->lock);
  return ret;
}
