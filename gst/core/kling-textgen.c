/* gst-kling: token-by-token text generation over byte tokens
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kling-textgen.h"
#include "kling-backend.h"

/* RFC 3629 table 3-7: the well-formed byte sequences. */
gboolean
kling_utf8_accepts (const KlingUtf8State * s, guint8 b)
{
  if (s->need > 0)
    return b >= s->lo && b <= s->hi;
  if (b < 0x20 || b == 0x7f)
    return FALSE;               /* no control characters in a line of copy */
  return b < 0x80 || (b >= 0xc2 && b <= 0xf4);
}

void
kling_utf8_push (KlingUtf8State * s, guint8 b)
{
  if (s->need > 0) {
    s->need--;
    s->lo = 0x80;
    s->hi = 0xbf;
    return;
  }
  s->lo = 0x80;
  s->hi = 0xbf;
  if (b < 0x80)
    s->need = 0;
  else if (b < 0xe0)
    s->need = 1;
  else if (b < 0xf0) {
    s->need = 2;
    if (b == 0xe0)
      s->lo = 0xa0;             /* no overlong forms */
    else if (b == 0xed)
      s->hi = 0x9f;             /* no surrogates */
  } else {
    s->need = 3;
    if (b == 0xf0)
      s->lo = 0x90;
    else if (b == 0xf4)
      s->hi = 0x8f;             /* nothing above U+10FFFF */
  }
}

typedef struct
{
  gfloat logit;
  gint token;
} Candidate;

static gint
by_logit_desc (gconstpointer pa, gconstpointer pb)
{
  const Candidate *a = pa, *b = pb;

  if (a->logit != b->logit)
    return a->logit > b->logit ? -1 : 1;
  return a->token - b->token;
}

gchar *
kling_textgen_run (const KlingTextGenParams * p,
    KlingNextLogitsFunc next_logits, gpointer user_data,
    GCancellable * cancellable, GError ** error)
{
  gint64 *tokens = g_new (gint64, p->max_tokens + 1);
  gfloat *logits = g_new (gfloat, p->vocab);
  Candidate *cands = g_new (Candidate, p->vocab);
  GByteArray *text = g_byte_array_new ();
  GRand *rand = g_rand_new_with_seed (p->seed);
  KlingUtf8State utf8 = { 0, 0x80, 0xbf };
  guint n = 0, complete = 0, i;
  gboolean ok = TRUE;

  tokens[n++] = p->bos;
  while (n <= p->max_tokens) {
    guint n_cands = 0, k;
    gint chosen;

    if (g_cancellable_set_error_if_cancelled (cancellable, error)
        || !next_logits (tokens, n, logits, user_data, error)) {
      ok = FALSE;
      break;
    }
    for (i = 0; i < p->vocab; i++) {
      gint byte = (gint) i - p->byte_offset;
      gboolean allowed;

      if ((gint) i == p->eos)
        allowed = utf8.need == 0 && text->len > 0;
      else
        allowed = byte >= 0 && byte < 256 && kling_utf8_accepts (&utf8, byte);
      if (allowed && isfinite (logits[i])) {
        cands[n_cands].logit = logits[i];
        cands[n_cands].token = i;
        n_cands++;
      }
    }
    if (n_cands == 0)
      break;
    qsort (cands, n_cands, sizeof (Candidate), by_logit_desc);

    k = MIN (MAX (p->top_k, 1), n_cands);
    chosen = cands[0].token;
    if (k > 1) {
      gdouble total = 0, r, t = p->temperature > 0 ? p->temperature : 1.0;
      gdouble *w = g_newa (gdouble, k);

      for (i = 0; i < k; i++) {
        w[i] = exp ((cands[i].logit - cands[0].logit) / t);
        total += w[i];
      }
      r = g_rand_double (rand) * total;
      for (i = 0; i < k - 1 && r >= w[i]; i++)
        r -= w[i];
      chosen = cands[i].token;
    }
    if (chosen == p->eos)
      break;
    {
      guint8 byte = chosen - p->byte_offset;
      g_byte_array_append (text, &byte, 1);
      kling_utf8_push (&utf8, byte);
      if (utf8.need == 0)
        complete = text->len;
    }
    tokens[n++] = chosen;
  }

  g_free (tokens);
  g_free (logits);
  g_free (cands);
  g_rand_free (rand);
  if (!ok) {
    g_byte_array_free (text, TRUE);
    return NULL;
  }
  /* an unfinished character at the length limit is dropped */
  g_byte_array_set_size (text, complete);
  g_byte_array_append (text, (const guint8 *) "", 1);
  {
    gchar *s = (gchar *) g_byte_array_free (text, FALSE);

    /* cannot happen by construction; never hand on broken text anyway */
    if (!g_utf8_validate (s, -1, NULL)) {
      g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
          "generated text is not valid UTF-8");
      g_free (s);
      return NULL;
    }
    return g_strstrip (s);
  }
}
