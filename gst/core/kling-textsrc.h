/* gst-kling: a text source pad beside a video stream, pushed from its own
 * task
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_TEXTSRC_H__
#define __KLING_TEXTSRC_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* An element's extra source pad carrying text about its video (copy,
 * captions).  What the streaming thread hands over goes through a bounded
 * queue to a GstTask on the pad, so a sink on the text branch that blocks
 * (in preroll, say, with no queue in between) holds only that task, never
 * the video: the pipeline prerolls either way.  The queue always drains,
 * whatever downstream returns. */
typedef struct _KlingTextSrc KlingTextSrc;

#define KLING_TEXT_SRC_DEFAULT_MAX_ITEMS 32

/* Takes over activation of @pad (a src pad with fixed caps @caps, which
 * are reffed); the task runs while the pad is active. */
KlingTextSrc *kling_text_src_new (GstPad * pad, GstCaps * caps,
    guint max_items);
void kling_text_src_free (KlingTextSrc * text);

/* Mirrors a downstream event of the video stream (not consumed):
 * STREAM_START becomes a derived stream-start ("<id>/text", same group)
 * followed by the text caps; CAPS are not forwarded; FLUSH_START and
 * FLUSH_STOP flush the queue; every other event follows in order once the
 * text stream has started. */
void kling_text_src_handle_event (KlingTextSrc * text, GstEvent * event);

/* Queues @line (non-empty UTF-8) with the timestamps and flags of
 * @frame, or a GAP over @frame's time span when @line is NULL.  Blocks
 * only while the queue is full.  Returns the text branch's last flow
 * return (GST_FLOW_FLUSHING when flushing), for a flow combiner. */
GstFlowReturn kling_text_src_push (KlingTextSrc * text, GstBuffer * frame,
    const gchar * line);

/* Answers a CAPS query on the pad with the fixed caps. */
gboolean kling_text_src_query_caps (KlingTextSrc * text, GstQuery * query);

/* Forgets the stream (call when the element starts over). */
void kling_text_src_reset (KlingTextSrc * text);

G_END_DECLS

#endif
