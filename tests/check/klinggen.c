/* gst-kling: klinggen element tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The model is tests/models' colour-video: 16x16 frames at 8 fps, 4 frames
 * a chunk with 1 frame of context; the prompt picks a colour, denoise
 * steers there a little imperfectly so the seed still shows.
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#define KLING_CHECK_STAT_PROBE
#include "kling-check.h"

static gchar *
test_model (const gchar * name)
{
  return g_build_filename (g_getenv ("KLING_TEST_MODELS"), name, NULL);
}

static GstElement *
make_gen (const gchar * first_property, ...)
{
  GstElement *e = gst_element_factory_make ("klinggen", NULL);
  gchar *model = test_model ("video-colour.pt");
  va_list args;

  g_object_set (e, "model", model, "threads", 1, NULL);
  g_free (model);
  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (e), first_property, args);
  va_end (args);
  return e;
}

static GstHarness *
harness_for (GstElement * e)
{
  GstHarness *h = gst_harness_new_with_element (e, NULL, "src");
  gst_object_unref (e);
  return h;
}

/* Pulls every frame until EOS, checking timestamps from frame @first on;
 * returns a checksum of the frames' bytes. */
static gchar *
pull_all (GstHarness * h, guint first, guint * n_frames)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  GstBuffer *buf = NULL;
  gchar *out;
  guint n = first;

  while (gst_harness_pull_until_eos (h, &buf) && buf) {
    GstMapInfo map;
    GstClockTime pts = gst_util_uint64_scale (n, GST_SECOND, 8);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), pts);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf),
        gst_util_uint64_scale (n + 1, GST_SECOND, 8) - pts);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), n);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), n + 1);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    g_checksum_update (sum, map.data, map.size);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    buf = NULL;
    n++;
  }
  *n_frames = n;
  out = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return out;
}

GST_START_TEST (test_caps_timestamps_eos)
{
  GstHarness *h = harness_for (make_gen ("num-frames", (guint64) 10, NULL));
  GstCaps *caps;
  GstStructure *s;
  gint w, hh, fn, fd;
  guint n;
  gchar *sum;

  gst_harness_play (h);
  sum = pull_all (h, 0, &n);
  fail_unless_equals_int (n, 10);
  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "format"), "RGB");
  fail_unless (gst_structure_get_int (s, "width", &w) && w == 16);
  fail_unless (gst_structure_get_int (s, "height", &hh) && hh == 16);
  fail_unless (gst_structure_get_fraction (s, "framerate", &fn, &fd)
      && fn == 8 && fd == 1);
  gst_caps_unref (caps);
  g_free (sum);
  gst_harness_teardown (h);

  /* duration in seconds: 1.5 s at 8 fps */
  h = harness_for (make_gen ("duration", 1.5, NULL));
  gst_harness_play (h);
  sum = pull_all (h, 0, &n);
  fail_unless_equals_int (n, 12);
  g_free (sum);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_determinism)
{
  gchar *a, *b, *c, *d;
  guint n;
  GstHarness *h;

  h = harness_for (make_gen ("num-frames", (guint64) 9, "seed",
          (guint64) 5, "prompt", "a red ball", NULL));
  gst_harness_play (h);
  a = pull_all (h, 0, &n);
  gst_harness_teardown (h);
  h = harness_for (make_gen ("num-frames", (guint64) 9, "seed",
          (guint64) 5, "prompt", "a red ball", NULL));
  gst_harness_play (h);
  b = pull_all (h, 0, &n);
  gst_harness_teardown (h);
  h = harness_for (make_gen ("num-frames", (guint64) 9, "seed",
          (guint64) 6, "prompt", "a red ball", NULL));
  gst_harness_play (h);
  c = pull_all (h, 0, &n);
  gst_harness_teardown (h);
  h = harness_for (make_gen ("num-frames", (guint64) 9, "seed",
          (guint64) 5, "prompt", "一個藍色的球", NULL));
  gst_harness_play (h);
  d = pull_all (h, 0, &n);
  gst_harness_teardown (h);

  fail_unless_equals_string (a, b);
  fail_if (g_str_equal (a, c), "another seed gave the same frames");
  fail_if (g_str_equal (a, d), "another prompt gave the same frames");
  g_free (a);
  g_free (b);
  g_free (c);
  g_free (d);
}

GST_END_TEST;

static gint
mean_red (GstBuffer * buf)
{
  GstMapInfo map;
  gint sum = 0, i;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  for (i = 0; i < 16 * 16; i++)
    sum += map.data[i * 3];
  gst_buffer_unmap (buf, &map);
  return sum / 256;
}

/* A prompt change while playing shows from the next chunk on. */
GST_START_TEST (test_prompt_change)
{
  /* without guidance this model paints red = sum of prompt bytes mod 97:
   * "aaaa" gives 0, "aaaZ" 237 */
  GstHarness *h = harness_for (make_gen ("num-frames", (guint64) 40,
          "prompt", "aaaa", "guidance-scale", 1.0, NULL));
  GstBuffer *buf;
  gint before, after, i;

  /* each push waits for its pull: the source runs at most the frame queue
   * and a chunk ahead of the test, however loaded the machine */
  gst_harness_set_blocking_push_mode (h);
  gst_harness_play (h);
  buf = gst_harness_pull (h);
  before = mean_red (buf);
  gst_buffer_unref (buf);
  g_object_set (h->element, "prompt", "aaaZ", NULL);
  /* at most two chunks (4 + 3 frames) are queued ahead; later frames
   * follow the new prompt */
  for (i = 1; i < 20; i++)
    gst_buffer_unref (gst_harness_pull (h));
  buf = gst_harness_pull (h);
  after = mean_red (buf);
  gst_buffer_unref (buf);
  fail_unless (before < 10 && after > 220, "red %d before, %d after",
      before, after);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_output_formats)
{
  const gchar *formats[] = { "RGBA", "BGRx", "I420" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = harness_for (make_gen ("num-frames", (guint64) 5, NULL));
    gchar *caps = g_strdup_printf ("video/x-raw,format=%s", formats[i]);
    GstBuffer *buf;
    GstVideoInfo info;
    GstCaps *cur;
    guint n;
    gchar *sum;

    guint pulled = 0;

    gst_harness_set_sink_caps_str (h, caps);
    gst_harness_play (h);
    /* the source may push a first frame in its default RGB before the new
     * caps reach it: every frame after the switch must be in the format */
    for (;;) {
      buf = gst_harness_pull (h);
      pulled++;
      cur = gst_pad_get_current_caps (h->sinkpad);
      fail_unless (gst_video_info_from_caps (&info, cur));
      gst_caps_unref (cur);
      if (GST_VIDEO_INFO_FORMAT (&info) ==
          gst_video_format_from_string (formats[i])
          && gst_buffer_get_size (buf) == info.size)
        break;
      fail_unless (pulled < 3, "still no %s after %u frames", formats[i],
          pulled);
      gst_buffer_unref (buf);
    }
    gst_buffer_unref (buf);
    sum = pull_all (h, pulled, &n);
    fail_unless_equals_int (n, 5);
    g_free (sum);
    g_free (caps);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Image-to-video: the first frame is the image itself. */
GST_START_TEST (test_image_pad)
{
  GstElement *e = make_gen ("num-frames", (guint64) 6, NULL);
  /* the image pad is linked before the element starts, as in a pipeline */
  GstHarness *ih = gst_harness_new_with_element (e, "image", NULL);
  GstHarness *h = harness_for (gst_object_ref (e));
  GstBuffer *img = gst_buffer_new_allocate (NULL, 32 * 32 * 4, NULL);
  GstBuffer *first;
  GstMapInfo map;
  gint i;

  /* both harnesses hold their own reference */
  gst_object_unref (e);
  /* a 32x32 BGRx image, scaled to the model's 16x16: solid orange */
  gst_buffer_map (img, &map, GST_MAP_WRITE);
  for (i = 0; i < 32 * 32; i++) {
    map.data[i * 4 + 0] = 0;
    map.data[i * 4 + 1] = 128;
    map.data[i * 4 + 2] = 255;
    map.data[i * 4 + 3] = 255;
  }
  gst_buffer_unmap (img, &map);
  gst_harness_set_src_caps_str (ih,
      "video/x-raw,format=BGRx,width=32,height=32,framerate=0/1");
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (ih, img), GST_FLOW_EOS);

  first = gst_harness_pull (h);
  gst_buffer_map (first, &map, GST_MAP_READ);
  for (i = 0; i < 16 * 16; i++)
    fail_unless (map.data[i * 3] == 255 && map.data[i * 3 + 1] == 128
        && map.data[i * 3 + 2] == 0, "pixel %d: %d %d %d", i, map.data[i * 3],
        map.data[i * 3 + 1], map.data[i * 3 + 2]);
  gst_buffer_unmap (first, &map);
  gst_buffer_unref (first);
  gst_harness_teardown (ih);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_prompt_pad)
{
  GstElement *e = make_gen ("num-frames", (guint64) 40, "prompt", "紅色",
      "guidance-scale", 1.0, NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *ph, *h;
  GstMessage *msg;
  GstBuffer *buf;
  gint before, after, i;
  gchar *prompt;

  gst_element_set_bus (e, bus);
  ph = gst_harness_new_with_element (e, "prompt", NULL);
  h = harness_for (gst_object_ref (e));
  gst_object_unref (e);
  gst_harness_set_src_caps_str (ph, "text/x-raw,format=utf8");
  gst_harness_set_blocking_push_mode (h);
  gst_harness_play (h);
  buf = gst_harness_pull (h);
  before = mean_red (buf);
  gst_buffer_unref (buf);
  /* red 63 for the first prompt, 237 for this one */
  fail_unless_equals_int (gst_harness_push (ph,
          gst_buffer_new_memdup ("aaaZ", 4)), GST_FLOW_OK);
  g_object_get (h->element, "prompt", &prompt, NULL);
  fail_unless_equals_string (prompt, "aaaZ");
  g_free (prompt);
  for (i = 1; i < 20; i++)
    gst_buffer_unref (gst_harness_pull (h));
  buf = gst_harness_pull (h);
  after = mean_red (buf);
  gst_buffer_unref (buf);
  fail_unless (ABS (before - 63) < 12 && after > 220, "red %d before, %d "
      "after", before, after);

  /* invalid UTF-8: a clear error, not a crash */
  fail_unless_equals_int (gst_harness_push (ph,
          gst_buffer_new_memdup ("\xff\xfe", 2)), GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  {
    GError *err;
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (strstr (err->message, "not valid UTF-8") != NULL);
    g_error_free (err);
  }
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (ph);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_invalid_prompt_property)
{
  GstElement *e = make_gen ("num-frames", (guint64) 4, "prompt",
      "bad \xc3\x28 text", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  gchar *text;

  /* the bus goes in first: the error may come as soon as it starts */
  gst_element_set_bus (e, bus);
  h = harness_for (e);
  gst_harness_play (h);
  text = kling_check_pop_error (bus, 30 * GST_SECOND);
  fail_unless (text && strstr (text, "not valid UTF-8"), "%s", text);
  g_free (text);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_progress_messages)
{
  GstElement *e = make_gen ("num-frames", (guint64) 7, NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstMessage *msg;
  guint n;
  guint steps_seen = 0, starts = 0, completes = 0;
  gdouble last_percent = -1;
  gchar *sum;

  gst_element_set_bus (e, bus);
  h = harness_for (e);
  gst_harness_play (h);
  sum = pull_all (h, 0, &n);
  g_free (sum);
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (msg);
      guint step, steps;
      guint64 chunk, chunks;
      gdouble percent;

      fail_unless (gst_structure_has_name (s, "klinggen-progress"));
      fail_unless (gst_structure_get (s, "step", G_TYPE_UINT, &step, "steps",
              G_TYPE_UINT, &steps, "chunk", G_TYPE_UINT64, &chunk, "chunks",
              G_TYPE_UINT64, &chunks, "percent", G_TYPE_DOUBLE, &percent,
              NULL));
      fail_unless (steps == 4 && chunks == 2 && chunk < 2);
      fail_unless (percent > last_percent);
      last_percent = percent;
      steps_seen++;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_PROGRESS) {
      GstProgressType type;
      gst_message_parse_progress (msg, &type, NULL, NULL);
      starts += type == GST_PROGRESS_TYPE_START;
      completes += type == GST_PROGRESS_TYPE_COMPLETE;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (steps_seen, 8);
  fail_unless (last_percent == 100.0);
  fail_unless_equals_int (starts, 2);
  fail_unless_equals_int (completes, 2);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Live: timestamps follow the (test) clock, the latency is reported, and
 * when generation is behind the last frame is repeated. */
GST_START_TEST (test_live_mode)
{
  GstHarness *h = harness_for (make_gen ("num-frames", (guint64) 12,
          "is-live", TRUE, NULL));
  GstTestClock *clock;
  GstBuffer *buf;
  GstQuery *q;
  gboolean live;
  GstClockTime min, max;
  guint i;

  gst_harness_use_testclock (h);
  clock = gst_harness_get_testclock (h);
  gst_harness_play (h);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless (min > 0);
  gst_query_unref (q);

  /* frame 0 goes out when ready, stamped with the running time at start */
  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 0);
  gst_buffer_unref (buf);
  for (i = 1; i < 12; i++) {
    /* each later frame waits for its time on the clock */
    fail_unless (gst_harness_crank_single_clock_wait (h));
    buf = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
        gst_util_uint64_scale (i, GST_SECOND, 8));
    gst_buffer_unref (buf);
  }
  gst_object_unref (clock);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Going to NULL in the middle of a long generation returns promptly. */
GST_START_TEST (test_stop_during_generation)
{
  gchar *slow = test_model ("video-slow.pt");
  GstElement *e = make_gen ("model", slow, "num-frames", (guint64) 100000,
      "steps", 1000, NULL);
  GstElement *pipe = gst_pipeline_new (NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  gst_bin_add_many (GST_BIN (pipe), e, sink, NULL);
  fail_unless (gst_element_link (e, sink));
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  /* let it get well into the first chunk's thousand slow steps */
  g_usleep (200000);
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipe);
  g_free (slow);
}

GST_END_TEST;

static void
count_buffer (GstElement * sink, GstBuffer * buf, GstPad * pad, gint * count)
{
  g_atomic_int_inc (count);
}

/* A flush (what a seek or a downstream flush does) must take the streaming
 * thread out of create() while a chunk is still being generated, and the
 * stream must go on after it. */
GST_START_TEST (test_flush_during_generation)
{
  gchar *slow = test_model ("video-slow.pt");
  GstElement *e = make_gen ("model", slow, "num-frames", (guint64) 100000,
      "steps", 1000, NULL);
  GstElement *pipe = gst_pipeline_new (NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *srcpad = gst_element_get_static_pad (e, "src");
  gint count = 0, i;

  g_object_set (sink, "signal-handoffs", TRUE, "async", FALSE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (count_buffer), &count);
  gst_bin_add_many (GST_BIN (pipe), e, sink, NULL);
  fail_unless (gst_element_link (e, sink));
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  g_usleep (200000);
  /* still inside the first chunk's thousand steps, so create() waits */
  fail_unless_equals_int (g_atomic_int_get (&count), 0);
  fail_unless_equals_int (gst_pad_get_task_state (srcpad), GST_TASK_STARTED);

  fail_unless (gst_pad_send_event (srcpad, gst_event_new_flush_start ()));
  /* the streaming thread leaves create() and pauses its task; 10 s is
   * generous: the chunk itself takes far longer than the flush */
  for (i = 0; i < 1000 && gst_pad_get_task_state (srcpad) != GST_TASK_PAUSED;
      i++)
    g_usleep (10000);
  fail_unless_equals_int (gst_pad_get_task_state (srcpad), GST_TASK_PAUSED);
  fail_unless_equals_int (g_atomic_int_get (&count), 0);

  fail_unless (gst_pad_send_event (srcpad, gst_event_new_flush_stop (TRUE)));
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (srcpad);
  gst_object_unref (pipe);
  g_free (slow);
}

GST_END_TEST;

static gchar *
start_error (const gchar * model)
{
  GstElement *e = gst_element_factory_make ("klinggen", NULL);
  GstBus *bus = gst_bus_new ();
  gchar *path = model ? test_model (model) : g_strdup ("/nonexistent.pt");
  GstMessage *msg;
  GError *err;
  gchar *text;
  gint i;

  g_object_set (e, "model", path, NULL);
  gst_element_set_bus (e, bus);
  for (i = 0; i < 3; i++) {
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  text = g_strdup (err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (path);
  return text;
}

GST_START_TEST (test_bad_models)
{
  gchar *m;

  m = start_error (NULL);
  fail_unless (strstr (m, "Could not load video model") != NULL, "%s", m);
  fail_unless (strstr (m, "No such file") != NULL, "%s", m);
  g_free (m);
  m = start_error ("not-torchscript.pt");
  fail_unless (strstr (m, "not a TorchScript archive") != NULL, "%s", m);
  g_free (m);
  m = start_error ("probe.pt");
  fail_unless (strstr (m, "is for task `detect`, but this element needs a "
          "`video` model") != NULL, "%s", m);
  fail_unless (strstr (m, "has no method `denoise`") != NULL, "%s", m);
  g_free (m);
}

GST_END_TEST;

/* Finding 6: a live klinggen is live before it starts, so READY->PAUSED
 * needs no preroll (it used to answer ASYNC and wait for a buffer a live
 * source makes only in PLAYING: the pipeline never ran), and it reaches
 * EOS after num-frames. */
GST_START_TEST (test_live_no_preroll)
{
  gchar *model = kling_check_test_model ("video-colour.pt");
  gchar *desc = g_strdup_printf ("klinggen model=%s is-live=true "
      "num-frames=16 threads=1 ! fakesink", model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstMessage *msg;

  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  /* 16 frames at 8 fps: 2 s of clock; a hang fails here */
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe), 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS within 60 s");
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* Live, downstream slower than real time: the slots that passed while it
 * held the source are dropped with their frames, timestamps stay on the
 * clock, and EOS comes after num-frames slots. */
GST_START_TEST (test_live_drops_late_slots)
{
  GstElement *e = make_gen ("num-frames", (guint64) 12, "is-live", TRUE,
      NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstTestClock *clock;
  GstBuffer *buf;
  GstMessage *msg;
  guint i, chunks_done = 0;
  GstClockTime frame = gst_util_uint64_scale (1, GST_SECOND, 8);

  gst_element_set_bus (e, bus);
  h = harness_for (e);
  gst_harness_use_testclock (h);
  clock = gst_harness_get_testclock (h);
  gst_harness_play (h);
  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), 0);
  gst_buffer_unref (buf);
  /* frame 5 must be made before its slot comes, or the source rightly
   * repeats frame 0 as a GAP: the third chunk starts only once the second
   * (frames 4-6) is queued, so wait for it, however loaded the machine */
  while (chunks_done < 3 && (msg = gst_bus_timed_pop_filtered (bus,
              60 * GST_SECOND, GST_MESSAGE_PROGRESS))) {
    GstProgressType type;

    gst_message_parse_progress (msg, &type, NULL, NULL);
    chunks_done += type == GST_PROGRESS_TYPE_COMPLETE;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (chunks_done, 3);
  /* slot 1 is due at 125 ms, but the push comes at 5.5 slots */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  gst_test_clock_set_time (clock, 5 * frame + frame / 2);
  fail_unless (gst_test_clock_process_next_clock_id (clock) != NULL);
  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), 5);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
      gst_util_uint64_scale (5, GST_SECOND, 8));
  fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
  gst_buffer_unref (buf);
  /* the rest on time, then EOS at slot 12 */
  for (i = 6; i < 12; i++) {
    fail_unless (gst_harness_crank_single_clock_wait (h));
    buf = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), i);
    gst_buffer_unref (buf);
  }
  /* slot 12 is past num-frames: EOS without waiting on the clock */
  {
    GstEvent *ev;
    gboolean eos = FALSE;
    while (!eos && (ev = gst_harness_pull_event (h))) {
      eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
      gst_event_unref (ev);
    }
    fail_unless (eos);
  }
  gst_object_unref (clock);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Live, model slower than real time (video-slow at 100 steps: seconds a
 * chunk, while the test clock moves at once): a slot whose frame is not
 * ready repeats the last frame, flagged GAP, and EOS still comes after
 * num-frames slots. */
GST_START_TEST (test_live_repeats_when_generation_is_slow)
{
  GstElement *e = kling_check_make_element ("klinggen");
  gchar *model = kling_check_test_model ("video-slow.pt");
  GstHarness *h;
  GstBuffer *buf, *prev = NULL;
  guint i, gaps = 0;

  g_object_set (e, "model", model, "threads", 1, "num-frames", (guint64) 8,
      "steps", 100, "is-live", TRUE, NULL);
  g_free (model);
  h = harness_for (e);
  gst_harness_use_testclock (h);
  gst_harness_play (h);
  for (i = 0; i < 8; i++) {
    if (i > 0)
      fail_unless (gst_harness_crank_single_clock_wait (h));
    buf = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), i);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
        gst_util_uint64_scale (i, GST_SECOND, 8));
    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
      /* a repeat is the frame before it */
      fail_unless (prev != NULL);
      {
        GstMapInfo a, b;
        gst_buffer_map (buf, &a, GST_MAP_READ);
        gst_buffer_map (prev, &b, GST_MAP_READ);
        fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0);
        gst_buffer_unmap (prev, &b);
        gst_buffer_unmap (buf, &a);
      }
      gaps++;
    }
    gst_clear_buffer (&prev);
    prev = buf;
  }
  gst_clear_buffer (&prev);
  /* slots 1-3 come with the first chunk; slot 4 needs the second */
  fail_unless (gaps > 0);
  {
    GstEvent *ev;
    gboolean eos = FALSE;
    while (!eos && (ev = gst_harness_pull_event (h))) {
      eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
      gst_event_unref (ev);
    }
    fail_unless (eos);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Finding 8: a buffer on the image pad before its caps is an error on the
 * bus, not a silent not-negotiated. */
GST_START_TEST (test_image_pad_without_caps)
{
  GstElement *e = make_gen ("num-frames", (guint64) 4, NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *ih;
  gchar *text;

  gst_element_set_bus (e, bus);
  ih = gst_harness_new_with_element (e, "image", NULL);
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (ih,
            gst_event_new_stream_start ("image")));
    fail_unless (gst_harness_push_event (ih, gst_event_new_segment (&seg)));
  }
  fail_unless_equals_int (gst_harness_push (ih,
          gst_buffer_new_allocate (NULL, 16, NULL)),
      GST_FLOW_NOT_NEGOTIATED);
  text = kling_check_pop_error (bus, 0);
  fail_unless (text && strstr (text, "image pad got a buffer before its "
          "caps"), "%s", text);
  g_free (text);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  gst_harness_teardown (ih);
}

GST_END_TEST;

/* An allocator whose memory never maps. */
typedef GstAllocator UnmappableAllocator;
typedef GstAllocatorClass UnmappableAllocatorClass;
GType unmappable_allocator_get_type (void);
G_DEFINE_TYPE (UnmappableAllocator, unmappable_allocator, GST_TYPE_ALLOCATOR);

static gpointer
unmappable_map (GstMemory * mem, gsize maxsize, GstMapFlags flags)
{
  return NULL;
}

static void
unmappable_free (GstAllocator * allocator, GstMemory * mem)
{
  g_free (mem);
}

static void
unmappable_allocator_class_init (UnmappableAllocatorClass * klass)
{
  klass->free = unmappable_free;
}

static void
unmappable_allocator_init (UnmappableAllocator * self)
{
  self->mem_map = unmappable_map;
  GST_OBJECT_FLAG_SET (self, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

static GstBuffer *
unmappable_buffer (void)
{
  GstAllocator *a = g_object_new (unmappable_allocator_get_type (), NULL);
  GstMemory *mem = g_new0 (GstMemory, 1);
  GstBuffer *buf = gst_buffer_new ();

  gst_memory_init (mem, 0, a, NULL, 3, 0, 0, 3);
  gst_buffer_append_memory (buf, mem);
  gst_object_unref (gst_object_ref_sink (a));
  return buf;
}

/* Finding 8: a prompt buffer that cannot be mapped is an error on the
 * bus. */
GST_START_TEST (test_prompt_pad_unmappable)
{
  GstElement *e = make_gen ("num-frames", (guint64) 4, NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *ph;
  gchar *text;

  gst_element_set_bus (e, bus);
  ph = gst_harness_new_with_element (e, "prompt", NULL);
  gst_harness_set_src_caps_str (ph, "text/x-raw,format=utf8");
  fail_unless_equals_int (gst_harness_push (ph, unmappable_buffer ()),
      GST_FLOW_ERROR);
  text = kling_check_pop_error (bus, 0);
  fail_unless (text && strstr (text, "Cannot read a buffer on the prompt "
          "pad"), "%s", text);
  g_free (text);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  gst_harness_teardown (ph);
}

GST_END_TEST;

/* Finding 8: the default model is looked up (stat) without the object
 * lock, which set_property and posting a message take. */
GST_START_TEST (test_default_model_lookup_unlocked)
{
  /* GST_KLING_MODEL_PATH: the source tree's models/, the default or not */
  kling_check_lookup_unlocked (kling_check_make_element ("klinggen"));
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *model = kling_check_test_model ("video-colour.pt");
  gchar *desc = g_strdup_printf ("klinggen model=%s num-frames=3 threads=1 "
      "! fakesink", model);

  kling_check_state_cycles (desc, 100, 20 * GST_SECOND);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

static Suite *
klinggen_suite (void)
{
  Suite *s = suite_create ("klinggen");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps_timestamps_eos);
  tcase_add_test (tc, test_determinism);
  tcase_add_test (tc, test_prompt_change);
  tcase_add_test (tc, test_output_formats);
  tcase_add_test (tc, test_image_pad);
  tcase_add_test (tc, test_prompt_pad);
  tcase_add_test (tc, test_invalid_prompt_property);
  tcase_add_test (tc, test_progress_messages);
  tcase_add_test (tc, test_live_mode);
  tcase_add_test (tc, test_stop_during_generation);
  tcase_add_test (tc, test_flush_during_generation);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_live_no_preroll);
  tcase_add_test (tc, test_live_drops_late_slots);
  tcase_add_test (tc, test_live_repeats_when_generation_is_slow);
  tcase_add_test (tc, test_image_pad_without_caps);
  tcase_add_test (tc, test_prompt_pad_unmappable);
  tcase_add_test (tc, test_default_model_lookup_unlocked);
  tcase_add_test (tc, test_state_cycles);
  return s;
}

GST_CHECK_MAIN (klinggen);
