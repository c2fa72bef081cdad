#!/bin/sh
# Runs the example launch lines of klingspeak's SECTION doc
# (ext/speak/gstklingspeak.c) as they are written, each in a fresh
# directory, with autoaudiosink replaced by a WAV file and shop.mp4 by a
# rendered shop video; then checks what they made: every WAV is speech,
# copy.srt parses, copy.mkv holds one audio and one subtitle track.
#   launch-klingspeak-doc.sh SOURCE_FILE [MEDIA_DIR]
# Without MEDIA_DIR (or without aiproductdetect) the shop video line is
# skipped and said so.
set -eu
src="$1"
media="${2:-}"
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT

python3 - "$src" "$top" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("SECTION:element-klingspeak")
doc = text[start:text.index("*/", start)]
blocks = re.findall(r"\|\[\n(.*?)\]\|", doc, re.S)
assert len(blocks) >= 3, "the SECTION doc has %d launch blocks" % len(blocks)
for i, b in enumerate(blocks):
    lines = [re.sub(r"^ \* ?", "", l) for l in b.splitlines()]
    script = "\n".join(lines).replace("\\\n", " ")
    open("%s/block-%d.sh" % (sys.argv[2], i), "w").write(script + "\n")
print("%d launch blocks" % len(blocks))
PY

have_detect=no
if [ -n "$media" ] && gst-inspect-1.0 aiproductdetect >/dev/null 2>&1; then
  have_detect=yes
  "$(dirname "$0")/render-shop.sh" "$media" "$top/shop.avi"
fi

ran=0
for b in "$top"/block-*.sh; do
  d="$b.d"
  mkdir "$d"
  if grep -q "shop.mp4" "$b"; then
    if [ "$have_detect" = no ]; then
      echo "skip (no shop video or aiproductdetect): $(head -c 120 "$b")"
      continue
    fi
    sed -i "s|location=shop.mp4|location=$top/shop.avi|" "$b"
  fi
  n=0
  sed -i "s/autoaudiosink/wavenc ! filesink location=speech.wav/; s/^gst-launch-1.0 /timeout 300 gst-launch-1.0 -q /" "$b"
  # the lines after the first read the copy.txt the first one wrote
  [ -f "$top/copy.txt" ] && cp "$top/copy.txt" "$d/"
  (cd "$d" && sh -eu "$b") || { echo "failed: $(cat "$b")" >&2; exit 1; }
  [ -f "$d/copy.txt" ] && cp "$d/copy.txt" "$top/"
  for f in "$d"/*.wav; do
    [ -f "$f" ] || continue
    python3 - "$f" <<'PY'
import struct, sys, wave
w = wave.open(sys.argv[1])
n = w.getnframes()
s = struct.unpack("<%dh" % (n * w.getnchannels()), w.readframes(n))
rms = (sum(x * x for x in s) / max(1, len(s))) ** 0.5
assert n > w.getframerate(), "%s: %d frames" % (sys.argv[1], n)
assert rms > 300, "%s is silent (rms %.0f)" % (sys.argv[1], rms)
print("  %s: %.2f s, rms %.0f" % (sys.argv[1].split("/")[-1], n / w.getframerate(), rms))
PY
  done
  if [ -f "$d/copy.srt" ]; then
    grep -q -- "-->" "$d/copy.srt" || { echo "copy.srt has no cue" >&2; exit 1; }
    echo "  copy.srt: $(grep -c -- '-->' "$d/copy.srt") cues"
  fi
  if [ -f "$d/copy.mkv" ]; then
    types=$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$d/copy.mkv" | sort | tr '\n' ' ')
    [ "$types" = "audio subtitle " ] || { echo "copy.mkv: $types" >&2; exit 1; }
    echo "  copy.mkv: $types"
  fi
  ran=$((ran + 1))
  echo "ok: $(head -c 100 "$b" | tr '\n' ' ')..."
done
[ "$ran" -ge 3 ] || { echo "only $ran blocks ran" >&2; exit 1; }
