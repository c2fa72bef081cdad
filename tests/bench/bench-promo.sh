#!/bin/sh
# gst-kling-promo against the plainest pipeline a user would write for a
# clip of the same length: `klinggen` (the same video model, the same number
# of generated frames as the promo's shots) scaled to the promo's size and
# encoded the same way (x264enc + mp4mux).  The ratio is what the promo
# adds on top of generating and encoding: posters, copy, voice, the GES
# timeline (scaling, fades, title, audio mix), the product on every frame,
# subtitles, AAC.  Runs alternate (A B A B ...), medians; the promo's own
# split by stage and its first playable HLS segment are printed too.
# Usage: tests/bench/bench-promo.sh [runs [BUILD_DIR]]
set -eu
runs=${1:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$top/build}
promo="$build/tools/promo/gst-kling-promo"
photo="$top/docs/promo/bottle.png"
[ -x "$promo" ] || { echo "no $promo: build first" >&2; exit 1; }
export GST_PLUGIN_PATH="$build/gst:$build/ext/speak${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_KLING_BACKEND="${GST_KLING_BACKEND:-$build/ext/torch/libkling-torch.so}"
export GST_KLING_MODEL_PATH="${GST_KLING_MODEL_PATH:-$top/models}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
now() { date +%s.%N; }
: > "$dir/a"; : > "$dir/b"; : > "$dir/gen"; : > "$dir/hls"

# 15 s at 30 fps: 450 frames, 60 of them the end card, 3 shots sharing the
# rest with 15 frames of overlap; klinggen's model makes 8 fps, so the
# shots are about (390 + 2 * 15) / 30 * 8 frames of model video in all
model_frames=112

i=0
while [ "$i" -lt "$runs" ]; do
  rm -rf "$dir/hlsdir"
  t0=$(now)
  "$promo" "$photo" -o "$dir/promo.mp4" --name "冰紅茶 Aqua Ice Tea" \
      --price "¥9.9" --hls "$dir/hlsdir" --seed 1 > "$dir/report" 2>/dev/null
  t1=$(now)
  gst-launch-1.0 -q klinggen num-frames=$model_frames seed=1 \
      prompt="夏日海灘" ! videoconvert ! videoscale ! videorate ! \
      video/x-raw,width=1080,height=1920,framerate=30/1 ! \
      x264enc key-int-max=60 ! mp4mux faststart=true ! \
      filesink location="$dir/plain.mp4"
  t2=$(now)
  echo "$t1 - $t0" | bc -l >> "$dir/a"
  echo "$t2 - $t1" | bc -l >> "$dir/b"
  sed -n 's/^time: \([0-9.]*\) s generation, \([0-9.]*\) s composition, \([0-9.]*\) s total$/\1 \2 \3/p' \
    "$dir/report" >> "$dir/gen"
  sed -n 's/^first HLS segment after \([0-9.]*\) s.*/\1/p' "$dir/report" >> "$dir/hls"
  i=$((i + 1))
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }
a=$(median "$dir/a"); b=$(median "$dir/b")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "gst-kling-promo 15 s 1080x1920 (--hls): median $a s (range $(range "$dir/a")), $runs runs"
echo "klinggen $model_frames frames -> 1080x1920 x264 mp4: median $b s (range $(range "$dir/b"))"
echo "promo / plain generation+encoding: $(echo "$a / $b" | bc -l | cut -c1-4)"
awk '{ g += $1; c += $2; t += $3 } END { if (NR) printf "promo stages (means): generation %.2f s, composition %.2f s, the rest %.2f s, total %.2f s\n", g / NR, c / NR, (t - g - c) / NR, t / NR }' "$dir/gen"
echo "first playable HLS segment: median $(median "$dir/hls") s (range $(range "$dir/hls"))"
