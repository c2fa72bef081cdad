#!/usr/bin/python3
"""The copy aiproductdetect writes on a shop video of the detector recipe
(models/detect/train.py --render-video), each line next to the true colour
of the product it was written for.

Renders the video (seed 2027 is scripts/demo.sh's, 7 the launch tests'),
encodes it (webm: VP8 as the demo; avi: JPEG as the tests), runs it through
gst-launch-1.0 ... decodebin ! videoconvert ! aiproductdetect language=L !
fakesink -m, matches each detection that carries copy to the true box of
highest IoU, and prints the product's paint (sample_object's "color", the
colour its body is painted) with its name by eval/colour.py's name_pixels
("none" for a paint near a boundary or with no word: grey, olive ...).

  meson devenv -C build /usr/bin/python3 \\
      $PWD/models/copywrite/eval/shop_video.py [--seed 2027] [--encode webm] [--language en]
"""
import argparse
import colorsys
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import colour as cc  # noqa: E402

sys.path.insert(0, os.path.join(MODELS, "detect"))
import eval_video as ev  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--encode", choices=["webm", "avi"], default="webm")
    ap.add_argument("--language", default="en")
    args = ap.parse_args()
    dt = cc.load("detect_train", os.path.join(MODELS, "detect", "train.py"))
    # the paints of render_video's four products (its own draws, in order)
    rng = np.random.default_rng(args.seed)
    paint = {}
    for cls in [0, 2, 3, 5]:
        p = dt.sample_object(rng, cls, int(rng.uniform(60, 110)) if cls != 5 else 50)
        rng.uniform(10, 320 - p["w"] - 10)
        rng.uniform(10, 240 - p["h"] - 10)
        rng.uniform(-2.5, 2.5)
        rng.uniform(-1.2, 1.2)
        h, s, v = colorsys.rgb_to_hsv(*(float(x) for x in p["color"]))
        k = int(cc.name_pixels(p["color"][None])[0])
        paint[dt.LABELS[cls]] = "%s (rgb %s, hsv %.0f/%.2f/%.2f)" % (
            cc.CNAMES[k] if k >= 0 else "none", tuple(int(x) for x in (p["color"] * 255).round()),
            h * 360, s, v)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(MODELS, "detect", "train.py"), "--render-video",
                        d, "--video-seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        meta = json.load(open(os.path.join(d, "products.json")))
        enc = ["vp8enc", "deadline=1", "!", "webmmux"] if args.encode == "webm" else \
            ["jpegenc", "!", "avimux"]
        vid = os.path.join(d, "v." + args.encode)
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={d}/products.rgb", "!",
                        "rawvideoparse", f"width={meta['width']}", f"height={meta['height']}",
                        "format=rgb", f"framerate={meta['framerate'][0]}/1", "!", "videoconvert",
                        "!", *enc, "!", "filesink", f"location={vid}"], check=True)
        out = subprocess.run(["gst-launch-1.0", "-m", "filesrc", f"location={vid}", "!", "decodebin",
                              "!", "videoconvert", "!", "aiproductdetect",
                              f"language={args.language}", "!", "fakesink"],
                             check=True, capture_output=True, text=True).stdout
    frames = [l for l in out.splitlines() if "aiproductdetect, timestamp" in l]
    for i, line in enumerate(frames[:meta["frames"]]):
        for m in re.finditer(r'detection, label=\(string\)(\w+), label-id=\(int\)\d+, '
                             r'confidence=\(double\)([\d.e-]+), x=\(uint\)(\d+), y=\(uint\)(\d+), '
                             r'width=\(uint\)(\d+), height=\(uint\)(\d+)'
                             r'(?:, copy=\(string\)("(?:[^"\\]|\\.)*"|[^;,]+))?',
                             ev.unescape_once(line)):
            if not m.group(7):
                continue
            x, y, w, h = (int(v) for v in m.group(3, 4, 5, 6))
            box = (x, y, x + w, y + h)
            best = max(((ev.iou(box, t[1:5]), t[0]) for t in meta["boxes"][i]), default=(0, None))
            print(f"frame {i}: {m.group(1)} {float(m.group(2)):.2f} at {box}; true {best[1]} "
                  f"(IoU {best[0]:.2f}), paint {paint.get(best[1])}: "
                  f"{ev.unescape_string(m.group(7).strip(chr(34)))}")


if __name__ == "__main__":
    main()
