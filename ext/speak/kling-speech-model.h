/* gst-kling: the `speech` task, a TorchScript text-to-speech package
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * synthesize(ids int64 [1, T][, speaker int64 [1]]) returns the waveform,
 * float32 [N] or [1, N] in -1..1, and optionally per-token durations in
 * samples, int64 or float32 [T] or [1, T] (docs/models.md, "speech").  The
 * manifest gives audio.rate and the utf8-bytes tokenizer.  Every output is
 * checked on every call and its size bounded.
 */
#ifndef __KLING_SPEECH_MODEL_H__
#define __KLING_SPEECH_MODEL_H__

#include <gio/gio.h>
#include "kling-speech-timeline.h"

G_BEGIN_DECLS

typedef struct _KlingSpeechModel KlingSpeechModel;

/* Longest audio one call may return, per input byte. */
#define KLING_SPEECH_MODEL_MAX_SECONDS_PER_TOKEN 2

KlingSpeechModel *kling_speech_model_open (const gchar * path,
    const gchar * device, GError ** error);
void kling_speech_model_free (KlingSpeechModel * model);
gint kling_speech_model_rate (const KlingSpeechModel * model);
/* Bytes of text one call takes (tokenizer.max_length). */
guint kling_speech_model_max_bytes (const KlingSpeechModel * model);

/* Words of @text: runs of non-space characters, and each Han/kana/Hangul
 * character on its own; byte offsets into @text, onsets left 0. */
void kling_speech_split_words (const gchar * text, GArray * words);

/* Places each word's onset from per-byte @durations (samples per token,
 * @n_tokens of them), or, without durations (NULL), in proportion to its
 * byte offset in @text_length over @n_samples. */
void kling_speech_place_words (GArray * words, const gint64 * durations,
    guint n_tokens, gsize text_length, guint64 n_samples);

/* @speaker: passed to a synthesize(ids, speaker); below 0, the manifest's
 * defaults.speaker (0 when it has none). */
gboolean kling_speech_model_synth (KlingSpeechModel * model,
    const gchar * text, gint speaker, GArray * samples, GArray * words,
    GCancellable * cancellable, GError ** error);

G_END_DECLS

#endif
