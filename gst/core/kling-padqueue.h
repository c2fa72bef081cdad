/* gst-kling: a source pad fed from another thread
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A bounded queue of buffers, GAP events and EOS, and the pad task that
 * pushes them: the thread that makes the data never blocks in downstream
 * itself, so two pads fed by one producer can go into one muxer (whose
 * collectpads holds a pad's push until the other pad has data) without a
 * deadlock.  The task sends stream-start (with the group id), caps and a
 * TIME segment before the first item, and with sync set it waits for the
 * element's clock to reach each buffer's end (a live source).
 */
#ifndef __KLING_PAD_QUEUE_H__
#define __KLING_PAD_QUEUE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _KlingPadQueue KlingPadQueue;

/* For source pad @pad of @element.  Pushing blocks while @max_items are
 * queued or their duration reaches @max_time (GST_CLOCK_TIME_NONE: no
 * bound); contiguous GAPs are merged while the merged one stays within
 * @max_gap. */
KlingPadQueue *kling_pad_queue_new (GstElement * element, GstPad * pad,
    guint max_items, GstClockTime max_time, GstClockTime max_gap);
void kling_pad_queue_free (KlingPadQueue * q);

/* Bounds and clock sync, settable at any time. */
void kling_pad_queue_set_limits (KlingPadQueue * q, guint max_items,
    GstClockTime max_time);
void kling_pad_queue_set_sync (KlingPadQueue * q, gboolean sync);
/* Clock waits wait for PLAYING. */
void kling_pad_queue_set_playing (KlingPadQueue * q, gboolean playing);
void kling_pad_queue_set_group_id (KlingPadQueue * q, guint group_id);

/* Empties the queue, forgets the last flow and starts the task; the
 * first item goes out after a stream-start derived from @stream_name,
 * @caps (taken) and a TIME segment. */
void kling_pad_queue_start (KlingPadQueue * q, const gchar * stream_name,
    GstCaps * caps);
/* Makes pushes and clock waits return at once, then pauses the task
 * (@join FALSE: for a flush) or stops and joins it. */
void kling_pad_queue_stop (KlingPadQueue * q, gboolean join);

/* Queue an item; block while the queue is full.  Return GST_FLOW_FLUSHING
 * while stopped, else the last flow of the pad: an item queued after the
 * pad stopped (EOS, error, flushing downstream) is dropped.  The task
 * posts the error of a fatal flow and sends EOS. */
GstFlowReturn kling_pad_queue_push_buffer (KlingPadQueue * q,
    GstBuffer * buffer);
GstFlowReturn kling_pad_queue_push_gap (KlingPadQueue * q,
    GstClockTime start, GstClockTime end);
GstFlowReturn kling_pad_queue_push_eos (KlingPadQueue * q);

/* Shortens queued buffers so that none lasts past @cut. */
void kling_pad_queue_clip (KlingPadQueue * q, GstClockTime cut);

/* The last flow of the pad (GST_FLOW_FLUSHING while stopped). */
GstFlowReturn kling_pad_queue_flow (KlingPadQueue * q);

G_END_DECLS

#endif
