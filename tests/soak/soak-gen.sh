#!/usr/bin/env bash
# Soak test (not CI): klinggen is-live=true with the default video model,
# endless (duration=0), RSS of gst-launch-1.0 sampled every 30 s, growth
# after warm-up reported.  When generation is slower than real time the
# element repeats frames (with a warning): the soak still measures memory.
#   tests/soak/soak-gen.sh [--minutes 60] [--interval 30] [--build build]
source "$(dirname "$0")/soak-lib.sh"
soak_parse_args "$@"

soak_run gen klinggen is-live=true duration=0 \
  prompt="a red ball moves right on a beach" ! videoconvert ! \
  fpsdisplaysink text-overlay=false video-sink=fakesink
