/* gst-kling: a text source pad beside a video stream, pushed from its own
 * task
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/base/gstdataqueue.h>
#include "kling-textsrc.h"

struct _KlingTextSrc
{
  GstPad *pad;
  GstCaps *caps;
  guint max_items;
  GstDataQueue *queue;
  GMutex lock;
  GstFlowReturn flow;           /* last push, under @lock */
  gboolean started;             /* stream-start sent; streaming thread */
  GstEvent *stream_start;       /* the derived one, to replay after a flush */
};

static gboolean
queue_full (GstDataQueue * queue, guint visible, guint bytes, guint64 time,
    gpointer user_data)
{
  KlingTextSrc *text = user_data;

  return visible >= text->max_items;
}

static void
item_free (GstDataQueueItem * item)
{
  gst_mini_object_unref (item->object);
  g_free (item);
}

static gboolean
enqueue (KlingTextSrc * text, GstMiniObject * object)
{
  GstDataQueueItem *item = g_new0 (GstDataQueueItem, 1);

  item->object = object;
  item->visible = TRUE;
  item->destroy = (GDestroyNotify) item_free;
  if (!gst_data_queue_push (text->queue, item)) {
    item_free (item);
    return FALSE;
  }
  return TRUE;
}

static void
set_flow (KlingTextSrc * text, GstFlowReturn flow)
{
  g_mutex_lock (&text->lock);
  text->flow = flow;
  g_mutex_unlock (&text->lock);
}

static void
loop (KlingTextSrc * text)
{
  GstDataQueueItem *item;
  GstFlowReturn ret = GST_FLOW_OK;

  if (!gst_data_queue_pop (text->queue, &item)) {
    gst_pad_pause_task (text->pad);
    return;
  }
  if (GST_IS_BUFFER (item->object))
    ret = gst_pad_push (text->pad,
        GST_BUFFER (gst_mini_object_ref (item->object)));
  else
    gst_pad_push_event (text->pad,
        GST_EVENT (gst_mini_object_ref (item->object)));
  item->destroy (item);
  if (ret != GST_FLOW_OK)
    set_flow (text, ret);
}

static gboolean
start_task (KlingTextSrc * text)
{
  return gst_pad_start_task (text->pad, (GstTaskFunction) loop, text, NULL);
}

static gboolean
activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  KlingTextSrc *text = pad->activatemodedata;   /* set with the function */

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    set_flow (text, GST_FLOW_OK);
    gst_data_queue_set_flushing (text->queue, FALSE);
    return start_task (text);
  }
  gst_data_queue_set_flushing (text->queue, TRUE);
  gst_data_queue_flush (text->queue);
  return gst_pad_stop_task (pad);
}

KlingTextSrc *
kling_text_src_new (GstPad * pad, GstCaps * caps, guint max_items)
{
  KlingTextSrc *text = g_new0 (KlingTextSrc, 1);

  text->pad = pad;
  text->caps = gst_caps_ref (caps);
  text->max_items = MAX (max_items, 1);
  text->queue = gst_data_queue_new (queue_full, NULL, NULL, text);
  gst_data_queue_set_flushing (text->queue, TRUE);
  g_mutex_init (&text->lock);
  text->flow = GST_FLOW_OK;
  gst_pad_set_activatemode_function_full (pad, activate_mode, text, NULL);
  return text;
}

void
kling_text_src_free (KlingTextSrc * text)
{
  if (text == NULL)
    return;
  g_object_unref (text->queue);
  gst_clear_event (&text->stream_start);
  gst_caps_unref (text->caps);
  g_mutex_clear (&text->lock);
  g_free (text);
}

void
kling_text_src_reset (KlingTextSrc * text)
{
  text->started = FALSE;
  gst_clear_event (&text->stream_start);
}

static void
stream_start (KlingTextSrc * text, GstEvent * upstream)
{
  const gchar *upstream_id = NULL;
  gchar *stream_id;
  GstEvent *event;
  guint group_id;

  /* the text stream is derived from the video stream: its id extends the
   * upstream id, and it joins the same group */
  gst_event_parse_stream_start (upstream, &upstream_id);
  stream_id = g_strconcat (upstream_id ? upstream_id : "kling", "/text", NULL);
  event = gst_event_new_stream_start (stream_id);
  g_free (stream_id);
  if (gst_event_parse_group_id (upstream, &group_id))
    gst_event_set_group_id (event, group_id);
  gst_event_replace (&text->stream_start, event);
  enqueue (text, GST_MINI_OBJECT_CAST (event));
  enqueue (text, GST_MINI_OBJECT_CAST (gst_event_new_caps (text->caps)));
  text->started = TRUE;
}

void
kling_text_src_handle_event (KlingTextSrc * text, GstEvent * event)
{
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      stream_start (text, event);
      return;
    case GST_EVENT_CAPS:
      return;
    case GST_EVENT_FLUSH_START:
      gst_data_queue_set_flushing (text->queue, TRUE);
      gst_pad_push_event (text->pad, gst_event_ref (event));
      gst_pad_pause_task (text->pad);
      return;
    case GST_EVENT_FLUSH_STOP:
      gst_data_queue_flush (text->queue);
      set_flow (text, GST_FLOW_OK);
      gst_pad_push_event (text->pad, gst_event_ref (event));
      gst_data_queue_set_flushing (text->queue, FALSE);
      /* a stream-start and caps the flush took from the queue before the
       * task pushed them are sent again */
      if (text->started && !gst_pad_has_current_caps (text->pad)) {
        enqueue (text, GST_MINI_OBJECT_CAST (gst_event_ref
                (text->stream_start)));
        enqueue (text, GST_MINI_OBJECT_CAST (gst_event_new_caps (text->caps)));
      }
      start_task (text);
      return;
    default:
      break;
  }
  if (!GST_EVENT_IS_DOWNSTREAM (event) || !text->started)
    return;
  if (GST_EVENT_IS_SERIALIZED (event))
    enqueue (text, GST_MINI_OBJECT_CAST (gst_event_ref (event)));
  else
    gst_pad_push_event (text->pad, gst_event_ref (event));
}

GstFlowReturn
kling_text_src_push (KlingTextSrc * text, GstBuffer * frame, const gchar * line)
{
  GstClockTime pts = GST_BUFFER_PTS (frame);
  GstMiniObject *item = NULL;
  GstFlowReturn ret;

  if (!text->started)
    return GST_FLOW_OK;
  g_mutex_lock (&text->lock);
  ret = text->flow;
  g_mutex_unlock (&text->lock);
  if (line && *line) {
    GstBuffer *buf = gst_buffer_new_memdup (line, strlen (line));

    /* the frame's timestamps and flags (DISCONT, ...): the line is about
     * that frame */
    gst_buffer_copy_into (buf, frame, GST_BUFFER_COPY_FLAGS |
        GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
    GST_BUFFER_OFFSET (buf) = GST_BUFFER_OFFSET_NONE;
    GST_BUFFER_OFFSET_END (buf) = GST_BUFFER_OFFSET_NONE;
    item = GST_MINI_OBJECT_CAST (buf);
  } else if (GST_CLOCK_TIME_IS_VALID (pts)) {
    item = GST_MINI_OBJECT_CAST (gst_event_new_gap (pts,
            GST_BUFFER_DURATION (frame)));
  }
  if (item && !enqueue (text, item))
    ret = GST_FLOW_FLUSHING;
  return ret;
}

gboolean
kling_text_src_query_caps (KlingTextSrc * text, GstQuery * query)
{
  GstCaps *filter, *caps;

  gst_query_parse_caps (query, &filter);
  caps = filter ? gst_caps_intersect (text->caps, filter) :
      gst_caps_ref (text->caps);
  gst_query_set_caps_result (query, caps);
  gst_caps_unref (caps);
  return TRUE;
}
