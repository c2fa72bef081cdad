/* gst-kling: frames between a generator thread and a streaming thread,
 * and the timing of a live source's frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_FRAMES_H__
#define __KLING_FRAMES_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* A bounded queue: the producer blocks while it is full, the consumer
 * while it is empty; either side can be woken for good (cancel: the
 * producer stops; flushing: the consumer returns). */
typedef struct _KlingFrameQueue KlingFrameQueue;

typedef enum
{
  KLING_FRAME_OK,               /* *item holds a frame */
  KLING_FRAME_EMPTY,            /* non-blocking pop: nothing yet */
  KLING_FRAME_FLUSHING,         /* the consumer was told to stop */
  KLING_FRAME_DONE              /* the producer finished; see take_error */
} KlingFrameResult;

KlingFrameQueue *kling_frame_queue_new (guint max_items,
    GDestroyNotify free_item);
void kling_frame_queue_free (KlingFrameQueue * q);

/* Producer: blocks while full; FALSE (and @item freed) once cancelled. */
gboolean kling_frame_queue_push (KlingFrameQueue * q, gpointer item);
/* Producer: no more frames; @error (taken, may be NULL) says why. */
void kling_frame_queue_finish (KlingFrameQueue * q, GError * error);
/* Wakes a blocked producer for good. */
void kling_frame_queue_cancel (KlingFrameQueue * q);
gboolean kling_frame_queue_is_cancelled (KlingFrameQueue * q);

/* Consumer: the oldest frame; with @block, waits for one (or done or
 * flushing).  Frames still queued are handed out before DONE. */
KlingFrameResult kling_frame_queue_pop (KlingFrameQueue * q, gboolean block,
    gpointer * item);
/* Consumer: drops up to @n of the oldest frames, but never the newest
 * (better late content than a repeat); returns how many. */
guint kling_frame_queue_drop (KlingFrameQueue * q, guint n);
void kling_frame_queue_set_flushing (KlingFrameQueue * q, gboolean flushing);
/* The producer's error, once DONE (NULL if it ended normally). */
GError *kling_frame_queue_take_error (KlingFrameQueue * q);
/* Empties the queue and forgets done/cancel/flushing: ready to start over. */
void kling_frame_queue_reset (KlingFrameQueue * q);

/* Frame slots of a source: slot n starts at start + n / fps. */
typedef struct
{
  gint fps_n, fps_d;
  guint64 total;                /* slots in all; G_MAXUINT64: endless */
  guint64 next;                 /* the slot the next frame fills */
  GstClockTime start;           /* running time of slot 0 (live), or 0 */
} KlingPacer;

void kling_pacer_init (KlingPacer * p, gint fps_n, gint fps_d,
    guint64 total);
gboolean kling_pacer_done (const KlingPacer * p);
/* The timestamp of slot @n, and its duration. */
GstClockTime kling_pacer_slot_time (const KlingPacer * p, guint64 n);
GstClockTime kling_pacer_slot_duration (const KlingPacer * p, guint64 n);

/* Live: @now is the running time when the next frame could go out.  The
 * slots whose whole duration has already passed are lost (a live source
 * cannot go back): returns how many, and moves next past them (never
 * beyond total).  Nothing is late before start is set (a live source
 * sets it when its first frame is there). */
guint64 kling_pacer_skip_late (KlingPacer * p, GstClockTime now);

G_END_DECLS

#endif
