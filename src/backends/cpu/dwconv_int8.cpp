#include "backends/cpu/dwconv_int8.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "backends/cpu/int8_output.h"
#include "backends/cpu/own_util.h"

namespace hwopt::cpu {

void DwConvInt8::prepare(const int8_t* w, const float* w_scales, float src_scale, const float* bias_values,
                         float act_lo, float act_hi, float dst_scale) {
  channels_padded = (channels + 15) / 16 * 16;
  weights.assign(static_cast<size_t>(9 * channels_padded), 0);
  column_weights.assign(static_cast<size_t>(channels_padded / 16 * 3 * 64), 0);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t t = 0; t < 9; ++t)  // block c / 16, column kx = t % 3: channel c % 16's byte for row t / 3
      column_weights[static_cast<size_t>(((c / 16) * 3 + t % 3) * 64 + (c % 16) * 4 + t / 3)] = w[c * 9 + t];
    for (int64_t t = 0; t < 9; ++t)  // the low 16 bits (see load16), the upper ones 0
      weights[static_cast<size_t>(t * channels_padded + c)] = static_cast<uint16_t>(static_cast<int16_t>(w[c * 9 + t]));
  }
  out.prepare(dst, channels, channels_padded, w_scales, src_scale, bias_values, act_lo, act_hi, dst_scale);
}

namespace {

// Output rows r0 .. r1 - 1 over the batch (row r is image r / out_h's row r % out_h); `src` holds
// the source from its row src_row0 on (rows counted over the batch too).
template <typename S>
void scalar_rows(const DwConvInt8& p, const S* src, int64_t src_row0, void* dst, int64_t r0, int64_t r1) {
  const int64_t C = p.channels, Cp = p.channels_padded;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / p.out_h, oy = r % p.out_h;
    for (int64_t ox = 0; ox < p.out_w; ++ox) {
      const int64_t o = (r * p.out_w + ox) * C;
      for (int64_t c = 0; c < C; ++c) {
        int32_t acc = 0;
        for (int64_t ky = 0; ky < 3; ++ky) {
          const int64_t iy = oy * p.stride_h - p.pad_top + ky;
          if (iy < 0 || iy >= p.in_h) continue;
          for (int64_t kx = 0; kx < 3; ++kx) {
            const int64_t ix = ox * p.stride_w - p.pad_left + kx;
            if (ix < 0 || ix >= p.in_w) continue;
            acc += static_cast<int32_t>(src[((n * p.in_h + iy - src_row0) * p.in_w + ix) * C + c]) *
                   static_cast<int16_t>(p.weights[static_cast<size_t>((ky * 3 + kx) * Cp + c)]);
          }
        }
        p.out.store(acc, c, dst, o + c);
      }
    }
  }
}

// GCC 12 warns that the intrinsics' internal _mm512_undefined_* operands are uninitialized when
// they are inlined into a function with a target attribute (a false positive of its headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define HWOPT_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

// 16 channels of one pixel widened to 32-bit lanes (the upper 16 bits zero for u8, the sign for
// s8). vpdpwssd multiplies the 16-bit halves pairwise and adds both products to the accumulator;
// the weights' upper halves are 0, so only the pixel's value times the weight is added: one
// instruction per tap and 16 channels.
template <bool SGN, bool TAIL>
HWOPT_VNNI inline __m512i load16(const uint8_t* p, __mmask16 m) {
  const __m128i b = TAIL ? _mm_maskz_loadu_epi8(m, p) : _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return SGN ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
}

// The output bounds, broadcast once per call.
struct Epilogue {
  __m512 lo, hi;
};

// Both vectorized kernels: input column q of a strip (16 channels in x) multiplied with the tap
// weights w0..w2 and added to every output j that reads it (tap kx = q - j * SW): vpdpbusd for
// the column kernel's bytes (BYTES), vpdpwssd for the widening kernel's 32-bit lanes. Inlined with
// q known, so only the outputs that read column q remain.
template <int SW, int NB, bool BYTES>
HWOPT_VNNI inline void add_column(__m512i (&acc)[NB], int q, __m512i x, __m512i w0, __m512i w1, __m512i w2) {
#pragma GCC unroll 16
  for (int j = 0; j < NB; ++j) {
    const int kx = q - j * SW;
    if (kx == 0) acc[j] = BYTES ? _mm512_dpbusd_epi32(acc[j], x, w0) : _mm512_dpwssd_epi32(acc[j], x, w0);
    if (kx == 1) acc[j] = BYTES ? _mm512_dpbusd_epi32(acc[j], x, w1) : _mm512_dpwssd_epi32(acc[j], x, w1);
    if (kx == 2) acc[j] = BYTES ? _mm512_dpbusd_epi32(acc[j], x, w2) : _mm512_dpwssd_epi32(acc[j], x, w2);
  }
}

// Both vectorized kernels: a strip's NB outputs of channel block cb from their accumulators.
template <int NB, bool TAIL>
HWOPT_VNNI inline void store_strip(const DwConvInt8& p, const Epilogue& e, const __m512i (&acc)[NB], int64_t cb,
                                   void* dst, int64_t out_offset, __mmask16 m) {
  const __m512 scale = _mm512_loadu_ps(p.out.scale.data() + cb), shift = _mm512_loadu_ps(p.out.shift.data() + cb);
#pragma GCC unroll 16
  for (int j = 0; j < NB; ++j)
    store16<TAIL>(p.dst, e.lo, e.hi, acc[j], scale, shift, dst, out_offset + j * p.channels + cb, m);
}

// NB consecutive outputs of one row starting at input column ix0: each input pixel of the three
// rows is widened once and used by every output whose window covers it; columns outside the
// image (the padding) are skipped. rows[ky] is the input row's first pixel, null for a row in
// the padding.
template <int SW, int NB, bool SGN, bool TAIL>
HWOPT_VNNI inline void strip(const DwConvInt8& p, const Epilogue& e, const uint8_t* const rows[3], int64_t ix0,
                             int64_t cb, void* dst, int64_t out_offset, __mmask16 m) {
  const int64_t C = p.channels, Cp = p.channels_padded;
  constexpr int Q = (NB - 1) * SW + 3;  // input columns the strip reads
  const int64_t q_lo = std::max<int64_t>(0, -ix0), q_hi = std::min<int64_t>(Q, p.in_w - ix0);
  __m512i acc[NB];
#pragma GCC unroll 16
  for (int j = 0; j < NB; ++j) acc[j] = _mm512_setzero_si512();
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    if (!rows[ky]) continue;
    const __m512i w0 = _mm512_loadu_si512(p.weights.data() + (ky * 3 + 0) * Cp + cb);
    const __m512i w1 = _mm512_loadu_si512(p.weights.data() + (ky * 3 + 1) * Cp + cb);
    const __m512i w2 = _mm512_loadu_si512(p.weights.data() + (ky * 3 + 2) * Cp + cb);
    const uint8_t* row = rows[ky] + cb;
#pragma GCC unroll 64
    for (int q = 0; q < Q; ++q) {
      if (q < q_lo || q >= q_hi) continue;
      add_column<SW, NB, false>(acc, q, load16<SGN, TAIL>(row + (ix0 + q) * C, m), w0, w1, w2);
    }
  }
  store_strip<NB, TAIL>(p, e, acc, cb, dst, out_offset, m);
}

// Outputs ox .. ox + NB - 1 of a row, every channel block.
template <int SW, int NB, bool SGN>
HWOPT_VNNI inline void strip_all_channels(const DwConvInt8& p, const Epilogue& e, const uint8_t* const rows[3],
                                          int64_t ox, void* dst, int64_t out_row) {
  const int64_t C = p.channels, full = C / 16 * 16;
  const int64_t ix0 = ox * SW - p.pad_left, o = out_row + ox * C;
  for (int64_t cb = 0; cb < full; cb += 16) strip<SW, NB, SGN, false>(p, e, rows, ix0, cb, dst, o, 0xFFFF);
  if (full < C)
    strip<SW, NB, SGN, true>(p, e, rows, ix0, full, dst, o, static_cast<__mmask16>((1u << (C - full)) - 1u));
}

template <int SW, int NB, bool SGN>
HWOPT_VNNI void widening_strips(const DwConvInt8& p, const uint8_t* const rows[3], int64_t ox, void* dst,
                                int64_t out_row) {
  strip_all_channels<SW, NB, SGN>(p, Epilogue{_mm512_set1_ps(p.out.lo), _mm512_set1_ps(p.out.hi)}, rows, ox, dst,
                                  out_row);
}

// The u8 source path on CPUs with AVX-512 VBMI: the three rows' bytes of one input column are
// interleaved per channel ([row 0, row 1, row 2, 0], one vpermb over three 16-byte loads) and one
// vpdpbusd multiplies them with the column's three weights: a column built once serves every
// output of the strip that reads it, so an output costs 3 multiply-add instructions instead of 9.
#define HWOPT_VBMI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi")))

template <bool TAIL>
HWOPT_VBMI inline __m128i load_row(const uint8_t* row, int64_t offset, __mmask16 m) {
  if (!row) return _mm_setzero_si128();
  return TAIL ? _mm_maskz_loadu_epi8(m, row + offset) : _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + offset));
}

template <int SW, int NB, bool TAIL>
HWOPT_VBMI inline void strip_vbmi(const DwConvInt8& p, const Epilogue& e, const uint8_t* const rows[3], int64_t ix0,
                                  int64_t cb, void* dst, int64_t out_offset, __mmask16 m, __m512i perm) {
  const int64_t C = p.channels;
  constexpr int Q = (NB - 1) * SW + 3;
  const int64_t q_lo = std::max<int64_t>(0, -ix0), q_hi = std::min<int64_t>(Q, p.in_w - ix0);
  const int8_t* wt = p.column_weights.data() + (cb / 16) * 3 * 64;
  const __m512i w0 = _mm512_loadu_si512(wt), w1 = _mm512_loadu_si512(wt + 64), w2 = _mm512_loadu_si512(wt + 128);
  __m512i acc[NB];
#pragma GCC unroll 16
  for (int j = 0; j < NB; ++j) acc[j] = _mm512_setzero_si512();
#pragma GCC unroll 64
  for (int q = 0; q < Q; ++q) {
    if (q < q_lo || q >= q_hi) continue;
    const int64_t off = (ix0 + q) * C + cb;
    __m512i v = _mm512_zextsi128_si512(load_row<TAIL>(rows[0], off, m));
    v = _mm512_inserti32x4(v, load_row<TAIL>(rows[1], off, m), 1);
    v = _mm512_inserti32x4(v, load_row<TAIL>(rows[2], off, m), 2);
    add_column<SW, NB, true>(acc, q, _mm512_permutexvar_epi8(perm, v), w0, w1, w2);
  }
  store_strip<NB, TAIL>(p, e, acc, cb, dst, out_offset, m);
}

template <int SW, int NB>
HWOPT_VBMI inline void strip_vbmi_all_channels(const DwConvInt8& p, const Epilogue& e, const uint8_t* const rows[3],
                                               int64_t ox, void* dst, int64_t out_row, __m512i perm) {
  const int64_t C = p.channels, full = C / 16 * 16;
  const int64_t ix0 = ox * SW - p.pad_left, o = out_row + ox * C;
  for (int64_t cb = 0; cb < full; cb += 16) strip_vbmi<SW, NB, false>(p, e, rows, ix0, cb, dst, o, 0xFFFF, perm);
  if (full < C)
    strip_vbmi<SW, NB, true>(p, e, rows, ix0, full, dst, o, static_cast<__mmask16>((1u << (C - full)) - 1u), perm);
}

template <int SW, int NB>
HWOPT_VBMI void column_strips(const DwConvInt8& p, const uint8_t* const rows[3], int64_t ox, void* dst, int64_t out_row) {
  // Byte 4c + k of a column is row k's channel c (lane k, byte c); byte 4c + 3 is lane 3's (0).
  alignas(64) static constexpr uint8_t kIndex[64] = {
      0,  16, 32, 48, 1,  17, 33, 49, 2,  18, 34, 50, 3,  19, 35, 51, 4,  20, 36, 52, 5,  21,
      37, 53, 6,  22, 38, 54, 7,  23, 39, 55, 8,  24, 40, 56, 9,  25, 41, 57, 10, 26, 42, 58,
      11, 27, 43, 59, 12, 28, 44, 60, 13, 29, 45, 61, 14, 30, 46, 62, 15, 31, 47, 63};
  strip_vbmi_all_channels<SW, NB>(p, Epilogue{_mm512_set1_ps(p.out.lo), _mm512_set1_ps(p.out.hi)}, rows, ox, dst,
                                  out_row, _mm512_load_si512(kIndex));
}

#pragma GCC diagnostic pop

// One vectorized kernel: its strips of NB outputs (every channel block) for NB = 16 or 8, 4, 2, 1.
using StripFn = void (*)(const DwConvInt8&, const uint8_t* const[3], int64_t, void*, int64_t);
struct Strips {
  int nb = 0;
  StripFn wide = nullptr, four = nullptr, two = nullptr, one = nullptr;
};

template <int SW, bool SGN>
Strips widening() {
  constexpr int NB = SW == 1 ? 16 : 8;  // accumulators in registers with the weights and the input
  return {NB, widening_strips<SW, NB, SGN>, widening_strips<SW, 4, SGN>, widening_strips<SW, 2, SGN>,
          widening_strips<SW, 1, SGN>};
}

template <int SW>
Strips columns() {
  constexpr int NB = SW == 1 ? 16 : 8;
  return {NB, column_strips<SW, NB>, column_strips<SW, 4>, column_strips<SW, 2>, column_strips<SW, 1>};
}

// The vectorized kernel for p, if one applies (.nb == 0: none).
Strips pick_vectorized(const DwConvInt8& p) {
  if (!p.src_signed && p.column_kernel && own::use_avx512_vbmi() && !p.column_weights.empty()) {
    if (p.stride_w == 1) return columns<1>();
    if (p.stride_w == 2) return columns<2>();
  }
  // Strips for horizontal strides 1 and 2 (MobileNet's); other strides run the scalar kernel.
  if (p.stride_w == 1) return p.src_signed ? widening<1, true>() : widening<1, false>();
  if (p.stride_w == 2) return p.src_signed ? widening<2, true>() : widening<2, false>();
  return {};
}

// Output rows r0 .. r1 - 1 (as in scalar_rows) in strips: as many of k.nb outputs as fit, the rest
// in strips of 4, 2 and 1.
void vectorized_rows(const DwConvInt8& p, const Strips& k, const uint8_t* src, int64_t src_row0, void* dst, int64_t r0,
                     int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / p.out_h, oy = r % p.out_h;
    const int64_t out_row = r * p.out_w * p.channels;
    const uint8_t* rows[3];
    for (int64_t ky = 0; ky < 3; ++ky) {
      const int64_t iy = oy * p.stride_h - p.pad_top + ky;
      rows[ky] = iy < 0 || iy >= p.in_h ? nullptr : src + (n * p.in_h + iy - src_row0) * p.in_w * p.channels;
    }
    int64_t ox = 0;
    for (; ox + k.nb <= p.out_w; ox += k.nb) k.wide(p, rows, ox, dst, out_row);
    for (; ox + 4 <= p.out_w; ox += 4) k.four(p, rows, ox, dst, out_row);
    for (; ox + 2 <= p.out_w; ox += 2) k.two(p, rows, ox, dst, out_row);
    for (; ox < p.out_w; ++ox) k.one(p, rows, ox, dst, out_row);
  }
}

}  // namespace

bool dwconv_int8_fast_available() { return own::use_avx512_vnni(); }

void dwconv3x3_int8_scalar(const DwConvInt8& p, const void* src, void* dst) {
  if (p.src_signed)
    scalar_rows(p, static_cast<const int8_t*>(src), 0, dst, 0, p.batch * p.out_h);
  else
    scalar_rows(p, static_cast<const uint8_t*>(src), 0, dst, 0, p.batch * p.out_h);
}

void dwconv3x3_int8_rows(const DwConvInt8& p, const void* src, int64_t src_row0, void* dst, int64_t r0, int64_t r1) {
  const Strips fast = dwconv_int8_fast_available() ? pick_vectorized(p) : Strips{};
  if (fast.nb > 0)
    vectorized_rows(p, fast, static_cast<const uint8_t*>(src), src_row0, dst, r0, r1);
  else if (p.src_signed)
    scalar_rows(p, static_cast<const int8_t*>(src), src_row0, dst, r0, r1);
  else
    scalar_rows(p, static_cast<const uint8_t*>(src), src_row0, dst, r0, r1);
}

void dwconv3x3_int8(const DwConvInt8& p, const void* src, void* dst, bool parallel) {
  const int64_t rows = p.batch * p.out_h;
  auto run = [&](int64_t b, int64_t e) { dwconv3x3_int8_rows(p, src, 0, dst, b, e); };
  if (!parallel) return run(0, rows);
  // Work: 9 multiply-adds per output element.
  own::parallel_range(rows, rows * p.out_w * p.channels * 9, run);
}

}  // namespace hwopt::cpu
