#!/usr/bin/env bash
# Two builds of hwopt on one model, alternating (ABBA order) so that machine noise and drift hit
# both: for each round, `hwopt bench MODEL ARGS --max-seconds S` with each binary, then the
# per-round medians and the median of the per-round ratios B / A.
#
#   bash bench/ab_builds.sh A_BINARY B_BINARY ROUNDS MODEL [hwopt bench args...]
#
# e.g. a previous commit's build against the head's:
#   git worktree add /tmp/old <rev> && cmake -S /tmp/old -B /tmp/old/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
#     && cmake --build /tmp/old/build --target hwopt_cli
#   bash bench/ab_builds.sh /tmp/old/build/hwopt build/hwopt 6 models/real/ppocrv4_rec.onnx --dim p2o.DynamicDimension.1=320
# SECONDS_PER_RUN (default 4) sets each bench's time budget.
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
A=$1 B=$2 ROUNDS=$3 MODEL=$4
shift 4
S=${SECONDS_PER_RUN:-4}
median_of() { /usr/bin/python3 -c 'import sys, statistics; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
run() {
  local bin=$1
  shift
  "$bin" bench "$MODEL" "$@" --max-seconds "$S" 2>&1 | grep -m1 -o 'median [0-9.]* ms' | awk '{print $2}' || true
}
as=() bs=() ratios=()
for i in $(seq "$ROUNDS"); do
  if [ $((i % 2)) -eq 1 ]; then
    a=$(run "$A" "$@"); b=$(run "$B" "$@")
  else
    b=$(run "$B" "$@"); a=$(run "$A" "$@")
  fi
  if [ -z "$a" ] || [ -z "$b" ]; then echo "round $i: a bench failed (run it alone to see why)" >&2; exit 1; fi
  as+=("$a") bs+=("$b")
  ratios+=("$(/usr/bin/python3 -c "print('%.3f' % ($b / $a))")")
  echo "round $i: A $a ms, B $b ms, B/A ${ratios[-1]}"
done
echo "A median $(median_of "${as[@]}") ms, B median $(median_of "${bs[@]}") ms;" \
  "B/A median of rounds $(median_of "${ratios[@]}") (min $(printf '%s\n' "${ratios[@]}" | sort -n | head -1), max $(printf '%s\n' "${ratios[@]}" | sort -n | tail -1))"
