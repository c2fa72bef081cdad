/* gst-kling: aiproductdetect element tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Most tests use small models the test build makes (tests/models): a
 * "detector" that boxes saturated red (class 0) and green (class 1) pixels,
 * in each output layout, and a "copywriter" that spells a fixed line per
 * label and language, so every expected value is known exactly.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#define KLING_CHECK_STAT_PROBE
#include "kling-check.h"

#define W 320
#define H 240
/* red box and green box, in frame pixels */
#define RX 100
#define RY 60
#define RW 80
#define RH 60
#define GX 220
#define GY 150
#define GW 50
#define GH 70

/* An RGB frame with a red and a green box on a grey-blue background. */
static GstBuffer *
make_rgb_frame (void)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, W * H * 3, NULL);
  GstMapInfo map;
  gint x, y;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      guint8 *p = map.data + (y * W + x) * 3;
      p[0] = 60 + (x % 40);
      p[1] = 70;
      p[2] = 90 + (y % 30);
      if (x >= RX && x < RX + RW && y >= RY && y < RY + RH) {
        p[0] = 240;
        p[1] = 10;
        p[2] = 10;
      }
      if (x >= GX && x < GX + GW && y >= GY && y < GY + GH) {
        p[0] = 10;
        p[1] = 240;
        p[2] = 10;
      }
    }
  gst_buffer_unmap (buf, &map);
  return buf;
}

static GstBuffer *
convert_frame (GstBuffer * rgb, GstVideoFormat format)
{
  GstVideoInfo in, out;
  GstVideoFrame fin, fout;
  GstVideoConverter *conv;
  GstBuffer *buf;

  gst_video_info_set_format (&in, GST_VIDEO_FORMAT_RGB, W, H);
  gst_video_info_set_format (&out, format, W, H);
  buf = gst_buffer_new_allocate (NULL, out.size, NULL);
  gst_video_frame_map (&fin, &in, rgb, GST_MAP_READ);
  gst_video_frame_map (&fout, &out, buf, GST_MAP_WRITE);
  conv = gst_video_converter_new (&in, &out, NULL);
  gst_video_converter_frame (conv, &fin, &fout);
  gst_video_converter_free (conv);
  gst_video_frame_unmap (&fin);
  gst_video_frame_unmap (&fout);
  return buf;
}

static gchar *
caps_string (GstVideoFormat format)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=10/1", gst_video_format_to_string (format), W, H);
}

/* Extra set-up properties (NULL-terminated) go in before the harness
 * starts the element. */
static GstHarness *
make_harness (const gchar * model, const gchar * copy_model,
    GstVideoFormat format, const gchar * first_property, ...)
{
  va_list args;
  GstElement *e = kling_check_make_element ("aiproductdetect");
  gchar *mpath = kling_check_test_model (model);
  gchar *cpath = copy_model && *copy_model ?
      kling_check_test_model (copy_model) : g_strdup ("");
  gchar *caps = caps_string (format);
  GstHarness *h;

  /* set-up properties go in before the harness starts the element */
  g_object_set (e, "model", mpath, "copy-model", cpath, "threads", 1, NULL);
  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (e), first_property, args);
  va_end (args);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, caps);
  g_free (mpath);
  g_free (cpath);
  g_free (caps);
  return h;
}

static GstBuffer *
frame_at (GstVideoFormat format, guint i)
{
  GstBuffer *rgb = make_rgb_frame ();
  GstBuffer *buf = format == GST_VIDEO_FORMAT_RGB ? rgb :
      convert_frame (rgb, format);

  if (buf != rgb)
    gst_buffer_unref (rgb);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 10;
  GST_BUFFER_DTS (buf) = i * GST_SECOND / 10 + 1;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
  GST_BUFFER_OFFSET (buf) = i;
  return buf;
}

static GstVideoRegionOfInterestMeta *
find_roi (GstBuffer * buf, const gchar * type)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    if (roi->roi_type == g_quark_from_string (type))
      return roi;
  }
  return NULL;
}

static guint
count_rois (GstBuffer * buf)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buf, &state,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    n++;
  return n;
}

#define assert_near(a, b, tol) \
  fail_unless (ABS ((gint) (a) - (gint) (b)) <= (tol), \
      "%s = %d, expected %d ± %d", #a, (gint) (a), (gint) (b), (tol))

static void
check_boxes (GstBuffer * buf, gint tol)
{
  GstVideoRegionOfInterestMeta *red = find_roi (buf, "red");
  GstVideoRegionOfInterestMeta *green = find_roi (buf, "green");
  GstStructure *s;
  gint id;
  gdouble conf;

  fail_unless (red != NULL, "no red box");
  fail_unless (green != NULL, "no green box");
  fail_unless_equals_int (count_rois (buf), 2);
  assert_near (red->x, RX, tol);
  assert_near (red->y, RY, tol);
  assert_near (red->w, RW, tol);
  assert_near (red->h, RH, tol);
  assert_near (green->x, GX, tol);
  assert_near (green->y, GY, tol);
  assert_near (green->w, GW, tol);
  assert_near (green->h, GH, tol);

  s = gst_video_region_of_interest_meta_get_param (red, "detection");
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "label"), "red");
  fail_unless (gst_structure_get_int (s, "label-id", &id) && id == 0);
  fail_unless (gst_structure_get_double (s, "confidence", &conf));
  fail_unless (conf > 0.89 && conf < 0.91, "confidence %f", conf);
  s = gst_video_region_of_interest_meta_get_param (green, "detection");
  fail_unless (gst_structure_get_int (s, "label-id", &id) && id == 1);
}

GST_START_TEST (test_detects_known_boxes)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", NULL, GST_VIDEO_FORMAT_RGB, NULL);
  GstBuffer *in = frame_at (GST_VIDEO_FORMAT_RGB, 3), *out;
  GstMapInfo a, b;
  GstBuffer *ref = gst_buffer_copy_deep (in);

  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT | GST_BUFFER_FLAG_DELTA_UNIT);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  check_boxes (out, 2);

  /* timestamps, flags and pixels pass through untouched */
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 3 * GST_SECOND / 10);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (out), 3 * GST_SECOND / 10 + 1);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 10);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 3);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DELTA_UNIT));
  gst_buffer_map (out, &a, GST_MAP_READ);
  gst_buffer_map (ref, &b, GST_MAP_READ);
  fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0);
  gst_buffer_unmap (out, &a);
  gst_buffer_unmap (ref, &b);
  gst_buffer_unref (ref);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_every_input_format)
{
  GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBx,
    GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_RGBA,
    GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_ABGR, GST_VIDEO_FORMAT_I420,
    GST_VIDEO_FORMAT_YV12, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21,
    GST_VIDEO_FORMAT_YUY2, GST_VIDEO_FORMAT_UYVY, GST_VIDEO_FORMAT_Y444,
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = make_harness ("detect-yolov8.pt", NULL, formats[i], NULL);
    GstBuffer *out = gst_harness_push_and_pull (h, frame_at (formats[i], 0));

    GST_INFO ("format %s", gst_video_format_to_string (formats[i]));
    /* chroma subsampling blurs the box edges by a pixel or two */
    check_boxes (out, 3);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_output_layouts)
{
  const gchar *models[] = { "detect-yolov5.pt", "detect-torchvision.pt" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (models); i++) {
    GstHarness *h = make_harness (models[i], NULL, GST_VIDEO_FORMAT_BGRx, NULL);
    GstBuffer *out = gst_harness_push_and_pull (h,
        frame_at (GST_VIDEO_FORMAT_BGRx, 0));

    check_boxes (out, 2);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_threshold_and_max_detections)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", NULL, GST_VIDEO_FORMAT_RGB, NULL);
  GstBuffer *out;
  gfloat t;

  /* until set, the manifest's recommended threshold applies */
  gst_harness_play (h);
  g_object_get (h->element, "threshold", &t, NULL);
  fail_unless (t == 0.5f, "threshold %f", t);

  g_object_set (h->element, "threshold", 0.85f, NULL);
  out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, 0));
  fail_unless (find_roi (out, "red") && !find_roi (out, "green"));
  gst_buffer_unref (out);

  g_object_set (h->element, "threshold", 0.1f, "max-detections", 1, NULL);
  out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, 1));
  fail_unless_equals_int (count_rois (out), 1);
  fail_unless (find_roi (out, "red") != NULL);
  gst_buffer_unref (out);

  /* NMS off (iou-threshold 1): the model's duplicate red box survives */
  g_object_set (h->element, "max-detections", 100, "iou-threshold", 1.0f,
      NULL);
  out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, 2));
  fail_unless_equals_int (count_rois (out), 3);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Text pad: copy with the frame's timestamps, GAP events between. */
GST_START_TEST (test_text_pad_copy_and_gaps)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", "copy-echo.pt", GST_VIDEO_FORMAT_RGB, NULL);
  GstHarness *th = gst_harness_new_with_element (h->element, NULL,
      "text_src");
  GstBuffer *out, *text;
  GstMapInfo map;
  GstEvent *ev;
  GstStructure *s;
  GstVideoRegionOfInterestMeta *red;
  gboolean saw_gap = FALSE, saw_caps = FALSE, saw_start = FALSE;
  gboolean saw_last_gap = FALSE;
  guint i;

  g_object_set (h->element, "language", 1, "copy-interval", 10 * GST_SECOND,
      NULL);
  gst_harness_play (th);
  out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, 5));

  /* the best product (red, 0.9) got copy; it rides on its ROI too */
  red = find_roi (out, "red");
  s = gst_video_region_of_interest_meta_get_param (red, "marketing-copy");
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "text"),
      "red thing");
  fail_unless_equals_string (gst_structure_get_string (s, "language"), "en");
  fail_unless (gst_video_region_of_interest_meta_get_param (find_roi (out,
              "green"), "marketing-copy") == NULL);
  gst_buffer_unref (out);

  text = gst_harness_pull (th);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (text), 5 * GST_SECOND / 10);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (text), GST_SECOND / 10);
  gst_buffer_map (text, &map, GST_MAP_READ);
  fail_unless_equals_int (map.size, strlen ("red thing"));
  fail_unless (memcmp (map.data, "red thing", map.size) == 0);
  gst_buffer_unmap (text, &map);
  gst_buffer_unref (text);

  /* next frame: green is new, so it gets copy; then nothing is new */
  gst_buffer_unref (gst_harness_push_and_pull (h, frame_at
          (GST_VIDEO_FORMAT_RGB, 6)));
  text = gst_harness_pull (th);
  gst_buffer_map (text, &map, GST_MAP_READ);
  fail_unless (memcmp (map.data, "green thing", map.size) == 0);
  gst_buffer_unmap (text, &map);
  gst_buffer_unref (text);

  for (i = 7; i < 10; i++)
    gst_buffer_unref (gst_harness_push_and_pull (h, frame_at
            (GST_VIDEO_FORMAT_RGB, i)));
  /* text_src is pushed from its own task: wait for the last frame's GAP;
   * whatever came before it has arrived then */
  while (!saw_last_gap && (ev = gst_harness_pull_event (th))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_STREAM_START) {
      const gchar *id;
      gst_event_parse_stream_start (ev, &id);
      fail_unless (g_str_has_suffix (id, "/text"), "%s", id);
      saw_start = TRUE;
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      GstCaps *caps, *want = gst_caps_from_string ("text/x-raw,format=utf8");
      gst_event_parse_caps (ev, &caps);
      fail_unless (gst_caps_is_equal (caps, want));
      gst_caps_unref (want);
      saw_caps = TRUE;
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      GstClockTime ts, dur;
      gst_event_parse_gap (ev, &ts, &dur);
      fail_unless (ts >= 7 * GST_SECOND / 10 && dur == GST_SECOND / 10);
      saw_gap = TRUE;
      saw_last_gap = ts == 9 * GST_SECOND / 10;
    }
    gst_event_unref (ev);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (th), 0);
  fail_unless (saw_start && saw_caps && saw_gap);

  /* Chinese copy is whole UTF-8 */
  g_object_set (h->element, "language", 0, "copy-interval", (guint64) 0,
      NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h, frame_at
          (GST_VIDEO_FORMAT_RGB, 10)));
  text = gst_harness_pull (th);
  gst_buffer_map (text, &map, GST_MAP_READ);
  fail_unless (g_utf8_validate ((const gchar *) map.data, map.size, NULL));
  fail_unless (map.size == strlen ("紅色的好東西")
      && memcmp (map.data, "紅色的好東西", map.size) == 0);
  gst_buffer_unmap (text, &map);
  gst_buffer_unref (text);

  gst_harness_teardown (th);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_messages_and_interval)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", NULL, GST_VIDEO_FORMAT_RGB, NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint i, n_messages = 0;

  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "inference-interval", 3, NULL);
  for (i = 0; i < 7; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h,
        frame_at (GST_VIDEO_FORMAT_RGB, i));
    /* frames between analyses carry the last detections */
    check_boxes (out, 2);
    gst_buffer_unref (out);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    const GValue *list = gst_structure_get_value (s, "detections");
    const GstStructure *d;
    guint64 ts, rt, st;

    if (gst_structure_has_name (s, "aiproductdetect")) {
      fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
      fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
      fail_unless (gst_structure_get_uint64 (s, "stream-time", &st));
      fail_unless_equals_uint64 (ts, n_messages * 3 * GST_SECOND / 10);
      fail_unless_equals_uint64 (rt, ts);
      fail_unless_equals_int (gst_value_list_get_size (list), 2);
      d = gst_value_get_structure (gst_value_list_get_value (list, 0));
      fail_unless_equals_string (gst_structure_get_string (d, "label"),
          "red");
      n_messages++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_messages, 3);     /* frames 0, 3 and 6 */
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_draw)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", NULL, GST_VIDEO_FORMAT_RGB, NULL);
  GstBuffer *out;
  GstMapInfo map;
  guint8 *edge, *inside;

  g_object_set (h->element, "draw", TRUE, NULL);
  out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, 0));
  gst_buffer_map (out, &map, GST_MAP_READ);
  /* left edge of the green box is painted in the green class colour; the
   * inside of the box is left alone */
  edge = map.data + ((GY + GH / 2) * W + GX) * 3;
  inside = map.data + ((GY + GH / 2) * W + GX + GW / 2) * 3;
  fail_unless (edge[0] == 64 && edge[1] == 160 && edge[2] == 255,
      "%d %d %d", edge[0], edge[1], edge[2]);
  fail_unless (inside[0] == 10 && inside[1] == 240 && inside[2] == 10);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The README's decodebin ! videoconvert ! aiproductdetect draw=true line
 * negotiates I420: the boxes are drawn there too. */
GST_START_TEST (test_draw_yuv)
{
  GstVideoFormat formats[] = { GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12,
    GST_VIDEO_FORMAT_YUY2, GST_VIDEO_FORMAT_Y444
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = make_harness ("detect-yolov8.pt", NULL, formats[i],
        "draw", TRUE, NULL);
    GstBuffer *out = gst_harness_push_and_pull (h, frame_at (formats[i], 0));
    GstVideoInfo in, rgb;
    GstVideoFrame fin, fout;
    GstVideoConverter *conv;
    GstBuffer *back;
    GstMapInfo map;
    guint8 *edge;

    gst_video_info_set_format (&in, formats[i], W, H);
    gst_video_info_set_format (&rgb, GST_VIDEO_FORMAT_RGB, W, H);
    back = gst_buffer_new_allocate (NULL, rgb.size, NULL);
    gst_video_frame_map (&fin, &in, out, GST_MAP_READ);
    gst_video_frame_map (&fout, &rgb, back, GST_MAP_WRITE);
    conv = gst_video_converter_new (&in, &rgb, NULL);
    gst_video_converter_frame (conv, &fin, &fout);
    gst_video_converter_free (conv);
    gst_video_frame_unmap (&fin);
    gst_video_frame_unmap (&fout);
    gst_buffer_map (back, &map, GST_MAP_READ);
    /* the green box's left edge, in the green class colour 64, 160, 255
     * (the box itself is 10, 240, 10) */
    edge = map.data + ((GY + GH / 2) * W + GX) * 3;
    fail_unless (ABS (edge[0] - 64) <= 45 && ABS (edge[1] - 160) <= 45
        && ABS (edge[2] - 255) <= 45, "%s: edge %d %d %d",
        gst_video_format_to_string (formats[i]), edge[0], edge[1], edge[2]);
    gst_buffer_unmap (back, &map);
    gst_buffer_unref (back);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_latency_and_live_mode)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", NULL, GST_VIDEO_FORMAT_RGB, NULL);
  GstQuery *q;
  GstClockTime min, max, live_min;
  gboolean live;
  GstBuffer *out = NULL;
  guint i;

  gst_harness_play (h);
  q = gst_query_new_latency ();
  fail_unless (gst_element_query (h->element, q));
  gst_query_parse_latency (q, &live, &min, &max);
  /* synchronous: each frame waits for its inference, and says so */
  fail_unless (min > 0, "min latency %" GST_TIME_FORMAT, GST_TIME_ARGS (min));
  gst_query_unref (q);
  gst_harness_teardown (h);

  h = make_harness ("detect-yolov8.pt", NULL, GST_VIDEO_FORMAT_RGB,
      "live-mode", TRUE, NULL);
  gst_harness_play (h);
  q = gst_query_new_latency ();
  fail_unless (gst_element_query (h->element, q));
  gst_query_parse_latency (q, &live, &live_min, &max);
  fail_unless_equals_uint64 (live_min, 0);
  gst_query_unref (q);

  /* frames never wait for inference; results arrive on later frames */
  for (i = 0; i < 200; i++) {
    out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, i));
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 10);
    if (find_roi (out, "red"))
      break;
    gst_buffer_unref (out);
    out = NULL;
    g_usleep (10000);
  }
  fail_unless (out != NULL, "live mode never attached results");
  check_boxes (out, 2);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gchar *
expect_start_failure (const gchar * model_file, const gchar * property)
{
  GstElement *e = kling_check_make_element ("aiproductdetect");
  GstBus *bus = gst_bus_new ();
  gchar *path = model_file ? kling_check_test_model (model_file) :
      g_strdup ("/nonexistent/model.pt");
  gchar *text;
  gint i;

  gst_element_set_bus (e, bus);
  g_object_set (e, property, path, NULL);
  if (strcmp (property, "copy-model") == 0) {
    gchar *det = kling_check_test_model ("detect-yolov8.pt");
    g_object_set (e, "model", det, NULL);
    g_free (det);
  }
  /* NULL <-> READY works: nothing is loaded there */
  for (i = 0; i < 3; i++) {
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  text = kling_check_pop_error (bus, 0);
  fail_unless (text != NULL, "no error on the bus");
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (path);
  return text;
}

#define assert_says(msg, needle) \
  fail_unless (strstr ((msg), (needle)) != NULL, "\"%s\" lacks \"%s\"", \
      (msg), (needle))

GST_START_TEST (test_bad_models)
{
  gchar *m;

  m = expect_start_failure (NULL, "model");
  assert_says (m, "Could not load detector model");
  assert_says (m, "No such file");
  g_free (m);
  m = expect_start_failure ("not-torchscript.pt", "model");
  assert_says (m, "not a TorchScript archive");
  g_free (m);
  m = expect_start_failure ("truncated.pt", "model");
  assert_says (m, "not a TorchScript archive");
  g_free (m);
  m = expect_start_failure ("empty.pt", "model");
  assert_says (m, "empty");
  g_free (m);
  m = expect_start_failure ("probe-video.pt", "model");
  assert_says (m, "is for task `video`, but this element needs a `detect`");
  g_free (m);
  m = expect_start_failure ("probe-nomanifest.pt", "model");
  assert_says (m, "kling-wrap.py");
  g_free (m);
  m = expect_start_failure ("detect-yolov8.pt", "copy-model");
  assert_says (m, "Could not load copywriter model");
  assert_says (m, "is for task `detect`, but this element needs a "
      "`copywrite` model");
  g_free (m);
}

GST_END_TEST;

/* A detector whose output does not match its labels: an error naming the
 * output and the shapes, not a crash. */
GST_START_TEST (test_labels_file_mismatch)
{
  gchar *dir = g_dir_make_tmp ("kling-labels-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "labels.txt", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstMessage *msg;
  GError *err = NULL;

  g_file_set_contents (file, "one\ntwo\nthree\n", -1, NULL);
  h = make_harness ("detect-yolov8.pt", NULL, GST_VIDEO_FORMAT_RGB,
      "labels-file", file, NULL);
  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, frame_at (GST_VIDEO_FORMAT_RGB,
              0)), GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  assert_says (err->message, "output \"0\" is float32[1, 6, 3], expected "
      "float32[1, 7, *]");
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

/* A grey frame of any format and size. */
static GstBuffer *
plain_frame (GstVideoFormat format, gint width, gint height, guint i)
{
  GstVideoInfo info;
  GstBuffer *buf;

  fail_unless (gst_video_info_set_format (&info, format, width, height));
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, 0x80, info.size);
  GST_BUFFER_PTS (buf) = i * GST_SECOND / 10;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
  return buf;
}

static void
set_caps (GstHarness * h, GstVideoFormat format, gint width, gint height)
{
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=10/1", gst_video_format_to_string (format), width, height);

  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
}

/* Mid-stream caps changes (size down to 1x1, odd sizes, every format):
 * each frame comes out, with no heap damage (the sequences the bad-input
 * sweep found aborting in free()). */
GST_START_TEST (test_renegotiation)
{
  static const struct
  {
    GstVideoFormat format;
    gint width, height;
  } seq[] = {
    {GST_VIDEO_FORMAT_RGB, 320, 240}, {GST_VIDEO_FORMAT_RGB, 1, 1},
    {GST_VIDEO_FORMAT_RGB, 320, 240}, {GST_VIDEO_FORMAT_I420, 641, 359},
    {GST_VIDEO_FORMAT_GRAY8, 1, 1}, {GST_VIDEO_FORMAT_NV12, 3, 1},
    {GST_VIDEO_FORMAT_YUY2, 1, 257}, {GST_VIDEO_FORMAT_RGB, 2, 2},
    {GST_VIDEO_FORMAT_I420, 1, 1}, {GST_VIDEO_FORMAT_BGRx, 1000, 3},
  };
  GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBx,
    GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xBGR,
    GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_ARGB,
    GST_VIDEO_FORMAT_ABGR, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12,
    GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_YUY2,
    GST_VIDEO_FORMAT_UYVY, GST_VIDEO_FORMAT_Y42B, GST_VIDEO_FORMAT_Y444,
    GST_VIDEO_FORMAT_GRAY8,
  };
  gint sizes[][2] = { {1, 1}, {7, 5}, {641, 359}, {2, 1} };
  GstHarness *h = make_harness ("detect-yolov8.pt", NULL,
      GST_VIDEO_FORMAT_RGB, NULL);
  guint i, j, n = 0;

  for (i = 0; i < G_N_ELEMENTS (seq); i++) {
    GstBuffer *out;

    GST_INFO ("%s %dx%d", gst_video_format_to_string (seq[i].format),
        seq[i].width, seq[i].height);
    set_caps (h, seq[i].format, seq[i].width, seq[i].height);
    /* the full-size frames have products in them */
    if (seq[i].width == W && seq[i].height == H)
      out = gst_harness_push_and_pull (h, frame_at (seq[i].format, n++));
    else
      out = gst_harness_push_and_pull (h, plain_frame (seq[i].format,
              seq[i].width, seq[i].height, n++));
    fail_unless (out != NULL);
    gst_buffer_unref (out);
  }
  for (i = 0; i < G_N_ELEMENTS (formats); i++)
    for (j = 0; j < G_N_ELEMENTS (sizes); j++) {
      GST_INFO ("%s %dx%d", gst_video_format_to_string (formats[i]),
          sizes[j][0], sizes[j][1]);
      set_caps (h, formats[i], sizes[j][0], sizes[j][1]);
      gst_buffer_unref (gst_harness_push_and_pull (h, plain_frame (formats[i],
                  sizes[j][0], sizes[j][1], n++)));
    }
  /* and back: detection still right after all that */
  set_caps (h, GST_VIDEO_FORMAT_RGB, W, H);
  {
    GstBuffer *out = gst_harness_push_and_pull (h,
        frame_at (GST_VIDEO_FORMAT_RGB, n++));
    check_boxes (out, 2);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A copywriter whose logits are all NaN: a warning naming the model, no
 * copy, and the video (with its detections) keeps flowing. */
GST_START_TEST (test_nan_copywriter)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", "copy-nan.pt",
      GST_VIDEO_FORMAT_RGB, NULL);
  GstHarness *th = gst_harness_new_with_element (h->element, NULL,
      "text_src");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  GstBuffer *out;
  GstEvent *ev;
  gboolean saw_gap = FALSE;

  gst_element_set_bus (h->element, bus);
  gst_harness_play (th);
  out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, 0));
  fail_unless (out != NULL);
  check_boxes (out, 2);
  fail_unless (gst_video_region_of_interest_meta_get_param (find_roi (out,
              "red"), "marketing-copy") == NULL);
  gst_buffer_unref (out);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning on the bus");
  gst_message_parse_warning (msg, &err, NULL);
  assert_says (err->message, "copy-nan.pt");
  assert_says (err->message, "no usable token");
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  /* the frame's GAP instead of copy (text_src has its own task: wait) */
  while (!saw_gap && (ev = gst_harness_pull_event (th))) {
    saw_gap = GST_EVENT_TYPE (ev) == GST_EVENT_GAP;
    gst_event_unref (ev);
  }
  fail_unless (saw_gap);
  fail_unless_equals_int (gst_harness_buffers_in_queue (th), 0);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (th);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* labels-file on an endless file: an error naming the limit, not a read
 * until memory runs out. */
GST_START_TEST (test_labels_file_endless)
{
  GstElement *e = kling_check_make_element ("aiproductdetect");
  gchar *model = kling_check_test_model ("detect-yolov8.pt");
  GstBus *bus = gst_bus_new ();
  gchar *text;

  gst_element_set_bus (e, bus);
  g_object_set (e, "model", model, "copy-model", "", "labels-file",
      "/dev/zero", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  text = kling_check_pop_error (bus, 0);
  fail_unless (text != NULL, "no error on the bus");
  assert_says (text, "/dev/zero");
  assert_says (text, "1048576 bytes");
  g_free (text);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (model);
}

GST_END_TEST;

/* text_src: DTS and flags of the frame; every downstream event but the
 * derived stream-start and the fixed caps is forwarded; the fixed caps
 * are not leaked. */
GST_START_TEST (test_text_pad_events_and_fields)
{
  GstElement *e = kling_check_make_element ("aiproductdetect");
  /* the class (and its template caps, static caps the leaks tracer does
   * not see) outlives the element */
  GstCaps *templ_caps =
      GST_PAD_TEMPLATE_CAPS (gst_element_class_get_pad_template
      (GST_ELEMENT_GET_CLASS (e), "text_src"));
  gint refcount;
  GstHarness *h, *th;
  GstBuffer *in, *text;
  GstEvent *ev;
  GstTagList *tags;
  gboolean saw_tag = FALSE, saw_custom = FALSE, saw_gap = FALSE;
  gint i;

  gst_object_unref (e);
  refcount = GST_CAPS_REFCOUNT_VALUE (templ_caps);
  h = make_harness ("detect-yolov8.pt", "copy-echo.pt", GST_VIDEO_FORMAT_RGB,
      NULL);
  th = gst_harness_new_with_element (h->element, NULL, "text_src");
  gst_harness_play (th);
  g_object_set (h->element, "language", 1, NULL);
  /* a few stream-starts: each replays the text caps */
  for (i = 0; i < 3; i++)
    gst_harness_push_event (h, gst_event_new_stream_start ("again"));
  gst_harness_push_event (h, gst_event_new_tag (gst_tag_list_new
          (GST_TAG_TITLE, "shop", NULL)));
  gst_harness_push_event (h,
      gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_STICKY,
          gst_structure_new_empty ("kling-test")));
  gst_harness_push_event (h, gst_event_new_gap (7 * GST_SECOND, GST_SECOND));

  in = frame_at (GST_VIDEO_FORMAT_RGB, 2);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  gst_buffer_unref (gst_harness_push_and_pull (h, in));
  text = gst_harness_pull (th);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (text), 2 * GST_SECOND / 10);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (text), 2 * GST_SECOND / 10 + 1);
  fail_unless (GST_BUFFER_FLAG_IS_SET (text, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (text);

  while ((ev = gst_harness_try_pull_event (th))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_TAG) {
      gchar *title = NULL;
      gst_event_parse_tag (ev, &tags);
      saw_tag = gst_tag_list_get_string (tags, GST_TAG_TITLE, &title)
          && g_strcmp0 (title, "shop") == 0;
      g_free (title);
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM_STICKY) {
      saw_custom = gst_event_has_name (ev, "kling-test");
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      GstClockTime ts;
      gst_event_parse_gap (ev, &ts, NULL);
      saw_gap |= ts == 7 * GST_SECOND;
    }
    gst_event_unref (ev);
  }
  fail_unless (saw_tag, "tags not forwarded to text_src");
  fail_unless (saw_custom, "custom sticky event not forwarded to text_src");
  fail_unless (saw_gap, "video GAP not forwarded to text_src");

  gst_harness_teardown (th);
  gst_harness_teardown (h);
  fail_unless_equals_int (GST_CAPS_REFCOUNT_VALUE (templ_caps), refcount);
}

GST_END_TEST;

/* The parent's READY->PAUSED fails after the models loaded: they are
 * freed again (the manifest's threshold no longer shows). */
static gboolean
refuse_activation (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  return !active;
}

GST_START_TEST (test_failed_start_frees_models)
{
  GstElement *e = kling_check_make_element ("aiproductdetect");
  gchar *model = kling_check_test_model ("detect-yolov8.pt");
  GstPad *text = gst_element_get_static_pad (e, "text_src");
  gfloat t;

  g_object_set (e, "model", model, "copy-model", "", NULL);
  gst_pad_set_activatemode_function (text, refuse_activation);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  /* loaded, the detector's manifest says 0.5; unloaded: the default */
  g_object_get (e, "threshold", &t, NULL);
  fail_unless (t == 0.35f, "threshold %f: the detector is still loaded", t);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (text);
  gst_object_unref (e);
  g_free (model);
}

GST_END_TEST;

/* After a caps change the last detections (in the old frame's pixels) are
 * not attached to frames of the new size. */
GST_START_TEST (test_renegotiation_drops_old_detections)
{
  GstHarness *h = make_harness ("detect-yolov8.pt", NULL,
      GST_VIDEO_FORMAT_RGB, "inference-interval", 3, NULL);
  GstBuffer *out;

  out = gst_harness_push_and_pull (h, frame_at (GST_VIDEO_FORMAT_RGB, 0));
  check_boxes (out, 2);
  gst_buffer_unref (out);
  set_caps (h, GST_VIDEO_FORMAT_RGB, 64, 48);
  out = gst_harness_push_and_pull (h, plain_frame (GST_VIDEO_FORMAT_RGB, 64,
          48, 1));
  fail_unless_equals_int (count_rois (out), 0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* 100 NULL -> PLAYING -> NULL cycles through a real pipeline. */
/* Real torchvision detectors (tests/models/make_torchvision_models.py:
 * random weights, torch.jit.script, kling-wrap.py): they load with
 * torchvision's operators, take forward(List[Tensor]) and return
 * (losses, detections), whose boxes come back inside the frame. */
GST_START_TEST (test_real_torchvision_detectors)
{
  gchar *listing = kling_check_test_model ("torchvision-models.txt");
  gchar *text = NULL, **lines;
  guint i, n_models = 0;

  fail_unless (g_file_get_contents (listing, &text, NULL, NULL),
      "%s missing", listing);
  if (g_str_has_prefix (text, "skip:")) {
    g_print ("test_real_torchvision_detectors: %s", text);
    g_free (text);
    g_free (listing);
    return;
  }
  lines = g_strsplit (text, "\n", -1);
  for (i = 1; lines[i]; i++) {
    GstHarness *h;
    guint f, n_rois = 0;

    if (*lines[i] == '\0')
      continue;
    h = make_harness (lines[i], NULL, GST_VIDEO_FORMAT_RGB, "threshold",
        0.0f, NULL);
    for (f = 0; f < 2; f++) {
      GstBuffer *out = gst_harness_push_and_pull (h,
          frame_at (GST_VIDEO_FORMAT_RGB, f));
      gpointer state = NULL;
      GstMeta *meta;

      fail_unless (out != NULL, "%s: no frame out", lines[i]);
      while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
                  GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
        GstVideoRegionOfInterestMeta *roi =
            (GstVideoRegionOfInterestMeta *) meta;
        GstStructure *s =
            gst_video_region_of_interest_meta_get_param (roi, "detection");
        gint id;

        fail_unless (roi->w > 0 && roi->h > 0 && roi->x + roi->w <= W
            && roi->y + roi->h <= H, "%s: box %u,%u %ux%u outside %dx%d",
            lines[i], roi->x, roi->y, roi->w, roi->h, W, H);
        fail_unless (s != NULL);
        /* seven labels, __background__ first (an untrained RetinaNet, with
         * sigmoid scores, can give class 0 too) */
        fail_unless (gst_structure_get_int (s, "label-id", &id) && id >= 0
            && id <= 6, "%s: label-id %d", lines[i], id);
        n_rois++;
      }
      gst_buffer_unref (out);
    }
    /* random weights still give boxes at threshold 0 */
    fail_unless (n_rois > 0, "%s: no detections at threshold 0", lines[i]);
    gst_harness_teardown (h);
    n_models++;
  }
  fail_unless_equals_int (n_models, 3);
  g_strfreev (lines);
  g_free (text);
  g_free (listing);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *model = kling_check_test_model ("detect-yolov8.pt");
  gchar *copy = kling_check_test_model ("copy-echo.pt");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,width=64,height=48 ! aiproductdetect name=d model=%s "
      "copy-model=%s threads=1 ! fakesink d.text_src ! queue ! fakesink", model,
      copy);

  kling_check_state_cycles (desc, 100, 10 * GST_SECOND);
  g_free (desc);
  g_free (model);
  g_free (copy);
}

GST_END_TEST;

/* The default detector and copywriter are looked up (stat) without the
 * object lock, which set_property and posting a message take. */
GST_START_TEST (test_default_model_lookup_unlocked)
{
  GstElement *e = kling_check_make_element ("aiproductdetect");

  g_object_set (e, "threads", 1, NULL);
  kling_check_lookup_unlocked (e);
}

GST_END_TEST;

static Suite *
aiproductdetect_suite (void)
{
  Suite *s = suite_create ("aiproductdetect");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_detects_known_boxes);
  tcase_add_test (tc, test_every_input_format);
  tcase_add_test (tc, test_output_layouts);
  tcase_add_test (tc, test_threshold_and_max_detections);
  tcase_add_test (tc, test_text_pad_copy_and_gaps);
  tcase_add_test (tc, test_messages_and_interval);
  tcase_add_test (tc, test_draw);
  tcase_add_test (tc, test_draw_yuv);
  tcase_add_test (tc, test_latency_and_live_mode);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_labels_file_mismatch);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_default_model_lookup_unlocked);
  tcase_add_test (tc, test_real_torchvision_detectors);
  tcase_add_test (tc, test_renegotiation);
  tcase_add_test (tc, test_renegotiation_drops_old_detections);
  tcase_add_test (tc, test_nan_copywriter);
  tcase_add_test (tc, test_labels_file_endless);
  tcase_add_test (tc, test_text_pad_events_and_fields);
  tcase_add_test (tc, test_failed_start_frees_models);
  return s;
}

GST_CHECK_MAIN (aiproductdetect);
