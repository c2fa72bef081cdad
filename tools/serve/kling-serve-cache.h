/* gst-kling-serve: finished clips kept for replay, bounded in bytes
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure GLib, unit-tested (tests/check/servecore.c), locked inside.  A
 * clip is written as DIR/<sha256 of the request key>.<job>.part while it
 * is generated, renamed to DIR/<sha256>.mkv when the whole clip is out;
 * beyond @max_bytes the least recently used clips are deleted.  A replay
 * still reading a deleted clip keeps its open file (POSIX).
 */
#ifndef __KLING_SERVE_CACHE_H__
#define __KLING_SERVE_CACHE_H__

#include <glib.h>
#include "kling-serve-jobs.h"

G_BEGIN_DECLS

typedef struct _KlingClipCache KlingClipCache;

/* Makes @dir if needed, indexes the clips there (oldest first), deletes
 * leftover .part files and evicts down to @max_bytes. */
KlingClipCache *kling_clip_cache_new (const gchar * dir, guint64 max_bytes,
    GError ** error);
void kling_clip_cache_free (KlingClipCache * c);

gboolean kling_clip_cache_contains (KlingClipCache * c, const gchar * key);
/* The clip's path for a replay (marks it recently used), or NULL. */
gchar *kling_clip_cache_lookup (KlingClipCache * c, const gchar * key);
gchar *kling_clip_cache_part_path (KlingClipCache * c, const gchar * key,
    guint64 job);
/* The finished @part becomes the clip of @key; FALSE (part deleted) when
 * it is larger than the whole cache or cannot be renamed. */
gboolean kling_clip_cache_commit (KlingClipCache * c, const gchar * key,
    const gchar * part, GError ** error);
void kling_clip_cache_discard (KlingClipCache * c, const gchar * part);
void kling_clip_cache_get_stats (KlingClipCache * c, KlingCacheStats * s);

G_END_DECLS

#endif
