/* gst-kling-live: a live-commerce stream with a talking digital host
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   gst-kling-live --products products.json --host host.png \
 *       -o rtmp://live.example.com/app/KEY --interval 60
 *
 * One live pipeline (docs/live.md): the current product's picture, the host
 * picture-in-picture (klinghost speaking klingspeak's voice), a lower third
 * with the name, price and the line being spoken; H.264 + AAC to RTMP, SRT
 * or a file.  Commands and viewer questions come as lines on stdin or a
 * FIFO.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>

#include "kling-copywriter.h"
#include "kling-detector.h"
#include "kling-live-plan.h"
#include "kling-manifest.h"

#define PREP_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define EOS_TIMEOUT_S 10
/* longer command lines from the socket drop the client */
#define KLING_LIVE_MAX_LINE 4096
/* a voice sample above this (of 32767) is speech, not silence */
#define LOUD_PEAK 800
/* the copywriter's lines a product (a small model repeats itself) */
#define COPY_LINES 3
/* as gst-kling-promo: the product box on the photo for the copywriter */
#define DETECT_MODEL_FILE "kling-detect-products.pt"
#define COPY_MODEL_FILE "kling-copywrite.pt"
#define DETECT_IOU 0.45f
#define DETECT_THRESHOLD 0.35   /* when the detector's manifest gives none */

typedef struct
{
  /* options */
  gchar *output, *host_model, *speech_model, *poster_model, *portrait;
  gchar *commands, *prompt;
  gchar *copy_model, *detect_model;     /* NULL: none */
  gchar *labels_file;           /* --detect-labels, or NULL */
  gchar **labels;               /* its labels, or NULL: the manifest's */
  gchar *camera;                /* a URI, or NULL: the product pictures */
  KlingLiveCamera camera_kinds;
  KlingLiveOutput out_kind;
  gint width, height, fps, interval, duration, bitrate;
  gint pip_w, pip_h;

  GPtrArray *products;          /* the usable ones */
  GPtrArray *pictures;          /* GstBuffer, one per product */
  GstCaps *picture_caps, *portrait_caps;
  GstBuffer *portrait_buf;

  GMainLoop *loop;
  GSocketService *service;      /* --commands tcp:PORT */
  GstElement *pipeline, *picture_src, *text_src, *lower, *comp;
  guint bus_watch, rotate_id, tick_id, retry_id, eos_timeout_id;
  guint generation;
  gint current;
  gboolean paused, stopping;
  gint64 signal_at;             /* the last SIGINT/SIGTERM, monotonic */
  gint exit_code;
  gint64 started;               /* monotonic, at start */
  gint64 lost_at;               /* monotonic, when the server went away */
  guint retry_s, reconnects, failures;
  GstClockTime last_pts;        /* the compositor's streaming thread's */
  gboolean ever_out;

  GMutex lock;                  /* voice, lower_dirty, first_picture */
  GstClockTime first_picture;   /* PTS of the picture's first frame */
  KlingLiveVoice *voice;
  gboolean lower_dirty;
} Live;

static void show_product (Live * live, gint index, const gchar * why);
static gboolean build_and_play (Live * live, GError ** error);
static void teardown (Live * live);

static gdouble
running_s (Live * live)
{
  GstClockTime t;

  if (live->pipeline == NULL)
    return -1;
  t = gst_element_get_current_running_time (live->pipeline);
  return GST_CLOCK_TIME_IS_VALID (t) ? t / (gdouble) GST_SECOND : 0.0;
}

static gdouble
wall_s (Live * live)
{
  return (g_get_monotonic_time () - live->started) / 1e6;
}

/* --- stills: product pictures and the portrait -------------------------- */

/* Plays @pipe until its appsink "sink" has a sample (returned), or an
 * error, an EOS or @timeout_us; then stops it. */
static GstSample *
first_sample (GstElement * pipe, gint64 timeout_us, GError ** error)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstBus *bus = gst_element_get_bus (pipe);
  GstSample *sample = NULL;
  GError *err = NULL;
  gint64 deadline = g_get_monotonic_time () + timeout_us;

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  while (sample == NULL && err == NULL) {
    GstMessage *msg;
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        100 * GST_MSECOND);
    if (sample)
      break;
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      gst_message_parse_error (msg, &err, NULL);
    else if (msg)
      g_set_error (&err, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
          "no picture in it");
    g_clear_pointer (&msg, gst_message_unref);
    if (err == NULL && g_get_monotonic_time () > deadline)
      g_set_error (&err, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
          "no picture after %d s", (gint) (timeout_us / G_USEC_PER_SEC));
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  if (err)
    g_propagate_error (error, err);
  return sample;
}

/* Decodes @path (through ketuposter when @poster_model is set) into one
 * frame of @format at @w x @h, letterboxed. */
static GstSample *
decode_still (const gchar * path, const gchar * poster_model,
    const gchar * prompt, const gchar * format, gint w, gint h, GError ** error)
{
  gchar *desc;
  GstElement *pipe, *src;
  GstSample *sample;
  GError *err = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "%s: no such file", path);
    return NULL;
  }
  desc = g_strdup_printf ("filesrc name=src ! decodebin ! videoconvert ! "
      "%s videoscale add-borders=true ! videoconvert ! "
      "video/x-raw,format=%s,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
      "appsink name=sink sync=false max-buffers=1",
      poster_model ? "ketuposter name=poster variants=1 ! videoconvert ! " :
      "", format, w, h);
  pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  if (pipe == NULL) {
    g_propagate_error (error, err);
    return NULL;
  }
  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_object_set (src, "location", path, NULL);
  gst_object_unref (src);
  if (poster_model) {
    GstElement *poster = gst_bin_get_by_name (GST_BIN (pipe), "poster");
    g_object_set (poster, "model", poster_model, "width", w, "height", h,
        "prompt", prompt, NULL);
    gst_object_unref (poster);
  }
  sample = first_sample (pipe, PREP_TIMEOUT_US * (poster_model ? 6 : 1),
      &err);
  gst_object_unref (pipe);
  if (sample == NULL) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "%s: %s", path, err->message);
    g_clear_error (&err);
  }
  return sample;
}

static gboolean
prepare_stills (Live * live, GPtrArray * all, GError ** error)
{
  GstSample *s;
  guint i;

  live->products = g_ptr_array_new_with_free_func ((GDestroyNotify)
      kling_live_product_free);
  live->pictures = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  for (i = 0; i < all->len; i++) {
    KlingLiveProduct *p = g_ptr_array_index (all, i);
    GError *err = NULL;

    s = decode_still (p->photo, live->poster_model, live->prompt, "I420",
        live->width, live->height, &err);
    if (s == NULL && live->poster_model) {
      fprintf (stderr, "gst-kling-live: warning: product %u (%s): no "
          "poster (%s); showing the photo\n", i + 1, p->name, err->message);
      g_clear_error (&err);
      s = decode_still (p->photo, NULL, NULL, "I420", live->width,
          live->height, &err);
    }
    if (s == NULL) {
      fprintf (stderr, "gst-kling-live: warning: product %u (%s) skipped: "
          "%s\n", i + 1, p->name, err->message);
      g_clear_error (&err);
      continue;
    }
    if (live->picture_caps == NULL)
      live->picture_caps = gst_caps_copy (gst_sample_get_caps (s));
    g_ptr_array_add (live->pictures,
        gst_buffer_ref (gst_sample_get_buffer (s)));
    gst_sample_unref (s);
    g_ptr_array_add (live->products, all->pdata[i]);
    all->pdata[i] = NULL;
  }
  if (live->products->len == 0) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "no product has a usable photo");
    return FALSE;
  }
  s = decode_still (live->portrait, NULL, NULL, "RGBx", live->pip_w,
      live->pip_h, error);
  if (s == NULL) {
    g_prefix_error (error, "--host: ");
    return FALSE;
  }
  live->portrait_caps = gst_caps_copy (gst_sample_get_caps (s));
  live->portrait_buf = gst_buffer_ref (gst_sample_get_buffer (s));
  gst_sample_unref (s);
  return TRUE;
}

/* --- copy by the copywriter, once before going live ------------------- */

/* The copywriter's lines about each product's photo, in the product's
 * language (Chinese when its name is); the detector, when there is one,
 * gives the crop (the product's box, as aiproductdetect shows it) and the
 * kind of a product the file gives none.  A product the copywriter writes
 * nothing for keeps its templated copy, with a warning. */
static gboolean
write_copy (Live * live, GError ** error)
{
  KlingLoadOptions lo = { NULL, KLING_PRECISION_FLOAT32, 0 };
  KlingCopywriter *cw;
  KlingDetector *det = NULL;
  const KlingManifest *dm = NULL;
  gchar **labels = NULL;
  gdouble threshold = DETECT_THRESHOLD;
  gint64 t0 = g_get_monotonic_time ();
  guint i, j, written = 0;
  GError *err = NULL;

  if (live->copy_model == NULL)
    return TRUE;
  cw = kling_copywriter_load (live->copy_model, &lo, &err);
  if (cw == NULL) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "--copy-model %s: cannot load the copywriter: %s (--copy-model none: "
        "templated copy)", live->copy_model, err->message);
    g_clear_error (&err);
    return FALSE;
  }
  if (live->detect_model) {
    det = kling_detector_load (live->detect_model, &lo, live->labels != NULL,
        &err);
    if (det == NULL) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "--detect-model %s: cannot load the detector: %s "
          "(--detect-model none: the copywriter sees the whole photo)",
          live->detect_model, err->message);
      g_clear_error (&err);
      kling_copywriter_free (cw);
      return FALSE;
    }
    dm = kling_detector_get_manifest (det);
    labels = live->labels ? live->labels : dm->labels;
    threshold = kling_manifest_get_double (dm, "defaults.threshold",
        DETECT_THRESHOLD);
  }
  printf ("live: writing copy with %s before going live\n", live->copy_model);
  for (i = 0; i < live->products->len; i++) {
    KlingLiveProduct *p = g_ptr_array_index (live->products, i);
    GstVideoRectangle box = { 0, 0, live->width, live->height };
    GstSample *s;
    GstMapInfo map;

    s = decode_still (p->photo, NULL, NULL, "RGBA", live->width,
        live->height, &err);
    if (s == NULL || !gst_buffer_map (gst_sample_get_buffer (s), &map,
            GST_MAP_READ)) {
      fprintf (stderr, "gst-kling-live: warning: product %u (%s): no "
          "picture for the copywriter (%s); templated copy\n", i + 1,
          p->name, err ? err->message : "cannot read it");
      g_clear_error (&err);
      if (s)
        gst_sample_unref (s);
      continue;
    }
    if (det) {
      KlingDetection best;
      GstVideoRectangle found;
      if (!kling_detector_find_best (det, map.data, live->width,
              live->height, labels ? g_strv_length (labels) : 0, DETECT_IOU,
              &best, &found, NULL, &err)) {
        fprintf (stderr, "gst-kling-live: warning: product %u (%s): the "
            "detector failed (%s); the copywriter sees the whole photo\n",
            i + 1, p->name, err->message);
        g_clear_error (&err);
      } else if (best.label >= 0 && best.score >= threshold) {
        const gchar *label = best.label < (gint) g_strv_length (labels)
            ? labels[best.label] : NULL;
        KlingLiveKind kind = kling_live_kind_from_label (label);
        box = found;
        if (p->kind == KLING_LIVE_KIND_NONE && kind != KLING_LIVE_KIND_NONE) {
          p->kind = kind;
          printf ("live: product %u: kind %s (detected, %.2f)\n", i + 1,
              kling_live_kind_name (kind), best.score);
        }
      }
    }
    /* the copywriter's labels are the kinds in their order, its languages
     * Chinese (0) and English (1), as in gst-kling-promo */
    p->written = kling_copywriter_write_lines (cw, map.data, live->width,
        live->height, &box, p->kind < 0 ? 0 : p->kind,
        kling_live_product_is_chinese (p) ? 0 : 1, i, COPY_LINES, NULL, &err);
    gst_buffer_unmap (gst_sample_get_buffer (s), &map);
    gst_sample_unref (s);
    if (p->written == NULL) {
      fprintf (stderr, "gst-kling-live: warning: product %u (%s): the "
          "copywriter wrote nothing (%s); templated copy\n", i + 1, p->name,
          err->message);
      g_clear_error (&err);
      continue;
    }
    written++;
    for (j = 0; p->written[j]; j++)
      printf ("live: copy %u: %s\n", i + 1, p->written[j]);
  }
  printf ("live: the copywriter wrote for %u of %u products in %.1f s\n",
      written, live->products->len, (g_get_monotonic_time () - t0) / 1e6);
  if (det)
    kling_detector_free (det);
  kling_copywriter_free (cw);
  return TRUE;
}

/* --- the camera ---------------------------------------------------------- */

/* --camera: a URI as given, a device path as v4l2://, a file as file:// */
static gchar *
camera_uri (const gchar * where, GError ** error)
{
  struct stat st;

  if (strstr (where, "://") == NULL && stat (where, &st) == 0) {
    if (S_ISCHR (st.st_mode))
      return g_strconcat ("v4l2://", where, NULL);
    return gst_filename_to_uri (where, error);
  }
  if (!gst_uri_is_valid (where)) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "--camera %s: neither a URI (file:///…, rtsp://…, v4l2:///dev/video0) "
        "nor an existing file or device", where);
    return NULL;
  }
  return g_strdup (where);
}

/* uridecodebin's video goes to camera_in; what else it has (a file's
 * sound) to a fakesink, so an unlinked pad does not stop the stream */
static void
on_camera_pad (GstElement * decode, GstPad * pad, gpointer user_data)
{
  GstBin *bin = user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *type;
  GstElement *to = NULL;
  GstPad *sink = NULL;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  type = gst_caps_get_size (caps) ?
      gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";
  if (g_str_has_prefix (type, "video/")) {
    to = gst_bin_get_by_name (bin, "camera_in");
    sink = gst_element_get_static_pad (to, "sink");
    if (gst_pad_is_linked (sink))
      gst_clear_object (&sink);
  }
  if (sink == NULL) {
    gst_clear_object (&to);
    to = gst_element_factory_make ("fakesink", NULL);
    g_object_set (to, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (bin, gst_object_ref (to));
    gst_element_sync_state_with_parent (to);
    sink = gst_element_get_static_pad (to, "sink");
  }
  gst_pad_link (pad, sink);
  gst_object_unref (sink);
  gst_object_unref (to);
  gst_caps_unref (caps);
}

static void
add_camera (Live * live, GstElement * pipe)
{
  GstElement *decode = gst_element_factory_make ("uridecodebin", "camera");

  g_object_set (decode, "uri", live->camera, NULL);
  g_signal_connect (decode, "pad-added", G_CALLBACK (on_camera_pad), pipe);
  gst_bin_add (GST_BIN (pipe), decode);
}

/* The camera's first frame, before going live: a URI that does not play
 * is an error at start, not a black stream. */
static gboolean
check_camera (Live * live, GError ** error)
{
  GstElement *pipe;
  GstSample *s;
  GError *err = NULL;

  pipe = gst_parse_launch ("videoconvert name=camera_in ! "
      "appsink name=sink sync=false max-buffers=1", &err);
  if (pipe == NULL) {
    g_propagate_prefixed_error (error, err, "--camera: ");
    return FALSE;
  }
  add_camera (live, pipe);
  s = first_sample (pipe, PREP_TIMEOUT_US, &err);
  gst_object_unref (pipe);
  if (s == NULL) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "--camera %s: no picture from it: %s", live->camera, err->message);
    g_clear_error (&err);
    return FALSE;
  }
  gst_sample_unref (s);
  return TRUE;
}

/* An aiproductdetect result on the camera's picture: a product kind held
 * there for KLING_LIVE_CAMERA_HOLD_US switches the show to the first
 * product of that kind (once, until something else has been shown). */
static void
on_camera_detections (Live * live, const GstStructure * s)
{
  const GValue *list = gst_structure_get_value (s, "detections");
  const gchar *label = NULL;
  gdouble best = -1;
  KlingLiveKind due;
  guint i;
  gint index;

  for (i = 0; list && GST_VALUE_HOLDS_LIST (list)
      && i < gst_value_list_get_size (list); i++) {
    const GValue *v = gst_value_list_get_value (list, i);
    const GstStructure *d;
    gdouble conf = 0;
    if (!GST_VALUE_HOLDS_STRUCTURE (v))
      continue;
    d = gst_value_get_structure (v);
    if (gst_structure_get_double (d, "confidence", &conf) && conf > best) {
      best = conf;
      label = gst_structure_get_string (d, "label");
    }
  }
  due = kling_live_camera_seen (&live->camera_kinds, g_get_monotonic_time (),
      kling_live_kind_from_label (label));
  index = kling_live_product_of_kind (live->products, due);
  if (index >= 0 && index != live->current) {
    gchar *why = g_strdup_printf ("camera: %s", kling_live_kind_name (due));
    show_product (live, index, why);
    g_free (why);
  }
}

/* --- the voice */

static GstPadProbeReturn
on_voice_audio (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Live *live = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  gint peak = 0;
  gsize i;

  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)
      && gst_buffer_map (buf, &map, GST_MAP_READ)) {
    const gint16 *s = (const gint16 *) map.data;
    for (i = 0; i < map.size / 2; i++)
      peak = MAX (peak, ABS ((gint) s[i]));
    gst_buffer_unmap (buf, &map);
  }
  g_mutex_lock (&live->lock);
  if (kling_live_voice_audio (live->voice, g_get_monotonic_time (),
          peak >= LOUD_PEAK) != KLING_LIVE_VOICE_NOTHING)
    live->lower_dirty = TRUE;
  g_mutex_unlock (&live->lock);
  return GST_PAD_PROBE_OK;
}

static void
set_lower_third (Live * live)
{
  KlingLiveProduct *p = g_ptr_array_index (live->products, live->current);
  gchar *text;

  g_mutex_lock (&live->lock);
  text = kling_live_lower_third (p, kling_live_voice_current (live->voice));
  live->lower_dirty = FALSE;
  g_mutex_unlock (&live->lock);
  if (live->lower)
    g_object_set (live->lower, "text", text, NULL);
  g_free (text);
}

/* every 100 ms: the next line when the voice is free, the lower third */
static gboolean
on_tick (gpointer data)
{
  Live *live = data;
  gchar *line;
  gboolean dirty;

  if (live->text_src == NULL)
    return G_SOURCE_CONTINUE;
  g_mutex_lock (&live->lock);
  line = kling_live_voice_next (live->voice, g_get_monotonic_time ());
  dirty = live->lower_dirty || line != NULL;
  g_mutex_unlock (&live->lock);
  if (line) {
    gsize len = strlen (line);
    GstBuffer *buf = gst_buffer_new_memdup (line, len);
    GstClockTime rt = gst_element_get_current_running_time (live->pipeline);

    GST_BUFFER_PTS (buf) = rt;
    printf ("live: %.3f s say: %s\n", running_s (live), line);
    gst_app_src_push_buffer (GST_APP_SRC (live->text_src), buf);
    g_free (line);
  }
  if (dirty)
    set_lower_third (live);
  return G_SOURCE_CONTINUE;
}

/* --- products */

static gboolean
on_rotate (gpointer data)
{
  Live *live = data;

  live->rotate_id = 0;
  /* stopping: the line being said ends on the product it is about */
  if (live->stopping)
    return G_SOURCE_REMOVE;
  if (!live->paused && live->products->len > 1)
    show_product (live, (live->current + 1) % live->products->len, "interval");
  else
    live->rotate_id = g_timeout_add_seconds (live->interval, on_rotate, live);
  return G_SOURCE_REMOVE;
}

static void
show_product (Live * live, gint index, const gchar * why)
{
  KlingLiveProduct *p = g_ptr_array_index (live->products, index);
  gchar **lines;
  guint i;

  live->current = index;
  if (live->picture_src)
    gst_app_src_push_buffer (GST_APP_SRC (live->picture_src),
        gst_buffer_ref (g_ptr_array_index (live->pictures, index)));
  lines = kling_live_copy_lines (p);
  g_mutex_lock (&live->lock);
  kling_live_voice_clear (live->voice);
  for (i = 0; lines[i]; i++)
    kling_live_voice_push (live->voice, lines[i]);
  g_mutex_unlock (&live->lock);
  g_strfreev (lines);
  printf ("live: %.3f s product %d/%u %s (%s)\n", running_s (live),
      index + 1, live->products->len, p->name, why);
  set_lower_third (live);
  if (live->rotate_id)
    g_source_remove (live->rotate_id);
  live->rotate_id = g_timeout_add_seconds (live->interval, on_rotate, live);
}

static void
run_command (Live * live, const gchar * line)
{
  KlingLiveCommand cmd;
  guint n = live->products->len;

  kling_live_command_parse (line, live->products, &cmd);
  switch (cmd.type) {
    case KLING_LIVE_CMD_NONE:
      break;
    case KLING_LIVE_CMD_NEXT:
      show_product (live, (live->current + 1) % n, "next");
      break;
    case KLING_LIVE_CMD_PREV:
      show_product (live, (live->current + n - 1) % n, "prev");
      break;
    case KLING_LIVE_CMD_PAUSE:
      live->paused = !live->paused;
      printf ("live: %.3f s %s\n", running_s (live), live->paused ?
          "paused: the product stays until `pause` again, `next` or `prev`" :
          "resumed");
      break;
    case KLING_LIVE_CMD_SAY:
      g_mutex_lock (&live->lock);
      /* the operator's line goes next, after the one being said */
      kling_live_voice_push_front (live->voice, cmd.text);
      g_mutex_unlock (&live->lock);
      break;
    case KLING_LIVE_CMD_QUESTION:{
      gchar *why = g_strdup_printf ("question: %s", cmd.text);
      show_product (live, cmd.product, why);
      g_free (why);
      break;
    }
    case KLING_LIVE_CMD_UNKNOWN:
      printf ("live: %.3f s not about a product, ignored: %s\n",
          running_s (live), cmd.text);
      break;
  }
  fflush (stdout);
  kling_live_command_clear (&cmd);
}

static gboolean
on_command_input (GIOChannel * ch, GIOCondition cond, gpointer data)
{
  Live *live = data;
  gchar *line = NULL;
  gsize len = 0;
  GIOStatus st;

  for (;;) {
    st = g_io_channel_read_line (ch, &line, &len, NULL, NULL);
    if (st != G_IO_STATUS_NORMAL)
      break;
    if (!live->stopping)
      run_command (live, line);
    g_free (line);
  }
  if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR) {
    /* stdin closed: the show goes on without commands */
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* a client of the command socket: lines until it closes */
typedef struct
{
  Live *live;
  GSocketConnection *conn;
  GDataInputStream *in;
} Client;

static void
on_client_line (GObject * source, GAsyncResult * res, gpointer data)
{
  Client *c = data;
  gchar *line;
  gsize len = 0;

  line = g_data_input_stream_read_line_finish (c->in, res, &len, NULL);
  if (line == NULL || len > KLING_LIVE_MAX_LINE) {
    /* closed, failed, or a line no viewer writes: drop the client */
    g_free (line);
    g_object_unref (c->in);
    g_object_unref (c->conn);
    g_free (c);
    return;
  }
  if (!c->live->stopping)
    run_command (c->live, line);
  g_free (line);
  g_data_input_stream_read_line_async (c->in, G_PRIORITY_DEFAULT, NULL,
      on_client_line, c);
}

static gboolean
on_client (GSocketService * service, GSocketConnection * conn,
    GObject * source, gpointer data)
{
  Client *c = g_new0 (Client, 1);

  c->live = data;
  c->conn = g_object_ref (conn);
  c->in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM
          (conn)));
  g_data_input_stream_set_newline_type (c->in, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  g_data_input_stream_read_line_async (c->in, G_PRIORITY_DEFAULT, NULL,
      on_client_line, c);
  return TRUE;
}

/* --commands tcp:PORT: a socket on 127.0.0.1 only */
static gboolean
listen_commands (Live * live, const gchar * port_text, GError ** error)
{
  GInetAddress *lo;
  GSocketAddress *addr, *bound = NULL;
  gchar *end = NULL;
  gint64 port = g_ascii_strtoll (port_text, &end, 10);
  gboolean ok;

  if (end == port_text || *end || port < 0 || port > 65535) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "--commands tcp:%s: give a port, 0 to 65535 (0: any free one)",
        port_text);
    return FALSE;
  }
  live->service = g_socket_service_new ();
  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (lo, port);
  ok = g_socket_listener_add_address (G_SOCKET_LISTENER (live->service),
      addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound, error);
  g_object_unref (addr);
  g_object_unref (lo);
  if (!ok) {
    g_prefix_error (error, "--commands tcp:%s: ", port_text);
    return FALSE;
  }
  printf ("live: commands on 127.0.0.1:%u\n",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_object_unref (bound);
  g_signal_connect (live->service, "incoming", G_CALLBACK (on_client), live);
  g_socket_service_start (live->service);
  return TRUE;
}

static gboolean
watch_commands (Live * live, GError ** error)
{
  GIOChannel *ch;
  gint fd;

  if (live->commands == NULL)
    return TRUE;
  if (g_str_has_prefix (live->commands, "tcp:"))
    return listen_commands (live, live->commands + 4, error);
  if (strcmp (live->commands, "-") == 0) {
    fd = 0;
  } else {
    struct stat st;
    if (stat (live->commands, &st) != 0 || !S_ISFIFO (st.st_mode)) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "--commands %s: not a FIFO (make one with mkfifo, or give - for "
          "stdin, or tcp:PORT)", live->commands);
      return FALSE;
    }
    /* read-write: no end of file when a writer closes it */
    fd = open (live->commands, O_RDWR | O_NONBLOCK);
    if (fd < 0) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "--commands %s: %s", live->commands, g_strerror (errno));
      return FALSE;
    }
  }
  ch = g_io_channel_unix_new (fd);
  g_io_channel_set_encoding (ch, NULL, NULL);
  g_io_channel_set_flags (ch, G_IO_FLAG_NONBLOCK, NULL);
  g_io_channel_set_close_on_unref (ch, fd != 0);
  g_io_add_watch (ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_command_input, live);
  g_io_channel_unref (ch);
  return TRUE;
}

/* --- the pipeline */

static const gchar *
aac_encoder (void)
{
  static const gchar *names[] = { "avenc_aac", "voaacenc", "fdkaacenc" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    GstElementFactory *f = gst_element_factory_find (names[i]);
    if (f) {
      gst_object_unref (f);
      return names[i];
    }
  }
  return NULL;
}

static gboolean
check_elements (Live * live, GError ** error)
{
  const gchar *need[] = { "klinghost", "klingspeak", "compositor",
    "textoverlay", "imagefreeze", "x264enc", "h264parse", "aacparse",
    "flvmux", "rtmp2sink", "mpegtsmux", "srtsink", "mp4mux",
    "aiproductdetect", "uridecodebin", "videorate"
  };
  const gchar *from[] = { "gst-kling", "gst-kling (klingspeak, espeak-ng)",
    "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-base (pango)",
    "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-plugins-bad", "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-bad", "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-good", "gst-kling", "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-base"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (need); i++) {
    GstElementFactory *f;
    if ((g_str_equal (need[i], "flvmux") || g_str_equal (need[i],
                "rtmp2sink")) && live->out_kind != KLING_LIVE_OUT_RTMP
        && live->out_kind != KLING_LIVE_OUT_FLV)
      continue;
    if (g_str_equal (need[i], "rtmp2sink")
        && live->out_kind != KLING_LIVE_OUT_RTMP)
      continue;
    if (g_str_equal (need[i], "mpegtsmux") && live->out_kind !=
        KLING_LIVE_OUT_SRT && live->out_kind != KLING_LIVE_OUT_TS)
      continue;
    if (g_str_equal (need[i], "srtsink")
        && live->out_kind != KLING_LIVE_OUT_SRT)
      continue;
    if (g_str_equal (need[i], "mp4mux")
        && live->out_kind != KLING_LIVE_OUT_MP4)
      continue;
    if (i >= G_N_ELEMENTS (need) - 3 && live->camera == NULL)
      continue;
    f = gst_element_factory_find (need[i]);
    if (f == NULL) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "no GStreamer element %s: install %s", need[i], from[i]);
      return FALSE;
    }
    gst_object_unref (f);
  }
  if (aac_encoder () == NULL) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "no AAC encoder (avenc_aac, voaacenc or fdkaacenc): install "
        "gstreamer1.0-libav");
    return FALSE;
  }
  return TRUE;
}

/* in the main loop: the first buffer of this pipeline reached the sink */
static gboolean
on_first_out (gpointer data)
{
  Live *live = data;

  if (live->lost_at) {
    printf ("live: reconnected %.2f s after losing the server "
        "(reconnection %u)\n",
        (g_get_monotonic_time () - live->lost_at) / 1e6, live->reconnects);
    fprintf (stderr, "gst-kling-live: reconnected to %s\n", live->output);
    live->lost_at = 0;
    live->failures = 0;
    live->retry_s = 1;
  } else if (!live->ever_out) {
    printf ("live: first data out %.2f s after start\n", wall_s (live));
  }
  live->ever_out = TRUE;
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
on_sink_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_main_context_invoke (NULL, on_first_out, user_data);
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
on_first_video (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  printf ("live: first frame at running time %.3f s\n",
      GST_BUFFER_PTS (buf) / (gdouble) GST_SECOND);
  fflush (stdout);
  return GST_PAD_PROBE_REMOVE;
}

/* The compositor can push its first frame twice at start (a timeout, then
 * the data): x264enc and mp4mux need rising timestamps, so drop repeats */
static GstPadProbeReturn
on_composited (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Live *live = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime first_picture;

  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID
      (live->last_pts) && pts <= live->last_pts)
    return GST_PAD_PROBE_DROP;
  /* on a busy machine the compositor's first frames can come before the
   * product's picture has: black, not shown */
  g_mutex_lock (&live->lock);
  first_picture = live->first_picture;
  g_mutex_unlock (&live->lock);
  if (!GST_CLOCK_TIME_IS_VALID (first_picture) || (GST_CLOCK_TIME_IS_VALID
          (pts) && pts < first_picture))
    return GST_PAD_PROBE_DROP;
  live->last_pts = pts;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_picture_in (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Live *live = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  g_mutex_lock (&live->lock);
  live->first_picture = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf)
      : 0;
  g_mutex_unlock (&live->lock);
  return GST_PAD_PROBE_REMOVE;
}

static gboolean
on_retry (gpointer data)
{
  Live *live = data;
  GError *err = NULL;

  live->retry_id = 0;
  if (live->stopping)
    return G_SOURCE_REMOVE;
  live->reconnects++;
  fprintf (stderr, "gst-kling-live: reconnecting to %s (attempt %u)\n",
      live->output, live->reconnects);
  if (!build_and_play (live, &err)) {
    fprintf (stderr, "gst-kling-live: %s\n", err->message);
    g_clear_error (&err);
    live->exit_code = 1;
    g_main_loop_quit (live->loop);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
is_output_error (Live * live, GstMessage * msg)
{
  GstElement *sink;
  gboolean from_sink;

  if (!kling_live_output_is_network (live->out_kind))
    return FALSE;
  sink = gst_bin_get_by_name (GST_BIN (live->pipeline), "sink");
  from_sink = sink && (GST_MESSAGE_SRC (msg) == GST_OBJECT (sink)
      || gst_object_has_as_ancestor (GST_MESSAGE_SRC (msg), GST_OBJECT (sink)));
  g_clear_object (&sink);
  return from_sink;
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Live *live = data;
  GError *err = NULL;
  gchar *dbg = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &dbg);
      if (is_output_error (live, msg) && !live->stopping) {
        /* the server went away (or is not there yet): a new pipeline,
         * after 1 s, 5 s after five failures in a row */
        fprintf (stderr, "gst-kling-live: lost %s: %s; reconnecting in "
            "%u s\n", live->output, err->message, live->retry_s);
        printf ("live: %.3f s lost the server\n", running_s (live));
        fflush (stdout);
        if (live->lost_at == 0)
          live->lost_at = g_get_monotonic_time ();
        live->bus_watch = 0;    /* this watch ends by returning REMOVE */
        teardown (live);
        live->retry_id = g_timeout_add_seconds (live->retry_s, on_retry, live);
        live->failures++;
        live->retry_s = live->failures < 5 ? 1 : 5;
        g_clear_error (&err);
        g_free (dbg);
        return G_SOURCE_REMOVE;
      }
      fprintf (stderr, "gst-kling-live: %s: %s\n",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      if (dbg)
        fprintf (stderr, "  (%s)\n", dbg);
      live->exit_code = 1;
      g_main_loop_quit (live->loop);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &dbg);
      fprintf (stderr, "gst-kling-live: warning: %s: %s\n",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      break;
    case GST_MESSAGE_ELEMENT:
      if (live->camera && !live->stopping && gst_message_has_name (msg,
              "aiproductdetect"))
        on_camera_detections (live, gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_EOS:
      printf ("live: %.3f s end of stream\n", running_s (live));
      g_main_loop_quit (live->loop);
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (dbg);
  return G_SOURCE_CONTINUE;
}

static void
teardown (Live * live)
{
  if (live->pipeline == NULL)
    return;
  if (live->bus_watch)
    g_source_remove (live->bus_watch);
  live->bus_watch = 0;
  gst_element_set_state (live->pipeline, GST_STATE_NULL);
  gst_clear_object (&live->picture_src);
  gst_clear_object (&live->text_src);
  gst_clear_object (&live->lower);
  gst_clear_object (&live->comp);
  gst_clear_object (&live->pipeline);
  g_mutex_lock (&live->lock);
  kling_live_voice_reset (live->voice);
  g_mutex_unlock (&live->lock);
}

static gboolean
build_and_play (Live * live, GError ** error)
{
  const gchar *mux;
  gchar *desc, *font, *picture;
  GstElement *e;
  GstPad *pad;
  GstBus *bus;
  GstStateChangeReturn ret;
  GError *err = NULL;

  switch (live->out_kind) {
    case KLING_LIVE_OUT_RTMP:
      mux = "flvmux name=mux streamable=true ! rtmp2sink name=sink";
      break;
    case KLING_LIVE_OUT_FLV:
      mux = "flvmux name=mux ! filesink name=sink";
      break;
    case KLING_LIVE_OUT_SRT:
      mux = "mpegtsmux name=mux alignment=7 ! srtsink name=sink";
      break;
    case KLING_LIVE_OUT_TS:
      mux = "mpegtsmux name=mux ! filesink name=sink";
      break;
    case KLING_LIVE_OUT_MP4:
    default:
      mux = "mp4mux name=mux ! filesink name=sink";
      break;
  }
  if (live->camera)
    /* the camera, boxes drawn; a file plays at the pace the compositor
     * takes it */
    picture = g_strdup_printf ("videoconvert name=camera_in ! videoscale "
        "add-borders=true ! videorate ! video/x-raw,width=%d,height=%d,"
        "pixel-aspect-ratio=1/1,framerate=%d/1 ! videoconvert ! "
        "aiproductdetect name=detect draw=true copy-model=none "
        "live-mode=true ! queue max-size-buffers=3 ! comp.sink_0 "
        "detect.text_src ! fakesink sync=false async=false", live->width,
        live->height, live->fps);
  else
    picture = g_strdup_printf ("appsrc name=picture format=time ! "
        "imagefreeze is-live=true allow-replace=true ! "
        "video/x-raw,framerate=%d/1 ! queue max-size-buffers=3 ! comp.sink_0",
        live->fps);
  desc = g_strdup_printf (
      /* the product */
      "%s "
      /* the voice, and the host speaking it */
      "appsrc name=text format=time is-live=true "
      "caps=text/x-raw,format=utf8 ! klingspeak name=speak is-live=true "
      "! tee name=voice  speak.words ! fakesink sync=false async=false "
      "appsrc name=portrait format=time ! host.image "
      "voice. ! queue ! host.audio  klinghost name=host live-mode=true "
      "framerate=%d/1 ! queue max-size-buffers=5 ! comp.sink_1 "
      /* picture, host, lower third */
      "compositor name=comp background=black ! video/x-raw,width=%d,"
      "height=%d,framerate=%d/1 ! textoverlay name=lower valignment=bottom "
      "halignment=left line-alignment=left shaded-background=true "
      "wait-text=false ! videoconvert ! video/x-raw,format=I420 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d "
      "bitrate=%d ! video/x-h264,profile=constrained-baseline ! "
      "h264parse ! queue max-size-time=2000000000 "
      "max-size-buffers=0 max-size-bytes=0 ! mux. "
      "voice. ! queue ! audioconvert ! audioresample ! "
      "audio/x-raw,rate=44100,channels=2 ! %s ! aacparse ! "
      "queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 "
      "! mux.  %s", picture, live->fps, live->width, live->height,
      live->fps, live->fps * 2, live->bitrate, aac_encoder (), mux);
  live->pipeline = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  g_free (desc);
  g_free (picture);
  if (live->pipeline == NULL) {
    g_propagate_prefixed_error (error, err, "cannot make the pipeline: ");
    return FALSE;
  }
  if (live->camera) {
    add_camera (live, live->pipeline);
    e = gst_bin_get_by_name (GST_BIN (live->pipeline), "detect");
    g_object_set (e, "model", live->detect_model, "labels-file",
        live->labels_file, NULL);
    gst_object_unref (e);
    kling_live_camera_init (&live->camera_kinds);
  }
  live->generation++;
  live->picture_src = gst_bin_get_by_name (GST_BIN (live->pipeline), "picture");
  live->text_src = gst_bin_get_by_name (GST_BIN (live->pipeline), "text");
  live->lower = gst_bin_get_by_name (GST_BIN (live->pipeline), "lower");
  live->comp = gst_bin_get_by_name (GST_BIN (live->pipeline), "comp");
  if (live->picture_src)
    g_object_set (live->picture_src, "caps", live->picture_caps, NULL);
  font = g_strdup_printf ("Sans Bold %d", MAX (8, live->height / 28));
  g_object_set (live->lower, "font-desc", font, NULL);
  g_free (font);

  e = gst_bin_get_by_name (GST_BIN (live->pipeline), "portrait");
  g_object_set (e, "caps", live->portrait_caps, NULL);
  gst_app_src_push_buffer (GST_APP_SRC (e), gst_buffer_ref
      (live->portrait_buf));
  gst_app_src_end_of_stream (GST_APP_SRC (e));
  gst_object_unref (e);

  e = gst_bin_get_by_name (GST_BIN (live->pipeline), "speak");
  if (live->speech_model)
    g_object_set (e, "model", live->speech_model, NULL);
  pad = gst_element_get_static_pad (e, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_voice_audio, live,
      NULL);
  gst_object_unref (pad);
  gst_object_unref (e);

  e = gst_bin_get_by_name (GST_BIN (live->pipeline), "host");
  g_object_set (e, "model", live->host_model, NULL);
  gst_object_unref (e);

  /* the host top right, the product under it */
  pad = gst_element_get_static_pad (live->comp, "sink_1");
  g_object_set (pad, "xpos", live->width - live->pip_w - live->width / 40,
      "ypos", live->height / 20, "zorder", 2, NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (live->comp, "sink_0");
  /* a camera file that ends leaves its last frame, not black */
  g_object_set (pad, "zorder", 1, "repeat-after-eos", live->camera != NULL,
      NULL);
  gst_object_unref (pad);

  e = gst_bin_get_by_name (GST_BIN (live->pipeline), "sink");
  if (live->out_kind == KLING_LIVE_OUT_SRT)
    /* srtsink's own reconnection (auto-reconnect) only warns, and blocks
     * the stream in connection timeouts while the listener is away; its
     * error instead brings the reconnection RTMP has: reported, the
     * pipeline made again every second, the copy started again */
    g_object_set (e, "uri", live->output, "auto-reconnect", FALSE, NULL);
  else
    g_object_set (e, "location", live->output, NULL);
  if (kling_live_output_is_network (live->out_kind))
    g_object_set (e, "sync", FALSE, NULL);
  pad = gst_element_get_static_pad (e, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, on_sink_buffer, live, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);

  /* the composited frames' timestamps are running times (the
   * compositor's segment starts at 0); the first one printed is the first
   * one on_composited lets through (a dropped buffer skips later probes) */
  pad = gst_element_get_static_pad (live->comp, "src");
  live->last_pts = GST_CLOCK_TIME_NONE;
  live->first_picture = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_composited, live, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_first_video, live,
      NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (live->comp, "sink_0");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_picture_in, live, NULL);
  gst_object_unref (pad);

  bus = gst_element_get_bus (live->pipeline);
  live->bus_watch = gst_bus_add_watch (bus, on_bus, live);
  gst_object_unref (bus);

  /* the current product's picture first, then the copy */
  if (live->picture_src)
    gst_app_src_push_buffer (GST_APP_SRC (live->picture_src),
        gst_buffer_ref (g_ptr_array_index (live->pictures, live->current)));
  ret = gst_element_set_state (live->pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    /* the reason is on the bus, the watch reports it */
    printf ("live: the pipeline did not start\n");
  }
  show_product (live, live->current, live->reconnects ? "reconnected" :
      "start");
  return TRUE;
}

/* --- stopping */

static gboolean
on_eos_timeout (gpointer data)
{
  Live *live = data;

  live->eos_timeout_id = 0;
  fprintf (stderr, "gst-kling-live: no end of stream %d s after stopping; "
      "the output may be incomplete\n", EOS_TIMEOUT_S);
  g_main_loop_quit (live->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
end_picture (gpointer data)
{
  Live *live = data;
  GstPad *pad;

  if (live->comp == NULL)
    return G_SOURCE_REMOVE;
  pad = gst_element_get_static_pad (live->comp, "sink_0");
  gst_pad_send_event (pad, gst_event_new_eos ());
  gst_object_unref (pad);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
on_host_eos (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  g_main_context_invoke (NULL, end_picture, user_data);
  return GST_PAD_PROBE_REMOVE;
}

static void
stop (Live * live, const gchar * why)
{
  GstPad *pad;

  if (live->stopping) {
    g_main_loop_quit (live->loop);
    return;
  }
  live->stopping = TRUE;
  printf ("live: %.3f s stopping (%s)\n", running_s (live), why);
  fflush (stdout);
  if (live->pipeline == NULL) {
    g_main_loop_quit (live->loop);
    return;
  }
  /* EOS into the sources: the voice finishes its line, then the host
   * ends; imagefreeze keeps its picture through an EOS from upstream, so
   * the compositor's product pad gets one when the host's has */
  pad = gst_element_get_static_pad (live->comp, "sink_1");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_host_eos,
      live, NULL);
  gst_object_unref (pad);
  gst_element_send_event (live->pipeline, gst_event_new_eos ());
  live->eos_timeout_id = g_timeout_add_seconds (EOS_TIMEOUT_S,
      on_eos_timeout, live);
}

static gboolean
on_signal (gpointer data)
{
  Live *live = data;
  gint64 now = g_get_monotonic_time ();

  /* a second signal forces the end, unless it is the same one delivered
   * twice (timeout(1) sends it to the child and to its process group) */
  if (live->stopping && now - live->signal_at < G_USEC_PER_SEC / 2)
    return G_SOURCE_CONTINUE;
  live->signal_at = now;
  stop (live, "signal");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_duration (gpointer data)
{
  stop (data, "--duration");
  return G_SOURCE_REMOVE;
}

/* --- main */

static gboolean
find_model (gchar ** path, const gchar * option, const gchar * default_file,
    const gchar * what, GError ** error)
{
  if (*path) {
    if (!g_file_test (*path, G_FILE_TEST_IS_REGULAR)) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "%s %s: no such file", option, *path);
      return FALSE;
    }
    return TRUE;
  }
  *path = kling_package_find_default (default_file);
  if (*path == NULL) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "no %s model: %s is in neither GST_KLING_MODEL_PATH nor %s; give "
        "%s FILE (docs/models.md)", what, default_file, KLING_MODEL_DIR,
        option);
    return FALSE;
  }
  return TRUE;
}

/* --copy-model and --detect-model: FILE, "none", or (not given) the
 * shipped default; @needed: a missing default is an error, else NULL */
static gboolean
find_optional_model (gchar ** path, const gchar * option,
    const gchar * default_file, const gchar * what, gboolean needed,
    GError ** error)
{
  if (g_strcmp0 (*path, "none") == 0) {
    g_clear_pointer (path, g_free);
    return TRUE;
  }
  if (*path == NULL && !needed) {
    *path = kling_package_find_default (default_file);
    return TRUE;
  }
  if (*path == NULL) {
    *path = kling_package_find_default (default_file);
    if (*path == NULL)
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "no %s model: %s is in neither GST_KLING_MODEL_PATH nor %s; give "
          "%s FILE, or %s none (docs/live.md)", what, default_file,
          KLING_MODEL_DIR, option, option);
    return *path != NULL;
  }
  return find_model (path, option, default_file, what, error);
}

int
main (int argc, char **argv)
{
  Live live = { 0 };
  gchar *products_file = NULL, *size = NULL;
  gboolean posters = FALSE, version = FALSE;
  GPtrArray *all = NULL;
  GOptionEntry entries[] = {
    {"products", 'p', 0, G_OPTION_ARG_FILENAME, &products_file,
        "The products: a JSON array of {\"photo\", \"name\", \"price\", "
          "\"notes\", \"kind\"} (photo paths relative to the file)", "FILE"},
    {"host", 0, 0, G_OPTION_ARG_FILENAME, &live.portrait,
        "The host's portrait (an image, face in its middle)", "IMAGE"},
    {"output", 'o', 0, G_OPTION_ARG_STRING, &live.output,
        "rtmp://HOST[:PORT]/APP/STREAM, srt://HOST:PORT, or a .flv, .ts "
          "or .mp4 file", "WHERE"},
    {"interval", 'i', 0, G_OPTION_ARG_INT, &live.interval,
        "Seconds per product before the next (default 60)", "N"},
    {"duration", 'd', 0, G_OPTION_ARG_INT, &live.duration,
        "Stop after S seconds; 0 (default): until stopped", "S"},
    {"commands", 'c', 0, G_OPTION_ARG_FILENAME, &live.commands,
        "Read commands and viewer questions, one a line, from a FIFO or "
          "- (stdin): next, prev, pause, say TEXT, or a question", "FIFO|-"},
    {"size", 0, 0, G_OPTION_ARG_STRING, &size,
        "Video size (default 640x360)", "WxH"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &live.fps,
        "Frames per second (default 25)", "N"},
    {"bitrate", 0, 0, G_OPTION_ARG_INT, &live.bitrate,
        "Video bitrate in kbit/s (default 1500)", "KBPS"},
    {"posters", 0, 0, G_OPTION_ARG_NONE, &posters,
        "Show a ketuposter poster of each product instead of its photo "
          "(made at start; slow on a CPU)", NULL},
    {"poster-prompt", 0, 0, G_OPTION_ARG_STRING, &live.prompt,
        "The posters' scene (default \"studio\")", "TEXT"},
    {"host-model", 0, 0, G_OPTION_ARG_FILENAME, &live.host_model,
        "klinghost's talking-head package (default: kling-host.pt)", "FILE"},
    {"speech-model", 0, 0, G_OPTION_ARG_FILENAME, &live.speech_model,
        "klingspeak's speech package (default: espeak-ng)", "FILE"},
    {"poster-model", 0, 0, G_OPTION_ARG_FILENAME, &live.poster_model,
          "ketuposter's package (implies --posters; default kling-poster.pt)",
        "FILE"},
    {"copy-model", 0, 0, G_OPTION_ARG_FILENAME, &live.copy_model,
          "The copywriter's package, writing lines about each product photo "
          "at start; none: templated copy only (default: "
          COPY_MODEL_FILE ")", "FILE|none"},
    {"detect-model", 0, 0, G_OPTION_ARG_FILENAME, &live.detect_model,
          "The detector's package: the product's box and kind on its photo "
          "for the copywriter, the boxes on the camera; none: the whole "
          "photo (default: " DETECT_MODEL_FILE " when installed)",
        "FILE|none"},
    {"detect-labels", 0, 0, G_OPTION_ARG_FILENAME, &live.labels_file,
          "The detector's labels, one a line (line N: class N), replacing "
          "its manifest's: the kinds of a detector trained on other names",
        "FILE"},
    {"camera", 0, 0, G_OPTION_ARG_STRING, &live.camera,
          "Show this live source as the product picture, boxes drawn by "
          "aiproductdetect: a URI uridecodebin plays, or a V4L2 device path",
        "URI|DEVICE"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  guint i;

  setlocale (LC_ALL, "");
  if (!g_get_charset (NULL))
    setlocale (LC_CTYPE, "C.UTF-8");
  setvbuf (stdout, NULL, _IOLBF, 0);
  live.interval = 60;
  live.fps = 25;
  live.width = 640;
  live.height = 360;
  live.bitrate = 1500;
  live.retry_s = 1;
  g_mutex_init (&live.lock);
  live.voice = kling_live_voice_new ();
  ctx = g_option_context_new ("- a live-commerce stream with a talking host");
  g_option_context_set_summary (ctx, "Presents the products one after "
      "another with a digital host picture-in-picture who speaks copy about "
      "each, a lower third with name and price, and switches to a product "
      "when a viewer asks about it; streams H.264 and AAC to RTMP, SRT or a "
      "file until stopped (Ctrl-C ends the stream cleanly).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    goto fail;
  if (version) {
    printf ("gst-kling-live %s\n", VERSION);
    goto done;
  }
  if (argc != 1 || products_file == NULL || live.portrait == NULL
      || live.output == NULL) {
    g_set_error (&error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "give --products FILE, --host PORTRAIT and -o WHERE (see --help)");
    goto fail;
  }
  if (!kling_live_parse_output (live.output, &live.out_kind, &error))
    goto fail;
  if (live.interval < 1 || live.duration < 0 || live.fps < 1
      || live.fps > 60 || live.bitrate < 100 || live.bitrate > 50000) {
    g_set_error (&error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "--interval must be 1 or more, --duration 0 or more, --fps 1 to 60, "
        "--bitrate 100 to 50000");
    goto fail;
  }
  if (size) {
    gchar *end = NULL;
    live.width = g_ascii_strtoll (size, &end, 10);
    live.height = end && *end == 'x' ? g_ascii_strtoll (end + 1, &end, 10) : 0;
    if (end == NULL || *end || live.width < 160 || live.height < 90
        || live.width > 3840 || live.height > 2160 || live.width % 2
        || live.height % 2) {
      g_set_error (&error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "--size %s: WxH, even, from 160x90 to 3840x2160", size);
      goto fail;
    }
  }
  /* the host: a square 2/5 of the height */
  live.pip_h = live.pip_w = (live.height * 2 / 5) & ~1;
  if (live.prompt == NULL)
    live.prompt = g_strdup ("studio");

  gst_init (NULL, NULL);
  if (!check_elements (&live, &error))
    goto fail;
  if (!find_model (&live.host_model, "--host-model", "kling-host.pt",
          "talking-head", &error))
    goto fail;
  if (live.speech_model && !g_file_test (live.speech_model,
          G_FILE_TEST_IS_REGULAR)) {
    g_set_error (&error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "--speech-model %s: no such file", live.speech_model);
    goto fail;
  }
  if ((posters || live.poster_model) && !find_model (&live.poster_model,
          "--poster-model", "kling-poster.pt", "poster", &error))
    goto fail;
  if (!find_optional_model (&live.copy_model, "--copy-model",
          COPY_MODEL_FILE, "copywriter", TRUE, &error)
      || !find_optional_model (&live.detect_model, "--detect-model",
          DETECT_MODEL_FILE, "detector", live.camera != NULL, &error))
    goto fail;
  if (live.labels_file) {
    live.labels = kling_labels_read_file (live.labels_file,
        KLING_LABELS_FILE_MAX_BYTES, &error);
    if (live.labels == NULL) {
      g_prefix_error (&error, "--detect-labels %s: ", live.labels_file);
      goto fail;
    }
  }
  if (live.camera && live.detect_model == NULL) {
    g_set_error (&error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "--camera needs a detector: give --detect-model FILE, not none");
    goto fail;
  }
  if (live.camera) {
    gchar *uri = camera_uri (live.camera, &error);
    if (uri == NULL)
      goto fail;
    g_free (live.camera);
    live.camera = uri;
  }
  all = kling_live_products_load (products_file, &error);
  if (all == NULL)
    goto fail;
  live.started = g_get_monotonic_time ();
  if (!prepare_stills (&live, all, &error))
    goto fail;
  if (live.camera && !check_camera (&live, &error))
    goto fail;
  if (!write_copy (&live, &error))
    goto fail;
  printf ("live: %u products, output %s\n", live.products->len, live.output);
  for (i = 0; i < live.products->len; i++) {
    KlingLiveProduct *p = g_ptr_array_index (live.products, i);
    printf ("live: product %u: %s%s%s (kind %s)\n", i + 1, p->name,
        p->price ? " " : "", p->price ? p->price : "",
        kling_live_kind_name (p->kind));
  }
  if (!watch_commands (&live, &error))
    goto fail;

  live.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, &live);
  g_unix_signal_add (SIGTERM, on_signal, &live);
  if (live.duration > 0)
    g_timeout_add_seconds (live.duration, on_duration, &live);
  live.tick_id = g_timeout_add (100, on_tick, &live);
  if (!build_and_play (&live, &error))
    goto fail;
  g_main_loop_run (live.loop);
  if (live.exit_code == 0 && !live.ever_out)
    fprintf (stderr, "gst-kling-live: warning: nothing was sent\n");
  teardown (&live);
  g_main_loop_unref (live.loop);
  live.loop = NULL;
  if (live.exit_code == 0)
    printf ("live: done, %u reconnection(s)\n", live.reconnects);
  goto done;

fail:
  fprintf (stderr, "gst-kling-live: %s\n", error->message);
  g_clear_error (&error);
  live.exit_code = 1;
done:
  if (live.loop)
    g_main_loop_unref (live.loop);
  if (all)
    g_ptr_array_unref (all);
  if (live.service)
    g_socket_service_stop (live.service);
  g_clear_object (&live.service);
  g_clear_pointer (&live.products, g_ptr_array_unref);
  g_clear_pointer (&live.pictures, g_ptr_array_unref);
  gst_clear_caps (&live.picture_caps);
  gst_clear_caps (&live.portrait_caps);
  gst_clear_buffer (&live.portrait_buf);
  kling_live_voice_free (live.voice);
  g_mutex_clear (&live.lock);
  g_free (products_file);
  g_free (size);
  g_free (live.output);
  g_free (live.host_model);
  g_free (live.speech_model);
  g_free (live.poster_model);
  g_free (live.portrait);
  g_free (live.commands);
  g_free (live.prompt);
  g_free (live.copy_model);
  g_free (live.detect_model);
  g_free (live.labels_file);
  g_strfreev (live.labels);
  g_free (live.camera);
  g_option_context_free (ctx);
  return live.exit_code;
}
