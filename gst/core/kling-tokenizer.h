/* gst-kling: UTF-8 byte-level tokenizer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_TOKENIZER_H__
#define __KLING_TOKENIZER_H__

#include <glib.h>

G_BEGIN_DECLS

#define KLING_TOKENIZER_ERROR (kling_tokenizer_error_quark ())
GQuark kling_tokenizer_error_quark (void);

typedef enum
{
  KLING_TOKENIZER_ERROR_INVALID_UTF8
} KlingTokenizerError;

/* Token of byte b = b + offset; padding = pad.  @ids and @mask hold
 * @max_length values each: mask 1 for a token, 0 for padding.  Invalid UTF-8
 * is refused with an error that says where.  A prompt longer than
 * @max_length bytes is cut at the last whole character that fits, and
 * @truncated says so (the caller warns).  Returns the number of tokens. */
gint kling_tokenize_utf8 (const gchar * text, gint offset, gint pad,
    guint max_length, gint64 * ids, gint64 * mask, gboolean * truncated,
    GError ** error);

G_END_DECLS

#endif
