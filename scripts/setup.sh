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
)
# `setup.sh --fuzz` (make fuzz, make fuzz-smoke): libFuzzer comes with clang's runtime libraries.
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
