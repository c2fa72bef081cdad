/* gst-kling: text preparation for speech synthesis
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure C, no GStreamer: validating UTF-8 (with the byte offset of the first
 * bad sequence), dropping what no voice can say (control characters, emoji),
 * cutting long text into bounded pieces at sentence or word boundaries, and
 * telling Chinese from Latin-script text for language=auto.
 */
#ifndef __KLING_SPEECH_TEXT_H__
#define __KLING_SPEECH_TEXT_H__

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when @text (@length bytes) is valid UTF-8 with no NUL inside;
 * otherwise *@bad_offset is the byte offset of the first bad sequence. */
gboolean kling_speech_text_validate (const gchar * text, gsize length,
    gsize * bad_offset);

/* A copy of valid UTF-8 @text with control characters, emoji, variation
 * selectors and zero-width joiners removed and runs of white space
 * collapsed to one space, trimmed.  "" when nothing speakable is left. */
gchar *kling_speech_text_clean (const gchar * text, gsize length);

/* TRUE when @c is a character kling_speech_text_clean() drops. */
gboolean kling_speech_text_is_skipped (gunichar c);

/* Length in bytes of the first piece of @text (NUL-terminated, valid
 * UTF-8) that is at most @max_bytes long (>= 8): cut after the last
 * sentence end (. ! ? ; and their CJK forms, or a newline) in range, else
 * after the last space or CJK character, else at a character boundary.
 * 0 only when @text is empty. */
gsize kling_speech_text_piece_length (const gchar * text, gsize max_bytes);

typedef enum
{
  KLING_SPEECH_SCRIPT_NONE,     /* no letters at all */
  KLING_SPEECH_SCRIPT_LATIN,
  KLING_SPEECH_SCRIPT_HAN
} KlingSpeechScript;

/* The script most of @text's letters are in (Han wins ties: a line of
 * Chinese with an English brand name in it is Chinese). */
KlingSpeechScript kling_speech_text_script (const gchar * text);

/* TRUE for a character that is one word on its own when spoken: Han,
 * Hiragana, Katakana, Hangul syllables. */
gboolean kling_speech_text_is_cjk (gunichar c);

G_END_DECLS

#endif
