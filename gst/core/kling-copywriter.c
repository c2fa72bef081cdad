/* gst-kling: a copywriter model (encode + decoding loop) over the backend
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "kling-copywriter.h"
#include "kling-input.h"
#include "kling-manifest.h"
#include "kling-textgen.h"

/* what a manifest may ask for, the decoding loop can do */
G_STATIC_ASSERT (KLING_MANIFEST_MAX_TOP_K <= KLING_TEXTGEN_MAX_TOP_K);

struct _KlingCopywriter
{
  KlingModel *model;
  KlingManifest *manifest;
  KlingInputSpec spec;
  gint encode_args;
  KlingTextGenParams params;    /* all but the seed */
};

KlingCopywriter *
kling_copywriter_load (const gchar * path, const KlingLoadOptions * options,
    GError ** error)
{
  KlingCopywriter *cw = g_new0 (KlingCopywriter, 1);
  KlingManifest *m;

  cw->model = kling_package_load (path, "copywrite", options, TRUE,
      &cw->manifest, error);
  if (cw->model == NULL) {
    g_free (cw);
    return NULL;
  }
  m = cw->manifest;
  cw->encode_args = kling_model_method_n_args (cw->model, "encode");
  if (cw->encode_args < 2 || cw->encode_args > 3) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_INVALID_MODEL,
        "method `encode` takes %d inputs; it must take (image, label) or "
        "(image, label, language)", cw->encode_args);
    kling_copywriter_free (cw);
    return NULL;
  }
  kling_input_spec_from_manifest (&cw->spec, m);
  cw->params.vocab = kling_manifest_get_int (m, "tokenizer.vocab", 258);
  cw->params.byte_offset = m->tokenizer_offset;
  cw->params.bos = kling_manifest_get_int (m, "tokenizer.bos", 256);
  cw->params.eos = kling_manifest_get_int (m, "tokenizer.eos", 257);
  cw->params.max_tokens = CLAMP (m->tokenizer_max_length, 1,
      KLING_COPYWRITER_MAX_TOKENS);
  cw->params.top_k = kling_manifest_get_int (m, "defaults.top_k", 1);
  cw->params.temperature = kling_manifest_get_double (m,
      "defaults.temperature", 1.0);
  return cw;
}

void
kling_copywriter_free (KlingCopywriter * cw)
{
  if (cw == NULL)
    return;
  kling_model_free (cw->model);
  kling_manifest_free (cw->manifest);
  g_free (cw);
}

const KlingManifest *
kling_copywriter_get_manifest (const KlingCopywriter * cw)
{
  return cw->manifest;
}

typedef struct
{
  KlingCopywriter *cw;
  const KlingTensor *memory;
  GCancellable *cancellable;
} Step;

static gboolean
next_logits (const gint64 * tokens, guint n, gfloat * logits,
    gpointer user_data, GError ** error)
{
  Step *step = user_data;
  guint vocab = step->cw->params.vocab;
  KlingTensor in[2];
  gint64 shape[2] = { 1, n };
  gint64 want[2] = { 1, vocab };
  KlingOutputs *out;
  const KlingTensor *t;

  in[0] = *step->memory;
  kling_tensor_init_contiguous (&in[1], KLING_DTYPE_INT64, (gpointer) tokens,
      2, shape);
  out = kling_model_call (step->cw->model, "decode_step", in, 2,
      step->cancellable, error);
  if (out == NULL)
    return FALSE;
  t = kling_outputs_expect (out, "decode_step", "0", KLING_DTYPE_FLOAT32, 2,
      want, error);
  if (t)
    memcpy (logits, t->data, vocab * sizeof (gfloat));
  kling_outputs_free (out);
  return t != NULL;
}

gchar *
kling_copywriter_write (KlingCopywriter * cw, const GstVideoFrame * frame,
    const GstVideoRectangle * box, gint label, gint language, guint32 seed,
    GCancellable * cancellable, GError ** error)
{
  gint64 memory_shape[3] = { 1, -1, -1 };
  gint64 one[1] = { 1 };
  gint64 label64 = label, lang64 = language;
  GstVideoRectangle crop;
  KlingTextGenParams params;
  KlingTensor args[3];
  KlingOutputs *enc = NULL;
  KlingInput *in;
  gchar *text = NULL;
  gint c, w, h;
  Step step;

  /* the box, at least one pixel, inside the frame */
  crop.x = CLAMP (box->x, 0, GST_VIDEO_FRAME_WIDTH (frame) - 1);
  crop.y = CLAMP (box->y, 0, GST_VIDEO_FRAME_HEIGHT (frame) - 1);
  crop.w = CLAMP (box->w, 1, GST_VIDEO_FRAME_WIDTH (frame) - crop.x);
  crop.h = CLAMP (box->h, 1, GST_VIDEO_FRAME_HEIGHT (frame) - crop.y);
  in = kling_input_new (&cw->spec, &frame->info, &crop, error);
  if (in == NULL)
    return NULL;
  kling_input_fill (in, frame);
  c = kling_input_get_channels (in);
  w = cw->spec.width;
  h = cw->spec.height;
  if (cw->manifest->input_nhwc) {
    gint64 shape[4] = { 1, h, w, c };
    kling_tensor_init_contiguous (&args[0], KLING_DTYPE_FLOAT32,
        kling_input_get_values (in), 4, shape);
  } else {
    kling_tensor_init_packed_image (&args[0], KLING_DTYPE_FLOAT32,
        kling_input_get_values (in), w, h, c, c,
        (gsize) w * c * sizeof (gfloat));
  }
  kling_tensor_init_contiguous (&args[1], KLING_DTYPE_INT64, &label64, 1, one);
  kling_tensor_init_contiguous (&args[2], KLING_DTYPE_INT64, &lang64, 1, one);
  enc = kling_model_call (cw->model, "encode", args, cw->encode_args,
      cancellable, error);
  if (enc == NULL)
    goto out;
  step.memory = kling_outputs_expect (enc, "encode", "0", KLING_DTYPE_FLOAT32,
      3, memory_shape, error);
  if (step.memory == NULL)
    goto out;
  step.cw = cw;
  step.cancellable = cancellable;
  params = cw->params;
  params.seed = seed;
  text = kling_textgen_run (&params, next_logits, &step, cancellable, error);
  if (text && *text == '\0') {
    g_set_error (error, KLING_TEXTGEN_ERROR, KLING_TEXTGEN_ERROR_NO_TOKEN,
        "the model wrote only white space");
    g_clear_pointer (&text, g_free);
  }

out:
  kling_outputs_free (enc);
  kling_input_free (in);
  return text;
}

/* a greedy model writes the same line whatever the seed: after this many
 * tries in a row with nothing new, more would only cost time */
#define MAX_STALE_TRIES 3

gchar **
kling_copywriter_write_lines (KlingCopywriter * cw, const guint8 * rgba,
    gint width, gint height, const GstVideoRectangle * box, gint label,
    gint language, guint32 seed, guint n_lines, GCancellable * cancellable,
    GError ** error)
{
  gsize size = (gsize) width * height * 4;
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;
  GPtrArray *lines;
  GError *err = NULL;
  guint i, tries, stale = 0;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBA, width, height);
  /* the picture is only read: wrap it, no copy */
  buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      (gpointer) rgba, size, 0, size, NULL, NULL);
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READ);
  lines = g_ptr_array_new_with_free_func (g_free);
  for (tries = 0; lines->len < n_lines && tries < 4 * n_lines
      && stale < MAX_STALE_TRIES; tries++) {
    gchar *line = kling_copywriter_write (cw, &frame, box, label, language,
        seed + tries, cancellable, &err);
    if (line == NULL)
      break;
    for (i = 0; i < lines->len; i++)
      if (g_strcmp0 (lines->pdata[i], line) == 0)
        break;
    if (i < lines->len || g_strstrip (line)[0] == '\0') {
      g_free (line);
      stale++;
    } else {
      g_ptr_array_add (lines, line);
      stale = 0;
    }
  }
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  if (err || lines->len == 0) {
    if (err)
      g_propagate_error (error, err);
    else
      g_set_error (error, KLING_TEXTGEN_ERROR, KLING_TEXTGEN_ERROR_NO_TOKEN,
          "every line was empty");
    g_ptr_array_free (lines, TRUE);
    return NULL;
  }
  g_ptr_array_set_free_func (lines, NULL);
  g_ptr_array_add (lines, NULL);
  return (gchar **) g_ptr_array_free (lines, FALSE);
}


struct _KlingCopyPlan
{
  GHashTable *last;             /* label -> running time of its last copy */
};

KlingCopyPlan *
kling_copy_plan_new (void)
{
  KlingCopyPlan *plan = g_new0 (KlingCopyPlan, 1);

  plan->last = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      g_free);
  return plan;
}

void
kling_copy_plan_free (KlingCopyPlan * plan)
{
  if (plan == NULL)
    return;
  g_hash_table_unref (plan->last);
  g_free (plan);
}

void
kling_copy_plan_reset (KlingCopyPlan * plan)
{
  g_hash_table_remove_all (plan->last);
}

gint
kling_copy_plan_pick (const KlingCopyPlan * plan, const KlingDetection * dets,
    guint n_dets, GstClockTime running_time, GstClockTime interval)
{
  guint i;

  for (i = 0; i < n_dets; i++) {
    const GstClockTime *last = g_hash_table_lookup (plan->last,
        GINT_TO_POINTER (dets[i].label));

    if (last && GST_CLOCK_TIME_IS_VALID (running_time)
        && running_time < *last + interval)
      continue;
    return i;
  }
  return -1;
}

void
kling_copy_plan_mark (KlingCopyPlan * plan, gint label,
    GstClockTime running_time)
{
  GstClockTime *t = g_new (GstClockTime, 1);

  *t = GST_CLOCK_TIME_IS_VALID (running_time) ? running_time : 0;
  g_hash_table_insert (plan->last, GINT_TO_POINTER (label), t);
}
