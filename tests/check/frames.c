/* gst-kling: kling-frames (frame queue and live slot timing) tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#include "kling-frames.h"

static gint freed;

static void
free_item (gpointer item)
{
  g_atomic_int_inc (&freed);
  g_free (item);
}

static gpointer
item (gint v)
{
  return g_memdup2 (&v, sizeof v);
}

static gint
pop_value (KlingFrameQueue * q)
{
  gpointer it;
  gint v;

  fail_unless_equals_int (kling_frame_queue_pop (q, TRUE, &it), KLING_FRAME_OK);
  v = *(gint *) it;
  g_free (it);
  return v;
}

GST_START_TEST (test_queue_order_done_error)
{
  KlingFrameQueue *q = kling_frame_queue_new (4, free_item);
  gpointer it;
  GError *error;

  fail_unless (kling_frame_queue_push (q, item (1)));
  fail_unless (kling_frame_queue_push (q, item (2)));
  fail_unless_equals_int (pop_value (q), 1);
  kling_frame_queue_finish (q, g_error_new_literal (G_FILE_ERROR,
          G_FILE_ERROR_FAILED, "boom"));
  /* frames queued before the end still come out */
  fail_unless_equals_int (pop_value (q), 2);
  fail_unless_equals_int (kling_frame_queue_pop (q, TRUE, &it),
      KLING_FRAME_DONE);
  fail_unless (it == NULL);
  error = kling_frame_queue_take_error (q);
  fail_unless (error && g_str_equal (error->message, "boom"));
  g_error_free (error);
  fail_unless (kling_frame_queue_take_error (q) == NULL);
  kling_frame_queue_free (q);
}

GST_END_TEST;

GST_START_TEST (test_queue_nonblocking_flushing)
{
  KlingFrameQueue *q = kling_frame_queue_new (2, free_item);
  gpointer it;

  fail_unless_equals_int (kling_frame_queue_pop (q, FALSE, &it),
      KLING_FRAME_EMPTY);
  fail_unless (kling_frame_queue_push (q, item (7)));
  kling_frame_queue_set_flushing (q, TRUE);
  fail_unless_equals_int (kling_frame_queue_pop (q, TRUE, &it),
      KLING_FRAME_FLUSHING);
  kling_frame_queue_set_flushing (q, FALSE);
  fail_unless_equals_int (pop_value (q), 7);
  kling_frame_queue_free (q);
}

GST_END_TEST;

GST_START_TEST (test_queue_drop_keeps_newest)
{
  KlingFrameQueue *q = kling_frame_queue_new (8, free_item);
  gint i;

  freed = 0;
  for (i = 0; i < 5; i++)
    fail_unless (kling_frame_queue_push (q, item (i)));
  fail_unless_equals_int (kling_frame_queue_drop (q, 3), 3);
  fail_unless_equals_int (g_atomic_int_get (&freed), 3);
  /* 3 and 4 left; dropping 10 keeps the newest */
  fail_unless_equals_int (kling_frame_queue_drop (q, 10), 1);
  fail_unless_equals_int (pop_value (q), 4);
  fail_unless_equals_int (kling_frame_queue_drop (q, 1), 0);
  kling_frame_queue_free (q);
}

GST_END_TEST;

static gpointer
producer (gpointer data)
{
  KlingFrameQueue *q = data;
  gint i;

  for (i = 0; i < 1000; i++)
    if (!kling_frame_queue_push (q, item (i)))
      return GINT_TO_POINTER (i);
  kling_frame_queue_finish (q, NULL);
  return GINT_TO_POINTER (i);
}

/* A full queue blocks the producer; the consumer sees every frame in order;
 * cancel releases a blocked producer and frees what it held. */
GST_START_TEST (test_queue_threads_and_cancel)
{
  KlingFrameQueue *q = kling_frame_queue_new (3, free_item);
  GThread *t = g_thread_new ("producer", producer, q);
  gpointer it;
  gint i;

  for (i = 0; i < 1000; i++)
    fail_unless_equals_int (pop_value (q), i);
  fail_unless_equals_int (kling_frame_queue_pop (q, TRUE, &it),
      KLING_FRAME_DONE);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (t)), 1000);

  kling_frame_queue_reset (q);
  freed = 0;
  t = g_thread_new ("producer", producer, q);
  /* the producer fills 3 and blocks on the 4th */
  fail_unless_equals_int (pop_value (q), 0);
  kling_frame_queue_cancel (q);
  i = GPOINTER_TO_INT (g_thread_join (t));
  fail_unless (i >= 1 && i <= 4, "producer stopped at %d", i);
  fail_unless (kling_frame_queue_is_cancelled (q));
  fail_unless_equals_int (g_atomic_int_get (&freed), 1);
  kling_frame_queue_free (q);
}

GST_END_TEST;

#define SLOT(n) gst_util_uint64_scale (n, GST_SECOND, 8)

GST_START_TEST (test_pacer_slots)
{
  KlingPacer p;

  kling_pacer_init (&p, 8, 1, 12);
  fail_if (kling_pacer_done (&p));
  /* not live: slots from 0 */
  fail_unless_equals_uint64 (kling_pacer_slot_time (&p, 3), SLOT (3));
  fail_unless_equals_uint64 (kling_pacer_slot_duration (&p, 3),
      SLOT (4) - SLOT (3));
  /* nothing is late before the start is known */
  fail_unless_equals_uint64 (kling_pacer_skip_late (&p, 10 * GST_SECOND), 0);
  p.start = GST_SECOND;
  fail_unless_equals_uint64 (kling_pacer_slot_time (&p, 2),
      GST_SECOND + SLOT (2));
  p.next = 1;
  /* within slot 1: on time */
  fail_unless_equals_uint64 (kling_pacer_skip_late (&p,
          GST_SECOND + SLOT (1) + 1), 0);
  fail_unless_equals_uint64 (p.next, 1);
  /* in slot 5: slots 1-4 are lost */
  fail_unless_equals_uint64 (kling_pacer_skip_late (&p,
          GST_SECOND + SLOT (5) + SLOT (1) / 2), 4);
  fail_unless_equals_uint64 (p.next, 5);
  /* before the start: nothing */
  fail_unless_equals_uint64 (kling_pacer_skip_late (&p, 0), 0);
  /* far past the end: never beyond total */
  fail_unless_equals_uint64 (kling_pacer_skip_late (&p, 100 * GST_SECOND), 7);
  fail_unless (kling_pacer_done (&p));
  /* endless */
  kling_pacer_init (&p, 30000, 1001, G_MAXUINT64);
  p.start = 0;
  p.next = G_MAXUINT32;
  fail_if (kling_pacer_done (&p));
  fail_unless_equals_uint64 (kling_pacer_skip_late (&p, 3600 * GST_SECOND), 0);
}

GST_END_TEST;

static Suite *
frames_suite (void)
{
  Suite *s = suite_create ("frames");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_queue_order_done_error);
  tcase_add_test (tc, test_queue_nonblocking_flushing);
  tcase_add_test (tc, test_queue_drop_keeps_newest);
  tcase_add_test (tc, test_queue_threads_and_cancel);
  tcase_add_test (tc, test_pacer_slots);
  return s;
}

GST_CHECK_MAIN (frames);
