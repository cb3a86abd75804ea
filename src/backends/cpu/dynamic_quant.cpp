#include "backends/cpu/dynamic_quant.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/own_util.h"

namespace hwopt::cpu {

namespace {

constexpr float kLevels = 127.f;

float abs_max_scalar(const float* x, int64_t n) {
  float m = 0.f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));  // NaN: comparison false, skipped
  return m;
}

void quantize_scalar(const float* x, int64_t n, float inv, int8_t* y) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] * inv;
    v = v >= -kLevels ? v : -kLevels;  // NaN goes to -127
    v = v <= kLevels ? v : kLevels;
    y[i] = static_cast<int8_t>(std::nearbyint(v));
  }
}

// GCC 12 warns that the intrinsics' internal _mm512_undefined_* operands are uninitialized when
// they are inlined into a function with a target attribute (a false positive of its headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

__attribute__((target("avx512f"))) float abs_max_avx512(const float* x, int64_t n) {
  __m512 m = _mm512_setzero_ps();
  int64_t i = 0;
  // _mm512_max_ps(a, b) returns b when either is NaN: a NaN value leaves the maximum as it was.
  for (; i + 16 <= n; i += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m);
  return std::max(_mm512_reduce_max_ps(m), abs_max_scalar(x + i, n - i));
}

__attribute__((target("avx512f"))) void quantize_avx512(const float* x, int64_t n, float inv, int8_t* y) {
  const __m512 s = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-kLevels), hi = _mm512_set1_ps(kLevels);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), s);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);  // max(NaN, lo) = lo
    // cvtps rounds in the current mode (nearest, ties to even), as std::nearbyint does.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
  }
  quantize_scalar(x + i, n - i, inv, y + i);
}

#pragma GCC diagnostic pop

}  // namespace

float abs_max(const float* x, int64_t n) {
  const bool wide = own::use_avx512();
  std::vector<float> part(static_cast<size_t>(std::max(1, omp_get_max_threads())), 0.f);
  own::parallel_range(n, n, [&](int64_t b, int64_t e) {
    part[static_cast<size_t>(omp_get_thread_num())] = wide ? abs_max_avx512(x + b, e - b) : abs_max_scalar(x + b, e - b);
  });
  return *std::max_element(part.begin(), part.end());
}

void quantize_s8(const float* x, int64_t n, float inv_scale, int8_t* y) {
  const bool wide = own::use_avx512();
  own::parallel_range(n, n, [&](int64_t b, int64_t e) {
    if (wide)
      quantize_avx512(x + b, e - b, inv_scale, y + b);
    else
      quantize_scalar(x + b, e - b, inv_scale, y + b);
  });
}

}  // namespace hwopt::cpu
