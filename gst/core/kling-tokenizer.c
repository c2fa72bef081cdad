/* gst-kling: UTF-8 byte-level tokenizer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "kling-tokenizer.h"

G_DEFINE_QUARK (kling-tokenizer-error-quark, kling_tokenizer_error);

gint
kling_tokenize_utf8 (const gchar * text, gint offset, gint pad,
    guint max_length, gint64 * ids, gint64 * mask, gboolean * truncated,
    GError ** error)
{
  const gchar *end = NULL;
  gsize len, n, i;

  if (text == NULL)
    text = "";
  len = strlen (text);
  if (!g_utf8_validate (text, len, &end)) {
    g_set_error (error, KLING_TOKENIZER_ERROR,
        KLING_TOKENIZER_ERROR_INVALID_UTF8,
        "the prompt is not valid UTF-8 (bad byte 0x%02x at byte %"
        G_GSIZE_FORMAT "); give prompts as UTF-8 text", (guint8) * end,
        (gsize) (end - text));
    return -1;
  }
  n = len;
  if (n > max_length) {
    /* back up to the start of the character that does not fit whole */
    n = max_length;
    while (n > 0 && ((guint8) text[n] & 0xc0) == 0x80)
      n--;
  }
  if (truncated)
    *truncated = n < len;
  for (i = 0; i < max_length; i++) {
    ids[i] = i < n ? (gint64) (guint8) text[i] + offset : pad;
    mask[i] = i < n;
  }
  return (gint) n;
}
