#!/usr/bin/python3
"""Held-out check of the default detector and copywriter inside GStreamer.

Renders a synthetic shop video with a scene seed no test uses, runs it
through `aiproductdetect` with gst-launch-1.0 (the element messages carry the
detections), and compares the detections of every frame with the true boxes
at IoU 0.5; prints precision, recall and the copy that was written.

  meson devenv -C build /usr/bin/python3 models/detect/eval_video.py [--seed 1234]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--language", default="en")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(HERE, "train.py"), "--render-video", d,
                        "--video-seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        meta = json.load(open(os.path.join(d, "products.json")))
        w, h, fps = meta["width"], meta["height"], meta["framerate"][0]
        out = subprocess.run(
            ["gst-launch-1.0", "-m", "filesrc", f"location={d}/products.rgb", "!",
             "rawvideoparse", f"width={w}", f"height={h}", "format=rgb",
             f"framerate={fps}/1", "!", "videoconvert", "!", "jpegenc", "!", "avimux", "!",
             "filesink", f"location={d}/v.avi"], check=True, capture_output=True)
        out = subprocess.run(
            ["gst-launch-1.0", "-m", "filesrc", f"location={d}/v.avi", "!", "decodebin", "!",
             "videoconvert", "!", "aiproductdetect", f"language={args.language}", "!",
             "fakesink"], check=True, capture_output=True, text=True).stdout
    frames = [l for l in out.splitlines() if "aiproductdetect, timestamp" in l]
    tp = fp = fn = 0
    copies = []
    for i, line in enumerate(frames[:meta["frames"]]):
        dets = []
        for m in re.finditer(r'detection, label=\(string\)(\w+), label-id=\(int\)\d+, '
                             r'confidence=\(double\)[\d.e-]+, x=\(uint\)(\d+), y=\(uint\)(\d+), '
                             r'width=\(uint\)(\d+), height=\(uint\)(\d+)(?:, copy=\(string\)("(?:[^"\\]|\\.)*"|[^;,]+))?',
                             line.replace("\\ ", " ")):
            x, y, bw, bh = (int(v) for v in m.group(2, 3, 4, 5))
            dets.append((m.group(1), (x, y, x + bw, y + bh)))
            if m.group(6):
                copies.append((m.group(1), m.group(6).strip('"')))
        truth = [(t[0], t[1:]) for t in meta["boxes"][i]]
        used = set()
        for lab, box in dets:
            best = max(((iou(box, tb), j) for j, (tl, tb) in enumerate(truth)
                        if tl == lab and j not in used), default=(0, -1))
            if best[0] >= 0.5:
                tp += 1
                used.add(best[1])
            else:
                fp += 1
        fn += len(truth) - len(used)
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    print(json.dumps({"seed": args.seed, "frames": len(frames), "precision": round(p, 3),
                      "recall": round(r, 3), "true_positives": tp, "false_positives": fp,
                      "missed": fn}))
    for lab, c in copies:
        print(f"copy for {lab}: {c}")


if __name__ == "__main__":
    main()
