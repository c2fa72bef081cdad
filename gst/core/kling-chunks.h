/* gst-kling: splitting a long clip into model-sized chunks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_CHUNKS_H__
#define __KLING_CHUNKS_H__

#include <glib.h>

G_BEGIN_DECLS

/* A model makes @chunk_frames frames at a time.  Every chunk after the
 * first is conditioned on the last @context_frames frames of the one
 * before, which it reproduces in its own first frames; those are not shown
 * twice, so it adds chunk_frames - context_frames new frames. */
typedef struct
{
  guint index;                  /* chunk number */
  guint64 first_frame;          /* clip frame number of the first new frame */
  guint skip;                   /* leading frames of the chunk not emitted */
  guint emit;                   /* frames emitted from this chunk */
} KlingChunk;

/* Chunks needed for @total_frames; 0 if the parameters are unusable. */
guint64 kling_chunks_count (guint64 total_frames, guint chunk_frames,
    guint context_frames);

/* Chunk @index of a clip of @total_frames (G_MAXUINT64: endless). */
gboolean kling_chunks_get (guint64 total_frames, guint chunk_frames,
    guint context_frames, guint64 index, KlingChunk * chunk);

G_END_DECLS

#endif
