/* gst-kling fuzzing: a backend module without libtorch, so the prompt path
 * of the generation core (kling_gen_encode_prompt) runs under the fuzzer
 * as the element runs it.  Its one method, `encode_prompt`, checks the
 * tokenizer's side of the contract (int64 ids and mask [2, L], mask 0 or
 * 1, padding where the mask is 0) and aborts when it is broken; it returns
 * ids * mask as float32 [2, L], the "embedding".
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <gmodule.h>
#include "kling-backend.h"

struct _KlingModel
{
  gint unused;
};

struct _KlingOutputs
{
  KlingTensor tensor;
  gfloat *values;
};

static const KlingMethodInfo fake_methods[] = { {"encode_prompt", 2} };

GQuark
kling_backend_error_quark (void)
{
  return g_quark_from_static_string ("kling-backend-error-quark");
}

static KlingModel *
fake_load (const gchar * path, const KlingLoadOptions * options,
    const gchar * const *extra_files, GError ** error)
{
  return g_new0 (KlingModel, 1);
}

static void
fake_free (KlingModel * model)
{
  g_free (model);
}

static const gchar *
fake_extra (KlingModel * model, const gchar * name, gsize * length)
{
  return NULL;
}

static const KlingMethodInfo *
fake_list (KlingModel * model, guint * n)
{
  *n = G_N_ELEMENTS (fake_methods);
  return fake_methods;
}

static KlingOutputs *
fake_call (KlingModel * model, const gchar * method, const KlingTensor * in,
    guint n_inputs, GError ** error)
{
  KlingOutputs *out;
  gint64 rows, len, i;
  const gint64 *ids, *mask;

  if (strcmp (method, "encode_prompt") != 0 || n_inputs != 2)
    abort ();
  if (in[0].dtype != KLING_DTYPE_INT64 || in[1].dtype != KLING_DTYPE_INT64
      || in[0].n_dims != 2 || in[1].n_dims != 2 || in[0].shape[0] != 2
      || in[0].shape[1] != in[1].shape[1] || in[1].shape[0] != 2
      || in[0].shape[1] < 1)
    abort ();
  rows = in[0].shape[0];
  len = in[0].shape[1];
  ids = in[0].data;
  mask = in[1].data;
  out = g_new0 (KlingOutputs, 1);
  out->values = g_new (gfloat, rows * len);
  for (i = 0; i < rows * len; i++) {
    if (mask[i] != 0 && mask[i] != 1)
      abort ();
    /* a token after padding within a row breaks the contract */
    if (i % len > 0 && mask[i] == 1 && mask[i - 1] == 0)
      abort ();
    out->values[i] = ids[i] * mask[i];
  }
  {
    gint64 shape[2] = { rows, len };
    kling_tensor_init_contiguous (&out->tensor, KLING_DTYPE_FLOAT32,
        out->values, 2, shape);
  }
  return out;
}

static guint
fake_count (KlingOutputs * o)
{
  return 1;
}

static const gchar *
fake_name (KlingOutputs * o, guint i)
{
  return i == 0 ? "0" : NULL;
}

static const KlingTensor *
fake_tensor (KlingOutputs * o, guint i)
{
  return i == 0 ? &o->tensor : NULL;
}

static void
fake_outputs_free (KlingOutputs * o)
{
  g_free (o->values);
  g_free (o);
}

static gint
fake_threads (void)
{
  return 1;
}

static gboolean
fake_device (const gchar * device, GError ** error)
{
  return TRUE;
}

/* kling_tensor_init_contiguous lives in the core, which the module does
 * not link; the same few lines. */
void
kling_tensor_init_contiguous (KlingTensor * t, KlingDType dtype,
    gpointer data, guint n_dims, const gint64 * shape)
{
  gint64 stride = 1;
  gint d;

  memset (t, 0, sizeof (*t));
  t->dtype = dtype;
  t->n_dims = n_dims;
  t->data = data;
  for (d = (gint) n_dims - 1; d >= 0; d--) {
    t->shape[d] = shape[d];
    t->strides[d] = stride;
    stride *= MAX (shape[d], 1);
  }
}

G_MODULE_EXPORT const KlingBackendVTable *
kling_backend_get_vtable (guint abi_version)
{
  static const KlingBackendVTable vtable = {
    KLING_BACKEND_ABI_VERSION, "fake (fuzzing)", fake_load, fake_free,
    fake_extra, fake_list, fake_call, fake_count, fake_name, fake_tensor,
    fake_outputs_free, fake_threads, fake_device
  };

  return abi_version == KLING_BACKEND_ABI_VERSION ? &vtable : NULL;
}
