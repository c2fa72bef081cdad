#!/bin/sh
# models/detect/eval in small: render2.py is deterministic (same seed, same
# bytes; another seed, another video), evaluate.py's matcher scores the
# true boxes as detections 1/1 and nothing at an IoU no box reaches, and a
# real run through gst-launch-1.0 and aiproductdetect (the default
# detector) reads one message per frame.
#   detect-eval-smoke.sh PYTHON EVAL_DIR
set -eu
py="$1"
eval_dir="$2"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$py" "$eval_dir/render2.py" "$out/a" --seed 5 --shots 2 > /dev/null
"$py" "$eval_dir/render2.py" "$out/b" --seed 5 --shots 2 > /dev/null
"$py" "$eval_dir/render2.py" "$out/c" --seed 6 --shots 2 > /dev/null
cmp -s "$out/a/products.rgb" "$out/b/products.rgb" || {
  echo "render2.py: the same seed gave different frames" >&2; exit 1; }
cmp -s "$out/a/products.json" "$out/b/products.json" || {
  echo "render2.py: the same seed gave different boxes" >&2; exit 1; }
if cmp -s "$out/a/products.rgb" "$out/c/products.rgb"; then
  echo "render2.py: another seed gave the same frames" >&2; exit 1
fi
size=$(wc -c < "$out/a/products.rgb")
if [ "$size" -ne $((6 * 320 * 240 * 3)) ]; then
  echo "render2.py: $size bytes, want 6 frames of 320x240 RGB" >&2; exit 1
fi

# field FILE NAME: a top-level number from evaluate.py's --json
field () {
  "$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

"$py" "$eval_dir/evaluate.py" --video "$out/a" --oracle --json "$out/o.json" > /dev/null
if [ "$(field "$out/o.json" precision)" != 1.0 ] || \
   [ "$(field "$out/o.json" recall)" != 1.0 ] || \
   [ "$(field "$out/o.json" true_boxes)" -eq 0 ]; then
  cat "$out/o.json" >&2
  echo "evaluate.py --oracle: not precision 1, recall 1" >&2; exit 1
fi
"$py" "$eval_dir/evaluate.py" --video "$out/a" --oracle --iou 1.01 \
    --json "$out/n.json" > /dev/null
if [ "$(field "$out/n.json" tp)" -ne 0 ]; then
  echo "evaluate.py matched boxes at IoU > 1" >&2; exit 1
fi

"$py" "$eval_dir/evaluate.py" --video "$out/a" --threads 1 \
    --json "$out/e.json" > "$out/report"
cat "$out/report"
frames=$(field "$out/e.json" frames)
analysed=$(field "$out/e.json" frames_analysed)
if [ "$frames" -ne 6 ] || [ "$analysed" -ne 6 ]; then
  echo "evaluate.py: $analysed of $frames frames analysed, want 6 of 6" >&2
  exit 1
fi
echo "ok: render2 deterministic, matcher sane, 6 frames through aiproductdetect"
