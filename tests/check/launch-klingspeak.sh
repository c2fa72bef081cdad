#!/bin/sh
# klingspeak end to end: speech to WAV and words to SRT with no queues
# (both sinks must preroll); launch-klingspeak-mkv.sh muxes both.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'Fresh coffee, roasted this morning. Buy two and get one free!' > "$dir/copy.txt"
timeout 60 gst-launch-1.0 -q filesrc location="$dir/copy.txt" ! \
  text/x-raw,format=utf8 ! klingspeak name=s ! audioconvert ! wavenc ! \
  filesink location="$dir/copy.wav" s.words ! srtenc ! \
  filesink location="$dir/copy.srt"
python3 - "$dir/copy.wav" "$dir/copy.srt" <<'PY'
import re, struct, sys, wave
w = wave.open(sys.argv[1])
n = w.getnframes()
data = w.readframes(n)
samples = struct.unpack("<%dh" % (len(data) // 2), data)
rms = (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5
assert n > w.getframerate() * 2, "WAV too short: %d frames" % n
assert rms > 300, "WAV is silent (rms %.0f)" % rms
cues = re.split(r"\n\s*\n", open(sys.argv[2], encoding="utf-8").read().strip())
t = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
prev = -1.0
words = []
for i, c in enumerate(cues, 1):
    lines = c.splitlines()
    assert lines[0].strip() == str(i), "cue %d numbered %r" % (i, lines[0])
    m = re.fullmatch(t + r" --> " + t, lines[1].strip())
    assert m, "cue %d: bad time line %r" % (i, lines[1])
    g = [int(x) for x in m.groups()]
    a = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
    b = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
    assert prev <= a < b <= n / w.getframerate() + 0.01, "cue %d at %s" % (i, lines[1])
    prev = b
    words.append(" ".join(lines[2:]))
assert words[:3] == ["Fresh", "coffee", "roasted"], words
print("ok: %d frames, rms %.0f, %d cues" % (n, rms, len(cues)))
PY
