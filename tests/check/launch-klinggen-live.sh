#!/bin/sh
# klinggen is-live=true through gst-launch-1.0 (issue 12, finding 6): with a
# fast model, a model slower than real time and a slow downstream, each
# pipeline must reach EOS after num-frames slots; a hang fails (timeout).
#   launch-klinggen-live.sh FAST_MODEL SLOW_MODEL
set -u
fast="$1"
slow="$2"
fails=0

# run NAME EXPECT PIPELINE...: EXPECT is a grep pattern the output must hold
run () {
  name="$1"; expect="$2"; shift 2
  out=$(timeout 120 gst-launch-1.0 -v "$@" 2>&1)
  rc=$?
  if [ $rc -eq 124 ]; then
    echo "FAIL $name: no EOS within 120 s (hang)"; fails=$((fails + 1)); return
  fi
  if [ $rc -ne 0 ] || ! echo "$out" | grep -q "Got EOS from element"; then
    echo "$out" | tail -20
    echo "FAIL $name: exit $rc, no EOS"; fails=$((fails + 1)); return
  fi
  frames=$(echo "$out" | grep -c "chain ")
  if [ -n "$expect" ] && ! echo "$out" | grep -q "$expect"; then
    echo "$out" | tail -20
    echo "FAIL $name: no '$expect'"; fails=$((fails + 1)); return
  fi
  echo "ok $name: EOS after $frames buffers"
  LAST_FRAMES=$frames
}

run fast "" klinggen is-live=true num-frames=16 threads=1 model="$fast" ! \
    fakesink silent=false sync=true
[ "${LAST_FRAMES:-0}" -eq 16 ] || { echo "FAIL fast: $LAST_FRAMES buffers, expected 16"; fails=$((fails + 1)); }

# 100 steps of the slow model take longer than a chunk lasts: repeats
run slow-model "slower than real time: repeating frames" klinggen \
    is-live=true num-frames=16 threads=1 steps=100 model="$slow" ! \
    fakesink silent=false sync=true
[ "${LAST_FRAMES:-0}" -eq 16 ] || { echo "FAIL slow-model: $LAST_FRAMES buffers, expected 16"; fails=$((fails + 1)); }

# 300 ms a buffer downstream, 125 ms a slot: slots are dropped
LAST_FRAMES=0
run slow-downstream "Downstream is slower than real time" klinggen \
    is-live=true num-frames=16 threads=1 model="$fast" ! \
    identity sleep-time=300000 ! fakesink silent=false sync=true
[ "$LAST_FRAMES" -gt 0 ] && [ "$LAST_FRAMES" -lt 16 ] || { echo "FAIL slow-downstream: $LAST_FRAMES buffers, expected fewer than 16"; fails=$((fails + 1)); }

[ $fails -eq 0 ] || exit 1
echo "ok: all live pipelines ended"
