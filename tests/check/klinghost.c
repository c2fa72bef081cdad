/* gst-kling: klinghost
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test model (tests/models/make_host_models.py, host-energy.pt) paints
 * the lower half of the face grey at the loudness of the mel window's
 * four centre frames: the mouth's brightness is the audio at the frame's
 * time, so sync is read from pixels.
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gst/video/video.h>

#include "kling-check.h"

#define W 64
#define H 48
#define RATE 16000
/* host-energy.pt's manifest box, [0.25, 0.25, 0.5, 0.5] of 64x48 */
#define BOX_X 16
#define BOX_Y 12
#define BOX_W 32
#define BOX_H 24
/* a mouth pixel: the lower half of the box, away from the seam */
#define MOUTH_X 32
#define MOUTH_Y 30

static GstBuffer *
portrait (void)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, W * H * 3, NULL);
  GstMapInfo map;
  gint x, y;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      guint8 *p = map.data + (y * W + x) * 3;

      p[0] = (x * 5 + y * 3) & 0xff;
      p[1] = (x * 7) & 0xff;
      p[2] = 20 + (y & 0x1f);
    }
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* @seconds of 16 kHz mono float: a 440 Hz tone where @loud says, else
 * digital silence. */
typedef gboolean (*LoudFunc) (gdouble t);

static gboolean
burst_08_12 (gdouble t)
{
  return t >= 0.8 && t < 1.2;
}

static GstBuffer *
audio_piece (gsize first, gsize n, LoudFunc loud, GstClockTime t0)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, n * 4, NULL);
  GstMapInfo map;
  gfloat *s;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  s = (gfloat *) map.data;
  for (i = 0; i < n; i++) {
    gdouble t = (gdouble) (first + i) / RATE;

    s[i] = loud (t) ? 0.5 * sin (2 * G_PI * 440 * t) : 0.0;
  }
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = t0 + gst_util_uint64_scale (first, GST_SECOND, RATE);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (n, GST_SECOND, RATE);
  return buf;
}

typedef struct
{
  GstHarness *h, *img;
  GstElement *e;
  GstBus *bus;
} Host;

static void
host_new (Host * host, const gchar * model, const gchar * first_prop, ...)
{
  gchar *path = kling_check_test_model (model);
  va_list args;

  host->e = kling_check_make_element ("klinghost");
  g_object_set (host->e, "model", path, NULL);
  g_free (path);
  va_start (args, first_prop);
  if (first_prop)
    g_object_set_valist (G_OBJECT (host->e), first_prop, args);
  va_end (args);
  host->bus = gst_bus_new ();
  gst_element_set_bus (host->e, host->bus);
  host->h = gst_harness_new_with_element (host->e, "audio", "src");
  host->img = gst_harness_new_with_element (host->e, "image", NULL);
  gst_harness_set_src_caps_str (host->img, "video/x-raw,format=RGB,width=64,"
      "height=48,framerate=0/1");
  gst_harness_set_src_caps_str (host->h, "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=16000,channels=1");
}

static void
host_free (Host * host)
{
  gst_harness_teardown (host->img);
  gst_harness_teardown (host->h);
  gst_element_set_bus (host->e, NULL);
  gst_object_unref (host->bus);
  gst_object_unref (host->e);
}

static void
push_portrait (Host * host, GstBuffer * p)
{
  fail_unless_equals_int (gst_harness_push (host->img, p), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (host->img, gst_event_new_eos ()));
}

static void
push_audio (Host * host, gdouble from, gdouble to, LoudFunc loud,
    GstClockTime t0)
{
  /* not "first": fail_unless_equals_int declares a variable of that name */
  gsize at = (gsize) (from * RATE + 0.5), end = (gsize) (to * RATE + 0.5);

  while (at < end) {
    gsize n = MIN (1600, end - at);
    GstFlowReturn flow = gst_harness_push (host->h, audio_piece (at, n, loud,
            t0));

    fail_unless_equals_int (flow, GST_FLOW_OK);
    at += n;
  }
}

/* Every byte of @frame outside the box is @ref's; returns whether the
 * whole frame is @ref's. */
static gboolean
outside_box_exact (GstBuffer * frame, GstBuffer * ref, gint bx, gint by,
    gint bw, gint bh)
{
  GstMapInfo a, b;
  gboolean all = TRUE;
  gint x, y, c;

  fail_unless (gst_buffer_map (frame, &a, GST_MAP_READ));
  fail_unless (gst_buffer_map (ref, &b, GST_MAP_READ));
  fail_unless_equals_int (a.size, b.size);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      for (c = 0; c < 3; c++) {
        gsize o = (y * W + x) * 3 + c;
        gboolean inside = x >= bx && x < bx + bw && y >= by && y < by + bh;

        if (!inside)
          fail_unless (a.data[o] == b.data[o], "pixel %d,%d changed outside "
              "the face box", x, y);
        else if (a.data[o] != b.data[o])
          all = FALSE;
      }
  gst_buffer_unmap (frame, &a);
  gst_buffer_unmap (ref, &b);
  return all;
}

static gint
pixel (GstBuffer * frame, gint x, gint y)
{
  GstMapInfo m;
  gint v;

  gst_buffer_map (frame, &m, GST_MAP_READ);
  v = m.data[(y * W + x) * 3 + 1];
  gst_buffer_unmap (frame, &m);
  return v;
}

/* The frames of 2 s of audio with a tone from 0.8 to 1.2 s. */
static void
check_burst (GstClockTime t0, guint batch)
{
  GstBuffer *ref = portrait ();
  gdouble bright[50];
  Host host;
  guint n, resting = 0;
  gint lag;

  host_new (&host, "host-energy.pt", "batch", batch, NULL);
  gst_harness_play (host.h);
  push_portrait (&host, gst_buffer_ref (ref));
  push_audio (&host, 0, 2.0, burst_08_12, t0);
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));

  /* 2 s at 25 fps */
  fail_unless_equals_int (gst_harness_buffers_in_queue (host.h), 50);
  for (n = 0; n < 50; n++) {
    GstBuffer *f = gst_harness_pull (host.h);
    gdouble t = n * 0.04;
    gboolean rest;

    fail_unless_equals_uint64 (GST_BUFFER_PTS (f), t0 + n * 40 * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (f), 40 * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (f), n);
    rest = outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H);
    /* windows wholly in silence (t - 125 ms .. t + 112.5 ms): the
     * portrait itself */
    if (t + 0.1125 < 0.8 || t - 0.125 > 1.2) {
      fail_unless (rest, "frame %u at %g s is not the resting portrait", n, t);
      resting++;
    }
    if (t >= 0.84 && t <= 1.16)
      fail_unless (pixel (f, MOUTH_X, MOUTH_Y) > 120, "frame %u at %g s: "
          "mouth %d during the tone", n, t, pixel (f, MOUTH_X, MOUTH_Y));
    bright[n] = rest ? 0 : pixel (f, MOUTH_X, MOUTH_Y);
    gst_buffer_unref (f);
  }
  fail_unless (resting >= 30);
  /* the mouth follows the tone with no offset: the brightness is centred
   * on the tone's middle (1.0 s) within half a frame, and shifting it a
   * frame either way fits the tone worse */
  {
    gdouble sum = 0, wsum = 0, centre, fit[3];

    for (n = 0; n < 50; n++) {
      sum += bright[n] * n * 0.04;
      wsum += bright[n];
    }
    centre = sum / wsum;
    GST_INFO ("brightness centred at %.4f s", centre);
    fail_unless (fabs (centre - 1.0) < 0.02, "mouth centred at %g s, the "
        "tone at 1.0 s", centre);
    for (lag = -1; lag <= 1; lag++) {
      fit[lag + 1] = 0;
      for (n = 2; n < 48; n++) {
        gdouble want = (n * 0.04 >= 0.8 - 0.02 && n * 0.04 <= 1.2 + 0.02) ?
            1 : 0;

        fit[lag + 1] += fabs (bright[n + lag] / 255.0 - want * bright[25] /
            255.0);
      }
    }
    GST_INFO ("misfit at lag -1, 0, 1: %g %g %g", fit[0], fit[1], fit[2]);
    fail_unless (fit[1] < fit[0] && fit[1] < fit[2]);
  }
  /* stream-start, caps, segment, EOS */
  {
    GstEvent *ev;
    GstEventType types[4];
    guint k = 0;

    while (k < 4 && (ev = gst_harness_try_pull_event (host.h))) {
      types[k++] = GST_EVENT_TYPE (ev);
      gst_event_unref (ev);
    }
    fail_unless_equals_int (k, 4);
    fail_unless_equals_int (types[0], GST_EVENT_STREAM_START);
    fail_unless_equals_int (types[1], GST_EVENT_CAPS);
    fail_unless_equals_int (types[2], GST_EVENT_SEGMENT);
    fail_unless_equals_int (types[3], GST_EVENT_EOS);
  }
  gst_buffer_unref (ref);
  host_free (&host);
}

GST_START_TEST (test_frames_follow_audio)
{
  check_burst (0, 0);
  /* the audio's timeline, wherever it starts */
  check_burst (5 * GST_SECOND, 0);
}

GST_END_TEST;

/* The same frames, byte for byte, whatever the batch. */
static GList *
frames_with_batch (guint batch)
{
  Host host;
  GList *list = NULL;
  GstBuffer *f;

  host_new (&host, "host-energy.pt", "batch", batch, NULL);
  gst_harness_play (host.h);
  push_portrait (&host, portrait ());
  push_audio (&host, 0, 1.9, burst_08_12, 0);
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));
  while ((f = gst_harness_try_pull (host.h)))
    list = g_list_append (list, f);
  host_free (&host);
  return list;
}

GST_START_TEST (test_batch_same_frames)
{
  GList *one = frames_with_batch (1), *three = frames_with_batch (3), *a, *b;

  /* 1.9 s: 47.5 frames, so 48 */
  fail_unless_equals_int (g_list_length (one), 48);
  fail_unless_equals_int (g_list_length (three), 48);
  for (a = one, b = three; a && b; a = a->next, b = b->next) {
    GstMapInfo ma, mb;

    gst_buffer_map (a->data, &ma, GST_MAP_READ);
    gst_buffer_map (b->data, &mb, GST_MAP_READ);
    fail_unless (memcmp (ma.data, mb.data, ma.size) == 0);
    gst_buffer_unmap (a->data, &ma);
    gst_buffer_unmap (b->data, &mb);
  }
  g_list_free_full (one, (GDestroyNotify) gst_buffer_unref);
  g_list_free_full (three, (GDestroyNotify) gst_buffer_unref);
}

GST_END_TEST;

/* A portrait loop: frame n at rest is portrait n mod the loop's length,
 * byte for byte; frames past 100 are not kept, with one warning. */
GST_START_TEST (test_portrait_loop)
{
  GstBuffer *loop[3];
  GstMessage *msg;
  Host host;
  guint n, i;

  host_new (&host, "host-energy.pt", NULL);
  gst_harness_play (host.h);
  for (i = 0; i < 3; i++) {
    GstMapInfo map;

    loop[i] = portrait ();
    gst_buffer_map (loop[i], &map, GST_MAP_WRITE);
    map.data[0] = 200 + i;      /* outside the box: tells them apart */
    gst_buffer_unmap (loop[i], &map);
    fail_unless_equals_int (gst_harness_push (host.img,
            gst_buffer_ref (loop[i])), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (host.img, gst_event_new_eos ()));
  push_audio (&host, 0, 0.4, burst_08_12, 0);   /* all silence */
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_in_queue (host.h), 10);
  for (n = 0; n < 10; n++) {
    GstBuffer *f = gst_harness_pull (host.h);

    fail_unless (outside_box_exact (f, loop[n % 3], BOX_X, BOX_Y, BOX_W,
            BOX_H), "frame %u is not portrait %u at rest", n, n % 3);
    gst_buffer_unref (f);
  }
  for (i = 0; i < 3; i++)
    gst_buffer_unref (loop[i]);
  fail_unless (gst_bus_pop_filtered (host.bus, GST_MESSAGE_WARNING) == NULL);
  host_free (&host);

  /* 101 frames: one warning naming the limit */
  host_new (&host, "host-energy.pt", NULL);
  gst_harness_play (host.h);
  for (i = 0; i < 105; i++)
    fail_unless_equals_int (gst_harness_push (host.img, portrait ()),
        GST_FLOW_OK);
  msg = gst_bus_pop_filtered (host.bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (strstr (err->message, "longer than 100 frames") != NULL,
        "%s", err->message);
    g_error_free (err);
  }
  gst_message_unref (msg);
  fail_unless (gst_bus_pop_filtered (host.bus, GST_MESSAGE_WARNING) == NULL);
  host_free (&host);
}

GST_END_TEST;

static void
note_caps_warning (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  GObject **warned_on = user_data;

  if (level == GST_LEVEL_WARNING && strstr (gst_debug_message_get (message),
          "keeping the first") != NULL)
    *warned_on = object;
}

/* The portrait loop's caps change: the first caps are kept, and the
 * warning in the log is on the image pad, so it names the element. */
GST_START_TEST (test_portrait_caps_change_warned_on_pad)
{
  GObject *warned_on = NULL;
  GstPad *image;
  Host host;

  host_new (&host, "host-energy.pt", NULL);
  gst_harness_play (host.h);
  fail_unless_equals_int (gst_harness_push (host.img, portrait ()),
      GST_FLOW_OK);
  gst_debug_add_log_function (note_caps_warning, &warned_on, NULL);
  gst_harness_set_src_caps_str (host.img, "video/x-raw,format=RGB,width=32,"
      "height=24,framerate=0/1");
  gst_debug_remove_log_function (note_caps_warning);
  image = gst_element_get_static_pad (host.e, "image");
  fail_unless (warned_on == G_OBJECT (image), "the caps warning was on %p, "
      "not the image pad", warned_on);
  gst_object_unref (image);
  host_free (&host);
}

GST_END_TEST;

/* 48 kHz stereo S16: converted inside, same timeline and sync. */
GST_START_TEST (test_any_rate_and_channels)
{
  GstBuffer *ref = portrait (), *f;
  Host host;
  guint n = 0, i;
  gdouble sum = 0, wsum = 0;

  host_new (&host, "host-energy.pt", NULL);
  gst_harness_set_src_caps_str (host.h, "audio/x-raw,format=S16LE,"
      "layout=interleaved,rate=48000,channels=2");
  gst_harness_play (host.h);
  push_portrait (&host, gst_buffer_ref (ref));
  for (i = 0; i < 20; i++) {
    /* 0.1 s pieces; a tone from 0.8 to 1.2 s on both channels */
    GstBuffer *b = gst_buffer_new_allocate (NULL, 4800 * 4, NULL);
    GstMapInfo m;
    gint16 *s;
    gint j;

    gst_buffer_map (b, &m, GST_MAP_WRITE);
    s = (gint16 *) m.data;
    for (j = 0; j < 4800; j++) {
      gdouble t = i * 0.1 + j / 48000.0;
      gint16 v = burst_08_12 (t) ? (gint16) (16000 * sin (2 * G_PI * 440 *
              t)) : 0;

      s[2 * j] = s[2 * j + 1] = v;
    }
    gst_buffer_unmap (b, &m);
    GST_BUFFER_PTS (b) = i * 100 * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (host.h, b), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));
  while ((f = gst_harness_try_pull (host.h))) {
    gdouble t = n * 0.04;
    gboolean rest = outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (f), n * 40 * GST_MSECOND);
    if (t >= 0.88 && t <= 1.12)
      fail_unless (pixel (f, MOUTH_X, MOUTH_Y) > 120, "frame %u", n);
    if (t < 0.6 || t > 1.4)
      fail_unless (rest);
    if (!rest) {
      sum += pixel (f, MOUTH_X, MOUTH_Y) * t;
      wsum += pixel (f, MOUTH_X, MOUTH_Y);
    }
    gst_buffer_unref (f);
    n++;
  }
  fail_unless_equals_int (n, 50);
  /* the resampler keeps the timing: the mouth is centred on the tone's
   * middle within half a frame, as at 16 kHz */
  fail_unless (fabs (sum / wsum - 1.0) < 0.02, "mouth centred at %g s",
      sum / wsum);
  gst_buffer_unref (ref);
  host_free (&host);
}

GST_END_TEST;

static gboolean
always (gdouble t)
{
  return TRUE;
}

/* A GAP and a hole in the timestamps are silence: the host rests, the
 * frames go on. */
GST_START_TEST (test_gap_rests)
{
  GstBuffer *ref = portrait (), *f;
  Host host;
  guint n = 0;

  host_new (&host, "host-energy.pt", NULL);
  gst_harness_play (host.h);
  push_portrait (&host, gst_buffer_ref (ref));
  push_audio (&host, 0, 0.5, always, 0);
  fail_unless (gst_harness_push_event (host.h, gst_event_new_gap (500 *
              GST_MSECOND, GST_SECOND)));
  push_audio (&host, 1.5, 2.0, always, 0);
  /* a hole from 2.0 to 2.6 s in the timestamps */
  push_audio (&host, 2.6, 3.0, always, 0);
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));
  while ((f = gst_harness_try_pull (host.h))) {
    gdouble t = n * 0.04;
    gboolean rest = outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (f), n * 40 * GST_MSECOND);
    if ((t > 0.65 && t < 1.35) || (t > 2.15 && t < 2.45))
      fail_unless (rest, "frame %u at %g s in the gap is not resting", n, t);
    if (t < 0.35 || (t > 1.65 && t < 1.85) || t > 2.75)
      fail_if (rest, "frame %u at %g s: the mouth does not move", n, t);
    gst_buffer_unref (f);
    n++;
  }
  fail_unless_equals_int (n, 75);
  gst_buffer_unref (ref);
  host_free (&host);
}

GST_END_TEST;

/* Only pixels inside the face box can change. */
static void
check_box_used (GstBuffer * ref, GstBuffer * pushed, const gchar * face_box,
    gint bx, gint by, gint bw, gint bh)
{
  Host host;
  GstBuffer *f;
  guint n = 0, moved = 0;

  host_new (&host, "host-nobox.pt", "face-box", face_box, NULL);
  gst_harness_play (host.h);
  push_portrait (&host, pushed);
  push_audio (&host, 0, 1.0, always, 0);
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));
  while ((f = gst_harness_try_pull (host.h))) {
    if (!outside_box_exact (f, ref, bx, by, bw, bh))
      moved++;
    gst_buffer_unref (f);
    n++;
  }
  fail_unless_equals_int (n, 25);
  fail_unless (moved >= 20);
  host_free (&host);
}

GST_START_TEST (test_face_roi_meta)
{
  GstBuffer *ref = portrait (), *with_meta;
  Host host;
  gchar *msg;

  /* a `face` meta on the portrait gives the box (another type does not) */
  with_meta = portrait ();
  gst_buffer_add_video_region_of_interest_meta (with_meta, "product", 0, 0,
      10, 10);
  gst_buffer_add_video_region_of_interest_meta (with_meta, "face", 36, 6,
      24, 20);
  check_box_used (ref, with_meta, NULL, 36, 6, 24, 20);
  /* the property wins over the meta */
  with_meta = portrait ();
  gst_buffer_add_video_region_of_interest_meta (with_meta, "face", 36, 6,
      24, 20);
  check_box_used (ref, with_meta, "4,20,20,20", 4, 20, 20, 20);

  /* no box anywhere: an error naming face-box */
  host_new (&host, "host-nobox.pt", NULL);
  gst_harness_play (host.h);
  push_portrait (&host, portrait ());
  /* the first audio sets the output up, and fails */
  fail_unless_equals_int (gst_harness_push (host.h, audio_piece (0, 1600,
              always, 0)), GST_FLOW_ERROR);
  msg = kling_check_pop_error (host.bus, GST_SECOND);
  fail_unless (msg && strstr (msg, "face-box"), "%s", msg);
  g_free (msg);
  host_free (&host);
  gst_buffer_unref (ref);
}

GST_END_TEST;

GST_START_TEST (test_no_portrait)
{
  Host host;
  GstHarness *h;
  GstElement *e;
  GstBus *bus;
  gchar *msg, *path;

  /* the image pad ends without a frame */
  host_new (&host, "host-energy.pt", NULL);
  gst_harness_play (host.h);
  fail_unless (gst_harness_push_event (host.img, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_push (host.h, audio_piece (0, 1600,
              always, 0)), GST_FLOW_ERROR);
  msg = kling_check_pop_error (host.bus, GST_SECOND);
  fail_unless (msg && strstr (msg, "No portrait"), "%s", msg);
  g_free (msg);
  host_free (&host);

  /* the image pad is not linked */
  e = kling_check_make_element ("klinghost");
  path = kling_check_test_model ("host-energy.pt");
  g_object_set (e, "model", path, NULL);
  g_free (path);
  bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  h = gst_harness_new_with_element (e, "audio", "src");
  gst_harness_set_src_caps_str (h, "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=16000,channels=1");
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, audio_piece (0, 1600,
              always, 0)), GST_FLOW_ERROR);
  msg = kling_check_pop_error (bus, GST_SECOND);
  fail_unless (msg && strstr (msg, "\"image\" pad"), "%s", msg);
  g_free (msg);
  gst_harness_teardown (h);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

/* Fails to reach PAUSED with an error containing @want. */
static void
check_start_error (const gchar * model, const gchar * prop,
    const gchar * value, const gchar * want)
{
  GstElement *e = kling_check_make_element ("klinghost");
  GstBus *bus = gst_bus_new ();
  gchar *path = model ? kling_check_test_model (model) :
      g_strdup ("/nonexistent/host.pt");
  gchar *msg;

  g_object_set (e, "model", path, NULL);
  if (prop)
    g_object_set (e, prop, value, NULL);
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = kling_check_pop_error (bus, 0);
  fail_unless (msg && strstr (msg, want), "wanted \"%s\" in: %s", want, msg);
  g_free (msg);
  /* and it still cycles READY <-> NULL */
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (path);
}

GST_START_TEST (test_bad_models_and_settings)
{
  check_start_error ("host-bad-shape.pt", NULL, NULL,
      "float32[1, 3, 16, 32], expected float32[1, 3, 32, 32]");
  check_start_error ("detect-yolov8.pt", NULL, NULL, "talking-head");
  check_start_error ("truncated.pt", NULL, NULL, "truncated.pt");
  check_start_error (NULL, NULL, NULL, "/nonexistent/host.pt");
  check_start_error ("host-energy.pt", "face-box", "1,2,x,4", "face-box");
  check_start_error ("host-energy.pt", "face-box", "1,2,0,4", "face-box");
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *e = kling_check_make_element ("klinghost");
  gint n, d, feather, threads;
  guint batch;
  gboolean live;
  gchar *model, *box, *device;

  g_object_get (e, "batch", &batch, "feather", &feather,
      "live-mode", &live, "model", &model, "face-box", &box, "device",
      &device, "threads", &threads, NULL);
  fail_unless (model == NULL && box == NULL);
  fail_unless_equals_string (device, "cpu");
  fail_unless_equals_int (batch, 0);
  fail_unless_equals_int (feather, -1);
  fail_unless_equals_int (threads, 0);
  fail_if (live);
  g_free (device);
  {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_FRACTION);
    g_object_get_property (G_OBJECT (e), "framerate", &v);
    n = gst_value_get_fraction_numerator (&v);
    d = gst_value_get_fraction_denominator (&v);
    fail_unless (n == 25 && d == 1);
    gst_value_set_fraction (&v, 30000, 1001);
    g_object_set_property (G_OBJECT (e), "framerate", &v);
    g_value_unset (&v);
  }
  gst_object_unref (e);
}

GST_END_TEST;

/* 30000/1001: frame n at n * 1001 / 30000 s, as many as the audio lasts. */
GST_START_TEST (test_framerate)
{
  Host host;
  GstBuffer *f;
  guint n = 0;

  host_new (&host, "host-energy.pt", "framerate", 30000, 1001, NULL);
  gst_harness_play (host.h);
  push_portrait (&host, portrait ());
  push_audio (&host, 0, 1.0, always, 0);
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));
  while ((f = gst_harness_try_pull (host.h))) {
    fail_unless_equals_uint64 (GST_BUFFER_PTS (f),
        gst_util_uint64_scale (n, 1001 * GST_SECOND, 30000));
    gst_buffer_unref (f);
    n++;
  }
  /* ceil (1.0 * 30000 / 1001) */
  fail_unless_equals_int (n, 30);
  host_free (&host);
}

GST_END_TEST;

/* live-mode: one frame per clock wait, on through the audio stopping;
 * frames for time without audio rest. */
GST_START_TEST (test_live_clock)
{
  GstBuffer *ref = portrait (), *f;
  GstClockTime min = 0, max = 0;
  Host host;
  GstEvent *ev;
  guint n;

  host_new (&host, "host-energy.pt", "live-mode", TRUE, NULL);
  gst_harness_use_testclock (host.h);
  gst_harness_play (host.h);
  push_portrait (&host, gst_buffer_ref (ref));
  push_audio (&host, 0, 0.4, always, 0);

  for (n = 0; n < 30; n++) {
    gdouble t = n * 0.04;

    fail_unless (gst_harness_crank_single_clock_wait (host.h));
    f = gst_harness_pull (host.h);
    fail_unless (f != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (f), n * 40 * GST_MSECOND);
    /* the frame was made once the clock passed its time plus the
     * look-ahead, 112.5 ms */
    fail_unless (gst_clock_get_time (GST_ELEMENT_CLOCK (host.e)) >=
        GST_BUFFER_PTS (f) + 112 * GST_MSECOND);
    if (t < 0.25)
      fail_if (outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H));
    if (t > 0.55)
      fail_unless (outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H),
          "frame %u at %g s after the audio stopped is not resting", n, t);
    gst_buffer_unref (f);
  }
  /* audio for time already shown is dropped; audio ahead is used */
  push_audio (&host, 0.2, 0.6, always, 0);
  push_audio (&host, 1.3, 1.7, always, 0);
  for (; n < 40; n++) {
    gdouble t = n * 0.04;

    fail_unless (gst_harness_crank_single_clock_wait (host.h));
    f = gst_harness_pull (host.h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (f), n * 40 * GST_MSECOND);
    if (t > 1.42 && t < 1.58)
      fail_if (outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H),
          "frame %u at %g s: the mouth does not move", n, t);
    gst_buffer_unref (f);
  }

  fail_unless (gst_harness_query_latency (host.h) >= 112 * GST_MSECOND);
  {
    GstQuery *q = gst_query_new_latency ();
    gboolean live = FALSE;

    fail_unless (gst_pad_peer_query (host.h->sinkpad, q));
    gst_query_parse_latency (q, &live, &min, &max);
    fail_unless (live);
    fail_unless (min >= 112 * GST_MSECOND);
    gst_query_unref (q);
  }

  /* EOS: the frames up to the end of the audio (1.7 s), then EOS */
  fail_unless (gst_harness_push_event (host.h, gst_event_new_eos ()));
  for (; n < 43; n++) {
    fail_unless (gst_harness_crank_single_clock_wait (host.h));
    f = gst_harness_pull (host.h);
    gst_buffer_unref (f);
  }
  fail_unless (gst_harness_crank_single_clock_wait (host.h));
  do {
    ev = gst_harness_pull_event (host.h);
    fail_unless (ev != NULL);
    n = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  } while (!n);
  fail_unless_equals_int (gst_harness_buffers_in_queue (host.h), 0);
  gst_buffer_unref (ref);
  host_free (&host);
}

GST_END_TEST;

/* Live, behind the clock (the clock already at 1 s when the frames start):
 * the frames more than one frame late rest without the model, with one
 * warning; the first one in time speaks again. */
GST_START_TEST (test_live_late_frames_rest)
{
  GstBuffer *ref = portrait (), *f;
  GstMessage *msg;
  Host host;
  guint n;

  host_new (&host, "host-energy.pt", "live-mode", TRUE, NULL);
  gst_harness_use_testclock (host.h);
  gst_harness_set_time (host.h, GST_SECOND);
  gst_harness_play (host.h);
  push_portrait (&host, gst_buffer_ref (ref));
  push_audio (&host, 0, 2.0, always, 0);
  /* frame n waits for n * 40 + 112.5 ms: late by over 40 ms up to n = 21 */
  for (n = 0; n < 25; n++) {
    /* a wait for a time already past releases at once, the clock kept */
    fail_unless (gst_harness_crank_single_clock_wait (host.h));
    f = gst_harness_pull (host.h);
    fail_unless (f != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (f), n * 40 * GST_MSECOND);
    if (n <= 21)
      fail_unless (outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H),
          "late frame %u is not at rest", n);
    else
      fail_if (outside_box_exact (f, ref, BOX_X, BOX_Y, BOX_W, BOX_H),
          "frame %u in time does not speak", n);
    gst_buffer_unref (f);
  }
  msg = gst_bus_pop_filtered (host.bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (strstr (err->message, "slower than real time") != NULL,
        "%s", err->message);
    g_error_free (err);
  }
  gst_message_unref (msg);
  fail_unless (gst_bus_pop_filtered (host.bus, GST_MESSAGE_WARNING) == NULL);
  gst_buffer_unref (ref);
  host_free (&host);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *path = kling_check_test_model ("host-energy.pt");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! "
      "video/x-raw,format=RGB,width=64,height=48 ! h.image  "
      "audiotestsrc num-buffers=6 samplesperbuffer=1600 ! "
      "audio/x-raw,rate=16000 ! h.audio  klinghost name=h model=%s ! "
      "fakesink", path);

  kling_check_state_cycles (desc, 100, 30 * GST_SECOND);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

/* live-mode on the system clock behind a live source: to EOS and back,
 * and stopped mid-stream while its task waits on the clock */
GST_START_TEST (test_live_state_cycles)
{
  gchar *path = kling_check_test_model ("host-energy.pt");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! "
      "video/x-raw,format=RGB,width=64,height=48 ! h.image  "
      "audiotestsrc is-live=true num-buffers=4 samplesperbuffer=1600 ! "
      "audio/x-raw,rate=16000 ! h.audio  klinghost name=h live-mode=true "
      "model=%s ! fakesink sync=true", path);

  kling_check_state_cycles (desc, 20, 30 * GST_SECOND);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

static Suite *
klinghost_suite (void)
{
  Suite *s = suite_create ("klinghost");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_frames_follow_audio);
  tcase_add_test (tc, test_batch_same_frames);
  tcase_add_test (tc, test_portrait_loop);
  tcase_add_test (tc, test_portrait_caps_change_warned_on_pad);
  tcase_add_test (tc, test_any_rate_and_channels);
  tcase_add_test (tc, test_gap_rests);
  tcase_add_test (tc, test_face_roi_meta);
  tcase_add_test (tc, test_no_portrait);
  tcase_add_test (tc, test_bad_models_and_settings);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_framerate);
  tcase_add_test (tc, test_live_clock);
  tcase_add_test (tc, test_live_late_frames_rest);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_live_state_cycles);
  return s;
}

GST_CHECK_MAIN (klinghost);
