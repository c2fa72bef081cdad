/* gst-kling: one loaded copy of a model per process, when asked for
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With GST_KLING_SHARE_MODELS=1 in the environment (gst-kling-serve sets
 * it), kling_model_load() hands every element that loads the same file
 * with the same device, precision, threads and extra files the same
 * KlingModel, loaded once and kept until the process exits; calls on it
 * are serialised by the backend's per-model lock.  Without it every load
 * is a load of its own, as before.
 */
#ifndef __KLING_MODEL_CACHE_H__
#define __KLING_MODEL_CACHE_H__

#include "kling-backend.h"

G_BEGIN_DECLS

#define KLING_SHARE_MODELS_ENV "GST_KLING_SHARE_MODELS"

typedef KlingModel *(*KlingModelLoadFunc) (const gchar * path,
    const KlingLoadOptions * options, const gchar * const *extra_files,
    GError ** error);

/* TRUE when GST_KLING_SHARE_MODELS is "1" (read on every call). */
gboolean kling_model_cache_enabled (void);

/* The cached model for these arguments, or @load's result, cached.  The
 * key holds the file's real path, size and modification time, so a
 * replaced file is loaded anew. */
KlingModel *kling_model_cache_load (const gchar * path,
    const KlingLoadOptions * options, const gchar * const *extra_files,
    KlingModelLoadFunc load, GError ** error);

/* Drops a user of @model.  TRUE when @model belongs to the cache (the
 * caller must not free it); FALSE for a model the cache does not know. */
gboolean kling_model_cache_release (KlingModel * model);

/* Models held and users of them, for logs and tests. */
void kling_model_cache_stats (guint * n_models, guint * n_users);

G_END_DECLS

#endif
