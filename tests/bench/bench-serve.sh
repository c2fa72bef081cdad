#!/usr/bin/env bash
# gst-kling-serve against klinggen in a plain pipeline (bench-serve.c):
# time to first frame and total with 1, 2 and 4 concurrent clips, the
# server's memory with N sessions, one cold gst-launch-1.0 run.
#
#   tests/bench/bench-serve.sh [BUILD_DIR] [DURATION_S] [ROUNDS]
#
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the measured
# processes, to measure what users get.  Not part of the test suite.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
duration=${2:-4}
rounds=${3:-3}
threads=${KLING_BENCH_THREADS:-$(nproc)}
model=${KLING_BENCH_MODEL:-$top/models/kling-video.pt}

ninja -C "$build" tools/serve/gst-kling-serve tools/serve/bench-serve >/dev/null
export GST_KLING_BACKEND="$build/ext/torch/libkling-torch.so"
export GST_PLUGIN_PATH="$build/gst"
export GST_KLING_MODEL_PATH="$top/models"
export GST_REGISTRY="$build/bench-registry.bin"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), threads=$threads"
echo "model: $model, clip: $duration s, rounds: $rounds (A and B alternated)"
echo
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
  "$build/tools/serve/bench-serve" "$build/tools/serve/gst-kling-serve" \
  "$model" "$threads" "$duration" "$rounds"
