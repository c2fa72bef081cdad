/* gst-kling-serve: the table of generations, admission and status
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <json-glib/json-glib.h>
#include "kling-serve-jobs.h"

typedef struct
{
  guint64 id;
  gchar *key;
  KlingJobState state;
  gchar *prompt;
  guint64 seed;
  gdouble duration;
  gint width, height;
  guint clients;
  guint64 chunks_done, chunks, frames;
  gdouble percent;
  gint64 created, started, first_frame, generated, finished;
  gchar *error;
} Job;

struct _KlingJobTable
{
  GMutex lock;
  guint max_jobs, history;
  guint64 next_id, next_replay;
  GHashTable *active;           /* key -> Job, pending or running */
  GQueue done;                  /* finished Jobs, newest first */
  guint64 generations, shared_joins, replays, rejected_busy, bad_requests;
};

static void
job_free (Job * j)
{
  g_free (j->key);
  g_free (j->prompt);
  g_free (j->error);
  g_free (j);
}

KlingJobTable *
kling_job_table_new (guint max_jobs, guint history)
{
  KlingJobTable *t = g_new0 (KlingJobTable, 1);

  g_mutex_init (&t->lock);
  t->max_jobs = max_jobs;
  t->history = history;
  t->next_id = 1;
  t->active = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) job_free);
  g_queue_init (&t->done);
  return t;
}

void
kling_job_table_free (KlingJobTable * t)
{
  if (t == NULL)
    return;
  g_hash_table_unref (t->active);
  g_queue_clear_full (&t->done, (GDestroyNotify) job_free);
  g_mutex_clear (&t->lock);
  g_free (t);
}

static Job *
job_new (KlingJobTable * t, const gchar * key, const KlingServeRequest * req,
    KlingJobState state, gint64 now)
{
  Job *j = g_new0 (Job, 1);

  j->id = t->next_id++;
  j->key = g_strdup (key);
  j->state = state;
  j->prompt = g_strdup (req->prompt);
  j->seed = req->seed;
  j->duration = req->duration;
  j->width = req->width;
  j->height = req->height;
  j->clients = 1;
  j->created = now;
  j->started = j->first_frame = j->generated = j->finished = -1;
  if (state == KLING_JOB_RUNNING)
    j->started = now;
  g_hash_table_insert (t->active, j->key, j);
  t->generations++;
  return j;
}

KlingAdmit
kling_job_table_admit (KlingJobTable * t, const gchar * key,
    const KlingServeRequest * req, gboolean cached, gint64 now, guint64 * id)
{
  KlingAdmit ret;
  Job *j;

  g_mutex_lock (&t->lock);
  j = g_hash_table_lookup (t->active, key);
  *id = 0;
  if (j) {
    j->clients++;
    t->shared_joins++;
    *id = j->id;
    ret = KLING_ADMIT_SHARED;
  } else if (cached) {
    t->replays++;
    ret = KLING_ADMIT_REPLAY;
  } else if (g_hash_table_size (t->active) < t->max_jobs) {
    *id = job_new (t, key, req, KLING_JOB_PENDING, now)->id;
    ret = KLING_ADMIT_NEW;
  } else {
    t->rejected_busy++;
    ret = KLING_ADMIT_FULL;
  }
  g_mutex_unlock (&t->lock);
  return ret;
}

gchar *
kling_job_table_media_key (KlingJobTable * t, const gchar * key)
{
  gchar *ret;
  Job *j;

  g_mutex_lock (&t->lock);
  j = g_hash_table_lookup (t->active, key);
  if (j)
    ret = g_strdup_printf ("job-%" G_GUINT64_FORMAT, j->id);
  else
    ret = g_strdup_printf ("replay-%" G_GUINT64_FORMAT, ++t->next_replay);
  g_mutex_unlock (&t->lock);
  return ret;
}

guint64
kling_job_table_start (KlingJobTable * t, const gchar * key,
    const KlingServeRequest * req, gint64 now)
{
  guint64 id;
  Job *j;

  g_mutex_lock (&t->lock);
  j = g_hash_table_lookup (t->active, key);
  if (j == NULL)
    j = job_new (t, key, req, KLING_JOB_RUNNING, now);
  if (j->state == KLING_JOB_PENDING) {
    j->state = KLING_JOB_RUNNING;
    j->started = now;
  }
  id = j->id;
  g_mutex_unlock (&t->lock);
  return id;
}

/* under the lock */
static Job *
find_active (KlingJobTable * t, guint64 id)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, t->active);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Job *) value)->id == id)
      return value;
  return NULL;
}

void
kling_job_table_progress (KlingJobTable * t, guint64 id, guint64 chunks_done,
    guint64 chunks, gdouble percent, gint64 now)
{
  Job *j;

  g_mutex_lock (&t->lock);
  j = find_active (t, id);
  if (j) {
    j->chunks_done = MAX (j->chunks_done, chunks_done);
    j->chunks = chunks;
    j->percent = MAX (j->percent, percent);
    if (chunks > 0 && j->chunks_done >= chunks && j->generated < 0)
      j->generated = now;
  }
  g_mutex_unlock (&t->lock);
}

void
kling_job_table_add_frames (KlingJobTable * t, guint64 id, guint n, gint64 now)
{
  Job *j;

  g_mutex_lock (&t->lock);
  j = find_active (t, id);
  if (j) {
    if (j->frames == 0 && n > 0)
      j->first_frame = now;
    j->frames += n;
  }
  g_mutex_unlock (&t->lock);
}

gboolean
kling_job_table_finish (KlingJobTable * t, guint64 id, KlingJobState state,
    const gchar * error, gint64 now)
{
  Job *j;

  g_return_val_if_fail (state >= KLING_JOB_DONE, FALSE);

  g_mutex_lock (&t->lock);
  j = find_active (t, id);
  if (j) {
    g_hash_table_steal (t->active, j->key);
    j->state = state;
    j->finished = now;
    j->error = g_strdup (error);
    g_queue_push_head (&t->done, j);
    while (g_queue_get_length (&t->done) > t->history)
      job_free (g_queue_pop_tail (&t->done));
  }
  g_mutex_unlock (&t->lock);
  return j != NULL;
}

guint
kling_job_table_reap (KlingJobTable * t, gint64 now, gint64 max_age)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_mutex_lock (&t->lock);
  g_hash_table_iter_init (&iter, t->active);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Job *j = value;

    if (j->state == KLING_JOB_PENDING && now - j->created > max_age) {
      g_hash_table_iter_remove (&iter);
      n++;
    }
  }
  g_mutex_unlock (&t->lock);
  return n;
}

void
kling_job_table_count_bad_request (KlingJobTable * t)
{
  g_mutex_lock (&t->lock);
  t->bad_requests++;
  g_mutex_unlock (&t->lock);
}

guint
kling_job_table_active (KlingJobTable * t)
{
  guint n;

  g_mutex_lock (&t->lock);
  n = g_hash_table_size (t->active);
  g_mutex_unlock (&t->lock);
  return n;
}

KlingJobState
kling_job_table_get_state (KlingJobTable * t, guint64 id)
{
  KlingJobState state = KLING_JOB_FAILED;
  Job *j;
  GList *l;

  g_mutex_lock (&t->lock);
  j = find_active (t, id);
  for (l = t->done.head; j == NULL && l; l = l->next)
    if (((Job *) l->data)->id == id)
      j = l->data;
  if (j)
    state = j->state;
  g_mutex_unlock (&t->lock);
  return state;
}

const gchar *
kling_job_state_name (KlingJobState state)
{
  static const gchar *names[] = { "pending", "running", "done", "cancelled",
    "failed"
  };

  return state <= KLING_JOB_FAILED ? names[state] : "unknown";
}

static void
add_time (JsonBuilder * b, const gchar * name, gint64 t)
{
  json_builder_set_member_name (b, name);
  if (t < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, t);
}

static void
add_job (JsonBuilder * b, const Job * j)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, (gint64) j->id);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, kling_job_state_name (j->state));
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, j->prompt);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) j->seed);
  json_builder_set_member_name (b, "duration");
  json_builder_add_double_value (b, j->duration);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, j->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, j->height);
  json_builder_set_member_name (b, "clients");
  json_builder_add_int_value (b, j->clients);
  json_builder_set_member_name (b, "chunks_done");
  json_builder_add_int_value (b, (gint64) j->chunks_done);
  json_builder_set_member_name (b, "chunks");
  json_builder_add_int_value (b, (gint64) j->chunks);
  json_builder_set_member_name (b, "percent");
  json_builder_add_double_value (b, j->percent);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, (gint64) j->frames);
  add_time (b, "created_us", j->created);
  add_time (b, "started_us", j->started);
  add_time (b, "first_frame_us", j->first_frame);
  add_time (b, "generated_us", j->generated);
  add_time (b, "finished_us", j->finished);
  json_builder_set_member_name (b, "error");
  if (j->error)
    json_builder_add_string_value (b, j->error);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

static gint
by_id (gconstpointer a, gconstpointer b)
{
  const Job *x = a, *y = b;

  return x->id < y->id ? -1 : x->id > y->id;
}

gchar *
kling_job_table_to_json (KlingJobTable * t, const KlingCacheStats * cache,
    gint64 now)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  GList *active, *l;
  guint running = 0, pending = 0;

  g_mutex_lock (&t->lock);
  active = g_list_sort (g_hash_table_get_values (t->active), by_id);
  for (l = active; l; l = l->next) {
    if (((Job *) l->data)->state == KLING_JOB_PENDING)
      pending++;
    else
      running++;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "now_us");
  json_builder_add_int_value (b, now);
  json_builder_set_member_name (b, "max_jobs");
  json_builder_add_int_value (b, t->max_jobs);
  json_builder_set_member_name (b, "running");
  json_builder_add_int_value (b, running);
  /* no request waits: beyond max_jobs the answer is 503 at once; pending
   * counts the admitted ones whose pipeline is being built */
  json_builder_set_member_name (b, "queue");
  json_builder_add_int_value (b, pending);
  json_builder_set_member_name (b, "generations");
  json_builder_add_int_value (b, (gint64) t->generations);
  json_builder_set_member_name (b, "shared_joins");
  json_builder_add_int_value (b, (gint64) t->shared_joins);
  json_builder_set_member_name (b, "rejected_busy");
  json_builder_add_int_value (b, (gint64) t->rejected_busy);
  json_builder_set_member_name (b, "bad_requests");
  json_builder_add_int_value (b, (gint64) t->bad_requests);
  json_builder_set_member_name (b, "cache");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, cache != NULL);
  json_builder_set_member_name (b, "hits");
  json_builder_add_int_value (b, (gint64) t->replays);
  json_builder_set_member_name (b, "entries");
  json_builder_add_int_value (b, cache ? (gint64) cache->entries : 0);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, cache ? (gint64) cache->bytes : 0);
  json_builder_set_member_name (b, "max_bytes");
  json_builder_add_int_value (b, cache ? (gint64) cache->max_bytes : 0);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "jobs");
  json_builder_begin_array (b);
  for (l = active; l; l = l->next)
    add_job (b, l->data);
  for (l = t->done.head; l; l = l->next)
    add_job (b, l->data);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_mutex_unlock (&t->lock);
  g_list_free (active);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}
