# gst-kling soak helpers, sourced by soak-detect.sh and soak-gen.sh (not CI).
# Runs one gst-launch-1.0 pipeline for --minutes, samples its resident set
# size every --interval seconds, and reports the growth after warm-up.
set -euo pipefail

SOAK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
minutes=60
interval=30
warmup=""
build="$SOAK_TOP/build"
log=""

soak_usage() {
  cat <<USAGE
usage: $0 [--minutes N] [--interval S] [--warmup-minutes N] [--build DIR] [--log FILE]
  --minutes N          how long the pipeline runs (default 60)
  --interval S         seconds between RSS samples (default 30)
  --warmup-minutes N   samples before this are warm-up, not counted in the
                       growth (default: a fifth of the run, at most 5)
  --build DIR          the meson build directory (default $SOAK_TOP/build);
                       its plugin and backend are used uninstalled
  --log FILE           also write the samples (seconds, RSS kB) to FILE
USAGE
}

soak_parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --minutes) minutes="$2"; shift 2 ;;
      --interval) interval="$2"; shift 2 ;;
      --warmup-minutes) warmup="$2"; shift 2 ;;
      --build) build=$(cd "$2" && pwd) || { echo "$0: no build directory $2" >&2; exit 2; }; shift 2 ;;
      --log) log="$2"; shift 2 ;;
      -h|--help) soak_usage; exit 0 ;;
      *) soak_usage >&2; exit 2 ;;
    esac
  done
  if [ -z "$warmup" ]; then
    warmup=$(awk -v m="$minutes" 'BEGIN { w = m / 5; if (w > 5) w = 5; print w }')
  fi
  if [ -f "$build/gst/libgstkling.so" ]; then
    export GST_PLUGIN_PATH_1_0="$build/gst${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}"
    export GST_KLING_BACKEND=${GST_KLING_BACKEND:-$build/ext/torch/libkling-torch.so}
    export GST_KLING_MODEL_PATH=${GST_KLING_MODEL_PATH:-$SOAK_TOP/models}
    export GST_REGISTRY=${GST_REGISTRY:-$build/soak-registry.bin}
  fi
}

# soak_run NAME PIPELINE...: runs gst-launch-1.0 PIPELINE, samples, reports.
# Exit status 1 when the pipeline died before the end (an error, a crash).
soak_run() {
  local name="$1"; shift
  local samples out pid t0 now elapsed end rss
  samples=$(mktemp)
  out=$(mktemp)
  trap 'rm -f "$samples" "$out"' RETURN

  gst-launch-1.0 -e -v "$@" >"$out" 2>&1 &
  pid=$!
  t0=$(date +%s)
  end=$((t0 + $(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')))
  echo "soak $name: pid $pid, ${minutes} min, a sample every ${interval} s," \
       "warm-up ${warmup} min"
  while :; do
    now=$(date +%s)
    elapsed=$((now - t0))
    if ! rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) \
        || [ -z "$rss" ]; then
      break
    fi
    echo "$elapsed $rss" >>"$samples"
    printf '  %5d s  RSS %8.1f MB\n' "$elapsed" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
    [ "$now" -ge "$end" ] && break
    sleep "$(( interval < end - now ? interval : end - now ))"
  done

  local alive=0
  if kill -0 "$pid" 2>/dev/null; then
    alive=1
    kill -INT "$pid"
    # -e: EOS on interrupt; give it time to drain, then stop it
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  wait "$pid" 2>/dev/null || true
  [ -n "$log" ] && cp "$samples" "$log"

  awk -v w="$warmup" -v name="$name" '
    { t[NR] = $1; r[NR] = $2 }
    END {
      n = 0
      for (i = 1; i <= NR; i++) if (t[i] >= w * 60) { n++; tt[n] = t[i]; rr[n] = r[i] }
      if (n < 2) { print "soak " name ": too few samples after warm-up (" NR " in all)"; exit }
      first = rr[1]; last = rr[n]; max = 0
      for (i = 1; i <= n; i++) if (rr[i] > max) max = rr[i]
      # least-squares slope, kB per second
      sx = sy = sxx = sxy = 0
      for (i = 1; i <= n; i++) { sx += tt[i]; sy += rr[i]; sxx += tt[i] * tt[i]; sxy += tt[i] * rr[i] }
      d = n * sxx - sx * sx
      slope = d > 0 ? (n * sxy - sx * sy) / d : 0
      printf "soak %s: RSS after warm-up %.1f MB, at the end %.1f MB (peak %.1f MB)\n", name, first / 1024, last / 1024, max / 1024
      printf "soak %s: growth after warm-up %+.2f MB (%+.2f%%) over %.1f min; trend %+.2f MB/hour (%d samples)\n", name, (last - first) / 1024, 100 * (last - first) / first, (tt[n] - tt[1]) / 60, slope * 3600 / 1024, n
    }' "$samples"

  if [ "$alive" -ne 1 ]; then
    echo "soak $name: the pipeline ended before ${minutes} min:" >&2
    tail -20 "$out" >&2
    return 1
  fi
  if grep -q "^ERROR" "$out"; then
    echo "soak $name: the pipeline posted an error:" >&2
    grep -A3 "^ERROR" "$out" >&2
    return 1
  fi
  # fpsdisplaysink's last report: frames through and the average rate
  grep -o 'rendered: [0-9]*, dropped: [0-9]*, current: [0-9.]*, average: [0-9.]*' "$out" \
    | tail -1 | sed "s/^/soak $name: /"
  grep -c "^WARNING" "$out" | awk -v n="$name" '$1 > 0 { print "soak " n ": " $1 " warnings on the bus" }'
  return 0
}
