#!/usr/bin/python3
"""Precision and recall of a product detector THROUGH aiproductdetect, on a
video drawn by the independent renderer (render2.py) or by the training
recipe itself (`train.py --render-video`, another seed than the tests').

  meson devenv -C build /usr/bin/python3 models/detect/eval/evaluate.py \\
      [--renderer render2|recipe] [--seed N] [--shots 40] \\
      [--model PACKAGE] [--threshold T] [--codec vp8|jpeg|raw] [--json OUT]

The frames go through gst-launch-1.0 as a user's video would: encoded
(VP8 in WebM by default, so the detector also sees a video codec's
artefacts), then `filesrc ! decodebin ! videoconvert ! aiproductdetect
copy-model=none ! fakesink` with `-m`; the boxes are read from the
element's `aiproductdetect` messages (one per frame, by timestamp).

Matching, per frame and class: detections by falling confidence, each to
the unmatched true box of its class with the highest IoU, if that is at
least --iou (0.5).  True boxes less than --min-visible (0.5) visible are
not counted: a detection on one is neither right nor wrong.  Precision is
TP / detections counted, recall TP / true boxes counted.

--video DIR scores an existing products.rgb/products.json pair; --oracle
uses the true boxes as the detections (P = R = 1 unless the matcher is
broken) and needs no GStreamer.  Python here is a test tool only: the
detector runs in the element, C and libtorch.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = os.path.join(HERE, "..", "train.py")
RENDER2 = os.path.join(HERE, "render2.py")

DET_RE = re.compile(
    r"label=\(string\)(?P<label>[^,]*), label-id=\(int\)(?P<id>-?\d+), "
    r"confidence=\(double\)(?P<conf>[-0-9.eE+]+), x=\(uint\)(?P<x>\d+), "
    r"y=\(uint\)(?P<y>\d+), width=\(uint\)(?P<w>\d+), height=\(uint\)(?P<h>\d+)")
MSG_RE = re.compile(r'from element "d" \(element\): aiproductdetect, '
                    r"timestamp=\(guint64\)(?P<ts>\d+)")


def render(args, out, seed):
    if args.renderer == "render2":
        cmd = [sys.executable, RENDER2, out, "--seed", str(seed),
               "--shots", str(args.shots)]
        if args.clean:
            cmd.append("--clean")
    else:
        cmd = [sys.executable, RECIPE, "--render-video", out,
               "--video-seed", str(seed)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace")
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:])
        sys.exit("failed: " + " ".join(cmd))
    return p.stdout


def detect(meta, video_dir, args, work):
    raw = os.path.join(video_dir, meta["file"])
    fn, fd = meta["framerate"]
    parse = ["filesrc", "location=" + raw, "!", "rawvideoparse",
             "width=%d" % meta["width"], "height=%d" % meta["height"],
             "format=rgb", "framerate=%d/%d" % (fn, fd), "!", "videoconvert"]
    if args.codec == "raw":
        source = parse
    else:
        clip = os.path.join(work, "clip." + ("webm" if args.codec == "vp8"
                                             else "avi"))
        enc = (["vp8enc", "deadline=1", "target-bitrate=%d" % args.bitrate,
                "keyframe-max-dist=30", "!", "webmmux"]
               if args.codec == "vp8" else
               ["jpegenc", "quality=%d" % args.jpeg_quality, "!", "avimux"])
        run(["gst-launch-1.0", "-q"] + parse + ["!"] + enc +
            ["!", "filesink", "location=" + clip])
        source = ["filesrc", "location=" + clip, "!", "decodebin", "!",
                  "videoconvert"]
    props = ["copy-model=none", "threads=%d" % args.threads]
    if args.model:
        props.append("model=" + os.path.abspath(args.model))
    if args.threshold is not None:
        props.append("threshold=%g" % args.threshold)
    out = run(["gst-launch-1.0", "-m"] + source +
              ["!", "aiproductdetect", "name=d"] + props + ["!", "fakesink"])
    frames = {}
    for line in out.splitlines():
        m = MSG_RE.search(line)
        if not m:
            continue
        idx = int(round(int(m.group("ts")) * fn / (fd * 1e9)))
        dets = []
        for d in DET_RE.finditer(line.replace("\\", "")):
            x, y = int(d.group("x")), int(d.group("y"))
            dets.append((d.group("label"), float(d.group("conf")),
                         (x, y, x + int(d.group("w")), y + int(d.group("h")))))
        frames[idx] = dets
    return frames


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def score(meta, frames, iou_min, min_visible):
    labels = meta["labels"]
    per = {l: {"tp": 0, "fp": 0, "fn": 0} for l in labels}
    confused = 0
    attrs = meta.get("attributes")
    by = {}  # recall by how the true box was drawn (render2 only)
    for i, truth in enumerate(meta["boxes"]):
        dets = sorted(frames.get(i, []), key=lambda d: -d[1])
        gts = [(g[0], tuple(g[1:5]), g[5] >= min_visible) for g in truth]
        used = [False] * len(gts)
        for label, conf, box in dets:
            best, best_key = -1, None
            for j, (gl, gb, counted) in enumerate(gts):
                if used[j] or gl != label:
                    continue
                v = iou(box, gb)
                # the highest overlap; a counted box first at equal overlap
                key = (v, counted)
                if v >= iou_min and (best_key is None or key > best_key):
                    best, best_key = j, key
            if best >= 0:
                used[best] = True
                if gts[best][2]:
                    per[label]["tp"] += 1
                continue
            if label in per:
                per[label]["fp"] += 1
            if any(iou(box, gb) >= iou_min for gl, gb, c in gts if c):
                confused += 1  # right place, wrong class
        for j, (gl, gb, counted) in enumerate(gts):
            if counted and not used[j]:
                per[gl]["fn"] += 1
            if counted:
                side = max(gb[2] - gb[0], gb[3] - gb[1])
                size = ("<48" if side < 48 else "48-95" if side < 96 else
                        "96-159" if side < 160 else ">=160")
                kv = dict(attrs[i][j]) if attrs and j < len(attrs[i]) else {}
                kv["size"] = size
                for k, v in kv.items():
                    n = by.setdefault("%s=%s" % (k, v), [0, 0])
                    n[0] += used[j]
                    n[1] += 1
    tp = sum(p["tp"] for p in per.values())
    fp = sum(p["fp"] for p in per.values())
    fn = sum(p["fn"] for p in per.values())
    res = {"frames": len(meta["boxes"]), "frames_analysed": len(frames),
           "true_boxes": tp + fn, "detections": tp + fp, "tp": tp, "fp": fp,
           "fn": fn, "wrong_class": confused,
           "precision": tp / (tp + fp) if tp + fp else 0.0,
           "recall": tp / (tp + fn) if tp + fn else 0.0, "per_class": {},
           "recall_by": {k: {"tp": v[0], "true_boxes": v[1],
                             "recall": v[0] / v[1]}
                         for k, v in sorted(by.items())}}
    for l, p in per.items():
        res["per_class"][l] = dict(p, precision=p["tp"] / (p["tp"] + p["fp"])
                                   if p["tp"] + p["fp"] else 0.0,
                                   recall=p["tp"] / (p["tp"] + p["fn"])
                                   if p["tp"] + p["fn"] else 0.0)
    return res


def sheet(meta, video_dir, frames, path, min_visible, cols=6, rows=6):
    """A contact sheet: true boxes green (yellow when not counted),
    detections red with their label and confidence."""
    import numpy as np
    from PIL import Image, ImageDraw
    W, H = meta["width"], meta["height"]
    raw = np.fromfile(os.path.join(video_dir, meta["file"]), np.uint8)
    video = raw.reshape(-1, H, W, 3)
    step = max(1, len(video) // (cols * rows))
    out = Image.new("RGB", (W * cols, H * rows))
    d = ImageDraw.Draw(out)
    for k, i in enumerate(range(0, len(video), step)[:cols * rows]):
        ox, oy = (k % cols) * W, (k // cols) * H
        out.paste(Image.fromarray(video[i]), (ox, oy))
        for lab, x0, y0, x1, y1, vis in meta["boxes"][i]:
            d.rectangle([ox + x0, oy + y0, ox + x1, oy + y1],
                        outline=(0, 255, 0) if vis >= min_visible
                        else (255, 255, 0))
        for lab, conf, (x0, y0, x1, y1) in frames.get(i, []):
            d.rectangle([ox + x0, oy + y0, ox + x1, oy + y1],
                        outline=(255, 0, 0))
            d.text((ox + x0 + 2, oy + y0 + 1), "%s %.2f" % (lab, conf),
                   fill=(255, 60, 60))
    out.save(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renderer", choices=["render2", "recipe"],
                    default="render2")
    ap.add_argument("--seed", default="1",
                    help="seed, or seeds separated by commas (pooled)")
    ap.add_argument("--shots", type=int, default=40,
                    help="render2: scenes of 3 frames")
    ap.add_argument("--clean", action="store_true",
                    help="render2 without camera effects")
    ap.add_argument("--video", help="score this products.rgb/products.json dir")
    ap.add_argument("--model", help="detector package (default: the element's)")
    ap.add_argument("--threshold", type=float,
                    help="aiproductdetect threshold (default: the model's)")
    ap.add_argument("--codec", choices=["vp8", "jpeg", "raw"], default="vp8")
    ap.add_argument("--bitrate", type=int, default=300000,
                    help="vp8 target bitrate, bits/s")
    ap.add_argument("--jpeg-quality", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iou", type=float, default=0.5)
    ap.add_argument("--min-visible", type=float, default=0.5)
    ap.add_argument("--oracle", action="store_true",
                    help="the true boxes as detections: checks the matcher")
    ap.add_argument("--keep", help="keep the rendered video in this dir")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--sheet", help="write a PNG of frames, true boxes and "
                    "detections here")
    args = ap.parse_args(argv)

    seeds = [int(x) for x in args.seed.split(",")]
    if args.video:
        seeds = seeds[:1]
    work = tempfile.mkdtemp(prefix="kling-eval-")
    pooled = {"boxes": [], "attributes": [], "labels": None}
    frames = {}
    try:
        for seed in seeds:
            video = args.video or (os.path.join(args.keep, str(seed))
                                   if args.keep else
                                   os.path.join(work, "video-%d" % seed))
            if not args.video:
                render(args, video, seed)
            with open(os.path.join(video, "products.json")) as f:
                meta = json.load(f)
            if args.oracle:
                got = {i: [(g[0], 1.0, tuple(g[1:5])) for g in b]
                       for i, b in enumerate(meta["boxes"])}
            else:
                got = detect(meta, video, args, work)
            if args.sheet:
                root, ext = os.path.splitext(args.sheet)
                sheet(meta, video, got, args.sheet if len(seeds) == 1 else
                      "%s-%d%s" % (root, seed, ext), args.min_visible)
            base = len(pooled["boxes"])
            frames.update({base + i: d for i, d in got.items()})
            pooled["boxes"] += meta["boxes"]
            pooled["attributes"] += meta.get("attributes",
                                             [[]] * len(meta["boxes"]))
            pooled["labels"] = meta["labels"]
        if not any(pooled["attributes"]):
            del pooled["attributes"]
        res = score(pooled, frames, args.iou, args.min_visible)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res.update(renderer=("video " + args.video) if args.video else args.renderer,
               seeds=seeds, codec=args.codec, model=args.model or "default",
               threshold=args.threshold, iou=args.iou,
               min_visible=args.min_visible)
    print("%s (%s): %d frames (%d analysed), %d true boxes, "
          "%d detections" % (res["renderer"] + ("" if args.video else
                                                 " seeds " + args.seed),
                             args.codec,
                             res["frames"], res["frames_analysed"],
                             res["true_boxes"], res["detections"]))
    print("precision %.3f  recall %.3f  at IoU %.2f  (TP %d, FP %d of which "
          "%d wrong class, FN %d)" % (res["precision"], res["recall"],
                                      args.iou, res["tp"], res["fp"],
                                      res["wrong_class"], res["fn"]))
    for l, p in res["per_class"].items():
        print("  %-7s P %.3f  R %.3f  (TP %d, FP %d, FN %d)" % (
            l, p["precision"], p["recall"], p["tp"], p["fp"], p["fn"]))
    if res["recall_by"]:
        print("  recall by how the products were drawn:")
        print("    " + ", ".join("%s %.2f (%d)" % (k, v["recall"], v["true_boxes"])
                                 for k, v in res["recall_by"].items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
