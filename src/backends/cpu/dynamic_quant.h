// The run-time half of dynamic INT8 (bind_dynamic_int8 in matmul_util.h): the largest |x| of an
// FP32 activation and its symmetric s8 quantization. They run before every dynamic product on
// activations as large as the product's work is small (BERT-base at batch 1: 10 M values per
// run), so they are vector kernels (AVX-512 chosen at run time; the build targets baseline
// x86-64) split over the intra-op threads.
#pragma once

#include <cstdint>

namespace hwopt::cpu {

/// max |x[i]| over n values; NaN values are skipped (an Inf is returned as such).
float abs_max(const float* x, int64_t n);

/// y[i] = clamp(round(x[i] * inv_scale), -127, 127), rounding to nearest with ties to even (as
/// std::nearbyint); NaN becomes -127.
void quantize_s8(const float* x, int64_t n, float inv_scale, int8_t* y);

}  // namespace hwopt::cpu
