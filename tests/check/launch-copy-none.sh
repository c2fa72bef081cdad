#!/bin/sh
# copy-model=none switches the copywriter off from gst-launch-1.0 (where
# copy-model="" cannot be written: the shell eats the quotes): the pipeline
# runs to EOS and the text pad carries no copy.
#   launch-copy-none.sh
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! gst-launch-1.0 -q videotestsrc num-buffers=5 ! \
    video/x-raw,width=160,height=120 ! videoconvert ! \
    aiproductdetect name=d copy-model=none threads=1 ! fakesink \
    d.text_src ! filesink location="$out/copy.txt" > "$out/log" 2>&1; then
  cat "$out/log" >&2
  echo "aiproductdetect copy-model=none failed" >&2
  exit 1
fi
if [ -s "$out/copy.txt" ]; then
  echo "copy was written with copy-model=none:" >&2
  cat "$out/copy.txt" >&2
  exit 1
fi
echo "ok: copy-model=none ran to EOS with no copy"
