#!/bin/sh
# klinggen follows background phrasing ("over a X background", "background
# is X", "X背景", "背景是X", "在X上") in both languages, through
# gst-launch-1.0 with the shipped model, on phrasings the recipe never
# trained on.  The scene is read from the top and bottom rows of the frames
# (the object crosses the middle) and matched to the nearest of the recipe's
# scene colours.  The two phrasings issue 14 reported must both hold, and
# at least 9 of the 10 others.
#   launch-klinggen-background.sh MODEL
set -eu
model="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# prompt|scene, one a line
cat > "$out/cases" <<'EOF'
purple star moves left over a black background|black
藍色星星靜止不動,背景是白色|white
yellow ball rolling right, background is pink|pink
with a plain white background, one red block moves up|white
a black ring stays still over a grey background|gray
green triangle falls, background is snowy|snow
黑色背景里有个黄色的球在向右移动|black
背景为白色的画面中，紫色圆环向下落|white
在草地上有一个红色方块向左移动|grass
橙色三角形往上升,背景是海滩|beach
white ball moving down over a black background|black
在雪地上有一个蓝球静止不动|snow
EOF

# mean RGB of rows 0-3 and 60-63 over all frames: 6 numbers
scene_of() {
  od -An -tu1 -v "$1" | awk '
    { for (i = 1; i <= NF; i++) { v = $i; p = n % 3; pix = int(n / 3) % 4096
        y = int(pix / 64)
        if (y < 4) { top[p] += v; nt++ } else if (y >= 60) { bot[p] += v; nb++ }
        n++ } }
    END {
      nt /= 3; nb /= 3
      split("gray 128 128 128 128 128 128;pink 240 170 200 240 170 200;" \
            "beach 135 200 240 215 195 145;snow 200 215 235 245 248 252;" \
            "night 15 20 70 15 20 70;grass 140 195 240 70 150 50;" \
            "black 22 22 22 22 22 22;white 242 242 242 242 242 242", s, ";")
      best = ""; bd = 1e18
      for (k in s) { split(s[k], f, " "); d = 0
        for (c = 0; c < 3; c++) { d += (top[c] / nt - f[c + 2]) ^ 2
                                  d += (bot[c] / nb - f[c + 5]) ^ 2 }
        if (d < bd) { bd = d; best = f[1] } }
      printf "%s (top %d %d %d, bottom %d %d %d)\n", best, top[0] / nt,
        top[1] / nt, top[2] / nt, bot[0] / nb, bot[1] / nb, bot[2] / nb }'
}

n=0; ok=0; issue_ok=0
while IFS='|' read -r prompt want; do
  n=$((n + 1))
  gst-launch-1.0 -q klinggen model="$model" num-frames=8 threads=1 seed=$n \
      prompt="$prompt" ! videoconvert ! video/x-raw,format=RGB ! \
      filesink location="$out/frames.rgb" >/dev/null
  got=$(scene_of "$out/frames.rgb")
  name=${got%% *}
  if [ "$name" = "$want" ]; then
    ok=$((ok + 1)); mark=ok
    [ $n -le 2 ] && issue_ok=$((issue_ok + 1))
  else
    mark=MISS
  fi
  echo "$mark: \"$prompt\" -> $got, want $want"
done < "$out/cases"

echo "background phrasing: $ok of $n scenes followed; the issue's two: $issue_ok of 2"
[ "$issue_ok" -eq 2 ] || { echo "an issue phrasing is missed" >&2; exit 1; }
[ $((ok - issue_ok)) -ge 9 ] || { echo "fewer than 9 of the other 10 followed" >&2; exit 1; }
