/* gst-kling: gst-kling-promo's stages, as pipelines
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * cut-out (kling-compose, as ketuposter) -> copy lines (kling-copywriter on
 * the photo) -> voice and word timings (klingspeak) -> per scene a poster
 * (ketuposter) animated by klinggen, generated when the encoder first needs
 * its frames -> every output frame: the scene scaled to the output size,
 * cross-faded into the next, the product's own pixels put back over it
 * (bit-exact where opaque) -> textoverlay (subtitles, end card) -> x264enc,
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

#include "kling-promo.h"
#include "kling-compose.h"
#include "kling-copywriter.h"
#include "kling-detector.h"
#include "kling-manifest.h"

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

  /* per shot: frames at the model's size, RGBA */
  GPtrArray **shot_frames;
  gint sw, sh;

  gint64 started;
  gdouble gen_seconds, compose_seconds;
  gdouble first_segment;
  guint shots_at_first_segment;
  guint generated;
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
  gboolean music;
  gsize pos;
  GArray *music_samples;        /* gint16 */
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

    if (v->music) {
      /* kept whole, mixed after (looped if shorter than the promo) */
      if (v->music_samples->len < p->n_samples)
        g_array_append_vals (v->music_samples, in,
            MIN (n, p->n_samples - v->music_samples->len));
    } else {
      GstClockTime pts = GST_BUFFER_PTS (buf);
      at = GST_CLOCK_TIME_IS_VALID (pts) ?
          gst_util_uint64_scale (pts, AUDIO_RATE, GST_SECOND) : v->pos;
      for (i = 0; i < n && at + i < p->n_samples; i++)
        p->audio[at + i] = in[i];
      v->pos = at + n;
    }
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
  VoiceData v = { p, g_array_new (FALSE, FALSE, sizeof (KlingPromoWord)),
    FALSE, 0, NULL
  };
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
  if (!ok || p->o->music == NULL)
    return ok;

  desc = g_strdup_printf ("filesrc name=src ! decodebin ! audioconvert ! "
      "audioresample ! audio/x-raw,format=S16LE,rate=%d,channels=1 ! "
      "appsink name=a sync=false", AUDIO_RATE);
  pipeline = parse (desc, "reading --music", error);
  g_free (desc);
  if (pipeline == NULL)
    return FALSE;
  set_by_name (pipeline, "src", "location", p->o->music, NULL);
  sinks[0] = get_sink (pipeline, "a");
  v.music = TRUE;
  v.music_samples = g_array_new (FALSE, FALSE, sizeof (gint16));
  {
    GError *err = NULL;
    ok = run_sinks (p, pipeline, sinks, 1, "reading --music", take_audio, &v,
        &err);
    if (!ok) {
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
          "--music %s cannot be played: %s", p->o->music, err->message);
      g_clear_error (&err);
    } else if (v.music_samples->len == 0) {
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_INPUT,
          "--music %s holds no sound", p->o->music);
      ok = FALSE;
    }
  }
  if (ok) {
    const gint16 *m = (const gint16 *) v.music_samples->data;
    gsize k, len = v.music_samples->len;
    for (k = 0; k < p->n_samples; k++) {
      gint mixed = p->audio[k] + (gint) (m[k % len] * MUSIC_GAIN);
      p->audio[k] = CLAMP (mixed, G_MININT16, G_MAXINT16);
    }
  }
  g_array_free (v.music_samples, TRUE);
  gst_object_unref (pipeline);
  return ok;
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

/* ---------- composing and encoding ---------- */

/* the scene picture of output frame @f in shot @i, at the model's size */
static const guint8 *
shot_picture (Promo * p, guint i, guint64 f)
{
  GPtrArray *fr = p->shot_frames[i];
  guint64 local = f - p->shots[i].start;
  guint64 k = local * fr->len / p->shots[i].frames;

  return fr->pdata[MIN (k, (guint64) fr->len - 1)];
}

static void
write_ppm (const gchar * dir, guint64 f, const guint8 * rgba, gint w, gint h)
{
  gchar *name = g_strdup_printf ("%s/frame-%05" G_GUINT64_FORMAT ".ppm", dir,
      f);
  gchar *head = g_strdup_printf ("P6\n%d %d\n255\n", w, h);
  gsize hl = strlen (head), n = (gsize) w *h, i;
  guint8 *data = g_malloc (hl + n * 3);

  memcpy (data, head, hl);
  for (i = 0; i < n; i++)
    memcpy (data + hl + i * 3, rgba + i * 4, 3);
  g_file_set_contents (name, (const gchar *) data, hl + n * 3, NULL);
  g_free (data);
  g_free (head);
  g_free (name);
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

static gboolean
stage_encode (Promo * p, const gchar * tmp_path, GError ** error)
{
  GString *desc = g_string_new (NULL);
  GstElement *pipeline;
  GstAppSrc *vsrc, *asrc, *sub, *soft, *card;
  gchar *caps;
  guint64 f;
  gsize out_bytes = (gsize) p->o->width * p->o->height * 4;
  guint8 *bg = g_malloc (out_bytes), *scaled = NULL, *card_bg = NULL;
  const guint8 *last_key = NULL;
  guint i;
  gboolean ok = TRUE, eos = FALSE;
  const gchar *what = "encoding";
  gchar *playlist = NULL;
  /* text in the band the layout leaves above the product: subtitles in
   * its lower half, the end card in its upper part */
  gint font = MAX (8, MIN (p->o->width, p->o->height) / 40);

  g_string_append_printf (desc,
      "appsrc name=v block=true max-bytes=%" G_GSIZE_FORMAT " ! videoconvert ! "
      "textoverlay name=sub valignment=top halignment=center ypad=0 "
      "deltay=%d wrap-mode=wordchar shaded-background=true "
      "font-desc=\"Sans %d\" ! "
      "textoverlay name=card valignment=top halignment=center ypad=0 "
      "deltay=%d font-desc=\"Sans Bold %d\" ! videoconvert ! "
      "video/x-raw,format=I420 ! "
      "x264enc speed-preset=veryfast key-int-max=%d threads=%d ! "
      "video/x-h264,profile=high ! tee name=vt ! queue ! h264parse ! "
      "mp4mux name=mux faststart=true ! filesink name=file  "
      "appsrc name=sub_src ! sub.text_sink  "
      "appsrc name=card_src ! card.text_sink  "
      "appsrc name=a ! audioconvert ! voaacenc ! tee name=at ! queue ! "
      "aacparse ! mux.audio_0  "
      "appsrc name=soft ! mux.subtitle_0 ", out_bytes * 4,
      p->text_area.y + p->text_area.h * 11 / 20, font,
      p->text_area.y + p->text_area.h / 6, font * 3 / 2,
      KLING_PROMO_FPS * 2, MAX (1, p->o->threads));
  if (p->o->hls_dir)
    g_string_append (desc, " hlssink2 name=hls target-duration=2 "
        "playlist-length=0 max-files=0  vt. ! queue ! h264parse ! hls.video  "
        "at. ! queue ! aacparse ! hls.audio ");
  pipeline = parse (desc->str, what, error);
  g_string_free (desc, TRUE);
  if (pipeline == NULL) {
    g_free (bg);
    return FALSE;
  }
  set_by_name (pipeline, "file", "location", tmp_path, NULL);
  if (p->o->dump_dir) {
    gchar *lp = g_build_filename (p->o->dump_dir, "layout.txt", NULL);
    gchar *text = g_strdup_printf ("product %d %d %d %d\nframes %"
        G_GUINT64_FORMAT "\nshots", p->product.x, p->product.y, p->product.w,
        p->product.h, p->total_frames);
    GString *s = g_string_new (text);
    for (i = 0; i < p->n_shots; i++)
      g_string_append_printf (s, " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
          p->shots[i].start, p->shots[i].frames);
    g_string_append_printf (s, "\nend %" G_GUINT64_FORMAT "\n",
        p->total_frames - p->end_frames);
    g_file_set_contents (lp, s->str, -1, NULL);
    g_string_free (s, TRUE);
    g_free (text);
    g_free (lp);
  }
  if (p->o->hls_dir) {
    gchar *seg = g_build_filename (p->o->hls_dir, "segment%05d.ts", NULL);
    gchar *pl = g_build_filename (p->o->hls_dir, "playlist.m3u8", NULL);
    set_by_name (pipeline, "hls", "location", seg, "playlist-location", pl,
        NULL);
    g_free (seg);
    playlist = pl;
  }
  caps = g_strdup_printf ("video/x-raw,format=RGBA,width=%d,height=%d,"
      "framerate=%d/1,pixel-aspect-ratio=1/1", p->o->width, p->o->height,
      KLING_PROMO_FPS);
  vsrc = get_src (pipeline, "v", caps);
  g_free (caps);
  caps = g_strdup_printf ("audio/x-raw,format=S16LE,layout=interleaved,"
      "rate=%d,channels=1", AUDIO_RATE);
  asrc = get_src (pipeline, "a", caps);
  g_free (caps);
  sub = get_src (pipeline, "sub_src", "text/x-raw,format=utf8");
  soft = get_src (pipeline, "soft", "text/x-raw,format=utf8");
  card = get_src (pipeline, "card_src", "text/x-raw,format=utf8");

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    if (bus_check (p, pipeline, what, NULL, error))
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
          "%s failed to start", what);
    ok = FALSE;
  }

  /* text and audio: all of it up front (not bounded: small) */
  for (i = 0; ok && i < p->cues->len; i++) {
    KlingPromoCue *c = g_ptr_array_index (p->cues, i);
    push_text (sub, c->text, c->start, c->end);
    push_text (soft, c->text, c->start, c->end);
  }
  if (ok && (p->o->name || p->o->price)) {
    gchar *text = g_strdup_printf ("%s%s%s", p->o->name ? p->o->name : "",
        p->o->name && p->o->price ? "\n" : "",
        p->o->price ? p->o->price : "");
    push_text (card, text, frames_to_time (p->total_frames - p->end_frames),
        frames_to_time (p->total_frames));
    g_free (text);
  }
  gst_app_src_end_of_stream (sub);
  gst_app_src_end_of_stream (soft);
  gst_app_src_end_of_stream (card);
  for (f = 0; ok && f < p->n_samples; f += 1024) {
    gsize n = MIN (1024, p->n_samples - f);
    GstBuffer *b = gst_buffer_new_memdup (p->audio + f, n * 2);
    GST_BUFFER_PTS (b) = gst_util_uint64_scale (f, GST_SECOND, AUDIO_RATE);
    GST_BUFFER_DURATION (b) = gst_util_uint64_scale (f + n, GST_SECOND,
        AUDIO_RATE) - GST_BUFFER_PTS (b);
    gst_app_src_push_buffer (asrc, b);
  }
  gst_app_src_end_of_stream (asrc);

  /* video frame by frame; a shot is generated when first needed */
  for (f = 0; ok && f < p->total_frames; f++) {
    GstBuffer *b;
    GstMapInfo map;
    gint64 t_compose;
    guint cur = 0, next;
    gboolean end_card = f >= p->total_frames - p->end_frames;

    for (i = 0; i < p->n_shots; i++)
      if (f >= p->shots[i].start)
        cur = i;
    while (p->generated <= cur && ok) {
      gint64 t0 = g_get_monotonic_time ();
      ok = make_shot (p, p->generated, error);
      p->gen_seconds += (g_get_monotonic_time () - t0) / 1e6;
      p->generated++;
    }
    if (!ok)
      break;
    /* the shot before, still fading out */
    next = cur;
    if (cur > 0 && f < p->shots[cur].start + p->fade_frames)
      cur = cur - 1;

    t_compose = g_get_monotonic_time ();
    if (end_card) {
      if (card_bg == NULL) {
        GPtrArray *last = p->shot_frames[p->n_shots - 1];
        gsize j;
        card_bg = kling_resample_rgba (last->pdata[last->len - 1], p->sw,
            p->sh, p->o->width, p->o->height);
        /* darker, so the name and price read */
        for (j = 0; j < out_bytes; j++)
          if (j % 4 != 3)
            card_bg[j] = card_bg[j] * 2 / 5;
      }
      memcpy (bg, card_bg, out_bytes);
    } else if (next != cur) {
      /* cross-fade at the model's size, then scale */
      const guint8 *a = shot_picture (p, cur, f);
      const guint8 *c = shot_picture (p, next, f);
      guint64 t = f - p->shots[next].start + 1;
      gsize n = (gsize) p->sw * p->sh * 4, j;
      guint8 *mix = g_malloc (n);
      guint8 *big;
      for (j = 0; j < n; j++)
        mix[j] = (a[j] * (p->fade_frames + 1 - t) + c[j] * t +
            (p->fade_frames + 1) / 2) / (p->fade_frames + 1);
      big = kling_resample_rgba (mix, p->sw, p->sh, p->o->width, p->o->height);
      memcpy (bg, big, out_bytes);
      g_free (big);
      g_free (mix);
      last_key = NULL;
    } else {
      const guint8 *k = shot_picture (p, cur, f);
      if (k != last_key) {
        g_free (scaled);
        scaled = kling_resample_rgba (k, p->sw, p->sh, p->o->width,
            p->o->height);
        last_key = k;
      }
      memcpy (bg, scaled, out_bytes);
    }
    kling_draw_ground_shadow (bg, (gsize) p->o->width * 4, p->o->width,
        p->o->height, &p->product);
    kling_composite_over (bg, (gsize) p->o->width * 4, p->o->width,
        p->o->height, p->product_rgba, &p->product);
    p->compose_seconds += (g_get_monotonic_time () - t_compose) / 1e6;
    if (p->o->dump_dir && f % 15 == 0)
      write_ppm (p->o->dump_dir, f, bg, p->o->width, p->o->height);

    b = gst_buffer_new_allocate (NULL, out_bytes, NULL);
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    memcpy (map.data, bg, out_bytes);
    gst_buffer_unmap (b, &map);
    GST_BUFFER_PTS (b) = frames_to_time (f);
    GST_BUFFER_DURATION (b) = frames_to_time (f + 1) - frames_to_time (f);
    if (gst_app_src_push_buffer (vsrc, b) != GST_FLOW_OK) {
      if (bus_check (p, pipeline, what, NULL, error))
        g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_STAGE,
            "%s stopped", what);
      ok = FALSE;
      break;
    }
    if (!bus_check (p, pipeline, what, NULL, error)) {
      ok = FALSE;
      break;
    }
    if (g_cancellable_set_error_if_cancelled (p->cancellable, error)) {
      ok = FALSE;
      break;
    }
    /* hlssink2 writes the playlist when a segment is finished */
    if (playlist && p->first_segment < 0
        && g_file_test (playlist, G_FILE_TEST_EXISTS)) {
      p->first_segment = (g_get_monotonic_time () - p->started) / 1e6;
      p->shots_at_first_segment = p->generated;
    }
    if (p->progress && f % 10 == 0)
      p->progress (p->generated < p->n_shots ? KLING_PROMO_STAGE_SHOTS :
          KLING_PROMO_STAGE_ENCODE, (gdouble) f / p->total_frames,
          kling_promo_overall (KLING_PROMO_STAGE_SHOTS, 0) +
          (1.0 - kling_promo_overall (KLING_PROMO_STAGE_SHOTS, 0)) *
          f / p->total_frames, p->user_data);
  }
  gst_app_src_end_of_stream (vsrc);

  /* wait for the file to be finished */
  while (ok && !eos) {
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    gst_object_unref (bus);
    if (m) {
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gst_message_parse_error (m, &err, NULL);
        g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OUTPUT,
            "%s failed: %s", what, err->message);
        g_clear_error (&err);
        ok = FALSE;
      } else {
        eos = TRUE;
      }
      gst_message_unref (m);
    }
    if (ok && g_cancellable_set_error_if_cancelled (p->cancellable, error))
      ok = FALSE;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  if (ok && playlist && p->first_segment < 0
      && g_file_test (playlist, G_FILE_TEST_EXISTS)) {
    p->first_segment = (g_get_monotonic_time () - p->started) / 1e6;
    p->shots_at_first_segment = p->generated;
  }
  g_free (playlist);
  g_free (card_bg);
  g_free (scaled);
  g_free (bg);
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
  p.started = g_get_monotonic_time ();
  p.first_segment = -1;

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
  }

done:
  if (!ok)
    g_unlink (tmp);
  g_free (tmp);
  promo_clear (&p);
  return ok;
}
