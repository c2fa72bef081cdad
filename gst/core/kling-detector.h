/* gst-kling: a detector model over the backend API
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_DETECTOR_H__
#define __KLING_DETECTOR_H__

#include <gst/video/video.h>
#include "kling-backend.h"
#include "kling-detections.h"
#include "kling-manifest.h"

G_BEGIN_DECLS

/* A loaded `detect` package: its model, manifest and output layout, and
 * the input conversion for the current caps.  Not thread-safe: one caller
 * at a time (the element's analyse lock). */
typedef struct _KlingDetector KlingDetector;

/* Opens the package (archive check, manifest, task check).  @labels_given:
 * the caller brings its own labels, so the manifest may have none.  The
 * error is KLING_BACKEND_ERROR_NOT_FOUND when the file is missing. */
KlingDetector *kling_detector_load (const gchar * path,
    const KlingLoadOptions * options, gboolean labels_given, GError ** error);
void kling_detector_free (KlingDetector * detector);

const KlingManifest *kling_detector_get_manifest (const KlingDetector *
    detector);

/* Prepares for frames of @info (called on every caps change). */
gboolean kling_detector_set_format (KlingDetector * detector,
    const GstVideoInfo * info, GError ** error);

/* Runs the model on @frame (of the info last set) and fills @dets
 * (KlingDetection, frame pixels, clipped, after class-wise NMS) for
 * @n_classes classes.  The output's shape and dtype are checked against
 * the layout and @n_classes; a mismatch is an error naming both. */
gboolean kling_detector_run (KlingDetector * detector,
    const GstVideoFrame * frame, gint n_classes, gfloat threshold,
    gfloat iou_threshold, guint max_detections, GArray * dets,
    GCancellable * cancellable, GError ** error);

/* The best-scoring detection (any score: the caller compares it with its
 * threshold, so it can say how far under it was) on a still RGBA picture
 * (@width x @height, rows packed), with NMS at @iou_threshold, over
 * @n_classes classes (0: as many as the manifest has labels); its box
 * clipped to the picture in @box.  Returns TRUE with @best->label -1 when
 * nothing at all was detected; FALSE with @error when the model fails or
 * there are no classes.  What gst-kling-promo and gst-kling-live
 * both ask of a product photo. */
gboolean kling_detector_find_best (KlingDetector * detector,
    const guint8 * rgba, gint width, gint height, gint n_classes,
    gfloat iou_threshold, KlingDetection * best, GstVideoRectangle * box,
    GCancellable * cancellable, GError ** error);

/* Times one call on a grey picture (best of two after a warm-up call), in
 * nanoseconds; 0 when the call fails. */
guint64 kling_detector_measure (KlingDetector * detector);

G_END_DECLS

#endif
