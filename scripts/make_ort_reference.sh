#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make_ort_reference.sh — (re)generate the ONNX Runtime reference data in tests/e2e/data/.
#
# This is how the committed reference data was produced. Tests read only the stored .npy files
# and manifests, so ONNX Runtime is not needed to build or test hwopt.
#
#   1. npm install --ignore-scripts (onnxruntime-node 1.30.0, pinned in package.json; the CPU
#      library ships inside the package, so no install script or download is needed) when
#      node_modules/onnxruntime-node is missing;
#   2. node scripts/ort_reference.js: for each model in models/real/ builds deterministic inputs
#      (seeded mulberry32 PRNG; Fashion-MNIST uses the first 8 real test images from Debian's
#      dataset-fashion-mnist at /usr/share/datasets/fashion-mnist, override with FMNIST_DIR), runs
#      ORT on the CPU with one thread, and writes tests/e2e/data/<model>/{input_*,output_*}.npy
#      plus manifest.json;
#   3. scripts/check_ort_reference.py (when a python3 with numpy is available) reloads every file
#      with numpy.load and checks dtype/shape/size against the manifests.
#
# Requirements: Node.js >= 20, npm; apt-get install dataset-fashion-mnist.
# Extra arguments are passed to ort_reference.js (e.g. --only silero_vad_v5).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -d node_modules/onnxruntime-node ]]; then
  npm install --ignore-scripts --no-audit --no-fund
fi

FMNIST_DIR=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [[ ! -f "$FMNIST_DIR/t10k-images-idx3-ubyte.gz" ]]; then
  echo "error: Fashion-MNIST not found in $FMNIST_DIR (apt-get install dataset-fashion-mnist, or set FMNIST_DIR)" >&2
  exit 1
fi

node scripts/ort_reference.js --fmnist-dir "$FMNIST_DIR" "$@"

PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' >/dev/null 2>&1; then PY=$p; break; fi
done
if [[ -n "$PY" ]]; then
  "$PY" scripts/check_ort_reference.py
else
  echo "note: no python3 with numpy found; skipped scripts/check_ort_reference.py" >&2
fi
