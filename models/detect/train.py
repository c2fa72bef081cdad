#!/usr/bin/python3
"""Recipe for kling-detect-products: a small anchor-free product detector
trained on synthetic scenes, exported as a gst-kling model package.

  nice -n 19 /usr/bin/python3 models/detect/train.py            # full run (40 min)
  /usr/bin/python3 models/detect/train.py --smoke --output /tmp/smoke.pt
  /usr/bin/python3 models/detect/train.py --render-video /tmp/vid

Everything is generated here from numpy drawing code: six product categories
(bottle, can, box, cup, bag, shoe) as shaded, highlighted, labelled
silhouettes on plain / gradient / textured / cluttered backgrounds, with
blur, noise, brightness/contrast changes and simulated letterboxing (the
element letterboxes frames into 256x256 with gray 114).

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

Only Debian's /usr/bin/python3 (torch, numpy) is needed; no downloads.
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

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


def render_batch(seed, index, bs):
    rng = np.random.default_rng([seed, index])
    imgs, tg = [], np.full((bs, 6, 5), -1, np.float32)
    for i in range(bs):
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
        torch.set_num_threads(1)
        i = self.start
        while True:
            yield render_batch(self.seed, i, self.bs)
            i += 1


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


def make_eval_set(seed, n, bs=50):
    return [render_batch(seed, i, min(bs, n - i * bs)) for i in range((n + bs - 1) // bs)]


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
        ths, P, R, F1 = evaluate(lambda z: Exported(net.eval())(z), [render_batch(args.eval_seed, 0, 2)])
        export(net, args.output, "kling-detect-products smoke test (1 step, not trained)", 0.35)
        m = torch.jit.load(args.output, _extra_files={"kling.json": ""})
        print(f"smoke: loss {float(loss):.3f}, exported {args.output} "
              f"({os.path.getsize(args.output)} bytes) in {time.time() - t0:.1f}s")
        return 0

    ema = Detector().to(memory_format=torch.channels_last)
    ema.load_state_dict(net.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    decay, wd = [], []
    for n_, p in net.named_parameters():
        (wd if p.ndim > 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": wd, "weight_decay": 5e-4},
                             {"params": decay, "weight_decay": 0.0}], lr=args.lr)
    loader = torch.utils.data.DataLoader(Stream(args.seed, args.batch), batch_size=None,
                                         num_workers=1, prefetch_factor=4,
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
    print(f"trained {step} steps ({step * args.batch} images) in {train_min:.1f} min", flush=True)

    ema.eval()
    data = make_eval_set(args.eval_seed, args.eval_images)
    fused = Exported(fuse(ema)).eval()
    ths, P, R, F1 = evaluate(fused, data)
    b = int(np.argmax(F1))
    thr = float(ths[b])
    for t, p, r, f in zip(ths, P, R, F1):
        if abs(t * 40 - round(t * 40)) < 1e-6 and round(t * 40) % 2 == 0:
            print(f"  threshold {t:.3f}: precision {p:.3f} recall {r:.3f} F1 {f:.3f}")
    print(f"best F1 threshold {thr:.3f}: precision {P[b]:.3f} recall {R[b]:.3f} F1 {F1[b]:.3f}",
          flush=True)
    desc = (f"Small anchor-free product detector ({nparams} parameters, stride 8, 32x32 grid, "
            f"1024 predictions, YOLOv8 output layout, no NMS inside). Trained from scratch "
            f"on synthetic scenes (bottle, can, box, cup, bag, shoe silhouettes with shading, "
            f"highlights and label bands on plain/gradient/textured/cluttered backgrounds, "
            f"blur/noise/brightness augmentation, simulated letterboxing) by "
            f"models/detect/train.py: {step} steps x {args.batch} images, "
            f"{train_min:.0f} min on 2 CPU cores. Held-out synthetic set ({args.eval_images} "
            f"images, other seed), class-wise NMS IoU 0.45, threshold {thr:.3f}: "
            f"precision {P[b]:.3f}, recall {R[b]:.3f} at IoU 0.5. Synthetic data only: "
            f"expect lower figures on real footage.")
    export(ema, args.output, desc, thr)
    print(f"wrote {args.output} ({os.path.getsize(args.output)} bytes)")
    print(json.dumps({"params": nparams, "steps": step, "train_minutes": round(train_min, 1),
                      "threshold": thr, "precision": round(float(P[b]), 4),
                      "recall": round(float(R[b]), 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
