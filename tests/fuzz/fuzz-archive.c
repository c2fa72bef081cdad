/* gst-kling fuzz target: the zip pre-check that guards torch::jit::load.
 * Input: a whole model file, written to a temporary file (the check reads
 * files; in /dev/shm or $TMPDIR).  Errors are fine; a crash or
 * sanitizer report is a finding.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "kling-archive.h"

static gchar *path;

static void
remove_file (void)
{
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GError *error = NULL;
  gboolean found = FALSE;
  guint64 entry_size = 0;

  if (path == NULL) {
    /* in memory when possible: a disk write per run halves the rate */
    const gchar *dir = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ?
        "/dev/shm" : g_get_tmp_dir ();
    gint fd;

    path = g_build_filename (dir, "kling-fuzz-archive-XXXXXX.pt", NULL);
    fd = g_mkstemp (path);
    if (fd < 0)
      abort ();
    close (fd);
    atexit (remove_file);
  }
  if (!g_file_set_contents (path, (const gchar *) data, size, NULL))
    abort ();
  if (kling_archive_check (path, &error)) {
    /* a passing archive answers entry look-ups too */
    if (!kling_archive_find_entry (path, "/extra/kling.json", &found,
            &entry_size, &error))
      abort ();
    if (!found && entry_size != 0)
      abort ();
  } else {
    if (error == NULL || error->message[0] == '\0')
      abort ();
    g_clear_error (&error);
  }
  return 0;
}
