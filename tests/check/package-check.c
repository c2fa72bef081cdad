/* gst-kling: loads a model package for a task the way the elements do and
 * reports every problem; used after each recipe's smoke run.
 *   package-check PATH TASK
 * GST_DEBUG=klingbackend:5 shows what the backend does.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <gst/gst.h>
#include "kling-manifest.h"

int
main (int argc, char **argv)
{
  KlingLoadOptions opts = { "cpu", KLING_PRECISION_FLOAT32, 1 };
  KlingManifest *manifest = NULL;
  GError *error = NULL;
  KlingModel *model;

  gst_init (&argc, &argv);
  if (argc != 3) {
    fprintf (stderr, "usage: %s PACKAGE TASK\n", argv[0]);
    return 2;
  }
  model = kling_package_load (argv[1], argv[2], &opts, FALSE, &manifest,
      &error);
  if (model == NULL) {
    fprintf (stderr, "%s\n", error->message);
    g_error_free (error);
    return 1;
  }
  printf ("%s: task %s, %s\n", argv[1], manifest->task, manifest->name);
  kling_manifest_free (manifest);
  kling_model_free (model);
  return 0;
}
