#!/usr/bin/python3
"""Colour accuracy of a copywriter package on crops from renderers it never
trained on.

The copywriter recipe (models/copywrite/train.py) scores itself on crops
from its own renderer; this scores it on crops of the two product-video
renderers of the detector instead, written independently of the
copywriter's:

  recipe   models/detect/train.py's scenes (the drawing of --render-video,
           the shop videos of the tests and the demo): its background, its
           products (sample_object + draw_object), half the scenes through
           its training-image camera (augment), then JPEG at quality 85 (the
           jpegenc default of the launch tests);
  render2  models/detect/eval/render2.py's shots (make_shot, camera, shoot:
           its own products, styles, scenes and camera, JPEG 12-70 included).

Ground truth is the product's dominant colour *as drawn and as seen*: the
visible pixels of the product (the renderer's own mask, less what lies in
front of it), their better-lit half (shading discounted: value at least the
median), are named by `name_pixels` below, which leaves pixels near a
boundary between two names unnamed; a product counts only if one name
holds at least half of those pixels both before the camera effects
and in the final frame (so a colour cast or a print that changes what is
seen excludes it rather than deciding it), it is at least 24 px tall and
wide and at least half visible.  render2's sketch style (its colours tinted
75 % towards paper) is left out.  The recipe renderer's products also need
their paint colour (`sample_object`'s "color", the colour the body is
painted) to get the same name.

Each kept product is cropped at its true box from the frame and stretched
to 64x64 as aiproductdetect does (GstVideoConverter's linear resampler,
which widens its kernel when it shrinks, so bilinear with antialiasing
here, rounded to 8 bits), then decoded greedily in both languages with the
C loop's decoding (models/copywrite/train.py: greedy_batch, checked against
the whole-prefix decode_step loop on the package for a few crops).  A line
is right if it names the product's colour and no other.

  /usr/bin/python3 models/copywrite/eval/colour.py models/kling-copywrite.pt
      [--renderer recipe,render2] [--min-crops 300] [--seed 1] [--json OUT]
      [--cache /tmp/colour-crops] [--sheet /tmp/crops]
"""
import argparse
import importlib.util
import io
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, "..", ".."))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


cw = load("copywrite_train", os.path.join(MODELS, "copywrite", "train.py"))
CNAMES = cw.CNAMES          # red orange yellow green blue purple pink brown black white
LABELS = cw.LABELS
SHARE = 0.5
MIN_SIDE = 24
MIN_VISIBLE = 0.5


# --------------------------------------------------------------- naming

def hsv_of(rgb):
    """rgb (..., 3) in [0, 1] -> hue in degrees [0, 360), saturation, value."""
    rgb = np.asarray(rgb, np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx, mn = rgb.max(-1), rgb.min(-1)
    d = mx - mn
    s = np.where(mx > 0, d / np.maximum(mx, 1e-6), 0)
    dd = np.maximum(d, 1e-6)
    h = np.where(mx == r, ((g - b) / dd) % 6,
                 np.where(mx == g, (b - r) / dd + 2, (r - g) / dd + 4)) * 60
    h = np.where(d > 0, h, 0) % 360
    return h, s, mx


def name_pixels(rgb):
    """The colour name index of each pixel (CNAMES order), -1 where the
    colour is near a boundary between names or is none of them (grey,
    cyan, olive, dark red ...).  Value and saturation in [0, 1], hue in
    degrees; every band leaves a margin to its neighbours:

      black   value < 0.18
      white   saturation < 0.12 and value > 0.80      (greys are unnamed)
      (the rest need value >= 0.30 and saturation >= 0.30, except pink)
      red     hue >= 348 or < 10, saturation >= 0.60, value >= 0.40
      orange  hue 18-40, saturation >= 0.60, value >= 0.75
      brown   hue 12-42, saturation >= 0.40, value 0.26-0.58
      yellow  hue 48-66, saturation >= 0.45, value >= 0.70
      green   hue 80-160
      blue    hue 195-250
      purple  hue 262-292, or 292-305 with value < 0.60
      pink    hue 305-342 with value >= 0.70; or hue >= 335 or < 12 with
              saturation 0.15-0.50 and value >= 0.80 (light rose)
    """
    h, s, v = hsv_of(rgb)
    out = np.full(h.shape, -1, np.int64)
    chroma = (s >= 0.30) & (v >= 0.30)
    rules = [
        ("white", (s < 0.12) & (v > 0.80)),
        ("red", ((h >= 348) | (h < 10)) & (s >= 0.60) & (v >= 0.40)),
        ("orange", (h >= 18) & (h < 40) & (s >= 0.60) & (v >= 0.75)),
        ("brown", (h >= 12) & (h < 42) & (s >= 0.40) & (v >= 0.26) & (v <= 0.58)),
        ("yellow", (h >= 48) & (h < 66) & (s >= 0.45) & (v >= 0.70)),
        ("green", chroma & (h >= 80) & (h < 160)),
        ("blue", chroma & (h >= 195) & (h < 250)),
        ("purple", chroma & (((h >= 262) & (h < 292)) | ((h >= 292) & (h < 305) & (v < 0.60)))),
        ("pink", (chroma & (h >= 305) & (h < 342) & (v >= 0.70)) |
         (((h >= 335) | (h < 12)) & (s >= 0.15) & (s <= 0.50) & (v >= 0.80))),
        ("black", v < 0.18),
    ]
    for name, m in rules:
        out = np.where((out < 0) & m, CNAMES.index(name), out)
    return out


def dominant(rgb_pixels):
    """(name index or -1, its share) of a product's visible pixels (N, 3).
    Shading is discounted as a shopper discounts it (a yellow can is yellow
    on its dark side too): only the better-lit half of the pixels (value at
    least the median) is named, and one name must hold half of them."""
    if len(rgb_pixels) < 8:
        return -1, 0.0
    px = np.asarray(rgb_pixels, np.float32)
    v = px.max(-1)
    lit = px[v >= np.median(v)]
    n = name_pixels(lit)
    counts = np.bincount(n[n >= 0], minlength=len(CNAMES))
    k = int(counts.argmax())
    share = float(counts[k]) / len(n)
    return (k if share >= SHARE else -1), share


# --------------------------------------------------------------- crops

def crop64(frame_u8, box):
    """aiproductdetect's crop: the box inside the frame, stretched to 64x64
    by a linear resampler (antialiased when shrinking), 8-bit, scaled to [0, 1]."""
    H, W = frame_u8.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, y0 = min(max(x0, 0), W - 1), min(max(y0, 0), H - 1)
    x1, y1 = min(max(x1, x0 + 1), W), min(max(y1, y0 + 1), H)
    t = torch.from_numpy(np.ascontiguousarray(frame_u8[y0:y1, x0:x1])).permute(2, 0, 1)[None].float()
    t = F.interpolate(t, size=(cw.SIZE, cw.SIZE), mode="bilinear", align_corners=False,
                      antialias=True)
    return (t.round().clamp(0, 255) / 255.0)[0].permute(1, 2, 0).numpy()


def jpeg(frame_u8, quality):
    buf = io.BytesIO()
    Image.fromarray(frame_u8).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def recipe_crops(min_crops, seed, log):
    """Scenes of models/detect/train.py's renderer; yields crop records."""
    dt = load("detect_train", os.path.join(MODELS, "detect", "train.py"))
    W, H = 320, 240
    items, seen, scene = [], {"products": 0}, 0
    reasons = {}
    while len(items) < min_crops:
        rng = np.random.default_rng([seed, 77, scene])
        img = dt.render_background(rng, H, W)
        owner = np.full((H, W), -1, np.int32)
        objs = []
        for _ in range(int(rng.integers(1, 5))):
            for _try in range(8):
                cls = int(rng.integers(len(LABELS)))
                oh = int(math.exp(rng.uniform(math.log(30), math.log(200))))
                p = dt.sample_object(rng, cls, oh)
                if p["w"] > W * 0.95:
                    s = W * 0.95 / p["w"]
                    p["w"], p["h"] = int(p["w"] * s), int(p["h"] * s)
                    if p["h"] < MIN_SIDE:
                        continue
                if p["h"] > H:
                    continue
                x0 = int(rng.integers(0, W - p["w"] + 1))
                y0 = int(rng.integers(0, H - p["h"] + 1))
                cand = (x0, y0, x0 + p["w"], y0 + p["h"])
                if any(dt.box_iou_np(cand, o["box"])[1] > 0.35 for o in objs):
                    continue
                before = img.copy()
                bb = dt.draw_object(img, p, x0, y0)
                if bb is None:
                    break
                painted = np.any(img != before, axis=2)
                area = max(int(painted.sum()), 1)
                owner[painted] = len(objs)
                objs.append({"p": p, "box": bb, "area": area})
                break
        clean = np.clip(img, 0, 1)
        cam = scene % 2 == 1  # every other scene through the training camera
        final = dt.augment(rng, img.copy()) if cam else clean
        frame = jpeg((np.clip(final, 0, 1) * 255 + 0.5).astype(np.uint8), 85)
        for k, o in enumerate(objs):
            seen["products"] += 1
            vis = owner == k
            bx0, by0, bx1, by1 = o["box"]
            paint = int(name_pixels(o["p"]["color"][None])[0])
            why = None
            if bx1 - bx0 < MIN_SIDE or by1 - by0 < MIN_SIDE:
                why = "small"
            elif vis.sum() / o["area"] < MIN_VISIBLE:
                why = "hidden"
            else:
                before_name, _ = dominant(clean[vis])
                after_name, _ = dominant(frame[vis].astype(np.float32) / 255)
                if before_name < 0:
                    why = "no dominant colour as drawn"
                elif paint != before_name:
                    why = "paint colour is not the dominant colour"
                elif after_name != before_name:
                    why = "camera changes the colour seen"
            if why:
                reasons[why] = reasons.get(why, 0) + 1
                continue
            items.append({"label": o["p"]["cls"], "colour": before_name,
                          "crop": crop64(frame, o["box"]), "camera": cam,
                          "size": int(max(bx1 - bx0, by1 - by0))})
        scene += 1
        if scene % 100 == 0:
            log(f"recipe: {scene} scenes, {len(items)} crops kept")
    return items, {"scenes": scene, "products": seen["products"], "excluded": reasons}


def render2_crops(min_crops, seed, log):
    """Shots of models/detect/eval/render2.py (its first frame each)."""
    r2 = load("render2", os.path.join(MODELS, "detect", "eval", "render2.py"))
    W, H = 320, 240
    items, products, shot, reasons, failed = [], 0, 0, {}, 0
    while len(items) < min_crops:
        srng = np.random.default_rng([seed, 99, shot])
        shot += 1
        try:
            canvas, covered, bg = r2.make_shot(srng, W, H)
        except ValueError:  # render2 draws a few shapes it cannot (a bottle label
            failed += 1     # with no room): such a shot is skipped
            continue
        cam = r2.camera(srng)
        frame, boxes, attrs = r2.shoot(srng, canvas, covered, bg, cam, W, H, 0)
        # shoot's own view of the scene (frame 0), to find each product's
        # visible pixels in the frame and before the camera
        SH, SW = canvas.shape[:2]
        zoom = cam["zoom"][0]
        cwid, chei = SW * zoom / 1.25, SH * zoom / 1.25
        left = SW / 2 - cam["pan"][0] * SW - cwid / 2
        top = SH / 2 - cam["pan"][1] * SH - chei / 2
        view = (left, top, left + cwid, top + chei)
        src = Image.fromarray((np.clip(canvas, 0, 1) * 255).astype(np.uint8))
        clean = np.asarray(src.resize((W, H), Image.BILINEAR, box=view), np.float32) / 255
        kept = [c for c in covered if c["area"] >= 1]
        j = 0
        for c in kept:
            bx0, by0, bx1, by1 = c["box"]
            sx, sy = W / cwid, H / chei
            x0, x1 = max(0, (bx0 - left) * sx), min(W, (bx1 - left) * sx)
            y0, y1 = max(0, (by0 - top) * sy), min(H, (by1 - top) * sy)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            box = boxes[j]
            style = attrs[j]["style"]
            j += 1
            products += 1
            m = np.asarray(Image.fromarray(c["mask"], mode="F").resize(
                (W, H), Image.BILINEAR, box=view)) > 0.5
            why = None
            if style == "sketch":
                why = "sketch style"
            elif box[3] - box[1] < MIN_SIDE or box[4] - box[2] < MIN_SIDE:
                why = "small"
            elif box[5] < MIN_VISIBLE:
                why = "hidden"
            else:
                before_name, _ = dominant(clean[m])
                after_name, _ = dominant(frame[m].astype(np.float32) / 255)
                if before_name < 0:
                    why = "no dominant colour as drawn"
                elif after_name != before_name:
                    why = "camera changes the colour seen"
            if why:
                reasons[why] = reasons.get(why, 0) + 1
                continue
            items.append({"label": LABELS.index(box[0]), "colour": before_name,
                          "crop": crop64(frame, box[1:5]), "camera": True, "style": style,
                          "size": int(max(box[3] - box[1], box[4] - box[2]))})
        assert j == len(boxes), (j, len(boxes))
        if shot % 100 == 0:
            log(f"render2: {shot} shots, {len(items)} crops kept")
    return items, {"shots": shot, "shots_render2_failed": failed, "products": products,
                   "excluded": reasons}


# --------------------------------------------------------------- scoring

def score(model, package, items, replay=6):
    x = torch.from_numpy(np.stack([it["crop"] for it in items]).astype(np.float32)).permute(0, 3, 1, 2)
    labels = torch.tensor([it["label"] for it in items])
    res = {"crops": len(items)}
    colours = {c: 0 for c in CNAMES}
    for it in items:
        colours[CNAMES[it["colour"]]] += 1
    res["crops_by_colour"] = colours
    lines_all = {}
    for g, lang in ((0, "zh"), (1, "en")):
        lines = []
        for i in range(0, len(items), 100):
            lines += cw.greedy_batch(model, x[i:i + 100], labels[i:i + 100],
                                     torch.full((min(100, len(items) - i),), g, dtype=torch.long))
        lines_all[lang] = lines
        right, per, said = 0, {c: [0, 0] for c in CNAMES}, {c: {} for c in CNAMES}
        for it, b in zip(items, lines):
            s = b.decode("utf-8", "replace")
            named = cw.colours_named(s, g)
            truth = CNAMES[it["colour"]]
            ok = named == {truth}
            right += ok
            per[truth][0] += ok
            per[truth][1] += 1
            key = "+".join(sorted(named)) or "none"
            said[truth][key] = said[truth].get(key, 0) + 1
        present = [a / t for a, t in per.values() if t]
        res[lang] = {"colour": round(right / len(items), 3),
                     "colour_mean_over_colours": round(sum(present) / len(present), 3),
                     "by_colour": {c: (round(a / t, 3) if t else None) for c, (a, t) in per.items()},
                     "said": said}
    # the exact C loop (whole prefix every step) on the package, a few crops
    same = 0
    for i in range(min(replay, len(items))):
        t = x[i:i + 1].contiguous(memory_format=torch.channels_last)
        g = i % 2
        same += cw.greedy_c_loop(package, t, items[i]["label"], g) == lines_all["zh" if g == 0 else "en"][i]
    res["c_loop_replay_same"] = f"{same}/{min(replay, len(items))}"
    res["samples"] = [(LABELS[it["label"]], CNAMES[it["colour"]],
                       lines_all["zh"][i].decode("utf-8", "replace"),
                       lines_all["en"][i].decode("utf-8", "replace"))
                      for i, it in enumerate(items[:6])]
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("package")
    ap.add_argument("--renderer", default="recipe,render2")
    ap.add_argument("--min-crops", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--cache", metavar="PREFIX", help="keep the rendered crops in "
                    "PREFIX-RENDERER-seedS-nN.npz and reuse them (scoring another package "
                    "then takes seconds)")
    ap.add_argument("--sheet", help="write a PNG of the first 64 crops of each renderer "
                    "(PATH-recipe.png, PATH-render2.png)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    log = lambda m: print(f"[{time.time() - t0:.0f}s] {m}", file=sys.stderr, flush=True)  # noqa: E731
    package, man = cw.check_package(args.package)
    model = cw.Copywriter()
    cw.load_weights(model, package)
    model.eval()
    out = {"package": args.package, "description": man.get("description", "")}
    for r in args.renderer.split(","):
        make = {"recipe": recipe_crops, "render2": render2_crops}[r]
        cache = args.cache and f"{args.cache}-{r}-seed{args.seed}-n{args.min_crops}.npz"
        if cache and os.path.exists(cache):
            z = np.load(cache, allow_pickle=True)
            items, info = list(z["items"]), z["info"].item()
            log(f"{r}: crops from {cache}")
        else:
            items, info = make(args.min_crops, args.seed, log)
            if cache:
                np.savez_compressed(cache, items=np.array(items, dtype=object),
                                    info=np.array(info, dtype=object))
        if args.sheet:
            tiles = [it["crop"] for it in items[:64]]
            sheet = np.ones((8 * 66, 8 * 66, 3), np.float32)
            for i, t in enumerate(tiles):
                sheet[(i // 8) * 66:(i // 8) * 66 + 64, (i % 8) * 66:(i % 8) * 66 + 64] = t
            Image.fromarray((sheet * 255).astype(np.uint8)).save(f"{args.sheet}-{r}.png")
        log(f"{r}: {len(items)} crops, scoring")
        out[r] = {**info, **score(model, package, items)}
        f = out[r]
        print(f"{r}: {f['crops']} crops  colour zh {f['zh']['colour']:.3f}  en {f['en']['colour']:.3f}  "
              f"(mean over colours zh {f['zh']['colour_mean_over_colours']:.3f}  "
              f"en {f['en']['colour_mean_over_colours']:.3f})  C-loop replay {f['c_loop_replay_same']}  "
              f"excluded {f['excluded']}", flush=True)
        for c in CNAMES:
            print(f"  {c:7s} n {f['crops_by_colour'][c]:3d}  zh {f['zh']['by_colour'][c]}  "
                  f"en {f['en']['by_colour'][c]}  said(en) {f['en']['said'][c]}", flush=True)
    print(json.dumps(out, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
