/* gst-kling-promo: a product photo becomes a short vertical promo video
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   gst-kling-promo product.jpg -o promo.mp4 --name 冰茶 --price ¥9.9
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include "kling-promo.h"

typedef struct
{
  gint64 started;
  gboolean tty;
  gint last_percent;
  KlingPromoStage last_stage;
} Bar;

static void
on_progress (KlingPromoStage stage, gdouble fraction, gdouble overall,
    gpointer user_data)
{
  Bar *bar = user_data;
  gdouble elapsed = (g_get_monotonic_time () - bar->started) / 1e6;
  gint percent = (gint) (overall * 100 + 0.5), i;
  gchar left[32] = "--";
  gchar cells[41];

  if (!bar->tty && percent / 10 == bar->last_percent / 10
      && stage == bar->last_stage && overall < 1.0)
    return;
  bar->last_percent = percent;
  bar->last_stage = stage;
  if (overall > 0.02)
    g_snprintf (left, sizeof (left), "%.0f s",
        elapsed * (1.0 - overall) / overall);
  for (i = 0; i < 40; i++)
    cells[i] = i < (gint) (overall * 40) ? '#' : '.';
  cells[40] = '\0';
  fprintf (stderr, "%s%-8s [%s] %3d%%  time left %s%s",
      bar->tty ? "\r" : "", kling_promo_stage_name (stage), cells, percent,
      left, bar->tty ? "   " : "\n");
  (void) fraction;
}

static gboolean
on_signal (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
quit_idle (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gpointer
run_thread (gpointer data)
{
  gpointer *args = data;
  gboolean ok = kling_promo_run (args[0], on_progress, args[1], args[2],
      args[5], args[3]);

  g_idle_add (quit_idle, args[4]);
  return GINT_TO_POINTER (ok);
}

int
main (int argc, char **argv)
{
  KlingPromoOptions o;
  gchar *output = NULL, *style = NULL, *duration = NULL, *aspect = NULL;
  gchar *size = NULL, *lang = NULL, *copy = NULL, *kind = NULL;
  gchar *mask = NULL, *music = NULL, *hls = NULL, *name = NULL;
  gchar *price = NULL, *video_model = NULL, *poster_model = NULL;
  gchar *copy_model = NULL, *speech_model = NULL, *dump = NULL;
  gchar *detect_model = NULL;
  gint64 seed = 0;
  gint threads = 0;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Where the promo goes (MP4)", "FILE"},
    {"style", 's', 0, G_OPTION_ARG_STRING, &style,
          "Scenes, one shot each, comma separated (default: 夏日海灘,雪地,草地)",
        "A,B,..."},
    {"duration", 'd', 0, G_OPTION_ARG_STRING, &duration,
        "Length in seconds, 10 to 30 (default 15)", "SECONDS"},
    {"aspect", 'a', 0, G_OPTION_ARG_STRING, &aspect,
        "9:16 (1080x1920, default), 16:9 or 1:1", "W:H"},
    {"size", 0, 0, G_OPTION_ARG_STRING, &size,
          "Exact output size (of --aspect's shape when both are given)",
        "WxH"},
    {"lang", 'l', 0, G_OPTION_ARG_STRING, &lang,
        "Language of the copy and the voice: zh (default) or en", "zh|en"},
    {"copy", 0, 0, G_OPTION_ARG_STRING, &copy,
          "The copy lines, separated by |, instead of the copywriter's",
        "LINE|LINE"},
    {"kind", 0, 0, G_OPTION_ARG_STRING, &kind,
          "What the product is, for the copy and the scenes: bottle, can, "
          "box, cup, bag or shoe (default: the detector's best guess)",
        "KIND"},
    {"mask", 'm', 0, G_OPTION_ARG_FILENAME, &mask,
        "The product's mask (white: product) for photos without a plain "
          "background", "FILE"},
    {"music", 0, 0, G_OPTION_ARG_FILENAME, &music,
        "Background music, mixed under the voice", "FILE"},
    {"hls", 0, 0, G_OPTION_ARG_FILENAME, &hls,
        "Also write an HLS playlist and segments here", "DIR"},
    {"name", 0, 0, G_OPTION_ARG_STRING, &name,
        "The product's name on the end card", "TEXT"},
    {"price", 0, 0, G_OPTION_ARG_STRING, &price,
        "The price on the end card", "TEXT"},
    {"seed", 0, 0, G_OPTION_ARG_INT64, &seed,
        "Seed: the same seed gives the same video (default 0)", "N"},
    {"threads", 0, 0, G_OPTION_ARG_INT, &threads,
        "Threads for models and the encoder; 0: one per core", "N"},
    {"video-model", 0, 0, G_OPTION_ARG_FILENAME, &video_model,
        "klinggen's video package (default: the shipped one)", "FILE"},
    {"poster-model", 0, 0, G_OPTION_ARG_FILENAME, &poster_model,
        "ketuposter's poster package (default: the shipped one)", "FILE"},
    {"copy-model", 0, 0, G_OPTION_ARG_FILENAME, &copy_model,
        "The copywriter package (default: the shipped one)", "FILE"},
    {"detect-model", 0, 0, G_OPTION_ARG_FILENAME, &detect_model,
        "The detector that finds the product's kind when --kind is not "
          "given (default: the shipped kling-detect-products.pt)", "FILE"},
    {"speech-model", 0, 0, G_OPTION_ARG_FILENAME, &speech_model,
        "klingspeak's speech package (default: espeak-ng)", "FILE"},
    {"dump-frames", 0, 0, G_OPTION_ARG_FILENAME, &dump,
        "Write every 15th frame as it goes to the encoder (PPM) and the "
          "product's place (layout.txt) into DIR, to check pixels", "DIR"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GCancellable *cancellable;
  Bar bar = { 0 };
  gboolean ok;
  GThread *thread;
  GMainLoop *loop;
  gpointer args[6];
  KlingPromoReport rep = { 0 };

  /* options are UTF-8 text (Chinese copy, names, prices): in a C locale
   * GOption would refuse them, so take C.UTF-8 then */
  setlocale (LC_ALL, "");
  if (!g_get_charset (NULL))
    setlocale (LC_CTYPE, "C.UTF-8");
  kling_promo_options_init (&o);
  ctx = g_option_context_new ("PHOTO - make a promo video of a product");
  g_option_context_set_summary (ctx, "Cuts the product out of PHOTO, makes "
      "a moving scene around it per style with klinggen, writes and speaks "
      "copy about it, and puts it all in an MP4 with subtitles.  The "
      "product's own pixels are kept in every frame.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    goto fail;
  if (version) {
    printf ("gst-kling-promo %s\n", VERSION);
    g_option_context_free (ctx);
    return 0;
  }
  if (argc != 2 || output == NULL) {
    g_set_error (&error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "give one product photo and -o OUTPUT.mp4 (see --help)");
    goto fail;
  }
  o.input = g_strdup (argv[1]);
  o.output = g_strdup (output);
  if (duration && !kling_promo_parse_duration (duration, &o.duration, &error))
    goto fail;
  if (aspect && !kling_promo_parse_aspect (aspect, &o.width, &o.height, &error))
    goto fail;
  if (size && !kling_promo_parse_size (size, &o.width, &o.height, &error))
    goto fail;
  if (size && aspect) {
    /* both: the size must be of that aspect */
    gint aw, ah;
    kling_promo_parse_aspect (aspect, &aw, &ah, NULL);
    if ((gint64) o.width * ah != (gint64) o.height * aw) {
      g_set_error (&error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
          "--size %s is not --aspect %s: give a size of that aspect, or "
          "only one of them", size, aspect);
      goto fail;
    }
  }
  if (style && !(o.styles = kling_promo_parse_styles (style, &error)))
    goto fail;
  if (lang) {
    if (g_strcmp0 (lang, "en") == 0)
      o.lang = KLING_PROMO_LANG_EN;
    else if (g_strcmp0 (lang, "zh") != 0) {
      g_set_error (&error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
          "--lang '%s': use zh or en", lang);
      goto fail;
    }
  }
  if (copy) {
    gchar **lines = g_strsplit (copy, "|", -1);
    GPtrArray *keep = g_ptr_array_new ();
    guint i;
    for (i = 0; lines[i]; i++)
      if (*g_strstrip (lines[i]))
        g_ptr_array_add (keep, g_strdup (lines[i]));
    g_strfreev (lines);
    g_ptr_array_add (keep, NULL);
    o.copy = (gchar **) g_ptr_array_free (keep, FALSE);
    if (o.copy[0] == NULL || !g_utf8_validate (copy, -1, NULL)) {
      g_set_error (&error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
          "--copy needs at least one line of UTF-8 text");
      goto fail;
    }
  }
  if (kind && (o.kind = kling_promo_kind_from_name (kind)) < 0) {
    g_set_error (&error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "--kind '%s': use bottle, can, box, cup, bag or shoe", kind);
    goto fail;
  }
  if (threads < 0) {
    g_set_error (&error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "--threads must be 0 or more");
    goto fail;
  }
  o.seed = (guint64) seed;
  o.threads = threads;
  o.mask = g_strdup (mask);
  o.music = g_strdup (music);
  o.hls_dir = g_strdup (hls);
  o.name = g_strdup (name);
  o.price = g_strdup (price);
  o.video_model = g_strdup (video_model);
  o.poster_model = g_strdup (poster_model);
  o.copy_model = g_strdup (copy_model);
  o.speech_model = g_strdup (speech_model);
  o.detect_model = g_strdup (detect_model);
  o.dump_dir = g_strdup (dump);
  if (o.dump_dir && g_mkdir_with_parents (o.dump_dir, 0755) != 0) {
    g_set_error (&error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "--dump-frames %s: cannot make the directory", o.dump_dir);
    goto fail;
  }

  /* the run in a thread; Ctrl-C cancels it and the partial file goes */
  bar.started = g_get_monotonic_time ();
  bar.tty = isatty (2);
  bar.last_percent = -100;
  cancellable = g_cancellable_new ();
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, cancellable);
  g_unix_signal_add (SIGTERM, on_signal, cancellable);
  args[0] = &o;
  args[1] = &bar;
  args[2] = cancellable;
  args[3] = &error;
  args[4] = loop;
  args[5] = &rep;
  thread = g_thread_new ("promo", run_thread, args);
  g_main_loop_run (loop);
  ok = GPOINTER_TO_INT (g_thread_join (thread));
  g_main_loop_unref (loop);
  g_object_unref (cancellable);
  if (bar.tty)
    fprintf (stderr, "\n");
  if (!ok)
    goto fail;
  {
    guint i;
    for (i = 0; rep.copy && rep.copy[i]; i++)
      printf ("copy %u: %s\n", i + 1, rep.copy[i]);
  }
  {
    gchar *scenes = g_strjoinv (", ", rep.styles);
    printf ("scenes: %s\n", scenes);
    g_free (scenes);
  }
  if (rep.kind_detected)
    printf ("kind: %s (detected, score %.2f)\n",
        kling_promo_kind_name (rep.kind), rep.kind_score);
  else if (rep.kind >= 0)
    printf ("kind: %s (--kind)\n", kling_promo_kind_name (rep.kind));
  else
    printf ("kind: none (%s): the default scenes, the copy written as for "
        "a %s; give --kind\n", rep.kind_note ? rep.kind_note : "not detected",
        kling_promo_kind_name (0));
  printf ("product at %d,%d size %dx%d\n", rep.product_x, rep.product_y,
      rep.product_w, rep.product_h);
  {
    guint i;
    for (i = 0; rep.timeline && rep.timeline[i]; i++)
      printf ("timeline: %s\n", rep.timeline[i]);
  }
  printf ("time: %.2f s generation, %.2f s composition, %.2f s total\n",
      rep.generation_seconds, rep.composition_seconds, rep.total_seconds);
  if (o.hls_dir && rep.first_segment_seconds >= 0)
    printf ("first HLS segment after %.2f s, with %u of %u shots "
        "generated\n", rep.first_segment_seconds, rep.shots_at_first_segment,
        rep.n_shots);
  printf ("%s: %g s, %dx%d at %d fps\n", o.output, o.duration, o.width,
      o.height, KLING_PROMO_FPS);
  kling_promo_report_clear (&rep);
  kling_promo_options_clear (&o);
  g_option_context_free (ctx);
  return 0;

fail:
  fprintf (stderr, "gst-kling-promo: %s\n", error->message);
  g_clear_error (&error);
  kling_promo_options_clear (&o);
  g_option_context_free (ctx);
  return 1;
}
