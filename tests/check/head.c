/* gst-kling: kling-head over tests/models' talking-head packages
 * (host-energy paints the lower half of the face grey at the loudness of
 * the window's centre, (loudest band + 4) / 8; host-bad-shape returns
 * half the face)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "kling-head.h"

#define W 64
#define H 64

static KlingHead *
load (const gchar * name, guint batch, GCancellable * cancellable,
    GError ** error)
{
  KlingLoadOptions opts = { "cpu", KLING_PRECISION_FLOAT32, 1 };
  gchar *path = g_build_filename (g_getenv ("KLING_TEST_MODELS"), name,
      NULL);
  KlingHead *head = kling_head_load (path, &opts, batch, cancellable, error);

  g_free (path);
  return head;
}

/* An RGB portrait: every byte @value except a marker pixel per row. */
static GstBuffer *
portrait (GstVideoInfo * info, guint8 value)
{
  GstBuffer *buf;
  GstMapInfo map;
  gint y;

  gst_video_info_set_format (info, GST_VIDEO_FORMAT_RGB, W, H);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memset (map.data, value, map.size);
  for (y = 0; y < H; y++)
    map.data[y * GST_VIDEO_INFO_PLANE_STRIDE (info, 0)] = y;
  gst_buffer_unmap (buf, &map);
  return buf;
}

static guint8
pixel (GstBuffer * buf, const GstVideoInfo * info, gint x, gint y)
{
  guint8 v;

  gst_buffer_extract (buf, y * GST_VIDEO_INFO_PLANE_STRIDE (info, 0) + 3 * x,
      &v, 1);
  return v;
}

typedef struct
{
  GPtrArray *frames;
  GArray *numbers;
  guint stop_after;             /* 0: never */
} Made;

static GstFlowReturn
collect (GstBuffer * frame, guint64 n, gpointer user_data)
{
  Made *made = user_data;

  g_ptr_array_add (made->frames, frame);
  g_array_append_val (made->numbers, n);
  return made->frames->len == made->stop_after ? GST_FLOW_FLUSHING :
      GST_FLOW_OK;
}

static void
fill (gfloat * mel, gsize n, gfloat v)
{
  gsize i;

  for (i = 0; i < n; i++)
    mel[i] = v;
}

/* The contract is checked at once, with the shapes and the fix named. */
GST_START_TEST (test_contract_checked)
{
  GError *error = NULL;
  KlingHead *head = load ("host-bad-shape.pt", 0, NULL, &error);

  fail_unless (head == NULL);
  fail_unless (strstr (error->message, "float32[1, 3, 16, 32], expected "
          "float32[1, 3, 32, 32]") != NULL, "%s", error->message);
  fail_unless (strstr (error->message, "docs/models.md") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  /* a package that does not load: the backend's own error */
  fail_if (load ("no-such-host.pt", 0, NULL, &error));
  fail_unless (g_error_matches (error, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_NOT_FOUND), "%s", error->message);
  g_clear_error (&error);

  head = load ("host-energy.pt", 0, NULL, &error);
  fail_unless (head != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (kling_head_get_batch (head), 4);
  fail_unless_equals_string (kling_head_get_name (head), "mouth-energy");
  fail_unless_equals_int (kling_head_get_spec (head)->face_width, 32);
  fail_unless (kling_head_get_call_time (head) > 0);
  kling_head_free (head);
}

GST_END_TEST;

/* Frames queue up to the batch, come out of one call in order, each in
 * its own portrait, the mouth from its own window, nothing outside the
 * box changed. */
GST_START_TEST (test_batch)
{
  KlingFaceBox box = { 16, 16, 32, 32 };
  GError *error = NULL;
  KlingHead *head = load ("host-energy.pt", 3, NULL, &error);
  const KlingHeadSpec *spec = kling_head_get_spec (head);
  gsize mel_len = (gsize) spec->mel.n_mels * spec->mel.frames;
  gfloat *mel = g_new (gfloat, mel_len);
  Made made = { g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_buffer_unref), g_array_new (FALSE, FALSE, sizeof (guint64)), 0 };
  const guint8 want[3] = { 255, 0, 128 };
  GstBuffer *p0, *p1;
  GstVideoInfo info;
  gint i, x, y;

  p0 = portrait (&info, 100);
  p1 = portrait (&info, 50);
  fail_unless (kling_head_add_portrait (head, p0, &info, &box, 0, &error));
  fail_unless (kling_head_add_portrait (head, p1, &info, &box, 0, &error));
  fail_unless_equals_int (kling_head_n_portraits (head), 2);
  fail_unless (kling_head_get_portrait (head, 1) == p1);
  fail_unless_equals_int (kling_head_get_box (head, 0)->width, 32);

  fill (mel, mel_len, 4.0f);
  fail_if (kling_head_queue (head, 10, 0, mel));
  fill (mel, mel_len, -4.0f);
  fail_if (kling_head_queue (head, 11, 1, mel));
  fill (mel, mel_len, 0.0f);
  fail_unless (kling_head_queue (head, 12, 0, mel));    /* full */
  fail_unless_equals_int (kling_head_n_queued (head), 3);
  fail_unless_equals_int (kling_head_run (head, NULL, collect, &made,
          &error), GST_FLOW_OK);
  fail_unless_equals_int (kling_head_n_queued (head), 0);
  fail_unless_equals_int (made.frames->len, 3);
  for (i = 0; i < 3; i++) {
    GstBuffer *f = g_ptr_array_index (made.frames, i);
    GstBuffer *src = i == 1 ? p1 : p0;

    fail_unless_equals_uint64 (g_array_index (made.numbers, guint64, i),
        10 + i);
    /* the lower half of the box: the loudness; within 1 for rounding */
    fail_unless (ABS (pixel (f, &info, 32, 40) - want[i]) <= 1,
        "frame %d: %d", i, pixel (f, &info, 32, 40));
    for (y = 0; y < H; y++)
      for (x = 0; x < W; x++)
        if (x < 16 || x >= 48 || y < 16 || y >= 48)
          fail_unless_equals_int (pixel (f, &info, x, y),
              pixel (src, &info, x, y));
  }
  g_ptr_array_set_size (made.frames, 0);
  g_array_set_size (made.numbers, 0);

  /* dropped (a flush): nothing is called */
  kling_head_queue (head, 13, 0, mel);
  kling_head_drop_queued (head);
  fail_unless_equals_int (kling_head_run (head, NULL, collect, &made,
          &error), GST_FLOW_OK);
  fail_unless_equals_int (made.frames->len, 0);

  /* the receiver's return stops the run */
  kling_head_queue (head, 14, 0, mel);
  kling_head_queue (head, 15, 0, mel);
  made.stop_after = 1;
  fail_unless_equals_int (kling_head_run (head, NULL, collect, &made,
          &error), GST_FLOW_FLUSHING);
  fail_unless_equals_int (made.frames->len, 1);
  fail_unless (error == NULL);

  kling_head_clear (head);
  fail_unless_equals_int (kling_head_n_portraits (head), 0);
  gst_buffer_unref (p0);
  gst_buffer_unref (p1);
  g_ptr_array_unref (made.frames);
  g_array_unref (made.numbers);
  g_free (mel);
  kling_head_free (head);
}

GST_END_TEST;

static guint
n_loop (gpointer user_data)
{
  return ((GPtrArray *) user_data)->len;
}

static GstBuffer *
get_loop (guint index, gpointer user_data)
{
  GPtrArray *loop = user_data;

  return index < loop->len ? gst_buffer_ref (g_ptr_array_index (loop,
          index)) : NULL;
}

static const KlingHeadSource loop_source = { n_loop, get_loop };

/* Frames through a portrait source: frame n speaks portrait n mod 2; a
 * silent frame is its portrait as it came, after the frames queued
 * before it; without a face box anywhere, the error names face-box. */
GST_START_TEST (test_frames_from_source)
{
  GError *error = NULL;
  KlingHead *head = load ("host-energy.pt", 4, NULL, &error);
  gfloat *mel = g_new (gfloat, 80 * 16);
  Made made = { g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_buffer_unref), g_array_new (FALSE, FALSE, sizeof (guint64)), 0 };
  GPtrArray *loop = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstVideoInfo info;
  guint index;
  guint64 n;

  g_ptr_array_add (loop, portrait (&info, 100));
  g_ptr_array_add (loop, portrait (&info, 50));
  /* the manifest's box: a quarter in from each side */
  kling_head_set_source (head, &info, NULL, 0, &loop_source, loop);
  fail_unless (kling_head_portrait_for (head, 3, &index, &error));
  fail_unless_equals_int (index, 1);
  fail_unless_equals_int (kling_head_get_box (head, 1)->x, 16);

  fill (mel, 80 * 16, 4.0f);
  for (n = 0; n < 3; n++)
    fail_unless_equals_int (kling_head_add_frame (head, n, mel, FALSE, NULL,
            collect, &made, &error), GST_FLOW_OK);
  fail_unless_equals_int (made.frames->len, 0);        /* queued */
  fail_unless_equals_int (kling_head_add_frame (head, 3, mel, TRUE, NULL,
          collect, &made, &error), GST_FLOW_OK);
  fail_unless_equals_int (made.frames->len, 4);
  for (n = 0; n < 4; n++) {
    GstBuffer *f = g_ptr_array_index (made.frames, n);

    fail_unless_equals_uint64 (g_array_index (made.numbers, guint64, n), n);
    /* outside the box: the frame's own portrait */
    fail_unless_equals_int (pixel (f, &info, 5, 5), n % 2 ? 50 : 100);
    if (n < 3) {
      fail_unless_equals_int (pixel (f, &info, 32, 40), 255);
    } else {                    /* at rest: the portrait, byte for byte */
      GstMapInfo a, b;

      gst_buffer_map (f, &a, GST_MAP_READ);
      gst_buffer_map (g_ptr_array_index (loop, 1), &b, GST_MAP_READ);
      fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0);
      gst_buffer_unmap (f, &a);
      gst_buffer_unmap (g_ptr_array_index (loop, 1), &b);
    }
  }
  kling_head_free (head);

  head = load ("host-nobox.pt", 0, NULL, &error);
  kling_head_set_source (head, &info, NULL, 0, &loop_source, loop);
  fail_unless_equals_int (kling_head_add_frame (head, 0, mel, FALSE, NULL,
          collect, &made, &error), GST_FLOW_ERROR);
  fail_unless (strstr (error->message, "face-box") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  kling_head_free (head);
  g_ptr_array_unref (loop);
  g_ptr_array_unref (made.frames);
  g_array_unref (made.numbers);
  g_free (mel);
}

GST_END_TEST;

/* A cancelled call is a flush, not an error; a portrait smaller than its
 * caps is an error. */
GST_START_TEST (test_cancel_and_bad_portrait)
{
  KlingFaceBox box = { 16, 16, 32, 32 };
  GCancellable *cancellable = g_cancellable_new ();
  GError *error = NULL;
  KlingHead *head = load ("host-energy.pt", 0, cancellable, &error);
  gfloat *mel = g_new0 (gfloat, 80 * 16);
  Made made = { g_ptr_array_new (), g_array_new (FALSE, FALSE,
        sizeof (guint64)), 0 };
  GstVideoInfo info;
  GstBuffer *p = portrait (&info, 90), *small;

  fail_unless (kling_head_add_portrait (head, p, &info, &box, -1, &error));
  kling_head_queue (head, 0, 0, mel);
  g_cancellable_cancel (cancellable);
  fail_unless_equals_int (kling_head_run (head, cancellable, collect, &made,
          &error), GST_FLOW_FLUSHING);
  fail_unless (error == NULL);
  fail_unless_equals_int (made.frames->len, 0);

  small = gst_buffer_new_allocate (NULL, 100, NULL);
  fail_if (kling_head_add_portrait (head, small, &info, &box, -1, &error));
  fail_unless (strstr (error->message, "portrait frame 1") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  fail_unless_equals_int (kling_head_n_portraits (head), 1);
  gst_buffer_unref (small);
  gst_buffer_unref (p);
  g_ptr_array_unref (made.frames);
  g_array_unref (made.numbers);
  g_free (mel);
  kling_head_free (head);
  g_object_unref (cancellable);
}

GST_END_TEST;

static Suite *
head_suite (void)
{
  Suite *s = suite_create ("head");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_contract_checked);
  tcase_add_test (tc, test_batch);
  tcase_add_test (tc, test_frames_from_source);
  tcase_add_test (tc, test_cancel_and_bad_portrait);
  return s;
}

GST_CHECK_MAIN (head);
