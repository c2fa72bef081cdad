#!/bin/sh
# A real scripted torchvision detector runs in gst-launch-1.0 after the
# wrap step alone; with GST_KLING_TORCHVISION_OPS pointing at no library the
# element fails at start with an error naming torchvision's op library.
#   launch-torchvision-ops.sh TEST_MODELS_DIR
set -eu
models="$1"
if grep -q '^skip:' "$models/torchvision-models.txt"; then
  cat "$models/torchvision-models.txt"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
model="$models/tv-ssdlite-kling.pt"

if ! gst-launch-1.0 -q videotestsrc num-buffers=3 ! \
    video/x-raw,width=160,height=120 ! videoconvert ! \
    aiproductdetect model="$model" copy-model=none threads=1 ! \
    fakesink > "$out/log" 2>&1; then
  cat "$out/log" >&2
  echo "the scripted ssdlite did not run" >&2
  exit 1
fi

if GST_KLING_TORCHVISION_OPS=/nonexistent/libtorchvision.so \
    gst-launch-1.0 -q videotestsrc num-buffers=1 ! videoconvert ! \
    aiproductdetect model="$model" copy-model=none threads=1 ! \
    fakesink > "$out/log" 2>&1; then
  echo "ran without torchvision's operators?" >&2
  exit 1
fi
if ! grep -q "could not load torchvision's operator library \"/nonexistent/libtorchvision.so\"" "$out/log"; then
  cat "$out/log" >&2
  echo "the error does not name the missing op library" >&2
  exit 1
fi
echo "ok: ssdlite ran; a missing op library is named"
