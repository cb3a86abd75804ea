#!/usr/bin/python3
"""Writes real photos as .npy files for hwopt's accuracy tests of real models.

The photos come from two Debian packages, downloaded (not installed: no dependencies) and
unpacked into a cache directory: `darknet` (/usr/share/darknet/data/*.jpg: dog, eagle, giraffe,
horses, kite, person, scream; YOLO's sample images) and `python3-skimage` (skimage/data: the
colour photos astronaut, chelsea, coffee, rocket, motorcycle_left/right, hubble_deep_field,
retina, ihc, grass, gravel, brick). Each photo gives several inputs: its shorter side is
resized to 256 and 224x224 crops are taken at the centre and the four corners, each also
mirrored (10 per photo), so the set has about 190 samples.

Writes OUT_DIR/images.npy: float32 [N, 3, 224, 224] (NCHW, RGB / 255, as the nsfwjs MobileNetV2
expects) or with --nhwc [N, 224, 224, 3].

--set faces: BlazeFace's face/non-face set (models/real/README.md): scikit-image's lfw_subset
(100 faces, then 100 non-faces, 25x25 grey) upscaled to 64x64 and pasted at the centre of a
black 128x128 canvas, RGB / 127.5 - 1, NHWC: OUT_DIR/images.npy [200, 128, 128, 3] and
OUT_DIR/labels.npy (int64, 1 = face).

--set words: the OpenCV sample word crops (package opencv-doc, examples/text/scenetext_word0*.jpg,
which PP-OCRv4 reads as CHINA, HERE, riser, Produkt): each resized to height 48 (aspect kept,
width rounded up to a multiple of 8), RGB / 255, then (x - 0.5) / 0.5, NCHW, one file per word:
OUT_DIR/word01.npy ... (widths differ, so each is its own batch); the five segmented word images
of the same package go to OUT_DIR/calibration/ the same way (width capped at 640).

Usage: scripts/make_photos_npy.py OUT_DIR [--set photos|faces|words] [--skip N] [--limit N] [--nhwc] [--cache DIR]
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


def unpack(cache, pkg, member):
    """Unpacks `member` (a path inside the package) into cache/x (once) and returns its path."""
    os.makedirs(cache, exist_ok=True)
    root = os.path.join(cache, "x")
    path = os.path.join(root, member)
    if not os.path.exists(path):
        debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", pkg], cwd=cache, check=True, stdout=subprocess.DEVNULL)
            debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
        os.makedirs(root, exist_ok=True)
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", debs[0]], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", root, "./" + member], stdin=tar.stdout, check=True)
        tar.wait()
    return path


def save(path, array):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array))
    os.replace(tmp, path)


def faces(cache, out_dir):
    lfw = np.load(unpack(cache, "python3-skimage", "usr/lib/python3/dist-packages/skimage/data/lfw_subset.npy"))
    images = []
    for grey in lfw:
        img = Image.fromarray(np.clip(grey * 255.0, 0, 255).astype(np.uint8)).resize((64, 64), Image.BILINEAR)
        canvas = np.zeros((128, 128), np.float32)
        canvas[32:96, 32:96] = np.asarray(img, dtype=np.float32)
        images.append(np.repeat(canvas[:, :, None], 3, axis=2) / 127.5 - 1.0)
    labels = np.array([1] * 100 + [0] * (len(images) - 100), dtype=np.int64)
    save(os.path.join(out_dir, "images.npy"), np.stack(images).astype(np.float32))
    save(os.path.join(out_dir, "labels.npy"), labels)
    print(f"make_photos_npy: {len(images)} faces/non-faces -> {out_dir}")


def word_tensor(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    width = min(640, max(8, -(-round(w * 48 / h) // 8) * 8))
    x = np.asarray(img.resize((width, 48), Image.BILINEAR), dtype=np.float32) / 255.0
    return ((x - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32)


def words(cache, out_dir):
    text = "usr/share/doc/opencv-doc/examples/text"
    for i in range(1, 5):
        save(os.path.join(out_dir, f"word0{i}.npy"), word_tensor(unpack(cache, "opencv-doc", f"{text}/scenetext_word0{i}.jpg")))
    # Other word images of the same package, for calibration apart from the words read.
    os.makedirs(os.path.join(out_dir, "calibration"), exist_ok=True)
    for i in range(1, 6):
        x = word_tensor(unpack(cache, "opencv-doc", f"{text}/scenetext_segmented_word0{i}.jpg"))
        save(os.path.join(out_dir, "calibration", f"segmented0{i}.npy"), x)
    print(f"make_photos_npy: 4 word crops (+5 for calibration) -> {out_dir}")


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
    ap.add_argument("--skip", type=int, default=0, help="photos set: leave out the first N samples (before --limit)")
    ap.add_argument("--nhwc", action="store_true", help="[N, 224, 224, 3] instead of NCHW")
    ap.add_argument("--cache", default=None, help="where the packages are unpacked (default OUT_DIR/.cache)")
    ap.add_argument("--set", default="photos", choices=["photos", "faces", "words"])
    args = ap.parse_args()
    cache = args.cache or os.path.join(args.out_dir, ".cache")
    os.makedirs(args.out_dir, exist_ok=True)
    if args.set == "faces":
        return faces(cache, args.out_dir)
    if args.set == "words":
        return words(cache, args.out_dir)
    samples = []
    for p in fetch(cache):
        samples.extend(crops(p))
    samples = samples[args.skip:]
    if args.limit > 0:
        samples = samples[: args.limit]
    x = np.stack(samples)
    if not args.nhwc:
        x = x.transpose(0, 3, 1, 2)
    save(os.path.join(args.out_dir, "images.npy"), x)
    print(f"make_photos_npy: {x.shape[0]} samples {list(x.shape)} -> {args.out_dir}/images.npy")


if __name__ == "__main__":
    main()
