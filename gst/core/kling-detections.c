/* gst-kling: detector output decoding, letterbox geometry and NMS
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <gio/gio.h>
#include "kling-detections.h"

gboolean
kling_detect_format_from_string (const gchar * name, KlingDetectFormat * fmt)
{
  if (g_strcmp0 (name, "yolov8") == 0)
    *fmt = KLING_DETECT_YOLOV8;
  else if (g_strcmp0 (name, "yolov5") == 0)
    *fmt = KLING_DETECT_YOLOV5;
  else if (g_strcmp0 (name, "torchvision") == 0)
    *fmt = KLING_DETECT_TORCHVISION;
  else
    return FALSE;
  return TRUE;
}

void
kling_letterbox_init (KlingLetterbox * lb, gint frame_width, gint frame_height,
    gint model_width, gint model_height, gboolean keep_aspect)
{
  lb->frame_width = frame_width;
  lb->frame_height = frame_height;
  lb->model_width = model_width;
  lb->model_height = model_height;
  if (keep_aspect) {
    gdouble s = MIN ((gdouble) model_width / frame_width,
        (gdouble) model_height / frame_height);
    lb->dest_width = CLAMP ((gint) lround (frame_width * s), 1, model_width);
    lb->dest_height = CLAMP ((gint) lround (frame_height * s), 1,
        model_height);
  } else {
    lb->dest_width = model_width;
    lb->dest_height = model_height;
  }
  lb->dest_x = (model_width - lb->dest_width) / 2;
  lb->dest_y = (model_height - lb->dest_height) / 2;
  lb->scale_x = (gdouble) lb->dest_width / frame_width;
  lb->scale_y = (gdouble) lb->dest_height / frame_height;
}

gboolean
kling_letterbox_to_frame (const KlingLetterbox * lb, KlingDetection * d)
{
  gdouble x0 = (d->x0 - lb->dest_x) / lb->scale_x;
  gdouble x1 = (d->x1 - lb->dest_x) / lb->scale_x;
  gdouble y0 = (d->y0 - lb->dest_y) / lb->scale_y;
  gdouble y1 = (d->y1 - lb->dest_y) / lb->scale_y;

  d->x0 = CLAMP (x0, 0, lb->frame_width);
  d->x1 = CLAMP (x1, 0, lb->frame_width);
  d->y0 = CLAMP (y0, 0, lb->frame_height);
  d->y1 = CLAMP (y1, 0, lb->frame_height);
  return d->x1 - d->x0 >= 1.0f && d->y1 - d->y0 >= 1.0f;
}

static void
add_box (GArray * out, gfloat cx, gfloat cy, gfloat w, gfloat h, gfloat score,
    gint label)
{
  KlingDetection d;

  if (!isfinite (cx) || !isfinite (cy) || !isfinite (w) || !isfinite (h)
      || w <= 0 || h <= 0)
    return;
  d.x0 = cx - w / 2;
  d.y0 = cy - h / 2;
  d.x1 = cx + w / 2;
  d.y1 = cy + h / 2;
  d.score = score;
  d.label = label;
  g_array_append_val (out, d);
}

void
kling_decode_yolov8 (const gfloat * data, gint n, gint n_classes,
    gfloat threshold, GArray * out)
{
  gint i, c;

  for (i = 0; i < n; i++) {
    gint best = -1;
    gfloat best_score = threshold;

    /* row-major [4 + C, N]: one class's scores for all candidates are
     * contiguous, so walk them with stride n */
    for (c = 0; c < n_classes; c++) {
      gfloat s = data[(gsize) (4 + c) * n + i];
      if (s >= best_score) {
        best_score = s;
        best = c;
      }
    }
    if (best >= 0)
      add_box (out, data[i], data[(gsize) n + i], data[(gsize) 2 * n + i],
          data[(gsize) 3 * n + i], best_score, best);
  }
}

void
kling_decode_yolov5 (const gfloat * data, gint n, gint n_classes,
    gfloat threshold, GArray * out)
{
  gint i, c, stride = 5 + n_classes;

  for (i = 0; i < n; i++) {
    const gfloat *row = data + (gsize) i * stride;
    gint best = -1;
    gfloat best_score = threshold;

    if (!(row[4] >= threshold))
      continue;
    for (c = 0; c < n_classes; c++) {
      gfloat s = row[4] * row[5 + c];
      if (s >= best_score) {
        best_score = s;
        best = c;
      }
    }
    if (best >= 0)
      add_box (out, row[0], row[1], row[2], row[3], best_score, best);
  }
}

void
kling_decode_torchvision (const gfloat * boxes, const gint64 * labels,
    const gfloat * scores, gint n, gint label_offset, gint n_classes,
    gfloat threshold, GArray * out)
{
  gint i;

  for (i = 0; i < n; i++) {
    const gfloat *b = boxes + (gsize) i * 4;
    gint64 label = labels[i] - label_offset;

    if (!(scores[i] >= threshold) || label < 0 || label >= n_classes)
      continue;
    add_box (out, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0],
        b[3] - b[1], scores[i], (gint) label);
  }
}

gfloat
kling_detection_iou (const KlingDetection * a, const KlingDetection * b)
{
  gfloat ix = MIN (a->x1, b->x1) - MAX (a->x0, b->x0);
  gfloat iy = MIN (a->y1, b->y1) - MAX (a->y0, b->y0);
  gfloat inter, uni;

  if (ix <= 0 || iy <= 0)
    return 0.0f;
  inter = ix * iy;
  uni = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0)
      - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

static gint
by_score_desc (gconstpointer pa, gconstpointer pb)
{
  const KlingDetection *a = pa, *b = pb;

  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  /* ties: a stable, position-based order keeps results deterministic */
  if (a->x0 != b->x0)
    return a->x0 < b->x0 ? -1 : 1;
  return a->y0 < b->y0 ? -1 : a->y0 > b->y0;
}

void
kling_nms (GArray * dets, gfloat iou_threshold, guint max_detections)
{
  KlingDetection *d;
  guint i, j, kept = 0;

  g_array_sort (dets, by_score_desc);
  d = (KlingDetection *) dets->data;
  for (i = 0; i < dets->len && kept < max_detections; i++) {
    gboolean keep = TRUE;

    for (j = 0; j < kept && keep; j++)
      if (d[j].label == d[i].label
          && kling_detection_iou (&d[j], &d[i]) > iou_threshold)
        keep = FALSE;
    if (keep)
      d[kept++] = d[i];
  }
  g_array_set_size (dets, kept);
}

/* Reads @path whole unless it is longer than @limit bytes. */
static gboolean
read_bounded (const gchar * path, gsize limit, gchar ** contents,
    GError ** error)
{
  GFile *file = g_file_new_for_path (path);
  GFileInputStream *in = g_file_read (file, NULL, error);
  gchar *buf;
  gsize got = 0;
  gboolean ok;

  g_object_unref (file);
  if (in == NULL)
    return FALSE;
  buf = g_malloc (limit + 2);
  ok = g_input_stream_read_all (G_INPUT_STREAM (in), buf, limit + 1, &got,
      NULL, error);
  g_object_unref (in);
  if (ok && got > limit) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
        "%s is longer than %" G_GSIZE_FORMAT " bytes, the limit for a "
        "labels file (one label per line)", path, limit);
    ok = FALSE;
  }
  if (!ok) {
    g_free (buf);
    return FALSE;
  }
  buf[got] = '\0';
  *contents = buf;
  return TRUE;
}

gchar **
kling_labels_read_file (const gchar * path, gsize max_bytes, GError ** error)
{
  gchar *contents = NULL, **lines;
  GPtrArray *labels;
  guint i;

  if (!read_bounded (path, max_bytes, &contents, error))
    return NULL;
  if (!g_utf8_validate (contents, -1, NULL)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "labels file %s is not valid UTF-8", path);
    g_free (contents);
    return NULL;
  }
  lines = g_strsplit (contents, "\n", -1);
  labels = g_ptr_array_new ();
  for (i = 0; lines[i]; i++) {
    gchar *l = g_strstrip (lines[i]);
    /* a trailing newline is not one more class */
    if (*l || lines[i + 1] != NULL)
      g_ptr_array_add (labels, g_strdup (l));
  }
  while (labels->len > 0 && *(gchar *) labels->pdata[labels->len - 1] == 0) {
    g_free (labels->pdata[labels->len - 1]);
    g_ptr_array_set_size (labels, labels->len - 1);
  }
  g_strfreev (lines);
  g_free (contents);
  if (labels->len == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "labels file %s has no labels", path);
    g_ptr_array_free (labels, TRUE);
    return NULL;
  }
  g_ptr_array_add (labels, NULL);
  return (gchar **) g_ptr_array_free (labels, FALSE);
}
