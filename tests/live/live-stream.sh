#!/bin/bash
# gst-kling-live end to end over loopback (issue 17).
# Usage: live-stream.sh MODE PROGRAM TEST_MODELS_DIR
#   rtmp     nginx-rtmp started here on a free 127.0.0.1 port (recording what
#            it receives); two products, one scripted viewer question; the
#            recording must hold H.264 + AAC of about the run's length, the
#            product picture must switch from the first product to the one
#            asked about (read from the frames) when the program says it did,
#            and the host's mouth brightness (host-energy.pt paints it by
#            loudness) must follow the audio energy within 40 ms
#   restart  the same server stopped mid-stream and started again: the
#            program reconnects and the second recording goes on
#   srt      to an SRT listener (ffmpeg) instead: H.264 + AAC, length right;
#            next, the interval and pause sent to the command socket
#   srt-restart  the SRT listener killed (SIGKILL, no goodbye) mid-stream and
#            started again: srtsink's error comes after SRT's peer timeout,
#            the program reconnects, the second recording goes on
#   camera   --camera: a file URI of a green clip rendered here, through
#            aiproductdetect (boxes drawn), to an MP4: every frame's product
#            area is the camera's green, the detector's label is drawn; the
#            test detector's green read as "can" (--detect-labels) switches
#            the show to the can once, the products still rotate for the
#            copy
# In every mode the copy is written by the echo copywriter (copy-echo.pt:
# "red thing" for the bottle in English, "綠色的好東西" for the can in
# Chinese), and those lines must be spoken.
# Exit 77 only when nginx with its RTMP module, or ffmpeg, is not installed.
set -eu
mode=$1
prog=$2
models=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/rtmp-server.sh"
for t in ffmpeg ffprobe gst-launch-1.0 python3; do
  command -v $t >/dev/null || { echo "skip: no $t"; exit 77; }
done
if [ "$mode" = rtmp ] || [ "$mode" = restart ]; then
  command -v nginx >/dev/null && [ -f $RTMP_MODULE ] || {
    echo "skip: no nginx with libnginx-mod-rtmp"; exit 77; }
fi
[ -f "$models/host-energy.pt" ] || { echo "no $models/host-energy.pt"; exit 1; }

dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

# two products of plain colours (red, blue) and a dark grey host
still() {
  gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=solid-color \
    foreground-color=$1 ! video/x-raw,width=$2,height=$3 ! pngenc ! \
    filesink location=$4
}
still 0xffd02020 320 240 red.png
still 0xff2040d0 320 240 blue.png
still 0xff303030 128 128 host.png
cat > products.json <<'EOF'
[{"photo": "red.png", "name": "Red Thermos Bottle", "price": "$19.90",
  "notes": "Keeps tea hot for twelve hours."},
 {"photo": "missing.png", "name": "Ghost Product"},
 {"photo": "blue.png", "name": "蓝色帆布包", "price": "¥59",
  "notes": "结实耐用，能装下笔记本电脑。", "kind": "can"}]
EOF
# (kind can: the echo copywriter knows labels 0 and 1, bottle and can)

port=$(rtmp_free_port)
start_nginx() { rtmp_server_start "$dir/ng" "$port" "$dir/ng/rec"; }
stop_nginx() { rtmp_server_stop; }

now() { python3 -c 'import time; print("%.3f" % time.monotonic())'; }
# commands go through a FIFO, as an operator's console would write them,
# or (cmd_port set) to the program's socket on 127.0.0.1
cmd_port=
send_commands() {
  if [ -n "$cmd_port" ]; then
    python3 -c '
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("no command socket on %s" % sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.close()
' "$cmd_port" "$1"
  else
    printf '%s\n' "$1" > commands
  fi
}
run_live() {
  # $1: seconds, $2: when to send the commands (0: none), $3: the command
  # line, rest: extra options
  local secs=$1 ask=$2 lines=$3 rc=0 where=commands
  shift 3
  rm -f commands
  mkfifo commands
  [ -z "$cmd_port" ] || where=tcp:$cmd_port
  timeout $((secs + 60)) "$prog" --products products.json --host host.png \
    --duration "$secs" --host-model "$models/host-energy.pt" \
    --copy-model "$models/copy-echo.pt" \
    --detect-model "$models/detect-yolov8.pt" \
    --commands $where "$@" > live.out 2> live.err &
  local live_pid=$!
  if [ "$ask" != 0 ]; then
    sleep "$ask"
    send_commands "$lines"
  fi
  wait $live_pid || rc=$?
  cat live.out
  cat live.err >&2
  [ $rc = 0 ] || { echo "gst-kling-live failed ($rc)"; exit 1; }
  grep -q "Ghost Product" live.err || {
    echo "the missing photo was not reported"; exit 1; }
  # the copy was written before going live
  python3 - <<'PY'
out = open("live.out").read()
written = out.find("live: the copywriter wrote for 2 of 2 products")
assert written >= 0, "the copywriter did not write for both products"
assert written < out.find("first frame at running time"), \
    "the copy was not written before going live"
assert "live: copy 1: red thing" in out and "live: copy 2: 綠色的好東西" in out, \
    "the copywriter's lines were not reported"
PY
}

case $mode in
rtmp)
  start_nginx
  url=rtmp://127.0.0.1:$port/live/show
  # a viewer waiting for the stream: time to its first decoded frame
  t0=$(now)
  ( timeout 60 ffmpeg -v error -i "$url" -frames:v 1 -f null - && now > first.txt ) &
  pids+=($!)
  run_live 24 8 "$(printf '那个帆布包还有吗？\nsay Welcome to the show')" \
    --interval 300 -o "$url"
  stop_nginx
  [ -s first.txt ] && python3 -c "print('receiver: first frame %.2f s after start' % ($(cat first.txt) - $t0))"
  rec=$(ls ng/rec/*.flv)
  [ "$(echo "$rec" | wc -l)" = 1 ] || { echo "recordings: $rec"; exit 1; }
  ;;
restart)
  start_nginx
  url=rtmp://127.0.0.1:$port/live/show
  run_live 26 0 "" --interval 300 -o "$url" &
  live_pid=$!
  sleep 9
  stop_nginx
  echo "server stopped"
  sleep 2
  start_nginx
  echo "server started"
  wait $live_pid
  stop_nginx
  grep -q "reconnected" live.out || { echo "no reconnection"; exit 1; }
  ls -l ng/rec
  n=$(ls ng/rec/*.flv | wc -l)
  [ "$n" = 2 ] || { echo "$n recordings, not 2"; exit 1; }
  rec=$(ls -tr ng/rec/*.flv | tail -1)
  ;;
srt-restart)
  url=srt://127.0.0.1:$port
  listen() {
    ffmpeg -v error -i "srt://127.0.0.1:$port?mode=listener" -c copy \
      -f mpegts "$1" &
    recv_pid=$!
    pids+=($recv_pid)
  }
  listen recv1.ts
  sleep 1
  run_live 28 0 "" --interval 300 -o "$url" &
  live_pid=$!
  sleep 8
  kill -KILL $recv_pid
  echo "listener killed"
  sleep 2
  listen recv2.ts
  echo "listener started"
  wait $live_pid
  sleep 1
  kill -INT $recv_pid 2>/dev/null || true
  wait $recv_pid 2>/dev/null || true
  grep -q "lost the server" live.out || { echo "the loss was not reported"; exit 1; }
  grep -q "reconnected" live.out || { echo "no reconnection"; exit 1; }
  grep "reconnected\|lost" live.out live.err
  rec=recv2.ts
  mode=restart
  ;;
srt)
  url=srt://127.0.0.1:$port
  ffmpeg -v error -i "srt://127.0.0.1:$port?mode=listener" -c copy -f mpegts \
    recv.ts &
  recv_pid=$!
  pids+=($recv_pid)
  sleep 1
  # operator commands (on the program's socket) and the rotation: next at
  # ~3 s, the interval's switch back 5 s later, a pause that holds the
  # product after it
  cmd_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # (20 s: the bottle's written line, its second, is said after the pause)
  run_live 20 3 next --interval 5 -o "$url" &
  live_pid=$!
  sleep 10
  send_commands pause
  wait $live_pid
  grep -q "commands on 127.0.0.1:$cmd_port" live.out || {
    echo "no command socket reported"; exit 1; }
  sleep 1
  kill -INT $recv_pid 2>/dev/null || true
  wait $recv_pid 2>/dev/null || true
  rec=recv.ts
  ;;
camera)
  # the camera: a 4:3 green clip (letterboxed into the 16:9 picture)
  gst-launch-1.0 -q videotestsrc num-buffers=750 pattern=solid-color \
    foreground-color=0xff20c020 ! \
    video/x-raw,width=320,height=240,framerate=25/1 ! \
    x264enc speed-preset=ultrafast ! mp4mux ! filesink location=cam.mp4
  printf 'bottle\ncan\n' > kinds.txt
  run_live 16 0 "" --interval 12 -o show.mp4 --camera "file://$dir/cam.mp4" \
    --detect-labels kinds.txt
  ffprobe -v error -show_entries stream=codec_type,codec_name \
    -show_entries format=duration -of json show.mp4 > probe.json
  # the product area, and the detector's label drawn top left of its box
  ffmpeg -v error -i show.mp4 -an -vf "crop=64:64:120:60,scale=1:1:flags=area" \
    -fps_mode passthrough -f rawvideo -pix_fmt rgb24 product.rgb
  ffmpeg -v error -i show.mp4 -an -vf "crop=70:12:86:3,scale=1:1:flags=area" \
    -fps_mode passthrough -f rawvideo -pix_fmt rgb24 label.rgb
  python3 <<'PY'
import json, re
probe = json.load(open("probe.json"))
codecs = sorted(s["codec_name"] for s in probe["streams"])
assert codecs == ["aac", "h264"], codecs
duration = float(probe["format"]["duration"])
out = open("live.out").read()
rgb = open("product.rgb", "rb").read()
label = open("label.rgb", "rb").read()
n = len(rgb) // 3
assert n > 25 * 10, "%d frames" % n
green = sum(1 for i in range(n) if rgb[3 * i + 1] > 150
            and rgb[3 * i] < 90 and rgb[3 * i + 2] < 90)
labelled = sum(1 for i in range(n) if label[3 * i + 2] > 150
               and label[3 * i + 2] > label[3 * i + 1])
print("camera: %.2f s, %d frames, %d with the camera's green, %d with the "
      "detector's label" % (duration, n, green, labelled))
assert green == n, "%d of %d frames are not the camera's" % (n - green, n)
# the detector runs beside the stream (live mode): its first result may
# come a few frames late
assert labelled > n - 25, "the boxes are not drawn (%d of %d)" % (labelled, n)
# the can held in view 2 s switches to it, once; the rotation goes on
switches = re.findall(r"live: ([0-9.]+) s product (\d)/2 .*? \(([^)]*)\)", out)
print("switches: %s" % switches)
assert [(n, w) for _, n, w in switches] == [("1", "start"), ("2", "camera: can"),
                                           ("1", "interval")], switches
assert 2.0 <= float(switches[1][0]) < 5.0, "the camera's switch at %s s" % switches[1][0]
assert re.search(r"say: 綠色的好東西", out), "the can's written line was not said"
print("ok")
PY
  exit 0
  ;;
*)
  echo "mode $mode?"; exit 1 ;;
esac

# what came through: codecs, length, pictures, mouth against voice
ffprobe -v error -show_entries stream=codec_type,codec_name,start_time \
  -show_entries format=duration -of json "$rec" > probe.json
ffprobe -v error -select_streams v:0 -show_entries frame=pts_time \
  -of csv=p=0 "$rec" > vtimes.txt
# the product area (left of the host, above the lower third), mean colour
ffmpeg -v error -i "$rec" -an -vf "crop=64:64:120:60,scale=1:1:flags=area" \
  -fps_mode passthrough -f rawvideo -pix_fmt rgb24 product.rgb
# the host's mouth against the voice (host-energy.pt paints the face
# box's lower half by loudness)
python3 "$here/av-offset.py" "$rec" > offset.json
ffmpeg -v error -i "$rec" -vn -ac 1 -ar 16000 -f s16le audio.raw

python3 - "$mode" <<'PY'
import json, math, re, struct, sys
mode = sys.argv[1]
probe = json.load(open("probe.json"))
kinds = {s["codec_type"]: s for s in probe["streams"]}
assert set(kinds) == {"video", "audio"}, "streams: %s" % probe["streams"]
assert kinds["video"]["codec_name"] == "h264", kinds["video"]
assert kinds["audio"]["codec_name"] == "aac", kinds["audio"]
out = open("live.out").read()
def times(pattern):
    return [float(m) for m in re.findall(r"live: ([0-9.]+) s " + pattern, out)]
stop = times("stopping")
assert stop, "no stopping line"
first = [float(m) for m in re.findall(r"first frame at running time ([0-9.]+)", out)]
duration = float(probe["format"]["duration"])
vt = [float(l.strip().strip(",")) for l in open("vtimes.txt")
      if l.strip().strip(",") not in ("", "N/A")]
print("%s: %.2f s recorded, %d frames, program stopped at %.2f s running time"
      % (mode, duration, len(vt), stop[-1]))
if mode == "restart":
    # the second pipeline ran from reconnection to the stop
    assert duration > 6.0, "only %.2f s after the reconnection" % duration
else:
    # after a stop the line being said is finished, then EOS
    eos = times("end of stream")
    assert eos and eos[-1] >= stop[-1], "no end of stream after the stop"
    expect = eos[-1] - first[0]
    assert abs(duration - expect) < 1.5, \
        "recorded %.2f s, streamed %.2f s" % (duration, expect)
    assert duration > 10
fps = len(vt) / (vt[-1] - vt[0])
assert 23 < fps < 27, "%.1f frames per second" % fps

rgb = open("product.rgb", "rb").read()
assert len(rgb) == 3 * len(vt), "%d colours for %d frames" % (len(rgb) // 3, len(vt))
def colour(i):
    r, g, b = rgb[3 * i:3 * i + 3]
    if r > 150 and b < 90: return "red"
    if b > 150 and r < 90: return "blue"
    return "other"
# up to the stop (after it the picture may end a frame before the host)
seq = [colour(i) for i in range(len(vt)) if vt[i] - vt[0] < stop[-1] - first[0]]
# every switch the program printed is in the frames, in order, within
# 0.5 s of its time; and no other
colours = {"1/2": "red", "2/2": "blue"}
said = [(float(t) - first[0], colours[n], why) for t, n, why in
        re.findall(r"live: ([0-9.]+) s product (\d/2) .*? \((\w+)", out)]
runs = [(vt[0] - vt[0], seq[0])]
for i in range(1, len(seq)):
    if seq[i] != seq[i - 1]:
        runs.append((vt[i] - vt[0], seq[i]))
print("switches said: %s" % said)
print("pictures seen: %s" % runs)
if mode != "restart":
    # a switch to the product already shown leaves no mark in the frames
    said_runs = [said[0]] + [said[i] for i in range(1, len(said))
                             if said[i][1] != said[i - 1][1]]
    assert [c for _, c, _ in said_runs] == [c for _, c in runs], \
        "said %s, seen %s" % (said_runs, runs)
    for (ts, _, why), (tr, _) in zip(said_runs[1:], runs[1:]):
        assert abs(ts - tr) < 0.5, "%s switch said at %.2f s, seen at %.2f s" % (why, ts, tr)
if mode == "rtmp":
    # the question switched the show from product 1 (red) to the bag (blue)
    assert [w for _, _, w in said] == ["start", "question"], said
    assert re.search(r"say: 来看这款蓝色帆布包", out), "the bag's copy was not spoken"
    # the copywriter's lines, each in its product's language
    assert re.search(r"say: red thing", out), "the bottle's written copy was not spoken"
    assert re.search(r"say: 綠色的好東西", out), "the bag's written copy was not spoken"
    assert times("say: Welcome to the show"), "say was not spoken"
elif mode == "srt":
    # next, the interval back, then paused: no third switch
    assert [w for _, _, w in said] == ["start", "next", "interval"], said
    assert "paused" in out, "pause not taken"
    assert said[2][0] - said[1][0] > 4.5, "the interval did not restart at next"
    assert re.search(r"say: red thing", out), "the bottle's written copy was not spoken"
else:
    # an SRT listener that has just accepted the new connection can miss
    # the first packets (ffmpeg: "non-existing PPS"), so its first frames
    # decode grey: a few at the start are not the program's
    lead = next((i for i, s in enumerate(seq) if s != "other"), len(seq))
    assert lead <= 5, "%d frames at the start are not the product" % lead
    if lead:
        print("%d grey frame(s) at the start of the recording" % lead)
    assert set(seq[lead:]) == {"red"}, "pictures: %s" % set(seq[lead:])

# mouth brightness against audio energy (av-offset.py): Pearson
# correlation at lags from -300 to 300 ms; the best must be within 40 ms
# of 0
off = json.load(open("offset.json"))
assert off["mouth_max"] - off["mouth_min"] > 40, \
    "the mouth never moves: %d..%d" % (off["mouth_min"], off["mouth_max"])
print("mouth vs voice: best correlation %.2f at %+d ms (at 0: %.2f)"
      % (off["r"], off["lag_ms"], off["r_at_0"]))
assert off["r"] > 0.6, "the mouth does not follow the voice (r=%.2f)" % off["r"]
assert abs(off["lag_ms"]) <= 40, "mouth and voice %+d ms apart" % off["lag_ms"]
pcm = open("audio.raw", "rb").read()
samples = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
a0 = float(next(s for s in probe["streams"] if s["codec_type"] == "audio")["start_time"])

# copy never talks over itself: each line is sent only after the one
# before it has ended, so the voice is quiet for the 250 ms before it
peak = max(abs(x) for x in samples)
for ts in times("say: ")[1:]:
    t = vt[0] + ts - first[0]
    c0, c1 = int((t - 0.30 - a0) * 16000), int((t - 0.05 - a0) * 16000)
    if c0 < 0 or c1 > len(samples):
        continue
    before = max(abs(x) for x in samples[c0:c1])
    assert before < 0.08 * peak, \
        "the voice is not quiet before the line at %.2f s (%d of %d)" % (ts, before, peak)
print("lines: %d, each after a quiet gap" % len(times("say: ")))
print("ok")
PY
