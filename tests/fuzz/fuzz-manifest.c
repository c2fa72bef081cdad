/* gst-kling fuzz target: the manifest reader and every task's check.
 * Input: the bytes of a kling.json.  A crash, a sanitizer report or an
 * allocation over the limit (-malloc_limit_mb) is a finding; errors are
 * fine.  When a manifest passes a task's check, the sizes the core derives
 * from it must be within KLING_MANIFEST_MAX_ELEMENTS.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include "kling-manifest.h"

static const KlingMethodInfo methods[] = {
  {"forward", 1}, {"encode", 3}, {"decode_step", 2}, {"encode_prompt", 2},
  {"denoise", 4}, {"decode", 1}, {"encode_image", 1}
};

static void
check_sizes (const KlingManifest * m, const gchar * task)
{
  guint64 max = KLING_MANIFEST_MAX_ELEMENTS;

  if (m->input_width > 0
      && (guint64) m->input_width * m->input_height * 3 > 3 * max)
    abort ();
  if (g_str_equal (task, "video") || g_str_equal (task, "poster")) {
    gint64 c = kling_manifest_get_int (m, "latent.channels", 0);
    gint64 t = kling_manifest_get_int (m, "latent.frames", 1);
    gint64 h = kling_manifest_get_int (m, "latent.height", 0);
    gint64 w = kling_manifest_get_int (m, "latent.width", 0);
    gint64 W = kling_manifest_get_int (m, "size.width", 0);
    gint64 H = kling_manifest_get_int (m, "size.height", 0);

    if (c < 1 || c > 64 || t < 1 || t > 1024 || h < 1 || w < 1 || W < 1
        || H < 1 || (guint64) (2 * (c + 1) * t) * h * w > max
        || (guint64) t * H * W * 3 > max)
      abort ();
  }
  if (g_str_equal (task, "copywrite")) {
    gint64 vocab = kling_manifest_get_int (m, "tokenizer.vocab", 258);
    if (vocab < 2 || vocab > KLING_MANIFEST_MAX_VOCAB)
      abort ();
  }
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static const gchar *tasks[] = { "detect", "copywrite", "video", "poster" };
  GError *error = NULL;
  KlingManifest *m;
  guint i;

  m = kling_manifest_parse ((const gchar *) data, size, "fuzz.pt", &error);
  if (m == NULL) {
    if (error == NULL || error->message[0] == '\0')
      abort ();                 /* a refusal always says why */
    g_error_free (error);
    return 0;
  }
  for (i = 0; i < G_N_ELEMENTS (tasks); i++) {
    if (kling_manifest_check_task (m, tasks[i], methods,
            G_N_ELEMENTS (methods), i % 2, &error))
      check_sizes (m, tasks[i]);
    else
      g_clear_error (&error);
  }
  kling_manifest_get_string (m, "a.b.c", NULL);
  kling_manifest_get_double (m, "defaults.threshold", 0);
  kling_manifest_free (m);
  return 0;
}
