#!/usr/bin/python3
"""Recipe for kling-host: a small talking-head generator (task
`talking-head`, docs/models.md) trained on faces this script draws,
speaking sentences espeak-ng synthesises, exported as a gst-kling package.

  /usr/bin/python3 models/host/train.py --smoke --output /tmp/smoke.pt
  /usr/bin/python3 models/host/train.py --score PACKAGE     # held-out score
  nice -n 19 /usr/bin/python3 models/host/train.py --minutes 60   # full run

State: the renderer, the espeak-ng phoneme timing, the viseme mapping, the
model, the training loop, the export and the scorer are here and run; the
shipped default model (a full training run, alone on the machine) is not
made yet.

Data, all generated, deterministic from --seed:
- speech: libespeak-ng through ctypes (synchronous, phoneme events), Chinese
  (cmn) and English voices at several rates and pitches; each phoneme event
  gives its sample position, so every phoneme has an exact time span;
- visemes: each phoneme maps to a mouth shape (closed, open, wide, round,
  teeth) with an opening in [0, 1]; a video frame's opening is the mean over
  its 40 ms, so the ground truth is known frame by frame;
- faces: drawn with numpy at the model's 96x96 face size: background, skin
  tone, hair, eyes, optional glasses, head size, a slight head motion; the
  mouth drawn from the viseme (lips, dark interior, teeth);
- features: Wav2Lip's log-mel spectrogram (the same pipeline gst-kling runs
  in C, kling-mel.c; here with torch.stft), 80 bands x 16 frames centred on
  the frame's time.

Training pairs (as Wav2Lip): input = the target face with its lower half
masked + the same face with a random other mouth (the reference), and the
mel window; target = the face with the mouth of that frame.  Loss: L1 over
the face, weighted x4 on the lower half.

Scorer (--score, and after a full run), on held-out faces and sentences:
per-frame mouth opening measured from the generated face (dark interior
pixels in the mouth area) against the ground-truth viseme opening, Pearson
>= 0.8; the audio-video offset with the best correlation within +-5 frames,
0 +- 1; pixels outside the mouth rows of the face unchanged (the model may
only redraw the masked half; the element also pastes only the face box).
"""
import argparse
import ctypes
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
SHIPPED = os.path.normpath(os.path.join(HERE, "..", "kling-host.pt"))
FACE = 96
FPS = 25
MEL = {"rate": 16000, "n_fft": 800, "hop": 200, "win_length": 800,
       "window": "hann", "bands": 80, "fmin": 55.0, "fmax": 7600.0,
       "preemphasis": 0.97, "ref_level_db": 20.0, "min_level_db": -100.0,
       "max_abs_value": 4.0, "symmetric": True, "frames": 16, "offset": -8}

SENTENCES = {
    "en": ["Fresh coffee, roasted this morning.", "Buy two and get one free!",
           "This jacket keeps you warm all winter.",
           "Order now and it ships today.",
           "Welcome to our shop, have a look around.",
           "The blue one is my favourite colour.",
           "Pick a size and we will wrap it for you.",
           "Soft cotton, machine washable, five colours.",
           "Only ten left at this price.",
           "Tap the link below to see the details.",
           "My mother loves this teapot.",
           "We put a little gift in every box."],
    "cmn": ["今天买二送一。", "欢迎来到我们的直播间。", "这件外套冬天很暖和。",
            "现在下单今天发货。", "新鲜的咖啡豆每天烘焙。", "蓝色的这款最受欢迎。",
            "大家好,我是今天的主播。", "这双鞋又轻又软。", "库存不多,喜欢的朋友抓紧。",
            "点击下方链接查看详情。", "买一个送朋友也很合适。", "包装里还有一份小礼物。"],
}
# each sentence is spoken by every voice of its language, each at its own
# rate and pitch (espeak-ng's +variants change the voice's formants)
VOICES = {"en": ["en", "en-us+f2", "en+m3"], "cmn": ["cmn", "cmn+f2", "cmn+m3"]}
HELD_OUT = {"en": ["Great shoes for running and walking."],
            "cmn": ["这款手机的电池非常耐用。"]}

# --------------------------------------------------------------------------
# espeak-ng: audio and phoneme timing
# --------------------------------------------------------------------------


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short),
                       ctypes.c_int, ctypes.POINTER(_Event))


class Espeak:
    PHONEME_EVENT = 7

    def __init__(self):
        self.lib = ctypes.CDLL("libespeak-ng.so.1")
        # synchronous output, phoneme events
        self.rate = self.lib.espeak_Initialize(2, 0, None, 1)
        if self.rate <= 0:
            raise RuntimeError("espeak-ng could not start")
        self._wave, self._events = [], []
        self._cb = _CB(self._callback)
        self.lib.espeak_SetSynthCallback(self._cb)

    def _callback(self, wav, n, events):
        if n > 0:
            self._wave.extend(wav[:n])
        i = 0
        while events[i].type != 0:
            e = events[i]
            if e.type == self.PHONEME_EVENT:
                name = bytes(e.id).split(b"\0")[0].decode("latin1")
                self._events.append((e.sample, name))
            i += 1
        return 0

    def say(self, text, voice, rate, pitch):
        """float32 wave at self.rate and [(start sample, phoneme)]."""
        self._wave, self._events = [], []
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError("espeak-ng has no voice %s" % voice)
        self.lib.espeak_SetParameter(1, int(rate), 0)    # espeakRATE
        self.lib.espeak_SetParameter(3, int(pitch), 0)   # espeakPITCH
        b = text.encode("utf-8")
        self.lib.espeak_Synth(b, len(b) + 1, 0, 1, 0, 1, None, None)
        self.lib.espeak_Synchronize()
        wave = np.asarray(self._wave, dtype=np.float32) / 32768.0
        return wave, list(self._events)


# mouth shapes: opening (0 closed .. 1 open), width factor, teeth shown
VISEMES = {"closed": (0.0, 1.0, False), "open": (1.0, 1.0, False),
           "wide": (0.4, 1.3, True), "round": (0.5, 0.7, False),
           "teeth": (0.2, 1.1, True), "mid": (0.3, 1.0, False)}


def viseme_of(ph):
    p = ph.strip("'\",%=:;")
    if not p or p.startswith("_") or p.startswith("("):
        return "closed"
    c = p[0]
    if c in "pbm":
        return "closed"
    if p[:2] in ("aI", "aU") or c in "aA&V":
        return "open"
    if c in "@3":
        return "mid"
    if c in "iIeEj":
        return "wide"
    if c in "oOuUw0Y":
        return "round"
    if c in "fvszSZTDtdnlrc" or p[:2] in ("tS", "dZ", "ts"):
        return "teeth"
    return "mid"


def frame_visemes(events, n_samples, sr, n_frames):
    """Per video frame: (opening, width, teeth), the mean over its span."""
    spans = []
    for i, (start, ph) in enumerate(events):
        end = events[i + 1][0] if i + 1 < len(events) else n_samples
        if end > start:
            spans.append((start / sr, end / sr, VISEMES[viseme_of(ph)]))
    out = []
    for f in range(n_frames):
        a, b = f / FPS, (f + 1) / FPS
        w = o = wd = te = 0.0
        for s, e, (op, width, teeth) in spans:
            ov = max(0.0, min(b, e) - max(a, s))
            if ov > 0:
                w += ov
                o += ov * op
                wd += ov * width
                te += ov * teeth
        out.append((o / w, wd / w, te / w > 0.5) if w > 0 else (0.0, 1.0,
                                                                False))
    return out


def resample(wave, sr, to):
    n = int(round(len(wave) * to / sr))
    t = np.arange(n) * (sr / to)
    return np.interp(t, np.arange(len(wave)), wave).astype(np.float32)


# --------------------------------------------------------------------------
# the log-mel spectrogram: Wav2Lip's audio.py, as kling-mel.c computes it
# --------------------------------------------------------------------------


def _hz_to_mel(f):
    f_sp, lo = 200.0 / 3, 1000.0
    step = math.log(6.4) / 27.0
    return lo / f_sp + math.log(f / lo) / step if f >= lo else f / f_sp


def _mel_to_hz(m):
    f_sp, lo = 200.0 / 3, 1000.0
    step = math.log(6.4) / 27.0
    return lo * math.exp(step * (m - lo / f_sp)) if m >= lo / f_sp \
        else f_sp * m


def mel_basis(p=MEL):
    n, nfft, sr = p["bands"], p["n_fft"], p["rate"]
    lo, hi = _hz_to_mel(p["fmin"]), _hz_to_mel(p["fmax"])
    mel_f = torch.tensor([_mel_to_hz(lo + (hi - lo) * i / (n + 1))
                          for i in range(n + 2)], dtype=torch.float64)
    fft_f = torch.linspace(0, sr / 2, 1 + nfft // 2, dtype=torch.float64)
    fdiff = mel_f[1:] - mel_f[:-1]
    ramps = mel_f[:, None] - fft_f[None, :]
    w = torch.clamp(torch.minimum(-ramps[:-2] / fdiff[:-1, None],
                                  ramps[2:] / fdiff[1:, None]), min=0)
    return (w * (2.0 / (mel_f[2:n + 2] - mel_f[:n]))[:, None]).float()


_BASIS = None


def melspectrogram(wave, p=MEL):
    global _BASIS
    if _BASIS is None:
        _BASIS = mel_basis(p)
    x = torch.as_tensor(wave, dtype=torch.float32)
    x = torch.cat([x[:1], x[1:] - p["preemphasis"] * x[:-1]])
    d = torch.stft(x, p["n_fft"], hop_length=p["hop"],
                   win_length=p["win_length"],
                   window=torch.hann_window(p["win_length"], periodic=True),
                   center=True, pad_mode="reflect", return_complex=True)
    s = _BASIS @ d.abs()
    s = 20 * torch.log10(torch.clamp(s, min=1e-5)) - p["ref_level_db"]
    m, mn = p["max_abs_value"], p["min_level_db"]
    return torch.clamp(2 * m * ((s - mn) / -mn) - m, -m, m)


def mel_window(spec, t, p=MEL):
    """The [bands, frames] window for video time t (silence outside)."""
    k = int(math.floor(t * p["rate"] / p["hop"] + 0.5)) + p["offset"]
    idx = torch.arange(k, k + p["frames"])
    out = torch.full((spec.shape[0], p["frames"]), -p["max_abs_value"])
    ok = (idx >= 0) & (idx < spec.shape[1])
    out[:, ok] = spec[:, idx[ok]]
    return out


# --------------------------------------------------------------------------
# faces
# --------------------------------------------------------------------------

SKIN = [(0.98, 0.84, 0.72), (0.93, 0.76, 0.62), (0.80, 0.60, 0.45),
        (0.63, 0.45, 0.32), (0.45, 0.31, 0.22), (0.32, 0.22, 0.16)]
HAIR = [(0.08, 0.06, 0.05), (0.30, 0.18, 0.09), (0.60, 0.45, 0.25),
        (0.85, 0.75, 0.55), (0.55, 0.55, 0.58), (0.45, 0.12, 0.08)]


def random_face(rng):
    return {"bg": rng.uniform(0.1, 0.95, 3), "bg2": rng.uniform(0.1, 0.95, 3),
            "skin": np.array(SKIN[rng.integers(len(SKIN))]) *
            rng.uniform(0.92, 1.05),
            "hair": np.array(HAIR[rng.integers(len(HAIR))]),
            "hair_style": int(rng.integers(3)),
            "glasses": bool(rng.random() < 0.3),
            "scale": float(rng.uniform(0.82, 1.0)),
            "eye": (0.2 + 0.5 * rng.random(3)) * 0.5,
            "lip": np.array((0.75, 0.3, 0.32)) * rng.uniform(0.7, 1.0),
            "motion": rng.uniform(0, 2 * math.pi, 2)}


_YY, _XX = np.mgrid[0:FACE, 0:FACE].astype(np.float32)


def _ellipse(cx, cy, rx, ry):
    return ((_XX - cx) / max(rx, 0.5)) ** 2 + ((_YY - cy) / max(ry, 0.5)) ** 2 <= 1


def draw_face(face, mouth, frame=0):
    """HxWx3 float32 in [0, 1]: @face speaking @mouth (opening, width,
    teeth) at video frame @frame (slight head motion)."""
    s = face["scale"]
    dx = 1.5 * math.sin(frame * 0.21 + face["motion"][0])
    dy = 1.0 * math.sin(frame * 0.17 + face["motion"][1])
    g = (_YY / FACE)[..., None]
    img = face["bg"] * (1 - g) + face["bg2"] * g
    cx, cy = 48 + dx, 50 + dy
    head = _ellipse(cx, cy, 34 * s, 42 * s)
    hair = _ellipse(cx, cy - 18 * s, 36 * s, 28 * s) & (_YY < cy - 14 * s)
    if face["hair_style"] == 1:
        hair |= _ellipse(cx, cy - 4 * s, 38 * s, 40 * s) & ~head
    elif face["hair_style"] == 2:
        hair &= _YY < cy - 24 * s
    img[hair] = face["hair"]
    img[head & ~hair] = face["skin"]
    for ex in (-13, 13):
        img[_ellipse(cx + ex * s, cy - 6 * s, 5 * s, 3 * s)] = (0.95, 0.95,
                                                               0.95)
        img[_ellipse(cx + ex * s, cy - 6 * s, 2.2 * s, 2.2 * s)] = face["eye"]
        if face["glasses"]:
            ring = _ellipse(cx + ex * s, cy - 6 * s, 8 * s, 6 * s) & \
                ~_ellipse(cx + ex * s, cy - 6 * s, 6.8 * s, 4.8 * s)
            img[ring] = (0.1, 0.1, 0.12)
    img[_ellipse(cx, cy + 6 * s, 2.5 * s, 4 * s)] = face["skin"] * 0.85
    opening, width, teeth = mouth
    mx, my = cx, cy + 22 * s
    rx = 11 * s * width
    ry = 1.2 + 8.5 * s * opening
    img[_ellipse(mx, my, rx + 2, ry + 2)] = face["lip"]
    if opening > 0.02:
        inner = _ellipse(mx, my, rx, ry)
        img[inner] = (0.16, 0.03, 0.05)
        if teeth:
            img[inner & (_YY < my - ry * 0.35)] = (0.93, 0.93, 0.9)
    else:
        img[_ellipse(mx, my, rx, 0.8)] = face["lip"] * 0.6
    return np.clip(img, 0, 1).astype(np.float32)


def mouth_opening(img, face_box_rows=(FACE // 2, FACE)):
    """How open the mouth is, from pixels: the count of dark interior
    pixels in the lower half: luminance below 0.3 and below half the face's
    own (the median there), redder than blue.  The darkness threshold alone
    counted the darkest skin tone as mouth (its ground-truth frames scored
    0.0 against the visemes)."""
    lo = img[face_box_rows[0]:face_box_rows[1], 20:76]
    lum = 0.299 * lo[..., 0] + 0.587 * lo[..., 1] + 0.114 * lo[..., 2]
    skin = float(np.median(lum))
    return float(((lum < 0.3) & (lum < 0.5 * skin)
                  & (lo[..., 0] >= lo[..., 2])).sum())


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


class Clips:
    """Sentences spoken by voices: audio at 16 kHz, its spectrogram and the
    per-frame visemes."""

    def __init__(self, sentences, seed):
        self.tts = Espeak()
        rng = np.random.default_rng(seed)
        self.clips = []
        for lang, texts in sentences.items():
            for text, voice in [(t, v) for t in texts for v in VOICES[lang]]:
                rate = int(rng.integers(140, 200))
                pitch = int(rng.integers(30, 70))
                wave, events = self.tts.say(text, voice, rate, pitch)
                audio = resample(wave, self.tts.rate, MEL["rate"])
                n_frames = int(math.ceil(len(audio) / MEL["rate"] * FPS))
                vis = frame_visemes(events, len(wave), self.tts.rate,
                                    n_frames)
                self.clips.append({"text": text, "voice": voice,
                                   "audio": audio,
                                   "mel": melspectrogram(audio), "vis": vis})


def batch(clips, rng, n):
    mels, faces, targets = [], [], []
    for _ in range(n):
        clip = clips.clips[rng.integers(len(clips.clips))]
        f = int(rng.integers(len(clip["vis"])))
        face = random_face(rng)
        target = draw_face(face, clip["vis"][f], f)
        other = clip["vis"][rng.integers(len(clip["vis"]))]
        ref = draw_face(face, other, int(rng.integers(1000)))
        masked = target.copy()
        masked[FACE // 2:] = 0
        faces.append(np.concatenate([masked, ref], 2).transpose(2, 0, 1))
        targets.append(target.transpose(2, 0, 1))
        mels.append(mel_window(clip["mel"], f / FPS)[None])
    return (torch.stack(mels), torch.from_numpy(np.stack(faces)),
            torch.from_numpy(np.stack(targets)))


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------


def block(i, o, s=1):
    return nn.Sequential(nn.Conv2d(i, o, 3, s, 1), nn.BatchNorm2d(o),
                         nn.ReLU(inplace=True))


class Generator(nn.Module):
    """forward(mel [B,1,80,16], face [B,6,96,96]) -> face [B,3,96,96]."""

    def __init__(self, w=32):
        super().__init__()
        self.audio = nn.Sequential(block(1, w, (2, 1)), block(w, 2 * w, 2),
                                   block(2 * w, 4 * w, 2),
                                   nn.Conv2d(4 * w, 4 * w, (10, 4)),
                                   nn.ReLU(inplace=True))
        self.e1, self.e2 = block(6, w), block(w, 2 * w, 2)          # 96, 48
        self.e3, self.e4 = block(2 * w, 4 * w, 2), block(4 * w, 4 * w, 2)
        self.e5 = block(4 * w, 4 * w, 2)                            # 6
        self.fuse = block(8 * w, 4 * w)
        self.d4 = block(8 * w, 4 * w)                               # 12
        self.d3 = block(8 * w, 2 * w)                               # 24
        self.d2 = block(4 * w, w)                                   # 48
        self.d1 = block(2 * w, w)                                   # 96
        self.out = nn.Conv2d(w, 3, 1)

    def forward(self, mel: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        a = self.audio(mel)
        e1 = self.e1(face)
        e2 = self.e2(e1)
        e3 = self.e3(e2)
        e4 = self.e4(e3)
        e5 = self.e5(e4)
        x = self.fuse(torch.cat([e5, a.expand(-1, -1, e5.shape[2],
                                             e5.shape[3])], 1))
        x = self.d4(torch.cat([F.interpolate(x, scale_factor=2.0), e4], 1))
        x = self.d3(torch.cat([F.interpolate(x, scale_factor=2.0), e3], 1))
        x = self.d2(torch.cat([F.interpolate(x, scale_factor=2.0), e2], 1))
        x = self.d1(torch.cat([F.interpolate(x, scale_factor=2.0), e1], 1))
        y = torch.sigmoid(self.out(x))
        # only the masked lower half is redrawn; the upper half is the
        # reference's, pixel for pixel
        h = y.shape[2] // 2
        return torch.cat([face[:, 3:6, :h], y[:, :, h:]], 2)


def loss_fn(out, target):
    h = FACE // 2
    return F.l1_loss(out, target) + 3 * F.l1_loss(out[:, :, h:],
                                                  target[:, :, h:])


# --------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------


def pearson(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a - a.mean(), b - b.mean()
    d = math.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 0 else 0.0


def score(model, seed=12345, sentences=HELD_OUT, faces=3):
    """Per held-out clip and face: Pearson of the generated mouth opening
    with the ground truth, the best offset, and whether the upper half is
    unchanged.  Returns (summary dict, rows)."""
    clips = Clips(sentences, seed)
    rng = np.random.default_rng(seed)
    rows = []
    model.eval()
    for clip in clips.clips:
        for _ in range(faces):
            face = random_face(rng)
            ref = draw_face(face, (0.0, 1.0, False), 0)
            gen, truth, same = [], [], True
            for f, vis in enumerate(clip["vis"]):
                frame = draw_face(face, (0.0, 1.0, False), f)
                masked = frame.copy()
                masked[FACE // 2:] = 0
                x = torch.from_numpy(np.concatenate([masked, ref], 2)
                                     .transpose(2, 0, 1))[None]
                m = mel_window(clip["mel"], f / FPS)[None, None]
                with torch.no_grad():
                    y = model(m, x)[0].numpy().transpose(1, 2, 0)
                same &= bool(np.array_equal(y[:FACE // 2],
                                            ref[:FACE // 2]))
                gen.append(mouth_opening(y))
                truth.append(vis[0])
            r = pearson(gen, truth)
            lags = {}
            for lag in range(-5, 6):
                g = gen[max(0, lag):len(gen) + min(0, lag)]
                t = truth[max(0, -lag):len(truth) + min(0, -lag)]
                lags[lag] = pearson(g, t)
            best = max(lags, key=lags.get)
            rows.append({"text": clip["text"], "voice": clip["voice"],
                         "pearson": r,
                         "best_offset": best, "outside_unchanged": same})
    summary = {"pearson_min": min(x["pearson"] for x in rows),
               "pearson_mean": float(np.mean([x["pearson"] for x in rows])),
               "offsets": sorted({x["best_offset"] for x in rows}),
               "outside_unchanged": all(x["outside_unchanged"] for x in rows)}
    summary["pass"] = (summary["pearson_min"] >= 0.8
                       and all(abs(o) <= 1 for o in summary["offsets"])
                       and summary["outside_unchanged"])
    return summary, rows


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------


def export(model, path, steps):
    spec = importlib.util.spec_from_file_location(
        "kling_wrap", os.path.join(HERE, "..", "kling-wrap.py"))
    wrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wrap)
    model.eval()
    model = model.to(memory_format=torch.contiguous_format)
    scripted = torch.jit.script(model)
    manifest = {"format": 1, "name": "kling-host", "task": "talking-head",
                "description": "talking-head generator trained by "
                "models/host/train.py on drawn faces speaking espeak-ng "
                "Chinese and English (%d steps)" % steps,
                "methods": ["forward"], "mel": MEL,
                # a portrait with the face in its middle, as --portrait
                # draws it, needs no face-box
                "face": {"width": FACE, "height": FACE, "mask": 0.5,
                         "box": [0.125, 0.125, 0.75, 0.75]},
                "batch": 4}
    wrap.wrap(scripted, manifest, path)


def write_portrait(path, seed):
    """A portrait for demos: a face the training draws, mouth closed, on a
    plain background of its own colour, three times the model's size."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    face = random_face(rng)
    face["bg2"] = face["bg"]
    img = draw_face(face, VISEMES["closed"], 0)
    big = Image.fromarray((img * 255 + 0.5).astype(np.uint8)).resize(
        (3 * FACE, 3 * FACE), Image.BICUBIC)
    out = Image.new("RGB", (384, 384),
                    tuple(int(c * 255 + 0.5) for c in face["bg"]))
    out.paste(big, (48, 48))
    out.save(path)
    print("wrote %s: face-box=48,48,%d,%d" % (path, 3 * FACE, 3 * FACE))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", default=SHIPPED)
    ap.add_argument("--smoke", action="store_true",
                    help="one step on a tiny batch, then export")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2,
                    help="torch threads (Debian's torch uses 1 unless told)")
    ap.add_argument("--portrait", metavar="PNG",
                    help="write a drawn host portrait (384x384, the face at "
                    "48,48 288x288) for demos, and exit")
    ap.add_argument("--score", metavar="PACKAGE",
                    help="score a package on held-out faces and sentences")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    if args.portrait:
        write_portrait(args.portrait, args.seed)
        return 0

    if args.score:
        model = torch.jit.load(args.score)
        summary, rows = score(model)
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        print(json.dumps(summary))
        return 0 if summary["pass"] else 1

    clips = Clips({"en": SENTENCES["en"][:1], "cmn": SENTENCES["cmn"][:1]}
                  if args.smoke else SENTENCES, args.seed)
    # channels-last convolutions are ~1.2-3.5x faster on this CPU
    model = Generator().to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # with --steps, the rate decays to 1/20 along a cosine: the last
    # thousand steps settle the mouth instead of jittering around it
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(
            i / args.steps, 1.0)))) if args.steps else None
    rng = np.random.default_rng(args.seed)
    steps = 1 if args.smoke else args.steps
    t0 = time.time()
    step = 0
    while True:
        if steps and step >= steps:
            break
        if not steps and time.time() - t0 > args.minutes * 60:
            break
        model.train()
        mel, face, target = batch(clips, rng, 2 if args.smoke else args.batch)
        face = face.contiguous(memory_format=torch.channels_last)
        loss = loss_fn(model(mel, face), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        step += 1
        if step % 100 == 0 or args.smoke:
            print("step %d loss %.4f (%.0f s)" % (step, loss.item(),
                                                 time.time() - t0))
    export(model, args.output, step)
    print("wrote %s after %d steps" % (args.output, step))
    if not args.smoke:
        summary, _ = score(model)
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
