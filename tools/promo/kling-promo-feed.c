/* gst-kling: a GES clip whose pictures or sound the program hands over
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GESUriClip wants a file it can discover before the timeline plays; the
 * promo's shots are generated while it plays (so the first HLS segment
 * does not wait for the last shot).  So the clip's track elements are our
 * own GESVideoSource / GESAudioSource whose create_source (the public
 * GESSourceClass vfunc GES's test and title sources use) is an appsrc:
 * GES wraps it in its usual chain (framepositioner, videoscale, videorate,
 * caps of the track; volume for audio) and seeks it like any source.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/app/app.h>

#include "kling-promo-feed.h"

/* What one track element's appsrc reads from: shared by the element and
 * the appsrc's callbacks, which may outlive each other. */
typedef struct
{
  gint refs;
  GMutex lock;
  KlingFeedFunc func;
  gpointer user_data;
  GstClockTime position;        /* of the next buffer, clip time */
  guint seeks;                  /* a buffer made across a seek is stale */
  GstCaps *caps;                /* the caps last set on the appsrc */
} FeedRun;

static FeedRun *
feed_run_new (void)
{
  FeedRun *run = g_new0 (FeedRun, 1);

  run->refs = 1;
  g_mutex_init (&run->lock);
  return run;
}

static FeedRun *
feed_run_ref (FeedRun * run)
{
  g_atomic_int_inc (&run->refs);
  return run;
}

static void
feed_run_unref (FeedRun * run)
{
  if (!g_atomic_int_dec_and_test (&run->refs))
    return;
  gst_clear_caps (&run->caps);
  g_mutex_clear (&run->lock);
  g_free (run);
}

static void
feed_need_data (GstAppSrc * src, guint length, gpointer data)
{
  FeedRun *run = data;
  KlingFeedFunc func;
  gpointer user_data;
  GstClockTime position;
  guint seeks;
  GstCaps *caps = NULL;
  GError *err = NULL;
  GstBuffer *buf;

  g_mutex_lock (&run->lock);
  func = run->func;
  user_data = run->user_data;
  position = run->position;
  seeks = run->seeks;
  g_mutex_unlock (&run->lock);
  if (func == NULL) {
    gst_app_src_end_of_stream (src);
    return;
  }

  buf = func (position, &caps, user_data, &err);
  if (buf == NULL) {
    gst_clear_caps (&caps);
    if (err) {
      /* the error itself, so the program can tell its user what failed */
      gst_element_post_message (GST_ELEMENT (src),
          gst_message_new_error (GST_OBJECT (src), err, NULL));
      g_clear_error (&err);
    } else {
      gst_app_src_end_of_stream (src);
    }
    return;
  }

  g_mutex_lock (&run->lock);
  if (seeks != run->seeks) {
    /* GES moved this source while the buffer was being made: the next
     * call makes the one it asked for */
    g_mutex_unlock (&run->lock);
    gst_buffer_unref (buf);
    gst_clear_caps (&caps);
    return;
  }
  run->position = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
  if (caps && (run->caps == NULL || !gst_caps_is_equal (caps, run->caps))) {
    gst_caps_replace (&run->caps, caps);
    g_mutex_unlock (&run->lock);
    gst_app_src_set_caps (src, caps);
  } else {
    g_mutex_unlock (&run->lock);
  }
  gst_clear_caps (&caps);
  gst_app_src_push_buffer (src, buf);
}

/* nlesource seeks its element to the clip time a new stack starts at */
static gboolean
feed_seek_data (GstAppSrc * src, guint64 offset, gpointer data)
{
  FeedRun *run = data;

  g_mutex_lock (&run->lock);
  run->position = offset;
  run->seeks++;
  g_mutex_unlock (&run->lock);
  return TRUE;
}

static GstElement *
feed_make_appsrc (FeedRun * run)
{
  GstElement *src = gst_element_factory_make ("appsrc", NULL);
  GstAppSrcCallbacks callbacks = { feed_need_data, NULL, feed_seek_data };

  if (src == NULL)
    return NULL;
  g_object_set (src, "format", GST_FORMAT_TIME, "stream-type",
      GST_APP_STREAM_TYPE_SEEKABLE, NULL);
  gst_app_src_set_callbacks (GST_APP_SRC (src), &callbacks,
      feed_run_ref (run), (GDestroyNotify) feed_run_unref);
  return src;
}

/* ---------- the track elements ---------- */

#define KLING_TYPE_FEED_VIDEO_SOURCE (kling_feed_video_source_get_type ())
G_DECLARE_FINAL_TYPE (KlingFeedVideoSource, kling_feed_video_source, KLING,
    FEED_VIDEO_SOURCE, GESVideoSource)
struct _KlingFeedVideoSource
{
  GESVideoSource parent;
  FeedRun *run;
};
G_DEFINE_TYPE (KlingFeedVideoSource, kling_feed_video_source,
    GES_TYPE_VIDEO_SOURCE);

static GstElement *
kling_feed_video_source_create_source (GESSource * source)
{
  return feed_make_appsrc (KLING_FEED_VIDEO_SOURCE (source)->run);
}

static void
kling_feed_video_source_finalize (GObject * object)
{
  feed_run_unref (KLING_FEED_VIDEO_SOURCE (object)->run);
  G_OBJECT_CLASS (kling_feed_video_source_parent_class)->finalize (object);
}

static void
kling_feed_video_source_class_init (KlingFeedVideoSourceClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = kling_feed_video_source_finalize;
  GES_SOURCE_CLASS (klass)->create_source =
      kling_feed_video_source_create_source;
}

static void
kling_feed_video_source_init (KlingFeedVideoSource * self)
{
  /* before GES's constructed() asks for the element */
  self->run = feed_run_new ();
}

#define KLING_TYPE_FEED_AUDIO_SOURCE (kling_feed_audio_source_get_type ())
G_DECLARE_FINAL_TYPE (KlingFeedAudioSource, kling_feed_audio_source, KLING,
    FEED_AUDIO_SOURCE, GESAudioSource)
struct _KlingFeedAudioSource
{
  GESAudioSource parent;
  FeedRun *run;
};
G_DEFINE_TYPE (KlingFeedAudioSource, kling_feed_audio_source,
    GES_TYPE_AUDIO_SOURCE);

static GstElement *
kling_feed_audio_source_create_source (GESSource * source)
{
  return feed_make_appsrc (KLING_FEED_AUDIO_SOURCE (source)->run);
}

static void
kling_feed_audio_source_finalize (GObject * object)
{
  feed_run_unref (KLING_FEED_AUDIO_SOURCE (object)->run);
  G_OBJECT_CLASS (kling_feed_audio_source_parent_class)->finalize (object);
}

static void
kling_feed_audio_source_class_init (KlingFeedAudioSourceClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = kling_feed_audio_source_finalize;
  GES_SOURCE_CLASS (klass)->create_source =
      kling_feed_audio_source_create_source;
}

static void
kling_feed_audio_source_init (KlingFeedAudioSource * self)
{
  self->run = feed_run_new ();
}

/* ---------- the clip ---------- */

struct _KlingFeedClip
{
  GESSourceClip parent;
  GESTrackType type;
  KlingFeedFunc func;
  gpointer user_data;
};

G_DEFINE_TYPE (KlingFeedClip, kling_feed_clip, GES_TYPE_SOURCE_CLIP);

static GESTrackElement *
kling_feed_clip_create_track_element (GESClip * clip, GESTrackType type)
{
  KlingFeedClip *self = KLING_FEED_CLIP (clip);
  GESTrackElement *element;
  GESAsset *asset;
  FeedRun *run;

  if (type != self->type)
    return NULL;
  /* GES makes a track element's nleobject when it is given its asset, so
   * it is extracted from one, as GESTestClip does */
  asset = ges_asset_request (type == GES_TRACK_TYPE_VIDEO ?
      KLING_TYPE_FEED_VIDEO_SOURCE : KLING_TYPE_FEED_AUDIO_SOURCE, NULL, NULL);
  if (asset == NULL)
    return NULL;
  element = GES_TRACK_ELEMENT (ges_asset_extract (asset, NULL));
  gst_object_unref (asset);
  if (element == NULL)
    return NULL;
  run = type == GES_TRACK_TYPE_VIDEO ?
      KLING_FEED_VIDEO_SOURCE (element)->run :
      KLING_FEED_AUDIO_SOURCE (element)->run;
  g_mutex_lock (&run->lock);
  run->func = self->func;
  run->user_data = self->user_data;
  g_mutex_unlock (&run->lock);
  return element;
}

static void
kling_feed_clip_class_init (KlingFeedClipClass * klass)
{
  GES_CLIP_CLASS (klass)->create_track_element =
      kling_feed_clip_create_track_element;
}

static void
kling_feed_clip_init (KlingFeedClip * self)
{
  self->type = GES_TRACK_TYPE_VIDEO;
}

KlingFeedClip *
kling_feed_clip_new (GESTrackType type, KlingFeedFunc func,
    gpointer user_data)
{
  KlingFeedClip *clip = g_object_new (KLING_TYPE_FEED_CLIP, NULL);

  clip->type = type == GES_TRACK_TYPE_AUDIO ? GES_TRACK_TYPE_AUDIO :
      GES_TRACK_TYPE_VIDEO;
  clip->func = func;
  clip->user_data = user_data;
  ges_clip_set_supported_formats (GES_CLIP (clip), clip->type);
  return clip;
}
