/* gst-kling: klingspeak
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-klingspeak
 * @title: klingspeak
 *
 * Speaks a text stream: each `text/x-raw, format=utf8` buffer is one
 * utterance, spoken at its timestamp with libespeak-ng (Mandarin,
 * Cantonese, English and the other espeak-ng voices) or with a gst-kling
 * `speech` model package (#GstKlingSpeak:model, docs/models.md).
 *
 * `src` carries mono S16LE audio at the engine's rate (22050 Hz for
 * espeak-ng; put audioconvert/audioresample after it).  Its timestamps come
 * from the count of samples written, so the audio never drifts; between
 * utterances it carries silence.  An utterance starts at its buffer's
 * running time, or when the previous one ends if that is later
 * (#GstKlingSpeak:queue-policy=queue), or cuts the previous one
 * (queue-policy=interrupt).  A buffer without a timestamp is spoken right
 * after the previous one.
 *
 * `words` carries one `text/x-raw, format=utf8` buffer per word (per
 * character for Chinese) with the timestamp and duration at which it is
 * heard, and GAP events in between: it links straight into srtenc,
 * webvttenc, a muxer's subtitle pad or textoverlay.
 *
 * Synthesis runs in a task of its own, up to 2 s ahead of the audio
 * (0.1 s when live), and each source pad is driven by a task of its own:
 * both pads can be linked to sinks, or into one muxer, with no queue in
 * between, and the pipeline still prerolls.  Text is validated (invalid UTF-8 is an error giving the byte
 * offset), control characters and emoji are dropped, and long text is
 * spoken in bounded pieces as downstream consumes the audio.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=shop.mp4 ! decodebin ! videoconvert ! \
 *     aiproductdetect name=d language=en ! fakesink \
 *     d.text_src ! queue ! klingspeak ! audioconvert ! autoaudiosink
 * ]| speaks each new line of copy the detector writes about the video.
 *
 * |[
 * echo "Fresh coffee, roasted this morning." > copy.txt
 * gst-launch-1.0 filesrc location=copy.txt ! text/x-raw,format=utf8 ! \
 *     klingspeak name=s ! audioconvert ! wavenc ! filesink location=copy.wav \
 *     s.words ! srtenc ! filesink location=copy.srt
 * ]| writes the speech to copy.wav and its words, timed, as subtitles to
 *   copy.srt (no queue needed).
 *
 * |[
 * gst-launch-1.0 filesrc location=copy.txt ! text/x-raw,format=utf8 ! \
 *     klingspeak name=s s.src ! audioconvert ! vorbisenc ! \
 *     matroskamux name=m ! filesink location=copy.mkv s.words ! m.subtitle_%u
 * ]| muxes the speech and its words into one Matroska file: one audio and
 *   one subtitle track.
 *
 * |[
 * gst-launch-1.0 filesrc location=copy.txt ! text/x-raw,format=utf8 ! \
 *     klingspeak language=zh rate=150 ! audioconvert ! autoaudiosink
 * ]| speaks Chinese copy in Mandarin, a little slower.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/audio/audio.h>
#include <gst/base/gstflowcombiner.h>

#include "gstklingspeak.h"
#include "gstklingspeak-enums.h"
#include "kling-espeak.h"
#include "kling-padqueue.h"
#include "kling-speech-model.h"
#include "kling-speech-text.h"
#include "kling-speech-sched.h"

GST_DEBUG_CATEGORY_STATIC (gst_kling_speak_debug);
#define GST_CAT_DEFAULT gst_kling_speak_debug

#define DEFAULT_LANGUAGE GST_KLING_SPEAK_LANGUAGE_AUTO
#define DEFAULT_VOICE NULL
#define DEFAULT_RATE 175
#define DEFAULT_PITCH 50
#define DEFAULT_VOLUME 100
#define DEFAULT_QUEUE_POLICY KLING_SPEECH_POLICY_QUEUE
#define DEFAULT_MODEL NULL
#define DEFAULT_DEVICE "cpu"
#define DEFAULT_SPEAKER -1
#define DEFAULT_IS_LIVE FALSE

/* words queued at most (the chunks, pieces and utterances that keep
 * memory flat are the scheduler's: kling-speech-sched.h) */
#define MAX_WORD_ITEMS 64
/* how far the synthesis runs ahead of the audio pad: in a muxer the words
 * pad must know what comes after the audio being written, so further
 * than any word or GAP on it lasts (MAX_WORDS_GAP); live, 0.1 s */
#define AUDIO_AHEAD (2 * GST_SECOND)
#define MAX_WORDS_GAP (GST_SECOND / 2)
#define LIVE_AHEAD (GST_SECOND / 10)

enum
{
  PROP_0,
  PROP_LANGUAGE,
  PROP_VOICE,
  PROP_RATE,
  PROP_PITCH,
  PROP_VOLUME,
  PROP_QUEUE_POLICY,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_SPEAKER,
  PROP_IS_LIVE,
};

struct _GstKlingSpeak
{
  GstElement parent;

  GstPad *sinkpad, *srcpad, *wordspad;
  GstFlowCombiner *combiner;
  /* what the two source pads push, each from a task of its own */
  KlingPadQueue *audio_q, *words_q;
  /* the task that synthesises */
  GstTask *task;
  GRecMutex task_lock;

  /* properties, under the object lock */
  GstKlingSpeakLanguage language;
  gchar *voice;
  gint rate, pitch, volume;
  KlingSpeechPolicy policy;
  gchar *model_path;
  gchar *device;
  gint speaker;
  gboolean is_live;

  /* utterances, scheduled onto the pads' queues by the task */
  KlingSpeechSched *sched;

  /* shared between the sink pad and the task, under self->lock */
  GMutex lock;
  gboolean flushing;
  gint cancel;                  /* atomic: aborts synthesis */
  GstFlowReturn synth_flow;     /* an engine error */

  /* set in start(), read by the task */
  gint sample_rate;
  KlingSpeechModel *model;
  GstClockTime latency;
  GCancellable *cancellable;

  /* sink, streaming thread */
  GstSegment segment;
  gboolean upstream_checked;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) utf8"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format = (string) S16LE, "
        "layout = (string) interleaved, channels = (int) 1, "
        "rate = (int) [ 8000, 192000 ]"));

static GstStaticPadTemplate words_template = GST_STATIC_PAD_TEMPLATE ("words",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) utf8"));

#define gst_kling_speak_parent_class parent_class
G_DEFINE_TYPE (GstKlingSpeak, gst_kling_speak, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (klingspeak, "klingspeak",
    GST_RANK_NONE, GST_TYPE_KLING_SPEAK,
    GST_DEBUG_CATEGORY_INIT (gst_kling_speak_debug, "klingspeak", 0,
        "speech from text"));

/* ---- the engine, for the scheduler ----------------------------------- */

static GstCaps *
audio_caps (GstKlingSpeak * self)
{
  return gst_caps_new_simple ("audio/x-raw",
      "format", G_TYPE_STRING, "S16LE",
      "layout", G_TYPE_STRING, "interleaved",
      "channels", G_TYPE_INT, 1, "rate", G_TYPE_INT, self->sample_rate, NULL);
}

/* KlingSpeechSynthFunc: one piece with the properties' values now */
static gboolean
synth_piece (gpointer data, const gchar * piece, GstClockTime pts,
    GArray * samples, GArray * words, KlingSpeechPolicy * policy,
    GError ** error)
{
  GstKlingSpeak *self = data;
  KlingEspeakParams ep;
  gint speaker;
  gboolean ok;

  gst_object_sync_values (GST_OBJECT (self), pts);
  GST_OBJECT_LOCK (self);
  ep.voice = g_strdup (self->voice ? self->voice :
      gst_kling_speak_language_voice (self->language, piece));
  ep.rate = self->rate;
  ep.pitch = self->pitch;
  ep.volume = self->volume;
  speaker = self->speaker;
  *policy = self->policy;
  GST_OBJECT_UNLOCK (self);
  if (self->model)
    ok = kling_speech_model_synth (self->model, piece, speaker, samples,
        words, self->cancellable, error);
  else
    ok = kling_espeak_synth (&ep, piece, samples, words, &self->cancel, error);
  g_free ((gchar *) ep.voice);
  return ok;
}

static void
synth_loop (GstKlingSpeak * self)
{
  GstFlowReturn ret = kling_speech_sched_iterate (self->sched);

  if (ret == GST_FLOW_OK)
    return;
  g_mutex_lock (&self->lock);
  if (ret == GST_FLOW_ERROR)
    self->synth_flow = ret;
  g_mutex_unlock (&self->lock);
  gst_task_pause (self->task);
}

/* ---- the sink pad ------------------------------------------------------ */

static GstFlowReturn
combined_flow (GstKlingSpeak * self)
{
  GstFlowReturn synth;

  g_mutex_lock (&self->lock);
  synth = self->flushing ? GST_FLOW_FLUSHING : self->synth_flow;
  g_mutex_unlock (&self->lock);
  if (synth != GST_FLOW_OK)
    return synth;
  gst_flow_combiner_update_pad_flow (self->combiner, self->wordspad,
      kling_pad_queue_flow (self->words_q));
  return gst_flow_combiner_update_pad_flow (self->combiner, self->srcpad,
      kling_pad_queue_flow (self->audio_q));
}

static GstFlowReturn
enqueue (GstKlingSpeak * self, gchar * text, GstClockTime time, gboolean eos)
{
  GstFlowReturn ret = kling_speech_sched_enqueue (self->sched, text, time,
      eos);

  return ret == GST_FLOW_OK ? combined_flow (self) : ret;
}

static GstFlowReturn
gst_kling_speak_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstKlingSpeak *self = GST_KLING_SPEAK (parent);
  GstMapInfo map;
  gsize bad = 0;
  GstClockTime pts = GST_BUFFER_PTS (buf), time = GST_CLOCK_TIME_NONE;
  gchar *text;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("could not map the text buffer"));
    return GST_FLOW_ERROR;
  }
  if (!kling_speech_text_validate ((const gchar *) map.data, map.size, &bad)) {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("The text is not valid UTF-8 at byte %" G_GSIZE_FORMAT " of a %"
            G_GSIZE_FORMAT "-byte buffer; convert it to UTF-8 first (e.g. "
            "iconv -t UTF-8)", bad, map.size),
        ("buffer at %" GST_TIME_FORMAT ", bytes there: %02x",
            GST_TIME_ARGS (pts), map.data[bad]));
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  text = kling_speech_text_clean ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buf, &map);

  if (GST_CLOCK_TIME_IS_VALID (pts) && self->segment.format == GST_FORMAT_TIME)
    time = gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME, pts);
  if (*text == '\0') {
    /* nothing to say: only tells the time */
    g_clear_pointer (&text, g_free);
    if (GST_CLOCK_TIME_IS_VALID (time) && GST_BUFFER_DURATION_IS_VALID (buf))
      time += GST_BUFFER_DURATION (buf);
  }
  gst_buffer_unref (buf);
  if (text == NULL && !GST_CLOCK_TIME_IS_VALID (time))
    return combined_flow (self);
  GST_DEBUG_OBJECT (self, "utterance at %" GST_TIME_FORMAT ": %.60s",
      GST_TIME_ARGS (time), text ? text : "(none)");
  return enqueue (self, text, time, FALSE);
}

static void
set_flushing (GstKlingSpeak * self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  g_atomic_int_set (&self->cancel, flushing);
  if (flushing) {
    g_cancellable_cancel (self->cancellable);
  } else {
    self->synth_flow = GST_FLOW_OK;
    g_cancellable_reset (self->cancellable);
  }
  g_mutex_unlock (&self->lock);
  kling_speech_sched_set_flushing (self->sched, flushing);
}

static void
start_tasks (GstKlingSpeak * self)
{
  set_flushing (self, FALSE);
  kling_speech_sched_reset (self->sched, self->sample_rate, self->model ?
      kling_speech_model_max_bytes (self->model) : G_MAXUINT);
  gst_flow_combiner_reset (self->combiner);
  kling_pad_queue_start (self->audio_q, "audio", audio_caps (self));
  kling_pad_queue_start (self->words_q, "words",
      gst_static_pad_template_get_caps (&words_template));
  gst_task_start (self->task);
}

/* Unblocks every thread, then pauses the tasks (a flush) or stops them. */
static void
stop_tasks (GstKlingSpeak * self, gboolean join)
{
  set_flushing (self, TRUE);
  kling_pad_queue_stop (self->audio_q, join);
  kling_pad_queue_stop (self->words_q, join);
  if (join) {
    gst_task_stop (self->task);
    gst_task_join (self->task);
  } else {
    gst_task_pause (self->task);
    /* wait until the loop is out of its iteration */
    g_rec_mutex_lock (&self->task_lock);
    g_rec_mutex_unlock (&self->task_lock);
  }
}

static void measure_latency (GstKlingSpeak * self);

/* Live: the audio follows the clock, a little is synthesised ahead, and
 * LATENCY has the figure measured now. */
static void
set_live (GstKlingSpeak * self, gboolean live)
{
  if (live)
    measure_latency (self);
  /* the queue first: the task may be waiting for live to start */
  kling_pad_queue_set_sync (self->audio_q, live);
  kling_speech_sched_set_ahead (self->sched, live ? LIVE_AHEAD : AUDIO_AHEAD);
  kling_speech_sched_set_live (self->sched, live);
}

/* A live upstream makes the audio follow the clock, as is-live does. */
static void
follow_upstream (GstKlingSpeak * self)
{
  GstQuery *q = gst_query_new_latency ();
  gboolean live = FALSE;

  self->upstream_checked = TRUE;
  if (gst_pad_peer_query (self->sinkpad, q))
    gst_query_parse_latency (q, &live, NULL, NULL);
  gst_query_unref (q);
  if (!live || kling_speech_sched_is_live (self->sched))
    return;
  GST_INFO_OBJECT (self, "upstream is live: audio follows the clock");
  /* the task waits for the first utterance: no synthesis is running */
  set_live (self, TRUE);
}

static gboolean
gst_kling_speak_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstKlingSpeak *self = GST_KLING_SPEAK (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:{
      guint group_id;

      if (!gst_event_parse_group_id (event, &group_id))
        group_id = gst_util_group_id_next ();
      kling_pad_queue_set_group_id (self->audio_q, group_id);
      kling_pad_queue_set_group_id (self->words_q, group_id);
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      gst_event_unref (event);
      if (!self->upstream_checked)
        follow_upstream (self);
      return TRUE;
    case GST_EVENT_GAP:{
      GstClockTime ts, dur;

      gst_event_parse_gap (event, &ts, &dur);
      gst_event_unref (event);
      /* live, the clock fills the silence */
      if (!GST_CLOCK_TIME_IS_VALID (ts)
          || self->segment.format != GST_FORMAT_TIME
          || kling_speech_sched_is_live (self->sched))
        return TRUE;
      if (GST_CLOCK_TIME_IS_VALID (dur))
        ts += dur;
      ts = gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME, ts);
      return !GST_CLOCK_TIME_IS_VALID (ts)
          || enqueue (self, NULL, ts, FALSE) != GST_FLOW_FLUSHING;
    }
    case GST_EVENT_EOS:
      gst_event_unref (event);
      return enqueue (self, NULL, GST_CLOCK_TIME_NONE, TRUE) !=
          GST_FLOW_FLUSHING;
    case GST_EVENT_FLUSH_START:
      set_flushing (self, TRUE);
      gst_pad_push_event (self->srcpad, gst_event_ref (event));
      gst_pad_push_event (self->wordspad, event);
      stop_tasks (self, FALSE);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      gst_pad_push_event (self->srcpad, gst_event_ref (event));
      gst_pad_push_event (self->wordspad, event);
      start_tasks (self);
      return TRUE;
    case GST_EVENT_CAPS:
      gst_event_unref (event);
      return TRUE;
    default:
      if (GST_EVENT_IS_SERIALIZED (event)) {
        gst_event_unref (event);        /* tags, ... of the text stream */
        return TRUE;
      }
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
gst_kling_speak_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstKlingSpeak *self = GST_KLING_SPEAK (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      gboolean live = FALSE;
      GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
      GstQuery *up = gst_query_new_latency ();

      if (gst_pad_peer_query (self->sinkpad, up))
        gst_query_parse_latency (up, &live, &min, &max);
      gst_query_unref (up);
      if (kling_speech_sched_is_live (self->sched)) {
        min += self->latency;
        if (GST_CLOCK_TIME_IS_VALID (max))
          max += self->latency;
        live = TRUE;
      }
      gst_query_set_latency (query, live, min, max);
      return TRUE;
    }
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps;

      /* the engine's rate once started; else the templates */
      if (pad != self->srcpad || self->sample_rate == 0)
        break;
      gst_query_parse_caps (query, &filter);
      caps = audio_caps (self);
      if (filter)
        gst_caps_take (&caps, gst_caps_intersect_full (filter, caps,
                GST_CAPS_INTERSECT_FIRST));
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    default:
      break;
  }
  return gst_pad_query_default (pad, parent, query);
}

/* ---- lifecycle --------------------------------------------------------- */

/* Live, a piece waits for its synthesis, for the audio queued ahead of it
 * and for the chunk it is in: measure the synthesis once.  Only while the
 * task is not synthesising (before it runs, or waiting for text). */
static void
measure_latency (GstKlingSpeak * self)
{
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (gint16));
  GArray *words = g_array_new (FALSE, FALSE, sizeof (KlingSpeechWord));
  gint64 t0 = g_get_monotonic_time ();
  KlingSpeechPolicy policy;
  GError *err = NULL;

  self->latency = LIVE_AHEAD + gst_util_uint64_scale
      (KLING_SPEECH_CHUNK_SAMPLES, GST_SECOND, self->sample_rate);
  if (synth_piece (self, "Measuring the latency of speech synthesis, "
          "one piece of text at a time, before the stream starts.", 0,
          samples, words, &policy, &err))
    self->latency += (g_get_monotonic_time () - t0) * GST_USECOND;
  g_clear_error (&err);
  g_array_free (samples, TRUE);
  g_array_free (words, TRUE);
  GST_INFO_OBJECT (self, "latency when live %" GST_TIME_FORMAT,
      GST_TIME_ARGS (self->latency));
}

static gboolean
gst_kling_speak_start (GstKlingSpeak * self)
{
  gchar *voice, *model_path, *device;
  GError *err = NULL;
  gboolean live;

  GST_OBJECT_LOCK (self);
  voice = g_strdup (self->voice);
  model_path = g_strdup (self->model_path);
  device = g_strdup (self->device);
  live = self->is_live;
  GST_OBJECT_UNLOCK (self);

  if (model_path) {
    self->model = kling_speech_model_open (model_path, device, &err);
    if (self->model == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not open speech model \"%s\": %s", model_path,
              err->message), ("set model to a `speech` package made with "
              "models/kling-wrap.py (docs/models.md), or unset it to use "
              "espeak-ng"));
      goto fail;
    }
    self->sample_rate = kling_speech_model_rate (self->model);
  } else {
    self->sample_rate = kling_espeak_init (&err);
    if (self->sample_rate == 0) {
      GST_ELEMENT_ERROR (self, LIBRARY, INIT, ("%s", err->message), (NULL));
      goto fail;
    }
    if (voice && !kling_espeak_check_voice (voice, &err)) {
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", err->message),
          ("set voice to one of `espeak-ng --voices`, or unset it and use "
              "language"));
      goto fail;
    }
  }
  set_live (self, live);
  kling_pad_queue_set_playing (self->audio_q, FALSE);
  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
  self->upstream_checked = FALSE;
  g_free (voice);
  g_free (model_path);
  g_free (device);
  return TRUE;

fail:
  g_clear_error (&err);
  g_free (voice);
  g_free (model_path);
  g_free (device);
  return FALSE;
}

static void
gst_kling_speak_stop (GstKlingSpeak * self)
{
  kling_speech_model_free (self->model);
  self->model = NULL;
  self->sample_rate = 0;
}

static GstStateChangeReturn
gst_kling_speak_change_state (GstElement * element, GstStateChange transition)
{
  GstKlingSpeak *self = GST_KLING_SPEAK (element);
  GstStateChangeReturn ret;
  gboolean live_source;

  GST_OBJECT_LOCK (self);
  live_source = self->is_live;
  GST_OBJECT_UNLOCK (self);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_kling_speak_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      kling_pad_queue_set_playing (self->audio_q, TRUE);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_tasks (self, FALSE);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      start_tasks (self);
      if (live_source)
        ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      kling_pad_queue_set_playing (self->audio_q, FALSE);
      if (live_source)
        ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_tasks (self, TRUE);
      gst_kling_speak_stop (self);
      break;
    default:
      break;
  }
  return ret;
}

/* ---- properties -------------------------------------------------------- */

/* With the object lock: TRUE in NULL or READY, for set-up properties */
#define SETUP_MUTABLE(self) (GST_STATE (self) <= GST_STATE_READY)

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
  if (*field && **field == '\0')
    g_clear_pointer (field, g_free);
}

static void
gst_kling_speak_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstKlingSpeak *self = GST_KLING_SPEAK (object);
  gboolean refused = FALSE;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LANGUAGE:
      self->language = g_value_get_enum (value);
      break;
    case PROP_VOICE:
      if (!(refused = !SETUP_MUTABLE (self)))
        set_string (&self->voice, value);
      break;
    case PROP_RATE:
      self->rate = g_value_get_int (value);
      break;
    case PROP_PITCH:
      self->pitch = g_value_get_int (value);
      break;
    case PROP_VOLUME:
      self->volume = g_value_get_int (value);
      break;
    case PROP_QUEUE_POLICY:
      self->policy = g_value_get_enum (value);
      break;
    case PROP_MODEL:
      if (!(refused = !SETUP_MUTABLE (self)))
        set_string (&self->model_path, value);
      break;
    case PROP_DEVICE:
      if (!(refused = !SETUP_MUTABLE (self))) {
        g_free (self->device);
        self->device = g_value_dup_string (value);
      }
      break;
    case PROP_SPEAKER:
      self->speaker = g_value_get_int (value);
      break;
    case PROP_IS_LIVE:
      if (!(refused = !SETUP_MUTABLE (self)))
        self->is_live = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (refused)
    GST_WARNING_OBJECT (self, "%s can only be changed in NULL or READY",
        pspec->name);
}

static void
gst_kling_speak_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstKlingSpeak *self = GST_KLING_SPEAK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LANGUAGE:
      g_value_set_enum (value, self->language);
      break;
    case PROP_VOICE:
      g_value_set_string (value, self->voice);
      break;
    case PROP_RATE:
      g_value_set_int (value, self->rate);
      break;
    case PROP_PITCH:
      g_value_set_int (value, self->pitch);
      break;
    case PROP_VOLUME:
      g_value_set_int (value, self->volume);
      break;
    case PROP_QUEUE_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, self->device);
      break;
    case PROP_SPEAKER:
      g_value_set_int (value, self->speaker);
      break;
    case PROP_IS_LIVE:
      g_value_set_boolean (value, self->is_live);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_kling_speak_finalize (GObject * object)
{
  GstKlingSpeak *self = GST_KLING_SPEAK (object);

  gst_flow_combiner_free (self->combiner);
  kling_pad_queue_free (self->audio_q);
  kling_pad_queue_free (self->words_q);
  gst_object_unref (self->task);
  g_rec_mutex_clear (&self->task_lock);
  kling_speech_sched_free (self->sched);
  g_object_unref (self->cancellable);
  g_free (self->voice);
  g_free (self->model_path);
  g_free (self->device);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_kling_speak_class_init (GstKlingSpeakClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_kling_speak_set_property;
  gobject_class->get_property = gst_kling_speak_get_property;
  gobject_class->finalize = gst_kling_speak_finalize;

  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_enum ("language", "Language",
          "Language to speak in when no voice is set (auto: from the text's "
          "script, Chinese characters in Mandarin, Latin letters in English)",
          GST_TYPE_KLING_SPEAK_LANGUAGE, DEFAULT_LANGUAGE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_VOICE,
      g_param_spec_string ("voice", "Voice",
          "espeak-ng voice name (e.g. en-us, cmn, yue, de, en+f3; list: "
          "espeak-ng --voices); overrides language.  Unset: from language",
          DEFAULT_VOICE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RATE,
      g_param_spec_int ("rate", "Rate", "Speaking rate in words per minute",
          KLING_ESPEAK_RATE_MIN, KLING_ESPEAK_RATE_MAX, DEFAULT_RATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_PITCH,
      g_param_spec_int ("pitch", "Pitch",
          "Voice pitch, 0 (low) to 100 (high); 50 is the voice's own", 0, 100,
          DEFAULT_PITCH, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_VOLUME,
      g_param_spec_int ("volume", "Volume",
          "Loudness, 0 (silent) to 200 (loud, may clip); 100 is normal", 0,
          200, DEFAULT_VOLUME, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_QUEUE_POLICY,
      g_param_spec_enum ("queue-policy", "Queue policy",
          "What a new utterance does while one is being spoken",
          GST_TYPE_KLING_SPEAK_QUEUE_POLICY, DEFAULT_QUEUE_POLICY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "A gst-kling `speech` model package (TorchScript, docs/models.md) "
          "to speak with instead of espeak-ng; voice, rate and pitch then do "
          "not apply.  Unset: espeak-ng", DEFAULT_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "Where the speech model runs: cpu, cuda or cuda:N", DEFAULT_DEVICE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SPEAKER,
      g_param_spec_int ("speaker", "Speaker",
          "Speaker id passed to a multi-speaker model's synthesize(); -1: "
          "the model's default (its manifest's defaults.speaker, else 0)", -1,
          G_MAXINT, DEFAULT_SPEAKER, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Produce audio at the pace of the clock, silence when there is "
          "nothing to say (for a live pipeline); otherwise as fast as "
          "downstream takes it, unless upstream is live, which does the "
          "same", DEFAULT_IS_LIVE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &words_template);
  gst_element_class_set_static_metadata (element_class, "Speech from text",
      "Filter/Converter/Text/Audio",
      "Speaks a text stream (libespeak-ng or a speech model) at its "
      "timestamps, with the timing of every word on a second pad",
      "gst-kling contributors");
  element_class->change_state = gst_kling_speak_change_state;

  gst_type_mark_as_plugin_api (GST_TYPE_KLING_SPEAK_LANGUAGE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_KLING_SPEAK_QUEUE_POLICY, 0);
}

static void
gst_kling_speak_init (GstKlingSpeak * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, gst_kling_speak_chain);
  gst_pad_set_event_function (self->sinkpad, gst_kling_speak_sink_event);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad, gst_kling_speak_src_query);
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->wordspad = gst_pad_new_from_static_template (&words_template, "words");
  gst_pad_set_query_function (self->wordspad, gst_kling_speak_src_query);
  gst_pad_use_fixed_caps (self->wordspad);
  gst_element_add_pad (GST_ELEMENT (self), self->wordspad);

  self->combiner = gst_flow_combiner_new ();
  gst_flow_combiner_add_pad (self->combiner, self->srcpad);
  gst_flow_combiner_add_pad (self->combiner, self->wordspad);

  self->audio_q = kling_pad_queue_new (GST_ELEMENT (self), self->srcpad,
      G_MAXUINT, AUDIO_AHEAD, GST_CLOCK_TIME_NONE);
  self->words_q = kling_pad_queue_new (GST_ELEMENT (self), self->wordspad,
      MAX_WORD_ITEMS, GST_CLOCK_TIME_NONE, MAX_WORDS_GAP);
  g_rec_mutex_init (&self->task_lock);
  self->task = gst_task_new ((GstTaskFunction) synth_loop, self, NULL);
  gst_object_set_name (GST_OBJECT (self->task), "klingspeak:synth");
  gst_task_set_lock (self->task, &self->task_lock);
  g_mutex_init (&self->lock);
  self->sched = kling_speech_sched_new (GST_ELEMENT (self), self->audio_q,
      self->words_q, synth_piece, self);
  self->cancellable = g_cancellable_new ();
  self->flushing = TRUE;
  self->language = DEFAULT_LANGUAGE;
  self->voice = g_strdup (DEFAULT_VOICE);
  self->rate = DEFAULT_RATE;
  self->pitch = DEFAULT_PITCH;
  self->volume = DEFAULT_VOLUME;
  self->policy = DEFAULT_QUEUE_POLICY;
  self->model_path = g_strdup (DEFAULT_MODEL);
  self->device = g_strdup (DEFAULT_DEVICE);
  self->speaker = DEFAULT_SPEAKER;
  self->is_live = DEFAULT_IS_LIVE;
}
