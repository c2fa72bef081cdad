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

#include <string.h>
#include <gst/video/video.h>
#include <gst/base/gstflowcombiner.h>

#include "gstaiproductdetect.h"
#include "kling-element.h"
#include "kling-copywriter.h"
#include "kling-detector.h"
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

/* One analysis result: detections in frame coordinates, and the copy
 * written for one of them (index @copy_index), if any. */
typedef struct
{
  GArray *detections;           /* KlingDetection */
  gint copy_index;
  gchar *copy;
  const gchar *language;
} Analysis;

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
  KlingDetector *detector;
  gchar **labels;
  guint n_labels;
  gfloat default_threshold;
  KlingCopywriter *copywriter;
  gboolean running_live;
  GstClockTime inference_time;  /* measured at start, for LATENCY */
  GCancellable *cancellable;

  /* streaming thread */
  GstVideoInfo info;
  gboolean have_info;
  GstSegment segment;
  guint64 frame_count;
  Analysis current;             /* detections attached to frames */
  KlingCopyPlan *copy_plan;     /* which label is due for copy */
  gboolean copy_warned;         /* a copy that could not be written */

  /* text_src is pushed from its own task, so that a text sink blocking in
   * preroll holds only that task, not the video streaming thread */
  KlingTextSrc *text;

  /* held while a frame is analysed and while caps change what analysis
   * uses (info, the detector's input), so the live worker never sees a half-done
   * reconfiguration */
  GMutex analyse_lock;

  /* live mode: a worker analyses the latest frame while video flows */
  GThread *worker;
  GMutex worker_lock;
  GCond worker_cond;
  GstBuffer *pending;           /* frame waiting for the worker */
  GstClockTime pending_running_time;
  guint caps_serial;            /* bumped by each caps change */
  gboolean worker_busy;
  gboolean worker_quit;
  Analysis worker_result;
  gboolean worker_has_result;
  GError *worker_error;
};

static GType
gst_ai_product_detect_language_get_type_once (void)
{
  static const GEnumValue values[] = {
    {GST_AI_PRODUCT_DETECT_LANGUAGE_ZH, "Chinese (simplified)", "zh"},
    {GST_AI_PRODUCT_DETECT_LANGUAGE_EN, "English", "en"},
    {0, NULL, NULL}
  };
  return g_enum_register_static ("GstAiProductDetectLanguage", values);
}

GType
gst_ai_product_detect_language_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, gst_ai_product_detect_language_get_type_once ());
  return type;
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
analysis_clear (Analysis * a)
{
  if (a->detections)
    g_array_set_size (a->detections, 0);
  g_clear_pointer (&a->copy, g_free);
  a->copy_index = -1;
}

static void
analysis_init (Analysis * a)
{
  a->detections = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  a->copy = NULL;
  a->copy_index = -1;
  a->language = NULL;
}

static void
analysis_free (Analysis * a)
{
  analysis_clear (a);
  g_clear_pointer (&a->detections, g_array_unref);
}

static void
analysis_move (Analysis * dst, Analysis * src)
{
  analysis_clear (dst);
  g_array_append_vals (dst->detections, src->detections->data,
      src->detections->len);
  dst->copy = g_steal_pointer (&src->copy);
  dst->copy_index = src->copy_index;
  dst->language = src->language;
  analysis_clear (src);
}

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
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "Where the models run: cpu, cuda or cuda:N (CUDA needs gst-kling "
          "built against a CUDA LibTorch)", DEFAULT_DEVICE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Intra-op threads for inference; 0: one per CPU core", 0, 256,
          DEFAULT_THREADS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
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
  gst_element_class_add_static_pad_template (element_class,
      &text_src_template);
  gst_element_class_set_static_metadata (element_class,
      "AI product detector and copywriter", "Filter/Analyzer/Video",
      "Finds products in video, attaches region-of-interest metadata and "
      "writes marketing copy about them on a text pad",
      "gst-kling contributors");

  gst_type_mark_as_plugin_api (GST_TYPE_AI_PRODUCT_DETECT_LANGUAGE, 0);
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

  analysis_init (&self->current);
  analysis_init (&self->worker_result);
  self->copy_plan = kling_copy_plan_new ();
  g_mutex_init (&self->analyse_lock);
  g_mutex_init (&self->worker_lock);
  g_cond_init (&self->worker_cond);
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
  analysis_free (&self->current);
  analysis_free (&self->worker_result);
  kling_copy_plan_free (self->copy_plan);
  g_mutex_clear (&self->analyse_lock);
  g_mutex_clear (&self->worker_lock);
  g_cond_clear (&self->worker_cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_ai_product_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      if (kling_element_setup_mutable (GST_ELEMENT (self), pspec)) {
        g_free (self->model_path);
        self->model_path = g_value_dup_string (value);
      }
      break;
    case PROP_COPY_MODEL:
      if (kling_element_setup_mutable (GST_ELEMENT (self), pspec)) {
        g_free (self->copy_model_path);
        self->copy_model_path = g_value_dup_string (value);
      }
      break;
    case PROP_LABELS_FILE:
      if (kling_element_setup_mutable (GST_ELEMENT (self), pspec)) {
        g_free (self->labels_file);
        self->labels_file = g_value_dup_string (value);
      }
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_float (value);
      self->threshold_set = TRUE;
      break;
    case PROP_IOU_THRESHOLD:
      self->iou_threshold = g_value_get_float (value);
      break;
    case PROP_MAX_DETECTIONS:
      self->max_detections = g_value_get_uint (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      self->inference_interval = g_value_get_uint (value);
      break;
    case PROP_COPY_INTERVAL:
      self->copy_interval = g_value_get_uint64 (value);
      break;
    case PROP_LANGUAGE:
      self->language = g_value_get_enum (value);
      break;
    case PROP_DEVICE:
      if (kling_element_setup_mutable (GST_ELEMENT (self), pspec)) {
        g_free (self->device);
        self->device = g_value_dup_string (value);
      }
      break;
    case PROP_THREADS:
      if (kling_element_setup_mutable (GST_ELEMENT (self), pspec))
        self->threads = g_value_get_int (value);
      break;
    case PROP_DRAW:
      self->draw = g_value_get_boolean (value);
      break;
    case PROP_LIVE_MODE:
      if (kling_element_setup_mutable (GST_ELEMENT (self), pspec))
        self->live_mode = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ai_product_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_COPY_MODEL:
      g_value_set_string (value, self->copy_model_path);
      break;
    case PROP_LABELS_FILE:
      g_value_set_string (value, self->labels_file);
      break;
    case PROP_THRESHOLD:
      g_value_set_float (value, self->threshold_set || !self->detector ?
          self->threshold : self->default_threshold);
      break;
    case PROP_IOU_THRESHOLD:
      g_value_set_float (value, self->iou_threshold);
      break;
    case PROP_MAX_DETECTIONS:
      g_value_set_uint (value, self->max_detections);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, self->inference_interval);
      break;
    case PROP_COPY_INTERVAL:
      g_value_set_uint64 (value, self->copy_interval);
      break;
    case PROP_LANGUAGE:
      g_value_set_enum (value, self->language);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, self->device);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_DRAW:
      g_value_set_boolean (value, self->draw);
      break;
    case PROP_LIVE_MODE:
      g_value_set_boolean (value, self->live_mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Writes copy for the best detection whose label has had none for
 * copy-interval. */
static gboolean
analyse_copy (GstAiProductDetect * self, GstVideoFrame * frame,
    GstClockTime running_time, GstClockTime copy_interval,
    GstAiProductDetectLanguage language, Analysis * a, GError ** error)
{
  GError *err = NULL;
  GstVideoRectangle box;
  KlingDetection *d;
  gint i;

  a->copy_index = -1;
  if (self->copywriter == NULL)
    return TRUE;
  i = kling_copy_plan_pick (self->copy_plan, (KlingDetection *)
      a->detections->data, a->detections->len, running_time, copy_interval);
  if (i < 0)
    return TRUE;
  d = &g_array_index (a->detections, KlingDetection, i);
  box.x = (gint) d->x0;
  box.y = (gint) d->y0;
  box.w = (gint) (d->x1 - box.x);
  box.h = (gint) (d->y1 - box.y);
  a->copy = kling_copywriter_write (self->copywriter, frame, &box, d->label,
      language, (guint32) self->frame_count, self->cancellable, &err);
  if (g_error_matches (err, KLING_TEXTGEN_ERROR, KLING_TEXTGEN_ERROR_NO_TOKEN)) {
    /* a model that could not write this line (NaN logits): the video and
     * its detections go on without copy; said once per run */
    if (!self->copy_warned)
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
          ("Copywriter model %s wrote no copy (%s); continuing without copy "
              "for this product",
              kling_copywriter_get_manifest (self->copywriter)->model,
              err->message), ("check the model, or set copy-model=none"));
    self->copy_warned = TRUE;
    g_clear_error (&err);
  } else if (a->copy == NULL) {
    g_propagate_error (error, err);
    return FALSE;
  } else {
    a->copy_index = i;
    a->language = language == GST_AI_PRODUCT_DETECT_LANGUAGE_EN ? "en" : "zh";
    GST_DEBUG_OBJECT (self, "copy for %s: %s", self->labels[d->label],
        a->copy);
  }
  /* tried: the label waits copy-interval either way */
  kling_copy_plan_mark (self->copy_plan, d->label, running_time);
  return TRUE;
}

typedef struct
{
  gfloat threshold, iou_threshold;
  guint max_detections, inference_interval;
  GstClockTime copy_interval;
  GstAiProductDetectLanguage language;
  gboolean draw;
} Settings;

static void
settings_snapshot (GstAiProductDetect * self, Settings * s)
{
  GST_OBJECT_LOCK (self);
  s->threshold = self->threshold_set ? self->threshold :
      self->default_threshold;
  s->iou_threshold = self->iou_threshold;
  s->max_detections = self->max_detections;
  s->inference_interval = self->inference_interval;
  s->copy_interval = self->copy_interval;
  s->language = self->language;
  s->draw = self->draw;
  GST_OBJECT_UNLOCK (self);
}

/* Detection plus copy on one frame, as the streaming thread or the live
 * worker runs it. */
static gboolean
analyse (GstAiProductDetect * self, GstBuffer * buf,
    GstClockTime running_time, const Settings * s, Analysis * a,
    GError ** error)
{
  GstVideoFrame frame;
  gboolean ok;

  g_mutex_lock (&self->analyse_lock);
  if (!gst_video_frame_map (&frame, &self->info, buf, GST_MAP_READ)) {
    g_mutex_unlock (&self->analyse_lock);
    g_set_error (error, KLING_BACKEND_ERROR,
        KLING_BACKEND_ERROR_INVALID_ARGUMENT, "cannot map the video frame");
    return FALSE;
  }
  analysis_clear (a);
  ok = kling_detector_run (self->detector, &frame, self->n_labels,
      s->threshold, s->iou_threshold, s->max_detections, a->detections,
      self->cancellable, error)
      && analyse_copy (self, &frame, running_time, s->copy_interval,
      s->language, a, error);
  gst_video_frame_unmap (&frame);
  g_mutex_unlock (&self->analyse_lock);
  return ok;
}

/* ---------------------------------------------------------------------- */
/* Live mode worker */

static gpointer
worker_thread (gpointer user_data)
{
  GstAiProductDetect *self = user_data;
  Analysis result;

  analysis_init (&result);
  g_mutex_lock (&self->worker_lock);
  while (TRUE) {
    GstBuffer *buf;
    GstClockTime running_time;
    Settings s;
    GError *error = NULL;
    gboolean ok;
    guint serial;

    while (!self->worker_quit && self->pending == NULL)
      g_cond_wait (&self->worker_cond, &self->worker_lock);
    if (self->worker_quit)
      break;
    buf = self->pending;
    serial = self->caps_serial;
    running_time = self->pending_running_time;
    self->pending = NULL;
    self->worker_busy = TRUE;
    g_mutex_unlock (&self->worker_lock);

    settings_snapshot (self, &s);
    ok = analyse (self, buf, running_time, &s, &result, &error);
    gst_buffer_unref (buf);

    g_mutex_lock (&self->worker_lock);
    self->worker_busy = FALSE;
    if (ok && serial != self->caps_serial) {
      /* analysed with the caps before the last change: stale */
      analysis_clear (&result);
    } else if (ok) {
      analysis_move (&self->worker_result, &result);
      self->worker_has_result = TRUE;
    } else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_clear_error (&self->worker_error);
      self->worker_error = error;
      error = NULL;
    }
    g_clear_error (&error);
  }
  g_mutex_unlock (&self->worker_lock);
  analysis_free (&result);
  return NULL;
}

static void
worker_stop (GstAiProductDetect * self)
{
  if (self->worker == NULL)
    return;
  g_mutex_lock (&self->worker_lock);
  self->worker_quit = TRUE;
  g_cond_signal (&self->worker_cond);
  g_mutex_unlock (&self->worker_lock);
  g_thread_join (self->worker);
  self->worker = NULL;
  gst_clear_buffer (&self->pending);
  g_clear_error (&self->worker_error);
  analysis_clear (&self->worker_result);
  self->worker_has_result = FALSE;
}

/* ---------------------------------------------------------------------- */
/* Lifecycle */

static gboolean
gst_ai_product_detect_start (GstAiProductDetect * self)
{
  gchar *model_prop, *model_path, *copy_path, *labels_file, *device;
  KlingLoadOptions opts;
  GError *error = NULL;
  gchar **labels = NULL;
  const KlingManifest *manifest;
  gboolean copy_default;

  GST_OBJECT_LOCK (self);
  model_prop = g_strdup (self->model_path);
  copy_path = g_strdup (self->copy_model_path);
  labels_file = g_strdup (self->labels_file);
  device = g_strdup (self->device);
  opts.threads = self->threads;
  self->running_live = self->live_mode;
  GST_OBJECT_UNLOCK (self);
  /* the look-ups stat files: after unlocking */
  copy_default = copy_path == NULL;
  if (copy_path && (*copy_path == '\0' || strcmp (copy_path, "none") == 0))
    g_clear_pointer (&copy_path, g_free);
  else if (copy_default)
    /* a missing default copywriter is no error: no copy is written (a
     * warning below), so not kling_element_find_model, which posts one */
    copy_path = kling_package_find_default (DEFAULT_COPY_MODEL_FILE);
  opts.device = device;
  opts.precision = KLING_PRECISION_FLOAT32;

  model_path = kling_element_find_model (GST_ELEMENT (self), model_prop,
      DEFAULT_DETECT_MODEL_FILE, "detector", "model");
  g_free (model_prop);
  if (model_path == NULL)
    goto fail;
  if (labels_file && !(labels = kling_labels_read_file (labels_file,
              KLING_LABELS_FILE_MAX_BYTES, &error))) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not read labels-file \"%s\": %s", labels_file,
            error->message), (NULL));
    goto fail;
  }

  GST_INFO_OBJECT (self, "loading detector %s", model_path);
  self->detector = kling_detector_load (model_path, &opts, labels != NULL,
      &error);
  if (self->detector == NULL) {
    kling_element_post_load_error (GST_ELEMENT (self), "detector", "model",
        NULL, model_path, error);
    goto fail;
  }
  manifest = kling_detector_get_manifest (self->detector);
  self->labels = labels ? labels : g_strdupv (manifest->labels);
  labels = NULL;
  self->n_labels = g_strv_length (self->labels);
  self->default_threshold = kling_manifest_get_double (manifest,
      "defaults.threshold", DEFAULT_THRESHOLD);

  if (copy_path) {
    GST_INFO_OBJECT (self, "loading copywriter %s", copy_path);
    self->copywriter = kling_copywriter_load (copy_path, &opts, &error);
    if (self->copywriter == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Could not load copywriter model \"%s\": %s", copy_path,
              error->message), ("set \"copy-model\" to a copywrite model "
              "package, or to none to write no copy; see docs/models.md"));
      goto fail;
    }
  } else if (copy_default) {
    GST_WARNING_OBJECT (self, "default copywriter " DEFAULT_COPY_MODEL_FILE
        " not installed: writing no copy");
  }

  self->inference_time = kling_detector_measure (self->detector);
  GST_INFO_OBJECT (self, "%s: %u labels, one inference %" GST_TIME_FORMAT
      " on %s", manifest->name, self->n_labels,
      GST_TIME_ARGS (self->inference_time), device);

  self->cancellable = g_cancellable_new ();
  self->frame_count = 0;
  self->have_info = FALSE;
  kling_text_src_reset (self->text);
  self->copy_warned = FALSE;
  kling_copy_plan_reset (self->copy_plan);
  analysis_clear (&self->current);
  gst_flow_combiner_reset (self->flow_combiner);
  if (self->running_live) {
    self->worker_quit = FALSE;
    self->worker = g_thread_new ("aiproductdetect", worker_thread, self);
  }

  g_free (model_path);
  g_free (copy_path);
  g_free (labels_file);
  g_free (device);
  return TRUE;

fail:
  g_clear_error (&error);
  g_strfreev (labels);
  g_free (model_path);
  g_free (copy_path);
  g_free (labels_file);
  g_free (device);
  return FALSE;
}

static void
gst_ai_product_detect_stop (GstAiProductDetect * self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  worker_stop (self);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->detector, kling_detector_free);
  g_clear_pointer (&self->copywriter, kling_copywriter_free);
  g_clear_pointer (&self->labels, g_strfreev);
  analysis_clear (&self->current);
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
      /* a worker in a long call returns at its next step */
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
gst_ai_product_detect_iterate_internal_links (GstPad * pad,
    GstObject * parent)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (parent);
  GValue value = G_VALUE_INIT;
  GstIterator *it;

  g_value_init (&value, GST_TYPE_PAD);
  if (pad == self->sinkpad)
    g_value_set_object (&value, self->srcpad);
  else if (pad == self->srcpad)
    g_value_set_object (&value, self->sinkpad);
  else
    return NULL;
  it = gst_iterator_new_single (GST_TYPE_PAD, &value);
  g_value_unset (&value);
  return it;
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
      /* a frame of the old format waiting for the live worker is stale,
       * and so are detections in the old frame's pixels */
      g_mutex_lock (&self->worker_lock);
      gst_clear_buffer (&self->pending);
      analysis_clear (&self->worker_result);
      self->worker_has_result = FALSE;
      self->caps_serial++;
      g_mutex_unlock (&self->worker_lock);
      g_mutex_lock (&self->analyse_lock);
      ok = self->detector && kling_detector_set_format (self->detector,
          &info, &error);
      if (ok) {
        self->info = info;
        self->have_info = TRUE;
      }
      g_mutex_unlock (&self->analyse_lock);
      analysis_clear (&self->current);
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
      analysis_clear (&self->current);
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
    case GST_QUERY_LATENCY:{
      gboolean live;
      GstClockTime min, max, ours;

      if (!gst_pad_peer_query (self->sinkpad, query))
        return FALSE;
      gst_query_parse_latency (query, &live, &min, &max);
      /* Synchronously each frame waits for its inference; in live mode
       * the video does not wait (the results lag instead). */
      ours = self->running_live ? 0 : self->inference_time;
      GST_DEBUG_OBJECT (self, "adding latency %" GST_TIME_FORMAT,
          GST_TIME_ARGS (ours));
      min += ours;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += ours;
      gst_query_set_latency (query, live, min, max);
      return TRUE;
    }
    case GST_QUERY_CAPS:
      if (pad == self->text_srcpad)
        return kling_text_src_query_caps (self->text, query);
      return gst_pad_query_default (pad, parent, query);
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static void
attach_metas (GstAiProductDetect * self, GstBuffer * buf, const Analysis * a)
{
  guint i;

  for (i = 0; i < a->detections->len; i++) {
    const KlingDetection *d = &g_array_index (a->detections, KlingDetection,
        i);
    const gchar *label = self->labels[d->label];
    GstVideoRegionOfInterestMeta *meta;

    meta = gst_buffer_add_video_region_of_interest_meta (buf, label,
        (guint) d->x0, (guint) d->y0, (guint) (d->x1 - (guint) d->x0),
        (guint) (d->y1 - (guint) d->y0));
    meta->id = i;
    gst_video_region_of_interest_meta_add_param (meta,
        gst_structure_new ("detection", "label", G_TYPE_STRING, label,
            "label-id", G_TYPE_INT, d->label, "confidence", G_TYPE_DOUBLE,
            (gdouble) d->score, NULL));
    if ((gint) i == a->copy_index && a->copy)
      gst_video_region_of_interest_meta_add_param (meta,
          gst_structure_new ("marketing-copy", "text", G_TYPE_STRING, a->copy,
              "language", G_TYPE_STRING, a->language, NULL));
  }
}

static void
post_detections (GstAiProductDetect * self, GstBuffer * buf,
    const Analysis * a)
{
  GstClockTime ts = GST_BUFFER_PTS (buf);
  GstClockTime stream_time = gst_segment_to_stream_time (&self->segment,
      GST_FORMAT_TIME, ts);
  GstClockTime running_time = gst_segment_to_running_time (&self->segment,
      GST_FORMAT_TIME, ts);
  GValue list = G_VALUE_INIT;
  GstStructure *s;
  guint i;

  g_value_init (&list, GST_TYPE_LIST);
  for (i = 0; i < a->detections->len; i++) {
    const KlingDetection *d = &g_array_index (a->detections, KlingDetection,
        i);
    GValue v = G_VALUE_INIT;
    GstStructure *ds = gst_structure_new ("detection",
        "label", G_TYPE_STRING, self->labels[d->label],
        "label-id", G_TYPE_INT, d->label,
        "confidence", G_TYPE_DOUBLE, (gdouble) d->score,
        "x", G_TYPE_UINT, (guint) d->x0, "y", G_TYPE_UINT, (guint) d->y0,
        "width", G_TYPE_UINT, (guint) (d->x1 - (guint) d->x0),
        "height", G_TYPE_UINT, (guint) (d->y1 - (guint) d->y0), NULL);

    if ((gint) i == a->copy_index && a->copy)
      gst_structure_set (ds, "copy", G_TYPE_STRING, a->copy, NULL);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, ds);
    gst_value_list_append_and_take_value (&list, &v);
  }
  s = gst_structure_new ("aiproductdetect",
      "timestamp", G_TYPE_UINT64, ts,
      "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time,
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buf), NULL);
  gst_structure_take_value (s, "detections", &list);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static GstFlowReturn
gst_ai_product_detect_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buf)
{
  GstAiProductDetect *self = GST_AI_PRODUCT_DETECT (parent);
  GstClockTime stream_time, running_time;
  GstFlowReturn ret, text_ret;
  gboolean analysed = FALSE;
  gchar *new_copy = NULL;
  GError *error = NULL;
  Settings s;

  if (!self->have_info || self->detector == NULL) {
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
    if (self->running_live) {
      g_mutex_lock (&self->worker_lock);
      if (self->worker_error) {
        error = g_steal_pointer (&self->worker_error);
      } else if (!self->worker_busy) {
        /* the worker takes the newest frame; an older waiting one is
         * dropped, so results never fall further behind */
        gst_clear_buffer (&self->pending);
        self->pending = gst_buffer_ref (buf);
        self->pending_running_time = running_time;
        g_cond_signal (&self->worker_cond);
      }
      if (self->worker_has_result) {
        analysis_move (&self->current, &self->worker_result);
        self->worker_has_result = FALSE;
        analysed = TRUE;
      }
      g_mutex_unlock (&self->worker_lock);
    } else {
      analysed = analyse (self, buf, running_time, &s, &self->current,
          &error);
    }
    if (error) {
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
          ("Inference failed: %s", error->message),
          ("model %s", kling_detector_get_manifest (self->detector)->model));
      g_error_free (error);
      gst_buffer_unref (buf);
      return GST_FLOW_ERROR;
    }
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
            (const gchar * const *) self->labels);
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
