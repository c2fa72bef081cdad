#!/usr/bin/python3
"""Recipe for kling-poster.pt, the default model of the `ketuposter` element.

A merchant's product photo is kept and the scene around it is generated
from a prompt.  The model is a small latent inpainting model:

  * a tiny conv autoencoder, 64x64 RGB <-> 4x16x16 latents (the latent
    `scale` normalisation happens inside encode_image / decode);
  * a byte-level text encoder (token = UTF-8 byte + 1, pad 0, 48 tokens;
    an all-zero mask row is the unconditional prompt);
  * a flow-matching conv U-Net over [B, 4, 1, 16, 16] latents, conditioned
    on the prompt embedding and on `cond` = latents of the canvas (the
    product on mid-grey) + the product's coverage of every latent cell.

Everything is trained on synthetic, seeded data: 10 scene styles (beach,
snow, three studio gradients, wooden table, kitchen counter, grass, night
city, marble) with products (bottle, can, box, cup, bag, shoe silhouettes)
standing in them, and Chinese (simplified + traditional) and English
prompts; some phrasings are held out for scoring.

  /usr/bin/python3 models/poster/train.py                 # ~30 min, writes models/kling-poster.pt
  /usr/bin/python3 models/poster/train.py --smoke --output /tmp/poster-smoke.pt
  /usr/bin/python3 models/poster/train.py --score models/kling-poster.pt

The score: a tiny style classifier trained on real synthetic scenes judges
posters generated (Euler + classifier-free guidance over the loaded
TorchScript, exactly as the C core drives it) from held-out phrasings, and
the mean pairwise pixel difference of 4 seeds of one prompt measures variety.
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

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.normpath(os.path.join(HERE, "..", "kling-poster.pt"))
CLASSIFIER = os.path.join(HERE, "style-classifier.pt")

S = 64           # pixels
LH = 16          # latent size
C = 4            # latent channels
MAXLEN = 48
GREY = 0.5       # canvas background, [0, 1]

STYLES = ["beach", "snow", "studio-pink", "studio-blue", "studio-grey",
          "wooden-table", "kitchen", "grass", "night-city", "marble"]
NS = len(STYLES)

# (training phrasings, held-out phrasings) per style
PROMPTS = {
    "beach": (
        ["summer beach", "on the beach at noon", "sunny beach with blue sea",
         "tropical beach", "seaside sand and waves", "beach holiday",
         "夏日海灘", "夏日海滩", "沙灘上", "沙滩上", "海邊的沙灘", "阳光沙滩",
         "海灘", "碧海藍天沙灘"],
        ["a beach by the ocean", "海灘度假", "海边沙滩风景"]),
    "snow": (
        ["snowy field", "snow scene in winter", "winter snow",
         "on fresh white snow", "snow covered ground", "snowfall",
         "雪地", "冬日雪景", "雪地上", "白雪覆蓋的地面", "白雪覆盖的地面",
         "下雪的冬天", "冬季雪景"],
        ["snowy winter landscape", "冬天的雪地", "雪景"]),
    "studio-pink": (
        ["studio pink gradient", "pink gradient background", "soft pink studio",
         "pastel pink backdrop", "pink background",
         "粉色漸變背景", "粉色渐变背景", "粉紅色攝影棚", "粉红色摄影棚",
         "柔和粉色背景", "粉紅背景"],
        ["pink studio backdrop", "粉色背景", "粉紅漸變"]),
    "studio-blue": (
        ["studio blue gradient", "blue gradient background", "light blue studio",
         "clean blue backdrop", "blue background",
         "藍色漸變背景", "蓝色渐变背景", "藍色攝影棚", "蓝色摄影棚",
         "淺藍色背景", "蓝色背景板"],
        ["blue studio backdrop", "蓝色背景", "藍色漸變"]),
    "studio-grey": (
        ["studio grey gradient", "gray gradient background", "neutral grey studio",
         "minimal gray backdrop", "grey background",
         "灰色漸變背景", "灰色渐变背景", "灰色攝影棚", "灰色摄影棚",
         "高級灰背景", "高级灰背景"],
        ["grey studio backdrop", "灰色背景", "灰色漸變"]),
    "wooden-table": (
        ["wooden table in the morning sun", "on a wooden table",
         "rustic wood tabletop", "oak table by the wall", "wood table",
         "木桌上的清晨陽光", "木桌上的清晨阳光", "木桌上", "原木桌面",
         "實木餐桌", "实木桌子"],
        ["wood table in sunlight", "木質桌面", "陽光下的木桌"]),
    "kitchen": (
        ["kitchen counter", "on the kitchen countertop",
         "modern kitchen with tiles", "tiled kitchen wall", "in the kitchen",
         "廚房檯面", "厨房台面", "廚房裡", "厨房里", "白色瓷磚廚房",
         "厨房瓷砖墙"],
        ["kitchen counter with tiles", "在厨房台面上", "廚房"]),
    "grass": (
        ["green grass field", "on the lawn under blue sky", "grassy meadow",
         "spring grass", "green lawn", "草地", "綠色草地", "绿色草地",
         "草坪上", "藍天下的草坪", "蓝天下的草坪"],
        ["grass under a blue sky", "春天的草地", "草坪"]),
    "night-city": (
        ["night city lights", "city at night", "neon lights at night",
         "urban night bokeh", "downtown at night",
         "城市夜景", "城市的夜晚", "夜晚的城市燈光", "夜晚的城市灯光",
         "霓虹燈夜景", "霓虹灯夜景"],
        ["city lights at night", "夜景", "城市燈光"]),
    "marble": (
        ["marble countertop", "white marble surface", "luxury marble table",
         "on polished marble", "marble background",
         "大理石台面", "大理石檯面", "白色大理石", "大理石桌上", "奢華大理石",
         "奢华大理石"],
        ["marble table top", "大理石", "高级大理石台面"]),
}
PREFIXES = ["", "", "", "product photo, ", "商品攝影，", "商品摄影，",
            "poster: ", "電商海報 ", "电商海报 "]
SUFFIXES = ["", "", "", ", high quality", "，高清", " background", "背景",
            ", soft light"]
HELD_SUFFIX = ["", "，精美"]          # unseen suffix at scoring time


def train_prompts():
    """[(prompt, style index)] for training: every phrase x prefix x suffix."""
    out = []
    for si, st in enumerate(STYLES):
        for ph in PROMPTS[st][0]:
            for p in PREFIXES:
                for s in SUFFIXES:
                    out.append((p + ph + s, si))
    return out


def held_prompts():
    out = []
    for si, st in enumerate(STYLES):
        for ph in PROMPTS[st][1]:
            for s in HELD_SUFFIX:
                out.append((ph + s, si))
    return out


def tokenize(texts):
    ids = torch.zeros(len(texts), MAXLEN, dtype=torch.int64)
    mask = torch.zeros(len(texts), MAXLEN, dtype=torch.int64)
    for i, t in enumerate(texts):
        b = list(t.encode("utf-8"))[:MAXLEN]
        ids[i, :len(b)] = torch.tensor(b, dtype=torch.int64) + 1
        mask[i, :len(b)] = 1
    return ids, mask

# ---------------------------------------------------------------------------
# Synthetic scenes (numpy, float32 HxWx3 in [0, 1])
# ---------------------------------------------------------------------------


YY, XX = np.mgrid[0:S, 0:S].astype(np.float32) / (S - 1)
YY3, XX3 = YY[..., None], XX[..., None]


def jit(rng, c, a=0.06):
    return np.clip(np.asarray(c, np.float32) + rng.uniform(-a, a, 3).astype(np.float32), 0, 1)


def lerp(a, b, t):
    return a * (1 - t) + b * t


def smooth_noise(rng, cy, cx=None):
    """Bilinear upsampled random grid, (S, S) in [0, 1]."""
    cx = cx or cy
    a = rng.random((cy + 1, cx + 1)).astype(np.float32)
    ys = np.linspace(0, cy, S, dtype=np.float32)
    xs = np.linspace(0, cx, S, dtype=np.float32)
    y0 = np.minimum(ys.astype(np.int64), cy - 1)
    x0 = np.minimum(xs.astype(np.int64), cx - 1)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    a00, a01 = a[y0][:, x0], a[y0][:, x0 + 1]
    a10, a11 = a[y0 + 1][:, x0], a[y0 + 1][:, x0 + 1]
    return (a00 * (1 - fx) + a01 * fx) * (1 - fy) + (a10 * (1 - fx) + a11 * fx) * fy


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def soft_disc(cx, cy, r, soft=1.0):
    """Disc coverage in pixel units (cx, cy, r in pixels)."""
    d = np.sqrt((XX * (S - 1) - cx) ** 2 + (YY * (S - 1) - cy) ** 2)
    return np.clip((r - d) / soft + 0.5, 0, 1)


def band(y0, soft=0.8):
    """1 below y0 (fraction), soft edge of `soft` pixels."""
    return np.clip((YY - y0) * (S - 1) / soft + 0.5, 0, 1)[..., None]


def scene_beach(rng):
    hz = rng.uniform(0.28, 0.48)
    se = hz + rng.uniform(0.08, 0.2)
    sky = lerp(jit(rng, [0.3, 0.58, 0.95]), jit(rng, [0.75, 0.88, 1.0]), np.clip(YY3 / hz, 0, 1))
    if rng.random() < 0.5:
        sx, sy = rng.uniform(5, 59), rng.uniform(3, hz * 63 - 4)
        sky = lerp(sky, jit(rng, [1.0, 0.97, 0.8], 0.03), soft_disc(sx, sy, rng.uniform(2, 4.5), 1.5)[..., None])
    k = rng.uniform(40, 110)
    sea = jit(rng, [0.05, 0.42, 0.62], 0.07) * (1 + 0.08 * np.sin(YY3 * k + rng.uniform(0, 6)))
    sea = lerp(sea, jit(rng, [0.2, 0.65, 0.75], 0.05), np.clip((YY3 - hz) / (se - hz + 1e-3), 0, 1) * 0.6)
    sand = jit(rng, [0.93, 0.8, 0.58], 0.06) * (0.94 + 0.12 * smooth_noise(rng, 16)[..., None])
    sand = sand * (1 - 0.1 * YY3)
    edge = se + 0.015 * np.sin(XX3 * rng.uniform(8, 20) + rng.uniform(0, 6))
    img = lerp(sky, sea, band(hz))
    img = lerp(img, sand, np.clip((YY3 - edge) * 63 + 0.5, 0, 1))
    foam = np.exp(-((YY3 - edge) * 63 / 1.0) ** 2) * 0.8
    img = lerp(img, np.float32([0.97, 0.98, 0.98]), foam)
    return img


def scene_snow(rng):
    hz = rng.uniform(0.38, 0.6)
    sky = lerp(jit(rng, [0.7, 0.8, 0.92], 0.05), jit(rng, [0.92, 0.94, 0.97], 0.03), np.clip(YY3 / hz, 0, 1))
    if rng.random() < 0.6:  # distant hills
        hill = hz - rng.uniform(0.05, 0.15) * (0.5 + 0.5 * np.sin(XX * rng.uniform(3, 9) + rng.uniform(0, 6)))
        hm = np.clip((YY - hill) * 63 + 0.5, 0, 1)[..., None]
        sky = lerp(sky, jit(rng, [0.62, 0.68, 0.8], 0.05), hm)
    ground = jit(rng, [0.95, 0.96, 0.99], 0.03) * (0.93 + 0.07 * smooth_noise(rng, 8)[..., None])
    ground = ground * (1 - np.float32([0.1, 0.06, 0.0]) * YY3)
    img = lerp(sky, ground, band(hz))
    for _ in range(int(rng.integers(25, 80))):  # flakes
        d = soft_disc(rng.uniform(0, 63), rng.uniform(0, 63), rng.uniform(0.5, 1.3), 0.8)
        img = lerp(img, np.float32([1, 1, 1]), d[..., None] * rng.uniform(0.6, 1.0))
    return img


STUDIO = {"studio-pink": ([1.0, 0.8, 0.86], [0.92, 0.52, 0.66]),
          "studio-blue": ([0.72, 0.84, 1.0], [0.3, 0.5, 0.88]),
          "studio-grey": ([0.85, 0.85, 0.86], [0.48, 0.48, 0.5])}


def scene_studio(rng, name):
    top, bot = STUDIO[name]
    top, bot = jit(rng, top, 0.05), jit(rng, bot, 0.05)
    g = rng.uniform(0.7, 1.6)
    img = lerp(top, bot, np.clip(YY3, 0, 1) ** g)
    if rng.random() < 0.6:  # floor seam
        hz = rng.uniform(0.58, 0.78)
        fl = lerp(bot * rng.uniform(0.9, 1.05), top * rng.uniform(0.9, 1.0), np.clip((YY3 - hz) / (1 - hz), 0, 1))
        img = lerp(img, fl, np.clip((YY3 - hz) * 63 / 3 + 0.5, 0, 1))
    # light spot + vignette
    lx, ly = rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.5)
    spot = np.exp(-((XX - lx) ** 2 + (YY - ly) ** 2) / rng.uniform(0.05, 0.2))[..., None]
    img = img * (1 + rng.uniform(0.05, 0.18) * spot)
    vig = 1 - rng.uniform(0.05, 0.2) * (((XX - 0.5) ** 2 + (YY - 0.5) ** 2) * 2)[..., None]
    return img * vig


def scene_wood(rng):
    hz = rng.uniform(0.48, 0.7)
    wall = lerp(jit(rng, [0.92, 0.87, 0.78], 0.06), jit(rng, [0.8, 0.74, 0.64], 0.06), np.clip(YY3 / hz, 0, 1))
    base = jit(rng, [0.55, 0.34, 0.18], 0.08)
    n = smooth_noise(rng, 6, 20)
    if rng.random() < 0.5:  # planks left-right
        pw = rng.uniform(0.06, 0.12)
        pos = (YY - hz) / pw
        grain = np.sin(XX * rng.uniform(25, 60) + 6 * n + pos.astype(np.int64) * 1.7)
    else:                   # planks front-back (perspective)
        pw = rng.uniform(0.12, 0.22)
        pos = (XX - 0.5) / (0.5 + 0.8 * (YY - hz)) / pw + 0.5
        grain = np.sin(YY * rng.uniform(40, 80) + 6 * n + np.floor(pos) * 2.3)
    pid = np.floor(pos)
    var = (np.sin(pid * 12.9898 + rng.uniform(0, 6)) * 0.5 + 0.5)[..., None]
    frac = pos - pid
    gap = np.clip(1 - np.minimum(frac, 1 - frac) * pw * 63 / 0.7, 0, 1)[..., None]
    wood = base * (0.85 + 0.3 * var) * (1 + 0.1 * grain[..., None])
    wood = wood * (1 - 0.5 * gap)
    img = lerp(wall, wood, band(hz))
    # morning sun: warm diagonal light
    a = rng.uniform(-1, 1)
    sun = np.clip(1 - np.abs(XX + a * YY - rng.uniform(0.2, 0.9)) / 0.35, 0, 1)[..., None]
    img = img + rng.uniform(0.05, 0.2) * sun * np.float32([1.0, 0.85, 0.55])
    return img


TILE_COLOURS = [[0.95, 0.95, 0.93], [0.78, 0.88, 0.95], [0.93, 0.9, 0.8], [0.75, 0.85, 0.75]]
COUNTER_COLOURS = [[0.2, 0.2, 0.22], [0.85, 0.85, 0.82], [0.6, 0.45, 0.3], [0.45, 0.45, 0.47]]


def scene_kitchen(rng):
    hz = rng.uniform(0.5, 0.7)
    tc = jit(rng, TILE_COLOURS[rng.integers(len(TILE_COLOURS))], 0.04)
    ts = rng.uniform(5, 10)
    ox, oy = rng.uniform(0, ts), rng.uniform(0, ts)
    px, py = XX * 63 + ox, YY * 63 + oy
    if rng.random() < 0.5:   # brick pattern
        px = px + (np.floor(py / ts) % 2) * ts / 2
    fx, fy = (px % ts), (py % ts)
    grout = ((fx < 1) | (fy < 1)).astype(np.float32)[..., None]
    tid = np.floor(px / ts) * 7 + np.floor(py / ts) * 13
    tv = (np.sin(tid * 3.1 + rng.uniform(0, 6)) * 0.03)[..., None]
    wall = tc * (1 + tv)
    wall = lerp(wall, tc * rng.uniform(0.6, 0.8), grout)
    cc = jit(rng, COUNTER_COLOURS[rng.integers(len(COUNTER_COLOURS))], 0.05)
    speck = smooth_noise(rng, 32)[..., None]
    counter = cc * (0.9 + 0.2 * speck) * (1 - 0.15 * (YY3 - hz))
    img = lerp(wall, counter, band(hz))
    edge = np.exp(-((YY3 - hz) * 63 - 1) ** 2 / 1.0) * 0.25
    img = img + edge
    cab = rng.uniform(0.93, 0.99)
    cabc = jit(rng, [[0.9, 0.9, 0.9], [0.25, 0.3, 0.45], [0.5, 0.5, 0.5]][rng.integers(3)], 0.05)
    img = lerp(img, cabc * (1 - 0.2 * ((XX3 * 63) % 16 < 1)), band(cab))
    return img


def scene_grass(rng):
    hz = rng.uniform(0.35, 0.6)
    sky = lerp(jit(rng, [0.3, 0.55, 0.95], 0.06), jit(rng, [0.72, 0.86, 1.0], 0.04), np.clip(YY3 / hz, 0, 1))
    for _ in range(int(rng.integers(0, 4))):  # clouds
        cx, cy = rng.uniform(0, 63), rng.uniform(2, hz * 63 - 3)
        for _ in range(3):
            d = soft_disc(cx + rng.uniform(-5, 5), cy + rng.uniform(-1.5, 1.5), rng.uniform(2, 4.5), 2.0)
            sky = lerp(sky, np.float32([1, 1, 1]), d[..., None] * 0.85)
    if rng.random() < 0.5:  # tree line
        tl = hz - rng.uniform(0.02, 0.08) * (0.6 + 0.4 * np.sin(XX * rng.uniform(15, 40)))
        sky = lerp(sky, jit(rng, [0.12, 0.3, 0.12], 0.04), np.clip((YY - tl) * 63 + 0.5, 0, 1)[..., None])
    g = jit(rng, [0.28, 0.6, 0.2], 0.07)
    tex = rng.random((S, S)).astype(np.float32)
    blade = np.sin(XX * rng.uniform(150, 250) + 3 * tex)[..., None]
    ground = g * (0.85 + 0.15 * smooth_noise(rng, 8)[..., None] + 0.08 * blade) * (1 - 0.25 * (YY3 - hz))
    return lerp(sky, ground, band(hz))


BOKEH = [[1.0, 0.85, 0.3], [1.0, 0.55, 0.2], [1.0, 0.35, 0.7], [0.3, 0.85, 1.0], [1.0, 0.95, 0.8], [0.6, 0.4, 1.0]]


def scene_night(rng):
    img = lerp(jit(rng, [0.02, 0.03, 0.1], 0.02), jit(rng, [0.08, 0.06, 0.2], 0.04), YY3)
    hz = rng.uniform(0.6, 0.8)
    x = 0.0
    while x < 1:   # building silhouettes with windows
        w = rng.uniform(0.08, 0.2)
        top = rng.uniform(0.15, hz - 0.05)
        m = ((XX >= x) & (XX < x + w) & (YY >= top)).astype(np.float32)[..., None]
        img = lerp(img, jit(rng, [0.03, 0.03, 0.07], 0.015), m)
        win = ((((XX * 63).astype(np.int64) % 3) == 0) & (((YY * 63).astype(np.int64) % 4) == 0)).astype(np.float32)
        lit = (rng.random((S, S)) < 0.3).astype(np.float32)
        img = img + (m[..., 0] * win * lit)[..., None] * np.float32([0.5, 0.42, 0.15])
        x += w + rng.uniform(0, 0.05)
    for _ in range(int(rng.integers(10, 26))):  # bokeh
        col = np.float32(BOKEH[rng.integers(len(BOKEH))])
        d = soft_disc(rng.uniform(0, 63), rng.uniform(0, hz * 63 + 8), rng.uniform(1.5, 6), 1.5)
        img = lerp(img, col, d[..., None] * rng.uniform(0.3, 0.8))
    floor = lerp(jit(rng, [0.05, 0.05, 0.1], 0.02), img[::-1] * 0.3, 0.5)
    return lerp(img, floor, band(hz))


def scene_marble(rng):
    hz = rng.uniform(0.55, 0.75)
    wallc = jit(rng, [0.92, 0.92, 0.91], 0.04)
    topc = jit(rng, [0.88, 0.88, 0.88], 0.05)
    vc = jit(rng, [0.45, 0.45, 0.5], 0.08)

    def veined(base):
        out = base * (0.96 + 0.04 * smooth_noise(rng, 6)[..., None])
        for _ in range(int(rng.integers(2, 4))):
            a, b = rng.uniform(-1, 1, 2)
            n = smooth_noise(rng, 5)
            v = np.sin((XX * a + YY * b) * rng.uniform(6, 14) + 5 * n + rng.uniform(0, 6))
            line = np.clip(1 - np.abs(v) / rng.uniform(0.05, 0.14), 0, 1)[..., None]
            out = lerp(out, vc, line * rng.uniform(0.35, 0.8))
        return out
    img = lerp(veined(wallc), veined(topc), band(hz))
    img = img - np.exp(-((YY3 - hz) * 63) ** 2 / 1.5) * 0.15
    return img


def render_scene(rng, style):
    name = STYLES[style]
    if name == "beach":
        img = scene_beach(rng)
    elif name == "snow":
        img = scene_snow(rng)
    elif name.startswith("studio"):
        img = scene_studio(rng, name)
    elif name == "wooden-table":
        img = scene_wood(rng)
    elif name == "kitchen":
        img = scene_kitchen(rng)
    elif name == "grass":
        img = scene_grass(rng)
    elif name == "night-city":
        img = scene_night(rng)
    else:
        img = scene_marble(rng)
    if rng.random() < 0.5:
        img = img[:, ::-1]
    return np.clip(img, 0, 1).astype(np.float32)

# ---------------------------------------------------------------------------
# Products (supersampled 2x silhouettes)
# ---------------------------------------------------------------------------


KINDS = ["bottle", "can", "box", "cup", "bag", "shoe"]
ASPECT = {"bottle": (0.28, 0.45), "can": (0.5, 0.72), "box": (0.6, 1.4),
          "cup": (0.8, 1.1), "bag": (0.7, 1.0), "shoe": (1.6, 2.4)}
Y2, X2 = (np.mgrid[0:2 * S, 0:2 * S].astype(np.float32) + 0.5) / 2


def hsv(h, s, v):
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.float32([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


def rand_colour(rng):
    if rng.random() < 0.2:
        g = rng.uniform(0.05, 0.95)
        return np.float32([g, g, g])
    return hsv(rng.random(), rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0))


def render_product(rng, kind, x0, y0, w, h):
    """alpha (S, S) and colour (S, S, 3) of one product in box (x0, y0, w, h), pixels."""
    u = (X2 - x0) / w
    v = (Y2 - y0) / h
    inb = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    c1, c2 = rand_colour(rng), rand_colour(rng)
    part = np.zeros_like(u)  # 1 where second colour
    au = np.abs(u - 0.5)
    if kind == "bottle":
        hw = np.where(v > 0.35, 0.45, np.where(v > 0.2, 0.15 + (v - 0.2) / 0.15 * 0.3, 0.15))
        m = inb & (au < hw) & (v > 0.02)
        part = ((v < 0.1) | ((v > 0.5) & (v < 0.75))).astype(np.float32)
    elif kind == "can":
        r = 0.12
        m = inb & ~(((v < r) | (v > 1 - r)) & (au > 0.5 - r) &
                    (((au - (0.5 - r)) / r) ** 2 + ((np.minimum(v, 1 - v) - r) / r) ** 2 > 1))
        part = ((v > 0.3) & (v < 0.7)).astype(np.float32)
    elif kind == "box":
        m = inb
        part = (v < 0.15).astype(np.float32)
    elif kind == "cup":
        cu = (u - 0.42) / 0.84 + 0.5
        hw = 0.5 - 0.1 * v
        body = inb & (np.abs(cu - 0.5) < hw) & (u < 0.84)
        ring = np.sqrt(((u - 0.84) / 0.16) ** 2 + ((v - 0.45) / 0.25) ** 2)
        handle = inb & (ring < 1) & (ring > 0.55) & (u > 0.8)
        m = body | handle
        part = (handle | (v < 0.08)).astype(np.float32)
    elif kind == "bag":
        body = inb & (v > 0.3) & (au < 0.47)
        ring = np.sqrt(((u - 0.5) / 0.25) ** 2 + ((v - 0.32) / 0.3) ** 2)
        handle = inb & (v < 0.32) & (ring < 1) & (ring > 0.8)
        m = body | handle
        part = handle.astype(np.float32)
    else:  # shoe
        top = np.where(u < 0.35, 0.1, 0.1 + (u - 0.35) / 0.65 * 0.5)
        toe = np.sqrt(((u - 0.75) / 0.27) ** 2 + ((v - 0.75) / 0.35) ** 2) < 1
        m = inb & (v > top) & ((u < 0.75) | toe | (v > 0.85)) & (u > 0.02)
        part = (v > 0.82).astype(np.float32)
    shade = 0.72 + 0.4 * np.sin(np.pi * np.clip(u, 0, 1))
    col = lerp(c1, c2, part[..., None]) * shade[..., None]
    a2 = m.astype(np.float32)
    alpha = a2.reshape(S, 2, S, 2).mean((1, 3))
    colour = (col * a2[..., None]).reshape(S, 2, S, 2, 3).sum((1, 3)) / np.maximum(alpha * 4, 1e-6)[..., None]
    return alpha, np.clip(colour, 0, 1)


def place(rng):
    """A product box as the ketuposter layouts place it (with jitter)."""
    kind = KINDS[rng.integers(len(KINDS))]
    hf = rng.uniform(0.15, 0.6)
    h = hf * S
    w = min(h * rng.uniform(*ASPECT[kind]), 0.9 * S)
    h = min(h, w / ASPECT[kind][0] * 1.0) if kind == "shoe" else h
    mode = rng.random()
    if mode < 0.4:
        xc = 32
    elif mode < 0.6:
        xc = 19
    elif mode < 0.8:
        xc = 45
    else:
        xc = rng.uniform(w / 2 + 1, S - w / 2 - 1)
    xc = np.clip(xc + rng.uniform(-4, 4), w / 2 + 1, S - w / 2 - 1)
    yb = rng.uniform(0.8, 0.93) * S if rng.random() < 0.85 else rng.uniform(h + 2, S - 2)
    yb = max(yb, h + 2)
    return kind, xc - w / 2, yb - h, w, h


def make_sample(rng, style):
    """(scene with product, canvas, alpha) float32, scene/canvas (S,S,3) in [0,1]."""
    scene = render_scene(rng, style)
    n = 0 if rng.random() < 0.05 else 1
    alpha = np.zeros((S, S), np.float32)
    canvas = np.full((S, S, 3), GREY, np.float32)
    for _ in range(n):
        kind, x0, y0, w, h = place(rng)
        a, col = render_product(rng, kind, x0, y0, w, h)
        # soft ground shadow
        cx, cy = x0 + w / 2, y0 + h
        d = ((XX * 63 - cx) / (0.6 * w + 1)) ** 2 + ((YY * 63 - cy) / (0.06 * h + 1.5)) ** 2
        sh = np.clip(1 - d, 0, 1) * rng.uniform(0.2, 0.45)
        scene = scene * (1 - sh[..., None])
        scene = lerp(scene, col, a[..., None])
        canvas = lerp(canvas, col, a[..., None])
        alpha = np.maximum(alpha, a)
    return scene, canvas, alpha


def make_pool(n, seed):
    rng = np.random.default_rng(seed)
    scenes = np.zeros((n, S, S, 3), np.uint8)
    canv = np.zeros((n, S, S, 3), np.uint8)
    alph = np.zeros((n, S, S), np.uint8)
    styles = np.arange(n) % NS
    rng.shuffle(styles)
    for i in range(n):
        sc, ca, al = make_sample(rng, int(styles[i]))
        scenes[i] = np.round(sc * 255)
        canv[i] = np.round(ca * 255)
        alph[i] = np.round(al * 255)
    return (torch.from_numpy(scenes), torch.from_numpy(canv), torch.from_numpy(alph),
            torch.from_numpy(styles.astype(np.int64)))


def to_signed(u8):
    """uint8 [N,H,W,3] -> float [-1,1] [N,3,H,W]."""
    return u8.permute(0, 3, 1, 2).float() / 127.5 - 1

# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------


class Res(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.PixelUnshuffle(2), nn.Conv2d(12, 48, 3, padding=1), nn.SiLU(),
            nn.Conv2d(48, 64, 3, stride=2, padding=1), Res(64), Res(64),
            nn.SiLU(), nn.Conv2d(64, C, 1))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(C, 64, 3, padding=1), Res(64), Res(64), nn.SiLU(),
            nn.Upsample(scale_factor=2.0, mode="nearest"),
            nn.Conv2d(64, 48, 3, padding=1), nn.SiLU(),
            nn.Conv2d(48, 48, 3, padding=1), nn.SiLU(),
            nn.Conv2d(48, 12, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, z):
        return self.net(z)


class TextEncoder(nn.Module):
    """UTF-8 bytes (+1, pad 0) -> [B, 128]; an all-zero mask row -> learned null embedding."""

    def __init__(self, d=128):
        super().__init__()
        self.emb = nn.Embedding(257, 64)
        self.c1 = nn.Conv1d(64, 128, 3, padding=1)
        self.c2 = nn.Conv1d(128, 128, 3, padding=1)
        self.c3 = nn.Conv1d(128, 128, 3, padding=2, dilation=2)
        self.out = nn.Linear(256, d)
        self.null = nn.Parameter(torch.zeros(d))

    def forward(self, ids, mask):
        m = mask.to(torch.float32).unsqueeze(1)                     # B,1,L
        x = self.emb(ids.clamp(0, 256)).transpose(1, 2) * m
        h = F.silu(self.c1(x)) * m
        h = h + F.silu(self.c2(h)) * m
        h = h + F.silu(self.c3(h)) * m
        mx = (h - (1.0 - m) * 1e4).max(dim=2)[0]
        mean = h.sum(2) / m.sum(2).clamp(min=1.0)
        e = self.out(torch.cat([mx, mean], 1))
        has = (mask.sum(1) > 0).to(torch.float32).unsqueeze(1)
        return has * e + (1.0 - has) * self.null.unsqueeze(0)


class RB(nn.Module):
    def __init__(self, cin, cout, dc):
        super().__init__()
        self.n1 = nn.GroupNorm(8, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(dc, 2 * cout)
        self.n2 = nn.GroupNorm(8, cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)

    def forward(self, x, c):
        h = self.c1(F.silu(self.n1(x)))
        sb = self.film(c)
        n = h.shape[1]
        s = sb[:, :n].unsqueeze(2).unsqueeze(3)
        b = sb[:, n:].unsqueeze(2).unsqueeze(3)
        h = self.n2(h) * (1.0 + s) + b
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class UNet(nn.Module):
    def __init__(self, c1=64, c2=96, c3=128, dc=128):
        super().__init__()
        self.t1 = nn.Linear(64, dc)
        self.t2 = nn.Linear(dc, dc)
        self.e1 = nn.Linear(128, dc)
        self.cin = nn.Conv2d(2 * C + 1, c1, 3, padding=1)
        self.d1 = RB(c1, c1, dc)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.d2 = RB(c2, c2, dc)
        self.down2 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)
        self.m1 = RB(c3, c3, dc)
        self.u2 = RB(c3 + c2, c2, dc)
        self.u1 = RB(c2 + c1, c1, dc)
        self.nout = nn.GroupNorm(8, c1)
        self.cout = nn.Conv2d(c1, C, 3, padding=1)
        nn.init.zeros_(self.cout.weight)
        nn.init.zeros_(self.cout.bias)
        freqs = torch.exp(-math.log(10000.0) * torch.arange(32, dtype=torch.float32) / 32)
        self.register_buffer("freqs", freqs)

    def forward(self, x, t, emb, cond):
        a = (t.to(torch.float32) * 1000.0).unsqueeze(1) * self.freqs.unsqueeze(0)
        te = torch.cat([torch.sin(a), torch.cos(a)], 1)
        c = F.silu(self.t2(F.silu(self.t1(te))) + self.e1(emb))
        h = self.cin(torch.cat([x, cond], 1))
        s1 = self.d1(h, c)
        s2 = self.d2(self.down1(s1), c)
        h = self.m1(self.down2(s2), c)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.u2(torch.cat([h, s2], 1), c)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.u1(torch.cat([h, s1], 1), c)
        return self.cout(F.silu(self.nout(h)))


class Poster(nn.Module):
    """The exported package: the four methods docs/models.md names for `poster`."""

    def __init__(self, enc, dec, text, unet, scale: float):
        super().__init__()
        self.enc = enc
        self.dec = dec
        self.text = text
        self.unet = unet
        self.scale = scale

    @torch.jit.export
    def encode_prompt(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.text(ids.to(torch.int64), mask.to(torch.int64))

    @torch.jit.export
    def denoise(self, latents: torch.Tensor, t: torch.Tensor, emb: torch.Tensor,
                cond: torch.Tensor) -> torch.Tensor:
        x = latents.select(2, 0).contiguous()
        c = cond.select(2, 0).contiguous()
        return self.unet(x, t.reshape(-1), emb.reshape(emb.shape[0], -1), c).unsqueeze(2)

    @torch.jit.export
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        z = latents.select(2, 0).contiguous() / self.scale
        img = self.dec(z).clamp(-1.0, 1.0)
        return img.permute(0, 2, 3, 1).unsqueeze(1).contiguous()

    @torch.jit.export
    def encode_image(self, frame: torch.Tensor) -> torch.Tensor:
        z = self.enc(frame.to(torch.float32).contiguous()) * self.scale
        return z.unsqueeze(2)


class StyleNet(nn.Module):
    """The scorer: which style is this 64x64 scene?"""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.SiLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, NS))

    def forward(self, x):
        return self.net(x)


def nparams(m):
    return sum(p.numel() for p in m.parameters())

# ---------------------------------------------------------------------------
# Training stages
# ---------------------------------------------------------------------------


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def train_classifier(seed, steps, n=4000):
    torch.manual_seed(seed)
    sc, _, _, st = make_pool(n, seed)
    x_all = to_signed(sc)
    net = StyleNet()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    g = torch.Generator().manual_seed(seed)
    for i in range(steps):
        idx = torch.randint(0, n, (64,), generator=g)
        x = x_all[idx]
        if i % 2:
            x = x.flip(3)
        x = x + 0.03 * torch.randn(x.shape, generator=g)   # tolerate decoder blur/noise
        loss = F.cross_entropy(net(x), st[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    tsc, _, _, tst = make_pool(500, seed + 7777)
    with torch.no_grad():
        acc = (net(to_signed(tsc)).argmax(1) == tst).float().mean().item()
    return net, acc


def load_or_train_classifier(smoke=False):
    if os.path.exists(CLASSIFIER) and not smoke:
        net = StyleNet()
        net.load_state_dict(torch.load(CLASSIFIER))
        net.eval()
        return net, None
    return train_classifier(4242, 2 if smoke else 600, 200 if smoke else 4000)


def train_ae(enc, dec, scenes, canv, deadline, max_steps, batch=32, seed=1):
    opt = torch.optim.AdamW(list(enc.parameters()) + list(dec.parameters()), 2e-3, weight_decay=1e-5)
    g = torch.Generator().manual_seed(seed)
    n = scenes.shape[0]
    t0 = time.time()
    step = 0
    total = max(deadline - t0, 1)
    while step < max_steps and time.time() < deadline:
        frac = (time.time() - t0) / total
        for pg in opt.param_groups:
            pg["lr"] = 2e-3 * min(1, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(frac, 1))))
        idx = torch.randint(0, n, (batch,), generator=g)
        nc = batch // 4
        x = torch.cat([to_signed(scenes[idx[nc:]]), to_signed(canv[idx[:nc]])])
        z = enc(x)
        zn = z + 0.05 * z.detach().std() * torch.randn(z.shape, generator=g)
        y = dec(zn)
        loss = F.l1_loss(y, x) + F.mse_loss(y, x) + 1e-4 * z.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            log(f"ae step {step} loss {loss.item():.4f}")
        step += 1
    return step


@torch.no_grad()
def encode_pool(enc, u8, bs=256):
    out = []
    for i in range(0, u8.shape[0], bs):
        out.append(enc(to_signed(u8[i:i + bs])))
    return torch.cat(out)


def train_denoiser(text, unet, ema_text, ema_unet, data, deadline, max_steps,
                   batch=64, seed=2, lr=1.5e-3):
    z, zc, cov, st = data
    tp = train_prompts()
    ids, mask = tokenize([p for p, _ in tp])
    pst = torch.tensor([s for _, s in tp])
    by_style = [torch.nonzero(pst == s).flatten() for s in range(NS)]
    aux = nn.Linear(128, NS)   # training aid: prompt embedding -> style
    params = list(text.parameters()) + list(unet.parameters()) + list(aux.parameters())
    opt = torch.optim.AdamW(params, lr, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    n = z.shape[0]
    t0 = time.time()
    total = max(deadline - t0, 1)
    step = 0
    run = 0.0
    while step < max_steps and time.time() < deadline:
        frac = (time.time() - t0) / total
        for pg in opt.param_groups:
            pg["lr"] = lr * min(1, (step + 1) / 100) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(frac, 1))))
        idx = torch.randint(0, n, (batch,), generator=g)
        x0, c_lat, c_cov, s = z[idx], zc[idx], cov[idx], st[idx]
        pick = torch.stack([by_style[int(k)][torch.randint(0, len(by_style[int(k)]), (1,), generator=g)][0] for k in s])
        bi, bm = ids[pick].clone(), mask[pick].clone()
        drop = torch.rand(batch, generator=g) < 0.12
        bi[drop] = 0
        bm[drop] = 0
        t = torch.rand(batch, generator=g)
        noise = torch.randn(x0.shape, generator=g)
        tt = t.view(-1, 1, 1, 1)
        xt = (1 - tt) * x0 + tt * noise
        emb = text(bi, bm)
        v = unet(xt, t, emb, torch.cat([c_lat, c_cov], 1))
        w = 1.0 - 0.7 * c_cov
        loss = (((v - (noise - x0)) ** 2) * w).mean()
        keep = ~drop
        aux_loss = F.cross_entropy(aux(emb[keep]), s[keep]) if bool(keep.any()) else emb.sum() * 0
        tot = loss + 0.05 * aux_loss
        opt.zero_grad()
        tot.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        d = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for m, e in ((text, ema_text), (unet, ema_unet)):
                for p, q in zip(m.parameters(), e.parameters()):
                    q.mul_(d).add_(p.detach(), alpha=1 - d)
        run = loss.item() if step == 0 else 0.98 * run + 0.02 * loss.item()
        if step % 100 == 0:
            log(f"denoise step {step} loss {run:.4f} aux {aux_loss.item():.3f} lr {opt.param_groups[0]['lr']:.2e}")
        step += 1
    return step

# ---------------------------------------------------------------------------
# Export, sampling and scoring (over the loaded TorchScript)
# ---------------------------------------------------------------------------


def manifest(scale, description, steps, guidance):
    return {"format": 1, "name": "kling-poster", "task": "poster",
            "description": description,
            "methods": ["encode_prompt", "denoise", "decode", "encode_image"],
            "latent": {"channels": C, "frames": 1, "height": LH, "width": LH, "scale": scale},
            "size": {"width": S, "height": S}, "fps": 1,
            "prediction": "flow", "schedule": {"type": "flow"}, "context_frames": 0,
            "tokenizer": {"type": "utf8-bytes", "max_length": MAXLEN, "offset": 1, "pad": 0},
            "styles": STYLES,
            "defaults": {"steps": steps, "guidance_scale": guidance, "sampler": "euler"}}


def load_wrap():
    spec = importlib.util.spec_from_file_location(
        "kling_wrap", os.path.join(HERE, "..", "kling-wrap.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.wrap


def export(enc, dec, text, unet, scale, path, description, steps, guidance):
    m = Poster(enc, dec, text, unet, float(scale)).eval()
    sm = torch.jit.script(m)
    load_wrap()(sm, manifest(float(scale), description, steps, guidance), path)
    return sm


@torch.no_grad()
def sample(model, prompts, canvases, alphas, seeds, steps, guidance):
    """Euler + CFG exactly as the C core: rows [uncond, cond], t = 1 - i/steps.
    canvases: uint8 [N,S,S,3]; alphas: uint8 [N,S,S]. Returns uint8 [N,S,S,3]
    with the product's own pixels put back."""
    out = []
    for i, p in enumerate(prompts):
        ids, mask = tokenize(["", p])
        emb = model.encode_prompt(ids, mask)
        frame = to_signed(canvases[i:i + 1]).contiguous(memory_format=torch.channels_last)
        zc = model.encode_image(frame)
        a = alphas[i:i + 1].float().div(255).unsqueeze(1)
        cov = F.avg_pool2d(a, S // LH).unsqueeze(2)
        cond = torch.cat([zc, cov], 1).repeat(2, 1, 1, 1, 1)
        g = torch.Generator().manual_seed(int(seeds[i]))
        x = torch.randn((1, C, 1, LH, LH), generator=g)
        for k in range(steps):
            t, tn = 1 - k / steps, 1 - (k + 1) / steps
            v = model.denoise(x.repeat(2, 1, 1, 1, 1), torch.full((2,), t), emb, cond)
            v = v[0:1] + guidance * (v[1:2] - v[0:1])
            x = x + (tn - t) * v
        img = model.decode(x)[0, 0]                       # S,S,3 in [-1,1]
        img = (img + 1) * 127.5
        al = alphas[i].float().div(255).unsqueeze(2)
        img = img * (1 - al) + canvases[i].float() * al
        out.append(img.round().clamp(0, 255).to(torch.uint8))
    return torch.stack(out)


def score(path, steps=None, guidance=None, smoke=False, quiet=False):
    extra = {"kling.json": ""}
    model = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    man = json.loads(extra["kling.json"])
    steps = steps or man["defaults"]["steps"]
    guidance = guidance if guidance is not None else man["defaults"]["guidance_scale"]
    clf, clf_acc = load_or_train_classifier(smoke)
    held = held_prompts()
    if smoke:
        held = held[:2]
    rng = np.random.default_rng(99)
    prompts, canv, alph, labels, seeds = [], [], [], [], []
    for j, (p, s) in enumerate(held):
        _, ca, al = make_sample(rng, s)
        while al.max() == 0:
            _, ca, al = make_sample(rng, s)
        for k in range(4):   # 4 variants (seeds) of one prompt and product
            prompts.append(p)
            canv.append(np.round(ca * 255).astype(np.uint8))
            alph.append(np.round(al * 255).astype(np.uint8))
            labels.append(s)
            seeds.append(1000 + 17 * j + k)
    canv = torch.from_numpy(np.stack(canv))
    alph = torch.from_numpy(np.stack(alph))
    t0 = time.time()
    imgs = sample(model, prompts, canv, alph, seeds, steps, guidance)
    dt = (time.time() - t0) / len(prompts)
    with torch.no_grad():
        pred = clf(to_signed(imgs)).argmax(1)
    labels = torch.tensor(labels)
    acc = (pred == labels).float().mean().item()
    per_style = {STYLES[s]: round((pred[labels == s] == s).float().mean().item(), 3)
                 for s in range(NS) if bool((labels == s).any())}
    f = imgs.float()
    diffs = []
    for j in range(0, len(prompts), 4):
        for a in range(4):
            for b in range(a + 1, 4):
                diffs.append((f[j + a] - f[j + b]).abs().mean().item())
    res = {"style_accuracy_heldout": round(acc, 4), "per_style": per_style,
           "variant_pixel_diff": round(float(np.mean(diffs)), 2),
           "n_posters": len(prompts), "n_prompts": len(prompts) // 4,
           "steps": steps, "guidance": guidance,
           "seconds_per_poster": round(dt, 3)}
    if clf_acc is not None:
        res["classifier_accuracy_real"] = round(clf_acc, 4)
    if not quiet:
        print(json.dumps(res, ensure_ascii=False))
    return res, imgs


def write_ppm_grid(imgs, path, cols=8):
    n = imgs.shape[0]
    rows = (n + cols - 1) // cols
    grid = torch.zeros(rows * S, cols * S, 3, dtype=torch.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * S:(r + 1) * S, c * S:(c + 1) * S] = imgs[i]
    with open(path, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (cols * S, rows * S))
        f.write(grid.numpy().tobytes())

# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30.0,
                    help="budget for data, classifier, autoencoder and denoiser (scoring runs after)")
    ap.add_argument("--ae-fraction", type=float, default=0.25,
                    help="share of --minutes for data, classifier and autoencoder")
    ap.add_argument("--pool", type=int, default=16000, help="synthetic samples")
    ap.add_argument("--steps", type=int, help="sampling steps (manifest default when training: 16)")
    ap.add_argument("--guidance", type=float, help="guidance scale (manifest default when training: 3.0)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--output", default=SHIPPED, help="model package to write")
    ap.add_argument("--smoke", action="store_true",
                    help="one step per stage, tiny data; needs --output elsewhere")
    ap.add_argument("--force", action="store_true", help="let --smoke write the shipped path")
    ap.add_argument("--score", metavar="PATH", help="score a package and exit")
    ap.add_argument("--grid", metavar="PPM", help="with --score: write the posters as a PPM grid")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.score:
        res, imgs = score(args.score, args.steps, args.guidance)
        if args.grid:
            write_ppm_grid(imgs, args.grid)
        return 0
    if args.smoke and os.path.abspath(args.output) == SHIPPED and not args.force:
        ap.error("--smoke would overwrite the shipped model; pass --output /tmp/x.pt")

    args.steps = args.steps or 16
    args.guidance = 3.0 if args.guidance is None else args.guidance
    t_start = time.time()
    deadline = t_start + args.minutes * 60
    torch.manual_seed(args.seed)
    n = 64 if args.smoke else args.pool
    log(f"rendering {n} samples")
    scenes, canv, alph, st = make_pool(n, args.seed)
    log("rendered")

    clf, clf_acc = train_classifier(4242, 2 if args.smoke else 600, 200 if args.smoke else 4000)
    log(f"style classifier accuracy on real scenes {clf_acc:.3f}, {nparams(clf)} params")
    if not args.smoke:
        torch.save(clf.state_dict(), CLASSIFIER)

    enc, dec = Encoder(), Decoder()
    ae_deadline = t_start + (deadline - t_start) * args.ae_fraction
    ae_steps = train_ae(enc, dec, scenes, canv, ae_deadline, 1 if args.smoke else 10 ** 9)
    enc.eval()
    dec.eval()
    for p in list(enc.parameters()) + list(dec.parameters()):
        p.requires_grad_(False)
    with torch.no_grad():
        x = to_signed(scenes[:256])
        ae_mae = (dec(enc(x)) - x).abs().mean().item() * 127.5
    log(f"ae: {ae_steps} steps, reconstruction MAE {ae_mae:.2f}/255")

    z = encode_pool(enc, scenes)
    zc = encode_pool(enc, canv)
    scale = 1.0 / float(z.std())
    z, zc = z * scale, zc * scale
    cov = F.avg_pool2d(alph.float().div(255).unsqueeze(1), S // LH)
    log(f"latents encoded, scale {scale:.4f}")

    text, unet = TextEncoder(), UNet()
    ema_text, ema_unet = TextEncoder(), UNet()
    ema_text.load_state_dict(text.state_dict())
    ema_unet.load_state_dict(unet.state_dict())
    for p in list(ema_text.parameters()) + list(ema_unet.parameters()):
        p.requires_grad_(False)
    log(f"params: encoder {nparams(enc)}, decoder {nparams(dec)}, text {nparams(text)}, unet {nparams(unet)}")
    dn_steps = train_denoiser(text, unet, ema_text, ema_unet, (z, zc, cov, st), deadline,
                              1 if args.smoke else 10 ** 9)
    train_min = (time.time() - t_start) / 60
    log(f"denoiser: {dn_steps} steps; training took {train_min:.1f} min")

    total = nparams(enc) + nparams(dec) + nparams(ema_text) + nparams(ema_unet)
    desc = (f"Latent flow-matching inpainting for e-commerce posters: a {C}x{LH}x{LH} conv autoencoder "
            f"({S}x{S} RGB), a byte-level text encoder and a conv U-Net conditioned on the canvas latents "
            f"+ product coverage; {total} parameters, trained on CPU in {train_min:.0f} min "
            f"({ae_steps} autoencoder + {dn_steps} denoiser steps) on synthetic scenes in {NS} styles "
            f"with Chinese/English prompts (models/poster/train.py).")
    tmp = args.output + ".tmp"
    export(enc, dec, ema_text, ema_unet, scale, tmp, desc, args.steps, args.guidance)
    res, imgs = score(tmp, args.steps, args.guidance, smoke=args.smoke, quiet=True)
    desc += (f" Style-following accuracy on held-out phrasings {res['style_accuracy_heldout']:.2f}"
             f" ({res['n_posters']} posters, {args.steps} Euler steps, guidance {args.guidance}); "
             f"mean pixel difference between seeds {res['variant_pixel_diff']:.1f}/255; "
             f"autoencoder MAE {ae_mae:.1f}/255.")
    export(enc, dec, ema_text, ema_unet, scale, args.output, desc, args.steps, args.guidance)
    os.remove(tmp)
    res.update({"train_minutes": round(train_min, 1), "ae_steps": ae_steps, "denoiser_steps": dn_steps,
                "ae_mae_255": round(ae_mae, 2), "params": total, "scale": round(scale, 5),
                "size_bytes": os.path.getsize(args.output)})
    if clf_acc is not None:
        res["classifier_accuracy_real"] = round(clf_acc, 4)
    print(json.dumps(res, ensure_ascii=False), flush=True)
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
