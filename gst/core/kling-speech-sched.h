/* gst-kling: scheduling utterances onto klingspeak's two pads
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * No engine: the element gives a function that synthesises one piece of
 * text.  The scheduler keeps the utterances the sink pad queued, starts
 * each at its time (after the previous one, or cutting it), cuts long text
 * into bounded pieces, fills the time between with silence (or, live, at
 * the pace of the audio queue), and queues the audio in chunks and each
 * word, timed from the sample count, with GAPs between, for the pads'
 * tasks (kling-padqueue).
 */
#ifndef __KLING_SPEECH_SCHED_H__
#define __KLING_SPEECH_SCHED_H__

#include <gst/gst.h>
#include "kling-padqueue.h"
#include "kling-speech-timeline.h"

G_BEGIN_DECLS

/* samples per audio buffer; pieces of text synthesised in one call */
#define KLING_SPEECH_CHUNK_SAMPLES 1024
#define KLING_SPEECH_MAX_PIECE_BYTES 400
#define KLING_SPEECH_LIVE_PIECE_BYTES 120

/* Synthesises @piece: appends S16 samples to @samples and one
 * KlingSpeechWord per word (onsets from the piece start, text offsets in
 * @piece) to @words; *@policy says what the next utterance does to it.
 * @pts: where its audio starts (for controlled properties).  FALSE with
 * @error on failure. */
typedef gboolean (*KlingSpeechSynthFunc) (gpointer user_data,
    const gchar * piece, GstClockTime pts, GArray * samples, GArray * words,
    KlingSpeechPolicy * policy, GError ** error);

typedef struct _KlingSpeechSched KlingSpeechSched;

/* For @element, whose audio and words pads push from @audio and @words. */
KlingSpeechSched *kling_speech_sched_new (GstElement * element,
    KlingPadQueue * audio, KlingPadQueue * words, KlingSpeechSynthFunc synth,
    gpointer user_data);
void kling_speech_sched_free (KlingSpeechSched * s);

/* Before the task starts: a new stream at @rate with pieces of at most
 * @max_piece bytes (the engine's own bound, or G_MAXUINT). */
void kling_speech_sched_reset (KlingSpeechSched * s, gint rate,
    guint max_piece);
void kling_speech_sched_set_flushing (KlingSpeechSched * s,
    gboolean flushing);
/* How far the synthesis may run ahead of the audio pad's pushes.  In a
 * muxer that waits for every pad (collectpads), the words pad must know
 * what follows the audio being written: further ahead than any GAP or
 * word on it lasts.  A piece with a longer word raises the bound by that
 * word's length while it is queued (its audio is in memory anyway). */
void kling_speech_sched_set_ahead (KlingSpeechSched * s, GstClockTime ahead);
/* Live: no waiting for the input, silence when there is nothing to say. */
void kling_speech_sched_set_live (KlingSpeechSched * s, gboolean live);
gboolean kling_speech_sched_is_live (KlingSpeechSched * s);

/* From the sink pad: @text (taken; NULL: no speech, the input is known to
 * be silent until @time), spoken at running time @time (NONE: after the
 * previous one), or EOS.  Blocks while the queue is full; FLUSHING when
 * flushing, else OK. */
GstFlowReturn kling_speech_sched_enqueue (KlingSpeechSched * s,
    gchar * text, GstClockTime time, gboolean eos);

/* The task's body: speaks one utterance (or, live, a chunk of silence).
 * OK: call again; otherwise the task must pause (EOS: all is out; ERROR:
 * the engine failed, posted; FLUSHING; a pad's fatal flow, posted by its
 * queue).  Both pads get EOS on EOS and on an error. */
GstFlowReturn kling_speech_sched_iterate (KlingSpeechSched * s);

G_END_DECLS

#endif
