/* gst-kling: ketuposter
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-ketuposter
 * @title: ketuposter
 *
 * Makes e-commerce posters around a product photo: the product stays
 * exactly as photographed, the scene around it is generated from a prompt
 * by an inpainting model package (docs/models.md, task `poster`), in the
 * size a shop page needs and in several variants (variant i uses seed + i).
 *
 * The product is cut out of its photo by its alpha channel; without one,
 * by its plain background (the median colour of the image border; pixels
 * joined to the border and within background-tolerance of that colour are
 * background); or by a mask linked to the `mask` request pad (GRAY8, 255 =
 * product), which wins over both.  The model generates the scene at its
 * native size around a canvas holding the product; the element scales the
 * scene to the poster size, adds a soft ground shadow and puts the
 * product's pixels back on top.  By default the product stands at 60% of
 * the poster's height (#GstKetuPoster:product-scale 0.6, less when its
 * layout box is narrower), leaving the scene and a text area around it as
 * posters do; product-scale=0 keeps the photo's pixels 1:1 instead,
 * bit-exact where the product is opaque (shrunk only if it does not fit).
 *
 * Each poster carries two #GstVideoRegionOfInterestMeta: `product` and
 * `text-area`, the free space the layout leaves for a headline and a price.
 *
 * Still images (framerate=0/1) are expected; a photo repeated by imagefreeze
 * gives one set of posters, not a set per repeat.  With the sink pad
 * unlinked, ketuposter makes scene images from the prompt alone.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=can.png ! pngdec ! videoconvert ! \
 *     ketuposter prompt="夏日海灘" width=768 height=1024 variants=4 ! \
 *     videoconvert ! pngenc ! multifilesink location=poster-%d.png
 * ]| writes four beach posters around the can.
 * |[
 * gst-launch-1.0 ketuposter prompt="snowy field" variants=2 ! videoconvert ! \
 *     pngenc ! multifilesink location=scene-%d.png
 * ]| writes two scenes without a product.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>

#include "gstketuposter.h"
#include "kling-compose.h"
#include "kling-element.h"
#include "kling-gen.h"

GST_DEBUG_CATEGORY_STATIC (gst_ketu_poster_debug);
#define GST_CAT_DEFAULT gst_ketu_poster_debug

#define DEFAULT_MODEL_FILE "kling-poster.pt"
#define DEFAULT_WIDTH 768
#define DEFAULT_HEIGHT 1024
#define DEFAULT_VARIANTS 4
#define DEFAULT_LAYOUT KLING_LAYOUT_CENTER
#define DEFAULT_PRODUCT_SCALE 0.6
#define DEFAULT_TOLERANCE 40
#define MAX_INPUT_SIDE 16384

/* prompt, negative-prompt, seed, steps, guidance-scale, sampler, model,
 * device, threads: the shared generation properties (kling-element.h) */
enum
{
  PROP_WIDTH = KLING_GEN_PROP_LAST,
  PROP_HEIGHT,
  PROP_VARIANTS,
  PROP_LAYOUT,
  PROP_PRODUCT_SCALE,
  PROP_BACKGROUND_TOLERANCE,
};

static const KlingGenPropsInfo props_info = {
  .default_prompt = "summer beach",
  .prompt_blurb = "The scene around the product, in Chinese or English "
      "(UTF-8), e.g. \"夏日海灘\" or \"marble countertop\"",
  .negative_prompt_blurb = "What the scene should not look like (the "
      "unconditional side of classifier-free guidance)",
  .seed_blurb = "Seed of the first variant: the same seed, prompt, photo "
      "and model give the same posters",
  .seed_mutable = GST_PARAM_MUTABLE_PLAYING,
  .sampler_blurb = "How noise is turned into a scene",
  .model_blurb = "Poster model package (task `poster`, docs/models.md); "
      "NULL: the model shipped with gst-kling (" DEFAULT_MODEL_FILE ")",
};

#define IN_FORMATS "{ RGBA, BGRA, ARGB, ABGR, RGB, BGR, RGBx, BGRx, xRGB, xBGR }"
#define OUT_FORMATS "{ RGBA, BGRA, RGB, BGRx }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (IN_FORMATS)));
static GstStaticPadTemplate mask_template = GST_STATIC_PAD_TEMPLATE ("mask",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY8")));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OUT_FORMATS)));

struct _GstKetuPoster
{
  GstElement parent;
  GstPad *sinkpad, *srcpad, *maskpad;

  /* properties, under the object lock */
  KlingGenProps props;
  gint width, height;
  guint variants;
  KlingLayout layout;
  gdouble product_scale;
  gint tolerance;

  /* running */
  KlingGenModel *gm;
  GCancellable *cancellable;
  KlingPromptCache prompts;
  GstVideoInfo in_info;
  gboolean have_in_info;
  GstVideoInfo out_info;
  gboolean caps_sent;
  guint64 n_out;
  gboolean prompt_only;
  gchar *last_product;          /* checksum of the last photo made into posters */

  /* the mask pad's latest mask */
  KlingStillPad mask;
};

GType
gst_ketu_poster_layout_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {KLING_LAYOUT_CENTER, "Product centred, text above it", "center"},
    {KLING_LAYOUT_LEFT, "Product on the left, text on the right", "left"},
    {KLING_LAYOUT_RIGHT, "Product on the right, text on the left", "right"},
    {KLING_LAYOUT_BOTTOM, "Product in the bottom two thirds, text above",
        "bottom"},
    {0, NULL, NULL}
  };

  return kling_enum_register_once (&type, "GstKetuPosterLayout", values);
}

#define gst_ketu_poster_parent_class parent_class
G_DEFINE_TYPE (GstKetuPoster, gst_ketu_poster, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (ketuposter, "ketuposter",
    GST_RANK_NONE, GST_TYPE_KETU_POSTER,
    GST_DEBUG_CATEGORY_INIT (gst_ketu_poster_debug, "ketuposter", 0,
        "product poster generation"));

static void gst_ketu_poster_finalize (GObject * object);
static void gst_ketu_poster_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ketu_poster_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_ketu_poster_change_state (GstElement *
    element, GstStateChange transition);
static GstPad *gst_ketu_poster_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_ketu_poster_release_pad (GstElement * element, GstPad * pad);
static GstFlowReturn gst_ketu_poster_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buf);
static gboolean gst_ketu_poster_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_ketu_poster_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);

static void
gst_ketu_poster_class_init (GstKetuPosterClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->finalize = gst_ketu_poster_finalize;
  gobject_class->set_property = gst_ketu_poster_set_property;
  gobject_class->get_property = gst_ketu_poster_get_property;

  kling_gen_props_install (gobject_class, &props_info);
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_int ("width", "Width", "Poster width in pixels", 16, 8192,
          DEFAULT_WIDTH, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_HEIGHT,
      g_param_spec_int ("height", "Height", "Poster height in pixels", 16,
          8192, DEFAULT_HEIGHT, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_VARIANTS,
      g_param_spec_uint ("variants", "Variants", "Posters per product photo "
          "(variant i uses seed + i)", 1, 64, DEFAULT_VARIANTS,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LAYOUT,
      g_param_spec_enum ("layout", "Layout", "Where the product stands and "
          "where the text area is", GST_TYPE_KETU_POSTER_LAYOUT,
          DEFAULT_LAYOUT, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PRODUCT_SCALE,
      g_param_spec_double ("product-scale", "Product scale",
          "Product height as a fraction of the poster height (capped so it "
          "fits its layout box); the default leaves room for the scene and "
          "the text; 0: the photo's own pixels 1:1, bit-exact (shrunk only if "
          "they do not fit)", 0.0, 1.0,
          DEFAULT_PRODUCT_SCALE, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BACKGROUND_TOLERANCE,
      g_param_spec_int ("background-tolerance", "Background tolerance",
          "For photos without alpha: how far (8-bit RGB distance) a pixel "
          "may be from the border colour and still be background", 1, 255,
          DEFAULT_TOLERANCE, rw | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &mask_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Ketu product poster generator", "Filter/Effect/Video",
      "Generates e-commerce posters around a product photo, keeping the "
      "product exactly as photographed", "gst-kling contributors");
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_ketu_poster_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_ketu_poster_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_ketu_poster_release_pad);
}

static void
gst_ketu_poster_init (GstKetuPoster * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ketu_poster_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ketu_poster_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_ketu_poster_src_query));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  kling_gen_props_init (&self->props, &props_info);
  self->width = DEFAULT_WIDTH;
  self->height = DEFAULT_HEIGHT;
  self->variants = DEFAULT_VARIANTS;
  self->layout = DEFAULT_LAYOUT;
  self->product_scale = DEFAULT_PRODUCT_SCALE;
  self->tolerance = DEFAULT_TOLERANCE;
  kling_still_pad_init (&self->mask);
}

static void
gst_ketu_poster_finalize (GObject * object)
{
  GstKetuPoster *self = GST_KETU_POSTER (object);

  kling_gen_props_clear (&self->props);
  kling_still_pad_clear (&self->mask);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

#define FIELD(id, member) {id, G_STRUCT_OFFSET (GstKetuPoster, member)}
static const KlingField fields[] = {
  FIELD (PROP_WIDTH, width),
  FIELD (PROP_HEIGHT, height),
  FIELD (PROP_VARIANTS, variants),
  FIELD (PROP_LAYOUT, layout),
  FIELD (PROP_PRODUCT_SCALE, product_scale),
  FIELD (PROP_BACKGROUND_TOLERANCE, tolerance),
};
#undef FIELD

static void
gst_ketu_poster_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstKetuPoster *self = GST_KETU_POSTER (object);

  kling_gen_props_set_property (GST_ELEMENT (self), &self->props, self,
      fields, G_N_ELEMENTS (fields), prop_id, value, pspec);
}

static void
gst_ketu_poster_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstKetuPoster *self = GST_KETU_POSTER (object);

  kling_gen_props_get_property (GST_ELEMENT (self), &self->props, self,
      fields, G_N_ELEMENTS (fields), prop_id, value, pspec);
}

/* ---------------------------------------------------------------------- */
/* Mask pad */


static GstFlowReturn
mask_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  /* the latest mask is used for the products that follow */
  kling_still_pad_set_buffer (&GST_KETU_POSTER (parent)->mask, buf);
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static GstPad *
gst_ketu_poster_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstKetuPoster *self = GST_KETU_POSTER (element);

  /* the streaming thread reads maskpad under the object lock */
  return kling_still_pad_request (&self->mask, element, templ, "mask",
      &self->maskpad, GST_DEBUG_FUNCPTR (mask_chain));
}

static void
gst_ketu_poster_release_pad (GstElement * element, GstPad * pad)
{
  kling_element_release_single_pad (element, pad,
      &GST_KETU_POSTER (element)->maskpad);
}

/* ---------------------------------------------------------------------- */
/* Generation */

typedef struct
{
  gchar *prompt, *negative;
  gint width, height;
  guint variants;
  guint64 seed;
  KlingSampling sampling;
  KlingLayout layout;
  gdouble product_scale;
  gint tolerance;
} Settings;

static void
settings_snapshot (GstKetuPoster * self, Settings * s)
{
  GST_OBJECT_LOCK (self);
  s->prompt = g_strdup (self->props.prompt);
  s->negative = g_strdup (self->props.negative_prompt);
  s->width = self->width;
  s->height = self->height;
  s->variants = self->variants;
  s->seed = self->props.seed;
  kling_element_resolve_sampling (self->gm, self->props.steps,
      self->props.guidance, self->props.sampler, &s->sampling);
  s->layout = self->layout;
  s->product_scale = self->product_scale;
  s->tolerance = self->tolerance;
  GST_OBJECT_UNLOCK (self);
}

static void
settings_clear (Settings * s)
{
  g_free (s->prompt);
  g_free (s->negative);
}

typedef struct
{
  GstKetuPoster *self;
  guint variant, variants;
} Progress;

static void
on_step (guint step, guint steps, gpointer user_data)
{
  Progress *p = user_data;

  kling_element_post_step (GST_ELEMENT (p->self), "ketuposter-progress",
      step, steps, kling_element_percent (p->variant, p->variants, step,
          steps), "variant", G_TYPE_UINT, p->variant, "variants",
      G_TYPE_UINT, p->variants, NULL);
}

/* One poster (or scene, without @cut) as RGBA at the poster size. */
static GstBuffer *
make_poster (GstKetuPoster * self, KlingGenClip * clip, const Settings * s,
    const KlingCutout * cut, const gfloat * cond, gboolean scaled,
    guint variant, const KlingRect * product, GError ** error)
{
  KlingGenModel *gm = self->gm;
  KlingGenSampleParams sp = { 0 };
  Progress progress = { self, variant, s->variants };
  GstVideoInfo scene_info, poster_info;
  GstBuffer *scene_buf, *poster;

  sp.seed = s->seed + variant;
  sp.steps = s->sampling.steps;
  sp.guidance = s->sampling.guidance;
  sp.sampler = s->sampling.sampler;
  sp.cond = cond;
  sp.progress = on_step;
  sp.progress_data = &progress;
  sp.cancellable = self->cancellable;
  if (!kling_gen_clip_next (clip, self->prompts.prompt, &sp, NULL, 0, error))
    return NULL;

  /* the scene, scaled to the poster */
  gst_video_info_set_format (&scene_info, GST_VIDEO_FORMAT_RGB, gm->width,
      gm->height);
  gst_video_info_set_format (&poster_info, GST_VIDEO_FORMAT_RGBA, s->width,
      s->height);
  scene_buf = kling_element_rgb_buffer (&scene_info,
      kling_gen_clip_frame (clip, 0));
  poster = gst_buffer_new_allocate (NULL, poster_info.size, NULL);
  kling_element_convert (&scene_info, scene_buf, &poster_info, poster,
      gst_structure_new ("config", GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD,
          GST_TYPE_VIDEO_RESAMPLER_METHOD, GST_VIDEO_RESAMPLER_METHOD_CUBIC,
          NULL));
  gst_buffer_unref (scene_buf);

  if (cut) {
    GstVideoFrame frame;

    gst_video_frame_map (&frame, &poster_info, poster, GST_MAP_READWRITE);
    kling_poster_put_product (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), s->width, s->height, cut,
        product, scaled);
    gst_video_frame_unmap (&frame);
  }
  return poster;
}

/* Output caps: the poster size, still images, a format downstream takes. */
static gboolean
ensure_caps (GstKetuPoster * self, const Settings * s)
{
  GstCaps *tmpl, *peer, *caps;
  GstVideoInfo info;

  if (self->caps_sent && self->out_info.width == s->width
      && self->out_info.height == s->height)
    return TRUE;
  tmpl = kling_element_sized_caps (gst_pad_get_pad_template_caps
      (self->srcpad), s->width, s->height, 0, 1, NULL);
  peer = gst_pad_peer_query_caps (self->srcpad, tmpl);
  gst_caps_unref (tmpl);
  if (gst_caps_is_empty (peer)) {
    gst_caps_unref (peer);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Downstream takes no RGB "
            "poster of %dx%d", s->width, s->height), ("put videoconvert "
            "after ketuposter"));
    return FALSE;
  }
  caps = gst_caps_fixate (peer);
  if (!gst_video_info_from_caps (&info, caps)
      || !gst_pad_push_event (self->srcpad, gst_event_new_caps (caps))) {
    gst_caps_unref (caps);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Could not set poster "
            "caps"), (NULL));
    return FALSE;
  }
  gst_caps_unref (caps);
  self->out_info = info;
  self->caps_sent = TRUE;
  return TRUE;
}

/* Makes every variant for @cut (NULL: prompt only) and pushes them. */
static GstFlowReturn
push_posters (GstKetuPoster * self, const KlingCutout * cut)
{
  Settings s;
  GError *error = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  KlingRect text, product;
  gboolean scaled = FALSE;
  gfloat *cond = NULL;
  KlingGenClip *clip;
  guint v;

  settings_snapshot (self, &s);
  if (!ensure_caps (self, &s)) {
    settings_clear (&s);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!kling_prompt_cache_get (&self->prompts, GST_ELEMENT (self), self->gm,
          s.prompt, s.negative, self->cancellable, &error))
    goto error;

  /* where the product goes and what the model is told about it are the
   * same for every variant: work them out once */
  if (cut) {
    cond = g_new0 (gfloat, kling_gen_cond_size (self->gm));
    kling_layout_place (s.layout, s.width, s.height, cut->width, cut->height,
        s.product_scale, &product, &text, &scaled);
    if (!kling_gen_encode_product (self->gm, cut, &product, s.width,
            s.height, cond, self->cancellable, &error))
      goto error;
  } else {
    product.x = product.y = product.w = product.h = 0;
    text.x = text.y = 0;
    text.w = s.width;
    text.h = s.height / 3;
  }

  clip = kling_gen_clip_new (self->gm);
  for (v = 0; v < s.variants && ret == GST_FLOW_OK; v++) {
    GstBuffer *poster, *out;
    gchar *msg = g_strdup_printf ("Poster %u of %u", v + 1, s.variants);

    kling_element_post_progress (GST_ELEMENT (self), GST_PROGRESS_TYPE_START,
        "poster", msg);
    poster = make_poster (self, clip, &s, cut, cond, scaled, v, &product,
        &error);
    kling_element_post_progress (GST_ELEMENT (self), poster ?
        GST_PROGRESS_TYPE_COMPLETE : GST_PROGRESS_TYPE_ERROR, "poster", msg);
    g_free (msg);
    if (poster == NULL) {
      kling_gen_clip_free (clip);
      goto error;
    }

    if (GST_VIDEO_INFO_FORMAT (&self->out_info) == GST_VIDEO_FORMAT_RGBA) {
      out = poster;
    } else {
      GstVideoInfo rgba;

      gst_video_info_set_format (&rgba, GST_VIDEO_FORMAT_RGBA, s.width,
          s.height);
      out = gst_buffer_new_allocate (NULL, self->out_info.size, NULL);
      kling_element_convert (&rgba, poster, &self->out_info, out, NULL);
      gst_buffer_unref (poster);
    }
    gst_buffer_add_video_region_of_interest_meta (out, "text-area", text.x,
        text.y, text.w, text.h);
    if (cut)
      gst_buffer_add_video_region_of_interest_meta (out, "product",
          product.x, product.y, product.w, product.h);
    kling_element_stamp (out, self->n_out * GST_SECOND, GST_SECOND,
        self->n_out);
    self->n_out++;
    ret = gst_pad_push (self->srcpad, out);
  }
  kling_gen_clip_free (clip);
  settings_clear (&s);
  g_free (cond);
  return ret;

error:
  settings_clear (&s);
  g_free (cond);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (error);
    return GST_FLOW_FLUSHING;
  }
  GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Poster generation failed: %s",
          error->message), ("model %s", self->gm->manifest->model));
  g_error_free (error);
  return GST_FLOW_ERROR;
}

static void
prompt_only_loop (GstKetuPoster * self)
{
  GstFlowReturn ret;
  GstSegment segment;
  gchar *id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self),
      "scenes");

  gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
  g_free (id);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  {
    Settings s;
    settings_snapshot (self, &s);
    ret = ensure_caps (self, &s) ? GST_FLOW_OK : GST_FLOW_NOT_NEGOTIATED;
    settings_clear (&s);
  }
  gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
  if (ret == GST_FLOW_OK)
    ret = push_posters (self, NULL);
  if (ret == GST_FLOW_OK || ret == GST_FLOW_EOS)
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  else if (ret != GST_FLOW_FLUSHING)
    GST_ELEMENT_FLOW_ERROR (self, ret);
  gst_pad_pause_task (self->srcpad);
}

/* ---------------------------------------------------------------------- */
/* Product input */

static GstFlowReturn
gst_ketu_poster_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstKetuPoster *self = GST_KETU_POSTER (parent);
  GstVideoFrame frame;
  KlingCutout *cut = NULL;
  GError *error = NULL;
  GstFlowReturn ret;
  gint tolerance;
  GstBuffer *mask = NULL;
  GstVideoInfo mask_info;

  if (!self->have_in_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("The product image came "
            "before its caps"), ("link a raw video source (e.g. pngdec ! "
            "videoconvert) to ketuposter's sink pad"));
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  /* imagefreeze upstream repeats one photo: it gets one set of posters */
  {
    GstMapInfo map;
    gchar *sum = NULL;

    if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
      sum = g_compute_checksum_for_data (G_CHECKSUM_SHA1, map.data, map.size);
      gst_buffer_unmap (buf, &map);
    }
    if (sum && g_strcmp0 (sum, self->last_product) == 0) {
      GST_LOG_OBJECT (self, "same photo again: no new posters");
      g_free (sum);
      gst_buffer_unref (buf);
      return GST_FLOW_OK;
    }
    g_free (self->last_product);
    self->last_product = sum;
  }
  if (!gst_video_frame_map (&frame, &self->in_info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("The product image buffer is "
            "smaller than its caps say (%" G_GSIZE_FORMAT " bytes for %dx%d)",
            gst_buffer_get_size (buf), self->in_info.width,
            self->in_info.height), (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  GST_OBJECT_LOCK (self);
  tolerance = self->tolerance;
  GST_OBJECT_UNLOCK (self);

  if (kling_element_pad_is_linked (GST_ELEMENT (self), &self->maskpad))
    mask = kling_still_pad_wait (&self->mask, self->cancellable, &mask_info);
  if (mask) {
    GstVideoFrame mf;

    if (!gst_video_frame_map (&mf, &mask_info, mask, GST_MAP_READ))
      g_set_error (&error, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_ARGUMENT, "the mask buffer is smaller "
          "than its caps say");
    else {
      cut = kling_element_cutout (&frame, &mf, tolerance, &error);
      gst_video_frame_unmap (&mf);
    }
    gst_buffer_unref (mask);
  } else {
    cut = kling_element_cutout (&frame, NULL, tolerance, &error);
  }
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);

  if (cut == NULL) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot find the product: %s",
            error->message), (NULL));
    g_error_free (error);
    return GST_FLOW_ERROR;
  }
  GST_DEBUG_OBJECT (self, "product %dx%d", cut->width, cut->height);
  ret = push_posters (self, cut);
  kling_cutout_free (cut);
  return ret;
}

static gboolean
gst_ketu_poster_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstKetuPoster *self = GST_KETU_POSTER (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      GstVideoInfo info;

      gst_event_parse_caps (event, &caps);
      if (!gst_video_info_from_caps (&info, caps) || info.width < 1
          || info.height < 1 || info.width > MAX_INPUT_SIDE
          || info.height > MAX_INPUT_SIDE) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Product image caps %"
                GST_PTR_FORMAT " are not usable: width and height must be 1 "
                "to %d", caps, MAX_INPUT_SIDE), (NULL));
        gst_event_unref (event);
        return FALSE;
      }
      self->in_info = info;
      self->have_in_info = TRUE;
      gst_event_unref (event);
      /* output caps are ours: the poster size, sent with the first poster */
      return TRUE;
    }
    case GST_EVENT_SEGMENT:{
      GstSegment segment;
      Settings s;
      gboolean ok;

      /* posters are stills with timestamps of their own; their caps go
       * first, as sticky events must */
      gst_event_unref (event);
      settings_snapshot (self, &s);
      ok = ensure_caps (self, &s);
      settings_clear (&s);
      if (!ok)
        return FALSE;
      gst_segment_init (&segment, GST_FORMAT_TIME);
      return gst_pad_push_event (self->srcpad,
          gst_event_new_segment (&segment));
    }
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
gst_ketu_poster_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstKetuPoster *self = GST_KETU_POSTER (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    GstCaps *filter, *caps;
    gint w, h;

    GST_OBJECT_LOCK (self);
    w = self->width;
    h = self->height;
    GST_OBJECT_UNLOCK (self);
    gst_query_parse_caps (query, &filter);
    caps = kling_element_sized_caps (gst_pad_get_pad_template_caps (pad), w,
        h, 0, 1, filter);
    gst_query_set_caps_result (query, caps);
    gst_caps_unref (caps);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

/* ---------------------------------------------------------------------- */
/* Lifecycle */

static gboolean
gst_ketu_poster_start (GstKetuPoster * self)
{
  KlingLoadOptions opts = { 0 };
  gchar *path, *device;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->props.model_path);
  device = g_strdup (self->props.device);
  opts.threads = self->props.threads;
  GST_OBJECT_UNLOCK (self);
  opts.device = device;

  /* the default model is looked up (stat) without the object lock */
  self->gm = kling_element_load_gen_model (GST_ELEMENT (self), path,
      DEFAULT_MODEL_FILE, "poster", "poster", &opts);
  g_free (path);
  g_free (device);
  if (self->gm == NULL)
    return FALSE;
  GST_INFO_OBJECT (self, "%s: scenes at %dx%d (%s)", self->gm->manifest->name,
      self->gm->width, self->gm->height, kling_backend_name ());
  self->cancellable = g_cancellable_new ();
  self->n_out = 0;
  self->caps_sent = FALSE;
  self->have_in_info = FALSE;
  return TRUE;
}

static void
gst_ketu_poster_stop (GstKetuPoster * self)
{
  g_clear_object (&self->cancellable);
  kling_prompt_cache_clear (&self->prompts);
  g_clear_pointer (&self->gm, kling_gen_model_free);
  g_clear_pointer (&self->last_product, g_free);
  kling_still_pad_reset (&self->mask);
}

static GstStateChangeReturn
gst_ketu_poster_change_state (GstElement * element, GstStateChange transition)
{
  GstKetuPoster *self = GST_KETU_POSTER (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_ketu_poster_start (self)) {
        gst_ketu_poster_stop (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* a poster being generated stops at its next step */
      if (self->cancellable)
        g_cancellable_cancel (self->cancellable);
      kling_still_pad_wake (&self->mask);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      gst_ketu_poster_stop (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* no product coming in: make scenes from the prompt alone */
      self->prompt_only = !gst_pad_is_linked (self->sinkpad);
      if (self->prompt_only)
        gst_pad_start_task (self->srcpad,
            (GstTaskFunction) prompt_only_loop, self, NULL);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      if (self->prompt_only)
        gst_pad_stop_task (self->srcpad);
      gst_ketu_poster_stop (self);
      break;
    default:
      break;
  }
  return ret;
}
