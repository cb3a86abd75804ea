// Scalar float math written to vectorise: the CPU backend's own element-wise kernels call these
// inside loops compiled for AVX2/AVX-512 (target attributes), where GCC turns each into vector
// code (selects instead of branches, bit casts instead of frexp/ldexp, std::fma for the
// polynomials). Accuracy against libm (what the reference kernels call) is stated per function;
// without FMA hardware std::fma is a library call: correct, slow, so the kernels use libm there.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "backends/cpu/own_broadcast.h"

namespace hwopt::cpu::own {

/// Cephes' expf reduction: y = n ln2 + r, |r| <= ln2/2 (n rounded with the 1.5 * 2^23 shifter,
/// valid for |y| < 2^22 / log2 e); returns e^r (a polynomial, within 1 ulp) and sets n.
OWN_INLINE float exp_reduced(float y, int32_t& n_out) {
  constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kShifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = y * kLog2e + kShifter;
  const float n = t - kShifter;
  n_out = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kShifter);
  float r = std::fma(n, -kLn2Hi, y);
  r = std::fma(n, -kLn2Lo, r);
  float q = 1.9875691500E-4f;
  q = std::fma(q, r, 1.3981999507E-3f);
  q = std::fma(q, r, 8.3334519073E-3f);
  q = std::fma(q, r, 4.1665795894E-2f);
  q = std::fma(q, r, 1.6666665459E-1f);
  q = std::fma(q, r, 5.0000001201E-1f);
  return std::fma(q, r * r, r) + 1.0f;
}

/// exp(y) for y in [-17, 0] (no overflow or underflow there): 2^n applied to the exponent bits.
OWN_INLINE float exp_nonpositive(float y) {
  int32_t n;
  const float q = exp_reduced(y, n);
  return std::bit_cast<float>(std::bit_cast<int32_t>(q) + (n << 23));
}

/// erf(x) within 1 ulp of the correctly rounded value. |x| < 1: x * P(x^2) with 2/sqrt(pi)
/// split in two parts for the leading term; 1 <= |x| < 4: 1 - exp(-x^2) * erfcx(x), erfcx a
/// polynomial in 1/x; |x| >= 4 rounds to 1. Coefficients: Chebyshev fits (mpmath) to 4e-11.
OWN_INLINE float erf_approx(float x) {
  const float ax = std::fabs(x);
  const float u = ax * ax;
  float pa = -9.6670445714869964e-6f;
  pa = std::fma(pa, u, 0.00011265959025606609f);
  pa = std::fma(pa, u, -0.00084840804055351063f);
  pa = std::fma(pa, u, 0.0052210318078580228f);
  pa = std::fma(pa, u, -0.026865430727670243f);
  pa = std::fma(pa, u, 0.11283782495236845f);
  pa = std::fma(pa, u, -0.3761263846802871f);
  const float small = std::fma(ax, 1.128379225730896f, ax * std::fma(u, pa, -5.8635383422197591e-8f));
  const float xb = ax < 4.0f ? ax : 4.0f;
  const float s = 1.0f / xb - 0.625f;
  float pb = 0.028486298958643835f;
  pb = std::fma(pb, s, -0.033386496174859319f);
  pb = std::fma(pb, s, 0.015010736883309156f);
  pb = std::fma(pb, s, 0.0046307600542163992f);
  pb = std::fma(pb, s, -0.025376008152645598f);
  pb = std::fma(pb, s, 0.043220721445597617f);
  pb = std::fma(pb, s, -0.047037827638865788f);
  pb = std::fma(pb, s, 0.023330552936655112f);
  pb = std::fma(pb, s, 0.043769311838624679f);
  pb = std::fma(pb, s, -0.17239476766065305f);
  pb = std::fma(pb, s, 0.38228375509298864f);
  pb = std::fma(pb, s, 0.30595299232716674f);
  const float hi = xb * xb, lo = std::fma(xb, xb, -hi);  // x^2 = hi + lo exactly
  float e = exp_nonpositive(-hi);
  e = std::fma(e, -lo, e);
  const float large = 1.0f - e * pb;
  const float r = std::copysign(ax < 1.0f ? small : large, x);
  return x != x ? x : r;
}

/// exp(x) within 2 ulp for every float (Cephes' expf polynomial on x - n ln2, |x - n ln2| <= ln2/2),
/// inf above 88.72, subnormal results rounded once, 0 below -103.3, NaN kept. 2^n is applied as two
/// powers of two so that n in [-159, 128] needs no special case.
OWN_INLINE float exp_approx(float x) {
  const float xc = x < -110.0f ? -110.0f : (x > 89.0f ? 89.0f : x);
  int32_t n;
  const float q = exp_reduced(xc, n);
  const int32_t n1 = n >> 1, n2 = n - n1;  // each in [-80, 64]: 2^n1, 2^n2 are normal floats
  const float s1 = std::bit_cast<float>((n1 + 127) << 23), s2 = std::bit_cast<float>((n2 + 127) << 23);
  const float e = q * s1 * s2;
  return x != x ? x : e;
}

/// exp(x) - 1 without the cancellation near 0: a degree-8 Taylor polynomial for |x| < 0.5 (error
/// below 0.2 ulp there), exp_approx(x) - 1 elsewhere.
OWN_INLINE float expm1_approx(float x) {
  float p = 1.0f / 40320;
  p = std::fma(p, x, 1.0f / 5040);
  p = std::fma(p, x, 1.0f / 720);
  p = std::fma(p, x, 1.0f / 120);
  p = std::fma(p, x, 1.0f / 24);
  p = std::fma(p, x, 1.0f / 6);
  p = std::fma(p, x, 0.5f);
  const float small = std::fma(p * x, x, x);
  return std::fabs(x) < 0.5f ? small : exp_approx(x) - 1.0f;
}

/// log(x) within 2 ulp (Cephes' logf: x = m 2^e, m in [sqrt(1/2), sqrt(2)), a polynomial in m - 1);
/// subnormals scaled first; log(0) = -inf, log(inf) = inf, negative or NaN -> NaN.
OWN_INLINE float log_approx(float x) {
  const bool tiny = x < std::numeric_limits<float>::min();
  const float xs = x * (tiny ? 8388608.0f : 1.0f);  // 2^23; a select of constants, so no branch
  const int32_t bits = std::bit_cast<int32_t>(xs);
  float e = static_cast<float>(((bits >> 23) & 0xff) - 126 - (tiny ? 23 : 0));
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  // Both candidates computed, then selected: GCC does not speculate a floating-point operation
  // out of a conditional (-ftrapping-math), and a branch would keep the loop from vectorising.
  const bool low = m < 0.707106781186547524f;
  const float m_low = m + m - 1.0f, m_high = m - 1.0f;
  e = e - (low ? 1.0f : 0.0f);
  m = low ? m_low : m_high;
  const float z = m * m;
  float p = 7.0376836292E-2f;
  p = std::fma(p, m, -1.1514610310E-1f);
  p = std::fma(p, m, 1.1676998740E-1f);
  p = std::fma(p, m, -1.2420140846E-1f);
  p = std::fma(p, m, 1.4249322787E-1f);
  p = std::fma(p, m, -1.6668057665E-1f);
  p = std::fma(p, m, 2.0000714765E-1f);
  p = std::fma(p, m, -2.4999993993E-1f);
  p = std::fma(p, m, 3.3333331174E-1f);
  float y = p * m * z;
  y = std::fma(e, -2.12194440e-4f, y);
  y = std::fma(z, -0.5f, y);
  float r = m + y;
  r = std::fma(e, 0.693359375f, r);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  r = x == kInf ? kInf : r;
  r = x == 0.0f ? -kInf : r;
  return (x < 0.0f) | (x != x) ? std::numeric_limits<float>::quiet_NaN() : r;  // | not ||: no branch
}

/// log(1 + u) for u in [0, 1] within 2 ulp, without log's range reduction: 2 atanh(s) with
/// s = u / (2 + u) in [0, 1/3], an odd series in s (s^2 <= 1/9: eight terms reach float precision).
OWN_INLINE float log1p_unit(float u) {
  const float s = u / (2.0f + u);
  const float z = s * s;
  float p = 2.0f / 15;
  p = std::fma(p, z, 2.0f / 13);
  p = std::fma(p, z, 2.0f / 11);
  p = std::fma(p, z, 2.0f / 9);
  p = std::fma(p, z, 2.0f / 7);
  p = std::fma(p, z, 2.0f / 5);
  p = std::fma(p, z, 2.0f / 3);
  return std::fma(p * z, s, s + s);
}

/// tanh(x) within 3 ulp (Cephes' tanhf: an odd polynomial below |x| = 0.625, 1 - 2 / (e^2|x| + 1)
/// above, which reaches +-1 where e^2|x| overflows).
OWN_INLINE float tanh_approx(float x) {
  const float ax = std::fabs(x);
  const float z = x * x;
  float p = -5.70498872745E-3f;
  p = std::fma(p, z, 2.06390887954E-2f);
  p = std::fma(p, z, -5.37397155531E-2f);
  p = std::fma(p, z, 1.33314422036E-1f);
  p = std::fma(p, z, -3.33332819422E-1f);
  const float small = std::fma(p * z, x, x);
  const float large = std::copysign(1.0f - 2.0f / (exp_approx(ax + ax) + 1.0f), x);
  return ax < 0.625f ? small : large;
}

/// 1 / (1 + e^-x) as the reference writes it (e^-|x| then one division: no overflow), within
/// 3 ulp.
OWN_INLINE float sigmoid_approx(float x) {
  const float e = exp_approx(-std::fabs(x));
  const float r = (x >= 0.0f ? 1.0f : e) / (1.0f + e);
  return x != x ? x : r;
}

/// log(1 + e^x) as the reference writes it: x + log1p(e^-x) above 0, log1p(e^x) below.
OWN_INLINE float softplus_approx(float x) {
  const float l = log1p_unit(exp_approx(-std::fabs(x)));
  return x > 0.0f ? x + l : l;
}

/// tanh(softplus(x)) (Mish's factor) in one step: with e = e^x, (1 + e)^2 = e^2 + 2e + 1, so
/// tanh(log(1 + e)) = n / (n + 2) with n = e (e + 2); 1 from x = 20 on (where it rounds to 1 and
/// before n overflows). Within a few ulp of computing the two functions.
OWN_INLINE float tanh_softplus_approx(float x) {
  const float e = exp_approx(x < 20.0f ? x : 20.0f);
  const float n = e * (e + 2.0f);
  const float r = n / (n + 2.0f);
  return x != x ? x : (x < 20.0f ? r : 1.0f);
}

}  // namespace hwopt::cpu::own
