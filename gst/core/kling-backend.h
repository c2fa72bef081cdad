/* gst-kling: inference backend API
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain C: the elements talk to a model only through this header.  The
 * implementation behind it is a loadable module (ext/torch/ for libtorch)
 * opened the first time an element starts, so that registering the plugin
 * or running gst-inspect-1.0 never loads an inference runtime.
 */
#ifndef __KLING_BACKEND_H__
#define __KLING_BACKEND_H__

#include <glib.h>
#include <gio/gio.h>
#include "kling-backend-error.h"

G_BEGIN_DECLS


typedef enum
{
  KLING_DTYPE_FLOAT32,
  KLING_DTYPE_FLOAT16,
  KLING_DTYPE_BFLOAT16,
  KLING_DTYPE_UINT8,
  KLING_DTYPE_INT64
} KlingDType;

#define KLING_TENSOR_MAX_DIMS 8

/* A view of memory the caller owns: shape and strides (in elements, not
 * bytes) describe it, so a packed RGB frame is wrapped as NCHW with
 * channels-last strides without a copy.  The memory must stay valid and
 * unchanged for the duration of the call. */
typedef struct
{
  KlingDType dtype;
  guint n_dims;
  gint64 shape[KLING_TENSOR_MAX_DIMS];
  gint64 strides[KLING_TENSOR_MAX_DIMS];
  gpointer data;
} KlingTensor;

/* Outputs are flattened: a tensor result is "0"; a tuple or list gives
 * "0", "1", …; a dict gives its keys; nesting joins with '.', so a
 * torchvision detector's list of dicts gives "0.boxes", "0.scores", …
 * Output tensors are contiguous CPU memory owned by the KlingOutputs. */
typedef struct _KlingOutputs KlingOutputs;
typedef struct _KlingModel KlingModel;

typedef enum
{
  KLING_PRECISION_FLOAT32,
  KLING_PRECISION_FLOAT16,
  KLING_PRECISION_BFLOAT16
} KlingPrecision;

typedef struct
{
  const gchar *device;          /* "cpu" (default when NULL), "cuda", "cuda:N" */
  KlingPrecision precision;     /* floating point parameters and inputs */
  gint threads;                 /* intra-op threads; <= 0: number of cores */
} KlingLoadOptions;

typedef struct
{
  const gchar *name;
  gint n_args;                  /* arguments, not counting self */
} KlingMethodInfo;

/* Module entry points.  Only kling-backend.c calls these; everybody else
 * uses the kling_model_* functions below.  Every function catches what the
 * runtime throws and returns it as a GError. */
#define KLING_BACKEND_ABI_VERSION 1
typedef struct
{
  guint abi_version;
  const gchar *name;            /* "libtorch 1.13.1 (cpu)" */
  KlingModel *(*load) (const gchar * path, const KlingLoadOptions * options,
      const gchar * const *extra_files, GError ** error);
  void (*free) (KlingModel * model);
  const gchar *(*get_extra_file) (KlingModel * model, const gchar * name,
      gsize * length);
  const KlingMethodInfo *(*list_methods) (KlingModel * model, guint * n);
  KlingOutputs *(*call) (KlingModel * model, const gchar * method,
      const KlingTensor * inputs, guint n_inputs, GError ** error);
  guint (*outputs_count) (KlingOutputs * outputs);
  const gchar *(*outputs_name) (KlingOutputs * outputs, guint index);
  const KlingTensor *(*outputs_tensor) (KlingOutputs * outputs, guint index);
  void (*outputs_free) (KlingOutputs * outputs);
  gint (*get_threads) (void);
  gboolean (*device_available) (const gchar * device, GError ** error);
} KlingBackendVTable;

typedef const KlingBackendVTable *(*KlingBackendGetFunc) (guint abi_version);
#define KLING_BACKEND_ENTRY_POINT "kling_backend_get_vtable"

/* The C API. */
gboolean kling_backend_ensure (GError ** error);
const gchar *kling_backend_name (void);

KlingModel *kling_model_load (const gchar * path,
    const KlingLoadOptions * options, const gchar * const *extra_files,
    GError ** error);
void kling_model_free (KlingModel * model);
const gchar *kling_model_get_extra_file (KlingModel * model,
    const gchar * name, gsize * length);
const KlingMethodInfo *kling_model_list_methods (KlingModel * model,
    guint * n_methods);
gint kling_model_method_n_args (KlingModel * model, const gchar * method);

/* Runs @method.  Returns NULL with @error set when the call fails or
 * @cancellable was cancelled before it started (G_IO_ERROR_CANCELLED);
 * a sequence of calls (a sampler loop) is thus stopped between calls. */
KlingOutputs *kling_model_call (KlingModel * model, const gchar * method,
    const KlingTensor * inputs, guint n_inputs, GCancellable * cancellable,
    GError ** error);

guint kling_outputs_count (KlingOutputs * outputs);
const gchar *kling_outputs_name (KlingOutputs * outputs, guint index);
const KlingTensor *kling_outputs_get (KlingOutputs * outputs, guint index);
const KlingTensor *kling_outputs_lookup (KlingOutputs * outputs,
    const gchar * name);
void kling_outputs_free (KlingOutputs * outputs);

/* Checks that output @name has @dtype and @n_dims dims with @shape (-1 in
 * @shape matches any size).  The error names the method, the output, what
 * was expected and what came. */
const KlingTensor *kling_outputs_expect (KlingOutputs * outputs,
    const gchar * method, const gchar * name, KlingDType dtype, guint n_dims,
    const gint64 * shape, GError ** error);

gboolean kling_device_available (const gchar * device, GError ** error);
gint kling_backend_get_threads (void);

/* Helpers for callers. */
gsize kling_dtype_size (KlingDType dtype);
const gchar *kling_dtype_name (KlingDType dtype);
void kling_tensor_init_contiguous (KlingTensor * tensor, KlingDType dtype,
    gpointer data, guint n_dims, const gint64 * shape);
/* A packed interleaved image as a [1, @channels, H, W] tensor with
 * channels-last strides: @pixel_stride values of @dtype per pixel (4 for
 * RGBx, of which @channels = 3 are used), rows @row_stride_bytes apart. */
gboolean kling_tensor_init_packed_image (KlingTensor * tensor,
    KlingDType dtype, gpointer data, gint width, gint height, gint channels,
    gint pixel_stride, gsize row_stride_bytes);
gint64 kling_tensor_n_elements (const KlingTensor * tensor);
gchar *kling_tensor_describe_shape (const KlingTensor * tensor);

G_END_DECLS

#endif /* __KLING_BACKEND_H__ */
