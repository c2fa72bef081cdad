/* gst-kling: kling-gen over the test video and poster models
 * (tests/models' colour-video and colour-poster: the prompt picks a colour,
 * denoise steers towards it, or towards the known frames of `cond`, a
 * little imperfectly; decode upsamples latents 4x)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-gen.h"

static KlingGenModel *
load (const gchar * name, const gchar * task, GError ** error)
{
  KlingLoadOptions opts = { "cpu", KLING_PRECISION_FLOAT32, 1 };
  gchar *path = g_build_filename (g_getenv ("KLING_TEST_MODELS"), name,
      NULL);
  KlingGenModel *gm = kling_gen_model_load (path, task, &opts, error);

  g_free (path);
  return gm;
}

static KlingGenSampleParams
params (KlingGenModel * gm, guint64 seed, guint64 chunk)
{
  KlingGenSampleParams sp = { 0 };

  sp.seed = seed;
  sp.chunk = chunk;
  sp.steps = gm->default_steps;
  sp.guidance = gm->default_guidance;
  sp.sampler = gm->default_sampler;
  return sp;
}

/* Mean absolute difference of two packed RGB frames of @gm's size. */
static gdouble
frame_diff (KlingGenModel * gm, const guint8 * a, const guint8 * b)
{
  gsize i, n = (gsize) gm->width * gm->height * 3;
  gdouble sum = 0;

  for (i = 0; i < n; i++)
    sum += ABS ((gint) a[i] - (gint) b[i]);
  return sum / n;
}

/* Mean absolute difference of a frame from one colour. */
static gdouble
colour_diff (KlingGenModel * gm, const guint8 * f, const guint8 * rgb)
{
  gsize i, n = (gsize) gm->width * gm->height;
  gdouble sum = 0;

  for (i = 0; i < n; i++)
    sum += ABS (f[i * 3] - rgb[0]) + ABS (f[i * 3 + 1] - rgb[1]) +
        ABS (f[i * 3 + 2] - rgb[2]);
  return sum / (3 * n);
}

GST_START_TEST (test_load_and_contract)
{
  GError *err = NULL;
  KlingGenModel *gm = load ("video-colour.pt", "video", &err);

  fail_unless (gm != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (gm->width, 16);
  fail_unless_equals_int (gm->height, 16);
  fail_unless_equals_int (gm->latent_frames, 4);
  fail_unless_equals_int (gm->context_frames, 1);
  fail_unless_equals_int (gm->fps_n, 8);
  fail_unless_equals_int (gm->default_steps, 4);
  fail_unless (gm->default_guidance == 2.0);
  fail_unless_equals_int (gm->default_sampler, KLING_SAMPLER_EULER);
  fail_unless (gm->has_encode_image);
  /* C * T * h * w, and one more channel for the conditioning */
  fail_unless_equals_int (kling_gen_latent_size (gm), 3 * 4 * 4 * 4);
  fail_unless_equals_int (kling_gen_cond_size (gm), 4 * 4 * 4 * 4);
  kling_gen_model_free (gm);

  /* a video model is not a poster model */
  fail_unless (load ("video-colour.pt", "poster", &err) == NULL);
  fail_unless (err != NULL);
  g_clear_error (&err);
  gm = load ("poster-colour.pt", "poster", &err);
  fail_unless (gm != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (gm->latent_frames, 1);
  kling_gen_model_free (gm);
}

GST_END_TEST;

GST_START_TEST (test_prompt_and_sampling)
{
  KlingGenModel *gm = load ("video-colour.pt", "video", NULL);
  gsize n = kling_gen_latent_size (gm);
  gfloat *a = g_new (gfloat, n), *b = g_new (gfloat, n);
  KlingGenSampleParams sp = params (gm, 5, 0);
  gboolean truncated = TRUE;
  GCancellable *cancel = g_cancellable_new ();
  KlingGenPrompt *p;
  GError *err = NULL;
  gchar *long_prompt = g_strnfill (100, 'a');

  p = kling_gen_encode_prompt (gm, "red ball", "", &truncated, NULL, &err);
  fail_unless (p != NULL, "%s", err ? err->message : "");
  fail_if (truncated);
  kling_gen_prompt_free (kling_gen_encode_prompt (gm, long_prompt, NULL,
          &truncated, NULL, NULL));
  /* max_length 32: the model reads only the start */
  fail_unless (truncated);

  /* the same seed and chunk give the same latents; another seed or chunk
   * other noise */
  fail_unless (kling_gen_sample (gm, p, &sp, a, &err), "%s",
      err ? err->message : "");
  fail_unless (kling_gen_sample (gm, p, &sp, b, NULL));
  fail_unless (memcmp (a, b, n * sizeof (gfloat)) == 0);
  sp.seed = 6;
  fail_unless (kling_gen_sample (gm, p, &sp, b, NULL));
  fail_if (memcmp (a, b, n * sizeof (gfloat)) == 0);
  sp = params (gm, 5, 1);
  fail_unless (kling_gen_sample (gm, p, &sp, b, NULL));
  fail_if (memcmp (a, b, n * sizeof (gfloat)) == 0);

  /* a cancelled run stops before its first call */
  g_cancellable_cancel (cancel);
  sp.cancellable = cancel;
  fail_if (kling_gen_sample (gm, p, &sp, b, &err));
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&err);

  kling_gen_prompt_free (p);
  g_object_unref (cancel);
  g_free (long_prompt);
  g_free (a);
  g_free (b);
  kling_gen_model_free (gm);
}

GST_END_TEST;

GST_START_TEST (test_clip_image_and_seams)
{
  static const guint8 colour[3] = { 220, 40, 40 };
  KlingGenModel *gm = load ("video-colour.pt", "video", NULL);
  KlingGenPrompt *p = kling_gen_encode_prompt (gm, "blue", "", NULL, NULL,
      NULL);
  KlingGenClip *clip = kling_gen_clip_new (gm);
  KlingGenSampleParams sp = params (gm, 1, 0);
  gsize frame_bytes = (gsize) gm->width * gm->height * 3, i;
  guint8 *image = g_malloc (frame_bytes), *last = g_malloc (frame_bytes);
  GError *err = NULL;
  gdouble with_image, without, seam, jump;

  for (i = 0; i < frame_bytes; i++)
    image[i] = colour[i % 3];

  /* a chunk after 0 needs the chunk before */
  sp.chunk = 1;
  fail_if (kling_gen_clip_next (clip, p, &sp, NULL, 0, &err));
  fail_unless (g_error_matches (err, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_ARGUMENT));
  g_clear_error (&err);

  /* image-to-video: frame 0 is the image, far more than without it */
  sp.chunk = 0;
  fail_unless (kling_gen_clip_next (clip, p, &sp, NULL, 0, &err), "%s",
      err ? err->message : "");
  without = colour_diff (gm, kling_gen_clip_frame (clip, 0), colour);
  fail_unless (kling_gen_clip_next (clip, p, &sp, image, gm->width * 3,
          &err), "%s", err ? err->message : "");
  with_image = colour_diff (gm, kling_gen_clip_frame (clip, 0), colour);
  fail_unless (with_image < 20 && without > 3 * with_image,
      "frame 0 is %.1f from the image, %.1f without it", with_image, without);

  /* chunk 1 starts where chunk 0 ended (context_frames 1: its frame 3),
   * even under another prompt, which takes over in the frames after */
  memcpy (last, kling_gen_clip_frame (clip, 3), frame_bytes);
  kling_gen_prompt_free (p);
  p = kling_gen_encode_prompt (gm, "a much longer prompt: green", "", NULL,
      NULL, NULL);
  sp.chunk = 1;
  fail_unless (kling_gen_clip_next (clip, p, &sp, NULL, 0, &err), "%s",
      err ? err->message : "");
  seam = frame_diff (gm, kling_gen_clip_frame (clip, 0), last);
  jump = frame_diff (gm, kling_gen_clip_frame (clip, 3), last);
  fail_unless (seam < 20 && jump > 3 * seam, "seam %.1f, the chunk's last "
      "frame %.1f from the previous chunk's", seam, jump);

  kling_gen_clip_free (clip);
  kling_gen_prompt_free (p);
  g_free (image);
  g_free (last);
  kling_gen_model_free (gm);
}

GST_END_TEST;

GST_START_TEST (test_poster_product)
{
  static const guint8 colour[3] = { 250, 250, 20 };
  KlingGenModel *gm = load ("poster-colour.pt", "poster", NULL);
  KlingGenPrompt *p = kling_gen_encode_prompt (gm, "deep sea", "", NULL,
      NULL, NULL);
  KlingGenClip *clip = kling_gen_clip_new (gm);
  KlingGenSampleParams sp = params (gm, 3, 0);
  gfloat *cond = g_new0 (gfloat, kling_gen_cond_size (gm));
  KlingCutout cut = { 8, 8, g_malloc (8 * 8 * 4) };
  /* the top-left quarter of a 32x32 poster: latent cells (0..1, 0..1) */
  KlingRect product = { 0, 0, 16, 16 };
  const guint8 *scene;
  GError *err = NULL;
  gint i, x, y;
  gdouble in = 0, out = 0;

  for (i = 0; i < 8 * 8; i++) {
    memcpy (cut.rgba + i * 4, colour, 3);
    cut.rgba[i * 4 + 3] = 255;
  }
  fail_unless (kling_gen_encode_product (gm, &cut, &product, 32, 32, cond,
          NULL, &err), "%s", err ? err->message : "");
  /* the last channel: the product's share of each latent cell */
  for (y = 0; y < 4; y++)
    for (x = 0; x < 4; x++)
      fail_unless (cond[3 * 16 + y * 4 + x] == ((x < 2 && y < 2) ? 1.0f :
              0.0f), "coverage of cell %d,%d: %f", x, y,
          cond[3 * 16 + y * 4 + x]);

  /* the scene takes the product's colour where it stands */
  sp.cond = cond;
  fail_unless (kling_gen_clip_next (clip, p, &sp, NULL, 0, &err), "%s",
      err ? err->message : "");
  scene = kling_gen_clip_frame (clip, 0);
  for (y = 0; y < 16; y++)
    for (x = 0; x < 16; x++) {
      const guint8 *px = scene + (y * 16 + x) * 3;
      gdouble d = (ABS (px[0] - colour[0]) + ABS (px[1] - colour[1]) +
          ABS (px[2] - colour[2])) / 3.0;
      if (x < 8 && y < 8)
        in += d / 64;
      else
        out += d / 192;
    }
  fail_unless (in < 25 && out > 3 * in, "product area %.1f from its "
      "colour, the rest %.1f", in, out);

  g_free (cut.rgba);
  g_free (cond);
  kling_gen_clip_free (clip);
  kling_gen_prompt_free (p);
  kling_gen_model_free (gm);
}

GST_END_TEST;

static Suite *
gen_suite (void)
{
  Suite *s = suite_create ("gen");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_load_and_contract);
  tcase_add_test (tc, test_prompt_and_sampling);
  tcase_add_test (tc, test_clip_image_and_seams);
  tcase_add_test (tc, test_poster_product);
  return s;
}

GST_CHECK_MAIN (gen);
