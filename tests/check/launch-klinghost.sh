#!/bin/sh
# klingspeak into klinghost, and the same speech muxed with the video into
# Matroska: ffprobe must read both tracks, ending within one frame (40 ms)
# of each other, with as many frames as the speech lasts at 25 fps.
# Usage: launch-klinghost.sh MODEL
set -eu
model=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'Fresh coffee, roasted this morning. Buy two and get one free!' > "$dir/copy.txt"
timeout 120 gst-launch-1.0 -q filesrc location="$dir/copy.txt" ! \
  text/x-raw,format=utf8 ! klingspeak ! tee name=t \
  t. ! queue ! h.audio \
  videotestsrc num-buffers=1 pattern=smpte ! \
  video/x-raw,format=I420,width=256,height=256 ! h.image \
  klinghost name=h model="$model" ! queue ! mux. \
  t. ! queue ! audioconvert ! audio/x-raw,format=S16LE ! queue ! mux. \
  matroskamux name=mux ! filesink location="$dir/host.mkv"
# per track: codec, packets, end of the last packet (pts + duration)
ffprobe -v error -show_entries stream=index,codec_type -of csv=p=0 \
  "$dir/host.mkv" > "$dir/streams.csv"
ffprobe -v error -show_entries packet=stream_index,pts_time,duration_time \
  -of csv=p=0 "$dir/host.mkv" > "$dir/packets.csv"
python3 - "$dir/streams.csv" "$dir/packets.csv" <<'PY'
import math, sys
kinds = dict(l.strip().split(",")[:2] for l in open(sys.argv[1]) if l.strip())
end, count = {}, {}
for l in open(sys.argv[2]):
    i, pts, dur = l.strip().split(",")[:3]
    kind = kinds[i]
    end[kind] = max(end.get(kind, 0.0), float(pts) + float(dur))
    count[kind] = count.get(kind, 0) + 1
assert set(end) == {"video", "audio"}, "tracks: %s" % kinds
v, a = end["video"], end["audio"]
assert a > 2.0, "speech of %.3f s" % a
assert abs(v - a) <= 0.040, "video ends at %.3f s, audio at %.3f s" % (v, a)
assert count["video"] == math.ceil(a * 25 - 1e-6), \
    "%d frames for %.3f s of audio" % (count["video"], a)
print("ok: video %.3f s (%d frames), audio %.3f s" % (v, count["video"], a))
PY
