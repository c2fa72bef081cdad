/* gst-kling: gst-kling-live's pure parts: products, output, commands,
 * copy, the voice queue
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#include "kling-live-plan.h"

static GPtrArray *
two_products (void)
{
  const gchar *json = "[{\"photo\": \"a.png\", \"name\": \"Red Thermos "
      "Bottle\", \"price\": \"$19.90\", \"notes\": \"Keeps tea hot. Fits "
      "every holder!\"}, {\"photo\": \"/abs/b.jpg\", \"name\": "
      "\"蓝色帆布包\", \"price\": 59}, {\"photo\": \"c.png\", \"name\": "
      "\"Morning Blend\", \"kind\": \"cup\"}]";
  GError *err = NULL;
  GPtrArray *p = kling_live_products_parse (json, -1, "/shop", &err);

  fail_unless (p != NULL, "%s", err ? err->message : "");
  return p;
}

GST_START_TEST (test_products)
{
  GPtrArray *p = two_products ();
  KlingLiveProduct *a, *b, *c;

  fail_unless_equals_int (p->len, 3);
  a = g_ptr_array_index (p, 0);
  b = g_ptr_array_index (p, 1);
  c = g_ptr_array_index (p, 2);
  fail_unless_equals_string (a->photo, "/shop/a.png");
  fail_unless_equals_string (b->photo, "/abs/b.jpg");
  fail_unless_equals_string (a->price, "$19.90");
  fail_unless_equals_string (b->price, "59");
  fail_unless (c->price == NULL);
  fail_unless_equals_int (a->kind, KLING_LIVE_KIND_BOTTLE);
  fail_unless_equals_int (b->kind, KLING_LIVE_KIND_BAG);
  fail_unless_equals_int (c->kind, KLING_LIVE_KIND_CUP);
  fail_unless_equals_string (kling_live_kind_name (c->kind), "cup");
  g_ptr_array_unref (p);
}

GST_END_TEST;

static void
bad_products (const gchar * json, const gchar * expect)
{
  GError *err = NULL;

  fail_if (kling_live_products_parse (json, -1, NULL, &err), "%s", json);
  fail_unless (g_error_matches (err, KLING_LIVE_ERROR,
          KLING_LIVE_ERROR_PRODUCTS));
  fail_unless (strstr (err->message, expect) != NULL, "%s: %s", json,
      err->message);
  g_clear_error (&err);
}

GST_START_TEST (test_products_bad)
{
  GError *err = NULL;

  bad_products ("", "JSON array");
  bad_products ("[1,", "not JSON");
  bad_products ("{\"photo\": \"a\"}", "JSON array");
  bad_products ("[]", "no product");
  bad_products ("[1]", "product 1 is not");
  bad_products ("[{\"photo\": \"a\", \"name\": \"x\"}, {\"name\": \"y\"}]",
      "product 2 has no photo");
  bad_products ("[{\"photo\": \"a\"}]", "product 1 has no name");
  bad_products ("[{\"photo\": \"a\", \"name\": \"  \"}]", "no name");
  bad_products ("[{\"photo\": 3, \"name\": \"x\"}]", "must be text");
  bad_products ("[{\"photo\": \"a\", \"name\": \"x\", \"price\": [1]}]",
      "price must be");
  bad_products ("[{\"photo\": \"a\", \"name\": \"x\", \"kind\": \"car\"}]",
      "kind \"car\"");
  bad_products ("[{\"photo\": \"a\", \"name\": \"\xff\"}]", "UTF-8");
  bad_products ("[{\"photo\": \"a\", \"name\": \"x\"", "not JSON");

  fail_if (kling_live_products_load ("/nonexistent/p.json", &err));
  fail_unless (strstr (err->message, "/nonexistent/p.json") != NULL);
  g_clear_error (&err);
}

GST_END_TEST;

GST_START_TEST (test_output)
{
  KlingLiveOutput k = KLING_LIVE_OUT_MP4;
  GError *err = NULL;

  fail_unless (kling_live_parse_output ("rtmp://127.0.0.1:1935/live/key",
          &k, NULL));
  fail_unless_equals_int (k, KLING_LIVE_OUT_RTMP);
  fail_unless (kling_live_output_is_network (k));
  fail_unless (kling_live_parse_output ("srt://127.0.0.1:9000", &k, NULL));
  fail_unless_equals_int (k, KLING_LIVE_OUT_SRT);
  fail_unless (kling_live_parse_output ("show.FLV", &k, NULL));
  fail_unless_equals_int (k, KLING_LIVE_OUT_FLV);
  fail_if (kling_live_output_is_network (k));
  fail_unless (kling_live_parse_output ("/tmp/a.ts", &k, NULL));
  fail_unless_equals_int (k, KLING_LIVE_OUT_TS);
  fail_unless (kling_live_parse_output ("a.mp4", &k, NULL));
  fail_unless_equals_int (k, KLING_LIVE_OUT_MP4);

  fail_if (kling_live_parse_output ("rtmp://host/live", &k, &err));
  fail_unless (strstr (err->message, "APP/STREAM") != NULL);
  g_clear_error (&err);
  fail_if (kling_live_parse_output ("rtmp://host//x", &k, NULL));
  fail_if (kling_live_parse_output ("srt://host", &k, &err));
  fail_unless (strstr (err->message, "HOST:PORT") != NULL);
  g_clear_error (&err);
  fail_if (kling_live_parse_output ("http://x/y", &k, NULL));
  fail_if (kling_live_parse_output ("show.mkv", &k, &err));
  fail_unless (strstr (err->message, ".flv, .ts or .mp4") != NULL);
  g_clear_error (&err);
  fail_if (kling_live_parse_output ("", &k, NULL));
  fail_if (kling_live_parse_output (NULL, &k, NULL));
}

GST_END_TEST;

static KlingLiveCommandType
parse (GPtrArray * p, const gchar * line, gint * product, gchar ** text)
{
  KlingLiveCommand cmd;
  KlingLiveCommandType t;

  kling_live_command_parse (line, p, &cmd);
  t = cmd.type;
  if (product)
    *product = cmd.product;
  if (text)
    *text = g_strdup (cmd.text);
  kling_live_command_clear (&cmd);
  return t;
}

GST_START_TEST (test_commands)
{
  GPtrArray *p = two_products ();
  gchar *text = NULL;
  gint i = -2;

  fail_unless_equals_int (parse (p, "next\n", NULL, NULL), KLING_LIVE_CMD_NEXT);
  fail_unless_equals_int (parse (p, "  NEXT  ", NULL, NULL),
      KLING_LIVE_CMD_NEXT);
  fail_unless_equals_int (parse (p, "prev", NULL, NULL), KLING_LIVE_CMD_PREV);
  fail_unless_equals_int (parse (p, "pause", NULL, NULL), KLING_LIVE_CMD_PAUSE);
  fail_unless_equals_int (parse (p, "say 欢迎来到直播间！", NULL,
          &text), KLING_LIVE_CMD_SAY);
  fail_unless_equals_string (text, "欢迎来到直播间！");
  g_free (text);
  fail_unless_equals_int (parse (p, "", NULL, NULL), KLING_LIVE_CMD_NONE);
  fail_unless_equals_int (parse (p, "# a comment", NULL, NULL),
      KLING_LIVE_CMD_NONE);
  fail_unless_equals_int (parse (p, NULL, NULL, NULL), KLING_LIVE_CMD_NONE);
  /* "say" alone, "next please": questions (about nothing) */
  fail_unless_equals_int (parse (p, "say", NULL, NULL), KLING_LIVE_CMD_UNKNOWN);
  fail_unless_equals_int (parse (p, "\xff\xfe", NULL, NULL),
      KLING_LIVE_CMD_UNKNOWN);

  /* questions: by the whole name, a word of it, Chinese, by kind */
  fail_unless_equals_int (parse (p, "How much is the red thermos bottle?",
          &i, NULL), KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 0);
  fail_unless_equals_int (parse (p, "is the thermos still on sale", &i,
          NULL), KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 0);
  fail_unless_equals_int (parse (p, "帆布包还有货吗？", &i, NULL),
      KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 1);
  fail_unless_equals_int (parse (p, "那个包多少钱", &i, NULL),
      KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 1);
  fail_unless_equals_int (parse (p, "Can you show me the bag again?", &i,
          NULL), KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 1);
  fail_unless_equals_int (parse (p, "那个杯子好看", &i, NULL),
      KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 2);
  fail_unless_equals_int (parse (p, "morning blend?", &i, NULL),
      KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 2);
  /* the name wins over a kind named elsewhere in the line */
  fail_unless_equals_int (parse (p, "does the thermos fit in my bag", &i,
          NULL), KLING_LIVE_CMD_QUESTION);
  fail_unless_equals_int (i, 0);
  /* "can" is a verb; nothing else names a product */
  fail_unless_equals_int (parse (p, "can you say hello", &i, &text),
      KLING_LIVE_CMD_UNKNOWN);
  fail_unless_equals_int (i, -1);
  fail_unless_equals_string (text, "can you say hello");
  g_free (text);
  fail_unless_equals_int (parse (p, "the", &i, NULL), KLING_LIVE_CMD_UNKNOWN);
  fail_unless_equals_int (kling_live_match_product (NULL, "bag"), -1);
  g_ptr_array_unref (p);
}

GST_END_TEST;

GST_START_TEST (test_copy)
{
  GPtrArray *p = two_products ();
  gchar **l;
  gchar *t;

  l = kling_live_copy_lines (g_ptr_array_index (p, 0));
  fail_unless_equals_int (g_strv_length (l), 4);
  fail_unless_equals_string (l[0],
      "Here is the Red Thermos Bottle, now only $19.90.");
  fail_unless_equals_string (l[1], "Keeps tea hot.");
  fail_unless_equals_string (l[2], "Fits every holder!");
  g_strfreev (l);
  l = kling_live_copy_lines (g_ptr_array_index (p, 1));
  fail_unless_equals_int (g_strv_length (l), 2);
  fail_unless_equals_string (l[0],
      "来看这款蓝色帆布包，现在只要59！");
  g_strfreev (l);
  l = kling_live_copy_lines (g_ptr_array_index (p, 2));
  fail_unless_equals_string (l[0], "Here is the Morning Blend.");
  g_strfreev (l);

  /* the copywriter's lines and the notes in turn, between the name line
   * and the call to order */
  {
    KlingLiveProduct *thermos = g_ptr_array_index (p, 0);
    const gchar *written[] = { "Bright red steel.", "Tea all day.",
      "A gift for every desk.", NULL
    };
    thermos->written = g_strdupv ((gchar **) written);
    l = kling_live_copy_lines (thermos);
    fail_unless_equals_int (g_strv_length (l), 7);
    fail_unless_equals_string (l[1], "Bright red steel.");
    fail_unless_equals_string (l[2], "Keeps tea hot.");
    fail_unless_equals_string (l[3], "Tea all day.");
    fail_unless_equals_string (l[4], "Fits every holder!");
    fail_unless_equals_string (l[5], "A gift for every desk.");
    g_strfreev (l);
    g_clear_pointer (&thermos->written, g_strfreev);
  }
  fail_unless (kling_live_product_is_chinese (g_ptr_array_index (p, 1)));
  fail_if (kling_live_product_is_chinese (g_ptr_array_index (p, 0)));

  t = kling_live_lower_third (g_ptr_array_index (p, 0), "Keeps tea hot.");
  fail_unless_equals_string (t, "Red Thermos Bottle  $19.90\nKeeps tea hot.");
  g_free (t);
  t = kling_live_lower_third (g_ptr_array_index (p, 2), NULL);
  fail_unless_equals_string (t, "Morning Blend");
  g_free (t);
  g_ptr_array_unref (p);
}

GST_END_TEST;

#define MS(x) ((gint64) (x) * 1000)

GST_START_TEST (test_camera)
{
  GPtrArray *p = two_products ();
  KlingLiveCamera cam;

  fail_unless_equals_int (kling_live_kind_from_label ("Bottle"),
      KLING_LIVE_KIND_BOTTLE);
  fail_unless_equals_int (kling_live_kind_from_label ("杯"),
      KLING_LIVE_KIND_CUP);
  fail_unless_equals_int (kling_live_kind_from_label ("red"),
      KLING_LIVE_KIND_NONE);
  fail_unless_equals_int (kling_live_kind_from_label (NULL),
      KLING_LIVE_KIND_NONE);
  fail_unless_equals_int (kling_live_product_of_kind (p,
          KLING_LIVE_KIND_CUP), 2);
  fail_unless_equals_int (kling_live_product_of_kind (p,
          KLING_LIVE_KIND_SHOE), -1);
  fail_unless_equals_int (kling_live_product_of_kind (p,
          KLING_LIVE_KIND_NONE), -1);

  kling_live_camera_init (&cam);
  /* a cup seen for under the hold time: nothing; held: due once */
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (0),
          KLING_LIVE_KIND_CUP), KLING_LIVE_KIND_NONE);
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (1000),
          KLING_LIVE_KIND_CUP), KLING_LIVE_KIND_NONE);
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (2100),
          KLING_LIVE_KIND_CUP), KLING_LIVE_KIND_CUP);
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (5000),
          KLING_LIVE_KIND_CUP), KLING_LIVE_KIND_NONE);
  /* a flicker of a bottle changes nothing */
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (5100),
          KLING_LIVE_KIND_BOTTLE), KLING_LIVE_KIND_NONE);
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (5200),
          KLING_LIVE_KIND_CUP), KLING_LIVE_KIND_NONE);
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (7300),
          KLING_LIVE_KIND_CUP), KLING_LIVE_KIND_NONE);
  /* the cup taken away long enough, then shown again: due again */
  kling_live_camera_seen (&cam, MS (8000), KLING_LIVE_KIND_NONE);
  kling_live_camera_seen (&cam, MS (10100), KLING_LIVE_KIND_NONE);
  kling_live_camera_seen (&cam, MS (11000), KLING_LIVE_KIND_CUP);
  fail_unless_equals_int (kling_live_camera_seen (&cam, MS (13100),
          KLING_LIVE_KIND_CUP), KLING_LIVE_KIND_CUP);
  g_ptr_array_unref (p);
}

GST_END_TEST;

GST_START_TEST (test_voice)
{
  KlingLiveVoice *v = kling_live_voice_new ();
  gchar *l;
  gint64 t;

  fail_if (kling_live_voice_busy (v));
  fail_unless (kling_live_voice_next (v, 0) == NULL);
  kling_live_voice_push (v, "one");
  kling_live_voice_push (v, "two");
  kling_live_voice_push (v, "");
  kling_live_voice_push (v, NULL);
  fail_unless_equals_int (kling_live_voice_waiting (v), 2);

  l = kling_live_voice_next (v, MS (0));
  fail_unless_equals_string (l, "one");
  g_free (l);
  fail_unless_equals_string (kling_live_voice_current (v), "one");
  /* in flight: nothing more until it has been heard to its end */
  fail_unless (kling_live_voice_next (v, MS (100)) == NULL);
  fail_unless_equals_int (kling_live_voice_audio (v, MS (100), FALSE),
      KLING_LIVE_VOICE_NOTHING);
  fail_unless_equals_int (kling_live_voice_audio (v, MS (200), TRUE),
      KLING_LIVE_VOICE_STARTED);
  /* pauses between words are shorter than the gap */
  for (t = 200; t < 2000; t += 20) {
    gboolean loud = (t / 100) % 3 != 0;
    fail_unless_equals_int (kling_live_voice_audio (v, MS (t), loud),
        KLING_LIVE_VOICE_NOTHING);
    fail_unless (kling_live_voice_next (v, MS (t)) == NULL);
  }
  fail_unless_equals_int (kling_live_voice_audio (v, MS (2000), FALSE),
      KLING_LIVE_VOICE_NOTHING);
  fail_unless_equals_int (kling_live_voice_audio (v, MS (2000) +
          KLING_LIVE_VOICE_GAP_US, FALSE), KLING_LIVE_VOICE_FINISHED);
  fail_unless (kling_live_voice_current (v) == NULL);
  fail_if (kling_live_voice_busy (v));
  l = kling_live_voice_next (v, MS (2400));
  fail_unless_equals_string (l, "two");
  g_free (l);

  /* clear drops the waiting lines, not the one in flight */
  kling_live_voice_push (v, "three");
  kling_live_voice_clear (v);
  fail_unless_equals_int (kling_live_voice_waiting (v), 0);
  fail_unless (kling_live_voice_busy (v));
  /* a line never heard is given up after the timeout */
  kling_live_voice_push (v, "four");
  fail_unless (kling_live_voice_next (v, MS (2400) +
          KLING_LIVE_VOICE_TIMEOUT_US - 1) == NULL);
  fail_unless_equals_int (kling_live_voice_audio (v, MS (2400) +
          KLING_LIVE_VOICE_TIMEOUT_US, FALSE), KLING_LIVE_VOICE_FINISHED);
  l = kling_live_voice_next (v, MS (2400) + KLING_LIVE_VOICE_TIMEOUT_US);
  fail_unless_equals_string (l, "four");
  g_free (l);
  /* and by next() too, with no audio at all */
  kling_live_voice_push (v, "five");
  l = kling_live_voice_next (v, MS (2400) + 2 * KLING_LIVE_VOICE_TIMEOUT_US);
  fail_unless_equals_string (l, "five");
  g_free (l);

  kling_live_voice_push (v, "six");
  kling_live_voice_push_front (v, "first");
  kling_live_voice_push_front (v, "");
  fail_unless_equals_int (kling_live_voice_waiting (v), 2);
  l = kling_live_voice_next (v, MS (2400) + 3 * KLING_LIVE_VOICE_TIMEOUT_US);
  fail_unless_equals_string (l, "first");
  g_free (l);
  kling_live_voice_reset (v);
  fail_if (kling_live_voice_busy (v));
  fail_unless_equals_int (kling_live_voice_waiting (v), 0);
  kling_live_voice_push (v, "left for free");
  kling_live_voice_free (v);
  kling_live_voice_free (NULL);
}

GST_END_TEST;

static Suite *
liveplan_suite (void)
{
  Suite *s = suite_create ("liveplan");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_products);
  tcase_add_test (tc, test_products_bad);
  tcase_add_test (tc, test_output);
  tcase_add_test (tc, test_commands);
  tcase_add_test (tc, test_copy);
  tcase_add_test (tc, test_voice);
  tcase_add_test (tc, test_camera);
  return s;
}

GST_CHECK_MAIN (liveplan);
