// The CPU backend's oneDNN convolution against the reference kernel.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "backends/cpu/dwconv_int8.h"
#include "backends/cpu/onednn.h"
#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using testing::random_tensor;

struct ConvCase {
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, pads, dilations;
  std::string auto_pad;
  bool bias;
};

// Runs the case on the cpu backend and checks it against the reference kernel; returns the cpu
// run (no outputs where it failed).
SingleOpResult check_conv_case(const ConvCase& c, const std::string& op, const std::string& domain,
                       std::vector<ir::Attribute> extra, bool residual, const std::string& conv_algorithm = "winograd") {
  std::vector<ir::Attribute> attrs = {testing::attr_i("group", c.group)};
  if (!c.strides.empty()) attrs.push_back(testing::attr_ints("strides", c.strides));
  if (!c.pads.empty()) attrs.push_back(testing::attr_ints("pads", c.pads));
  if (!c.dilations.empty()) attrs.push_back(testing::attr_ints("dilations", c.dilations));
  if (!c.auto_pad.empty()) attrs.push_back(testing::attr_s("auto_pad", c.auto_pad));
  for (auto& a : extra) attrs.push_back(a);
  std::vector<Tensor> inputs = {random_tensor(c.x, 1), random_tensor(c.w, 2),
                                c.bias ? random_tensor({c.w[0]}, 3) : Tensor()};
  auto ref = testing::run_ref_op(op, inputs, attrs, 11, 1, domain);
  EXPECT_TRUE(ref.error.empty()) << ref.error;
  if (!ref.error.empty()) return {};
  if (residual) {
    inputs.push_back(random_tensor(ref.out().shape(), 4));
    ref = testing::run_ref_op(op, inputs, attrs, 11, 1, domain);
    EXPECT_TRUE(ref.error.empty()) << ref.error;
    if (!ref.error.empty()) return {};
  }
  SingleOp single;
  single.op_type = op;
  single.domain = domain;
  single.opset = 11;
  single.attributes = attrs;
  single.inputs = inputs;
  single.constant_inputs = {1, 2};
  single.conv_algorithm = conv_algorithm;
  auto cpu = run_single_op("cpu", single, 2);
  EXPECT_TRUE(cpu.error.empty()) << cpu.error;
  if (!cpu.error.empty()) return {};
  // What ran, as profiles show it: the oneDNN convolution it planned, not a run-time fallback.
  EXPECT_EQ(cpu.kernel.rfind("convolution ", 0), 0u) << cpu.kernel;
  EXPECT_EQ(cpu.implementation, "cpu:onednn:conv");
  std::vector<double> want;
  for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
  testing::expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-4, 1e-4);
  return cpu;
}

const std::vector<ConvCase> kCases = {
    {{1, 3, 8, 8}, {4, 3, 3, 3}, 1, {}, {}, {}, "", true},
    {{2, 16, 9, 7}, {32, 16, 3, 3}, 1, {2, 2}, {1, 1, 1, 1}, {}, "", true},
    {{1, 32, 10, 10}, {32, 1, 3, 3}, 32, {1, 1}, {1, 1, 1, 1}, {}, "", false},  // depthwise
    {{1, 8, 11, 11}, {8, 2, 3, 3}, 4, {2, 1}, {0, 1, 2, 1}, {2, 2}, "", true},  // grouped, dilated
    {{1, 24, 7, 7}, {48, 24, 1, 1}, 1, {}, {}, {}, "", false},                 // pointwise
    {{1, 4, 9, 9}, {6, 4, 4, 4}, 1, {3, 3}, {}, {}, "SAME_UPPER", true},
    {{1, 4, 9, 9}, {6, 4, 2, 2}, 1, {2, 2}, {}, {}, "SAME_LOWER", false},
    {{2, 3, 20}, {5, 3, 4}, 1, {2}, {1, 2}, {}, "", true},                     // 1-D
};

TEST(CpuConv, MatchesReference) {
  for (const auto& c : kCases) check_conv_case(c, "Conv", "", {}, false);
}

// FP32 3x3 convolutions with stride 1 run on oneDNN's Winograd kernels where it has them (see
// conv.cpp): the shapes below are ones it takes here (checked first, so the test says when the
// machine gives only the direct kernel), with bias, activation and residual sum.
TEST(CpuConv, WinogradShapesMatchReference) {
  const std::vector<ConvCase> cases = {
      {{1, 64, 14, 14}, {64, 64, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {}, "", true},
      {{2, 96, 20, 20}, {24, 96, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {}, "", true},  // PP-OCRv4 det's head
      {{1, 32, 9, 7}, {16, 32, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {}, "", false},    // odd sizes
      {{1, 16, 12, 12}, {32, 16, 3, 3}, 1, {1, 1}, {0, 0, 0, 0}, {}, "", true},   // no padding
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(shape_str(c.x) + " * " + shape_str(c.w));
    using dt = dnnl::memory::data_type;
    auto any = [](const Shape& s) { return dnnl::memory::desc(cpu::to_dims(s), dt::f32, dnnl::memory::format_tag::any); };
    const int64_t p = c.pads.empty() ? 0 : c.pads[0];
    const Shape out = {c.x[0], c.w[0], c.x[2] + 2 * p - 2, c.x[3] + 2 * p - 2};
    try {
      dnnl::convolution_forward::primitive_desc pd(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
                                          any(c.x), any(c.w), any(out), {1, 1}, {p, p}, {p, p}),
          cpu::engine());
      EXPECT_NE(std::string(pd.impl_info_str()).find("wino"), std::string::npos) << pd.impl_info_str();
    } catch (const dnnl::error&) {
      ADD_FAILURE() << "oneDNN has no Winograd kernel for this shape on this machine";
    }
    const SingleOpResult wino = check_conv_case(c, "Conv", "", {}, false);
    check_conv_case(c, "FusedConv", "com.microsoft", {testing::attr_s("activation", "Relu")}, true);
    // SessionOptions::conv_algorithm "direct": the direct kernel, whose rounding differs from
    // Winograd's somewhere in the output (else the switch did not reach the kernel).
    const SingleOpResult direct = check_conv_case(c, "Conv", "", {}, false, "direct");
    ASSERT_TRUE(!wino.outputs.empty() && !direct.outputs.empty());
    // The kernel detail says which ran (profiles show it).
    EXPECT_NE(wino.kernel.find("wino"), std::string::npos) << wino.kernel;
    EXPECT_EQ(direct.kernel.find("wino"), std::string::npos) << direct.kernel;
    int64_t differ = 0;
    for (int64_t i = 0; i < wino.out().numel(); ++i) differ += wino.out().data<float>()[i] != direct.out().data<float>()[i];
    EXPECT_GT(differ, 0) << "Winograd and direct outputs are bit for bit the same";
  }
}

TEST(CpuConv, FusedActivationsAndResidualMatchReference) {
  const std::vector<std::vector<ir::Attribute>> acts = {
      {testing::attr_s("activation", "Relu")},
      {testing::attr_s("activation", "Clip"), testing::attr_floats("activation_params", {0.f, 6.f})},
      {testing::attr_s("activation", "LeakyRelu"), testing::attr_floats("activation_params", {0.1f})},
      {testing::attr_s("activation", "HardSigmoid"), testing::attr_floats("activation_params", {0.2f, 0.5f})},
      {testing::attr_s("activation", "Sigmoid")},
      {testing::attr_s("activation", "Tanh")},
      {testing::attr_s("activation", "Mish")},
  };
  for (const auto& act : acts)
    for (size_t k = 0; k < 3; ++k) {
      check_conv_case(kCases[k], "FusedConv", "com.microsoft", act, false);
      check_conv_case(kCases[k], "FusedConv", "com.microsoft", act, true);
    }
}

// ai.hwopt FusedConv: post_linear (alpha * y + beta after the activation, fuse_conv_post_linear)
// as oneDNN's last post-op, over every case, with and without a residual, for several activations.
TEST(CpuConv, PostLinearMatchesReference) {
  const std::vector<std::vector<ir::Attribute>> tails = {
      {testing::attr_s("activation", "HardSwish"), testing::attr_floats("post_linear", {0.75f, -0.3f})},
      {testing::attr_s("activation", "Relu"), testing::attr_floats("post_linear", {-1.5f, 2.f})},
      {testing::attr_floats("post_linear", {2.f, 0.f})},  // no activation (a residual FusedConv)
  };
  for (const auto& tail : tails)
    for (const auto& c : kCases) {
      check_conv_case(c, "FusedConv", "ai.hwopt", tail, false);
      check_conv_case(c, "FusedConv", "ai.hwopt", tail, true);
    }
}

// FusedConvDepthwise (a 1x1 convolution and the 3x3 depthwise convolution of its result, one
// oneDNN convolution with a depthwise post-op) against its reference kernel, over batch sizes,
// channel counts, odd and even spatial sizes, both strides, activations and optional biases.
TEST(CpuConv, FusedConvDepthwiseMatchesReference) {
  struct DwCase {
    int64_t n, c, m, h, w, stride;
    bool bias, dw_bias;
    std::vector<ir::Attribute> acts;
  };
  auto clip6 = [](const char* name) {
    return std::vector<ir::Attribute>{testing::attr_s(name, "Clip"),
                                      testing::attr_floats(std::string(name) + "_params", {0.f, 6.f})};
  };
  std::vector<ir::Attribute> both = clip6("activation");
  for (auto& a : clip6("dw_activation")) both.push_back(a);
  const std::vector<DwCase> cases = {
      {1, 16, 96, 14, 14, 2, true, true, both},
      {1, 24, 144, 15, 15, 1, true, true, both},
      {3, 8, 48, 9, 7, 2, false, true, {testing::attr_s("activation", "Relu")}},
      {2, 32, 192, 7, 7, 1, true, false, {testing::attr_s("dw_activation", "HardSwish")}},
      {1, 5, 20, 6, 11, 2, true, true, {}},  // channels not a multiple of the SIMD width
      {8, 16, 32, 5, 5, 1, true, true, both},
  };
  for (const auto& c : cases) {
    std::vector<ir::Attribute> attrs = {testing::attr_ints("dw_strides", {c.stride, c.stride}),
                                        testing::attr_ints("dw_pads", {1, 1, 1, 1})};
    for (const auto& a : c.acts) attrs.push_back(a);
    const std::vector<Tensor> inputs = {random_tensor({c.n, c.c, c.h, c.w}, 1), random_tensor({c.m, c.c, 1, 1}, 2),
                                        c.bias ? random_tensor({c.m}, 3) : Tensor(), random_tensor({c.m, 1, 3, 3}, 4),
                                        c.dw_bias ? random_tensor({c.m}, 5) : Tensor()};
    auto ref = testing::run_ref_op("FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt");
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    ASSERT_EQ(ref.out().shape(), (Shape{c.n, c.m, (c.h - 1) / c.stride + 1, (c.w - 1) / c.stride + 1}));
    auto cpu = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt", {1, 2, 3, 4});
    ASSERT_TRUE(cpu.error.empty()) << cpu.error;
    EXPECT_EQ(cpu.implementation, "cpu:onednn:conv");
    // oneDNN's own fused kernel or two primitives, never its slower ref_fused_convolution.
    EXPECT_EQ(cpu.kernel.rfind("convolution ", 0), 0u) << cpu.kernel;
    EXPECT_EQ(cpu.kernel.find("ref_fused"), std::string::npos) << cpu.kernel;
    std::vector<double> want;
    for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
    testing::expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-4, 1e-4);
  }
}

// INT8 FusedConvDepthwise on oneDNN: the intermediate is stored as INT8 inside the fused kernel at the
// scale of its calibrated range (named by the `intermediate` attribute); without that range the
// node runs in FP32.
TEST(CpuConv, FusedConvDepthwiseInt8MatchesReferenceWithinQuantizationError) {
  // oneDNN's kernel: the own one (tests/ops/cpu_conv_dw_int8_test.cpp) declines below AVX-512.
  testing::IsaGuard guard(cpu::own::Isa::avx2);
  struct Q8Case {
    int64_t n, c, m, h, stride;
    bool signed_input, clip;
  };
  const std::vector<Q8Case> cases = {{1, 16, 96, 14, 2, false, true},
                                     {2, 24, 144, 9, 1, true, true},
                                     {1, 8, 48, 7, 2, true, false},  // no activation: a signed intermediate
                                     {4, 32, 64, 6, 1, false, false}};
  for (const auto& c : cases) {
    std::vector<ir::Attribute> pw_attrs, attrs = {testing::attr_ints("dw_strides", {c.stride, c.stride}),
                                                  testing::attr_ints("dw_pads", {1, 1, 1, 1}),
                                                  testing::attr_s("intermediate", "mid")};
    if (c.clip) {
      pw_attrs = {testing::attr_s("activation", "Clip"), testing::attr_floats("activation_params", {0.f, 6.f})};
      for (const auto& a : pw_attrs) attrs.push_back(a);
      attrs.push_back(testing::attr_s("dw_activation", "Clip"));
      attrs.push_back(testing::attr_floats("dw_activation_params", {0.f, 6.f}));
    }
    Tensor x = random_tensor({c.n, c.c, c.h, c.h}, 1);
    if (!c.signed_input)
      for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::fabs(x.data<float>()[i]) * 3.f;
    const std::vector<Tensor> inputs = {x, random_tensor({c.m, c.c, 1, 1}, 2), random_tensor({c.m}, 3),
                                        random_tensor({c.m, 1, 3, 3}, 4), random_tensor({c.m}, 5)};
    auto mid = testing::run_ref_op("FusedConv", {inputs[0], inputs[1], inputs[2]}, pw_attrs, 11, 1, "com.microsoft");
    ASSERT_TRUE(mid.error.empty()) << mid.error;
    auto ref = testing::run_ref_op("FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt");
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    const std::map<std::string, ActivationRange> ranges{{"in0", testing::range_of(x)},
                                                        {"mid", testing::range_of(mid.out())}};
    auto cpu = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt", {1, 2, 3, 4}, 2,
                                       "int8", ranges);
    ASSERT_TRUE(cpu.error.empty()) << cpu.error;
    EXPECT_EQ(cpu.implementation, c.signed_input ? "cpu:onednn:conv[int8(s8->f32)]" : "cpu:onednn:conv[int8(u8->f32)]");
    testing::expect_within_precision(cpu.out(), ref.out(), 0.05, testing::max_abs(ref.out()), 0.995,
                                     "int8 FusedConvDepthwise x " + shape_str(x.shape()));
    // Without the intermediate's range: FP32, exact.
    auto fp32 = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs, attrs, 1, 1, "ai.hwopt", {1, 2, 3, 4}, 2,
                                        "int8", {{"in0", testing::range_of(x)}});
    ASSERT_TRUE(fp32.error.empty()) << fp32.error;
    EXPECT_EQ(fp32.implementation, "cpu:onednn:conv");
    testing::expect_same(fp32, ref);
  }
}

TEST(CpuConv, FusedConvDepthwiseDeclinesWhatThePostOpCannotCompute) {
  const std::vector<Tensor> inputs = {random_tensor({1, 4, 6, 6}, 1), random_tensor({8, 4, 1, 1}, 2), Tensor(),
                                      random_tensor({8, 1, 3, 3}, 4)};
  auto cpu = testing::run_backend_op("cpu", "FusedConvDepthwise", inputs,
                                     {testing::attr_ints("dw_strides", {3, 3}), testing::attr_ints("dw_pads", {1, 1, 1, 1})},
                                     1, 1, "ai.hwopt", {1, 3});
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "ref:FusedConvDepthwise");
  ASSERT_FALSE(cpu.declined.empty());
  EXPECT_NE(cpu.declined[0].find("dw_strides"), std::string::npos);
}

// Reduced precision: the oneDNN convolution in BF16 or INT8 against the FP32 reference kernel,
// within the error the format allows (relative to the output's largest magnitude).
void check_conv_precision(const ConvCase& c, const std::string& precision, std::vector<ir::Attribute> extra,
                          bool residual, double tol) {
  std::vector<ir::Attribute> attrs = {testing::attr_i("group", c.group)};
  if (!c.strides.empty()) attrs.push_back(testing::attr_ints("strides", c.strides));
  if (!c.pads.empty()) attrs.push_back(testing::attr_ints("pads", c.pads));
  if (!c.dilations.empty()) attrs.push_back(testing::attr_ints("dilations", c.dilations));
  if (!c.auto_pad.empty()) attrs.push_back(testing::attr_s("auto_pad", c.auto_pad));
  const std::vector<ir::Attribute> linear_attrs = attrs;  // without the activation
  // A post_linear makes it fuse_conv_post_linear's ai.hwopt FusedConv.
  const bool post =
      std::any_of(extra.begin(), extra.end(), [](const ir::Attribute& a) { return a.name == "post_linear"; });
  const std::string domain = post ? "ai.hwopt" : "com.microsoft";
  for (auto& a : extra) attrs.push_back(a);
  Tensor x = random_tensor(c.x, 1);
  if (c.x[1] % 2 == 0) {
    // Non-negative inputs (as after a ReLU) take the u8 path, signed ones s8.
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::fabs(x.data<float>()[i]) * 3.f;
  }
  std::vector<Tensor> inputs = {x, random_tensor(c.w, 2), c.bias ? random_tensor({c.w[0]}, 3) : Tensor()};
  auto ref = testing::run_ref_op("FusedConv", inputs, attrs, 11, 1, domain);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  if (residual) {
    inputs.push_back(random_tensor(ref.out().shape(), 4));
    ref = testing::run_ref_op("FusedConv", inputs, attrs, 11, 1, domain);
    ASSERT_TRUE(ref.error.empty()) << ref.error;
  }
  // The error scales with the magnitude before the activation (a Clip to [0, 1] of values up
  // to 30 keeps their quantization error).
  auto linear = testing::run_ref_op("FusedConv", inputs, linear_attrs, 11, 1, "com.microsoft");
  ASSERT_TRUE(linear.error.empty()) << linear.error;
  const double max_ref = testing::max_abs(linear.out());
  std::map<std::string, ActivationRange> ranges{{"in0", testing::range_of(x)}};
  auto cpu = testing::run_backend_op("cpu", "FusedConv", inputs, attrs, 11, 1, domain, {1, 2}, 2, precision, ranges);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  // A 3x3 depthwise convolution without a residual runs on the own INT8 kernel
  // (tests/ops/cpu_dwconv_int8_test.cpp) where the CPU has AVX-512 VNNI.
  const bool own_dw = precision == "int8" && !residual && !post && c.group == c.x[1] && c.w[0] == c.group &&
                      c.w.size() == 4 && c.w[2] == 3 && c.w[3] == 3 && cpu::dwconv_int8_fast_available();
  const std::string kernel = own_dw ? "cpu:own:dwconv3x3" : "cpu:onednn:conv";
  const std::string want_impl = precision == "int8" ? kernel + (c.x[1] % 2 == 0 ? "[int8(u8->f32)]" : "[int8(s8->f32)]")
                                                    : "cpu:onednn:conv[bf16(->f32)]";
  EXPECT_EQ(cpu.implementation, want_impl);
  testing::expect_within_precision(cpu.out(), ref.out(), tol, max_ref, 0.998,
                                   precision + " x " + shape_str(c.x) + " w " + shape_str(c.w));
}

TEST(CpuConv, Bf16MatchesReferenceWithinBf16Error) {
  for (const auto& c : kCases) {
    check_conv_precision(c, "bf16", {}, false, 0.01);
    check_conv_precision(c, "bf16", {testing::attr_s("activation", "Relu")}, true, 0.01);
  }
}

TEST(CpuConv, Int8MatchesReferenceWithinQuantizationError) {
  for (const auto& c : kCases) {
    check_conv_precision(c, "int8", {}, false, 0.03);
    check_conv_precision(c, "int8", {testing::attr_s("activation", "Relu")}, true, 0.03);
    check_conv_precision(c, "int8",
                         {testing::attr_s("activation", "Clip"), testing::attr_floats("activation_params", {0.f, 1.f})},
                         true, 0.03);
    const std::vector<ir::Attribute> affine = {testing::attr_s("activation", "HardSwish"),
                                               testing::attr_floats("post_linear", {0.8f, -0.2f})};
    for (bool residual : {false, true}) check_conv_precision(c, "int8", affine, residual, 0.03);
  }
}

// A dead output channel (weights ~1e-39, denormal, as in PP-OCRv4's recognizer) with a bias: its
// weight scale must not make the accumulator unit underflow (the bias in accumulator units was
// infinite and the channel NaN); it is quantized as zeros and its output is the bias.
TEST(CpuConv, Int8DeadChannelWithBiasStaysFinite) {
  for (bool post : {false, true}) {
    std::vector<ir::Attribute> attrs = {testing::attr_s("activation", "HardSwish")};
    if (post) attrs.push_back(testing::attr_floats("post_linear", {0.7f, 0.24f}));
    const std::string domain = post ? "ai.hwopt" : "com.microsoft";
    Tensor x = random_tensor({1, 32, 6, 10}, 1);  // signed: the s8 path
    Tensor w = random_tensor({48, 32, 1, 1}, 2);
    for (int64_t i = 0; i < 32; ++i) w.data<float>()[5 * 32 + i] = (i % 2 ? 6.8e-39f : -3e-39f);
    const std::vector<Tensor> inputs = {x, w, random_tensor({48}, 3)};
    auto ref = testing::run_ref_op("FusedConv", inputs, attrs, 11, 1, domain);
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    std::map<std::string, ActivationRange> ranges{{"in0", testing::range_of(x)}};
    auto cpu = testing::run_backend_op("cpu", "FusedConv", inputs, attrs, 11, 1, domain, {1, 2}, 2, "int8", ranges);
    ASSERT_TRUE(cpu.error.empty()) << cpu.error;
    EXPECT_EQ(cpu.implementation, "cpu:onednn:conv[int8(s8->f32)]");
    testing::expect_within_precision(cpu.out(), ref.out(), 0.03, testing::max_abs(ref.out()), 0.998,
                                     std::string("dead channel, post_linear ") + (post ? "on" : "off"));
    for (int64_t i = 0; i < cpu.out().numel(); ++i) ASSERT_TRUE(std::isfinite(cpu.out().element_as_double(i))) << i;
  }
}

TEST(CpuConv, Int8WithoutARangeStaysFp32) {
  auto cpu = testing::run_backend_op("cpu", "Conv", {random_tensor({1, 3, 5, 5}, 1), random_tensor({2, 3, 3, 3}, 2)},
                                     {}, 11, 1, "", {1}, 2, "int8", {});
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "cpu:onednn:conv");
}

TEST(CpuConv, DeclinesWithReasonWhenWeightsAreNotConstant) {
  auto cpu = testing::run_backend_op("cpu", "Conv", {random_tensor({1, 3, 5, 5}, 1), random_tensor({2, 3, 3, 3}, 2)}, {},
                                     11, 1, "", {});
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "ref:Conv");
  ASSERT_FALSE(cpu.declined.empty());
  EXPECT_NE(cpu.declined[0].find("weights are not a constant"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
