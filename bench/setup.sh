#!/usr/bin/env bash
# Installs what the peer benchmark needs beyond the library's own build dependencies
# (scripts/setup.sh): Debian's PyTorch and torchvision (to export the models), python3-onnx (to
# check them), oneDNN headers (bench/matmul_peak.cpp) and onnxruntime-node (ONNX Runtime, through
# npm). Idempotent: quiet and quick when everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(python3-torch python3-torchvision python3-onnx python3-numpy libdnnl-dev nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # nodesource's nodejs bundles npm: do not ask apt for Debian's npm next to it.
    if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
    if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/setup.sh: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bench/setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node ships its native library inside the npm tarball; --ignore-scripts skips the
# post-install step that would try to download CUDA provider libraries.
if [ ! -f "$ROOT/node_modules/onnxruntime-node/package.json" ]; then
  echo "bench/setup.sh: installing onnxruntime-node (npm install --ignore-scripts in $ROOT)"
  (cd "$ROOT" && npm install --ignore-scripts --no-audit --no-fund)
fi
