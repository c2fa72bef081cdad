/* gst-kling: the `speech` task, a TorchScript text-to-speech package
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include "kling-speech-model.h"
#include "kling-speech-text.h"
#include "kling-archive.h"
#include "kling-backend.h"
#include "kling-manifest.h"
#include "kling-tokenizer.h"

#define SEE_DOCS "see docs/models.md, task `speech`"

struct _KlingSpeechModel
{
  KlingModel *model;
  KlingManifest *manifest;
  gchar *path;
  gint rate;
  gint offset;
  guint max_length;
  gboolean takes_speaker;
  gint64 default_speaker;       /* defaults.speaker */
};

void
kling_speech_model_free (KlingSpeechModel * m)
{
  if (m == NULL)
    return;
  kling_manifest_free (m->manifest);
  kling_model_free (m->model);
  g_free (m->path);
  g_free (m);
}

static gboolean
invalid (GError ** error, const gchar * path, const gchar * what)
{
  g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
      "model \"%s\": %s (" SEE_DOCS ")", path, what);
  return FALSE;
}

KlingSpeechModel *
kling_speech_model_open (const gchar * path, const gchar * device,
    GError ** error)
{
  KlingLoadOptions opts = { device, KLING_PRECISION_FLOAT32, 0 };
  KlingSpeechModel *m = g_new0 (KlingSpeechModel, 1);
  gint n_args;

  /* the manifest reader checks task `speech`: synthesize, audio.rate,
   * the tokenizer and defaults.speaker */
  m->path = g_strdup (path);
  m->model = kling_package_load (path, "speech", &opts, FALSE, &m->manifest,
      error);
  if (m->model == NULL)
    goto fail;
  n_args = kling_model_method_n_args (m->model, "synthesize");
  if (n_args != 1 && n_args != 2) {
    invalid (error, path, "its `synthesize` must take (ids) or (ids, speaker)");
    goto fail;
  }
  m->takes_speaker = n_args == 2;
  m->rate = kling_manifest_get_int (m->manifest, "audio.rate", 0);
  m->max_length = kling_manifest_get_int (m->manifest,
      "tokenizer.max_length", 256);
  m->offset = m->manifest->tokenizer_offset;
  m->default_speaker = kling_manifest_get_int (m->manifest,
      "defaults.speaker", 0);
  return m;

fail:
  kling_speech_model_free (m);
  return NULL;
}

gint
kling_speech_model_rate (const KlingSpeechModel * m)
{
  return m->rate;
}

guint
kling_speech_model_max_bytes (const KlingSpeechModel * m)
{
  return m->max_length;
}

void
kling_speech_split_words (const gchar * text, GArray * words)
{
  const gchar *p = text, *start = NULL;

  for (; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    gboolean cjk = kling_speech_text_is_cjk (c);

    if (start && (g_unichar_isspace (c) || cjk)) {
      KlingSpeechWord w = { start - text, p - start, 0, 0 };

      g_array_append_val (words, w);
      start = NULL;
    }
    if (cjk) {
      KlingSpeechWord w = { p - text, g_utf8_next_char (p) - p, 0, 0 };

      g_array_append_val (words, w);
    } else if (!g_unichar_isspace (c) && start == NULL) {
      start = p;
    }
  }
  if (start) {
    KlingSpeechWord w = { start - text, p - start, 0, 0 };

    g_array_append_val (words, w);
  }
}

void
kling_speech_place_words (GArray * words, const gint64 * durations,
    guint n_tokens, gsize text_length, guint64 n_samples)
{
  guint i, t = 0;
  guint64 onset = 0;

  for (i = 0; i < words->len; i++) {
    KlingSpeechWord *w = &g_array_index (words, KlingSpeechWord, i);

    if (durations) {
      while (t < n_tokens && t < w->text_offset)
        onset += durations[t++];
      w->sample = MIN (onset, n_samples);
    } else if (text_length > 0) {
      w->sample = gst_util_uint64_scale (w->text_offset, n_samples,
          text_length);
    }
  }
}

/* Output @index as a vector of @dtype (or, for durations, int64 or
 * float32): [L] or [1, L]; NULL with @error otherwise. */
static const KlingTensor *
vector_output (KlingSpeechModel * m, KlingOutputs * out, guint index,
    gboolean durations, gint64 * length, GError ** error)
{
  const KlingTensor *t = kling_outputs_get (out, index);
  gchar *shape;

  if (t == NULL) {
    invalid (error, m->path, "`synthesize` returned nothing");
    return NULL;
  }
  shape = kling_tensor_describe_shape (t);
  if (!((t->n_dims == 1) || (t->n_dims == 2 && t->shape[0] == 1))
      || (!durations && t->dtype != KLING_DTYPE_FLOAT32)
      || (durations && t->dtype != KLING_DTYPE_INT64
          && t->dtype != KLING_DTYPE_FLOAT32)) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
        "model \"%s\": `synthesize` output %u is %s; it must be %s [N] or "
        "[1, N] (" SEE_DOCS ")", m->path, index, shape,
        durations ? "int64 or float32 durations" : "a float32 waveform");
    g_free (shape);
    return NULL;
  }
  g_free (shape);
  *length = t->shape[t->n_dims - 1];
  return t;
}

gboolean
kling_speech_model_synth (KlingSpeechModel * m, const gchar * text,
    gint speaker, GArray * samples, GArray * words,
    GCancellable * cancellable, GError ** error)
{
  gint64 *ids = g_new0 (gint64, m->max_length);
  gint64 *mask = g_new0 (gint64, m->max_length);
  gint64 speaker_id = speaker < 0 ? m->default_speaker : speaker;
  gint64 shape[2], n_wave = 0, n_dur = 0, i;
  gint64 *durations = NULL;
  KlingTensor in[2];
  KlingOutputs *out = NULL;
  const KlingTensor *wave, *dur;
  gboolean truncated = FALSE, ok = FALSE;
  gint n;
  guint64 max_samples;
  const gfloat *w;

  n = kling_tokenize_utf8 (text, m->offset, 0, m->max_length, ids, mask,
      &truncated, error);
  if (n < 0)
    goto done;
  if (n == 0) {
    ok = TRUE;
    goto done;
  }
  shape[0] = 1;
  shape[1] = n;
  kling_tensor_init_contiguous (&in[0], KLING_DTYPE_INT64, ids, 2, shape);
  shape[0] = 1;
  kling_tensor_init_contiguous (&in[1], KLING_DTYPE_INT64, &speaker_id, 1,
      shape);
  out = kling_model_call (m->model, "synthesize", in, m->takes_speaker ? 2 : 1,
      cancellable, error);
  if (out == NULL)
    goto done;
  wave = vector_output (m, out, 0, FALSE, &n_wave, error);
  if (wave == NULL)
    goto done;
  max_samples = (guint64) n *m->rate * KLING_SPEECH_MODEL_MAX_SECONDS_PER_TOKEN;
  if ((guint64) n_wave > max_samples) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
        "model \"%s\": `synthesize` returned %" G_GINT64_FORMAT " samples for "
        "%d tokens, more than %d s per token (" SEE_DOCS ")", m->path, n_wave,
        n, KLING_SPEECH_MODEL_MAX_SECONDS_PER_TOKEN);
    goto done;
  }
  w = wave->data;
  for (i = 0; i < n_wave; i++) {
    gfloat v = w[i * wave->strides[wave->n_dims - 1]];
    gint16 s;

    if (!isfinite (v)) {
      g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
          "model \"%s\": `synthesize` returned a waveform with NaN or "
          "infinity at sample %" G_GINT64_FORMAT, m->path, i);
      goto done;
    }
    s = (gint16) lrintf (CLAMP (v, -1.0f, 1.0f) * 32767.0f);
    g_array_append_val (samples, s);
  }

  if (kling_outputs_count (out) > 1) {
    dur = vector_output (m, out, 1, TRUE, &n_dur, error);
    if (dur == NULL)
      goto done;
    if (n_dur != n) {
      g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
          "model \"%s\": `synthesize` returned %" G_GINT64_FORMAT
          " durations for %d tokens (" SEE_DOCS ")", m->path, n_dur, n);
      goto done;
    }
    durations = g_new (gint64, n);
    for (i = 0; i < n; i++) {
      gint64 stride = dur->strides[dur->n_dims - 1];
      gdouble d = dur->dtype == KLING_DTYPE_INT64 ?
          ((gint64 *) dur->data)[i * stride] :
          ((gfloat *) dur->data)[i * stride];

      if (!(d >= 0 && d <= (gdouble) n_wave)) {
        g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
            "model \"%s\": `synthesize` duration %" G_GINT64_FORMAT " is %g "
            "samples; durations must be from 0 to the length of the audio, %"
            G_GINT64_FORMAT " samples (" SEE_DOCS ")", m->path, i, d, n_wave);
        goto done;
      }
      durations[i] = (gint64) d;
    }
  }
  {
    GArray *mine = g_array_new (FALSE, FALSE, sizeof (KlingSpeechWord));
    gchar *spoken = g_strndup (text, n);

    kling_speech_split_words (spoken, mine);
    kling_speech_place_words (mine, durations, n, n, n_wave);
    g_array_append_vals (words, mine->data, mine->len);
    g_array_free (mine, TRUE);
    g_free (spoken);
  }
  ok = TRUE;

done:
  if (out)
    kling_outputs_free (out);
  g_free (durations);
  g_free (ids);
  g_free (mask);
  return ok;
}
