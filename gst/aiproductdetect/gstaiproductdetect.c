/* gst-kling: aiproductdetect
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-aiproductdetect
 * @title: aiproductdetect
 *
 * Finds products in video with a detector model, attaches a
 * #GstVideoRegionOfInterestMeta per product to each frame, and writes a line
 * of marketing copy about what it found on its `text_src` pad.
 *
 * The video passes through in place: timestamps, flags and pixels are
 * untouched (unless #GstAiProductDetect:draw is on).  Each region of interest
 * has the product's label as its type and a `detection` structure (label,
 * label-id, confidence) as a parameter; when copy was written for it, a
 * `marketing-copy` structure (text, language) too.  An element message
 * named `aiproductdetect` follows every analysed frame with its timestamp,
 * stream-time, running-time and the list of detections.
 *
 * `text_src` carries `text/x-raw, format=utf8` buffers with the timestamp
 * and duration of the frame the copy is about, and GAP events when there is
 * no new copy, so it links straight into textoverlay's text pad, a muxer's
 * subtitle pad or a filesink.  It is pushed from a task of its own through
 * a short queue, so a text sink without a queue in front of it does not
 * stall the video while it prerolls.
 *
 * Models are gst-kling model packages (docs/models.md): by default the
 * detector and copywriter that ship with gst-kling; a user's own YOLOv5,
 * YOLOv8/YOLO11 or torchvision detector works once wrapped with
 * `models/kling-wrap.py`.  Models load when the element goes to PAUSED.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=shop.mp4 ! decodebin ! videoconvert ! \
 *     aiproductdetect name=d language=en draw=true ! videoconvert ! \
 *     textoverlay name=o ! autovideosink  d.text_src ! o.text_sink
 * ]| shows the video with a box and label around each product and a line
 *   of copy about the latest new product along the bottom.
 *
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=30 ! aiproductdetect ! fakesink
 * ]| prints an `aiproductdetect` element message per frame.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>
#include <gst/base/gstflowcombiner.h>

#include "gstaiproductdetect.h"
#include "kling-element.h"
#include "kling-analysis.h"
#include "kling-draw.h"
#include "kling-textsrc.h"

GST_DEBUG_CATEGORY_STATIC (gst_ai_product_detect_debug);
#define GST_CAT_DEFAULT gst_ai_product_detect_debug

#define DEFAULT_DETECT_MODEL_FILE "kling-detect-products.pt"
#define DEFAULT_COPY_MODEL_FILE "kling-copywrite.pt"

#define DEFAULT_MODEL NULL
#define DEFAULT_COPY_MODEL NULL
#define DEFAULT_LABELS_FILE NULL
#define DEFAULT_THRESHOLD 0.35f
#define DEFAULT_IOU_THRESHOLD 0.45f
#define DEFAULT_MAX_DETECTIONS 100
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_COPY_INTERVAL (10 * GST_SECOND)
#define DEFAULT_LANGUAGE GST_AI_PRODUCT_DETECT_LANGUAGE_ZH
#define DEFAULT_DEVICE "cpu"
#define DEFAULT_THREADS 0
#define DEFAULT_DRAW FALSE
#define DEFAULT_LIVE_MODE FALSE


enum
{
  PROP_0,
  PROP_MODEL,
  PROP_COPY_MODEL,
  PROP_LABELS_FILE,
  PROP_THRESHOLD,
  PROP_IOU_THRESHOLD,
  PROP_MAX_DETECTIONS,
  PROP_INFERENCE_INTERVAL,
  PROP_COPY_INTERVAL,
  PROP_LANGUAGE,
  PROP_DEVICE,
  PROP_THREADS,
  PROP_DRAW,
  PROP_LIVE_MODE,
};

#define VIDEO_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, " \
    "ARGB, ABGR, I420, YV12, NV12, NV21, YUY2, UYVY, Y42B, Y444, GRAY8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

static GstStaticPadTemplate text_src_template =
GST_STATIC_PAD_TEMPLATE ("text_src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) utf8"));

struct _GstAiProductDetect
{
  GstElement parent;

  GstPad *sinkpad, *srcpad, *text_srcpad;
  GstFlowCombiner *flow_combiner;

  /* properties, under the object lock */
  gchar *model_path;
  gchar *copy_model_path;
  gchar *labels_file;
  gfloat threshold;
  gboolean threshold_set;
  gfloat iou_threshold;
  guint max_detections;
  guint inference_interval;
  GstClockTime copy_interval;
  GstAiProductDetectLanguage language;
  gchar *device;
  gint threads;
  gboolean draw;
  gboolean live_mode;

  /* set in start(), constant while running */
  KlingAnalyser *analyser;      /* detector, labels, copywriter */
  const gchar *const *labels;   /* the analyser's */
  gfloat default_threshold;
  KlingLiveAnalyser *live;      /* live mode: analyses the newest frame */
  gboolean running_live;
  GstClockTime inference_time;  /* measured at start, for LATENCY */
  GCancellable *cancellable;

  /* streaming thread */
  GstVideoInfo info;
  gboolean have_info;
  GstSegment segment;
  guint64 frame_count;
  KlingAnalysis current;        /* detections attached to frames */
  gboolean copy_warned;         /* a copy that could not be written */

  /* text_src is pushed from its own task, so that a text sink blocking in
   * preroll holds only that task, not the video streaming thread */
  KlingTextSrc *text;
};

GType
gst_ai_product_detect_language_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_AI_PRODUCT_DETECT_LANGUAGE_ZH, "Chinese (simplified)", "zh"},
    {GST_AI_PRODUCT_DETECT_LANGUAGE_EN, "English", "en"},
    {0, NULL, NULL}
  };

  return kling_enum_register_once (&type, "GstAiProductDetectLanguage", values);
}

#define gst_ai_product_detect_parent_class parent_class
G_DEFINE_TYPE (GstAiProductDetect, gst_ai_product_detect, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (aiproductdetect, "aiproductdetect",
    GST_RANK_NONE, GST_TYPE_AI_PRODUCT_DETECT,
    GST_DEBUG_CATEGORY_INIT (gst_ai_product_detect_debug, "aiproductdetect",
        0, "product detection and marketing copy"));

static void gst_ai_product_detect_finalize (GObject * object);
static void gst_ai_product_detect_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_ai_product_detect_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_ai_product_detect_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_ai_product_detect_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buf);
static gboolean gst_ai_product_detect_sink_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_ai_product_detect_src_query (GstPad * pad,
    GstObject * parent, GstQuery * query);
static GstIterator *gst_ai_product_detect_iterate_internal_links (GstPad *
    pad, GstObject * parent);

static void
gst_ai_product_detect_class_init (GstAiProductDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_ai_product_detect_finalize;
  gobject_class->set_property = gst_ai_product_detect_set_property;
  gobject_class->get_property = gst_ai_product_detect_get_property;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Detector model",
          "Detector model package (a TorchScript file with a kling.json "
          "manifest, see docs/models.md); NULL: the detector shipped with "
          "gst-kling (" DEFAULT_DETECT_MODEL_FILE ")", DEFAULT_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_COPY_MODEL,
      g_param_spec_string ("copy-model", "Copywriter model",
          "Copywriter model package; NULL: the copywriter shipped with "
          "gst-kling (" DEFAULT_COPY_MODEL_FILE "); \"none\" (what "
          "gst-launch-1.0 can pass) or the empty string: write no copy "
          "(text_src then carries only GAP events; ./none for a file of that "
          "name)", DEFAULT_COPY_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LABELS_FILE,
      g_param_spec_string ("labels-file", "Labels file",
          "UTF-8 text file with one label per line (line N = class id N), "
          "replacing the labels in the detector's manifest", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_float ("threshold", "Confidence threshold",
          "Minimum confidence of a detection; unless set, the detector "
          "manifest's recommended value is used", 0.0f, 1.0f,
          DEFAULT_THRESHOLD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_IOU_THRESHOLD,
      g_param_spec_float ("iou-threshold", "IoU threshold",
          "Non-maximum suppression: a box overlapping a better box of the "
          "same class by more than this intersection-over-union is dropped",
          0.0f, 1.0f, DEFAULT_IOU_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_MAX_DETECTIONS,
      g_param_spec_uint ("max-detections", "Maximum detections",
          "Keep at most this many detections per frame, best first", 1,
          10000, DEFAULT_MAX_DETECTIONS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Analyse every Nth frame; the frames between carry the last "
          "detections", 1, 1000000, DEFAULT_INFERENCE_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_COPY_INTERVAL,
      g_param_spec_uint64 ("copy-interval", "Copy interval",
          "Minimum running time (ns) before new copy is written for a "
          "product of the same label", 0, G_MAXUINT64, DEFAULT_COPY_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_enum ("language", "Language",
          "Language of the marketing copy",
          GST_TYPE_AI_PRODUCT_DETECT_LANGUAGE, DEFAULT_LANGUAGE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  kling_element_install_device_threads (gobject_class, PROP_DEVICE,
      PROP_THREADS, "Where the models run: cpu, cuda or cuda:N (CUDA needs "
      "gst-kling built against a CUDA LibTorch)");
  g_object_class_install_property (gobject_class, PROP_DRAW,
      g_param_spec_boolean ("draw", "Draw",
          "Burn boxes and labels into the video (every accepted format; "
          "for a quick look)", DEFAULT_DRAW,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LIVE_MODE,
      g_param_spec_boolean ("live-mode", "Live mode",
          "When inference is slower than the stream, keep the video flowing "
          "and attach the latest results instead of slowing the pipeline "
          "down; results then lag the frames they are attached to",
          DEFAULT_LIVE_MODE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_change_state);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &text_src_template);
  gst_element_class_set_static_metadata (element_class,
      "AI product detector and copywriter", "Filter/Analyzer/Video",
      "Finds products in video, attaches region-of-interest metadata and "
      "writes marketing copy about them on a text pad",
      "gst-kling contributors");
}

static void
gst_ai_product_detect_init (GstAiProductDetect * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_sink_event));
  gst_pad_set_iterate_internal_links_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_iterate_internal_links));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_src_query));
  gst_pad_set_iterate_internal_links_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_iterate_internal_links));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->text_srcpad = gst_pad_new_from_static_template (&text_src_template,
      "text_src");
  gst_pad_set_query_function (self->text_srcpad,
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_src_query));
  gst_pad_set_iterate_internal_links_function (self->text_srcpad,
      GST_DEBUG_FUNCPTR (gst_ai_product_detect_iterate_internal_links));
  gst_pad_use_fixed_caps (self->text_srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->text_srcpad);

  {
    GstCaps *caps = gst_static_pad_template_get_caps (&text_src_template);

    self->text = kling_text_src_new (self->text_srcpad, caps,
        KLING_TEXT_SRC_DEFAULT_MAX_ITEMS);
    gst_caps_unref (caps);
  }
  self->flow_combiner = gst_flow_combiner_new ();
  gst_flow_combiner_add_pad (self->flow_combiner, self->srcpad);
  gst_flow_combiner_add_pad (self->flow_combiner, self->text_srcpad);

  self->model_path = NULL;
  self->copy_model_path = NULL;
  self->labels_file = NULL;
  self->threshold = DEFAULT_THRESHOLD;
  self->iou_threshold = DEFAULT_IOU_THRESHOLD;
  self->max_detections = DEFAULT_MAX_DETECTIONS;
  self->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  self->copy_interval = DEFAULT_COPY_INTERVAL;
  self->language = DEFAULT_LANGUAGE;
  self->device = g_strdup (DEFAULT_DEVICE);
  self->threads = DEFAULT_THREADS;
  self->draw = DEFAULT_DRAW;
  self->live_mode = DEFAULT_LIVE_MODE;

  kling_analysis_init (&self->current);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}

static void
gst_ai_product_detect_finalize (GObject * object)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (object);

  g_free (self->model_path);
  g_free (self->copy_model_path);
  g_free (self->labels_file);
  g_free (self->device);
  gst_flow_combiner_free (self->flow_combiner);
  kling_text_src_free (self->text);
  kling_analysis_unset (&self->current);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* the properties kept as they are set (threshold is not: it remembers
 * being set, and reads as the model's value until then) */
#define FIELD(id, member) {id, G_STRUCT_OFFSET (GstAiProductDetect, member)}
static const KlingField fields[] = {
  FIELD (PROP_MODEL, model_path),
  FIELD (PROP_COPY_MODEL, copy_model_path),
  FIELD (PROP_LABELS_FILE, labels_file),
  FIELD (PROP_IOU_THRESHOLD, iou_threshold),
  FIELD (PROP_MAX_DETECTIONS, max_detections),
  FIELD (PROP_INFERENCE_INTERVAL, inference_interval),
  FIELD (PROP_COPY_INTERVAL, copy_interval),
  FIELD (PROP_LANGUAGE, language),
  FIELD (PROP_DEVICE, device),
  FIELD (PROP_THREADS, threads),
  FIELD (PROP_DRAW, draw),
  FIELD (PROP_LIVE_MODE, live_mode),
};
#undef FIELD

static void
gst_ai_product_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (object);

  GST_OBJECT_LOCK (self);
  if (prop_id == PROP_THRESHOLD) {
    self->threshold = g_value_get_float (value);
    self->threshold_set = TRUE;
  } else if (!kling_fields_set (GST_ELEMENT (self), self, fields,
          G_N_ELEMENTS (fields), prop_id, value, pspec)) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ai_product_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (object);

  GST_OBJECT_LOCK (self);
  if (prop_id == PROP_THRESHOLD)
    g_value_set_float (value, self->threshold_set || !self->analyser ?
        self->threshold : self->default_threshold);
  else if (!kling_fields_get (self, fields, G_N_ELEMENTS (fields), prop_id,
          value, pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  GST_OBJECT_UNLOCK (self);
}

typedef struct
{
  KlingAnalysisSettings an;
  guint inference_interval;
  gboolean draw;
} Settings;

static void
settings_snapshot (GstAiProductDetect * self, Settings * s)
{
  GST_OBJECT_LOCK (self);
  s->an.threshold = self->threshold_set ? self->threshold :
      self->default_threshold;
  s->an.iou_threshold = self->iou_threshold;
  s->an.max_detections = self->max_detections;
  s->an.copy_interval = self->copy_interval;
  s->an.language = self->language == GST_AI_PRODUCT_DETECT_LANGUAGE_EN;
  s->inference_interval = self->inference_interval;
  s->draw = self->draw;
  GST_OBJECT_UNLOCK (self);
}

/* ---------------------------------------------------------------------- */
/* Lifecycle */

static gboolean
gst_ai_product_detect_start (GstAiProductDetect * self)
{
  gchar *model_prop, *model_path, *copy_prop, *copy_path, *labels_file;
  gchar *device;
  KlingLoadOptions opts;
  GError *error = NULL;
  KlingAnalyser *analyser;
  KlingAnalyserFailure failure;
  GstClockTime inference_time;
  const KlingManifest *manifest;
  gboolean copy_default, ok = FALSE;

  GST_OBJECT_LOCK (self);
  model_prop = g_strdup (self->model_path);
  copy_prop = g_strdup (self->copy_model_path);
  labels_file = g_strdup (self->labels_file);
  device = g_strdup (self->device);
  opts.threads = self->threads;
  self->running_live = self->live_mode;
  GST_OBJECT_UNLOCK (self);
  /* the look-ups stat files: after unlocking */
  /* a missing default copywriter is no error: no copy is written (a
   * warning below), so not kling_element_find_model, which posts one */
  copy_path = kling_element_find_optional_model (copy_prop,
      DEFAULT_COPY_MODEL_FILE, &copy_default);
  g_free (copy_prop);
  opts.device = device;
  opts.precision = KLING_PRECISION_FLOAT32;

  model_path = kling_element_find_model (GST_ELEMENT (self), model_prop,
      DEFAULT_DETECT_MODEL_FILE, "detector", "model");
  g_free (model_prop);
  if (model_path == NULL)
    goto fail;
  GST_INFO_OBJECT (self, "loading detector %s, copywriter %s", model_path,
      GST_STR_NULL (copy_path));
  analyser = kling_analyser_load (model_path, labels_file, copy_path, &opts,
      &failure, &error);
  if (analyser == NULL) {
    if (failure == KLING_ANALYSER_FAILED_LABELS)
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not read labels-file \"%s\": %s", labels_file,
              error->message), (NULL));
    else if (failure == KLING_ANALYSER_FAILED_DETECTOR)
      kling_element_post_load_error (GST_ELEMENT (self), "detector",
          "model", NULL, model_path, error);
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Could not load copywriter model \"%s\": %s", copy_path,
              error->message), ("set \"copy-model\" to a copywrite model "
              "package, or to none to write no copy; see docs/models.md"));
    goto fail;
  }
  if (copy_path == NULL && copy_default)
    GST_WARNING_OBJECT (self, "default copywriter " DEFAULT_COPY_MODEL_FILE
        " not installed: writing no copy");
  manifest = kling_analyser_get_detector_manifest (analyser);
  inference_time = kling_analyser_measure (analyser);
  GST_INFO_OBJECT (self, "%s: %u labels, one inference %" GST_TIME_FORMAT
      " on %s", manifest->name, kling_analyser_get_n_labels (analyser),
      GST_TIME_ARGS (inference_time), device);

  GST_OBJECT_LOCK (self);
  self->analyser = analyser;
  self->labels = kling_analyser_get_labels (analyser);
  self->default_threshold = kling_manifest_get_double (manifest,
      "defaults.threshold", DEFAULT_THRESHOLD);
  self->inference_time = inference_time;
  GST_OBJECT_UNLOCK (self);
  self->cancellable = g_cancellable_new ();
  self->frame_count = 0;
  self->have_info = FALSE;
  kling_text_src_reset (self->text);
  self->copy_warned = FALSE;
  kling_analysis_clear (&self->current);
  gst_flow_combiner_reset (self->flow_combiner);
  if (self->running_live)
    self->live = kling_live_analyser_new (self->analyser, self->cancellable);
  ok = TRUE;

fail:
  g_clear_error (&error);
  g_free (model_path);
  g_free (copy_path);
  g_free (labels_file);
  g_free (device);
  return ok;
}

static void
gst_ai_product_detect_stop (GstAiProductDetect * self)
{
  KlingAnalyser *analyser;

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  /* the live thread first: it runs the analyser */
  g_clear_pointer (&self->live, kling_live_analyser_free);
  GST_OBJECT_LOCK (self);
  analyser = g_steal_pointer (&self->analyser);
  self->labels = NULL;
  GST_OBJECT_UNLOCK (self);
  kling_analyser_free (analyser);
  g_clear_object (&self->cancellable);
  kling_analysis_clear (&self->current);
  self->have_info = FALSE;
}

static GstStateChangeReturn
gst_ai_product_detect_change_state (GstElement * element,
    GstStateChange transition)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_ai_product_detect_start (self)) {
        gst_ai_product_detect_stop (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* a live analysis in a long call returns at its next step */
      if (self->cancellable)
        g_cancellable_cancel (self->cancellable);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  /* models loaded for a READY->PAUSED the parent then failed are freed
   * too, not kept until the next start */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY ||
      (transition == GST_STATE_CHANGE_READY_TO_PAUSED &&
          ret == GST_STATE_CHANGE_FAILURE))
    gst_ai_product_detect_stop (self);
  return ret;
}

/* ---------------------------------------------------------------------- */
/* Pads */

static GstIterator *
gst_ai_product_detect_iterate_internal_links (GstPad * pad, GstObject * parent)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (parent);

  return kling_element_iterate_partner (pad, self->sinkpad, self->srcpad);
}

static gboolean
gst_ai_product_detect_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      kling_text_src_handle_event (self->text, event);
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      GstVideoInfo info;
      GError *error = NULL;
      gboolean ok;

      gst_event_parse_caps (event, &caps);
      if (!gst_video_info_from_caps (&info, caps)
          || GST_VIDEO_INFO_WIDTH (&info) <= 0
          || GST_VIDEO_INFO_HEIGHT (&info) <= 0) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("Unusable video caps %" GST_PTR_FORMAT, caps),
            ("put videoconvert before aiproductdetect"));
        gst_event_unref (event);
        return FALSE;
      }
      /* a frame of the old format waiting for the live analysis is stale,
       * and so are detections in the old frame's pixels */
      if (self->live)
        kling_live_analyser_invalidate (self->live);
      ok = self->analyser && kling_analyser_set_format (self->analyser,
          &info, &error);
      if (ok) {
        self->info = info;
        self->have_info = TRUE;
      }
      kling_analysis_clear (&self->current);
      if (!ok) {
        GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
            ("Cannot convert %s video to the detector's input%s%s",
                gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)),
                error ? ": " : "", error ? error->message : ""),
            ("put videoconvert before aiproductdetect"));
        g_clear_error (&error);
        gst_event_unref (event);
        return FALSE;
      }
      return gst_pad_push_event (self->srcpad, event);
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      if (self->segment.format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("Video segment is not in TIME format"), (NULL));
        gst_event_unref (event);
        return FALSE;
      }
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_flow_combiner_reset (self->flow_combiner);
      kling_analysis_clear (&self->current);
      break;
    default:
      break;
  }
  /* everything else downstream (segment, flushes, tags, GAP, EOS, custom
   * and sticky events) goes to the text stream too, in order */
  kling_text_src_handle_event (self->text, event);
  return gst_pad_push_event (self->srcpad, event);
}

static gboolean
gst_ai_product_detect_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
      /* Synchronously each frame waits for its inference; in live mode
       * the video does not wait (the results lag instead). */
      return kling_element_query_latency (self->sinkpad, query,
          self->running_live ? 0 : self->inference_time);
    case GST_QUERY_CAPS:
      if (pad == self->text_srcpad)
        return kling_text_src_query_caps (self->text, query);
      return gst_pad_query_default (pad, parent, query);
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static void
attach_metas (GstAiProductDetect * self, GstBuffer * buf,
    const KlingAnalysis * a)
{
  guint i;

  for (i = 0; i < a->detections->len; i++) {
    const KlingDetection *d = &g_array_index (a->detections, KlingDetection,
        i);
    GstVideoRegionOfInterestMeta *meta;

    meta = gst_buffer_add_video_region_of_interest_meta (buf,
        self->labels[d->label], (guint) d->x0, (guint) d->y0,
        (guint) (d->x1 - (guint) d->x0), (guint) (d->y1 - (guint) d->y0));
    meta->id = i;
    gst_video_region_of_interest_meta_add_param (meta,
        kling_analysis_detection (a, i, self->labels, FALSE));
    if ((gint) i == a->copy_index && a->copy)
      gst_video_region_of_interest_meta_add_param (meta,
          gst_structure_new ("marketing-copy", "text", G_TYPE_STRING, a->copy,
              "language", G_TYPE_STRING, a->language, NULL));
  }
}

static void
post_detections (GstAiProductDetect * self, GstBuffer * buf,
    const KlingAnalysis * a)
{
  GstClockTime ts = GST_BUFFER_PTS (buf);
  GstClockTime stream_time = gst_segment_to_stream_time (&self->segment,
      GST_FORMAT_TIME, ts);
  GstClockTime running_time = gst_segment_to_running_time (&self->segment,
      GST_FORMAT_TIME, ts);
  GValue list = G_VALUE_INIT;
  GstStructure *s;

  kling_analysis_to_list (a, self->labels, &list);
  s = gst_structure_new ("aiproductdetect",
      "timestamp", G_TYPE_UINT64, ts,
      "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time,
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buf), NULL);
  gst_structure_take_value (s, "detections", &list);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* A copywriter that wrote no line (NaN logits): the video and its
 * detections go on without copy; said once per run. */
static void
warn_no_copy (GstAiProductDetect * self, const GError * error)
{
  if (self->copy_warned)
    return;
  self->copy_warned = TRUE;
  GST_ELEMENT_WARNING (self, STREAM, DECODE,
      ("Copywriter model %s wrote no copy (%s); continuing without copy "
          "for this product",
          kling_analyser_get_copywriter_manifest (self->analyser)->model,
          error->message), ("check the model, or set copy-model=none"));
}

static GstFlowReturn
gst_ai_product_detect_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (parent);
  GstClockTime stream_time, running_time;
  GstFlowReturn ret, text_ret;
  gboolean analysed = FALSE;
  gchar *new_copy = NULL;
  GError *error = NULL;
  Settings s;

  if (!self->have_info || self->analyser == NULL) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("No video caps before the "
            "first buffer"), (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }

  stream_time = gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  running_time = gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  if (GST_CLOCK_TIME_IS_VALID (stream_time))
    gst_object_sync_values (GST_OBJECT (self), stream_time);
  settings_snapshot (self, &s);

  if (self->frame_count++ % s.inference_interval == 0) {
    /* live: the newest result so far; else this frame's */
    if (self->live)
      analysed = kling_live_analyser_offer (self->live, buf, running_time,
          self->frame_count, &s.an, &self->current, &error);
    else
      analysed = kling_analyser_run (self->analyser, buf, running_time,
          self->frame_count, &s.an, self->cancellable, &self->current, &error);
    if (error) {
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
          ("Inference failed: %s", error->message),
          ("model %s",
              kling_analyser_get_detector_manifest (self->analyser)->model));
      g_error_free (error);
      gst_buffer_unref (buf);
      return GST_FLOW_ERROR;
    }
    if (analysed && self->current.copy_error)
      warn_no_copy (self, self->current.copy_error);
  }

  if (analysed) {
    /* the copy goes out once, with the frame it was written for */
    new_copy = g_strdup (self->current.copy);
  } else {
    self->current.copy_index = -1;
  }

  if (self->current.detections->len > 0 || analysed) {
    buf = gst_buffer_make_writable (buf);
    attach_metas (self, buf, &self->current);
    if (s.draw && self->current.detections->len > 0) {
      GstVideoFrame frame;

      if (gst_video_frame_map (&frame, &self->info, buf, GST_MAP_READWRITE)) {
        kling_draw_detections (&frame, (KlingDetection *)
            self->current.detections->data, self->current.detections->len,
            self->labels);
        gst_video_frame_unmap (&frame);
      }
    }
  }
  if (analysed)
    post_detections (self, buf, &self->current);

  text_ret = kling_text_src_push (self->text, buf, new_copy);
  g_free (new_copy);
  ret = gst_pad_push (self->srcpad, buf);

  gst_flow_combiner_update_pad_flow (self->flow_combiner, self->text_srcpad,
      text_ret);
  return gst_flow_combiner_update_pad_flow (self->flow_combiner,
      self->srcpad, ret);
}
