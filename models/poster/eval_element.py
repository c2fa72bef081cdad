#!/usr/bin/python3
"""Held-out check of ketuposter with the default poster model, end to end:
a product photo no test uses (a two-colour bottle with alpha, drawn here)
goes through gst-launch-1.0 ... ! ketuposter for every held-out prompt of the
recipe (phrasings never trained on, Chinese and English), two variants each;
the posters are classified by the recipe's style classifier (after scaling
to its 64x64 input) and the product's pixels are compared with the photo.

  meson devenv -C build /usr/bin/python3 models/poster/eval_element.py
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("poster_train", os.path.join(HERE, "train.py"))
recipe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe)

W, H, PW, PH = 256, 320, 60, 110


def product_photo():
    yy, xx = np.mgrid[0:PH, 0:PW]
    rgba = np.zeros((PH, PW, 4), np.uint8)
    body = (np.abs(xx - PW / 2) < PW * 0.4) & (yy > PH * 0.3)
    neck = (np.abs(xx - PW / 2) < PW * 0.14) & (yy <= PH * 0.3)
    m = body | neck
    rgba[..., 0] = np.where(yy % 20 < 10, 200, 40)
    rgba[..., 1] = (60 + xx * 2).clip(0, 255)
    rgba[..., 2] = (90 + yy).clip(0, 255)
    rgba[..., 3] = np.where(m, 255, 0)
    return rgba


def main():
    clf, _ = recipe.load_or_train_classifier(False)
    held = recipe.held_prompts()
    photo = product_photo()
    right = total = 0
    exact = True
    with tempfile.TemporaryDirectory() as d:
        photo.tofile(os.path.join(d, "product.rgba"))
        for i, (prompt, style) in enumerate(held):
            subprocess.run(
                ["gst-launch-1.0", "-q", "filesrc", f"location={d}/product.rgba", "!",
                 "rawvideoparse", f"width={PW}", f"height={PH}", "format=rgba",
                 "framerate=0/1", "!", "ketuposter", f"prompt={prompt}", f"width={W}",
                 f"height={H}", "variants=2", f"seed={i * 10}", "!",
                 "filesink", f"location={d}/p{i}.rgba"], check=True)
            raw = np.fromfile(os.path.join(d, f"p{i}.rgba"), np.uint8).reshape(2, H, W, 4)
            for v in range(2):
                img = torch.from_numpy(raw[v, ..., :3].copy()).permute(2, 0, 1)[None].float()
                small = F.interpolate(img, size=(64, 64), mode="area").round()
                x = small.permute(0, 2, 3, 1).to(torch.uint8)
                with torch.no_grad():
                    pred = int(clf(recipe.to_signed(x)).argmax(1))
                right += pred == style
                total += 1
                # the product, 1:1, centred by the centre layout: its opaque
                # pixels must be the photo's, byte for byte
                ys, xs = np.nonzero(photo[..., 3] == 255)
                y0, x0 = ys.min(), xs.min()
                cw = xs.max() - x0 + 1
                ox = (W - cw) // 2
                found = any(np.array_equal(raw[v, oy + ys - y0, ox + xs - x0, :3],
                                           photo[ys, xs, :3])
                            for oy in range(H - (ys.max() - y0)))
                exact &= found
    print(json.dumps({"posters": total, "style_accuracy": round(right / total, 3),
                      "product_pixels_exact": bool(exact),
                      "prompts": [p for p, _ in held]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
