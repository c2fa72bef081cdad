/* gst-kling: detector output decoding, letterbox geometry and NMS
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_DETECTIONS_H__
#define __KLING_DETECTIONS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gfloat x0, y0, x1, y1;        /* corners, pixels */
  gfloat score;
  gint label;
} KlingDetection;

typedef enum
{
  KLING_DETECT_YOLOV8,          /* [1, 4+C, N]: cx, cy, w, h, class scores */
  KLING_DETECT_YOLOV5,          /* [1, N, 5+C]: cx, cy, w, h, obj, class scores */
  KLING_DETECT_TORCHVISION      /* boxes [N, 4] xyxy, labels [N], scores [N] */
} KlingDetectFormat;

gboolean kling_detect_format_from_string (const gchar * name,
    KlingDetectFormat * format);

/* Where a frame lands inside the model input: scaled by (scale_x,
 * scale_y) and placed at (off_x, off_y).  Letterbox keeps the aspect ratio
 * and centres the picture; stretch fills the input. */
typedef struct
{
  gint frame_width, frame_height;
  gint model_width, model_height;
  gint dest_x, dest_y, dest_width, dest_height;
  gdouble scale_x, scale_y;
} KlingLetterbox;

void kling_letterbox_init (KlingLetterbox * lb, gint frame_width,
    gint frame_height, gint model_width, gint model_height,
    gboolean keep_aspect);

/* Maps @det from model input to frame coordinates and clips it to the
 * frame.  FALSE when nothing of it is left inside the frame (a box wholly in
 * the letterbox margin). */
gboolean kling_letterbox_to_frame (const KlingLetterbox * lb,
    KlingDetection * det);

/* Appends every candidate scoring at least @threshold to @out (an array of
 * KlingDetection), in model input coordinates. */
void kling_decode_yolov8 (const gfloat * data, gint n_candidates,
    gint n_classes, gfloat threshold, GArray * out);
void kling_decode_yolov5 (const gfloat * data, gint n_candidates,
    gint n_classes, gfloat threshold, GArray * out);
void kling_decode_torchvision (const gfloat * boxes, const gint64 * labels,
    const gfloat * scores, gint n, gint label_offset, gint n_classes,
    gfloat threshold, GArray * out);

gfloat kling_detection_iou (const KlingDetection * a,
    const KlingDetection * b);

/* Class-wise non-maximum suppression: sorts @dets by score, drops boxes
 * overlapping a better one of the same class by more than @iou_threshold,
 * keeps at most @max_detections. */
void kling_nms (GArray * dets, gfloat iou_threshold, guint max_detections);

/* A labels file: UTF-8, one label per line (line N = class id N), a
 * trailing empty line ignored.  Files longer than @max_bytes are refused
 * with an error naming the limit (an endless file such as /dev/zero is
 * read only up to it).  A NULL-terminated array to g_strfreev(). */
#define KLING_LABELS_FILE_MAX_BYTES (1024 * 1024)
gchar **kling_labels_read_file (const gchar * path, gsize max_bytes,
    GError ** error);

G_END_DECLS

#endif
