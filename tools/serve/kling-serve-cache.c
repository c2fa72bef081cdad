/* gst-kling-serve: finished clips kept for replay, bounded in bytes
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>
#include "kling-serve-cache.h"

#define CLIP_SUFFIX ".mkv"
#define PART_SUFFIX ".part"

typedef struct
{
  gchar *name;                  /* <sha256>.mkv */
  guint64 size;
  guint64 used;                 /* LRU stamp */
} Clip;

struct _KlingClipCache
{
  GMutex lock;
  gchar *dir;
  guint64 max_bytes, bytes, stamp;
  GHashTable *clips;            /* name -> Clip */
};

static void
clip_free (Clip * c)
{
  g_free (c->name);
  g_free (c);
}

static gchar *
clip_name (const gchar * key)
{
  gchar *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  gchar *name = g_strconcat (sum, CLIP_SUFFIX, NULL);

  g_free (sum);
  return name;
}

/* under the lock */
static void
evict (KlingClipCache * c)
{
  while (c->bytes > c->max_bytes && g_hash_table_size (c->clips) > 0) {
    GHashTableIter iter;
    gpointer value;
    Clip *oldest = NULL;
    gchar *path;

    g_hash_table_iter_init (&iter, c->clips);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      if (oldest == NULL || ((Clip *) value)->used < oldest->used)
        oldest = value;
    path = g_build_filename (c->dir, oldest->name, NULL);
    g_unlink (path);
    g_free (path);
    c->bytes -= oldest->size;
    g_hash_table_remove (c->clips, oldest->name);
  }
}

typedef struct
{
  gchar *name;
  guint64 size;
  gint64 mtime;
} Found;

static gint
by_mtime (gconstpointer a, gconstpointer b)
{
  const Found *x = a, *y = b;

  return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

KlingClipCache *
kling_clip_cache_new (const gchar * dir, guint64 max_bytes, GError ** error)
{
  KlingClipCache *c;
  GDir *d;
  const gchar *name;
  GList *found = NULL, *l;

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int e = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "cannot make the cache directory %s: %s", dir, g_strerror (e));
    return NULL;
  }
  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;

  c = g_new0 (KlingClipCache, 1);
  g_mutex_init (&c->lock);
  c->dir = g_strdup (dir);
  c->max_bytes = max_bytes;
  c->clips = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) clip_free);

  while ((name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);
    GStatBuf st;

    if (g_str_has_suffix (name, PART_SUFFIX)) {
      /* a clip whose generation a crash or a kill cut short */
      g_unlink (path);
    } else if (g_str_has_suffix (name, CLIP_SUFFIX)
        && strlen (name) == 64 + strlen (CLIP_SUFFIX)
        && g_stat (path, &st) == 0 && S_ISREG (st.st_mode)) {
      Found *f = g_new0 (Found, 1);

      f->name = g_strdup (name);
      f->size = st.st_size;
      f->mtime = st.st_mtime;
      found = g_list_prepend (found, f);
    }
    g_free (path);
  }
  g_dir_close (d);

  found = g_list_sort (found, by_mtime);
  for (l = found; l; l = l->next) {
    Found *f = l->data;
    Clip *clip = g_new0 (Clip, 1);

    clip->name = f->name;
    clip->size = f->size;
    clip->used = ++c->stamp;
    g_hash_table_insert (c->clips, clip->name, clip);
    c->bytes += clip->size;
  }
  g_list_free_full (found, g_free);
  evict (c);
  return c;
}

void
kling_clip_cache_free (KlingClipCache * c)
{
  if (c == NULL)
    return;
  g_hash_table_unref (c->clips);
  g_free (c->dir);
  g_mutex_clear (&c->lock);
  g_free (c);
}

gboolean
kling_clip_cache_contains (KlingClipCache * c, const gchar * key)
{
  gchar *name = clip_name (key);
  gboolean ret;

  g_mutex_lock (&c->lock);
  ret = g_hash_table_contains (c->clips, name);
  g_mutex_unlock (&c->lock);
  g_free (name);
  return ret;
}

gchar *
kling_clip_cache_lookup (KlingClipCache * c, const gchar * key)
{
  gchar *name = clip_name (key), *path = NULL;
  Clip *clip;

  g_mutex_lock (&c->lock);
  clip = g_hash_table_lookup (c->clips, name);
  if (clip) {
    clip->used = ++c->stamp;
    path = g_build_filename (c->dir, name, NULL);
  }
  g_mutex_unlock (&c->lock);
  g_free (name);
  return path;
}

gchar *
kling_clip_cache_part_path (KlingClipCache * c, const gchar * key, guint64 job)
{
  gchar *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  gchar *file = g_strdup_printf ("%s.%" G_GUINT64_FORMAT PART_SUFFIX, sum,
      job);
  gchar *path = g_build_filename (c->dir, file, NULL);

  g_free (sum);
  g_free (file);
  return path;
}

gboolean
kling_clip_cache_commit (KlingClipCache * c, const gchar * key,
    const gchar * part, GError ** error)
{
  gchar *name = clip_name (key);
  gchar *path = g_build_filename (c->dir, name, NULL);
  GStatBuf st;
  Clip *clip;

  if (g_stat (part, &st) != 0 || (guint64) st.st_size > c->max_bytes) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC, "%s is missing or "
        "larger than the whole cache (%" G_GUINT64_FORMAT " bytes)", part,
        c->max_bytes);
    g_unlink (part);
    g_free (name);
    g_free (path);
    return FALSE;
  }
  g_mutex_lock (&c->lock);
  if (g_rename (part, path) != 0) {
    int e = errno;

    g_mutex_unlock (&c->lock);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "cannot rename %s to %s: %s", part, path, g_strerror (e));
    g_unlink (part);
    g_free (name);
    g_free (path);
    return FALSE;
  }
  clip = g_hash_table_lookup (c->clips, name);
  if (clip) {
    /* two generations of one key finished: the newer file replaced it */
    c->bytes -= clip->size;
    g_free (name);
  } else {
    clip = g_new0 (Clip, 1);
    clip->name = name;
    g_hash_table_insert (c->clips, clip->name, clip);
  }
  clip->size = st.st_size;
  clip->used = ++c->stamp;
  c->bytes += clip->size;
  evict (c);
  g_mutex_unlock (&c->lock);
  g_free (path);
  return TRUE;
}

void
kling_clip_cache_discard (KlingClipCache * c, const gchar * part)
{
  g_unlink (part);
}

void
kling_clip_cache_get_stats (KlingClipCache * c, KlingCacheStats * s)
{
  g_mutex_lock (&c->lock);
  s->entries = g_hash_table_size (c->clips);
  s->bytes = c->bytes;
  s->max_bytes = c->max_bytes;
  s->hits = 0;
  g_mutex_unlock (&c->lock);
}
