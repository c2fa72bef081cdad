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

An ultralytics export (YOLOv8, YOLO11: `yolo export format=torchscript`)
or a YOLOv5 one (`export.py --include torchscript`) carries its class names
and image size in its own `config.txt`; those become the manifest's
defaults, so for them the file alone is enough:

  /usr/bin/python3 models/kling-wrap.py yolov8n.torchscript -o yolov8n-kling.pt

Wrapping a package again keeps its manifest and changes only what is given.

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


def wrap(module, manifest, out_path, extra_files=None):
    """Save a scripted/traced module with the manifest embedded (and any
    other extra files it had, such as an export's config.txt)."""
    manifest = dict(manifest)
    manifest.setdefault("format", FORMAT_VERSION)
    files = dict(extra_files or {})
    files["kling.json"] = json.dumps(manifest, ensure_ascii=False, indent=1)
    torch.jit.save(module, out_path, _extra_files=files)


def export_defaults(config, path):
    """Manifest defaults from the `config.txt` an ultralytics (YOLOv8,
    YOLO11) or YOLOv5 TorchScript export stores: task, output layout, input
    size and class names.  Returns ({}, None) for anything else."""
    try:
        meta = json.loads(config)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}, None
    if not isinstance(meta, dict) or "names" not in meta:
        return {}, None
    names = meta["names"]
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names, key=int)]
    if "imgsz" in meta:  # ultralytics: YOLOv8, YOLO11 and later
        kind = "ultralytics"
        task = meta.get("task", "detect")
        if task != "detect":
            sys.exit(f"{path} is an ultralytics `{task}` export; "
                     "aiproductdetect reads detection exports ([1, 4 + C, N]): "
                     "export a detection model (e.g. yolov8n.pt)")
        imgsz = meta["imgsz"]
        if isinstance(imgsz, int):
            imgsz = [imgsz]
        h, w = imgsz[0], imgsz[-1]  # [h, w], or one side for both
        fmt = "yolov8"
    elif "shape" in meta:  # github.com/ultralytics/yolov5 export.py
        kind = "YOLOv5"
        h, w = meta["shape"][2], meta["shape"][3]
        fmt = "yolov5"
    else:
        return {}, None
    return {"task": "detect", "output": {"format": fmt},
            "input": {"width": int(w), "height": int(h),
                      "resize": "letterbox", "pad": 114},
            "labels": list(names),
            # ultralytics' own predict default (conf=0.25)
            "defaults": {"threshold": 0.25}}, kind


def merge(base, over):
    """`over` on top of `base`, objects merged key by key."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


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

    given = {}
    if args.manifest:
        with open(args.manifest, encoding="utf-8") as f:
            given = json.load(f)
    for item in args.set:
        if "=" not in item:
            ap.error(f"--set wants KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        set_path(given, k, v)
    if args.labels:
        with open(args.labels, encoding="utf-8") as f:
            given["labels"] = [l.strip() for l in f if l.strip()]

    # kling.json: a package being wrapped again; config.txt: an export's
    # own metadata (ultralytics, YOLOv5)
    extra = {"kling.json": "", "config.txt": ""}
    try:
        module = torch.jit.load(args.torchscript, map_location="cpu",
                                _extra_files=extra)
    except RuntimeError as e:
        if "torchvision::" in str(e) and torchvision is None:
            sys.exit(f"{args.torchscript} calls torchvision ops, but torchvision "
                     "is not installed: apt install python3-torchvision")
        raise
    manifest = {}
    keep = {}
    if extra["config.txt"]:
        keep["config.txt"] = extra["config.txt"]
        defaults, kind = export_defaults(extra["config.txt"], args.torchscript)
        if kind:
            print(f"{args.torchscript}: {kind} export, "
                  f"{defaults['input']['width']}x{defaults['input']['height']}, "
                  f"{len(defaults['labels'])} classes (from its config.txt)")
            manifest = defaults
    if extra["kling.json"]:
        manifest = merge(manifest, json.loads(extra["kling.json"]))
    manifest = merge(manifest, given)
    if "task" not in manifest:
        ap.error("the manifest needs a task (detect, copywrite, video, poster): "
                 "use --set task=detect or --manifest")

    methods = [m for m in ("forward", "encode_prompt", "denoise", "decode",
                           "encode_image", "encode", "decode_step")
               if hasattr(module, m)]
    manifest.setdefault("methods", methods)
    wrap(module, manifest, args.output, keep)
    print(f"wrote {args.output}: task {manifest['task']}, methods {', '.join(manifest['methods'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
