#!/bin/sh
# aiproductdetect in a gst-launch-1.0 pipeline on an encoded synthetic shop
# video (so decodebin is in the path), with the default models: the copy
# goes to textoverlay and to a file, and the pipeline reaches EOS.
#   launch-aiproductdetect.sh MEDIA_DIR
set -eu
media="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

gst-launch-1.0 -q filesrc location="$media/products.rgb" ! \
    rawvideoparse width=320 height=240 format=rgb framerate=10/1 ! \
    videoconvert ! jpegenc ! avimux ! filesink location="$out/products.avi"

gst-launch-1.0 -q filesrc location="$out/products.avi" ! decodebin ! \
    videoconvert ! aiproductdetect name=d language=en threads=2 ! \
    videoconvert ! textoverlay name=o ! fakesink \
    d.text_src ! tee name=t ! queue ! o.text_sink \
    t. ! queue ! filesink location="$out/copy.txt"

size=$(wc -c < "$out/copy.txt")
if [ "$size" -eq 0 ]; then
  echo "no copy came out of the text pad" >&2
  exit 1
fi
# valid UTF-8, and about products
if ! iconv -f UTF-8 -t UTF-8 "$out/copy.txt" >/dev/null; then
  echo "the copy is not valid UTF-8" >&2
  exit 1
fi
cat "$out/copy.txt"; echo
grep -qiE "bottle|can|box|cup|bag|shoe" "$out/copy.txt" || {
  echo "the copy names no product" >&2
  exit 1
}
echo "ok: $size bytes of copy"
