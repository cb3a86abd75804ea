#!/usr/bin/python3
"""Writes real photos as .npy batches for hwopt's accuracy tests of image classifiers.

The photos come from two Debian packages, downloaded (not installed: no dependencies) and
unpacked into a cache directory: `darknet` (/usr/share/darknet/data/*.jpg: dog, eagle, giraffe,
horses, kite, person, scream; YOLO's sample images) and `python3-skimage` (skimage/data: the
colour photos astronaut, chelsea, coffee, rocket, motorcycle_left/right, hubble_deep_field,
retina, ihc, grass, gravel, brick). Each photo gives several inputs: its shorter side is
resized to 256 and 224x224 crops are taken at the centre and the four corners, each also
mirrored (10 per photo), so the set has about 190 samples.

Writes OUT_DIR/images.npy: float32 [N, 3, 224, 224] (NCHW, RGB / 255, as the nsfwjs MobileNetV2
expects) or with --nhwc [N, 224, 224, 3].

Usage: scripts/make_photos_npy.py OUT_DIR [--limit N] [--nhwc] [--cache DIR]
"""
import argparse
import glob
import os
import subprocess
import sys

import numpy as np
from PIL import Image

PACKAGES = {
    "darknet": ("usr/share/darknet/data", ["dog", "eagle", "giraffe", "horses", "kite", "person", "scream"]),
    "python3-skimage": ("usr/lib/python3/dist-packages/skimage/data",
                        ["astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right",
                         "hubble_deep_field", "retina", "ihc", "grass", "gravel", "brick"]),
}
SIDE = 256
CROP = 224


def fetch(cache):
    """Unpacks the packages' photos into `cache` (once) and returns the photo paths in order."""
    os.makedirs(cache, exist_ok=True)
    paths = []
    for pkg, (subdir, names) in PACKAGES.items():
        root = os.path.join(cache, "x")
        if not os.path.isdir(os.path.join(root, subdir)):
            debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
            if not debs:
                subprocess.run(["apt-get", "download", pkg], cwd=cache, check=True, stdout=subprocess.DEVNULL)
                debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
            subprocess.run(["dpkg-deb", "-x", debs[0], root], check=True)
        for n in names:
            found = [p for p in glob.glob(os.path.join(root, subdir, n + ".*")) if p.endswith((".jpg", ".png"))]
            if not found:
                sys.exit(f"make_photos_npy: {n} missing from {pkg}")
            paths.append(found[0])
    return paths


def crops(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    scale = SIDE / min(w, h)
    img = img.resize((max(SIDE, round(w * scale)), max(SIDE, round(h * scale))), Image.BILINEAR)
    w, h = img.size
    boxes = [((w - CROP) // 2, (h - CROP) // 2), (0, 0), (w - CROP, 0), (0, h - CROP), (w - CROP, h - CROP)]
    out = []
    for x, y in boxes:
        c = img.crop((x, y, x + CROP, y + CROP))
        out.append(np.asarray(c, dtype=np.float32) / 255.0)
        out.append(np.asarray(c.transpose(Image.FLIP_LEFT_RIGHT), dtype=np.float32) / 255.0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--limit", type=int, default=0, help="keep the first N samples (0 = all)")
    ap.add_argument("--nhwc", action="store_true", help="[N, 224, 224, 3] instead of NCHW")
    ap.add_argument("--cache", default=None, help="where the packages are unpacked (default OUT_DIR/.cache)")
    args = ap.parse_args()
    samples = []
    for p in fetch(args.cache or os.path.join(args.out_dir, ".cache")):
        samples.extend(crops(p))
    if args.limit > 0:
        samples = samples[: args.limit]
    x = np.stack(samples)
    if not args.nhwc:
        x = x.transpose(0, 3, 1, 2)
    os.makedirs(args.out_dir, exist_ok=True)
    tmp = os.path.join(args.out_dir, "images.npy.tmp")
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(x))
    os.replace(tmp, os.path.join(args.out_dir, "images.npy"))
    print(f"make_photos_npy: {x.shape[0]} samples {list(x.shape)} -> {args.out_dir}/images.npy")


if __name__ == "__main__":
    main()
