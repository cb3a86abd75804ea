#include "backends/cpu/quantize_image.h"

#include <immintrin.h>

#include "backends/cpu/own_util.h"

namespace hwopt::cpu {

namespace {

// GCC 12 warns that the intrinsics' internal _mm512_undefined_* operands are uninitialized when
// they are inlined into a function with a target attribute (a false positive of its headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define HWOPT_VBMI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi")))

// 16 values of one plane scaled, clamped to the integer range and rounded (nearest, ties to
// even), as bytes.
HWOPT_VBMI inline __m128i quantize16(const float* p, __mmask16 m, __m512 factor, __m512 lo, __m512 hi) {
  const __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, p), factor), lo), hi);
  return _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v));  // in range: the narrowing keeps the bits
}

HWOPT_VBMI void rows_vbmi(const float* src, int64_t height, int64_t width, float factor, bool is_signed,
                          uint8_t* dst, int64_t r0, int64_t r1) {
  const __m512 f = _mm512_set1_ps(factor), lo = _mm512_set1_ps(is_signed ? -128.f : 0.f),
               hi = _mm512_set1_ps(is_signed ? 127.f : 255.f);
  // Byte j of the 48 written is channel j % 3 of pixel j / 3: lane (j % 3), byte j / 3.
  alignas(64) uint8_t idx[64];
  for (int j = 0; j < 64; ++j) idx[j] = static_cast<uint8_t>(j < 48 ? (j % 3) * 16 + j / 3 : 0);
  const __m512i perm = _mm512_load_si512(idx);
  const int64_t plane = height * width;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / height, h = r % height;
    const float* s = src + n * 3 * plane + h * width;
    uint8_t* d = dst + r * width * 3;
    for (int64_t w = 0; w < width; w += 16) {
      const int64_t k = width - w < 16 ? width - w : 16;
      const __mmask16 m = static_cast<__mmask16>((1u << k) - 1u);
      __m512i x = _mm512_castsi128_si512(quantize16(s + w, m, f, lo, hi));
      x = _mm512_inserti32x4(x, quantize16(s + plane + w, m, f, lo, hi), 1);
      x = _mm512_inserti32x4(x, quantize16(s + 2 * plane + w, m, f, lo, hi), 2);
      const __mmask64 out = (__mmask64{1} << (3 * k)) - 1;
      _mm512_mask_storeu_epi8(d + 3 * w, out, _mm512_permutexvar_epi8(perm, x));
    }
  }
}

#pragma GCC diagnostic pop

}  // namespace

bool quantize_image3_available() { return own::use_avx512_vbmi(); }

void quantize_image3(const float* src, int64_t batch, int64_t height, int64_t width, float factor, bool is_signed,
                     void* dst) {
  own::parallel_range(batch * height, batch * height * width * 3, [&](int64_t b, int64_t e) {
    rows_vbmi(src, height, width, factor, is_signed, static_cast<uint8_t*>(dst), b, e);
  });
}

}  // namespace hwopt::cpu
