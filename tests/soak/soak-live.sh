#!/usr/bin/env bash
# Soak test (not CI): gst-kling-live with the shipped models (host
# kling-host.pt on docs/host/portrait.png, copywriter kling-copywrite.pt,
# detector kling-detect-products.pt, the espeak-ng voice) streaming to an
# nginx-rtmp started here on 127.0.0.1, for --seconds (default 3600).
#   tests/soak/soak-live.sh [--seconds 3600] [--interval 30] [--ask 300]
#                           [--build DIR] [--keep DIR]
# Every --interval seconds: the program's RSS and CPU share; every --ask
# seconds a viewer's question on its command socket (the show switches).
# A viewer (ffmpeg, copying the stream to nowhere) counts the frames that
# reach it against the stream's own clock: the frames missing are the
# dropped ones.  Two more viewers record a clip at the start and one at the
# end (a question sent as it starts, so the host speaks in it), and
# tests/live/av-offset.py measures the host's mouth against the voice in
# each.  Prints a summary; exit 1 when the program failed, lost the
# server, or nothing arrived.
source "$(dirname "$0")/soak-lib.sh"
source "$(dirname "$0")/../live/rtmp-server.sh"

seconds=3600
sample_every=30
ask=300
keep=""
lib_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --interval) sample_every="$2"; shift 2 ;;
    --ask) ask="$2"; shift 2 ;;
    --build) lib_args+=(--build "$2"); shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
# the plugin, backend and models of the build, uninstalled
soak_parse_args "${lib_args[@]}" --interval "$sample_every"
# klingspeak is a plugin of its own (ext/speak)
export GST_PLUGIN_PATH_1_0="$build/ext/speak${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}"
export GST_REGISTRY="$build/soak-live-registry.bin"
prog="$build/tools/live/gst-kling-live"
for t in nginx ffmpeg ffprobe gst-launch-1.0 python3; do
  command -v $t >/dev/null || { echo "soak live: no $t" >&2; exit 2; }
done
[ -f $RTMP_MODULE ] || { echo "soak live: no libnginx-mod-rtmp" >&2; exit 2; }
[ -x "$prog" ] || { echo "soak live: no $prog (ninja -C $build)" >&2; exit 2; }

dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$keep" ]; then mkdir -p "$keep" && cp -r "$dir"/. "$keep"/; fi
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

# two products of plain colours, as the live tests have
still() {
  gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=solid-color \
    foreground-color=$1 ! video/x-raw,width=320,height=240 ! pngenc ! \
    filesink location=$2
}
still 0xffd02020 red.png
still 0xff2040d0 blue.png
cat > products.json <<'EOF'
[{"photo": "red.png", "name": "Red Thermos Bottle", "price": "$19.90",
  "notes": "Keeps tea hot for twelve hours. Fits every cup holder."},
 {"photo": "blue.png", "name": "蓝色帆布包", "price": "¥59",
  "notes": "结实耐用，能装下笔记本电脑。"}]
EOF
port=$(rtmp_free_port)
cmd_port=$(rtmp_free_port)
rtmp_server_start "$dir/ng" "$port"
url=rtmp://127.0.0.1:$port/live/soak

# the counting viewer, waiting for the stream before it is published
ffmpeg -nostdin -v error -i "$url" -map 0:v -c copy -f null - \
  -progress progress.txt 2> viewer.err &
viewer=$!
pids+=($viewer)

"$prog" --products products.json --host "$SOAK_TOP/docs/host/portrait.png" \
  -o "$url" --interval 60 --duration "$seconds" --commands "tcp:$cmd_port" \
  > live.out 2> live.err &
live_pid=$!
pids+=($live_pid)
echo "soak live: pid $live_pid, $seconds s to $url, a sample every" \
  "$sample_every s, a question every $ask s"

# the copy is written before going live (tens of seconds on a CPU)
for _ in $(seq 600); do
  grep -q "first data out" live.out && break
  kill -0 $live_pid 2>/dev/null || break
  sleep 0.5
done
grep -q "first data out" live.out || {
  echo "soak live: the program never went live:" >&2; tail -20 live.err >&2
  exit 1; }
grep "copywriter wrote\|first data out" live.out | sed 's/^/  /'
t_live=$(date +%s)
clip=$(( seconds / 5 < 30 ? seconds / 5 : 30 ))
clips=()
record_clip() {
  ffmpeg -nostdin -v error -i "$url" -t "$clip" -c copy "$1" 2>> clips.err &
  pids+=($!)
  clips+=($!)
}
# ends @1 within @2 seconds, else kills it (ffmpeg blocked in an RTMP read
# does not always see SIGINT)
stop_within() {
  for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || break; sleep 1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
record_clip start.flv   # the first product's copy is being said
end_clip_at=$(( t_live + seconds - clip - 5 ))

hz=$(getconf CLK_TCK)
cores=$(nproc)
ticks() { awk '{ print $14 + $15 }' "/proc/$live_pid/stat" 2>/dev/null || true; }
t0=$(date +%s)
c0=$(ticks)
prev_t=$t0 prev_c=$c0 next_ask=$(( t0 + ask )) questions=0 end_clip=0
: > samples.txt
asks=("那个帆布包还有吗？" "Is the thermos bottle still available?")
while kill -0 $live_pid 2>/dev/null; do
  sleep 1
  now=$(date +%s)
  if [ $end_clip = 0 ] && [ "$now" -ge "$end_clip_at" ]; then
    record_clip end.flv
    end_clip=1
    # a question now: the clip has the host speaking, not the quiet after
    # a product's copy
    next_ask=$now
  fi
  if [ "$now" -ge "$next_ask" ]; then
    python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.sendall(sys.argv[2].encode() + b"\n")
s.close()' "$cmd_port" "${asks[$((questions % 2))]}" || true
    questions=$((questions + 1))
    next_ask=$(( now + ask ))
  fi
  if [ $(( now - prev_t )) -ge "$sample_every" ]; then
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$live_pid/status" 2>/dev/null || true)
    c=$(ticks)
    [ -n "$rss" ] && [ -n "$c" ] || break
    # CPU share over the interval: of one core, and of the machine
    cpu=$(awk -v dc=$((c - prev_c)) -v dt=$((now - prev_t)) -v hz="$hz" \
      'BEGIN { printf "%.1f", 100 * dc / hz / dt }')
    frames=$(grep '^frame=' progress.txt 2>/dev/null | tail -1 | cut -d= -f2 || true)
    echo "$((now - t0)) $rss $cpu ${frames:-0}" >> samples.txt
    printf '  %5d s  RSS %7.1f MB  CPU %5s%% of a core  frames at the viewer %s\n' \
      $((now - t0)) "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$cpu" \
      "${frames:-0}"
    prev_t=$now prev_c=$c
  fi
done
rc=0
wait $live_pid || rc=$?
t1=$(date +%s)
sleep 2
for p in "${clips[@]}"; do stop_within "$p" 10; done
# the server gone, the viewers see the end of the stream
rtmp_server_stop
stop_within "$viewer" 10

# the summary
frames=$(grep '^frame=' progress.txt 2>/dev/null | tail -1 | cut -d= -f2 || true)
out_us=$(grep '^out_time_us=' progress.txt 2>/dev/null | tail -1 | cut -d= -f2 || true)
fps=25
python3 - "$rc" "${frames:-0}" "${out_us:-0}" "$fps" "$cores" "$seconds" \
  "$questions" "$((t1 - t0))" "$SOAK_TOP/tests/live/av-offset.py" <<'PY'
import json, os, re, subprocess, sys
rc, frames, out_us, fps, cores, seconds, questions, wall, offset = sys.argv[1:]
rc, frames, fps, cores = int(rc), int(frames), int(fps), int(cores)
out = open("live.out").read()
err = open("live.err").read()
stream_s = int(out_us) / 1e6 if out_us.lstrip("-").isdigit() else 0.0
expected = int(round(stream_s * fps)) + 1 if frames else 0
s = [l.split() for l in open("samples.txt")]
t = [int(x[0]) for x in s]
rss = [int(x[1]) / 1024 for x in s]
cpu = [float(x[2]) for x in s]
print("soak live: %s s asked, %s s from going live to the end; exit %d"
      % (seconds, wall, rc))
if rss:
    # after a fifth of the run (at most 5 min) the models are warm
    warm = [i for i in range(len(t)) if t[i] >= min(300, t[-1] / 5)] or [0]
    w = warm[0]
    n = len(t) - w
    trend = 0.0
    if n >= 2:
        mt = sum(t[w:]) / n
        mr = sum(rss[w:]) / n
        d = sum((x - mt) ** 2 for x in t[w:])
        trend = (sum((t[i] - mt) * (rss[i] - mr) for i in range(w, len(t))) / d
                 * 3600) if d else 0.0
    print("soak live: RSS %.1f MB at %d s (after warm-up), %.1f MB at the end, "
          "peak %.1f MB; trend %+.1f MB/hour (%d samples)"
          % (rss[w], t[w], rss[-1], max(rss), trend, len(rss)))
    print("soak live: CPU %.0f%% of a core on average (%.0f%% of the %d-core "
          "machine), %.0f%% at most"
          % (sum(cpu) / len(cpu), sum(cpu) / len(cpu) / cores, cores, max(cpu)))
print("soak live: the viewer got %d video frames over %.1f s of stream: "
      "%d dropped of %d (%.2f%%)"
      % (frames, stream_s, max(0, expected - frames), expected,
         100.0 * max(0, expected - frames) / expected if expected else 0))
late = len(re.findall(r"warning: host: ", err))
print("soak live: %d lines said, %d product switches, %d questions sent, "
      "%d reconnections, %d warnings of late host frames"
      % (len(re.findall(r" s say: ", out)), len(re.findall(r" s product ", out)),
         int(questions), len(re.findall(r"reconnected ", out)), late))
for name in ("start", "end"):
    clip = name + ".flv"
    if not os.path.exists(clip) or os.path.getsize(clip) == 0:
        print("soak live: no %s clip" % name)
        continue
    try:
        r = json.loads(subprocess.run([sys.executable, offset, clip], check=True,
                                      stdout=subprocess.PIPE).stdout)
        if r["speech"] < 0.1:
            print("soak live: A/V at the %s: the host says nothing in the "
                  "clip (%d frames)" % (name, r["frames"]))
        else:
            print("soak live: A/V at the %s (%d frames, voice in %.0f%%): "
                  "the mouth follows the voice best at %+d ms (r %.2f; at "
                  "0: %.2f)" % (name, r["frames"], 100 * r["speech"],
                                r["lag_ms"], r["r"], r["r_at_0"]))
    except subprocess.CalledProcessError:
        print("soak live: the %s clip could not be measured" % name)
bad = rc != 0 or frames == 0 or "lost the server" in out
sys.exit(1 if bad else 0)
PY
