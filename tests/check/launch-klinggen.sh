#!/bin/sh
# klinggen in a gst-launch-1.0 pipeline: a 10-second clip encoded to WebM,
# read back by gst-discoverer-1.0 with the right duration.
#   launch-klinggen.sh MODEL
set -eu
model="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

gst-launch-1.0 -q klinggen model="$model" duration=10 threads=1 \
    prompt="紅色的球在海灘上向右滾動" ! videoconvert ! \
    vp8enc deadline=1 ! webmmux ! filesink location="$out/clip.webm"
info=$(gst-discoverer-1.0 "$out/clip.webm")
echo "$info"
duration=$(echo "$info" | sed -n 's/^ *Duration: //p')
case "$duration" in
  0:00:10.0*|0:00:09.9*) ;;
  *) echo "wrong duration: '$duration', expected 10 s" >&2; exit 1 ;;
esac
echo "$info" | grep -q "video #[0-9]*: VP8" || { echo "no VP8 video stream" >&2; exit 1; }
echo "ok: 10-second WebM"
