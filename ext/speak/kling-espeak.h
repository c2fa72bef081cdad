/* gst-kling: libespeak-ng behind one lock
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * espeak-ng keeps its voice, parameters and callback in process-wide state,
 * so every call goes through one global mutex: several klingspeak instances
 * (two hosts, two languages) each set their voice and parameters and
 * synthesise a whole piece while holding it.
 */
#ifndef __KLING_ESPEAK_H__
#define __KLING_ESPEAK_H__

#include <glib.h>
#include "kling-speech-timeline.h"

G_BEGIN_DECLS

#define KLING_ESPEAK_ERROR (kling_espeak_error_quark ())
GQuark kling_espeak_error_quark (void);

typedef enum
{
  KLING_ESPEAK_ERROR_INIT,
  KLING_ESPEAK_ERROR_VOICE,
  KLING_ESPEAK_ERROR_SYNTH,
  KLING_ESPEAK_ERROR_CANCELLED
} KlingEspeakError;

#define KLING_ESPEAK_RATE_MIN 80
#define KLING_ESPEAK_RATE_MAX 450

/* Initialises espeak-ng once for the process; returns its sample rate
 * (22050) or 0 with @error set. */
gint kling_espeak_init (GError ** error);

/* The espeak-ng voice for a language code: "zh" → "cmn", "yue", "en". */
const gchar *kling_espeak_voice_for_language (const gchar * language);

/* TRUE when espeak-ng can select @voice; otherwise @error names the voices
 * whose name or language is close to it. */
gboolean kling_espeak_check_voice (const gchar * voice, GError ** error);

typedef struct
{
  const gchar *voice;
  gint rate;                    /* words per minute, 80..450 */
  gint pitch;                   /* 0..100 */
  gint volume;                  /* 0..200 */
} KlingEspeakParams;

/* Speaks @text (NUL-terminated UTF-8) with @params: appends its S16 samples
 * to @samples and one KlingSpeechWord per word event to @words (onsets in
 * samples from the start of this call's audio, text offsets in bytes of
 * @text; durations left 0).  Returns FALSE with @error when espeak-ng fails
 * or @cancel becomes non-zero. */
gboolean kling_espeak_synth (const KlingEspeakParams * params,
    const gchar * text, GArray * samples, GArray * words,
    const gint * cancel, GError ** error);

G_END_DECLS

#endif
