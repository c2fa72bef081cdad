#!/bin/sh
# The shipped talking-head model, as the README's launch line uses it:
# klingspeak into klinghost with no model= and no face-box= (the portrait
# models/host/train.py --portrait draws, docs/host/portrait.png, has its
# face where the model's manifest box is), into Matroska.  Checks: as many
# frames as the speech lasts; the mouth moves (the lower half of the face
# changes from frame to frame while the voice speaks, far more than the
# upper half, which is the portrait's own pixels).
# Usage: launch-klinghost-default.sh PORTRAIT
set -eu
portrait=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'Fresh coffee, roasted this morning. Buy two and get one free!' > "$dir/copy.txt"
timeout 300 gst-launch-1.0 -q filesrc location="$dir/copy.txt" ! \
  text/x-raw,format=utf8 ! klingspeak ! tee name=t \
  t. ! queue ! h.audio \
  filesrc location="$portrait" ! pngdec ! videoconvert ! h.image \
  klinghost name=h ! videoconvert ! video/x-raw,format=RGB ! queue ! mux. \
  t. ! queue ! audioconvert ! audio/x-raw,format=S16LE ! queue ! mux. \
  matroskamux name=mux ! filesink location="$dir/host.mkv"
ffprobe -v error -show_entries packet=stream_index,pts_time,duration_time \
  -of csv=p=0 "$dir/host.mkv" > "$dir/packets.csv"
ffmpeg -v error -i "$dir/host.mkv" -f rawvideo -pix_fmt gray "$dir/frames.gray"
python3 - "$dir/packets.csv" "$dir/frames.gray" <<'PY'
import math, sys
ends, video = {}, 0
for l in open(sys.argv[1]):
    i, pts, dur = l.strip().split(",")[:3]
    ends[i] = max(ends.get(i, 0.0), float(pts) + float(dur))
data = open(sys.argv[2], "rb").read()
W = H = 384
n = len(data) // (W * H)
audio = max(ends.values())
assert n == math.ceil(audio * 25 - 1e-6), "%d frames for %.3f s" % (n, audio)
# the face box is 48..336; its upper half 48..192, the mouth rows 250..320
def rows(f, y0, y1):
    base = f * W * H
    return [data[base + y * W + x] for y in range(y0, y1, 2)
            for x in range(108, 276, 2)]
def change(y0, y1):
    total = 0
    for f in range(1, n):
        a, b = rows(f - 1, y0, y1), rows(f, y0, y1)
        total += sum(abs(p - q) for p, q in zip(a, b)) / len(a)
    return total / (n - 1)
upper, mouth = change(60, 150), change(250, 320)
print("mean change per frame: upper half %.2f, mouth %.2f (of 255)"
      % (upper, mouth))
assert mouth > 1.5, "the mouth does not move: %.2f" % mouth
assert upper < 0.25 * mouth, "the upper half changes: %.2f" % upper
PY
