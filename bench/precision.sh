#!/usr/bin/env bash
# Reduced precision against FP32, hwopt against itself, in interleaved pairs (hwopt bench --vs):
# INT8 (static, calibrated) and BF16 for ResNet-50, MobileNetV2 and BERT-base at one batch size.
#
#   bash bench/precision.sh [BATCH] [SECONDS]      (defaults 8 and 30 s per comparison)
#
# Needs build/hwopt, bench/models (bench/export_models.py) and /usr/bin/python3 with numpy and
# PIL. Calibration data: MobileNetV2 on crops of real photos (scripts/make_photos_npy.py, 32
# samples, entropy), ResNet-50 on 16 random images (MinMax: random weights, the ranges only need
# to be plausible for timing), BERT on 16 random token sequences. Prints one line per comparison
# with A = the reduced precision, B = FP32, and the ratio B/A = the speed-up with its 95 % CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BATCH=${1:-8}
SECONDS_PER=${2:-30}
HWOPT=build/hwopt
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
/usr/bin/python3 - "$DATA" <<'PY'
import os, sys
import numpy as np
d = sys.argv[1]
r = np.random.RandomState(0)
np.save(os.path.join(d, "images.npy"), r.rand(16, 3, 224, 224).astype(np.float32))
os.makedirs(os.path.join(d, "bert"))
np.save(os.path.join(d, "bert", "input_ids.npy"), r.randint(0, 30522, (16, 128)).astype(np.int64))
np.save(os.path.join(d, "bert", "attention_mask.npy"), np.ones((16, 128), np.int64))
PY
/usr/bin/python3 scripts/make_photos_npy.py "$DATA/photos" --limit 32 --cache "${TMPDIR:-/tmp}/hwopt_photo_cache" >/dev/null 2>&1

run() {  # model precision calibration-args...
  local model=$1 precision=$2
  shift 2
  local out
  out=$("$HWOPT" bench "bench/models/$model.onnx" --batch "$BATCH" --precision "$precision" "$@" --vs-precision fp32 \
        --max-seconds "$SECONDS_PER" -q 2>&1 | grep -E "A median|B median|B / A|NOISY" | tr -s ' ')
  echo "$model batch $BATCH $precision vs fp32:"
  echo "$out" | sed 's/^/  /'
}
run resnet50 int8 --calibration "$DATA/images.npy" --calibration-limit 16
run resnet50 bf16
run mobilenetv2 int8 --calibration "$DATA/photos/images.npy" --calibration-limit 32 --calibration-method entropy
run mobilenetv2 bf16
run bert_base int8 --calibration "$DATA/bert" --calibration-limit 16
run bert_base bf16
