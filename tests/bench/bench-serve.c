/* gst-kling benchmark: gst-kling-serve against klinggen in a plain
 * pipeline, same model, prompts, clip length and threads (BENCH.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-serve SERVER MODEL THREADS DURATION ROUNDS
 *
 * For N = 1, 2, 4 concurrent clips, alternating per round:
 *  A  N pipelines `klinggen ! videoconvert ! x264enc ! fakesink` in this
 *     process (GST_KLING_SHARE_MODELS=1: one model, loaded and warmed
 *     first, as in the server): time to the first encoded frame, total;
 *  B  N clients `rtspsrc ! rtph264depay ! avdec_h264 ! fakesink` against
 *     the server (model warmed by a first request): time to the first
 *     decoded frame at the client, total to EOS.
 * Every clip has its own prompt (no sharing, no cache).  The server plays
 * clips at their frame rate, so its total is at least the clip's length:
 * the total's target compares with max(A's total, clip length).  Also:
 * the server's resident memory with N sessions, and one cold
 * `gst-launch-1.0 klinggen … ! filesink` (load included) for reference.
 */
#include <gst/gst.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* sorts @v */
static double
bench_median (double *v, int n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct
{
  GstElement *pipe;
  gint64 start, first, end;
  gint frames;
} Run;

static const gchar *model;
static gint threads;
static gdouble duration;
static gint rtsp_port;
static GPid server_pid;

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, Run * r)
{
  if (g_atomic_int_add (&r->frames, 1) == 0)
    r->first = g_get_monotonic_time ();
}

static Run *
run_start (const gchar * desc, const gchar * location, const gchar * prompt)
{
  Run *r = g_new0 (Run, 1);
  GError *error = NULL;
  GstElement *e, *sink;

  r->pipe = gst_parse_launch (desc, &error);
  if (r->pipe == NULL) {
    fprintf (stderr, "bench-serve: %s\n", error->message);
    exit (1);
  }
  if ((e = gst_bin_get_by_name (GST_BIN (r->pipe), "src"))) {
    if (location)
      g_object_set (e, "location", location, NULL);
    else
      g_object_set (e, "model", model, "threads", threads, "prompt", prompt,
          "duration", duration, NULL);
    gst_object_unref (e);
  }
  sink = gst_bin_get_by_name (GST_BIN (r->pipe), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), r);
  gst_object_unref (sink);
  r->start = g_get_monotonic_time ();
  gst_element_set_state (r->pipe, GST_STATE_PLAYING);
  return r;
}

static void
run_wait (Run * r)
{
  GstBus *bus = gst_element_get_bus (r->pipe);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  if (m == NULL || GST_MESSAGE_TYPE (m) != GST_MESSAGE_EOS) {
    fprintf (stderr, "bench-serve: a run failed or timed out\n");
    exit (1);
  }
  r->end = g_get_monotonic_time ();
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (r->pipe, GST_STATE_NULL);
  gst_object_unref (r->pipe);
}

#define LOCAL "klinggen name=src ! videoconvert ! video/x-raw,format=I420 ! " \
  "x264enc tune=zerolatency speed-preset=veryfast key-int-max=16 ! " \
  "fakesink name=sink sync=false signal-handoffs=true"
#define CLIENT "rtspsrc name=src protocols=tcp latency=0 ! rtph264depay ! " \
  "avdec_h264 max-threads=1 ! fakesink name=sink sync=false "\
  "signal-handoffs=true"

static gint64
server_rss_kb (void)
{
  gchar *path = g_strdup_printf ("/proc/%d/status", (int) server_pid);
  gchar *text = NULL, *p;
  gint64 kb = 0;

  if (g_file_get_contents (path, &text, NULL, NULL)
      && (p = strstr (text, "VmRSS:")))
    kb = g_ascii_strtoll (p + 6, NULL, 10);
  g_free (text);
  g_free (path);
  return kb;
}

/* N clips at once; medians of their first-frame and total times (s) */
static void
round_of (gboolean server, gint n, gint round, gdouble * ttff, gdouble * total,
    gint64 * rss_max)
{
  Run *r[8];
  gdouble f[8], t[8];
  gint i;

  for (i = 0; i < n; i++) {
    gchar *prompt =
        g_strdup_printf ("%s round %d clip %d: 夏日海邊，紅色的球",
        server ? "served" : "local", round, i);

    if (server) {
      gchar *e = g_uri_escape_string (prompt, NULL, FALSE);
      gchar *loc = g_strdup_printf ("rtsp://127.0.0.1:%d/generate?prompt=%s"
          "&duration=%g", rtsp_port, e, duration);

      r[i] = run_start (CLIENT, loc, NULL);
      g_free (loc);
      g_free (e);
    } else {
      r[i] = run_start (LOCAL, NULL, prompt);
    }
    g_free (prompt);
  }
  if (server && rss_max) {
    /* sample while the sessions run */
    gboolean all = FALSE;

    while (!all) {
      *rss_max = MAX (*rss_max, server_rss_kb ());
      all = TRUE;
      for (i = 0; i < n; i++)
        all = all && g_atomic_int_get (&r[i]->frames) > 0;
      g_usleep (50000);
    }
    *rss_max = MAX (*rss_max, server_rss_kb ());
  }
  for (i = 0; i < n; i++) {
    run_wait (r[i]);
    f[i] = (r[i]->first - r[i]->start) / 1e6;
    t[i] = (r[i]->end - r[i]->start) / 1e6;
    g_free (r[i]);
  }
  *ttff = bench_median (f, n);
  *total = bench_median (t, n);
}

static void
row (const gchar * name, gdouble * a, gdouble * b, gint rounds,
    const gchar * target, gdouble limit, gdouble floor_a)
{
  gdouble ratio[32], rmin = 1e9, rmax = 0, ma, mb, r;
  gint i;

  for (i = 0; i < rounds; i++) {
    ratio[i] = b[i] / MAX (a[i], floor_a);
    rmin = MIN (rmin, ratio[i]);
    rmax = MAX (rmax, ratio[i]);
  }
  r = bench_median (ratio, rounds);
  ma = bench_median (a, rounds);
  mb = bench_median (b, rounds);
  printf ("| %-28s | %8.3f s | %8.3f s | %6.3f (%.3f-%.3f) | %-22s | %-3s |\n",
      name, ma, mb, r, rmin, rmax, target, r <= limit ? "yes" : "NO");
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  gint rounds, n_idx, ns[3] = { 1, 2, 4 }, i;
  gchar *out = NULL, *line, *model_arg, *threads_arg;
  GError *error = NULL;
  gint out_fd;
  gint64 rss[3] = { 0, 0, 0 };
  gdouble ttff_a[3][32], ttff_b[3][32], tot_a[3][32], tot_b[3][32], x, y;
  gchar *argv_srv[8];
  FILE *fp;
  gchar buf[512];

  if (argc != 6) {
    fprintf (stderr, "usage: bench-serve SERVER MODEL THREADS DURATION "
        "ROUNDS\n");
    return 2;
  }
  g_setenv ("GST_KLING_SHARE_MODELS", "1", TRUE);
  gst_init (NULL, NULL);
  model = argv[2];
  threads = atoi (argv[3]);
  duration = g_ascii_strtod (argv[4], NULL);
  rounds = CLAMP (atoi (argv[5]), 1, 32);

  model_arg = g_strdup_printf ("--model=%s", model);
  threads_arg = g_strdup_printf ("--threads=%d", threads);
  argv_srv[0] = argv[1];
  argv_srv[1] = (gchar *) "--port=0";
  argv_srv[2] = (gchar *) "--status-port=0";
  argv_srv[3] = (gchar *) "--max-jobs=4";
  argv_srv[4] = model_arg;
  argv_srv[5] = threads_arg;
  argv_srv[6] = NULL;
  if (!g_spawn_async_with_pipes (NULL, argv_srv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &server_pid, NULL, &out_fd,
          NULL, &error)) {
    fprintf (stderr, "bench-serve: %s\n", error->message);
    return 1;
  }
  fp = fdopen (out_fd, "r");
  if (!fgets (buf, sizeof buf, fp) || !(line = strstr (buf, "rtsp-port="))) {
    fprintf (stderr, "bench-serve: the server did not start\n");
    return 1;
  }
  rtsp_port = atoi (line + strlen ("rtsp-port="));

  /* warm up: model load and first calls, on both sides */
  round_of (FALSE, 1, -1, &x, &y, NULL);
  round_of (TRUE, 1, -1, &x, &y, NULL);

  for (i = 0; i < rounds; i++)
    for (n_idx = 0; n_idx < 3; n_idx++) {
      round_of (FALSE, ns[n_idx], i, &ttff_a[n_idx][i], &tot_a[n_idx][i], NULL);
      round_of (TRUE, ns[n_idx], i, &ttff_b[n_idx][i], &tot_b[n_idx][i],
          &rss[n_idx]);
    }

  printf ("| %-28s | %10s | %10s | %-21s | %-22s | %-3s |\n", "figure",
      "A pipeline", "B served", "ratio B/A (min-max)", "target", "ok");
  printf ("|------------------------------|------------|------------|"
      "-----------------------|------------------------|-----|\n");
  for (n_idx = 0; n_idx < 3; n_idx++) {
    gchar name[64];

    g_snprintf (name, sizeof name, "first frame, %d client%s", ns[n_idx],
        ns[n_idx] > 1 ? "s" : "");
    row (name, ttff_a[n_idx], ttff_b[n_idx], rounds, "<= 1.5 (overhead)",
        1.5, 0);
    g_snprintf (name, sizeof name, "total, %d client%s", ns[n_idx],
        ns[n_idx] > 1 ? "s" : "");
    row (name, tot_a[n_idx], tot_b[n_idx], rounds,
        "<= 1.25 x max(A, clip)", 1.25, duration);
  }
  printf ("\nserver resident memory (peak sampled while sessions start): "
      "1 session %.1f MB, 2: %.1f MB, 4: %.1f MB; 4/1 = %.2f (target <= "
      "1.5: one model copy) %s\n", rss[0] / 1024.0, rss[1] / 1024.0,
      rss[2] / 1024.0, (gdouble) rss[2] / MAX (rss[0], 1),
      rss[2] <= 1.5 * rss[0] ? "yes" : "NO");

  /* one cold gst-launch-1.0 run, model load included, for reference */
  {
    gchar *cmd = g_strdup_printf ("/usr/bin/time -f '%%e s %%M KB' "
        "gst-launch-1.0 -q klinggen model=%s threads=%d duration=%g "
        "prompt=cold ! videoconvert ! x264enc tune=zerolatency "
        "speed-preset=veryfast ! matroskamux ! filesink location=/dev/null",
        model, threads, duration);
    gchar *res = NULL;

    /* /usr/bin/time reports on stderr */
    g_spawn_command_line_sync (cmd, NULL, &res, NULL, NULL);
    printf ("cold gst-launch-1.0 klinggen ! x264enc ! matroskamux ! filesink "
        "(%g s clip, load included): %s", duration, res ? res : "?\n");
    g_free (res);
    g_free (cmd);
  }

  kill (server_pid, SIGTERM);
  waitpid (server_pid, NULL, 0);
  g_spawn_close_pid (server_pid);
  g_free (out);
  g_free (model_arg);
  g_free (threads_arg);
  return 0;
}
