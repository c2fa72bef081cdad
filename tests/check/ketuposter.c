/* gst-kling: ketuposter element tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The model is tests/models' colour-poster: 16x16 scenes whose colour the
 * prompt picks, a little imperfect so each seed shows.
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#define KLING_CHECK_STAT_PROBE
#include "kling-check.h"

#define PW 40
#define PH 60

static gchar *
test_model (const gchar * name)
{
  return g_build_filename (g_getenv ("KLING_TEST_MODELS"), name, NULL);
}

static GstElement *
make_poster (const gchar * first_property, ...)
{
  GstElement *e = gst_element_factory_make ("ketuposter", NULL);
  gchar *model = test_model ("poster-colour.pt");
  va_list args;

  /* product-scale=0: the photo's pixels 1:1, which the exactness checks
   * need; test_default_scale checks the default */
  g_object_set (e, "model", model, "threads", 1, "width", 200, "height", 300,
      "variants", 2, "product-scale", 0.0, NULL);
  g_free (model);
  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (e), first_property, args);
  va_end (args);
  return e;
}

static guint8
product_value (gint x, gint y, gint c)
{
  return (guint8) (37 * x + 11 * y + 101 * c);
}

/* A @w x @h RGBA photo holding a "bottle" of varied colours (so a
 * resample would show), opaque inside, with a transparent margin of
 * @margin pixels. */
static GstBuffer *
product_photo (gint w, gint h, gint margin)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, w * h * 4, NULL);
  GstMapInfo map;
  gint x, y;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, 0, map.size);
  for (y = 0; y < h - 2 * margin; y++)
    for (x = 0; x < w - 2 * margin; x++) {
      guint8 *p = map.data + ((y + margin) * w + x + margin) * 4;
      p[0] = product_value (x, y, 0);
      p[1] = product_value (x, y, 1);
      p[2] = product_value (x, y, 2);
      p[3] = 255;
    }
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* The product: PWxPH with a margin of 10 pixels. */
static GstBuffer *
product_rgba (void)
{
  return product_photo (PW + 20, PH + 20, 10);
}

/* The same product as RGB on a plain white background */
static GstBuffer *
product_on_white (gboolean noisy_background)
{
  gint w = PW + 20, h = PH + 20, x, y, stride = GST_ROUND_UP_4 (w * 3);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, stride * h, NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint8 *p = map.data + y * stride + x * 3;
      gboolean in = x >= 10 && x < 10 + PW && y >= 10 && y < 10 + PH;
      gint c;
      for (c = 0; c < 3; c++)
        p[c] = in ? (product_value (x - 10, y - 10, c) | 0x01) & 0x7f :
            noisy_background ? (guint8) g_random_int () : 255;
    }
  gst_buffer_unmap (buf, &map);
  return buf;
}

static GstHarness *
harness_with_input (GstElement * e, const gchar * format)
{
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=0/1", format, PW + 20, PH + 20);

  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

static GstVideoRegionOfInterestMeta *
roi (GstBuffer * buf, const gchar * type)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    if (((GstVideoRegionOfInterestMeta *) m)->roi_type ==
        g_quark_from_string (type))
      return (GstVideoRegionOfInterestMeta *) m;
  return NULL;
}

/* @feather: a product cut from its background keeps a one-pixel soft
 * edge around it */
static void
check_product_exact (GstBuffer * poster, gint feather, gint stride,
    gint bpp, gboolean masked_bits)
{
  GstVideoRegionOfInterestMeta *p = roi (poster, "product");
  GstMapInfo map;
  gint x, y, c;

  fail_unless (p != NULL);
  fail_unless_equals_int (p->w, PW + 2 * feather);
  fail_unless_equals_int (p->h, PH + 2 * feather);
  gst_buffer_map (poster, &map, GST_MAP_READ);
  for (y = 0; y < PH; y++)
    for (x = 0; x < PW; x++)
      for (c = 0; c < 3; c++) {
        guint8 got = map.data[(p->y + feather + y) * stride +
            (p->x + feather + x) * bpp + c];
        guint8 want = product_value (x, y, c);
        if (masked_bits)
          want = (want | 0x01) & 0x7f;
        fail_unless (got == want, "product pixel %d,%d,%d: %d, photo %d", x,
            y, c, got, want);
      }
  gst_buffer_unmap (poster, &map);
}

static gchar *
checksum (GstBuffer * buf)
{
  GstMapInfo map;
  gchar *s;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  s = g_compute_checksum_for_data (G_CHECKSUM_SHA256, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  return s;
}

GST_START_TEST (test_product_pixels_exact)
{
  GstHarness *h = harness_with_input (make_poster (NULL), "RGBA");
  GstBuffer *a, *b;
  GstVideoRegionOfInterestMeta *text, *prod;
  GstCaps *caps;
  GstVideoInfo info;

  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, product_rgba ()), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 2);
  a = gst_harness_pull (h);
  b = gst_harness_pull (h);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_video_info_from_caps (&info, caps));
  gst_caps_unref (caps);
  fail_unless_equals_int (info.width, 200);
  fail_unless_equals_int (info.height, 300);
  fail_unless_equals_int (info.fps_n, 0);
  fail_unless_equals_string (gst_video_format_to_string (info.finfo->format),
      "RGBA");

  check_product_exact (a, 0, 200 * 4, 4, FALSE);
  check_product_exact (b, 0, 200 * 4, 4, FALSE);

  /* the text area is inside the poster and clear of the product */
  text = roi (a, "text-area");
  prod = roi (a, "product");
  fail_unless (text != NULL && text->w > 0 && text->h > 0);
  fail_unless (text->x + text->w <= 200 && text->y + text->h <= 300);
  fail_unless (text->y + text->h <= prod->y || prod->x + prod->w <= text->x
      || text->x + text->w <= prod->x);

  /* variants differ (seed, seed + 1); timestamps count posters */
  {
    gchar *sa = checksum (a), *sb = checksum (b);
    fail_if (g_str_equal (sa, sb), "two variants are the same poster");
    g_free (sa);
    g_free (sb);
  }
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), GST_SECOND);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_default_scale)
{
  GstElement *e = gst_element_factory_make ("ketuposter", NULL);
  gchar *model = test_model ("poster-colour.pt");
  GstHarness *h;
  GstBuffer *p;
  GstVideoRegionOfInterestMeta *prod, *text;
  gdouble scale, fraction;

  /* only the model and the size set: the default product-scale */
  g_object_set (e, "model", model, "threads", 1, "width", 200, "height", 300,
      "variants", 1, NULL);
  g_free (model);
  g_object_get (e, "product-scale", &scale, NULL);
  fail_unless (scale >= 0.55 && scale <= 0.65, "default product-scale %f",
      scale);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  /* the photo is the poster's size, as photos usually are larger */
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBA,width=200,"
      "height=300,framerate=0/1");
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, product_photo (200, 300, 4)),
      GST_FLOW_OK);
  p = gst_harness_pull (h);
  prod = roi (p, "product");
  text = roi (p, "text-area");
  fail_unless (prod && text);
  fraction = prod->h / 300.0;
  /* the product takes 55-65% of the poster's height, the rest is scene
   * and room for text (unscaled it would fill the poster: 292/300) */
  fail_unless (fraction >= 0.55 && fraction <= 0.65,
      "product is %.2f of the poster height", fraction);
  fail_unless (text->h >= 300 / 5, "text area only %u rows", text->h);
  fail_unless (text->y + text->h <= prod->y);
  gst_buffer_unref (p);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_variants_and_determinism)
{
  gchar *sums[2][3];
  gint run, i;

  for (run = 0; run < 2; run++) {
    GstHarness *h = harness_with_input (make_poster ("variants", 3, "seed",
            (guint64) 9, NULL), "RGBA");
    gst_harness_play (h);
    gst_harness_push (h, product_rgba ());
    /* the same photo again, as imagefreeze sends it: no new posters */
    gst_harness_push (h, product_rgba ());
    fail_unless_equals_int (gst_harness_buffers_in_queue (h), 3);
    for (i = 0; i < 3; i++) {
      GstBuffer *p = gst_harness_pull (h);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (p), i * GST_SECOND);
      sums[run][i] = checksum (p);
      gst_buffer_unref (p);
    }
    gst_harness_teardown (h);
  }
  for (i = 0; i < 3; i++)
    fail_unless_equals_string (sums[0][i], sums[1][i]);
  fail_if (g_str_equal (sums[0][0], sums[0][1]));
  fail_if (g_str_equal (sums[0][1], sums[0][2]));
  for (run = 0; run < 2; run++)
    for (i = 0; i < 3; i++)
      g_free (sums[run][i]);
}

GST_END_TEST;

GST_START_TEST (test_sizes_and_layouts)
{
  gint sizes[][2] = { {768, 1024}, {512, 512}, {1280, 720}, {64, 48} };
  guint i, layout;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (layout = 0; layout < 4; layout++) {
      GstHarness *h = harness_with_input (make_poster ("width", sizes[i][0],
              "height", sizes[i][1], "variants", 1, "layout", layout, NULL),
          "RGBA");
      GstBuffer *p;
      GstVideoRegionOfInterestMeta *prod, *text;

      gst_harness_play (h);
      gst_harness_push (h, product_rgba ());
      p = gst_harness_pull (h);
      fail_unless_equals_int (gst_buffer_get_size (p),
          sizes[i][0] * sizes[i][1] * 4);
      prod = roi (p, "product");
      text = roi (p, "text-area");
      fail_unless (prod && text);
      fail_unless (prod->x + prod->w <= (guint) sizes[i][0]
          && prod->y + prod->h <= (guint) sizes[i][1]);
      /* too small a poster: the product is shrunk to fit */
      if (sizes[i][1] < PH * 2)
        fail_unless (prod->h < PH);
      else if (layout != 3 || sizes[i][1] > 200)
        fail_unless_equals_int (prod->h, PH);
      gst_buffer_unref (p);
      gst_harness_teardown (h);
    }
}

GST_END_TEST;

GST_START_TEST (test_plain_background_and_mask)
{
  GstHarness *h = harness_with_input (make_poster ("variants", 1, NULL),
      "RGB");
  GstBuffer *p;
  GstElement *e;
  GstHarness *mh;
  GstBuffer *mask;
  GstMapInfo map;
  gint x, y;

  /* RGB on white: the element finds the product itself */
  gst_harness_set_sink_caps_str (h, "video/x-raw,format=RGBA");
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, product_on_white (FALSE)),
      GST_FLOW_OK);
  p = gst_harness_pull (h);
  check_product_exact (p, 1, 200 * 4, 4, TRUE);
  gst_buffer_unref (p);
  gst_harness_teardown (h);

  /* an explicit mask wins, even over a noisy background */
  e = make_poster ("variants", 1, NULL);
  h = gst_harness_new_with_element (e, "sink", "src");
  mh = gst_harness_new_with_element (e, "mask", NULL);
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=60,"
      "height=80,framerate=0/1");
  gst_harness_set_src_caps_str (mh, "video/x-raw,format=GRAY8,width=60,"
      "height=80,framerate=0/1");
  gst_harness_set_sink_caps_str (h, "video/x-raw,format=RGBA");
  gst_harness_play (h);
  mask = gst_buffer_new_allocate (NULL, 60 * 80, NULL);
  gst_buffer_map (mask, &map, GST_MAP_WRITE);
  for (y = 0; y < 80; y++)
    for (x = 0; x < 60; x++)
      map.data[y * 60 + x] = (x >= 10 && x < 10 + PW && y >= 10
          && y < 10 + PH) ? 255 : 0;
  gst_buffer_unmap (mask, &map);
  fail_unless_equals_int (gst_harness_push (mh, mask), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, product_on_white (TRUE)),
      GST_FLOW_OK);
  p = gst_harness_pull (h);
  check_product_exact (p, 0, 200 * 4, 4, TRUE);
  gst_buffer_unref (p);
  gst_harness_teardown (mh);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_prompt_only)
{
  GstElement *e = make_poster ("variants", 2, "width", 96, "height", 64,
      NULL);
  GstHarness *h = gst_harness_new_with_element (e, NULL, "src");
  GstBuffer *a, *b;
  GstEvent *ev;
  gboolean eos = FALSE;

  gst_object_unref (e);
  gst_harness_play (h);
  a = gst_harness_pull (h);
  b = gst_harness_pull (h);
  fail_unless (a && b);
  fail_unless_equals_int (gst_buffer_get_size (a), 96 * 64 * 4);
  fail_unless (roi (a, "product") == NULL);
  fail_unless (roi (a, "text-area") != NULL);
  while ((ev = gst_harness_pull_event (h))) {
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
    if (eos)
      break;
  }
  fail_unless (eos);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gchar *
bus_error (GstElement * e)
{
  GstBus *bus = gst_element_get_bus (e);
  GstMessage *msg = bus ? gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) :
      NULL;
  GError *err = NULL;
  gchar *text;

  if (bus)
    gst_object_unref (bus);
  fail_unless (msg != NULL, "no error on the bus");
  gst_message_parse_error (msg, &err, NULL);
  text = g_strdup (err->message);
  g_error_free (err);
  gst_message_unref (msg);
  return text;
}

GST_START_TEST (test_bad_input)
{
  GstElement *e = make_poster ("variants", 1, NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  gchar *m;

  gst_element_set_bus (e, bus);
  h = harness_with_input (gst_object_ref (e), "RGB");
  gst_harness_play (h);
  /* no alpha, no plain background */
  fail_unless_equals_int (gst_harness_push (h, product_on_white (TRUE)),
      GST_FLOW_ERROR);
  m = bus_error (e);
  fail_unless (strstr (m, "no plain background") != NULL, "%s", m);
  g_free (m);
  /* a buffer smaller than its caps */
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              10, NULL)), GST_FLOW_ERROR);
  m = bus_error (e);
  fail_unless (strstr (m, "smaller than its caps") != NULL, "%s", m);
  g_free (m);
  /* absurd input sizes are refused before anything is allocated */
  {
    GstCaps *huge = gst_caps_from_string ("video/x-raw,format=RGB,"
        "width=100000,height=100000,framerate=0/1");
    gst_pad_push_event (h->srcpad, gst_event_new_caps (huge));
    gst_caps_unref (huge);
  }
  m = bus_error (e);
  fail_unless (strstr (m, "width and height must be 1 to 16384") != NULL,
      "%s", m);
  g_free (m);
  /* zero-size frames */
  {
    GstCaps *zero = gst_caps_from_string ("video/x-raw,format=RGB,width=0,"
        "height=0,framerate=0/1");
    gst_pad_push_event (h->srcpad, gst_event_new_caps (zero));
    gst_caps_unref (zero);
  }
  /* zero-size caps are refused at the pad (the template says width >= 1):
   * what follows is not negotiated, not a crash */
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              16, NULL)), GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);

  /* poster sizes are bounded by the property's range */
  {
    GParamSpecInt *ps = G_PARAM_SPEC_INT (g_object_class_find_property
        (g_type_class_peek (g_type_from_name ("GstKetuPoster")), "width"));
    fail_unless_equals_int (ps->maximum, 8192);
  }
}

GST_END_TEST;

GST_START_TEST (test_bad_models)
{
  const gchar *models[][2] = {
    {"/nonexistent.pt", "No such file"},
    {"not-torchscript.pt", "not a TorchScript archive"},
    {"video-colour.pt", "is for task `video`, but this element needs a "
          "`poster` model"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (models); i++) {
    GstElement *e = gst_element_factory_make ("ketuposter", NULL);
    GstBus *bus = gst_bus_new ();
    gchar *path = models[i][0][0] == '/' ? g_strdup (models[i][0]) :
        test_model (models[i][0]);
    gchar *m;

    gst_element_set_bus (e, bus);
    g_object_set (e, "model", path, NULL);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
        GST_STATE_CHANGE_FAILURE);
    m = bus_error (e);
    fail_unless (strstr (m, models[i][1]) != NULL, "%s", m);
    g_free (m);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_element_set_bus (e, NULL);
    gst_object_unref (bus);
    gst_object_unref (e);
    g_free (path);
  }
}

GST_END_TEST;

/* Finding 8: a product image before its caps is an error on the bus, not
 * a silent not-negotiated. */
GST_START_TEST (test_buffer_before_caps)
{
  GstElement *e = make_poster ("variants", 1, NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstSegment seg;
  gchar *text;

  gst_element_set_bus (e, bus);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_harness_play (h);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_stream_start ("product")));
  gst_harness_push_event (h, gst_event_new_segment (&seg));
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_allocate (NULL, 64, NULL)), GST_FLOW_NOT_NEGOTIATED);
  text = kling_check_pop_error (bus, 0);
  fail_unless (text && strstr (text, "product image came before its caps"),
      "%s", text);
  g_free (text);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Finding 8: the default model is looked up (stat) without the object
 * lock. */
GST_START_TEST (test_default_model_lookup_unlocked)
{
  /* GST_KLING_MODEL_PATH: the source tree's models/, the default or not */
  kling_check_lookup_unlocked (kling_check_make_element ("ketuposter"));
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *model = kling_check_test_model ("poster-colour.pt");
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=1 ! "
      "video/x-raw,format=RGB,width=48,height=48 ! ketuposter model=%s "
      "variants=1 width=64 height=64 threads=1 ! fakesink", model);

  kling_check_state_cycles (desc, 100, 20 * GST_SECOND);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

static Suite *
ketuposter_suite (void)
{
  Suite *s = suite_create ("ketuposter");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_product_pixels_exact);
  tcase_add_test (tc, test_default_scale);
  tcase_add_test (tc, test_variants_and_determinism);
  tcase_add_test (tc, test_sizes_and_layouts);
  tcase_add_test (tc, test_plain_background_and_mask);
  tcase_add_test (tc, test_prompt_only);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_buffer_before_caps);
  tcase_add_test (tc, test_default_model_lookup_unlocked);
  tcase_add_test (tc, test_state_cycles);
  return s;
}

GST_CHECK_MAIN (ketuposter);
