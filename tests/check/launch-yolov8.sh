#!/bin/sh
# Stand-ins for ultralytics yolov8n/yolo11n TorchScript exports at 640x640
# ([1, 3, 640, 640] in, [1, 84, 8400] out, 80 COCO classes; built by
# tests/models/make_yolo_models.py and wrapped as docs/models.md says, the
# long form for yolov8n, the short one for yolo11n) run in the docs' own
# gst-launch-1.0 line: decodebin ! videoconvert ! aiproductdetect
# model=… copy-model=none draw=true.  The boxes in the element messages are
# the planted ones mapped back to the frame (letterboxed top/bottom and
# left/right), with their scores, after the threshold (the manifest's
# 0.25) and class-wise NMS: yolo-expected.txt lists them.
#   launch-yolov8.sh TEST_MODELS_DIR
set -eu
models="$1"
expected="$models/yolo-expected.txt"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0

sizes=$(grep -v '^#' "$expected" | awk '{ print $1 "x" $2 }' | sort -u)
for size in $sizes; do
  w=${size%x*}
  h=${size#*x}
  gst-launch-1.0 -q videotestsrc num-buffers=2 pattern=ball ! \
      video/x-raw,width="$w",height="$h" ! videoconvert ! jpegenc ! \
      avimux ! filesink location="$out/clip-$size.avi"
  awk -v w="$w" -v h="$h" '!/^#/ && $1 == w && $2 == h {
      print $3, $4, $5, $6, $7, $8, $9 }' "$expected" > "$out/want-$size"
  for model in yolov8n yolo11n; do
    log="$out/$model-$size.log"
    if ! gst-launch-1.0 -m filesrc location="$out/clip-$size.avi" ! \
        decodebin ! videoconvert ! \
        aiproductdetect name=d model="$models/$model-kling.pt" \
          copy-model=none draw=true threads=2 ! \
        videoconvert ! fakesink > "$log" 2>&1; then
      cat "$log" >&2
      echo "FAIL: $model on ${size} did not run to EOS" >&2
      status=1
      continue
    fi
    # one line per detection: label label-id confidence x y width height,
    # a line "--" after each frame's message
    grep 'from element "d" (element): aiproductdetect' "$log" | \
      sed 's/\\//g' | while IFS= read -r msg; do
        printf '%s\n' "$msg" | grep -o 'label=(string)[^,]*, label-id=(int)[0-9]*, confidence=(double)[0-9.e+-]*, x=(uint)[0-9]*, y=(uint)[0-9]*, width=(uint)[0-9]*, height=(uint)[0-9]*' | \
          sed 's/[a-z-]*=([a-z]*)//g; s/,//g' || true
        echo "--"
      done > "$out/got"
    if ! awk -v model="$model" -v size="$size" '
        FNR == NR { want[++n] = $0; next }
        $1 == "--" {
          frames++
          if (count != n) {
            printf "frame %d: %d detections, want %d\n", frames, count, n
            bad = 1
          }
          for (i = 1; i <= n; i++)
            if (!(i in found)) {
              printf "frame %d: missing %s\n", frames, want[i]
              bad = 1
            }
          delete found
          count = 0
          next
        }
        {
          count++
          hit = 0
          for (i = 1; i <= n; i++) {
            split(want[i], e, " ")
            d = $3 - e[7]
            if ($1 == e[1] && $2 == e[2] && d < 0.01 && d > -0.01 &&
                ($4 - e[3]) ^ 2 <= 1 && ($5 - e[4]) ^ 2 <= 1 &&
                ($6 - e[5]) ^ 2 <= 1 && ($7 - e[6]) ^ 2 <= 1) {
              found[i] = 1
              hit = 1
            }
          }
          if (!hit) {
            printf "frame %d: unexpected %s\n", frames + 1, $0
            bad = 1
          }
        }
        END {
          if (frames != 2) {
            printf "%d frames analysed, want 2\n", frames
            bad = 1
          }
          exit bad
        }' "$out/want-$size" "$out/got" > "$out/diff"; then
      echo "FAIL: $model on ${size}:" >&2
      cat "$out/diff" >&2
      echo "got:" >&2
      cat "$out/got" >&2
      status=1
    else
      echo "ok: $model on ${size}: $(grep -vc -- '--' "$out/got") boxes where expected"
    fi
  done
done
exit $status
