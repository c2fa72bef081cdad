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


def manifest(task, **kw):
    m = {"format": 1, "name": "probe", "task": task,
         "methods": ["forward", "matmul", "dtypes", "layout", "conv_image",
                     "structured", "raises"],
         "input": {"width": 8, "height": 6},
         "output": {"format": "yolov8"},
         "labels": ["a", "b"]}
    m.update(kw)
    return m


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
    with open(p("stamp"), "w") as f:
        json.dump({"torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
