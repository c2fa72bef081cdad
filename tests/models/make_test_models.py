#!/usr/bin/python3
"""Builds the small TorchScript packages the test suite loads.

Run by meson at build time with Debian's python3-torch; deterministic.
Usage: make_test_models.py OUTDIR
"""
import importlib.util
import json
import os
import sys
import zipfile
from typing import Dict, List, Tuple

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "kling_wrap", os.path.join(HERE, "..", "..", "models", "kling-wrap.py"))
kling_wrap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kling_wrap)


class Probe(torch.nn.Module):
    """Exercises every backend entry point."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.weight = torch.nn.Parameter(torch.randn(4, 3))
        self.conv = torch.nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, x):
        # y = x * 2 + 1, any shape
        return x * 2.0 + 1.0

    @torch.jit.export
    def matmul(self, x):
        # [N, 4] @ [4, 3]: a wrong input shape raises inside libtorch
        return torch.mm(x, self.weight)

    @torch.jit.export
    def dtypes(self, a, b, c, d, e):
        return (a.dtype == torch.float32 and b.dtype == torch.float16
                and c.dtype == torch.bfloat16 and d.dtype == torch.uint8
                and e.dtype == torch.int64,
                a + 1.0, b * 2.0, c * 2.0, d + 1, e * 3)

    @torch.jit.export
    def layout(self, x):
        # Writes into its input: the caller sees the change in its own
        # memory only if the tensor wraps it without a copy.
        x.add_(1)
        return torch.tensor([int(x.is_contiguous(memory_format=torch.channels_last)),
                             int(x.is_contiguous())], dtype=torch.int64)

    @torch.jit.export
    def conv_image(self, x):
        return self.conv(x)

    @torch.jit.export
    def structured(self, x) -> Tuple[torch.Tensor, List[Dict[str, torch.Tensor]]]:
        return (x.sum(), [{"boxes": x[0], "scores": x[1]},
                          {"boxes": x[1], "scores": x[0]}])

    @torch.jit.export
    def raises(self, x):
        if bool(x.sum() >= 0):
            raise RuntimeError("the probe model raised on purpose")
        return x

    @torch.jit.export
    def no_args(self):
        return torch.ones(2)


class ColourBoxes(torch.nn.Module):
    """A deterministic 'detector' for element tests: class 0 is the
    bounding box of saturated red pixels, class 1 of saturated green ones,
    so the tests know exactly where boxes must land after letterboxing."""

    def __init__(self, fmt: str):
        super().__init__()
        self.fmt = fmt

    def boxes(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        # x: [3, H, W] in [0, 1]; returns boxes [2, 4] xyxy and scores [2]
        r, g, b = x[0], x[1], x[2]
        out = torch.zeros(2, 4)
        scores = torch.zeros(2)
        masks = [(r > 0.7) & (g < 0.3) & (b < 0.3),
                 (g > 0.7) & (r < 0.3) & (b < 0.3)]
        for i, m in enumerate(masks):
            nz = torch.nonzero(m)
            if nz.size(0) > 0:
                out[i, 0] = nz[:, 1].min().float()
                out[i, 1] = nz[:, 0].min().float()
                out[i, 2] = nz[:, 1].max().float() + 1.0
                out[i, 3] = nz[:, 0].max().float() + 1.0
                scores[i] = 0.9 - 0.1 * i
        return out, scores

    def yolo(self, x: torch.Tensor) -> torch.Tensor:
        # candidates: red, green, and a worse copy of red that NMS drops
        xyxy, scores = self.boxes(x)
        cxcywh = torch.stack([(xyxy[:, 0] + xyxy[:, 2]) / 2,
                              (xyxy[:, 1] + xyxy[:, 3]) / 2,
                              xyxy[:, 2] - xyxy[:, 0],
                              xyxy[:, 3] - xyxy[:, 1]], dim=1)
        cand = torch.cat([cxcywh, cxcywh[0:1] + 1.0], dim=0)  # [3, 4]
        cls = torch.zeros(3, 2)
        cls[0, 0] = scores[0]
        cls[1, 1] = scores[1]
        cls[2, 0] = scores[0] * 0.8
        if self.fmt == "yolov5":
            obj = torch.ones(3, 1)
            return torch.cat([cand, obj, cls], dim=1).unsqueeze(0)  # [1, 3, 7]
        return torch.cat([cand, cls], dim=1).t().unsqueeze(0)  # [1, 6, 3]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.yolo(x[0])


class ColourBoxesTorchvision(torch.nn.Module):
    """The same, with torchvision's calling convention and result type."""

    def __init__(self):
        super().__init__()
        self.inner = ColourBoxes("yolov8")

    def forward(self, images: List[torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], List[Dict[str, torch.Tensor]]]:
        results: List[Dict[str, torch.Tensor]] = []
        for img in images:
            xyxy, scores = self.inner.boxes(img)
            keep = scores > 0
            labels = torch.tensor([1, 2], dtype=torch.int64)  # 0: background
            results.append({"boxes": xyxy[keep], "labels": labels[keep],
                            "scores": scores[keep]})
        return {}, results


class EchoCopy(torch.nn.Module):
    """A 'copywriter' that spells a fixed line per (label, language), and
    says 'bright' when the crop is bright: enough to test the whole path."""

    def __init__(self):
        super().__init__()
        lines = [["紅色的好東西", "red thing"], ["綠色的好東西", "green thing"]]
        table = torch.full((2, 2, 40), 257, dtype=torch.int64)
        for l in range(2):
            for g in range(2):
                data = list(lines[l][g].encode("utf-8"))
                table[l, g, :len(data)] = torch.tensor(data)
        self.table = table

    @torch.jit.export
    def encode(self, image: torch.Tensor, label: torch.Tensor, lang: torch.Tensor) -> torch.Tensor:
        return torch.stack([label.float(), lang.float(),
                            image.mean().reshape(1)], dim=1).unsqueeze(0)

    @torch.jit.export
    def decode_step(self, memory: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        label = int(memory[0, 0, 0].item())
        lang = int(memory[0, 0, 1].item())
        pos = tokens.size(1) - 1
        logits = torch.zeros(1, 258)
        nxt = int(self.table[label, lang, pos].item()) if pos < 40 else 257
        logits[0, nxt] = 10.0
        return logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class NanCopy(EchoCopy):
    """A broken 'copywriter': every logit is NaN, so no token can ever be
    chosen (the bad-input sweep's crash)."""

    @torch.jit.export
    def decode_step(self, memory: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return torch.full((1, 258), float("nan"))


class BenchNet(torch.nn.Module):
    """A detector-sized convolutional network (stride-8 head over a 256x256
    input) for the backend overhead benchmark."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        c = [3, 16, 32, 64]
        layers = []
        for i in range(3):
            layers += [torch.nn.Conv2d(c[i], c[i + 1], 3, stride=2, padding=1),
                       torch.nn.ReLU(),
                       torch.nn.Conv2d(c[i + 1], c[i + 1], 3, padding=1),
                       torch.nn.ReLU()]
        self.body = torch.nn.Sequential(*layers)
        self.head = torch.nn.Conv2d(64, 10, 1)

    def forward(self, x):
        y = self.head(self.body(x))
        return y.flatten(2).sigmoid()


class ColourVideo(torch.nn.Module):
    """A 'video model' with known behaviour for klinggen's tests: the prompt
    picks a colour, denoise steers towards it (or towards the known frames
    of `cond`) a little imperfectly, so the seed still shows; decode
    upsamples latents 4x.  Latents [B, 3, 4, 4, 4], frames 16x16."""

    @torch.jit.export
    def encode_prompt(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b = (ids - 1).clamp(min=0) * mask
        total = b.sum(dim=1).float()
        length = mask.sum(dim=1).float()
        emb = torch.stack([torch.remainder(total, 97.0) / 48.5 - 1.0,
                           torch.remainder(length, 13.0) / 6.5 - 1.0,
                           torch.full_like(total, 0.5)], dim=1)
        return emb * (length > 0).float().unsqueeze(1)

    @torch.jit.export
    def denoise(self, x: torch.Tensor, t: torch.Tensor, emb: torch.Tensor,
                cond: torch.Tensor) -> torch.Tensor:
        target = emb[:, :, None, None, None].expand_as(x)
        known = cond[:, 3:4]
        target = known * cond[:, 0:3] + (1 - known) * target
        return 0.9 * (x - target) / t.clamp(min=1e-3)[:, None, None, None, None]

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        up = z.repeat_interleave(4, dim=3).repeat_interleave(4, dim=4)
        return up.permute(0, 2, 3, 4, 1).clamp(-1.0, 1.0).contiguous()

    @torch.jit.export
    def encode_image(self, frame: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.avg_pool2d(frame, 4).unsqueeze(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class SlowColourVideo(ColourVideo):
    """ColourVideo whose every denoise step also does ~1.7 GFLOP of
    discarded matrix products (tens of milliseconds), so that tests can stop
    or flush klinggen in the middle of a chunk."""

    @torch.jit.export
    def denoise(self, x: torch.Tensor, t: torch.Tensor, emb: torch.Tensor,
                cond: torch.Tensor) -> torch.Tensor:
        # depends on x, so the JIT cannot fold it into a constant
        w = torch.full([256, 256], 0.001) + 1e-9 * x.sum()
        busy = torch.zeros([1])
        for _ in range(50):
            busy = busy + torch.mm(w, w + 1e-9 * busy).sum()
        target = emb[:, :, None, None, None].expand_as(x)
        known = cond[:, 3:4]
        target = known * cond[:, 0:3] + (1 - known) * target
        # busy is positive, so this is 1, but no optimiser pass can know it
        one = 1.0 + busy.clamp(max=0.0)
        return one * 0.9 * (x - target) / t.clamp(min=1e-3)[:, None, None, None, None]


def detector_manifest(fmt, **kw):
    m = {"format": 1, "name": "colour-boxes-" + fmt, "task": "detect",
         "methods": ["forward"],
         "input": {"width": 256, "height": 256, "resize": "letterbox", "pad": 114},
         "output": {"format": fmt}, "labels": ["red", "green"],
         "defaults": {"threshold": 0.5}}
    m.update(kw)
    return m


def manifest(task, **kw):
    m = {"format": 1, "name": "probe", "task": task,
         "methods": ["forward", "matmul", "dtypes", "layout", "conv_image",
                     "structured", "raises"],
         "input": {"width": 8, "height": 6},
         "output": {"format": "yolov8"},
         "labels": ["a", "b"]}
    m.update(kw)
    return m


def make_absurd_manifests(out):
    """Packages whose manifest fields are each in range but whose product
    is absurd (issue 12, finding 4): the manifest checker must refuse them
    with an error naming the fields and the limit, where the elements used
    to abort in g_malloc."""
    p = lambda n: os.path.join(out, n)
    video = torch.jit.script(ColourVideo())
    base = {"format": 1, "task": "video",
            "methods": ["encode_prompt", "denoise", "decode", "encode_image"],
            "size": {"width": 16, "height": 16}, "fps": 8,
            "prediction": "flow", "schedule": {"type": "flow"},
            "tokenizer": {"type": "utf8-bytes", "max_length": 32,
                          "offset": 1, "pad": 0}}
    huge = dict(base, name="huge-latent",
                latent={"channels": 64, "frames": 1024, "height": 1024,
                        "width": 1024})
    kling_wrap.wrap(video, huge, p("video-huge-latent.pt"))
    frames = dict(base, name="huge-frames",
                  latent={"channels": 3, "frames": 1024, "height": 4,
                          "width": 4},
                  size={"width": 8192, "height": 8192})
    kling_wrap.wrap(video, frames, p("video-huge-frames.pt"))
    kling_wrap.wrap(torch.jit.script(EchoCopy()),
                    {"format": 1, "name": "bad-vocab-copy", "task": "copywrite",
                     "methods": ["encode", "decode_step"],
                     "input": {"width": 32, "height": 32, "resize": "stretch"},
                     "tokenizer": {"type": "utf8-bytes", "max_length": 60,
                                   "bos": 256, "eos": 257, "vocab": -1}},
                    p("copy-bad-vocab.pt"))


def make_unknown_op(out):
    """A package whose code calls an operator no library here provides
    (kling_missing::frobnicate; torchvision::nms would now load, with
    torchvision's operator library): loading fails, and the error must
    carry libtorch's message.
    Made by editing a saved archive's code, since scripting it needs the
    op."""
    class Relu(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x)

    plain = os.path.join(out, "unknown-op.tmp")
    kling_wrap.wrap(torch.jit.script(Relu()), detector_manifest("yolov8"),
                    plain)
    with zipfile.ZipFile(plain) as zin, \
            zipfile.ZipFile(os.path.join(out, "unknown-op.pt"), "w",
                            zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("code/__torch__.py"):
                data = data.replace(b"torch.relu(x)",
                                    b"ops.kling_missing.frobnicate(x)")
            zout.writestr(info, data)
    os.unlink(plain)


def make_huge_manifest(out):
    """A manifest over the 1 MiB limit: refused from the archive's
    directory, before libtorch reads it."""
    probe = torch.jit.script(Probe().eval())
    m = manifest("detect", description="x" * (1 << 20))
    kling_wrap.wrap(probe, m, os.path.join(out, "probe-huge-manifest.pt"))


def sine_bursts(ids: torch.Tensor, shift: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Each byte token a sine burst of 200 + 40 * (id % 8) samples at 200 +
    10 * (id % 64) + @shift Hz, a space 400 samples of silence: the
    waveform [N] at 16 kHz and the samples of each token [T]."""
    t = ids[0]
    space = t == 32
    dur = torch.where(space, torch.full_like(t, 400), 200 + 40 * (t % 8))
    freq = torch.where(space, torch.zeros_like(t), 200 + 10 * (t % 64) + shift)
    amp = torch.where(space, torch.zeros_like(t), torch.ones_like(t))
    tok = torch.repeat_interleave(torch.arange(t.shape[0]), dur)
    start = torch.cumsum(dur, 0) - dur
    n = torch.arange(tok.shape[0]) - start[tok]
    wave = 0.5 * amp[tok].float() * torch.sin(
        2.0 * 3.141592653589793 * freq[tok].float() * n.float() / 16000.0)
    return wave, dur


class SineSpeech(torch.nn.Module):
    """A deterministic `speech` model (docs/models.md): each byte token
    becomes a sine burst of 200 + 40 * (id % 8) samples at 200 + 10 * (id %
    64) Hz, a space 400 samples of silence; returns the waveform [N] and the
    samples of each token [T], which sum to N."""

    @torch.jit.export
    def synthesize(self, ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return sine_bursts(ids, 0)


class BadShapeSpeech(torch.nn.Module):
    """A `speech` model whose waveform is int64 [2, 100 * T]: wrong dtype
    and shape."""

    @torch.jit.export
    def synthesize(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.zeros(2, 100 * ids.shape[1], dtype=torch.int64)


class SpeakerSineSpeech(torch.nn.Module):
    """SineSpeech with a speaker: synthesize(ids, speaker) raises every
    burst by 100 Hz per speaker id (docs/models.md, `speech`)."""

    @torch.jit.export
    def synthesize(self, ids: torch.Tensor,
                   speaker: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return sine_bursts(ids, 100 * int(speaker[0]))


def make_speech(out):
    m = {"format": 1, "name": "sine-speech", "task": "speech",
         "methods": ["synthesize"], "audio": {"rate": 16000},
         "tokenizer": {"type": "utf8-bytes", "max_length": 64, "offset": 0}}
    kling_wrap.wrap(torch.jit.script(SineSpeech()), m,
                    os.path.join(out, "speech-sine.pt"))
    bad = dict(m, name="bad-shape-speech")
    kling_wrap.wrap(torch.jit.script(BadShapeSpeech()), bad,
                    os.path.join(out, "speech-bad-shape.pt"))
    multi = dict(m, name="speaker-speech", defaults={"speaker": 2})
    kling_wrap.wrap(torch.jit.script(SpeakerSineSpeech()), multi,
                    os.path.join(out, "speech-speaker.pt"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    probe = torch.jit.script(Probe().eval())
    p = lambda n: os.path.join(out, n)

    kling_wrap.wrap(probe, manifest("detect"), p("probe.pt"))
    # a well-formed archive with the wrong task for the detect element
    kling_wrap.wrap(probe, manifest("video"), p("probe-video.pt"))
    # manifest lists a method the archive lacks
    kling_wrap.wrap(probe, manifest("detect", methods=["forward", "denoise"]),
                    p("probe-badmethods.pt"))
    torch.jit.save(probe, p("probe-nomanifest.pt"))
    torch.jit.save(probe, p("probe-badjson.pt"),
                   _extra_files={"kling.json": "{ not json"})

    for fmt in ("yolov8", "yolov5"):
        kling_wrap.wrap(torch.jit.script(ColourBoxes(fmt)),
                        detector_manifest(fmt), p("detect-%s.pt" % fmt))
    tv = detector_manifest("torchvision")
    tv["output"]["label_offset"] = 1
    kling_wrap.wrap(torch.jit.script(ColourBoxesTorchvision()), tv,
                    p("detect-torchvision.pt"))
    kling_wrap.wrap(torch.jit.script(EchoCopy()),
                    {"format": 1, "name": "echo-copy", "task": "copywrite",
                     "methods": ["encode", "decode_step"],
                     "input": {"width": 32, "height": 32, "resize": "stretch"},
                     "tokenizer": {"type": "utf8-bytes", "max_length": 60,
                                   "bos": 256, "eos": 257, "vocab": 258}},
                    p("copy-echo.pt"))
    kling_wrap.wrap(torch.jit.script(NanCopy()),
                    {"format": 1, "name": "nan-copy", "task": "copywrite",
                     "methods": ["encode", "decode_step"],
                     "input": {"width": 32, "height": 32, "resize": "stretch"},
                     "tokenizer": {"type": "utf8-bytes", "max_length": 60,
                                   "bos": 256, "eos": 257, "vocab": 258}},
                    p("copy-nan.pt"))

    video_manifest = {"format": 1, "name": "colour-video", "task": "video",
                     "methods": ["encode_prompt", "denoise", "decode",
                                 "encode_image"],
                     "latent": {"channels": 3, "frames": 4, "height": 4,
                                "width": 4},
                     "size": {"width": 16, "height": 16}, "fps": 8,
                     "prediction": "flow", "schedule": {"type": "flow"},
                     "context_frames": 1,
                     "tokenizer": {"type": "utf8-bytes", "max_length": 32,
                                   "offset": 1, "pad": 0},
                     "defaults": {"steps": 4, "guidance_scale": 2.0,
                                  "sampler": "euler"}}
    kling_wrap.wrap(torch.jit.script(ColourVideo()), video_manifest,
                    p("video-colour.pt"))
    slow = json.loads(json.dumps(video_manifest))
    slow["name"] = "slow-colour-video"
    kling_wrap.wrap(torch.jit.script(SlowColourVideo()), slow,
                    p("video-slow.pt"))
    kling_wrap.wrap(torch.jit.script(ColourVideo()),
                    {"format": 1, "name": "colour-poster", "task": "poster",
                     "methods": ["encode_prompt", "denoise", "decode",
                                 "encode_image"],
                     "latent": {"channels": 3, "frames": 1, "height": 4,
                                "width": 4},
                     "size": {"width": 16, "height": 16}, "fps": 1,
                     "prediction": "flow", "schedule": {"type": "flow"},
                     "context_frames": 0,
                     "tokenizer": {"type": "utf8-bytes", "max_length": 32,
                                   "offset": 1, "pad": 0},
                     "defaults": {"steps": 4, "guidance_scale": 1.0,
                                  "sampler": "euler"}},
                    p("poster-colour.pt"))
    bench = BenchNet().eval().to(memory_format=torch.channels_last)
    kling_wrap.wrap(torch.jit.script(bench), detector_manifest(
        "yolov8", labels=["bottle", "can", "box", "cup", "bag", "shoe"]),
        p("bench-convnet.pt"))

    with open(p("empty.pt"), "wb"):
        pass
    with open(p("not-torchscript.pt"), "wb") as f:
        f.write(b"This is a text file, not a TorchScript archive.\n" * 64)
    with open(p("probe.pt"), "rb") as f:
        whole = f.read()
    with open(p("truncated.pt"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    # a zip that points outside itself: the central directory offset lies
    corrupt = bytearray(whole)
    eocd = corrupt.rfind(b"PK\x05\x06")
    corrupt[eocd + 16: eocd + 20] = (len(whole) + 1000).to_bytes(4, "little")
    with open(p("bad-directory.pt"), "wb") as f:
        f.write(corrupt)
    with zipfile.ZipFile(p("plain-zip.pt"), "w") as z:
        z.writestr("hello.txt", "a zip file, but no model in it")
    make_absurd_manifests(out)
    make_unknown_op(out)
    make_huge_manifest(out)
    make_speech(out)
    with open(p("stamp"), "w") as f:
        json.dump({"torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
