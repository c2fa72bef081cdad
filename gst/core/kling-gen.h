/* gst-kling: the generation core: prompt encoding, chunk sampling with
 * classifier-free guidance, decoding and image encoding, over the backend
 * API and the `video` model contract (docs/models.md).  Shared by
 * klinggen and ketuposter.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_GEN_H__
#define __KLING_GEN_H__

#include "kling-backend.h"
#include "kling-compose.h"
#include "kling-manifest.h"
#include "kling-sampler.h"

G_BEGIN_DECLS

typedef struct
{
  KlingModel *model;
  KlingManifest *manifest;

  gint latent_channels, latent_frames, latent_height, latent_width;
  gint width, height;           /* decoded frame size */
  gint fps_n, fps_d;
  KlingPrediction prediction;
  KlingSchedule schedule;
  guint context_frames;
  gint token_offset, token_pad;
  guint max_tokens;
  gboolean has_encode_image;

  guint default_steps;
  gdouble default_guidance;
  KlingSamplerType default_sampler;
} KlingGenModel;

KlingGenModel *kling_gen_model_load (const gchar * path, const gchar * task,
    const KlingLoadOptions * options, GError ** error);
void kling_gen_model_free (KlingGenModel * gm);

/* values in one chunk's latents: C * T * h * w */
gsize kling_gen_latent_size (const KlingGenModel * gm);

/* Unconditional (negative prompt) and conditional rows, encoded in one
 * batched call. */
typedef struct _KlingGenPrompt KlingGenPrompt;

KlingGenPrompt *kling_gen_encode_prompt (KlingGenModel * gm,
    const gchar * prompt, const gchar * negative_prompt,
    gboolean * truncated, GCancellable * cancellable, GError ** error);
void kling_gen_prompt_free (KlingGenPrompt * prompt);

typedef void (*KlingGenStepFunc) (guint step, guint steps,
    gpointer user_data);

typedef struct
{
  guint64 seed;
  guint64 chunk;                /* noise stream: each chunk its own noise */
  guint steps;
  gdouble guidance;             /* 1: no guidance (one row per call) */
  KlingSamplerType sampler;
  const gfloat *cond;           /* [C + 1, T, h, w] or NULL */
  KlingGenStepFunc progress;
  gpointer progress_data;
  GCancellable *cancellable;
} KlingGenSampleParams;

/* Samples one chunk's latents into @latents (kling_gen_latent_size). */
gboolean kling_gen_sample (KlingGenModel * gm, KlingGenPrompt * prompt,
    const KlingGenSampleParams * params, gfloat * latents, GError ** error);

/* Decodes latents to T frames of packed RGB, 8 bits: @frames holds
 * T * height * width * 3 bytes. */
gboolean kling_gen_decode (KlingGenModel * gm, const gfloat * latents,
    guint8 * frames, GCancellable * cancellable, GError ** error);

/* Encodes a packed RGB frame of the model's size (8 bits, @stride bytes a
 * row) to one frame of latents (C * h * w values). */
gboolean kling_gen_encode_image (KlingGenModel * gm, const guint8 * rgb,
    gsize stride, gfloat * latent, GCancellable * cancellable,
    GError ** error);

/* Writes one latent frame into frame @t of a conditioning tensor
 * [C + 1, T, h, w] and marks it known. */
void kling_gen_cond_set_frame (const KlingGenModel * gm, gfloat * cond,
    guint t, const gfloat * latent_frame);
/* Copies latent frame @src_t of @latents into @dst (C * h * w). */
void kling_gen_latents_get_frame (const KlingGenModel * gm,
    const gfloat * latents, guint src_t, gfloat * dst);

/* The conditioning of a `poster` model ([C + 1, 1, h, w] at @cond): the
 * product on a mid-grey canvas of the model's size, where @product places
 * it on an @out_w x @out_h poster (squeezed as the poster is), encoded,
 * and in the last channel its coverage of each latent cell. */
gboolean kling_gen_encode_product (KlingGenModel * gm,
    const KlingCutout * cut, const KlingRect * product, gint out_w,
    gint out_h, gfloat * cond, GCancellable * cancellable, GError ** error);

/* values in a conditioning tensor: (C + 1) * T * h * w */
gsize kling_gen_cond_size (const KlingGenModel * gm);

/* A clip generated chunk by chunk, with the buffers a chunk needs: each
 * chunk after the first starts from the last context_frames latent frames
 * of the one before, so motion and colour carry over the seam. */
typedef struct _KlingGenClip KlingGenClip;

KlingGenClip *kling_gen_clip_new (KlingGenModel * gm);
void kling_gen_clip_free (KlingGenClip * clip);

/* Samples and decodes chunk @params->chunk (0, 1, … in order).  The
 * conditioning is @params->cond when set (a poster's product); else chunk
 * 0 starts from @first_frame (packed RGB at the model's size, @stride
 * bytes a row; NULL: from the prompt alone) and later chunks from the
 * chunk before.  The frames are then kling_gen_clip_frame's. */
gboolean kling_gen_clip_next (KlingGenClip * clip, KlingGenPrompt * prompt,
    const KlingGenSampleParams * params, const guint8 * first_frame,
    gsize stride, GError ** error);
/* Frame @t of the last chunk: packed RGB, width * 3 bytes a row. */
const guint8 *kling_gen_clip_frame (const KlingGenClip * clip, guint t);

G_END_DECLS

#endif
