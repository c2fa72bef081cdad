#!/usr/bin/python3
"""Recipe of gst-kling's default copywriter (kling-copywrite.pt).

aiproductdetect crops each product it finds, stretches the crop to 64x64 RGB
and asks this model for one line of marketing copy, byte by byte, in Chinese
or English.  The line must fit what the model sees: a red can and a blue
bottle get different copy, naming their colour and kind.

Data, made here (deterministic, seeded):
  * product crops: six kinds (bottle, can, box, cup, bag, shoe) as shaded
    silhouettes with a highlight and a label band, in ten colours with hue and
    brightness jitter, on plain, gradient and noisy backgrounds, framed
    loosely as a detector's box would be, blurred and lit differently;
  * a corpus: for each kind, colour, style (festive, minimal, sporty, luxury,
    eco, cute) and language, lines built from several template families with
    synonym slots; every line names the colour and the kind.

Model: a small CNN encodes the crop; with label and language embeddings it
makes a 3-slot memory; a GRU over UTF-8 bytes (vocabulary 258: bytes, BOS
256, EOS 257) predicts the next byte from the memory and the prefix.

  /usr/bin/python3 models/copywrite/train.py                 # train + export
  /usr/bin/python3 models/copywrite/train.py --smoke --output /tmp/c.pt
  /usr/bin/python3 models/copywrite/train.py --score models/kling-copywrite.pt
"""
import argparse
import importlib.util
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.normpath(os.path.join(HERE, "..", "kling-copywrite.pt"))
LABELS = ["bottle", "can", "box", "cup", "bag", "shoe"]
BOS, EOS, VOCAB, MAXLEN = 256, 257, 258, 96

COLOURS = {  # name: (rgb, en words, zh words)
    "red": ((0.85, 0.12, 0.12), ["red", "crimson"], ["紅色", "红色"]),
    "blue": ((0.15, 0.3, 0.85), ["blue", "ocean-blue"], ["藍色", "蓝色"]),
    "green": ((0.15, 0.7, 0.25), ["green", "fresh green"], ["綠色", "绿色"]),
    "yellow": ((0.95, 0.85, 0.15), ["yellow", "sunny yellow"], ["黃色", "黄色"]),
    "black": ((0.08, 0.08, 0.08), ["black", "jet-black"], ["黑色"]),
    "white": ((0.94, 0.94, 0.94), ["white", "snow-white"], ["白色"]),
    "pink": ((0.95, 0.5, 0.7), ["pink", "rose-pink"], ["粉色", "粉紅色"]),
    "orange": ((0.98, 0.55, 0.1), ["orange", "tangerine"], ["橙色", "橘色"]),
    "purple": ((0.55, 0.25, 0.75), ["purple", "violet"], ["紫色"]),
    "brown": ((0.5, 0.3, 0.15), ["brown", "chocolate-brown"], ["棕色", "咖啡色"]),
}
CNAMES = list(COLOURS)
KINDS_EN = {"bottle": ["bottle", "water bottle"], "can": ["can", "drink can"],
            "box": ["box", "gift box"], "cup": ["cup", "mug"],
            "bag": ["bag", "handbag"], "shoe": ["shoe", "sneaker"]}
KINDS_ZH = {"bottle": ["瓶子", "水瓶"], "can": ["罐子", "易拉罐"], "box": ["盒子", "禮盒"],
            "cup": ["杯子", "馬克杯"], "bag": ["包包", "手提包"], "shoe": ["鞋子", "運動鞋"]}
STYLES_EN = {"festive": ["festive", "party-ready"], "minimal": ["clean", "minimal"],
             "sporty": ["sporty", "energetic"], "luxury": ["luxurious", "premium"],
             "eco": ["eco-friendly", "sustainable"], "cute": ["cute", "adorable"]}
STYLES_ZH = {"festive": ["節日限定", "喜慶"], "minimal": ["簡約", "極簡"],
             "sporty": ["活力", "運動風"], "luxury": ["奢華", "高級"],
             "eco": ["環保", "天然"], "cute": ["可愛", "萌趣"]}
BENEFIT_EN = ["built to last", "light in your hand", "made for every day",
              "a gift they will love", "stands out anywhere"]
BENEFIT_ZH = ["經久耐用", "輕巧好拿", "每天都好用", "送禮首選", "走到哪都亮眼"]
CTA_EN = ["Grab yours now!", "Order today!", "Only while stocks last!", "Add it to your cart!"]
CTA_ZH = ["立即下單！", "限時搶購！", "快來帶回家！", "手慢無！"]
EN_T = ["{cta} The {style} {colour} {kind}, {benefit}.",
        "Meet our {colour} {kind}: {style} and {benefit}.",
        "{style_c} {colour} {kind} - {benefit}. {cta}",
        "This {colour} {kind} is {style}, {benefit}!",
        "Your new favourite {kind} in {colour}. {cta}",
        "{colour_c} and {style}: the {kind} that is {benefit}."]
ZH_T = ["{style}{colour}{kind}，{benefit}！{cta}",
        "這款{colour}{kind}{style}又{benefit}。",
        "{cta}{colour}{kind}，{style}首選。",
        "{style}風格的{colour}{kind}，{benefit}。",
        "就愛這個{colour}{kind}！{benefit}，{cta}",
        "{colour}{kind}上新，{style}{benefit}。"]


def make_line(rng, kind, colour, lang):
    style = list(STYLES_EN)[rng.integers(6)]
    if lang == 1:
        t = EN_T[rng.integers(len(EN_T))]
        cw = COLOURS[colour][1][rng.integers(2)]
        sw = STYLES_EN[style][rng.integers(2)]
        s = t.format(cta=CTA_EN[rng.integers(4)], style=sw, style_c=sw.capitalize(),
                     colour=cw, colour_c=cw.capitalize(),
                     kind=KINDS_EN[kind][rng.integers(2)],
                     benefit=BENEFIT_EN[rng.integers(5)])
    else:
        t = ZH_T[rng.integers(len(ZH_T))]
        cz = COLOURS[colour][2]
        s = t.format(cta=CTA_ZH[rng.integers(4)], style=STYLES_ZH[style][rng.integers(2)],
                     colour=cz[rng.integers(len(cz))], kind=KINDS_ZH[kind][rng.integers(2)],
                     benefit=BENEFIT_ZH[rng.integers(5)])
    b = s.encode("utf-8")
    while len(b) > MAXLEN - 1:  # never cut a character in half
        s = s[:-1]
        b = s.encode("utf-8")
    return b


def render_crop(rng, kind, colour, size=64):
    """A product as a detector's box would frame it, float32 HxWx3 in [0,1]."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    mode = rng.integers(3)
    base = rng.uniform(0.2, 0.9, 3).astype(np.float32)
    if mode == 0:
        img = np.broadcast_to(base, (size, size, 3)).copy()
    elif mode == 1:
        other = rng.uniform(0.2, 0.9, 3).astype(np.float32)
        img = base + (other - base) * yy[..., None]
    else:
        img = base + rng.normal(0, 0.08, (size, size, 3)).astype(np.float32)
    rgb = np.array(COLOURS[colour][0], np.float32)
    rgb = np.clip(rgb * rng.uniform(0.8, 1.15) + rng.normal(0, 0.04, 3), 0, 1)
    m = rng.uniform(0.04, 0.14)          # loose framing
    x0, x1, y0, y1 = m, 1 - m * rng.uniform(0.5, 1.5), m, 1 - m * rng.uniform(0.5, 1.5)
    cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
    if kind == "bottle":
        body = (abs(xx - cx) < w * 0.28) & (yy > y0 + h * 0.3) & (yy < y1)
        neck = (abs(xx - cx) < w * 0.1) & (yy > y0) & (yy <= y0 + h * 0.3)
        mask = body | neck
    elif kind == "can":
        mask = (abs(xx - cx) < w * 0.33) & (yy > y0 + h * 0.05) & (yy < y1 - h * 0.05)
    elif kind == "box":
        mask = (abs(xx - cx) < w * 0.45) & (yy > y0 + h * 0.2) & (yy < y1)
    elif kind == "cup":
        half = w * (0.25 + 0.1 * (yy - y0) / h)
        body = (abs(xx - cx) < half) & (yy > y0 + h * 0.15) & (yy < y1)
        ring = np.abs(np.hypot(xx - (cx + w * 0.38), yy - (y0 + h * 0.55)) - h * 0.15) < 0.03
        mask = body | (ring & (xx > cx + w * 0.3))
    elif kind == "bag":
        body = (abs(xx - cx) < w * 0.42) & (yy > y0 + h * 0.35) & (yy < y1)
        handle = np.abs(np.hypot(xx - cx, yy - (y0 + h * 0.35)) - w * 0.22) < 0.03
        mask = body | (handle & (yy < y0 + h * 0.35))
    else:  # shoe: low and wide with a toe bump
        sole = (abs(xx - cx) < w * 0.48) & (yy > y1 - h * 0.35) & (yy < y1)
        upper = (xx > cx - w * 0.48) & (xx < cx + w * 0.05) & (yy > y1 - h * 0.6) & (yy < y1)
        mask = sole | upper
    shade = 0.75 + 0.35 * (1 - np.abs(xx - cx) / max(w, 1e-3))
    obj = np.clip(rgb * shade[..., None], 0, 1)
    hl = mask & (np.abs(xx - (cx - w * 0.15)) < 0.02)
    band = mask & (np.abs(yy - (y0 + h * 0.65)) < h * 0.07)
    img[mask] = obj[mask]
    img[band] = np.clip(1 - rgb, 0.1, 0.9) * 0.8 + 0.1
    img[hl] = np.clip(img[hl] + 0.35, 0, 1)
    img = img * rng.uniform(0.75, 1.2) + rng.normal(0, 0.02, img.shape)
    if rng.random() < 0.3:
        img = (img + np.roll(img, 1, 0) + np.roll(img, 1, 1)) / 3
    return np.clip(img, 0, 1).astype(np.float32)


def batch(rng, n):
    imgs, labels, langs, lines = [], [], [], []
    for _ in range(n):
        k, c, g = rng.integers(6), rng.integers(len(CNAMES)), rng.integers(2)
        imgs.append(render_crop(rng, LABELS[k], CNAMES[c]))
        labels.append(k)
        langs.append(g)
        lines.append(make_line(rng, LABELS[k], CNAMES[c], g))
    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()
    T = max(len(l) for l in lines) + 1
    inp = torch.full((n, T), EOS, dtype=torch.long)
    tgt = torch.full((n, T), -100, dtype=torch.long)
    for i, l in enumerate(lines):
        seq = [BOS] + list(l)
        inp[i, :len(seq)] = torch.tensor(seq)
        tgt[i, :len(seq)] = torch.tensor(list(l) + [EOS])
    return x, torch.tensor(labels), torch.tensor(langs), inp, tgt


class Copywriter(nn.Module):
    def __init__(self, d=192):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 24, 3, 2, 1), nn.ReLU(), nn.Conv2d(24, 48, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(48, 64, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.img = nn.Linear(64 + 3, d)
        self.label = nn.Embedding(6, d)
        self.lang = nn.Embedding(2, d)
        self.byte = nn.Embedding(VOCAB, d)
        self.init = nn.Linear(3 * d, d)
        self.gru = nn.GRU(2 * d, d, batch_first=True)
        self.out = nn.Linear(d, VOCAB)

    @torch.jit.export
    def encode(self, image: torch.Tensor, label: torch.Tensor, lang: torch.Tensor) -> torch.Tensor:
        f = self.cnn(image).flatten(1)
        mean = image.mean(dim=(2, 3))  # colour straight from the pixels
        return torch.stack([self.img(torch.cat([f, mean], 1)), self.label(label),
                            self.lang(lang)], dim=1)

    def run(self, memory: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        ctx = memory.mean(dim=1)
        h0 = torch.tanh(self.init(memory.flatten(1))).unsqueeze(0)
        e = self.byte(tokens)
        x = torch.cat([e, ctx.unsqueeze(1).expand(-1, e.size(1), -1)], dim=2)
        y, _ = self.gru(x, h0)
        return self.out(y)

    @torch.jit.export
    def decode_step(self, memory: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.run(memory, tokens)[:, -1]

    def forward(self, image: torch.Tensor, label: torch.Tensor, lang: torch.Tensor,
                tokens: torch.Tensor) -> torch.Tensor:
        return self.run(self.encode(image, label, lang), tokens)


def greedy(model, img, label, lang):
    """The C loop, in Python: BOS, argmax, stop at EOS or MAXLEN."""
    with torch.no_grad():
        mem = model.encode(img, torch.tensor([label]), torch.tensor([lang]))
        toks = [BOS]
        for _ in range(MAXLEN):
            nxt = int(model.decode_step(mem, torch.tensor([toks])).argmax())
            if nxt == EOS:
                break
            toks.append(nxt)
    return bytes(t for t in toks[1:] if t < 256)


def score(model, n=300, seed=424242):
    rng = np.random.default_rng(seed)
    ok_utf8 = ok_colour = ok_kind = 0
    lines = []
    for i in range(n):
        k, c, g = rng.integers(6), rng.integers(len(CNAMES)), i % 2
        img = torch.from_numpy(render_crop(rng, LABELS[k], CNAMES[c])).permute(2, 0, 1)[None]
        b = greedy(model, img.contiguous(memory_format=torch.channels_last), int(k), g)
        try:
            s = b.decode("utf-8")
            ok_utf8 += 1
        except UnicodeDecodeError:
            s = ""
        lines.append(s)
        colour_words = COLOURS[CNAMES[c]][1] if g else COLOURS[CNAMES[c]][2]
        kind_words = KINDS_EN[LABELS[k]] if g else KINDS_ZH[LABELS[k]]
        ok_colour += any(w.lower() in s.lower() for w in colour_words)
        ok_kind += any(w in s for w in kind_words)
    return {"utf8": ok_utf8 / n, "colour": ok_colour / n, "kind": ok_kind / n,
            "distinct": len(set(lines)) / n}


def export(model, path, description):
    spec = importlib.util.spec_from_file_location(
        "kling_wrap", os.path.join(HERE, "..", "kling-wrap.py"))
    kw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kw)
    model.eval()
    scripted = torch.jit.script(model)
    manifest = {"format": 1, "name": "kling-copywrite", "task": "copywrite",
                "description": description, "methods": ["encode", "decode_step"],
                "input": {"width": 64, "height": 64, "layout": "NCHW", "channels": "RGB",
                          "scale": 1 / 255.0, "mean": [0, 0, 0], "std": [1, 1, 1],
                          "resize": "stretch"},
                "tokenizer": {"type": "utf8-bytes", "max_length": MAXLEN, "offset": 0,
                              "bos": BOS, "eos": EOS, "vocab": VOCAB},
                "labels": LABELS, "languages": ["zh", "en"], "defaults": {"top_k": 1}}
    kw.wrap(scripted, manifest, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", default=SHIPPED)
    ap.add_argument("--smoke", action="store_true", help="one step, export (CI)")
    ap.add_argument("--score", metavar="PACKAGE", help="score an existing package")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    if args.score:
        print(json.dumps(score(torch.jit.load(args.score))))
        return
    if args.smoke and os.path.abspath(args.output) == SHIPPED:
        ap.error("--smoke must not overwrite the shipped model: give --output")
    rng = np.random.default_rng(1)
    model = Copywriter()
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    t0, step = time.time(), 0
    while True:
        x, lab, lang, inp, tgt = batch(rng, 4 if args.smoke else 48)
        logits = model(x, lab, lang, inp)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
        if args.smoke or time.time() - t0 > args.minutes * 60:
            break
    minutes = (time.time() - t0) / 60
    # export before scoring, so a long scoring run never costs the training
    export(model, args.output, f"Copywriter for aiproductdetect, {nparams} parameters, "
           f"trained {minutes:.1f} min ({step} steps); not scored yet")
    figures = score(model, n=4 if args.smoke else 300)
    desc = (f"Copywriter for aiproductdetect: CNN crop encoder + byte GRU, {nparams} "
            f"parameters, trained {minutes:.1f} min ({step} steps) on 2 CPU cores by "
            f"models/copywrite/train.py; on 300 fresh crops (greedy): colour named "
            f"{figures['colour']:.2f}, kind named {figures['kind']:.2f}, valid UTF-8 "
            f"{figures['utf8']:.2f}, distinct lines {figures['distinct']:.2f}")
    export(model, args.output, desc)
    print(json.dumps({"params": nparams, "steps": step, "minutes": round(minutes, 1),
                      **figures}))
    for k, c in [(1, "red"), (0, "blue")]:
        rng2 = np.random.default_rng(5)
        img = torch.from_numpy(render_crop(rng2, LABELS[k], c)).permute(2, 0, 1)[None]
        for g in (0, 1):
            print(LABELS[k], c, "zh" if g == 0 else "en", greedy(model, img, k, g).decode(
                "utf-8", "replace"))


if __name__ == "__main__":
    main()
