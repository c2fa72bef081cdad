/* gst-kling: a talking-head model at work: its portraits, cropped once,
 * and frames batched into model calls
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_HEAD_H__
#define __KLING_HEAD_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include "kling-backend.h"
#include "kling-face.h"

G_BEGIN_DECLS

typedef struct _KlingHead KlingHead;

/* Loads @path for task `talking-head` and checks its contract with one
 * call on silence, whose time is kept.  @batch frames per call, 0: the
 * manifest's.  NULL with @error set: the backend's error when the package
 * does not load (KLING_BACKEND_ERROR_NOT_FOUND: no such file), else the
 * output found and the one the contract wants. */
KlingHead *kling_head_load (const gchar * path,
    const KlingLoadOptions * options, guint batch,
    GCancellable * cancellable, GError ** error);
void kling_head_free (KlingHead * head);

const KlingHeadSpec *kling_head_get_spec (const KlingHead * head);
const gchar *kling_head_get_name (const KlingHead * head);
guint kling_head_get_batch (const KlingHead * head);
/* How long the checking call took. */
GstClockTime kling_head_get_call_time (const KlingHead * head);

/* --- portraits --------------------------------------------------------- */

/* Appends portrait @buffer (a ref is taken), laid out as @info, its face at
 * @box, with a seam @feather pixels wide (-1: the default).  The first
 * portrait is every frame's reference face.  FALSE with @error set. */
gboolean kling_head_add_portrait (KlingHead * head, GstBuffer * buffer,
    const GstVideoInfo * info, const KlingFaceBox * box, gint feather,
    GError ** error);
guint kling_head_n_portraits (const KlingHead * head);
/* Portrait @index as it came (the host at rest). */
GstBuffer *kling_head_get_portrait (const KlingHead * head, guint index);
const KlingFaceBox *kling_head_get_box (const KlingHead * head, guint index);
/* Forgets the portraits and the frames queued. */
void kling_head_clear (KlingHead * head);

/* Where the portraits come from: how many there are so far, and
 * portrait @index (a ref). */
typedef struct
{
  guint (*n_portraits) (gpointer user_data);
  GstBuffer *(*get_portrait) (guint index, gpointer user_data);
} KlingHeadSource;

/* The portraits @source gives, laid out as @info, each with its face box
 * chosen by kling_face_box_choose (@box_prop may be NULL) and a seam
 * @feather pixels wide: portrait n mod their count speaks frame n, each
 * cropped when first used (kling_head_portrait_for). */
void kling_head_set_source (KlingHead * head, const GstVideoInfo * info,
    const KlingFaceBox * box_prop, gint feather,
    const KlingHeadSource * source, gpointer user_data);
/* The portrait frame @n shows, cropped: FALSE with @error set when it has
 * no face box (the message names the ways to give one) or cannot be
 * read. */
gboolean kling_head_portrait_for (KlingHead * head, guint64 n, guint * index,
    GError ** error);

/* --- frames ------------------------------------------------------------ */

/* Queues frame @n: portrait @index speaking @mel (n_mels x frames).
 * TRUE when the batch is full (run it). */
gboolean kling_head_queue (KlingHead * head, guint64 n, guint index,
    const gfloat * mel);
guint kling_head_n_queued (const KlingHead * head);
/* Forgets the frames queued (a flush). */
void kling_head_drop_queued (KlingHead * head);

/* Receives each made frame (taken) in order. */
typedef GstFlowReturn (*KlingHeadFrameFunc) (GstBuffer * frame, guint64 n,
    gpointer user_data);

/* Frame @n, its window @mel: when @silent the host at rest (its portrait
 * as it came) goes to @func after the frames queued before it; else it is
 * queued, and a full batch is run.  As kling_head_run. */
GstFlowReturn kling_head_add_frame (KlingHead * head, guint64 n,
    const gfloat * mel, gboolean silent, GCancellable * cancellable,
    KlingHeadFrameFunc func, gpointer user_data, GError ** error);

/* One call on the frames queued, each pasted into its portrait and given
 * to @func.  GST_FLOW_FLUSHING when @cancellable cut the call;
 * GST_FLOW_ERROR with @error set when the model failed (its contract in
 * the message); else @func's return. */
GstFlowReturn kling_head_run (KlingHead * head, GCancellable * cancellable,
    KlingHeadFrameFunc func, gpointer user_data, GError ** error);

G_END_DECLS
#endif
