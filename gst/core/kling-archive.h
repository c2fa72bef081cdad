/* gst-kling: model archive pre-check
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_ARCHIVE_H__
#define __KLING_ARCHIVE_H__

#include <glib.h>

G_BEGIN_DECLS

#define KLING_ARCHIVE_DEFAULT_MAX_SIZE (G_GUINT64_CONSTANT (2) << 30)

/* Checks, without libtorch, that @path is a plausible TorchScript archive:
 * a regular file, not empty, at most GST_KLING_MAX_MODEL_SIZE bytes
 * (default 2 GiB), a zip whose central directory and local headers all lie
 * inside the file, with a `data.pkl` record.  torch::jit::load has crashed
 * on malformed archives, so nothing reaches it before this passes. */
gboolean kling_archive_check (const gchar * path, GError ** error);

/* TRUE when the archive has an entry whose name ends with @suffix
 * ("/extra/kling.json").  FALSE with @error set if it is not an archive. */
gboolean kling_archive_has_entry (const gchar * path, const gchar * suffix,
    gboolean * has_entry, GError ** error);

/* The same, and the uncompressed @size of the last such entry (0 when
 * there is none). */
gboolean kling_archive_find_entry (const gchar * path, const gchar * suffix,
    gboolean * has_entry, guint64 * size, GError ** error);

G_END_DECLS

#endif
