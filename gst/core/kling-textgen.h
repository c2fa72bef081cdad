/* gst-kling: token-by-token text generation over byte tokens
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_TEXTGEN_H__
#define __KLING_TEXTGEN_H__

#include <gio/gio.h>

G_BEGIN_DECLS

#define KLING_TEXTGEN_ERROR (kling_textgen_error_quark ())
GQuark kling_textgen_error_quark (void);

typedef enum
{
  /* no step offered a single finite logit for a token that keeps the text
   * valid UTF-8 (NaN or infinite logits, a vocabulary without bytes) */
  KLING_TEXTGEN_ERROR_NO_TOKEN,
  /* the parameters ask for more than the loop allows (top_k above
   * KLING_TEXTGEN_MAX_TOP_K, no vocabulary) */
  KLING_TEXTGEN_ERROR_INVALID
} KlingTextGenError;

/* The largest top_k the loop samples from (its weights are one heap array
 * of at most this many values, allocated once per line). */
#define KLING_TEXTGEN_MAX_TOP_K 1024

/* Fills @logits (params->vocab values) for the token that follows
 * @tokens[0 .. n_tokens-1]. */
typedef gboolean (*KlingNextLogitsFunc) (const gint64 * tokens,
    guint n_tokens, gfloat * logits, gpointer user_data, GError ** error);

typedef struct
{
  guint vocab;                  /* logits per step */
  gint byte_offset;             /* token of byte 0x00 */
  gint bos;                     /* first token fed */
  gint eos;                     /* stops generation */
  guint max_tokens;             /* generated tokens, BOS not counted */
  guint top_k;                  /* 0 or 1: greedy; at most
                                 * KLING_TEXTGEN_MAX_TOP_K */
  gfloat temperature;
  guint32 seed;
} KlingTextGenParams;

/* Generates one line.  Only tokens that keep the output valid UTF-8 are
 * ever chosen (control characters excluded too), so the result is valid
 * UTF-8 however the model behaves; an unfinished character at max_tokens
 * is dropped.  Same seed and logits: same text.  When not even the first
 * token can be chosen, fails with KLING_TEXTGEN_ERROR_NO_TOKEN: an empty
 * line is never returned.  A top_k above KLING_TEXTGEN_MAX_TOP_K or a
 * vocab of 0 fails at once with KLING_TEXTGEN_ERROR_INVALID. */
gchar *kling_textgen_run (const KlingTextGenParams * params,
    KlingNextLogitsFunc next_logits, gpointer user_data,
    GCancellable * cancellable, GError ** error);

/* UTF-8 validity as a byte-by-byte state machine. */
typedef struct
{
  guint8 need;                  /* continuation bytes still expected */
  guint8 lo, hi;                /* range of the next continuation byte */
} KlingUtf8State;

gboolean kling_utf8_accepts (const KlingUtf8State * state, guint8 byte);
void kling_utf8_push (KlingUtf8State * state, guint8 byte);

G_END_DECLS

#endif
