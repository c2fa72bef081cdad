#!/usr/bin/python3
"""aiproductdetect against what a user would otherwise write: a Python loop
with Debian's python3-torch on frames pulled from appsink (letterbox and
normalise with torch, call the model).  Both get the same 1280x720 frames
through appsrc, alternated, same model and threads.
A = aiproductdetect, B = Python loop; ratio B/A in time: > 1 means the
element is faster (target).

  tests/bench/python-appsink.py MODEL THREADS BUILD_DIR
"""
import statistics
import sys
import time

import gi
import numpy as np
import torch

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst, GstApp  # noqa: E402

W, H, N, SIZE = 1280, 720, 24, 256


def frames():
    rng = np.random.default_rng(11)
    out = []
    yy, xx = np.mgrid[0:H, 0:W]
    for n in range(N):
        f = np.empty((H, W, 3), np.uint8)
        ball = (xx - 300 - 20 * n) ** 2 + (yy - 360) ** 2 < 120 ** 2
        f[..., 0] = np.where(ball, 220, (xx + 3 * n) & 0xff)
        f[..., 1] = np.where(ball, 40, (yy * 2) & 0xff)
        f[..., 2] = (rng.integers(0, 64, (H, W)) + ((xx ^ yy) & 0x7f)).astype(np.uint8)
        out.append(f.tobytes())
    return out


def pipeline(desc):
    p = Gst.parse_launch(desc)
    p.set_state(Gst.State.PLAYING)
    return p, p.get_by_name("src"), p.get_by_name("sink")


def push_all(src, data):
    for n, d in enumerate(data):
        b = Gst.Buffer.new_wrapped(d)
        b.pts = n * Gst.SECOND // 30
        b.duration = Gst.SECOND // 30
        src.emit("push-buffer", b)


def main():
    model_path, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    Gst.init(None)
    data = frames()
    caps = f"video/x-raw,format=RGB,width={W},height={H},framerate=30/1"
    elem, esrc, esink = pipeline(
        f"appsrc name=src format=time caps={caps} max-buffers={N} block=true ! "
        f"aiproductdetect model={model_path} copy-model=\"\" threads={threads} ! "
        f"appsink name=sink sync=false max-buffers={N}")
    plain, psrc, psink = pipeline(
        f"appsrc name=src format=time caps={caps} max-buffers={N} block=true ! "
        f"appsink name=sink sync=false max-buffers={N}")
    model = torch.jit.load(model_path)
    model.eval()
    scale = SIZE / max(W, H)
    nw, nh = round(W * scale), round(H * scale)
    top = (SIZE - nh) // 2

    def run_element():
        push_all(esrc, data)
        for _ in range(N):
            esink.emit("pull-sample")

    def run_python():
        push_all(psrc, data)
        with torch.inference_mode():
            for _ in range(N):
                s = psink.emit("pull-sample")
                buf = s.get_buffer()
                ok, m = buf.map(Gst.MapFlags.READ)
                x = torch.frombuffer(bytearray(m.data), dtype=torch.uint8)
                buf.unmap(m)
                x = x.view(1, H, W, 3).permute(0, 3, 1, 2).float() / 255.0
                x = torch.nn.functional.interpolate(x, size=(nh, nw), mode="bilinear",
                                                    align_corners=False)
                canvas = torch.full((1, 3, SIZE, SIZE), 114 / 255.0)
                canvas[:, :, top:top + nh, :nw] = x
                model(canvas.contiguous(memory_format=torch.channels_last))

    run_element()
    run_python()
    ta, tb, ratios = [], [], []
    for _ in range(7):
        t0 = time.perf_counter(); run_element(); a = time.perf_counter() - t0
        t0 = time.perf_counter(); run_python(); b = time.perf_counter() - t0
        ta.append(a * 1000 / N); tb.append(b * 1000 / N); ratios.append(b / a)
    r = statistics.median(ratios)
    print(f"aiproductdetect against a Python appsink loop (python3-torch "
          f"{torch.__version__}), {N} frames of {W}x{H}, {threads} threads "
          f"(A = element, B = Python; ratio B/A in time per frame, > 1: element faster)\n")
    print(f"| {'figure':34s} | {'A: element':>12s} | {'B: Python':>12s} | "
          f"{'ratio B/A (min-max)':21s} | {'target':16s} | ok   |")
    print(f"| {'per frame, 1280x720 -> 256x256':34s} | {statistics.median(ta):9.3f} ms | "
          f"{statistics.median(tb):9.3f} ms | {r:6.3f} ({min(ratios):.3f}-{max(ratios):.3f}) | "
          f"{'> 1 (faster)':16s} | {'yes' if r > 1 else 'NO':4s} |")
    for p in (elem, plain):
        p.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
