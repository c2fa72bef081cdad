#!/usr/bin/python3
"""Recipe of gst-kling's default copywriter (kling-copywrite.pt).

aiproductdetect crops each product it finds, stretches the crop to 64x64 RGB
and asks this model for one line of marketing copy, byte by byte, in Chinese
(lang 0) or English (lang 1).  The line must fit what the model sees: a red
can and a blue bottle get different copy, naming their colour and kind.

Data, made here (deterministic, seeded):
  * product crops: six kinds (bottle, can, box, cup, bag, shoe) as shaded
    silhouettes (varied proportions, cap / rim / handle / sole, a highlight,
    a label band or ribbon), a little turned sometimes; ten colours, each a
    region of the whole colour space (colour_name: light, dark, dull and
    vivid paints of every hue get the word a shopper would use; a quarter of
    the paints near the colour's prototype); photo, strong-light, flat or
    toon shading, outlines, prints in another colour (stripes, dots, band,
    logo, text marks; at most a third of the body), parts of any colour,
    surface texture; on plain, gradient, blotchy-noise, table/wall, grain
    and cluttered backgrounds, tinted rooms; framed as a detector's box
    would be (loose or tight margins, offset, sometimes cut or with a piece
    of a neighbour or something in front), then light falloff, exposure,
    white balance, gamma, noise, blur, a small product's few pixels
    stretched back up, and JPEG;
  * a corpus: for each kind, colour, style (festive, minimal, sporty,
    luxury, eco, cute) and language, lines from ten template families per
    language with synonym slots (colour, kind, style, kind-specific and
    general benefits, openers, calls to action); every line names the colour
    and the kind and no other colour or kind (checked at start-up).

Model: a small CNN encodes the crop (plus the mean colour of the whole crop
and of its centre); a colour head (trained with an auxiliary loss) turns it
into an explicit colour slot; with label and language embeddings that makes a
4-slot memory.  A GRU over UTF-8 bytes (vocabulary 258: bytes, BOS 256, EOS
257) predicts the next byte from the memory and the prefix.  decode_step
runs the GRU over the whole prefix, as aiproductdetect's C loop expects.

  nice -n 19 /usr/bin/python3 models/copywrite/train.py --minutes 40 --threads 2
  nice -n 19 /usr/bin/python3 models/copywrite/train.py --minutes 55 --threads 2 \
      --init models/kling-copywrite.pt --lr 1.5e-3 --output /tmp/c.pt
  /usr/bin/python3 models/copywrite/train.py --smoke --output /tmp/c.pt
  /usr/bin/python3 models/copywrite/train.py --score models/kling-copywrite.pt
  /usr/bin/python3 models/copywrite/train.py --score-other models/kling-copywrite.pt
"""
import argparse
import importlib.util
import io
import json
import math
import os
import re
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.normpath(os.path.join(HERE, "..", "kling-copywrite.pt"))
LABELS = ["bottle", "can", "box", "cup", "bag", "shoe"]
BOS, EOS, VOCAB, MAXLEN = 256, 257, 258, 96
MAXBYTES = 95
SIZE = 64

# ---------------------------------------------------------------------------
# Colours: HSV ranges of the product paint, and their words.  Every zh word
# contains the base word (红色 ...), every en word the base word (red ...),
# so a line names its colour unambiguously.

COLOURS = {  # name: (hue centre, hue jitter, sat range, value range)
    "red": (0.0, 0.025, (0.7, 1.0), (0.6, 1.0)),
    "orange": (0.075, 0.015, (0.75, 1.0), (0.82, 1.0)),
    "yellow": (0.155, 0.015, (0.65, 1.0), (0.82, 1.0)),
    "green": (0.34, 0.05, (0.55, 1.0), (0.4, 0.9)),
    "blue": (0.61, 0.04, (0.55, 1.0), (0.45, 1.0)),
    "purple": (0.78, 0.03, (0.45, 0.9), (0.4, 0.85)),
    "pink": (0.93, 0.03, (0.25, 0.5), (0.88, 1.0)),
    "brown": (0.07, 0.02, (0.55, 0.85), (0.28, 0.48)),
    "black": (None, 0.0, (0.0, 0.3), (0.03, 0.15)),
    "white": (None, 0.0, (0.0, 0.07), (0.86, 1.0)),
}
CNAMES = list(COLOURS)
COLOUR_EN = {
    "red": ["red", "cherry red", "bright red"], "orange": ["orange", "bright orange", "tangerine orange"],
    "yellow": ["yellow", "lemon yellow", "sunny yellow"], "green": ["green", "forest green", "mint green"],
    "blue": ["blue", "ocean blue", "sky blue"], "purple": ["purple", "lavender purple", "deep purple"],
    "pink": ["pink", "rose pink", "soft pink"], "brown": ["brown", "chocolate brown", "caramel brown"],
    "black": ["black", "jet black", "matte black"], "white": ["white", "snow white", "pure white"]}
COLOUR_ZH = {
    "red": ["红色", "大红色", "正红色"], "orange": ["橙色", "亮橙色", "活力橙色"],
    "yellow": ["黄色", "明黄色", "柠檬黄色"], "green": ["绿色", "草绿色", "森林绿色"],
    "blue": ["蓝色", "天蓝色", "海蓝色"], "purple": ["紫色", "浅紫色", "梦幻紫色"],
    "pink": ["粉色", "樱花粉色", "浅粉色"], "brown": ["棕色", "焦糖棕色", "咖啡棕色"],
    "black": ["黑色", "经典黑色", "酷黑色"], "white": ["白色", "纯白色", "奶白色"]}
COLOUR_BASE_ZH = {c: w[0] for c, w in COLOUR_ZH.items()}

KIND_EN = {"bottle": ["bottle", "water bottle", "sports bottle"],
           "can": ["can", "drink can", "soda can"],
           "box": ["box", "gift box", "storage box"],
           "cup": ["cup", "mug", "coffee cup"],
           "bag": ["bag", "tote bag", "handbag"],
           "shoe": ["shoe", "sneaker", "running shoe"]}
KIND_ZH = {"bottle": ["瓶子", "水瓶", "保温瓶", "随手瓶"],
           "can": ["罐子", "易拉罐", "饮料罐", "铁罐"],
           "box": ["盒子", "礼盒", "收纳盒", "礼品盒"],
           "cup": ["杯子", "马克杯", "水杯", "咖啡杯"],
           "bag": ["包包", "手提包", "托特包", "单肩包"],
           "shoe": ["鞋子", "运动鞋", "休闲鞋", "跑鞋"]}
# what the scorer looks for (a line must name its kind and no other)
KIND_RE_EN = {"bottle": r"\bbottles?\b", "can": r"\bcans?\b", "box": r"\bbox(es)?\b",
              "cup": r"\b(cup|mug)s?\b", "bag": r"\b(bag|handbag)s?\b",
              "shoe": r"\b(shoe|sneaker)s?\b"}
KIND_CHAR_ZH = {"bottle": "瓶", "can": "罐", "box": "盒", "cup": "杯", "bag": "包", "shoe": "鞋"}

STYLES = ["festive", "minimal", "sporty", "luxury", "eco", "cute"]
STYLE_EN = {"festive": ["festive", "party-ready", "celebration-ready"],
            "minimal": ["minimal", "clean-lined", "simple"],
            "sporty": ["sporty", "energetic", "active"],
            "luxury": ["luxury", "premium", "elegant"],
            "eco": ["eco-friendly", "sustainable", "planet-friendly"],
            "cute": ["cute", "adorable", "playful"]}
STYLE_ZH = {"festive": ["喜庆", "节日"], "minimal": ["简约", "极简"],
            "sporty": ["运动", "活力"], "luxury": ["奢华", "轻奢"],
            "eco": ["环保", "自然"], "cute": ["可爱", "萌趣"]}
BENEFIT_EN = {
    "bottle": ["keeps drinks cold all day", "leak-proof and light", "your daily hydration buddy"],
    "can": ["ice-cold refreshment", "fizzy and crisp", "easy to pop open"],
    "box": ["keeps everything tidy", "perfect for gifting", "sturdy and stackable"],
    "cup": ["keeps coffee hot", "perfect for morning tea", "comfy to hold"],
    "bag": ["room for all your essentials", "light on the shoulder", "from work to weekend"],
    "shoe": ["cushioned for all-day comfort", "light on your feet", "grips every step"],
    None: ["made to last", "a gift they will love", "stands out anywhere", "great value"]}
BENEFIT_ZH = {
    "bottle": ["保冷保温一整天", "防漏设计好携带", "随时补水不费力"],
    "can": ["冰爽畅饮", "一口清爽", "轻轻一拉就开"],
    "box": ["收纳整齐不凌乱", "送礼超有面子", "结实又耐用"],
    "cup": ["咖啡一直热乎乎", "早茶好伴侣", "握感舒适"],
    "bag": ["大容量超能装", "背着轻松不累", "通勤周末都好搭"],
    "shoe": ["软弹舒适走一天", "轻盈不累脚", "防滑稳稳的"],
    None: ["品质看得见", "颜值超高", "性价比之王", "送礼自用两相宜"]}
CTA_EN = ["Shop now!", "Grab yours today!", "Tap to buy!", "Limited stock, order now!",
          "Add to cart now!", "Don't miss out!"]
CTA_ZH = ["立即下单！", "限时抢购！", "快来带回家！", "手慢无！", "点击购买！", "直播间专享价！"]
OPENER_EN = ["New in:", "Hot pick:", "Just dropped:", "Live deal:", "Today only:"]
OPENER_ZH = ["新品上架：", "爆款推荐：", "直播特惠：", "今日必抢："]
EN_T = [
    "{opener} {style} {colour} {kind}, {benefit}.",
    "Meet the {colour} {kind}: {style}, {benefit}. {cta}",
    "{Colour} {kind}, {style} and {benefit}. {cta}",
    "Your new favourite {kind} in {colour}. {Benefit}! {cta}",
    "{Style} vibes with this {colour} {kind} - {benefit}!",
    "Go {colour}! A {style} {kind}, {benefit}.",
    "{cta} The {colour} {kind}: {style} and {benefit}.",
    "Looking for a {kind}? Try this {style} {colour} one - {benefit}.",
    "{Colour} is the new must-have: a {style} {kind}, {benefit}.",
    "{opener} the {colour} {kind}. {Style}, {benefit}. {cta}",
]
ZH_T = [
    "{opener}{style}风{colour}{kind}，{benefit}！",
    "这款{colour}{kind}，{style}又实用，{benefit}。{cta}",
    "{cta}{colour}{kind}，{benefit}，{style}首选。",
    "{style}控必入！{colour}{kind}，{benefit}。",
    "就爱这款{colour}{kind}！{benefit}，{cta}",
    "{colour}{kind}上新啦，{style}风格，{benefit}。",
    "{benefit}的{colour}{kind}，{style}感拉满！",
    "家人们看过来，{colour}{kind}{style}上线，{cta}",
    "{colour}控看这里：{style}{kind}，{benefit}。",
    "今天主推{colour}{kind}，{style}百搭，{cta}",
]


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def make_line(rng, kind, colour, lang, style=None):
    """One line of copy (UTF-8 bytes, at most MAXBYTES) for a kind and colour."""
    style = style or _pick(rng, STYLES)
    for _ in range(20):
        if lang == 1:
            cw, sw = _pick(rng, COLOUR_EN[colour]), _pick(rng, STYLE_EN[style])
            bw = _pick(rng, BENEFIT_EN[kind] if rng.random() < 0.7 else BENEFIT_EN[None])
            s = _pick(rng, EN_T).format(
                opener=_pick(rng, OPENER_EN), cta=_pick(rng, CTA_EN), style=sw,
                Style=sw[0].upper() + sw[1:], colour=cw, Colour=cw[0].upper() + cw[1:],
                kind=_pick(rng, KIND_EN[kind]), benefit=bw, Benefit=bw[0].upper() + bw[1:])
            s = re.sub(r"\b([Aa]) ([aeiouAEIOU])", r"\1n \2", s)
        else:
            s = _pick(rng, ZH_T).format(
                opener=_pick(rng, OPENER_ZH), cta=_pick(rng, CTA_ZH),
                style=_pick(rng, STYLE_ZH[style]), colour=_pick(rng, COLOUR_ZH[colour]),
                kind=_pick(rng, KIND_ZH[kind]),
                benefit=_pick(rng, BENEFIT_ZH[kind] if rng.random() < 0.7 else BENEFIT_ZH[None]))
        b = s.encode("utf-8")
        if len(b) <= MAXBYTES:
            return b
    raise RuntimeError(f"no line short enough for {kind} {colour} {lang}")


def colours_named(s, lang):
    if lang == 1:
        return {c for c in CNAMES if re.search(r"\b" + c + r"\b", s.lower())}
    return {c for c in CNAMES if COLOUR_BASE_ZH[c] in s}


def kinds_named(s, lang):
    if lang == 1:
        return {k for k in LABELS if re.search(KIND_RE_EN[k], s.lower())}
    return {k for k in LABELS if KIND_CHAR_ZH[k] in s}


def check_corpus(n=4000, seed=3):
    """Every line names its colour and kind and nothing else; returns stats."""
    rng = np.random.default_rng(seed)
    seen, longest = [set(), set()], [0, 0]
    for i in range(n):
        k, c, g = LABELS[i % 6], CNAMES[(i // 6) % 10], (i // 60) % 2
        b = make_line(rng, k, c, g)
        s = b.decode("utf-8")
        assert colours_named(s, g) == {c}, (s, c)
        assert kinds_named(s, g) == {k}, (s, k)
        seen[g].add(s)
        longest[g] = max(longest[g], len(b))
    return {"sampled": n, "distinct_zh": len(seen[0]), "distinct_en": len(seen[1]),
            "longest_bytes_zh": longest[0], "longest_bytes_en": longest[1]}


# ---------------------------------------------------------------------------
# Crops

def hsv2rgb(h, s, v):
    h = h % 1.0
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i],
                    np.float32)


def colour_name(h, s, v):
    """The colour word of a paint (hue in degrees, saturation and value in
    [0, 1]), or None for what has none of the ten (greys, dark magenta).  The
    ten names split the whole colour space, so a paint of any hue, however
    light, dark or dull, is named as a shopper would name it; the prototypes
    in COLOURS are the middles of these regions."""
    h = h % 360.0
    if v < 0.22 or (v < 0.3 and s < 0.3):
        return "black"
    if s < 0.13:
        return "white" if v >= 0.76 else None          # greys: no word
    if (h >= 330 or h < 14) and s <= 0.55 and v >= 0.76:
        return "pink"                                   # light rose
    if s < 0.25:
        return None
    if h >= 345 or h < 11:
        return "red" if v >= 0.35 else None
    if h < 44:
        if v < 0.67:
            return "brown"
        if h < 14:
            return "red"
        return "orange" if s >= 0.55 else None          # beige / tan: none
    if h < 73:
        return "yellow" if v >= 0.62 and s >= 0.35 else None   # olive, cream: none
    if h < 178:
        return "green"
    if h < 256:
        return "blue"
    if h < 298:
        return "purple"
    if h < 305:
        return "pink" if v >= 0.62 else "purple"
    return "pink" if v >= 0.62 else None                # dark magenta: none


# where to look for a paint of each name: hue (degrees, may pass 360), sat, value
REGION = {"red": ((345, 371), (0.25, 1.0), (0.35, 1.0)),
          "orange": ((14, 44), (0.55, 1.0), (0.67, 1.0)),
          "yellow": ((44, 73), (0.35, 1.0), (0.62, 1.0)),
          "green": ((73, 178), (0.25, 1.0), (0.22, 1.0)),
          "blue": ((178, 256), (0.25, 1.0), (0.22, 1.0)),
          "purple": ((256, 305), (0.25, 1.0), (0.22, 1.0)),
          "pink": ((298, 374), (0.13, 1.0), (0.62, 1.0)),
          "brown": ((11, 44), (0.25, 1.0), (0.22, 0.67)),
          "black": ((0, 360), (0.0, 1.0), (0.0, 0.3)),
          "white": ((0, 360), (0.0, 0.13), (0.76, 1.0))}
PROTOTYPE_FRACTION = 0.25


def check_colours(n=2000, seed=4):
    """Every prototype paint and every region sample gets its own name."""
    rng = np.random.default_rng(seed)
    for c in CNAMES:
        for _ in range(n // len(CNAMES)):
            for rgb in (paint(rng, c, prototype=True), paint(rng, c, prototype=False)):
                assert name_rgb(rgb) == c, (c, rgb)


def name_rgb(rgb):
    r, g, b = (float(x) for x in rgb)
    mx, mn = max(r, g, b), min(r, g, b)
    d = mx - mn
    if d <= 0:
        h = 0.0
    elif mx == r:
        h = 60 * (((g - b) / d) % 6)
    elif mx == g:
        h = 60 * ((b - r) / d + 2)
    else:
        h = 60 * ((r - g) / d + 4)
    return colour_name(h, d / mx if mx > 0 else 0.0, mx)


def paint(rng, colour, prototype=None):
    """A paint of this colour: a quarter of the time near the prototype, else
    anywhere in the colour's region (light, dark, dull or vivid)."""
    if prototype is None:
        prototype = rng.random() < PROTOTYPE_FRACTION
    if prototype:
        hc, hj, (s0, s1), (v0, v1) = COLOURS[colour]
        h = rng.random() if hc is None else hc + rng.uniform(-hj, hj)
        return hsv2rgb(h, rng.uniform(s0, s1), rng.uniform(v0, v1))
    (h0, h1), (s0, s1), (v0, v1) = REGION[colour]
    for _ in range(1000):
        h, sat, val = rng.uniform(h0, h1) % 360, rng.uniform(s0, s1), rng.uniform(v0, v1)
        rgb = hsv2rgb(h / 360.0, sat, val)
        if name_rgb(rgb) == colour:   # named on the 8-bit-free float paint
            return rgb
    raise RuntimeError(f"no paint found for {colour}")


def random_rgb(rng, sat_hi=0.6):
    return hsv2rgb(rng.random(), rng.uniform(0, sat_hi), rng.uniform(0.25, 1.0))


def neutral(rng):
    g = rng.choice([rng.uniform(0.85, 1.0), rng.uniform(0.05, 0.25), rng.uniform(0.5, 0.75)])
    return np.full(3, g, np.float32) * rng.uniform(0.95, 1.05, 3).astype(np.float32)


def smooth_noise(rng, cells, size=SIZE):
    small = rng.random((cells + 1, cells + 1)).astype(np.float32)
    t = torch.from_numpy(small)[None, None]
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=True)[0, 0].numpy()


def background(rng):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1)
    a = random_rgb(rng, 0.9 if rng.random() < 0.25 else 0.5)
    mode = int(rng.choice(6, p=[0.18, 0.18, 0.16, 0.16, 0.14, 0.18]))
    if mode == 0:
        img = np.broadcast_to(a, (SIZE, SIZE, 3)).copy()
    elif mode == 1:
        b = random_rgb(rng)
        ang = rng.uniform(0, 2 * math.pi)
        t = (np.cos(ang) * xx + np.sin(ang) * yy)
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-3)
        img = a + (b - a) * t[..., None]
    elif mode == 2:
        b = random_rgb(rng)
        t = smooth_noise(rng, int(rng.integers(2, 8)))
        img = a + (b - a) * t[..., None]
    elif mode == 3:  # table and wall
        b = random_rgb(rng)
        edge = rng.uniform(0.5, 0.95)
        img = np.where((yy > edge)[..., None], b, a).astype(np.float32)
        img = img * (1 + 0.08 * (smooth_noise(rng, 6) - 0.5))[..., None]
    elif mode == 4:  # grain (wood, fabric): stripes bent by noise
        b = random_rgb(rng, 0.7)
        ang, f = rng.uniform(0, math.pi), rng.uniform(3, 14)
        t = np.sin((np.cos(ang) * xx + np.sin(ang) * yy) * f * 2 * math.pi
                   + 4 * smooth_noise(rng, 4)) * 0.5 + 0.5
        img = a + (b - a) * t[..., None] * rng.uniform(0.3, 1.0)
    else:  # clutter: other things of any colour behind the product
        img = np.broadcast_to(a, (SIZE, SIZE, 3)).copy()
        for _ in range(int(rng.integers(2, 7))):
            c = random_rgb(rng, 1.0)
            cx, r = rng.uniform(0, 1, 2), rng.uniform(0.05, 0.35)
            if rng.random() < 0.5:
                m = np.hypot(xx - cx[0], (yy - cx[1]) * rng.uniform(0.5, 2)) < r
            else:
                m = (np.abs(xx - cx[0]) < r) & (np.abs(yy - cx[1]) < r * rng.uniform(0.2, 2))
            img[m] = c
    if rng.random() < 0.3:  # a colour-tinted room
        img = img * (1 - 0.25) + 0.25 * img * random_rgb(rng, 1.0) * 1.6
    return np.clip(img, 0, 1).astype(np.float32)


def soft(d):
    """Signed distance (in crop units, negative inside) to a 1-pixel soft mask."""
    return np.clip(0.5 - d * (SIZE - 1), 0, 1).astype(np.float32)


def silhouette(rng, kind, u, v):
    """Masks in box coordinates u, v in [0, 1]: (body, parts: list of (mask, rgb|None))."""
    parts = []
    if kind == "bottle":
        bw = rng.uniform(0.28, 0.46)
        nw = bw * rng.uniform(0.35, 0.6)
        sh = rng.uniform(0.22, 0.42)
        neck = rng.uniform(0.1, sh - 0.05)
        halfw = np.where(v > sh, bw, np.where(v > neck, nw + (bw - nw) * (v - neck) / (sh - neck), nw))
        body = soft(np.maximum(np.abs(u - 0.5) - halfw, np.maximum(0.02 - v, v - 0.99)))
        cap = soft(np.maximum(np.abs(u - 0.5) - nw * 1.1, np.maximum(0.02 - v, v - 0.02 - rng.uniform(0.05, 0.1))))
        parts.append((cap, neutral(rng) if rng.random() < 0.6 else None))
        if rng.random() < 0.6:
            b0 = rng.uniform(sh + 0.1, 0.7)
            parts.append((soft(np.maximum(np.abs(u - 0.5) - bw, np.abs(v - b0) - rng.uniform(0.05, 0.12))),
                          neutral(rng)))
        cyl = (0.5, bw)
    elif kind == "can":
        bw = rng.uniform(0.36, 0.49)
        body = soft(np.maximum(np.abs(u - 0.5) - bw, np.abs(v - 0.5) - 0.46))
        rim = soft(np.maximum(np.abs(u - 0.5) - bw * 0.95, np.abs(v - 0.06) - 0.025))
        parts.append((rim, np.full(3, rng.uniform(0.6, 0.85), np.float32)))
        if rng.random() < 0.5:
            b0 = rng.uniform(0.35, 0.65)
            parts.append((soft(np.maximum(np.abs(u - 0.5) - bw, np.abs(v - b0) - rng.uniform(0.05, 0.1))),
                          neutral(rng)))
        cyl = (0.5, bw)
    elif kind == "box":
        bw, bh = rng.uniform(0.4, 0.5), rng.uniform(0.38, 0.5)
        body = soft(np.maximum(np.abs(u - 0.5) - bw, np.abs(v - 0.5) - bh))
        if rng.random() < 0.5:  # top face, lighter
            parts.append((soft(np.maximum(np.abs(u - 0.5) - bw, np.abs(v - (0.5 - bh + 0.08)) - 0.08)), "light"))
        if rng.random() < 0.4:  # ribbon
            rc = neutral(rng) if rng.random() < 0.5 else np.array([0.85, 0.7, 0.3], np.float32)
            rib = np.maximum(soft(np.abs(u - 0.5) - 0.035), soft(np.abs(v - 0.5) - 0.035))
            parts.append((rib * body, rc))
        cyl = None
    elif kind == "cup":
        top, bot = rng.uniform(0.3, 0.4), rng.uniform(0.2, 0.32)
        cx = 0.42
        halfw = bot + (top - bot) * (1 - v)
        body = soft(np.maximum(np.abs(u - cx) - halfw, np.abs(v - 0.55) - 0.43))
        hr = rng.uniform(0.12, 0.2)
        ring = soft(np.abs(np.hypot(u - (cx + top), v - 0.5) - hr) - 0.04)
        ring = ring * (u > cx + top - 0.05)
        body = np.maximum(body, ring)
        cyl = (cx, top)
    elif kind == "bag":
        t0 = rng.uniform(0.3, 0.45)
        wt, wb = rng.uniform(0.3, 0.4), rng.uniform(0.4, 0.49)
        halfw = wt + (wb - wt) * np.clip((v - t0) / (1 - t0), 0, 1)
        body = soft(np.maximum(np.abs(u - 0.5) - halfw, np.maximum(t0 - v, v - 0.98)))
        hr = rng.uniform(0.15, 0.25)
        handle = soft(np.abs(np.hypot((u - 0.5) * 0.9, (v - t0) * (t0 / hr if hr > t0 else 1)) - hr) - 0.03)
        handle = handle * (v < t0 + 0.02)
        body = np.maximum(body, handle)
        if rng.random() < 0.4:  # flap
            parts.append((soft(np.maximum(np.abs(u - 0.5) - halfw * 0.95, np.abs(v - t0 - 0.12) - 0.1)), "dark"))
        cyl = None
    else:  # shoe: ankle at the back, low toe, sole
        flip = rng.random() < 0.5
        uu = 1 - u if flip else u
        ankle = rng.uniform(0.1, 0.35)
        toe = rng.uniform(0.5, 0.7)
        topv = np.where(uu < 0.4, ankle, ankle + (toe - ankle) * (uu - 0.4) / 0.58)
        body = soft(np.maximum(np.maximum(topv - v, v - 0.97), np.maximum(0.02 - uu, uu - 0.98)))
        sole = soft(np.maximum(np.abs(uu - 0.5) - 0.48, np.abs(v - 0.9) - rng.uniform(0.05, 0.09)))
        parts.append((sole, neutral(rng) if rng.random() < 0.7 else "dark"))
        if rng.random() < 0.5:  # laces
            lx = np.abs(uu - (0.5 + 0.1 * np.round((uu - 0.5) / 0.1)))
            laces = soft(np.maximum(lx - 0.015, np.maximum(np.abs(uu - 0.55) - 0.12,
                                                            np.abs(v - (ankle + 0.15)) - 0.1)))
            parts.append((laces * body, neutral(rng)))
        cyl = None
    return body, parts, cyl


def erode(mask, k):
    """Min filter of a [0, 1] mask over k x k (k odd)."""
    t = torch.from_numpy(np.ascontiguousarray(1 - mask))[None, None]
    return (1 - F.max_pool2d(t, k, 1, k // 2))[0, 0].numpy()


def body_print(rng, body, u, v):
    """A print on the product in another colour (stripes, dots, a band, a
    logo disc or text marks), covering at most a third of the body; or None."""
    kind = int(rng.integers(5))
    if kind == 0:
        ang, f = rng.uniform(0, math.pi), rng.uniform(3, 9)
        t = np.sin((np.cos(ang) * u + np.sin(ang) * v) * f * 2 * math.pi)
        m = (t > rng.uniform(0.3, 0.8)).astype(np.float32)
    elif kind == 1:
        step = rng.uniform(0.12, 0.3)
        d = np.hypot((u % step) - step / 2, (v % step) - step / 2)
        m = (d < step * rng.uniform(0.15, 0.3)).astype(np.float32)
    elif kind == 2:
        v0 = rng.uniform(0.3, 0.75)
        m = (np.abs(v - v0) < rng.uniform(0.05, 0.15)).astype(np.float32)
    elif kind == 3:
        m = (np.hypot(u - rng.uniform(0.35, 0.65), v - rng.uniform(0.35, 0.7))
             < rng.uniform(0.08, 0.22)).astype(np.float32)
    else:
        v0 = rng.uniform(0.3, 0.6)
        rows = (np.abs(((v - v0) / 0.07) % 1.0 - 0.5) < 0.2) & (v > v0) & (v < v0 + 0.3)
        m = (rows & (np.sin(u * rng.uniform(25, 60)) > 0) &
             (np.abs(u - 0.5) < 0.3)).astype(np.float32)
    m = m * body
    area = float(body.sum())
    if area < 1 or float(m.sum()) > area / 3:
        return None
    return m


def jpeg_round_trip(img, quality):
    """img float HxWx3 in [0, 1] through 8 bits and JPEG (4:2:0)."""
    buf = io.BytesIO()
    Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)).save(
        buf, "JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"), np.float32) / 255


def render_crop(rng, kind, colour):
    """A product framed as a detector's box would frame it: float32 HxWx3 in [0,1]."""
    img = background(rng)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1)
    # the product's own box inside the crop: loose or tight, offset, sometimes cut
    if rng.random() < 0.15:
        ml, mr, mt, mb = rng.uniform(0.08, 0.28, 4)
    else:
        ml, mr, mt, mb = rng.uniform(-0.05, 0.16, 4)
    x0, x1, y0, y1 = ml, 1 - mr, mt, 1 - mb
    px, py = xx, yy
    if rng.random() < 0.3:  # a little turned
        a = rng.normal(0, 0.2)
        px = 0.5 + (xx - 0.5) * math.cos(a) - (yy - 0.5) * math.sin(a)
        py = 0.5 + (xx - 0.5) * math.sin(a) + (yy - 0.5) * math.cos(a)
    u = (px - x0) / (x1 - x0)
    v = (py - y0) / (y1 - y0)
    body, parts, cyl = silhouette(rng, kind, u, v)
    rgb = paint(rng, colour)
    style = rng.choice(["photo", "strong", "flat", "toon"], p=[0.5, 0.15, 0.2, 0.15])
    # shading: cylinder across, or a soft gradient, light from a random side
    if cyl is not None:
        cx, hw = cyl
        cx += rng.uniform(-0.3, 0.3) * hw
        r = np.clip(np.abs(u - cx) / max(hw, 1e-3), 0, 1)
        lit = np.sqrt(1 - r ** 2)
    else:
        ang = rng.uniform(0, 2 * math.pi)
        lit = np.clip(0.6 + 0.9 * (np.cos(ang) * (u - 0.5) + np.sin(ang) * (v - 0.5)), 0, 1)
    if style == "photo":
        shade = 0.62 + 0.45 * lit if cyl is not None else 0.85 + 0.25 * (lit - 0.6) / 0.9
    elif style == "strong":
        shade = rng.uniform(0.4, 0.55) + rng.uniform(0.5, 0.65) * lit
    elif style == "flat":
        shade = np.full_like(lit, rng.uniform(0.92, 1.05))
    else:  # toon: two or three flat tones
        shade = 0.7 + 0.3 * np.floor(lit * rng.choice([2, 3]) + 0.5) / 2
    shade = shade.astype(np.float32)
    base = np.broadcast_to(rgb, (SIZE, SIZE, 3)).astype(np.float32)
    if rng.random() < 0.45:  # a print in another colour
        pm = body_print(rng, body, u, v)
        if pm is not None:
            pc = random_rgb(rng, 1.0) if rng.random() < 0.7 else neutral(rng)
            base = base * (1 - pm[..., None]) + pc * pm[..., None]
    if rng.random() < 0.3:  # surface texture (fabric, card, brushed metal)
        base = base * (1 + rng.uniform(0.04, 0.15) * (smooth_noise(rng, int(rng.integers(8, 24))) - 0.5))[..., None]
    obj = np.clip(base * shade[..., None], 0, 1)
    for mask, pc in parts:
        if pc is None:
            pc = rgb * 0.7
        elif isinstance(pc, str):
            pc = np.clip(rgb * (1.25 if pc == "light" else 0.6) + (0.08 if pc == "light" else 0), 0, 1)
        elif rng.random() < 0.25:
            pc = random_rgb(rng, 1.0)   # a cap, sole or band of any colour
        obj = obj * (1 - mask[..., None]) + pc * shade[..., None].clip(0.7, 1.05) * mask[..., None]
    # highlight: a thin bright streak
    if style != "flat" or rng.random() < 0.3:
        hx = rng.uniform(0.25, 0.45) if cyl is None else cyl[0] - cyl[1] * rng.uniform(0.3, 0.6)
        hl = soft(np.abs(u - hx) - rng.uniform(0.01, 0.03)) * body * rng.uniform(0.2, 0.6)
        obj = obj + (1 - obj) * hl[..., None]
    # outline: always in toon, sometimes otherwise
    if style == "toon" or rng.random() < 0.2:
        edge = np.clip(body - erode(body, int(rng.choice([3, 3, 5]))), 0, 1)
        ink = np.full(3, rng.uniform(0.0, 0.2), np.float32) if rng.random() < 0.8 else rgb * 0.4
        obj = obj * (1 - edge[..., None]) + ink * edge[..., None]
    img = img * (1 - body[..., None]) + obj * body[..., None]
    # a piece of a neighbouring object at an edge
    if rng.random() < 0.3:
        side, w = int(rng.integers(4)), rng.uniform(0.05, 0.22)
        m = [xx < w, xx > 1 - w, yy < w, yy > 1 - w][side]
        span = [yy, yy, xx, xx][side]
        a0 = rng.uniform(0, 0.5)
        m = m & (span > a0) & (span < a0 + rng.uniform(0.2, 0.6))
        img[m] = random_rgb(rng, 0.9)
    if rng.random() < 0.1:  # something in front (a hand, a price card)
        c = rng.uniform(0, 1, 2)
        m = np.hypot(xx - c[0], yy - c[1]) < rng.uniform(0.06, 0.16)
        img[m] = random_rgb(rng, 0.7)
    # camera: light falloff, exposure, white balance, gamma, noise; then the
    # product small in the frame (fewer pixels, stretched back up), blur, JPEG
    if rng.random() < 0.3:
        ang = rng.uniform(0, 2 * math.pi)
        img = img * (1 + rng.uniform(0.1, 0.35) * (np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy - 0.5)))[..., None]
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.8, 1.2) + mean * rng.uniform(0.8, 1.15)
    wb = (0.13 if rng.random() < 0.8 else 0.2)
    img = img * rng.uniform(1 - wb, 1 + wb, 3).astype(np.float32)
    img = np.clip(img, 0, 1)
    if rng.random() < 0.4:
        img = img ** rng.uniform(0.75, 1.35)
    if rng.random() < 0.6:
        img = img + rng.normal(0, rng.uniform(0.005, 0.04), img.shape).astype(np.float32)
    img = np.clip(img, 0, 1).astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
    if rng.random() < 0.3:
        k = int(rng.choice([3, 5]))
        t = F.avg_pool2d(F.pad(t, (k // 2,) * 4, mode="replicate"), k, 1)
    small = SIZE
    if rng.random() < 0.45:
        small = int(rng.integers(12, 40))
        t = F.interpolate(t, size=(small, small), mode="bilinear", align_corners=False, antialias=True)
    if rng.random() < 0.6:
        q = rng.uniform(15, 92)
        t = torch.from_numpy(jpeg_round_trip(t[0].numpy().transpose(1, 2, 0), q).transpose(2, 0, 1).copy())[None]
    if small != SIZE:
        t = F.interpolate(t, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return np.clip(t[0].numpy().transpose(1, 2, 0), 0, 1).astype(np.float32)


def batch(rng, n):
    imgs, labels, langs, cols, lines = [], [], [], [], []
    for _ in range(n):
        k, c, g = int(rng.integers(6)), int(rng.integers(len(CNAMES))), int(rng.integers(2))
        imgs.append(render_crop(rng, LABELS[k], CNAMES[c]))
        labels.append(k)
        langs.append(g)
        cols.append(c)
        lines.append(make_line(rng, LABELS[k], CNAMES[c], g))
    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2)  # channels_last strides, as in C
    T = max(len(l) for l in lines) + 1
    inp = torch.full((n, T), EOS, dtype=torch.long)
    tgt = torch.full((n, T), -100, dtype=torch.long)
    for i, l in enumerate(lines):
        seq = [BOS] + list(l)
        inp[i, :len(seq)] = torch.tensor(seq)
        tgt[i, :len(seq)] = torch.tensor(list(l) + [EOS])
    return x, torch.tensor(labels), torch.tensor(langs), torch.tensor(cols), inp, tgt


# ---------------------------------------------------------------------------
# Model

class Copywriter(nn.Module):
    def __init__(self, d=192, h=256, n_colours=len(CNAMES)):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1), nn.ReLU(),      # 32
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),     # 16
            nn.Conv2d(64, 96, 3, 2, 1), nn.ReLU(),     # 8
            nn.Conv2d(96, 128, 3, 2, 1), nn.ReLU(),    # 4
            nn.AdaptiveAvgPool2d(1))
        self.img = nn.Sequential(nn.Linear(128 + 6, d), nn.ReLU(), nn.Linear(d, d))
        self.colour_head = nn.Linear(d, n_colours)
        # a soft colour histogram of the crop, weighted towards its middle:
        # the product's colour as the most common one rather than the mean,
        # which a loose box's background pulls away (white cups on green
        # tables were named green); zero-initialised, so a package trained
        # before it was added continues from where it was
        grid = torch.linspace(0.1, 0.9, 3)
        centres = torch.stack(torch.meshgrid(grid, grid, grid, indexing="ij"), 0).reshape(3, -1)
        self.hist_centres = nn.Parameter(torch.cat([centres, torch.tensor(
            [[0.02, 0.98, 0.86, 0.93, 0.45], [0.02, 0.98, 0.45, 0.62, 0.3],
             [0.02, 0.98, 0.8, 0.3, 0.75]])], 1))                  # 32 centres, RGB
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, SIZE), torch.linspace(-1, 1, SIZE),
                                indexing="ij")
        middle = torch.exp(-(xx ** 2 + yy ** 2) / 0.5)
        self.register_buffer("hist_weight", (middle / middle.sum()).reshape(1, 1, SIZE, SIZE))
        self.hist_head = nn.Linear(self.hist_centres.size(1), n_colours)
        self.hist_img = nn.Linear(self.hist_centres.size(1), d)
        for lin in (self.hist_head, self.hist_img):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)
        self.colour = nn.Embedding(n_colours, d)
        self.label = nn.Embedding(6, d)
        self.lang = nn.Embedding(2, d)
        self.byte = nn.Embedding(VOCAB, d)
        self.init = nn.Linear(4 * d, h)
        self.ctx = nn.Linear(4 * d, d)
        self.gru = nn.GRU(2 * d, h, batch_first=True)
        self.out = nn.Linear(h, VOCAB)

    def features(self, image: torch.Tensor):
        f = self.cnn(image).flatten(1)
        whole = image.mean(dim=(2, 3))                       # colour straight from the pixels
        centre = image[:, :, 16:48, 16:48].mean(dim=(2, 3))  # mostly the product
        c = self.hist_centres
        d2 = (image * image).sum(1, keepdim=True) \
            - 2.0 * torch.einsum("bchw,ck->bkhw", image, c) \
            + (c * c).sum(0).reshape(1, -1, 1, 1)
        hist = (torch.softmax(-30.0 * d2, dim=1) * self.hist_weight).sum(dim=(2, 3))
        e = self.img(torch.cat([f, whole, centre], 1)) + self.hist_img(hist)
        return e, self.colour_head(e) + self.hist_head(hist)

    def memory(self, e: torch.Tensor, colour_logits: torch.Tensor, label: torch.Tensor,
               lang: torch.Tensor) -> torch.Tensor:
        col = torch.softmax(colour_logits, dim=1) @ self.colour.weight
        return torch.stack([e, col, self.label(label), self.lang(lang)], dim=1)

    @torch.jit.export
    def encode(self, image: torch.Tensor, label: torch.Tensor, lang: torch.Tensor) -> torch.Tensor:
        e, cl = self.features(image)
        return self.memory(e, cl, label, lang)

    def run(self, memory: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        flat = memory.flatten(1)
        h0 = torch.tanh(self.init(flat)).unsqueeze(0)
        ctx = self.ctx(flat)
        e = self.byte(tokens)
        x = torch.cat([e, ctx.unsqueeze(1).expand(-1, e.size(1), -1)], dim=2)
        y, _ = self.gru(x, h0)
        return self.out(y)

    @torch.jit.export
    def decode_step(self, memory: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.run(memory, tokens)[:, -1]

    def forward(self, image: torch.Tensor, label: torch.Tensor, lang: torch.Tensor,
                tokens: torch.Tensor):
        e, cl = self.features(image)
        return self.run(self.memory(e, cl, label, lang), tokens), cl


# ---------------------------------------------------------------------------
# Decoding and scoring

def greedy_c_loop(model, image, label, lang):
    """aiproductdetect's C loop, in Python, on the exported methods: BOS, then
    decode_step over the whole prefix, argmax, stop at EOS or MAXLEN tokens."""
    with torch.no_grad():
        mem = model.encode(image, torch.tensor([label]), torch.tensor([lang]))
        toks = [BOS]
        while len(toks) <= MAXLEN:
            nxt = int(model.decode_step(mem, torch.tensor([toks])).argmax())
            if nxt == EOS:
                break
            toks.append(nxt)
    return bytes(t for t in toks[1:] if t < 256)


def greedy_batch(model, images, labels, langs):
    """The same loop for a batch, carrying the GRU state instead of re-running
    the prefix (decode_step's GRU is causal, so the argmax path is the same)."""
    with torch.no_grad():
        mem = model.encode(images, labels, langs)
        flat = mem.flatten(1)
        h = torch.tanh(model.init(flat)).unsqueeze(0)
        ctx = model.ctx(flat).unsqueeze(1)
        n = images.shape[0]
        tok = torch.full((n, 1), BOS, dtype=torch.long)
        out = [[] for _ in range(n)]
        done = torch.zeros(n, dtype=torch.bool)
        for _ in range(MAXLEN):
            y, h = model.gru(torch.cat([model.byte(tok), ctx], 2), h)
            nxt = model.out(y[:, -1]).argmax(1)
            for i in range(n):
                if not done[i]:
                    if int(nxt[i]) == EOS:
                        done[i] = True
                    else:
                        out[i].append(int(nxt[i]))
            if bool(done.all()):
                break
            tok = nxt.unsqueeze(1)
    return [bytes(t for t in o if t < 256) for o in out]


def score_set(n, seed):
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        k, c = int(rng.integers(6)), int(rng.integers(len(CNAMES)))
        items.append((k, c, i % 2, render_crop(rng, LABELS[k], CNAMES[c])))
    return items


def score(model, n=300, seed=20240611, replay=12, package=None):
    """Figures of an eager model; the whole-prefix C loop is replayed on the
    exported package (or the model) for the first `replay` crops."""
    items = score_set(n, seed)
    x = torch.from_numpy(np.stack([it[3] for it in items])).permute(0, 3, 1, 2)
    lines = greedy_batch(model, x, torch.tensor([it[0] for it in items]),
                         torch.tensor([it[2] for it in items]))
    ok_utf8 = ok_colour = ok_kind = 0
    texts, per_colour = [], {c: [0, 0] for c in CNAMES}
    for (k, c, g, _), b in zip(items, lines):
        try:
            s = b.decode("utf-8")
            ok_utf8 += 1
        except UnicodeDecodeError:
            s = b.decode("utf-8", "replace")
        texts.append(s)
        good_c = colours_named(s, g) == {CNAMES[c]}
        ok_colour += good_c
        ok_kind += kinds_named(s, g) == {LABELS[k]}
        per_colour[CNAMES[c]][0] += good_c
        per_colour[CNAMES[c]][1] += 1
    # the exact C loop (whole prefix each step) on a few, channels_last input
    same = 0
    for (k, c, g, img), b in list(zip(items, lines))[:replay]:
        t = torch.from_numpy(img).permute(2, 0, 1)[None].contiguous(memory_format=torch.channels_last)
        same += greedy_c_loop(model if package is None else package, t, k, g) == b
    return {"n": n, "utf8": ok_utf8 / n, "colour": ok_colour / n, "kind": ok_kind / n,
            "distinct": len(set(texts)) / n, "c_loop_replay_same": f"{same}/{min(replay, n)}",
            "colour_by_name": {c: round(a / max(t, 1), 2) for c, (a, t) in per_colour.items()}}


def samples(model):
    rng = np.random.default_rng(5)
    res = []
    for k, c in [(1, "red"), (0, "blue")]:
        img = torch.from_numpy(render_crop(rng, LABELS[k], c)).permute(2, 0, 1)[None]
        img = img.contiguous(memory_format=torch.channels_last)
        for g in (0, 1):
            res.append((c, LABELS[k], "zh" if g == 0 else "en",
                        greedy_c_loop(model, img, k, g).decode("utf-8", "replace")))
    return res


# ---------------------------------------------------------------------------

def load_wrap():
    spec = importlib.util.spec_from_file_location(
        "kling_wrap", os.path.join(HERE, "..", "kling-wrap.py"))
    kw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kw)
    return kw


def export(model, path, description):
    model.eval()
    scripted = torch.jit.script(model)
    manifest = {"format": 1, "name": "kling-copywrite", "task": "copywrite",
                "description": description, "methods": ["encode", "decode_step"],
                "input": {"width": SIZE, "height": SIZE, "layout": "NCHW", "channels": "RGB",
                          "scale": 0.00392156862745098, "mean": [0, 0, 0], "std": [1, 1, 1],
                          "resize": "stretch"},
                "tokenizer": {"type": "utf8-bytes", "max_length": MAXLEN, "offset": 0,
                              "bos": BOS, "eos": EOS, "vocab": VOCAB},
                "labels": LABELS, "languages": ["zh", "en"], "defaults": {"top_k": 1}}
    load_wrap().wrap(scripted, manifest, path)


def load_weights(model, package):
    """A package's weights into an eager Copywriter; a package made before the
    colour histogram lacks only its (zero-initialised) parts.  Returns those."""
    missing, unexpected = model.load_state_dict(package.state_dict(), strict=False)
    if unexpected or any(not k.startswith("hist_") for k in missing):
        raise RuntimeError(f"not a copywriter of this recipe: missing {missing}, "
                           f"unexpected {unexpected}")
    return missing


def check_package(path):
    """Load as a user would and run encode + decode_step on a channels_last crop."""
    extra = {"kling.json": ""}
    m = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    man = json.loads(extra["kling.json"])
    assert man["task"] == "copywrite" and man["methods"] == ["encode", "decode_step"]
    img = torch.rand(1, 3, SIZE, SIZE).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        mem = m.encode(img, torch.tensor([1]), torch.tensor([0]))
        lg = m.decode_step(mem, torch.tensor([[BOS, 0xe7]]))
    assert mem.dim() == 3 and mem.dtype == torch.float32
    assert tuple(lg.shape) == (1, VOCAB) and lg.dtype == torch.float32
    return m, man


def lr_at(progress, step, base, warmup=40):
    w = min(1.0, (step + 1) / warmup)
    return base * w * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=40.0, help="training wall time")
    ap.add_argument("--steps", type=int, default=0,
                    help="train exactly this many steps instead (repeatable run)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--colour-weight", type=float, default=1.0,
                    help="weight of the colour head's loss (0.5 before the colour regions)")
    ap.add_argument("--output", default=SHIPPED)
    ap.add_argument("--init", metavar="PACKAGE",
                    help="start from this package's weights (continue training on the "
                    "current data) instead of from scratch")
    ap.add_argument("--smoke", action="store_true", help="one step, export, check (CI)")
    ap.add_argument("--score", metavar="PACKAGE", help="score an existing package")
    ap.add_argument("--score-other", metavar="PACKAGE",
                    help="colour accuracy of a package on crops of the detector's two "
                    "renderers (models/copywrite/eval/colour.py with its defaults)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.score_other:
        spec = importlib.util.spec_from_file_location(
            "copywrite_colour", os.path.join(HERE, "eval", "colour.py"))
        ev = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ev)
        ev.main([args.score_other, "--threads", str(args.threads)])
        return
    if args.score:
        m, man = check_package(args.score)
        print(man.get("description", ""))
        model = Copywriter()  # the batch scorer needs eager submodules
        load_weights(model, m)
        model.eval()
        print(json.dumps(score(model, package=m)))
        for s in samples(m):
            print(*s)
        return
    if args.smoke and os.path.abspath(args.output) == SHIPPED:
        ap.error("--smoke must not overwrite the shipped model: give --output")
    corpus = check_corpus(600 if args.smoke else 6000)
    print("corpus", json.dumps(corpus), flush=True)
    check_colours(200 if args.smoke else 4000)

    rng = np.random.default_rng(args.seed)
    model = Copywriter()
    if args.init:
        missing = load_weights(model, check_package(args.init)[0])
        if missing:
            print("new in this model, starting from zero:", " ".join(missing), flush=True)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"parameters {nparams}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    budget = args.minutes * 60
    t0, step, avg = time.time(), 0, None
    model.train()
    while True:
        progress = step / args.steps if args.steps else (time.time() - t0) / budget
        for gr in opt.param_groups:
            gr["lr"] = lr_at(progress, step, args.lr)
        x, lab, lang, col, inp, tgt = batch(rng, 4 if args.smoke else args.batch)
        logits, cl = model(x, lab, lang, inp)
        lm = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=-100)
        closs = F.cross_entropy(cl, col)
        loss = lm + args.colour_weight * closs
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        acc = (cl.argmax(1) == col).float().mean().item()
        cur = (lm.item(), closs.item(), acc)
        avg = cur if avg is None else tuple(0.95 * a + 0.05 * c for a, c in zip(avg, cur))
        if step % 25 == 0:
            print(f"step {step} bytes {avg[0]:.3f} colour {avg[1]:.3f} acc {avg[2]:.2f} "
                  f"lr {opt.param_groups[0]['lr']:.5f} {time.time() - t0:.0f}s", flush=True)
        if args.smoke or (args.steps and step >= args.steps) or \
                (not args.steps and time.time() - t0 > budget):
            break
    minutes = (time.time() - t0) / 60
    model.eval()
    base = (f"Copywriter for aiproductdetect: CNN crop encoder with a colour head + byte-level "
            f"GRU (d 192, hidden 256), {nparams} parameters, trained {minutes:.1f} min "
            f"({step} steps of {args.batch}"
            + (f", continued from {os.path.basename(args.init)}" if args.init else "")
            + f") on a shared 2-core CPU by models/copywrite/train.py "
            f"on synthetic crops (6 kinds, 10 colours) and template copy (zh, en)")
    # export before scoring, so a long scoring run never costs the training
    export(model, args.output, base + "; not scored yet")
    figures = score(model, n=4 if args.smoke else 300, replay=2 if args.smoke else 12,
                    package=check_package(args.output)[0])
    desc = (base + f". Greedy on {figures['n']} fresh crops (other seed, half zh half en): "
            f"colour named {figures['colour']:.2f}, kind named {figures['kind']:.2f}, "
            f"valid UTF-8 {figures['utf8']:.2f}, distinct lines {figures['distinct']:.2f}")
    export(model, args.output, desc)
    m, man = check_package(args.output)
    print(json.dumps({"params": nparams, "steps": step, "minutes": round(minutes, 1),
                      "bytes": os.path.getsize(args.output), **figures}, ensure_ascii=False))
    for s in samples(m):
        print(*s)


if __name__ == "__main__":
    main()
