// Elementwise ops that oneDNN lacks or that the oneDNN candidates decline, on plain tensors with
// numpy broadcasting: Where, Cast, Erf, Pow, Equal/Less/Greater(OrEqual), Not, and
// Add/Sub/Mul/Div as a float32 fallback behind the oneDNN binary candidate.
//
// Broadcasting (own_broadcast.h) collapses the output dims into as few runs as possible, so the
// inner loop sees each input as a vector (stride 1) or a scalar (stride 0): same-shape, row
// ([B,S,H] + [H]), column ([B,S,H] + [B,S,1]) and scalar broadcasts are all plain vector loops. Work is split over OpenMP threads only for
// large tensors. Inner loops are compiled twice, for the baseline ISA and for AVX-512 (chosen at
// run time), since the build does not use -march=native.
//
// Results equal the reference kernel's bit for bit, except Erf: a vectorised erf within 1 ulp
// of the correctly rounded value (glibc's erff is also within 1 ulp; the two differ by at most 2).
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "backends/cpu/own_broadcast.h"
#include "backends/cpu/own_math.h"

namespace hwopt::cpu {
namespace {

using own::Bcast;
using own::broadcast_shapes;
using own::erf_approx;
using own::make_bcast;
using own::parallel_range;
using own::run_parallel;
using own::walk;

// ---------------------------------------------------------------------------------------------
// Binary ops: arithmetic, comparisons, Pow

struct AddOp {
  template <typename T>
  static OWN_INLINE T f(T a, T b) {
    return a + b;
  }
};
struct SubOp {
  template <typename T>
  static OWN_INLINE T f(T a, T b) {
    return a - b;
  }
};
struct MulOp {
  template <typename T>
  static OWN_INLINE T f(T a, T b) {
    return a * b;
  }
};
struct DivOp {
  template <typename T>
  static OWN_INLINE T f(T a, T b) {
    return a / b;
  }
};
struct EqOp {
  template <typename T>
  static OWN_INLINE bool f(T a, T b) {
    return a == b;
  }
};
struct LtOp {
  template <typename T>
  static OWN_INLINE bool f(T a, T b) {
    return a < b;
  }
};
struct LeOp {
  template <typename T>
  static OWN_INLINE bool f(T a, T b) {
    return a <= b;
  }
};
struct GtOp {
  template <typename T>
  static OWN_INLINE bool f(T a, T b) {
    return a > b;
  }
};
struct GeOp {
  template <typename T>
  static OWN_INLINE bool f(T a, T b) {
    return a >= b;
  }
};

/// double -> float as the reference's from_double: finite values beyond float's range become
/// +-FLT_MAX or +-inf as IEEE round-to-nearest would.
OWN_INLINE float narrow_to_float(double v) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (std::isfinite(v) && std::fabs(v) > kMax) {
    const float r =
        std::fabs(v) >= 0x1.ffffffp127 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::max();
    return v < 0 ? -r : r;
  }
  return static_cast<float>(v);
}

/// Pow as the reference computes it for a float base: in double, then narrowed.
struct PowOp {
  template <typename E>
  static OWN_INLINE float f(float a, E b) {
    return narrow_to_float(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
};

template <typename Op, typename A, typename B, typename R>
OWN_INLINE void binary_segment(const A* a, const B* b, R* o, int64_t n, bool va, bool vb) {
  if (va && vb) {
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], b[i]);
  } else if (va) {
    const B y = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], y);
  } else if (vb) {
    const A x = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(x, b[i]);
  } else {
    const R v = Op::f(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

template <typename Op, typename A, typename B, typename R>
OWN_INLINE void binary_chunk_body(const Bcast& p, const A* a, const B* b, R* o, int64_t begin, int64_t end) {
  const bool va = p.strides[0][p.rank - 1] != 0, vb = p.strides[1][p.rank - 1] != 0;
  walk<2>(
      p, begin, end, [&](int64_t pos, const int64_t* off, int64_t n) __attribute__((always_inline)) {
        binary_segment<Op>(a + off[0], b + off[1], o + pos, n, va, vb);
      });
}

template <typename Op, typename A, typename B, typename R>
void binary_chunk(const Bcast& p, const A* a, const B* b, R* o, int64_t begin, int64_t end) {
  binary_chunk_body<Op>(p, a, b, o, begin, end);
}

template <typename Op, typename A, typename B, typename R>
OWN_AVX512 void binary_chunk_avx512(const Bcast& p, const A* a, const B* b, R* o, int64_t begin, int64_t end) {
  binary_chunk_body<Op>(p, a, b, o, begin, end);
}

template <typename Op, typename A, typename B, typename R>
void run_binary(const Bcast& p, const A* a, const B* b, R* o, int64_t cost = 1) {
  run_parallel(
      p.total, cost, [&](int64_t s, int64_t e) { binary_chunk<Op>(p, a, b, o, s, e); },
      [&](int64_t s, int64_t e) { binary_chunk_avx512<Op>(p, a, b, o, s, e); });
}

/// The two inputs (contiguous) and their broadcast plan; false when the kernel should leave the
/// node to the reference (which reports shape errors with its own message).
bool binary_setup(KernelContext& ctx, Tensor& a, Tensor& b, Shape& out_shape, Bcast& p) {
  const Tensor& a_in = ctx.input(0);
  const Tensor& b_in = ctx.input(1);
  if (!a_in.is_plain() || !b_in.is_plain()) return false;
  const Shape& sa = a_in.shape();
  const Shape& sb = b_in.shape();
  if (!broadcast_shapes({sa, sb}, out_shape) || !make_bcast({sa, sb}, out_shape, p)) return false;
  a = a_in.contiguous();
  b = b_in.contiguous();
  return true;
}

template <typename Op>
void run_arith(KernelContext& ctx, const KernelFn& reference) {
  Tensor a, b;
  Shape out_shape;
  Bcast p;
  if (ctx.input(0).dtype() != DType::float32 || ctx.input(1).dtype() != DType::float32 ||
      !binary_setup(ctx, a, b, out_shape, p))
    return reference(ctx);
  Tensor& y = ctx.allocate_uninitialized_output(0, DType::float32, out_shape);
  if (p.total == 0) return;
  run_binary<Op>(p, a.data<float>(), b.data<float>(), y.data<float>());
}

template <typename Op>
void run_compare(KernelContext& ctx, const KernelFn& reference) {
  Tensor a, b;
  Shape out_shape;
  Bcast p;
  const DType dt = ctx.input(0).dtype();
  if ((dt != DType::float32 && dt != DType::int32 && dt != DType::int64) || ctx.input(1).dtype() != dt ||
      !binary_setup(ctx, a, b, out_shape, p))
    return reference(ctx);
  Tensor& y = ctx.allocate_uninitialized_output(0, DType::boolean, out_shape);
  if (p.total == 0) return;
  bool* o = y.data<bool>();
  switch (dt) {
    case DType::float32:
      run_binary<Op>(p, a.data<float>(), b.data<float>(), o);
      break;
    case DType::int32:
      run_binary<Op>(p, a.data<int32_t>(), b.data<int32_t>(), o);
      break;
    default:
      run_binary<Op>(p, a.data<int64_t>(), b.data<int64_t>(), o);
      break;
  }
}

// Pow with one exponent for every element: the exponents whose float result is exactly what
// the reference's double pow narrowed to float gives.
template <int kind>
OWN_INLINE void pow_scalar_body(const float* x, float* y, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float v = x[i];
    if constexpr (kind == 2) {
      y[i] = v * v;  // the double square is exact, so one rounding either way
    } else {
      // sqrt rounds once like pow(v, 0.5) narrowed (double rounding is innocuous for sqrt);
      // pow(-0, 0.5) is +0 and pow(-inf, 0.5) is +inf, where sqrt gives -0 and NaN.
      const float s = std::sqrt(v) + 0.0f;
      y[i] = v == -std::numeric_limits<float>::infinity() ? std::numeric_limits<float>::infinity() : s;
    }
  }
}

template <int kind>
void pow_scalar_chunk(const float* x, float* y, int64_t b, int64_t e) {
  pow_scalar_body<kind>(x, y, b, e);
}
template <int kind>
OWN_AVX512 void pow_scalar_chunk_avx512(const float* x, float* y, int64_t b, int64_t e) {
  pow_scalar_body<kind>(x, y, b, e);
}

void run_pow(KernelContext& ctx, const KernelFn& reference) {
  const DType xt = ctx.input(0).dtype(), et = ctx.input(1).dtype();
  Tensor a, b;
  Shape out_shape;
  Bcast p;
  if (xt != DType::float32 || (et != DType::float32 && et != DType::int32 && et != DType::int64) ||
      !binary_setup(ctx, a, b, out_shape, p))
    return reference(ctx);
  Tensor& y = ctx.allocate_uninitialized_output(0, DType::float32, out_shape);
  if (p.total == 0) return;
  if (b.numel() == 1 && out_shape == a.shape()) {
    double e = 0;
    switch (et) {
      case DType::float32:
        e = b.data<float>()[0];
        break;
      case DType::int32:
        e = b.data<int32_t>()[0];
        break;
      default:
        e = static_cast<double>(b.data<int64_t>()[0]);
        break;
    }
    const float* x = a.data<float>();
    float* o = y.data<float>();
    if (e == 1.0) {
      std::memcpy(o, x, static_cast<size_t>(p.total) * sizeof(float));
      return;
    }
    if (e == 2.0) {
      run_parallel(
          p.total, 1, [&](int64_t s, int64_t t) { pow_scalar_chunk<2>(x, o, s, t); },
          [&](int64_t s, int64_t t) { pow_scalar_chunk_avx512<2>(x, o, s, t); });
      return;
    }
    if (e == 0.5) {
      run_parallel(
          p.total, 2, [&](int64_t s, int64_t t) { pow_scalar_chunk<1>(x, o, s, t); },
          [&](int64_t s, int64_t t) { pow_scalar_chunk_avx512<1>(x, o, s, t); });
      return;
    }
  }
  // General exponents: libm's double pow per element, as the reference does.
  constexpr int64_t kPowCost = 16;
  switch (et) {
    case DType::float32:
      run_binary<PowOp>(p, a.data<float>(), b.data<float>(), y.data<float>(), kPowCost);
      break;
    case DType::int32:
      run_binary<PowOp>(p, a.data<float>(), b.data<int32_t>(), y.data<float>(), kPowCost);
      break;
    default:
      run_binary<PowOp>(p, a.data<float>(), b.data<int64_t>(), y.data<float>(), kPowCost);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Where

// Operands that are scalars over the run are read once; the select is written with masks so
// that it vectorises for every element size.
template <typename T, bool vc, bool vx, bool vy>
OWN_INLINE void where_segment(const uint8_t* c, const T* x, const T* y, T* o, int64_t n) {
  if constexpr (!vc) {
    const T* src = c[0] ? x : y;
    const bool vsrc = c[0] ? vx : vy;
    if (vsrc) {
      std::memcpy(o, src, static_cast<size_t>(n) * sizeof(T));
    } else {
      const T v = src[0];
      for (int64_t i = 0; i < n; ++i) o[i] = v;
    }
  } else {
    const T x0 = x[0], y0 = y[0];
    for (int64_t i = 0; i < n; ++i) {
      const T m = T(0) - static_cast<T>(c[i] != 0);
      o[i] = static_cast<T>(((vx ? x[i] : x0) & m) | ((vy ? y[i] : y0) & static_cast<T>(~m)));
    }
  }
}

template <typename T>
OWN_INLINE void where_chunk_body(const Bcast& p, const uint8_t* c, const T* x, const T* y, T* o, int64_t begin,
                                 int64_t end) {
  const int mode = (p.strides[0][p.rank - 1] != 0 ? 4 : 0) | (p.strides[1][p.rank - 1] != 0 ? 2 : 0) |
                   (p.strides[2][p.rank - 1] != 0 ? 1 : 0);
  walk<3>(
      p, begin, end, [&](int64_t pos, const int64_t* off, int64_t n) __attribute__((always_inline)) {
        const uint8_t* cc = c + off[0];
        const T* xx = x + off[1];
        const T* yy = y + off[2];
        T* oo = o + pos;
        switch (mode) {
          case 7:
            where_segment<T, true, true, true>(cc, xx, yy, oo, n);
            break;
          case 6:
            where_segment<T, true, true, false>(cc, xx, yy, oo, n);
            break;
          case 5:
            where_segment<T, true, false, true>(cc, xx, yy, oo, n);
            break;
          case 4:
            where_segment<T, true, false, false>(cc, xx, yy, oo, n);
            break;
          case 3:
            where_segment<T, false, true, true>(cc, xx, yy, oo, n);
            break;
          case 2:
            where_segment<T, false, true, false>(cc, xx, yy, oo, n);
            break;
          case 1:
            where_segment<T, false, false, true>(cc, xx, yy, oo, n);
            break;
          default:
            where_segment<T, false, false, false>(cc, xx, yy, oo, n);
            break;
        }
      });
}

template <typename T>
void where_chunk(const Bcast& p, const uint8_t* c, const T* x, const T* y, T* o, int64_t b, int64_t e) {
  where_chunk_body<T>(p, c, x, y, o, b, e);
}
template <typename T>
OWN_AVX512 void where_chunk_avx512(const Bcast& p, const uint8_t* c, const T* x, const T* y, T* o, int64_t b,
                                   int64_t e) {
  where_chunk_body<T>(p, c, x, y, o, b, e);
}

template <typename T>
void where_typed(const Bcast& p, const Tensor& c, const Tensor& x, const Tensor& y, Tensor& out) {
  const uint8_t* pc = static_cast<const uint8_t*>(c.raw_data());
  const T* px = static_cast<const T*>(x.raw_data());
  const T* py = static_cast<const T*>(y.raw_data());
  T* po = static_cast<T*>(out.raw_data());
  run_parallel(
      p.total, 1, [&](int64_t s, int64_t e) { where_chunk<T>(p, pc, px, py, po, s, e); },
      [&](int64_t s, int64_t e) { where_chunk_avx512<T>(p, pc, px, py, po, s, e); });
}

void run_where(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& c_in = ctx.input(0);
  const Tensor& x_in = ctx.input(1);
  const Tensor& y_in = ctx.input(2);
  const size_t elem = dtype_size(x_in.dtype());
  if (c_in.dtype() != DType::boolean || x_in.dtype() != y_in.dtype() || x_in.dtype() == DType::string ||
      !(elem == 1 || elem == 2 || elem == 4 || elem == 8) || !c_in.is_plain() || !x_in.is_plain() || !y_in.is_plain())
    return reference(ctx);
  const std::vector<Shape> shapes = {c_in.shape(), x_in.shape(), y_in.shape()};
  Shape out_shape;
  if (!broadcast_shapes(shapes, out_shape)) return reference(ctx);
  Bcast p;
  if (!make_bcast(shapes, out_shape, p)) return reference(ctx);
  const Tensor c = c_in.contiguous(), x = x_in.contiguous(), y = y_in.contiguous();
  Tensor& out = ctx.allocate_uninitialized_output(0, x.dtype(), out_shape);
  if (p.total == 0) return;
  switch (elem) {
    case 1:
      where_typed<uint8_t>(p, c, x, y, out);
      break;
    case 2:
      where_typed<uint16_t>(p, c, x, y, out);
      break;
    case 4:
      where_typed<uint32_t>(p, c, x, y, out);
      break;
    default:
      where_typed<uint64_t>(p, c, x, y, out);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Unary: Erf, Not

OWN_INLINE void erf_body(const float* x, float* y, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) y[i] = erf_approx(x[i]);
}
OWN_AVX512 void erf_chunk_avx512(const float* x, float* y, int64_t b, int64_t e) { erf_body(x, y, b, e); }
OWN_AVX2 void erf_chunk_avx2(const float* x, float* y, int64_t b, int64_t e) { erf_body(x, y, b, e); }
// Without FMA the approximation would lose its accuracy: use libm (the reference's function).
void erf_chunk_libm(const float* x, float* y, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) y[i] = std::erf(x[i]);
}

void run_erf(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& in = ctx.input(0);
  if (in.dtype() != DType::float32 || !in.is_plain()) return reference(ctx);
  const Tensor x = in.contiguous();
  Tensor& out = ctx.allocate_uninitialized_output(0, DType::float32, x.shape());
  const float* px = x.data<float>();
  float* py = out.data<float>();
  const int64_t n = x.numel();
  constexpr int64_t kErfCost = 8;
  const bool wide = own::use_avx512(), avx2 = own::use_avx2();
  parallel_range(n, n * kErfCost, [&](int64_t b, int64_t e) {
    if (wide) {
      erf_chunk_avx512(px, py, b, e);
    } else if (avx2) {
      erf_chunk_avx2(px, py, b, e);
    } else {
      erf_chunk_libm(px, py, b, e);
    }
  });
}

void run_not(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& in = ctx.input(0);
  if (in.dtype() != DType::boolean || !in.is_plain()) return reference(ctx);
  const Tensor x = in.contiguous();
  Tensor& out = ctx.allocate_uninitialized_output(0, DType::boolean, x.shape());
  const uint8_t* px = static_cast<const uint8_t*>(x.raw_data());
  uint8_t* py = static_cast<uint8_t*>(out.raw_data());
  parallel_range(x.numel(), x.numel(), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) py[i] = px[i] == 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Cast

/// bool in the Cast loops: stored as one byte, converted with != 0.
struct BoolTag {};
template <typename X>
using storage_t = std::conditional_t<std::is_same_v<X, BoolTag>, uint8_t, X>;

/// Float -> integer as the reference (truncate toward zero, saturate to I's range, NaN -> 0),
/// written as clamps and selects so that the loop vectorises. The clamp keeps the conversion in
/// range; for int64 the largest double below 2^63 is 2^63 - 1024.
template <typename I>
OWN_INLINE I float_to_int(double v) {
  constexpr double lo = static_cast<double>(std::numeric_limits<I>::lowest());
  constexpr double hi = static_cast<double>(std::numeric_limits<I>::max());
  constexpr double hi_in = sizeof(I) == 8 ? (std::is_signed_v<I> ? 9223372036854774784.0 : 18446744073709549568.0) : hi;
  double c = v < lo ? lo : v;
  c = c > hi_in ? hi_in : c;
  c = c == c ? c : 0.0;
  const I r = static_cast<I>(c);
  return v >= hi ? std::numeric_limits<I>::max() : r;
}

/// One value converted as the reference's Cast does, for the number/bool types handled here
/// (not float16, which has its own loops).
template <typename D, typename S>
OWN_INLINE storage_t<D> convert(storage_t<S> s) {
  if constexpr (std::is_same_v<D, BoolTag>) {
    return s != storage_t<S>(0);  // NaN -> true
  } else if constexpr (std::is_same_v<S, BoolTag>) {
    return static_cast<D>(s);  // 0 or 1
  } else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    return float_to_int<D>(static_cast<double>(s));
  } else if constexpr (std::is_same_v<S, double> && std::is_same_v<D, float>) {
    return narrow_to_float(s);
  } else {
    return static_cast<D>(s);  // int -> int wraps, int -> float rounds, float -> double
  }
}

template <typename D, typename S>
OWN_INLINE void cast_body(const storage_t<S>* s, storage_t<D>* d, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) d[i] = convert<D, S>(s[i]);
}
template <typename D, typename S>
void cast_chunk(const storage_t<S>* s, storage_t<D>* d, int64_t b, int64_t e) {
  cast_body<D, S>(s, d, b, e);
}
template <typename D, typename S>
OWN_AVX512 void cast_chunk_avx512(const storage_t<S>* s, storage_t<D>* d, int64_t b, int64_t e) {
  cast_body<D, S>(s, d, b, e);
}

// float32 <-> float16 with F16C, 8 at a time; NaNs (whose payload F16C treats differently
// from hwopt's Half) and the tail go through Half.
OWN_AVX2 void f32_to_f16_f16c(const float* s, uint16_t* d, int64_t b, int64_t e) {
  int64_t i = b;
  for (; i + 8 <= e; i += 8) {
    const __m256 v = _mm256_loadu_ps(s + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0) {
      for (int64_t j = i; j < i + 8; ++j) d[j] = Half(s[j]).bits;
      continue;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < e; ++i) d[i] = Half(s[i]).bits;
}

OWN_AVX2 void f16_to_f32_f16c(const uint16_t* s, float* d, int64_t b, int64_t e) {
  int64_t i = b;
  for (; i + 8 <= e; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i exp_all = _mm_cmpeq_epi16(_mm_and_si128(h, _mm_set1_epi16(0x7c00)), _mm_set1_epi16(0x7c00));
    const __m128i mant = _mm_and_si128(h, _mm_set1_epi16(0x3ff));
    const __m128i nan = _mm_andnot_si128(_mm_cmpeq_epi16(mant, _mm_setzero_si128()), exp_all);
    if (_mm_movemask_epi8(nan) != 0) {
      for (int64_t j = i; j < i + 8; ++j) d[j] = static_cast<float>(Half::from_bits(s[j]));
      continue;
    }
    _mm256_storeu_ps(d + i, _mm256_cvtph_ps(h));
  }
  for (; i < e; ++i) d[i] = static_cast<float>(Half::from_bits(s[i]));
}

void run_cast_f16(const Tensor& x, Tensor& out) {
  const int64_t n = x.numel();
  const bool f16c = own::use_avx2();
  if (x.dtype() == DType::float32) {
    const float* s = x.data<float>();
    uint16_t* d = static_cast<uint16_t*>(out.raw_data());
    parallel_range(n, n, [&](int64_t b, int64_t e) {
      if (f16c) {
        f32_to_f16_f16c(s, d, b, e);
      } else {
        for (int64_t i = b; i < e; ++i) d[i] = Half(s[i]).bits;
      }
    });
  } else {
    const uint16_t* s = static_cast<const uint16_t*>(x.raw_data());
    float* d = out.data<float>();
    parallel_range(n, n, [&](int64_t b, int64_t e) {
      if (f16c) {
        f16_to_f32_f16c(s, d, b, e);
      } else {
        for (int64_t i = b; i < e; ++i) d[i] = static_cast<float>(Half::from_bits(s[i]));
      }
    });
  }
}

/// The dtypes Cast handles here (float16 only to and from float32).
bool cast_dtype_ok(DType dt) {
  switch (dt) {
    case DType::float32:
    case DType::float64:
    case DType::int32:
    case DType::int64:
    case DType::boolean:
    case DType::uint8:
    case DType::int8:
      return true;
    default:
      return false;
  }
}

bool cast_pair_ok(DType from, DType to) {
  if (from == DType::float16) return to == DType::float32 || to == DType::float16;
  if (to == DType::float16) return from == DType::float32;
  return cast_dtype_ok(from) && cast_dtype_ok(to);
}

template <typename F>
void visit_cast_type(DType dt, F&& f) {
  switch (dt) {
    case DType::float32:
      f(float{});
      break;
    case DType::float64:
      f(double{});
      break;
    case DType::int32:
      f(int32_t{});
      break;
    case DType::int64:
      f(int64_t{});
      break;
    case DType::boolean:
      f(BoolTag{});
      break;
    case DType::uint8:
      f(uint8_t{});
      break;
    default:
      f(int8_t{});
      break;
  }
}

/// The target dtype of a Cast node, or undefined when it is not a number given as an int.
DType cast_target(const ir::Node& node) {
  const ir::Attribute* to = node.attr("to");
  if (!to || to->type != ir::AttrType::i || to->i <= 0 || to->i > 16 || !dtype_is_known(static_cast<int32_t>(to->i)))
    return DType::undefined;
  return static_cast<DType>(to->i);
}

void run_cast(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& in = ctx.input(0);
  const DType to = cast_target(ctx.node());
  if (to == DType::undefined || !in.is_plain() || !cast_pair_ok(in.dtype(), to)) return reference(ctx);
  const Tensor x = in.contiguous();
  if (to == x.dtype()) {
    ctx.set_output(0, x);  // nothing to convert: the input itself
    return;
  }
  Tensor& out = ctx.allocate_uninitialized_output(0, to, x.shape());
  if (x.numel() == 0) return;
  if (to == DType::float16 || x.dtype() == DType::float16) return run_cast_f16(x, out);
  visit_cast_type(x.dtype(), [&](auto s_tag) {
    using S = decltype(s_tag);
    visit_cast_type(to, [&](auto d_tag) {
      using D = decltype(d_tag);
      if constexpr (!std::is_same_v<S, D>) {
        const auto* s = static_cast<const storage_t<S>*>(x.raw_data());
        auto* d = static_cast<storage_t<D>*>(out.raw_data());
        run_parallel(
            x.numel(), 1, [&](int64_t b, int64_t e) { cast_chunk<D, S>(s, d, b, e); },
            [&](int64_t b, int64_t e) { cast_chunk_avx512<D, S>(s, d, b, e); });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Candidates

std::string dtype_is(const NodeContext& nc, size_t i, std::initializer_list<DType> ok) {
  const DType dt = nc.input_dtype(i);
  if (dt == DType::undefined) return "";  // decided at run time
  for (DType d : ok)
    if (dt == d) return "";
  std::string names;
  for (DType d : ok) names += std::string(names.empty() ? "" : "/") + dtype_name(d);
  return fmt::format("input {} has dtype {} ({} only)", i, dtype_name(dt), names);
}

std::string check_legacy(const NodeContext& nc) {
  return nc.node.opset < 7 ? "opset < 7 broadcasts with the legacy 'broadcast'/'axis' attributes" : "";
}

std::string check_arith(const NodeContext& nc) {
  std::string why = check_legacy(nc);
  if (why.empty()) why = dtype_is(nc, 0, {DType::float32});
  if (why.empty()) why = dtype_is(nc, 1, {DType::float32});
  return why;
}

std::string check_compare(const NodeContext& nc) {
  std::string why = check_legacy(nc);
  if (why.empty()) why = dtype_is(nc, 0, {DType::float32, DType::int32, DType::int64});
  return why;
}

std::string check_pow(const NodeContext& nc) {
  std::string why = check_legacy(nc);
  if (why.empty()) why = dtype_is(nc, 0, {DType::float32});
  if (why.empty()) why = dtype_is(nc, 1, {DType::float32, DType::int32, DType::int64});
  return why;
}

std::string check_where(const NodeContext& nc) {
  if (nc.input_dtype(1) == DType::string) return "string tensors are not handled by this kernel";
  return "";
}

std::string check_erf(const NodeContext& nc) { return dtype_is(nc, 0, {DType::float32}); }

std::string check_not(const NodeContext&) { return ""; }

std::string check_cast(const NodeContext& nc) {
  const DType to = cast_target(nc.node);
  if (to == DType::undefined) return "attribute 'to' is not a numeric dtype given as an int";
  const DType from = nc.input_dtype(0);
  if (from != DType::undefined && !cast_pair_ok(from, to))
    return fmt::format(
        "cast from {} to {} is not handled (float32/float64/int8/uint8/int32/int64/bool, float16<->float32)",
        dtype_name(from), dtype_name(to));
  if (from == DType::undefined && to != DType::float16 && !cast_dtype_ok(to))
    return fmt::format("cast to {} is not handled", dtype_name(to));
  return "";
}

using RunFn = void (*)(KernelContext&, const KernelFn&);

template <RunFn run>
KernelFn make_kernel(const NodeContext&, KernelFn reference) {
  return [reference](KernelContext& ctx) { run(ctx, reference); };
}

using own::kOwnFallbackPriority;
using own::kOwnPriority;
using own::make_candidate;

}  // namespace

HWOPT_REGISTER_CANDIDATE(make_candidate("own:binary", "Add", kOwnFallbackPriority, check_arith,
                                        make_kernel<run_arith<AddOp>>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:binary", "Sub", kOwnFallbackPriority, check_arith,
                                        make_kernel<run_arith<SubOp>>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:binary", "Mul", kOwnFallbackPriority, check_arith,
                                        make_kernel<run_arith<MulOp>>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:binary", "Div", kOwnFallbackPriority, check_arith,
                                        make_kernel<run_arith<DivOp>>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:compare", "Equal", kOwnPriority, check_compare,
                                        make_kernel<run_compare<EqOp>>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:compare", "Less", kOwnPriority, check_compare,
                                        make_kernel<run_compare<LtOp>>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:compare", "LessOrEqual", kOwnPriority, check_compare,
                                        make_kernel<run_compare<LeOp>>, 12));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:compare", "Greater", kOwnPriority, check_compare,
                                        make_kernel<run_compare<GtOp>>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:compare", "GreaterOrEqual", kOwnPriority, check_compare,
                                        make_kernel<run_compare<GeOp>>, 12));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:pow", "Pow", kOwnPriority, check_pow, make_kernel<run_pow>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:where", "Where", kOwnPriority, check_where, make_kernel<run_where>, 9));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:erf", "Erf", kOwnPriority, check_erf, make_kernel<run_erf>, 9));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:not", "Not", kOwnPriority, check_not, make_kernel<run_not>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:cast", "Cast", kOwnPriority, check_cast, make_kernel<run_cast>));

}  // namespace hwopt::cpu
