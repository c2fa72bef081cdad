#!/bin/sh
# klingspeak's speech and its words muxed into one Matroska file (and one
# MP4 with a tx3g track, for the long text), with and without queues before
# the muxer (matroskamux's collectpads holds each
# pad until the other has data: the words pad must run ahead of the audio),
# for a short line, for text long enough to take many pieces, and for one
# word heard for 9 s (longer than the synthesis runs ahead).  ffprobe
# must read exactly one audio and one subtitle track, and the subtitle
# track must hold the words, timed inside the audio.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'Fresh coffee, roasted this morning. Buy two and get one free!' \
  > "$dir/short.txt"
i=0
while [ $i -lt 20 ]; do
  printf 'Fresh coffee, roasted this morning. Buy two and get one free! '
  i=$((i + 1))
done > "$dir/long.txt"
# one word spoken for ~9 s: longer than the 2 s the synthesis runs ahead
python3 -c "print('Buy ' + 'supercalifragilistic' * 15 + ' now.')" \
  > "$dir/longword.txt"

for run in "short mkv" "long mkv" "long mp4" "longword mkv"; do
  set -- $run
  text=$1
  if [ "$2" = mkv ]; then enc=vorbisenc mux=matroskamux; else enc=lamemp3enc mux=mp4mux; fi
  for q in "" "queue !"; do
    rm -f "$dir/out.mkv"
    # shellcheck disable=SC2086
    timeout 120 gst-launch-1.0 -q filesrc location="$dir/$text.txt" ! \
      text/x-raw,format=utf8 ! klingspeak name=s \
      s.src ! audioconvert ! $enc ! $q $mux name=m ! \
      filesink location="$dir/out.mkv" \
      s.words ! $q m.subtitle_%u || {
        echo "$run, queue '$q': the pipeline failed or hung" >&2
        exit 1
      }
    ffprobe -v error -show_entries stream=codec_type,codec_name \
      -show_entries format=duration -of compact "$dir/out.mkv" \
      > "$dir/probe.txt"
    ffmpeg -y -v error -i "$dir/out.mkv" -map 0:s:0 -f srt "$dir/out.srt"
    python3 - "$dir/probe.txt" "$dir/out.srt" "$text" "$2 $q" <<'PY'
import re, sys
probe = open(sys.argv[1]).read()
types = re.findall(r"codec_type=(\w+)", probe)
assert sorted(types) == ["audio", "subtitle"], probe
duration = float(re.search(r"format\|duration=([\d.]+)", probe).group(1))
cues = re.split(r"\n\s*\n", open(sys.argv[2], encoding="utf-8").read().strip())
t = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
words, spans, prev = [], [], -1.0
for c in cues:
    lines = c.splitlines()
    m = re.fullmatch(t + " --> " + t, lines[1].strip())
    g = [int(x) for x in m.groups()]
    a = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
    b = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
    assert prev - 0.002 <= a < b <= duration + 0.05, (lines[1], duration)
    prev = b
    spans.append((a, b, lines[2:]))
    words.append(re.sub(r"<[^>]*>", "", " ".join(lines[2:])))
if sys.argv[3] == "longword":
    assert words[0] == "Buy" and words[-1] == "now", words
    assert max(b - a for a, b, _ in spans) > 5, spans
else:
    n = 20 if sys.argv[3] == "long" else 1
    assert words[:3] == ["Fresh", "coffee", "roasted"], words[:5]
    assert len(words) == 11 * n, "%d words, want %d" % (len(words), 11 * n)
print("ok %s %s: %s | %d words over %.2f s" % (sys.argv[3], sys.argv[4],
      " ".join(types), len(words), duration))
PY
  done
done
