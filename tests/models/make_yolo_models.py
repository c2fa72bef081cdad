#!/usr/bin/python3
"""Stand-ins for ultralytics `yolov8n.torchscript` and `yolo11n.torchscript`
exports at imgsz=640 (ultralytics itself is not packaged), wrapped with
models/kling-wrap.py exactly as docs/models.md says.  Written into the build
directory only, never committed.

  make_yolo_models.py OUTDIR KLING_WRAP

What is the same as a real export:
- the network: YOLOv8n's backbone and neck (Conv/C2f/SPPF, width 0.25,
  depth 0.33) and its Detect head (cv2 box branch with 4 x 16 DFL bins, cv3
  class branch; YOLO11's class branch uses depthwise convolutions), BN fused
  into the convolutions, `Detect.bias_init` priors, random weights;
- the export path: `model.eval()`, `fuse()`, the head in export mode
  (anchors and strides made by `make_anchors` with offset 0.5, DFL softmax
  expectation, `dist2bbox(xywh=True) * strides`, `cls.sigmoid()`),
  `torch.jit.trace(model, im, strict=False)` on a [1, 3, 640, 640] zero
  image, saved with the export's `config.txt` metadata;
- the I/O: [1, 3, 640, 640] float RGB in [0, 1] in, [1, 84, 8400] out: rows
  0-3 box centre x, y, width, height in input pixels, rows 4-83 the 80 COCO
  class scores; anchors on strides 8, 16, 32 (80x80 + 40x40 + 20x20).

What differs: untrained weights score about 1e-4 (the bias prior)
everywhere, so to give the tests boxes to check, a few anchors have fixed
raw head outputs added before the decode (`Detect.planted`): a one-hot DFL
bin per side (a box of known distances from the anchor, in strides) and a
class logit.  The DFL, decode and sigmoid of the real head turn them into
the boxes and scores listed in OUTDIR/yolo-expected.txt, in model pixels
and mapped back to the frame sizes the launch test uses.
"""
import json
import math
import os
import subprocess
import sys

import torch
import torch.nn as nn

COCO = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train",
    "truck", "boat", "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag",
    "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon",
    "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot",
    "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
]
IMGSZ = 640
REG_MAX = 16
STRIDES = (8, 16, 32)
THRESHOLD = 0.25  # the docs' defaults.threshold
# frame sizes the launch test pushes: letterboxed top/bottom, left/right
FRAMES = [(320, 240), (480, 640)]

# planted anchors: level (index into STRIDES), cell x, cell y, DFL distances
# left, top, right, bottom (in strides, 0..15), class, class logit
PLANTED = [
    (0, 20, 30, (3, 2, 5, 4), "bottle", 2.0),
    # the same bottle box from the next anchor, scoring lower: NMS drops it
    (0, 21, 30, (4, 2, 4, 4), "bottle", 0.5),
    (1, 25, 15, (4, 6, 8, 3), "cup", 3.0),
    (2, 10, 12, (5, 3, 6, 4), "person", 1.5),
    # 0.30: over the docs' defaults.threshold 0.25, under the element's
    # own default 0.35, so it shows the manifest default reached the element
    (1, 30, 30, (2, 3, 2, 1), "tv", -0.85),
    # under the threshold (sigmoid(-1.5) = 0.18): not reported
    (2, 4, 4, (2, 2, 2, 2), "chair", -1.5),
]


def autopad(k, p=None, d=1):
    return k // 2 if p is None else p


class Conv(nn.Module):
    """ultralytics.nn.modules.conv.Conv: Conv2d + BN + SiLU."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p), groups=g,
                              bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))

    def forward_fuse(self, x):
        return self.act(self.conv(x))


class DWConv(Conv):
    def __init__(self, c1, c2, k=1, s=1, act=True):
        super().__init__(c1, c2, k, s, g=math.gcd(c1, c2), act=act)


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, g=1, k=(3, 3), e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, k[0], 1)
        self.cv2 = Conv(c_, c2, k[1], 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C2f(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, g,
                                          k=(3, 3), e=1.0) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c_ * 4, c2, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class DFL(nn.Module):
    def __init__(self, c1=16):
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        x = torch.arange(c1, dtype=torch.float)
        self.conv.weight.data[:] = nn.Parameter(x.view(1, c1, 1, 1))
        self.c1 = c1

    def forward(self, x):
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1)
                         .softmax(1)).view(b, 4, a)


def make_anchors(feats, strides, grid_cell_offset=0.5):
    anchor_points, stride_tensor = [], []
    dtype, device = feats[0].dtype, feats[0].device
    for i, stride in enumerate(strides):
        _, _, h, w = feats[i].shape
        sx = torch.arange(end=w, device=device, dtype=dtype) + grid_cell_offset
        sy = torch.arange(end=h, device=device, dtype=dtype) + grid_cell_offset
        sy, sx = torch.meshgrid(sy, sx, indexing="ij")
        anchor_points.append(torch.stack((sx, sy), -1).view(-1, 2))
        stride_tensor.append(torch.full((h * w, 1), stride, dtype=dtype,
                                        device=device))
    return torch.cat(anchor_points), torch.cat(stride_tensor)


def dist2bbox(distance, anchor_points, xywh=True, dim=-1):
    lt, rb = distance.chunk(2, dim)
    x1y1 = anchor_points - lt
    x2y2 = anchor_points + rb
    if xywh:
        return torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), dim)
    return torch.cat((x1y1, x2y2), dim)


class Detect(nn.Module):
    """ultralytics.nn.modules.head.Detect in export mode (format
    torchscript); `legacy=False` is YOLO11's depthwise class branch."""
    shape = None
    anchors = torch.empty(0)
    strides = torch.empty(0)

    def __init__(self, nc, ch, legacy=True):
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = REG_MAX
        self.no = nc + self.reg_max * 4
        self.stride = torch.tensor(STRIDES, dtype=torch.float)
        c2 = max((16, ch[0] // 4, self.reg_max * 4))
        c3 = max(ch[0], min(self.nc, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3),
                          nn.Conv2d(c2, 4 * self.reg_max, 1)) for x in ch)
        if legacy:
            self.cv3 = nn.ModuleList(
                nn.Sequential(Conv(x, c3, 3), Conv(c3, c3, 3),
                              nn.Conv2d(c3, self.nc, 1)) for x in ch)
        else:
            self.cv3 = nn.ModuleList(
                nn.Sequential(nn.Sequential(DWConv(x, x, 3), Conv(x, c3, 1)),
                              nn.Sequential(DWConv(c3, c3, 3), Conv(c3, c3, 1)),
                              nn.Conv2d(c3, self.nc, 1)) for x in ch)
        self.dfl = DFL(self.reg_max)
        n_anchors = sum((IMGSZ // s) ** 2 for s in STRIDES)
        self.register_buffer("planted", torch.zeros(1, self.no, n_anchors))

    def bias_init(self):
        for a, b, s in zip(self.cv2, self.cv3, self.stride):
            a[-1].bias.data[:] = 1.0
            b[-1].bias.data[: self.nc] = math.log(5 / self.nc / (640 / s) ** 2)

    def forward(self, x):
        for i in range(self.nl):
            x[i] = torch.cat((self.cv2[i](x[i]), self.cv3[i](x[i])), 1)
        shape = x[0].shape
        x_cat = torch.cat([xi.view(shape[0], self.no, -1) for xi in x], 2)
        if self.shape != shape:
            self.anchors, self.strides = (
                t.transpose(0, 1) for t in make_anchors(x, self.stride, 0.5))
            self.shape = shape
        x_cat = x_cat + self.planted
        box, cls = x_cat.split((self.reg_max * 4, self.nc), 1)
        dbox = dist2bbox(self.dfl(box), self.anchors.unsqueeze(0), xywh=True,
                         dim=1) * self.strides
        return torch.cat((dbox, cls.sigmoid()), 1)


class DetectionModel(nn.Module):
    """yolov8n.yaml: backbone 0-9, neck 10-21, Detect on 15, 18, 21."""

    def __init__(self, nc=80, legacy=True):
        super().__init__()
        self.b0 = Conv(3, 16, 3, 2)
        self.b1 = Conv(16, 32, 3, 2)
        self.b2 = C2f(32, 32, 1, True)
        self.b3 = Conv(32, 64, 3, 2)
        self.b4 = C2f(64, 64, 2, True)
        self.b5 = Conv(64, 128, 3, 2)
        self.b6 = C2f(128, 128, 2, True)
        self.b7 = Conv(128, 256, 3, 2)
        self.b8 = C2f(256, 256, 1, True)
        self.b9 = SPPF(256, 256, 5)
        self.up = nn.Upsample(None, 2, "nearest")
        self.h12 = C2f(384, 128, 1)
        self.h15 = C2f(192, 64, 1)
        self.h16 = Conv(64, 64, 3, 2)
        self.h18 = C2f(192, 128, 1)
        self.h19 = Conv(128, 128, 3, 2)
        self.h21 = C2f(384, 256, 1)
        self.detect = Detect(nc, (64, 128, 256), legacy)
        self.detect.bias_init()

    def forward(self, x):
        x = self.b2(self.b1(self.b0(x)))
        p3 = self.b4(self.b3(x))
        p4 = self.b6(self.b5(p3))
        p5 = self.b9(self.b8(self.b7(p4)))
        h12 = self.h12(torch.cat((self.up(p5), p4), 1))
        h15 = self.h15(torch.cat((self.up(h12), p3), 1))
        h18 = self.h18(torch.cat((self.h16(h15), h12), 1))
        h21 = self.h21(torch.cat((self.h19(h18), p5), 1))
        return self.detect([h15, h18, h21])

    def fuse(self):
        """ultralytics' fuse_conv_and_bn on every Conv."""
        for m in self.modules():
            if isinstance(m, Conv) and hasattr(m, "bn"):
                conv, bn = m.conv, m.bn
                fused = nn.Conv2d(conv.in_channels, conv.out_channels,
                                  conv.kernel_size, conv.stride, conv.padding,
                                  conv.dilation, conv.groups,
                                  bias=True).requires_grad_(False)
                w_conv = conv.weight.clone().view(conv.out_channels, -1)
                w_bn = torch.diag(bn.weight.div(torch.sqrt(bn.eps +
                                                           bn.running_var)))
                fused.weight.copy_(torch.mm(w_bn, w_conv).view(fused.weight.shape))
                b_conv = torch.zeros(conv.weight.shape[0])
                b_bn = bn.bias - bn.weight.mul(bn.running_mean).div(
                    torch.sqrt(bn.running_var + bn.eps))
                fused.bias.copy_(torch.mm(w_bn, b_conv.reshape(-1, 1))
                                 .reshape(-1) + b_bn)
                m.conv = fused
                delattr(m, "bn")
                m.forward = m.forward_fuse
        return self


def anchor_index(level, cx, cy):
    base = sum((IMGSZ // s) ** 2 for s in STRIDES[:level])
    return base + cy * (IMGSZ // STRIDES[level]) + cx


def plant(model):
    p = model.detect.planted
    for level, cx, cy, dists, label, logit in PLANTED:
        a = anchor_index(level, cx, cy)
        for side, d in enumerate(dists):
            p[0, side * REG_MAX + d, a] = 50.0
        c = COCO.index(label)
        # the class logit comes out as `logit` whatever the bias prior
        bias = model.detect.cv3[level][-1].bias[c].item()
        p[0, 4 * REG_MAX + c, a] = logit - bias


def expected_boxes():
    """Model-pixel boxes [x0, y0, x1, y1], scores, labels after the
    threshold and class-wise NMS (IoU 0.45), as the element must find."""
    out = []
    for level, cx, cy, (l, t, r, b), label, logit in PLANTED:
        s = STRIDES[level]
        ax, ay = (cx + 0.5) * s, (cy + 0.5) * s
        score = 1 / (1 + math.exp(-logit))
        if score < THRESHOLD:
            continue
        box = [ax - l * s, ay - t * s, ax + r * s, ay + b * s]
        if any(o[0] == label and o[1] == box for o in out):
            continue  # same class, same box, lower score: suppressed
        out.append((label, box, score))
    return out


def to_frame(box, fw, fh):
    """The element's letterbox (kling_letterbox_init), inverted."""
    s = min(IMGSZ / fw, IMGSZ / fh)
    dw, dh = round(fw * s), round(fh * s)
    px, py = (IMGSZ - dw) // 2, (IMGSZ - dh) // 2
    sx, sy = dw / fw, dh / fh
    x0 = min(max((box[0] - px) / sx, 0), fw)
    y0 = min(max((box[1] - py) / sy, 0), fh)
    x1 = min(max((box[2] - px) / sx, 0), fw)
    y1 = min(max((box[3] - py) / sy, 0), fh)
    return int(x0), int(y0), int(x1 - int(x0)), int(y1 - int(y0))


def export(name, legacy, out):
    torch.manual_seed(0 if legacy else 1)
    model = DetectionModel(len(COCO), legacy).eval()
    model.fuse()
    with torch.no_grad():
        plant(model)
    im = torch.zeros(1, 3, IMGSZ, IMGSZ)
    with torch.no_grad():
        y = model(im)
        ts = torch.jit.trace(model, im, strict=False)
    assert tuple(y.shape) == (1, 84, 8400), y.shape
    # the random network alone finds nothing: only the planted anchors
    # reach the threshold
    planted = {anchor_index(lv, cx, cy) for lv, cx, cy, *_ in PLANTED}
    scores = y[0, 4:].max(0).values
    others = [i for i in range(scores.numel()) if i not in planted]
    assert scores[others].max().item() < 0.01, scores[others].max()
    metadata = {
        "description": "Ultralytics %s model (gst-kling test stand-in, "
                       "random weights)" % name,
        "author": "gst-kling tests", "version": "8.3.0",
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com", "stride": 32,
        "task": "detect", "batch": 1, "imgsz": [IMGSZ, IMGSZ],
        "names": {i: n for i, n in enumerate(COCO)},
    }
    export_path = os.path.join(out, name + ".torchscript")
    ts.save(export_path, _extra_files={"config.txt": json.dumps(metadata)})
    return export_path


def run_wrap(wrap, *args):
    subprocess.run([sys.executable, wrap] + list(args), check=True)


def main():
    out, wrap = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    labels = os.path.join(out, "coco.txt")
    with open(labels, "w") as f:
        f.write("\n".join(COCO) + "\n")
    v8 = export("yolov8n", True, out)
    v11 = export("yolo11n", False, out)
    # docs/models.md, "Ultralytics YOLOv8 / YOLO11", word for word: the
    # long form with every field given ...
    run_wrap(wrap, v8, "-o", os.path.join(out, "yolov8n-kling.pt"),
             "--set", "task=detect", "--set", "output.format=yolov8",
             "--set", "input.width=640", "--set", "input.height=640",
             "--set", "input.resize=letterbox", "--set", "input.pad=114",
             "--set", "defaults.threshold=0.25", "--labels", labels)
    # ... and the short form, which reads the export's config.txt
    run_wrap(wrap, v11, "-o", os.path.join(out, "yolo11n-kling.pt"))
    # a package wrapped again with a size the export was not traced at:
    # libtorch fails at the first call
    run_wrap(wrap, os.path.join(out, "yolov8n-kling.pt"),
             "-o", os.path.join(out, "yolov8n-320-kling.pt"),
             "--set", "input.width=320", "--set", "input.height=320")
    for e in (v8, v11):
        os.unlink(e)
    with open(os.path.join(out, "yolo-expected.txt"), "w") as f:
        f.write("# frame-width frame-height label label-id x y width height"
                " confidence\n")
        for fw, fh in FRAMES:
            for label, box, score in expected_boxes():
                x, y, w, h = to_frame(box, fw, fh)
                f.write("%d %d %s %d %d %d %d %d %.4f\n" % (
                    fw, fh, label.replace(" ", "_"), COCO.index(label),
                    x, y, w, h, score))
    return 0


if __name__ == "__main__":
    sys.exit(main())
