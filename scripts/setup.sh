#!/usr/bin/env bash
# Installs what hwopt needs to build and test, from Debian 12's packages. Idempotent: quiet and
# quick when everything is already there.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build ccache make pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev   # ONNX protobufs, schemas, shape inference
  libonnx-testdata                                # ONNX backend conformance data
  libfmt-dev nlohmann-json3-dev libcli11-dev      # formatting, JSON, command line
  libdnnl-dev libcpuinfo-dev                      # CPU backend: oneDNN primitives, core detection
  ocl-icd-opencl-dev                              # only a Recommends of libdnnl-dev, but its CMake config needs OpenCL
  libgtest-dev                                    # tests
  python3-onnx                                    # tests: onnx.checker on models hwopt optimize writes
  dataset-fashion-mnist python3-numpy             # tests: labelled images for accuracy validation (scripts/make_fmnist_npy.py)
  python3-pil                                     # tests: real photos decoded by scripts/make_photos_npy.py
  nodejs npm                                      # tests: ONNX Runtime (onnxruntime-node, package.json) runs hwopt's QDQ models
)
# A nodejs that brings its own npm (NodeSource's does, and conflicts with Debian's npm) needs no other.
if command -v npm >/dev/null 2>&1; then
  kept=()
  for p in "${PACKAGES[@]}"; do [ "$p" = npm ] || kept+=("$p"); done
  PACKAGES=("${kept[@]}")
fi
# `setup.sh --fuzz` (make fuzz, make fuzz-smoke): libFuzzer comes with clang's runtime libraries.
FUZZ=0
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES=(clang libclang-rt-14-dev)
  FUZZ=1
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# onnxruntime-node, pinned in package.json, into node_modules (gitignored) when it is not there:
# tests/e2e/quant_qdq_test.cpp runs it through scripts/ort_run.js. --ignore-scripts: the package
# bundles its CPU binaries; its install script only fetches the ones it does not (CUDA EP) from NuGet.
install_onnxruntime_node() {
  [ "$FUZZ" = 1 ] && return 0
  [ -e "$ROOT/node_modules/onnxruntime-node/package.json" ] && return 0
  if ! grep -Eq '"onnxruntime-node": *"1\.30\.0"' "$ROOT/package.json" 2>/dev/null; then
    echo "setup: $ROOT/package.json does not pin onnxruntime-node 1.30.0; not installing it" >&2
    return 0
  fi
  echo "setup: npm install (onnxruntime-node 1.30.0)"
  (cd "$ROOT" && npm install --ignore-scripts --no-audit --no-fund >/dev/null)
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  install_onnxruntime_node
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
install_onnxruntime_node
