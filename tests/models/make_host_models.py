#!/usr/bin/python3
"""Builds what the klinghost tests load: `talking-head` test packages and
torch reference log-mel spectrograms for tests/check/melcore.c.

Run by meson at build time with Debian's python3-torch; deterministic.
Usage: make_host_models.py OUTDIR KLING_WRAP_PY

Reference features: mel-NAME.bin holds int32 n_samples, n_mels, n_frames,
then the float32 signal, then the float32 spectrogram band-major
([n_mels][n_frames]); mel-NAME.json is a manifest whose `mel` object gives
the parameters (the C test reads it with the manifest reader).  The
spectrogram is Wav2Lip's audio.melspectrogram written with torch in float64:
pre-emphasis, torch.stft (centred, reflect-padded, periodic window),
magnitude, Slaney mel filterbank (librosa's formula), 20·log10 with a floor,
minus ref_level_db, normalised and clipped.
"""
import importlib.util
import json
import math
import os
import struct
import sys

import torch

WAV2LIP = {"rate": 16000, "n_fft": 800, "hop": 200, "win_length": 800,
           "window": "hann", "bands": 80, "fmin": 55.0, "fmax": 7600.0,
           "preemphasis": 0.97, "ref_level_db": 20.0, "min_level_db": -100.0,
           "max_abs_value": 4.0, "symmetric": True, "frames": 16}


def hz_to_mel(f):
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = math.log(6.4) / 27.0
    if f >= min_log_hz:
        return min_log_hz / f_sp + math.log(f / min_log_hz) / logstep
    return f / f_sp


def mel_to_hz(m):
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    if m >= min_log_mel:
        return min_log_hz * math.exp(logstep * (m - min_log_mel))
    return f_sp * m


def mel_basis(p):
    """librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax), htk=False,
    norm='slaney', as a float64 tensor [n_mels, 1 + n_fft // 2]."""
    n_mels, n_fft, sr = p["bands"], p["n_fft"], p["rate"]
    lo, hi = hz_to_mel(p["fmin"]), hz_to_mel(p["fmax"])
    mel_f = torch.tensor([mel_to_hz(lo + (hi - lo) * i / (n_mels + 1))
                          for i in range(n_mels + 2)], dtype=torch.float64)
    fft_f = torch.linspace(0, sr / 2, 1 + n_fft // 2, dtype=torch.float64)
    fdiff = mel_f[1:] - mel_f[:-1]
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = torch.clamp(torch.minimum(lower, upper), min=0)
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    return w * enorm[:, None]


def melspectrogram(wav, p):
    x = torch.as_tensor(wav, dtype=torch.float64)
    k = p["preemphasis"]
    if k > 0:
        x = torch.cat([x[:1], x[1:] - k * x[:-1]])
    wl = p["win_length"]
    if p["window"] == "hann":
        win = torch.hann_window(wl, periodic=True, dtype=torch.float64)
    else:
        win = torch.hamming_window(wl, periodic=True, dtype=torch.float64)
    d = torch.stft(x, p["n_fft"], hop_length=p["hop"], win_length=wl,
                   window=win, center=True, pad_mode="reflect",
                   return_complex=True)
    s = mel_basis(p) @ d.abs()
    floor = math.exp(p["min_level_db"] / 20 * math.log(10))
    s = 20 * torch.log10(torch.clamp(s, min=floor)) - p["ref_level_db"]
    m, mn = p["max_abs_value"], p["min_level_db"]
    if m > 0:
        if p["symmetric"]:
            s = torch.clamp(2 * m * ((s - mn) / -mn) - m, -m, m)
        else:
            s = torch.clamp(m * ((s - mn) / -mn), 0, m)
    return s


def signals():
    g = torch.Generator().manual_seed(1234)
    sr = 16000
    t = torch.arange(sr, dtype=torch.float64) / sr
    # a chirp from 100 Hz to 6 kHz over one second
    chirp = 0.6 * torch.sin(2 * math.pi * (100 * t + (5900 / 2) * t * t))
    noise = 0.3 * (torch.rand(12345, generator=g, dtype=torch.float64) * 2 - 1)
    # silence, a 440 Hz burst with a harmonic, silence: the floor and a
    # step, which streaming must handle at any split
    n = torch.arange(20000, dtype=torch.float64)
    burst = torch.where((n >= 6000) & (n < 14000),
                        0.5 * torch.sin(2 * math.pi * 440 * n / sr)
                        + 0.2 * torch.sin(2 * math.pi * 1320 * n / sr),
                        torch.zeros_like(n))
    short = 0.4 * torch.sin(2 * math.pi * 300 * torch.arange(
        523, dtype=torch.float64) / sr)
    return [("chirp", chirp), ("noise", noise), ("burst", burst),
            ("short", short)]


def write_reference(out, name, wav, p):
    wav32 = wav.to(torch.float32)
    mel = melspectrogram(wav32.to(torch.float64), p).to(torch.float32)
    with open(os.path.join(out, "mel-%s.bin" % name), "wb") as f:
        f.write(struct.pack("<iii", wav32.numel(), mel.shape[0],
                            mel.shape[1]))
        f.write(wav32.contiguous().numpy().tobytes())
        f.write(mel.contiguous().numpy().tobytes())
    with open(os.path.join(out, "mel-%s.json" % name), "w") as f:
        json.dump({"format": 1, "task": "talking-head",
                   "methods": ["forward"], "mel": p}, f, indent=1)


def make_references(out):
    for name, wav in signals():
        write_reference(out, name, wav, WAV2LIP)
    # other parameters, all taken from the manifest: another FFT size and
    # hop, a shorter Hamming window, no pre-emphasis, [0, max] scaling
    other = dict(WAV2LIP, rate=22050, n_fft=1024, hop=256, win_length=640,
                 window="hamming", bands=64, fmin=0.0, fmax=11025.0,
                 preemphasis=0.0, ref_level_db=10.0, min_level_db=-80.0,
                 max_abs_value=1.0, symmetric=False)
    g = torch.Generator().manual_seed(99)
    wav = 0.25 * (torch.rand(30000, generator=g, dtype=torch.float64) * 2 - 1)
    wav += 0.5 * torch.sin(2 * math.pi * 1000 * torch.arange(
        30000, dtype=torch.float64) / 22050)
    write_reference(out, "other", wav, other)


class MouthEnergy(torch.nn.Module):
    """A `talking-head` test model: the reference crop, with the lower half
    (the masked part) painted grey at the loudness of the window's four
    centre mel frames, (loudest band + 4) / 8: the tests read lip sync as
    brightness."""

    def forward(self, mel: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        t = mel.shape[3]
        c = t // 2
        e = mel[:, 0, :, c - 2:c + 2].mean(dim=2).amax(dim=1)
        e = (e + 4.0) / 8.0
        e = e.clamp(0.0, 1.0)
        out = face[:, 3:6].clone()
        h = out.shape[2]
        out[:, :, h // 2:, :] = e[:, None, None, None]
        return out


class BadShape(torch.nn.Module):
    """Returns half the face height: a wrong output shape."""

    def forward(self, mel: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return face[:, 3:6, : face.shape[2] // 2]


class SmallGenerator(torch.nn.Module):
    """A Wav2Lip-shaped convolutional generator for the benchmark (random,
    fixed weights): a mel encoder and a face encoder-decoder at 96x96."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(7)
        self.audio = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1))
        self.enc = torch.nn.Sequential(
            torch.nn.Conv2d(6, 16, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(32, 64, 3, stride=2, padding=1), torch.nn.ReLU())
        self.dec = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(96, 32, 4, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(16, 3, 4, stride=2, padding=1),
            torch.nn.Sigmoid())

    def forward(self, mel: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        a = self.audio(mel)
        f = self.enc(face)
        a = a.expand(-1, -1, f.shape[2], f.shape[3])
        return self.dec(torch.cat([f, a], 1))


def head_manifest(name, size, batch, box=True):
    m = {"format": 1, "name": name, "task": "talking-head",
         "methods": ["forward"], "mel": {"bands": 80, "frames": 16},
         "face": {"width": size, "height": size, "mask": 0.5},
         "batch": batch}
    if box:
        m["face"]["box"] = [0.25, 0.25, 0.5, 0.5]
    return m


def main():
    out, wrap_py = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    spec = importlib.util.spec_from_file_location("kling_wrap", wrap_py)
    kling_wrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kling_wrap)
    p = lambda n: os.path.join(out, n)

    make_references(out)
    energy = torch.jit.script(MouthEnergy())
    kling_wrap.wrap(energy, head_manifest("mouth-energy", 32, 4),
                    p("host-energy.pt"))
    kling_wrap.wrap(energy, head_manifest("mouth-energy-nobox", 32, 4,
                                          box=False), p("host-nobox.pt"))
    kling_wrap.wrap(torch.jit.script(BadShape()),
                    head_manifest("bad-shape", 32, 2), p("host-bad-shape.pt"))
    gen = torch.jit.script(SmallGenerator().eval())
    kling_wrap.wrap(gen, head_manifest("bench-generator", 96, 4),
                    p("host-bench.pt"))
    with open(p("host-stamp"), "w") as f:
        json.dump({"torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
