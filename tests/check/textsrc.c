/* gst-kling: kling-textsrc, the text pad pushed from its own task
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "kling-textsrc.h"

typedef struct
{
  GstElement *element;
  GstPad *pad;
  KlingTextSrc *text;
  GstHarness *h;
} Fixture;

/* identity with one more src pad, "text", handed to a KlingTextSrc */
static void
setup (Fixture * f, guint max_items)
{
  GstCaps *caps = gst_caps_from_string ("text/x-raw, format=utf8");

  f->element = gst_element_factory_make ("identity", NULL);
  f->pad = gst_pad_new ("text", GST_PAD_SRC);
  gst_pad_use_fixed_caps (f->pad);
  f->text = kling_text_src_new (f->pad, caps, max_items);
  gst_caps_unref (caps);
  gst_element_add_pad (f->element, f->pad);
  f->h = gst_harness_new_with_element (f->element, NULL, "text");
  gst_harness_play (f->h);
}

static void
teardown (Fixture * f)
{
  gst_harness_teardown (f->h);
  gst_object_unref (f->element);
  kling_text_src_free (f->text);
}

static GstBuffer *
frame (guint i)
{
  GstBuffer *buf = gst_buffer_new ();

  GST_BUFFER_PTS (buf) = i * GST_SECOND;
  GST_BUFFER_DTS (buf) = i * GST_SECOND + 1;
  GST_BUFFER_DURATION (buf) = GST_SECOND;
  GST_BUFFER_OFFSET (buf) = i;
  return buf;
}

static void
start_stream (Fixture * f)
{
  GstEvent *ev = gst_event_new_stream_start ("video");
  GstSegment seg;
  GstCaps *caps;

  gst_event_set_group_id (ev, 7);
  kling_text_src_handle_event (f->text, ev);
  gst_event_unref (ev);
  caps = gst_caps_from_string ("video/x-raw");
  ev = gst_event_new_caps (caps);
  gst_caps_unref (caps);
  kling_text_src_handle_event (f->text, ev);
  gst_event_unref (ev);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  ev = gst_event_new_segment (&seg);
  kling_text_src_handle_event (f->text, ev);
  gst_event_unref (ev);
}

GST_START_TEST (test_stream_and_lines)
{
  Fixture f;
  GstEvent *ev;
  GstBuffer *in, *out;
  const gchar *id;
  guint group;
  GstCaps *caps;
  GstClockTime ts, dur;

  setup (&f, KLING_TEXT_SRC_DEFAULT_MAX_ITEMS);
  /* nothing before the stream starts */
  in = frame (0);
  fail_unless_equals_int (kling_text_src_push (f.text, in, "early"),
      GST_FLOW_OK);
  gst_buffer_unref (in);
  start_stream (&f);

  in = frame (3);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int (kling_text_src_push (f.text, in, "red thing"),
      GST_FLOW_OK);
  gst_buffer_unref (in);
  in = frame (4);
  kling_text_src_push (f.text, in, NULL);
  gst_buffer_unref (in);

  out = gst_harness_pull (f.h);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 3 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (out), 3 * GST_SECOND + 1);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), GST_BUFFER_OFFSET_NONE);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  fail_unless (gst_buffer_memcmp (out, 0, "red thing", 9) == 0);
  fail_unless_equals_int (gst_buffer_get_size (out), 9);
  gst_buffer_unref (out);

  ev = gst_harness_pull_event (f.h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
  gst_event_parse_stream_start (ev, &id);
  fail_unless_equals_string (id, "video/text");
  fail_unless (gst_event_parse_group_id (ev, &group) && group == 7);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (f.h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CAPS);
  gst_event_parse_caps (ev, &caps);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "text/x-raw"));
  gst_event_unref (ev);
  ev = gst_harness_pull_event (f.h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_SEGMENT);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (f.h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_GAP);
  gst_event_parse_gap (ev, &ts, &dur);
  fail_unless (ts == 4 * GST_SECOND && dur == GST_SECOND);
  gst_event_unref (ev);

  /* tags and EOS follow */
  ev = gst_event_new_tag (gst_tag_list_new_empty ());
  kling_text_src_handle_event (f.text, ev);
  gst_event_unref (ev);
  ev = gst_event_new_eos ();
  kling_text_src_handle_event (f.text, ev);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (f.h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_TAG);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (f.h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_EOS);
  gst_event_unref (ev);
  teardown (&f);
}

GST_END_TEST;

static GMutex block_lock;
static GCond block_cond;
static gboolean release;

static GstPadProbeReturn
hold (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  /* a text sink stuck in preroll */
  g_mutex_lock (&block_lock);
  while (!release)
    g_cond_wait (&block_cond, &block_lock);
  g_mutex_unlock (&block_lock);
  return GST_PAD_PROBE_OK;
}

/* Downstream of the text pad blocks: pushing still returns at once (the
 * video thread goes on) until the queue is full. */
GST_START_TEST (test_blocked_downstream_does_not_block_caller)
{
  Fixture f;
  guint i;
  gulong id;

  setup (&f, 4);
  start_stream (&f);
  release = FALSE;
  id = gst_pad_add_probe (f.pad, GST_PAD_PROBE_TYPE_BUFFER, hold, NULL, NULL);
  /* one held in the task, four queued */
  for (i = 0; i < 5; i++) {
    GstBuffer *in = frame (i);
    fail_unless_equals_int (kling_text_src_push (f.text, in, "x"), GST_FLOW_OK);
    gst_buffer_unref (in);
    /* let the task take the first one before the queue fills */
    if (i == 0)
      while (gst_harness_events_received (f.h) < 3)
        g_usleep (1000);
  }
  g_mutex_lock (&block_lock);
  release = TRUE;
  g_cond_broadcast (&block_cond);
  g_mutex_unlock (&block_lock);
  for (i = 0; i < 5; i++)
    gst_buffer_unref (gst_harness_pull (f.h));
  gst_pad_remove_probe (f.pad, id);
  teardown (&f);
}

GST_END_TEST;

/* A flush empties the queue and restarts the task. */
GST_START_TEST (test_flush)
{
  Fixture f;
  GstEvent *ev;
  GstBuffer *in, *out;
  GstSegment seg;

  setup (&f, 8);
  start_stream (&f);
  ev = gst_event_new_flush_start ();
  kling_text_src_handle_event (f.text, ev);
  gst_event_unref (ev);
  in = frame (1);
  fail_unless_equals_int (kling_text_src_push (f.text, in, "lost"),
      GST_FLOW_FLUSHING);
  gst_buffer_unref (in);
  ev = gst_event_new_flush_stop (TRUE);
  kling_text_src_handle_event (f.text, ev);
  gst_event_unref (ev);
  /* upstream sends a new segment after a flush */
  gst_segment_init (&seg, GST_FORMAT_TIME);
  ev = gst_event_new_segment (&seg);
  kling_text_src_handle_event (f.text, ev);
  gst_event_unref (ev);
  in = frame (2);
  fail_unless_equals_int (kling_text_src_push (f.text, in, "kept"),
      GST_FLOW_OK);
  gst_buffer_unref (in);
  out = gst_harness_pull (f.h);
  fail_unless (gst_buffer_memcmp (out, 0, "kept", 4) == 0);
  gst_buffer_unref (out);
  teardown (&f);
}

GST_END_TEST;

static Suite *
textsrc_suite (void)
{
  Suite *s = suite_create ("textsrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_stream_and_lines);
  tcase_add_test (tc, test_blocked_downstream_does_not_block_caller);
  tcase_add_test (tc, test_flush);
  return s;
}

GST_CHECK_MAIN (textsrc);
