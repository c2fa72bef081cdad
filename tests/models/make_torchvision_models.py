#!/usr/bin/python3
"""Real torchvision detectors (random weights), scripted the way their users
script them and wrapped with models/kling-wrap.py exactly as docs/models.md
says.  Written into the build directory only, never committed.

  make_torchvision_models.py OUTDIR KLING_WRAP

When torchvision does not import, OUTDIR/torchvision-models.txt says so and
the tests that use these models skip with that message.
"""
import os
import subprocess
import sys

import torch

MODELS = [
    # name, constructor, input size given to the wrap step, extra arguments
    ("tv-ssdlite", "ssdlite320_mobilenet_v3_large", 320, {}),
    ("tv-fasterrcnn", "fasterrcnn_mobilenet_v3_large_320_fpn", 320, {}),
    # ~130 MB and the slowest of the three on CPU; kept so the FPN/anchor
    # head of the large detectors is covered too.  Its untrained head
    # scores about 0.01 (the prior), under the default score_thresh 0.05:
    # a lower one lets the test see boxes
    ("tv-retinanet", "retinanet_resnet50_fpn", 320, {"score_thresh": 0.001}),
]
LABELS = ["__background__", "cup", "bag", "shoe", "watch", "bottle", "lamp"]


def main():
    out, wrap = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    listing = os.path.join(out, "torchvision-models.txt")
    try:
        import torchvision
        from torchvision.models import detection
    except ImportError as e:
        with open(listing, "w") as f:
            f.write("skip: torchvision does not import (%s); "
                    "apt install python3-torchvision\n" % e)
        return 0
    labels = os.path.join(out, "tv-labels.txt")
    with open(labels, "w") as f:
        f.write("\n".join(LABELS) + "\n")
    torch.manual_seed(0)
    names = []
    for name, ctor, size, extra in MODELS:
        model = getattr(detection, ctor)(weights=None, weights_backbone=None,
                                         num_classes=len(LABELS),
                                         **extra).eval()
        scripted = os.path.join(out, name + ".torchscript")
        torch.jit.script(model).save(scripted)
        subprocess.run([sys.executable, wrap, scripted,
                        "-o", os.path.join(out, name + "-kling.pt"),
                        "--set", "task=detect",
                        "--set", "output.format=torchvision",
                        "--set", "input.width=%d" % size,
                        "--set", "input.height=%d" % size,
                        "--labels", labels], check=True)
        os.unlink(scripted)
        names.append(name + "-kling.pt")
    with open(listing, "w") as f:
        f.write("torchvision %s\n" % torchvision.__version__)
        f.write("".join(n + "\n" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
