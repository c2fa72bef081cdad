/* gst-kling: detection plus copy on a frame, and its live worker
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-analysis.h"

void
kling_analysis_init (KlingAnalysis * a)
{
  a->detections = g_array_new (FALSE, FALSE, sizeof (KlingDetection));
  a->copy = NULL;
  a->copy_index = -1;
  a->language = NULL;
  a->copy_error = NULL;
}

void
kling_analysis_clear (KlingAnalysis * a)
{
  if (a->detections)
    g_array_set_size (a->detections, 0);
  g_clear_pointer (&a->copy, g_free);
  g_clear_error (&a->copy_error);
  a->copy_index = -1;
}

void
kling_analysis_unset (KlingAnalysis * a)
{
  kling_analysis_clear (a);
  g_clear_pointer (&a->detections, g_array_unref);
}

void
kling_analysis_move (KlingAnalysis * dst, KlingAnalysis * src)
{
  kling_analysis_clear (dst);
  g_array_append_vals (dst->detections, src->detections->data,
      src->detections->len);
  dst->copy = g_steal_pointer (&src->copy);
  dst->copy_error = g_steal_pointer (&src->copy_error);
  dst->copy_index = src->copy_index;
  dst->language = src->language;
  kling_analysis_clear (src);
}

GstStructure *
kling_analysis_detection (const KlingAnalysis * a, guint i,
    const gchar * const *labels, gboolean with_box)
{
  const KlingDetection *d = &g_array_index (a->detections, KlingDetection,
      i);
  GstStructure *s = gst_structure_new ("detection",
      "label", G_TYPE_STRING, labels[d->label],
      "label-id", G_TYPE_INT, d->label,
      "confidence", G_TYPE_DOUBLE, (gdouble) d->score, NULL);

  if (with_box) {
    gst_structure_set (s, "x", G_TYPE_UINT, (guint) d->x0,
        "y", G_TYPE_UINT, (guint) d->y0,
        "width", G_TYPE_UINT, (guint) (d->x1 - (guint) d->x0),
        "height", G_TYPE_UINT, (guint) (d->y1 - (guint) d->y0), NULL);
    if ((gint) i == a->copy_index && a->copy)
      gst_structure_set (s, "copy", G_TYPE_STRING, a->copy, NULL);
  }
  return s;
}

void
kling_analysis_to_list (const KlingAnalysis * a, const gchar * const *labels,
    GValue * list)
{
  guint i;

  g_value_init (list, GST_TYPE_LIST);
  for (i = 0; i < a->detections->len; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, kling_analysis_detection (a, i, labels, TRUE));
    gst_value_list_append_and_take_value (list, &v);
  }
}

/* ---------------------------------------------------------------------- */

struct _KlingAnalyser
{
  KlingDetector *detector;
  KlingCopywriter *copywriter;
  gchar **labels;
  guint n_labels;
  KlingCopyPlan *plan;

  /* held while a frame is analysed and while the format changes, so no
   * analysis sees a half-done reconfiguration */
  GMutex lock;
  GstVideoInfo info;
  gboolean have_info;
};

KlingAnalyser *
kling_analyser_load (const gchar * detector_path, const gchar * labels_file,
    const gchar * copy_path, const KlingLoadOptions * options,
    KlingAnalyserFailure * failure, GError ** error)
{
  KlingAnalyser *an = g_new0 (KlingAnalyser, 1);

  an->plan = kling_copy_plan_new ();
  g_mutex_init (&an->lock);
  if (labels_file && !(an->labels = kling_labels_read_file (labels_file,
              KLING_LABELS_FILE_MAX_BYTES, error))) {
    *failure = KLING_ANALYSER_FAILED_LABELS;
    goto fail;
  }
  an->detector = kling_detector_load (detector_path, options,
      an->labels != NULL, error);
  if (an->detector == NULL) {
    *failure = KLING_ANALYSER_FAILED_DETECTOR;
    goto fail;
  }
  if (an->labels == NULL)
    an->labels = g_strdupv (kling_detector_get_manifest (an->detector)->labels);
  an->n_labels = g_strv_length (an->labels);
  if (copy_path && !(an->copywriter = kling_copywriter_load (copy_path,
              options, error))) {
    *failure = KLING_ANALYSER_FAILED_COPYWRITER;
    goto fail;
  }
  return an;

fail:
  kling_analyser_free (an);
  return NULL;
}

void
kling_analyser_free (KlingAnalyser * an)
{
  if (an == NULL)
    return;
  g_clear_pointer (&an->detector, kling_detector_free);
  g_clear_pointer (&an->copywriter, kling_copywriter_free);
  g_strfreev (an->labels);
  kling_copy_plan_free (an->plan);
  g_mutex_clear (&an->lock);
  g_free (an);
}

const gchar *const *
kling_analyser_get_labels (const KlingAnalyser * an)
{
  return (const gchar * const *) an->labels;
}

guint
kling_analyser_get_n_labels (const KlingAnalyser * an)
{
  return an->n_labels;
}

const KlingManifest *
kling_analyser_get_detector_manifest (const KlingAnalyser * an)
{
  return kling_detector_get_manifest (an->detector);
}

const KlingManifest *
kling_analyser_get_copywriter_manifest (const KlingAnalyser * an)
{
  return an->copywriter ? kling_copywriter_get_manifest (an->copywriter) : NULL;
}

GstClockTime
kling_analyser_measure (KlingAnalyser * an)
{
  return kling_detector_measure (an->detector);
}

void
kling_analyser_reset (KlingAnalyser * an)
{
  g_mutex_lock (&an->lock);
  kling_copy_plan_reset (an->plan);
  g_mutex_unlock (&an->lock);
}

gboolean
kling_analyser_set_format (KlingAnalyser * an, const GstVideoInfo * info,
    GError ** error)
{
  gboolean ok;

  g_mutex_lock (&an->lock);
  ok = kling_detector_set_format (an->detector, info, error);
  an->have_info = ok;
  if (ok)
    an->info = *info;
  g_mutex_unlock (&an->lock);
  return ok;
}

/* Copy for the best detection whose label has had none for the interval:
 * the label then waits the interval, whether a line came or not. */
static gboolean
write_copy (KlingAnalyser * an, const GstVideoFrame * frame,
    GstClockTime running_time, guint64 frame_index,
    const KlingAnalysisSettings * s, GCancellable * cancellable,
    KlingAnalysis * a, GError ** error)
{
  GError *err = NULL;
  GstVideoRectangle box;
  KlingDetection *d;
  gint i;

  if (an->copywriter == NULL)
    return TRUE;
  i = kling_copy_plan_pick (an->plan, (KlingDetection *) a->detections->data,
      a->detections->len, running_time, s->copy_interval);
  if (i < 0)
    return TRUE;
  d = &g_array_index (a->detections, KlingDetection, i);
  box.x = (gint) d->x0;
  box.y = (gint) d->y0;
  box.w = (gint) (d->x1 - box.x);
  box.h = (gint) (d->y1 - box.y);
  a->copy = kling_copywriter_write (an->copywriter, frame, &box, d->label,
      s->language, (guint32) frame_index, cancellable, &err);
  if (g_error_matches (err, KLING_TEXTGEN_ERROR, KLING_TEXTGEN_ERROR_NO_TOKEN)) {
    a->copy_error = err;
  } else if (a->copy == NULL) {
    g_propagate_error (error, err);
    return FALSE;
  } else {
    a->copy_index = i;
    a->language = s->language == 1 ? "en" : "zh";
  }
  kling_copy_plan_mark (an->plan, d->label, running_time);
  return TRUE;
}

gboolean
kling_analyser_run (KlingAnalyser * an, GstBuffer * buf,
    GstClockTime running_time, guint64 frame_index,
    const KlingAnalysisSettings * s, GCancellable * cancellable,
    KlingAnalysis * out, GError ** error)
{
  GstVideoFrame frame;
  gboolean ok;

  kling_analysis_clear (out);
  g_mutex_lock (&an->lock);
  if (!an->have_info
      || !gst_video_frame_map (&frame, &an->info, buf, GST_MAP_READ)) {
    g_mutex_unlock (&an->lock);
    g_set_error (error, KLING_BACKEND_ERROR,
        KLING_BACKEND_ERROR_INVALID_ARGUMENT, "%s", an->have_info ?
        "cannot map the video frame: smaller than its caps say" :
        "no video format set before the first frame");
    return FALSE;
  }
  ok = kling_detector_run (an->detector, &frame, an->n_labels, s->threshold,
      s->iou_threshold, s->max_detections, out->detections, cancellable, error)
      && write_copy (an, &frame, running_time, frame_index, s, cancellable,
      out, error);
  gst_video_frame_unmap (&frame);
  g_mutex_unlock (&an->lock);
  return ok;
}

/* ---------------------------------------------------------------------- */

struct _KlingLiveAnalyser
{
  KlingAnalyser *analyser;
  GCancellable *cancellable;
  GThread *thread;

  GMutex lock;
  GCond cond;
  GstBuffer *pending;           /* the frame waiting for the thread */
  GstClockTime pending_running_time;
  guint64 pending_index;
  KlingAnalysisSettings pending_settings;
  guint serial;                 /* bumped by each invalidation */
  gboolean busy, quit;
  KlingAnalysis result;
  gboolean has_result;
  GError *error;
};

static gpointer
live_thread (gpointer user_data)
{
  KlingLiveAnalyser *live = user_data;
  KlingAnalysis result;

  kling_analysis_init (&result);
  g_mutex_lock (&live->lock);
  while (TRUE) {
    KlingAnalysisSettings s;
    GstClockTime running_time;
    GError *error = NULL;
    GstBuffer *buf;
    guint64 index;
    guint serial;
    gboolean ok;

    while (!live->quit && live->pending == NULL)
      g_cond_wait (&live->cond, &live->lock);
    if (live->quit)
      break;
    buf = g_steal_pointer (&live->pending);
    serial = live->serial;
    running_time = live->pending_running_time;
    index = live->pending_index;
    s = live->pending_settings;
    live->busy = TRUE;
    g_mutex_unlock (&live->lock);

    ok = kling_analyser_run (live->analyser, buf, running_time, index, &s,
        live->cancellable, &result, &error);
    gst_buffer_unref (buf);

    g_mutex_lock (&live->lock);
    live->busy = FALSE;
    if (ok && serial != live->serial) {
      /* analysed in the format before the last change: stale */
      kling_analysis_clear (&result);
    } else if (ok) {
      kling_analysis_move (&live->result, &result);
      live->has_result = TRUE;
    } else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_clear_error (&live->error);
      live->error = g_steal_pointer (&error);
    }
    g_clear_error (&error);
  }
  g_mutex_unlock (&live->lock);
  kling_analysis_unset (&result);
  return NULL;
}

KlingLiveAnalyser *
kling_live_analyser_new (KlingAnalyser * analyser, GCancellable * cancellable)
{
  KlingLiveAnalyser *live = g_new0 (KlingLiveAnalyser, 1);

  live->analyser = analyser;
  live->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  g_mutex_init (&live->lock);
  g_cond_init (&live->cond);
  kling_analysis_init (&live->result);
  live->thread = g_thread_new ("kling-analysis", live_thread, live);
  return live;
}

void
kling_live_analyser_free (KlingLiveAnalyser * live)
{
  if (live == NULL)
    return;
  g_mutex_lock (&live->lock);
  live->quit = TRUE;
  g_cond_signal (&live->cond);
  g_mutex_unlock (&live->lock);
  g_thread_join (live->thread);
  gst_clear_buffer (&live->pending);
  g_clear_error (&live->error);
  kling_analysis_unset (&live->result);
  g_clear_object (&live->cancellable);
  g_mutex_clear (&live->lock);
  g_cond_clear (&live->cond);
  g_free (live);
}

gboolean
kling_live_analyser_offer (KlingLiveAnalyser * live, GstBuffer * buf,
    GstClockTime running_time, guint64 frame_index,
    const KlingAnalysisSettings * settings, KlingAnalysis * out,
    GError ** error)
{
  gboolean got = FALSE;

  g_mutex_lock (&live->lock);
  if (live->error) {
    g_propagate_error (error, g_steal_pointer (&live->error));
    g_mutex_unlock (&live->lock);
    return FALSE;
  }
  if (!live->busy) {
    /* the thread takes the newest frame; an older waiting one is dropped,
     * so results never fall further behind */
    gst_buffer_replace (&live->pending, buf);
    live->pending_running_time = running_time;
    live->pending_index = frame_index;
    live->pending_settings = *settings;
    g_cond_signal (&live->cond);
  }
  if (live->has_result) {
    kling_analysis_move (out, &live->result);
    live->has_result = FALSE;
    got = TRUE;
  }
  g_mutex_unlock (&live->lock);
  return got;
}

void
kling_live_analyser_invalidate (KlingLiveAnalyser * live)
{
  g_mutex_lock (&live->lock);
  gst_clear_buffer (&live->pending);
  kling_analysis_clear (&live->result);
  live->has_result = FALSE;
  live->serial++;
  g_mutex_unlock (&live->lock);
}
