/* gst-kling: klingspeak's enums, and the voice a language speaks with
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstklingspeak-enums.h"
#include "kling-espeak.h"
#include "kling-speech-text.h"

GType
gst_kling_speak_language_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {GST_KLING_SPEAK_LANGUAGE_AUTO, "From the text's script: Chinese "
          "characters are spoken in Mandarin, Latin letters in English",
        "auto"},
    {GST_KLING_SPEAK_LANGUAGE_ZH, "Mandarin Chinese (espeak-ng voice cmn)",
        "zh"},
    {GST_KLING_SPEAK_LANGUAGE_YUE, "Cantonese (espeak-ng voice yue)", "yue"},
    {GST_KLING_SPEAK_LANGUAGE_EN, "English (espeak-ng voice en)", "en"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&id)) {
    GType t = g_enum_register_static ("GstKlingSpeakLanguage", values);

    g_once_init_leave (&id, t);
  }
  return (GType) id;
}

GType
gst_kling_speak_queue_policy_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {KLING_SPEECH_POLICY_QUEUE, "An utterance waits until the previous one "
          "has been spoken", "queue"},
    {KLING_SPEECH_POLICY_INTERRUPT, "An utterance cuts the one being spoken "
          "at its own timestamp", "interrupt"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&id)) {
    GType t = g_enum_register_static ("GstKlingSpeakQueuePolicy", values);

    g_once_init_leave (&id, t);
  }
  return (GType) id;
}

const gchar *
gst_kling_speak_language_voice (GstKlingSpeakLanguage language,
    const gchar * text)
{
  switch (language) {
    case GST_KLING_SPEAK_LANGUAGE_ZH:
      return kling_espeak_voice_for_language ("zh");
    case GST_KLING_SPEAK_LANGUAGE_YUE:
      return kling_espeak_voice_for_language ("yue");
    case GST_KLING_SPEAK_LANGUAGE_AUTO:
      if (kling_speech_text_script (text) == KLING_SPEECH_SCRIPT_HAN)
        return kling_espeak_voice_for_language ("zh");
      break;
    default:
      break;
  }
  return kling_espeak_voice_for_language ("en");
}
