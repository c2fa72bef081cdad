/* gst-kling: klinggen
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-klinggen
 * @title: klinggen
 *
 * Generates video from a prompt (Chinese or English), and optionally from a
 * still image, with a text-to-video model package (docs/models.md, task
 * `video`).  Long clips are generated chunk by chunk: the frames of a
 * finished chunk flow downstream while the next chunk is generated, each
 * chunk conditioned on the end of the previous one so motion and colour
 * carry over the seam, and memory stays flat however long the clip.
 *
 * The same prompt, seed, model and thread count give byte-identical frames
 * on every run.  `prompt` can change while playing, and so can the optional
 * `prompt` request pad (`text/x-raw, format=utf8`): each text buffer
 * becomes the prompt of the next chunk.  When the optional `image` request
 * pad is linked, its first frame becomes the first frame of the video
 * (image-to-video).
 *
 * Progress is posted as progress messages (gst-launch-1.0 prints them) and
 * as `klinggen-progress` element messages with step, steps, chunk, chunks
 * and percent.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 klinggen prompt="紅色的球在海灘上向右滾動" duration=10 ! \
 *     videoconvert ! vp8enc ! webmmux ! filesink location=beach.webm
 * ]| writes a 10-second clip of a red ball rolling right on a beach.
 * |[
 * gst-launch-1.0 filesrc location=ball.png ! pngdec ! videoconvert ! \
 *     kg.image  klinggen name=kg prompt="the ball moves up" num-frames=32 ! \
 *     videoconvert ! autovideosink
 * ]| animates a still image.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>

#include "gstklinggen.h"
#include "kling-chunks.h"
#include "kling-element.h"
#include "kling-frames.h"
#include "kling-gen.h"

GST_DEBUG_CATEGORY_STATIC (gst_kling_gen_debug);
#define GST_CAT_DEFAULT gst_kling_gen_debug

#define DEFAULT_MODEL_FILE "kling-video.pt"

#define DEFAULT_DURATION 4.0
#define DEFAULT_NUM_FRAMES 0
#define DEFAULT_IS_LIVE FALSE

/* prompt, negative-prompt, seed, steps, guidance-scale, sampler, model,
 * device, threads: the shared generation properties (kling-element.h) */
enum
{
  PROP_DURATION = KLING_GEN_PROP_LAST,
  PROP_NUM_FRAMES,
  PROP_IS_LIVE,
};

static const KlingGenPropsInfo props_info = {
  .default_prompt = "a red ball rolls to the right on the beach",
  .prompt_blurb = "What the video shows, in Chinese or English (UTF-8); a "
      "change while playing takes effect at the next chunk",
  .negative_prompt_blurb = "What the video should not show: the "
      "unconditional side of classifier-free guidance; empty: the model's "
      "unconditional prompt",
  .seed_blurb = "Seed of the noise: the same seed, prompt, model and "
      "threads give the same frames",
  .seed_mutable = GST_PARAM_MUTABLE_READY,
  .sampler_blurb = "How noise is turned into video",
  .model_blurb = "Video model package (task `video`, docs/models.md); NULL: "
      "the model shipped with gst-kling (" DEFAULT_MODEL_FILE ")",
};

#define OUT_FORMATS "{ RGB, RGBA, BGRx, I420 }"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OUT_FORMATS)));

static GstStaticPadTemplate image_template = GST_STATIC_PAD_TEMPLATE ("image",
    GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (GST_VIDEO_FORMATS_ALL)));

static GstStaticPadTemplate prompt_template =
GST_STATIC_PAD_TEMPLATE ("prompt", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("text/x-raw, format = (string) utf8"));

struct _GstKlingGen
{
  GstPushSrc parent;

  GstPad *image_pad, *prompt_pad;

  /* properties, under the object lock */
  KlingGenProps props;
  gdouble duration;
  guint64 num_frames;
  gboolean is_live;

  /* set in start() */
  KlingGenModel *gm;
  guint64 total_frames;         /* G_MAXUINT64: endless */
  guint64 n_chunks;
  GstClockTime latency;

  /* frames from the generator thread to create(): GstBuffer, packed RGB
   * at the model's size */
  KlingFrameQueue *queue;
  GThread *generator;
  GCancellable *cancellable;

  /* the clock wait of create(), which unlock() cuts short */
  KlingClockWait wait;

  /* the image pad's still, converted to rgb_info */
  KlingStillPad image;

  /* streaming thread */
  KlingPacer pacer;
  GstVideoInfo out_info;
  GstVideoInfo rgb_info;
  GstVideoConverter *converter;
  GstBuffer *last_frame;
  gboolean warned_repeat, warned_drop;
};

#define gst_kling_gen_parent_class parent_class
G_DEFINE_TYPE (GstKlingGen, gst_kling_gen, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (klinggen, "klinggen", GST_RANK_NONE,
    GST_TYPE_KLING_GEN, GST_DEBUG_CATEGORY_INIT (gst_kling_gen_debug,
        "klinggen", 0, "text-to-video generation"));

static void gst_kling_gen_finalize (GObject * object);
static void gst_kling_gen_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_kling_gen_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstPad *gst_kling_gen_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_kling_gen_release_pad (GstElement * element, GstPad * pad);
static gboolean gst_kling_gen_start (GstBaseSrc * src);
static gboolean gst_kling_gen_stop (GstBaseSrc * src);
static GstCaps *gst_kling_gen_get_caps (GstBaseSrc * src, GstCaps * filter);
static GstCaps *gst_kling_gen_fixate (GstBaseSrc * src, GstCaps * caps);
static gboolean gst_kling_gen_set_caps (GstBaseSrc * src, GstCaps * caps);
static gboolean gst_kling_gen_unlock (GstBaseSrc * src);
static gboolean gst_kling_gen_unlock_stop (GstBaseSrc * src);
static gboolean gst_kling_gen_query (GstBaseSrc * src, GstQuery * query);
static GstFlowReturn gst_kling_gen_create (GstPushSrc * src, GstBuffer ** buf);

static void
gst_kling_gen_class_init (GstKlingGenClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_kling_gen_finalize;
  gobject_class->set_property = gst_kling_gen_set_property;
  gobject_class->get_property = gst_kling_gen_get_property;

  kling_gen_props_install (gobject_class, &props_info);
  g_object_class_install_property (gobject_class, PROP_DURATION,
      g_param_spec_double ("duration", "Duration",
          "Length of the clip in seconds, then EOS; 0: endless (see also "
          "num-frames)", 0.0, 86400.0, DEFAULT_DURATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_NUM_FRAMES,
      g_param_spec_uint64 ("num-frames", "Number of frames",
          "Length of the clip in frames; overrides duration when not 0", 0,
          G_MAXUINT32, DEFAULT_NUM_FRAMES, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Timestamps follow the clock; when generation falls behind real "
          "time the last frame is repeated (with a warning) rather than "
          "stalling downstream", DEFAULT_IS_LIVE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &image_template);
  gst_element_class_add_static_pad_template (element_class, &prompt_template);
  gst_element_class_set_static_metadata (element_class,
      "Kling video generator", "Source/Video",
      "Generates video from a text prompt and an optional still image",
      "gst-kling contributors");
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_kling_gen_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_kling_gen_release_pad);

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_kling_gen_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_kling_gen_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_kling_gen_get_caps);
  basesrc_class->fixate = GST_DEBUG_FUNCPTR (gst_kling_gen_fixate);
  basesrc_class->set_caps = GST_DEBUG_FUNCPTR (gst_kling_gen_set_caps);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_kling_gen_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_kling_gen_unlock_stop);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_kling_gen_query);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_kling_gen_create);

}

static void
gst_kling_gen_init (GstKlingGen * self)
{
  kling_gen_props_init (&self->props, &props_info);
  self->duration = DEFAULT_DURATION;
  self->num_frames = DEFAULT_NUM_FRAMES;
  self->is_live = DEFAULT_IS_LIVE;
  kling_clock_wait_init (&self->wait);
  kling_still_pad_init (&self->image);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_kling_gen_finalize (GObject * object)
{
  GstKlingGen *self = GST_KLING_GEN (object);

  kling_gen_props_clear (&self->props);
  kling_clock_wait_clear (&self->wait);
  kling_still_pad_clear (&self->image);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static const KlingField fields[] = {
  {PROP_DURATION, G_STRUCT_OFFSET (GstKlingGen, duration)},
  {PROP_NUM_FRAMES, G_STRUCT_OFFSET (GstKlingGen, num_frames)},
  {PROP_IS_LIVE, G_STRUCT_OFFSET (GstKlingGen, is_live)},
};

static void
gst_kling_gen_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstKlingGen *self = GST_KLING_GEN (object);
  gboolean live;

  kling_gen_props_set_property (GST_ELEMENT (self), &self->props, self,
      fields, G_N_ELEMENTS (fields), prop_id, value, pspec);
  /* here, not in start(): basesrc answers READY->PAUSED with NO_PREROLL
   * only if it is live before it starts, and a live source that prerolls
   * never produces (it waits for PLAYING); set_live takes the object lock */
  if (prop_id == PROP_IS_LIVE) {
    GST_OBJECT_LOCK (self);
    live = self->is_live;
    GST_OBJECT_UNLOCK (self);
    gst_base_src_set_live (GST_BASE_SRC (self), live);
  }
}

static void
gst_kling_gen_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstKlingGen *self = GST_KLING_GEN (object);

  kling_gen_props_get_property (GST_ELEMENT (self), &self->props, self,
      fields, G_N_ELEMENTS (fields), prop_id, value, pspec);
}

/* ---------------------------------------------------------------------- */
/* Request pads */


static GstFlowReturn
image_pad_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstKlingGen *self = GST_KLING_GEN (parent);
  GstVideoInfo info;
  GstBuffer *rgb;
  gboolean have_image, have_info;

  have_info = kling_still_pad_get_info (&self->image, &info, &have_image);
  if (have_image) {
    /* only the first frame is used: tell upstream to stop */
    gst_buffer_unref (buf);
    return GST_FLOW_EOS;
  }
  if (!have_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("The image pad got a "
            "buffer before its caps"), ("link a raw video source (e.g. "
            "pngdec ! videoconvert) to the image pad"));
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!self->gm) {
    /* not started (or stopping): nothing to give the image to */
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }

  rgb = gst_buffer_new_allocate (NULL, self->rgb_info.size, NULL);
  if (!kling_element_convert (&info, buf, &self->rgb_info, rgb,
          gst_structure_new ("config", GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
              GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE, NULL))) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot use the image: "
            "unsupported format or a buffer smaller than its caps"),
        ("put videoconvert before the image pad"));
    gst_buffer_unref (rgb);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  gst_buffer_unref (buf);
  /* the generator takes the image at the model's size */
  kling_still_pad_set_buffer (&self->image, rgb);
  gst_buffer_unref (rgb);
  return GST_FLOW_EOS;
}

static GstFlowReturn
prompt_pad_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstKlingGen *self = GST_KLING_GEN (parent);
  GstFlowReturn ret;
  gchar *text = kling_element_buffer_text (GST_ELEMENT (self), buf, "prompt",
      &ret);

  if (text == NULL || *text == '\0') {
    g_free (text);
    return ret;
  }
  GST_INFO_OBJECT (self, "prompt for the next chunk: %s", text);
  GST_OBJECT_LOCK (self);
  g_free (self->props.prompt);
  self->props.prompt = text;
  GST_OBJECT_UNLOCK (self);
  g_object_notify (G_OBJECT (self), "prompt");
  return GST_FLOW_OK;
}

static gboolean
prompt_pad_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  gst_event_unref (event);
  return TRUE;
}

static GstPad *
gst_kling_gen_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstKlingGen *self = GST_KLING_GEN (element);

  /* the generator thread reads the pads under the object lock */
  if (templ == gst_element_class_get_pad_template
      (GST_ELEMENT_GET_CLASS (element), "image"))
    return kling_still_pad_request (&self->image, element, templ, "image",
        &self->image_pad, GST_DEBUG_FUNCPTR (image_pad_chain));
  return kling_element_request_single_pad (element, templ, "prompt",
      &self->prompt_pad, GST_DEBUG_FUNCPTR (prompt_pad_chain),
      GST_DEBUG_FUNCPTR (prompt_pad_event), NULL);
}

static void
gst_kling_gen_release_pad (GstElement * element, GstPad * pad)
{
  GstKlingGen *self = GST_KLING_GEN (element);

  if (!kling_element_release_single_pad (element, pad, &self->image_pad))
    kling_element_release_single_pad (element, pad, &self->prompt_pad);
}

/* ---------------------------------------------------------------------- */
/* The generator thread */

typedef struct
{
  GstKlingGen *self;
  guint64 chunk, chunks;
} ProgressData;

static void
on_step (guint step, guint steps, gpointer user_data)
{
  ProgressData *p = user_data;

  kling_element_post_step (GST_ELEMENT (p->self), "klinggen-progress", step,
      steps, kling_element_percent (p->chunk, p->chunks, step, steps),
      "chunk", G_TYPE_UINT64, p->chunk, "chunks", G_TYPE_UINT64, p->chunks,
      NULL);
}

static gpointer
generator_thread (gpointer user_data)
{
  GstKlingGen *self = user_data;
  KlingGenModel *gm = self->gm;
  KlingGenClip *clip = kling_gen_clip_new (gm);
  KlingPromptCache prompts = { NULL, NULL };
  GstBuffer *image = NULL;
  GstMapInfo image_map;
  GError *error = NULL;
  gboolean task_open = FALSE;
  GstVideoInfo info;
  guint64 c;
  gchar *text;

  if (kling_element_pad_is_linked (GST_ELEMENT (self), &self->image_pad)) {
    image = kling_still_pad_wait (&self->image, self->cancellable, &info);
    if (!image && !g_cancellable_is_cancelled (self->cancellable)) {
      g_set_error (&error, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_ARGUMENT, "the image pad ended "
          "without an image");
      goto out;
    }
  }
  if (image)
    gst_buffer_map (image, &image_map, GST_MAP_READ);

  for (c = 0; c < self->n_chunks; c++) {
    KlingChunk chunk;
    KlingGenSampleParams sp = { 0 };
    ProgressData progress = { self, c, self->n_chunks };
    KlingGenPrompt *prompt;
    KlingSampling sampling;
    gchar *p_text, *n_text;
    guint f;

    kling_chunks_get (self->total_frames, gm->latent_frames,
        gm->context_frames, c, &chunk);
    /* one progress task per chunk, finished before its frames are queued:
     * gst-launch-1.0 waits for running tasks before going to PLAYING */
    if (self->n_chunks == G_MAXUINT64)
      text = g_strdup_printf ("Generating chunk %" G_GUINT64_FORMAT, c + 1);
    else
      text = g_strdup_printf ("Generating chunk %" G_GUINT64_FORMAT " of %"
          G_GUINT64_FORMAT, c + 1, self->n_chunks);
    kling_element_post_progress (GST_ELEMENT (self), GST_PROGRESS_TYPE_START,
        "generate", text);
    task_open = TRUE;
    g_free (text);

    GST_OBJECT_LOCK (self);
    p_text = g_strdup (self->props.prompt);
    n_text = g_strdup (self->props.negative_prompt);
    kling_element_resolve_sampling (gm, self->props.steps,
        self->props.guidance, self->props.sampler, &sampling);
    sp.seed = self->props.seed;
    GST_OBJECT_UNLOCK (self);

    /* a changed prompt (property or prompt pad) is encoded anew */
    prompt = kling_prompt_cache_get (&prompts, GST_ELEMENT (self), gm, p_text,
        n_text, self->cancellable, &error);
    g_free (p_text);
    g_free (n_text);
    if (prompt == NULL)
      goto out;

    sp.chunk = c;
    sp.steps = sampling.steps;
    sp.guidance = sampling.guidance;
    sp.sampler = sampling.sampler;
    sp.progress = on_step;
    sp.progress_data = &progress;
    sp.cancellable = self->cancellable;
    if (!kling_gen_clip_next (clip, prompt, &sp, image ? image_map.data : NULL,
            GST_VIDEO_INFO_PLANE_STRIDE (&self->rgb_info, 0), &error))
      goto out;

    text = g_strdup_printf ("Chunk %" G_GUINT64_FORMAT " done", c + 1);
    kling_element_post_progress (GST_ELEMENT (self), GST_PROGRESS_TYPE_COMPLETE,
        "generate", text);
    task_open = FALSE;
    g_free (text);

    for (f = chunk.skip; f < chunk.skip + chunk.emit; f++) {
      GstBuffer *buf;

      if (c == 0 && f == 0 && image)
        /* image-to-video: the video starts on the very image */
        buf = gst_buffer_copy_deep (image);
      else
        buf = kling_element_rgb_buffer (&self->rgb_info,
            kling_gen_clip_frame (clip, f));
      if (!kling_frame_queue_push (self->queue, buf))
        goto out;
    }
  }

out:
  if (error && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&error);
  if (task_open)
    kling_element_post_progress (GST_ELEMENT (self),
        error ? GST_PROGRESS_TYPE_ERROR : GST_PROGRESS_TYPE_CANCELED,
        "generate", error ? error->message : "Stopped");
  kling_frame_queue_finish (self->queue, error);

  kling_prompt_cache_clear (&prompts);
  if (image) {
    gst_buffer_unmap (image, &image_map);
    gst_buffer_unref (image);
  }
  kling_gen_clip_free (clip);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Base source */

static gboolean
gst_kling_gen_start (GstBaseSrc * src)
{
  GstKlingGen *self = GST_KLING_GEN (src);
  KlingLoadOptions opts = { 0 };
  gchar *path, *device;
  gdouble duration;
  guint64 num_frames;
  gboolean live;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->props.model_path);
  device = g_strdup (self->props.device);
  opts.threads = self->props.threads;
  duration = self->duration;
  num_frames = self->num_frames;
  live = self->is_live;
  GST_OBJECT_UNLOCK (self);
  opts.device = device;

  /* the default model is looked up (stat) without the object lock */
  self->gm = kling_element_load_gen_model (GST_ELEMENT (self), path,
      DEFAULT_MODEL_FILE, "video", "video", &opts);
  g_free (path);
  g_free (device);
  if (self->gm == NULL)
    return FALSE;

  if (num_frames > 0)
    self->total_frames = num_frames;
  else if (duration > 0)
    self->total_frames = MAX (1, (guint64) (duration * self->gm->fps_n /
            self->gm->fps_d + 0.5));
  else
    self->total_frames = G_MAXUINT64;
  self->n_chunks = self->total_frames == G_MAXUINT64 ? G_MAXUINT64 :
      kling_chunks_count (self->total_frames, self->gm->latent_frames,
      self->gm->context_frames);

  gst_video_info_set_format (&self->rgb_info, GST_VIDEO_FORMAT_RGB,
      self->gm->width, self->gm->height);
  GST_VIDEO_INFO_FPS_N (&self->rgb_info) = self->gm->fps_n;
  GST_VIDEO_INFO_FPS_D (&self->rgb_info) = self->gm->fps_d;

  /* a frame goes out at its slot's time (or a repeat does): one frame */
  self->latency = live ? gst_util_uint64_scale (GST_SECOND, self->gm->fps_d,
      self->gm->fps_n) : 0;
  GST_INFO_OBJECT (self, "%s: %dx%d at %d fps, %" G_GUINT64_FORMAT " frames "
      "in %" G_GUINT64_FORMAT " chunks (%s)", self->gm->manifest->name,
      self->gm->width, self->gm->height, self->gm->fps_n, self->total_frames,
      self->n_chunks, kling_backend_name ());

  kling_pacer_init (&self->pacer, self->gm->fps_n, self->gm->fps_d,
      self->total_frames);
  self->warned_repeat = self->warned_drop = FALSE;
  kling_clock_wait_set_flushing (&self->wait, FALSE);
  self->queue = kling_frame_queue_new (2 * self->gm->latent_frames,
      (GDestroyNotify) gst_buffer_unref);
  self->cancellable = g_cancellable_new ();
  self->generator = g_thread_new ("klinggen", generator_thread, self);
  return TRUE;
}

static gboolean
gst_kling_gen_stop (GstBaseSrc * src)
{
  GstKlingGen *self = GST_KLING_GEN (src);

  if (self->generator) {
    g_cancellable_cancel (self->cancellable);
    kling_frame_queue_cancel (self->queue);
    kling_still_pad_wake (&self->image);
    g_thread_join (self->generator);
    self->generator = NULL;
  }
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->queue, kling_frame_queue_free);
  kling_still_pad_reset (&self->image);
  gst_clear_buffer (&self->last_frame);
  g_clear_pointer (&self->converter, gst_video_converter_free);
  g_clear_pointer (&self->gm, kling_gen_model_free);
  return TRUE;
}

static GstCaps *
gst_kling_gen_get_caps (GstBaseSrc * src, GstCaps * filter)
{
  GstKlingGen *self = GST_KLING_GEN (src);
  GstCaps *caps = gst_static_pad_template_get_caps (&src_template);

  if (self->gm)
    return kling_element_sized_caps (caps, self->gm->width, self->gm->height,
        self->gm->fps_n, self->gm->fps_d, filter);
  return kling_element_filter_caps (caps, filter);
}

static GstCaps *
gst_kling_gen_fixate (GstBaseSrc * src, GstCaps * caps)
{
  GstStructure *s;

  caps = gst_caps_make_writable (caps);
  caps = gst_caps_truncate (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_fixate_field_string (s, "format", "RGB");
  return GST_BASE_SRC_CLASS (parent_class)->fixate (src, caps);
}

static gboolean
gst_kling_gen_set_caps (GstBaseSrc * src, GstCaps * caps)
{
  GstKlingGen *self = GST_KLING_GEN (src);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, caps) || !self->gm
      || info.width != self->gm->width || info.height != self->gm->height)
    return FALSE;
  g_clear_pointer (&self->converter, gst_video_converter_free);
  if (GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGB)
    self->converter = gst_video_converter_new (&self->rgb_info, &info, NULL);
  self->out_info = info;
  return TRUE;
}

/* The clock wait and the frame queue stop waiting (unlock) or wait
 * again (unlock_stop). */
static void
set_flushing (GstKlingGen * self, gboolean flushing)
{
  kling_clock_wait_set_flushing (&self->wait, flushing);
  if (self->queue)
    kling_frame_queue_set_flushing (self->queue, flushing);
}

static gboolean
gst_kling_gen_unlock (GstBaseSrc * src)
{
  set_flushing (GST_KLING_GEN (src), TRUE);
  return TRUE;
}

static gboolean
gst_kling_gen_unlock_stop (GstBaseSrc * src)
{
  set_flushing (GST_KLING_GEN (src), FALSE);
  return TRUE;
}

static gboolean
gst_kling_gen_query (GstBaseSrc * src, GstQuery * query)
{
  GstKlingGen *self = GST_KLING_GEN (src);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY && self->gm) {
    gboolean live = gst_base_src_is_live (src);
    /* slot 0 starts when the first frame is there, and each later frame
     * (or its repeat) goes out when its slot starts: one frame of latency,
     * as videotestsrc; a latency of the first chunk's generation would
     * hold each push that long in the sink, and the slots would be lost */
    gst_query_set_latency (query, live, live ? self->latency : 0,
        GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

/* Live: the next slot is due; slots that passed while downstream held us
 * up are dropped with their frames (a live source cannot go back). */
static gboolean
live_wait_next_slot (GstKlingGen * self)
{
  KlingPacer *p = &self->pacer;
  guint64 lost;

  if (!GST_CLOCK_TIME_IS_VALID (p->start))
    return TRUE;                /* the first frame goes out when it is there */
  if (!kling_clock_wait_until (&self->wait, GST_ELEMENT (self),
          kling_pacer_slot_time (p, p->next)))
    return FALSE;
  lost = kling_pacer_skip_late (p,
      kling_element_running_time_now (GST_ELEMENT (self)));
  if (lost > 0) {
    guint dropped = kling_frame_queue_drop (self->queue, MIN (lost,
            G_MAXUINT));

    GST_DEBUG_OBJECT (self, "%" G_GUINT64_FORMAT " slots late: dropped %u "
        "frames", lost, dropped);
    if (!self->warned_drop) {
      self->warned_drop = TRUE;
      GST_ELEMENT_WARNING (self, CORE, CLOCK, ("Downstream is slower than "
              "real time: dropping frames to keep timing"), ("%"
              G_GUINT64_FORMAT " frame slots passed while a frame was "
              "pushed", lost));
    }
  }
  return TRUE;
}

static GstFlowReturn
gst_kling_gen_create (GstPushSrc * src, GstBuffer ** outbuf)
{
  GstKlingGen *self = GST_KLING_GEN (src);
  KlingPacer *p = &self->pacer;
  gboolean live = gst_base_src_is_live (GST_BASE_SRC (src));
  GstBuffer *rgb = NULL, *buf;
  gboolean repeated = FALSE;
  gpointer item;

  if (kling_pacer_done (p))
    return GST_FLOW_EOS;
  if (live && !live_wait_next_slot (self))
    return GST_FLOW_FLUSHING;
  if (kling_pacer_done (p))
    return GST_FLOW_EOS;

  /* live and behind: a frame that is not there is a repeat, not a wait */
  switch (kling_frame_queue_pop (self->queue, !(live && self->last_frame),
          &item)) {
    case KLING_FRAME_OK:
      rgb = item;
      break;
    case KLING_FRAME_EMPTY:
      rgb = gst_buffer_ref (self->last_frame);
      repeated = TRUE;
      break;
    case KLING_FRAME_FLUSHING:
      return GST_FLOW_FLUSHING;
    case KLING_FRAME_DONE:{
      GError *error = kling_frame_queue_take_error (self->queue);

      if (error == NULL)
        return GST_FLOW_EOS;
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Generation failed: %s",
              error->message), ("model %s", self->gm->manifest->model));
      g_error_free (error);
      return GST_FLOW_ERROR;
    }
  }
  if (live && !GST_CLOCK_TIME_IS_VALID (p->start)) {
    /* slot 0 starts now, when the first frame is there */
    p->start = kling_element_running_time_now (GST_ELEMENT (self));
    if (!GST_CLOCK_TIME_IS_VALID (p->start))
      p->start = 0;
  }

  if (repeated && !self->warned_repeat) {
    self->warned_repeat = TRUE;
    GST_ELEMENT_WARNING (self, CORE, CLOCK, ("Generation is slower than real "
            "time: repeating frames to keep timing"), ("fewer steps, fewer "
            "frames or a faster device would keep up"));
  }
  if (!repeated)
    gst_buffer_replace (&self->last_frame, rgb);

  if (self->converter) {
    buf = gst_buffer_new_allocate (NULL, self->out_info.size, NULL);
    kling_element_convert_with (self->converter, &self->rgb_info, rgb,
        &self->out_info, buf);
    gst_buffer_unref (rgb);
  } else if (repeated) {
    /* RGB at the model's size: the generated frame goes out as it is */
    buf = gst_buffer_copy (rgb);
    gst_buffer_unref (rgb);
  } else {
    buf = rgb;
  }
  buf = gst_buffer_make_writable (buf);
  kling_element_stamp (buf, kling_pacer_slot_time (p, p->next),
      kling_pacer_slot_duration (p, p->next), p->next);
  if (repeated)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  p->next++;
  *outbuf = buf;
  return GST_FLOW_OK;
}
