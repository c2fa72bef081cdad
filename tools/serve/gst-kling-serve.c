/* gst-kling-serve: clips generated on request, streamed over RTSP while
 * they are generated
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   gst-kling-serve [--address 127.0.0.1] [--port 8554] [--max-jobs 2]
 *   gst-play-1.0 "rtsp://127.0.0.1:8554/generate?prompt=夏日海邊視頻"
 *
 * Each request is a klinggen pipeline encoded to H.264 as its chunks come
 * out; identical requests at the same time share one media (and one
 * generation), all pipelines share one loaded model
 * (GST_KLING_SHARE_MODELS, gst/core/kling-model-cache.h), a client
 * leaving stops its generation, and finished clips can be kept for replay
 * (--cache-dir).  docs/serving.md says how to run it and what it answers.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <libsoup/soup.h>

#include "kling-serve-cache.h"
#include "kling-serve-jobs.h"
#include "kling-serve-query.h"

GST_DEBUG_CATEGORY_STATIC (kling_serve_debug);
#define GST_CAT_DEFAULT kling_serve_debug

#define MOUNT_PATH "/generate"
#define ROLE "user"
/* an admitted request whose DESCRIBE never built a media frees its slot */
#define PENDING_MAX_AGE (30 * G_USEC_PER_SEC)
#define REASON_KEY "kling-serve-reason"

typedef struct
{
  KlingJobTable *jobs;
  KlingClipCache *cache;
  KlingServeLimits limits;
  gchar *model;
  gint threads;
  gboolean auth;
  guint session_timeout;
} KlingServe;

static KlingServe serve;

/* ---------------------------------------------------------------------- */
/* The media: one generation (or one replay), its job's progress */

#define KLING_TYPE_SERVE_MEDIA (kling_serve_media_get_type ())
G_DECLARE_FINAL_TYPE (KlingServeMedia, kling_serve_media, KLING, SERVE_MEDIA,
    GstRTSPMedia);

struct _KlingServeMedia
{
  GstRTSPMedia parent;
  guint64 job;                  /* 0: a replay */
  gchar *key;
  gchar *part;                  /* the clip being written to the cache */
  guint64 chunks_done, chunks;
  struct _JobInfo *info;
};

G_DEFINE_TYPE (KlingServeMedia, kling_serve_media, GST_TYPE_RTSP_MEDIA);

/* what create_element leaves on the bin for media_constructed, shared
 * (refcounted) with the pad probes that see the clip end */
typedef struct _JobInfo
{
  guint64 job;
  gchar *key, *part;
  gint stream_done;             /* atomic: EOS went through the payloader */
  gint file_done;               /* atomic: EOS reached the cache's filesink */
} JobInfo;

static void
job_info_clear (JobInfo * info)
{
  g_free (info->key);
  g_free (info->part);
}

static void
job_info_unref (JobInfo * info)
{
  g_atomic_rc_box_release_full (info, (GDestroyNotify) job_info_clear);
}

/* The pipeline posted EOS (every sink has it: the part file is flushed)
 * or is at NULL (@stopped: the part file is closed).  A clip that went out
 * whole (stream_eos) is done and, when its file is whole too, cached; any
 * other ends cancelled. */
static void
end_job (KlingServeMedia * self, gboolean stopped)
{
  gint64 now = g_get_monotonic_time ();

  if (self->job == 0 || serve.jobs == NULL)
    return;
  if (g_atomic_int_get (&self->info->stream_done)) {
    kling_job_table_finish (serve.jobs, self->job, KLING_JOB_DONE, NULL, now);
    if (self->part && g_atomic_int_get (&self->info->file_done)) {
      GError *error = NULL;

      if (!kling_clip_cache_commit (serve.cache, self->key, self->part, &error)) {
        GST_WARNING ("job %" G_GUINT64_FORMAT ": not cached: %s",
            self->job, error->message);
        g_error_free (error);
      }
      g_clear_pointer (&self->part, g_free);
    }
  } else if (stopped && kling_job_table_finish (serve.jobs, self->job,
          KLING_JOB_CANCELLED, NULL, now)) {
    GST_INFO ("job %" G_GUINT64_FORMAT " cancelled after %" G_GUINT64_FORMAT
        " of %" G_GUINT64_FORMAT " chunks: its clients left", self->job,
        self->chunks_done, self->chunks);
  }
  if (stopped && self->part) {
    kling_clip_cache_discard (serve.cache, self->part);
    g_clear_pointer (&self->part, g_free);
  }
}

static gboolean
kling_serve_media_handle_message (GstRTSPMedia * media, GstMessage * msg)
{
  KlingServeMedia *self = KLING_SERVE_MEDIA (media);
  gint64 now = g_get_monotonic_time ();

  if (self->job == 0)
    goto chain;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      guint64 chunks;
      gdouble percent;

      if (gst_structure_has_name (s, "klinggen-progress")
          && gst_structure_get_uint64 (s, "chunks", &chunks)
          && gst_structure_get_double (s, "percent", &percent)) {
        self->chunks = chunks;
        kling_job_table_progress (serve.jobs, self->job, self->chunks_done,
            chunks, percent, now);
      }
      break;
    }
    case GST_MESSAGE_PROGRESS:{
      GstProgressType type;
      gchar *code = NULL;

      /* klinggen's "Chunk N done" */
      gst_message_parse_progress (msg, &type, &code, NULL);
      if (type == GST_PROGRESS_TYPE_COMPLETE && g_strcmp0 (code, "generate")
          == 0) {
        self->chunks_done++;
        kling_job_table_progress (serve.jobs, self->job, self->chunks_done,
            self->chunks, self->chunks ? 100.0 * self->chunks_done /
            self->chunks : 0, now);
      }
      g_free (code);
      break;
    }
    case GST_MESSAGE_EOS:
      /* every sink has its EOS: the part file is flushed */
      end_job (self, FALSE);
      break;
    case GST_MESSAGE_ERROR:{
      GError *error = NULL;

      gst_message_parse_error (msg, &error, NULL);
      GST_WARNING ("job %" G_GUINT64_FORMAT " failed: %s", self->job,
          error->message);
      kling_job_table_finish (serve.jobs, self->job, KLING_JOB_FAILED,
          error->message, now);
      g_error_free (error);
      break;
    }
    default:
      break;
  }
chain:
  return GST_RTSP_MEDIA_CLASS (kling_serve_media_parent_class)->handle_message
      (media, msg);
}

/* the pipeline is at NULL: the generator thread has been joined */
static void
kling_serve_media_unprepared (GstRTSPMedia * media)
{
  end_job (KLING_SERVE_MEDIA (media), TRUE);
  if (GST_RTSP_MEDIA_CLASS (kling_serve_media_parent_class)->unprepared)
    GST_RTSP_MEDIA_CLASS (kling_serve_media_parent_class)->unprepared (media);
}

static void
kling_serve_media_finalize (GObject * object)
{
  KlingServeMedia *self = KLING_SERVE_MEDIA (object);

  /* never prepared, or never unprepared: the job ends here */
  if (self->job && serve.jobs)
    kling_job_table_finish (serve.jobs, self->job, KLING_JOB_CANCELLED, NULL,
        g_get_monotonic_time ());
  if (self->part)
    kling_clip_cache_discard (serve.cache, self->part);
  g_free (self->part);
  g_free (self->key);
  g_clear_pointer (&self->info, job_info_unref);
  G_OBJECT_CLASS (kling_serve_media_parent_class)->finalize (object);
}

static void
kling_serve_media_class_init (KlingServeMediaClass * klass)
{
  GstRTSPMediaClass *media_class = GST_RTSP_MEDIA_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = kling_serve_media_finalize;
  media_class->handle_message = kling_serve_media_handle_message;
  media_class->unprepared = kling_serve_media_unprepared;
}

static void
kling_serve_media_init (KlingServeMedia * self)
{
}

/* ---------------------------------------------------------------------- */
/* The factory: a request's key and its pipeline */

#define KLING_TYPE_SERVE_FACTORY (kling_serve_factory_get_type ())
G_DECLARE_FINAL_TYPE (KlingServeFactory, kling_serve_factory, KLING,
    SERVE_FACTORY, GstRTSPMediaFactory);

struct _KlingServeFactory
{
  GstRTSPMediaFactory parent;
};

G_DEFINE_TYPE (KlingServeFactory, kling_serve_factory,
    GST_TYPE_RTSP_MEDIA_FACTORY);

static KlingServeRequest *
parse_url (const GstRTSPUrl * url, gchar ** reason)
{
  return kling_serve_request_parse (url->query, &serve.limits, reason);
}

/* Identical requests get the same key while their generation runs, so
 * the factory hands them the same shared media. */
static gchar *
kling_serve_factory_gen_key (GstRTSPMediaFactory * factory,
    const GstRTSPUrl * url)
{
  g_autoptr (KlingServeRequest) req = NULL;
  g_autofree gchar *reason = NULL, *key = NULL;

  req = parse_url (url, &reason);
  if (req == NULL)
    /* pre-describe/pre-setup answered 400 already */
    return g_strdup ("bad-request");
  key = kling_serve_request_key (req);
  return kling_job_table_media_key (serve.jobs, key);
}

static GstElement *
make (GstBin * bin, const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e == NULL)
    GST_ERROR ("element %s is missing: install the package that has it "
        "(docs/serving.md)", factory);
  else
    gst_bin_add (bin, e);
  return e;
}

static GstPadProbeReturn
count_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  kling_job_table_add_frames (serve.jobs, ((JobInfo *) user_data)->job, 1,
      g_get_monotonic_time ());
  return GST_PAD_PROBE_OK;
}

/* EOS leaves klinggen's clip through the payloader: the whole clip went
 * out (the BYE that tells the client comes after), the job is done now,
 * whatever the pipeline's other sinks and the client do next */
static GstPadProbeReturn
stream_eos (GstPad * pad, GstPadProbeInfo * pinfo, gpointer user_data)
{
  JobInfo *info = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (pinfo)) == GST_EVENT_EOS) {
    g_atomic_int_set (&info->stream_done, 1);
    if (kling_job_table_finish (serve.jobs, info->job, KLING_JOB_DONE, NULL,
            g_get_monotonic_time ()))
      GST_INFO ("job %" G_GUINT64_FORMAT " done", info->job);
  }
  return GST_PAD_PROBE_OK;
}

/* EOS reaches the cache's filesink: the muxer has finished the file */
static GstPadProbeReturn
file_eos (GstPad * pad, GstPadProbeInfo * pinfo, gpointer user_data)
{
  JobInfo *info = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (pinfo)) == GST_EVENT_EOS)
    g_atomic_int_set (&info->file_done, 1);
  return GST_PAD_PROBE_OK;
}

static void
add_probe (GstElement * e, const gchar * pad_name, GstPadProbeType type,
    GstPadProbeCallback cb, gpointer data, JobInfo * info)
{
  GstPad *pad = gst_element_get_static_pad (e, pad_name);

  gst_pad_add_probe (pad, type, cb, data, (GDestroyNotify) job_info_unref);
  g_atomic_rc_box_acquire (info);
  gst_object_unref (pad);
}

/* klinggen ! videoconvert ! videoscale ! I420[, size] ! x264enc !
 *   [tee ! queue ! matroskamux ! filesink (the cache's part file)]
 *   rtph264pay name=pay0 */
static GstElement *
generation_bin (const KlingServeRequest * req, JobInfo * info)
{
  const gchar *part = info->part;
  GstBin *bin = GST_BIN (gst_bin_new (NULL));
  GstElement *gen, *conv, *scale, *filter, *enc, *pay, *tee = NULL;
  GstElement *q1 = NULL, *q2 = NULL, *mux = NULL, *sink = NULL;
  GstCaps *caps;

  gen = make (bin, "klinggen", "gen");
  conv = make (bin, "videoconvert", NULL);
  scale = make (bin, "videoscale", NULL);
  filter = make (bin, "capsfilter", NULL);
  enc = make (bin, "x264enc", NULL);
  pay = make (bin, "rtph264pay", "pay0");
  if (part) {
    tee = make (bin, "tee", NULL);
    q1 = make (bin, "queue", NULL);
    q2 = make (bin, "queue", NULL);
    mux = make (bin, "matroskamux", NULL);
    sink = make (bin, "filesink", NULL);
  }
  if (!gen || !conv || !scale || !filter || !enc || !pay || (part && (!tee
              || !q1 || !q2 || !mux || !sink)))
    goto fail;

  g_object_set (gen, "prompt", req->prompt, "seed", req->seed, "duration",
      req->duration, NULL);
  if (serve.model)
    g_object_set (gen, "model", serve.model, NULL);
  if (serve.threads > 0)
    g_object_set (gen, "threads", serve.threads, NULL);
  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
      NULL);
  if (req->width > 0)
    gst_caps_set_simple (caps, "width", G_TYPE_INT, req->width, "height",
        G_TYPE_INT, req->height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1,
        1, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  /* a frame is sent as soon as it is encoded; a key frame every 16 lets
   * a client that joins a shared clip start within 2 s */
  gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
  gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "veryfast");
  g_object_set (enc, "key-int-max", 16, NULL);
  g_object_set (pay, "config-interval", -1, "pt", 96, NULL);

  if (!gst_element_link_many (gen, conv, scale, filter, enc, NULL))
    goto fail;
  if (part) {
    g_object_set (sink, "location", part, NULL);
    /* the file branch never holds back the network one */
    g_object_set (q2, "max-size-buffers", 0, "max-size-time", (guint64) 0,
        "max-size-bytes", 0, NULL);
    if (!gst_element_link_many (enc, tee, q1, pay, NULL)
        || !gst_element_link_many (tee, q2, mux, sink, NULL))
      goto fail;
  } else if (!gst_element_link (enc, pay)) {
    goto fail;
  }

  add_probe (gen, "src", GST_PAD_PROBE_TYPE_BUFFER, count_frame, info, info);
  add_probe (pay, "sink", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, stream_eos,
      info, info);
  if (part)
    add_probe (sink, "sink", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, file_eos,
        info, info);
  return GST_ELEMENT (bin);

fail:
  gst_object_unref (gst_object_ref_sink (bin));
  return NULL;
}

static void
demux_pad_added (GstElement * demux, GstPad * pad, GstElement * parse)
{
  GstPad *sink = gst_element_get_static_pad (parse, "sink");

  if (!gst_pad_is_linked (sink) && gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    GST_WARNING ("cannot link %s:%s to h264parse", GST_DEBUG_PAD_NAME (pad));
  gst_object_unref (sink);
}

/* filesrc ! matroskademux ! h264parse ! rtph264pay name=pay0 */
static GstElement *
replay_bin (const gchar * path)
{
  GstBin *bin = GST_BIN (gst_bin_new (NULL));
  GstElement *src, *demux, *parse, *pay;

  src = make (bin, "filesrc", NULL);
  demux = make (bin, "matroskademux", NULL);
  parse = make (bin, "h264parse", NULL);
  pay = make (bin, "rtph264pay", "pay0");
  if (!src || !demux || !parse || !pay || !gst_element_link (src, demux)
      || !gst_element_link (parse, pay)) {
    gst_object_unref (gst_object_ref_sink (bin));
    return NULL;
  }
  g_object_set (src, "location", path, NULL);
  g_object_set (pay, "config-interval", -1, "pt", 96, NULL);
  g_signal_connect (demux, "pad-added", G_CALLBACK (demux_pad_added), parse);
  return GST_ELEMENT (bin);
}

static GstElement *
kling_serve_factory_create_element (GstRTSPMediaFactory * factory,
    const GstRTSPUrl * url)
{
  g_autoptr (KlingServeRequest) req = NULL;
  g_autofree gchar *reason = NULL, *key = NULL, *media_key = NULL;
  g_autofree gchar *path = NULL;
  GstElement *bin;
  JobInfo *info;

  req = parse_url (url, &reason);
  if (req == NULL) {
    GST_WARNING ("refusing %s: %s", url->query, reason);
    return NULL;
  }
  key = kling_serve_request_key (req);
  media_key = kling_job_table_media_key (serve.jobs, key);
  if (g_str_has_prefix (media_key, "replay-") && serve.cache
      && (path = kling_clip_cache_lookup (serve.cache, key))) {
    GST_INFO ("replaying %s from %s", key, path);
    bin = replay_bin (path);
    info = g_atomic_rc_box_new0 (JobInfo);
  } else {
    guint64 job = kling_job_table_start (serve.jobs, key, req,
        g_get_monotonic_time ());

    info = g_atomic_rc_box_new0 (JobInfo);
    info->job = job;
    info->key = g_strdup (key);
    if (serve.cache)
      info->part = kling_clip_cache_part_path (serve.cache, key, job);
    GST_INFO ("job %" G_GUINT64_FORMAT ": %s", job, key);
    bin = generation_bin (req, info);
    if (bin == NULL)
      kling_job_table_finish (serve.jobs, job, KLING_JOB_FAILED,
          "an element is missing", g_get_monotonic_time ());
  }
  if (bin == NULL) {
    job_info_unref (info);
    return NULL;
  }
  g_object_set_data_full (G_OBJECT (bin), "kling-job", info,
      (GDestroyNotify) job_info_unref);
  return bin;
}

static void
kling_serve_factory_media_constructed (GstRTSPMediaFactory * factory,
    GstRTSPMedia * media)
{
  KlingServeMedia *m = KLING_SERVE_MEDIA (media);
  GstElement *bin = gst_rtsp_media_get_element (media);
  JobInfo *info = g_object_get_data (G_OBJECT (bin), "kling-job");

  if (info) {
    m->job = info->job;
    m->key = g_strdup (info->key);
    m->part = g_strdup (info->part);
    m->info = g_atomic_rc_box_acquire (info);
  }
  gst_object_unref (bin);
}

static void
kling_serve_factory_class_init (KlingServeFactoryClass * klass)
{
  GstRTSPMediaFactoryClass *f = GST_RTSP_MEDIA_FACTORY_CLASS (klass);

  f->gen_key = kling_serve_factory_gen_key;
  f->create_element = kling_serve_factory_create_element;
  f->media_constructed = kling_serve_factory_media_constructed;
}

static void
kling_serve_factory_init (KlingServeFactory * self)
{
  GstRTSPMediaFactory *f = GST_RTSP_MEDIA_FACTORY (self);

  gst_rtsp_media_factory_set_shared (f, TRUE);
  gst_rtsp_media_factory_set_media_gtype (f, KLING_TYPE_SERVE_MEDIA);
}

/* ---------------------------------------------------------------------- */
/* Clients: 400 and 503 before a media is made */

static GstRTSPStatusCode
refuse (GstRTSPClient * client, GstRTSPStatusCode code, gchar * reason)
{
  GST_INFO ("%d: %s", code, reason);
  g_object_set_data_full (G_OBJECT (client), REASON_KEY, reason, g_free);
  return code;
}

static gboolean
is_generate (GstRTSPContext * ctx)
{
  return ctx->uri && ctx->uri->abspath
      && strcmp (ctx->uri->abspath, MOUNT_PATH) == 0;
}

static GstRTSPStatusCode
check_request (GstRTSPClient * client, GstRTSPContext * ctx, gboolean admit)
{
  g_autoptr (KlingServeRequest) req = NULL;
  g_autofree gchar *key = NULL;
  gchar *reason = NULL;
  guint64 id;

  if (!is_generate (ctx))
    return GST_RTSP_STS_OK;     /* the mount points answer 404 */
  req = parse_url (ctx->uri, &reason);
  if (req == NULL) {
    kling_job_table_count_bad_request (serve.jobs);
    return refuse (client, GST_RTSP_STS_BAD_REQUEST, reason);
  }
  /* not authenticated: find_media answers 401, no slot is taken */
  if (!admit || (serve.auth && (ctx->token == NULL
              || !gst_rtsp_token_is_allowed (ctx->token,
                  GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE))))
    return GST_RTSP_STS_OK;
  key = kling_serve_request_key (req);
  switch (kling_job_table_admit (serve.jobs, key, req, serve.cache
          && kling_clip_cache_contains (serve.cache, key),
          g_get_monotonic_time (), &id)) {
    case KLING_ADMIT_NEW:
    case KLING_ADMIT_SHARED:
    case KLING_ADMIT_REPLAY:
      return GST_RTSP_STS_OK;
    case KLING_ADMIT_FULL:
    default:
      return refuse (client, GST_RTSP_STS_SERVICE_UNAVAILABLE,
          g_strdup ("every generation slot is busy (--max-jobs): try again "
              "later"));
  }
}

static GstRTSPStatusCode
pre_describe (GstRTSPClient * client, GstRTSPContext * ctx, gpointer data)
{
  return check_request (client, ctx, TRUE);
}

static GstRTSPStatusCode
pre_setup (GstRTSPClient * client, GstRTSPContext * ctx, gpointer data)
{
  return check_request (client, ctx, FALSE);
}

/* "RTSP/1.0 400 Bad Request (no prompt: …)", and the reason as the body */
static void
send_message (GstRTSPClient * client, GstRTSPContext * ctx,
    GstRTSPMessage * msg, gpointer data)
{
  gchar *reason = g_object_steal_data (G_OBJECT (client), REASON_KEY);
  GstRTSPStatusCode code;

  if (reason == NULL)
    return;
  if (gst_rtsp_message_get_type (msg) == GST_RTSP_MESSAGE_RESPONSE
      && gst_rtsp_message_parse_response (msg, &code, NULL, NULL) ==
      GST_RTSP_OK && code >= 400) {
    gchar *phrase = g_strdup_printf ("%s (%s)", gst_rtsp_status_as_text (code),
        reason);
    gchar *body = g_strdup_printf ("%s\r\n", reason);

    g_free (msg->type_data.response.reason);
    msg->type_data.response.reason = phrase;
    gst_rtsp_message_add_header (msg, GST_RTSP_HDR_CONTENT_TYPE,
        "text/plain; charset=utf-8");
    gst_rtsp_message_take_body (msg, (guint8 *) body, strlen (body));
  }
  g_free (reason);
}

static void
new_session (GstRTSPClient * client, GstRTSPSession * session, gpointer data)
{
  /* a client that vanishes without TEARDOWN stops its clip this soon */
  gst_rtsp_session_set_timeout (session, serve.session_timeout);
}

static void
client_connected (GstRTSPServer * server, GstRTSPClient * client, gpointer data)
{
  g_signal_connect (client, "pre-describe-request",
      G_CALLBACK (pre_describe), NULL);
  g_signal_connect (client, "pre-setup-request", G_CALLBACK (pre_setup), NULL);
  g_signal_connect (client, "send-message", G_CALLBACK (send_message), NULL);
  g_signal_connect (client, "new-session", G_CALLBACK (new_session), NULL);
}

/* ---------------------------------------------------------------------- */
/* Status over HTTP (loopback) */

static void
status_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer data)
{
  const gchar *method = soup_server_message_get_method (msg);
  KlingCacheStats stats;
  gchar *json;

  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  if (serve.cache)
    kling_clip_cache_get_stats (serve.cache, &stats);
  json = kling_job_table_to_json (serve.jobs, serve.cache ? &stats : NULL,
      g_get_monotonic_time ());
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, json, strlen (json));
}

/* ---------------------------------------------------------------------- */

static gboolean
housekeeping (gpointer data)
{
  GstRTSPSessionPool *pool = data;
  guint n;

  gst_rtsp_session_pool_cleanup (pool);
  n = kling_job_table_reap (serve.jobs, g_get_monotonic_time (),
      PENDING_MAX_AGE);
  if (n)
    GST_INFO ("dropped %u admitted requests that never built a media", n);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_quit_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

static GstRTSPFilterResult
close_client (GstRTSPServer * server, GstRTSPClient * client, gpointer data)
{
  return GST_RTSP_FILTER_REMOVE;
}

/* One frame through klinggen before listening: the model is loaded (and
 * kept: GST_KLING_SHARE_MODELS) and known to work before the first
 * request, which then pays no load time. */
static gboolean
preload_model (GError ** error)
{
  GstElement *pipe, *gen;
  GstMessage *msg;
  GstBus *bus;
  gboolean ok;
  gint64 t0 = g_get_monotonic_time ();

  pipe = gst_parse_launch ("klinggen name=gen num-frames=1 "
      "prompt=warm-up ! fakesink", error);
  if (pipe == NULL)
    return FALSE;
  gen = gst_bin_get_by_name (GST_BIN (pipe), "gen");
  if (serve.model)
    g_object_set (gen, "model", serve.model, NULL);
  if (serve.threads > 0)
    g_object_set (gen, "threads", serve.threads, NULL);
  gst_object_unref (gen);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  if (!ok) {
    GError *e = NULL;

    gst_message_parse_error (msg, &e, NULL);
    g_propagate_error (error, e);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  if (ok)
    GST_INFO ("model ready in %.2f s", (g_get_monotonic_time () - t0) / 1e6);
  return ok;
}

static gchar *
read_password (const gchar * file, GError ** error)
{
  gchar *text = NULL;
  gsize len;

  if (!g_file_get_contents (file, &text, &len, error))
    return NULL;
  /* one line; a trailing newline is not part of it */
  g_strchomp (text);
  if (*text == '\0' || strchr (text, '\n')
      || !g_utf8_validate (text, -1, NULL)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s must hold the "
        "password on one line", file);
    g_free (text);
    return NULL;
  }
  return text;
}

int
main (int argc, char **argv)
{
  gchar *address = NULL, *user = NULL, *password_file = NULL;
  gchar *cache_dir = NULL;
  gint port = 8554, status_port = 8555, max_jobs = 2;
  gint64 cache_mb = 1024;
  gdouble max_duration = 60.0;
  gint session_timeout = 10;
  GOptionEntry entries[] = {
    {"address", 0, 0, G_OPTION_ARG_STRING, &address,
        "Address to listen on (default 127.0.0.1: this machine only)", "ADDR"},
    {"port", 0, 0, G_OPTION_ARG_INT, &port,
        "RTSP port (default 8554; 0: any free one, printed)", "PORT"},
    {"status-port", 0, 0, G_OPTION_ARG_INT, &status_port,
        "Port of the JSON status on 127.0.0.1 (default 8555; 0: any free "
          "one, printed)", "PORT"},
    {"max-jobs", 0, 0, G_OPTION_ARG_INT, &max_jobs,
          "Generations at once (default 2); beyond: 503 Service Unavailable",
        "N"},
    {"max-duration", 0, 0, G_OPTION_ARG_DOUBLE, &max_duration,
        "Longest clip a request may ask for, in seconds (default 60)", "S"},
    {"model", 0, 0, G_OPTION_ARG_FILENAME, &serve.model,
        "Video model package (default: klinggen's default model)", "FILE"},
    {"threads", 0, 0, G_OPTION_ARG_INT, &serve.threads,
        "Model threads (default 0: one per core)", "N"},
    {"cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir,
        "Keep finished clips here for replay", "DIR"},
    {"cache-size", 0, 0, G_OPTION_ARG_INT64, &cache_mb,
        "Most megabytes the cache may hold (default 1024)", "MB"},
    {"session-timeout", 0, 0, G_OPTION_ARG_INT, &session_timeout,
          "Seconds after which a silent client's session ends (default 10)",
        "S"},
    {"user", 0, 0, G_OPTION_ARG_STRING, &user,
        "Require RTSP basic authentication as this user", "NAME"},
    {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
        "File holding the user's password (one line)", "FILE"},
    {NULL}
  };
  GOptionContext *octx;
  GError *error = NULL;
  GMainLoop *loop;
  GstRTSPServer *server;
  GstRTSPMountPoints *mounts;
  GstRTSPMediaFactory *factory;
  GstRTSPSessionPool *pool;
  SoupServer *status;
  GSList *uris;
  guint server_source, housekeeping_source, sigterm, sigint;
  int ret = 0;

  /* before any model loads: one copy per process (unless told otherwise) */
  g_setenv ("GST_KLING_SHARE_MODELS", "1", FALSE);

  octx = g_option_context_new ("- generate clips on request over RTSP");
  g_option_context_set_description (octx, "Ask for a clip with\n"
      "  gst-play-1.0 \"rtsp://127.0.0.1:8554/generate?prompt=...&duration=4"
      "&seed=0&size=WxH\"\nStatus: curl http://127.0.0.1:8555/status\n"
      "See docs/serving.md.");
  g_option_context_add_main_entries (octx, entries, NULL);
  g_option_context_add_group (octx, gst_init_get_option_group ());
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    g_printerr ("gst-kling-serve: %s\n", error->message);
    return 2;
  }
  g_option_context_free (octx);
  GST_DEBUG_CATEGORY_INIT (kling_serve_debug, "klingserve", 0,
      "gst-kling-serve");

  if (max_jobs < 1 || max_jobs > 1024 || port < 0 || port > 65535
      || status_port < 0 || status_port > 65535 || max_duration <= 0
      || max_duration > 86400 || cache_mb < 0 || session_timeout < 1) {
    g_printerr ("gst-kling-serve: --max-jobs must be 1..1024, ports 0..65535, "
        "--max-duration in (0, 86400], --cache-size >= 0, "
        "--session-timeout >= 1\n");
    return 2;
  }
  if (!user != !password_file) {
    g_printerr ("gst-kling-serve: --user and --password-file go together\n");
    return 2;
  }
  {
    GstElementFactory *f = gst_element_factory_find ("klinggen");

    if (f == NULL) {
      g_printerr ("gst-kling-serve: the klinggen element is missing: install "
          "gst-kling, or run from the build tree with meson devenv\n");
      return 1;
    }
    gst_object_unref (f);
  }
  if (!preload_model (&error)) {
    g_printerr ("gst-kling-serve: cannot use the model: %s\n", error->message);
    return 1;
  }
  serve.limits.max_duration = max_duration;
  serve.session_timeout = session_timeout;
  serve.jobs = kling_job_table_new (max_jobs, 32);
  if (cache_dir) {
    serve.cache = kling_clip_cache_new (cache_dir,
        (guint64) cache_mb * 1024 * 1024, &error);
    if (serve.cache == NULL) {
      g_printerr ("gst-kling-serve: %s\n", error->message);
      return 1;
    }
  }

  loop = g_main_loop_new (NULL, FALSE);
  server = gst_rtsp_server_new ();
  gst_rtsp_server_set_address (server, address ? address : "127.0.0.1");
  {
    gchar *service = g_strdup_printf ("%d", port);

    gst_rtsp_server_set_service (server, service);
    g_free (service);
  }
  {
    /* one thread per client, up to a bound: a client's DESCRIBE waits for
     * its first chunk, and clients sharing a thread would wait for each
     * other's (gst-rtsp-server's default is one thread for all) */
    GstRTSPThreadPool *threads = gst_rtsp_server_get_thread_pool (server);

    gst_rtsp_thread_pool_set_max_threads (threads, 64 + 4 * max_jobs);
    g_object_unref (threads);
  }
  pool = gst_rtsp_server_get_session_pool (server);
  g_signal_connect (server, "client-connected", G_CALLBACK (client_connected),
      NULL);

  factory = g_object_new (KLING_TYPE_SERVE_FACTORY, NULL);
  if (user) {
    GstRTSPAuth *auth = gst_rtsp_auth_new ();
    GstRTSPToken *token;
    gchar *password = read_password (password_file, &error), *basic;

    if (password == NULL) {
      g_printerr ("gst-kling-serve: %s\n", error->message);
      return 1;
    }
    token = gst_rtsp_token_new (GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE,
        G_TYPE_STRING, ROLE, NULL);
    basic = gst_rtsp_auth_make_basic (user, password);
    gst_rtsp_auth_add_basic (auth, basic, token);
    g_free (basic);
    g_free (password);
    gst_rtsp_token_unref (token);
    gst_rtsp_server_set_auth (server, auth);
    g_object_unref (auth);
    gst_rtsp_media_factory_add_role (factory, ROLE,
        GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
        GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
    serve.auth = TRUE;
  }
  mounts = gst_rtsp_server_get_mount_points (server);
  /* the mount points take the factory */
  gst_rtsp_mount_points_add_factory (mounts, MOUNT_PATH, factory);
  g_object_unref (mounts);

  server_source = gst_rtsp_server_attach (server, NULL);
  if (server_source == 0) {
    g_printerr ("gst-kling-serve: cannot listen on %s port %d\n",
        address ? address : "127.0.0.1", port);
    return 1;
  }

  status = soup_server_new ("server-header", "gst-kling-serve", NULL);
  soup_server_add_handler (status, "/status", status_handler, NULL, NULL);
  if (!soup_server_listen_local (status, status_port,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error)) {
    g_printerr ("gst-kling-serve: status port %d: %s\n", status_port,
        error->message);
    return 1;
  }
  uris = soup_server_get_uris (status);
  status_port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  housekeeping_source = g_timeout_add_seconds (1, housekeeping, pool);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  sigint = g_unix_signal_add (SIGINT, on_quit_signal, loop);

  /* the first line says where: tests and scripts read it */
  printf ("gst-kling-serve: listening rtsp://%s:%d" MOUNT_PATH
      " status http://127.0.0.1:%d/status rtsp-port=%d status-port=%d\n",
      address ? address : "127.0.0.1", gst_rtsp_server_get_bound_port (server),
      status_port, gst_rtsp_server_get_bound_port (server), status_port);
  fflush (stdout);

  g_main_loop_run (loop);

  /* SIGTERM/SIGINT: stop listening, close every client (their media are
   * unprepared: generations stop, part files go), then leave */
  GST_INFO ("shutting down");
  g_source_remove (sigterm);
  g_source_remove (sigint);
  g_source_remove (housekeeping_source);
  g_source_remove (server_source);
  gst_rtsp_server_client_filter (server, close_client, NULL);
  soup_server_disconnect (status);
  g_object_unref (status);
  g_object_unref (pool);
  g_object_unref (server);
  gst_rtsp_thread_pool_cleanup ();
  /* media finalized by the thread pool's last references end their jobs */
  g_main_loop_unref (loop);
  kling_clip_cache_free (serve.cache);
  kling_job_table_free (serve.jobs);
  serve.jobs = NULL;
  g_free (serve.model);
  g_free (address);
  g_free (user);
  g_free (password_file);
  g_free (cache_dir);
  /* the leaks tracer (GST_TRACERS=leaks) reports here */
  gst_deinit ();
  printf ("gst-kling-serve: stopped\n");
  return ret;
}
