#include "backends/cpu/pointwise_int8.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/own_util.h"

namespace hwopt::cpu {

bool PointwiseInt8::vectorized() const {
  return in_channels > 0 && in_channels % 4 == 0 && out_channels > 0 && own::use_avx512_vnni() && !packed.empty();
}

void PointwiseInt8::prepare(const int8_t* w, const float* w_scales, float src_scale, const float* bias_values,
                            float act_lo, float act_hi, float dst_scale) {
  const int64_t K = in_channels, M = out_channels, Mp = (M + 15) / 16 * 16;
  weights.assign(w, w + K * M);
  out.prepare(dst, M, Mp, w_scales, src_scale, bias_values, act_lo, act_hi, dst_scale);
  shift_u8 = out.shift;
  for (int64_t m = 0; m < M; ++m) {
    int32_t sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += w[m * K + k];
    shift_u8[static_cast<size_t>(m)] -= 128.f * static_cast<float>(sum) * out.scale[static_cast<size_t>(m)];
  }
  // The packs' saturation is the clamp when the clamp is the integer range and no value can
  // leave int32 on the way (|acc| < K x 255 x 128).
  const bool full_range = dst == Int8Dst::u8 ? out.lo == 0.f && out.hi == 255.f : out.lo == -128.f && out.hi == 127.f;
  double largest = 0;
  for (int64_t m = 0; m < M; ++m) {
    const size_t c = static_cast<size_t>(m);
    largest = std::max(largest, static_cast<double>(K) * 255 * 128 * std::fabs(out.scale[c]) +
                                    std::max(std::fabs(out.shift[c]), std::fabs(shift_u8[c])));
  }
  clamp_by_packing = full_range && largest < 2e9;
  packed.clear();
  if (K % 4 != 0) return;
  packed.assign(static_cast<size_t>(K * Mp), 0);  // channels past M: zero weights
  for (int64_t g = 0; g < K / 4; ++g)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = 0; j < 4; ++j) packed[static_cast<size_t>((g * Mp + m) * 4 + j)] = w[m * K + g * 4 + j];
}

void pointwise_int8_scalar(const PointwiseInt8& p, const void* src, void* dst, int64_t pixels) {
  const int64_t K = p.in_channels, M = p.out_channels;
  for (int64_t i = 0; i < pixels; ++i)
    for (int64_t m = 0; m < M; ++m) {
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const int32_t x = p.src_signed ? static_cast<const int8_t*>(src)[i * K + k]
                                       : static_cast<const uint8_t*>(src)[i * K + k];
        acc += x * p.weights[static_cast<size_t>(m * K + k)];
      }
      p.out.store(acc, m, dst, i * M + m);
    }
}

namespace {

// GCC 12 warns that the intrinsics' internal _mm512_undefined_* operands are uninitialized when
// they are inlined into a function with a target attribute (a false positive of its headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define HWOPT_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

// Kernel variants: source s8 (else u8), destination u8 (else s8), the clamp applied (else the
// packs' saturation is it).
struct Variant {
  bool sgn, u8, clamp;
};

// P pixels x NB blocks of 16 output channels from channel cb, of which `valid` are real (the
// last block may be partial: its weights are zero, its outputs not stored): the weights of a
// group of 4 input channels are loaded once and used by every pixel, each pixel's 4 source bytes
// broadcast once. The output stage: one multiply-add per value, the clamp unless the packs'
// saturation is it, and two levels of saturating packs to bytes, reordered by
// one permute.
template <int P, int NB, bool SGN, bool U8, bool CLAMP>
HWOPT_VNNI inline void tile(const PointwiseInt8& p, const uint8_t* src, uint8_t* dst, int64_t cb, int64_t valid) {
  const int64_t K = p.in_channels, M = p.out_channels, Mp = (M + 15) / 16 * 16;
  __m512i acc[P][NB];
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_si512();
  const int8_t* w = p.packed.data() + cb * 4;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t g = 0; g < K / 4; ++g) {
    __m512i wv[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) wv[j] = _mm512_loadu_si512(w + g * Mp * 4 + j * 64);
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      int32_t x;
      std::memcpy(&x, src + i * K + g * 4, 4);
      __m512i b = _mm512_set1_epi32(x);
      if (SGN) b = _mm512_xor_si512(b, flip);  // s8 -> u8 (x + 128); shift_u8 takes it out
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], b, wv[j]);
    }
  }
  const float* shift = (SGN ? p.shift_u8 : p.out.shift).data() + cb;
  const float* scale = p.out.scale.data() + cb;
  const __m512 lo = _mm512_set1_ps(p.out.lo), hi = _mm512_set1_ps(p.out.hi);
  // After the packs, dword 4 L + b holds block b's channels 4 L .. 4 L + 3: dword j of the output
  // (block j / 4, channels 4 (j % 4) ..) is dword 4 (j % 4) + j / 4.
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  const bool partial = valid < 16 * NB;
  const __mmask64 store_mask = valid >= 64 ? ~__mmask64{0} : (__mmask64{1} << valid) - 1;
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i) {
    __m512i q[4];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][j]), _mm512_loadu_ps(scale + j * 16),
                                 _mm512_loadu_ps(shift + j * 16));
      if (CLAMP) v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
      q[j] = _mm512_cvtps_epi32(v);  // nearest, ties to even
    }
#pragma GCC unroll 4
    for (int j = NB; j < 4; ++j) q[j] = q[NB - 1];  // fills the packs; not stored
    const __m512i a = _mm512_packs_epi32(q[0], q[1]), b = _mm512_packs_epi32(q[2], q[3]);
    const __m512i bytes = _mm512_permutexvar_epi32(order, U8 ? _mm512_packus_epi16(a, b) : _mm512_packs_epi16(a, b));
    uint8_t* o = dst + i * M + cb;
    if (partial || NB == 3)
      _mm512_mask_storeu_epi8(o, store_mask, bytes);
    else if constexpr (NB == 4)
      _mm512_storeu_si512(o, bytes);
    else if constexpr (NB == 2)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), _mm512_castsi512_si256(bytes));
    else
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm512_castsi512_si128(bytes));
  }
}

template <int P, bool SGN, bool U8, bool CLAMP>
HWOPT_VNNI void pixels_tile(const PointwiseInt8& p, const uint8_t* src, uint8_t* dst) {
  const int64_t M = p.out_channels, Mp = (M + 15) / 16 * 16;
  int64_t cb = 0;
  for (; cb + 64 <= Mp; cb += 64) tile<P, 4, SGN, U8, CLAMP>(p, src, dst, cb, std::min<int64_t>(64, M - cb));
  const int64_t valid = M - cb;
  switch ((Mp - cb) / 16) {
    case 3:
      tile<P, 3, SGN, U8, CLAMP>(p, src, dst, cb, valid);
      break;
    case 2:
      tile<P, 2, SGN, U8, CLAMP>(p, src, dst, cb, valid);
      break;
    case 1:
      tile<P, 1, SGN, U8, CLAMP>(p, src, dst, cb, valid);
      break;
    default:
      break;
  }
}

template <bool SGN, bool U8, bool CLAMP>
HWOPT_VNNI void vectorized(const PointwiseInt8& p, const uint8_t* src, uint8_t* dst, int64_t pixels) {
  constexpr int P = 4;
  const int64_t K = p.in_channels, M = p.out_channels;
  int64_t i = 0;
  for (; i + P <= pixels; i += P)
    pixels_tile<P, SGN, U8, CLAMP>(p, src + i * K, dst + i * M);
  for (; i < pixels; ++i) pixels_tile<1, SGN, U8, CLAMP>(p, src + i * K, dst + i * M);
}

using KernelFn = void (*)(const PointwiseInt8&, const uint8_t*, uint8_t*, int64_t);

// The instantiation for a variant: the flags picked one at a time.
template <bool... B>
KernelFn pick(const Variant& v) {
  constexpr size_t n = sizeof...(B);
  if constexpr (n == 3) {
    return vectorized<B...>;
  } else {
    const bool flags[] = {v.sgn, v.u8, v.clamp};
    return flags[n] ? pick<B..., true>(v) : pick<B..., false>(v);
  }
}

#pragma GCC diagnostic pop

}  // namespace

void pointwise_int8(const PointwiseInt8& p, const void* src, void* dst, int64_t pixels) {
  if (!p.vectorized()) return pointwise_int8_scalar(p, src, dst, pixels);
  const Variant v{p.src_signed, p.out.dst == Int8Dst::u8, !p.clamp_by_packing};
  pick<>(v)(p, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), pixels);
}

}  // namespace hwopt::cpu
