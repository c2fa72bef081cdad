/* gst-kling: text preparation for speech synthesis
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "kling-speech-text.h"

gboolean
kling_speech_text_validate (const gchar * text, gsize length,
    gsize * bad_offset)
{
  const gchar *end = NULL;

  if (g_utf8_validate_len (text, length, &end))
    return TRUE;
  if (bad_offset)
    *bad_offset = end - text;
  return FALSE;
}

gboolean
kling_speech_text_is_cjk (gunichar c)
{
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF)
      || (c >= 0x20000 && c <= 0x2FFFF) || (c >= 0xF900 && c <= 0xFAFF)
      || (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF);
}

gboolean
kling_speech_text_is_skipped (gunichar c)
{
  if (c == '\n' || c == '\t' || c == '\r')
    return FALSE;               /* white space, collapsed by the caller */
  switch (g_unichar_type (c)) {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:     /* zero-width joiner, bidi marks, tags */
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SURROGATE:
      return TRUE;
    default:
      break;
  }
  return (c >= 0x1F000 && c <= 0x1FAFF) /* emoji, flags, mahjong, cards */
      ||(c >= 0x2600 && c <= 0x27BF)    /* dingbats, misc symbols */
      ||(c >= 0x2B00 && c <= 0x2BFF)    /* arrows and stars */
      ||(c >= 0xFE00 && c <= 0xFE0F)    /* variation selectors */
      ||(c >= 0xE0000 && c <= 0xE007F)  /* tags */
      ||c == 0x20E3 || c == 0xFFFD;
}

gchar *
kling_speech_text_clean (const gchar * text, gsize length)
{
  GString *out = g_string_sized_new (length + 1);
  const gchar *p = text, *end = text + length;
  gboolean pending_space = FALSE;

  while (p < end && *p) {
    gunichar c = g_utf8_get_char (p);

    p = g_utf8_next_char (p);
    if (kling_speech_text_is_skipped (c))
      continue;
    if (g_unichar_isspace (c)) {
      pending_space = out->len > 0;
      continue;
    }
    if (pending_space)
      g_string_append_c (out, ' ');
    pending_space = FALSE;
    g_string_append_unichar (out, c);
  }
  return g_string_free (out, FALSE);
}

static gboolean
is_sentence_end (gunichar c)
{
  return c == '.' || c == '!' || c == '?' || c == ';' || c == '\n'
      || c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B
      || c == 0xFF0E;
}

gsize
kling_speech_text_piece_length (const gchar * text, gsize max_bytes)
{
  const gchar *p = text;
  gsize sentence = 0, word = 0, last_char = 0;

  g_return_val_if_fail (max_bytes >= 8, 0);

  while (*p) {
    gunichar c = g_utf8_get_char (p);
    const gchar *next = g_utf8_next_char (p);
    gsize end = next - text;

    if (end > max_bytes)
      break;
    last_char = end;
    if (is_sentence_end (c))
      sentence = end;
    else if (c == ' ' || kling_speech_text_is_cjk (c) || c == 0xFF0C
        || c == 0x3001 || c == ',')
      word = end;
    p = next;
  }
  if (*p == '\0')
    return p - text;            /* all of it fits */
  if (sentence > 0)
    return sentence;
  if (word > 0)
    return word;
  return last_char;
}

KlingSpeechScript
kling_speech_text_script (const gchar * text)
{
  guint han = 0, latin = 0;
  const gchar *p;

  for (p = text; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (kling_speech_text_is_cjk (c))
      han++;
    else if (g_unichar_isalpha (c)
        && g_unichar_get_script (c) == G_UNICODE_SCRIPT_LATIN)
      latin++;
  }
  if (han == 0 && latin == 0)
    return KLING_SPEECH_SCRIPT_NONE;
  /* a Chinese character carries a word, a Latin letter about a fifth */
  return han * 5 >= latin ? KLING_SPEECH_SCRIPT_HAN : KLING_SPEECH_SCRIPT_LATIN;
}
