#!/usr/bin/env python3
"""Writes the Fashion-MNIST test set as .npy files for hwopt's accuracy tests and `hwopt validate`.

Reads Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/t10k-*-idx*-ubyte.gz)
and writes into OUT_DIR:
  images.npy  float32 [N, 1, 28, 28], pixels / 255
  labels.npy  int64 [N], class indices 0-9

Usage: scripts/make_fmnist_npy.py OUT_DIR [--limit N] [--source DIR] [--train]
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np

DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"
IDX_UBYTE = 0x08  # the idx element type code of unsigned bytes


def read_idx(path, want_rank):
    """Reads a gzipped idx file of unsigned bytes; returns an array of rank `want_rank`."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an idx header")
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != IDX_UBYTE or rank != want_rank:
        raise ValueError(f"{path}: not an idx file of unsigned bytes with rank {want_rank}")
    header = 4 + 4 * rank
    dims = struct.unpack(f">{rank}I", data[4:header])
    count = int(np.prod(dims))
    if len(data) != header + count:
        raise ValueError(f"{path}: {len(data) - header} data bytes, the header says {count}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="directory for images.npy and labels.npy (created if missing)")
    parser.add_argument("--limit", type=int, default=0, help="keep the first N images (0 = all)")
    parser.add_argument("--source", default=DEFAULT_SOURCE, help=f"dataset directory (default {DEFAULT_SOURCE})")
    parser.add_argument("--train", action="store_true", help="the 60,000 training images instead of the test set")
    args = parser.parse_args()
    if args.limit < 0:
        parser.error("--limit must be >= 0")

    prefix = "train" if args.train else "t10k"
    images_path = os.path.join(args.source, f"{prefix}-images-idx3-ubyte.gz")
    labels_path = os.path.join(args.source, f"{prefix}-labels-idx1-ubyte.gz")
    for p in (images_path, labels_path):
        if not os.path.isfile(p):
            sys.exit(f"error: {p} not found (install Debian's dataset-fashion-mnist)")
    try:
        images = read_idx(images_path, 3)
        labels = read_idx(labels_path, 1)
    except (OSError, ValueError) as e:
        sys.exit(f"error: {e}")
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        sys.exit(f"error: {images.shape[0]} images of {images.shape[1:]} but {labels.shape[0]} labels")
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]

    os.makedirs(args.out_dir, exist_ok=True)
    x = (images.astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)
    y = labels.astype(np.int64)
    # Write to temporary names, then rename: a reader never sees half a file.
    for name, array in (("images.npy", x), ("labels.npy", y)):
        final = os.path.join(args.out_dir, name)
        tmp = f"{final}.tmp.{os.getpid()}"
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(array))
        os.replace(tmp, final)
    print(f"wrote {x.shape[0]} images and labels to {args.out_dir}")


if __name__ == "__main__":
    main()
