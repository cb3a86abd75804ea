# The two commands of the README:
#   make run   set up, build, and run hwopt on a bundled real model
#   make test  set up, build (Release and ASan/UBSan), and run every test suite
.PHONY: all setup build build-asan run test test-release test-asan conformance clean

JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_ASAN ?= build-asan
MODEL ?= models/real/nsfwjs_mobilenet_v2.onnx
MODEL_INPUT ?= input=tests/e2e/data/nsfwjs_mobilenet_v2/input_input.npy

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

$(BUILD_ASAN)/build.ninja: | setup
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHWOPT_SANITIZE=ON

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: setup $(BUILD_ASAN)/build.ninja
	cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	$(BUILD)/hwopt run $(MODEL) --input $(MODEL_INPUT) --warmup 1 --repeat 3 --output-dir out/run

test-release: build
	cd $(BUILD) && ctest --output-on-failure

test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure

test: test-release test-asan
	@echo "make test: all suites passed (Release and ASan/UBSan)"

conformance: build
	$(BUILD)/hwopt_conformance --skip-list tests/conformance/skip_list.txt

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) out
