// The own INT8 3x3 depthwise kernel (backends/cpu/dwconv_int8.h): the vectorized kernels (the
// column kernel for u8 sources with VBMI, the widening one) against the scalar one, bit for bit, over shapes, strides, paddings, channel tails, signedness and
// destination types; and the CPU backend's Conv/FusedConv through it against the FP32 reference
// within the quantization error.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "backends/cpu/dwconv_int8.h"
#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using cpu::DwConvInt8;
using testing::random_tensor;

struct KernelCase {
  int64_t n, c, h, w, sh, sw, pt, pl, pb, pr;
};

std::vector<uint8_t> random_bytes(size_t n, std::mt19937& rng) {
  std::vector<uint8_t> v(n);
  std::uniform_int_distribution<int> d(0, 255);
  for (auto& b : v) b = static_cast<uint8_t>(d(rng));
  return v;
}

TEST(CpuDwConvInt8, VectorizedMatchesScalarBitForBit) {
  if (!cpu::dwconv_int8_fast_available()) GTEST_SKIP() << "no AVX-512 VNNI here: only the scalar kernel runs";
  const std::vector<KernelCase> cases = {
      {1, 16, 7, 7, 1, 1, 1, 1, 1, 1},      {2, 32, 12, 17, 1, 1, 1, 1, 1, 1},   // strips of 16, 4, 2, 1
      {1, 96, 14, 14, 2, 2, 0, 0, 1, 1},    // TensorFlow "SAME", stride 2
      {1, 24, 9, 11, 2, 2, 1, 1, 1, 1},     // channel tail (24 = 16 + 8)
      {3, 5, 6, 6, 1, 1, 1, 1, 1, 1},       // fewer channels than one block
      {1, 40, 33, 35, 1, 1, 1, 1, 1, 1},    // rows longer than two strips
      {1, 16, 1, 1, 1, 1, 1, 1, 1, 1},      // one pixel: only the centre tap inside
      {1, 16, 3, 5, 1, 1, 0, 0, 0, 0},      // no padding, one output row
      {2, 48, 10, 10, 1, 2, 2, 1, 0, 2},    // different strides and asymmetric pads
      {1, 17, 9, 9, 3, 3, 1, 1, 1, 1},      // stride 3: the scalar kernel
      {1, 64, 5, 40, 2, 1, 1, 0, 1, 2}};
  std::mt19937 rng(7);
  for (const auto& k : cases) {
    for (bool sgn : {false, true})
      for (auto dst : {DwConvInt8::Dst::u8, DwConvInt8::Dst::s8, DwConvInt8::Dst::f32})
        for (int act = 0; act < 3; ++act) {
          DwConvInt8 p;
          p.batch = k.n;
          p.channels = k.c;
          p.in_h = k.h;
          p.in_w = k.w;
          p.stride_h = k.sh;
          p.stride_w = k.sw;
          p.pad_top = k.pt;
          p.pad_left = k.pl;
          p.out_h = (k.h + k.pt + k.pb - 3) / k.sh + 1;
          p.out_w = (k.w + k.pl + k.pr - 3) / k.sw + 1;
          p.src_signed = sgn;
          p.dst = dst;
          std::vector<int8_t> w(static_cast<size_t>(k.c * 9));
          std::uniform_int_distribution<int> wd(-127, 127);
          for (auto& v : w) {
            const int r = wd(rng);
            v = static_cast<int8_t>(r == 0 ? 1 : r);  // no zero weight hides a tap
          }
          std::vector<float> ws(static_cast<size_t>(k.c)), bias(static_cast<size_t>(k.c));
          std::uniform_real_distribution<float> u(0.5f, 1.5f), b(-2.f, 2.f);
          for (auto& v : ws) v = 0.01f * u(rng);
          for (auto& v : bias) v = b(rng);
          const float lo = act == 0 ? -INFINITY : 0.f, hi = act == 2 ? 6.f : INFINITY;
          p.prepare(w.data(), ws.data(), 0.02f, bias.data(), lo, hi, 0.01f);
          const std::vector<uint8_t> src = random_bytes(static_cast<size_t>(k.n * k.h * k.w * k.c), rng);
          const size_t out = static_cast<size_t>(p.batch * p.out_h * p.out_w * p.channels) *
                             (dst == DwConvInt8::Dst::f32 ? 4 : 1);
          std::vector<uint8_t> fast(out, 0xAB), serial(out, 0xAB), scalar(out, 0xCD), widened(out, 0xEF);
          cpu::dwconv3x3_int8(p, src.data(), fast.data());
          cpu::dwconv3x3_int8(p, src.data(), serial.data(), /*parallel=*/false);
          cpu::dwconv3x3_int8_scalar(p, src.data(), scalar.data());
          p.column_kernel = false;  // a u8 source through the kernel an s8 one runs
          cpu::dwconv3x3_int8(p, src.data(), widened.data());
          const std::string what = "n" + std::to_string(k.n) + " c" + std::to_string(k.c) + " " + std::to_string(k.h) +
                                   "x" + std::to_string(k.w) + " s" + std::to_string(k.sh) + std::to_string(k.sw) +
                                   (sgn ? " s8" : " u8") + " dst" + std::to_string(static_cast<int>(dst)) + " act" +
                                   std::to_string(act);
          EXPECT_TRUE(fast == scalar) << what;
          EXPECT_TRUE(serial == scalar) << what;
          EXPECT_TRUE(widened == scalar) << what;
          // The clamp reached both ends somewhere (the data exercises the saturation).
          if (dst == DwConvInt8::Dst::u8 && act == 0 && out > 200) {
            EXPECT_NE(std::count(fast.begin(), fast.end(), 0), 0) << what;
            EXPECT_NE(std::count(fast.begin(), fast.end(), 255), 0) << what;
          }
        }
  }
}

// Without AVX-512 the dispatcher runs the scalar kernel: same bytes.
TEST(CpuDwConvInt8, NarrowerIsaRunsTheScalarKernel) {
  DwConvInt8 p;
  p.batch = 1;
  p.channels = 20;
  p.in_h = p.in_w = p.out_h = p.out_w = 6;
  p.pad_top = p.pad_left = 1;
  std::vector<int8_t> w(20 * 9, 3);
  std::vector<float> ws(20, 0.01f);
  p.prepare(w.data(), ws.data(), 0.1f, nullptr, 0.f, 6.f, 0.03f);
  std::mt19937 rng(3);
  const std::vector<uint8_t> src = random_bytes(6 * 6 * 20, rng);
  std::vector<uint8_t> a(6 * 6 * 20), b(a.size());
  {
    testing::IsaGuard guard(cpu::own::Isa::avx2);
    EXPECT_FALSE(cpu::dwconv_int8_fast_available());
    cpu::dwconv3x3_int8(p, src.data(), a.data());
  }
  cpu::dwconv3x3_int8_scalar(p, src.data(), b.data());
  EXPECT_EQ(a, b);
}

struct OpCase {
  Shape x;
  std::vector<int64_t> strides, pads;
  std::string auto_pad;
  bool bias;
};

// Through the backend: a static INT8 depthwise Conv/FusedConv runs on the own kernel, within the
// quantization error of the FP32 reference (as the oneDNN INT8 convolutions are tested).
TEST(CpuDwConvInt8, BackendConvMatchesReferenceWithinQuantizationError) {
  if (!cpu::dwconv_int8_fast_available()) GTEST_SKIP() << "the own kernel declines without AVX-512 VNNI";
  const std::vector<OpCase> cases = {{{1, 32, 10, 10}, {1, 1}, {1, 1, 1, 1}, "", true},
                                     {{2, 24, 9, 9}, {2, 2}, {0, 0, 1, 1}, "", true},  // TF "SAME"
                                     {{1, 48, 8, 13}, {2, 2}, {}, "SAME_UPPER", false},
                                     {{1, 16, 7, 7}, {1, 1}, {}, "VALID", true},
                                     {{3, 8, 5, 6}, {1, 2}, {1, 0, 1, 1}, "", true}};
  for (const auto& c : cases) {
    for (int act = 0; act < 3; ++act) {
      const int64_t ch = c.x[1];
      std::vector<ir::Attribute> attrs = {testing::attr_i("group", ch), testing::attr_ints("strides", c.strides)};
      if (!c.pads.empty()) attrs.push_back(testing::attr_ints("pads", c.pads));
      if (!c.auto_pad.empty()) attrs.push_back(testing::attr_s("auto_pad", c.auto_pad));
      const std::vector<ir::Attribute> linear_attrs = attrs;
      if (act == 1) attrs.push_back(testing::attr_s("activation", "Relu"));
      if (act == 2) {
        attrs.push_back(testing::attr_s("activation", "Clip"));
        attrs.push_back(testing::attr_floats("activation_params", {0.f, 1.f}));
      }
      Tensor x = random_tensor(c.x, 1);
      const bool sgn = act == 0;  // signed input: the s8 path
      if (!sgn)
        for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::fabs(x.data<float>()[i]) * 3.f;
      const std::vector<Tensor> inputs = {x, random_tensor({ch, 1, 3, 3}, 2),
                                          c.bias ? random_tensor({ch}, 3) : Tensor()};
      auto ref = testing::run_ref_op("FusedConv", inputs, attrs, 11, 1, "com.microsoft");
      ASSERT_TRUE(ref.error.empty()) << ref.error;
      auto linear = testing::run_ref_op("FusedConv", inputs, linear_attrs, 11, 1, "com.microsoft");
      ASSERT_TRUE(linear.error.empty()) << linear.error;
      auto cpu = testing::run_backend_op("cpu", "FusedConv", inputs, attrs, 11, 1, "com.microsoft", {1, 2}, 2, "int8",
                                         {{"in0", testing::range_of(x)}});
      ASSERT_TRUE(cpu.error.empty()) << cpu.error;
      EXPECT_EQ(cpu.implementation, sgn ? "cpu:own:dwconv3x3[int8(s8->f32)]" : "cpu:own:dwconv3x3[int8(u8->f32)]");
      testing::expect_within_precision(cpu.out(), ref.out(), 0.03, testing::max_abs(linear.out()), 0.998,
                                       "dw int8 x " + shape_str(c.x) + " act " + std::to_string(act));
    }
  }
}

// What the own kernel does not take goes to oneDNN, with the reason.
TEST(CpuDwConvInt8, DeclinesWhatItDoesNotCompute) {
  const Tensor x = random_tensor({1, 8, 6, 6}, 1);
  const std::map<std::string, ActivationRange> ranges{{"in0", testing::range_of(x)}};
  struct Decline {
    std::vector<Tensor> inputs;
    std::vector<ir::Attribute> attrs;
    std::string precision, why;
  };
  const std::vector<Decline> cases = {
      {{x, random_tensor({8, 1, 3, 3}, 2)}, {testing::attr_i("group", 8)}, "fp32", "static INT8"},
      {{x, random_tensor({8, 1, 5, 5}, 2)}, {testing::attr_i("group", 8)}, "int8", "3x3 depthwise"},
      {{x, random_tensor({16, 1, 3, 3}, 2)}, {testing::attr_i("group", 8)}, "int8", "3x3 depthwise"},
      {{x, random_tensor({8, 1, 3, 3}, 2)},
       {testing::attr_i("group", 8), testing::attr_ints("dilations", {2, 2})},
       "int8",
       "dilated"},
      {{x, random_tensor({8, 1, 3, 3}, 2)},
       {testing::attr_i("group", 8), testing::attr_s("activation", "Sigmoid")},
       "int8",
       "not a clamp"}};
  for (const auto& d : cases) {
    auto cpu = testing::run_backend_op("cpu", "FusedConv", d.inputs, d.attrs, 11, 1, "com.microsoft", {1}, 2, d.precision,
                                       ranges);
    testing::expect_declined(cpu, "cpu:onednn:conv", d.why);
  }
}

}  // namespace
}  // namespace hwopt
