/* gst-kling: diffusion / flow-matching samplers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_SAMPLER_H__
#define __KLING_SAMPLER_H__

#include <gio/gio.h>
#include "kling-noise.h"

G_BEGIN_DECLS

typedef enum
{
  KLING_SAMPLER_EULER,
  KLING_SAMPLER_DDIM,
  KLING_SAMPLER_DPMPP_2M
} KlingSamplerType;

typedef enum
{
  KLING_PREDICTION_FLOW,        /* velocity: noise - data */
  KLING_PREDICTION_EPSILON,
  KLING_PREDICTION_V
} KlingPrediction;

typedef enum
{
  KLING_SCHEDULE_FLOW,          /* x_t = (1 - t) x0 + t noise, t: 1 -> 0 */
  KLING_SCHEDULE_LINEAR,        /* DDPM betas, linear */
  KLING_SCHEDULE_SCALED_LINEAR  /* DDPM betas, linear in sqrt (Stable Diffusion) */
} KlingScheduleType;

typedef struct
{
  KlingScheduleType type;
  guint train_steps;
  gdouble beta_start, beta_end;
} KlingSchedule;

/* steps + 1 points from pure noise to data: x = alpha * x0 + sigma * noise
 * at each; t is what the model is given (flow time, or the training
 * timestep).  The last point is alpha = 1, sigma = 0. */
typedef struct
{
  guint steps;
  gdouble *t;
  gdouble *alpha;
  gdouble *sigma;
} KlingTimesteps;

gboolean kling_schedule_from_string (const gchar * name,
    KlingScheduleType * type);
gboolean kling_prediction_from_string (const gchar * name,
    KlingPrediction * prediction);
gboolean kling_sampler_from_string (const gchar * name,
    KlingSamplerType * type);

gboolean kling_timesteps_init (KlingTimesteps * ts,
    const KlingSchedule * schedule, guint steps, GError ** error);
void kling_timesteps_clear (KlingTimesteps * ts);

/* Fills @pred (n values) with the model's prediction for @x at time @t. */
typedef gboolean (*KlingPredictFunc) (const gfloat * x, gdouble t,
    gfloat * pred, gpointer user_data, GError ** error);
typedef void (*KlingProgressFunc) (guint step, guint steps,
    gpointer user_data);

typedef struct
{
  KlingSamplerType sampler;
  KlingPrediction prediction;
  gdouble eta;                  /* DDIM only: 0 deterministic, 1 DDPM-like */
  KlingNoise *noise;            /* for eta > 0 */
  KlingPredictFunc predict;
  gpointer predict_data;
  KlingProgressFunc progress;
  gpointer progress_data;
  GCancellable *cancellable;    /* checked between steps */
} KlingSamplerParams;

/* Integrates @x (n values, pure noise on entry) from the first to the last
 * point of @ts; on return @x is the sample.  Same inputs, same bytes. */
gboolean kling_sample (const KlingSamplerParams * params,
    const KlingTimesteps * ts, gfloat * x, gsize n, GError ** error);

G_END_DECLS

#endif
