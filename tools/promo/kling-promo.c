/* gst-kling: gst-kling-promo's stages, as pipelines
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * cut-out (kling-compose, as ketuposter) -> copy lines (kling-copywriter on
 * the photo) -> voice and word timings (klingspeak) -> a GES timeline: per
 * scene a clip (a poster by ketuposter animated by klinggen, generated when
 * GES first asks for its frames), overlapping the next by the fade and
 * cross-faded by GES keyframes on alpha, scaled to the output size by GES,
 * the end card and its title clip, the voice and the music mixed by GES ->
 * on the timeline's video pad the product's own pixels put back over every
 * frame (bit-exact where opaque) -> textoverlay (subtitles) -> x264enc,
 * voaacenc and the cues as a tx3g track -> mp4mux faststart=true into a
 * temporary file renamed at the end (and hlssink2 beside it with --hls).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <gst/controller/controller.h>
#include <ges/ges.h>

#include "kling-promo.h"
#include "kling-promo-feed.h"
#include "kling-compose.h"
#include "kling-copywriter.h"
#include "kling-detector.h"
#include "kling-manifest.h"

GST_DEBUG_CATEGORY_STATIC (promo_debug);
#define GST_CAT_DEFAULT promo_debug

#define AUDIO_RATE 44100
#define MUSIC_GAIN 0.25
#define CUTOUT_TOLERANCE 40
#define DETECT_MODEL_FILE "kling-detect-products.pt"
#define DETECT_IOU 0.45f
/* the poster ketuposter makes for klinggen's first frame: small, the
 * output's aspect */
#define POSTER_LONG_SIDE 256

typedef struct
{
  const KlingPromoOptions *o;
  KlingPromoProgress progress;
  gpointer user_data;
  GCancellable *cancellable;

  guint8 *photo;                /* RGBA */
  gint pw, ph;
  KlingCutout *cutout;
  KlingRect product, text_area;
  guint8 *product_rgba;         /* the cut-out at product's size */

  gint kind;                    /* for the copy and the scenes, -1: none */
  gboolean kind_detected;
  gdouble kind_score, kind_threshold;
  gchar *kind_note;
  GstVideoRectangle kind_box;   /* the detection, photo pixels */

  gchar **styles;
  gchar **copy;
  KlingPromoShot *shots;
  guint n_shots;
  guint64 total_frames, end_frames, fade_frames;

  gint16 *audio;                /* mono, AUDIO_RATE, total length */
  gsize n_samples;
  GPtrArray *cues;

  GESUriClipAsset *music;       /* --music, discovered by GES */
  GstClockTime music_duration;

  /* per shot: frames at the model's size, RGBA; generated in order, under
   * gen_lock, by whichever clip GES asks first (they play in threads of
   * their own) */
  GPtrArray **shot_frames;
  gint sw, sh;
  guint8 *card;                 /* the end card's picture, model's size */
  GMutex gen_lock;
  gint generated;               /* shots generated: written under gen_lock,
                                 * read atomically (the HLS check must not
                                 * wait for a shot being generated) */
  struct ShotFeed *feeds;
  gchar **timeline;             /* what the GES timeline holds, for the report */

  gint64 started;
  gdouble gen_seconds, compose_seconds;
  gdouble first_segment;
  guint shots_at_first_segment;
  gint frames_done;             /* frames through the product overlay */
} Promo;

/* ---------- running a pipeline into app sinks ---------- */

static gboolean
bus_check (Promo * p, GstElement * pipeline, const gchar * what,
    gboolean * eos, GError ** error)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gboolean ok = TRUE;

  while ((msg = gst_bus_pop_filtered (bus,
              GST_MESSAGE_ERROR | GST_MESSAGE_EOS))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      if (ok)
        g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
            "%s failed: %s (%s)", what, err->message,
            GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)));
      ok = FALSE;
      g_clear_error (&err);
      g_free (dbg);
    } else if (eos) {
      *eos = TRUE;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return ok;
}

typedef gboolean (*SampleFunc) (GstSample * sample, guint sink, gpointer data,
    GError ** error);

/* Plays @pipeline until every app sink in @sinks is at EOS, handing each
 * sample to @func.  Errors on the bus end it with @error naming @what. */
static gboolean
run_sinks (Promo * p, GstElement * pipeline, GstAppSink ** sinks,
    guint n_sinks, const gchar * what, SampleFunc func, gpointer data,
    GError ** error)
{
  gboolean ok = TRUE, eos = FALSE;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    if (bus_check (p, pipeline, what, NULL, error))
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
          "%s failed to start", what);
    ok = FALSE;
  }
  while (ok) {
    gboolean all_eos = TRUE, got = FALSE;
    guint i;

    for (i = 0; i < n_sinks && ok; i++) {
      GstSample *s;
      if (gst_app_sink_is_eos (sinks[i]))
        continue;
      all_eos = FALSE;
      s = gst_app_sink_try_pull_sample (sinks[i], 20 * GST_MSECOND);
      if (s) {
        got = TRUE;
        ok = func (s, i, data, error);
        gst_sample_unref (s);
      }
    }
    if (!ok)
      break;
    if (!bus_check (p, pipeline, what, &eos, error)) {
      ok = FALSE;
      break;
    }
    if (all_eos && !got)
      break;
    if (g_cancellable_set_error_if_cancelled (p->cancellable, error)) {
      ok = FALSE;
      break;
    }
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return ok;
}

static GstElement *
parse (const gchar * desc, const gchar * what, GError ** error)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);

  if (pipeline == NULL) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "%s: cannot build its pipeline: %s (is gst-kling installed, with "
        "GStreamer's base, good and ugly plugins?)", what, err->message);
    g_clear_error (&err);
  }
  return pipeline;
}

static GstAppSink *
get_sink (GstElement * pipeline, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);
  gst_object_unref (e);         /* the pipeline holds it */
  return GST_APP_SINK (e);
}

static void
set_by_name (GstElement * pipeline, const gchar * name, const gchar * prop, ...)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);
  va_list args;

  va_start (args, prop);
  g_object_set_valist (G_OBJECT (e), prop, args);
  va_end (args);
  gst_object_unref (e);
}

/* ---------- the photo and its cut-out ---------- */

typedef struct
{
  guint8 *pixels;
  gint width, height, bpp;
} Still;

static gboolean
take_still (GstSample * sample, guint sink, gpointer data, GError ** error)
{
  Still *still = data;
  GstVideoInfo info;
  GstVideoFrame frame;
  gint y;

  if (still->pixels)
    return TRUE;                /* the first frame only */
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
      !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ)) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
        "cannot read a decoded picture");
    return FALSE;
  }
  still->width = info.width;
  still->height = info.height;
  still->bpp = GST_VIDEO_INFO_COMP_PSTRIDE (&info, 0);
  still->pixels = g_malloc ((gsize) info.width * info.height * still->bpp);
  for (y = 0; y < info.height; y++)
    memcpy (still->pixels + (gsize) y * info.width * still->bpp,
        (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        (gsize) info.width * still->bpp);
  gst_video_frame_unmap (&frame);
  return TRUE;
}

static gboolean
load_still (Promo * p, const gchar * path, const gchar * format, Still * still,
    GError ** error)
{
  gchar *desc = g_strdup_printf ("filesrc name=src ! decodebin ! "
      "videoconvert ! video/x-raw,format=%s ! appsink name=sink sync=false",
      format);
  GstElement *pipeline = parse (desc, "reading the photo", error);
  GstAppSink *sink;
  GError *err = NULL;
  gboolean ok;

  g_free (desc);
  if (pipeline == NULL)
    return FALSE;
  set_by_name (pipeline, "src", "location", path, NULL);
  sink = get_sink (pipeline, "sink");
  ok = run_sinks (p, pipeline, &sink, 1, "reading the photo", take_still,
      still, &err);
  gst_object_unref (pipeline);
  if (ok && still->pixels == NULL) {
    g_set_error (&err, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
        "no picture in it");
    ok = FALSE;
  }
  if (!ok) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
        "%s is not a picture gst-kling-promo can read (PNG, JPEG, ...): %s",
        path, err->message);
    g_clear_error (&err);
    g_clear_pointer (&still->pixels, g_free);
  }
  return ok;
}

static gboolean
stage_cutout (Promo * p, GError ** error)
{
  static const gint rgb[3] = { 0, 1, 2 };
  Still photo = { 0 };
  GError *err = NULL;
  gboolean scaled;
  gint i;
  gboolean has_alpha = FALSE;

  if (!load_still (p, p->o->input, "RGBA", &photo, error))
    return FALSE;
  p->photo = photo.pixels;
  p->pw = photo.width;
  p->ph = photo.height;
  for (i = 0; i < p->pw * p->ph && !has_alpha; i++)
    has_alpha = p->photo[i * 4 + 3] != 255;

  if (p->o->mask) {
    Still mask = { 0 };
    if (!load_still (p, p->o->mask, "GRAY8", &mask, error))
      return FALSE;
    if (mask.width != p->pw || mask.height != p->ph) {
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
          "--mask %s is %dx%d but the photo is %dx%d: give a mask of the "
          "photo's size", p->o->mask, mask.width, mask.height, p->pw, p->ph);
      g_free (mask.pixels);
      return FALSE;
    }
    p->cutout = kling_cutout_from_mask (p->photo, (gsize) p->pw * 4, 4, rgb,
        mask.pixels, mask.width, p->pw, p->ph, &err);
    g_free (mask.pixels);
  } else if (has_alpha) {
    p->cutout = kling_cutout_from_alpha (p->photo, (gsize) p->pw * 4, p->pw,
        p->ph, &err);
  } else {
    p->cutout = kling_cutout_from_plain_background (p->photo,
        (gsize) p->pw * 4, 4, rgb, p->pw, p->ph, CUTOUT_TOLERANCE, &err);
  }
  if (p->cutout == NULL) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
        "no separable product in %s: %s; photograph it on a plain "
        "background, or give its mask with --mask", p->o->input,
        err ? err->message : "nothing is product");
    g_clear_error (&err);
    return FALSE;
  }

  kling_layout_place (KLING_LAYOUT_CENTER, p->o->width, p->o->height,
      p->cutout->width, p->cutout->height, 0.0, &p->product, &p->text_area,
      &scaled);
  if (scaled)
    p->product_rgba = kling_resample_rgba (p->cutout->rgba, p->cutout->width,
        p->cutout->height, p->product.w, p->product.h);
  else
    p->product_rgba = g_memdup2 (p->cutout->rgba,
        (gsize) p->cutout->width * p->cutout->height * 4);
  return TRUE;
}

/* ---------- the product's kind ---------- */

/* --kind, or the best detection of the detector (the shipped one unless
 * --detect-model) on the photo.  Nothing detected, or a label that is no
 * kind of ours, is no failure: the kind stays -1 and kind_note says why. */
static gboolean
stage_kind (Promo * p, GError ** error)
{
  KlingLoadOptions lo = { NULL, KLING_PRECISION_FLOAT32, p->o->threads };
  KlingDetector *det;
  const KlingManifest *m;
  gchar *path;
  KlingDetection best;
  GstVideoRectangle box;
  GError *err = NULL;
  gint n_classes;

  p->kind = p->o->kind;
  p->kind_score = -1;
  if (p->kind >= 0)
    return TRUE;
  path = p->o->detect_model ? g_strdup (p->o->detect_model) :
      kling_package_find_default (DETECT_MODEL_FILE);
  if (path == NULL) {
    p->kind_note = g_strdup ("the detector " DETECT_MODEL_FILE " is not "
        "installed");
    return TRUE;
  }
  det = kling_detector_load (path, &lo, FALSE, &err);
  if (det == NULL) {
    /* a detector asked for must load; the shipped one may be absent */
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "cannot load the detector %s: %s; give the product's kind with "
        "--kind", path, err->message);
    g_clear_error (&err);
    g_free (path);
    return FALSE;
  }
  m = kling_detector_get_manifest (det);
  n_classes = m->labels ? g_strv_length (m->labels) : 0;
  p->kind_threshold = kling_manifest_get_double (m, "defaults.threshold",
      KLING_PROMO_DETECT_THRESHOLD);
  if (!kling_detector_find_best (det, p->photo, p->pw, p->ph, 0, DETECT_IOU,
          &best, &box, p->cancellable, &err)) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "the detector %s failed on %s: %s; give the product's kind with "
        "--kind", path, p->o->input, err->message);
    g_clear_error (&err);
    kling_detector_free (det);
    g_free (path);
    return FALSE;
  }
  if (best.label >= 0)
    p->kind_score = best.score;
  if (best.label < 0 || p->kind_score < p->kind_threshold) {
    p->kind_note = best.label < 0 ?
        g_strdup_printf ("nothing detected in %s", p->o->input) :
        g_strdup_printf ("the detector's best guess scores %.2f, under its "
        "threshold %.2f", p->kind_score, p->kind_threshold);
  } else {
    gint label = best.label;
    const gchar *name = label >= 0 && label < n_classes ? m->labels[label] :
        NULL;
    p->kind = kling_promo_kind_from_name (name);
    if (p->kind < 0)
      p->kind_note = g_strdup_printf ("the detector found a '%s', not a "
          "kind gst-kling-promo knows", name ? name : "?");
    else {
      p->kind_detected = TRUE;
      p->kind_box = box;
    }
  }
  kling_detector_free (det);
  g_free (path);
  return TRUE;
}

/* ---------- copy lines ---------- */

static gboolean
stage_copy (Promo * p, GError ** error)
{
  KlingLoadOptions lo = { NULL, KLING_PRECISION_FLOAT32, p->o->threads };
  KlingCopywriter *cw;
  gchar *path;
  GstVideoRectangle box = { 0, 0, p->pw, p->ph };
  GError *err = NULL;

  if (p->o->copy) {
    p->copy = g_strdupv (p->o->copy);
    return TRUE;
  }
  path = p->o->copy_model ? g_strdup (p->o->copy_model) :
      kling_package_find_default ("kling-copywrite.pt");
  if (path == NULL) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "the default copywriter kling-copywrite.pt is not installed: give "
        "--copy-model FILE or the lines with --copy");
    return FALSE;
  }
  cw = kling_copywriter_load (path, &lo, &err);
  if (cw == NULL) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "cannot load the copywriter %s: %s", path, err->message);
    g_clear_error (&err);
    g_free (path);
    return FALSE;
  }
  g_free (path);

  /* the copywriter sees the product as aiproductdetect shows it, its
   * detected box; without a detection, the whole photo */
  if (p->kind_detected)
    box = p->kind_box;
  p->copy = kling_copywriter_write_lines (cw, p->photo, p->pw, p->ph, &box,
      p->kind < 0 ? 0 : p->kind, p->o->lang == KLING_PROMO_LANG_EN ? 1 : 0,
      (guint32) p->o->seed, p->n_shots, p->cancellable, &err);
  kling_copywriter_free (cw);
  if (p->copy == NULL) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "the copywriter wrote no line: %s; give the lines with --copy",
        err->message);
    g_clear_error (&err);
    return FALSE;
  }
  return TRUE;
}

/* ---------- voice, words and music ---------- */

typedef struct
{
  Promo *p;
  GArray *words;                /* KlingPromoWord, text owned */
  gsize pos;
} VoiceData;

static GstClockTime
frames_to_time (guint64 frames)
{
  return gst_util_uint64_scale (frames, GST_SECOND, KLING_PROMO_FPS);
}

static gboolean
take_audio (GstSample * sample, guint sink, gpointer data, GError ** error)
{
  VoiceData *v = data;
  Promo *p = v->p;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;

  if (sink == 1) {
    KlingPromoWord w;
    if (!gst_buffer_map (buf, &map, GST_MAP_READ))
      return TRUE;
    w.text = g_strndup ((const gchar *) map.data, map.size);
    w.start = GST_BUFFER_PTS (buf);
    w.duration = GST_BUFFER_DURATION_IS_VALID (buf) ?
        GST_BUFFER_DURATION (buf) : 0;
    gst_buffer_unmap (buf, &map);
    if (GST_CLOCK_TIME_IS_VALID (w.start))
      g_array_append_val (v->words, w);
    else
      g_free ((gchar *) w.text);
    return TRUE;
  }

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return TRUE;
  {
    const gint16 *in = (const gint16 *) map.data;
    gsize n = map.size / 2, i, at;

    GstClockTime pts = GST_BUFFER_PTS (buf);
    at = GST_CLOCK_TIME_IS_VALID (pts) ?
        gst_util_uint64_scale (pts, AUDIO_RATE, GST_SECOND) : v->pos;
    for (i = 0; i < n && at + i < p->n_samples; i++)
      p->audio[at + i] = in[i];
    v->pos = at + n;
  }
  gst_buffer_unmap (buf, &map);
  return TRUE;
}

static gboolean
stage_voice (Promo * p, GError ** error)
{
  GstElement *pipeline;
  GstAppSink *sinks[2];
  GstAppSrc *src;
  VoiceData v = { p, g_array_new (FALSE, FALSE, sizeof (KlingPromoWord)), 0 };
  GstCaps *caps;
  gboolean ok;
  guint i;
  gchar *desc;

  p->n_samples = gst_util_uint64_scale (frames_to_time (p->total_frames),
      AUDIO_RATE, GST_SECOND);
  p->audio = g_new0 (gint16, p->n_samples);

  desc = g_strdup_printf ("appsrc name=src format=time ! klingspeak name=s "
      "language=%s ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,"
      "rate=%d,channels=1 ! appsink name=a sync=false  "
      "s.words ! appsink name=w sync=false",
      p->o->lang == KLING_PROMO_LANG_EN ? "en" : "zh", AUDIO_RATE);
  pipeline = parse (desc, "the voice-over (klingspeak)", error);
  g_free (desc);
  if (pipeline == NULL)
    return FALSE;
  if (p->o->speech_model)
    set_by_name (pipeline, "s", "model", p->o->speech_model, NULL);
  src = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (pipeline), "src"));
  caps = gst_caps_from_string ("text/x-raw,format=utf8");
  gst_app_src_set_caps (src, caps);
  gst_caps_unref (caps);
  /* each line is spoken as its shot starts (or after the previous one) */
  for (i = 0; p->copy[i]; i++) {
    gsize len = strlen (p->copy[i]);
    GstBuffer *b = gst_buffer_new_memdup (p->copy[i], len);
    guint shot = MIN (i, p->n_shots - 1);
    GST_BUFFER_PTS (b) = frames_to_time (p->shots[shot].start) +
        (i > 0 ? 0 : 200 * GST_MSECOND);
    gst_app_src_push_buffer (src, b);
  }
  gst_app_src_end_of_stream (src);
  gst_object_unref (src);
  sinks[0] = get_sink (pipeline, "a");
  sinks[1] = get_sink (pipeline, "w");
  ok = run_sinks (p, pipeline, sinks, 2, "the voice-over (klingspeak)",
      take_audio, &v, error);
  gst_object_unref (pipeline);

  if (ok) {
    GstClockTime end = frames_to_time (p->total_frames - p->end_frames);
    p->cues = kling_promo_cues_from_words (p->copy,
        (KlingPromoWord *) v.words->data, v.words->len);
    /* subtitles stop where the end card starts */
    for (i = 0; i < p->cues->len; i++) {
      KlingPromoCue *c = g_ptr_array_index (p->cues, i);
      if (c->start >= end) {
        g_ptr_array_remove_range (p->cues, i, p->cues->len - i);
        break;
      }
      if (c->end > end)
        c->end = end;
      if (i + 1 < p->cues->len) {
        KlingPromoCue *n = g_ptr_array_index (p->cues, i + 1);
        if (c->end > n->start)
          c->end = n->start;
      }
    }
    if (p->cues->len == 0) {
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
          "the voice-over gave no word timings for the copy: no subtitle "
          "could be timed");
      ok = FALSE;
    }
  }
  for (i = 0; i < v.words->len; i++)
    g_free ((gchar *) g_array_index (v.words, KlingPromoWord, i).text);
  g_array_free (v.words, TRUE);
  return ok;
}

/* --music: GES discovers it now (a file it cannot play fails before any
 * frame is made); its timeline mixes it under the voice */
static gboolean
load_music (Promo * p, GError ** error)
{
  GError *err = NULL;
  gchar *uri;

  if (p->o->music == NULL)
    return TRUE;
  uri = gst_filename_to_uri (p->o->music, &err);
  if (uri)
    p->music = ges_uri_clip_asset_request_sync (uri, &err);
  g_free (uri);
  if (p->music == NULL) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
        "--music %s cannot be played: %s", p->o->music,
        err ? err->message : "GES cannot read it");
    g_clear_error (&err);
    return FALSE;
  }
  p->music_duration = ges_uri_clip_asset_get_duration (p->music);
  if (!(ges_clip_asset_get_supported_formats (GES_CLIP_ASSET (p->music)) &
          GES_TRACK_TYPE_AUDIO) || !GST_CLOCK_TIME_IS_VALID (p->music_duration)
      || p->music_duration < GST_MSECOND) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
        "--music %s holds no sound", p->o->music);
    return FALSE;
  }
  return TRUE;
}

/* ---------- shots ---------- */

typedef struct
{
  Promo *p;
  GPtrArray *frames;
} ShotData;

static gboolean
take_frame (GstSample * sample, guint sink, gpointer data, GError ** error)
{
  ShotData *d = data;
  GstVideoInfo info;
  GstVideoFrame frame;
  guint8 *px;
  gint y;

  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
      !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ))
    return TRUE;
  d->p->sw = info.width;
  d->p->sh = info.height;
  px = g_malloc ((gsize) info.width * info.height * 4);
  for (y = 0; y < info.height; y++)
    memcpy (px + (gsize) y * info.width * 4,
        (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        (gsize) info.width * 4);
  gst_video_frame_unmap (&frame);
  g_ptr_array_add (d->frames, px);
  return TRUE;
}

static gboolean
make_shot (Promo * p, guint i, GError ** error)
{
  gint pw, ph;
  gchar *desc;
  GstElement *pipeline;
  GstAppSink *sink;
  ShotData d = { p, g_ptr_array_new_with_free_func (g_free) };
  gboolean ok;
  gchar *what = g_strdup_printf ("shot %u (\"%s\": ketuposter, klinggen)",
      i + 1, p->styles[i]);

  if (p->o->width >= p->o->height) {
    pw = POSTER_LONG_SIDE;
    ph = MAX (16, POSTER_LONG_SIDE * p->o->height / p->o->width);
  } else {
    ph = POSTER_LONG_SIDE;
    pw = MAX (16, POSTER_LONG_SIDE * p->o->width / p->o->height);
  }
  /* ketuposter gets the cut-out (alpha: the product), not the photo: so
   * it places the same product whichever way it was cut out (--mask) */
  desc = g_strdup_printf ("appsrc name=src format=time ! videoconvert ! "
      "ketuposter name=poster variants=1 width=%d height=%d ! videoconvert ! "
      "kg.image  klinggen name=kg duration=%f ! videoconvert ! "
      "video/x-raw,format=RGBA ! appsink name=sink sync=false", pw, ph,
      (gdouble) p->shots[i].frames / KLING_PROMO_FPS);
  pipeline = parse (desc, what, error);
  g_free (desc);
  if (pipeline == NULL) {
    g_free (what);
    g_ptr_array_free (d.frames, TRUE);
    return FALSE;
  }
  {
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
    gsize n = (gsize) p->cutout->width * p->cutout->height * 4;
    GstCaps *caps = gst_caps_new_simple ("video/x-raw", "format",
        G_TYPE_STRING, "RGBA", "width", G_TYPE_INT, p->cutout->width,
        "height", G_TYPE_INT, p->cutout->height, "framerate",
        GST_TYPE_FRACTION, 0, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1,
        1, NULL);
    GstBuffer *b = gst_buffer_new_memdup (p->cutout->rgba, n);

    GST_BUFFER_PTS (b) = 0;
    g_object_set (src, "caps", caps, NULL);
    gst_caps_unref (caps);
    gst_app_src_push_buffer (GST_APP_SRC (src), b);
    gst_app_src_end_of_stream (GST_APP_SRC (src));
    gst_object_unref (src);
  }
  set_by_name (pipeline, "poster", "prompt", p->styles[i], "seed",
      (guint64) (p->o->seed + i), NULL);
  set_by_name (pipeline, "kg", "prompt", p->styles[i], "seed",
      (guint64) (p->o->seed + i), "threads", p->o->threads, NULL);
  if (p->o->poster_model)
    set_by_name (pipeline, "poster", "model", p->o->poster_model, NULL);
  if (p->o->video_model)
    set_by_name (pipeline, "kg", "model", p->o->video_model, NULL);
  sink = get_sink (pipeline, "sink");
  ok = run_sinks (p, pipeline, &sink, 1, what, take_frame, &d, error);
  gst_object_unref (pipeline);
  if (ok && d.frames->len == 0) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "%s made no frame", what);
    ok = FALSE;
  }
  g_free (what);
  if (!ok) {
    g_ptr_array_free (d.frames, TRUE);
    return FALSE;
  }
  p->shot_frames[i] = d.frames;
  return TRUE;
}

/* ---------- the timeline's content, as GES asks for it ---------- */

typedef struct ShotFeed
{
  Promo *p;
  guint shot;                   /* the shot, or n_shots: the end card */
} ShotFeed;

/* Generates every shot up to @i (in order, so the report's count of shots
 * generated holds), once; the end card's picture with the last one. */
static gboolean
ensure_generated (Promo * p, guint i, GError ** error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&p->gen_lock);
  while (ok && (guint) g_atomic_int_get (&p->generated) <= i) {
    gint64 t0 = g_get_monotonic_time ();
    ok = make_shot (p, g_atomic_int_get (&p->generated), error);
    p->gen_seconds += (g_get_monotonic_time () - t0) / 1e6;
    if (ok) {
      g_atomic_int_inc (&p->generated);
      GST_INFO ("shot %d of %u generated", g_atomic_int_get (&p->generated),
          p->n_shots);
    }
  }
  if (ok && (guint) p->generated == p->n_shots && p->card == NULL) {
    /* the last scene's last picture, darker so the name and price read */
    GPtrArray *last = p->shot_frames[p->n_shots - 1];
    gsize j, n = (gsize) p->sw * p->sh * 4;
    p->card = g_memdup2 (last->pdata[last->len - 1], n);
    for (j = 0; j < n; j++)
      if (j % 4 != 3)
        p->card[j] = p->card[j] * 2 / 5;
  }
  g_mutex_unlock (&p->gen_lock);
  return ok;
}

/* the scene picture of output frame @f in shot @i, at the model's size */
static const guint8 *
shot_picture (Promo * p, guint i, guint64 f)
{
  GPtrArray *fr = p->shot_frames[i];
  guint64 local = f - p->shots[i].start;
  guint64 k = local * fr->len / p->shots[i].frames;

  return fr->pdata[MIN (k, (guint64) fr->len - 1)];
}

/* one picture per output frame, at the model's size: GES scales it */
static GstBuffer *
feed_shot (GstClockTime position, GstCaps ** caps, gpointer data,
    GError ** error)
{
  ShotFeed *feed = data;
  Promo *p = feed->p;
  gboolean card = feed->shot == p->n_shots;
  guint64 k = gst_util_uint64_scale_round (position, KLING_PROMO_FPS,
      GST_SECOND);
  guint64 frames = card ? p->end_frames : p->shots[feed->shot].frames;
  const guint8 *picture;
  gsize n;
  GstBuffer *buf;

  if (k >= frames)
    return NULL;
  if (!ensure_generated (p, card ? p->n_shots - 1 : feed->shot, error))
    return NULL;
  picture = card ? p->card :
      shot_picture (p, feed->shot, p->shots[feed->shot].start + k);
  n = (gsize) p->sw * p->sh * 4;
  /* the pictures stay in p until the pipeline is gone */
  buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      (gpointer) picture, n, 0, n, NULL, NULL);
  GST_BUFFER_PTS (buf) = frames_to_time (k);
  GST_BUFFER_DURATION (buf) = frames_to_time (k + 1) - frames_to_time (k);
  *caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
      "RGBA", "width", G_TYPE_INT, p->sw, "height", G_TYPE_INT, p->sh,
      "framerate", GST_TYPE_FRACTION, KLING_PROMO_FPS, 1,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  return buf;
}

#define VOICE_CHUNK 1024

static GstBuffer *
feed_voice (GstClockTime position, GstCaps ** caps, gpointer data,
    GError ** error)
{
  Promo *p = data;
  guint64 at = gst_util_uint64_scale_round (position, AUDIO_RATE, GST_SECOND);
  gsize n;
  GstBuffer *buf;

  if (at >= p->n_samples)
    return NULL;
  n = MIN (VOICE_CHUNK, p->n_samples - at);
  buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      p->audio + at, n * 2, 0, n * 2, NULL, NULL);
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (at, GST_SECOND, AUDIO_RATE);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (at + n, GST_SECOND,
      AUDIO_RATE) - GST_BUFFER_PTS (buf);
  *caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING,
      "S16LE", "layout", G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT,
      AUDIO_RATE, "channels", G_TYPE_INT, 1, NULL);
  return buf;
}

/* ---------- the GES timeline ---------- */

static gboolean
add_clip (GESLayer * layer, GESClip * clip, const gchar * name,
    GstClockTime start, GstClockTime duration, GError ** error)
{
  GESTimelineElement *e = GES_TIMELINE_ELEMENT (clip);

  gst_object_ref_sink (clip);
  if (name)
    ges_timeline_element_set_name (e, name);
  ges_timeline_element_set_start (e, start);
  ges_timeline_element_set_duration (e, duration);
  if (!ges_layer_add_clip (layer, clip)) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "the GES timeline refused its clip %s", name ? name : "(music)");
    gst_object_unref (clip);
    return FALSE;
  }
  gst_object_unref (clip);
  return TRUE;
}

/* @clip's video track element, or NULL */
static GESTrackElement *
video_element (GESClip * clip)
{
  GList *found = ges_clip_find_track_elements (clip, NULL,
      GES_TRACK_TYPE_VIDEO, G_TYPE_NONE);
  GESTrackElement *e = found ? gst_object_ref (found->data) : NULL;

  g_list_free_full (found, gst_object_unref);
  return e;
}

/* ", alpha 0.06 at 5.000 s, 1.00 at 5.500 s": the keyframes GES holds on
 * the clip's alpha (timeline time), or NULL */
static GString *
describe_alpha (GESClip * clip, GstClockTime start)
{
  GESTrackElement *e = video_element (clip);
  GstControlBinding *binding = e ?
      ges_track_element_get_control_binding (e, "alpha") : NULL;
  GstControlSource *cs = NULL;
  GString *s = NULL;

  if (binding)
    g_object_get (binding, "control-source", &cs, NULL);
  if (GST_IS_TIMED_VALUE_CONTROL_SOURCE (cs)) {
    GList *points = gst_timed_value_control_source_get_all
        (GST_TIMED_VALUE_CONTROL_SOURCE (cs)), *k;
    s = g_string_new (", alpha");
    for (k = points; k; k = k->next) {
      GstTimedValue *v = k->data;
      g_string_append_printf (s, "%s %.2f at %.3f s", k == points ? "" : ",",
          v->value, (start + v->timestamp) / 1e9);
    }
    g_list_free (points);
  }
  gst_clear_object (&cs);
  gst_clear_object (&e);
  return s;
}

/* What the timeline holds, one line a clip, for the report: that GES, not
 * the program, does the cuts and the fades. */
static gchar **
describe_timeline (GESTimeline * timeline)
{
  GPtrArray *lines = g_ptr_array_new ();
  GList *layers = ges_timeline_get_layers (timeline), *l, *c;

  for (l = layers; l; l = l->next) {
    GList *clips = ges_layer_get_clips (l->data);
    guint prio = ges_layer_get_priority (l->data);
    for (c = clips; c; c = c->next) {
      GESTimelineElement *e = c->data;
      GstClockTime start = ges_timeline_element_get_start (e);
      GstClockTime end = start + ges_timeline_element_get_duration (e);
      GString *fades = describe_alpha (GES_CLIP (e), start);
      gchar *what;
      if (GES_IS_URI_CLIP (e)) {
        what = g_strdup_printf ("music (volume %.2f)", MUSIC_GAIN);
      } else {
        what = g_strdup (ges_timeline_element_get_name (e));
      }
      g_ptr_array_add (lines, g_strdup_printf ("layer %u: %s %s, %.3f-%.3f "
              "s%s", prio, G_OBJECT_TYPE_NAME (e), what, start / 1e9,
              end / 1e9, fades ? fades->str : ""));
      g_free (what);
      if (fades)
        g_string_free (fades, TRUE);
    }
    g_list_free_full (clips, gst_object_unref);
  }
  g_list_free_full (layers, gst_object_unref);
  g_ptr_array_add (lines, NULL);
  return (gchar **) g_ptr_array_free (lines, FALSE);
}

/* Shot @i's cross-fades, as keyframes GES puts on its alpha (the
 * framepositioner's, which GES's compositor applies): the next shot's
 * weight in fade frame k is (k + 1) / (fade + 1), as before GES.  Only the
 * shots on the upper layer fade: in over the shot before, out over the one
 * after. */
static gboolean
fade_shot (Promo * p, GESClip * clip, guint i)
{
  GESTrackElement *e = video_element (clip);
  GstControlSource *cs = gst_interpolation_control_source_new ();
  GstTimedValueControlSource *points = GST_TIMED_VALUE_CONTROL_SOURCE (cs);
  guint64 fade = p->fade_frames, frames = p->shots[i].frames;
  /* GES moves the first and last keyframes to the clip's ends (its
   * auto-clamp), so both ends get one */
  GstClockTime end = ges_timeline_element_get_duration
      (GES_TIMELINE_ELEMENT (clip));
  gboolean ok;

  g_object_set (cs, "mode", GST_INTERPOLATION_MODE_LINEAR, NULL);
  if (i > 0) {
    gst_timed_value_control_source_set (points, 0, 1.0 / (fade + 1));
    gst_timed_value_control_source_set (points, frames_to_time (fade), 1.0);
  } else {
    gst_timed_value_control_source_set (points, 0, 1.0);
  }
  if (i + 1 < p->n_shots) {
    gst_timed_value_control_source_set (points,
        frames_to_time (frames - fade - 1), 1.0);
    gst_timed_value_control_source_set (points, end, 0.0);
  } else {
    gst_timed_value_control_source_set (points, end, 1.0);
  }
  ok = e && ges_track_element_set_control_source (e, cs, "alpha", "direct");
  gst_object_unref (cs);
  gst_clear_object (&e);
  return ok;
}

/* Layer 0: the end card's title (name, price).  Layers 1 and 2: the
 * shots, by turns, each overlapping the next by the fade, the upper one
 * fading (fade_shot), then the end card; GES scales them to the output
 * size (the video track's caps) and blends them.  Layers 3 and 4: the
 * voice, and the music at MUSIC_GAIN, looped; GES mixes them.
 *
 * GES's own cross-fade (a GESTransitionClip, the auto-transition of two
 * overlapping clips in one layer) is not used: in 1.22 its blend weighs
 * the outgoing shot by (1 - t)^2 instead of 1 - t (its compositor's "add"
 * operator over the "source" pad does not normalise), so the middle frame
 * came out a quarter darker (measured: 132,178,189 between 44,255,247 and
 * 255,225,248). */
static GESTimeline *
build_timeline (Promo * p, GError ** error)
{
  /* ours until the pipeline holds it */
  GESTimeline *timeline = gst_object_ref_sink (ges_timeline_new ());
  GESTrack *video = GES_TRACK (ges_video_track_new ());
  GESTrack *audio = GES_TRACK (ges_audio_track_new ());
  GESLayer *titles, *shots[2], *voice, *music;
  GstCaps *caps;
  GstClockTime content = frames_to_time (p->total_frames - p->end_frames);
  GstClockTime total = frames_to_time (p->total_frames);
  gboolean ok = TRUE;
  guint i;

  caps = gst_caps_new_simple ("video/x-raw",
      "width", G_TYPE_INT, p->o->width, "height", G_TYPE_INT, p->o->height,
      "framerate", GST_TYPE_FRACTION, KLING_PROMO_FPS, 1,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  ges_track_set_restriction_caps (video, caps);
  gst_caps_unref (caps);
  caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING,
      "S16LE", "layout", G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT,
      AUDIO_RATE, "channels", G_TYPE_INT, 1, NULL);
  ges_track_set_restriction_caps (audio, caps);
  gst_caps_unref (caps);
  if (!ges_timeline_add_track (timeline, video)
      || !ges_timeline_add_track (timeline, audio)) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "the GES timeline refused its tracks");
    gst_object_unref (timeline);
    return NULL;
  }
  titles = ges_timeline_append_layer (timeline);
  shots[0] = ges_timeline_append_layer (timeline);
  shots[1] = ges_timeline_append_layer (timeline);
  voice = ges_timeline_append_layer (timeline);
  music = ges_timeline_append_layer (timeline);

  p->feeds = g_new0 (ShotFeed, p->n_shots + 1);
  for (i = 0; ok && i <= p->n_shots; i++) {
    gboolean card = i == p->n_shots;
    gchar *name = card ? g_strdup ("end-card") :
        g_strdup_printf ("shot-%u", i + 1);
    p->feeds[i].p = p;
    p->feeds[i].shot = i;
    GESClip *clip = GES_CLIP (kling_feed_clip_new (GES_TRACK_TYPE_VIDEO,
            feed_shot, &p->feeds[i]));
    /* the end card follows the last shot without a fade: under it */
    ok = add_clip (shots[card ? 1 : i % 2], clip, name,
        card ? content : frames_to_time (p->shots[i].start),
        card ? total - content : frames_to_time (p->shots[i].start +
            p->shots[i].frames) - frames_to_time (p->shots[i].start), error);
    /* the whole frame: the model's square scene stretched, as before GES
     * (its framepositioner would otherwise keep the scene's own size) */
    if (ok)
      ges_timeline_element_set_child_properties (GES_TIMELINE_ELEMENT (clip),
          "posx", 0, "posy", 0, "width", p->o->width, "height",
          p->o->height, NULL);
    if (ok && !card && i % 2 == 0 && p->n_shots > 1 && !fade_shot (p, clip,
            i)) {
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
          "GES refused the keyframes of %s's cross-fade", name);
      ok = FALSE;
    }
    g_free (name);
  }
  if (ok && (p->o->name || p->o->price)) {
    /* in the upper part of the band above the product, over the card; a
     * transparent ground, so the darkened scene shows through */
    gint font = MAX (8, MIN (p->o->width, p->o->height) / 40) * 3 / 2;
    gchar *text = g_strdup_printf ("%s%s%s", p->o->name ? p->o->name : "",
        p->o->name && p->o->price ? "\n" : "",
        p->o->price ? p->o->price : "");
    gchar *font_desc = g_strdup_printf ("Sans Bold %d", font);
    GESClip *title = GES_CLIP (ges_title_clip_new ());
    ok = add_clip (titles, title, "title", content, total - content, error);
    if (ok)
      ges_timeline_element_set_child_properties (GES_TIMELINE_ELEMENT
          (title), "text", text, "font-desc", font_desc, "valignment",
          GES_TEXT_VALIGN_POSITION, "halignment", GES_TEXT_HALIGN_CENTER,
          "ypos", (p->text_area.y + p->text_area.h / 3.0) / p->o->height,
          "foreground-color", (guint) 0x00000000, NULL);
    g_free (font_desc);
    g_free (text);
  }
  if (ok)
    ok = add_clip (voice, GES_CLIP (kling_feed_clip_new (GES_TRACK_TYPE_AUDIO,
                feed_voice, p)), "voice", 0, total, error);
  for (i = 0; ok && p->music && (GstClockTime) i * p->music_duration < total;
      i++) {
    GstClockTime start = i * p->music_duration;
    GESClip *clip = ges_layer_add_asset (music, GES_ASSET (p->music), start,
        0, MIN (p->music_duration, total - start), GES_TRACK_TYPE_AUDIO);
    if (clip == NULL) {
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
          "the GES timeline refused --music %s", p->o->music);
      ok = FALSE;
    } else {
      ges_timeline_element_set_child_properties (GES_TIMELINE_ELEMENT (clip),
          "volume", MUSIC_GAIN, NULL);
    }
  }
  if (ok && !ges_timeline_commit (timeline)) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "the GES timeline could not be committed");
    ok = FALSE;
  }
  if (!ok) {
    gst_object_unref (timeline);
    return NULL;
  }
  p->timeline = describe_timeline (timeline);
  for (i = 0; p->timeline[i]; i++)
    GST_INFO ("GES timeline: %s", p->timeline[i]);
  return timeline;
}

/* ---------- the product, and encoding ---------- */

static void
write_ppm (const gchar * dir, guint64 f, const guint8 * rgba, gint stride,
    gint w, gint h)
{
  gchar *name = g_strdup_printf ("%s/frame-%05" G_GUINT64_FORMAT ".ppm", dir,
      f);
  gchar *head = g_strdup_printf ("P6\n%d %d\n255\n", w, h);
  gsize hl = strlen (head);
  guint8 *data = g_malloc (hl + (gsize) w * h * 3);
  gint x, y;

  memcpy (data, head, hl);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      memcpy (data + hl + ((gsize) y * w + x) * 3,
          rgba + (gsize) y * stride + x * 4, 3);
  g_file_set_contents (name, (const gchar *) data, hl + (gsize) w * h * 3,
      NULL);
  g_free (data);
  g_free (head);
  g_free (name);
}

/* --dump-frames: every 15th frame, and the middle of every cross-fade (a
 * blend of two shots, for the tests) */
static gboolean
dump_this_frame (Promo * p, guint64 f)
{
  guint i;

  if (f % 15 == 0)
    return TRUE;
  for (i = 1; i < p->n_shots; i++)
    if (f == p->shots[i].start + p->fade_frames / 2)
      return TRUE;
  return FALSE;
}

/* On the timeline's video, after GES's scaling and fades: the ground
 * shadow, then the product's own pixels (bit-exact where opaque).  GES
 * cannot do this part: its compositor would scale or blend the product. */
static GstPadProbeReturn
put_product_back (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Promo *p = data;
  GstBuffer *buf = gst_pad_probe_info_get_buffer (info);
  GstVideoInfo vinfo;
  GstVideoFrame frame;
  GstCaps *caps;
  gint64 t0 = g_get_monotonic_time ();
  guint64 f;
  guint8 *px;
  gint stride;

  if (buf == NULL)
    return GST_PAD_PROBE_OK;
  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL || !gst_video_info_from_caps (&vinfo, caps)) {
    gst_clear_caps (&caps);
    return GST_PAD_PROBE_OK;
  }
  gst_caps_unref (caps);
  buf = gst_buffer_make_writable (buf);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  if (!gst_video_frame_map (&frame, &vinfo, buf, GST_MAP_READWRITE))
    return GST_PAD_PROBE_OK;
  px = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  kling_draw_ground_shadow (px, stride, p->o->width, p->o->height,
      &p->product);
  kling_composite_over (px, stride, p->o->width, p->o->height,
      p->product_rgba, &p->product);
  p->compose_seconds += (g_get_monotonic_time () - t0) / 1e6;
  f = gst_util_uint64_scale_round (GST_BUFFER_PTS (buf), KLING_PROMO_FPS,
      GST_SECOND);
  GST_LOG ("frame %" G_GUINT64_FORMAT " at %" GST_TIME_FORMAT
      ", the product put back", f, GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
  if (p->o->dump_dir && dump_this_frame (p, f))
    write_ppm (p->o->dump_dir, f, px, stride, p->o->width, p->o->height);
  gst_video_frame_unmap (&frame);
  g_atomic_int_inc (&p->frames_done);
  return GST_PAD_PROBE_OK;
}

/* nlecomposition starts a new segment at every change of its stack (each
 * fade's start and end); x264enc's B-frames then come out after the next
 * segment event, and mp4mux drops the ones before its start (two frames a
 * change).  The timeline's running time is its PTS throughout, so one open
 * segment stands for all of them.  (In that one segment, videorate then
 * puts the frames back on the 30 fps grid: the compositor counts its frames
 * from each stack's start, a time rounded to the nanosecond, and so can
 * end a stack with one frame 1 ns before the next stack's first.) */
static GstPadProbeReturn
one_segment (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  gboolean *sent = data;
  GstEvent *event = gst_pad_probe_info_get_event (info);
  const GstSegment *seg;
  GstSegment open;
  GstEvent *replaced;

  if (event == NULL || GST_EVENT_TYPE (event) != GST_EVENT_SEGMENT)
    return GST_PAD_PROBE_OK;
  gst_event_parse_segment (event, &seg);
  if (seg->format != GST_FORMAT_TIME || seg->rate != 1.0
      || seg->base != seg->start || seg->time != seg->start)
    return GST_PAD_PROBE_OK;    /* not the timeline's plain playback */
  if (*sent)
    return GST_PAD_PROBE_DROP;
  gst_segment_init (&open, GST_FORMAT_TIME);
  replaced = gst_event_new_segment (&open);
  gst_event_set_seqnum (replaced, gst_event_get_seqnum (event));
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = replaced;
  *sent = TRUE;
  return GST_PAD_PROBE_OK;
}

static void
push_text (GstAppSrc * src, const gchar * text, GstClockTime start,
    GstClockTime end)
{
  GstBuffer *b = gst_buffer_new_memdup (text, strlen (text));
  GST_BUFFER_PTS (b) = start;
  GST_BUFFER_DURATION (b) = end - start;
  gst_app_src_push_buffer (src, b);
}

static GstAppSrc *
get_src (GstElement * pipeline, const gchar * name, const gchar * caps_str)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstCaps *caps = gst_caps_from_string (caps_str);

  g_object_set (e, "format", GST_FORMAT_TIME, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_object_unref (e);
  return GST_APP_SRC (e);
}

/* the timeline's pad for @track into @name's sink pad; with @segment_sent,
 * its segments made one */
static gboolean
link_track (GstElement * pipeline, GESTimeline * timeline, GESTrack * track,
    const gchar * name, gboolean * segment_sent)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *src = ges_timeline_get_pad_for_track (timeline, track);
  GstPad *sink = gst_element_get_static_pad (e, "sink");
  gboolean ok = src && sink && gst_pad_link (src, sink) == GST_PAD_LINK_OK;

  if (ok && segment_sent)
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, one_segment,
        segment_sent, NULL);

  gst_clear_object (&sink);
  gst_object_unref (e);
  return ok;
}

static void
write_layout (Promo * p)
{
  gchar *lp = g_build_filename (p->o->dump_dir, "layout.txt", NULL);
  GString *s = g_string_new (NULL);
  guint i;

  g_string_append_printf (s, "product %d %d %d %d\nframes %" G_GUINT64_FORMAT
      "\nshots", p->product.x, p->product.y, p->product.w, p->product.h,
      p->total_frames);
  for (i = 0; i < p->n_shots; i++)
    g_string_append_printf (s, " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
        p->shots[i].start, p->shots[i].frames);
  g_string_append_printf (s, "\nend %" G_GUINT64_FORMAT "\nfade %"
      G_GUINT64_FORMAT "\n", p->total_frames - p->end_frames, p->fade_frames);
  g_file_set_contents (lp, s->str, -1, NULL);
  g_string_free (s, TRUE);
  g_free (lp);
}

typedef struct
{
  Promo *p;
  const gchar *playlist;
} SegmentWatch;

static void
note_first_segment (Promo * p, const gchar * playlist)
{
  /* hlssink2 writes the playlist when a segment is finished */
  if (playlist && p->first_segment < 0
      && g_file_test (playlist, G_FILE_TEST_EXISTS)) {
    p->first_segment = (g_get_monotonic_time () - p->started) / 1e6;
    p->shots_at_first_segment = g_atomic_int_get (&p->generated);
    GST_INFO ("first HLS segment after %.2f s, %u shots generated",
        p->first_segment, p->shots_at_first_segment);
  }
}

/* In the thread that closed the segment, right after hlssink2 wrote the
 * playlist: GES plays ahead of this program's thread, so a look at the
 * playlist from there would come late. */
static GstBusSyncReply
watch_segments (GstBus * bus, GstMessage * m, gpointer data)
{
  SegmentWatch *w = data;

  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
      && gst_message_has_name (m, "splitmuxsink-fragment-closed"))
    note_first_segment (w->p, w->playlist);
  return GST_BUS_PASS;
}

static gboolean
stage_encode (Promo * p, const gchar * tmp_path, GError ** error)
{
  GString *desc = g_string_new (NULL);
  GstElement *pipeline;
  GESTimeline *timeline;
  GstAppSrc *sub, *soft;
  GstBus *bus;
  guint i;
  gboolean ok = TRUE, eos = FALSE, video_segment = FALSE;
  SegmentWatch watch;
  const gchar *what = "encoding";
  gchar *playlist = NULL;
  /* subtitles in the lower half of the band the layout leaves above the
   * product */
  gint font = MAX (8, MIN (p->o->width, p->o->height) / 40);

  timeline = build_timeline (p, error);
  if (timeline == NULL) {
    g_string_free (desc, TRUE);
    return FALSE;
  }
  g_string_append_printf (desc,
      "videorate name=vin ! videoconvert ! capsfilter name=rgba "
      "caps=video/x-raw,format=RGBA ! "
      "textoverlay name=sub valignment=top halignment=center ypad=0 "
      "deltay=%d wrap-mode=wordchar shaded-background=true "
      "font-desc=\"Sans %d\" ! videoconvert ! video/x-raw,format=I420 ! "
      "x264enc speed-preset=veryfast key-int-max=%d threads=%d ! "
      "video/x-h264,profile=high ! tee name=vt ! queue ! h264parse ! "
      "mp4mux name=mux faststart=true ! filesink name=file  "
      "appsrc name=sub_src ! sub.text_sink  "
      "audioconvert name=ain ! voaacenc ! tee name=at ! queue ! "
      "aacparse ! mux.audio_0  "
      "appsrc name=soft ! mux.subtitle_0 ",
      p->text_area.y + p->text_area.h * 11 / 20, font,
      KLING_PROMO_FPS * 2, MAX (1, p->o->threads));
  if (p->o->hls_dir)
    g_string_append (desc, " hlssink2 name=hls target-duration=2 "
        "playlist-length=0 max-files=0  vt. ! queue ! h264parse ! hls.video  "
        "at. ! queue ! aacparse ! hls.audio ");
  pipeline = parse (desc->str, what, error);
  g_string_free (desc, TRUE);
  if (pipeline == NULL) {
    gst_object_unref (timeline);
    return FALSE;
  }
  gst_bin_add (GST_BIN (pipeline), GST_ELEMENT (timeline));
  gst_object_unref (timeline);  /* the pipeline's now */
  {
    GList *tracks = ges_timeline_get_tracks (timeline), *t;
    for (t = tracks; t && ok; t = t->next)
      ok = GES_IS_VIDEO_TRACK (t->data) ?
          link_track (pipeline, timeline, t->data, "vin", &video_segment) :
          link_track (pipeline, timeline, t->data, "ain", NULL);
    g_list_free_full (tracks, gst_object_unref);
    if (!ok)
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
          "%s: the GES timeline's pads cannot be linked", what);
  }
  {
    GstElement *rgba = gst_bin_get_by_name (GST_BIN (pipeline), "rgba");
    GstPad *pad = gst_element_get_static_pad (rgba, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, put_product_back, p,
        NULL);
    gst_object_unref (pad);
    gst_object_unref (rgba);
  }
  set_by_name (pipeline, "file", "location", tmp_path, NULL);
  if (p->o->dump_dir)
    write_layout (p);
  if (p->o->hls_dir) {
    gchar *seg = g_build_filename (p->o->hls_dir, "segment%05d.ts", NULL);
    gchar *pl = g_build_filename (p->o->hls_dir, "playlist.m3u8", NULL);
    set_by_name (pipeline, "hls", "location", seg, "playlist-location", pl,
        NULL);
    g_free (seg);
    playlist = pl;
  }
  sub = get_src (pipeline, "sub_src", "text/x-raw,format=utf8");
  soft = get_src (pipeline, "soft", "text/x-raw,format=utf8");
  watch.p = p;
  watch.playlist = playlist;
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, watch_segments, &watch, NULL);

  if (ok && gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    if (bus_check (p, pipeline, what, NULL, error))
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
          "%s failed to start", what);
    ok = FALSE;
  }

  /* the subtitles: all of them up front (not bounded: small) */
  for (i = 0; ok && i < p->cues->len; i++) {
    KlingPromoCue *c = g_ptr_array_index (p->cues, i);
    push_text (sub, c->text, c->start, c->end);
    push_text (soft, c->text, c->start, c->end);
  }
  gst_app_src_end_of_stream (sub);
  gst_app_src_end_of_stream (soft);

  /* GES plays the timeline, generating each shot as it first needs it;
   * this thread waits for the file to be finished */
  while (ok && !eos) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (m) {
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gst_message_parse_error (m, &err, NULL);
        if (err->domain == KLING_PROMO_ERROR
            || err->domain == G_IO_ERROR)
          /* a shot's generation failed (or was cancelled): its own words */
          g_propagate_error (error, err);
        else {
          g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OUTPUT,
              "%s failed: %s (%s)", what, err->message,
              GST_OBJECT_NAME (GST_MESSAGE_SRC (m)));
          g_clear_error (&err);
        }
        ok = FALSE;
      } else {
        eos = TRUE;
      }
      gst_message_unref (m);
    }
    if (ok && g_cancellable_set_error_if_cancelled (p->cancellable, error))
      ok = FALSE;
    if (ok && p->progress) {
      guint64 f = MIN ((guint64) g_atomic_int_get (&p->frames_done),
          p->total_frames);
      guint generated = g_atomic_int_get (&p->generated);
      p->progress (generated < p->n_shots ? KLING_PROMO_STAGE_SHOTS :
          KLING_PROMO_STAGE_ENCODE, (gdouble) f / p->total_frames,
          kling_promo_overall (KLING_PROMO_STAGE_SHOTS, 0) +
          (1.0 - kling_promo_overall (KLING_PROMO_STAGE_SHOTS, 0)) *
          f / p->total_frames, p->user_data);
    }
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  if (ok)
    note_first_segment (p, playlist);
  g_free (playlist);
  return ok;
}

/* ---------- the whole run ---------- */

static void
promo_clear (Promo * p)
{
  guint i;

  g_free (p->photo);
  kling_cutout_free (p->cutout);
  g_free (p->product_rgba);
  g_free (p->kind_note);
  g_strfreev (p->styles);
  g_strfreev (p->copy);
  g_free (p->shots);
  g_free (p->audio);
  g_clear_object (&p->music);
  g_free (p->card);
  g_free (p->feeds);
  g_strfreev (p->timeline);
  g_mutex_clear (&p->gen_lock);
  if (p->cues)
    g_ptr_array_free (p->cues, TRUE);
  if (p->shot_frames) {
    for (i = 0; i < p->n_shots; i++)
      if (p->shot_frames[i])
        g_ptr_array_free (p->shot_frames[i], TRUE);
    g_free (p->shot_frames);
  }
}

static void
report (Promo * p, KlingPromoStage stage, gdouble fraction)
{
  if (p->progress)
    p->progress (stage, fraction, kling_promo_overall (stage, fraction),
        p->user_data);
}

gboolean
kling_promo_run (const KlingPromoOptions * o, KlingPromoProgress progress,
    gpointer user_data, GCancellable * cancellable, KlingPromoReport * rep,
    GError ** error)
{
  Promo p = { o, progress, user_data, cancellable };
  gchar *dir, *tmp = NULL;
  gint fd;
  gboolean ok = FALSE;

  g_return_val_if_fail (o->input && o->output, FALSE);
  GST_DEBUG_CATEGORY_INIT (promo_debug, "klingpromo", 0, "gst-kling-promo");
  if (!ges_init ()) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
        "GStreamer Editing Services (libges-1.0) cannot start: are its "
        "plugins (nle) installed?");
    return FALSE;
  }
  p.started = g_get_monotonic_time ();
  p.first_segment = -1;
  g_mutex_init (&p.gen_lock);

  if (o->duration < KLING_PROMO_MIN_DURATION
      || o->duration > KLING_PROMO_MAX_DURATION) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "a promo lasts %g to %g seconds, not %g", KLING_PROMO_MIN_DURATION,
        KLING_PROMO_MAX_DURATION, o->duration);
    return FALSE;
  }
  if (!g_file_test (o->input, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
        "%s: no such file", o->input);
    return FALSE;
  }
  if (o->hls_dir && g_mkdir_with_parents (o->hls_dir, 0755) != 0) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OUTPUT,
        "--hls %s: cannot make the directory: %s", o->hls_dir,
        g_strerror (errno));
    return FALSE;
  }

  /* the temporary output beside the final one, made first: an unwritable
   * place fails before any model runs */
  dir = g_path_get_dirname (o->output);
  {
    gchar *base = g_path_get_basename (o->output);
    tmp = g_strdup_printf ("%s/.%s.partial-XXXXXX", dir, base);
    g_free (base);
  }
  g_free (dir);
  /* 0666 under the umask, as the file would be if written directly (a
   * plain g_mkstemp() leaves a finished promo readable by its owner only) */
  fd = g_mkstemp_full (tmp, O_RDWR, 0666);
  if (fd < 0) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OUTPUT,
        "cannot write %s: %s", o->output, g_strerror (errno));
    g_free (tmp);
    return FALSE;
  }
  close (fd);

  p.total_frames = (guint64) (o->duration * KLING_PROMO_FPS + 0.5);
  p.end_frames = (guint64) (KLING_PROMO_END_CARD_SECONDS * KLING_PROMO_FPS);
  p.fade_frames = (guint64) (KLING_PROMO_TRANSITION_SECONDS * KLING_PROMO_FPS);
  if (o->styles) {
    /* the plan first: a bad one fails before any model runs */
    p.styles = g_strdupv (o->styles);
    p.n_shots = g_strv_length (p.styles);
    p.shots = g_new0 (KlingPromoShot, p.n_shots);
    if (!kling_promo_plan_shots (p.total_frames, p.n_shots, p.end_frames,
            p.fade_frames, p.shots, error))
      goto done;
  }
  report (&p, KLING_PROMO_STAGE_CUTOUT, 0);
  if (!stage_cutout (&p, error))
    goto done;
  if (!stage_kind (&p, error))
    goto done;
  if (p.styles == NULL) {
    /* the scenes that suit the product's kind */
    p.styles = kling_promo_kind_styles (p.kind, o->lang);
    p.n_shots = g_strv_length (p.styles);
    p.shots = g_new0 (KlingPromoShot, p.n_shots);
    if (!kling_promo_plan_shots (p.total_frames, p.n_shots, p.end_frames,
            p.fade_frames, p.shots, error))
      goto done;
  }
  p.shot_frames = g_new0 (GPtrArray *, p.n_shots);
  report (&p, KLING_PROMO_STAGE_COPY, 0);
  if (!stage_copy (&p, error))
    goto done;
  report (&p, KLING_PROMO_STAGE_VOICE, 0);
  if (!stage_voice (&p, error))
    goto done;
  if (!load_music (&p, error))
    goto done;
  if (!stage_encode (&p, tmp, error))
    goto done;
  if (g_rename (tmp, o->output) != 0) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OUTPUT,
        "cannot move the finished promo to %s: %s", o->output,
        g_strerror (errno));
    goto done;
  }
  report (&p, KLING_PROMO_STAGE_ENCODE, 1.0);
  ok = TRUE;
  if (rep) {
    rep->copy = g_strdupv (p.copy);
    rep->styles = g_strdupv (p.styles);
    rep->n_cues = p.cues->len;
    rep->product_x = p.product.x;
    rep->product_y = p.product.y;
    rep->product_w = p.product.w;
    rep->product_h = p.product.h;
    rep->generation_seconds = p.gen_seconds;
    rep->composition_seconds = p.compose_seconds;
    rep->total_seconds = (g_get_monotonic_time () - p.started) / 1e6;
    rep->first_segment_seconds = p.first_segment;
    rep->shots_at_first_segment = p.shots_at_first_segment;
    rep->n_shots = p.n_shots;
    rep->kind = p.kind;
    rep->kind_detected = p.kind_detected;
    rep->kind_score = p.kind_score;
    rep->kind_threshold = p.kind_threshold;
    rep->kind_note = g_strdup (p.kind_note);
    rep->timeline = g_strdupv (p.timeline);
  }

done:
  if (!ok)
    g_unlink (tmp);
  g_free (tmp);
  promo_clear (&p);
  return ok;
}
