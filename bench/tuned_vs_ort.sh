#!/usr/bin/env bash
# A tuned artifact against ONNX Runtime 1.30 FP32 on the same model (issue 7's measure): rounds
# alternating ORT at its batch (2 intra-op threads, graph optimization 'all') and
# `hwopt bench ARTIFACT` at the artifact's batch, throughput in samples/s, the ratio per round.
#
#   bash bench/tuned_vs_ort.sh ARTIFACT_DIR MODEL.onnx [ORT_BATCH] [HWOPT_BATCH] [ROUNDS]
#       (defaults: ORT batch 8, hwopt batch = the batch the artifact was tuned for, 3 rounds)
#
# Needs build/hwopt, node with onnxruntime-node (npm install --ignore-scripts) and /usr/bin/python3.
# Machine noise moves either tool by up to 1.5x between runs: compare the ratios within a round.
set -euo pipefail
cd "$(dirname "$0")/.."
ART=${1:?artifact directory}
MODEL=${2:?model file}
ORT_BATCH=${3:-8}
HW_BATCH=${4:-$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['config']['batch'])" "$ART/plan.json")}
ROUNDS=${5:-3}
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  first=ort
  [ $((r % 2)) -eq 0 ] && first=hwopt
  for tool in $first $([ "$first" = ort ] && echo hwopt || echo ort); do
    if [ "$tool" = ort ]; then
      ms=$(node bench/ort_bench.js "$MODEL" --batch "$ORT_BATCH" --threads 2 --warmup 3 --runs 20 2>/dev/null |
           /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['median_ms'])")
      ort_tp=$(/usr/bin/python3 -c "print($ORT_BATCH * 1000 / $ms)")
    else
      hw_tp=$(build/hwopt bench "$ART" --batch "$HW_BATCH" --max-seconds 5 --json -q 2>/dev/null |
              /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d['sweep']['points'][0]['throughput'])")
    fi
  done
  ratio=$(/usr/bin/python3 -c "print(f'{$hw_tp / $ort_tp:.2f}')")
  ratios+=("$ratio")
  printf 'round %d: ONNX Runtime FP32 batch %s %.1f samples/s, hwopt artifact batch %s %.1f samples/s: %sx\n' \
    "$r" "$ORT_BATCH" "$ort_tp" "$HW_BATCH" "$hw_tp" "$ratio"
done
echo "ratios: ${ratios[*]}"
