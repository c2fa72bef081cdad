/* gst-kling: model package manifests (kling.json)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include "kling-manifest.h"
#include "kling-archive.h"
#include "kling-mel.h"

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
  /* talking-head: every field has a default (Wav2Lip's layout) */
  {"talking-head", {"forward"}, {NULL}},
  /* klingspeak's model engine (ext/speak/kling-speech-model.c) */
  {"speech", {"synthesize"}, {"audio.rate", "tokenizer.type"}},
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

/* A JSON number as an integer: out-of-range doubles saturate (a cast would
 * be undefined), NaN gives @fallback. */
static gint64
double_to_int (gdouble d, gint64 fallback)
{
  if (isnan (d))
    return fallback;
  if (d >= 9223372036854775807.0)
    return G_MAXINT64;
  if (d <= -9223372036854775808.0)
    return G_MININT64;
  return (gint64) d;
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
  return double_to_int (json_node_get_double (node), fallback);
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

/* A manifest of @size bytes is within KLING_MANIFEST_MAX_SIZE, or @error
 * says it is not. */
static gboolean
manifest_size_ok (const gchar * model, guint64 size, GError ** error)
{
  if (size <= KLING_MANIFEST_MAX_SIZE)
    return TRUE;
  g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
      "model \"%s\": its " KLING_MANIFEST_FILE " is %" G_GUINT64_FORMAT
      " bytes, more than the %d a manifest may have (" SEE_DOCS ")", model,
      size, KLING_MANIFEST_MAX_SIZE);
  return FALSE;
}

/* The deepest nesting of objects and arrays in @json, stopping as soon as
 * it passes @max (json-glib recurses once per level and a deep enough
 * document overflows the stack).  Brackets inside strings do not count. */
static guint
nesting_depth (const gchar * json, gsize len, guint max, gsize * where)
{
  gboolean in_string = FALSE, escaped = FALSE;
  guint depth = 0, deepest = 0;
  gsize i;

  for (i = 0; i < len; i++) {
    gchar c = json[i];

    if (in_string) {
      if (escaped)
        escaped = FALSE;
      else if (c == '\\')
        escaped = TRUE;
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    switch (c) {
      case '"':
        in_string = TRUE;
        break;
      case '{':
      case '[':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > max) {
            *where = i;
            return deepest;
          }
        }
        break;
      case '}':
      case ']':
        if (depth > 0)
          depth--;
        break;
      default:
        break;
    }
  }
  return deepest;
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
  gint64 v, w, h;
  gsize len, where = 0;

  if (json == NULL) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "model \"%s\" has no " KLING_MANIFEST_FILE " manifest; wrap it with "
        "models/kling-wrap.py (" SEE_DOCS ")", model);
    return NULL;
  }
  len = length < 0 ? strlen (json) : (gsize) length;
  if (!manifest_size_ok (model, len, error))
    return NULL;
  if (nesting_depth (json, len, KLING_MANIFEST_MAX_DEPTH, &where) >
      KLING_MANIFEST_MAX_DEPTH) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "model \"%s\": its " KLING_MANIFEST_FILE " nests objects and arrays "
        "more than %d levels deep (at byte %" G_GSIZE_FORMAT "); a manifest "
        "is a few levels deep (" SEE_DOCS ")", model, KLING_MANIFEST_MAX_DEPTH,
        where);
    return NULL;
  }
  if (!json_parser_load_from_data (parser, json, len, &json_error)) {
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
  /* read wide: a width of 2^32 + 8 must not pass as 8 */
  w = kling_manifest_get_int (m, "input.width", 0);
  h = kling_manifest_get_int (m, "input.height", 0);
  if (kling_manifest_lookup (m, "input.width")
      && (w < 1 || w > 16384 || h < 1 || h > 16384)) {
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest input size %" G_GINT64_FORMAT
            "x%" G_GINT64_FORMAT " is out of range (1 to 16384 pixels each)",
            m->model, w, h));
  } else if (kling_manifest_lookup (m, "input.width")) {
    m->input_width = w;
    m->input_height = h;
  }
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
  v = kling_manifest_get_int (m, "tokenizer.max_length", 64);
  m->tokenizer_max_length = CLAMP (v, 0, 65537);
  v = kling_manifest_get_int (m, "tokenizer.offset", 0);
  if (v < 0 || v > KLING_MANIFEST_MAX_VOCAB)
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `tokenizer.offset` is "
            "%" G_GINT64_FORMAT "; it must be 0 to %d", m->model, v,
            KLING_MANIFEST_MAX_VOCAB));
  else
    m->tokenizer_offset = v;
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

/* An integer member in [@lo, @hi]; @fallback when absent (and not
 * @required).  FALSE, with the problem listed, otherwise. */
static gboolean
int_field (const KlingManifest * m, const gchar * path, gboolean required,
    gint64 fallback, gint64 lo, gint64 hi, gint64 * out, GPtrArray * problems)
{
  JsonNode *node = kling_manifest_lookup (m, path);
  gdouble d;

  *out = fallback;
  if (node == NULL) {
    if (required)
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `%s` is missing",
              m->model, path));
    return !required;
  }
  if (!is_number (node)) {
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `%s` is %s, expected "
            "a whole number", m->model, path, node_kind (node)));
    return FALSE;
  }
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE) {
    d = json_node_get_double (node);
    if (d != floor (d)) {
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `%s` is %g, "
              "expected a whole number", m->model, path, d));
      return FALSE;
    }
  }
  *out = kling_manifest_get_int (m, path, fallback);
  if (*out < lo || *out > hi) {
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `%s` is %"
            G_GINT64_FORMAT "; it must be %" G_GINT64_FORMAT " to %"
            G_GINT64_FORMAT, m->model, path, *out, lo, hi));
    *out = fallback;
    return FALSE;
  }
  return TRUE;
}

/* Checks that a tensor of @n_dims @dims (named by @fields, the manifest
 * fields they come from) stays within KLING_MANIFEST_MAX_ELEMENTS values.
 * The product is overflow-checked. */
static void
check_elements (const KlingManifest * m, const gchar * what,
    const gchar * fields, const gint64 * dims, guint n_dims,
    GPtrArray * problems)
{
  GString *shape = g_string_new (NULL);
  guint64 total = 1;
  gboolean overflow = FALSE;
  guint i;

  for (i = 0; i < n_dims; i++) {
    g_string_append_printf (shape, "%s%" G_GINT64_FORMAT, i ? " x " : "",
        dims[i]);
    if (dims[i] < 0 || !g_uint64_checked_mul (&total, total, dims[i]))
      overflow = TRUE;
  }
  if (overflow || total > KLING_MANIFEST_MAX_ELEMENTS) {
    gchar *count = overflow ? g_strdup ("more than 2^64") :
        g_strdup_printf ("%" G_GUINT64_FORMAT, total);

    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": %s (%s: %s) would hold %s values, "
            "more than the limit of %" G_GUINT64_FORMAT " values per tensor "
            "(KLING_MANIFEST_MAX_ELEMENTS); this gst-kling cannot run a model "
            "that large", m->model, what, fields, shape->str, count,
            KLING_MANIFEST_MAX_ELEMENTS));
    g_free (count);
  }
  g_string_free (shape, TRUE);
}

/* Task `talking-head` (klinghost): the mel parameters, the face size,
 * mask and default box, the batch, and the two inputs' sizes. */
static void
check_talking_head (const KlingManifest * m, GPtrArray * problems)
{
  KlingMelParams mel;
  GError *error = NULL;
  gint64 fw, fh, batch;
  gboolean ok = TRUE;
  JsonNode *node;

  if (!kling_mel_params_from_manifest (&mel, m, &error)) {
    g_ptr_array_add (problems, g_strdup (error->message));
    g_clear_error (&error);
    ok = FALSE;
  }
  ok &= int_field (m, "face.width", FALSE, 96, 8, 1024, &fw, problems);
  ok &= int_field (m, "face.height", FALSE, 96, 8, 1024, &fh, problems);
  ok &= int_field (m, "batch", FALSE, 4, 1, 64, &batch, problems);
  node = kling_manifest_lookup (m, "face.mask");
  if (node && (!is_number (node) || json_node_get_double (node) < 0
          || json_node_get_double (node) > 1))
    g_ptr_array_add (problems,
        g_strdup_printf ("model \"%s\": manifest field `face.mask` must be a "
            "number from 0 to 1 (where the masked lower part of the face "
            "starts, as a fraction of its height)", m->model));
  node = kling_manifest_lookup (m, "face.box");
  if (node) {
    gboolean good = JSON_NODE_HOLDS_ARRAY (node)
        && json_array_get_length (json_node_get_array (node)) == 4;
    gdouble b[4] = { 0 };
    guint i;

    for (i = 0; good && i < 4; i++) {
      JsonNode *e = json_array_get_element (json_node_get_array (node), i);

      good = is_number (e);
      if (good)
        b[i] = json_node_get_double (e);
      good = good && b[i] >= 0 && b[i] <= 1;
    }
    if (!good || b[2] <= 0 || b[3] <= 0 || b[0] + b[2] > 1 + 1e-9
        || b[1] + b[3] > 1 + 1e-9)
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `face.box` must be "
              "[x, y, width, height] as fractions of the portrait, inside "
              "it, width and height above 0", m->model));
  }
  if (ok) {
    gint64 face[4] = { batch, 6, fh, fw };
    gint64 bands[4] = { batch, 1, mel.n_mels, mel.frames };

    check_elements (m, "the face input", "`batch` x 6 x `face.height` x "
        "`face.width`", face, 4, problems);
    check_elements (m, "the mel input", "`batch` x 1 x `mel.bands` x "
        "`mel.frames`", bands, 4, problems);
  }
}

/* The sizes each task's core allocates from the manifest (kling-gen.c,
 * kling-textgen.c, the detector input), bounded. */
static void
check_limits (const KlingManifest * m, const gchar * task, GPtrArray * problems)
{
  gint64 c, t, lh, lw, w, h, v, vocab, offset;
  gboolean ok = TRUE;

  if (strcmp (task, "detect") == 0 || strcmp (task, "copywrite") == 0) {
    gint64 channels = g_strcmp0 (m->input_channels, "GRAY") == 0 ? 1 : 3;
    gint64 dims[4] = { 1, channels, m->input_height, m->input_width };

    if (m->input_width > 0)
      check_elements (m, "the model input", "`input.width` x `input.height`",
          dims, 4, problems);
  }
  if (strcmp (task, "detect") == 0)
    int_field (m, "output.label_offset", FALSE, 0, -KLING_MANIFEST_MAX_VOCAB,
        KLING_MANIFEST_MAX_VOCAB, &v, problems);

  if (strcmp (task, "copywrite") == 0) {
    if (int_field (m, "tokenizer.vocab", FALSE, 258, 2,
            KLING_MANIFEST_MAX_VOCAB, &vocab, problems)) {
      offset = m->tokenizer_offset;
      if (offset + 256 > vocab)
        g_ptr_array_add (problems,
            g_strdup_printf ("model \"%s\": manifest field "
                "`tokenizer.offset` (%" G_GINT64_FORMAT ") + 256 byte tokens "
                "do not fit `tokenizer.vocab` (%" G_GINT64_FORMAT ")",
                m->model, offset, vocab));
      int_field (m, "tokenizer.bos", FALSE, 256, 0, vocab - 1, &v, problems);
      int_field (m, "tokenizer.eos", FALSE, 257, 0, vocab - 1, &v, problems);
    }
    int_field (m, "defaults.top_k", FALSE, 1, 0, KLING_MANIFEST_MAX_TOP_K, &v,
        problems);
  }

  if (strcmp (task, "video") == 0 || strcmp (task, "poster") == 0) {
    ok &= int_field (m, "latent.channels", TRUE, 0, 1, 64, &c, problems);
    ok &= int_field (m, "latent.frames", FALSE, 1, 1, 1024, &t, problems);
    ok &= int_field (m, "latent.height", TRUE, 0, 1, 1024, &lh, problems);
    ok &= int_field (m, "latent.width", TRUE, 0, 1, 1024, &lw, problems);
    if (ok) {
      /* the denoise call's conditioning: both guidance rows, C + 1 */
      gint64 dims[5] = { 2, c + 1, t, lh, lw };
      check_elements (m, "the denoiser's batched conditioning input",
          "2 x (`latent.channels` + 1) x `latent.frames` x `latent.height` "
          "x `latent.width`", dims, 5, problems);
    }
    ok &= int_field (m, "size.width", TRUE, 0, 1, 8192, &w, problems);
    ok &= int_field (m, "size.height", TRUE, 0, 1, 8192, &h, problems);
    if (ok) {
      /* decode's output, float32 [1, T, H, W, 3], and the frames buffer */
      gint64 dims[4] = { t, h, w, 3 };
      check_elements (m, "a chunk of decoded frames",
          "`latent.frames` x `size.height` x `size.width` x 3", dims, 4,
          problems);
    }
    int_field (m, "fps", FALSE, 8, 1, 240, &v, problems);
    if (int_field (m, "context_frames", FALSE, 0, 0, 1023, &v, problems)
        && ok && v >= t)
      g_ptr_array_add (problems,
          g_strdup_printf ("model \"%s\": manifest field `context_frames` "
              "(%" G_GINT64_FORMAT ") must be less than `latent.frames` (%"
              G_GINT64_FORMAT ")", m->model, v, t));
    int_field (m, "schedule.train_steps", FALSE, 1000, 2,
        KLING_MANIFEST_MAX_TRAIN_STEPS, &v, problems);
    int_field (m, "tokenizer.pad", FALSE, 0, 0, KLING_MANIFEST_MAX_VOCAB, &v,
        problems);
  }

  if (strcmp (task, "talking-head") == 0)
    check_talking_head (m, problems);
  if (strcmp (task, "speech") == 0) {
    int_field (m, "audio.rate", TRUE, 0, 8000, 192000, &v, problems);
    int_field (m, "tokenizer.max_length", FALSE, 256, 8, 4096, &v, problems);
    int_field (m, "defaults.speaker", FALSE, 0, 0, G_MAXINT32, &v, problems);
  }
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
  check_limits (m, task, problems);
  return fail_with_problems (problems, error);
}

KlingModel *
kling_package_load (const gchar * path, const gchar * task,
    const KlingLoadOptions * options, gboolean labels_given,
    KlingManifest ** manifest_out, GError ** error)
{
  static const gchar *extra[] = { KLING_MANIFEST_FILE, NULL };
  gboolean has_manifest = FALSE;
  guint64 manifest_size = 0;
  KlingManifest *manifest;
  KlingModel *model;
  const KlingMethodInfo *methods;
  const gchar *json;
  gsize len = 0;
  guint n;

  if (!kling_archive_find_entry (path, "/extra/" KLING_MANIFEST_FILE,
          &has_manifest, &manifest_size, error))
    return NULL;
  if (!has_manifest) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "model \"%s\" has no " KLING_MANIFEST_FILE " manifest; wrap it with "
        "models/kling-wrap.py (" SEE_DOCS ")", path);
    return NULL;
  }
  /* libtorch reads extra files whole: refuse a huge one before it does */
  if (!manifest_size_ok (path, manifest_size, error))
    return NULL;
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
