#!/usr/bin/python3
"""A second product-video renderer for scoring the product detector.

Written without reading the training recipe's renderer (models/detect/
train.py): only the six class names (bottle, can, box, cup, bag, shoe) and
the detector's I/O (frames letterboxed into its input) were taken from it.
It draws the six kinds its own way, so a detector that learnt the products
rather than one renderer's drawing style scores about the same here:

- objects are built as 3-D-ish shapes: bottles, cans and cups as surfaces
  of revolution from a radius profile with Lambert + specular shading across
  the cylinder (glass is see-through), boxes as cuboids seen from a random
  yaw and pitch with a shaded face each, bags (shopping bag with gusset,
  handbag with flap, backpack with pocket) and shoes (sneaker, boot, high
  heel, slip-on) as smooth closed curves with stitched or lined details;
- each object gets a style: photographic shading with a contact shadow,
  flat colours with or without an outline, toon (posterised, thick
  outline), or a line sketch; prints: stripes, dots, logo discs, fake
  text lines, cardboard, woven fabric, metal;
- each sprite is rotated, mirrored and warped by a random perspective
  before it is placed; products overlap and non-product clutter (fruit,
  leaves, cables, sticky notes) lies around and in front of them;
- backgrounds are procedural "photos": wood table against a wall, retail
  shelf, marble, concrete, tiles, fabric, studio sweep, outdoor bokeh;
- then the camera: light falloff, colour casts (tungsten, daylight,
  fluorescent green), gamma and contrast, vignette, defocus or motion blur,
  sensor noise, low-resolution capture, JPEG at quality 12-70.

A video is a series of shots of three frames each, the camera drifting and
zooming a little within a shot (so a video codec downstream sees motion).
Output is what `models/detect/train.py --render-video` writes:
OUTDIR/products.rgb (raw RGB frames) and OUTDIR/products.json with, per
frame, [label, x0, y0, x1, y1, visible] for every product (its whole box,
clipped to the frame; `visible` the fraction of its pixels not covered by
what is in front of it or by the frame edge).

  /usr/bin/python3 models/detect/eval/render2.py OUTDIR [--seed N]
      [--shots 40] [--width 320] [--height 240]

Deterministic: the same seed gives the same bytes.  numpy and PIL only.
"""
import argparse
import io
import json
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

LABELS = ["bottle", "can", "box", "cup", "bag", "shoe"]
SS = 3  # supersampling of sprites
FRAMES_PER_SHOT = 3


# ----------------------------------------------------------------- helpers

def noise2d(rng, h, w, octaves=5, base=3, persistence=0.55):
    """Fractal value noise in [0, 1], shape (h, w)."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        gh, gw = base * 2 ** o + 2, int(base * 2 ** o * w / max(h, 1)) + 2
        g = rng.random((gh, gw)).astype(np.float32)
        layer = np.asarray(Image.fromarray(g, mode="F").resize(
            (w, h), Image.BICUBIC))
        out += amp * layer
        total += amp
        amp *= persistence
    out /= total
    lo, hi = out.min(), out.max()
    return (out - lo) / max(hi - lo, 1e-6)


def hsv(h, s, v):
    """One RGB colour in [0, 1] from hue/sat/value."""
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v),
                     (v, p, q)][i], np.float32)


def random_colour(rng, kind="any"):
    if kind == "muted":
        return hsv(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.3, 0.8))
    if rng.random() < 0.15:  # black, white, grey, silver
        return np.full(3, rng.choice([0.08, 0.2, 0.5, 0.75, 0.92]), np.float32)
    return hsv(rng.random(), rng.uniform(0.35, 1.0), rng.uniform(0.35, 1.0))


def smooth_closed(points, n=160):
    """Catmull-Rom through closed control points."""
    p = np.asarray(points, np.float64)
    out = []
    k = len(p)
    for i in range(k):
        p0, p1, p2, p3 = p[i - 1], p[i], p[(i + 1) % k], p[(i + 2) % k]
        for t in np.linspace(0, 1, max(2, n // k), endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(0.5 * ((2 * p1) + (-p0 + p2) * t +
                              (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 +
                              (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    return [tuple(q) for q in out]


def poly_mask(w, h, pts):
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).polygon(pts, fill=255)
    return np.asarray(m, np.float32) / 255.0


def outline_of(mask, width):
    """A band `width` pixels wide along the inside of a mask's edge."""
    m = Image.fromarray((mask * 255).astype(np.uint8))
    er = m.filter(ImageFilter.MinFilter(2 * width + 1))
    return np.clip(mask - np.asarray(er, np.float32) / 255.0, 0, 1)


class Sprite:
    """RGB + alpha, float32, supersampled."""

    def __init__(self, w, h):
        self.w, self.h = int(w), int(h)
        self.rgb = np.zeros((self.h, self.w, 3), np.float32)
        self.a = np.zeros((self.h, self.w), np.float32)

    def paint(self, mask, colour, alpha=1.0):
        m = (mask * alpha)[..., None]
        col = colour if np.ndim(colour) == 3 else np.asarray(colour)[None, None]
        self.rgb = self.rgb * (1 - m) + col * m
        self.a = np.maximum(self.a, mask * alpha)

    def overlay(self, mask, colour, alpha=1.0):
        """Paint only where the sprite already is."""
        self.paint(mask * (self.a > 0), colour, alpha)


def print_texture(rng, w, h, base):
    """A product print: stripes, dots, a logo disc, text lines or plain."""
    kind = rng.choice(["plain", "stripes", "dots", "logo", "text", "split"])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    tex = np.broadcast_to(base, (h, w, 3)).copy()
    other = random_colour(rng)
    if kind == "stripes":
        ang = rng.uniform(0, math.pi)
        period = rng.uniform(0.08, 0.3) * max(w, h)
        s = np.sin((xx * math.cos(ang) + yy * math.sin(ang)) / period * 2 * math.pi)
        tex[s > rng.uniform(-0.3, 0.5)] = other
    elif kind == "dots":
        step = rng.uniform(0.12, 0.25) * max(w, h)
        r = step * rng.uniform(0.2, 0.4)
        d = np.hypot((xx % step) - step / 2, (yy % step) - step / 2)
        tex[d < r] = other
    elif kind == "logo":
        cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.3, 0.7)
        r = min(w, h) * rng.uniform(0.18, 0.35)
        tex[np.hypot(xx - cx, yy - cy) < r] = other
        tex[np.hypot(xx - cx, yy - cy) < r * 0.55] = random_colour(rng)
    elif kind == "text":
        ink = np.full(3, 0.1 if base.mean() > 0.45 else 0.95, np.float32)
        y = h * rng.uniform(0.2, 0.4)
        while y < h * 0.85:
            lh = max(2, h * rng.uniform(0.025, 0.06))
            x = w * rng.uniform(0.1, 0.25)
            while x < w * 0.85:
                ww = w * rng.uniform(0.05, 0.2)
                tex[int(y):int(y + lh), int(x):int(min(x + ww, w * 0.9))] = ink
                x += ww + w * 0.04
            y += lh * rng.uniform(2.0, 3.2)
    elif kind == "split":
        tex[yy > h * rng.uniform(0.3, 0.7)] = other
    return tex


def cylinder_shade(sprite, cx, radius_of_y, light, style, spec=0.6,
                   metal=False):
    """Shade a surface of revolution: u = (x - cx) / r(y) across it."""
    h, w = sprite.h, sprite.w
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.maximum(radius_of_y(yy), 1e-3)
    u = np.clip((xx - cx) / r, -1, 1)
    nz = np.sqrt(np.clip(1 - u * u, 0, 1))
    lx, lz = light
    diff = np.clip(u * lx + nz * lz, 0, 1)
    if style == "toon":
        diff = np.floor(diff * 3) / 3 + 0.15
    if style in ("flat", "sketch"):
        diff = np.full_like(diff, 0.85)
    if metal and style == "photo":
        diff = 0.45 + 0.55 * np.abs(np.sin(3.2 * u + 0.7))
    shade = 0.35 + 0.75 * diff
    sprite.rgb *= shade[..., None]
    if style == "photo":
        hl = np.exp(-((u - (lx * 0.6 - 0.25)) / 0.12) ** 2) * spec
        sprite.rgb += hl[..., None] * sprite.a[..., None]
    elif style == "toon":
        hl = (np.abs(u - 0.45 * lx + 0.2) < 0.08).astype(np.float32) * 0.5
        sprite.rgb += hl[..., None] * sprite.a[..., None]
    sprite.rgb = np.clip(sprite.rgb, 0, 1)


def finish_style(sprite, style, rng):
    """Outlines for flat/toon, line drawing for sketch."""
    ink = np.full(3, rng.uniform(0.0, 0.2), np.float32)
    if style == "sketch":
        band = outline_of(sprite.a, max(2, SS * 1))
        paper = np.full(3, rng.uniform(0.75, 1.0), np.float32)
        tint = sprite.rgb * 0.25 + paper * 0.75
        sprite.rgb = tint
        sprite.rgb = sprite.rgb * (1 - band[..., None]) + ink * band[..., None]
        # hatching on one side
        yy, xx = np.mgrid[0:sprite.h, 0:sprite.w]
        hatch = (((xx + yy) % (SS * 5)) < SS) & (xx > sprite.w * 0.6)
        sprite.rgb[hatch & (sprite.a > 0.5)] = ink * 0.5 + paper * 0.5
        if rng.random() < 0.5:  # see-through sketch
            sprite.a = np.maximum(band, sprite.a * 0.55)
    elif style == "toon" or (style == "flat" and rng.random() < 0.6):
        band = outline_of(sprite.a, SS * int(rng.integers(1, 4)))
        sprite.rgb = sprite.rgb * (1 - band[..., None]) + ink * band[..., None]


# ---------------------------------------------------------------- products

def draw_bottle(rng, H, style):
    kind = rng.choice(["wine", "water", "soda", "sauce", "flask"])
    body_r = {"wine": 0.15, "water": 0.17, "soda": 0.16, "sauce": 0.2,
              "flask": 0.26}[kind] * H * rng.uniform(0.85, 1.15)
    neck_r = body_r * {"wine": 0.32, "water": 0.38, "soda": 0.35, "sauce": 0.45,
                       "flask": 0.3}[kind]
    cap_h = rng.uniform(0.04, 0.09) * H
    neck_end = {"wine": 0.38, "water": 0.18, "soda": 0.22, "sauce": 0.2,
                "flask": 0.3}[kind] * H
    shoulder_end = neck_end + rng.uniform(0.08, 0.2) * H
    W = int(2 * body_r + 8 * SS)
    cx = W / 2

    def radius(y):
        t = np.clip((y - neck_end) / max(shoulder_end - neck_end, 1), 0, 1)
        t = t * t * (3 - 2 * t)
        r = neck_r + (body_r - neck_r) * t
        r = np.where(y < cap_h, neck_r * 1.18, r)
        bottom = np.clip((H - y) / (0.05 * H), 0, 1)
        return r * (0.85 + 0.15 * bottom)

    s = Sprite(W, H)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    mask = (np.abs(xx - cx) <= radius(yy)).astype(np.float32)
    glass = kind in ("wine", "water") and rng.random() < 0.7
    colour = (np.array(rng.choice([[0.15, 0.35, 0.15], [0.35, 0.2, 0.08],
                                   [0.75, 0.85, 0.9], [0.2, 0.3, 0.5]]),
                       np.float32) if glass else random_colour(rng))
    s.paint(mask, colour, 0.6 if glass and kind == "water" else
            (0.85 if glass else 1.0))
    if kind == "water":  # ridges
        ridge = (np.sin(yy / (H * 0.03)) > 0.7) & (yy > shoulder_end)
        s.overlay(mask * ridge, colour * 0.7, 0.5)
    cap = mask * (yy < cap_h)
    s.overlay(cap, random_colour(rng))
    if rng.random() < 0.75:  # a label, of its own shape
        y0 = rng.uniform(shoulder_end + 0.03 * H, 0.6 * H)
        y1 = min(H * 0.93, y0 + rng.uniform(0.15, 0.35) * H)
        if rng.random() < 0.5:
            lab = mask * (yy > y0) * (yy < y1)
        else:  # an oval sticker
            lab = mask * (((xx - cx) / (body_r * 0.7)) ** 2 +
                          ((yy - (y0 + y1) / 2) / ((y1 - y0) / 2)) ** 2 < 1)
        tex = print_texture(rng, W, H, random_colour(rng))
        s.paint(lab, tex)
    cylinder_shade(s, cx, radius, light_dir(rng), style, spec=0.8 if glass
                   else 0.5)
    return s


def light_dir(rng):
    a = rng.uniform(-0.9, 0.9)
    return (math.sin(a), math.cos(a))


def draw_can(rng, H, style):
    r = H * rng.uniform(0.22, 0.36)
    W = int(2 * r + 6 * SS)
    cx = W / 2
    ey = r * rng.uniform(0.12, 0.35)  # ellipse half-height (view from above)
    s = Sprite(W, H)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    top, bot = ey + SS, H - ey - SS
    taper = np.where((yy < top + 0.06 * H) | (yy > bot - 0.04 * H), 0.93, 1.0)
    body = (np.abs(xx - cx) <= r * taper) & (yy >= top) & (yy <= bot)
    body |= ((xx - cx) / (r * 0.93)) ** 2 + ((yy - bot) / ey) ** 2 <= 1
    body = body.astype(np.float32)
    tex = print_texture(rng, W, H, random_colour(rng))
    s.paint(body, tex)
    cylinder_shade(s, cx, lambda y: np.full_like(y, r), light_dir(rng), style,
                   spec=0.7, metal=rng.random() < 0.6)
    lid = (((xx - cx) / (r * 0.93)) ** 2 + ((yy - top) / ey) ** 2 <= 1)
    s.paint(lid.astype(np.float32), np.full(3, rng.uniform(0.6, 0.85),
                                            np.float32))
    inner = (((xx - cx) / (r * 0.8)) ** 2 + ((yy - top) / (ey * 0.8)) ** 2 <= 1)
    s.paint(inner.astype(np.float32), np.full(3, rng.uniform(0.45, 0.7),
                                              np.float32))
    tab = (((xx - cx) / (r * 0.18)) ** 2 + ((yy - top + ey * 0.3) /
                                            (ey * 0.25 + 1)) ** 2 <= 1)
    s.paint(tab.astype(np.float32), np.full(3, 0.8, np.float32))
    return s


def draw_box(rng, H, style):
    """A cuboid, orthographic, yaw and pitch at random."""
    dims = np.array([rng.uniform(0.5, 1.4), 1.0, rng.uniform(0.2, 1.0)])
    if rng.random() < 0.3:  # a flat, wide box lying down
        dims = np.array([rng.uniform(1.0, 1.8), rng.uniform(0.3, 0.6),
                         rng.uniform(0.6, 1.2)])
    yaw = rng.uniform(0.2, 1.35)
    pitch = rng.uniform(0.1, 0.6)
    cy_, sy_ = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1)
                        for z in (0, 1)], np.float64) * dims

    def proj(p):
        x = p[0] * cy_ - p[2] * sy_
        z = p[0] * sy_ + p[2] * cy_
        y = p[1] * cp - z * sp
        return np.array([x, -y])

    pts = np.array([proj(c) for c in corners])
    mn, mx = pts.min(0), pts.max(0)
    scale = H / (mx[1] - mn[1])
    W = int((mx[0] - mn[0]) * scale) + 4 * SS
    pts = (pts - mn) * scale + np.array([2 * SS, 0])
    s = Sprite(W, H)
    base = random_colour(rng) if rng.random() < 0.6 else \
        np.array([0.62, 0.45, 0.27], np.float32) * rng.uniform(0.8, 1.15)
    cardboard = rng.random() < 0.35
    idx = lambda x, y, z: x * 4 + y * 2 + z  # noqa: E731
    # visible faces: front (z=0), right (x=1) and top (y=1)
    faces = [([idx(0, 0, 0), idx(1, 0, 0), idx(1, 1, 0), idx(0, 1, 0)], 0.95),
             ([idx(1, 0, 0), idx(1, 0, 1), idx(1, 1, 1), idx(1, 1, 0)], 0.7),
             ([idx(0, 1, 0), idx(1, 1, 0), idx(1, 1, 1), idx(0, 1, 1)], 1.1)]
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    for k, (face, light) in enumerate(faces):
        q = [tuple(pts[i]) for i in face]
        m = poly_mask(W, H, q)
        if m.sum() < 1:
            continue
        # face-local coordinates for a print that follows the face
        o, e1, e2 = pts[face[0]], pts[face[1]] - pts[face[0]], \
            pts[face[3]] - pts[face[0]]
        det = e1[0] * e2[1] - e1[1] * e2[0]
        if abs(det) < 1e-6:
            continue
        a = ((xx - o[0]) * e2[1] - (yy - o[1]) * e2[0]) / det
        b = ((yy - o[1]) * e1[0] - (xx - o[0]) * e1[1]) / det
        if cardboard:
            n = noise2d(rng, H, W, octaves=3, base=6)
            tex = base[None, None] * (0.85 + 0.3 * n[..., None])
            tape = np.abs(a - 0.5) < 0.08 if k == 2 else np.zeros_like(a, bool)
            tex[tape] = np.array([0.8, 0.7, 0.5]) * 0.9
        else:
            tex = np.broadcast_to(base, (H, W, 3)).copy()
            if k == 0:
                pr = print_texture(rng, 64, 64, base)
                ai = np.clip((a * 63).astype(int), 0, 63)
                bi = np.clip(((1 - b) * 63).astype(int), 0, 63)
                tex = pr[bi, ai]
        shade = light if style != "flat" else (1.0 if k != 1 else 0.8)
        if style == "sketch":
            shade = 1.0
        s.paint(m, np.clip(tex * shade, 0, 1))
        if style in ("photo", "toon") or rng.random() < 0.4:
            edge = outline_of(m, SS)
            s.paint(edge, np.clip(tex * shade * 0.7, 0, 1), 0.8)
    return s


def draw_cup(rng, H, style):
    kind = rng.choice(["mug", "paper", "tumbler", "teacup"])
    rt = H * {"mug": 0.38, "paper": 0.36, "tumbler": 0.34,
              "teacup": 0.55}[kind] * rng.uniform(0.85, 1.1)
    rb = rt * {"mug": 1.0, "paper": 0.7, "tumbler": 0.85, "teacup": 0.6}[kind]
    handle = kind in ("mug", "teacup")
    W = int(2 * rt * (1.55 if handle else 1.0) + 6 * SS)
    cx = rt + 3 * SS
    ey = rt * rng.uniform(0.15, 0.35)
    s = Sprite(W, H)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    top, bot = ey + SS, H - ey * 0.6 - SS
    if kind == "teacup":
        bot = H * 0.78

    def radius(y):
        t = np.clip((y - top) / max(bot - top, 1), 0, 1)
        if kind == "teacup":
            return rb + (rt - rb) * np.sqrt(1 - t)
        return rt + (rb - rt) * t

    body = (np.abs(xx - cx) <= radius(yy)) & (yy >= top) & (yy <= bot)
    body |= ((xx - cx) / rb) ** 2 + ((yy - bot) / (ey * rb / rt)) ** 2 <= 1
    colour = random_colour(rng)
    if kind == "paper":
        colour = np.array(rng.choice([[0.95, 0.95, 0.92], [0.55, 0.4, 0.25],
                                      [0.9, 0.2, 0.2]]), np.float32)
    if handle:
        hx = cx + rt * 0.95
        hy = top + (bot - top) * 0.45
        hr, hw = (bot - top) * 0.32, max(SS * 2, rt * 0.16)
        d = np.hypot((xx - hx) / 0.85, yy - hy)
        ring = (d < hr) & (d > hr - hw) & (xx > cx)
        s.paint(ring.astype(np.float32), colour * 0.85)
    if kind == "teacup":  # saucer
        sau = ((xx - cx) / (rt * 1.25)) ** 2 + ((yy - H * 0.86) /
                                                (H * 0.1)) ** 2 <= 1
        s.paint(sau.astype(np.float32), colour * 0.95)
    tex = print_texture(rng, W, H, colour) if kind != "tumbler" else colour
    s.paint(body.astype(np.float32), tex, 0.55 if kind == "tumbler" else 1.0)
    if kind == "paper":  # sleeve and lid
        sl = body & (yy > top + (bot - top) * 0.35) & (yy < top + (bot - top) * 0.65)
        s.paint(sl.astype(np.float32), np.array([0.6, 0.42, 0.25], np.float32))
    cylinder_shade(s, cx, radius, light_dir(rng), style, spec=0.6)
    rim = ((xx - cx) / rt) ** 2 + ((yy - top) / ey) ** 2 <= 1
    inner = ((xx - cx) / (rt * 0.9)) ** 2 + ((yy - top) / (ey * 0.85)) ** 2 <= 1
    s.paint(rim.astype(np.float32), colour * 0.9)
    if kind == "paper" and rng.random() < 0.7:
        s.paint(rim.astype(np.float32), np.full(3, 0.9, np.float32))
    else:
        drink = np.array(rng.choice([[0.25, 0.12, 0.05], [0.9, 0.85, 0.7],
                                     [0.6, 0.3, 0.1]]), np.float32)
        s.paint(inner.astype(np.float32), colour * 0.45 if rng.random() < 0.5
                else drink)
    return s


def draw_bag(rng, H, style):
    kind = rng.choice(["shopping", "handbag", "backpack", "paper"])
    colour = random_colour(rng)
    if kind in ("shopping", "paper"):
        bw = H * rng.uniform(0.5, 0.85)
        body_top = H * rng.uniform(0.25, 0.4)
        gus = bw * rng.uniform(0.0, 0.35)
        W = int(bw + gus + 6 * SS)
        s = Sprite(W, H)
        x0 = 3 * SS
        front = [(x0, body_top), (x0 + bw, body_top), (x0 + bw * 0.98, H - SS),
                 (x0 + bw * 0.02, H - SS)]
        side = [(x0 + bw, body_top), (x0 + bw + gus, body_top - gus * 0.3),
                (x0 + bw + gus * 0.95, H - SS - gus * 0.3),
                (x0 + bw * 0.98, H - SS)]
        if kind == "paper":
            colour = np.array([0.7, 0.52, 0.33], np.float32) * rng.uniform(0.8, 1.2)
        # handles behind the body
        hw = max(SS * 2, bw * 0.04)
        for hx in (0.3, 0.7) if rng.random() < 0.5 else (0.5,):
            w_ = bw * (0.22 if hx != 0.5 else 0.45)
            box = [x0 + bw * hx - w_ / 2, body_top - (body_top - SS) * 0.98,
                   x0 + bw * hx + w_ / 2, body_top + (body_top - SS)]
            m = Image.new("L", (W, H), 0)
            ImageDraw.Draw(m).arc(box, 180, 360, fill=255, width=int(hw))
            s.paint(np.asarray(m, np.float32) / 255, colour * 0.6 if
                    rng.random() < 0.5 else random_colour(rng))
        tex = print_texture(rng, W, H, colour)
        if kind == "paper":
            n = noise2d(rng, H, W, octaves=3, base=5)
            tex = tex * (0.85 + 0.3 * n[..., None])
        s.paint(poly_mask(W, H, front), tex)
        if gus > 2:
            s.paint(poly_mask(W, H, side), np.clip(tex * 0.7, 0, 1))
        if kind == "paper":  # fold lines
            for f in (0.33, 0.66):
                m = Image.new("L", (W, H), 0)
                ImageDraw.Draw(m).line([(x0 + bw * f, body_top), (x0 + bw * f, H)],
                                       fill=255, width=SS)
                s.overlay(np.asarray(m, np.float32) / 255, colour * 0.75, 0.6)
    elif kind == "handbag":
        bw = H * rng.uniform(0.9, 1.4)
        W = int(bw + 6 * SS)
        s = Sprite(W, H)
        top = H * rng.uniform(0.35, 0.5)
        x0 = 3 * SS
        inset = bw * rng.uniform(0.05, 0.2)
        body = smooth_closed([(x0 + inset, top), (x0 + bw / 2, top - H * 0.02),
                              (x0 + bw - inset, top), (x0 + bw, H * 0.8),
                              (x0 + bw * 0.92, H - SS), (x0 + bw / 2, H - SS),
                              (x0 + bw * 0.08, H - SS), (x0, H * 0.8)])
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).arc([x0 + bw * 0.25, SS, x0 + bw * 0.75, top * 2 - SS],
                              180, 360, fill=255, width=int(max(SS * 2, H * 0.05)))
        s.paint(np.asarray(m, np.float32) / 255, colour * 0.7)
        bm = poly_mask(W, H, body)
        s.paint(bm, print_texture(rng, W, H, colour) if rng.random() < 0.4
                else colour)
        flap = poly_mask(W, H, smooth_closed([(x0 + inset, top), (x0 + bw - inset, top),
                                              (x0 + bw * 0.85, top + H * 0.25),
                                              (x0 + bw / 2, top + H * 0.33),
                                              (x0 + bw * 0.15, top + H * 0.25)]))
        s.overlay(flap, colour * 0.8)
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        clasp = np.hypot(xx - (x0 + bw / 2), yy - (top + H * 0.3)) < H * 0.04
        s.overlay(clasp.astype(np.float32), np.array([0.85, 0.75, 0.3],
                                                     np.float32))
    else:  # backpack
        bw = H * rng.uniform(0.6, 0.8)
        W = int(bw + 6 * SS)
        s = Sprite(W, H)
        x0 = 3 * SS
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).rounded_rectangle([x0, H * 0.1, x0 + bw, H - SS],
                                            radius=int(bw * 0.3), fill=255)
        s.paint(np.asarray(m, np.float32) / 255, colour)
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).arc([x0 + bw * 0.35, SS, x0 + bw * 0.65, H * 0.22],
                              180, 360, fill=255, width=int(max(SS * 2, H * 0.03)))
        s.paint(np.asarray(m, np.float32) / 255, colour * 0.6)
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).rounded_rectangle(
            [x0 + bw * 0.15, H * 0.55, x0 + bw * 0.85, H * 0.92],
            radius=int(bw * 0.12), fill=255)
        pocket = random_colour(rng) if rng.random() < 0.5 else colour * 0.8
        s.overlay(np.asarray(m, np.float32) / 255, pocket)
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).arc([x0 + bw * 0.1, H * 0.2, x0 + bw * 0.9, H * 0.7],
                              200, 340, fill=255, width=SS)
        s.overlay(np.asarray(m, np.float32) / 255, np.full(3, 0.1, np.float32))
    if style == "photo":
        yy, xx = np.mgrid[0:s.h, 0:s.w].astype(np.float32)
        lx, _ = light_dir(rng)
        g = 0.75 + 0.35 * (1 - np.abs(xx / s.w - 0.5 + 0.3 * lx))
        s.rgb = np.clip(s.rgb * g[..., None], 0, 1)
        if rng.random() < 0.5:  # fabric weave
            weave = 0.93 + 0.07 * np.sin(xx / SS * 2.1) * np.sin(yy / SS * 2.1)
            s.rgb *= weave[..., None]
    elif style == "toon":
        s.rgb = np.floor(s.rgb * 4) / 4
    return s


def draw_shoe(rng, H, style):
    kind = rng.choice(["sneaker", "boot", "heel", "slipon"])
    L = H * {"sneaker": 2.3, "boot": 1.2, "heel": 1.7, "slipon": 2.6}[kind] \
        * rng.uniform(0.9, 1.1)
    W = int(L + 6 * SS)
    s = Sprite(W, H)
    x0 = 3 * SS
    colour = random_colour(rng)
    sole_c = np.array(rng.choice([[0.95, 0.95, 0.95], [0.1, 0.1, 0.1],
                                  [0.6, 0.45, 0.3]]), np.float32)
    P = lambda u, v: (x0 + u * L, v * H)  # noqa: E731  (v from the top)
    if kind == "sneaker":
        upper = [P(0.02, 0.35), P(0.12, 0.05), P(0.3, 0.1), P(0.45, 0.15),
                 P(0.7, 0.45), P(0.9, 0.55), P(1.0, 0.75), P(0.97, 0.85),
                 P(0.5, 0.86), P(0.03, 0.85)]
        sole = [P(0.0, 0.8), P(0.98, 0.78), P(1.0, 0.9), P(0.93, 1.0),
                P(0.05, 1.0), P(0.0, 0.92)]
    elif kind == "boot":
        upper = [P(0.05, 0.0), P(0.55, 0.0), P(0.55, 0.45), P(0.8, 0.6),
                 P(1.0, 0.78), P(0.98, 0.88), P(0.04, 0.88)]
        sole = [P(0.02, 0.86), P(1.0, 0.85), P(1.0, 0.95), P(0.9, 1.0),
                P(0.02, 1.0)]
    elif kind == "heel":
        upper = [P(0.03, 0.15), P(0.2, 0.1), P(0.32, 0.35), P(0.7, 0.75),
                 P(1.0, 0.88), P(0.97, 0.95), P(0.6, 0.9), P(0.25, 0.55),
                 P(0.08, 0.5)]
        sole = [P(0.04, 0.45), P(0.12, 0.48), P(0.12, 1.0), P(0.07, 1.0)]
    else:
        upper = [P(0.03, 0.4), P(0.2, 0.3), P(0.55, 0.38), P(0.85, 0.55),
                 P(1.0, 0.75), P(0.98, 0.86), P(0.03, 0.86)]
        sole = [P(0.0, 0.82), P(1.0, 0.8), P(0.97, 1.0), P(0.03, 1.0)]
    jitter = lambda pts: [(x + rng.normal(0, L * 0.01),  # noqa: E731
                           y + rng.normal(0, H * 0.01)) for x, y in pts]
    um = poly_mask(W, H, smooth_closed(jitter(upper)))
    sm = poly_mask(W, H, smooth_closed(sole) if kind != "heel" else sole)
    tex = print_texture(rng, W, H, colour) if rng.random() < 0.3 else colour
    s.paint(um, tex)
    s.paint(sm, sole_c)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if kind == "sneaker":
        # laces and a side stripe
        for i in range(4):
            u = 0.32 + 0.08 * i
            m = Image.new("L", (W, H), 0)
            ImageDraw.Draw(m).line([P(u, 0.15 + 0.08 * i), P(u + 0.07, 0.2 + 0.08 * i)],
                                   fill=255, width=max(SS, int(H * 0.03)))
            s.overlay(np.asarray(m, np.float32) / 255, np.full(3, 0.95 if
                      colour.mean() < 0.5 else 0.1, np.float32))
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).arc([x0 + L * 0.15, H * 0.2, x0 + L * 0.8, H * 0.9],
                              20, 160, fill=255, width=max(SS, int(H * 0.06)))
        s.overlay(np.asarray(m, np.float32) / 255, random_colour(rng))
    elif kind == "boot":
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).line([P(0.05, 0.12), P(0.55, 0.12)], fill=255,
                               width=max(SS, int(H * 0.04)))
        s.overlay(np.asarray(m, np.float32) / 255, colour * 0.6)
    if style == "photo":
        g = 0.7 + 0.45 * (1 - yy / H) * (0.8 + 0.2 * np.sin(xx / L * 3))
        s.rgb = np.clip(s.rgb * g[..., None], 0, 1)
        hl = np.exp(-((yy / H - 0.55) / 0.05) ** 2) * 0.25 * um
        s.rgb = np.clip(s.rgb + hl[..., None], 0, 1)
    elif style == "toon":
        s.rgb = np.floor(s.rgb * 4) / 4
    return s


DRAW = {"bottle": draw_bottle, "can": draw_can, "box": draw_box,
        "cup": draw_cup, "bag": draw_bag, "shoe": draw_shoe}


def warp(rng, img, alpha):
    """Rotate, mirror and put in perspective; returns RGBA uint8 image."""
    rgba = np.dstack([np.clip(img * 255, 0, 255), alpha * 255]).astype(np.uint8)
    im = Image.fromarray(rgba, "RGBA")
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    w, h = im.size
    pad = int(max(w, h) * 0.3)
    big = Image.new("RGBA", (w + 2 * pad, h + 2 * pad), (0, 0, 0, 0))
    big.paste(im, (pad, pad))
    W2, H2 = big.size
    # perspective: move the four corners of the sprite inwards a little
    k = rng.uniform(0, 0.18)
    src = [(pad, pad), (pad + w, pad), (pad + w, pad + h), (pad, pad + h)]
    d = lambda: rng.uniform(0, k)  # noqa: E731
    side = rng.integers(4)
    dst = list(src)
    if side == 0:  # near at the bottom
        dst[0] = (pad + w * d(), pad)
        dst[1] = (pad + w - w * d(), pad)
    elif side == 1:
        dst[0] = (pad, pad + h * d())
        dst[3] = (pad, pad + h - h * d())
    elif side == 2:
        dst[1] = (pad + w, pad + h * d())
        dst[2] = (pad + w, pad + h - h * d())
    coeffs = perspective_coeffs(dst, src)
    big = big.transform((W2, H2), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    angle = rng.normal(0, 12)
    if rng.random() < 0.08:
        angle += rng.choice([-90, 90])  # lying on its side
    big = big.rotate(angle, Image.BICUBIC, expand=True)
    bbox = big.getchannel("A").point(lambda v: 255 if v > 40 else 0).getbbox()
    return big.crop(bbox) if bbox else big


def perspective_coeffs(dst, src):
    """PIL's 8 coefficients mapping output (dst) points to input (src)."""
    A, B = [], []
    for (x, y), (u, v) in zip(dst, src):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        B += [u, v]
    return np.linalg.solve(np.array(A, np.float64), np.array(B, np.float64))


def product_sprite(rng, label, size_px):
    style = rng.choice(["photo", "photo", "photo", "flat", "toon", "sketch"])
    H = int(size_px * SS)
    s = DRAW[label](rng, H, style)
    finish_style(s, style, rng)
    im = warp(rng, s.rgb, s.a)
    # to the target size: the longer side of the product is size_px
    w, h = im.size
    f = size_px / max(w, h)
    im = im.resize((max(1, int(round(w * f))), max(1, int(round(h * f)))),
                   Image.LANCZOS)
    return im, style


# -------------------------------------------------------------- background

def background(rng, W, H):
    kind = rng.choice(["wood", "shelf", "marble", "concrete", "tiles",
                       "fabric", "studio", "bokeh", "kitchen"])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    n = noise2d(rng, H, W)
    if kind in ("wood", "kitchen"):
        horizon = H * rng.uniform(0.2, 0.55)
        wall = random_colour(rng, "muted")
        img = np.broadcast_to(wall, (H, W, 3)) * (0.85 + 0.25 * n[..., None])
        if kind == "kitchen":  # wall tiles
            t = rng.uniform(14, 30)
            grout = ((xx % t) < 1.5) | ((yy % t) < 1.5)
            img = np.where(grout[..., None], img * 0.7, img)
        wood = np.array([0.55, 0.35, 0.18], np.float32) * rng.uniform(0.6, 1.4)
        depth = np.clip((yy - horizon) / (H - horizon + 1), 0.02, 1)
        grain = np.sin((xx - W / 2) / depth * 0.05 + n * 12) * 0.5 + 0.5
        table = wood[None, None] * (0.7 + 0.4 * grain[..., None])
        img = np.where((yy > horizon)[..., None], table, img)
    elif kind == "shelf":
        img = np.broadcast_to(random_colour(rng, "muted") * 0.6, (H, W, 3)) * \
            (0.8 + 0.4 * n[..., None])
        plank = rng.uniform(60, 110)
        on = (yy % plank) > plank - rng.uniform(6, 12)
        img = np.where(on[..., None], np.array([0.85, 0.85, 0.82]) * 0.9, img)
        tags = on & (((xx + yy * 0.37) % 53) < 14)
        img = np.where(tags[..., None], np.array([1.0, 0.9, 0.2]), img)
        for x in rng.uniform(0, W, int(rng.integers(0, 3))):
            img[:, int(x):int(x) + 3] *= 0.5
    elif kind == "marble":
        base = random_colour(rng, "muted") * 0.3 + 0.65
        veins = np.abs(np.sin(xx * 0.02 + yy * 0.013 + n * 9))
        img = base[None, None] * (0.75 + 0.25 * veins[..., None] ** 0.3)
    elif kind == "concrete":
        fine = noise2d(rng, H, W, octaves=6, base=12)
        img = np.full((H, W, 3), rng.uniform(0.35, 0.7), np.float32) * \
            (0.75 + 0.3 * fine[..., None] + 0.15 * n[..., None])
        img *= random_colour(rng, "muted")[None, None] * 0.3 + 0.75
    elif kind == "tiles":
        t = rng.uniform(20, 48)
        c1, c2 = random_colour(rng), random_colour(rng, "muted")
        chk = ((xx // t + yy // t) % 2).astype(bool)
        img = np.where(chk[..., None], c1, c2) * (0.85 + 0.25 * n[..., None])
        grout = ((xx % t) < 2) | ((yy % t) < 2)
        img = np.where(grout[..., None], 0.8, img)
    elif kind == "fabric":
        c = random_colour(rng)
        weave = 0.85 + 0.15 * np.sin(xx * 1.7) * np.sin(yy * 1.7)
        folds = 0.75 + 0.35 * np.sin(xx * 0.03 + n * 6)
        img = c[None, None] * (weave * folds)[..., None]
    elif kind == "studio":
        c1, c2 = random_colour(rng, "muted"), random_colour(rng, "muted")
        t = (yy / H)[..., None]
        img = c1 * (1 - t) + c2 * t
    else:  # bokeh
        c1, c2 = random_colour(rng), random_colour(rng, "muted")
        img = (c1 * n[..., None] + c2 * (1 - n[..., None])) * 0.6
        for _ in range(int(rng.integers(6, 20))):
            cx, cy, r = rng.uniform(0, W), rng.uniform(0, H), rng.uniform(5, 30)
            m = np.clip(1 - np.hypot(xx - cx, yy - cy) / r, 0, 1) ** 0.3
            img = img + m[..., None] * random_colour(rng) * 0.4
    return np.clip(img, 0, 1).astype(np.float32), kind


def clutter(rng, canvas, W, H, count):
    """Non-product things: fruit, leaves, cables, sticky notes."""
    im = Image.fromarray((canvas * 255).astype(np.uint8))
    d = ImageDraw.Draw(im, "RGBA")
    for _ in range(count):
        kind = rng.choice(["fruit", "leaf", "cable", "note"])
        col = tuple(int(v * 255) for v in random_colour(rng)) + (255,)
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        r = rng.uniform(6, 30)
        if kind == "fruit":
            d.ellipse([x - r, y - r, x + r, y + r], fill=col)
            d.ellipse([x - r * 0.5, y - r * 0.6, x - r * 0.1, y - r * 0.2],
                      fill=(255, 255, 255, 90))
        elif kind == "leaf":
            a = rng.uniform(0, math.pi)
            pts = [(x + math.cos(a) * r * 1.5, y + math.sin(a) * r * 1.5),
                   (x + math.cos(a + 1.6) * r * 0.4, y + math.sin(a + 1.6) * r * 0.4),
                   (x - math.cos(a) * r * 1.5, y - math.sin(a) * r * 1.5),
                   (x + math.cos(a - 1.6) * r * 0.4, y + math.sin(a - 1.6) * r * 0.4)]
            d.polygon(pts, fill=(40, int(rng.uniform(90, 170)), 40, 255))
        elif kind == "cable":
            pts = [(x + rng.uniform(-60, 60), y + rng.uniform(-40, 40))
                   for _ in range(4)]
            d.line(pts, fill=col, width=int(rng.integers(1, 4)))
        else:
            a = rng.uniform(-0.4, 0.4)
            s = r * 1.2
            pts = [(x + s * math.cos(a + t) * 1.41, y + s * math.sin(a + t) * 1.41)
                   for t in (math.pi / 4, 3 * math.pi / 4, 5 * math.pi / 4,
                             7 * math.pi / 4)]
            d.polygon(pts, fill=(255, 240, 120, 255))
    return np.asarray(im, np.float32) / 255


# ------------------------------------------------------------------ scene

def make_shot(rng, W, H):
    """A scene larger than the frame, and where each product lies in it."""
    SW, SH = int(W * 1.25), int(H * 1.25)
    canvas, bg = background(rng, SW, SH)
    canvas = clutter(rng, canvas, SW, SH, int(rng.integers(0, 6)))
    n = int(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6]))
    placed = []
    covered = []
    for _ in range(n):
        label = LABELS[int(rng.integers(len(LABELS)))]
        size = float(np.exp(rng.uniform(math.log(26), math.log(min(SH, 210)))))
        im, style = product_sprite(rng, label, size)
        w, h = im.size
        x = int(rng.uniform(W * 0.1 - w * 0.3, SW - W * 0.1 - w * 0.7))
        y = int(rng.uniform(H * 0.1 - h * 0.3, SH - H * 0.1 - h * 0.7))
        a = np.asarray(im, np.float32)[..., 3] / 255
        rgb = np.asarray(im, np.float32)[..., :3] / 255
        # contact shadow under photographic products
        if style == "photo" and rng.random() < 0.8:
            sh = Image.new("L", (SW, SH), 0)
            ImageDraw.Draw(sh).ellipse([x + w * 0.05, y + h * 0.88,
                                        x + w * 1.05, y + h * 1.04],
                                       fill=int(rng.uniform(60, 140)))
            sh = np.asarray(sh.filter(ImageFilter.GaussianBlur(max(2, h * 0.04))),
                            np.float32) / 255
            canvas = canvas * (1 - sh[..., None] * 0.8)
        full = np.zeros((SH, SW), np.float32)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, SW), min(y + h, SH)
        if x1 <= x0 or y1 <= y0:
            continue
        sub = a[y0 - y:y1 - y, x0 - x:x1 - x]
        full[y0:y1, x0:x1] = sub
        canvas[y0:y1, x0:x1] = canvas[y0:y1, x0:x1] * (1 - sub[..., None]) + \
            rgb[y0 - y:y1 - y, x0 - x:x1 - x] * sub[..., None]
        for c in covered:
            c["mask"] *= (1 - full)
        covered.append({"label": label, "mask": full.copy(),
                        "area": float((a > 0.5).sum()), "style": style,
                        "box": (x, y, x + w, y + h)})
        placed.append(label)
    # something in front: a hand-sized blob or a price card now and then
    if rng.random() < 0.3:
        occ = Image.new("L", (SW, SH), 0)
        cx, cy = rng.uniform(0, SW), rng.uniform(0, SH)
        r = rng.uniform(20, 50)
        ImageDraw.Draw(occ).ellipse([cx - r, cy - r * 0.6, cx + r, cy + r * 0.6],
                                    fill=255)
        om = np.asarray(occ, np.float32) / 255
        skin = np.array(rng.choice([[0.85, 0.65, 0.5], [0.55, 0.38, 0.25],
                                    [0.95, 0.95, 0.95]]), np.float32)
        canvas = canvas * (1 - om[..., None]) + skin * om[..., None]
        for c in covered:
            c["mask"] *= (1 - om)
    return canvas, covered, bg


def camera(rng):
    """Per-shot camera and light settings."""
    cast = rng.choice(["none", "tungsten", "daylight", "fluorescent", "dim"])
    gain = {"none": [1, 1, 1], "tungsten": [1.15, 0.95, 0.7],
            "daylight": [0.9, 0.98, 1.12], "fluorescent": [0.92, 1.08, 0.9],
            "dim": [0.6, 0.6, 0.62]}[cast]
    return {
        "gain": np.array(gain, np.float32) * rng.uniform(0.85, 1.15, 3),
        "gamma": rng.uniform(0.75, 1.35),
        "contrast": rng.uniform(0.7, 1.2),
        "vignette": rng.uniform(0, 0.5),
        "falloff": (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 0.45)),
        "blur": rng.choice(["none", "none", "defocus", "motion"]),
        "blur_amount": rng.uniform(0.5, 2.2),
        "motion_angle": rng.uniform(0, math.pi),
        "noise": rng.uniform(0.0, 0.06),
        "lowres": rng.random() < 0.25,
        "jpeg": int(rng.uniform(12, 70)),
        "zoom": (rng.uniform(0.82, 1.0), rng.uniform(-0.04, 0.04)),
        "pan": (rng.uniform(-0.06, 0.06), rng.uniform(-0.04, 0.04)),
    }


def shoot(rng, canvas, covered, bg, cam, W, H, t):
    """Frame t of a shot: crop/zoom the scene, then the camera effects."""
    SH, SW = canvas.shape[:2]
    zoom = cam["zoom"][0] + cam["zoom"][1] * t
    cw, ch = SW * zoom / 1.25, SH * zoom / 1.25
    cx = SW / 2 + cam["pan"][0] * SW * (t - 1)
    cy = SH / 2 + cam["pan"][1] * SH * (t - 1)
    left, top = cx - cw / 2, cy - ch / 2
    sx, sy = W / cw, H / ch
    src = Image.fromarray((np.clip(canvas, 0, 1) * 255).astype(np.uint8))
    box = (left, top, left + cw, top + ch)
    frame = np.asarray(src.resize((W, H), Image.BILINEAR, box=box),
                       np.float32) / 255
    boxes, attrs = [], []
    for c in covered:
        total = c["area"]
        if total < 1:
            continue
        m = Image.fromarray(c["mask"], mode="F").resize((W, H), Image.BILINEAR,
                                                          box=box)
        vis = float((np.asarray(m) > 0.5).sum() * (cw * ch) / (W * H)) / total
        bx0, by0, bx1, by1 = c["box"]
        # the sprite box is the warped product's tight alpha box
        x0, x1 = (bx0 - left) * sx, (bx1 - left) * sx
        y0, y1 = (by0 - top) * sy, (by1 - top) * sy
        cx0, cy0 = max(0, x0), max(0, y0)
        cx1, cy1 = min(W, x1), min(H, y1)
        if cx1 - cx0 < 2 or cy1 - cy0 < 2:
            continue
        boxes.append([c["label"], int(round(cx0)), int(round(cy0)),
                      int(round(cx1)), int(round(cy1)),
                      round(min(1.0, vis), 3)])
        attrs.append({"style": c["style"], "background": bg,
                      "blur": cam["blur"], "lowres": cam["lowres"]})
    # light
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    fx, fy, fa = cam["falloff"]
    light = 1 - fa * (0.5 + 0.5 * ((xx / W - 0.5) * fx + (yy / H - 0.5) * fy))
    r2 = ((xx / W - 0.5) ** 2 + (yy / H - 0.5) ** 2) / 0.5
    light *= 1 - cam["vignette"] * r2
    img = frame * light[..., None] * cam["gain"][None, None]
    img = np.clip((img - 0.5) * cam["contrast"] + 0.5, 0, 1) ** cam["gamma"]
    pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    if cam["blur"] == "defocus":
        pil = pil.filter(ImageFilter.GaussianBlur(cam["blur_amount"]))
    elif cam["blur"] == "motion":
        a = np.asarray(pil, np.float32)
        n = int(2 + cam["blur_amount"] * 3)
        dx, dy = math.cos(cam["motion_angle"]), math.sin(cam["motion_angle"])
        acc = np.zeros_like(a)
        for i in range(n):
            o = i - n / 2
            acc += np.roll(a, (int(round(o * dy)), int(round(o * dx))), (0, 1))
        pil = Image.fromarray((acc / n).astype(np.uint8))
    if cam["lowres"]:
        pil = pil.resize((W // 2, H // 2), Image.BILINEAR).resize((W, H),
                                                                  Image.BILINEAR)
    a = np.asarray(pil, np.float32) / 255
    if cam["noise"] > 0:
        a = a + rng.normal(0, cam["noise"], a.shape).astype(np.float32)
        a = a + rng.normal(0, cam["noise"] * 0.5, a.shape[:2] + (1,))
    pil = Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8))
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=cam["jpeg"])
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB")), boxes, attrs


NEUTRAL = {"gain": np.ones(3, np.float32), "gamma": 1.0, "contrast": 1.0,
           "vignette": 0.0, "falloff": (0.0, 0.0, 0.0), "blur": "none",
           "lowres": False, "noise": 0.0, "jpeg": 95}


def render(out, seed, shots, W, H, clean=False):
    os.makedirs(out, exist_ok=True)
    all_boxes, all_attrs = [], []
    with open(os.path.join(out, "products.rgb"), "wb") as f:
        for i in range(shots):
            srng = np.random.default_rng([seed, i])
            canvas, covered, bg = make_shot(srng, W, H)
            cam = camera(srng)
            if clean:  # the same scenes and motion, no camera effects
                cam.update(NEUTRAL)
            for t in range(FRAMES_PER_SHOT):
                frame, boxes, attrs = shoot(srng, canvas, covered, bg, cam, W,
                                            H, t)
                f.write(np.ascontiguousarray(frame, np.uint8).tobytes())
                all_boxes.append(boxes)
                all_attrs.append(attrs)
    meta = {"file": "products.rgb", "format": "RGB", "width": W, "height": H,
            "framerate": [10, 1], "frames": len(all_boxes), "labels": LABELS,
            "renderer": "models/detect/eval/render2.py", "seed": seed,
            "boxes": all_boxes,
            # per box, in the same order: how it was drawn
            "attributes": all_attrs}
    with open(os.path.join(out, "products.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shots", type=int, default=40,
                    help="scenes, %d frames each" % FRAMES_PER_SHOT)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--preview", help="also write a PNG contact sheet here")
    ap.add_argument("--clean", action="store_true",
                    help="no camera effects (light, colour cast, blur, noise, "
                    "low resolution, JPEG): to tell them from the drawing")
    args = ap.parse_args(argv)
    meta = render(args.outdir, args.seed, args.shots, args.width, args.height,
                  args.clean)
    n = sum(len(b) for b in meta["boxes"])
    print("wrote %s/products.rgb (%d frames %dx%d RGB) and products.json "
          "(%d boxes)" % (args.outdir, meta["frames"], args.width, args.height, n))
    if args.preview:
        preview(args.outdir, meta, args.preview)
    return 0


def preview(outdir, meta, path, cols=6, rows=5):
    W, H = meta["width"], meta["height"]
    raw = np.fromfile(os.path.join(outdir, meta["file"]), np.uint8)
    frames = raw.reshape(-1, H, W, 3)
    sheet = Image.new("RGB", (W * cols, H * rows))
    d = ImageDraw.Draw(sheet)
    for k in range(min(len(frames), cols * rows)):
        i = k * FRAMES_PER_SHOT % len(frames)
        ox, oy = (k % cols) * W, (k // cols) * H
        sheet.paste(Image.fromarray(frames[i]), (ox, oy))
        for lab, x0, y0, x1, y1, vis in meta["boxes"][i]:
            d.rectangle([ox + x0, oy + y0, ox + x1, oy + y1],
                        outline=(255, 0, 0) if vis >= 0.5 else (255, 255, 0))
            d.text((ox + x0 + 2, oy + y0 + 1), lab, fill=(255, 0, 0))
    sheet.save(path)


if __name__ == "__main__":
    sys.exit(main())
