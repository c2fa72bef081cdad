/* gst-kling: scheduling utterances onto klingspeak's two pads
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-speech-sched.h"
#include "kling-speech-text.h"

GST_DEBUG_CATEGORY_STATIC (kling_speech_sched_debug);
#define GST_CAT_DEFAULT kling_speech_sched_debug

/* utterances queued at most; |S16| at or below this is the silence a
 * piece's tail is trimmed of for its last word */
#define MAX_UTTERANCES 8
#define SILENCE_THRESHOLD 64
#define CHUNK KLING_SPEECH_CHUNK_SAMPLES

/* An utterance, a time the input is known to be silent until, or EOS */
typedef struct
{
  gchar *text;                  /* NULL: no text, only time */
  GstClockTime time;            /* running time, or NONE */
  gboolean eos;
} Utterance;

struct _KlingSpeechSched
{
  GstElement *element;          /* not owned */
  KlingPadQueue *audio_q, *words_q;
  KlingSpeechSynthFunc synth;
  gpointer user_data;

  /* shared with the sink pad */
  GMutex lock;
  GCond cond;
  GQueue utterances;
  gboolean flushing, live;
  guint64 horizon;              /* input is known up to this running time */

  /* the task's own */
  KlingSpeechTimeline tl;
  GstClockTime words_time;      /* words pad covered up to here */
  guint max_piece;
  GArray *samples, *words;
  GstClockTime ahead;           /* set_ahead()'s, under lock */
};

static void
utterance_free (Utterance * u)
{
  g_free (u->text);
  g_free (u);
}

KlingSpeechSched *
kling_speech_sched_new (GstElement * element, KlingPadQueue * audio,
    KlingPadQueue * words, KlingSpeechSynthFunc synth, gpointer user_data)
{
  KlingSpeechSched *s = g_new0 (KlingSpeechSched, 1);

  if (g_once_init_enter (&kling_speech_sched_debug)) {
    GstDebugCategory *cat = NULL;

    GST_DEBUG_CATEGORY_INIT (cat, "klingspeechsched", 0,
        "klingspeak's utterance scheduling");
    g_once_init_leave (&kling_speech_sched_debug, cat);
  }
  s->element = element;
  s->audio_q = audio;
  s->words_q = words;
  s->synth = synth;
  s->user_data = user_data;
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  g_queue_init (&s->utterances);
  s->flushing = TRUE;
  s->ahead = GST_CLOCK_TIME_NONE;
  s->samples = g_array_new (FALSE, FALSE, sizeof (gint16));
  s->words = g_array_new (FALSE, FALSE, sizeof (KlingSpeechWord));
  kling_speech_timeline_init (&s->tl, 8000);
  return s;
}

void
kling_speech_sched_free (KlingSpeechSched * s)
{
  if (s == NULL)
    return;
  g_queue_clear_full (&s->utterances, (GDestroyNotify) utterance_free);
  g_array_free (s->samples, TRUE);
  g_array_free (s->words, TRUE);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

void
kling_speech_sched_reset (KlingSpeechSched * s, gint rate, guint max_piece)
{
  g_mutex_lock (&s->lock);
  g_queue_clear_full (&s->utterances, (GDestroyNotify) utterance_free);
  s->horizon = 0;
  s->flushing = FALSE;
  g_mutex_unlock (&s->lock);
  kling_speech_timeline_init (&s->tl, rate);
  s->words_time = 0;
  s->max_piece = max_piece;
}

void
kling_speech_sched_set_flushing (KlingSpeechSched * s, gboolean flushing)
{
  g_mutex_lock (&s->lock);
  s->flushing = flushing;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
}

void
kling_speech_sched_set_ahead (KlingSpeechSched * s, GstClockTime ahead)
{
  g_mutex_lock (&s->lock);
  s->ahead = ahead;
  g_mutex_unlock (&s->lock);
  kling_pad_queue_set_limits (s->audio_q, G_MAXUINT, ahead);
}

void
kling_speech_sched_set_live (KlingSpeechSched * s, gboolean live)
{
  g_mutex_lock (&s->lock);
  s->live = live;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
}

gboolean
kling_speech_sched_is_live (KlingSpeechSched * s)
{
  gboolean live;

  g_mutex_lock (&s->lock);
  live = s->live;
  g_mutex_unlock (&s->lock);
  return live;
}

GstFlowReturn
kling_speech_sched_enqueue (KlingSpeechSched * s, gchar * text,
    GstClockTime time, gboolean eos)
{
  Utterance *u = g_new0 (Utterance, 1);

  u->text = text;
  u->time = time;
  u->eos = eos;
  g_mutex_lock (&s->lock);
  while (!s->flushing && !eos
      && g_queue_get_length (&s->utterances) >= MAX_UTTERANCES)
    g_cond_wait (&s->cond, &s->lock);
  if (s->flushing) {
    g_mutex_unlock (&s->lock);
    utterance_free (u);
    return GST_FLOW_FLUSHING;
  }
  if (eos)
    s->horizon = G_MAXUINT64;
  else if (GST_CLOCK_TIME_IS_VALID (time))
    s->horizon = MAX (s->horizon, time);
  g_queue_push_tail (&s->utterances, u);
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  return GST_FLOW_OK;
}

/* ---- the task ---------------------------------------------------------- */

/* FALSE when flushing; a words pad that stopped (EOS, error) drops them */
#define WORDS_PUSHED(ret) ((ret) != GST_FLOW_FLUSHING)

static GstClockTime
pts_of (KlingSpeechSched * s, guint64 sample)
{
  return kling_speech_timeline_pts (&s->tl, sample);
}

/* GAP on the words pad up to @until, if nothing is heard there yet */
static gboolean
words_gap_until (KlingSpeechSched * s, GstClockTime until)
{
  GstClockTime from = s->words_time;

  if (until <= from)
    return TRUE;
  s->words_time = until;
  return WORDS_PUSHED (kling_pad_queue_push_gap (s->words_q, from, until));
}

static gboolean
words_add (KlingSpeechSched * s, const gchar * text, gsize len,
    GstClockTime pts, GstClockTime end)
{
  GstBuffer *buf;

  if (!words_gap_until (s, pts))
    return FALSE;
  buf = gst_buffer_new_memdup (text, len);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = end - pts;
  s->words_time = MAX (s->words_time, end);
  return WORDS_PUSHED (kling_pad_queue_push_buffer (s->words_q, buf));
}

/* @n samples of @data (NULL: silence, flagged GAP) */
static GstFlowReturn
push_audio (KlingSpeechSched * s, const gint16 * data, guint64 n)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, n * 2, NULL);
  GstFlowReturn ret;

  if (data)
    gst_buffer_fill (buf, 0, data, n * 2);
  else {
    gst_buffer_memset (buf, 0, 0, n * 2);
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  }
  GST_BUFFER_PTS (buf) = pts_of (s, s->tl.position);
  GST_BUFFER_DURATION (buf) = kling_speech_timeline_duration (&s->tl,
      s->tl.position, n);
  GST_BUFFER_OFFSET (buf) = s->tl.position;
  GST_BUFFER_OFFSET_END (buf) = s->tl.position + n;
  if (s->tl.position == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  kling_speech_timeline_advance (&s->tl, n);

  ret = kling_pad_queue_push_buffer (s->audio_q, buf);
  if (ret == GST_FLOW_NOT_LINKED || ret == GST_FLOW_EOS)
    ret = GST_FLOW_OK;          /* the words may still be wanted */
  return ret;
}

/* Silence up to sample @until, in chunks, with GAPs on the words pad. */
static GstFlowReturn
push_silence (KlingSpeechSched * s, guint64 until)
{
  GstFlowReturn ret = GST_FLOW_OK;

  while (ret == GST_FLOW_OK && s->tl.position < until) {
    guint64 n = MIN (until - s->tl.position, CHUNK);

    if (!words_gap_until (s, pts_of (s, s->tl.position + n)))
      return GST_FLOW_FLUSHING;
    ret = push_audio (s, NULL, n);
  }
  return ret;
}

/* In interrupt mode, the sample at which the utterance being spoken must
 * stop for the next one, G_MAXUINT64 for none yet.  Outside live mode it
 * first waits until the input is known up to @chunk_end (a next buffer, a
 * GAP, or EOS), so the cut does not depend on thread timing. */
static guint64
next_cut (KlingSpeechSched * s, KlingSpeechPolicy policy, guint64 chunk_end)
{
  GstClockTime need = pts_of (s, chunk_end);
  guint64 cut = G_MAXUINT64;

  if (policy != KLING_SPEECH_POLICY_INTERRUPT)
    return cut;
  g_mutex_lock (&s->lock);
  for (;;) {
    Utterance *next = NULL;
    gboolean eos = FALSE;
    GList *l;

    for (l = s->utterances.head; l && !next && !eos; l = l->next) {
      Utterance *x = l->data;

      eos = x->eos;
      if (x->text)
        next = x;
    }
    if (next) {
      cut = kling_speech_timeline_cut (&s->tl, policy, next->time);
      break;
    }
    if (eos || s->live || s->flushing || s->horizon >= need)
      break;
    g_cond_wait (&s->cond, &s->lock);
  }
  g_mutex_unlock (&s->lock);
  return cut;
}

/* Queues the audio of the piece in s->samples (from sample @piece_start)
 * chunk by chunk, each chunk's words (of @piece, @len bytes) before it,
 * cut where the next utterance interrupts.  *@cut_done when it did. */
static GstFlowReturn
queue_piece (KlingSpeechSched * s, const gchar * piece, gsize len,
    KlingSpeechPolicy policy, gboolean * cut_done)
{
  guint64 piece_start = s->tl.position, off = 0;
  guint64 sound_end = kling_speech_sound_end ((gint16 *) s->samples->data,
      s->samples->len, SILENCE_THRESHOLD);
  KlingSpeechWord *words = (KlingSpeechWord *) s->words->data;
  guint n_words = kling_speech_words_finish (words, s->words->len, sound_end);
  guint w = 0;
  GstClockTime ahead, longest = 0;
  GstFlowReturn ret;

  /* the audio may run ahead by the longest word too (set_ahead) */
  for (w = 0; w < n_words; w++)
    longest = MAX (longest, kling_speech_timeline_duration (&s->tl,
            piece_start + words[w].sample, words[w].n_samples));
  w = 0;
  g_mutex_lock (&s->lock);
  ahead = s->ahead;
  g_mutex_unlock (&s->lock);
  if (GST_CLOCK_TIME_IS_VALID (ahead))
    kling_pad_queue_set_limits (s->audio_q, G_MAXUINT, ahead + longest);

  while (off < s->samples->len) {
    guint64 n = MIN (s->samples->len - off, CHUNK);
    guint64 cut = next_cut (s, policy, s->tl.position + n);
    GstClockTime cut_time = GST_CLOCK_TIME_NONE;

    if (cut != G_MAXUINT64 && cut < s->tl.position + n) {
      n = cut - s->tl.position;
      cut_time = pts_of (s, cut);
      *cut_done = TRUE;
    }
    /* the words whose onset is in this chunk go out before its audio */
    for (; w < n_words && words[w].sample < off + n; w++) {
      KlingSpeechWord *kw = &words[w];
      guint64 end_sample = piece_start + kw->sample + kw->n_samples;
      GstClockTime pts = pts_of (s, piece_start + kw->sample);
      GstClockTime end = pts_of (s, end_sample);

      if (*cut_done) {
        end = MIN (end, cut_time);
      } else {
        /* a word heard past this chunk: cut where the next utterance
         * will interrupt it, known before it goes out */
        guint64 wcut = next_cut (s, policy, end_sample);

        if (wcut != G_MAXUINT64)
          end = MIN (end, pts_of (s, wcut));
      }
      if (end <= pts || kw->text_offset + kw->text_length > len)
        continue;
      if (!words_add (s, piece + kw->text_offset, kw->text_length, pts, end))
        return GST_FLOW_FLUSHING;
    }
    if (n > 0 && (ret = push_audio (s, (gint16 *) s->samples->data + off,
                n)) != GST_FLOW_OK)
      return ret;
    off += n;
    if (!words_gap_until (s, pts_of (s, s->tl.position)))
      return GST_FLOW_FLUSHING;
    if (*cut_done) {
      GST_DEBUG_OBJECT (s->element, "interrupted at %" GST_TIME_FORMAT,
          GST_TIME_ARGS (cut_time));
      kling_pad_queue_clip (s->words_q, cut_time);
      s->words_time = MIN (s->words_time, cut_time);
      break;
    }
  }
  return GST_FLOW_OK;
}

/* Speaks @u piece by piece. */
static GstFlowReturn
speak (KlingSpeechSched * s, Utterance * u)
{
  guint64 start = kling_speech_timeline_start (&s->tl, u->time);
  gboolean cut_done = FALSE;
  GstFlowReturn ret;
  gsize max_piece;
  const gchar *p;

  max_piece = MIN (s->max_piece, kling_speech_sched_is_live (s) ?
      KLING_SPEECH_LIVE_PIECE_BYTES : KLING_SPEECH_MAX_PIECE_BYTES);
  ret = push_silence (s, start);
  for (p = u->text; ret == GST_FLOW_OK && p && *p && !cut_done;) {
    gsize len = kling_speech_text_piece_length (p, max_piece);
    gchar *piece = g_strndup (p, len);
    KlingSpeechPolicy policy = KLING_SPEECH_POLICY_QUEUE;
    GError *err = NULL;

    g_array_set_size (s->samples, 0);
    g_array_set_size (s->words, 0);
    if (s->synth (s->user_data, piece, pts_of (s, s->tl.position),
            s->samples, s->words, &policy, &err)) {
      ret = queue_piece (s, piece, len, policy, &cut_done);
    } else {
      g_mutex_lock (&s->lock);
      ret = s->flushing ? GST_FLOW_FLUSHING : GST_FLOW_ERROR;
      g_mutex_unlock (&s->lock);
      if (ret == GST_FLOW_ERROR)
        GST_ELEMENT_ERROR (s->element, LIBRARY, FAILED,
            ("Could not synthesise speech: %s", err->message),
            ("text: \"%.80s\"", piece));
      g_clear_error (&err);
    }
    g_free (piece);
    p += len;
  }
  return ret;
}

GstFlowReturn
kling_speech_sched_iterate (KlingSpeechSched * s)
{
  Utterance *u;
  GstFlowReturn ret;

  g_mutex_lock (&s->lock);
  while (!s->flushing && g_queue_is_empty (&s->utterances) && !s->live)
    g_cond_wait (&s->cond, &s->lock);
  if (s->flushing) {
    g_mutex_unlock (&s->lock);
    return GST_FLOW_FLUSHING;
  }
  u = g_queue_pop_head (&s->utterances);
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);

  if (u == NULL) {
    /* live and nothing to say: silence, at the pace of the clock (the
     * audio queue holds only a little) */
    ret = push_silence (s, s->tl.position + CHUNK);
  } else if (u->eos) {
    GST_DEBUG_OBJECT (s->element, "EOS after %" G_GUINT64_FORMAT " samples",
        s->tl.position);
    words_gap_until (s, pts_of (s, s->tl.position));
    kling_pad_queue_push_eos (s->words_q);
    kling_pad_queue_push_eos (s->audio_q);
    ret = GST_FLOW_EOS;
  } else {
    ret = speak (s, u);
  }
  if (u)
    utterance_free (u);
  /* the pad that failed posted its flow error; the engine its own */
  if (ret < GST_FLOW_EOS && ret != GST_FLOW_FLUSHING) {
    kling_pad_queue_push_eos (s->audio_q);
    kling_pad_queue_push_eos (s->words_q);
  }
  if (ret != GST_FLOW_OK)
    GST_DEBUG_OBJECT (s->element, "synthesis pausing: %s",
        gst_flow_get_name (ret));
  return ret;
}
