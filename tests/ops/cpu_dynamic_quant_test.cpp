// The run-time quantization of dynamic INT8 (src/backends/cpu/dynamic_quant.cpp) against a plain
// loop with std::nearbyint, on both code paths (AVX-512 and baseline), for lengths that leave
// vector tails and ones large enough to be split over threads: the same bytes, ties rounded to
// even, values beyond the scale clamped, NaN mapped to -127 and skipped by the maximum.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/dynamic_quant.h"
#include "backends/cpu/own_util.h"
#include "cpu_own_test_util.h"

namespace hwopt::cpu {
namespace {

std::vector<float> values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-3.f, 3.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(rng);
  return v;
}

int8_t expected(float x, float inv) {
  float v = x * inv;
  if (!(v >= -127.f)) v = -127.f;
  if (v > 127.f) v = 127.f;
  return static_cast<int8_t>(std::nearbyint(v));
}

TEST(CpuDynamicQuant, MatchesThePlainLoopOnBothPaths) {
  for (own::Isa isa : {own::Isa::avx512, own::Isa::baseline}) {
    testing::IsaGuard guard(isa);
    for (int64_t n : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{1000}, int64_t{300001}}) {
      std::vector<float> x = values(n, static_cast<uint32_t>(n));
      // Ties at the scale of 1: k + 0.5 must round to even; beyond +-127 clamps; one NaN.
      const float inv = 1.f;
      for (int64_t i = 0; i < n; i += 7) x[static_cast<size_t>(i)] = static_cast<float>(i % 300) - 150.5f;
      if (n > 3) x[3] = std::numeric_limits<float>::quiet_NaN();
      float want_max = 0;
      for (float v : x)
        if (!std::isnan(v)) want_max = std::max(want_max, std::fabs(v));
      EXPECT_EQ(abs_max(x.data(), n), want_max) << "n=" << n << " isa=" << static_cast<int>(isa);
      std::vector<int8_t> y(static_cast<size_t>(n), 0);
      quantize_s8(x.data(), n, inv, y.data());
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(y[static_cast<size_t>(i)], expected(x[static_cast<size_t>(i)], inv))
            << "x=" << x[static_cast<size_t>(i)] << " at " << i << " of " << n << " isa=" << static_cast<int>(isa);
      // A realistic scale: max |x| maps to 127.
      std::vector<float> z = values(n, 7);
      const float scale = abs_max(z.data(), n) / 127.f;
      quantize_s8(z.data(), n, 1.f / scale, y.data());
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[static_cast<size_t>(i)], expected(z[static_cast<size_t>(i)], 1.f / scale));
    }
  }
}

TEST(CpuDynamicQuant, InfinityIsTheMaximum) {
  std::vector<float> x(40, 1.f);
  x[33] = -std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isinf(abs_max(x.data(), 40)));
}

}  // namespace
}  // namespace hwopt::cpu
