#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check the stored ONNX Runtime reference data in tests/e2e/data/.

For every <model>/manifest.json: each listed .npy file loads with numpy.load (allow_pickle=False),
is little-endian, C order, and has the manifest's dtype and shape; values are finite; the model file
named by the manifest exists and matches model_sha256; no data file exceeds 2 MB.
Exit status 0 when everything checks out.  Usage: scripts/check_ort_reference.py [DATA_DIR]
"""
import hashlib
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "int32": "<i4", "int16": "<i2", "int8": "|i1",
          "uint8": "|u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8", "bool": "|b1", "float16": "<f2"}


def main() -> int:
    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "e2e", "data")
    errors, total = [], 0
    for stem in sorted(os.listdir(data_dir)):
        mpath = os.path.join(data_dir, stem, "manifest.json")
        if not os.path.isfile(mpath):
            continue
        with open(mpath) as f:
            man = json.load(f)
        model = os.path.join(ROOT, man["model"])
        if not os.path.isfile(model):
            errors.append(f"{stem}: missing model {man['model']}")
        else:
            with open(model, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != man["model_sha256"]:
                    errors.append(f"{stem}: {man['model']} does not match model_sha256")
        listed = set()
        for kind in ("inputs", "outputs"):
            for e in man[kind]:
                fpath = os.path.join(data_dir, stem, e["file"])
                listed.add(e["file"])
                size = os.path.getsize(fpath)
                total += size
                if size > 2 * 1024 * 1024:
                    errors.append(f"{stem}/{e['file']}: {size} bytes > 2 MB")
                a = np.load(fpath, allow_pickle=False)
                if a.dtype.str != DTYPES[e["dtype"]]:
                    errors.append(f"{stem}/{e['file']}: dtype {a.dtype.str}, manifest {e['dtype']}")
                if list(a.shape) != e["shape"]:
                    errors.append(f"{stem}/{e['file']}: shape {list(a.shape)}, manifest {e['shape']}")
                if not a.flags.c_contiguous:
                    errors.append(f"{stem}/{e['file']}: not C order")
                if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                    errors.append(f"{stem}/{e['file']}: non-finite values")
                if "values" in e and not np.allclose(a.reshape(-1).astype(np.float64), e["values"], rtol=0, atol=0):
                    errors.append(f"{stem}/{e['file']}: values differ from manifest")
                print(f"{stem:22s} {kind[:-1]:6s} {e['name']:18s} {a.dtype.str} {list(a.shape)}")
        extra = set(os.listdir(os.path.join(data_dir, stem))) - listed - {"manifest.json"}
        if extra:
            errors.append(f"{stem}: files not in manifest: {sorted(extra)}")
    print(f"total data: {total / 1e6:.2f} MB")
    for e in errors:
        print("ERROR:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
