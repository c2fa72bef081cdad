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

/* Limits the manifest checker enforces (docs/models.md, "Security"), so that
 * no manifest, however each field is chosen, makes gst-kling allocate more
 * than it can or recurse without bound.  Every one is reported as an error
 * naming the field and the limit. */
/* bytes of kling.json, checked in the archive before libtorch reads it */
#define KLING_MANIFEST_MAX_SIZE (1 << 20)
/* nesting of objects and arrays, checked before the JSON parser runs */
#define KLING_MANIFEST_MAX_DEPTH 32
/* values in any one tensor or buffer a manifest sizes (1 GiB of float32):
 * products of dimensions, batch rows included, overflow-checked */
#define KLING_MANIFEST_MAX_ELEMENTS (G_GUINT64_CONSTANT (1) << 28)
/* tokenizer.vocab (logits per step), also the bound of token offsets */
#define KLING_MANIFEST_MAX_VOCAB (1 << 20)
/* defaults.top_k of a copywriter */
#define KLING_MANIFEST_MAX_TOP_K 1024
/* schedule.train_steps of a generation model */
#define KLING_MANIFEST_MAX_TRAIN_STEPS 100000

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

/* Parses kling.json.  @length may be -1 (NUL-terminated).  Refuses, before
 * parsing, a document over KLING_MANIFEST_MAX_SIZE bytes or nested deeper
 * than KLING_MANIFEST_MAX_DEPTH. */
KlingManifest *kling_manifest_parse (const gchar * json, gssize length,
    const gchar * model, GError ** error);
void kling_manifest_free (KlingManifest * manifest);

/* Checks that @manifest and the model's @methods meet what @task needs,
 * and that every size the task's core allocates from the manifest is within
 * the limits above.  Every mismatch is listed in the one error, each in
 * words a user can act on.  @labels_given: the user supplies labels
 * (labels-file). */
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
