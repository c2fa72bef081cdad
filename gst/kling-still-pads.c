/* gst-kling: the shared element layer, its still and loop sink pads (an
 * image, a mask, a host at rest), apart from the rest of the layer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-element.h"

static gboolean
still_pad_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  return kling_still_pad_event (gst_pad_get_element_private (pad), pad,
      event);
}

GstPad *
kling_still_pad_request (KlingStillPad * still, GstElement * element,
    GstPadTemplate * templ, const gchar * name, GstPad ** slot,
    GstPadChainFunction chain)
{
  return kling_element_request_single_pad (element, templ, name, slot, chain,
      GST_DEBUG_FUNCPTR (still_pad_event), still);
}

void
kling_still_pad_init (KlingStillPad * still)
{
  memset (still, 0, sizeof *still);
  g_mutex_init (&still->lock);
  g_cond_init (&still->cond);
}

void
kling_still_pad_clear (KlingStillPad * still)
{
  kling_still_pad_reset (still);
  g_mutex_clear (&still->lock);
  g_cond_clear (&still->cond);
}

void
kling_still_pad_reset (KlingStillPad * still)
{
  GstBuffer *old;

  g_mutex_lock (&still->lock);
  old = still->buffer;
  still->buffer = NULL;
  still->have_info = FALSE;
  still->eos = FALSE;
  g_mutex_unlock (&still->lock);
  gst_clear_buffer (&old);
}

/* A still or loop pad's CAPS (kept: all, or the first with @first_only)
 * and EOS, under @lock; @event (on @pad) is taken. */
static gboolean
frames_pad_event (GMutex * lock, GCond * cond, GstVideoInfo * kept,
    gboolean * have_info, gboolean * eos, gboolean first_only,
    GstPad * pad, GstEvent * event)
{
  gboolean ret = TRUE;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstVideoInfo info;
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    ret = gst_video_info_from_caps (&info, caps);
    g_mutex_lock (lock);
    if (ret && (!first_only || !*have_info)) {
      *kept = info;
      *have_info = TRUE;
    } else if (ret && !gst_video_info_is_equal (&info, kept)) {
      GST_WARNING_OBJECT (pad, "caps changed to %" GST_PTR_FORMAT "; keeping "
          "the first frames'", caps);
    }
    g_mutex_unlock (lock);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    g_mutex_lock (lock);
    *eos = TRUE;
    g_cond_broadcast (cond);
    g_mutex_unlock (lock);
  }
  gst_event_unref (event);
  return ret;
}

gboolean
kling_still_pad_event (KlingStillPad * still, GstPad * pad, GstEvent * event)
{
  return frames_pad_event (&still->lock, &still->cond, &still->info,
      &still->have_info, &still->eos, FALSE, pad, event);
}

gboolean
kling_still_pad_get_info (KlingStillPad * still, GstVideoInfo * info,
    gboolean * have_buffer)
{
  gboolean ret;

  g_mutex_lock (&still->lock);
  ret = still->have_info;
  *info = still->info;
  *have_buffer = still->buffer != NULL;
  g_mutex_unlock (&still->lock);
  return ret;
}

void
kling_still_pad_set_buffer (KlingStillPad * still, GstBuffer * buffer)
{
  GstBuffer *old;

  g_mutex_lock (&still->lock);
  old = still->buffer;
  still->buffer = gst_buffer_ref (buffer);
  g_cond_broadcast (&still->cond);
  g_mutex_unlock (&still->lock);
  gst_clear_buffer (&old);
}

GstBuffer *
kling_still_pad_wait (KlingStillPad * still, GCancellable * cancellable,
    GstVideoInfo * info)
{
  GstBuffer *buf;

  g_mutex_lock (&still->lock);
  while (!still->buffer && !still->eos
      && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&still->cond, &still->lock);
  buf = still->buffer ? gst_buffer_ref (still->buffer) : NULL;
  *info = still->info;
  g_mutex_unlock (&still->lock);
  return buf;
}

void
kling_still_pad_wake (KlingStillPad * still)
{
  g_mutex_lock (&still->lock);
  g_cond_broadcast (&still->cond);
  g_mutex_unlock (&still->lock);
}

void
kling_loop_pad_init (KlingLoopPad * loop, guint max_frames,
    const gchar * what)
{
  kling_still_pad_init (&loop->still);
  loop->frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  loop->max_frames = max_frames;
  loop->what = what;
  loop->warned = FALSE;
}

void
kling_loop_pad_clear (KlingLoopPad * loop)
{
  kling_still_pad_clear (&loop->still);
  g_ptr_array_unref (loop->frames);
}

void
kling_loop_pad_reset (KlingLoopPad * loop)
{
  kling_still_pad_reset (&loop->still);
  g_mutex_lock (&loop->still.lock);
  g_ptr_array_set_size (loop->frames, 0);
  loop->warned = FALSE;
  g_mutex_unlock (&loop->still.lock);
}

gboolean
kling_loop_pad_event (KlingLoopPad * loop, GstPad * pad, GstEvent * event)
{
  return frames_pad_event (&loop->still.lock, &loop->still.cond,
      &loop->still.info, &loop->still.have_info, &loop->still.eos, TRUE,
      pad, event);
}

GstFlowReturn
kling_loop_pad_chain (KlingLoopPad * loop, GstElement * element,
    GstBuffer * buf)
{
  gboolean warn = FALSE;

  g_mutex_lock (&loop->still.lock);
  if (loop->frames->len < loop->max_frames && loop->still.have_info) {
    g_ptr_array_add (loop->frames, buf);
    g_cond_broadcast (&loop->still.cond);
    buf = NULL;
  } else if (!loop->warned) {
    warn = loop->warned = TRUE;
  }
  g_mutex_unlock (&loop->still.lock);
  if (warn)
    GST_ELEMENT_WARNING (element, STREAM, TOO_LAZY, ("The %s loop is "
            "longer than %u frames; the frames after that are not used",
            loop->what, loop->max_frames), (NULL));
  gst_clear_buffer (&buf);
  return GST_FLOW_OK;
}

guint
kling_loop_pad_wait (KlingLoopPad * loop, gboolean whole,
    GCancellable * cancellable, GstVideoInfo * info)
{
  guint n;

  g_mutex_lock (&loop->still.lock);
  while (!loop->still.eos && !g_cancellable_is_cancelled (cancellable)
      && (loop->frames->len == 0 || (whole
              && loop->frames->len < loop->max_frames)))
    g_cond_wait (&loop->still.cond, &loop->still.lock);
  n = loop->frames->len;
  *info = loop->still.info;
  g_mutex_unlock (&loop->still.lock);
  return n;
}

guint
kling_loop_pad_n_frames (KlingLoopPad * loop)
{
  guint n;

  g_mutex_lock (&loop->still.lock);
  n = loop->frames->len;
  g_mutex_unlock (&loop->still.lock);
  return n;
}

GstBuffer *
kling_loop_pad_get (KlingLoopPad * loop, guint index)
{
  GstBuffer *buf = NULL;

  g_mutex_lock (&loop->still.lock);
  if (index < loop->frames->len)
    buf = gst_buffer_ref (g_ptr_array_index (loop->frames, index));
  g_mutex_unlock (&loop->still.lock);
  return buf;
}

static guint
loop_pad_n_frames (gpointer user_data)
{
  return kling_loop_pad_n_frames (user_data);
}

static GstBuffer *
loop_pad_get (guint index, gpointer user_data)
{
  return kling_loop_pad_get (user_data, index);
}

const KlingHeadSource kling_loop_pad_head_source = { loop_pad_n_frames,
  loop_pad_get
};
