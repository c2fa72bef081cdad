/* gst-kling benchmarks: pulling what an element made from an appsink
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __BENCH_APPSINK_H__
#define __BENCH_APPSINK_H__

#include <stdio.h>
#include <stdlib.h>
#include <gst/app/gstappsink.h>

/* Waits up to @timeout for the next sample of @sink and drops it; when
 * none comes, says why (the first error on @pipeline's bus) and exits:
 * a benchmark that timed a stopped pipeline would report nonsense. */
static inline void
bench_pull_or_exit (GstElement * pipeline, GstElement * sink,
    GstClockTime timeout)
{
  GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), timeout);
  GstMessage *m;
  GError *e = NULL;

  if (s) {
    gst_sample_unref (s);
    return;
  }
  m = gst_bus_pop_filtered (GST_ELEMENT_BUS (pipeline), GST_MESSAGE_ERROR);
  if (m)
    gst_message_parse_error (m, &e, NULL);
  fprintf (stderr, "the pipeline stopped: %s\n", e ? e->message :
      "no sample and no error");
  exit (1);
}

#endif
