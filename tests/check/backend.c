/* gst-kling: tests of the backend API against real TorchScript files
 * (made by tests/models/make_test_models.py at build time).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <dlfcn.h>
#include <gst/check/gstcheck.h>

#include "kling-backend.h"
#include "kling-manifest.h"

static gchar *
test_model (const gchar * name)
{
  return g_build_filename (g_getenv ("KLING_TEST_MODELS"), name, NULL);
}

static KlingModel *
load_probe (gint threads)
{
  KlingLoadOptions opts = { "cpu", KLING_PRECISION_FLOAT32, threads };
  const gchar *extra[] = { "kling.json", "missing.txt", NULL };
  gchar *path = test_model ("probe.pt");
  GError *err = NULL;
  KlingModel *model = kling_model_load (path, &opts, extra, &err);

  fail_unless (model != NULL, "load failed: %s", err ? err->message : "?");
  g_free (path);
  return model;
}

static void
expect_load_error (const gchar * name, gint code, const gchar * needle)
{
  gchar *path = test_model (name);
  GError *err = NULL;
  KlingModel *model = kling_model_load (path, NULL, NULL, &err);

  fail_unless (model == NULL, "%s loaded", name);
  fail_unless (err != NULL);
  fail_unless_equals_int (err->domain, KLING_BACKEND_ERROR);
  fail_unless (err->code == code, "%s: code %d, wanted %d (%s)", name,
      err->code, code, err->message);
  fail_unless (strstr (err->message, needle) != NULL,
      "%s: \"%s\" does not say \"%s\"", name, err->message, needle);
  g_error_free (err);
  g_free (path);
}

GST_START_TEST (test_load_and_extra_files)
{
  KlingModel *model = load_probe (0);
  const gchar *json;
  gsize len = 0;
  const KlingMethodInfo *methods;
  guint n, i;
  gboolean seen_forward = FALSE, seen_dtypes = FALSE, seen_noargs = FALSE;

  json = kling_model_get_extra_file (model, "kling.json", &len);
  fail_unless (json != NULL);
  fail_unless (len == strlen (json));
  fail_unless (strstr (json, "\"task\": \"detect\"") != NULL, "%s", json);
  fail_unless (kling_model_get_extra_file (model, "missing.txt", NULL) ==
      NULL);
  fail_unless (kling_model_get_extra_file (model, "never-asked", NULL) ==
      NULL);

  methods = kling_model_list_methods (model, &n);
  for (i = 0; i < n; i++) {
    if (strcmp (methods[i].name, "forward") == 0) {
      fail_unless_equals_int (methods[i].n_args, 1);
      seen_forward = TRUE;
    } else if (strcmp (methods[i].name, "dtypes") == 0) {
      fail_unless_equals_int (methods[i].n_args, 5);
      seen_dtypes = TRUE;
    } else if (strcmp (methods[i].name, "no_args") == 0) {
      fail_unless_equals_int (methods[i].n_args, 0);
      seen_noargs = TRUE;
    }
  }
  fail_unless (seen_forward && seen_dtypes && seen_noargs);
  fail_unless_equals_int (kling_model_method_n_args (model, "matmul"), 1);
  fail_unless_equals_int (kling_model_method_n_args (model, "nope"), -1);
  fail_unless (g_str_has_prefix (kling_backend_name (), "libtorch"));
  kling_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_call_forward)
{
  KlingModel *model = load_probe (1);
  gfloat in[2 * 3 * 5];
  gint64 shape[] = { 2, 3, 5 };
  KlingTensor t;
  KlingOutputs *out;
  const KlingTensor *r;
  GError *err = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (in); i++)
    in[i] = i * 0.25f - 3.0f;
  kling_tensor_init_contiguous (&t, KLING_DTYPE_FLOAT32, in, 3, shape);
  out = kling_model_call (model, "forward", &t, 1, NULL, &err);
  fail_unless (out != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (kling_outputs_count (out), 1);
  fail_unless_equals_string (kling_outputs_name (out, 0), "0");
  r = kling_outputs_expect (out, "forward", "0", KLING_DTYPE_FLOAT32, 3,
      shape, &err);
  fail_unless (r != NULL, "%s", err ? err->message : "");
  for (i = 0; i < G_N_ELEMENTS (in); i++)
    fail_unless (((gfloat *) r->data)[i] == in[i] * 2.0f + 1.0f);
  fail_unless_equals_int (kling_backend_get_threads (), 1);

  /* a shape the caller did not expect is an error naming both */
  {
    gint64 want[] = { 2, 3, 6 };
    fail_unless (kling_outputs_expect (out, "forward", "0",
            KLING_DTYPE_FLOAT32, 3, want, &err) == NULL);
    fail_unless (strstr (err->message, "float32[2, 3, 5]") != NULL, "%s",
        err->message);
    fail_unless (strstr (err->message, "expected float32[2, 3, 6]") != NULL);
    g_clear_error (&err);
    fail_unless (kling_outputs_expect (out, "forward", "0",
            KLING_DTYPE_INT64, 3, NULL, &err) == NULL);
    fail_unless (strstr (err->message, "int64[*, *, *]") != NULL, "%s",
        err->message);
    g_clear_error (&err);
    fail_unless (kling_outputs_expect (out, "forward", "boxes",
            KLING_DTYPE_FLOAT32, 3, NULL, &err) == NULL);
    fail_unless (strstr (err->message, "no output \"boxes\"") != NULL);
    g_clear_error (&err);
  }
  kling_outputs_free (out);
  kling_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_call_every_dtype)
{
  KlingModel *model = load_probe (2);
  gfloat a[3] = { 1.5f, -2.0f, 0.25f };
  guint16 b[3] = { 0x3c00, 0x4000, 0xc000 };    /* 1, 2, -2 in float16 */
  guint16 c[3] = { 0x3f80, 0x4040, 0xbf00 };    /* 1, 3, -0.5 in bfloat16 */
  guint8 d[3] = { 0, 7, 254 };
  gint64 e[3] = { -5, 0, G_GINT64_CONSTANT (1) << 40 };
  gint64 shape[] = { 3 };
  KlingTensor in[5];
  KlingOutputs *out;
  const KlingTensor *r;
  GError *err = NULL;

  kling_tensor_init_contiguous (&in[0], KLING_DTYPE_FLOAT32, a, 1, shape);
  kling_tensor_init_contiguous (&in[1], KLING_DTYPE_FLOAT16, b, 1, shape);
  kling_tensor_init_contiguous (&in[2], KLING_DTYPE_BFLOAT16, c, 1, shape);
  kling_tensor_init_contiguous (&in[3], KLING_DTYPE_UINT8, d, 1, shape);
  kling_tensor_init_contiguous (&in[4], KLING_DTYPE_INT64, e, 1, shape);
  /* dtypes are kept as given: only float32 inputs meet float32 precision */
  out = kling_model_call (model, "dtypes", in, 5, NULL, &err);
  fail_unless (out != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (kling_outputs_count (out), 6);

  r = kling_outputs_expect (out, "dtypes", "0", KLING_DTYPE_INT64, 0, NULL,
      &err);
  fail_unless (r != NULL, "%s", err ? err->message : "");
  fail_unless (*(gint64 *) r->data == 1, "the model saw other dtypes");

  r = kling_outputs_expect (out, "dtypes", "1", KLING_DTYPE_FLOAT32, 1,
      shape, &err);
  fail_unless (((gfloat *) r->data)[1] == -1.0f);
  r = kling_outputs_expect (out, "dtypes", "2", KLING_DTYPE_FLOAT16, 1,
      shape, &err);
  fail_unless (r != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (((guint16 *) r->data)[0], 0x4000);    /* 2.0 */
  fail_unless_equals_int (((guint16 *) r->data)[2], 0xc400);    /* -4.0 */
  r = kling_outputs_expect (out, "dtypes", "3", KLING_DTYPE_BFLOAT16, 1,
      shape, &err);
  fail_unless (r != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (((guint16 *) r->data)[1], 0x40c0);    /* 6.0 */
  r = kling_outputs_expect (out, "dtypes", "4", KLING_DTYPE_UINT8, 1, shape,
      &err);
  fail_unless_equals_int (((guint8 *) r->data)[2], 255);
  r = kling_outputs_expect (out, "dtypes", "5", KLING_DTYPE_INT64, 1, shape,
      &err);
  fail_unless (((gint64 *) r->data)[2] == 3 * (G_GINT64_CONSTANT (1) << 40));
  kling_outputs_free (out);
  kling_model_free (model);
}

GST_END_TEST;

/* A packed frame is a [1, C, H, W] channels-last tensor: the model writes
 * into it, and the change lands in our memory, so nothing was copied. */
static void
check_packed_frame (KlingModel * model, gint pv, gint pad, gboolean dense)
{
  const gint w = 7, h = 5, stride = 7 * pv + pad;
  gfloat *frame = g_malloc0 (stride * h * sizeof (gfloat));
  KlingTensor t;
  KlingOutputs *out;
  const KlingTensor *r;
  GError *err = NULL;
  gint x, y, c;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (c = 0; c < pv; c++)
        frame[y * stride + x * pv + c] = y * 100 + x * 10 + c;
  fail_unless (kling_tensor_init_packed_image (&t, KLING_DTYPE_FLOAT32, frame,
          w, h, 3, pv, stride * sizeof (gfloat)));
  fail_unless (t.strides[1] == 1 && t.strides[3] == pv
      && t.strides[2] == stride);

  out = kling_model_call (model, "layout", &t, 1, NULL, &err);
  fail_unless (out != NULL, "%s", err ? err->message : "");
  r = kling_outputs_get (out, 0);
  /* a dense packed RGB frame is exactly torch's channels-last layout */
  fail_unless (((gint64 *) r->data)[0] == dense, "channels-last: %d",
      (gint) ((gint64 *) r->data)[0]);
  fail_unless (((gint64 *) r->data)[1] == 0);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      for (c = 0; c < pv; c++)
        fail_unless (frame[y * stride + x * pv + c] ==
            y * 100 + x * 10 + c + (c < 3 ? 1 : 0),
            "pixel %d,%d,%d not written through: the input was copied", x, y,
            c);
  kling_outputs_free (out);

  /* a convolution over the same wrapped memory runs */
  out = kling_model_call (model, "conv_image", &t, 1, NULL, &err);
  fail_unless (out != NULL, "%s", err ? err->message : "");
  {
    gint64 want[] = { 1, 2, h, w };
    fail_unless (kling_outputs_expect (out, "conv_image", "0",
            KLING_DTYPE_FLOAT32, 4, want, &err) != NULL);
  }
  kling_outputs_free (out);
  g_free (frame);
}

GST_START_TEST (test_channels_last_without_copy)
{
  KlingModel *model = load_probe (0);
  KlingTensor t;
  gfloat f[4];

  check_packed_frame (model, 3, 0, TRUE);       /* RGB */
  check_packed_frame (model, 4, 0, FALSE);      /* RGBx: x is skipped */
  check_packed_frame (model, 3, 5, FALSE);      /* padded rows */
  fail_if (kling_tensor_init_packed_image (&t, KLING_DTYPE_FLOAT32, f,
          7, 5, 3, 4, 8));
  fail_if (kling_tensor_init_packed_image (&t, KLING_DTYPE_FLOAT32, f,
          7, 5, 3, 2, 100));
  kling_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_structured_outputs)
{
  KlingModel *model = load_probe (0);
  gfloat in[2 * 4];
  gint64 shape[] = { 2, 4 };
  KlingTensor t;
  KlingOutputs *out;
  const KlingTensor *r;
  GError *err = NULL;
  const gchar *names[] = { "0", "1.0.boxes", "1.0.scores", "1.1.boxes",
    "1.1.scores"
  };
  guint i;

  for (i = 0; i < 8; i++)
    in[i] = i;
  kling_tensor_init_contiguous (&t, KLING_DTYPE_FLOAT32, in, 2, shape);
  out = kling_model_call (model, "structured", &t, 1, NULL, &err);
  fail_unless (out != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (kling_outputs_count (out), 5);
  for (i = 0; i < 5; i++)
    fail_unless_equals_string (kling_outputs_name (out, i), names[i]);
  r = kling_outputs_lookup (out, "0");
  fail_unless (*(gfloat *) r->data == 28.0f);
  r = kling_outputs_lookup (out, "1.1.boxes");
  fail_unless (r->n_dims == 1 && r->shape[0] == 4);
  fail_unless (((gfloat *) r->data)[0] == 4.0f);
  kling_outputs_free (out);

  out = kling_model_call (model, "no_args", NULL, 0, NULL, &err);
  fail_unless (out != NULL, "%s", err ? err->message : "");
  kling_outputs_free (out);
  kling_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_call_errors)
{
  KlingModel *model = load_probe (0);
  gfloat in[2 * 5] = { 0 };
  gint64 shape[] = { 2, 5 };
  KlingTensor t;
  GError *err = NULL;
  GCancellable *cancel = g_cancellable_new ();

  kling_tensor_init_contiguous (&t, KLING_DTYPE_FLOAT32, in, 2, shape);

  /* wrong input shape: libtorch throws, we get its message */
  fail_unless (kling_model_call (model, "matmul", &t, 1, NULL, &err) == NULL);
  fail_unless (err->code == KLING_BACKEND_ERROR_RUNTIME);
  fail_unless (strstr (err->message, "method `matmul`") != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, "2x5") != NULL
      || strstr (err->message, "shapes cannot be multiplied") != NULL, "%s",
      err->message);
  fail_if (strstr (err->message, "Exception raised from") != NULL,
      "backtrace leaked into the message: %s", err->message);
  g_clear_error (&err);

  /* the model raises */
  fail_unless (kling_model_call (model, "raises", &t, 1, NULL, &err) == NULL);
  fail_unless (err->code == KLING_BACKEND_ERROR_RUNTIME);
  fail_unless (strstr (err->message, "the probe model raised on purpose")
      != NULL, "%s", err->message);
  g_clear_error (&err);

  /* missing method names what there is */
  fail_unless (kling_model_call (model, "denoise", &t, 1, NULL, &err) ==
      NULL);
  fail_unless (err->code == KLING_BACKEND_ERROR_NO_METHOD);
  fail_unless (strstr (err->message, "no method `denoise`") != NULL);
  fail_unless (strstr (err->message, "forward") != NULL);
  g_clear_error (&err);

  /* wrong number of inputs */
  fail_unless (kling_model_call (model, "forward", &t, 0, NULL, &err) ==
      NULL);
  fail_unless (err->code == KLING_BACKEND_ERROR_INVALID_ARGUMENT);
  fail_unless (strstr (err->message, "takes 1 inputs, 0 given") != NULL,
      "%s", err->message);
  g_clear_error (&err);

  /* cancelled before the call: a sampler loop stops between calls */
  g_cancellable_cancel (cancel);
  fail_unless (kling_model_call (model, "forward", &t, 1, cancel, &err) ==
      NULL);
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&err);
  g_object_unref (cancel);

  /* the model still works after all that */
  {
    KlingOutputs *out = kling_model_call (model, "forward", &t, 1, NULL,
        &err);
    fail_unless (out != NULL);
    kling_outputs_free (out);
  }
  kling_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_load_errors)
{
  expect_load_error ("does-not-exist.pt", KLING_BACKEND_ERROR_NOT_FOUND,
      "No such file");
  expect_load_error ("empty.pt", KLING_BACKEND_ERROR_INVALID_MODEL, "empty");
  expect_load_error ("not-torchscript.pt", KLING_BACKEND_ERROR_INVALID_MODEL,
      "not a TorchScript archive");
  expect_load_error ("truncated.pt", KLING_BACKEND_ERROR_INVALID_MODEL,
      "not a TorchScript archive");
  expect_load_error ("bad-directory.pt", KLING_BACKEND_ERROR_INVALID_MODEL,
      "damaged zip directory");
  expect_load_error ("plain-zip.pt", KLING_BACKEND_ERROR_INVALID_MODEL,
      "no data.pkl");

  g_setenv ("GST_KLING_MAX_MODEL_SIZE", "1000", TRUE);
  expect_load_error ("probe.pt", KLING_BACKEND_ERROR_INVALID_MODEL,
      "GST_KLING_MAX_MODEL_SIZE");
  g_unsetenv ("GST_KLING_MAX_MODEL_SIZE");
}

GST_END_TEST;

GST_START_TEST (test_device_and_precision)
{
  KlingLoadOptions opts = { "cuda:0", KLING_PRECISION_FLOAT32, 0 };
  gchar *path = test_model ("probe.pt");
  GError *err = NULL;
  KlingModel *model;

  fail_unless (kling_device_available ("cpu", NULL));
  if (!kling_device_available ("cuda:0", NULL)) {
    model = kling_model_load (path, &opts, NULL, &err);
    fail_unless (model == NULL);
    fail_unless (err->code == KLING_BACKEND_ERROR_DEVICE);
    fail_unless (strstr (err->message, "no CUDA") != NULL, "%s",
        err->message);
    g_clear_error (&err);
  }
  opts.device = "tpu:3";
  fail_unless (kling_model_load (path, &opts, NULL, &err) == NULL);
  fail_unless (err->code == KLING_BACKEND_ERROR_DEVICE, "%s", err->message);
  g_clear_error (&err);

  opts.device = "cpu";
  opts.precision = KLING_PRECISION_FLOAT16;
  fail_unless (kling_model_load (path, &opts, NULL, &err) == NULL);
  fail_unless (strstr (err->message, "float16 is not supported on the CPU")
      != NULL, "%s", err->message);
  g_clear_error (&err);

  /* bfloat16 on the CPU: float32 inputs are converted to the model's
   * precision, outputs come back in bfloat16 */
  opts.precision = KLING_PRECISION_BFLOAT16;
  model = kling_model_load (path, &opts, NULL, &err);
  fail_unless (model != NULL, "%s", err ? err->message : "");
  {
    gfloat in[4] = { 1, 2, 3, 4 };
    gint64 shape[] = { 4 };
    KlingTensor t;
    KlingOutputs *out;
    const KlingTensor *r;

    kling_tensor_init_contiguous (&t, KLING_DTYPE_FLOAT32, in, 1, shape);
    out = kling_model_call (model, "forward", &t, 1, NULL, &err);
    fail_unless (out != NULL, "%s", err ? err->message : "");
    r = kling_outputs_get (out, 0);
    fail_unless_equals_int (r->dtype, KLING_DTYPE_BFLOAT16);
    fail_unless_equals_int (((guint16 *) r->data)[3], 0x4110);  /* 9.0 */
    kling_outputs_free (out);
  }
  kling_model_free (model);
  g_free (path);
}

GST_END_TEST;

typedef struct
{
  KlingModel *model;
  gint calls;
  gboolean ok;
} CallerData;

static gpointer
caller_thread (gpointer user_data)
{
  CallerData *d = user_data;
  gfloat in[64 * 4];
  gint64 shape[] = { 64, 4 };
  KlingTensor t;
  gint i;

  for (i = 0; i < 64 * 4; i++)
    in[i] = i;
  kling_tensor_init_contiguous (&t, KLING_DTYPE_FLOAT32, in, 2, shape);
  d->ok = TRUE;
  for (i = 0; i < d->calls; i++) {
    GError *err = NULL;
    KlingOutputs *out = kling_model_call (d->model, "matmul", &t, 1, NULL,
        &err);
    if (out == NULL) {
      d->ok = FALSE;
      g_clear_error (&err);
      break;
    }
    kling_outputs_free (out);
  }
  return NULL;
}

/* One model is used from one thread while others load and free models. */
GST_START_TEST (test_threads_load_while_calling)
{
  CallerData d = { load_probe (2), 300, FALSE };
  GThread *caller = g_thread_new ("caller", caller_thread, &d);
  gint i;

  for (i = 0; i < 8; i++) {
    KlingModel *other = load_probe (1);
    kling_model_free (other);
  }
  g_thread_join (caller);
  fail_unless (d.ok);
  kling_model_free (d.model);
}

GST_END_TEST;

GST_START_TEST (test_package_load)
{
  gchar *path = test_model ("probe.pt");
  GError *err = NULL;
  KlingManifest *manifest = NULL;
  KlingModel *model;

  model = kling_package_load (path, "detect", NULL, FALSE, &manifest, &err);
  fail_unless (model != NULL, "%s", err ? err->message : "");
  fail_unless_equals_string (manifest->task, "detect");
  fail_unless_equals_int (manifest->input_width, 8);
  fail_unless_equals_string (manifest->labels[1], "b");
  kling_manifest_free (manifest);
  kling_model_free (model);

  /* the same archive is no video model: every missing piece is named */
  model = kling_package_load (path, "video", NULL, FALSE, NULL, &err);
  fail_unless (model == NULL);
  fail_unless (strstr (err->message, "is for task `detect`") != NULL);
  fail_unless (strstr (err->message,
          "has no method `denoise`, which task `video` needs") != NULL,
      "%s", err->message);
  fail_unless (strstr (err->message, "has no method `encode_prompt`") !=
      NULL);
  fail_unless (strstr (err->message, "field `latent` is missing") != NULL);
  fail_unless (strstr (err->message, "docs/models.md") != NULL);
  g_clear_error (&err);
  g_free (path);

  path = test_model ("probe-video.pt");
  fail_unless (kling_package_load (path, "detect", NULL, FALSE, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "is for task `video`, but this element "
          "needs a `detect` model") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_free (path);

  path = test_model ("probe-badmethods.pt");
  fail_unless (kling_package_load (path, "detect", NULL, FALSE, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "lists method `denoise`, which the "
          "TorchScript archive does not have") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_free (path);

  path = test_model ("probe-nomanifest.pt");
  fail_unless (kling_package_load (path, "detect", NULL, FALSE, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "no kling.json manifest") != NULL);
  fail_unless (strstr (err->message, "kling-wrap.py") != NULL);
  g_clear_error (&err);
  g_free (path);

  path = test_model ("probe-badjson.pt");
  fail_unless (kling_package_load (path, "detect", NULL, FALSE, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "is not valid JSON") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  g_free (path);
}

GST_END_TEST;

/* Finding 4, through the loader: packages whose manifest fields multiply to
 * absurd sizes are refused with the fields and the limit named. */
GST_START_TEST (test_absurd_manifest_packages)
{
  static const struct
  {
    const gchar *file, *task, *says;
  } cases[] = {
    {"video-huge-latent.pt", "video", "2 x 65 x 1024 x 1024 x 1024) would "
          "hold 139586437120 values, more than the limit of 268435456"},
    {"video-huge-frames.pt", "video", "`latent.frames` x `size.height` x "
          "`size.width` x 3: 1024 x 8192 x 8192 x 3"},
    {"copy-bad-vocab.pt", "copywrite", "`tokenizer.vocab` is -1; it must be "
          "2 to 1048576"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *path = test_model (cases[i].file);
    GError *err = NULL;

    fail_unless (kling_package_load (path, cases[i].task, NULL, TRUE, NULL,
            &err) == NULL, "%s loaded", cases[i].file);
    fail_unless (g_error_matches (err, KLING_BACKEND_ERROR,
            KLING_BACKEND_ERROR_INVALID_MODEL));
    fail_unless (strstr (err->message, cases[i].says) != NULL,
        "%s: \"%s\" does not say \"%s\"", cases[i].file, err->message,
        cases[i].says);
    g_error_free (err);
    g_free (path);
  }
}

GST_END_TEST;

/* The same packages in the elements: start fails with a clear error on the
 * bus (it aborted in g_malloc: "failed to allocate 274877906944 bytes"). */
static void
expect_start_error (const gchar * factory, const gchar * property,
    const gchar * file, const gchar * says)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *e = gst_element_factory_make (factory, NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_pipeline_get_bus (GST_PIPELINE (pipeline));
  gchar *path = test_model (file);
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  fail_unless (e != NULL, "no element %s", factory);
  g_object_set (e, property, path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), e, sink, NULL);
  if (strcmp (factory, "aiproductdetect") == 0) {
    GstElement *src = gst_element_factory_make ("videotestsrc", NULL);
    gst_bin_add (GST_BIN (pipeline), src);
    fail_unless (gst_element_link (src, e));
  }
  fail_unless (gst_element_link (e, sink));
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "%s with %s: no error message", factory, file);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (strstr (err->message, says) != NULL
      || (debug && strstr (debug, says) != NULL),
      "%s with %s: \"%s\" / \"%s\" does not say \"%s\"", factory, file,
      err->message, GST_STR_NULL (debug), says);
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (path);
}

GST_START_TEST (test_absurd_manifest_elements)
{
  expect_start_error ("klinggen", "model", "video-huge-latent.pt",
      "more than the limit of 268435456 values per tensor");
  expect_start_error ("klinggen", "model", "video-huge-frames.pt",
      "1024 x 8192 x 8192 x 3");
  expect_start_error ("aiproductdetect", "copy-model", "copy-bad-vocab.pt",
      "`tokenizer.vocab` is -1");
}

GST_END_TEST;

/* libtorch's message at load reaches the GError whole, from its first
 * line: an unknown operator's ErrorReport starts with a newline, and the
 * error read "…/unknown-op.pt: " with nothing after on its first line. */
GST_START_TEST (test_load_error_has_libtorch_message)
{
  gchar *path = test_model ("unknown-op.pt");
  gchar *first_line, *want;
  GError *err = NULL;

  fail_unless (kling_model_load (path, NULL, NULL, &err) == NULL);
  fail_unless (g_error_matches (err, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_MODEL));
  first_line = g_strndup (err->message, strcspn (err->message, "\n"));
  want = g_strdup_printf ("%s: Unknown builtin op: "
      "kling_missing::frobnicate", path);
  fail_unless (g_str_has_prefix (first_line, want), "first line \"%s\"",
      first_line);
  fail_unless (strstr (err->message, "ops.kling_missing.frobnicate(x)"));
  fail_unless (strstr (err->message, "operator this libtorch does not "
          "have"));
  g_free (first_line);
  g_free (want);
  g_error_free (err);
  g_free (path);
}

GST_END_TEST;

/* A kling.json over KLING_MANIFEST_MAX_SIZE is refused from the zip
 * directory, before libtorch reads it into memory. */
GST_START_TEST (test_huge_manifest_refused)
{
  gchar *path = test_model ("probe-huge-manifest.pt");
  GError *err = NULL;

  fail_unless (kling_package_load (path, "detect", NULL, FALSE, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "more than the 1048576 a manifest may "
          "have") != NULL, "%s", err->message);
  g_error_free (err);
  g_free (path);
}

GST_END_TEST;

static void
collect_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  GString *lines = user_data;

  if (strcmp (gst_debug_category_get_name (category), "klingbackend") == 0)
    g_string_append_printf (lines, "%s %s\n", level == GST_LEVEL_LOG ? "LOG"
        : level == GST_LEVEL_INFO ? "INFO" : "OTHER",
        gst_debug_message_get (message));
}

/* The backend logs to a category of its own: the module, each load with
 * its options and time, each call with its shapes and time at LOG. */
GST_START_TEST (test_debug_category)
{
  GString *lines = g_string_new (NULL);
  KlingModel *model;
  KlingOutputs *out;
  KlingTensor in;
  gfloat x[2] = { 1, 2 };
  gint64 shape[1] = { 2 };

  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("klingbackend", GST_LEVEL_LOG);
  gst_debug_add_log_function (collect_log, lines, NULL);
  model = load_probe (1);
  kling_tensor_init_contiguous (&in, KLING_DTYPE_FLOAT32, x, 1, shape);
  out = kling_model_call (model, "forward", &in, 1, NULL, NULL);
  fail_unless (out != NULL);
  kling_outputs_free (out);
  kling_model_free (model);
  gst_debug_remove_log_function (collect_log);

  {
    GSList *cats = gst_debug_get_all_categories (), *l;
    gboolean found = FALSE;

    for (l = cats; l; l = l->next)
      if (strcmp (gst_debug_category_get_name (l->data), "klingbackend") == 0)
        found = TRUE;
    g_slist_free (cats);
    fail_unless (found);
  }
  fail_unless (strstr (lines->str, "loading ") != NULL
      && strstr (lines->str, "probe.pt on cpu, float32, threads 1"),
      "%s", lines->str);
  fail_unless (strstr (lines->str, "INFO loaded ") != NULL, "%s", lines->str);
  fail_unless (strstr (lines->str, "LOG method `forward` (float32[2]): ") !=
      NULL, "%s", lines->str);
  fail_unless (strstr (lines->str, " ms, 1 outputs") != NULL, "%s",
      lines->str);
  g_string_free (lines, TRUE);
}

GST_END_TEST;

static gboolean
libgomp_loaded (void)
{
  void *handle = dlopen ("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);

  if (handle)
    dlclose (handle);
  return handle != NULL;
}

/* check forks every test, so each one opens the backend itself: libgomp
 * must start only then, and find the passive policy in the environment */
GST_START_TEST (test_openmp_waits_passively)
{
  GError *err = NULL;

  if (kling_backend_name () != NULL)
    return;                     /* CK_FORK=no: the backend is already open */
  g_unsetenv ("OMP_WAIT_POLICY");
  g_unsetenv ("GOMP_SPINCOUNT");
  fail_if (libgomp_loaded (), "libgomp started before the backend");
  fail_unless (kling_backend_ensure (&err), "%s", err ? err->message : "");
  fail_unless (libgomp_loaded (), "the backend did not bring libgomp");
  fail_unless_equals_string (g_getenv ("OMP_WAIT_POLICY"), "PASSIVE");
}

GST_END_TEST;

GST_START_TEST (test_openmp_wait_policy_of_the_user_kept)
{
  GError *err = NULL;

  if (kling_backend_name () != NULL)
    return;
  g_setenv ("OMP_WAIT_POLICY", "ACTIVE", TRUE);
  fail_unless (kling_backend_ensure (&err), "%s", err ? err->message : "");
  fail_unless_equals_string (g_getenv ("OMP_WAIT_POLICY"), "ACTIVE");
  g_unsetenv ("OMP_WAIT_POLICY");
}

GST_END_TEST;

static Suite *
backend_suite (void)
{
  Suite *s = suite_create ("backend");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_load_and_extra_files);
  tcase_add_test (tc, test_call_forward);
  tcase_add_test (tc, test_call_every_dtype);
  tcase_add_test (tc, test_channels_last_without_copy);
  tcase_add_test (tc, test_structured_outputs);
  tcase_add_test (tc, test_call_errors);
  tcase_add_test (tc, test_load_errors);
  tcase_add_test (tc, test_device_and_precision);
  tcase_add_test (tc, test_threads_load_while_calling);
  tcase_add_test (tc, test_package_load);
  tcase_add_test (tc, test_absurd_manifest_packages);
  tcase_add_test (tc, test_absurd_manifest_elements);
  tcase_add_test (tc, test_load_error_has_libtorch_message);
  tcase_add_test (tc, test_huge_manifest_refused);
  tcase_add_test (tc, test_debug_category);
  tcase_add_test (tc, test_openmp_waits_passively);
  tcase_add_test (tc, test_openmp_wait_policy_of_the_user_kept);
  return s;
}

GST_CHECK_MAIN (backend);
