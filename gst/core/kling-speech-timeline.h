/* gst-kling: the sample-count clock of synthesised speech
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure C over GStreamer's time helpers, no engine: where each utterance
 * starts (queue behind the previous one, or cut it), how much silence fills
 * the gap before it, the PTS of every sample (from the count of samples
 * emitted, so there is no drift), and word timings from engine events.
 */
#ifndef __KLING_SPEECH_TIMELINE_H__
#define __KLING_SPEECH_TIMELINE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum
{
  KLING_SPEECH_POLICY_QUEUE,    /* start when the previous one ends */
  KLING_SPEECH_POLICY_INTERRUPT /* cut the previous one at our start */
} KlingSpeechPolicy;

typedef struct
{
  gint rate;
  guint64 position;             /* samples emitted since the start */
} KlingSpeechTimeline;

void kling_speech_timeline_init (KlingSpeechTimeline * tl, gint rate);

/* Sample index of running time @t (rounded to the nearest sample). */
guint64 kling_speech_timeline_samples (const KlingSpeechTimeline * tl,
    GstClockTime t);
/* PTS of sample @sample: gst_util_uint64_scale (sample, GST_SECOND, rate). */
GstClockTime kling_speech_timeline_pts (const KlingSpeechTimeline * tl,
    guint64 sample);
/* Duration of @n samples starting at @sample, so that consecutive
 * buffers' PTS + duration meet exactly. */
GstClockTime kling_speech_timeline_duration (const KlingSpeechTimeline * tl,
    guint64 sample, guint64 n);

/* First sample of an utterance with buffer time @pts (GST_CLOCK_TIME_NONE:
 * right after what is already out).  Never before tl->position. */
guint64 kling_speech_timeline_start (const KlingSpeechTimeline * tl,
    GstClockTime pts);

/* Silence samples to emit before an utterance starting at @start. */
guint64 kling_speech_timeline_gap (const KlingSpeechTimeline * tl,
    guint64 start);

/* With @policy INTERRUPT and a next utterance at @next_pts: the sample at
 * which the current one stops (>= tl->position), else G_MAXUINT64. */
guint64 kling_speech_timeline_cut (const KlingSpeechTimeline * tl,
    KlingSpeechPolicy policy, GstClockTime next_pts);

void kling_speech_timeline_advance (KlingSpeechTimeline * tl, guint64 n);

typedef struct
{
  gsize text_offset;            /* bytes into the utterance's text */
  gsize text_length;            /* bytes */
  guint64 sample;               /* onset, samples from the piece start */
  guint64 n_samples;            /* heard for this long */
} KlingSpeechWord;

/* Sample index of an engine event at @ms milliseconds into the audio. */
guint64 kling_speech_ms_to_samples (gint rate, gint ms);

/* Turns onsets into a monotonic sequence of words, each lasting until the
 * next one starts, the last until @sound_end (samples: the end of the
 * piece's audio without its trailing silence).  Onsets past @sound_end are
 * moved to it, words starting at the same sample are merged into one.
 * Returns the number of words left in @words. */
guint kling_speech_words_finish (KlingSpeechWord * words, guint n_words,
    guint64 sound_end);

/* Samples up to and including the last one of @samples louder than
 * @threshold (absolute S16 value): the audio without trailing silence. */
guint64 kling_speech_sound_end (const gint16 * samples, guint64 n,
    gint threshold);

G_END_DECLS

#endif
