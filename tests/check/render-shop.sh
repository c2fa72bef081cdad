#!/bin/sh
# Renders tests/media's synthetic shop frames (products.rgb, 320x240 RGB at
# 10 fps) to an encoded AVI, so decodebin is in the path of a launch test.
#   render-shop.sh MEDIA_DIR OUT.avi
set -eu
gst-launch-1.0 -q filesrc location="$1/products.rgb" ! \
    rawvideoparse width=320 height=240 format=rgb framerate=10/1 ! \
    videoconvert ! jpegenc ! avimux ! filesink location="$2"
