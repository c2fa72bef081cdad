/* gst-kling fuzz target: the UTF-8 byte tokenizer.
 * Input: 2 bytes of parameters (max_length 0-511, offset), then the text.
 * Checks its contract: invalid UTF-8 refused; otherwise ids and mask fill
 * max_length, the kept prefix is whole characters of the text, and
 * truncation is reported exactly when bytes were dropped.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "kling-tokenizer.h"

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GError *error = NULL;
  guint max_length;
  gint offset, pad = -7, n;
  gint64 *ids, *mask;
  gboolean truncated = FALSE;
  gchar *text;
  gsize len, i;

  if (size < 2)
    return 0;
  max_length = ((data[0] << 1) | (data[1] >> 7)) & 0x1ff;
  offset = data[1] & 0x7f;
  text = g_strndup ((const gchar *) data + 2, size - 2);
  len = strlen (text);
  ids = g_new (gint64, max_length + 1);
  mask = g_new (gint64, max_length + 1);
  ids[max_length] = mask[max_length] = 12345;   /* must stay untouched */

  n = kling_tokenize_utf8 (text, offset, pad, max_length, ids, mask,
      &truncated, &error);
  if (n < 0) {
    if (g_utf8_validate (text, len, NULL) || error == NULL)
      abort ();
    g_clear_error (&error);
  } else {
    if (!g_utf8_validate (text, len, NULL) || (guint) n > max_length
        || (gsize) n > len || truncated != ((gsize) n < len))
      abort ();
    /* the prefix ends on a character boundary */
    if (!g_utf8_validate (text, n, NULL))
      abort ();
    for (i = 0; i < max_length; i++) {
      if (i < (gsize) n) {
        if (mask[i] != 1 || ids[i] != (guint8) text[i] + offset)
          abort ();
      } else if (mask[i] != 0 || ids[i] != pad) {
        abort ();
      }
    }
    if (ids[max_length] != 12345 || mask[max_length] != 12345)
      abort ();
  }
  g_free (ids);
  g_free (mask);
  g_free (text);
  return 0;
}
