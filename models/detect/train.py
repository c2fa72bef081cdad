#!/usr/bin/python3
"""Recipe for kling-detect-products: a small anchor-free product detector
trained on synthetic scenes, exported as a gst-kling model package.

  nice -n 19 /usr/bin/python3 models/detect/train.py            # full run (40 min)
  /usr/bin/python3 models/detect/train.py --smoke --output /tmp/smoke.pt
  /usr/bin/python3 models/detect/train.py --render-video /tmp/vid

Everything is generated here from numpy/PIL drawing code, two ways mixed:
the six product categories (bottle, can, box, cup, bag, shoe) as shaded,
highlighted, labelled silhouettes on plain / gradient / textured / cluttered
backgrounds with blur, noise and brightness/contrast changes (the old style,
also used by --render-video), and (RICH_FRACTION of the training images) as
3-D lit products -- surfaces of revolution, cuboids in perspective, bags,
backpacks, sneakers/boots/heels -- in photo/flat/toon/sketch styles, warped,
on procedural wood/shelf/tile/fabric/marble/bokeh scenes with distractors and
occluders and camera effects (light falloff, colour cast, gamma, vignette,
defocus/motion blur, low resolution, noise, JPEG).  Both simulate
letterboxing (the element letterboxes frames into 256x256 with gray 114).

The model is a ~300k-parameter CNN (stride 2..32 backbone, small FPN fused
at stride 8) predicting on a 32x32 grid (1024 predictions).  Export returns
the YOLOv8 layout [B, 4+6, 1024]: cx, cy, w, h in input pixels, then
per-class sigmoid scores; no NMS inside.

Determinism: data batch i is drawn from numpy's generator seeded with
(seed, i); the held-out set uses a different seed.  With --minutes the
number of steps is estimated from the speed (re-estimated every 50 steps,
as other jobs change it) and the budget is a hard stop; the final step count
is printed, and --steps N repeats a run with N steps on the same data with a
fixed schedule (warm-up min(200, N/10), cosine decay), exactly.

Only Debian's /usr/bin/python3 (torch, numpy, PIL) is needed; no downloads.
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
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

LABELS = ["bottle", "can", "box", "cup", "bag", "shoe"]
NC = len(LABELS)
SIZE = 256
STRIDE = 8
PAD = 114
HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.normpath(os.path.join(HERE, "..", "kling-detect-products.pt"))

# ---------------------------------------------------------------------------
# Synthetic rendering (numpy, float32 HxWx3 in [0,1])
# ---------------------------------------------------------------------------

# width / height ranges per category
ASPECT = {
    "bottle": (0.26, 0.45),
    "can": (0.48, 0.75),
    "box": (0.6, 1.6),
    "cup": (0.8, 1.2),
    "bag": (0.65, 1.1),
    "shoe": (1.7, 2.8),
}


def rand_color(rng, sat_lo=0.25):
    """A random RGB colour with some saturation variety."""
    h = rng.random()
    s = rng.uniform(sat_lo, 1.0) if rng.random() < 0.85 else rng.uniform(0, 0.15)
    v = rng.uniform(0.25, 1.0)
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb, np.float32)


def upsample(small, h, w):
    t = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1)))[None]
    t = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
    return t[0].numpy().transpose(1, 2, 0)


def render_background(rng, h, w):
    kind = rng.choice(4, p=[0.2, 0.25, 0.3, 0.25])  # plain gradient texture clutter
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    xx = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    c1, c2 = rand_color(rng, 0.0), rand_color(rng, 0.0)
    if kind == 0:
        img = np.broadcast_to(c1, (h, w, 3)).copy()
    else:
        a = rng.uniform(0, 2 * math.pi)
        g = (np.cos(a) * xx + np.sin(a) * yy)
        g = (g - g.min()) / max(float(g.max() - g.min()), 1e-6)
        img = c1 * (1 - g) + c2 * g
    if kind == 2:  # texture: low-res noise, stripes (wood/fabric), fine grain
        cells = int(rng.integers(3, 24))
        small = rng.random((cells, max(2, cells * w // h), 3)).astype(np.float32)
        img = img * 0.6 + 0.4 * upsample(small, h, w) * rng.uniform(0.5, 1.2)
        if rng.random() < 0.5:
            f = rng.uniform(8, 60)
            a = rng.uniform(0, math.pi)
            s = np.sin((np.cos(a) * xx * w + np.sin(a) * yy * h) / f * 2 * math.pi
                       + 3 * np.sin(yy * rng.uniform(2, 9)))
            img = img * (1 + rng.uniform(0.05, 0.25) * s)
        img = img + rng.normal(0, rng.uniform(0.01, 0.06), (h, w, 1)).astype(np.float32)
    elif kind == 3:  # clutter: lines, discs, triangles, flat patches (not products)
        Y, X = np.mgrid[0:h, 0:w].astype(np.float32)
        for _ in range(int(rng.integers(4, 18))):
            col = rand_color(rng, 0.0)
            t = rng.integers(4)
            if t == 0:  # line
                x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
                a = rng.uniform(0, math.pi)
                d = np.abs((X - x0) * np.sin(a) - (Y - y0) * np.cos(a))
                m = d < rng.uniform(0.5, 5)
            elif t == 1:  # disc / ellipse
                cx, cy = rng.uniform(0, w), rng.uniform(0, h)
                rx, ry = rng.uniform(3, 40), rng.uniform(3, 40)
                m = ((X - cx) / rx) ** 2 + ((Y - cy) / ry) ** 2 < 1
            elif t == 2:  # triangle
                p = rng.uniform(0, 1, (3, 2)) * [w, h]
                p = p.mean(0) + (p - p.mean(0)) * rng.uniform(0.1, 0.5)
                s = []
                for i in range(3):
                    (ax, ay), (bx, by) = p[i], p[(i + 1) % 3]
                    s.append((bx - ax) * (Y - ay) - (by - ay) * (X - ax) > 0)
                m = (s[0] == s[1]) & (s[1] == s[2])
            else:  # flat thin patch / shelf edge
                x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
                ww, hh = (rng.uniform(20, w), rng.uniform(2, 10)) if rng.random() < .5 \
                    else (rng.uniform(2, 14), rng.uniform(10, 60))
                m = (X >= x0) & (X < x0 + ww) & (Y >= y0) & (Y < y0 + hh)
            alpha = rng.uniform(0.4, 1.0)
            img[m] = img[m] * (1 - alpha) + col * alpha
    return img


def sample_object(rng, cls, h):
    """Appearance parameters for one product instance of height h px."""
    name = LABELS[cls]
    lo, hi = ASPECT[name]
    p = {"cls": cls, "h": int(h), "w": max(6, int(round(h * rng.uniform(lo, hi)))),
         "color": rand_color(rng), "color2": rand_color(rng),
         "band": rand_color(rng), "mirror": bool(rng.random() < 0.5),
         "u": rng.random(12).astype(np.float32)}
    return p


def draw_object(img, p, x0, y0):
    """Draw a product into img at (x0, y0); returns the tight box or None."""
    H, W = img.shape[:2]
    h, w, r = p["h"], p["w"], p["u"]
    name = LABELS[p["cls"]]
    v = ((np.arange(h, dtype=np.float32) + 0.5) / h)[:, None]
    u = ((np.arange(w, dtype=np.float32) + 0.5) / w * 2 - 1)[None, :]
    if p["mirror"]:
        u = -u
    au = np.abs(u)
    ones = np.ones((h, w), np.float32)
    col = ones[..., None] * p["color"]
    cyl = False
    band = None
    if name == "bottle":
        neck_w = 0.25 + 0.25 * r[0]
        neck_end = 0.1 + 0.15 * r[1]
        sh_end = neck_end + 0.08 + 0.2 * r[2]
        t = np.clip((v - neck_end) / (sh_end - neck_end), 0, 1)
        half = neck_w + (1 - neck_w) * (0.5 - 0.5 * np.cos(t * math.pi))
        bot = np.clip((1 - v) / 0.04, 0, 1) ** 0.5
        mask = au <= half * np.maximum(bot, 0.75)
        cap = v < 0.03 + 0.07 * r[3]
        col = np.where(cap[..., None], p["color2"], col)
        cyl = True
        band = (sh_end + 0.05 + 0.2 * r[4], 0.1 + 0.25 * r[5])
    elif name == "can":
        ry = 0.03 + 0.06 * r[0]
        ends = np.minimum(v, 1 - v)
        mask = (ends >= ry) | (u ** 2 + ((ends - ry) / ry) ** 2 <= 1)
        rim = ends < ry * 1.6
        col = np.where(rim[..., None], 0.75 + 0.2 * r[1], col)
        cyl = True
        band = (0.2 + 0.3 * r[2], 0.2 + 0.4 * r[3])
    elif name == "box":
        d = 0.1 + 0.25 * r[0]          # side face width (u units / 2)
        t = 0.08 + 0.2 * r[1]          # top face height
        x = (u + 1) / 2
        cut1 = (v < t) & (x < d * (t - v) / t)
        cut2 = (v > 1 - t) & (1 - x < d * (v - 1 + t) / t)
        mask = ~(cut1 | cut2)
        top = (v < t) & ~cut1           # lid face
        side = (x > 1 - d) & ~top       # side face
        col = np.where(top[..., None], np.minimum(col * 1.35 + 0.08, 1), col)
        col = np.where(side[..., None], col * 0.6, col)
        band = (0.35 + 0.3 * r[2], 0.15 + 0.3 * r[3])
    elif name == "cup":
        hw = 0.18 + 0.18 * r[0]         # handle width (u units)
        bl = 1 - 2 * hw                  # body right edge in u
        bc = (-1 + bl) / 2
        bh = (bl + 1) / 2                # body half width at top
        taper = 0.65 + 0.25 * r[1]
        half = bh * (1 - (1 - taper) * v)
        body = (np.abs(u - bc) <= half) & (v >= 0.0)
        hcx, hcy = bl - 0.05, 0.3 + 0.15 * r[2]
        hrx, hry = 2 * hw + 0.05, 0.15 + 0.1 * r[3]
        e = ((u - hcx) / hrx) ** 2 + ((v - hcy) / hry) ** 2
        handle = (e <= 1) & (e >= (0.45 + 0.2 * r[4]) ** 2) & (u > bl - 0.1)
        mask = body | handle
        inner = (v < 0.06) & (np.abs(u - bc) < half * 0.9)
        col = np.where(inner[..., None], col * 0.45, col)
        cyl = True
        if r[5] < 0.6:
            band = (0.35 + 0.2 * r[6], 0.12 + 0.2 * r[7])
    elif name == "bag":
        hv = 0.18 + 0.2 * r[0]
        widen = 0.05 * r[1]
        half = 1 - widen + widen * (v - hv) / (1 - hv)
        body = (v >= hv) & (au <= half)
        rx = 0.25 + 0.35 * r[2]
        e = (u / rx) ** 2 + ((v - hv) / hv) ** 2
        thick = 0.55 + 0.25 * r[3]
        handle = (v < hv) & (e <= 1) & (e >= thick ** 2)
        mask = body | handle
        col = np.where(handle[..., None], p["color2"] * 0.8, col)
        fold = (v >= hv) & (v < hv + 0.06)
        col = np.where(fold[..., None], col * 0.8, col)
        band = (hv + 0.2 + 0.35 * r[4], 0.12 + 0.25 * r[5])
    else:  # shoe: heel at u<0, toe at u=1
        collar = -1 + 0.5 + 0.3 * r[0]
        toe_h = 0.45 + 0.2 * r[1]
        t = np.clip((u - collar) / (1 - collar), 0, 1)
        top = np.where(u < collar, 0.0, toe_h * t ** (0.6 + 0.8 * r[2]))
        toe = (u > 0.7) & (((u - 0.7) / 0.3) ** 2 + ((v - 1 + (1 - toe_h) * 0.55) /
                                                      ((1 - toe_h) * 0.9 + 1e-3)) ** 2 > 1) & (v < 0.78)
        heel = (u < -0.9) & (v < 0.1)
        mask = (v >= top) & ~toe & ~heel
        sole_v = 0.78 + 0.1 * r[3]
        sole = v > sole_v
        col = np.where(sole[..., None], p["color2"] * 0.3 + 0.7 * (r[4] > 0.5), col)
        opening = (u > -0.88) & (u < collar - 0.05) & (v < 0.08 + 0.06 * r[5])
        col = np.where(opening[..., None], col * 0.3, col)
        lace = (u > collar + 0.1) & (u < collar + 0.6) & (np.abs(v - top - 0.07) < 0.04) & \
               (np.sin(u * 40) > 0.3)
        col = np.where(lace[..., None], 0.9, col)
        stripe = (np.abs((v - 0.55) + 0.35 * (u - 0.2)) < 0.05 + 0.04 * r[6]) & ~sole
        col = np.where(stripe[..., None], p["band"], col)
    if band is not None:
        b0, bh_ = band
        inb = (v >= b0) & (v < b0 + bh_)
        col = np.where(inb[..., None], p["band"], col)
        # a few "text" lines inside the band
        txt = inb & (np.abs(((v - b0) / max(bh_, 1e-3)) - 0.5) < 0.12) & \
            (np.sin(u * (10 + 20 * r[8]) + r[9] * 6) > 0.2)
        col = np.where(txt[..., None], p["color2"] * 0.5, col)
    # shading: cylinder or planar light, plus highlight
    if cyl:
        shade = 0.5 + 0.55 * np.sqrt(np.clip(1 - (u * 0.95) ** 2, 0, 1))
        hu = -0.55 + 0.3 * r[10]
        hl = np.exp(-((u - hu) / 0.09) ** 2) * (0.35 + 0.4 * r[11])
    else:
        a = r[10] * 2 * math.pi
        shade = 0.85 + 0.2 * (np.cos(a) * u * 0.5 + np.sin(a) * (v - 0.5))
        hl = np.exp(-(((u + 0.4) / 0.35) ** 2 + ((v - 0.3) / 0.25) ** 2)) * 0.3 * r[11]
    col = col * shade[..., None] + hl[..., None] * (1 - col)
    col = np.clip(col, 0, 1)
    # clip to canvas
    ys, xs = max(0, -y0), max(0, -x0)
    ye, xe = min(h, H - y0), min(w, W - x0)
    if ye <= ys or xe <= xs:
        return None
    m = mask[ys:ye, xs:xe]
    if not m.any():
        return None
    region = img[y0 + ys:y0 + ye, x0 + xs:x0 + xe]
    region[m] = col[ys:ye, xs:xe][m]
    rows = np.nonzero(m.any(1))[0]
    cols = np.nonzero(m.any(0))[0]
    return (x0 + xs + cols[0], y0 + ys + rows[0], x0 + xs + cols[-1] + 1, y0 + ys + rows[-1] + 1)


def box_iou_np(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter, inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def blur(img, k):
    """Separable box-ish blur with a [1,2,1]^k kernel (edge padded)."""
    for _ in range(k):
        p = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
        img = (p[:-2, 1:-1] + 2 * p[1:-1, 1:-1] + p[2:, 1:-1]) * 0.25
        p = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
        img = (p[1:-1, :-2] + 2 * p[1:-1, 1:-1] + p[1:-1, 2:]) * 0.25
    return img


def render_scene(rng, h, w):
    """One scene of h x w; returns float image and boxes [n,5] (cls,x1,y1,x2,y2)."""
    img = render_background(rng, h, w)
    n = int(rng.choice(7, p=[0.06, 0.2, 0.22, 0.18, 0.14, 0.11, 0.09]))
    boxes = []
    hmax = min(200, int(h * 0.95))
    for _ in range(n):
        for _try in range(8):
            cls = int(rng.integers(NC))
            oh = int(math.exp(rng.uniform(math.log(24), math.log(hmax))))
            p = sample_object(rng, cls, oh)
            if p["w"] > w * 0.95:
                s = w * 0.95 / p["w"]
                p["w"] = int(p["w"] * s)
                p["h"] = int(p["h"] * s)
                if p["h"] < 16:
                    continue
            x0 = int(rng.integers(0, w - p["w"] + 1))
            y0 = int(rng.integers(0, h - p["h"] + 1))
            cand = (x0, y0, x0 + p["w"], y0 + p["h"])
            # avoid hiding earlier objects: limit overlap
            ok = True
            for b in boxes:
                inter, iou = box_iou_np(cand, b[1:])
                if iou > 0.35 or inter > 0.5 * (b[3] - b[1]) * (b[4] - b[2]):
                    ok = False
                    break
            if not ok:
                continue
            bb = draw_object(img, p, x0, y0)
            if bb is not None:
                boxes.append((cls,) + tuple(bb))
            break
    return img, boxes


def augment(rng, img):
    h, w = img.shape[:2]
    if rng.random() < 0.35:
        img = blur(img, int(rng.integers(1, 4)))
    if rng.random() < 0.8:
        c = rng.uniform(0.6, 1.35)
        b = rng.uniform(-0.2, 0.2)
        m = img.mean()
        img = (img - m) * c + m + b
        img = img * rng.uniform(0.85, 1.15, 3).astype(np.float32)  # white balance
    if rng.random() < 0.5:
        img = img + rng.normal(0, rng.uniform(0.005, 0.05), (h, w, 1 if rng.random() < .5 else 3)
                               ).astype(np.float32)
    return np.clip(img, 0, 1)


LETTERBOX = [(144, 256), (192, 256), (168, 256), (256, 144), (256, 192), (216, 256)]


def render_sample(rng):
    """A 256x256 uint8 HWC sample and its boxes (cls,x1,y1,x2,y2) in pixels."""
    if rng.random() < 0.3:
        h, w = LETTERBOX[int(rng.integers(len(LETTERBOX)))]
    else:
        h, w = SIZE, SIZE
    img, boxes = render_scene(rng, h, w)
    img = augment(rng, img)
    out = np.full((SIZE, SIZE, 3), PAD, np.uint8)
    oy, ox = (SIZE - h) // 2, (SIZE - w) // 2
    out[oy:oy + h, ox:ox + w] = (img * 255 + 0.5).astype(np.uint8)
    boxes = [(c, x1 + ox, y1 + oy, x2 + ox, y2 + oy) for c, x1, y1, x2, y2 in boxes]
    return out, boxes


# ---------------------------------------------------------------------------
# Second, richer drawing path (training only; render_video keeps the first)
# ---------------------------------------------------------------------------
#
# Products are drawn as patches with a colour, a surface normal, a specular
# strength and a part id per pixel, then lit and styled (photo / flat / toon /
# sketch), transformed (mirror, rotation, perspective) with PIL and pasted on
# photographic-looking procedural scenes with distractors that are none of
# the six kinds; camera effects follow.  The box is the tight box of the
# pasted object's pixels (alpha >= 0.5), clipped to the frame.

RICH_FRACTION = 0.65        # share of training images drawn by this path
DRAW_MAX = 120             # taller products are drawn at this height, then enlarged


def hsv(h, s, v):
    h = (h % 1.0) * 6
    i = int(h) % 6
    f = h - int(h)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i],
                    np.float32)


def fam_color(rng, fam):
    """Colours by material family."""
    if fam == "any":
        return rand_color(rng, 0.2)
    if fam == "glass":
        return [hsv(rng.uniform(0.22, 0.4), rng.uniform(0.4, 0.9), rng.uniform(0.15, 0.45)),
                hsv(rng.uniform(0.05, 0.1), rng.uniform(0.6, 0.9), rng.uniform(0.2, 0.45)),
                hsv(rng.uniform(0.5, 0.6), rng.uniform(0.1, 0.4), rng.uniform(0.6, 0.9)),
                hsv(0, 0, rng.uniform(0.05, 0.2))][int(rng.integers(4))]
    if fam == "cardboard":
        return hsv(rng.uniform(0.06, 0.11), rng.uniform(0.35, 0.6), rng.uniform(0.45, 0.8))
    if fam == "metal":
        return hsv(rng.random(), rng.uniform(0, 0.25), rng.uniform(0.55, 0.9))
    if fam == "leather":
        return hsv(rng.uniform(0.0, 0.12), rng.uniform(0.3, 0.8), rng.uniform(0.1, 0.6)) \
            if rng.random() < 0.7 else rand_color(rng, 0.2)
    if fam == "white":
        return hsv(rng.random(), rng.uniform(0, 0.1), rng.uniform(0.85, 1.0))
    if fam == "dark":
        return hsv(rng.random(), rng.uniform(0, 0.4), rng.uniform(0.05, 0.3))
    return rand_color(rng, 0.2)


def smooth_noise(rng, h, w, cells, octaves=1):
    """Value noise in [0,1] (bicubic upsampled random grids)."""
    out = np.zeros((h, w), np.float32)
    amp, tot = 1.0, 0.0
    for o in range(octaves):
        c = max(2, int(cells * 2 ** o))
        small = rng.random((c, max(2, c * w // max(h, 1)))).astype(np.float32)
        out += amp * np.asarray(Image.fromarray(small, "F").resize((w, h), Image.BICUBIC))
        tot += amp
        amp *= 0.5
    return np.clip(out / tot, 0, 1)


def print_tex(rng, tu, tv, c1, c2, kind=None):
    """A printed surface (label, packaging) over texture coordinates in [0,1]."""
    if kind is None:
        kind = int(rng.choice(7, p=[0.14, 0.18, 0.2, 0.12, 0.1, 0.16, 0.1]))
    sh = np.broadcast(tu, tv).shape
    c1 = np.asarray(c1, np.float32)
    c2 = np.asarray(c2, np.float32)
    col = np.broadcast_to(c1, sh + (3,)).copy()
    if kind == 1:  # stripes
        a = rng.choice([0.0, math.pi / 2, rng.uniform(0, math.pi)])
        f = rng.uniform(2, 12)
        s = np.sin((np.cos(a) * tu + np.sin(a) * tv) * f * 2 * math.pi) > rng.uniform(-0.5, 0.5)
        col[s] = c2
    elif kind == 2 or kind == 5:  # text-like marks (lines of words), logo
        nl = int(rng.integers(2, 9))
        nc = int(rng.integers(10, 40))
        table = rng.random((nl, nc)) < 0.65
        table[:, ::int(rng.integers(3, 7))] = False
        v0, v1 = rng.uniform(0, 0.5), rng.uniform(0.55, 1.0)
        lv = (tv - v0) / (v1 - v0)
        row = np.clip((lv * nl).astype(np.int32), 0, nl - 1)
        cl = np.clip((tu * nc).astype(np.int32), 0, nc - 1)
        fr = lv * nl - np.floor(lv * nl)
        m = table[row, cl] & (fr > 0.25) & (fr < 0.75) & (lv >= 0) & (lv < 1) & \
            (tu > 0.08) & (tu < 0.92)
        tc = c2 if rng.random() < 0.6 else (np.float32(0.05) if c1.mean() > 0.5 else np.float32(0.95))
        if kind == 5:
            cx, cy, r = rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.6), rng.uniform(0.12, 0.3)
            lg = ((tu - cx) / r) ** 2 + ((tv - cy) / (r * rng.uniform(0.5, 1.5))) ** 2 < 1
            col[lg] = c2
            m = m & ~lg & (tv > cy + r * 0.8)
        col[m] = tc
    elif kind == 3:  # blotchy print / camo / noise
        n = rng.integers(3, 10)
        small = rng.random((int(n), int(n)))
        iy = np.clip((tv * n).astype(np.int32), 0, n - 1)
        ix = np.clip((tu * n).astype(np.int32), 0, n - 1)
        col[small[iy, ix] > 0.5] = c2
    elif kind == 4:  # dots
        f = rng.uniform(4, 12)
        d = (np.sin(tu * f * 2 * math.pi) * np.sin(tv * f * 2 * math.pi))
        col[d > 0.5] = c2
    elif kind == 6:  # two-tone split / band
        a, b = sorted(rng.uniform(0, 1, 2))
        col[(tv > a) & (tv < b)] = c2
    return col


class Part:
    """An object patch: coverage, colour, normal, specular, opacity, part id."""

    def __init__(self, h, w):
        self.h, self.w = h, w
        self.a = np.zeros((h, w), np.float32)
        self.col = np.zeros((h, w, 3), np.float32)
        self.n = np.zeros((h, w, 3), np.float32)
        self.n[..., 2] = 1
        self.spec = np.zeros((h, w), np.float32)
        self.op = np.ones((h, w), np.float32)
        self.pid = np.zeros((h, w), np.int16)
        self.k = 0

    def put(self, m, col, n=None, spec=0.0, op=1.0):
        self.k += 1
        sel = m > 0.5
        self.a = np.maximum(self.a, m)
        if not sel.any():
            return
        col = np.asarray(col, np.float32)
        self.col[sel] = col[sel] if col.ndim == 3 else col
        if n is not None:
            self.n[sel] = n[sel]
        self.spec[sel] = spec[sel] if np.ndim(spec) == 2 else spec
        self.op[sel] = op[sel] if np.ndim(op) == 2 else op
        self.pid[sel] = self.k


def poly_mask(h, w, pts, kind="poly", ss=2, **kw):
    """Antialiased mask of a polygon / ellipse / arc in patch pixels."""
    im = Image.new("L", (w * ss, h * ss), 0)
    d = ImageDraw.Draw(im)
    if kind == "poly":
        d.polygon([(x * ss, y * ss) for x, y in pts], fill=255)
    elif kind == "ellipse":
        d.ellipse([v * ss for v in pts], fill=255)
    elif kind == "rrect":
        d.rounded_rectangle([v * ss for v in pts], radius=kw["r"] * ss, fill=255)
    elif kind == "arc":
        d.arc([v * ss for v in pts], kw["a0"], kw["a1"], fill=255, width=max(1, int(kw["t"] * ss)))
    elif kind == "line":
        d.line([(x * ss, y * ss) for x, y in pts], fill=255, width=max(1, int(kw["t"] * ss)))
    if ss > 1:
        im = im.reduce(ss)
    return np.asarray(im, np.float32) / 255.0


def height_normals(m, radius, strength=1.0):
    """Puffy normals from a blurred mask (bags, shoes, handles)."""
    h, w = m.shape
    im = Image.fromarray((m * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(max(0.8, radius)))
    hg = np.asarray(im, np.float32) / 255.0
    gy, gx = np.gradient(hg)
    s = strength * radius * 1.5
    n = np.stack([-gx * s, -gy * s, np.ones_like(hg)], -1)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def revolve(P, rng, R, v, x0, x1, tex=None, spec=0.3, op=1.0, glass=False):
    """Paint a surface of revolution: R[h] half-widths (px) per row, body
    between columns x0..x1 (centre (x0+x1)/2).  tex: (h,w,3) colour or (3,)."""
    h, w = P.h, P.w
    xc = (x0 + x1) / 2
    X = np.arange(w, dtype=np.float32)[None, :] + 0.5 - xc
    Rr = np.maximum(R, 1e-3)[:, None]
    m = np.clip(Rr - np.abs(X) + 0.5, 0, 1) * (R[:, None] > 0.2)
    xs = np.clip(X / Rr, -1, 1)
    nz = np.sqrt(np.clip(1 - xs ** 2, 0, 1))
    dR = np.gradient(R)[:, None]
    n = np.stack([xs, np.broadcast_to(-dR * nz, xs.shape), nz], -1)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    col = tex if tex is not None else np.float32(0.5)
    o = op
    if glass:
        o = np.clip(op + (1 - op) * np.abs(xs) ** 3, 0, 1)
    P.put(m, col, n, spec, o)
    return xs, m


def ellipse_cap(P, cx, cy, rx, ry, col, spec=0.2, op=1.0):
    m = poly_mask(P.h, P.w, [cx - rx, cy - ry, cx + rx, cy + ry], "ellipse")
    P.put(m, col, None, spec, op)
    return m


def wrap_coords(P, xs, v, offset=0.0):
    tu = (np.arcsin(np.clip(xs, -1, 1)) / math.pi + 0.5) * 0.5 + offset
    return tu % 1.0, np.broadcast_to(v[:, None], xs.shape)


def draw_bottle(rng, h):
    kind = rng.choice(["wine", "water", "soda", "beer", "jar", "squeeze"],
                      p=[0.22, 0.22, 0.18, 0.16, 0.1, 0.12])
    asp = {"wine": (0.22, 0.32), "water": (0.26, 0.4), "soda": (0.26, 0.36), "beer": (0.24, 0.32),
           "jar": (0.6, 0.9), "squeeze": (0.3, 0.45)}[kind]
    w = max(6, int(h * rng.uniform(*asp)))
    P = Part(h, w)
    v = (np.arange(h, dtype=np.float32) + 0.5) / h
    half = w / 2 - 0.5
    def sm(a, b):
        return np.clip((v - a) / max(b - a, 1e-3), 0, 1) ** 2 * (3 - 2 * np.clip((v - a) / max(b - a, 1e-3), 0, 1))
    if kind == "wine":
        nk, sh = rng.uniform(0.22, 0.3), rng.uniform(0.3, 0.45)
        prof = 0.3 + 0.7 * sm(nk, sh)
        cap_end = rng.uniform(0.1, 0.2)
    elif kind == "beer":
        nk, sh = rng.uniform(0.15, 0.25), rng.uniform(0.35, 0.5)
        prof = 0.35 + 0.65 * sm(nk, sh)
        cap_end = 0.04
    elif kind == "water":
        nk, sh = rng.uniform(0.07, 0.12), rng.uniform(0.2, 0.32)
        prof = 0.38 + 0.62 * sm(nk, sh)
        prof = prof * (1 - 0.04 * (np.sin(v * rng.uniform(30, 60)) > 0.6) * (v > sh))
        cap_end = rng.uniform(0.04, 0.08)
    elif kind == "soda":
        nk, sh = rng.uniform(0.06, 0.1), rng.uniform(0.3, 0.42)
        prof = 0.3 + 0.7 * sm(nk, sh)
        prof = prof * (1 - 0.12 * np.exp(-((v - rng.uniform(0.55, 0.7)) / 0.07) ** 2))
        cap_end = rng.uniform(0.03, 0.06)
    elif kind == "jar":
        cap_end = rng.uniform(0.1, 0.2)
        prof = np.where(v < cap_end, rng.uniform(0.85, 0.95), np.where(v < cap_end + 0.05, 0.82, 1.0))
    else:  # squeeze: cap then taper
        cap_end = rng.uniform(0.1, 0.18)
        prof = np.where(v < cap_end, 0.35 + 0.25 * v / cap_end, 0.75 + 0.25 * sm(cap_end, 0.4))
    bot = np.clip((1 - v) / 0.03, 0, 1) ** 0.5
    prof = prof * np.maximum(bot, 0.8)
    R = prof * half
    R[v < 0.005] = 0
    glassy = kind in ("wine", "beer", "water", "soda", "jar") and rng.random() < 0.7
    body = fam_color(rng, "glass") if glassy else fam_color(rng, "any")
    if kind in ("water", "soda") and glassy:
        body = hsv(rng.uniform(0.45, 0.6), rng.uniform(0.05, 0.35), rng.uniform(0.7, 0.95))
    xs, m = revolve(P, rng, R, v, 0, w, body, spec=0.9 if glassy else 0.4,
                    op=rng.uniform(0.35, 0.7) if glassy and kind in ("water", "soda", "jar") else 1.0,
                    glass=glassy)
    tu, tv = wrap_coords(P, xs, v, rng.random())
    # liquid level in see-through bottles
    if glassy and kind in ("water", "soda", "jar") and rng.random() < 0.7:
        lv = rng.uniform(0.2, 0.6)
        liq = (v[:, None] > lv) & (m > 0.5)
        P.col = np.where(liq[..., None], fam_color(rng, "any") * 0.8 + body * 0.2, P.col)
        P.op = np.where(liq, np.maximum(P.op, rng.uniform(0.6, 0.95)), P.op)
    # cap
    capc = fam_color(rng, "any") if rng.random() < 0.7 else fam_color(rng, "metal")
    cap = (v[:, None] < cap_end) & (m > 0.5)
    P.col = np.where(cap[..., None], capc, P.col)
    P.op = np.where(cap, 1.0, P.op)
    P.pid[cap] = 50
    # label
    if rng.random() < 0.85:
        b0 = rng.uniform(0.42, 0.6) if kind not in ("jar", "squeeze") else rng.uniform(0.25, 0.45)
        b1 = min(0.97, b0 + rng.uniform(0.15, 0.4))
        lab = (tv > b0) & (tv < b1) & (m > 0.5)
        tex = print_tex(rng, tu, (tv - b0) / (b1 - b0), fam_color(rng, "any"), fam_color(rng, "any"))
        P.col = np.where(lab[..., None], tex, P.col)
        P.op = np.where(lab, 1.0, P.op)
        P.spec = np.where(lab, 0.25, P.spec)
        P.pid[lab] = 51
    return P


def draw_can(rng, h):
    kind = rng.choice(["slim", "std", "food"], p=[0.25, 0.5, 0.25])
    asp = {"slim": (0.32, 0.45), "std": (0.48, 0.64), "food": (0.66, 1.05)}[kind]
    w = max(6, int(h * rng.uniform(*asp)))
    P = Part(h, w)
    half = w / 2 - 0.5
    elev = rng.uniform(0.0, 0.3)
    ry = max(0.5, elev * half)
    top = ry + 0.5
    v = (np.arange(h, dtype=np.float32) + 0.5)
    hb = h - ry - 0.5        # bottom row of the bottom ellipse's centre
    vn = (v - top) / max(hb - top, 1)
    taper = 1 - 0.1 * np.clip(1 - vn / 0.07, 0, 1) if kind != "food" else np.ones_like(vn)
    R = np.where((v >= top) & (v <= hb), half * taper, 0).astype(np.float32)
    metal = fam_color(rng, "metal")
    X = np.arange(w, dtype=np.float32)[None, :] + 0.5 - w / 2
    # body, with bottom ellipse half added
    xs, m = revolve(P, rng, R, vn, 0, w, metal, spec=1.0)
    bm = poly_mask(h, w, [0.5, hb - ry, w - 0.5, hb + ry], "ellipse")
    bm = bm * ((np.arange(h)[:, None] + 0.5) >= hb - 0.5)
    P.put(bm, metal, np.broadcast_to(np.array([0, 0.4, 0.9], np.float32), (h, w, 3)), 0.8)
    xs = np.clip(X / max(half, 1), -1, 1) * np.ones((h, 1), np.float32)
    tu, tv = wrap_coords(P, xs, np.clip(vn, 0, 1), rng.random())
    body = (P.a > 0.5) & (P.pid > 0)
    lab_lo, lab_hi = (0.06, 0.94) if kind != "food" else (rng.uniform(0.05, 0.15), rng.uniform(0.85, 0.95))
    if rng.random() < 0.9:
        lab = body & (tv > lab_lo) & (tv < lab_hi)
        tex = print_tex(rng, tu, (tv - lab_lo) / (lab_hi - lab_lo), fam_color(rng, "any"), fam_color(rng, "any"))
        if kind == "food" and rng.random() < 0.5:   # ribs
            tex = tex * (0.85 + 0.15 * (np.sin(tv * rng.uniform(40, 80)) > 0))[..., None]
        P.col = np.where(lab[..., None], tex, P.col)
        P.spec = np.where(lab, rng.uniform(0.3, 1.0), P.spec)
        P.pid[lab] = 40
    # rims
    rim = body & ((tv < 0.05) | (tv > 0.96))
    P.col = np.where(rim[..., None], metal * 1.1, P.col)
    # lid ellipse
    lid = fam_color(rng, "metal")
    ellipse_cap(P, w / 2, top, half * (0.9 if kind != "food" else 1.0), ry, lid, 0.6)
    if ry > 2:
        ellipse_cap(P, w / 2, top, half * 0.75, ry * 0.72, lid * 0.8, 0.4)
        if kind != "food" and rng.random() < 0.8:   # ring pull
            ellipse_cap(P, w / 2 + half * 0.2, top, half * 0.2, ry * 0.25, lid * 0.6, 0.5)
    return P


def draw_cup(rng, h):
    kind = rng.choice(["mug", "tumbler", "paper", "glass", "stem", "teacup"],
                      p=[0.3, 0.15, 0.18, 0.14, 0.1, 0.13])
    handle = kind in ("mug", "teacup") or (kind == "tumbler" and rng.random() < 0.2)
    asp = {"mug": (0.75, 1.05), "tumbler": (0.6, 0.85), "paper": (0.6, 0.78), "glass": (0.55, 0.78),
           "stem": (0.45, 0.62), "teacup": (1.2, 1.6)}[kind]
    wb = max(6, int(h * rng.uniform(*asp)))
    hw = int(wb * rng.uniform(0.22, 0.38)) if handle else 0
    w = wb + hw
    P = Part(h, w)
    half = wb / 2 - 0.5
    elev = rng.uniform(0.05, 0.35)
    ry = max(0.8, elev * half)
    top = ry + 0.5
    rows = np.arange(h, dtype=np.float32) + 0.5
    bottom = h - 0.5 - (ry * 0.8 if kind not in ("stem",) else 0)
    vn = np.clip((rows - top) / max(bottom - top, 1), 0, 1)
    inside = (rows >= top) & (rows <= bottom)
    if kind == "mug":
        prof = 1 - rng.uniform(0, 0.08) * vn
    elif kind in ("tumbler", "glass"):
        prof = 1 - rng.uniform(0.1, 0.3) * vn
    elif kind == "paper":
        prof = 1 - rng.uniform(0.2, 0.32) * vn
    elif kind == "teacup":
        prof = np.sqrt(np.clip(1 - (vn * 0.95) ** 2, 0, 1)) * 0.7 + 0.3 * (1 - vn)
        prof = np.maximum(prof, 0.35)
    else:  # stem glass: bowl, stem, foot
        bowl_end = rng.uniform(0.45, 0.6)
        foot = 0.94
        vb = np.clip(vn / bowl_end, 0, 1)
        prof = np.where(vn < bowl_end, np.sqrt(np.clip(1 - vb ** 2.2, 0, 1)) * 0.95 + 0.05,
                        np.where(vn < foot, 0.06, 0.75))
    bot = np.clip((bottom - rows) / max(2.0, 0.04 * h), 0, 1) ** 0.5
    R = np.where(inside, prof * half * np.maximum(bot, 0.85), 0).astype(np.float32)
    glassy = kind in ("glass", "stem") or (kind == "tumbler" and rng.random() < 0.5)
    fam = "white" if kind in ("paper", "teacup") and rng.random() < 0.6 else "any"
    body = hsv(rng.uniform(0.45, 0.6), rng.uniform(0, 0.2), rng.uniform(0.75, 0.95)) if glassy \
        else fam_color(rng, fam)
    xs, m = revolve(P, rng, R, vn, 0, wb, body, spec=0.9 if glassy else 0.5,
                    op=rng.uniform(0.35, 0.6) if glassy else 1.0, glass=glassy)
    bm = poly_mask(h, w, [wb / 2 - R[int(min(h - 1, bottom - 1))], bottom - ry * 0.8,
                          wb / 2 + R[int(min(h - 1, bottom - 1))], bottom + ry * 0.8], "ellipse")
    bm = bm * (rows[:, None] >= bottom - 0.5) * (np.arange(w)[None, :] < wb)
    P.put(bm, P.col[int(min(h - 1, bottom - 1)), int(wb / 2)],
          np.broadcast_to(np.array([0, 0.4, 0.9], np.float32), (h, w, 3)), 0.5,
          0.5 if glassy else 1.0)
    tu, tv = wrap_coords(P, xs, vn, rng.random())
    if glassy and rng.random() < 0.6:
        lv = rng.uniform(0.25, 0.6) * (0.5 if kind == "stem" else 1.0)
        liq = (vn[:, None] > lv) & (m > 0.5) & (R[:, None] > half * 0.3)
        P.col = np.where(liq[..., None], fam_color(rng, "any"), P.col)
        P.op = np.where(liq, rng.uniform(0.55, 0.9), P.op)
    elif not glassy and rng.random() < 0.75:
        if kind == "paper":
            a, b = rng.uniform(0.25, 0.4), rng.uniform(0.6, 0.8)
        else:
            a, b = rng.uniform(0.05, 0.35), rng.uniform(0.55, 0.95)
        lab = (tv > a) & (tv < b) & (m > 0.5)
        tex = print_tex(rng, tu, (tv - a) / (b - a), fam_color(rng, "any"), fam_color(rng, "any"))
        P.col = np.where(lab[..., None], tex, P.col)
        P.pid[lab] = 30
    # handle: a ring on the right
    if handle:
        hx0 = wb - 0.3 * hw - 2
        hy0, hy1 = top + (bottom - top) * rng.uniform(0.08, 0.2), top + (bottom - top) * rng.uniform(0.6, 0.85)
        if kind == "teacup":
            hy0, hy1 = top + (bottom - top) * 0.05, top + (bottom - top) * 0.55
        t = max(1.5, hw * rng.uniform(0.25, 0.45))
        hm = poly_mask(h, w, [hx0 - hw * 0.6, hy0, w - 1, hy1], "arc", a0=-90, a1=90, t=t)
        hm = hm * (np.arange(w)[None, :] > wb * 0.5 + half * 0.7)
        hm = np.where(m > 0.5, 0, hm)
        P.put(hm, P.col[int(h * 0.5), int(wb * 0.3)] if rng.random() < 0.8 else fam_color(rng, "any"),
              height_normals(hm, t * 0.5), 0.5, 1.0 if not glassy else 0.5)
    # opening: rim and dark inside (paper cups get a lid)
    rtop = R[int(min(h - 1, top + 1))]
    if kind == "paper" and rng.random() < 0.7:
        lidc = fam_color(rng, "white") if rng.random() < 0.5 else fam_color(rng, "dark")
        lt = max(2.0, h * rng.uniform(0.06, 0.1))
        lm = poly_mask(h, w, [wb / 2 - rtop * 1.04, top - ry, wb / 2 + rtop * 1.04, top + lt], "rrect",
                       r=min(lt, rtop) * 0.5)
        P.put(lm, lidc, height_normals(lm, lt * 0.3), 0.4)
    else:
        ellipse_cap(P, wb / 2, top, rtop, ry, P.col[int(min(h - 1, top + 2)), int(wb / 2)], 0.3,
                    0.6 if glassy else 1.0)
        inner = body * 0.35 if not glassy else body * 0.8
        if ry > 1.2:
            ellipse_cap(P, wb / 2, top, rtop * 0.9, ry * 0.8, inner, 0.1, 0.5 if glassy else 1.0)
    # teacup saucer
    if kind == "teacup" and rng.random() < 0.5:
        sm_ = poly_mask(h, w, [0.5, h - ry * 1.4 - 1, min(w - 0.5, wb * 1.1), h - 0.5], "ellipse")
        P.put(np.where(P.a > 0.5, 0, sm_), body, None, 0.4)
    return P


def draw_box(rng, h):
    """A cuboid at a random yaw and pitch (visible faces, weak perspective)."""
    dims = np.array([rng.uniform(0.4, 1.6), 1.0, rng.uniform(0.15, 1.2)], np.float32)
    if rng.random() < 0.3:
        dims[1] = rng.uniform(0.3, 0.7)           # flat-ish boxes
    yaw = rng.uniform(-1.2, 1.2) if rng.random() < 0.92 else rng.uniform(-0.1, 0.1)
    pitch = rng.uniform(0.05, 0.6) if rng.random() < 0.9 else rng.uniform(0.0, 0.05)
    cy_, sy_ = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    Ry = np.array([[cy_, 0, sy_], [0, 1, 0], [-sy_, 0, cy_]], np.float32)
    Rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]], np.float32)
    Rm = Rx @ Ry
    c = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], np.float32) * dims / 2
    pc = c @ Rm.T
    f = rng.uniform(3, 12)
    s = f / (f - pc[:, 2])
    xy = np.stack([pc[:, 0] * s, -pc[:, 1] * s], 1)
    mn, mx = xy.min(0), xy.max(0)
    scale = (h - 1) / max(mx[1] - mn[1], 1e-3)
    w = int(math.ceil((mx[0] - mn[0]) * scale)) + 1
    if w > 3 * h:
        w = 3 * h
        scale = (w - 1) / (mx[0] - mn[0])
    w = max(6, w)
    xy = (xy - mn) * scale + 0.5
    P = Part(h, w)
    faces = [  # corner indices (ordered around), normal, texture kind
        ((1, 3, 7, 5), (0, 0, 1), "front"), ((0, 4, 6, 2), (0, 0, -1), "front"),
        ((4, 5, 7, 6), (1, 0, 0), "side"), ((0, 2, 3, 1), (-1, 0, 0), "side"),
        ((2, 6, 7, 3), (0, 1, 0), "top"), ((0, 1, 5, 4), (0, -1, 0), "top")]
    cardboard = rng.random() < 0.35
    base = fam_color(rng, "cardboard") if cardboard else fam_color(rng, "any")
    c2 = fam_color(rng, "any")
    pkind = int(rng.integers(7))
    for idx, nrm, fk in faces:
        nn_ = Rm @ np.array(nrm, np.float32)
        if nn_[2] <= 0.02:
            continue
        q = xy[list(idx)]
        # texture coordinates: the face's corners map to (0,0) (1,0) (1,1) (0,1)
        th = 64
        tu, tv = np.meshgrid((np.arange(th) + 0.5) / th, (np.arange(th) + 0.5) / th)
        if fk == "front" or (fk == "side" and rng.random() < 0.5):
            tex = print_tex(rng, tu, tv, base, c2, None if fk == "front" else pkind)
        elif fk == "top" and cardboard:
            tex = np.broadcast_to(base, (th, th, 3)).copy()
            tex[np.abs(tv - 0.5) < 0.03] = base * 0.75       # flap seam
            if rng.random() < 0.5:
                tex[np.abs(tu - 0.5) < 0.12] = fam_color(rng, "any") * 0.5 + 0.4  # tape
        else:
            tex = print_tex(rng, tu, tv, base, c2, 0 if rng.random() < 0.6 else 6)
        timg = Image.fromarray((np.clip(tex, 0, 1) * 255).astype(np.uint8))
        # homography from patch pixels to texture pixels
        src = np.array([[0, 0], [th, 0], [th, th], [0, th]], np.float64)
        dst = q.astype(np.float64)
        A, bv = [], []
        for (x, y), (X, Y) in zip(dst, src):
            A.append([x, y, 1, 0, 0, 0, -X * x, -X * y]); bv.append(X)
            A.append([0, 0, 0, x, y, 1, -Y * x, -Y * y]); bv.append(Y)
        try:
            co = np.linalg.solve(np.array(A), np.array(bv))
        except np.linalg.LinAlgError:
            continue
        warped = timg.transform((w, h), Image.PERSPECTIVE, tuple(co), Image.BILINEAR)
        fm = poly_mask(h, w, [tuple(p) for p in q])
        col = np.asarray(warped, np.float32) / 255.0
        nv = np.array([nn_[0], -nn_[1], nn_[2]], np.float32)
        P.put(fm, col, np.broadcast_to(nv, (h, w, 3)), 0.15 if cardboard else 0.5)
    return P


def draw_bag(rng, h):
    kind = rng.choice(["shopping", "handbag", "backpack", "tote"], p=[0.35, 0.3, 0.2, 0.15])
    asp = {"shopping": (0.65, 1.05), "handbag": (0.9, 1.5), "backpack": (0.6, 0.85), "tote": (0.7, 1.0)}[kind]
    w = max(8, int(h * rng.uniform(*asp)))
    P = Part(h, w)
    mat = rng.choice(["paper", "plastic", "fabric", "leather"])
    body = fam_color(rng, "cardboard" if mat == "paper" and rng.random() < 0.5 else
                     ("leather" if mat == "leather" else "any"))
    c2 = fam_color(rng, "any")
    Y, X = np.mgrid[0:h, 0:w].astype(np.float32)
    specv = {"paper": 0.1, "plastic": 0.6, "fabric": 0.05, "leather": 0.5}[mat]
    if kind in ("shopping", "tote"):
        ht = h * rng.uniform(0.25, 0.4)          # handle height
        gus = w * rng.uniform(0.0, 0.18)         # side gusset width
        bw = w - gus - 1
        taper = bw * rng.uniform(0, 0.05)
        bm = poly_mask(h, w, [(taper, ht), (bw - taper, ht), (bw, h - 1), (0, h - 1)])
        tex = print_tex(rng, X / max(bw, 1), (Y - ht) / max(h - ht, 1), body, c2)
        tex = tex * (1 - 0.08 * (np.abs(X - bw * 0.5) < 1))[..., None] if mat == "paper" else tex
        if gus > 1:
            gm = poly_mask(h, w, [(bw - taper, ht), (w - 1, ht + gus * 0.3), (w - 1, h - 1 - gus * 0.2), (bw, h - 1)])
            P.put(gm, body * 0.7, np.broadcast_to(np.array([0.6, 0, 0.8], np.float32), (h, w, 3)), specv)
        P.put(bm, tex, height_normals(bm, min(h, w) * 0.04, 0.5), specv)
        fold = bm * (Y < ht + h * 0.06)
        P.col = np.where((fold > 0.5)[..., None], P.col * 0.85, P.col)
        hcol = c2 * 0.8 if rng.random() < 0.6 else body * 0.6
        t = max(1.2, h * rng.uniform(0.015, 0.04))
        if kind == "shopping":
            hx = bw * rng.uniform(0.18, 0.3)
            for cx in ((bw * 0.5),) if rng.random() < 0.35 else (bw * 0.5 - hx * 0.15, bw * 0.5 + hx * 0.15):
                hm = poly_mask(h, w, [cx - hx, 0.5 + t / 2, cx + hx, ht * 2 - t], "arc", a0=180, a1=360, t=t)
                hm = hm * (Y < ht + t)
                P.put(np.where(P.a > 0.5, 0, hm), hcol, height_normals(hm, t * 0.5), 0.3)
        else:
            for cx in (bw * 0.3, bw * 0.7):
                hm = poly_mask(h, w, [cx - bw * 0.22, 0.5 + t / 2, cx + bw * 0.22, ht * 2.2], "arc", a0=180, a1=360, t=t * 1.5)
                hm = hm * (Y < ht + t)
                P.put(np.where(P.a > 0.5, 0, hm), hcol, height_normals(hm, t * 0.5), 0.3)
    elif kind == "handbag":
        ht = h * rng.uniform(0.25, 0.45)
        top_in = w * rng.uniform(0.05, 0.2)
        r = min(w, h) * rng.uniform(0.05, 0.2)
        pts = [(top_in, ht), (w - 1 - top_in, ht), (w - 1, h - 1 - r), (w - 1 - r, h - 1),
               (r, h - 1), (0, h - 1 - r)]
        bm = poly_mask(h, w, pts)
        tex = print_tex(rng, X / w, (Y - ht) / max(h - ht, 1), body, c2,
                        0 if rng.random() < 0.55 else None)
        P.put(bm, tex, height_normals(bm, min(h, w) * 0.08, 0.8), specv)
        if rng.random() < 0.6:   # flap
            fy = ht + (h - ht) * rng.uniform(0.3, 0.55)
            fm = poly_mask(h, w, [(top_in, ht), (w - 1 - top_in, ht), (w - 1 - top_in * 0.6, fy),
                                  (w * 0.5, fy + (h - ht) * rng.uniform(0, 0.15)), (top_in * 0.6, fy)])
            P.put(fm, P.col[int(min(h - 1, ht + 2)), w // 2] * 0.85, height_normals(fm, min(h, w) * 0.04), specv)
            cm = poly_mask(h, w, [w * 0.47, fy - 2, w * 0.53, fy + 3], "ellipse")
            P.put(cm, fam_color(rng, "metal"), None, 1.0)
        t = max(1.5, h * rng.uniform(0.025, 0.06))
        hm = poly_mask(h, w, [w * rng.uniform(0.15, 0.3), 0.5 + t / 2, w * rng.uniform(0.7, 0.85), ht * 2], "arc",
                       a0=180, a1=360, t=t)
        hm = hm * (Y < ht + t)
        P.put(np.where(P.a > 0.5, 0, hm), body * 0.8, height_normals(hm, t * 0.5), specv)
    else:  # backpack
        ht = h * rng.uniform(0.08, 0.15)
        strap = w * rng.uniform(0.06, 0.12)
        bm = poly_mask(h, w, [strap, ht, w - 1 - strap, h - 1], "rrect", r=min(w, h) * rng.uniform(0.2, 0.35))
        P.put(bm, body, height_normals(bm, min(h, w) * 0.1, 0.8), specv)
        for sx in (0, w - 1 - strap * 1.3):
            sm = poly_mask(h, w, [sx, h * 0.25, sx + strap * 1.3, h * 0.9], "rrect", r=strap * 0.6)
            P.put(np.where(P.a > 0.5, 0, sm), body * 0.6, height_normals(sm, strap * 0.4), specv)
        py = h * rng.uniform(0.45, 0.6)
        pm = poly_mask(h, w, [strap + w * 0.1, py, w - 1 - strap - w * 0.1, h * 0.93], "rrect", r=w * 0.1)
        pc = c2 if rng.random() < 0.5 else body * 0.85
        P.put(pm, print_tex(rng, X / w, (Y - py) / h, pc, fam_color(rng, "any"), 0 if rng.random() < .6 else None),
              height_normals(pm, w * 0.05), specv)
        zl = poly_mask(h, w, [strap + w * 0.12, ht + h * 0.08, w - 1 - strap - w * 0.12, h * 0.7], "arc",
                       a0=180, a1=360, t=max(1, h * 0.01))
        P.col = np.where((zl > 0.5)[..., None], P.col * 0.5, P.col)
        t = max(1.2, h * 0.025)
        hm = poly_mask(h, w, [w * 0.4, 0.5, w * 0.6, ht * 2.2], "arc", a0=180, a1=360, t=t)
        P.put(np.where(P.a > 0.5, 0, hm * (Y < ht + t)), body * 0.7, None, specv)
    return P


def draw_shoe(rng, h):
    kind = rng.choice(["sneaker", "boot", "heel", "loafer"], p=[0.38, 0.22, 0.2, 0.2])
    asp = {"sneaker": (1.9, 2.8), "boot": (0.8, 1.3), "heel": (1.2, 1.7), "loafer": (2.1, 2.8)}[kind]
    w = max(10, int(h * rng.uniform(*asp)))
    P = Part(h, w)
    j = lambda a: a + rng.uniform(-0.03, 0.03)
    body = fam_color(rng, "leather" if kind in ("boot", "heel", "loafer") and rng.random() < 0.6 else "any")
    c2 = fam_color(rng, "any")
    Y, X = np.mgrid[0:h, 0:w].astype(np.float32)
    soleh = {"sneaker": rng.uniform(0.15, 0.28), "boot": rng.uniform(0.06, 0.12),
             "heel": rng.uniform(0.03, 0.06), "loafer": rng.uniform(0.08, 0.15)}[kind]
    if kind == "sneaker":
        up = [(0.0, 0.6), (0.01, j(0.38)), (0.04, j(0.2)), (0.1, j(0.17)), (0.2, j(0.3)),
              (0.3, j(0.24)), (0.36, j(0.06)), (0.42, j(0.08)), (0.5, j(0.2)), (0.7, j(0.36)),
              (0.86, j(0.46)), (0.94, j(0.53)), (0.985, j(0.63)), (1.0, 0.75), (0.99, 1 - soleh),
              (0.02, 1 - soleh)]
    elif kind == "boot":
        up = [(0.05, 0.0), (0.48, 0.0), (0.5, j(0.45)), (0.75, j(0.58)), (0.93, j(0.68)),
              (1.0, 0.85), (0.98, 1 - soleh), (0.03, 1 - soleh), (0.0, 0.6)]
    elif kind == "heel":
        up = [(0.0, j(0.1)), (0.12, j(0.05)), (0.2, j(0.12)), (0.55, j(0.55)), (0.78, j(0.68)),
              (0.97, j(0.8)), (1.0, 0.92), (0.62, 0.96), (0.3, j(0.55)), (0.05, j(0.38))]
    else:
        up = [(0.0, 0.7), (0.01, j(0.45)), (0.04, j(0.3)), (0.12, j(0.36)), (0.32, j(0.42)),
              (0.45, j(0.3)), (0.65, j(0.34)), (0.84, j(0.44)), (0.94, j(0.53)), (0.99, j(0.65)),
              (1.0, 0.78), (0.98, 1 - soleh), (0.02, 1 - soleh)]
    um = poly_mask(h, w, [(x * (w - 1), y * (h - 1)) for x, y in up])
    tex = print_tex(rng, X / w, Y / h, body, c2, 0 if rng.random() < 0.6 else None)
    specv = 0.6 if kind in ("heel", "loafer") else 0.3
    P.put(um, tex, height_normals(um, min(h, w) * 0.08, 0.8), specv)
    solec = fam_color(rng, "white") if kind == "sneaker" and rng.random() < 0.7 else fam_color(rng, "dark")
    if kind == "heel":
        sm = poly_mask(h, w, [(0.6 * w, 0.93 * h), (w - 1, 0.9 * h), (w - 1, h - 1), (0.6 * w, h - 1)])
        P.put(sm, solec, None, 0.3)
        hx = rng.uniform(0.02, 0.1)
        hm = poly_mask(h, w, [(hx * w, 0.35 * h), (0.14 * w, 0.42 * h), (0.12 * w, h - 1), (0.09 * w, h - 1)])
        P.put(hm, solec if rng.random() < .5 else body, None, 0.5)
    else:
        toe_up = soleh * rng.uniform(0.2, 0.6)
        sp = [(0.0, 1 - soleh - 0.02), (0.99, 1 - soleh - 0.04), (1.0, 1 - toe_up), (0.92, 1.0), (0.02, 1.0)]
        sm = poly_mask(h, w, [(x * (w - 1), y * (h - 1)) for x, y in sp])
        P.put(sm, solec, height_normals(sm, h * soleh * 0.3), 0.2)
        if kind == "boot" and rng.random() < 0.6:   # block heel
            bh = poly_mask(h, w, [(0.02 * w, (1 - soleh * 2.2) * h), (0.25 * w, (1 - soleh * 2.2) * h),
                                  (0.24 * w, h - 1), (0.03 * w, h - 1)])
            P.put(bh, solec * 0.8, None, 0.2)
        if kind == "sneaker" and rng.random() < 0.8:   # side stripe
            a = rng.uniform(0.3, 0.5)
            st = poly_mask(h, w, [(a * w, 0.75 * h), (0.62 * w, 0.32 * h), (0.7 * w, 0.38 * h),
                                  ((a + 0.12) * w, 0.75 * h)])
            P.put(st * (um > 0.5), c2 if rng.random() < .5 else fam_color(rng, "white"), None, 0.3)
    if kind in ("sneaker", "boot") and rng.random() < 0.8:   # laces
        n = int(rng.integers(3, 7))
        for i in range(n):
            t = (i + 0.5) / n
            if kind == "sneaker":
                x, y = (0.38 + 0.3 * t) * w, (0.12 + 0.3 * t) * h
            else:
                x, y = (0.48 + 0.06 * t) * w, (0.05 + 0.45 * t) * h
            lm = poly_mask(h, w, [(x - 0.03 * w, y - 0.02 * h), (x + 0.04 * w, y + 0.04 * h)], "line",
                           t=max(1, h * 0.03))
            P.put(lm * (um > 0.5), fam_color(rng, "white") if i == 0 or rng.random() < 0 else P.col[int(y), int(x)] * 0.4 + 0.5, None, 0.1)
    if kind != "boot":   # opening
        lo, hi = {"sneaker": (0.03, 0.34), "heel": (0.0, 0.56), "loafer": (0.03, 0.46)}[kind]
        top = [(x, y) for x, y in up if lo <= x <= hi and y < 0.7]
        dy = rng.uniform(0.05, 0.1)
        om = poly_mask(h, w, [(x * (w - 1), y * (h - 1)) for x, y in top] +
                       [(x * (w - 1), (y + dy) * (h - 1)) for x, y in top[::-1]])
        P.col = np.where(((om > 0.5) & (P.a > 0.5))[..., None], P.col * 0.35, P.col)
    return P


DRAWERS = [draw_bottle, draw_can, draw_box, draw_cup, draw_bag, draw_shoe]


def edges(m, width=1):
    e = np.zeros_like(m)
    for _ in range(width):
        p = np.pad(m, 1, mode="constant", constant_values=False)
        er = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
        e |= m & ~er
        m = er
    return e


def finish(rng, P, style, outline):
    """Light and style a Part; returns RGBA float (h,w,4)."""
    lz = rng.uniform(0.4, 1.0)
    la = rng.uniform(0, 2 * math.pi)
    L = np.array([math.cos(la) * math.sqrt(1 - lz * lz), math.sin(la) * math.sqrt(1 - lz * lz), lz], np.float32)
    n = P.n
    diff = np.clip(n @ L, 0, 1)
    Hh = L + np.array([0, 0, 1], np.float32)
    Hh = Hh / np.linalg.norm(Hh)
    sp = np.clip(n @ Hh, 0, 1) ** rng.uniform(15, 60) * P.spec
    col = P.col
    amb = rng.uniform(0.25, 0.5)
    if style == "photo":
        rgb = col * (amb + (1 - amb) * diff)[..., None] + sp[..., None] * rng.uniform(0.5, 1.0)
    elif style == "flat":
        rgb = col * rng.uniform(0.9, 1.05) * (1 - 0.15 * (diff < 0.3))[..., None]
    elif style == "toon":
        q = np.where(diff > 0.55, 1.0, np.where(diff > 0.2, 0.72, 0.5))
        rgb = col * q[..., None] + (sp > 0.35 * np.maximum(P.spec, 1e-3))[..., None] * 0.6 * (P.spec > 0.2)[..., None]
    else:  # sketch
        paper = rng.uniform(0.85, 1.0)
        k = rng.uniform(0.5, 0.85)
        rgb = col * (1 - k) + paper * k
        Y, X = np.mgrid[0:P.h, 0:P.w]
        per = rng.uniform(3, 6)
        hatch = (np.sin((X + Y) * 2 * math.pi / per) > 0.5) & (diff < rng.uniform(0.35, 0.6))
        rgb = np.where(hatch[..., None], rgb * 0.55, rgb)
    m = P.a > 0.5
    if outline:
        oc = np.float32(rng.uniform(0, 0.25))
        wd = 1 if min(P.h, P.w) < 60 or rng.random() < 0.6 else 2
        e = edges(m, wd)
        if style in ("toon", "sketch") or rng.random() < 0.5:   # part boundaries
            pid = P.pid
            inner = np.zeros_like(m)
            inner[:-1] |= pid[:-1] != pid[1:]
            inner[:, :-1] |= pid[:, :-1] != pid[:, 1:]
            e |= inner & m
        rgb = np.where(e[..., None], oc, rgb)
    a = P.a * np.where(m, P.op, 1.0)
    return np.concatenate([np.clip(rgb, 0, 1), a[..., None]], -1)


def transform_patch(rng, rgba, persp=0.35, scale=1.0):
    """Mirror, rotate and perspective-warp an RGBA float patch (PIL)."""
    im = Image.fromarray((np.clip(rgba, 0, 1) * 255 + 0.5).astype(np.uint8), "RGBA")
    if scale != 1.0:   # large things are drawn smaller and enlarged (speed)
        im = im.resize((max(2, round(im.size[0] * scale)), max(2, round(im.size[1] * scale))),
                       Image.BILINEAR)
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    r = rng.random()
    ang = 0.0 if r < 0.45 else rng.normal(0, 7) if r < 0.8 else \
        (rng.uniform(-40, 40) if r < 0.96 else rng.choice([-90, 90]) + rng.normal(0, 5))
    if abs(ang) > 1.0:
        im = im.rotate(float(ang), resample=Image.BILINEAR, expand=True)
    if rng.random() < persp:
        w, h = im.size
        j = rng.uniform(0, 0.15) * np.array([w, h])
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) + rng.uniform(-1, 1, (4, 2)) * j
        dst -= dst.min(0)
        ow, oh = int(math.ceil(dst[:, 0].max())) + 1, int(math.ceil(dst[:, 1].max())) + 1
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        A, bv = [], []
        for (x, y), (X, Y) in zip(dst, src):
            A.append([x, y, 1, 0, 0, 0, -X * x, -X * y]); bv.append(X)
            A.append([0, 0, 0, x, y, 1, -Y * x, -Y * y]); bv.append(Y)
        co = np.linalg.solve(np.array(A), np.array(bv))
        im = im.transform((ow, oh), Image.PERSPECTIVE, tuple(co), Image.BILINEAR)
    a = np.asarray(im, np.float32) / 255.0
    m = a[..., 3] >= 0.5
    if not m.any():
        return None
    rows, cols = np.nonzero(m.any(1))[0], np.nonzero(m.any(0))[0]
    return a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def paste(img, rgba, x0, y0):
    """Alpha-blend a patch; returns (box, opaque mask in frame coords) or None."""
    H, W = img.shape[:2]
    h, w = rgba.shape[:2]
    ys, xs = max(0, -y0), max(0, -x0)
    ye, xe = min(h, H - y0), min(w, W - x0)
    if ye <= ys or xe <= xs:
        return None
    p = rgba[ys:ye, xs:xe]
    reg = img[y0 + ys:y0 + ye, x0 + xs:x0 + xe]
    a = p[..., 3:4]
    reg[:] = reg * (1 - a) + p[..., :3] * a
    cov = p[..., 3] >= 0.5
    if not cov.any():
        return None
    rows, cols = np.nonzero(cov.any(1))[0], np.nonzero(cov.any(0))[0]
    box = (x0 + xs + cols[0], y0 + ys + rows[0], x0 + xs + cols[-1] + 1, y0 + ys + rows[-1] + 1)
    return box, (y0 + ys, x0 + xs, cov)


def rich_background(rng, h, w):
    kind = rng.choice(["old", "wood", "shelf", "tiles", "fabric", "marble", "bokeh", "concrete", "studio"],
                      p=[0.08, 0.14, 0.14, 0.1, 0.1, 0.1, 0.14, 0.08, 0.12])
    Y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    X = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    c1, c2 = rand_color(rng, 0.0), rand_color(rng, 0.0)
    if kind == "old":
        return render_background(rng, h, w)
    if kind == "wood":
        base = hsv(rng.uniform(0.04, 0.12), rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.85))
        vert = rng.random() < 0.5
        a, b = (X, Y) if vert else (Y, X)
        n = smooth_noise(rng, h, w, 4, 2)
        planks = int(rng.integers(2, 8))
        pk = np.floor(a * planks)
        ring = np.sin((a * rng.uniform(20, 60) + n * rng.uniform(3, 8) + pk * 1.7) * math.pi * 2) * 0.5 + 0.5
        grain = smooth_noise(rng, h, w, 40) * 0.3
        tone = 0.75 + 0.25 * ring - grain + 0.1 * np.sin(pk * 3.1)
        img = base * tone[..., None]
        seam = np.abs(a * planks - np.round(a * planks)) < 0.004 * planks
        img[np.broadcast_to(seam, (h, w))] *= 0.45
    elif kind == "shelf":
        wall = c1 * (0.8 + 0.2 * smooth_noise(rng, h, w, 3))[..., None]
        img = wall.copy()
        wood = hsv(rng.uniform(0.04, 0.12), rng.uniform(0.1, 0.7), rng.uniform(0.3, 0.95)) if rng.random() < .7 else c2
        y = rng.uniform(0.1, 0.4)
        while y < 1.0:
            th = rng.uniform(0.02, 0.06)
            dp = rng.uniform(0.02, 0.08)
            top = (Y >= y - dp) & (Y < y)
            front = (Y >= y) & (Y < y + th)
            shadow = (Y >= y + th) & (Y < y + th + rng.uniform(0.02, 0.08))
            img = np.where(np.broadcast_to(top, (h, w))[..., None], wood * 1.1, img)
            img = np.where(np.broadcast_to(front, (h, w))[..., None], wood * 0.8, img)
            img = np.where(np.broadcast_to(shadow, (h, w))[..., None], img * 0.65, img)
            y += rng.uniform(0.25, 0.55)
        if rng.random() < 0.5:
            for xu in rng.uniform(0, 1, int(rng.integers(1, 3))):
                m = np.broadcast_to(np.abs(X - xu) < 0.02, (h, w))
                img[m] = wood * 0.7
    elif kind == "tiles":
        s = rng.uniform(0.06, 0.25)
        g = rng.uniform(0.003, 0.012)
        ax, ay = X * w / h, Y
        if rng.random() < 0.3:
            ay = ay + 0.3 * ax
        fx, fy = ax / s - np.floor(ax / s), ay / s - np.floor(ay / s)
        grout = (fx < g / s) | (fy < g / s)
        ti = (np.floor(ax / s) * 7 + np.floor(ay / s) * 13) % 5
        img = c1 * (0.9 + 0.05 * ti)[..., None] * np.ones((h, w, 1), np.float32)
        img = np.where(np.broadcast_to(grout, (h, w))[..., None], c2 * 0.6 + 0.3, img)
    elif kind == "fabric":
        f = rng.uniform(80, 200)
        weave = np.sin(X * f) * np.sin(Y * f * h / w) * 0.5 + 0.5
        img = c1 * (0.8 + 0.2 * weave)[..., None]
        if rng.random() < 0.6:  # plaid
            fp = rng.uniform(3, 12)
            pl = (np.sin(X * fp * 6.28) > 0.6) | (np.sin(Y * fp * 6.28) > 0.6)
            img = np.where(pl[..., None], img * 0.6 + c2 * 0.4, img)
        img = img * (0.85 + 0.3 * smooth_noise(rng, h, w, 3))[..., None]
    elif kind == "marble":
        n = smooth_noise(rng, h, w, 3, 4)
        a = rng.uniform(0, math.pi)
        vein = np.abs(np.sin((np.cos(a) * X + np.sin(a) * Y) * rng.uniform(3, 10) + n * rng.uniform(6, 12)))
        vein = vein ** rng.uniform(0.2, 0.5)
        base = c1 * 0.3 + 0.7 * (hsv(0, 0, rng.uniform(0.7, 0.95)) if rng.random() < .7 else c1)
        img = base * (0.7 + 0.3 * vein)[..., None] + c2[None, None] * 0.1 * (1 - vein)[..., None]
    elif kind == "bokeh":
        a = rng.uniform(0, 2 * math.pi)
        g = np.clip(0.5 + (np.cos(a) * (X - 0.5) + np.sin(a) * (Y - 0.5)), 0, 1)
        img = (c1 * (1 - g)[..., None] + c2 * g[..., None]) * rng.uniform(0.4, 1.0)
        blobs = Image.new("RGB", (w, h))
        d = ImageDraw.Draw(blobs)
        for _ in range(int(rng.integers(5, 30))):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, 30)
            cc = tuple(int(v) for v in rand_color(rng, 0.0) * rng.uniform(60, 200))
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=cc)
        blobs = blobs.filter(ImageFilter.GaussianBlur(rng.uniform(2, 8)))
        img = img + np.asarray(blobs, np.float32) / 255.0
    elif kind == "concrete":
        n = smooth_noise(rng, h, w, 6, 4)
        img = (c1 * 0.3 + 0.5 * rng.uniform(0.6, 1.2)) * (0.75 + 0.5 * n)[..., None]
        sp = rng.random((h, w)) < 0.02
        img[sp] *= 0.6
    else:  # studio: wall and floor with a soft horizon
        hz = rng.uniform(0.3, 0.8)
        t = np.clip((Y - hz) / rng.uniform(0.02, 0.2) + 0.5, 0, 1)
        img = c1 * (1 - t)[..., None] + c2 * t[..., None] * np.ones((1, w, 1), np.float32)
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.6)
        img = img * (1.1 - 0.5 * np.sqrt((X - cx) ** 2 + (Y - cy) ** 2))[..., None]
    return np.clip(np.broadcast_to(img, (h, w, 3)).astype(np.float32), 0, 1).copy()


def draw_distractor(rng, s):
    """A patch (RGBA) of something that is none of the six kinds."""
    kind = rng.choice(["sphere", "book", "plant", "poly", "ring", "card", "stick", "blob"])
    c = fam_color(rng, "any")
    if kind == "book":
        h, w = int(s), max(4, int(s * rng.uniform(0.15, 0.8)))
    elif kind == "stick":
        h, w = int(s), max(3, int(s * rng.uniform(0.04, 0.12)))
    elif kind == "card":
        h, w = max(4, int(s * rng.uniform(0.5, 0.8))), int(s)
    else:
        h, w = int(s), max(4, int(s * rng.uniform(0.6, 1.4)))
    P = Part(h, w)
    Y, X = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "sphere":
        m = poly_mask(h, w, [0.5, 0.5, w - 0.5, h - 0.5], "ellipse")
        nx, ny = (X + 0.5) / w * 2 - 1, (Y + 0.5) / h * 2 - 1
        nz = np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0, 1))
        P.put(m, c, np.stack([nx, ny, nz], -1), rng.uniform(0, 1))
    elif kind == "book":
        m = np.ones((h, w), np.float32)
        tex = print_tex(rng, X / w, Y / h, c, fam_color(rng, "any"), 6 if rng.random() < .6 else 2)
        P.put(m, tex, None, 0.2)
        n = int(rng.integers(1, 4))
        for i in range(n):  # stacked spines
            y = int(h * (i + 1) / (n + 1))
            P.col[y:y + max(1, h // 40)] *= 0.4
    elif kind == "plant":
        green = hsv(rng.uniform(0.2, 0.4), rng.uniform(0.4, 0.9), rng.uniform(0.25, 0.7))
        for _ in range(int(rng.integers(4, 12))):
            cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.1, 0.9) * h
            a = rng.uniform(0, math.pi)
            L, Wd = rng.uniform(0.2, 0.5) * h, rng.uniform(0.05, 0.15) * h
            pts = [(cx + math.cos(a) * L, cy + math.sin(a) * L), (cx - math.sin(a) * Wd, cy + math.cos(a) * Wd),
                   (cx - math.cos(a) * L, cy - math.sin(a) * L), (cx + math.sin(a) * Wd, cy - math.cos(a) * Wd)]
            m = poly_mask(h, w, pts)
            P.put(m, green * rng.uniform(0.7, 1.2), height_normals(m, Wd * 0.4), 0.3)
    elif kind == "poly":
        k = int(rng.integers(3, 8))
        ang = np.sort(rng.uniform(0, 2 * math.pi, k))
        rr = rng.uniform(0.5, 1.0, k)
        pts = [(w / 2 + math.cos(a) * r * w / 2, h / 2 + math.sin(a) * r * h / 2) for a, r in zip(ang, rr)]
        m = poly_mask(h, w, pts)
        P.put(m, print_tex(rng, X / w, Y / h, c, fam_color(rng, "any")), None, 0.3)
    elif kind == "ring":
        t = max(1.5, min(h, w) * rng.uniform(0.1, 0.3))
        m = poly_mask(h, w, [t / 2, t / 2, w - t / 2, h - t / 2], "arc", a0=0, a1=360, t=t)
        P.put(m, c, height_normals(m, t * 0.4), 0.7)
    elif kind == "card":
        P.put(np.ones((h, w), np.float32), print_tex(rng, X / w, Y / h, c, fam_color(rng, "any")), None, 0.2)
    elif kind == "stick":
        P.put(poly_mask(h, w, [0, 0, w - 1, h - 1], "rrect", r=w / 2), c, None, 0.5)
    else:
        n = smooth_noise(rng, h, w, 3)
        e = ((X / w - 0.5) ** 2 + (Y / h - 0.5) ** 2) * 4
        m = np.clip((1 - e - 0.5 * n) * 4, 0, 1)
        P.put(m, c, height_normals(m, min(h, w) * 0.1), 0.4)
    return finish(rng, P, rng.choice(["photo", "photo", "flat", "toon"]), rng.random() < 0.3)


def camera(rng, img):
    """Lighting, colour cast, gamma, vignette (float); returns float."""
    h, w = img.shape[:2]
    Y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    X = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    if rng.random() < 0.5:   # light direction and falloff
        a = rng.uniform(0, 2 * math.pi)
        k = rng.uniform(0.1, 0.5)
        img = img * (1 + k * (np.cos(a) * X + np.sin(a) * Y))[..., None]
    if rng.random() < 0.25:   # spot light falloff
        cx, cy = rng.uniform(-1, 1, 2)
        img = img * np.clip(1.3 - rng.uniform(0.2, 0.6) * ((X - cx) ** 2 + (Y - cy) ** 2), 0.3, 1.3)[..., None]
    if rng.random() < 0.6:
        img = img * rng.uniform(0.75, 1.25, 3).astype(np.float32)
    if rng.random() < 0.7:
        c = rng.uniform(0.6, 1.3)
        m = img.mean()
        img = (img - m) * c + m + rng.uniform(-0.15, 0.15)
    img = np.clip(img, 0, 1)
    if rng.random() < 0.5:
        img = img ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.35:
        img = img * np.clip(1 - rng.uniform(0.2, 0.7) * (X ** 2 + Y ** 2) / 2, 0, 1)[..., None]
    return img


def camera_u8(rng, u8):
    """Blur, motion blur, low resolution, noise, JPEG on uint8 HxWx3."""
    h, w = u8.shape[:2]
    im = Image.fromarray(u8)
    r = rng.random()
    if r < 0.22:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.5)))
    elif r < 0.34:   # motion blur: average of shifted copies
        k = int(rng.integers(3, 10))
        a = rng.uniform(0, math.pi)
        f = np.asarray(im, np.float32)
        acc = np.zeros_like(f)
        for i in range(k):
            t = i - (k - 1) / 2
            acc += np.roll(f, (int(round(t * math.sin(a))), int(round(t * math.cos(a)))), (0, 1))
        im = Image.fromarray((acc / k + 0.5).astype(np.uint8))
    if rng.random() < 0.25:
        s = rng.uniform(1.5, 4.0)
        im = im.resize((max(8, int(w / s)), max(8, int(h / s))), Image.BILINEAR if rng.random() < .5 else Image.BOX)
        im = im.resize((w, h), Image.BILINEAR if rng.random() < 0.7 else Image.NEAREST)
    if rng.random() < 0.5:
        f = np.asarray(im, np.float32)
        f = f + rng.normal(0, rng.uniform(1, 14), (h, w, 1 if rng.random() < .5 else 3)).astype(np.float32)
        im = Image.fromarray(np.clip(f + 0.5, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=int(rng.integers(10, 90)))
        buf.seek(0)
        im = Image.open(buf).convert("RGB")
    return np.asarray(im, np.uint8)


def render_scene_rich(rng, h, w):
    """One rich scene of h x w: float image, boxes (cls,x1,y1,x2,y2)."""
    img = rich_background(rng, h, w)
    for _ in range(int(rng.choice(5, p=[0.22, 0.3, 0.22, 0.14, 0.12]))):   # clutter behind
        s = math.exp(rng.uniform(math.log(10), math.log(min(h, w) * 0.7)))
        d = transform_patch(rng, draw_distractor(rng, min(s, DRAW_MAX)), 0.1, max(1.0, s / DRAW_MAX))
        if d is not None:
            paste(img, d, int(rng.integers(-d.shape[1] // 3, w - d.shape[1] // 2)),
                  int(rng.integers(-d.shape[0] // 3, h - d.shape[0] // 2)))
    n = int(rng.choice(7, p=[0.06, 0.2, 0.22, 0.18, 0.14, 0.11, 0.09]))
    boxes, covs = [], []
    hmax = min(230, int(h * 0.95))
    style = rng.choice(["photo", "flat", "toon", "sketch"], p=[0.5, 0.18, 0.18, 0.14])
    outline = rng.random() < {"photo": 0.15, "flat": 0.5, "toon": 1.0, "sketch": 1.0}[style]
    shadow = rng.random() < 0.4
    for _ in range(n):
        for _try in range(8):
            cls = int(rng.integers(NC))
            oh = int(math.exp(rng.uniform(math.log(16), math.log(hmax))))
            st = style if rng.random() < 0.8 else rng.choice(["photo", "flat", "toon", "sketch"])
            P = DRAWERS[cls](rng, min(oh, DRAW_MAX))
            pt = transform_patch(rng, finish(rng, P, st, outline), 0.35, max(1.0, oh / DRAW_MAX))
            if pt is None:
                continue
            ph, pw = pt.shape[:2]
            if pw > w * 0.95 or ph > h * 0.98:
                s = min(w * 0.95 / pw, h * 0.98 / ph)
                if ph * s < 12:
                    continue
                im = Image.fromarray((pt * 255 + 0.5).astype(np.uint8), "RGBA")
                im = im.resize((max(2, int(pw * s)), max(2, int(ph * s))), Image.BILINEAR)
                pt = np.asarray(im, np.float32) / 255.0
                ph, pw = pt.shape[:2]
            # partly outside the frame now and then
            mx, my = (int(pw * 0.3), int(ph * 0.3)) if rng.random() < 0.15 else (0, 0)
            x0 = int(rng.integers(-mx, w - pw + mx + 1))
            y0 = int(rng.integers(-my, h - ph + my + 1))
            cand = (max(0, x0), max(0, y0), min(w, x0 + pw), min(h, y0 + ph))
            ok = True
            for b in boxes:
                inter, iou = box_iou_np(cand, b[1:])
                if iou > 0.35 or inter > 0.5 * (b[3] - b[1]) * (b[4] - b[2]):
                    ok = False
                    break
            if not ok:
                continue
            if shadow:
                sh = pt.copy()
                sh[..., :3] = 0
                sh[..., 3] *= 0.35
                sh = np.asarray(Image.fromarray((sh * 255).astype(np.uint8), "RGBA").filter(
                    ImageFilter.GaussianBlur(max(1, ph * 0.04))), np.float32) / 255.0
                paste(img, sh, x0 + int(pw * 0.06), y0 + int(ph * 0.03))
            r = paste(img, pt, x0, y0)
            if r is not None:
                bb = r[0]
                if (bb[2] - bb[0]) >= 4 and (bb[3] - bb[1]) >= 4:
                    boxes.append((cls,) + tuple(int(v) for v in bb))
                    covs.append(r[1])
            break
    # foreground occluders: rejected when they cover > 35% of a product
    for _ in range(int(rng.choice(3, p=[0.6, 0.28, 0.12]))):
        s = math.exp(rng.uniform(math.log(12), math.log(min(h, w) * 0.5)))
        d = transform_patch(rng, draw_distractor(rng, min(s, DRAW_MAX)), 0.1, max(1.0, s / DRAW_MAX))
        if d is None:
            continue
        x0 = int(rng.integers(-d.shape[1] // 3, w - d.shape[1] // 2))
        y0 = int(rng.integers(-d.shape[0] // 3, h - d.shape[0] // 2))
        occ = np.zeros((h, w), bool)
        ys, xs = max(0, -y0), max(0, -x0)
        ye, xe = min(d.shape[0], h - y0), min(d.shape[1], w - x0)
        if ye <= ys or xe <= xs:
            continue
        occ[y0 + ys:y0 + ye, x0 + xs:x0 + xe] = d[ys:ye, xs:xe, 3] >= 0.5
        bad = False
        for (oy, ox, cov) in covs:
            tot = cov.sum()
            hid = (occ[oy:oy + cov.shape[0], ox:ox + cov.shape[1]] & cov).sum()
            if hid > 0.35 * tot:
                bad = True
                break
        if not bad:
            paste(img, d, x0, y0)
    return img, boxes


def render_sample_rich(rng):
    """A 256x256 uint8 sample of the rich path and its boxes."""
    if rng.random() < 0.3:
        h, w = LETTERBOX[int(rng.integers(len(LETTERBOX)))]
    else:
        h, w = SIZE, SIZE
    img, boxes = render_scene_rich(rng, h, w)
    img = camera(rng, img)
    u8 = camera_u8(rng, (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))
    out = np.full((SIZE, SIZE, 3), PAD, np.uint8)
    oy, ox = (SIZE - h) // 2, (SIZE - w) // 2
    out[oy:oy + h, ox:ox + w] = u8
    boxes = [(c, x1 + ox, y1 + oy, x2 + ox, y2 + oy) for c, x1, y1, x2, y2 in boxes]
    return out, boxes


def render_batch(seed, index, bs, style="mix"):
    """Batch `index` of the stream `seed`: style "old" (the first drawing path
    only; the same images as before the rich path existed), "new" (rich path
    only) or "mix" (training: RICH_FRACTION rich)."""
    if style == "old":
        rng = np.random.default_rng([seed, index])
    else:
        rng = np.random.default_rng([seed, index, 2 if style == "mix" else 3])
    imgs, tg = [], np.full((bs, 6, 5), -1, np.float32)
    for i in range(bs):
        if style == "new" or (style == "mix" and rng.random() < RICH_FRACTION):
            im, bx = render_sample_rich(rng)
        else:
            im, bx = render_sample(rng)
        imgs.append(im)
        for j, b in enumerate(bx[:6]):
            tg[i, j] = b
    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()
    return x, torch.from_numpy(tg)


class Stream(torch.utils.data.IterableDataset):
    def __init__(self, seed, bs, start=0):
        self.seed, self.bs, self.start = seed, bs, start

    def __iter__(self):
        # with several workers, worker k renders batches k, k+n, k+2n, ...;
        # the DataLoader takes them round robin, so the order stays 0, 1, 2, ...
        torch.set_num_threads(1)
        info = torch.utils.data.get_worker_info()
        k, n = (info.id, info.num_workers) if info is not None else (0, 1)
        i = self.start + k
        while True:
            yield render_batch(self.seed, i, self.bs)
            i += n


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------

class ConvBN(nn.Module):
    def __init__(self, ci, co, k=3, s=1, g=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(ci, co, k, s, k // 2, groups=g, bias=False)
        self.bn = nn.BatchNorm2d(co)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = ConvBN(c, c)
        self.b = ConvBN(c, c)

    def forward(self, x):
        return x + self.b(self.a(x))


class DWRes(nn.Module):
    """Depthwise 5x5 + pointwise residual block (cheap, wide receptive field)."""
    def __init__(self, c):
        super().__init__()
        self.dw = ConvBN(c, c, 5, g=c)
        self.pw = ConvBN(c, c, 1)

    def forward(self, x):
        return x + self.pw(self.dw(x))


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 16, 3, 2)                       # /2
        self.s4 = nn.Sequential(ConvBN(16, 32, 3, 2), Res(32))  # /4
        self.s8 = nn.Sequential(ConvBN(32, 64, 3, 2), Res(64))  # /8
        self.s16 = nn.Sequential(ConvBN(64, 96, 3, 2), DWRes(96), DWRes(96))
        self.s32 = nn.Sequential(ConvBN(96, 96, 3, 2, g=96), ConvBN(96, 128, 1),
                                 DWRes(128), DWRes(128))
        self.lat32 = ConvBN(128, 64, 1)
        self.lat16 = ConvBN(96, 64, 1)
        self.neck = ConvBN(64, 64, 3)
        self.head = nn.Sequential(ConvBN(64, 64, 3), DWRes(64))
        self.pred = nn.Conv2d(64, 4 + NC, 1)
        with torch.no_grad():
            self.pred.bias.zero_()
            self.pred.bias[2:4] = math.log(4.0)   # ~32 px initial size
            self.pred.bias[4:] = -4.6             # prior 0.01

    def forward(self, x):
        x = self.stem(x)
        x = self.s4(x)
        p8 = self.s8(x)
        p16 = self.s16(p8)
        p32 = self.s32(p16)
        t = self.lat16(p16) + F.interpolate(self.lat32(p32), scale_factor=2.0, mode="nearest")
        f = p8 + F.interpolate(t, scale_factor=2.0, mode="nearest")
        f = self.head(self.neck(f))
        return self.pred(f)


def decode(raw, stride: int):
    """raw [B,4+C,H,W] -> boxes cx,cy,w,h [B,4,N] (pixels) and logits [B,C,N]."""
    B, C, H, W = raw.shape
    raw = raw.reshape(B, C, H * W)
    gy = torch.arange(H, dtype=raw.dtype, device=raw.device).view(H, 1).expand(H, W).reshape(1, H * W)
    gx = torch.arange(W, dtype=raw.dtype, device=raw.device).view(1, W).expand(H, W).reshape(1, H * W)
    cx = (gx + 0.5 + (torch.sigmoid(raw[:, 0]) * 4.0 - 2.0)) * stride
    cy = (gy + 0.5 + (torch.sigmoid(raw[:, 1]) * 4.0 - 2.0)) * stride
    w = torch.exp(raw[:, 2].clamp(max=5.5)) * stride
    h = torch.exp(raw[:, 3].clamp(max=5.5)) * stride
    return torch.stack([cx, cy, w, h], 1), raw[:, 4:]


class Exported(nn.Module):
    """forward(x [B,3,256,256] in [0,1]) -> [B, 4+C, N] (YOLOv8 layout)."""
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        raw = self.net(x).contiguous()
        boxes, logits = decode(raw, 8)
        return torch.cat([boxes, torch.sigmoid(logits)], 1).contiguous()


def fuse(net):
    """Fold BatchNorm into the convolutions (eval copy)."""
    import copy
    net = copy.deepcopy(net).eval()
    for m in net.modules():
        if isinstance(m, ConvBN):
            m.conv = torch.nn.utils.fusion.fuse_conv_bn_eval(m.conv, m.bn)
            m.bn = nn.Identity()
    return net


# ---------------------------------------------------------------------------
# Loss
# ---------------------------------------------------------------------------

def cxcywh_to_xyxy(b):
    return torch.stack([b[..., 0] - b[..., 2] / 2, b[..., 1] - b[..., 3] / 2,
                        b[..., 0] + b[..., 2] / 2, b[..., 1] + b[..., 3] / 2], -1)


def giou(a, b):
    """a, b [...,4] xyxy -> (iou, giou)."""
    ix = (torch.min(a[..., 2], b[..., 2]) - torch.max(a[..., 0], b[..., 0])).clamp(min=0)
    iy = (torch.min(a[..., 3], b[..., 3]) - torch.max(a[..., 1], b[..., 1])).clamp(min=0)
    inter = ix * iy
    aa = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    ab = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = aa + ab - inter + 1e-7
    iou = inter / union
    cw = torch.max(a[..., 2], b[..., 2]) - torch.min(a[..., 0], b[..., 0])
    ch = torch.max(a[..., 3], b[..., 3]) - torch.min(a[..., 1], b[..., 1])
    carea = cw * ch + 1e-7
    return iou, iou - (carea - union) / carea


def compute_loss(raw, targets):
    """Center-region assignment (smallest box wins) + GIoU + quality focal loss."""
    B, _, H, W = raw.shape
    boxes, logits = decode(raw, STRIDE)                 # [B,4,N], [B,C,N]
    N = H * W
    idx = torch.arange(N)
    ccx = ((idx % W).float() + 0.5) * STRIDE
    ccy = ((idx // W).float() + 0.5) * STRIDE
    cls = targets[..., 0]                                # [B,G]
    valid = cls >= 0
    x1, y1, x2, y2 = targets[..., 1], targets[..., 2], targets[..., 3], targets[..., 4]
    gcx, gcy, gw, gh = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    rx = (0.2 * gw).clamp(6.0, 12.0)
    ry = (0.2 * gh).clamp(6.0, 12.0)
    inr = ((ccx[None, None] - gcx[..., None]).abs() <= rx[..., None]) & \
          ((ccy[None, None] - gcy[..., None]).abs() <= ry[..., None]) & valid[..., None]  # [B,G,N]
    area = torch.where(inr, (gw * gh)[..., None].expand_as(inr), torch.full_like(inr, 1e9, dtype=torch.float))
    best = area.argmin(1)                                # [B,N]
    pos = inr.any(1)                                     # [B,N]
    gt = torch.gather(targets[..., 1:], 1, best[..., None].expand(B, N, 4))  # [B,N,4]
    gcls = torch.gather(cls, 1, best).long()             # [B,N]
    pb = cxcywh_to_xyxy(boxes.permute(0, 2, 1))          # [B,N,4]
    npos = max(int(pos.sum()), 1)
    iou, g = giou(pb[pos], gt[pos])
    lbox = (1 - g).sum() / npos
    t = torch.zeros_like(logits)                         # [B,C,N]
    if bool(pos.any()):
        bi, ni = pos.nonzero(as_tuple=True)
        t[bi, gcls[bi, ni], ni] = iou.detach().clamp(min=0.0)
    p = torch.sigmoid(logits)
    lcls = (F.binary_cross_entropy_with_logits(logits, t, reduction="none") *
            (p - t).abs().pow(2.0)).sum() / npos
    return lbox * 2.5 + lcls, lbox.detach(), lcls.detach()


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------

def nms_np(b, s, thr):
    order = np.argsort(-s)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        if order.size == 1:
            break
        r = order[1:]
        ix = np.clip(np.minimum(b[i, 2], b[r, 2]) - np.maximum(b[i, 0], b[r, 0]), 0, None)
        iy = np.clip(np.minimum(b[i, 3], b[r, 3]) - np.maximum(b[i, 1], b[r, 1]), 0, None)
        inter = ix * iy
        ua = (b[i, 2] - b[i, 0]) * (b[i, 3] - b[i, 1]) + (b[r, 2] - b[r, 0]) * (b[r, 3] - b[r, 1]) - inter
        order = r[inter / np.maximum(ua, 1e-9) <= thr]
    return keep


def evaluate(model_fn, data, iou_nms=0.45, low=0.05):
    """data: list of (x uint8 [B,3,H,W], targets). model_fn returns [B,4+C,N]
    sigmoid-scored output.  Each prediction takes its best class (as YOLOv8
    post-processing does), then class-wise NMS; a detection is a true
    positive if it matches an unmatched ground truth of its class at IoU>=0.5.
    Returns (thresholds, precision, recall, f1) arrays."""
    scores, tps, ngt = [], [], 0
    with torch.no_grad():
        for x, tg in data:
            out = model_fn(x.float() / 255.0).numpy()
            for i in range(out.shape[0]):
                o = out[i]
                sc = o[4:].max(0)
                cl = o[4:].argmax(0)
                k = sc >= low
                bx = o[:4, k].T
                bx = np.stack([bx[:, 0] - bx[:, 2] / 2, bx[:, 1] - bx[:, 3] / 2,
                               bx[:, 0] + bx[:, 2] / 2, bx[:, 1] + bx[:, 3] / 2], 1)
                sc, cl = sc[k], cl[k]
                g = tg[i].numpy()
                g = g[g[:, 0] >= 0]
                ngt += len(g)
                for c in range(NC):
                    m = cl == c
                    if not m.any():
                        continue
                    b, s = bx[m], sc[m]
                    keep = nms_np(b, s, iou_nms)
                    b, s = b[keep], s[keep]
                    gc = g[g[:, 0] == c][:, 1:]
                    used = np.zeros(len(gc), bool)
                    for j in np.argsort(-s):
                        hit = False
                        if len(gc):
                            ix = np.clip(np.minimum(b[j, 2], gc[:, 2]) - np.maximum(b[j, 0], gc[:, 0]), 0, None)
                            iy = np.clip(np.minimum(b[j, 3], gc[:, 3]) - np.maximum(b[j, 1], gc[:, 1]), 0, None)
                            inter = ix * iy
                            iou = inter / ((b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1]) +
                                           (gc[:, 2] - gc[:, 0]) * (gc[:, 3] - gc[:, 1]) - inter)
                            iou[used] = -1
                            a = int(np.argmax(iou))
                            if iou[a] >= 0.5:
                                used[a] = True
                                hit = True
                        scores.append(s[j])
                        tps.append(hit)
    scores, tps = np.array(scores), np.array(tps, bool)
    ths = np.round(np.arange(low, 0.951, 0.025), 3)
    P, R = [], []
    for t in ths:
        m = scores >= t
        nd, tp = int(m.sum()), int(tps[m].sum())
        P.append(tp / nd if nd else 1.0)
        R.append(tp / max(ngt, 1))
    P, R = np.array(P), np.array(R)
    return ths, P, R, 2 * P * R / np.maximum(P + R, 1e-9)


def make_eval_set(seed, n, bs=50, style="old"):
    return [render_batch(seed, i, min(bs, n - i * bs), style) for i in range((n + bs - 1) // bs)]


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def load_wrap():
    spec = importlib.util.spec_from_file_location(
        "kling_wrap", os.path.join(HERE, "..", "kling-wrap.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.wrap


def export(net, path, description, threshold):
    exp = Exported(fuse(net)).eval().to(memory_format=torch.channels_last)
    scripted = torch.jit.script(exp)
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        a = scripted(x)
        b = scripted(x.contiguous(memory_format=torch.channels_last))
        ref = Exported(net.eval())(x)
    assert a.shape == (2, 4 + NC, (SIZE // STRIDE) ** 2), a.shape
    assert torch.allclose(a, b, atol=1e-4), "channels_last output differs"
    assert torch.allclose(a, ref, atol=1e-3, rtol=1e-3), "fused output differs"
    manifest = {
        "format": 1,
        "name": "kling-detect-products",
        "task": "detect",
        "description": description,
        "methods": ["forward"],
        "input": {"width": SIZE, "height": SIZE, "layout": "NCHW", "channels": "RGB",
                  "dtype": "float32", "scale": 0.00392156862745098,
                  "mean": [0, 0, 0], "std": [1, 1, 1], "resize": "letterbox", "pad": PAD},
        "output": {"format": "yolov8"},
        "labels": LABELS,
        "defaults": {"threshold": float(threshold), "iou_threshold": 0.45},
    }
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    load_wrap()(scripted, manifest, tmp)
    os.replace(tmp, path)
    return manifest


# ---------------------------------------------------------------------------
# Synthetic video for the C test suite
# ---------------------------------------------------------------------------

def render_video(outdir, width=320, height=240, frames=30, fps=10, seed=7):
    """Write outdir/products.rgb (raw RGB24 frames, back to back) and
    outdir/products.json (size, rate, frame count, per-frame boxes as
    [label, x0, y0, x1, y1, visible fraction])."""
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(seed)
    bg = render_background(np.random.default_rng([seed, 1]), height, width)
    objs = []
    for k, cls in enumerate([0, 2, 3, 5]):
        p = sample_object(rng, cls, int(rng.uniform(60, 110)) if cls != 5 else 50)
        x = rng.uniform(10, width - p["w"] - 10)
        y = rng.uniform(10, height - p["h"] - 10)
        vx, vy = rng.uniform(-2.5, 2.5), rng.uniform(-1.2, 1.2)
        objs.append((p, x, y, vx, vy))
    meta = {"file": "products.rgb", "format": "RGB", "width": width, "height": height,
            "framerate": [fps, 1], "frames": frames, "labels": LABELS, "boxes": []}
    with open(os.path.join(outdir, "products.rgb"), "wb") as f:
        for t in range(frames):
            img = bg.copy()
            owner = np.full((height, width), -1, np.int32)
            fb, drawn = [], []
            for k, (p, x, y, vx, vy) in enumerate(objs):
                x0 = int(round(np.clip(x + vx * t, 0, width - p["w"])))
                y0 = int(round(np.clip(y + vy * t, 0, height - p["h"])))
                before = img.copy()
                bb = draw_object(img, p, x0, y0)
                painted = np.any(img != before, axis=2)
                owner[painted] = k
                if bb is not None:
                    drawn.append((k, [LABELS[p["cls"]]] + [int(v) for v in bb],
                                  max(int(painted.sum()), 1)))
            # objects move freely here, unlike in the training scenes (which
            # cap overlap), so record how much of each is left visible:
            # evaluations treat mostly hidden products as "don't care"
            for k, box, area in drawn:
                fb.append(box + [round(float((owner == k).sum()) / area, 3)])
            meta["boxes"].append(fb)
            f.write((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8).tobytes())
    with open(os.path.join(outdir, "products.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"wrote {outdir}/products.rgb ({frames} frames {width}x{height} RGB, {fps} fps) "
          f"and products.json")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=40.0, help="training time budget")
    ap.add_argument("--steps", type=int, default=0, help="fixed step count (overrides --minutes)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-seed", type=int, default=1000003)
    ap.add_argument("--eval-images", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", default=SHIPPED, help="model package to write")
    ap.add_argument("--checkpoint", metavar="FILE",
                    help="also save the unfused weights (network and its average) here, "
                         "for --init")
    ap.add_argument("--init", metavar="FILE",
                    help="start from a --checkpoint file instead of from scratch (a run "
                         "longer than one training slot, chained)")
    ap.add_argument("--smoke", action="store_true",
                    help="one step on a tiny batch + export (CI); needs --output unless --force")
    ap.add_argument("--force", action="store_true",
                    help="allow --smoke to write the shipped model path")
    ap.add_argument("--render-video", metavar="DIR", help="write DIR/products.rgb and exit")
    ap.add_argument("--video-size", default="320x240")
    ap.add_argument("--video-seed", type=int, default=7,
                    help="scene of the rendered video (the tests use 7; pick another "
                         "for a held-out check)")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)

    if args.render_video:
        w, h = (int(v) for v in args.video_size.split("x"))
        render_video(args.render_video, w, h, seed=args.video_seed)
        return 0

    if args.smoke and os.path.abspath(args.output) == SHIPPED and not args.force:
        ap.error("--smoke would overwrite the shipped model; pass --output /tmp/x.pt")

    net = Detector().to(memory_format=torch.channels_last)
    nparams = sum(p.numel() for p in net.parameters())
    print(f"parameters: {nparams}", flush=True)

    if args.smoke:
        t0 = time.time()
        x, tg = render_batch(args.seed, 0, 2)
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
        net.train()
        loss, lb, lc = compute_loss(net(x.float().div(255).contiguous(memory_format=torch.channels_last)), tg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ths, P, R, F1 = evaluate(lambda z: Exported(net.eval())(z), [render_batch(args.eval_seed, 0, 2, "old"),
                                                                          render_batch(args.eval_seed, 0, 2, "new")])
        export(net, args.output, "kling-detect-products smoke test (1 step, not trained)", 0.35)
        m = torch.jit.load(args.output, _extra_files={"kling.json": ""})
        print(f"smoke: loss {float(loss):.3f}, exported {args.output} "
              f"({os.path.getsize(args.output)} bytes) in {time.time() - t0:.1f}s")
        return 0

    ema = Detector().to(memory_format=torch.channels_last)
    steps_before = 0
    if args.init:
        ck = torch.load(args.init, map_location="cpu")
        net.load_state_dict(ck["net"])
        ema.load_state_dict(ck["ema"])
        steps_before = ck["steps"]
        print(f"continuing from {args.init} ({steps_before} steps before)", flush=True)
    else:
        ema.load_state_dict(net.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    decay, wd = [], []
    for n_, p in net.named_parameters():
        (wd if p.ndim > 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": wd, "weight_decay": 5e-4},
                             {"params": decay, "weight_decay": 0.0}], lr=args.lr)
    loader = torch.utils.data.DataLoader(Stream(args.seed, args.batch), batch_size=None,
                                         num_workers=2, prefetch_factor=3,
                                         persistent_workers=False)
    budget = args.minutes * 60
    fixed = args.steps > 0
    total = args.steps if fixed else None
    warm = min(200, max(20, total // 10)) if fixed else 60
    t_start = time.time()
    step = 0
    net.train()
    lb_avg = lc_avg = None
    t_mark = None
    for x, tg in loader:
        # Time budget: the step count is estimated after 60 steps and then
        # re-estimated every 50 steps from the recent speed, because other
        # jobs on the machine can change it a lot; the budget is a hard stop.
        if not fixed:
            now = time.time()
            if step == 20:
                t_mark, s_mark = now, step
            elif step >= 60 and step % 50 == 10 and t_mark is not None:
                rate = (now - t_mark) / (step - s_mark)
                est = step + max(1, int((budget - (now - t_start)) / rate))
                if total is None:
                    warm = min(200, max(20, est // 10))
                    print(f"{rate:.3f}s/step -> about {est} steps", flush=True)
                total = max(est, warm + 1)
                t_mark, s_mark = now, step
            if now - t_start >= budget:
                break
        if total is not None and step >= total:
            break
        T = total if total is not None else 10 ** 9
        if step < warm:
            lr = args.lr * (step + 1) / warm
        else:
            lr = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, T - warm))))
        for gp in opt.param_groups:
            gp["lr"] = lr
        x = x.float().div_(255).contiguous(memory_format=torch.channels_last)
        loss, lb, lc = compute_loss(net(x), tg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        d = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pn in zip(ema.state_dict().values(), net.state_dict().values()):
                if pe.dtype.is_floating_point:
                    pe.mul_(d).add_(pn.detach(), alpha=1 - d)
                else:
                    pe.copy_(pn)
        lb_avg = float(lb) if lb_avg is None else 0.98 * lb_avg + 0.02 * float(lb)
        lc_avg = float(lc) if lc_avg is None else 0.98 * lc_avg + 0.02 * float(lc)
        step += 1
        if step % 100 == 0:
            print(f"step {step}/{total} lr {lr:.5f} box {lb_avg:.3f} cls {lc_avg:.3f} "
                  f"{(time.time() - t_start) / 60:.1f} min", flush=True)
    train_min = (time.time() - t_start) / 60
    if args.checkpoint:
        torch.save({"net": net.state_dict(), "ema": ema.state_dict(),
                    "steps": steps_before + step}, args.checkpoint)
    print(f"trained {step} steps ({step * args.batch} images) in {train_min:.1f} min", flush=True)

    ema.eval()
    # held-out sets of both drawing paths (same seed, old images as before);
    # the threshold is the best F1 over both together
    data_old = make_eval_set(args.eval_seed, args.eval_images, style="old")
    data_new = make_eval_set(args.eval_seed, args.eval_images, style="new")
    fused = Exported(fuse(ema)).eval()
    ths, P, R, F1 = evaluate(fused, data_old + data_new)
    b = int(np.argmax(F1))
    thr = float(ths[b])
    for t, p, r, f in zip(ths, P, R, F1):
        if abs(t * 40 - round(t * 40)) < 1e-6 and round(t * 40) % 2 == 0:
            print(f"  threshold {t:.3f}: precision {p:.3f} recall {r:.3f} F1 {f:.3f}")
    print(f"best F1 threshold {thr:.3f}: precision {P[b]:.3f} recall {R[b]:.3f} F1 {F1[b]:.3f}",
          flush=True)
    per_style = {}
    for name, d in (("old-style", data_old), ("new-style", data_new)):
        ths_s, P_s, R_s, F1_s = evaluate(fused, d)
        bs_ = int(np.argmin(np.abs(ths_s - thr)))
        per_style[name] = (float(P_s[bs_]), float(R_s[bs_]))
        print(f"  {name} held-out ({args.eval_images} images) at {thr:.3f}: precision {P_s[bs_]:.3f} "
              f"recall {R_s[bs_]:.3f} F1 {F1_s[bs_]:.3f}", flush=True)
    desc = (f"Small anchor-free product detector ({nparams} parameters, stride 8, 32x32 grid, "
            f"1024 predictions, YOLOv8 output layout, no NMS inside). Trained "
            f"{'from scratch' if not args.init else f'(continued, {steps_before} steps before)'} "
            f"on synthetic scenes by models/detect/train.py: {1 - RICH_FRACTION:.0%} shaded "
            f"silhouettes with label bands, {RICH_FRACTION:.0%} 3-D shaded products (surfaces "
            f"of revolution, cuboids in perspective, bags, backpacks, sneakers/boots/heels) in "
            f"photo/flat/toon/sketch styles on procedural wood/shelf/tile/fabric/marble/bokeh "
            f"scenes with distractors, occluders and camera effects (light, colour cast, gamma, "
            f"vignette, defocus/motion blur, noise, low resolution, JPEG), simulated "
            f"letterboxing: {step} steps x {args.batch} images, "
            f"{train_min:.0f} min on 2 CPU cores. Held-out synthetic sets ({args.eval_images} "
            f"images each, other seed), class-wise NMS IoU 0.45, threshold {thr:.3f}: "
            f"precision {P[b]:.3f}, recall {R[b]:.3f} at IoU 0.5 (old-style "
            f"{per_style['old-style'][0]:.3f}/{per_style['old-style'][1]:.3f}, new-style "
            f"{per_style['new-style'][0]:.3f}/{per_style['new-style'][1]:.3f}). Synthetic data "
            f"only: expect lower figures on real footage.")
    export(ema, args.output, desc, thr)
    print(f"wrote {args.output} ({os.path.getsize(args.output)} bytes)")
    print(json.dumps({"params": nparams, "steps": step, "train_minutes": round(train_min, 1),
                      "threshold": thr, "precision": round(float(P[b]), 4),
                      "recall": round(float(R[b]), 4),
                      "old_style": [round(v, 4) for v in per_style["old-style"]],
                      "new_style": [round(v, 4) for v in per_style["new-style"]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
