#!/bin/sh
# The copy names the colour the product has (issue 14, item 5): the demo's
# shop video (scripts/demo.sh, detector recipe video seed 2027) encoded to
# VP8 as the demo does, through aiproductdetect with the shipped detector and
# copywriter, in English and in Chinese.  Every copy line the element writes
# for a detection labelled cup must name pink (粉) and no other colour: the
# cup is painted rgb 220,97,204, and the copywriter once called it "snow
# white" (纯白色).
#   launch-copy-colour.sh DEMO_MEDIA_DIR [COPY_MODEL]
# (COPY_MODEL: another copywriter package than the default, to try one)
set -eu
media="$1"
copy_model=${2:+copy-model="$2"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

gst-launch-1.0 -q filesrc location="$media/products.rgb" ! \
    rawvideoparse width=320 height=240 format=rgb framerate=10/1 ! \
    videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$out/demo.webm"

fail=0
for lang in en zh; do
  gst-launch-1.0 -m filesrc location="$out/demo.webm" ! decodebin ! \
      videoconvert ! aiproductdetect language=$lang threads=1 $copy_model ! fakesink \
      > "$out/messages" 2>&1
  # one line per detection that carries copy: label<TAB>copy
  # gst-launch -m escapes the structure twice; non-ASCII bytes come as \\NNN
  sed 's/\\\\\([0-7][0-7][0-7]\)/%%\1/g' "$out/messages" | tr -d '\\' | \
    sed 's/detection, label=(string)/\n@/g' | \
    sed -n 's/^@\([a-z]*\),.*copy=(string)"\([^"]*\)".*$/\1\t\2/p' | \
    while IFS="$(printf '\t')" read -r label text; do
      printf '%s\t%b\n' "$label" "$(printf '%s' "$text" | sed 's/%%/\\0/g')"
    done > "$out/copy"
  n=$(awk -F'\t' '$1 == "cup"' "$out/copy" | wc -l)
  if [ "$n" -eq 0 ]; then
    echo "$lang: no copy written for a cup" >&2; fail=1; continue
  fi
  if [ $lang = en ]; then
    want='pink'
    others='red|orange|yellow|green|blue|purple|violet|lavender|brown|black|white|snow'
  else
    want='粉'
    others='红|橙|黄|绿|蓝|紫|棕|黑|白'
  fi
  awk -F'\t' '$1 == "cup" { print $2 }' "$out/copy" | sort | uniq -c | \
    sed "s/^/$lang cup copy: /"
  bad=$(awk -F'\t' '$1 == "cup" { print $2 }' "$out/copy" | \
        grep -Eiv "$want" || true)
  bad2=$(awk -F'\t' '$1 == "cup" { print $2 }' "$out/copy" | \
         grep -Ei "$others" || true)
  if [ -n "$bad$bad2" ]; then
    echo "$lang: a cup's copy does not name pink alone:" >&2
    printf '%s\n%s\n' "$bad" "$bad2" | sort -u | sed '/^$/d' >&2
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "ok: the pink cup is called pink in both languages"
exit $fail
