#!/usr/bin/env bash
# Runs every gst-kling benchmark and prints their tables.  Figures are
# ratios measured in one run (../shared/BENCH.md); not part of the tests.
#
#   tests/bench/run.sh [BUILD_DIR]
#
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the benchmark
# processes only, to measure what users get.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
threads=${KLING_BENCH_THREADS:-$(nproc)}

if ! grep -q "benchmarks.*enabled\|benchmarks.*auto" <(meson configure "$build" 2>/dev/null); then
  meson configure "$build" -Dbenchmarks=enabled
fi
ninja -C "$build" >/dev/null

# the Python baseline needs GStreamer's Python bindings
for p in python3-gi python3-gst-1.0 gir1.2-gst-plugins-base-1.0 time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

export GST_KLING_BACKEND="$build/ext/torch/libkling-torch.so"
export GST_PLUGIN_PATH="$build/gst"
export GST_KLING_MODEL_PATH="$top/models"
export GST_REGISTRY="$build/bench-registry.bin"
# The elements wait passively in OpenMP unless the user says otherwise
# (kling-backend.c sets OMP_WAIT_POLICY before libtorch loads).  The bench
# programs link libtorch, so libgomp starts before their main(): give them,
# and the Python baseline, the policy the elements get.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), threads=$threads, OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
echo
echo "## ORC kernels"
run "$build/tests/bench/bench-orc"
echo
echo "## Backend call overhead"
run "$build/tests/bench/bench-backend" "$build/tests/models/bench-convnet.pt" "$threads"
if [ -f "$top/models/kling-detect-products.pt" ]; then
  run "$build/tests/bench/bench-backend" "$top/models/kling-detect-products.pt" "$threads"
fi
echo
echo "## Plugin weight: gst-inspect-1.0 kling"
rm -f "$GST_REGISTRY"
gst-inspect-1.0 kling >/dev/null 2>&1   # registry scan outside the figures
best_ms=""; best_kb=""
tf=$(mktemp)
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  /usr/bin/time -o "$tf" -f "%M" gst-inspect-1.0 kling >/dev/null 2>&1
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 )); kb=$(tail -1 "$tf")
  if [ -z "$best_ms" ] || [ "$ms" -lt "$best_ms" ]; then best_ms=$ms; fi
  if [ -z "$best_kb" ] || [ "$kb" -lt "$best_kb" ]; then best_kb=$kb; fi
done
rm -f "$tf"
libs=$(LD_DEBUG=libs gst-inspect-1.0 kling 2>&1 >/dev/null | grep -c "calling init" || true)
torch=$(LD_DEBUG=libs gst-inspect-1.0 kling 2>&1 >/dev/null | grep "calling init" | grep -c "libtorch" || true)
printf "| %-34s | %10s | %-16s | %-4s |\n" "figure" "value" "target" "ok"
printf "|%s|%s|%s|%s|\n" "------------------------------------" "------------" "------------------" "------"
printf "| %-34s | %7s ms | %-16s | %-4s |\n" "wall time (best of 5)" "$best_ms" "< 50 ms" "$([ "$best_ms" -lt 50 ] && echo yes || echo NO)"
printf "| %-34s | %7s MB | %-16s | %-4s |\n" "peak RSS (best of 5)" "$(awk "BEGIN{printf \"%.1f\", $best_kb/1024}")" "< 20 MB" "$([ "$best_kb" -lt 20480 ] && echo yes || echo NO)"
printf "| %-34s | %10s | %-16s | %-4s |\n" "shared libraries initialised" "$libs" "no libtorch" "$([ "$torch" -eq 0 ] && echo yes || echo NO)"
default_or_test() {
  if [ -f "$top/models/$1" ]; then echo "$top/models/$1"; else echo "$build/tests/models/$2"; fi
}
echo
echo "## aiproductdetect"
run "$build/tests/bench/bench-detect" "$(default_or_test kling-detect-products.pt bench-convnet.pt)" "$threads"
if [ -x "$top/tests/bench/python-appsink.py" ]; then
  run /usr/bin/python3 "$top/tests/bench/python-appsink.py" "$(default_or_test kling-detect-products.pt bench-convnet.pt)" "$threads" "$build"
fi
echo
echo "## klinggen"
video=$(default_or_test kling-video.pt video-colour.pt)
run "$build/tests/bench/bench-gen" "$video" "$threads" 10
mem10=$(/usr/bin/time -f "%M" gst-launch-1.0 -q klinggen model="$video" duration=10 threads="$threads" ! fakesink 2>&1 >/dev/null | tail -1)
mem60=$(/usr/bin/time -f "%M" gst-launch-1.0 -q klinggen model="$video" duration=60 threads="$threads" ! fakesink 2>&1 >/dev/null | tail -1)
printf "| %-34s | %7s MB | %7s MB | %6s | %-16s | %-4s |\n" "peak RSS, 10 s vs 60 s clip" "$((mem10 / 1024))" "$((mem60 / 1024))" \
  "$(awk "BEGIN{printf \"%.3f\", $mem60/$mem10}")" "<= 1.2" "$(awk "BEGIN{print ($mem60/$mem10 <= 1.2) ? \"yes\" : \"NO\"}")"
echo
echo "## ketuposter"
run "$build/tests/bench/bench-poster" "$(default_or_test kling-poster.pt poster-colour.pt)" "$threads"

echo
echo "## klingspeak (vs espeak-ng CLI)"
if [ -f "$build/ext/speak/libgstklingspeak.so" ]; then
  GST_PLUGIN_PATH="$build/ext/speak${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}" "$(dirname "$0")/bench-speak.sh" 7
fi

echo
echo "## klinghost"
run "$build/tests/bench/bench-host" "$(default_or_test kling-host.pt host-bench.pt)" "$threads"

echo
echo "## gst-kling-serve (vs klinggen in a plain pipeline)"
if [ -x "$build/tools/serve/gst-kling-serve" ]; then
  "$(dirname "$0")/bench-serve.sh" "$build" 4 3
fi

echo
echo "## gst-kling-promo (vs klinggen scaled and encoded in a plain pipeline)"
if [ -x "$build/tools/promo/gst-kling-promo" ]; then
  run "$(dirname "$0")/bench-promo.sh" 3 "$build"
fi
