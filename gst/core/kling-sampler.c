/* gst-kling: diffusion / flow-matching samplers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every sampler works on the same view of a step: the model's prediction
 * is turned into a data estimate x0 and a noise estimate eps at the current
 * (alpha, sigma), and the next x is built from them.  This keeps the three
 * samplers independent of the prediction type and the schedule.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include "kling-sampler.h"
#include "kling-backend.h"
#include "kling-convert.h"

gboolean
kling_schedule_from_string (const gchar * name, KlingScheduleType * type)
{
  if (g_strcmp0 (name, "flow") == 0)
    *type = KLING_SCHEDULE_FLOW;
  else if (g_strcmp0 (name, "linear") == 0)
    *type = KLING_SCHEDULE_LINEAR;
  else if (g_strcmp0 (name, "scaled-linear") == 0)
    *type = KLING_SCHEDULE_SCALED_LINEAR;
  else
    return FALSE;
  return TRUE;
}

gboolean
kling_prediction_from_string (const gchar * name, KlingPrediction * p)
{
  if (g_strcmp0 (name, "flow") == 0)
    *p = KLING_PREDICTION_FLOW;
  else if (g_strcmp0 (name, "epsilon") == 0)
    *p = KLING_PREDICTION_EPSILON;
  else if (g_strcmp0 (name, "v") == 0)
    *p = KLING_PREDICTION_V;
  else
    return FALSE;
  return TRUE;
}

gboolean
kling_sampler_from_string (const gchar * name, KlingSamplerType * type)
{
  if (g_strcmp0 (name, "euler") == 0)
    *type = KLING_SAMPLER_EULER;
  else if (g_strcmp0 (name, "ddim") == 0)
    *type = KLING_SAMPLER_DDIM;
  else if (g_strcmp0 (name, "dpmpp-2m") == 0)
    *type = KLING_SAMPLER_DPMPP_2M;
  else
    return FALSE;
  return TRUE;
}

gboolean
kling_timesteps_init (KlingTimesteps * ts, const KlingSchedule * s,
    guint steps, GError ** error)
{
  guint i;

  if (steps < 1 || steps > 10000) {
    g_set_error (error, KLING_BACKEND_ERROR,
        KLING_BACKEND_ERROR_INVALID_ARGUMENT,
        "%u sampling steps: use 1 to 10000", steps);
    return FALSE;
  }
  ts->steps = steps;
  ts->t = g_new (gdouble, steps + 1);
  ts->alpha = g_new (gdouble, steps + 1);
  ts->sigma = g_new (gdouble, steps + 1);

  if (s->type == KLING_SCHEDULE_FLOW) {
    for (i = 0; i <= steps; i++) {
      ts->t[i] = 1.0 - (gdouble) i / steps;
      ts->alpha[i] = 1.0 - ts->t[i];
      ts->sigma[i] = ts->t[i];
    }
    return TRUE;
  }

  if (s->train_steps < 2 || steps > s->train_steps || s->beta_start <= 0
      || s->beta_end >= 1 || s->beta_start > s->beta_end) {
    g_set_error (error, KLING_BACKEND_ERROR,
        KLING_BACKEND_ERROR_INVALID_ARGUMENT,
        "schedule with %u training steps and betas %g..%g cannot be sampled "
        "in %u steps", s->train_steps, s->beta_start, s->beta_end, steps);
    kling_timesteps_clear (ts);
    return FALSE;
  } else {
    gdouble *acp = g_new (gdouble, s->train_steps), prod = 1.0;
    guint k;

    for (k = 0; k < s->train_steps; k++) {
      gdouble f = (gdouble) k / (s->train_steps - 1), beta;
      if (s->type == KLING_SCHEDULE_SCALED_LINEAR) {
        gdouble b = sqrt (s->beta_start) + f * (sqrt (s->beta_end) -
            sqrt (s->beta_start));
        beta = b * b;
      } else {
        beta = s->beta_start + f * (s->beta_end - s->beta_start);
      }
      prod *= 1.0 - beta;
      acp[k] = prod;
    }
    /* timesteps evenly spaced from the last training step down to 0,
     * both included: the final jump to sigma = 0 then starts where the
     * noise is already tiny */
    for (i = 0; i < steps; i++) {
      gdouble tf = steps == 1 ? s->train_steps - 1 :
          (s->train_steps - 1) * (1.0 - (gdouble) i / (steps - 1));
      guint k = (guint) floor (tf + 0.5);
      ts->t[i] = k;
      ts->alpha[i] = sqrt (acp[k]);
      ts->sigma[i] = sqrt (1.0 - acp[k]);
    }
    ts->t[steps] = 0;
    ts->alpha[steps] = 1.0;
    ts->sigma[steps] = 0.0;
    g_free (acp);
  }
  return TRUE;
}

void
kling_timesteps_clear (KlingTimesteps * ts)
{
  g_clear_pointer (&ts->t, g_free);
  g_clear_pointer (&ts->alpha, g_free);
  g_clear_pointer (&ts->sigma, g_free);
}

/* x0 and eps from a prediction at (alpha, sigma) */
static void
split_prediction (KlingPrediction p, gdouble alpha, gdouble sigma,
    const gfloat * x, const gfloat * pred, gfloat * x0, gfloat * eps,
    gsize n)
{
  gsize i;

  switch (p) {
    case KLING_PREDICTION_FLOW:
      /* x = alpha x0 + sigma eps with alpha + sigma = 1, v = eps - x0 */
      for (i = 0; i < n; i++) {
        x0[i] = x[i] - sigma * pred[i];
        eps[i] = x[i] + alpha * pred[i];
      }
      break;
    case KLING_PREDICTION_EPSILON:
      for (i = 0; i < n; i++) {
        eps[i] = pred[i];
        x0[i] = (x[i] - sigma * pred[i]) / alpha;
      }
      break;
    case KLING_PREDICTION_V:
      /* v = alpha eps - sigma x0, alpha^2 + sigma^2 = 1 */
      for (i = 0; i < n; i++) {
        x0[i] = alpha * x[i] - sigma * pred[i];
        eps[i] = sigma * x[i] + alpha * pred[i];
      }
      break;
  }
}

gboolean
kling_sample (const KlingSamplerParams * p, const KlingTimesteps * ts,
    gfloat * x, gsize n, GError ** error)
{
  gfloat *pred = g_new (gfloat, n), *x0 = g_new (gfloat, n);
  gfloat *eps = g_new (gfloat, n), *x0_prev = NULL, *z = NULL;
  gdouble h_prev = 0;
  gboolean ok = TRUE, have_prev = FALSE;
  guint s;
  gsize i;

  if (p->sampler == KLING_SAMPLER_DPMPP_2M)
    x0_prev = g_new (gfloat, n);
  if (p->sampler == KLING_SAMPLER_DDIM && p->eta > 0)
    z = g_new (gfloat, n);

  for (s = 0; s < ts->steps && ok; s++) {
    gdouble a = ts->alpha[s], sg = ts->sigma[s];
    gdouble an = ts->alpha[s + 1], sn = ts->sigma[s + 1];

    if (g_cancellable_set_error_if_cancelled (p->cancellable, error)
        || !p->predict (x, ts->t[s], pred, p->predict_data, error)) {
      ok = FALSE;
      break;
    }
    split_prediction (p->prediction, a, sg, x, pred, x0, eps, n);

    switch (p->sampler) {
      case KLING_SAMPLER_EULER:
        if (p->prediction == KLING_PREDICTION_FLOW) {
          /* dx/dt = v in flow time */
          kling_axpby (x, pred, 1.0f, ts->t[s + 1] - ts->t[s], n);
        } else {
          /* Euler in (x / alpha, sigma / alpha), as k-diffusion does */
          for (i = 0; i < n; i++)
            x[i] = an * (x[i] / a + (sn / an - sg / a) * eps[i]);
        }
        break;
      case KLING_SAMPLER_DDIM:{
        gdouble se = 0.0, keep;
        if (p->eta > 0 && sn > 0 && sg > 0)
          se = p->eta * (sn / sg) * sqrt (MAX (0.0, 1.0 - (a * a) / (an *
                      an)));
        keep = sqrt (MAX (0.0, sn * sn - se * se));
        /* x = an x0 + keep eps (+ se z) */
        memcpy (x, x0, n * sizeof (gfloat));
        kling_axpby (x, eps, an, keep, n);
        if (se > 0) {
          kling_noise_fill_normal (p->noise, z, n);
          kling_axpby (x, z, 1.0f, se, n);
        }
        break;
      }
      case KLING_SAMPLER_DPMPP_2M:{
        if (sn == 0) {
          /* the last step lands on the data estimate (lower order final) */
          memcpy (x, x0, n * sizeof (gfloat));
        } else {
          gdouble lambda = a > 0 ? log (a / sg) : -INFINITY;
          gdouble lambda_n = log (an / sn);
          gdouble h = lambda_n - lambda;
          gdouble em1 = a > 0 ? expm1 (-h) : -1.0;      /* e^-h - 1 */
          gdouble r = have_prev && isfinite (h_prev) && isfinite (h) ?
              h_prev / h : INFINITY;

          for (i = 0; i < n; i++) {
            gdouble d = x0[i];
            if (isfinite (r))
              d = (1 + 1 / (2 * r)) * x0[i] - (1 / (2 * r)) * x0_prev[i];
            x[i] = (sg > 0 ? sn / sg : 0) * x[i] - an * em1 * d;
          }
          h_prev = h;
        }
        memcpy (x0_prev, x0, n * sizeof (gfloat));
        have_prev = TRUE;
        break;
      }
    }
    if (p->progress)
      p->progress (s + 1, ts->steps, p->progress_data);
  }

  g_free (pred);
  g_free (x0);
  g_free (eps);
  g_free (x0_prev);
  g_free (z);
  return ok;
}
