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


def unescape_once(text):
    """The detections list is a structure serialised inside a structure:
    drop the outer level of backslash escaping."""
    return re.sub(r"\\(.)", r"\1", text)


def unescape_string(text):
    """Undo GStreamer's string serialisation: octal escapes for non-ASCII
    bytes, a backslash before anything else."""
    raw = re.sub(rb"\\([0-7]{3}|.)",
                 lambda m: bytes([int(m.group(1), 8)]) if len(m.group(1)) == 3 else m.group(1),
                 text.encode("utf-8"))
    return raw.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--language", default="en")
    ap.add_argument("--min-visible", type=float, default=0.5,
                    help="products less visible than this are not counted")
    ap.add_argument("--verbose", action="store_true", help="print every miss and false positive")
    ap.add_argument("--model", help="detector package (default: the element's default)")
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
             "videoconvert", "!", "aiproductdetect", f"language={args.language}",
             *([f"model={args.model}"] if args.model else []), "!",
             "fakesink"], check=True, capture_output=True, text=True).stdout
    frames = [l for l in out.splitlines() if "aiproductdetect, timestamp" in l]
    tp = fp = fn = ignored = 0
    copies = []
    for i, line in enumerate(frames[:meta["frames"]]):
        dets = []
        for m in re.finditer(r'detection, label=\(string\)(\w+), label-id=\(int\)\d+, '
                             r'confidence=\(double\)[\d.e-]+, x=\(uint\)(\d+), y=\(uint\)(\d+), '
                             r'width=\(uint\)(\d+), height=\(uint\)(\d+)(?:, copy=\(string\)("(?:[^"\\]|\\.)*"|[^;,]+))?',
                             unescape_once(line)):
            x, y, bw, bh = (int(v) for v in m.group(2, 3, 4, 5))
            dets.append((m.group(1), (x, y, x + bw, y + bh)))
            if m.group(6):
                copies.append((m.group(1), unescape_string(m.group(6).strip('"'))))
        truth = [(t[0], t[1:5]) for t in meta["boxes"][i]]
        # a product less than half visible is "don't care" (as KITTI treats
        # heavy occlusion): finding it is no hit, missing it is no miss
        hidden = {j for j, t in enumerate(meta["boxes"][i]) if t[5] < args.min_visible}
        ignored += len(hidden)
        used = set()
        for lab, box in dets:
            best = max(((iou(box, tb), j) for j, (tl, tb) in enumerate(truth)
                        if tl == lab and j not in used), default=(0, -1))
            if best[0] >= 0.5 and best[1] in hidden:
                used.add(best[1])
            elif best[0] >= 0.5:
                tp += 1
                used.add(best[1])
            else:
                fp += 1
                if args.verbose:
                    print(f"frame {i}: false positive {lab} {box}")
        fn += len(set(range(len(truth))) - used - hidden)
        if args.verbose:
            for j, (tl, tb) in enumerate(truth):
                if j not in used and j not in hidden:
                    print(f"frame {i}: missed {tl} {tb}; detections {dets}")
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    print(json.dumps({"seed": args.seed, "frames": len(frames), "precision": round(p, 3),
                      "recall": round(r, 3), "true_positives": tp, "false_positives": fp,
                      "missed": fn,
                      "ignored_mostly_hidden": ignored}))
    for lab, c in copies:
        print(f"copy for {lab}: {c}")


if __name__ == "__main__":
    main()
