/* gst-kling fuzz target: a buffer on the prompt pad, through the generation
 * core's prompt path.  The buffer is taken as klinggen's prompt pad takes
 * it (refused unless valid UTF-8, cut at a NUL, stripped; gstklinggen.c
 * prompt_pad_chain), then kling_gen_encode_prompt tokenizes it with the
 * negative prompt and calls `encode_prompt` on the fake backend
 * (fake-backend.c), which checks the tensors it gets.
 * Input: 3 bytes of parameters (max_length 1-256, offset 0-255, where the
 * negative prompt ends), then the bytes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "kling-gen.h"

static KlingModel *model;

/* A stored zip with one `m/data.pkl`: what the archive check needs to
 * hand the file to the (fake) backend. */
static gchar *
write_minimal_archive (void)
{
  static const guint8 zip[] = {
    /* local header, "m/data.pkl", 1 byte "." */
    'P', 'K', 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 0, 1, 0, 0, 0, 10, 0, 0, 0,
    'm', '/', 'd', 'a', 't', 'a', '.', 'p', 'k', 'l', '.',
    /* central directory at 41 */
    'P', 'K', 1, 2, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 0, 1, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0,
    'm', '/', 'd', 'a', 't', 'a', '.', 'p', 'k', 'l',
    /* end record: 1 entry, directory of 56 bytes at 41 */
    'P', 'K', 5, 6, 0, 0, 0, 0, 1, 0, 1, 0, 56, 0, 0, 0, 41, 0, 0, 0, 0, 0
  };
  gchar *path;
  gint fd = g_file_open_tmp ("kling-fuzz-prompt-XXXXXX.pt", &path, NULL);

  if (fd < 0 || write (fd, zip, sizeof (zip)) != sizeof (zip))
    abort ();
  close (fd);
  return path;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  GError *error = NULL;
  gchar *path;

  if (!g_getenv ("GST_KLING_BACKEND")) {
    gchar *dir = g_path_get_dirname ((*argv)[0]);
    gchar *module = g_build_filename (dir, "libkling-fake.so", NULL);
    g_setenv ("GST_KLING_BACKEND", module, TRUE);
    g_free (module);
    g_free (dir);
  }
  path = write_minimal_archive ();
  model = kling_model_load (path, NULL, NULL, &error);
  if (model == NULL) {
    g_printerr ("fuzz-prompt: %s\n", error->message);
    abort ();
  }
  g_unlink (path);
  g_free (path);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  KlingGenModel gm = { 0 };
  KlingGenPrompt *prompt;
  GError *error = NULL;
  gboolean truncated = FALSE;
  gchar *negative, *text;
  gsize split;

  if (size < 3)
    return 0;
  gm.model = model;
  gm.max_tokens = data[0] + 1;
  gm.token_offset = data[1];
  gm.token_pad = 0;
  split = MIN (data[2], size - 3);
  negative = g_strndup ((const gchar *) data + 3, split);
  data += 3 + split;
  size -= 3 + split;

  /* the prompt pad */
  if (!g_utf8_validate ((const gchar *) data, size, NULL)) {
    g_free (negative);
    return 0;
  }
  text = g_strstrip (g_strndup ((const gchar *) data, size));
  if (*text != '\0') {
    prompt = kling_gen_encode_prompt (&gm, text, negative, &truncated, NULL,
        &error);
    /* only an invalid negative prompt may fail */
    if (prompt == NULL) {
      if (g_utf8_validate (negative, -1, NULL) || error == NULL)
        abort ();
      g_clear_error (&error);
    } else if (truncated != (strlen (text) > gm.max_tokens
            || strlen (negative) > gm.max_tokens)) {
      abort ();
    }
    kling_gen_prompt_free (prompt);
  }
  g_free (text);
  g_free (negative);
  return 0;
}
