/* gst-kling: a detector model over the backend API
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-detector.h"
#include "kling-input.h"

struct _KlingDetector
{
  KlingModel *model;
  KlingManifest *manifest;
  KlingDetectFormat format;
  KlingInputSpec spec;
  KlingInput *input;            /* for the current caps */
};

KlingDetector *
kling_detector_load (const gchar * path, const KlingLoadOptions * options,
    gboolean labels_given, GError ** error)
{
  KlingDetector *d = g_new0 (KlingDetector, 1);

  d->model = kling_package_load (path, "detect", options, labels_given,
      &d->manifest, error);
  if (d->model == NULL) {
    g_free (d);
    return NULL;
  }
  /* the task check accepted the format already */
  kling_detect_format_from_string (d->manifest->output_format, &d->format);
  kling_input_spec_from_manifest (&d->spec, d->manifest);
  return d;
}

void
kling_detector_free (KlingDetector * d)
{
  if (d == NULL)
    return;
  kling_input_free (d->input);
  kling_model_free (d->model);
  kling_manifest_free (d->manifest);
  g_free (d);
}

const KlingManifest *
kling_detector_get_manifest (const KlingDetector * d)
{
  return d->manifest;
}

gboolean
kling_detector_set_format (KlingDetector * d, const GstVideoInfo * info,
    GError ** error)
{
  g_clear_pointer (&d->input, kling_input_free);
  d->input = kling_input_new (&d->spec, info, NULL, error);
  return d->input != NULL;
}

/* The input values as the model takes them. */
static void
wrap_input (KlingDetector * d, KlingInput * in, KlingTensor * t)
{
  gint c = kling_input_get_channels (in);
  gint w = d->spec.width, h = d->spec.height;
  gfloat *values = kling_input_get_values (in);

  if (d->format == KLING_DETECT_TORCHVISION) {
    /* a list of [C, H, W] images: channels-last strides, no transpose */
    kling_tensor_init_packed_image (t, KLING_DTYPE_FLOAT32, values, w, h, c,
        c, (gsize) w * c * sizeof (gfloat));
    t->n_dims = 3;
    t->shape[0] = t->shape[1];
    t->shape[1] = t->shape[2];
    t->shape[2] = t->shape[3];
    t->strides[0] = t->strides[1];
    t->strides[1] = t->strides[2];
    t->strides[2] = t->strides[3];
  } else if (d->manifest->input_nhwc) {
    gint64 shape[4] = { 1, h, w, c };
    kling_tensor_init_contiguous (t, KLING_DTYPE_FLOAT32, values, 4, shape);
  } else {
    kling_tensor_init_packed_image (t, KLING_DTYPE_FLOAT32, values, w, h, c,
        c, (gsize) w * c * sizeof (gfloat));
  }
}

static gboolean
decode (KlingDetector * d, KlingOutputs * out, gint n_classes,
    gfloat threshold, GArray * dets, GError ** error)
{
  const KlingTensor *t;
  gint64 shape[3] = { 1, -1, -1 };

  switch (d->format) {
    case KLING_DETECT_YOLOV8:
      shape[1] = 4 + n_classes;
      t = kling_outputs_expect (out, "forward", "0", KLING_DTYPE_FLOAT32, 3,
          shape, error);
      if (t == NULL)
        return FALSE;
      kling_decode_yolov8 (t->data, t->shape[2], n_classes, threshold, dets);
      return TRUE;
    case KLING_DETECT_YOLOV5:
      shape[2] = 5 + n_classes;
      t = kling_outputs_expect (out, "forward", "0", KLING_DTYPE_FLOAT32, 3,
          shape, error);
      if (t == NULL)
        return FALSE;
      kling_decode_yolov5 (t->data, t->shape[1], n_classes, threshold, dets);
      return TRUE;
    case KLING_DETECT_TORCHVISION:{
      /* torch.jit.script'ed torchvision detectors return (losses,
       * detections); a plain list of dicts is accepted too */
      const gchar *prefix = kling_outputs_lookup (out, "1.0.boxes") ? "1.0." :
          kling_outputs_lookup (out, "0.boxes") ? "0." : "";
      gchar *nb = g_strconcat (prefix, "boxes", NULL);
      gchar *nl = g_strconcat (prefix, "labels", NULL);
      gchar *ns = g_strconcat (prefix, "scores", NULL);
      const KlingTensor *boxes, *labels = NULL, *scores = NULL;
      gint64 bshape[2] = { -1, 4 };
      gboolean ok = FALSE;

      boxes = kling_outputs_expect (out, "forward", nb, KLING_DTYPE_FLOAT32,
          2, bshape, error);
      if (boxes) {
        gint64 n[1] = { boxes->shape[0] };
        labels = kling_outputs_expect (out, "forward", nl, KLING_DTYPE_INT64,
            1, n, error);
        if (labels)
          scores = kling_outputs_expect (out, "forward", ns,
              KLING_DTYPE_FLOAT32, 1, n, error);
      }
      if (scores) {
        kling_decode_torchvision (boxes->data, labels->data, scores->data,
            boxes->shape[0], kling_manifest_get_int (d->manifest,
                "output.label_offset", 0), n_classes, threshold, dets);
        ok = TRUE;
      }
      g_free (nb);
      g_free (nl);
      g_free (ns);
      return ok;
    }
  }
  return FALSE;
}

gboolean
kling_detector_run (KlingDetector * d, const GstVideoFrame * frame,
    gint n_classes, gfloat threshold, gfloat iou_threshold,
    guint max_detections, GArray * dets, GCancellable * cancellable,
    GError ** error)
{
  const KlingLetterbox *lb;
  KlingTensor tensor;
  KlingOutputs *out;
  guint i, kept = 0;
  gboolean ok;

  g_return_val_if_fail (d->input != NULL, FALSE);

  kling_input_fill (d->input, frame);
  wrap_input (d, d->input, &tensor);
  out = kling_model_call (d->model, "forward", &tensor, 1, cancellable, error);
  if (out == NULL)
    return FALSE;
  g_array_set_size (dets, 0);
  ok = decode (d, out, n_classes, threshold, dets, error);
  kling_outputs_free (out);
  if (!ok)
    return FALSE;

  lb = kling_input_get_letterbox (d->input);
  for (i = 0; i < dets->len; i++) {
    KlingDetection det = g_array_index (dets, KlingDetection, i);
    if (kling_letterbox_to_frame (lb, &det))
      g_array_index (dets, KlingDetection, kept++) = det;
  }
  g_array_set_size (dets, kept);
  kling_nms (dets, iou_threshold, max_detections);
  return TRUE;
}

gboolean
kling_detector_find_best (KlingDetector * detector, const guint8 * rgba,
    gint width, gint height, gint n_classes, gfloat iou_threshold,
    KlingDetection * best, GstVideoRectangle * box,
    GCancellable * cancellable, GError ** error)
{
  const KlingManifest *m = kling_detector_get_manifest (detector);
  gsize size = (gsize) width * height * 4;
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;
  GArray *dets;
  gboolean ok;
  guint i;

  best->label = -1;
  best->score = -1;
  if (n_classes <= 0)
    n_classes = m->labels ? g_strv_length (m->labels) : 0;
  if (n_classes == 0) {
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_OUTPUT,
        "the detector's manifest has no labels");
    return FALSE;
  }
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBA, width, height);
  /* the picture is only read: wrap it, no copy */
  buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      (gpointer) rgba, size, 0, size, NULL, NULL);
  dets = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  ok = kling_detector_set_format (detector, &info, error);
  if (ok) {
    gst_video_frame_map (&frame, &info, buf, GST_MAP_READ);
    /* every candidate, so the best score can be told when it is too low */
    ok = kling_detector_run (detector, &frame, n_classes, 0.01f,
        iou_threshold, 16, dets, cancellable, error);
    gst_video_frame_unmap (&frame);
  }
  gst_buffer_unref (buf);
  for (i = 0; ok && i < dets->len; i++) {
    const KlingDetection *d = &g_array_index (dets, KlingDetection, i);
    if (best->label < 0 || d->score > best->score)
      *best = *d;
  }
  if (ok && best->label >= 0 && box) {
    box->x = CLAMP ((gint) best->x0, 0, width - 1);
    box->y = CLAMP ((gint) best->y0, 0, height - 1);
    box->w = CLAMP ((gint) (best->x1 + 0.5f), box->x + 1, width) - box->x;
    box->h = CLAMP ((gint) (best->y1 + 0.5f), box->y + 1, height) - box->y;
  }
  g_array_free (dets, TRUE);
  return ok;
}

guint64
kling_detector_measure (KlingDetector * d)
{
  GstVideoInfo info;
  KlingInput *in;
  KlingTensor tensor;
  guint64 best = 0;
  gint i;

  gst_video_info_set_format (&info, d->spec.format, d->spec.width,
      d->spec.height);
  in = kling_input_new (&d->spec, &info, NULL, NULL);
  if (in == NULL)
    return 0;
  kling_input_fill_grey (in, 128);
  wrap_input (d, in, &tensor);
  for (i = 0; i < 3; i++) {
    gint64 start = g_get_monotonic_time ();
    KlingOutputs *out = kling_model_call (d->model, "forward", &tensor, 1,
        NULL, NULL);
    guint64 t = (guint64) (g_get_monotonic_time () - start) * 1000;

    if (out == NULL) {
      best = 0;
      break;
    }
    kling_outputs_free (out);
    if (i > 0)                  /* the first call warms up */
      best = best == 0 ? t : MIN (best, t);
  }
  kling_input_free (in);
  return best;
}
