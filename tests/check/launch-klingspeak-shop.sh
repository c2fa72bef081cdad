#!/bin/sh
# The default detector's copy on a rendered shop video, spoken to a WAV:
#   ... aiproductdetect name=d d.text_src ! queue ! klingspeak ! \
#       audioconvert ! wavenc ! filesink
# (the issue's autoaudiosink line with a file instead).  The copy lines
# also go to an SRT file with their times, and klingspeak's words to
# another; the WAV must be speech, not silence, and must hold every copy
# line: each line's words heard in turn, each stretch loud.
#   launch-klingspeak-shop.sh MEDIA_DIR
set -eu
media="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$(dirname "$0")/render-shop.sh" "$media" "$dir/products.avi"

timeout 300 gst-launch-1.0 -q filesrc location="$dir/products.avi" ! \
    decodebin ! videoconvert ! aiproductdetect name=d language=en threads=2 ! \
    fakesink d.text_src ! tee name=t ! queue ! klingspeak name=s ! \
    audioconvert ! wavenc ! filesink location="$dir/copy.wav" \
    s.words ! srtenc ! filesink location="$dir/words.srt" \
    t. ! queue ! srtenc ! filesink location="$dir/copy.srt"

python3 - "$dir/copy.wav" "$dir/copy.srt" "$dir/words.srt" <<'PY'
import re, struct, sys, wave

w = wave.open(sys.argv[1])
rate, n = w.getframerate(), w.getnframes()
data = w.readframes(n)
samples = struct.unpack("<%dh" % (len(data) // 2), data)

def rms(a, b):
    s = samples[int(a * rate):int(b * rate)]
    return (sum(x * x for x in s) / max(1, len(s))) ** 0.5

def cues(path):
    t = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
    out = []
    for c in re.split(r"\n\s*\n", open(path, encoding="utf-8").read().strip()):
        lines = c.splitlines()
        g = [int(x) for x in re.fullmatch(t + " --> " + t, lines[1].strip()).groups()]
        out.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000,
                    g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000,
                    " ".join(lines[2:])))
    return out

copy, words = cues(sys.argv[2]), cues(sys.argv[3])
duration = n / rate
assert copy, "the detector wrote no copy"
assert rms(0, duration) > 300, "the WAV is silent"
assert words[-1][1] <= duration + 0.01, "words past the audio"
# each copy line's words are heard in turn (queue-policy=queue: one line
# after the other), starting no earlier than the line itself, and the
# stretch up to the next line is loud
starts, i = [], 0
for k, (t0, _, line) in enumerate(copy):
    first = re.findall(r"[A-Za-z]+", line)[0]
    while i < len(words) and words[i][2] != first:
        i += 1
    assert i < len(words), "copy line %d (%r) is not spoken" % (k + 1, line)
    assert words[i][0] >= t0 - 0.001, "line %d spoken at %.3f, before its time %.3f" % (k + 1, words[i][0], t0)
    starts.append(words[i][0])
    i += 1
ends = starts[1:] + [words[-1][1]]
for k, (t0, _, line) in enumerate(copy):
    level = rms(starts[k], ends[k])
    assert ends[k] - starts[k] > 1.0, "line %d lasts %.2f s" % (k + 1, ends[k] - starts[k])
    assert level > 300, "line %d silent (rms %.0f)" % (k + 1, level)
    print("line %d at %.2f s spoken %.2f-%.2f s (rms %.0f): %s" % (k + 1, t0, starts[k], ends[k], level, line))
print("ok: %d copy lines, %d words, %.2f s of audio" % (len(copy), len(words), duration))
PY
