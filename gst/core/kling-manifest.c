/* gst-kling: model package manifests (kling.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "kling-manifest.h"
#include "kling-archive.h"

#define SEE_DOCS "see docs/models.md"

typedef struct
{
  const gchar *task;
  const gchar *methods[5];
  const gchar *fields[4];       /* dotted paths that must be present */
} KlingTaskNeeds;

static const KlingTaskNeeds task_needs[] = {
  {"detect", {"forward"}, {"input.width", "input.height", "output.format"}},
  {"copywrite", {"encode", "decode_step"},
      {"input.width", "input.height", "tokenizer.type"}},
  {"video", {"encode_prompt", "denoise", "decode"},
      {"latent", "tokenizer.type"}},
  {"poster", {"encode_prompt", "denoise", "decode", "encode_image"},
      {"latent", "tokenizer.type"}},
};

static const gchar *
node_kind (JsonNode * node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "an array";
  if (JSON_NODE_HOLDS_NULL (node))
    return "null";
  switch (json_node_get_value_type (node)) {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
  }
}

JsonNode *
kling_manifest_lookup (const KlingManifest * manifest, const gchar * path)
{
  gchar **parts = g_strsplit (path, ".", -1);
  JsonNode *node = manifest->root;
  guint i;

  for (i = 0; parts[i] && node; i++) {
    JsonObject *obj;

    if (!JSON_NODE_HOLDS_OBJECT (node)) {
      node = NULL;
      break;
    }
    obj = json_node_get_object (node);
    node = json_object_get_member (obj, parts[i]);
  }
  g_strfreev (parts);
  return node;
}

static gboolean
is_number (JsonNode * node)
{
  if (!node || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  switch (json_node_get_value_type (node)) {
    case G_TYPE_INT64:
    case G_TYPE_DOUBLE:
      return TRUE;
    default:
      return FALSE;
  }
}

gdouble
kling_manifest_get_double (const KlingManifest * manifest, const gchar * path,
    gdouble fallback)
{
  JsonNode *node = kling_manifest_lookup (manifest, path);

  return is_number (node) ? json_node_get_double (node) : fallback;
}

gint64
kling_manifest_get_int (const KlingManifest * manifest, const gchar * path,
    gint64 fallback)
{
  JsonNode *node = kling_manifest_lookup (manifest, path);

  if (!is_number (node))
    return fallback;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  return (gint64) json_node_get_double (node);
}

const gchar *
kling_manifest_get_string (const KlingManifest * manifest, const gchar * path,
    const gchar * fallback)
{
  JsonNode *node = kling_manifest_lookup (manifest, path);

  if (node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return fallback;
}

static gchar **
string_array (JsonNode * node, const gchar * field, GPtrArray * problems,
    const gchar * model)
{
  JsonArray *arr;
  GPtrArray *out;
  guint i, n;

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `%s` is %s, not an "
            "array of strings", model, field, node_kind (node)));
    return NULL;
  }
  arr = json_node_get_array (node);
  n = json_array_get_length (arr);
  out = g_ptr_array_new_full (n + 1, g_free);
  for (i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (arr, i);
    if (!JSON_NODE_HOLDS_VALUE (e)
        || json_node_get_value_type (e) != G_TYPE_STRING) {
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `%s[%u]` is %s, "
              "not a string", model, field, i, node_kind (e)));
      g_ptr_array_free (out, TRUE);
      return NULL;
    }
    g_ptr_array_add (out, g_strdup (json_node_get_string (e)));
  }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

/* Reads an optional member that must have a given JSON kind. */
static JsonNode *
typed_member (KlingManifest * m, const gchar * path, gboolean want_number,
    GPtrArray * problems)
{
  JsonNode *node = kling_manifest_lookup (m, path);

  if (node == NULL)
    return NULL;
  if (want_number ? !is_number (node)
      : !(JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_STRING)) {
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `%s` is %s, expected "
            "%s", m->model, path, node_kind (node),
            want_number ? "a number" : "a string"));
    return NULL;
  }
  return node;
}

static void
read_triplet (KlingManifest * m, const gchar * path, gfloat * out,
    gfloat fallback, GPtrArray * problems)
{
  JsonNode *node = kling_manifest_lookup (m, path);
  guint i;

  for (i = 0; i < 3; i++)
    out[i] = fallback;
  if (node == NULL)
    return;
  if (is_number (node)) {
    for (i = 0; i < 3; i++)
      out[i] = json_node_get_double (node);
    return;
  }
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *arr = json_node_get_array (node);
    guint n = json_array_get_length (arr);

    if (n == 1 || n == 3) {
      for (i = 0; i < 3; i++) {
        JsonNode *e = json_array_get_element (arr, n == 1 ? 0 : i);
        if (!is_number (e))
          goto bad;
        out[i] = json_node_get_double (e);
      }
      return;
    }
  }
bad:
  g_ptr_array_add (problems,
      g_strdup_printf ("model \"%s\": manifest field `%s` must be a number "
          "or an array of 1 or 3 numbers", m->model, path));
}

static gboolean
fail_with_problems (GPtrArray * problems, GError ** error)
{
  gchar *text;

  if (problems->len == 0)
    return TRUE;
  g_ptr_array_add (problems, NULL);
  text = g_strjoinv ("\n", (gchar **) problems->pdata);
  g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
      "%s\n(" SEE_DOCS ")", text);
  g_free (text);
  return FALSE;
}

KlingManifest *
kling_manifest_parse (const gchar * json, gssize length, const gchar * model,
    GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  GError *json_error = NULL;
  KlingManifest *m;
  JsonNode *node;
  const gchar *s;
  gint64 v;

  if (json == NULL) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "model \"%s\" has no " KLING_MANIFEST_FILE " manifest; wrap it with "
        "models/kling-wrap.py (" SEE_DOCS ")", model);
    return NULL;
  }
  if (!json_parser_load_from_data (parser, json, length, &json_error)) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "model \"%s\": its " KLING_MANIFEST_FILE " is not valid JSON: %s "
        "(" SEE_DOCS ")", model, json_error->message);
    g_error_free (json_error);
    return NULL;
  }
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "model \"%s\": its " KLING_MANIFEST_FILE " is not a JSON object "
        "(" SEE_DOCS ")", model);
    return NULL;
  }

  m = g_new0 (KlingManifest, 1);
  m->model = g_path_get_basename (model);
  m->root = json_node_copy (node);

  if (typed_member (m, "format", TRUE, problems) == NULL) {
    if (!kling_manifest_lookup (m, "format"))
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `format` is missing",
              m->model));
  } else if ((m->format = kling_manifest_get_int (m, "format", 0)) !=
      KLING_MANIFEST_FORMAT) {
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest format %d is not supported "
            "by this gst-kling (it reads format %d); update gst-kling or "
            "re-wrap the model", m->model, m->format, KLING_MANIFEST_FORMAT));
  }
  if (typed_member (m, "task", FALSE, problems))
    m->task = g_strdup (kling_manifest_get_string (m, "task", NULL));
  else if (!kling_manifest_lookup (m, "task"))
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `task` is missing",
            m->model));
  typed_member (m, "name", FALSE, problems);
  m->name = g_strdup (kling_manifest_get_string (m, "name", m->model));
  typed_member (m, "description", FALSE, problems);
  m->description = g_strdup (kling_manifest_get_string (m, "description", ""));

  node = kling_manifest_lookup (m, "methods");
  if (node == NULL)
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `methods` is missing",
            m->model));
  m->methods = string_array (node, "methods", problems, m->model);
  m->labels = string_array (kling_manifest_lookup (m, "labels"), "labels",
      problems, m->model);

  /* input */
  typed_member (m, "input.width", TRUE, problems);
  typed_member (m, "input.height", TRUE, problems);
  m->input_width = kling_manifest_get_int (m, "input.width", 0);
  m->input_height = kling_manifest_get_int (m, "input.height", 0);
  if (kling_manifest_lookup (m, "input.width")
      && (m->input_width < 1 || m->input_width > 16384
          || m->input_height < 1 || m->input_height > 16384))
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest input size %dx%d is out of "
            "range (1 to 16384 pixels each)", m->model, m->input_width,
            m->input_height));
  typed_member (m, "input.layout", FALSE, problems);
  s = kling_manifest_get_string (m, "input.layout", "NCHW");
  if (strcmp (s, "NCHW") == 0 || strcmp (s, "NHWC") == 0)
    m->input_nhwc = strcmp (s, "NHWC") == 0;
  else
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `input.layout` is "
            "\"%s\"; use \"NCHW\" or \"NHWC\"", m->model, s));
  typed_member (m, "input.channels", FALSE, problems);
  s = kling_manifest_get_string (m, "input.channels", "RGB");
  if (g_strv_contains ((const gchar *[]) { "RGB", "BGR", "GRAY", NULL }, s))
    m->input_channels = g_strdup (s);
  else
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `input.channels` is "
            "\"%s\"; use \"RGB\", \"BGR\" or \"GRAY\"", m->model, s));
  typed_member (m, "input.scale", TRUE, problems);
  m->input_scale = kling_manifest_get_double (m, "input.scale", 1.0 / 255.0);
  read_triplet (m, "input.mean", m->input_mean, 0.0f, problems);
  read_triplet (m, "input.std", m->input_std, 1.0f, problems);
  if (m->input_std[0] == 0 || m->input_std[1] == 0 || m->input_std[2] == 0)
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `input.std` has a "
            "zero", m->model));
  typed_member (m, "input.resize", FALSE, problems);
  s = kling_manifest_get_string (m, "input.resize", "letterbox");
  if (strcmp (s, "letterbox") == 0 || strcmp (s, "stretch") == 0)
    m->input_resize = strcmp (s, "stretch") == 0 ? KLING_RESIZE_STRETCH :
        KLING_RESIZE_LETTERBOX;
  else
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `input.resize` is "
            "\"%s\"; use \"letterbox\" or \"stretch\"", m->model, s));
  typed_member (m, "input.pad", TRUE, problems);
  v = kling_manifest_get_int (m, "input.pad", 114);
  m->input_pad = CLAMP (v, 0, 255);

  /* output */
  typed_member (m, "output.format", FALSE, problems);
  m->output_format = g_strdup (kling_manifest_get_string (m, "output.format",
          NULL));

  /* tokenizer */
  typed_member (m, "tokenizer.type", FALSE, problems);
  typed_member (m, "tokenizer.max_length", TRUE, problems);
  typed_member (m, "tokenizer.offset", TRUE, problems);
  m->tokenizer_type = g_strdup (kling_manifest_get_string (m,
          "tokenizer.type", NULL));
  m->tokenizer_max_length = kling_manifest_get_int (m, "tokenizer.max_length",
      64);
  m->tokenizer_offset = kling_manifest_get_int (m, "tokenizer.offset", 0);
  if (m->tokenizer_type && strcmp (m->tokenizer_type, "utf8-bytes") != 0)
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": tokenizer \"%s\" is not supported; "
            "this gst-kling has \"utf8-bytes\"", m->model, m->tokenizer_type));
  if (m->tokenizer_type && (m->tokenizer_max_length < 1
          || m->tokenizer_max_length > 65536))
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field "
            "`tokenizer.max_length` must be 1 to 65536", m->model));

  if (!fail_with_problems (problems, error)) {
    kling_manifest_free (m);
    return NULL;
  }
  return m;
}

void
kling_manifest_free (KlingManifest * m)
{
  if (m == NULL)
    return;
  g_free (m->model);
  g_free (m->name);
  g_free (m->task);
  g_free (m->description);
  g_strfreev (m->methods);
  g_free (m->input_channels);
  g_free (m->output_format);
  g_strfreev (m->labels);
  g_free (m->tokenizer_type);
  if (m->root)
    json_node_unref (m->root);
  g_free (m);
}

static gboolean
has_method (const KlingMethodInfo * methods, guint n, const gchar * name)
{
  guint i;

  for (i = 0; i < n; i++)
    if (strcmp (methods[i].name, name) == 0)
      return TRUE;
  return FALSE;
}

gboolean
kling_manifest_check_task (const KlingManifest * m, const gchar * task,
    const KlingMethodInfo * methods, guint n_methods, gboolean labels_given,
    GError ** error)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  const KlingTaskNeeds *needs = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (task_needs); i++)
    if (strcmp (task_needs[i].task, task) == 0)
      needs = &task_needs[i];
  g_return_val_if_fail (needs != NULL, FALSE);

  if (g_strcmp0 (m->task, task) != 0) {
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\" is for task `%s`, but this element "
            "needs a `%s` model", m->model, m->task, task));
  }
  for (i = 0; i < G_N_ELEMENTS (needs->methods) && needs->methods[i]; i++) {
    if (!has_method (methods, n_methods, needs->methods[i]))
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\" has no method `%s`, which task `%s` "
              "needs", m->model, needs->methods[i], task));
  }
  for (i = 0; m->methods && m->methods[i]; i++) {
    if (!has_method (methods, n_methods, m->methods[i]))
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": its manifest lists method `%s`, "
              "which the TorchScript archive does not have", m->model,
              m->methods[i]));
  }
  for (i = 0; i < G_N_ELEMENTS (needs->fields) && needs->fields[i]; i++) {
    if (!kling_manifest_lookup (m, needs->fields[i]))
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `%s` is missing; "
              "task `%s` needs it", m->model, needs->fields[i], task));
  }
  if (strcmp (task, "detect") == 0) {
    if (m->output_format && !g_strv_contains ((const gchar *[]) {
                "yolov8", "yolov5", "torchvision", NULL}, m->output_format))
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": output format \"%s\" is not "
              "supported; use yolov8, yolov5 or torchvision", m->model,
              m->output_format));
    if (!labels_given && (m->labels == NULL || m->labels[0] == NULL))
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `labels` is missing; "
              "task `detect` needs it (or set labels-file)", m->model));
  }
  return fail_with_problems (problems, error);
}

KlingModel *
kling_package_load (const gchar * path, const gchar * task,
    const KlingLoadOptions * options, gboolean labels_given,
    KlingManifest ** manifest_out, GError ** error)
{
  static const gchar *extra[] = { KLING_MANIFEST_FILE, NULL };
  gboolean has_manifest = FALSE;
  KlingManifest *manifest;
  KlingModel *model;
  const KlingMethodInfo *methods;
  const gchar *json;
  gsize len = 0;
  guint n;

  if (!kling_archive_has_entry (path, "/extra/" KLING_MANIFEST_FILE,
          &has_manifest, error))
    return NULL;
  if (!has_manifest) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "model \"%s\" has no " KLING_MANIFEST_FILE " manifest; wrap it with "
        "models/kling-wrap.py (" SEE_DOCS ")", path);
    return NULL;
  }
  model = kling_model_load (path, options, extra, error);
  if (model == NULL)
    return NULL;

  json = kling_model_get_extra_file (model, KLING_MANIFEST_FILE, &len);
  manifest = kling_manifest_parse (json, len, path, error);
  methods = kling_model_list_methods (model, &n);
  if (manifest == NULL || !kling_manifest_check_task (manifest, task, methods,
          n, labels_given, error)) {
    kling_manifest_free (manifest);
    kling_model_free (model);
    return NULL;
  }
  if (manifest_out)
    *manifest_out = manifest;
  else
    kling_manifest_free (manifest);
  return model;
}

gchar *
kling_package_find_default (const gchar * file_name)
{
  const gchar *env = g_getenv ("GST_KLING_MODEL_PATH");
  gchar *found = NULL;

  if (env && *env) {
    gchar **dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
    guint i;

    for (i = 0; dirs[i] && !found; i++) {
      gchar *p = g_build_filename (dirs[i], file_name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        found = p;
      else
        g_free (p);
    }
    g_strfreev (dirs);
  }
  if (!found) {
    gchar *p = g_build_filename (KLING_MODEL_DIR, file_name, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
      found = p;
    else
      g_free (p);
  }
  return found;
}
