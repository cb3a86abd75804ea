#!/usr/bin/env bash
# Runs hwopt's libFuzzer targets (built by `make fuzz-build`) for SECONDS each; fails on the
# first crash, sanitizer report, timeout or out-of-memory. Usage:
#   scripts/fuzz.sh BUILD_DIR SECONDS [model|npy ...]
# Seeds: the ONNX conformance models (up to 8 KB) and the .npy files of tests/e2e/data, copied
# into BUILD_DIR/fuzz-seeds at each run, plus the committed regression inputs in
# tests/fuzz/corpus/<target>. What the fuzzer learns stays in BUILD_DIR/fuzz-corpus/<target>;
# a crashing input is written to BUILD_DIR/fuzz-artifacts/<target>/ (reproduce it with
# BUILD_DIR/hwopt_fuzz_<target> FILE, then add it to tests/fuzz/corpus/<target>/).
set -euo pipefail

build=${1:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [target ...]}
seconds=${2:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [target ...]}
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(model npy)
root=$(cd "$(dirname "$0")/.." && pwd)
testdata=/usr/share/libonnx-testdata/data

make_seeds() {
  local target=$1 dir=$build/fuzz-seeds/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  case $target in
    model)
      # Name each copy after its test directory: every conformance model is called model.onnx.
      find "$testdata" -name model.onnx -size -8k | while read -r f; do
        rel=${f#"$testdata"/}
        cp "$f" "$dir/${rel//\//_}"
      done ;;
    npy)
      find "$root/tests/e2e/data" -name '*.npy' -size -64k -exec cp {} "$dir/" \; ;;
  esac
}

# Limits: a single input may take 10 s and the process 2 GiB; allocations over that are reported
# as crashes (hwopt must refuse them with a Status first: the fuzz target caps its sessions'
# memory at 256 MiB). Inputs grow up to max_len bytes.
declare -A max_len=([model]=16384 [npy]=4096)
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "${targets[@]}"; do
  bin=$build/hwopt_fuzz_$t
  [ -x "$bin" ] || { echo "fuzz: $bin is missing (make fuzz-build)" >&2; exit 1; }
  make_seeds "$t"
  mkdir -p "$build/fuzz-corpus/$t" "$build/fuzz-artifacts/$t"
  seeds=("$build/fuzz-seeds/$t")
  [ -d "$root/tests/fuzz/corpus/$t" ] && seeds+=("$root/tests/fuzz/corpus/$t")
  echo "fuzz: $t for ${seconds} s (seeds: ${seeds[*]})"
  log=$build/fuzz-artifacts/$t.log
  # -timeout: a hang detector, not a speed limit. A valid model can take 20 s under ASan within
  # the memory cap (a cubic 4-D Resize by 9x: 256 taps per output element), so allow 60 s.
  if ! "$bin" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -max_len="${max_len[$t]}" -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t/" \
      "$build/fuzz-corpus/$t" "${seeds[@]}" >"$log" 2>&1; then
    tail -n 80 "$log" >&2
    echo "fuzz: $t FAILED (log $log); the input is in $build/fuzz-artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' "$log" || true
  echo "fuzz: $t clean (log $log)"
done
