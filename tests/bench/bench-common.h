/* gst-kling benchmarks: alternate A and B, report medians and the ratio
 * (see ../shared/BENCH.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __BENCH_COMMON_H__
#define __BENCH_COMMON_H__

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*BenchFunc) (gpointer data);

static int
bench_cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
bench_median (double *v, int n)
{
  qsort (v, n, sizeof (double), bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
bench_time (BenchFunc f, gpointer data, int reps)
{
  gint64 t0 = g_get_monotonic_time ();
  int i;

  for (i = 0; i < reps; i++)
    f (data);
  return (g_get_monotonic_time () - t0) / 1000.0 / reps;       /* ms per call */
}

/* Prints one table row: name, median of A, median of B, ratio B/A (so
 * ratio > 1 means A is faster), its min-max over the pairs, target. */
static void
bench_pair (const char *name, BenchFunc a, gpointer da, BenchFunc b,
    gpointer db, int pairs, int reps, const char *target_desc,
    double target_ratio, gboolean higher_is_better)
{
  double *ta = g_new (double, pairs), *tb = g_new (double, pairs);
  double *ratio = g_new (double, pairs), ma, mb, r, rmin, rmax;
  int i;

  a (da);                       /* warm up both */
  b (db);
  for (i = 0; i < pairs; i++) {
    ta[i] = bench_time (a, da, reps);
    tb[i] = bench_time (b, db, reps);
    ratio[i] = tb[i] / ta[i];
  }
  rmin = rmax = ratio[0];
  for (i = 1; i < pairs; i++) {
    rmin = MIN (rmin, ratio[i]);
    rmax = MAX (rmax, ratio[i]);
  }
  r = bench_median (ratio, pairs);
  ma = bench_median (ta, pairs);
  mb = bench_median (tb, pairs);
  printf ("| %-34s | %9.3f ms | %9.3f ms | %6.3f (%.3f-%.3f) | %-16s | %-4s |\n",
      name, ma, mb, r, rmin, rmax, target_desc,
      (higher_is_better ? r >= target_ratio : r <= target_ratio) ? "yes" :
      "NO");
  fflush (stdout);
  g_free (ta);
  g_free (tb);
  g_free (ratio);
}

static void
bench_header (const char *a, const char *b)
{
  printf ("| %-34s | %12s | %12s | %-21s | %-16s | %-4s |\n", "figure", a, b,
      "ratio B/A (min-max)", "target", "ok");
  printf ("|%s|%s|%s|%s|%s|%s|\n", "------------------------------------",
      "--------------", "--------------", "-----------------------",
      "------------------", "------");
}

#endif
