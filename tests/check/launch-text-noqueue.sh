#!/bin/sh
# text_src linked straight to a sink, no queue: the text sink's preroll
# must not hold the video streaming thread, so the pipeline reaches EOS
# (it used to hang in preroll).  A hang fails the test at the timeout.
#   launch-text-noqueue.sh TEST_MODELS_DIR
set -eu
models="$1"
for copy in "$models/copy-echo.pt" '""'; do
  for live in false true; do
    if ! timeout 60 gst-launch-1.0 -q videotestsrc num-buffers=20 ! \
        video/x-raw,width=64,height=48,framerate=25/1 ! \
        aiproductdetect name=d model="$models/detect-yolov8.pt" \
            copy-model="$copy" threads=1 live-mode=$live ! \
        fakesink sync=true d.text_src ! fakesink sync=true; then
      echo "pipeline with copy-model='$copy' live-mode=$live did not reach EOS" >&2
      exit 1
    fi
  done
done
echo "ok: text_src without a queue reaches EOS"
