/* gst-kling: libespeak-ng behind one lock
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <espeak-ng/speak_lib.h>
#include "kling-espeak.h"

G_DEFINE_QUARK (kling - espeak - error - quark, kling_espeak_error);

static GMutex espeak_lock;
static gint espeak_rate;        /* 0 until initialised, < 0 when it failed */

/* What the synth callback fills: set and used only under espeak_lock. */
typedef struct
{
  const gchar *text;
  glong text_chars;
  GArray *samples;
  GArray *words;
  const gint *cancel;
} SynthContext;

static SynthContext *current;

#define PRIMER "a."

gint
kling_espeak_init (GError ** error)
{
  gint rate;

  g_mutex_lock (&espeak_lock);
  if (espeak_rate == 0) {
    espeak_rate = espeak_Initialize (AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
        espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_DONT_EXIT);
    if (espeak_rate <= 0)
      espeak_rate = -1;
  }
  rate = espeak_rate;
  g_mutex_unlock (&espeak_lock);
  if (rate < 0) {
    g_set_error (error, KLING_ESPEAK_ERROR, KLING_ESPEAK_ERROR_INIT,
        "espeak-ng could not be initialised (is espeak-ng-data installed? "
        "Debian package espeak-ng-data, or set ESPEAK_DATA_PATH)");
    return 0;
  }
  return rate;
}

const gchar *
kling_espeak_voice_for_language (const gchar * language)
{
  if (g_strcmp0 (language, "zh") == 0)
    return "cmn";
  if (g_strcmp0 (language, "yue") == 0)
    return "yue";
  return "en";
}

static guint
edit_distance (const gchar * a, const gchar * b)
{
  guint la = strlen (a), lb = strlen (b), i, j;
  guint *row = g_new (guint, lb + 1), res;

  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++) {
    guint diag = row[0];

    row[0] = i;
    for (j = 1; j <= lb; j++) {
      guint up = row[j];
      guint cost = g_ascii_tolower (a[i - 1]) != g_ascii_tolower (b[j - 1]);

      row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
      diag = up;
    }
  }
  res = row[lb];
  g_free (row);
  return res;
}

/* espeak-ng voice list (under espeak_lock): "name (language)" of voices
 * close to @want. */
static gchar *
similar_voices (const gchar * want)
{
  const espeak_VOICE **voices = espeak_ListVoices (NULL);
  GString *s = g_string_new (NULL);
  gchar *prefix = g_ascii_strdown (want, MIN (strlen (want), 2));
  guint i, n = 0;

  for (i = 0; voices && voices[i] && n < 12; i++) {
    const espeak_VOICE *v = voices[i];
    const gchar *lang = v->languages ? v->languages + 1 : "";
    const gchar *id = v->identifier ? v->identifier : "";
    const gchar *base = strrchr (id, '/') ? strrchr (id, '/') + 1 : id;
    gboolean close = edit_distance (want, v->name) <= 2
        || edit_distance (want, base) <= 2
        || g_ascii_strncasecmp (lang, prefix, strlen (prefix)) == 0
        || g_ascii_strncasecmp (base, prefix, strlen (prefix)) == 0;

    if (!close)
      continue;
    g_string_append_printf (s, "%s%s (%s)", n ? ", " : "", base, lang);
    n++;
  }
  if (n == 0) {
    g_string_append (s, "none close; some are ");
    for (i = 0; voices && voices[i] && i < 10; i++) {
      const gchar *id = voices[i]->identifier ? voices[i]->identifier : "";
      const gchar *base = strrchr (id, '/') ? strrchr (id, '/') + 1 : id;

      g_string_append_printf (s, "%s%s", i ? ", " : "", base);
    }
  }
  g_free (prefix);
  return g_string_free (s, FALSE);
}

gboolean
kling_espeak_check_voice (const gchar * voice, GError ** error)
{
  espeak_ERROR r;

  if (kling_espeak_init (error) == 0)
    return FALSE;
  g_mutex_lock (&espeak_lock);
  r = espeak_SetVoiceByName (voice);
  if (r != EE_OK) {
    gchar *similar = similar_voices (voice);

    g_set_error (error, KLING_ESPEAK_ERROR, KLING_ESPEAK_ERROR_VOICE,
        "espeak-ng has no voice \"%s\"; similar voices: %s (all: "
        "espeak-ng --voices)", voice, similar);
    g_free (similar);
  }
  g_mutex_unlock (&espeak_lock);
  return r == EE_OK;
}

static int
synth_cb (short *wav, int n, espeak_EVENT * events)
{
  SynthContext *ctx = current;
  espeak_EVENT *e;

  if (ctx == NULL)
    return 0;                   /* the primer: its audio is dropped */
  for (e = events; e && e->type != espeakEVENT_LIST_TERMINATED; e++) {
    KlingSpeechWord w = { 0, };
    glong pos, len;

    if (e->type != espeakEVENT_WORD)
      continue;
    /* text_position counts characters from 1 */
    pos = CLAMP (e->text_position - 1, 0, ctx->text_chars);
    len = CLAMP (e->length, 0, ctx->text_chars - pos);
    w.text_offset = g_utf8_offset_to_pointer (ctx->text, pos) - ctx->text;
    w.text_length = g_utf8_offset_to_pointer (ctx->text, pos + len)
        - ctx->text - w.text_offset;
    w.sample = kling_speech_ms_to_samples (espeak_rate, e->audio_position);
    if (w.text_length > 0)
      g_array_append_val (ctx->words, w);
  }
  if (wav && n > 0)
    g_array_append_vals (ctx->samples, wav, n);
  return g_atomic_int_get (ctx->cancel) ? 1 : 0;
}

gboolean
kling_espeak_synth (const KlingEspeakParams * params, const gchar * text,
    GArray * samples, GArray * words, const gint * cancel, GError ** error)
{
  SynthContext ctx = { 0, };
  espeak_ERROR r;
  gboolean ok = TRUE;

  if (kling_espeak_init (error) == 0)
    return FALSE;
  ctx.text = text;
  ctx.text_chars = g_utf8_strlen (text, -1);
  ctx.samples = samples;
  ctx.words = words;
  ctx.cancel = cancel;

  g_mutex_lock (&espeak_lock);
  r = espeak_SetVoiceByName (params->voice);
  if (r != EE_OK) {
    g_mutex_unlock (&espeak_lock);
    g_set_error (error, KLING_ESPEAK_ERROR, KLING_ESPEAK_ERROR_VOICE,
        "espeak-ng has no voice \"%s\"", params->voice);
    return FALSE;
  }
  espeak_SetParameter (espeakRATE, CLAMP (params->rate, KLING_ESPEAK_RATE_MIN,
          KLING_ESPEAK_RATE_MAX), 0);
  espeak_SetParameter (espeakPITCH, CLAMP (params->pitch, 0, 100), 0);
  espeak_SetParameter (espeakVOLUME, CLAMP (params->volume, 0, 200), 0);
  espeak_SetSynthCallback (synth_cb);
  /* espeak-ng carries state from one call to the next (the voice source
   * goes on where the last utterance left it: onsets move by up to 10 ms
   * depending on what was said before, by this or another instance).  A
   * short fixed utterance with this voice first puts it in the same state
   * every time, so the same text always gives the same audio. */
  current = NULL;
  srand (1);                    /* its voice source draws on libc rand() */
  r = espeak_Synth (PRIMER, sizeof (PRIMER), 0, POS_CHARACTER, 0,
      espeakCHARS_UTF8, NULL, NULL);
  if (r == EE_OK)
    r = espeak_Synchronize ();
  current = &ctx;
  if (r == EE_OK)
    r = espeak_Synth (text, strlen (text) + 1, 0, POS_CHARACTER, 0,
        espeakCHARS_UTF8, NULL, NULL);
  if (r == EE_OK)
    r = espeak_Synchronize ();
  current = NULL;
  g_mutex_unlock (&espeak_lock);

  if (g_atomic_int_get (cancel)) {
    g_set_error (error, KLING_ESPEAK_ERROR, KLING_ESPEAK_ERROR_CANCELLED,
        "cancelled");
    ok = FALSE;
  } else if (r != EE_OK) {
    g_set_error (error, KLING_ESPEAK_ERROR, KLING_ESPEAK_ERROR_SYNTH,
        "espeak-ng failed to synthesise (error %d)", r);
    ok = FALSE;
  }
  return ok;
}
