# The two commands of the README:
#   make run   set up, build, and run hwopt on a bundled real model
#   make test  set up, build (Release, ASan/UBSan, TSan), and run every test suite
# and for hostile inputs (docs/security.md):
#   make fuzz-smoke                  build the libFuzzer targets (clang) and run each for 60 s
#   make fuzz FUZZ_SECONDS=3600      the same, longer
.PHONY: all setup build build-asan build-tsan run test test-release test-asan test-tsan conformance bench-check clean \
        fuzz-setup fuzz-build fuzz fuzz-smoke

JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 600
# The TSan build compiles only the kernels of the models its thread-safety tests run
# (models/real/fmnist_cnn.onnx; MatMul, Relu, Reshape and Add for the inter-op test), to keep CI
# time small.
TSAN_KERNELS ?= ^(ref_activation|ref_binary|ref_conv|ref_fused|ref_gemm|ref_matmul|ref_pool|ref_reshape|conv|eltwise|gemm|own_shape|pool)\.cpp$$
MODEL ?= models/real/nsfwjs_mobilenet_v2.onnx
MODEL_INPUT ?= input=tests/e2e/data/nsfwjs_mobilenet_v2/input_input.npy

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

$(BUILD_ASAN)/build.ninja: | setup
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHWOPT_SANITIZE=ON

$(BUILD_TSAN)/build.ninja: | setup
	cmake -S . -B $(BUILD_TSAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHWOPT_TSAN=ON '-DHWOPT_KERNEL_FILTER=$(TSAN_KERNELS)'

# libFuzzer needs clang; the library is instrumented with ASan+UBSan and fuzzer coverage.
$(BUILD_FUZZ)/build.ninja: | fuzz-setup
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHWOPT_FUZZ=ON \
	    -DHWOPT_BUILD_TESTS=OFF

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: setup $(BUILD_ASAN)/build.ninja
	cmake --build $(BUILD_ASAN) -j $(JOBS)

build-tsan: setup $(BUILD_TSAN)/build.ninja
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target hwopt_thread_tests

fuzz-setup: setup
	@scripts/setup.sh --fuzz

fuzz-build: fuzz-setup $(BUILD_FUZZ)/build.ninja
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target hwopt_fuzz_model hwopt_fuzz_npy

fuzz: fuzz-build
	scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	scripts/fuzz.sh $(BUILD_FUZZ) 60

# make run: tune the bundled MobileNetV2 for this machine (batch preset: throughput, INT8/BF16
# calibrated on 6 real photos and validated on 13 others, 1 % top-1 agreement budget), write the
# artifact and report to out/tune, then run the tuned artifact once.
TUNE_BUDGET ?= 6m
run: build
	@mkdir -p out/data
	/usr/bin/python3 scripts/make_photos_npy.py out/data/calibration --limit 60 --cache out/data/.cache >/dev/null
	/usr/bin/python3 scripts/make_photos_npy.py out/data/validation --skip 60 --cache out/data/.cache >/dev/null
	$(BUILD)/hwopt tune $(MODEL) --preset batch --batch-range 1..32 --calibration out/data/calibration/images.npy \
	    --validation out/data/validation/images.npy --time-budget $(TUNE_BUDGET) -o out/tune; rc=$$?; \
	    [ $$rc -le 1 ] || exit $$rc
	$(BUILD)/hwopt run out/tune --input $(MODEL_INPUT) --warmup 1 --repeat 3 --output-dir out/run
	@echo "make run: the tuning report is out/tune/report.html (and report.md); the artifact runs with: $(BUILD)/hwopt run out/tune"

test-release: build
	cd $(BUILD) && ctest --output-on-failure

test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --output-on-failure

# allocator_may_return_null: hwopt turns a failed allocation into an out_of_memory Status, and the
# malformed suite checks that with allocations larger than any machine.
test-tsan: build-tsan
	cd $(BUILD_TSAN) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	    ctest --output-on-failure

test: test-release test-asan test-tsan
	@echo "make test: all suites passed (Release, ASan/UBSan and TSan)"

# Timing checks (need a quiet machine, so not part of `make test`): the bench engine against an
# independent timed loop on the bundled MobileNetV2.
bench-check: build
	$(BUILD)/bench_engine_check

conformance: build
	$(BUILD)/hwopt_conformance --skip-list tests/conformance/skip_list.txt

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ) out
