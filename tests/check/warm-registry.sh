#!/bin/sh
# meson test --wrapper: instead of running the test, build its registry
# (GST_REGISTRY, GST_PLUGIN_PATH_1_0 from the test's own environment).
# GStreamer 1.22 sets up GST_TRACERS before a new registry has its tracer
# factories, so without this the first run of every suite would go without
# the leaks tracer, and a leak would pass unseen.
gst-inspect-1.0 >/dev/null 2>&1 || true
exit 0
