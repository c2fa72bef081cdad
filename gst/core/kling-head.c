/* gst-kling: a talking-head model at work
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "kling-head.h"

typedef struct
{
  GstBuffer *buffer;
  KlingFace *face;
  gfloat *crop;                 /* [3, H, W] */
} Portrait;

struct _KlingHead
{
  KlingModel *model;
  KlingHeadSpec spec;
  gchar *name;
  guint batch;
  GstClockTime call_time;

  GArray *portraits;            /* Portrait */
  GstVideoInfo info;
  gboolean have_box_prop;
  KlingFaceBox box_prop;
  gint feather;
  KlingHeadSource source;
  gpointer source_data;
  gsize mel_len, crop_len;
  gfloat *mel_batch, *face_batch;
  guint64 *frames;
  guint *indices;
  guint n_queued;
};

/* forward on @n frames, its output checked; NULL with @error set */
static KlingOutputs *
call (KlingHead * head, guint n, gfloat * mel, gfloat * face,
    GCancellable * cancellable, const KlingTensor ** out, GError ** error)
{
  const KlingHeadSpec *s = &head->spec;
  gint64 mel_shape[4] = { n, 1, s->mel.n_mels, s->mel.frames };
  gint64 face_shape[4] = { n, 6, s->face_height, s->face_width };
  gint64 want[4] = { n, 3, s->face_height, s->face_width };
  KlingTensor in[2];
  KlingOutputs *outputs;
  GError *err = NULL;

  kling_tensor_init_contiguous (&in[0], KLING_DTYPE_FLOAT32, mel, 4, mel_shape);
  kling_tensor_init_contiguous (&in[1], KLING_DTYPE_FLOAT32, face, 4,
      face_shape);
  outputs = kling_model_call (head->model, "forward", in, 2, cancellable, &err);
  if (outputs) {
    *out = kling_outputs_expect (outputs, "forward", "0", KLING_DTYPE_FLOAT32,
        4, want, &err);
    if (*out)
      return outputs;
    kling_outputs_free (outputs);
  }
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_propagate_error (error, err);
    return NULL;
  }
  g_set_error (error, err->domain, err->code, "%s (task `talking-head`: "
      "forward(mel float32 [B, 1, %d, %d], face float32 [B, 6, %d, %d]) must "
      "return float32 [B, 3, %d, %d], B = %u here; see docs/models.md)",
      err->message, s->mel.n_mels, s->mel.frames, s->face_height,
      s->face_width, s->face_height, s->face_width, n);
  g_error_free (err);
  return NULL;
}

KlingHead *
kling_head_load (const gchar * path, const KlingLoadOptions * options,
    guint batch, GCancellable * cancellable, GError ** error)
{
  KlingManifest *manifest = NULL;
  KlingModel *model;
  KlingHead *head;
  const KlingTensor *out;
  KlingOutputs *outputs;
  gfloat silence, *mel, *face;
  gint64 t_start;
  gsize i;

  model = kling_package_load (path, "talking-head", options, FALSE,
      &manifest, error);
  if (model == NULL)
    return NULL;
  head = g_new0 (KlingHead, 1);
  head->model = model;
  kling_head_spec_from_manifest (&head->spec, manifest);
  head->name = g_strdup (manifest->name);
  kling_manifest_free (manifest);
  head->batch = batch ? batch : (guint) MAX (head->spec.batch, 1);
  head->mel_len = (gsize) head->spec.mel.n_mels * head->spec.mel.frames;
  head->crop_len = 3 * (gsize) head->spec.face_width * head->spec.face_height;
  head->portraits = g_array_new (FALSE, TRUE, sizeof (Portrait));

  /* one call on silence: the output is checked before any frame, and its
   * time is the compute part of the latency */
  mel = g_new (gfloat, head->mel_len);
  face = g_new0 (gfloat, 2 * head->crop_len);
  silence = kling_mel_params_silence (&head->spec.mel);
  for (i = 0; i < head->mel_len; i++)
    mel[i] = silence;
  t_start = g_get_monotonic_time ();
  outputs = call (head, 1, mel, face, cancellable, &out, error);
  head->call_time = (g_get_monotonic_time () - t_start) * GST_USECOND;
  g_free (mel);
  g_free (face);
  if (outputs == NULL) {
    kling_head_free (head);
    return NULL;
  }
  kling_outputs_free (outputs);
  head->mel_batch = g_new (gfloat, head->batch * head->mel_len);
  head->face_batch = g_new (gfloat, head->batch * 2 * head->crop_len);
  head->frames = g_new (guint64, head->batch);
  head->indices = g_new (guint, head->batch);
  return head;
}

void
kling_head_free (KlingHead * head)
{
  if (head == NULL)
    return;
  kling_head_clear (head);
  g_array_unref (head->portraits);
  kling_model_free (head->model);
  g_free (head->name);
  g_free (head->mel_batch);
  g_free (head->face_batch);
  g_free (head->frames);
  g_free (head->indices);
  g_free (head);
}

const KlingHeadSpec *
kling_head_get_spec (const KlingHead * head)
{
  return &head->spec;
}

const gchar *
kling_head_get_name (const KlingHead * head)
{
  return head->name;
}

guint
kling_head_get_batch (const KlingHead * head)
{
  return head->batch;
}

GstClockTime
kling_head_get_call_time (const KlingHead * head)
{
  return head->call_time;
}

gboolean
kling_head_add_portrait (KlingHead * head, GstBuffer * buffer,
    const GstVideoInfo * info, const KlingFaceBox * box, gint feather,
    GError ** error)
{
  Portrait p = { 0 };

  p.face = kling_face_new (info, box, head->spec.face_width,
      head->spec.face_height, head->spec.mask, feather, error);
  if (p.face == NULL)
    return FALSE;
  p.crop = g_new (gfloat, head->crop_len);
  if (!kling_face_crop (p.face, buffer, p.crop)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
        "Could not read portrait frame %u (smaller than its caps say?)",
        head->portraits->len);
    kling_face_free (p.face);
    g_free (p.crop);
    return FALSE;
  }
  p.buffer = gst_buffer_ref (buffer);
  g_array_append_val (head->portraits, p);
  return TRUE;
}

guint
kling_head_n_portraits (const KlingHead * head)
{
  return head->portraits->len;
}

GstBuffer *
kling_head_get_portrait (const KlingHead * head, guint index)
{
  g_return_val_if_fail (index < head->portraits->len, NULL);
  return g_array_index (head->portraits, Portrait, index).buffer;
}

const KlingFaceBox *
kling_head_get_box (const KlingHead * head, guint index)
{
  g_return_val_if_fail (index < head->portraits->len, NULL);
  return kling_face_get_box (g_array_index (head->portraits, Portrait,
          index).face);
}

void
kling_head_clear (KlingHead * head)
{
  guint i;

  for (i = 0; i < head->portraits->len; i++) {
    Portrait *p = &g_array_index (head->portraits, Portrait, i);

    gst_buffer_unref (p->buffer);
    kling_face_free (p->face);
    g_free (p->crop);
  }
  g_array_set_size (head->portraits, 0);
  head->n_queued = 0;
}

void
kling_head_set_source (KlingHead * head, const GstVideoInfo * info,
    const KlingFaceBox * box_prop, gint feather,
    const KlingHeadSource * source, gpointer user_data)
{
  head->info = *info;
  head->have_box_prop = box_prop != NULL;
  if (box_prop)
    head->box_prop = *box_prop;
  head->feather = feather;
  head->source = *source;
  head->source_data = user_data;
}

gboolean
kling_head_portrait_for (KlingHead * head, guint64 n, guint * index,
    GError ** error)
{
  guint count;

  g_return_val_if_fail (head->source.get_portrait != NULL, FALSE);
  count = head->source.n_portraits (head->source_data);
  *index = (guint) (n % MAX (count, 1));
  while (head->portraits->len <= *index) {
    GstBuffer *buf = head->source.get_portrait (head->portraits->len,
        head->source_data);
    KlingFaceBox box;
    gboolean ok;

    if (buf == NULL) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          "No portrait %u", head->portraits->len);
      return FALSE;
    }
    ok = kling_face_box_choose (&head->spec, buf,
        GST_VIDEO_INFO_WIDTH (&head->info), GST_VIDEO_INFO_HEIGHT
        (&head->info), head->have_box_prop ? &head->box_prop : NULL, &box);
    if (!ok)
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          "No face box: set the face-box property (\"x,y,width,height\" in "
          "pixels), attach a `face` region-of-interest meta to the "
          "portrait, or use a model whose manifest has `face.box` (model "
          "%s has none)", head->name);
    else
      ok = kling_head_add_portrait (head, buf, &head->info, &box,
          head->feather, error);
    gst_buffer_unref (buf);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

gboolean
kling_head_queue (KlingHead * head, guint64 n, guint index,
    const gfloat * mel)
{
  Portrait *p, *ref;

  g_return_val_if_fail (index < head->portraits->len, FALSE);
  g_return_val_if_fail (head->n_queued < head->batch, TRUE);
  p = &g_array_index (head->portraits, Portrait, index);
  ref = &g_array_index (head->portraits, Portrait, 0);
  memcpy (head->mel_batch + head->n_queued * head->mel_len, mel,
      head->mel_len * sizeof (gfloat));
  kling_face_make_input (p->face, p->crop, ref->crop,
      head->face_batch + head->n_queued * 2 * head->crop_len);
  head->frames[head->n_queued] = n;
  head->indices[head->n_queued] = index;
  return ++head->n_queued == head->batch;
}

guint
kling_head_n_queued (const KlingHead * head)
{
  return head->n_queued;
}

void
kling_head_drop_queued (KlingHead * head)
{
  head->n_queued = 0;
}

GstFlowReturn
kling_head_add_frame (KlingHead * head, guint64 n, const gfloat * mel,
    gboolean silent, GCancellable * cancellable, KlingHeadFrameFunc func,
    gpointer user_data, GError ** error)
{
  GstFlowReturn ret = GST_FLOW_OK;
  guint index;

  if (!kling_head_portrait_for (head, n, &index, error))
    return GST_FLOW_ERROR;
  if (silent) {
    ret = kling_head_run (head, cancellable, func, user_data, error);
    if (ret == GST_FLOW_OK)
      ret = func (gst_buffer_copy (kling_head_get_portrait (head, index)), n,
          user_data);
  } else if (kling_head_queue (head, n, index, mel)) {
    ret = kling_head_run (head, cancellable, func, user_data, error);
  }
  return ret;
}

GstFlowReturn
kling_head_run (KlingHead * head, GCancellable * cancellable,
    KlingHeadFrameFunc func, gpointer user_data, GError ** error)
{
  GstFlowReturn ret = GST_FLOW_OK;
  const KlingTensor *out;
  KlingOutputs *outputs;
  GError *err = NULL;
  guint i, n = head->n_queued;

  if (n == 0)
    return GST_FLOW_OK;
  head->n_queued = 0;
  outputs = call (head, n, head->mel_batch, head->face_batch, cancellable,
      &out, &err);
  if (outputs == NULL) {
    ret = g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED) ?
        GST_FLOW_FLUSHING : GST_FLOW_ERROR;
    if (ret == GST_FLOW_ERROR)
      g_propagate_error (error, err);
    else
      g_error_free (err);
    return ret;
  }
  for (i = 0; i < n && ret == GST_FLOW_OK; i++) {
    Portrait *p = &g_array_index (head->portraits, Portrait,
        head->indices[i]);
    GstBuffer *frame = gst_buffer_copy_deep (p->buffer);

    if (!kling_face_paste (p->face, (const gfloat *) out->data +
            i * head->crop_len, frame)) {
      gst_buffer_unref (frame);
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
          "Could not write frame %" G_GUINT64_FORMAT, head->frames[i]);
      ret = GST_FLOW_ERROR;
      break;
    }
    ret = func (frame, head->frames[i], user_data);
  }
  kling_outputs_free (outputs);
  return ret;
}
