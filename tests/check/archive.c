/* gst-kling: the model archive pre-check, on zip files the test writes
 * itself (pure C: no libtorch, no Python-made models).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "kling-archive.h"
#include "kling-backend-error.h"

typedef struct
{
  const gchar *name;
  const gchar *data;
} Entry;

static void
put16 (GByteArray * a, guint v)
{
  guint8 b[2] = { v & 0xff, (v >> 8) & 0xff };
  g_byte_array_append (a, b, 2);
}

static void
put32 (GByteArray * a, guint32 v)
{
  put16 (a, v & 0xffff);
  put16 (a, v >> 16);
}

/* A stored (uncompressed) zip of @entries, laid out as zip(1) does: local
 * headers and data, the central directory, the end record.  CRCs are left
 * 0: the pre-check does not read them. */
static GByteArray *
make_zip (const Entry * entries, guint n)
{
  GByteArray *z = g_byte_array_new ();
  GByteArray *cd = g_byte_array_new ();
  guint i;

  for (i = 0; i < n; i++) {
    guint32 offset = z->len, len = strlen (entries[i].data);
    guint name_len = strlen (entries[i].name);

    put32 (z, 0x04034b50);
    put16 (z, 20);              /* version needed */
    put16 (z, 0);               /* flags */
    put16 (z, 0);               /* stored */
    put32 (z, 0);               /* time, date */
    put32 (z, 0);               /* crc */
    put32 (z, len);
    put32 (z, len);
    put16 (z, name_len);
    put16 (z, 0);
    g_byte_array_append (z, (const guint8 *) entries[i].name, name_len);
    g_byte_array_append (z, (const guint8 *) entries[i].data, len);

    put32 (cd, 0x02014b50);
    put16 (cd, 20);             /* made by */
    put16 (cd, 20);
    put16 (cd, 0);
    put16 (cd, 0);
    put32 (cd, 0);
    put32 (cd, 0);
    put32 (cd, len);
    put32 (cd, len);
    put16 (cd, name_len);
    put16 (cd, 0);              /* extra */
    put16 (cd, 0);              /* comment */
    put16 (cd, 0);              /* disk */
    put16 (cd, 0);              /* internal attributes */
    put32 (cd, 0);              /* external attributes */
    put32 (cd, offset);
    g_byte_array_append (cd, (const guint8 *) entries[i].name, name_len);
  }
  {
    guint32 cd_offset = z->len;

    g_byte_array_append (z, cd->data, cd->len);
    put32 (z, 0x06054b50);
    put16 (z, 0);
    put16 (z, 0);
    put16 (z, n);
    put16 (z, n);
    put32 (z, cd->len);
    put32 (z, cd_offset);
    put16 (z, 0);               /* comment length */
  }
  g_byte_array_free (cd, TRUE);
  return z;
}

static const Entry model_entries[] = {
  {"model/data.pkl", "\x80\x02}q\x00."},
  {"model/code/__torch__.py", "class M(Module):\n  pass\n"},
  {"model/extra/kling.json", "{\"format\": 1}"},
  {"model/version", "3\n"},
};

static gchar *tmp_dir;

static gchar *
write_file (const gchar * name, const guint8 * data, gsize len)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);

  fail_unless (g_file_set_contents (path, (const gchar *) data, len, NULL));
  return path;
}

static gchar *
write_zip (const gchar * name, GByteArray * z)
{
  gchar *path = write_file (name, z->data, z->len);

  g_byte_array_free (z, TRUE);
  return path;
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("kling-archive-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  g_unsetenv ("GST_KLING_MAX_MODEL_SIZE");
}

static void
teardown (void)
{
  GDir *dir = g_dir_open (tmp_dir, 0, NULL);
  const gchar *name;

  while ((name = g_dir_read_name (dir))) {
    gchar *p = g_build_filename (tmp_dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (dir);
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_unsetenv ("GST_KLING_MAX_MODEL_SIZE");
}

/* Refused with @code and a message that says @needle. */
static void
expect_refused (const gchar * path, gint code, const gchar * needle)
{
  GError *err = NULL;

  fail_if (kling_archive_check (path, &err), "%s passed", path);
  fail_unless (g_error_matches (err, KLING_BACKEND_ERROR, code),
      "%s: %s (code %d)", path, err->message, err->code);
  fail_unless (strstr (err->message, needle) != NULL,
      "%s: \"%s\" does not say \"%s\"", path, err->message, needle);
  g_error_free (err);
}

GST_START_TEST (test_good_archive)
{
  gchar *path = write_zip ("good.pt", make_zip (model_entries, 4));
  GError *err = NULL;
  gboolean found = FALSE;
  guint64 size = 0;

  fail_unless (kling_archive_check (path, &err), "%s",
      err ? err->message : "");
  fail_unless (kling_archive_find_entry (path, "/extra/kling.json", &found,
          &size, &err));
  fail_unless (found);
  fail_unless_equals_uint64 (size, strlen ("{\"format\": 1}"));
  fail_unless (kling_archive_has_entry (path, "/extra/other.json", &found,
          &err));
  fail_if (found);
  /* a zip comment after the directory is allowed */
  {
    GByteArray *z = make_zip (model_entries, 4);
    gchar *commented;

    z->data[z->len - 2] = 5;
    g_byte_array_append (z, (const guint8 *) "hello", 5);
    commented = write_zip ("comment.pt", z);
    fail_unless (kling_archive_check (commented, &err), "%s",
        err ? err->message : "");
    g_free (commented);
  }
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_empty_and_missing)
{
  gchar *path = write_file ("empty.pt", (const guint8 *) "", 0);
  gchar *missing = g_build_filename (tmp_dir, "missing.pt", NULL);

  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL, "is empty");
  expect_refused (missing, KLING_BACKEND_ERROR_NOT_FOUND,
      "No such file or directory");
  expect_refused (tmp_dir, KLING_BACKEND_ERROR_INVALID_MODEL,
      "is not a regular file");
  g_free (path);
  g_free (missing);
}

GST_END_TEST;

GST_START_TEST (test_oversized)
{
  GByteArray *z = make_zip (model_entries, 4);
  gchar *limit = g_strdup_printf ("%u", z->len - 1);
  gchar *path = write_zip ("big.pt", z);
  GError *err = NULL;

  g_setenv ("GST_KLING_MAX_MODEL_SIZE", limit, TRUE);
  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL,
      "raise GST_KLING_MAX_MODEL_SIZE");
  /* at the limit it passes */
  g_free (limit);
  limit = g_strdup_printf ("%u", (guint) strtoul (g_getenv
          ("GST_KLING_MAX_MODEL_SIZE"), NULL, 10) + 1);
  g_setenv ("GST_KLING_MAX_MODEL_SIZE", limit, TRUE);
  fail_unless (kling_archive_check (path, &err), "%s",
      err ? err->message : "");
  /* a limit that is not a number leaves the default (2 GiB) */
  g_setenv ("GST_KLING_MAX_MODEL_SIZE", "lots", TRUE);
  fail_unless (kling_archive_check (path, &err), "%s",
      err ? err->message : "");
  g_free (limit);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_not_a_zip)
{
  static const gchar text[] =
      "This is a text file, not a TorchScript archive.\n";
  gchar *path = write_file ("text.pt", (const guint8 *) text, strlen (text));
  gchar *tiny = write_file ("tiny.pt", (const guint8 *) "PK\x05\x06", 4);
  GByteArray *z = make_zip (model_entries, 4);
  gchar *cut;

  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL,
      "not a TorchScript archive (no zip directory)");
  expect_refused (tiny, KLING_BACKEND_ERROR_INVALID_MODEL, "too short");
  /* truncated: the end record is gone */
  g_byte_array_set_size (z, z->len - 10);
  cut = write_zip ("cut.pt", z);
  expect_refused (cut, KLING_BACKEND_ERROR_INVALID_MODEL, "no zip directory");
  g_free (path);
  g_free (tiny);
  g_free (cut);
}

GST_END_TEST;

static void
set32 (GByteArray * z, gsize at, guint32 v)
{
  z->data[at] = v & 0xff;
  z->data[at + 1] = (v >> 8) & 0xff;
  z->data[at + 2] = (v >> 16) & 0xff;
  z->data[at + 3] = v >> 24;
}

GST_START_TEST (test_directory_outside_the_file)
{
  GByteArray *z = make_zip (model_entries, 4);
  gsize eocd = z->len - 22;
  gchar *path;

  /* the directory's offset points past the end */
  set32 (z, eocd + 16, z->len + 1000);
  path = write_zip ("outside.pt", z);
  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL,
      "damaged zip directory (it points outside the file)");
  g_free (path);

  /* its size runs past the end */
  z = make_zip (model_entries, 4);
  set32 (z, eocd + 12, 0x7fffffff);
  path = write_zip ("long-directory.pt", z);
  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL,
      "points outside the file");
  g_free (path);

  /* more entries than the directory can hold */
  z = make_zip (model_entries, 4);
  z->data[eocd + 10] = 0xfe;
  path = write_zip ("many.pt", z);
  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL,
      "damaged zip directory");
  g_free (path);

  /* an entry whose data lies past the directory */
  z = make_zip (model_entries, 4);
  {
    guint32 cd_offset = z->data[eocd + 16] | (z->data[eocd + 17] << 8) |
        (z->data[eocd + 18] << 16) | ((guint32) z->data[eocd + 19] << 24);
    set32 (z, cd_offset + 20, 0x00ffffff);      /* compressed size */
  }
  path = write_zip ("entry-outside.pt", z);
  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL,
      "damaged zip entry (its data lies outside the file)");
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_no_data_pkl)
{
  static const Entry plain[] = { {"hello.txt", "a zip, but no model"} };
  static const Entry near[] = { {"model/data.pkl.bak", "x"},
  {"model/mydata.pkl", "y"}
  };
  gchar *path = write_zip ("plain.pt", make_zip (plain, 1));
  gchar *near_path = write_zip ("near.pt", make_zip (near, 2));

  expect_refused (path, KLING_BACKEND_ERROR_INVALID_MODEL, "no data.pkl");
  expect_refused (near_path, KLING_BACKEND_ERROR_INVALID_MODEL,
      "no data.pkl");
  g_free (path);
  g_free (near_path);
}

GST_END_TEST;

static Suite *
archive_suite (void)
{
  Suite *s = suite_create ("archive");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_good_archive);
  tcase_add_test (tc, test_empty_and_missing);
  tcase_add_test (tc, test_oversized);
  tcase_add_test (tc, test_not_a_zip);
  tcase_add_test (tc, test_directory_outside_the_file);
  tcase_add_test (tc, test_no_data_pkl);
  return s;
}

GST_CHECK_MAIN (archive);
