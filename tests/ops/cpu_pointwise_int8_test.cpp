// The own INT8 pointwise kernel (backends/cpu/pointwise_int8.h): the vectorized kernel against the
// scalar one over input and output channel counts (64-channel packs, 16-channel blocks, partial
// blocks), pixel counts (4-pixel tiles and the rest), u8/s8 sources and destinations and clamps.
// A u8 source matches bit for bit; an s8 one is read as u8 (x + 128) with the
// weights' sum taken out of the shift, so a value on a rounding tie may land one unit away.
#include <cmath>
#include <random>

#include "backends/cpu/pointwise_int8.h"
#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using cpu::Int8Dst;
using cpu::PointwiseInt8;

TEST(CpuPointwiseInt8, VectorizedMatchesScalar) {
  std::mt19937 rng(11);
  struct Dims {
    int64_t k, m;
  };
  const Dims dims[] = {{4, 16},  {16, 96}, {24, 144}, {32, 192}, {64, 384}, {8, 48},
                       {160, 960}, {12, 64}, {20, 80}, {144, 24}, {96, 40}, {8, 8}, {4, 100}};
  int checked = 0;
  for (const Dims& d : dims)
    for (int64_t pixels : {1, 3, 4, 9})
      for (bool sgn : {false, true})
        for (Int8Dst dst : {Int8Dst::u8, Int8Dst::s8})
          for (int act = 0; act < 2; ++act) {
            PointwiseInt8 p;
            p.in_channels = d.k;
            p.out_channels = d.m;
            p.src_signed = sgn;
            p.dst = dst;
            std::vector<int8_t> w(static_cast<size_t>(d.k * d.m));
            std::uniform_int_distribution<int> wd(-127, 127);
            for (auto& v : w) {
              const int r = wd(rng);
              v = static_cast<int8_t>(r == 0 ? 1 : r);
            }
            std::vector<float> ws(static_cast<size_t>(d.m)), bias(static_cast<size_t>(d.m));
            std::uniform_real_distribution<float> u(0.5f, 1.5f), b(-1.f, 1.f);
            for (auto& v : ws) v = 0.01f * u(rng);
            for (auto& v : bias) v = b(rng);
            const float lo = act == 0 ? -INFINITY : 0.f, hi = act == 0 ? INFINITY : 6.f;
            // About 3 standard deviations of the real outputs to the integer range's end.
            const float dst_scale = 0.044f * std::sqrt(static_cast<float>(d.k));
            p.prepare(w.data(), ws.data(), 0.02f, bias.data(), lo, hi, dst_scale);
            ASSERT_EQ(p.vectorized(), cpu::own::use_avx512_vnni());
            std::vector<uint8_t> src(static_cast<size_t>(pixels * d.k));
            std::uniform_int_distribution<int> sd(0, 255);
            for (auto& v : src) v = static_cast<uint8_t>(sd(rng));
            // One byte past the output: a partial block must not write beyond its channels.
            std::vector<uint8_t> fast(static_cast<size_t>(pixels * d.m) + 1, 0xAB), scalar(fast.size(), 0xAB);
            cpu::pointwise_int8(p, src.data(), fast.data(), pixels);
            cpu::pointwise_int8_scalar(p, src.data(), scalar.data(), pixels);
            ASSERT_EQ(fast.back(), 0xAB) << "K " << d.k << " M " << d.m << ": wrote past the output";
            int off_by_one = 0, saturated = 0;
            const size_t outputs = fast.size() - 1;
            for (size_t i = 0; i < outputs; ++i) {
              const int a = dst == Int8Dst::s8 ? static_cast<int8_t>(fast[i]) : fast[i];
              const int e = dst == Int8Dst::s8 ? static_cast<int8_t>(scalar[i]) : scalar[i];
              if (e == 255 || e == 127 || e == -128) ++saturated;
              if (a == e) continue;
              ASSERT_TRUE(sgn && std::abs(a - e) == 1)
                  << "K " << d.k << " M " << d.m << " pixels " << pixels << " value " << i << ": " << a << " vs " << e;
              ++off_by_one;
            }
            EXPECT_LE(off_by_one * 100, static_cast<int>(outputs)) << "K " << d.k << " M " << d.m;
            EXPECT_LT(saturated * 4, static_cast<int>(outputs)) << "the outputs should mostly be in range";
            ++checked;
          }
  EXPECT_GT(checked, 0);
}

// Input channel counts the vectorized kernel does not take run the scalar kernel.
TEST(CpuPointwiseInt8, OtherChannelCountsRunTheScalarKernel) {
  for (auto [k, m] : {std::pair<int64_t, int64_t>{6, 16}, {18, 24}}) {
    PointwiseInt8 p;
    p.in_channels = k;
    p.out_channels = m;
    std::vector<int8_t> w(static_cast<size_t>(k * m), 3);
    std::vector<float> ws(static_cast<size_t>(m), 0.01f);
    p.prepare(w.data(), ws.data(), 0.02f, nullptr, 0.f, 6.f, 0.01f);
    EXPECT_FALSE(p.vectorized());
    std::vector<uint8_t> src(static_cast<size_t>(2 * k), 7), a(static_cast<size_t>(2 * m)), b(a.size());
    cpu::pointwise_int8(p, src.data(), a.data(), 2);
    cpu::pointwise_int8_scalar(p, src.data(), b.data(), 2);
    EXPECT_EQ(a, b);
  }
}

}  // namespace
}  // namespace hwopt
