/* gst-kling-serve: the table of generations, admission and status
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure GLib and json-glib, unit-tested (tests/check/servecore.c), locked
 * inside: the RTSP clients' threads, the media bus handlers and the status
 * endpoint all use it.  Times are g_get_monotonic_time() microseconds,
 * passed in so tests control them.
 */
#ifndef __KLING_SERVE_JOBS_H__
#define __KLING_SERVE_JOBS_H__

#include <glib.h>
#include "kling-serve-query.h"

G_BEGIN_DECLS

typedef enum
{
  KLING_JOB_PENDING,            /* admitted, its media not built yet */
  KLING_JOB_RUNNING,
  KLING_JOB_DONE,               /* the whole clip went out */
  KLING_JOB_CANCELLED,          /* every client left before the end */
  KLING_JOB_FAILED
} KlingJobState;

typedef enum
{
  KLING_ADMIT_NEW,              /* a new generation */
  KLING_ADMIT_SHARED,           /* joins the running generation of the key */
  KLING_ADMIT_REPLAY,           /* the finished clip from the cache */
  KLING_ADMIT_FULL              /* --max-jobs generations already run */
} KlingAdmit;

typedef struct _KlingJobTable KlingJobTable;

/* @history: finished jobs kept for the status */
KlingJobTable *kling_job_table_new (guint max_jobs, guint history);
void kling_job_table_free (KlingJobTable * t);

/* A request with canonical @key (kling_serve_request_key) arrives; @cached:
 * its clip is in the cache.  *@id: the job (0 for a replay). */
KlingAdmit kling_job_table_admit (KlingJobTable * t, const gchar * key,
    const KlingServeRequest * req, gboolean cached, gint64 now,
    guint64 * id);
/* The key of the media serving @key now: "job-N" while a generation of it
 * is admitted or running (so identical requests share it), else a fresh
 * "replay-N". */
gchar *kling_job_table_media_key (KlingJobTable * t, const gchar * key);
/* The generation's pipeline is being built: the pending job of @key turns
 * running; a job is made if none was admitted (a SETUP without DESCRIBE).
 * Returns its id. */
guint64 kling_job_table_start (KlingJobTable * t, const gchar * key,
    const KlingServeRequest * req, gint64 now);

void kling_job_table_progress (KlingJobTable * t, guint64 id,
    guint64 chunks_done, guint64 chunks, gdouble percent, gint64 now);
void kling_job_table_add_frames (KlingJobTable * t, guint64 id, guint n,
    gint64 now);
/* Ends a pending or running job; a later call for the same job is a no-op
 * (returns FALSE). */
gboolean kling_job_table_finish (KlingJobTable * t, guint64 id,
    KlingJobState state, const gchar * error, gint64 now);
/* Pending jobs older than @max_age whose media never came are dropped
 * (their DESCRIBE failed); returns how many. */
guint kling_job_table_reap (KlingJobTable * t, gint64 now, gint64 max_age);

void kling_job_table_count_bad_request (KlingJobTable * t);
guint kling_job_table_active (KlingJobTable * t);
KlingJobState kling_job_table_get_state (KlingJobTable * t, guint64 id);
const gchar *kling_job_state_name (KlingJobState state);

typedef struct
{
  guint64 entries, bytes, max_bytes, hits;
} KlingCacheStats;

/* The status document (docs/serving.md, "Status"); @cache may be NULL. */
gchar *kling_job_table_to_json (KlingJobTable * t,
    const KlingCacheStats * cache, gint64 now);

G_END_DECLS

#endif
