// How the CPU backend's own INT8 convolution kernels (dwconv_int8) turn an int32
// accumulator into their output, with the arithmetic of oneDNN's INT8 convolution: real = acc ×
// src_scale × w_scale[c] + bias[c], the activation's clamp, divided by the destination's scale,
// rounded to nearest even and saturated (u8, s8), or kept as real (FP32).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace hwopt::cpu {

enum class Int8Dst { u8, s8, f32 };

struct Int8Output {
  Int8Dst dst = Int8Dst::u8;
  /// Per channel, padded to a multiple of 16: clamp(acc × scale[c] + shift[c], lo, hi) is the
  /// output in the destination's units (scale and shift include its scale; [lo, hi] is the
  /// activation's clamp there, intersected with the integer range).
  std::vector<float> scale, shift;
  float lo = 0.f, hi = 0.f;

  /// `channels` channels (padded to `padded`) with per-channel weight scales, the source's scale,
  /// the bias (nullptr: none), the activation's clamp on real values (-inf/inf: none) and the
  /// destination's scale (ignored for FP32).
  void prepare(Int8Dst d, int64_t channels, int64_t padded, const float* w_scales, float src_scale,
               const float* bias, float act_lo, float act_hi, float dst_scale) {
    dst = d;
    const float inv = d == Int8Dst::f32 ? 1.f : 1.f / dst_scale;
    scale.assign(static_cast<size_t>(padded), 0.f);
    shift.assign(static_cast<size_t>(padded), 0.f);
    for (int64_t c = 0; c < channels; ++c) {
      scale[static_cast<size_t>(c)] = src_scale * w_scales[c] * inv;
      shift[static_cast<size_t>(c)] = bias ? bias[c] * inv : 0.f;
    }
    lo = act_lo * inv;  // inv > 0: the clamp's order is kept
    hi = act_hi * inv;
    if (d == Int8Dst::u8) lo = std::max(lo, 0.f), hi = std::min(hi, 255.f);
    if (d == Int8Dst::s8) lo = std::max(lo, -128.f), hi = std::min(hi, 127.f);
    hi = std::max(hi, lo);  // in range after the clamp: the conversion to integers cannot overflow
  }

  /// The scalar kernels' output of channel c at element `offset` of dst.
  void store(int32_t acc, int64_t c, void* out, int64_t offset) const {
    const size_t k = static_cast<size_t>(c);
    const float v = std::min(std::max(std::fma(static_cast<float>(acc), scale[k], shift[k]), lo), hi);
    if (dst == Int8Dst::f32)
      static_cast<float*>(out)[offset] = v;
    else if (dst == Int8Dst::u8)
      static_cast<uint8_t*>(out)[offset] = static_cast<uint8_t>(std::nearbyint(v));
    else
      static_cast<int8_t*>(out)[offset] = static_cast<int8_t>(std::nearbyint(v));
  }
};

// GCC 12 warns that the intrinsics' internal _mm512_undefined_* operands are uninitialized when
// they are inlined into a function with a target attribute (a false positive of its headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

/// 16 channels' outputs from their accumulators; scale/shift are the channels' (loaded by the
/// caller once per block), lo/hi the bounds broadcast. TAIL: only the channels in mask m.
template <bool TAIL>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void store16(
    Int8Dst d, __m512 lo, __m512 hi, __m512i acc, __m512 scale, __m512 shift, void* out, int64_t offset,
    __mmask16 m) {
  const __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), scale, shift), lo), hi);
  if (d == Int8Dst::f32) {
    float* o = static_cast<float*>(out) + offset;
    if (TAIL)
      _mm512_mask_storeu_ps(o, m, v);
    else
      _mm512_storeu_ps(o, v);
    return;
  }
  // In range after the clamp: the truncating narrowing keeps the integer's bits (u8 or s8).
  const __m128i b = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v));  // nearest, ties to even
  uint8_t* o = static_cast<uint8_t*>(out) + offset;
  if (TAIL)
    _mm_mask_storeu_epi8(o, m, b);
  else
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), b);
}

#pragma GCC diagnostic pop

}  // namespace hwopt::cpu
