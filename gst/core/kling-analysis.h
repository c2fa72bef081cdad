/* gst-kling: what aiproductdetect does to a frame, over kling-detector and
 * kling-copywriter: one analysed frame (its detections and the copy
 * written for one of them), detection plus copy on a frame, and a live
 * worker that analyses the newest frame while the video flows
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_ANALYSIS_H__
#define __KLING_ANALYSIS_H__

#include <gst/video/video.h>
#include "kling-copywriter.h"
#include "kling-detector.h"

G_BEGIN_DECLS

/* One analysed frame. */
typedef struct
{
  GArray *detections;           /* KlingDetection, in frame pixels */
  gint copy_index;              /* the detection the copy is about, or -1 */
  gchar *copy;
  const gchar *language;        /* of the copy: "zh" or "en" */
  /* the copywriter could write no line for the product due (NaN logits):
   * the detections stand, there is no copy */
  GError *copy_error;
} KlingAnalysis;

void kling_analysis_init (KlingAnalysis * a);
/* Empties it (no detections, no copy, no copy error). */
void kling_analysis_clear (KlingAnalysis * a);
/* Frees what kling_analysis_init allocated. */
void kling_analysis_unset (KlingAnalysis * a);
/* @dst takes @src's contents; @src is left empty. */
void kling_analysis_move (KlingAnalysis * dst, KlingAnalysis * src);

/* Detection @i as a `detection` structure (label, label-id, confidence);
 * with @with_box also x, y, width, height and, when the copy is about it,
 * copy. */
GstStructure *kling_analysis_detection (const KlingAnalysis * a, guint i,
    const gchar * const *labels, gboolean with_box);

/* Every detection (kling_analysis_detection with boxes) into @list, a
 * zeroed GValue initialised here as a GST_TYPE_LIST. */
void kling_analysis_to_list (const KlingAnalysis * a,
    const gchar * const *labels, GValue * list);

/* What an analysis runs with, copied from properties per frame. */
typedef struct
{
  gfloat threshold, iou_threshold;
  guint max_detections;
  GstClockTime copy_interval;   /* per label, in running time */
  gint language;                /* kling_copywriter_write's: 0 zh, 1 en */
} KlingAnalysisSettings;

/* Detection and copy: a detector, its labels, an optional copywriter, and
 * which label had copy when. */
typedef struct _KlingAnalyser KlingAnalyser;

/* What kling_analyser_load could not do. */
typedef enum
{
  KLING_ANALYSER_FAILED_LABELS,       /* read the labels file */
  KLING_ANALYSER_FAILED_DETECTOR,     /* load the detector */
  KLING_ANALYSER_FAILED_COPYWRITER    /* load the copywriter */
} KlingAnalyserFailure;

/* Loads the detector at @detector_path, with the labels of @labels_file
 * (one a line, bounded by KLING_LABELS_FILE_MAX_BYTES) or else its
 * manifest's, and the copywriter at @copy_path (NULL: no copy).  NULL on
 * failure, @failure saying what failed and @error why. */
KlingAnalyser *kling_analyser_load (const gchar * detector_path,
    const gchar * labels_file, const gchar * copy_path,
    const KlingLoadOptions * options, KlingAnalyserFailure * failure,
    GError ** error);
void kling_analyser_free (KlingAnalyser * analyser);
/* The labels (NULL-terminated), and the manifests (the copywriter's NULL
 * without one). */
const gchar *const *kling_analyser_get_labels (const KlingAnalyser *
    analyser);
guint kling_analyser_get_n_labels (const KlingAnalyser * analyser);
const KlingManifest *kling_analyser_get_detector_manifest (const
    KlingAnalyser * analyser);
const KlingManifest *kling_analyser_get_copywriter_manifest (const
    KlingAnalyser * analyser);
/* One detector call's time (kling_detector_measure). */
GstClockTime kling_analyser_measure (KlingAnalyser * analyser);
/* A new stream: every label is due for copy again. */
void kling_analyser_reset (KlingAnalyser * analyser);
/* The frames' format from now on (the detector's input is set up for it);
 * waits for an analysis under way to finish. */
gboolean kling_analyser_set_format (KlingAnalyser * analyser,
    const GstVideoInfo * info, GError ** error);
/* Detects on @buf, then writes copy for the best detection whose label has
 * had none for settings->copy_interval (@frame_index seeds the copy), into
 * @out (emptied first).  A copywriter that writes no line is no failure:
 * out->copy_error says so. */
gboolean kling_analyser_run (KlingAnalyser * analyser, GstBuffer * buf,
    GstClockTime running_time, guint64 frame_index,
    const KlingAnalysisSettings * settings, GCancellable * cancellable,
    KlingAnalysis * out, GError ** error);

/* A thread running @analyser on the newest frame offered, so the video
 * never waits for it; results lag the frames they are attached to. */
typedef struct _KlingLiveAnalyser KlingLiveAnalyser;

KlingLiveAnalyser *kling_live_analyser_new (KlingAnalyser * analyser,
    GCancellable * cancellable);
/* Stops the thread (cancel the cancellable first to cut a long call
 * short) and frees what it held. */
void kling_live_analyser_free (KlingLiveAnalyser * live);
/* Hands @buf (a ref is taken) to the thread unless it is busy, replacing
 * a frame still waiting; then moves its newest result into @out: TRUE
 * when there was one.  FALSE with @error set when an analysis failed. */
gboolean kling_live_analyser_offer (KlingLiveAnalyser * live,
    GstBuffer * buf, GstClockTime running_time, guint64 frame_index,
    const KlingAnalysisSettings * settings, KlingAnalysis * out,
    GError ** error);
/* The format is about to change: the waiting frame and the results are
 * dropped, and so is the result of the analysis under way. */
void kling_live_analyser_invalidate (KlingLiveAnalyser * live);

G_END_DECLS

#endif
