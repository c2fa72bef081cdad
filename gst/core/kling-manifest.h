/* gst-kling: model package manifests (kling.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_MANIFEST_H__
#define __KLING_MANIFEST_H__

#include <json-glib/json-glib.h>
#include "kling-backend.h"

G_BEGIN_DECLS

#define KLING_MANIFEST_FILE "kling.json"
#define KLING_MANIFEST_FORMAT 1

typedef enum
{
  KLING_RESIZE_LETTERBOX,
  KLING_RESIZE_STRETCH
} KlingResize;

typedef struct
{
  gint format;
  gchar *model;                 /* file name, for messages */
  gchar *name;
  gchar *task;
  gchar *description;
  gchar **methods;

  /* input image, when the manifest has one (width > 0) */
  gint input_width;
  gint input_height;
  gboolean input_nhwc;
  gchar *input_channels;        /* "RGB", "BGR", "GRAY" */
  gfloat input_scale;
  gfloat input_mean[3];
  gfloat input_std[3];
  KlingResize input_resize;
  guint8 input_pad;

  gchar *output_format;         /* detect: "yolov8", "yolov5", "torchvision" */
  gchar **labels;

  gchar *tokenizer_type;        /* "utf8-bytes" */
  gint tokenizer_max_length;
  gint tokenizer_offset;

  JsonNode *root;               /* the whole document, for task-specific fields */
} KlingManifest;

KlingManifest *kling_manifest_parse (const gchar * json, gssize length,
    const gchar * model, GError ** error);
void kling_manifest_free (KlingManifest * manifest);

/* Checks that @manifest and the model's @methods meet what @task needs.
 * Every mismatch is listed in the one error, each in words a user can act
 * on.  @labels_given: the user supplies labels (labels-file). */
gboolean kling_manifest_check_task (const KlingManifest * manifest,
    const gchar * task, const KlingMethodInfo * methods, guint n_methods,
    gboolean labels_given, GError ** error);

/* A member of the manifest by dotted path ("latent.channels"), or NULL. */
JsonNode *kling_manifest_lookup (const KlingManifest * manifest,
    const gchar * path);
gdouble kling_manifest_get_double (const KlingManifest * manifest,
    const gchar * path, gdouble fallback);
gint64 kling_manifest_get_int (const KlingManifest * manifest,
    const gchar * path, gint64 fallback);
const gchar *kling_manifest_get_string (const KlingManifest * manifest,
    const gchar * path, const gchar * fallback);

/* Archive check, load, manifest, task check: the way elements open a model. */
KlingModel *kling_package_load (const gchar * path, const gchar * task,
    const KlingLoadOptions * options, gboolean labels_given,
    KlingManifest ** manifest, GError ** error);

/* Where default models are: GST_KLING_MODEL_PATH, then the installed
 * datadir.  Returns the first existing @file_name, or NULL. */
gchar *kling_package_find_default (const gchar * file_name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KlingManifest, kling_manifest_free);

G_END_DECLS

#endif
