// The own static INT8 FusedConvDepthwise (cpu:own:conv1x1_dw3x3 in backends/cpu/conv.cpp: the
// pointwise convolution on bands of rows, own kernel up to 64 input channels and oneDNN's above,
// the own depthwise kernel on each band) against the FP32 reference within the quantization
// error and against oneDNN's INT8 FusedConvDepthwise (the fused depthwise post-op, or two
// primitives for pads other than 1); and the oneDNN FP32 kernel's two-primitive path for
// TensorFlow "SAME" pads.
#include <algorithm>
#include <cmath>
#include <map>

#include "backends/cpu/dwconv_int8.h"
#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using testing::random_tensor;

struct Case {
  int64_t n, c, m, h, w, stride;
  std::vector<int64_t> pads;  // dw_pads: top, left, bottom, right
};

// Batch sizes below and above the two threads (an image split between them, or whole images),
// intermediates of many bands (512 channels x 64 columns: 32 KB a row, several bands of rows),
// both strides with PyTorch's and TensorFlow's padding, channel counts that are not a multiple
// of 16 (partial blocks in the own pointwise kernel), up to 64 input channels (the own pointwise
// kernel) and more (oneDNN's).
const std::vector<Case> kCases = {
    {1, 16, 96, 14, 14, 2, {1, 1, 1, 1}}, {2, 24, 144, 9, 9, 1, {1, 1, 1, 1}}, {1, 8, 48, 15, 15, 2, {0, 0, 1, 1}},
    {3, 8, 40, 7, 11, 1, {1, 1, 1, 1}},   {1, 8, 512, 40, 64, 1, {1, 1, 1, 1}}, {1, 8, 512, 41, 64, 2, {0, 0, 1, 1}},
    {2, 4, 20, 5, 6, 2, {1, 1, 1, 1}},    {5, 8, 32, 6, 6, 1, {0, 0, 0, 0}},
    // More than 64 input channels: oneDNN's pointwise kernel on the bands.
    {1, 96, 128, 10, 12, 1, {1, 1, 1, 1}}, {1, 80, 512, 20, 64, 2, {0, 0, 1, 1}}};

Shape out_shape(const Case& c) {
  return {c.n, c.m, (c.h + c.pads[0] + c.pads[2] - 3) / c.stride + 1, (c.w + c.pads[1] + c.pads[3] - 3) / c.stride + 1};
}

std::vector<ir::Attribute> attrs_of(const Case& c, bool clip) {
  std::vector<ir::Attribute> attrs = {testing::attr_ints("dw_strides", {c.stride, c.stride}),
                                      testing::attr_ints("dw_pads", c.pads), testing::attr_s("intermediate", "mid")};
  if (clip) {
    attrs.push_back(testing::attr_s("activation", "Clip"));
    attrs.push_back(testing::attr_floats("activation_params", {0.f, 6.f}));
    attrs.push_back(testing::attr_s("dw_activation", "Clip"));
    attrs.push_back(testing::attr_floats("dw_activation_params", {0.f, 6.f}));
  }
  return attrs;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, std::fabs(a.element_as_double(i) - b.element_as_double(i)));
  return d;
}

TEST(CpuConvDwInt8, MatchesReferenceAndOneDnn) {
  if (!cpu::dwconv_int8_fast_available()) GTEST_SKIP() << "the own kernel declines without AVX-512 VNNI";
  for (const Case& c : kCases)
    for (bool signed_input : {false, true})
      for (bool clip : {true, false}) {  // no activation: a signed intermediate
        const std::string what = "x " + shape_str({c.n, c.c, c.h, c.w}) + " -> " + std::to_string(c.m) + " stride " +
                                 std::to_string(c.stride) + (signed_input ? " s8" : " u8") + (clip ? " clip" : "");
        Tensor x = random_tensor({c.n, c.c, c.h, c.w}, 1);
        if (!signed_input)
          for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::fabs(x.data<float>()[i]) * 3.f;
        const std::vector<Tensor> inputs = {x, random_tensor({c.m, c.c, 1, 1}, 2), random_tensor({c.m}, 3),
                                            random_tensor({c.m, 1, 3, 3}, 4), random_tensor({c.m}, 5)};
        const std::vector<ir::Attribute> attrs = attrs_of(c, clip);
        std::vector<ir::Attribute> pw_attrs;
        if (clip) pw_attrs = {testing::attr_s("activation", "Clip"), testing::attr_floats("activation_params", {0.f, 6.f})};
        auto mid = testing::run_ref_op("FusedConv", {inputs[0], inputs[1], inputs[2]}, pw_attrs, 11, 1, "com.microsoft");
        ASSERT_TRUE(mid.error.empty()) << mid.error;
        auto ref = testing::run_ref_op("FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt");
        ASSERT_TRUE(ref.error.empty()) << ref.error;
        ASSERT_EQ(ref.out().shape(), out_shape(c));
        const std::map<std::string, ActivationRange> ranges{{"in0", testing::range_of(x)},
                                                            {"mid", testing::range_of(mid.out())}};
        auto own = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt", {1, 2, 3, 4}, 2,
                                           "int8", ranges);
        ASSERT_TRUE(own.error.empty()) << own.error;
        EXPECT_EQ(own.implementation, signed_input ? "cpu:own:conv1x1_dw3x3[int8(s8->f32)]"
                                                   : "cpu:own:conv1x1_dw3x3[int8(u8->f32)]")
            << what;
        testing::expect_within_precision(own.out(), ref.out(), 0.06, testing::max_abs(ref.out()), 0.995, what);
        // oneDNN (the own kernels declined below AVX-512): the pointwise halves round the
        // intermediate alike but for values on a tie (one unit apart), so the outputs differ by
        // at most one intermediate unit per tap times the tap's weight.
        testing::IsaGuard guard(cpu::own::Isa::avx2);
        auto onednn = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt", {1, 2, 3, 4},
                                              2, "int8", ranges);
        ASSERT_TRUE(onednn.error.empty()) << onednn.error;
        EXPECT_EQ(onednn.implementation.rfind("cpu:onednn:conv[int8", 0), 0u) << onednn.implementation;
        const float mid_unit = testing::range_of(mid.out()).threshold / 127.f;
        double taps = 0;  // the largest sum of one channel's |depthwise weights|
        for (int64_t ch = 0; ch < c.m; ++ch) {
          double sum = 0;
          for (int64_t t = 0; t < 9; ++t) sum += std::fabs(inputs[3].data<float>()[ch * 9 + t]);
          taps = std::max(taps, sum);
        }
        EXPECT_LE(max_abs_diff(own.out(), onednn.out()), mid_unit * taps * 1.01 + 1e-4 * testing::max_abs(ref.out()))
            << what;
      }
}

// The FP32 oneDNN kernel: dw_pads other than 1 (TensorFlow's "SAME" at stride 2) run as two
// primitives, exactly as the reference computes them.
TEST(CpuConvDwInt8, Fp32OtherPadsRunAsTwoPrimitives) {
  for (const Case& c : {Case{1, 8, 48, 15, 15, 2, {0, 0, 1, 1}}, Case{2, 16, 32, 8, 9, 2, {0, 0, 1, 1}},
                        Case{1, 8, 24, 6, 6, 1, {0, 0, 0, 0}}, Case{1, 8, 24, 6, 7, 1, {2, 1, 0, 2}}}) {
    const std::vector<Tensor> inputs = {random_tensor({c.n, c.c, c.h, c.w}, 1), random_tensor({c.m, c.c, 1, 1}, 2),
                                        random_tensor({c.m}, 3), random_tensor({c.m, 1, 3, 3}, 4),
                                        random_tensor({c.m}, 5)};
    const std::vector<ir::Attribute> attrs = attrs_of(c, true);
    auto ref = testing::run_ref_op("FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt");
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    ASSERT_EQ(ref.out().shape(), out_shape(c));
    auto cpu = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt", {1, 2, 3, 4});
    EXPECT_EQ(cpu.implementation, "cpu:onednn:conv");
    testing::expect_same(cpu, ref);
  }
}

// What the own kernel does not take goes to oneDNN, with the reason.
TEST(CpuConvDwInt8, DeclinesWhatItDoesNotCompute) {
  const Case c{1, 8, 16, 6, 6, 1, {1, 1, 1, 1}};
  const Tensor x = random_tensor({c.n, c.c, c.h, c.w}, 1);
  const std::vector<Tensor> inputs = {x, random_tensor({c.m, c.c, 1, 1}, 2), random_tensor({c.m}, 3),
                                      random_tensor({c.m, 1, 3, 3}, 4), random_tensor({c.m}, 5)};
  auto mid = testing::run_ref_op("FusedConv", {inputs[0], inputs[1], inputs[2]}, {}, 11, 1, "com.microsoft");
  ASSERT_TRUE(mid.error.empty()) << mid.error;
  const std::map<std::string, ActivationRange> ranges{{"in0", testing::range_of(x)},
                                                      {"mid", testing::range_of(mid.out())}};
  std::vector<ir::Attribute> sigmoid = attrs_of(c, false);
  sigmoid.push_back(testing::attr_s("dw_activation", "Sigmoid"));
  struct Decline {
    std::vector<ir::Attribute> attrs;
    std::string precision, why;
  };
  for (const Decline& d : {Decline{attrs_of(c, false), "fp32", "static INT8"}, Decline{sigmoid, "int8", "not a clamp"}}) {
    auto cpu = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs, d.attrs, 1, 1, "ai.hwopt", {1, 2, 3, 4}, 2,
                                       d.precision, ranges);
    testing::expect_declined(cpu, "cpu:onednn:conv", d.why);
  }
}

}  // namespace
}  // namespace hwopt
