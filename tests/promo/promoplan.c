/* gst-kling: gst-kling-promo's pure parts: options, shot plan, cues
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#include "kling-promo.h"

GST_START_TEST (test_duration)
{
  gdouble d = 0;
  GError *err = NULL;

  fail_unless (kling_promo_parse_duration ("15", &d, NULL));
  fail_unless_equals_float (d, 15.0);
  fail_unless (kling_promo_parse_duration ("10", &d, NULL));
  fail_unless (kling_promo_parse_duration ("30", &d, NULL));
  fail_unless (kling_promo_parse_duration ("12.5", &d, NULL));
  fail_unless_equals_float (d, 12.5);
  d = 1;
  fail_if (kling_promo_parse_duration ("9.9", &d, &err));
  fail_unless (g_error_matches (err, KLING_PROMO_ERROR,
          KLING_PROMO_ERROR_OPTION));
  fail_unless (strstr (err->message, "10 to 30") != NULL, "%s", err->message);
  g_clear_error (&err);
  fail_unless_equals_float (d, 1.0);
  fail_if (kling_promo_parse_duration ("31", &d, NULL));
  fail_if (kling_promo_parse_duration ("15s", &d, NULL));
  fail_if (kling_promo_parse_duration ("", &d, NULL));
  fail_if (kling_promo_parse_duration ("nan", &d, NULL));
}

GST_END_TEST;

GST_START_TEST (test_aspect_size)
{
  gint w = 0, h = 0;
  GError *err = NULL;

  fail_unless (kling_promo_parse_aspect ("9:16", &w, &h, NULL));
  fail_unless (w == 1080 && h == 1920);
  fail_unless (kling_promo_parse_aspect ("16:9", &w, &h, NULL));
  fail_unless (w == 1920 && h == 1080);
  fail_unless (kling_promo_parse_aspect ("1:1", &w, &h, NULL));
  fail_unless (w == 1080 && h == 1080);
  fail_if (kling_promo_parse_aspect ("4:3", &w, &h, &err));
  fail_unless (strstr (err->message, "16:9") != NULL);
  g_clear_error (&err);

  fail_unless (kling_promo_parse_size ("180x320", &w, &h, NULL));
  fail_unless (w == 180 && h == 320);
  fail_if (kling_promo_parse_size ("181x320", &w, &h, NULL));
  fail_if (kling_promo_parse_size ("32x32", &w, &h, NULL));
  fail_if (kling_promo_parse_size ("180", &w, &h, NULL));
  fail_if (kling_promo_parse_size ("180x320x2", &w, &h, NULL));
  fail_unless (w == 180 && h == 320);
}

GST_END_TEST;

GST_START_TEST (test_styles)
{
  gchar **s;
  GError *err = NULL;

  s = kling_promo_parse_styles ("夏日海灘, marble ，studio、雪地",
      NULL);
  fail_unless (s != NULL);
  fail_unless_equals_int (g_strv_length (s), 4);
  fail_unless_equals_string (s[0], "夏日海灘");
  fail_unless_equals_string (s[1], "marble");
  fail_unless_equals_string (s[2], "studio");
  fail_unless_equals_string (s[3], "雪地");
  g_strfreev (s);
  fail_if (kling_promo_parse_styles (" , ,", &err));
  fail_unless (g_error_matches (err, KLING_PROMO_ERROR,
          KLING_PROMO_ERROR_OPTION));
  g_clear_error (&err);
  fail_if (kling_promo_parse_styles ("a,b,c,d,e,f,g,h,i", NULL));
  s = kling_promo_default_styles (KLING_PROMO_LANG_EN);
  fail_unless_equals_int (g_strv_length (s), 3);
  g_strfreev (s);
}

GST_END_TEST;

GST_START_TEST (test_plan)
{
  KlingPromoShot shots[8];
  guint64 total, covered_end;
  guint n, i;
  GError *err = NULL;

  /* 15 s at 30 fps, 2 s end card, 0.5 s fades */
  for (n = 1; n <= 8; n++) {
    fail_unless (kling_promo_plan_shots (450, n, 60, 15, shots, NULL));
    fail_unless_equals_uint64 (shots[0].start, 0);
    for (i = 0; i + 1 < n; i++) {
      /* the next starts fade frames before this one ends */
      fail_unless_equals_uint64 (shots[i + 1].start,
          shots[i].start + shots[i].frames - 15);
      fail_unless (shots[i].frames >= 31);
    }
    covered_end = shots[n - 1].start + shots[n - 1].frames;
    fail_unless_equals_uint64 (covered_end, 390);
    /* lengths differ by at most one frame */
    for (i = 0; i < n; i++)
      fail_unless (shots[i].frames - shots[n - 1].frames <= 1);
  }
  /* 301 frames, odd: still every frame once */
  total = 301;
  fail_unless (kling_promo_plan_shots (total, 3, 60, 15, shots, NULL));
  fail_unless_equals_uint64 (shots[2].start + shots[2].frames, 241);

  fail_if (kling_promo_plan_shots (300, 8, 60, 30, shots, &err));
  fail_unless (strstr (err->message, "fewer") != NULL);
  g_clear_error (&err);
  fail_if (kling_promo_plan_shots (60, 1, 60, 15, shots, NULL));
  fail_if (kling_promo_plan_shots (300, 0, 60, 15, shots, NULL));
}

GST_END_TEST;

#define MS GST_MSECOND

GST_START_TEST (test_cues)
{
  gchar *lines[] = { "Fresh and cold", "只要九塊九", "Buy now", NULL };
  KlingPromoWord words[] = {
    {"Fresh", 200 * MS, 300 * MS},
    {"and", 500 * MS, 100 * MS},
    {"cold", 600 * MS, 400 * MS},
    {"只", 5000 * MS, 200 * MS},
    {"要", 5200 * MS, 200 * MS},
    {"九", 5400 * MS, 200 * MS},
    {"塊", 5600 * MS, 200 * MS},
    {"九", 5800 * MS, 250 * MS},
    {" Buy ", 9000 * MS, 300 * MS},
    {"now", 9300 * MS, 300 * MS},
  };
  GPtrArray *cues;
  KlingPromoCue *c;

  cues = kling_promo_cues_from_words (lines, words, G_N_ELEMENTS (words));
  fail_unless_equals_int (cues->len, 3);
  c = g_ptr_array_index (cues, 0);
  fail_unless_equals_string (c->text, "Fresh and cold");
  fail_unless_equals_uint64 (c->start, 200 * MS);
  fail_unless_equals_uint64 (c->end, 1000 * MS);
  c = g_ptr_array_index (cues, 1);
  fail_unless_equals_string (c->text, "只要九塊九");
  fail_unless_equals_uint64 (c->start, 5000 * MS);
  fail_unless_equals_uint64 (c->end, 6050 * MS);
  c = g_ptr_array_index (cues, 2);
  fail_unless_equals_string (c->text, "Buy now");
  fail_unless_equals_uint64 (c->start, 9000 * MS);
  fail_unless_equals_uint64 (c->end, 9600 * MS);
  g_ptr_array_free (cues, TRUE);

  /* only the first line heard: one cue */
  cues = kling_promo_cues_from_words (lines, words, 3);
  fail_unless_equals_int (cues->len, 1);
  g_ptr_array_free (cues, TRUE);
  /* no words: no cue */
  cues = kling_promo_cues_from_words (lines, words, 0);
  fail_unless_equals_int (cues->len, 0);
  g_ptr_array_free (cues, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_overall)
{
  KlingPromoStage s;
  gdouble prev = -1;

  for (s = 0; s < KLING_PROMO_N_STAGES; s++) {
    fail_unless (kling_promo_overall (s, 0) > prev);
    fail_unless (kling_promo_overall (s, 1) > kling_promo_overall (s, 0));
    prev = kling_promo_overall (s, 0.5);
  }
  fail_unless (fabs (kling_promo_overall (KLING_PROMO_STAGE_ENCODE, 1.0) -
          1.0) < 1e-9);
  fail_unless_equals_string (kling_promo_stage_name
      (KLING_PROMO_STAGE_SHOTS), "shots");
}

GST_END_TEST;

/* the kinds are the shipped detector's and copywriter's labels, in order;
 * every kind has its own scenes, an unknown one the defaults */
GST_START_TEST (test_kinds)
{
  const gchar *order[] = { "bottle", "can", "box", "cup", "bag", "shoe" };
  gchar **def_zh = kling_promo_default_styles (KLING_PROMO_LANG_ZH);
  gchar **def_en = kling_promo_default_styles (KLING_PROMO_LANG_EN);
  gchar **st;
  gint i, j;

  for (i = 0; i < KLING_PROMO_N_KINDS; i++) {
    fail_unless_equals_string (kling_promo_kind_name (i), order[i]);
    fail_unless_equals_int (kling_promo_kind_from_name (order[i]), i);
    for (j = 0; j < 2; j++) {
      st = kling_promo_kind_styles (i, j ? KLING_PROMO_LANG_EN :
          KLING_PROMO_LANG_ZH);
      fail_unless_equals_int (g_strv_length (st), 3);
      g_strfreev (st);
    }
  }
  fail_unless_equals_int (kling_promo_kind_from_name ("BOTTLE"), 0);
  fail_unless_equals_int (kling_promo_kind_from_name ("red"), -1);
  fail_unless_equals_int (kling_promo_kind_from_name (NULL), -1);
  fail_unless (kling_promo_kind_name (-1) == NULL);
  fail_unless (kling_promo_kind_name (KLING_PROMO_N_KINDS) == NULL);
  /* a can is not shot where a bottle is */
  st = kling_promo_kind_styles (1, KLING_PROMO_LANG_EN);
  fail_unless_equals_string (st[1], "ice cubes");
  fail_if (g_strv_equal ((const gchar * const *) st,
          (const gchar * const *) def_en));
  g_strfreev (st);
  st = kling_promo_kind_styles (-1, KLING_PROMO_LANG_ZH);
  fail_unless (g_strv_equal ((const gchar * const *) st,
          (const gchar * const *) def_zh));
  g_strfreev (st);
  g_strfreev (def_zh);
  g_strfreev (def_en);
}

GST_END_TEST;

static Suite *
promoplan_suite (void)
{
  Suite *s = suite_create ("promoplan");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_duration);
  tcase_add_test (tc, test_aspect_size);
  tcase_add_test (tc, test_styles);
  tcase_add_test (tc, test_plan);
  tcase_add_test (tc, test_cues);
  tcase_add_test (tc, test_overall);
  tcase_add_test (tc, test_kinds);
  return s;
}

GST_CHECK_MAIN (promoplan);
