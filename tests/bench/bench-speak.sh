#!/bin/sh
# klingspeak's overhead over espeak-ng, in two parts:
# 1. bench-speak (C): latency from a text buffer to its first audio sample
#    and real-time factor per line, against libespeak-ng's own synthesis
#    (time to its first callback with samples), alternated, medians;
# 2. a whole run against espeak-ng's command line on 3 minutes of text:
#    wall time (process start included for both), A B A B, medians.
# Usage: tests/bench/bench-speak.sh [runs [BUILD_DIR]]   (GST_PLUGIN_PATH
# must reach klingspeak, as tests/bench/run.sh sets it)
set -eu
runs=${1:-7}
build=${2:-$(cd "$(dirname "$0")/../.." && pwd)/build}
if [ -x "$build/tests/bench/bench-speak" ]; then
  "$build/tests/bench/bench-speak" $((runs * 2 + 1))
  echo
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=0
: > "$dir/copy.txt"
while [ $i -lt 40 ]; do
  printf 'Fresh coffee, roasted this morning, sold by the friendly baker on the corner. ' >> "$dir/copy.txt"
  i=$((i + 1))
done
now() { date +%s.%N; }
: > "$dir/a"; : > "$dir/b"
i=0
while [ $i -lt "$runs" ]; do
  t0=$(now)
  gst-launch-1.0 -q filesrc location="$dir/copy.txt" ! text/x-raw,format=utf8 ! \
    klingspeak voice=en ! wavenc ! filesink location="$dir/k.wav"
  t1=$(now)
  espeak-ng -v en -w "$dir/e.wav" -f "$dir/copy.txt"
  t2=$(now)
  echo "$t1 - $t0" | bc -l >> "$dir/a"
  echo "$t2 - $t1" | bc -l >> "$dir/b"
  i=$((i + 1))
done
python3 - "$dir" <<'PY'
import statistics, sys, wave
d = sys.argv[1]
a = statistics.median(float(x) for x in open(d + "/a"))
b = statistics.median(float(x) for x in open(d + "/b"))
def secs(p):
    w = wave.open(p)
    return w.getnframes() / w.getframerate()
ka, ea = secs(d + "/k.wav"), secs(d + "/e.wav")
print("klingspeak: %.3f s wall for %.1f s of audio, RTF %.0f" % (a, ka, ka / a))
print("espeak-ng : %.3f s wall for %.1f s of audio, RTF %.0f" % (b, ea, ea / b))
print("klingspeak / espeak-ng wall time: %.2f (%d runs each)" % (a / b, len(open(d + "/a").readlines())))
PY
