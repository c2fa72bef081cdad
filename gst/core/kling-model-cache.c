/* gst-kling: one loaded copy of a model per process, when asked for
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include "kling-model-cache.h"

typedef struct
{
  gchar *key;
  KlingModel *model;
  guint users;
} Entry;

/* loads happen under the lock too: two sessions asking for the same model
 * at once must not load it twice */
static GMutex cache_lock;
static GHashTable *by_key;      /* key -> Entry (owned) */
static GHashTable *by_model;    /* KlingModel -> Entry */

gboolean
kling_model_cache_enabled (void)
{
  const gchar *env = g_getenv (KLING_SHARE_MODELS_ENV);

  return env != NULL && strcmp (env, "1") == 0;
}

static void
entry_free (Entry * e)
{
  g_free (e->key);
  g_free (e);
}

/* NULL when the file cannot be stat'ed: the loader then reports it */
static gchar *
make_key (const gchar * path, const KlingLoadOptions * options,
    const gchar * const *extra_files)
{
  GStatBuf st;
  GString *key;
  gchar *real;
  guint i;

  if (g_stat (path, &st) != 0)
    return NULL;
  real = g_canonicalize_filename (path, NULL);
  key = g_string_new (real);
  g_free (real);
  g_string_append_printf (key, "\n%" G_GINT64_FORMAT "\n%" G_GINT64_FORMAT
      "\n%s\n%d\n%d", (gint64) st.st_size, (gint64) st.st_mtime,
      options && options->device ? options->device : "cpu",
      options ? (gint) options->precision : 0, options ? options->threads : 0);
  for (i = 0; extra_files && extra_files[i]; i++)
    g_string_append_printf (key, "\n%s", extra_files[i]);
  return g_string_free (key, FALSE);
}

KlingModel *
kling_model_cache_load (const gchar * path, const KlingLoadOptions * options,
    const gchar * const *extra_files, KlingModelLoadFunc load, GError ** error)
{
  gchar *key = make_key (path, options, extra_files);
  KlingModel *model;
  Entry *e;

  if (key == NULL)
    return load (path, options, extra_files, error);

  g_mutex_lock (&cache_lock);
  if (by_key == NULL) {
    by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) entry_free);
    by_model = g_hash_table_new (g_direct_hash, g_direct_equal);
  }
  e = g_hash_table_lookup (by_key, key);
  if (e) {
    e->users++;
    g_mutex_unlock (&cache_lock);
    g_free (key);
    return e->model;
  }
  model = load (path, options, extra_files, error);
  if (model) {
    e = g_new0 (Entry, 1);
    e->key = key;
    e->model = model;
    e->users = 1;
    g_hash_table_insert (by_key, e->key, e);
    g_hash_table_insert (by_model, model, e);
    key = NULL;
  }
  g_mutex_unlock (&cache_lock);
  g_free (key);
  return model;
}

gboolean
kling_model_cache_release (KlingModel * model)
{
  Entry *e = NULL;

  g_mutex_lock (&cache_lock);
  if (by_model)
    e = g_hash_table_lookup (by_model, model);
  /* kept loaded when unused: the next request needs no load */
  if (e && e->users > 0)
    e->users--;
  g_mutex_unlock (&cache_lock);
  return e != NULL;
}

void
kling_model_cache_stats (guint * n_models, guint * n_users)
{
  GHashTableIter iter;
  gpointer value;
  guint models = 0, users = 0;

  g_mutex_lock (&cache_lock);
  if (by_key) {
    g_hash_table_iter_init (&iter, by_key);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      models++;
      users += ((Entry *) value)->users;
    }
  }
  g_mutex_unlock (&cache_lock);
  if (n_models)
    *n_models = models;
  if (n_users)
    *n_users = users;
}
