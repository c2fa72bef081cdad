/* gst-kling: log-mel spectrogram of speech, offline and streaming
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The features a talking-head model takes (docs/models.md, task
 * `talking-head`), computed with gst-plugins-base's FFT (gstfft).  The
 * defaults are Wav2Lip's published audio.py: 16 kHz, STFT of 800 samples
 * every 200 (centred frames, reflect-padded ends, periodic Hann window),
 * magnitude, 80 Slaney mel bands from 55 to 7600 Hz, pre-emphasis 0.97,
 * 20·log10 with a floor of min_level_db, minus ref_level_db, scaled and
 * clipped to [-4, 4].  tests/models/make_host_models.py computes the same
 * features with torch and tests/check/melcore.c compares them.
 */
#ifndef __KLING_MEL_H__
#define __KLING_MEL_H__

#include <glib.h>
#include "kling-manifest.h"

G_BEGIN_DECLS typedef enum
{
  KLING_MEL_WINDOW_HANN,        /* periodic, as torch.hann_window and librosa */
  KLING_MEL_WINDOW_HAMMING
} KlingMelWindow;

typedef struct
{
  gint rate;                    /* samples per second */
  gint n_fft;                   /* FFT size, even */
  gint hop;                     /* samples between frames */
  gint win_length;              /* window, <= n_fft, centred in the FFT */
  KlingMelWindow window;
  gint n_mels;
  gdouble fmin, fmax;           /* Hz */
  gdouble preemphasis;          /* y[n] = x[n] - k·x[n-1]; 0: none */
  gdouble ref_level_db;
  gdouble min_level_db;         /* < 0: the floor of 20·log10 (magnitude) */
  gdouble max_abs_value;        /* > 0: normalised; 0: plain dB - ref */
  gboolean symmetric;           /* [-max, max] rather than [0, max] */
  /* windows a model takes: @frames mel frames, the first one @offset
   * frames from the frame at the video time */
  gint frames;
  gint offset;
} KlingMelParams;

/* Wav2Lip's values, with a 16-frame window centred on the video time
 * (offset -8). */
void kling_mel_params_init_default (KlingMelParams * params);

/* The `mel` object of a manifest over the defaults; FALSE with @error
 * naming the field and its range. */
gboolean kling_mel_params_from_manifest (KlingMelParams * params,
    const KlingManifest * manifest, GError ** error);
gboolean kling_mel_params_check (const KlingMelParams * params,
    const gchar * model, GError ** error);

/* The value every band has in silence (the floor after scaling). */
gfloat kling_mel_params_silence (const KlingMelParams * params);

/* Mel frames per second (rate / hop). */
gdouble kling_mel_params_frame_rate (const KlingMelParams * params);

/* --- offline ----------------------------------------------------------- */

typedef struct _KlingMel KlingMel;

KlingMel *kling_mel_new (const KlingMelParams * params, GError ** error);
void kling_mel_free (KlingMel * mel);
const KlingMelParams *kling_mel_get_params (const KlingMel * mel);

/* The spectrogram of a whole signal, as librosa.feature.melspectrogram
 * with center=True: 1 + @n_samples / hop frames, returned band-major
 * ([n_mels][n_frames], as librosa and Wav2Lip hold it); g_free it. */
gfloat *kling_mel_compute (KlingMel * mel, const gfloat * samples,
    gsize n_samples, gsize * n_frames);

/* --- streaming --------------------------------------------------------- */

/* Samples go in as they come; frames come out as soon as the samples
 * their window covers are in (n_fft / 2 after the frame's centre), the
 * ends reflect-padded as the offline spectrogram's, so both give the same
 * frames.  Only the samples and frames still needed are kept. */
typedef struct _KlingMelStream KlingMelStream;

KlingMelStream *kling_mel_stream_new (const KlingMelParams * params,
    GError ** error);
void kling_mel_stream_free (KlingMelStream * stream);
/* Forgets everything: a new signal starts. */
void kling_mel_stream_reset (KlingMelStream * stream);
void kling_mel_stream_push (KlingMelStream * stream, const gfloat * samples,
    gsize n_samples);
void kling_mel_stream_push_silence (KlingMelStream * stream, gsize n_samples);
/* The signal ends: its last frames are made (reflect-padded end). */
void kling_mel_stream_finish (KlingMelStream * stream);
gboolean kling_mel_stream_is_finished (const KlingMelStream * stream);
guint64 kling_mel_stream_n_samples (const KlingMelStream * stream);
/* Frames made so far (all of them: 1 + samples / hop after finish). */
guint64 kling_mel_stream_n_frames (const KlingMelStream * stream);

/* The mel frame whose centre is nearest @seconds into the signal. */
gint64 kling_mel_stream_frame_at (const KlingMelStream * stream,
    gdouble seconds);

/* The model's window for video time @seconds: params.frames frames from
 * frame_at (@seconds) + params.offset, into @out band-major
 * ([n_mels][frames]).  Frames before the signal, or after its end once
 * finished, are silence.  FALSE while a frame it needs is not made yet.
 * @silent (may be NULL): TRUE when every value is the silence floor. */
gboolean kling_mel_stream_window (KlingMelStream * stream, gdouble seconds,
    gfloat * out, gboolean * silent);

/* Drops frames before @frame (windows before it will not be asked). */
void kling_mel_stream_discard (KlingMelStream * stream, gint64 frame);

/* Seconds of signal a window for time t needs after t (the look-ahead). */
gdouble kling_mel_params_lookahead (const KlingMelParams * params);

G_END_DECLS
#endif
