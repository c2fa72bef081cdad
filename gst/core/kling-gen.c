/* gst-kling: the generation core
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "kling-gen.h"
#include "kling-convert.h"
#include "kling-noise.h"
#include "kling-tokenizer.h"

struct _KlingGenPrompt
{
  KlingOutputs *outputs;
  const KlingTensor *emb;       /* [2, ...]: negative, then positive */
};

static gboolean
bad_model (GError ** error, const KlingManifest * m, const gchar * what)
{
  g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
      "model \"%s\": %s (see docs/models.md)", m->model, what);
  return FALSE;
}

KlingGenModel *
kling_gen_model_load (const gchar * path, const gchar * task,
    const KlingLoadOptions * options, GError ** error)
{
  KlingGenModel *gm = g_new0 (KlingGenModel, 1);
  KlingManifest *m;
  const gchar *s;

  gm->model = kling_package_load (path, task, options, TRUE, &gm->manifest,
      error);
  if (gm->model == NULL) {
    g_free (gm);
    return NULL;
  }
  m = gm->manifest;
  gm->latent_channels = kling_manifest_get_int (m, "latent.channels", 0);
  gm->latent_frames = kling_manifest_get_int (m, "latent.frames", 1);
  gm->latent_height = kling_manifest_get_int (m, "latent.height", 0);
  gm->latent_width = kling_manifest_get_int (m, "latent.width", 0);
  gm->width = kling_manifest_get_int (m, "size.width", 0);
  gm->height = kling_manifest_get_int (m, "size.height", 0);
  gm->fps_n = kling_manifest_get_int (m, "fps", 8);
  gm->fps_d = 1;
  gm->context_frames = kling_manifest_get_int (m, "context_frames", 0);
  gm->token_offset = m->tokenizer_offset;
  gm->token_pad = kling_manifest_get_int (m, "tokenizer.pad", 0);
  gm->max_tokens = m->tokenizer_max_length;
  gm->has_encode_image = kling_model_method_n_args (gm->model,
      "encode_image") == 1;
  gm->schedule.train_steps = kling_manifest_get_int (m,
      "schedule.train_steps", 1000);
  gm->schedule.beta_start = kling_manifest_get_double (m,
      "schedule.beta_start", 0.00085);
  gm->schedule.beta_end = kling_manifest_get_double (m, "schedule.beta_end",
      0.012);
  gm->default_steps = kling_manifest_get_int (m, "defaults.steps", 16);
  gm->default_guidance = kling_manifest_get_double (m,
      "defaults.guidance_scale", 3.0);

  if (gm->latent_channels < 1 || gm->latent_channels > 64
      || gm->latent_frames < 1 || gm->latent_frames > 1024
      || gm->latent_height < 1 || gm->latent_height > 1024
      || gm->latent_width < 1 || gm->latent_width > 1024) {
    bad_model (error, m, "`latent.channels`, `latent.frames`, "
        "`latent.height` and `latent.width` must be positive and sane");
    goto fail;
  }
  if (gm->width < 1 || gm->width > 8192 || gm->height < 1 || gm->height > 8192) {
    bad_model (error, m, "`size.width` and `size.height` must be 1 to 8192");
    goto fail;
  }
  if (gm->fps_n < 1 || gm->fps_n > 240) {
    bad_model (error, m, "`fps` must be 1 to 240");
    goto fail;
  }
  if (gm->context_frames >= (guint) gm->latent_frames) {
    bad_model (error, m, "`context_frames` must be less than "
        "`latent.frames`");
    goto fail;
  }
  s = kling_manifest_get_string (m, "prediction", "flow");
  if (!kling_prediction_from_string (s, &gm->prediction)) {
    bad_model (error, m, "`prediction` must be \"flow\", \"epsilon\" or "
        "\"v\"");
    goto fail;
  }
  s = kling_manifest_get_string (m, "schedule.type", "flow");
  if (!kling_schedule_from_string (s, &gm->schedule.type)) {
    bad_model (error, m, "`schedule.type` must be \"flow\", \"linear\" or "
        "\"scaled-linear\"");
    goto fail;
  }
  if ((gm->prediction == KLING_PREDICTION_FLOW) !=
      (gm->schedule.type == KLING_SCHEDULE_FLOW)) {
    bad_model (error, m, "`prediction: flow` goes with `schedule.type: "
        "flow`, and only with it");
    goto fail;
  }
  s = kling_manifest_get_string (m, "defaults.sampler", "euler");
  if (!kling_sampler_from_string (s, &gm->default_sampler))
    gm->default_sampler = KLING_SAMPLER_EULER;
  if (gm->default_steps < 1 || gm->default_steps > 1000)
    gm->default_steps = 16;
  return gm;

fail:
  kling_gen_model_free (gm);
  return NULL;
}

void
kling_gen_model_free (KlingGenModel * gm)
{
  if (gm == NULL)
    return;
  kling_model_free (gm->model);
  kling_manifest_free (gm->manifest);
  g_free (gm);
}

gsize
kling_gen_latent_size (const KlingGenModel * gm)
{
  return (gsize) gm->latent_channels * gm->latent_frames *
      gm->latent_height * gm->latent_width;
}

KlingGenPrompt *
kling_gen_encode_prompt (KlingGenModel * gm, const gchar * prompt,
    const gchar * negative, gboolean * truncated, GCancellable * cancellable,
    GError ** error)
{
  guint L = gm->max_tokens;
  gint64 *ids = g_new (gint64, 2 * L), *mask = g_new (gint64, 2 * L);
  gint64 shape[2] = { 2, L };
  gboolean cut_neg = FALSE, cut_pos = FALSE;
  KlingTensor in[2];
  KlingGenPrompt *p = NULL;
  KlingOutputs *out = NULL;
  const KlingTensor *emb;

  if (kling_tokenize_utf8 (negative ? negative : "", gm->token_offset,
          gm->token_pad, L, ids, mask, &cut_neg, error) < 0
      || kling_tokenize_utf8 (prompt ? prompt : "", gm->token_offset,
          gm->token_pad, L, ids + L, mask + L, &cut_pos, error) < 0)
    goto out;
  if (truncated)
    *truncated = cut_neg || cut_pos;
  kling_tensor_init_contiguous (&in[0], KLING_DTYPE_INT64, ids, 2, shape);
  kling_tensor_init_contiguous (&in[1], KLING_DTYPE_INT64, mask, 2, shape);
  out = kling_model_call (gm->model, "encode_prompt", in, 2, cancellable,
      error);
  if (out == NULL)
    goto out;
  emb = kling_outputs_get (out, 0);
  if (emb == NULL || emb->dtype != KLING_DTYPE_FLOAT32 || emb->n_dims < 1
      || emb->shape[0] != 2) {
    gchar *got = emb ? kling_tensor_describe_shape (emb) : g_strdup ("none");
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
        "method `encode_prompt` returned %s, expected float32[2, ...]", got);
    g_free (got);
    kling_outputs_free (out);
    goto out;
  }
  p = g_new0 (KlingGenPrompt, 1);
  p->outputs = out;
  p->emb = emb;

out:
  g_free (ids);
  g_free (mask);
  return p;
}

void
kling_gen_prompt_free (KlingGenPrompt * p)
{
  if (p == NULL)
    return;
  kling_outputs_free (p->outputs);
  g_free (p);
}

typedef struct
{
  KlingGenModel *gm;
  KlingGenPrompt *prompt;
  const KlingGenSampleParams *params;
  gsize n;
  gfloat *batch_x;              /* [B, C, T, h, w] */
  gfloat *batch_cond;           /* [B, C + 1, T, h, w] */
  gint64 rows;                  /* 1 or 2 */
  GCancellable *cancellable;
} PredictData;

static gboolean
predict (const gfloat * x, gdouble t, gfloat * pred, gpointer user_data,
    GError ** error)
{
  PredictData *d = user_data;
  KlingGenModel *gm = d->gm;
  gint64 B = d->rows;
  gint64 lshape[5] = { B, gm->latent_channels, gm->latent_frames,
    gm->latent_height, gm->latent_width
  };
  gint64 cshape[5] = { B, gm->latent_channels + 1, gm->latent_frames,
    gm->latent_height, gm->latent_width
  };
  gint64 tshape[1] = { B };
  gfloat tt[2] = { t, t };
  KlingTensor in[4];
  KlingOutputs *out;
  const KlingTensor *r;
  gsize i;

  for (i = 0; i < (gsize) B; i++)
    memcpy (d->batch_x + i * d->n, x, d->n * sizeof (gfloat));
  kling_tensor_init_contiguous (&in[0], KLING_DTYPE_FLOAT32, d->batch_x, 5,
      lshape);
  kling_tensor_init_contiguous (&in[1], KLING_DTYPE_FLOAT32, tt, 1, tshape);
  in[2] = *d->prompt->emb;
  if (B == 1) {
    /* the positive row alone: a view, no copy */
    in[2].shape[0] = 1;
    in[2].data = (guint8 *) in[2].data + in[2].strides[0] *
        kling_dtype_size (in[2].dtype);
  }
  kling_tensor_init_contiguous (&in[3], KLING_DTYPE_FLOAT32, d->batch_cond,
      5, cshape);

  out = kling_model_call (gm->model, "denoise", in, 4, d->cancellable, error);
  if (out == NULL)
    return FALSE;
  r = kling_outputs_expect (out, "denoise", "0", KLING_DTYPE_FLOAT32, 5,
      lshape, error);
  if (r) {
    const gfloat *p = r->data;
    if (B == 1) {
      memcpy (pred, p, d->n * sizeof (gfloat));
    } else {
      /* classifier-free guidance: u + g (c - u) */
      gfloat g = d->params->guidance;
      for (i = 0; i < d->n; i++)
        pred[i] = p[i] + g * (p[d->n + i] - p[i]);
    }
  }
  kling_outputs_free (out);
  return r != NULL;
}

gboolean
kling_gen_sample (KlingGenModel * gm, KlingGenPrompt * prompt,
    const KlingGenSampleParams * params, gfloat * latents, GError ** error)
{
  gsize n = kling_gen_latent_size (gm), cn = n / gm->latent_channels *
      (gm->latent_channels + 1);
  PredictData d = { gm, prompt, params, n, NULL, NULL, 0, NULL };
  KlingSamplerParams sp = { 0 };
  KlingTimesteps ts = { 0 };
  KlingNoise noise;
  gboolean ok;
  gint64 i;

  if (!kling_timesteps_init (&ts, &gm->schedule, params->steps, error))
    return FALSE;
  d.rows = params->guidance == 1.0 ? 1 : 2;
  d.cancellable = params->cancellable;
  d.batch_x = g_new (gfloat, n * d.rows);
  d.batch_cond = g_new0 (gfloat, cn * d.rows);
  for (i = 0; i < d.rows; i++)
    if (params->cond)
      memcpy (d.batch_cond + i * cn, params->cond, cn * sizeof (gfloat));

  kling_noise_init (&noise, params->seed, params->chunk);
  kling_noise_fill_normal (&noise, latents, n);

  sp.sampler = params->sampler;
  sp.prediction = gm->prediction;
  sp.eta = 0.0;
  sp.noise = &noise;
  sp.predict = predict;
  sp.predict_data = &d;
  sp.progress = params->progress;
  sp.progress_data = params->progress_data;
  sp.cancellable = params->cancellable;
  ok = kling_sample (&sp, &ts, latents, n, error);

  kling_timesteps_clear (&ts);
  g_free (d.batch_x);
  g_free (d.batch_cond);
  return ok;
}

gboolean
kling_gen_decode (KlingGenModel * gm, const gfloat * latents, guint8 * frames,
    GCancellable * cancellable, GError ** error)
{
  gint64 lshape[5] = { 1, gm->latent_channels, gm->latent_frames,
    gm->latent_height, gm->latent_width
  };
  gint64 fshape[5] = { 1, gm->latent_frames, gm->height, gm->width, 3 };
  KlingTensor in;
  KlingOutputs *out;
  const KlingTensor *r;

  kling_tensor_init_contiguous (&in, KLING_DTYPE_FLOAT32, (gpointer) latents,
      5, lshape);
  out = kling_model_call (gm->model, "decode", &in, 1, cancellable, error);
  if (out == NULL)
    return FALSE;
  r = kling_outputs_expect (out, "decode", "0", KLING_DTYPE_FLOAT32, 5,
      fshape, error);
  if (r)
    /* NHWC floats are packed RGB already: one ORC pass, no transpose */
    kling_float_to_u8 (frames, (gsize) gm->width * 3, r->data,
        (gsize) gm->width * 3 * sizeof (gfloat), gm->width * 3,
        gm->height * gm->latent_frames, KLING_RANGE_SIGNED);
  kling_outputs_free (out);
  return r != NULL;
}

gboolean
kling_gen_encode_image (KlingGenModel * gm, const guint8 * rgb, gsize stride,
    gfloat * latent, GCancellable * cancellable, GError ** error)
{
  static const gfloat mean[3] = { 1, 1, 1 }, std[3] = { 1, 1, 1 };
  gsize n = (gsize) gm->width * gm->height * 3;
  gfloat *values = g_new (gfloat, n);
  KlingNormalizer *norm = kling_normalizer_new (gm->width, 3, 2.0f / 255.0f,
      mean, std);
  gint64 want[5] = { 1, gm->latent_channels, 1, gm->latent_height,
    gm->latent_width
  };
  KlingTensor in;
  KlingOutputs *out;
  const KlingTensor *r = NULL;

  if (!gm->has_encode_image) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_NO_METHOD,
        "model \"%s\" has no method `encode_image`, which image "
        "conditioning needs (see docs/models.md)", gm->manifest->model);
    goto out;
  }
  /* [-1, 1] = pixel * 2/255 - 1 */
  kling_normalizer_run (norm, values, (gsize) gm->width * 3 * sizeof (gfloat),
      rgb, stride, gm->height);
  kling_tensor_init_packed_image (&in, KLING_DTYPE_FLOAT32, values, gm->width,
      gm->height, 3, 3, (gsize) gm->width * 3 * sizeof (gfloat));
  out = kling_model_call (gm->model, "encode_image", &in, 1, cancellable,
      error);
  if (out) {
    r = kling_outputs_expect (out, "encode_image", "0", KLING_DTYPE_FLOAT32,
        5, want, error);
    if (r)
      memcpy (latent, r->data, (gsize) gm->latent_channels *
          gm->latent_height * gm->latent_width * sizeof (gfloat));
    kling_outputs_free (out);
  }
out:
  kling_normalizer_free (norm);
  g_free (values);
  return r != NULL;
}

void
kling_gen_cond_set_frame (const KlingGenModel * gm, gfloat * cond, guint t,
    const gfloat * latent_frame)
{
  gsize plane = (gsize) gm->latent_height * gm->latent_width;
  gsize per_channel = plane * gm->latent_frames;
  gint c;
  gsize i;

  for (c = 0; c < gm->latent_channels; c++)
    memcpy (cond + c * per_channel + t * plane, latent_frame + c * plane,
        plane * sizeof (gfloat));
  for (i = 0; i < plane; i++)
    cond[gm->latent_channels * per_channel + t * plane + i] = 1.0f;
}

void
kling_gen_latents_get_frame (const KlingGenModel * gm, const gfloat * latents,
    guint t, gfloat * dst)
{
  gsize plane = (gsize) gm->latent_height * gm->latent_width;
  gsize per_channel = plane * gm->latent_frames;
  gint c;

  for (c = 0; c < gm->latent_channels; c++)
    memcpy (dst + c * plane, latents + c * per_channel + t * plane,
        plane * sizeof (gfloat));
}

/* The conditioning for the model: the product on a mid-grey canvas at the
 * model's size (where the poster puts it, squeezed like the poster is),
 * encoded, plus its coverage of each latent cell. */
gboolean
kling_gen_encode_product (KlingGenModel * gm, const KlingCutout * cut,
    const KlingRect * product, gint out_w, gint out_h, gfloat * cond,
    GCancellable * cancellable, GError ** error)
{
  gint mw = gm->width, mh = gm->height, lh = gm->latent_height,
      lw = gm->latent_width, C = gm->latent_channels;
  guint8 *canvas = g_malloc ((gsize) mw * mh * 4), *rgb, *small;
  gfloat *latent = g_new (gfloat, (gsize) C * lh * lw);
  KlingRect r;
  gboolean ok;
  gint x, y;

  r.x = (gint) ((gdouble) product->x * mw / out_w);
  r.y = (gint) ((gdouble) product->y * mh / out_h);
  r.w = MAX (1, (gint) ((gdouble) product->w * mw / out_w + 0.5));
  r.h = MAX (1, (gint) ((gdouble) product->h * mh / out_h + 0.5));
  memset (canvas, 128, (gsize) mw * mh * 4);
  small = kling_resample_rgba (cut->rgba, cut->width, cut->height, r.w, r.h);
  kling_composite_over (canvas, (gsize) mw * 4, mw, mh, small, &r);

  rgb = g_malloc ((gsize) mw * mh * 3);
  for (y = 0; y < mh * mw; y++)
    memcpy (rgb + y * 3, canvas + y * 4, 3);
  ok = kling_gen_encode_image (gm, rgb, (gsize) mw * 3, latent,
      cancellable, error);
  if (ok) {
    gsize plane = (gsize) lh * lw;
    memcpy (cond, latent, C * plane * sizeof (gfloat));
    /* coverage: the product's share of each latent cell */
    for (y = 0; y < lh; y++)
      for (x = 0; x < lw; x++) {
        gint x0 = x * mw / lw, x1 = (x + 1) * mw / lw;
        gint y0 = y * mh / lh, y1 = (y + 1) * mh / lh, px, py;
        gdouble cover = 0;
        for (py = y0; py < y1; py++)
          for (px = x0; px < x1; px++) {
            gint sx = px - r.x, sy = py - r.y;
            if (sx >= 0 && sy >= 0 && sx < r.w && sy < r.h)
              cover += small[((gsize) sy * r.w + sx) * 4 + 3] / 255.0;
          }
        cond[C * plane + y * lw + x] = cover / MAX (1, (x1 - x0) * (y1 - y0));
      }
  }
  g_free (small);
  g_free (canvas);
  g_free (rgb);
  g_free (latent);
  return ok;
}

gsize
kling_gen_cond_size (const KlingGenModel * gm)
{
  return kling_gen_latent_size (gm) / gm->latent_channels *
      (gm->latent_channels + 1);
}

struct _KlingGenClip
{
  KlingGenModel *gm;
  gfloat *latents;              /* the last chunk's */
  gfloat *cond, *frame_latent;
  guint8 *frames;               /* T decoded frames */
  gboolean have_chunk;
};

KlingGenClip *
kling_gen_clip_new (KlingGenModel * gm)
{
  KlingGenClip *clip = g_new0 (KlingGenClip, 1);

  clip->gm = gm;
  clip->latents = g_new (gfloat, kling_gen_latent_size (gm));
  clip->cond = g_new (gfloat, kling_gen_cond_size (gm));
  clip->frame_latent = g_new (gfloat, kling_gen_latent_size (gm) /
      gm->latent_frames);
  clip->frames = g_malloc ((gsize) gm->width * gm->height * 3 *
      gm->latent_frames);
  return clip;
}

void
kling_gen_clip_free (KlingGenClip * clip)
{
  if (clip == NULL)
    return;
  g_free (clip->latents);
  g_free (clip->cond);
  g_free (clip->frame_latent);
  g_free (clip->frames);
  g_free (clip);
}

gboolean
kling_gen_clip_next (KlingGenClip * clip, KlingGenPrompt * prompt,
    const KlingGenSampleParams * params, const guint8 * first_frame,
    gsize stride, GError ** error)
{
  KlingGenModel *gm = clip->gm;
  KlingGenSampleParams sp = *params;
  guint f;

  if (sp.cond == NULL && sp.chunk == 0 && first_frame) {
    /* image-to-video: the image is the first frame */
    memset (clip->cond, 0, kling_gen_cond_size (gm) * sizeof (gfloat));
    if (!kling_gen_encode_image (gm, first_frame, stride, clip->frame_latent,
            sp.cancellable, error))
      return FALSE;
    kling_gen_cond_set_frame (gm, clip->cond, 0, clip->frame_latent);
    sp.cond = clip->cond;
  } else if (sp.cond == NULL && sp.chunk > 0) {
    if (!clip->have_chunk) {
      g_set_error (error, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_ARGUMENT, "chunk %" G_GUINT64_FORMAT
          " asked for before chunk 0", sp.chunk);
      return FALSE;
    }
    /* the end of the previous chunk starts this one */
    memset (clip->cond, 0, kling_gen_cond_size (gm) * sizeof (gfloat));
    for (f = 0; f < gm->context_frames; f++) {
      kling_gen_latents_get_frame (gm, clip->latents,
          gm->latent_frames - gm->context_frames + f, clip->frame_latent);
      kling_gen_cond_set_frame (gm, clip->cond, f, clip->frame_latent);
    }
    sp.cond = clip->cond;
  }
  clip->have_chunk = FALSE;
  if (!kling_gen_sample (gm, prompt, &sp, clip->latents, error)
      || !kling_gen_decode (gm, clip->latents, clip->frames, sp.cancellable,
          error))
    return FALSE;
  clip->have_chunk = TRUE;
  return TRUE;
}

const guint8 *
kling_gen_clip_frame (const KlingGenClip * clip, guint t)
{
  return clip->frames + (gsize) t * clip->gm->width * clip->gm->height * 3;
}
