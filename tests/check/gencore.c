/* gst-kling: the generation core's pure-C parts: tokenizer, noise,
 * samplers against closed-form cases, chunk scheduling.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-chunks.h"
#include "kling-noise.h"
#include "kling-sampler.h"
#include "kling-tokenizer.h"

GST_START_TEST (test_tokenizer)
{
  gint64 ids[16], mask[16];
  gboolean truncated;
  GError *err = NULL;
  gint n;

  n = kling_tokenize_utf8 ("ab", 1, 0, 16, ids, mask, &truncated, &err);
  fail_unless_equals_int (n, 2);
  fail_unless (ids[0] == 'a' + 1 && ids[1] == 'b' + 1 && ids[2] == 0);
  fail_unless (mask[1] == 1 && mask[2] == 0 && !truncated);

  /* Chinese: 3 bytes a character */
  n = kling_tokenize_utf8 ("紅色的球", 0, 0, 16, ids, mask, &truncated, &err);
  fail_unless_equals_int (n, 12);
  fail_unless (ids[0] == 0xe7 && mask[11] == 1 && mask[12] == 0);

  /* mixed, cut at a character boundary, never inside one */
  n = kling_tokenize_utf8 ("red 紅色 ball", 0, 0, 8, ids, mask, &truncated,
      &err);
  fail_unless_equals_int (n, 7);        /* "red " + one 3-byte character */
  fail_unless (truncated);
  fail_unless (mask[6] == 1 && mask[7] == 0);
  n = kling_tokenize_utf8 ("red 紅色 ball", 0, 0, 9, ids, mask, &truncated,
      &err);
  fail_unless_equals_int (n, 7);

  /* empty prompt: all padding, the unconditional row */
  n = kling_tokenize_utf8 ("", 1, 0, 4, ids, mask, &truncated, &err);
  fail_unless (n == 0 && mask[0] == 0 && ids[3] == 0);

  /* invalid UTF-8 is refused, saying where */
  n = kling_tokenize_utf8 ("ok\xff\xfe", 1, 0, 16, ids, mask, &truncated,
      &err);
  fail_unless_equals_int (n, -1);
  fail_unless (strstr (err->message, "not valid UTF-8") != NULL);
  fail_unless (strstr (err->message, "0xff at byte 2") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  n = kling_tokenize_utf8 ("\xe7\xb4", 1, 0, 16, ids, mask, &truncated, &err);
  fail_unless_equals_int (n, -1);
  g_clear_error (&err);
}

GST_END_TEST;

GST_START_TEST (test_noise)
{
  KlingNoise a, b;
  gfloat x[10000], y[10000];
  gdouble mean = 0, var = 0;
  guint i;

  kling_noise_init (&a, 42, 0);
  kling_noise_init (&b, 42, 0);
  kling_noise_fill_normal (&a, x, 10000);
  kling_noise_fill_normal (&b, y, 10000);
  fail_unless (memcmp (x, y, sizeof (x)) == 0);
  for (i = 0; i < 10000; i++) {
    mean += x[i];
    var += x[i] * x[i];
  }
  mean /= 10000;
  var = var / 10000 - mean * mean;
  fail_unless (fabs (mean) < 0.03 && fabs (var - 1) < 0.05, "%f %f", mean,
      var);
  kling_noise_init (&b, 43, 0);
  kling_noise_fill_normal (&b, y, 16);
  fail_if (memcmp (x, y, 16 * sizeof (gfloat)) == 0);
  kling_noise_init (&b, 42, 1);
  kling_noise_fill_normal (&b, y, 16);
  fail_if (memcmp (x, y, 16 * sizeof (gfloat)) == 0);
  /* reference values: a change of generator changes every user's output */
  kling_noise_init (&a, 0, 0);
  fail_unless (kling_noise_next_u32 (&a) == 0xe4c14788u);
}

GST_END_TEST;

/* Closed-form "models" for the samplers */
typedef struct
{
  KlingPrediction prediction;
  const KlingTimesteps *ts;
  gdouble s;                    /* data: N(0, s^2) per value, or a point mass */
  gboolean point_mass;
  const gfloat *target;
  gint calls;
} Oracle;

static gboolean
oracle_predict (const gfloat * x, gdouble t, gfloat * pred, gpointer data,
    GError ** error)
{
  Oracle *o = data;
  gdouble alpha = -1, sigma = -1;
  guint i;

  for (i = 0; i <= o->ts->steps; i++)
    if (o->ts->t[i] == t) {
      alpha = o->ts->alpha[i];
      sigma = o->ts->sigma[i];
      break;
    }
  fail_unless (alpha >= 0);
  o->calls++;
  for (i = 0; i < 64; i++) {
    /* the exact posterior mean of x0 given x */
    gdouble x0 = o->point_mass ? o->target[i] :
        alpha * o->s * o->s / (alpha * alpha * o->s * o->s + sigma * sigma) *
        x[i];
    gdouble eps = (x[i] - alpha * x0) / sigma;
    switch (o->prediction) {
      case KLING_PREDICTION_FLOW:
        pred[i] = eps - x0;
        break;
      case KLING_PREDICTION_EPSILON:
        pred[i] = eps;
        break;
      case KLING_PREDICTION_V:
        pred[i] = alpha * eps - sigma * x0;
        break;
    }
  }
  return TRUE;
}

static gdouble
run_sampler (KlingSamplerType sampler, KlingPrediction prediction,
    KlingScheduleType schedule, guint steps, gboolean point_mass)
{
  KlingSchedule sch = { schedule, 1000, 0.00085, 0.012 };
  KlingTimesteps ts;
  KlingNoise noise;
  gfloat x[64], target[64], start[64];
  Oracle o = { prediction, &ts, 0.5, point_mass, target, 0 };
  KlingSamplerParams p = { sampler, prediction, 0.0, NULL, oracle_predict,
    &o, NULL, NULL, NULL
  };
  gdouble err = 0;
  guint i;

  fail_unless (kling_timesteps_init (&ts, &sch, steps, NULL));
  kling_noise_init (&noise, 7, 0);
  kling_noise_fill_normal (&noise, x, 64);
  memcpy (start, x, sizeof (x));
  for (i = 0; i < 64; i++)
    target[i] = sinf (i * 0.3f);
  fail_unless (kling_sample (&p, &ts, x, 64, NULL));
  fail_unless_equals_int (o.calls, steps);
  for (i = 0; i < 64; i++) {
    /* the probability-flow ODE maps noise n at (alpha_0, sigma_0) to
     * n * s / sqrt (alpha_0^2 s^2 + sigma_0^2) for Gaussian data */
    gdouble want = point_mass ? target[i] : start[i] * o.s /
        sqrt (ts.alpha[0] * ts.alpha[0] * o.s * o.s + ts.sigma[0] *
        ts.sigma[0]);
    err = MAX (err, fabs (x[i] - want));
  }
  kling_timesteps_clear (&ts);
  return err;
}

GST_START_TEST (test_samplers_point_mass)
{
  KlingSamplerType samplers[] = { KLING_SAMPLER_EULER, KLING_SAMPLER_DDIM,
    KLING_SAMPLER_DPMPP_2M
  };
  guint i;

  /* a model that knows the answer: every sampler lands on it */
  for (i = 0; i < 3; i++) {
    fail_unless (run_sampler (samplers[i], KLING_PREDICTION_FLOW,
            KLING_SCHEDULE_FLOW, 8, TRUE) < 1e-5);
    fail_unless (run_sampler (samplers[i], KLING_PREDICTION_EPSILON,
            KLING_SCHEDULE_SCALED_LINEAR, 8, TRUE) < 1e-4);
    fail_unless (run_sampler (samplers[i], KLING_PREDICTION_V,
            KLING_SCHEDULE_LINEAR, 8, TRUE) < 1e-4);
  }
}

GST_END_TEST;

GST_START_TEST (test_samplers_gaussian)
{
  gdouble e_euler, e_ddim, e_dpm, e_euler_fine;

  /* flow matching: Euler converges at first order, DPM-Solver++(2M) does
   * better with the same steps */
  e_euler = run_sampler (KLING_SAMPLER_EULER, KLING_PREDICTION_FLOW,
      KLING_SCHEDULE_FLOW, 10, FALSE);
  e_euler_fine = run_sampler (KLING_SAMPLER_EULER, KLING_PREDICTION_FLOW,
      KLING_SCHEDULE_FLOW, 200, FALSE);
  e_dpm = run_sampler (KLING_SAMPLER_DPMPP_2M, KLING_PREDICTION_FLOW,
      KLING_SCHEDULE_FLOW, 10, FALSE);
  e_ddim = run_sampler (KLING_SAMPLER_DDIM, KLING_PREDICTION_FLOW,
      KLING_SCHEDULE_FLOW, 10, FALSE);
  GST_INFO ("flow: euler %g (200 steps %g), ddim %g, dpm++2m %g", e_euler,
      e_euler_fine, e_ddim, e_dpm);
  fail_unless (e_euler_fine < 0.01, "%g", e_euler_fine);
  fail_unless (e_euler_fine < e_euler / 5);
  fail_unless (e_dpm < e_euler, "dpm %g euler %g", e_dpm, e_euler);
  /* DDIM and Euler are the same ODE step for flow models */
  fail_unless (fabs (e_ddim - e_euler) < 1e-5);

  /* epsilon and v models on DDPM schedules: every sampler converges as the
   * steps grow, and DPM-Solver++(2M) beats DDIM at equal steps */
  {
    gdouble ddim80 = run_sampler (KLING_SAMPLER_DDIM,
        KLING_PREDICTION_EPSILON, KLING_SCHEDULE_SCALED_LINEAR, 80, FALSE);
    gdouble ddim320 = run_sampler (KLING_SAMPLER_DDIM,
        KLING_PREDICTION_EPSILON, KLING_SCHEDULE_SCALED_LINEAR, 320, FALSE);
    gdouble dpm80 = run_sampler (KLING_SAMPLER_DPMPP_2M,
        KLING_PREDICTION_EPSILON, KLING_SCHEDULE_SCALED_LINEAR, 80, FALSE);
    gdouble dpm320 = run_sampler (KLING_SAMPLER_DPMPP_2M,
        KLING_PREDICTION_EPSILON, KLING_SCHEDULE_SCALED_LINEAR, 320, FALSE);
    gdouble euler80 = run_sampler (KLING_SAMPLER_EULER,
        KLING_PREDICTION_EPSILON, KLING_SCHEDULE_SCALED_LINEAR, 80, FALSE);
    gdouble vddim80 = run_sampler (KLING_SAMPLER_DDIM, KLING_PREDICTION_V,
        KLING_SCHEDULE_LINEAR, 80, FALSE);
    gdouble vdpm80 = run_sampler (KLING_SAMPLER_DPMPP_2M, KLING_PREDICTION_V,
        KLING_SCHEDULE_LINEAR, 80, FALSE);

    GST_INFO ("epsilon: ddim %g (320 steps %g) dpm++2m %g (320 steps %g) "
        "euler %g; v: ddim %g dpm++2m %g", ddim80, ddim320, dpm80, dpm320,
        euler80, vddim80, vdpm80);
    fail_unless (ddim320 < ddim80 / 2 && ddim320 < 0.02, "%g", ddim320);
    fail_unless (dpm320 < dpm80 / 2 && dpm320 < 0.01, "%g", dpm320);
    fail_unless (dpm80 < ddim80, "%g %g", dpm80, ddim80);
    fail_unless (vdpm80 < vddim80, "%g %g", vdpm80, vddim80);
    /* Euler in (x / alpha, sigma / alpha) is DDIM's step */
    fail_unless (fabs (euler80 - ddim80) < 1e-4);
  }
}

GST_END_TEST;

static gboolean
count_predict (const gfloat * x, gdouble t, gfloat * pred, gpointer data,
    GError ** error)
{
  GCancellable *c = data;

  memset (pred, 0, 4 * sizeof (gfloat));
  if (t < 0.5)                  /* halfway through, someone cancels */
    g_cancellable_cancel (c);
  return TRUE;
}

GST_START_TEST (test_sampler_cancel_and_errors)
{
  KlingSchedule sch = { KLING_SCHEDULE_FLOW, 0, 0, 0 };
  KlingSchedule bad = { KLING_SCHEDULE_LINEAR, 10, 0.1, 0.01 };
  KlingTimesteps ts;
  GCancellable *c = g_cancellable_new ();
  KlingSamplerParams p = { KLING_SAMPLER_EULER, KLING_PREDICTION_FLOW, 0,
    NULL, count_predict, c, NULL, NULL, c
  };
  gfloat x[4] = { 0 };
  GError *err = NULL;

  fail_unless (kling_timesteps_init (&ts, &sch, 10, NULL));
  fail_if (kling_sample (&p, &ts, x, 4, &err));
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&err);
  kling_timesteps_clear (&ts);
  g_object_unref (c);

  fail_if (kling_timesteps_init (&ts, &sch, 0, &err));
  g_clear_error (&err);
  fail_if (kling_timesteps_init (&ts, &bad, 5, &err));
  g_clear_error (&err);
}

GST_END_TEST;

GST_START_TEST (test_chunks)
{
  KlingChunk c;
  guint64 total = 0, i;

  /* 8 frames a chunk, 2 carried over: 8, then 6 new per chunk */
  fail_unless_equals_uint64 (kling_chunks_count (8, 8, 2), 1);
  fail_unless_equals_uint64 (kling_chunks_count (9, 8, 2), 2);
  fail_unless_equals_uint64 (kling_chunks_count (14, 8, 2), 2);
  fail_unless_equals_uint64 (kling_chunks_count (15, 8, 2), 3);
  fail_unless_equals_uint64 (kling_chunks_count (80, 8, 2), 13);
  fail_unless_equals_uint64 (kling_chunks_count (3, 8, 2), 1);
  fail_unless_equals_uint64 (kling_chunks_count (0, 8, 2), 0);
  fail_unless_equals_uint64 (kling_chunks_count (10, 8, 8), 0);

  for (i = 0; kling_chunks_get (80, 8, 2, i, &c); i++) {
    fail_unless_equals_uint64 (c.first_frame, total);
    fail_unless (c.skip == (i ? 2 : 0));
    total += c.emit;
  }
  fail_unless_equals_uint64 (i, 13);
  fail_unless_equals_uint64 (total, 80);
  fail_unless (kling_chunks_get (80, 8, 2, 12, &c));
  fail_unless_equals_int (c.emit, 80 - 8 - 11 * 6);
  fail_unless (kling_chunks_get (3, 8, 2, 0, &c) && c.emit == 3);
  /* endless clips keep going */
  fail_unless (kling_chunks_get (G_MAXUINT64, 8, 2, 1000000, &c));
  fail_unless_equals_uint64 (c.first_frame, 8 + 999999 * 6);
}

GST_END_TEST;

static Suite *
gencore_suite (void)
{
  Suite *s = suite_create ("gencore");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_tokenizer);
  tcase_add_test (tc, test_noise);
  tcase_add_test (tc, test_samplers_point_mass);
  tcase_add_test (tc, test_samplers_gaussian);
  tcase_add_test (tc, test_sampler_cancel_and_errors);
  tcase_add_test (tc, test_chunks);
  return s;
}

GST_CHECK_MAIN (gencore);
