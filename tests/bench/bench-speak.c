/* gst-kling: klingspeak against libespeak-ng called directly
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For each of a set of varied lines, alternated A B A B (BENCH.md):
 *   A  appsrc ! klingspeak ! appsink: time from pushing the text buffer to
 *      the first audio buffer that is not silence (latency), and to EOS
 *      (real-time factor: seconds of audio per second of wall time);
 *   B  espeak_Synth() with the same voice and rate, synchronous mode (as
 *      the element uses it): time to the first callback carrying samples,
 *      and to the end of synthesis.
 * The pipeline is built and set to PLAYING before the clock starts; one
 * warm-up run of each is left out.  Prints medians, spread and ratios.
 *
 *   bench-speak [pairs]   (GST_PLUGIN_PATH must reach klingspeak)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>
#include <espeak-ng/speak_lib.h>

#include "bench-common.h"

static const gchar *lines[] = {
  "Fresh coffee, roasted this morning, sold by the friendly baker on the "
      "corner.",
  "Looking for a water bottle? Try this planet-friendly purple one, your "
      "daily hydration buddy.",
  "Green is the new must-have: a light running shoe that grips every step.",
  "Buy two storage boxes and get the third one free, this weekend only.",
  "A deep purple drink can, ice-cold refreshment for a hot summer day.",
};

typedef struct
{
  gdouble latency, total, audio;        /* seconds */
} Run;

static gdouble
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static Run
run_element (const gchar * text)
{
  GstElement *pipe = gst_parse_launch ("appsrc name=a format=time "
      "caps=text/x-raw,format=utf8 ! klingspeak name=s voice=en ! "
      "appsink name=k sync=false max-buffers=0 s.words ! fakesink sync=false",
      NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "a");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "k");
  GstBuffer *buf = gst_buffer_new_memdup (text, strlen (text));
  GstSample *s;
  Run r = { -1, 0, 0 };
  guint64 samples = 0;
  gdouble t0;

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GST_BUFFER_PTS (buf) = 0;
  t0 = now ();
  gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  while ((s = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *b = gst_sample_get_buffer (s);

    if (r.latency < 0 && !GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_GAP))
      r.latency = now () - t0;
    samples += gst_buffer_get_size (b) / 2;
    gst_sample_unref (s);
  }
  r.total = now () - t0;
  r.audio = samples / 22050.0;
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return r;
}

static gdouble lib_t0, lib_first;
static guint64 lib_samples;

static int
lib_cb (short *wav, int n, espeak_EVENT * events)
{
  if (wav && n > 0) {
    if (lib_first < 0)
      lib_first = now () - lib_t0;
    lib_samples += n;
  }
  return 0;
}

static Run
run_library (const gchar * text)
{
  Run r;

  espeak_SetVoiceByName ("en");
  espeak_SetParameter (espeakRATE, 175, 0);
  espeak_SetSynthCallback (lib_cb);
  lib_first = -1;
  lib_samples = 0;
  lib_t0 = now ();
  espeak_Synth (text, strlen (text) + 1, 0, POS_CHARACTER, 0,
      espeakCHARS_UTF8, NULL, NULL);
  espeak_Synchronize ();
  r.total = now () - lib_t0;
  r.latency = lib_first;
  r.audio = lib_samples / 22050.0;
  return r;
}

int
main (int argc, char **argv)
{
  guint pairs = argc > 1 ? atoi (argv[1]) : 15, i;
  gdouble *al, *bl, *ar, *br, *lr, *rr, audio = 0;
  Run a, b;

  gst_init (&argc, &argv);
  if (pairs < 3)
    pairs = 3;
  al = g_new (gdouble, pairs);
  bl = g_new (gdouble, pairs);
  ar = g_new (gdouble, pairs);
  br = g_new (gdouble, pairs);
  lr = g_new (gdouble, pairs);
  rr = g_new (gdouble, pairs);
  /* warm-up: espeak-ng's initialisation (done by the element, with the
   * flags it uses) and the first call of each */
  a = run_element (lines[0]);
  if (a.latency < 0) {
    fprintf (stderr, "klingspeak made no audio (GST_PLUGIN_PATH?)\n");
    return 1;
  }
  run_library (lines[0]);
  for (i = 0; i < pairs; i++) {
    const gchar *text = lines[i % G_N_ELEMENTS (lines)];

    a = run_element (text);
    b = run_library (text);
    al[i] = a.latency * 1000;
    bl[i] = b.latency * 1000;
    ar[i] = a.audio / a.total;
    br[i] = b.audio / b.total;
    lr[i] = a.latency / b.latency;
    rr[i] = ar[i] / br[i];
    audio += a.audio;
  }
  printf ("klingspeak vs libespeak-ng direct, %u pairs, %u lines, %.1f s "
      "of audio per side\n", pairs, (guint) G_N_ELEMENTS (lines), audio);
  printf ("| %-34s | %10s | %10s | %8s | %-14s | %-4s |\n", "figure",
      "klingspeak", "espeak-ng", "ratio", "target", "ok");
  printf ("|%s|%s|%s|%s|%s|%s|\n", "------------------------------------",
      "------------", "------------", "----------", "----------------",
      "------");
  {
    gdouble l = bench_median (lr, pairs), rt = bench_median (rr, pairs);
    gdouble mal = bench_median (al, pairs), mbl = bench_median (bl, pairs);
    gdouble mar = bench_median (ar, pairs), mbr = bench_median (br, pairs);

    printf ("| %-34s | %7.1f ms | %7.1f ms | %8.2f | %-14s | %-4s |\n",
        "latency, text to first sample", mal, mbl, l, "< 50 ms abs.",
        mal < 50 ? "yes" : "NO");
    printf ("| %-34s | %10.0f | %10.0f | %8.2f | %-14s | %-4s |\n",
        "real-time factor (audio s / s)", mar, mbr, rt, "ratio >= 0.5",
        rt >= 0.5 ? "yes" : "NO");
    printf ("spread: klingspeak latency %.1f-%.1f ms, espeak-ng %.1f-%.1f ms; "
        "RTF %.0f-%.0f vs %.0f-%.0f\n", al[0], al[pairs - 1], bl[0],
        bl[pairs - 1], ar[0], ar[pairs - 1], br[0], br[pairs - 1]);
  }
  g_free (al);
  g_free (bl);
  g_free (ar);
  g_free (br);
  g_free (lr);
  g_free (rr);
  return 0;
}
