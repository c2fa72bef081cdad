#!/bin/bash
# gst-kling-live's faults (issue 17): bad options, products and models give
# a clear message and exit 1 (never a hang); a broken photo is skipped with
# a warning; SIGINT and SIGTERM end the stream with EOS, the file finalised,
# exit 0; posters from ketuposter fill the frame, a broken poster model
# falls back to the photo; copywriter and camera faults: a model that is
# missing or does not load, a camera URI that does not play, exit 1; a
# copywriter that writes nothing leaves the templated copy, with a warning.
# Usage: live-faults.sh PROGRAM TEST_MODELS_DIR
set -eu
prog=$1
models=$2
for t in ffprobe gst-launch-1.0; do
  command -v $t >/dev/null || { echo "skip: no $t"; exit 77; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
gst-launch-1.0 -q videotestsrc num-buffers=1 ! video/x-raw,width=320,height=240 ! \
  pngenc ! filesink location=photo.png
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=solid-color \
  foreground-color=0xff303030 ! video/x-raw,width=128,height=128 ! pngenc ! \
  filesink location=host.png
echo "not an image" > broken.png
cat > products.json <<'EOF'
[{"photo": "broken.png", "name": "Broken Photo"},
 {"photo": "photo.png", "name": "Test Card", "price": "$1"}]
EOF
echo '[{"photo": "broken.png", "name": "Broken Photo"}]' > broken.json
echo '[{"photo": "photo.png", "name": ' > notjson.json
host=$models/host-energy.pt
fails=0

# expect_fail MESSAGE ARGS...: exit 1 within 30 s, MESSAGE on stderr
expect_fail() {
  local want=$1 rc=0
  shift
  timeout 30 "$prog" "$@" > out.txt 2> err.txt || rc=$?
  if [ $rc != 1 ] || ! grep -qF -- "$want" err.txt; then
    echo "FAIL: $* -> exit $rc, wanted 1 and \"$want\":"; cat err.txt
    fails=$((fails + 1))
  else
    echo "ok: $(head -c 300 err.txt | tr '\n' ' ')"
  fi
}
common=(--products products.json --host host.png -o out.flv --duration 3)
expect_fail "give --products FILE" --host host.png -o out.flv
expect_fail "a file must end in .flv, .ts or .mp4" --products products.json \
  --host host.png -o out.mkv --host-model "$host"
expect_fail "APP/STREAM" --products products.json --host host.png \
  -o rtmp://127.0.0.1/live --host-model "$host"
expect_fail "--interval must be" "${common[@]}" --interval 0 --host-model "$host"
# the default host model not installed (an empty model path)
mkdir -p "$dir/no-models"
GST_KLING_MODEL_PATH="$dir/no-models" expect_fail \
  "no talking-head model: kling-host.pt" "${common[@]}"
expect_fail "--host-model $dir/none.pt: no such file" "${common[@]}" \
  --host-model "$dir/none.pt"
expect_fail "--speech-model x.pt: no such file" "${common[@]}" \
  --host-model "$host" --speech-model x.pt
expect_fail "host: " "${common[@]}" --host-model "$models/truncated.pt"
expect_fail "not JSON" --products notjson.json --host host.png -o out.flv \
  --host-model "$host"
expect_fail "no product has a usable photo" --products broken.json \
  --host host.png -o out.flv --host-model "$host"
grep -q "Broken Photo" err.txt || { echo "FAIL: no warning for the photo"; fails=$((fails + 1)); }
expect_fail "--host: " --products products.json --host broken.png \
  -o out.flv --host-model "$host"
expect_fail "not a FIFO" "${common[@]}" --host-model "$host" --commands products.json
# the copywriter: missing, not loading, the default not installed
expect_fail "--copy-model x.pt: no such file" "${common[@]}" \
  --host-model "$host" --copy-model x.pt
expect_fail "--copy-model $models/truncated.pt: cannot load the copywriter" \
  "${common[@]}" --host-model "$host" --copy-model "$models/truncated.pt"
GST_KLING_MODEL_PATH="$dir/no-models" expect_fail \
  "no copywriter model: kling-copywrite.pt" "${common[@]}" \
  --host-model "$host"
expect_fail "--detect-labels no-labels.txt: " "${common[@]}" \
  --host-model "$host" --copy-model none --detect-labels no-labels.txt
# the camera: not a URI, a URI that does not play, no detector
expect_fail "--camera no-such-camera: neither a URI" "${common[@]}" \
  --host-model "$host" --copy-model none --camera no-such-camera
expect_fail "--camera file:///no/such/camera.mp4: no picture from it" \
  "${common[@]}" --host-model "$host" --copy-model none \
  --camera file:///no/such/camera.mp4
expect_fail "--camera needs a detector" "${common[@]}" --host-model "$host" \
  --copy-model none --detect-model none --camera photo.png
# a copywriter whose every logit is NaN writes nothing: templated copy
rc=0
timeout 60 "$prog" "${common[@]}" --host-model "$host" \
  --copy-model "$models/copy-nan.pt" > out.txt 2> err.txt || rc=$?
if [ $rc = 0 ] && grep -q "the copywriter wrote nothing" err.txt && \
    grep -q "say: Here is the Test Card" out.txt; then
  echo "ok: --copy-model copy-nan.pt: exit 0, templated copy, warned"
else
  echo "FAIL: --copy-model copy-nan.pt: exit $rc"; cat out.txt err.txt
  fails=$((fails + 1))
fi

# a signal ends the stream: EOS, the file readable to its end, exit 0
for run in INT:mp4 TERM:ts; do
  sig=${run%:*} ext=${run#*:}
  {
    rm -f "show.$ext"
    # commands from stdin too: a say, then stdin closes (the show goes on)
    printf 'say Hello from stdin\n' | timeout 60 "$prog" --products \
      products.json --host host.png -o "show.$ext" --host-model "$host" \
      --copy-model none --commands - > out.txt 2> err.txt &
    pid=$!
    for _ in $(seq 100); do
      grep -q "first data out" out.txt && break
      sleep 0.1
    done
    sleep 3
    kill -$sig $pid
    rc=0
    wait $pid || rc=$?
    grep -q "Broken Photo" err.txt || { echo "FAIL: no warning for the photo"; fails=$((fails + 1)); }
    grep -q "say: Hello from stdin" out.txt || { echo "FAIL: stdin's say not said"; fails=$((fails + 1)); }
    d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "show.$ext" || true)
    s=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "show.$ext" | grep . | sort -u | tr '\n' ' ' || true)
    if [ $rc = 0 ] && [ "$s" = "aac h264 " ] && \
        python3 -c "import sys; sys.exit(not 2.5 < float('$d') < 15)"; then
      echo "ok: SIG$sig -> exit 0, show.$ext $d s ($s)"
    else
      echo "FAIL: SIG$sig -> exit $rc, show.$ext: duration '$d', streams '$s'"
      cat out.txt err.txt
      fails=$((fails + 1))
    fi
  }
done
# posters: ketuposter's scene fills the frame where the photo would be
# letterboxed in black; a poster model that does not load falls back to the
# photo with a warning
for poster in poster-colour.pt truncated.pt; do
  rc=0
  timeout 60 "$prog" --products products.json --host host.png -o poster.flv \
    --host-model "$host" --poster-model "$models/$poster" --duration 3 \
    --copy-model none \
    > out.txt 2> err.txt || rc=$?
  edge=$(ffmpeg -v error -ss 1.5 -i poster.flv -frames:v 1 \
    -vf "crop=40:40:10:100,scale=1:1:flags=area" -f rawvideo -pix_fmt gray - |
    od -An -tu1 | tr -d ' ')
  if [ $poster = poster-colour.pt ]; then
    ok=$([ $rc = 0 ] && [ "${edge:-0}" -gt 40 ] && echo yes || echo no)
  else
    ok=$([ $rc = 0 ] && [ "${edge:-99}" -lt 20 ] && grep -q "no poster" err.txt && echo yes || echo no)
  fi
  if [ $ok = yes ]; then
    echo "ok: --poster-model $poster: exit 0, left edge grey level $edge"
  else
    echo "FAIL: --poster-model $poster: exit $rc, left edge grey level '$edge'"
    cat out.txt err.txt
    fails=$((fails + 1))
  fi
done
[ $fails = 0 ]
