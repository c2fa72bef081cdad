/* gst-kling: the sample-count clock of synthesised speech
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include "kling-speech-timeline.h"

void
kling_speech_timeline_init (KlingSpeechTimeline * tl, gint rate)
{
  g_return_if_fail (rate > 0);
  tl->rate = rate;
  tl->position = 0;
}

guint64
kling_speech_timeline_samples (const KlingSpeechTimeline * tl, GstClockTime t)
{
  g_return_val_if_fail (GST_CLOCK_TIME_IS_VALID (t), tl->position);
  return gst_util_uint64_scale_int_round (t, tl->rate, GST_SECOND);
}

GstClockTime
kling_speech_timeline_pts (const KlingSpeechTimeline * tl, guint64 sample)
{
  return gst_util_uint64_scale (sample, GST_SECOND, tl->rate);
}

GstClockTime
kling_speech_timeline_duration (const KlingSpeechTimeline * tl,
    guint64 sample, guint64 n)
{
  return kling_speech_timeline_pts (tl, sample + n) -
      kling_speech_timeline_pts (tl, sample);
}

guint64
kling_speech_timeline_start (const KlingSpeechTimeline * tl, GstClockTime pts)
{
  guint64 s;

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return tl->position;
  s = kling_speech_timeline_samples (tl, pts);
  return MAX (s, tl->position);
}

guint64
kling_speech_timeline_gap (const KlingSpeechTimeline * tl, guint64 start)
{
  return start > tl->position ? start - tl->position : 0;
}

guint64
kling_speech_timeline_cut (const KlingSpeechTimeline * tl,
    KlingSpeechPolicy policy, GstClockTime next_pts)
{
  if (policy != KLING_SPEECH_POLICY_INTERRUPT)
    return G_MAXUINT64;
  return kling_speech_timeline_start (tl, next_pts);
}

void
kling_speech_timeline_advance (KlingSpeechTimeline * tl, guint64 n)
{
  tl->position += n;
}

guint64
kling_speech_ms_to_samples (gint rate, gint ms)
{
  if (ms <= 0)
    return 0;
  return gst_util_uint64_scale_int_round (ms, rate, 1000);
}

guint
kling_speech_words_finish (KlingSpeechWord * words, guint n_words,
    guint64 sound_end)
{
  guint i, out = 0;

  for (i = 0; i < n_words; i++) {
    KlingSpeechWord w = words[i];

    if (w.sample > sound_end)
      w.sample = sound_end;
    if (out > 0 && w.sample <= words[out - 1].sample) {
      /* same onset as (or, from a confused engine, before) the previous
       * word: one subtitle for both */
      KlingSpeechWord *prev = &words[out - 1];
      gsize end = MAX (prev->text_offset + prev->text_length,
          w.text_offset + w.text_length);

      prev->text_offset = MIN (prev->text_offset, w.text_offset);
      prev->text_length = end - prev->text_offset;
      continue;
    }
    words[out++] = w;
  }
  for (i = 0; i < out; i++) {
    guint64 end = i + 1 < out ? words[i + 1].sample : sound_end;

    words[i].n_samples = end > words[i].sample ? end - words[i].sample : 0;
  }
  /* a last word starting at the very end of the sound lasts 0 samples */
  return out;
}

guint64
kling_speech_sound_end (const gint16 * samples, guint64 n, gint threshold)
{
  while (n > 0 && abs (samples[n - 1]) <= threshold)
    n--;
  return n;
}
