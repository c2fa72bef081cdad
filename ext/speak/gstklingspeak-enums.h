/* gst-kling: klingspeak's enums, and the voice a language speaks with
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_KLING_SPEAK_ENUMS_H__
#define __GST_KLING_SPEAK_ENUMS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum
{
  GST_KLING_SPEAK_LANGUAGE_AUTO,
  GST_KLING_SPEAK_LANGUAGE_ZH,
  GST_KLING_SPEAK_LANGUAGE_YUE,
  GST_KLING_SPEAK_LANGUAGE_EN
} GstKlingSpeakLanguage;

#define GST_TYPE_KLING_SPEAK_LANGUAGE (gst_kling_speak_language_get_type ())
GType gst_kling_speak_language_get_type (void);
/* KlingSpeechPolicy (kling-speech-timeline.h) */
#define GST_TYPE_KLING_SPEAK_QUEUE_POLICY \
    (gst_kling_speak_queue_policy_get_type ())
GType gst_kling_speak_queue_policy_get_type (void);

/* The espeak-ng voice for @language; for auto, from @text's script. */
const gchar *gst_kling_speak_language_voice (GstKlingSpeakLanguage language,
    const gchar * text);

G_END_DECLS

#endif
