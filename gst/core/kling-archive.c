/* gst-kling: model archive pre-check
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* fseeko, off_t */
#define _POSIX_C_SOURCE 200809L

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "kling-archive.h"
#include "kling-backend-error.h"

#define EOCD_SIG 0x06054b50
#define EOCD64_SIG 0x06064b50
#define EOCD64_LOCATOR_SIG 0x07064b50
#define CDIR_SIG 0x02014b50
#define LOCAL_SIG 0x04034b50
#define EOCD_MIN 22
#define MAX_COMMENT 65535

static guint16
rd16 (const guint8 * p)
{
  return p[0] | (p[1] << 8);
}

static guint32
rd32 (const guint8 * p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) |
      ((guint32) p[3] << 24);
}

static guint64
rd64 (const guint8 * p)
{
  return (guint64) rd32 (p) | ((guint64) rd32 (p + 4) << 32);
}

static gboolean
read_at (FILE * f, guint64 offset, gpointer buf, gsize len)
{
  if (fseeko (f, (off_t) offset, SEEK_SET) != 0)
    return FALSE;
  return fread (buf, 1, len, f) == len;
}

static guint64
max_model_size (void)
{
  const gchar *env = g_getenv ("GST_KLING_MAX_MODEL_SIZE");
  guint64 v;

  if (env && g_ascii_string_to_unsigned (env, 10, 1, G_MAXUINT64, &v, NULL))
    return v;
  return KLING_ARCHIVE_DEFAULT_MAX_SIZE;
}

#define BAD(...) G_STMT_START { \
    g_set_error (error, KLING_BACKEND_ERROR, \
        KLING_BACKEND_ERROR_INVALID_MODEL, __VA_ARGS__); \
    goto out; } G_STMT_END

/* Walks the central directory; calls @visit for each entry name. */
typedef gboolean (*VisitFunc) (const gchar * name, guint64 size,
    gpointer user_data);

static gboolean
walk_archive (const gchar * path, VisitFunc visit, gpointer user_data,
    GError ** error)
{
  GStatBuf st;
  FILE *f = NULL;
  guint8 *tail = NULL, *cdir = NULL;
  gsize tail_len;
  guint64 size, cd_offset, cd_size, n_entries, i, pos;
  gssize eocd = -1, k;
  gboolean ok = FALSE, has_data_pkl = FALSE;

  if (g_stat (path, &st) != 0) {
    int e = errno;
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_NOT_FOUND,
        "model file %s: %s", path, g_strerror (e));
    return FALSE;
  }
  if (!S_ISREG (st.st_mode))
    BAD ("model %s is not a regular file", path);
  size = st.st_size;
  if (size == 0)
    BAD ("model file %s is empty", path);
  if (size > max_model_size ())
    BAD ("model file %s is %" G_GUINT64_FORMAT " bytes, more than the %"
        G_GUINT64_FORMAT " allowed; raise GST_KLING_MAX_MODEL_SIZE if you "
        "trust it", path, size, max_model_size ());
  if (size < EOCD_MIN)
    BAD ("model %s is not a TorchScript archive (too short to be a zip "
        "file); see docs/models.md", path);

  f = g_fopen (path, "rb");
  if (f == NULL) {
    int e = errno;
    g_set_error (error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_NOT_FOUND,
        "model file %s: %s", path, g_strerror (e));
    return FALSE;
  }

  tail_len = MIN (size, EOCD_MIN + MAX_COMMENT);
  tail = g_malloc (tail_len);
  if (!read_at (f, size - tail_len, tail, tail_len))
    BAD ("could not read model %s", path);
  for (k = (gssize) tail_len - EOCD_MIN; k >= 0; k--) {
    if (rd32 (tail + k) == EOCD_SIG
        && (gsize) k + EOCD_MIN + rd16 (tail + k + 20) == tail_len) {
      eocd = k;
      break;
    }
  }
  if (eocd < 0)
    BAD ("model %s is not a TorchScript archive (no zip directory); it may "
        "be truncated or not a model at all; see docs/models.md", path);

  n_entries = rd16 (tail + eocd + 10);
  cd_size = rd32 (tail + eocd + 12);
  cd_offset = rd32 (tail + eocd + 16);
  if (n_entries == 0xffff || cd_size == 0xffffffff
      || cd_offset == 0xffffffff) {
    guint8 loc[20], rec[56];
    guint64 eocd_pos = size - tail_len + eocd;

    if (eocd_pos < 20 || !read_at (f, eocd_pos - 20, loc, 20)
        || rd32 (loc) != EOCD64_LOCATOR_SIG || rd64 (loc + 8) + 56 > size
        || !read_at (f, rd64 (loc + 8), rec, 56) || rd32 (rec) != EOCD64_SIG)
      BAD ("model %s has a damaged zip64 directory", path);
    n_entries = rd64 (rec + 32);
    cd_size = rd64 (rec + 40);
    cd_offset = rd64 (rec + 48);
  }
  if (cd_offset > size || cd_size > size - cd_offset || n_entries == 0
      || n_entries > cd_size / 46)
    BAD ("model %s has a damaged zip directory (it points outside the "
        "file); the file is probably truncated", path);

  cdir = g_malloc (cd_size);
  if (!read_at (f, cd_offset, cdir, cd_size))
    BAD ("could not read the zip directory of model %s", path);

  for (i = 0, pos = 0; i < n_entries; i++) {
    guint64 comp, uncomp, local;
    guint name_len, extra_len, comment_len;
    guint8 local_hdr[30];
    gchar *name;
    gboolean go_on;

    if (pos + 46 > cd_size || rd32 (cdir + pos) != CDIR_SIG)
      BAD ("model %s has a damaged zip directory (entry %" G_GUINT64_FORMAT
          ")", path, i);
    comp = rd32 (cdir + pos + 20);
    uncomp = rd32 (cdir + pos + 24);
    name_len = rd16 (cdir + pos + 28);
    extra_len = rd16 (cdir + pos + 30);
    comment_len = rd16 (cdir + pos + 32);
    local = rd32 (cdir + pos + 42);
    if (pos + 46 + name_len + extra_len + comment_len > cd_size || name_len == 0)
      BAD ("model %s has a damaged zip directory (entry %" G_GUINT64_FORMAT
          ")", path, i);
    if (comp == 0xffffffff || uncomp == 0xffffffff || local == 0xffffffff) {
      /* zip64 extended information extra field */
      const guint8 *x = cdir + pos + 46 + name_len;
      guint xl = 0;
      gboolean found = FALSE;

      while (xl + 4 <= extra_len) {
        guint id = rd16 (x + xl), len = rd16 (x + xl + 2);
        if (xl + 4 + len > extra_len)
          break;
        if (id == 1) {
          const guint8 *v = x + xl + 4;
          guint used = 0;
          if (uncomp == 0xffffffff && used + 8 <= len) {
            uncomp = rd64 (v);  /* the uncompressed size comes first */
            used += 8;
          }
          if (comp == 0xffffffff && used + 8 <= len) {
            comp = rd64 (v + used);
            used += 8;
          }
          if (local == 0xffffffff && used + 8 <= len)
            local = rd64 (v + used);
          found = TRUE;
          break;
        }
        xl += 4 + len;
      }
      if (!found)
        BAD ("model %s has a damaged zip64 entry", path);
    }
    if (local > cd_offset || comp > cd_offset - local
        || !read_at (f, local, local_hdr, 30) || rd32 (local_hdr) != LOCAL_SIG)
      BAD ("model %s has a damaged zip entry (its data lies outside the "
          "file); the file is probably truncated or corrupt", path);

    name = g_strndup ((const gchar *) cdir + pos + 46, name_len);
    if (g_str_has_suffix (name, "/data.pkl") || strcmp (name, "data.pkl") == 0)
      has_data_pkl = TRUE;
    go_on = visit ? visit (name, uncomp, user_data) : TRUE;
    g_free (name);
    if (!go_on)
      break;
    pos += 46 + name_len + extra_len + comment_len;
  }
  if (!has_data_pkl && i == n_entries)
    BAD ("model %s is a zip file but not a TorchScript archive (no "
        "data.pkl); save it with torch.jit.save; see docs/models.md", path);
  ok = TRUE;

out:
  if (f)
    fclose (f);
  g_free (tail);
  g_free (cdir);
  return ok;
}

#undef BAD

gboolean
kling_archive_check (const gchar * path, GError ** error)
{
  return walk_archive (path, NULL, NULL, error);
}

typedef struct
{
  const gchar *suffix;
  gboolean found;
  guint64 size;
} FindEntry;

static gboolean
find_entry (const gchar * name, guint64 size, gpointer user_data)
{
  FindEntry *find = user_data;

  if (g_str_has_suffix (name, find->suffix)) {
    find->found = TRUE;
    find->size = size;
  }
  return TRUE;
}

gboolean
kling_archive_find_entry (const gchar * path, const gchar * suffix,
    gboolean * has_entry, guint64 * size, GError ** error)
{
  FindEntry find = { suffix, FALSE, 0 };

  if (!walk_archive (path, find_entry, &find, error))
    return FALSE;
  *has_entry = find.found;
  if (size)
    *size = find.size;
  return TRUE;
}

gboolean
kling_archive_has_entry (const gchar * path, const gchar * suffix,
    gboolean * has_entry, GError ** error)
{
  return kling_archive_find_entry (path, suffix, has_entry, NULL, error);
}
