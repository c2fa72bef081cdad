#!/usr/bin/env bash
# Soak test (not CI): live aiproductdetect at 25 fps with the default models
# (detector and copywriter), RSS of gst-launch-1.0 sampled every 30 s, growth
# after warm-up reported.
#   tests/soak/soak-detect.sh [--minutes 60] [--interval 30] [--build build]
# The source is the rendered shop video (build/tests/media/products.rgb,
# 320x240 RGB) looped by multifilesrc, paced by the clock at 25 fps, so the
# detector sees products and the copywriter writes; without it,
# videotestsrc pattern=ball.
source "$(dirname "$0")/soak-lib.sh"
soak_parse_args "$@"

media="$build/tests/media/products.rgb"
if [ -f "$media" ]; then
  src=(multifilesrc location="$media" loop=true ! rawvideoparse width=320
       height=240 format=rgb framerate=25/1 ! identity sync=true)
else
  echo "soak detect: $media not built; using videotestsrc pattern=ball"
  src=(videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1)
fi
soak_run detect "${src[@]}" ! videoconvert ! aiproductdetect name=d ! \
  fpsdisplaysink text-overlay=false video-sink=fakesink sync=false \
  d.text_src ! queue ! fakesink async=false
