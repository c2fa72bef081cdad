/* gst-kling: splitting a long clip into model-sized chunks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-chunks.h"

guint64
kling_chunks_count (guint64 total, guint chunk_frames, guint context_frames)
{
  guint64 step;

  if (chunk_frames == 0 || context_frames >= chunk_frames)
    return 0;
  if (total <= chunk_frames)
    return total > 0 ? 1 : 0;
  step = chunk_frames - context_frames;
  return 1 + (total - chunk_frames + step - 1) / step;
}

gboolean
kling_chunks_get (guint64 total, guint chunk_frames, guint context_frames,
    guint64 index, KlingChunk * c)
{
  guint64 n = kling_chunks_count (total, chunk_frames, context_frames);
  guint64 step = chunk_frames - context_frames;

  if (chunk_frames == 0 || context_frames >= chunk_frames || index >= n)
    return FALSE;
  c->index = index;
  if (index == 0) {
    c->first_frame = 0;
    c->skip = 0;
    c->emit = MIN (total, chunk_frames);
  } else {
    c->first_frame = chunk_frames + (index - 1) * step;
    c->skip = context_frames;
    c->emit = MIN (step, total - c->first_frame);
  }
  return TRUE;
}
