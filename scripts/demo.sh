#!/usr/bin/env bash
# The README's main command: install, build, then generate a clip with the
# default text-to-video model (progress is printed), make posters around a
# product, and find the products in a shop video, with the default models.
# Output goes to ./kling-demo/.
source "$(dirname "$0")/common.sh"

kling_install_deps
kling_build

out="$KLING_TOP/kling-demo"
mkdir -p "$out"
launch() { meson devenv -C "$KLING_BUILD" gst-launch-1.0 "$@"; }

echo "== klinggen: a 4-second clip from a prompt =="
launch klinggen prompt="紅色的球在海灘上向右滾動" duration=4 ! videoconvert ! \
    vp8enc deadline=1 ! webmmux ! filesink location="$out/beach.webm"
gst-discoverer-1.0 "$out/beach.webm" | grep -E "Duration|video"

echo "== ketuposter: two posters around a product =="
launch videotestsrc pattern=ball num-buffers=1 ! \
    video/x-raw,width=240,height=240,format=RGB ! \
    ketuposter prompt="雪地" width=384 height=512 variants=2 ! videoconvert ! \
    pngenc ! multifilesink location="$out/poster-%d.png"

echo "== aiproductdetect: products and copy in a shop video =="
# a synthetic shop video rendered by the detector recipe, encoded so that
# decodebin is in the path as with a user's file
media="$out/media"
/usr/bin/python3 "$KLING_TOP/models/detect/train.py" --render-video "$media" --video-seed 2027
launch filesrc location="$media/products.rgb" ! \
    rawvideoparse width=320 height=240 format=rgb framerate=10/1 ! \
    videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$out/shop.webm"
launch filesrc location="$out/shop.webm" ! decodebin ! videoconvert ! \
    aiproductdetect name=d language=en draw=true ! videoconvert ! \
    textoverlay name=o ! videoconvert ! vp8enc deadline=1 ! webmmux ! \
    filesink location="$out/shop-detected.webm" \
    d.text_src ! tee name=t ! queue ! o.text_sink \
    t. ! queue ! filesink location="$out/shop-copy.txt"
echo "copy written for the products found:"
fold -s -w 100 "$out/shop-copy.txt" | head -8; echo
ls -l "$out"
