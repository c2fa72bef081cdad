/* gst-kling: inference backend API
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gmodule.h>
#include <gst/gst.h>

#include "kling-backend.h"
#include "kling-archive.h"
#include "kling-model-cache.h"

G_DEFINE_QUARK (kling-backend-error-quark, kling_backend_error);

/* The backend's own log lines (GST_DEBUG=klingbackend:5): the module and
 * its runtime, each load with its device, precision, threads and time,
 * and at LOG level each call with its inputs' shapes and its time, as
 * onnxinference logs to `onnxruntime`. */
GST_DEBUG_CATEGORY_STATIC (kling_backend_debug);
#define GST_CAT_DEFAULT kling_backend_debug

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (kling_backend_debug, "klingbackend", 0,
        "gst-kling inference backend");
    g_once_init_leave (&done, 1);
  }
}

/* for the log: callers may pass no GError */
static const gchar *
error_text (GError ** error)
{
  return error && *error ? (*error)->message : "(error not asked for)";
}

static const gchar *
precision_name (KlingPrecision precision)
{
  switch (precision) {
    case KLING_PRECISION_FLOAT32:
      return "float32";
    case KLING_PRECISION_FLOAT16:
      return "float16";
    case KLING_PRECISION_BFLOAT16:
      return "bfloat16";
  }
  return "unknown";
}

static GMutex backend_lock;
static const KlingBackendVTable *backend;

static gchar *
backend_module_path (void)
{
  const gchar *env = g_getenv ("GST_KLING_BACKEND");

  if (env && *env)
    return g_strdup (env);
  return g_build_filename (KLING_BACKEND_DIR, KLING_BACKEND_MODULE, NULL);
}

/* libtorch's OpenMP workers spin for a while after every parallel region
 * (libgomp's default).  In a pipeline they spin against GStreamer's
 * streaming threads and OpenBLAS's: on 2 cores one detector call went from
 * a median of 17.2 ms, varying 0.3-1.8x between runs, to 11.6 ms (0.8-1.2x)
 * with passive waiting.  libgomp reads the policy once, when it is loaded,
 * and it is loaded with the backend: so set it, unless the user chose one,
 * just before that.  This runs once, under backend_lock, before any libtorch
 * thread exists.  If something else already loaded libgomp it has no
 * effect. */
static void
prefer_passive_openmp_waiting (void)
{
  if (g_getenv ("OMP_WAIT_POLICY") == NULL
      && g_getenv ("GOMP_SPINCOUNT") == NULL)
    g_setenv ("OMP_WAIT_POLICY", "PASSIVE", FALSE);
}

/* Opens the backend module the first time a model is needed.  The module
 * stays resident: libtorch cannot be unloaded safely. */
gboolean
kling_backend_ensure (GError ** error)
{
  gboolean ok = TRUE;

  debug_init ();
  g_mutex_lock (&backend_lock);
  if (backend == NULL) {
    gchar *path = backend_module_path ();
    GModule *module;
    KlingBackendGetFunc get = NULL;
    gint64 start = g_get_monotonic_time ();

    prefer_passive_openmp_waiting ();
    GST_INFO ("opening the backend module %s (OMP_WAIT_POLICY=%s)", path,
        GST_STR_NULL (g_getenv ("OMP_WAIT_POLICY")));
    module = g_module_open (path, G_MODULE_BIND_LOCAL);

    if (module == NULL) {
      g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_NOT_FOUND,
          "could not open the inference backend %s: %s; reinstall gst-kling "
          "or point GST_KLING_BACKEND at libkling-torch.so", path,
          g_module_error ());
      ok = FALSE;
    } else if (!g_module_symbol (module, KLING_BACKEND_ENTRY_POINT,
            (gpointer *) & get) || get == NULL
        || (backend = get (KLING_BACKEND_ABI_VERSION)) == NULL) {
      g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_NOT_FOUND,
          "%s is not a gst-kling backend of ABI version %d; it belongs to "
          "another gst-kling version", path, KLING_BACKEND_ABI_VERSION);
      g_module_close (module);
      ok = FALSE;
    } else {
      g_module_make_resident (module);
      GST_INFO ("backend %s from %s, opened in %.1f ms; %d intra-op threads "
          "by default", backend->name, path,
          (g_get_monotonic_time () - start) / 1000.0, backend->get_threads ());
    }
    if (!ok)
      GST_DEBUG ("%s", error_text (error));
    g_free (path);
  }
  g_mutex_unlock (&backend_lock);
  return ok;
}

const gchar *
kling_backend_name (void)
{
  return backend ? backend->name : NULL;
}

static KlingModel *
model_load (const gchar * path, const KlingLoadOptions * options,
    const gchar * const *extra_files, GError ** error)
{
  KlingModel *model;
  gint64 start;

  debug_init ();
  if (!kling_archive_check (path, error)) {
    GST_DEBUG ("%s", error_text (error));
    return NULL;
  }
  if (!kling_backend_ensure (error))
    return NULL;
  GST_INFO ("loading %s on %s, %s, threads %d%s", path,
      options && options->device ? options->device : "cpu",
      precision_name (options ? options->precision : KLING_PRECISION_FLOAT32),
      options ? options->threads : 0, options && options->threads > 0 ? "" :
      " (one per core)");
  start = g_get_monotonic_time ();
  model = backend->load (path, options, extra_files, error);
  if (model == NULL) {
    GST_DEBUG ("loading %s failed: %s", path, error_text (error));
    return NULL;
  }
  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_INFO) {
    const KlingMethodInfo *methods;
    GString *names = g_string_new (NULL);
    guint i, n;

    methods = backend->list_methods (model, &n);
    for (i = 0; i < n; i++)
      g_string_append_printf (names, "%s%s(%d)", i ? ", " : "",
          methods[i].name, methods[i].n_args);
    GST_INFO ("loaded %s in %.1f ms (%s): %s", path,
        (g_get_monotonic_time () - start) / 1000.0, backend->name, names->str);
    g_string_free (names, TRUE);
  }
  return model;
}

KlingModel *
kling_model_load (const gchar * path, const KlingLoadOptions * options,
    const gchar * const *extra_files, GError ** error)
{
  g_return_val_if_fail (path != NULL, NULL);

  /* GST_KLING_SHARE_MODELS=1: one copy per process (kling-model-cache.h) */
  if (kling_model_cache_enabled ())
    return kling_model_cache_load (path, options, extra_files, model_load,
        error);
  return model_load (path, options, extra_files, error);
}

void
kling_model_free (KlingModel * model)
{
  if (model && !kling_model_cache_release (model)) {
    GST_DEBUG ("freeing model %p", model);
    backend->free (model);
  }
}

const gchar *
kling_model_get_extra_file (KlingModel * model, const gchar * name,
    gsize * length)
{
  gsize unused;

  return backend->get_extra_file (model, name, length ? length : &unused);
}

const KlingMethodInfo *
kling_model_list_methods (KlingModel * model, guint * n_methods)
{
  return backend->list_methods (model, n_methods);
}

gint
kling_model_method_n_args (KlingModel * model, const gchar * method)
{
  guint i, n;
  const KlingMethodInfo *methods = backend->list_methods (model, &n);

  for (i = 0; i < n; i++)
    if (strcmp (methods[i].name, method) == 0)
      return methods[i].n_args;
  return -1;
}

KlingOutputs *
kling_model_call (KlingModel * model, const gchar * method,
    const KlingTensor * inputs, guint n_inputs, GCancellable * cancellable,
    GError ** error)
{
  KlingOutputs *out;
  gint64 start;

  g_return_val_if_fail (model != NULL && method != NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
    GST_DEBUG ("method `%s` not called: cancelled", method);
    return NULL;
  }
  start = g_get_monotonic_time ();
  out = backend->call (model, method, inputs, n_inputs, error);
  if (out == NULL) {
    GST_DEBUG ("method `%s` failed after %.3f ms: %s", method,
        (g_get_monotonic_time () - start) / 1000.0, error_text (error));
  } else if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >=
      GST_LEVEL_LOG) {
    gdouble ms = (g_get_monotonic_time () - start) / 1000.0;
    GString *shapes = g_string_new (NULL);
    guint i;

    for (i = 0; i < n_inputs; i++) {
      gchar *shape = kling_tensor_describe_shape (&inputs[i]);
      g_string_append_printf (shapes, "%s%s", i ? ", " : "", shape);
      g_free (shape);
    }
    GST_LOG ("method `%s` (%s): %.3f ms, %u outputs", method, shapes->str,
        ms, backend->outputs_count (out));
    g_string_free (shapes, TRUE);
  }
  return out;
}

guint
kling_outputs_count (KlingOutputs * outputs)
{
  return backend->outputs_count (outputs);
}

const gchar *
kling_outputs_name (KlingOutputs * outputs, guint index)
{
  return backend->outputs_name (outputs, index);
}

const KlingTensor *
kling_outputs_get (KlingOutputs * outputs, guint index)
{
  return backend->outputs_tensor (outputs, index);
}

const KlingTensor *
kling_outputs_lookup (KlingOutputs * outputs, const gchar * name)
{
  guint i, n = backend->outputs_count (outputs);

  for (i = 0; i < n; i++)
    if (strcmp (backend->outputs_name (outputs, i), name) == 0)
      return backend->outputs_tensor (outputs, i);
  return NULL;
}

void
kling_outputs_free (KlingOutputs * outputs)
{
  if (outputs)
    backend->outputs_free (outputs);
}

static gchar *
describe_expected (KlingDType dtype, guint n_dims, const gint64 * shape)
{
  GString *s = g_string_new (kling_dtype_name (dtype));
  guint d;

  g_string_append_c (s, '[');
  for (d = 0; d < n_dims; d++) {
    if (d)
      g_string_append (s, ", ");
    if (shape && shape[d] >= 0)
      g_string_append_printf (s, "%" G_GINT64_FORMAT, shape[d]);
    else
      g_string_append_c (s, '*');
  }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

const KlingTensor *
kling_outputs_expect (KlingOutputs * outputs, const gchar * method,
    const gchar * name, KlingDType dtype, guint n_dims, const gint64 * shape,
    GError ** error)
{
  const KlingTensor *t = kling_outputs_lookup (outputs, name);
  gboolean match;
  guint d;

  if (t == NULL) {
    GString *have = g_string_new (NULL);
    guint i, n = kling_outputs_count (outputs);

    for (i = 0; i < n; i++)
      g_string_append_printf (have, "%s%s", i ? ", " : "",
          kling_outputs_name (outputs, i));
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
        "method `%s` returned no output \"%s\" (it returned: %s)", method,
        name, n ? have->str : "nothing");
    g_string_free (have, TRUE);
    return NULL;
  }

  match = t->dtype == dtype && t->n_dims == n_dims;
  for (d = 0; match && shape && d < n_dims; d++)
    if (shape[d] >= 0 && shape[d] != t->shape[d])
      match = FALSE;
  if (!match) {
    gchar *want = describe_expected (dtype, n_dims, shape);
    gchar *got = kling_tensor_describe_shape (t);

    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
        "method `%s` output \"%s\" is %s, expected %s", method, name, got,
        want);
    g_free (want);
    g_free (got);
    return NULL;
  }
  return t;
}

gboolean
kling_device_available (const gchar * device, GError ** error)
{
  gboolean ok;

  if (!kling_backend_ensure (error))
    return FALSE;
  ok = backend->device_available (device, error);
  GST_DEBUG ("device %s: %s", GST_STR_NULL (device),
      ok ? "available" : error_text (error));
  return ok;
}

gint
kling_backend_get_threads (void)
{
  return backend ? backend->get_threads () : 0;
}

gsize
kling_dtype_size (KlingDType dtype)
{
  switch (dtype) {
    case KLING_DTYPE_FLOAT32:
      return 4;
    case KLING_DTYPE_FLOAT16:
    case KLING_DTYPE_BFLOAT16:
      return 2;
    case KLING_DTYPE_UINT8:
      return 1;
    case KLING_DTYPE_INT64:
      return 8;
  }
  return 0;
}

const gchar *
kling_dtype_name (KlingDType dtype)
{
  static const gchar *names[] = {
    "float32", "float16", "bfloat16", "uint8", "int64"
  };

  if ((guint) dtype < G_N_ELEMENTS (names))
    return names[dtype];
  return "unknown";
}

void
kling_tensor_init_contiguous (KlingTensor * tensor, KlingDType dtype,
    gpointer data, guint n_dims, const gint64 * shape)
{
  gint64 stride = 1;
  gint d;

  g_return_if_fail (n_dims <= KLING_TENSOR_MAX_DIMS);

  memset (tensor, 0, sizeof (*tensor));
  tensor->dtype = dtype;
  tensor->n_dims = n_dims;
  tensor->data = data;
  for (d = (gint) n_dims - 1; d >= 0; d--) {
    tensor->shape[d] = shape[d];
    tensor->strides[d] = stride;
    stride *= MAX (shape[d], 1);
  }
}

gboolean
kling_tensor_init_packed_image (KlingTensor * tensor, KlingDType dtype,
    gpointer data, gint width, gint height, gint channels, gint pixel_stride,
    gsize row_stride_bytes)
{
  gsize elem = kling_dtype_size (dtype);

  if (width <= 0 || height <= 0 || channels <= 0 || pixel_stride < channels
      || row_stride_bytes % elem != 0
      || row_stride_bytes < (gsize) width * pixel_stride * elem)
    return FALSE;

  memset (tensor, 0, sizeof (*tensor));
  tensor->dtype = dtype;
  tensor->n_dims = 4;
  tensor->data = data;
  tensor->shape[0] = 1;
  tensor->shape[1] = channels;
  tensor->shape[2] = height;
  tensor->shape[3] = width;
  tensor->strides[0] = (gint64) (row_stride_bytes / elem) * height;
  tensor->strides[1] = 1;
  tensor->strides[2] = row_stride_bytes / elem;
  tensor->strides[3] = pixel_stride;
  return TRUE;
}

gint64
kling_tensor_n_elements (const KlingTensor * tensor)
{
  gint64 n = 1;
  guint d;

  for (d = 0; d < tensor->n_dims; d++)
    n *= tensor->shape[d];
  return n;
}

gchar *
kling_tensor_describe_shape (const KlingTensor * tensor)
{
  return describe_expected (tensor->dtype, tensor->n_dims, tensor->shape);
}
