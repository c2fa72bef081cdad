#!/usr/bin/python3
"""Wrap any TorchScript file (a YOLO export, a scripted torchvision model,
your own module) into a gst-kling model package: the same TorchScript
archive with a JSON manifest stored inside it as the extra file
``kling.json``.  See docs/models.md for every manifest field.

  /usr/bin/python3 models/kling-wrap.py yolov8n.torchscript \
      --manifest yolov8n.json -o yolov8n-kling.pt

Fields can also be given on the command line; they override the file:

  /usr/bin/python3 models/kling-wrap.py yolov8n.torchscript -o out.pt \
      --set task=detect --set output.format=yolov8 \
      --set input.width=640 --set input.height=640 \
      --labels coco.txt

This is a build-time tool: gst-kling never runs Python.
"""
import argparse
import json
import sys

import torch

try:
    # registers torchvision::nms and the other ops scripted torchvision
    # detectors call, so that torch.jit.load can resolve them
    import torchvision  # noqa: F401
except ImportError:
    torchvision = None

FORMAT_VERSION = 1


def set_path(doc, dotted, raw):
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    keys = dotted.split(".")
    node = doc
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value


def wrap(module, manifest, out_path):
    """Save a scripted/traced module with the manifest embedded."""
    manifest = dict(manifest)
    manifest.setdefault("format", FORMAT_VERSION)
    torch.jit.save(module, out_path,
                   _extra_files={"kling.json":
                                 json.dumps(manifest, ensure_ascii=False,
                                            indent=1)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("torchscript", help="existing TorchScript file")
    ap.add_argument("-o", "--output", required=True, help="model package to write")
    ap.add_argument("--manifest", help="JSON manifest to embed")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="set a manifest field (dotted path; VALUE parsed as JSON if it can be)")
    ap.add_argument("--labels", help="text file with one label per line")
    args = ap.parse_args(argv)

    manifest = {}
    if args.manifest:
        with open(args.manifest, encoding="utf-8") as f:
            manifest = json.load(f)
    for item in args.set:
        if "=" not in item:
            ap.error(f"--set wants KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        set_path(manifest, k, v)
    if args.labels:
        with open(args.labels, encoding="utf-8") as f:
            manifest["labels"] = [l.strip() for l in f if l.strip()]
    if "task" not in manifest:
        ap.error("the manifest needs a task (detect, copywrite, video, poster): "
                 "use --set task=detect or --manifest")

    try:
        module = torch.jit.load(args.torchscript, map_location="cpu")
    except RuntimeError as e:
        if "torchvision::" in str(e) and torchvision is None:
            sys.exit(f"{args.torchscript} calls torchvision ops, but torchvision "
                     "is not installed: apt install python3-torchvision")
        raise
    methods = [m for m in ("forward", "encode_prompt", "denoise", "decode",
                           "encode_image", "encode", "decode_step")
               if hasattr(module, m)]
    manifest.setdefault("methods", methods)
    wrap(module, manifest, args.output)
    print(f"wrote {args.output}: task {manifest['task']}, methods {', '.join(manifest['methods'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
