// The CPU backend's ConvTranspose (oneDNN deconvolution, and the own kernel for a kernel equal to
// its stride with few outputs per pixel) against the reference kernel: random data over strides,
// pads, output_padding, output_shape, auto_pad, groups, dilations, 1-D to 3-D, with and without
// bias, plain and blocked inputs, one and two threads.
#include "backends/cpu/onednn.h"
#include "op_test_util.h"

namespace hwopt {
namespace {

using tag = dnnl::memory::format_tag;
using testing::random_tensor;

struct DeconvCase {
  Shape x, w;  // X [N, C, ...], W [C, M/group, k...]
  int64_t group = 1;
  std::vector<int64_t> strides = {}, pads = {}, output_padding = {}, dilations = {}, output_shape = {};
  std::string auto_pad = {};
};

const std::vector<DeconvCase> kCases = {
    {{1, 4, 5, 5}, {4, 3, 2, 2}, 1, {2, 2}},                                   // PP-OCR's 2x upsampling
    {{2, 16, 7, 6}, {16, 8, 3, 3}, 1, {2, 2}, {1, 1, 1, 1}, {1, 1}},           // pads + output_padding
    {{1, 8, 6, 6}, {8, 2, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}},                     // groups
    {{1, 6, 5, 4}, {6, 1, 4, 4}, 6, {2, 2}, {1, 1, 1, 1}},                     // depthwise
    {{1, 3, 4, 5}, {3, 5, 3, 2}, 1, {1, 2}, {0, 1, 2, 0}, {}, {2, 1}},         // dilated, asymmetric pads
    {{1, 4, 5, 5}, {4, 4, 3, 3}, 1, {2, 2}, {}, {}, {}, {10, 11}},             // output_shape
    {{1, 4, 5, 5}, {4, 4, 3, 3}, 1, {2, 2}, {}, {}, {}, {}, "SAME_UPPER"},
    {{1, 4, 5, 5}, {4, 4, 3, 3}, 1, {2, 2}, {}, {}, {}, {}, "SAME_LOWER"},
    {{1, 4, 5, 5}, {4, 4, 3, 3}, 1, {3, 2}, {}, {}, {}, {}, "VALID"},
    {{2, 5, 9}, {5, 3, 4}, 1, {2}, {1, 1}},                                    // 1-D
    {{1, 3, 3, 4, 3}, {3, 2, 2, 3, 2}, 1, {2, 1, 2}, {0, 1, 0, 0, 1, 1}},      // 3-D
    {{1, 32, 20, 20}, {32, 1, 2, 2}, 1, {2, 2}},                               // one output channel
    // Kernel = stride, few outputs per pixel: cpu:own:deconv_patch (PP-OCR det's last layer is
    // 24 channels to one at 2x); channels in partial blocks, rectangular patches, batches.
    {{1, 24, 9, 13}, {24, 1, 2, 2}, 1, {2, 2}},
    {{2, 3, 4, 5}, {3, 2, 2, 1}, 1, {2, 1}},
    {{1, 40, 3, 7}, {40, 4, 2, 2}, 1, {2, 2}},                                 // 16 outputs per pixel
    {{1, 17, 5, 3}, {17, 1, 4, 4}, 1, {4, 4}},
    {{1, 8, 4, 4}, {8, 1, 4, 5}, 1, {4, 5}},                                   // 20: oneDNN's
    // Kernel = stride, many outputs per pixel and at least 8 output channels:
    // cpu:own:deconv_blocked (PP-OCRv4 det's 24 -> 24 at 2x); partial input and output blocks,
    // rows shorter than and not a multiple of its 8 pixels, rectangular patches, batches.
    {{1, 24, 9, 13}, {24, 24, 2, 2}, 1, {2, 2}},
    {{2, 5, 3, 11}, {5, 40, 2, 2}, 1, {2, 2}},
    {{1, 37, 4, 5}, {37, 8, 3, 1}, 1, {3, 1}},
    {{1, 16, 2, 17}, {16, 32, 1, 2}, 1, {1, 2}},
};

// The own kernels take a 2-D ConvTranspose whose stride is its kernel, one group, no pads,
// dilations or output shape: deconv_patch with at most 16 outputs per input pixel, deconv_blocked
// with more and at least 8 output channels.
std::string expected_impl(const DeconvCase& c) {
  const bool own = c.x.size() == 4 && c.group == 1 && c.strides == std::vector<int64_t>{c.w[2], c.w[3]} &&
                   c.pads.empty() && c.output_padding.empty() && c.dilations.empty() && c.output_shape.empty() &&
                   c.auto_pad.empty();
  if (own && c.w[1] * c.w[2] * c.w[3] <= 16) return "cpu:own:deconv_patch";
  if (own && c.w[1] >= 8) return "cpu:own:deconv_blocked";
  return "cpu:onednn:deconv";
}

std::vector<ir::Attribute> attrs_of(const DeconvCase& c) {
  std::vector<ir::Attribute> a;
  if (c.group != 1) a.push_back(testing::attr_i("group", c.group));
  if (!c.strides.empty()) a.push_back(testing::attr_ints("strides", c.strides));
  if (!c.pads.empty()) a.push_back(testing::attr_ints("pads", c.pads));
  if (!c.output_padding.empty()) a.push_back(testing::attr_ints("output_padding", c.output_padding));
  if (!c.dilations.empty()) a.push_back(testing::attr_ints("dilations", c.dilations));
  if (!c.output_shape.empty()) a.push_back(testing::attr_ints("output_shape", c.output_shape));
  if (!c.auto_pad.empty()) a.push_back(testing::attr_s("auto_pad", c.auto_pad));
  return a;
}

void check(const DeconvCase& c, bool bias, bool blocked_input, int threads, uint32_t seed) {
  const Tensor x = random_tensor(c.x, seed), w = random_tensor(c.w, seed + 1);
  std::vector<Tensor> inputs = {x, w};
  std::vector<size_t> constants = {1};
  if (bias) {
    inputs.push_back(random_tensor({c.w[1] * c.group}, seed + 2));
    constants.push_back(2);
  }
  SCOPED_TRACE(::testing::Message() << "X " << shape_str(c.x) << " W " << shape_str(c.w) << " group " << c.group
                                    << (bias ? " bias" : "") << (blocked_input ? " nChw16c" : "") << " threads "
                                    << threads);
  auto ref = testing::run_ref_op("ConvTranspose", inputs, attrs_of(c), 11);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  std::vector<Tensor> cpu_inputs = inputs;
  if (blocked_input) cpu_inputs[0] = cpu::reorder_to(x, cpu::tagged_desc(x.shape(), DType::float32, tag::nChw16c));
  auto cpu = testing::run_backend_op("cpu", "ConvTranspose", cpu_inputs, attrs_of(c), 11, 1, "", constants, threads);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, expected_impl(c));
  std::vector<double> want;
  for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
  testing::expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-4, 1e-4);
}

TEST(CpuConvTranspose, MatchesReference) {
  uint32_t seed = 1;
  for (const auto& c : kCases)
    for (bool bias : {false, true})
      for (int threads : {1, 2}) check(c, bias, false, threads, seed += 3);
}

TEST(CpuConvTranspose, BlockedInputMatchesReference) {
  uint32_t seed = 500;
  for (const auto& c : kCases)
    if (c.x.size() == 4) check(c, true, true, 2, seed += 3);
}

// ai.hwopt FusedConvTranspose (fuse_conv_transpose_activation): each kernel applies Relu,
// LeakyRelu or Clip to its output; a case per kernel (own patch, own blocked, oneDNN with
// groups/pads, oneDNN channels-last for few channels), plain and blocked inputs.
TEST(CpuConvTranspose, FusedActivationsMatchReference) {
  const std::vector<std::vector<ir::Attribute>> acts = {
      {testing::attr_s("activation", "Relu")},
      {testing::attr_s("activation", "LeakyRelu"), testing::attr_floats("activation_params", {0.1f})},
      {testing::attr_s("activation", "Clip"), testing::attr_floats("activation_params", {-0.5f, 0.5f})},
  };
  const std::vector<DeconvCase> cases = {
      {{1, 24, 9, 13}, {24, 1, 2, 2}, 1, {2, 2}},   // own:deconv_patch
      {{1, 24, 9, 13}, {24, 24, 2, 2}, 1, {2, 2}},  // own:deconv_blocked
      {{2, 5, 3, 11}, {5, 40, 2, 2}, 1, {2, 2}},    // own:deconv_blocked, padded output block
      {{2, 16, 7, 6}, {16, 8, 3, 3}, 1, {2, 2}, {1, 1, 1, 1}, {1, 1}},  // oneDNN
      {{1, 8, 6, 6}, {8, 2, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}},            // oneDNN, groups, 4 channels
  };
  uint32_t seed = 900;
  for (const auto& c : cases)
    for (const auto& act : acts)
      for (bool blocked : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "X " << shape_str(c.x) << " W " << shape_str(c.w) << " " << act[0].s
                                          << (blocked ? " nChw16c" : ""));
        const Tensor x = random_tensor(c.x, seed += 3);
        std::vector<Tensor> inputs = {x, random_tensor(c.w, seed + 1), random_tensor({c.w[1] * c.group}, seed + 2)};
        std::vector<ir::Attribute> attrs = attrs_of(c);
        attrs.insert(attrs.end(), act.begin(), act.end());
        auto ref = testing::run_ref_op("FusedConvTranspose", inputs, attrs, 1, 1, "ai.hwopt");
        ASSERT_TRUE(ref.error.empty()) << ref.error;
        if (blocked) inputs[0] = cpu::reorder_to(x, cpu::tagged_desc(x.shape(), DType::float32, tag::nChw16c));
        auto cpu = testing::run_backend_op("cpu", "FusedConvTranspose", inputs, attrs, 1, 1, "ai.hwopt", {1, 2});
        ASSERT_TRUE(cpu.error.empty()) << cpu.error;
        EXPECT_EQ(cpu.implementation, expected_impl(c));
        std::vector<double> want;
        for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
        testing::expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-4, 1e-4);
      }
}

// An activation the CPU kernels do not apply (the pass never makes one; a hand-written graph
// might): every candidate declines and says why, and the reference kernel runs it.
TEST(CpuConvTranspose, OtherFusedActivationsRunTheReference) {
  const DeconvCase c{{1, 4, 5, 5}, {4, 3, 2, 2}, 1, {2, 2}};
  std::vector<ir::Attribute> attrs = attrs_of(c);
  attrs.push_back(testing::attr_s("activation", "Sigmoid"));
  auto cpu = testing::run_backend_op("cpu", "FusedConvTranspose", {random_tensor(c.x, 1), random_tensor(c.w, 2)}, attrs,
                                     1, 1, "ai.hwopt", {1});
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "ref:FusedConvTranspose");
  ASSERT_FALSE(cpu.declined.empty());
  EXPECT_NE(cpu.declined[0].find("activation 'Sigmoid'"), std::string::npos) << cpu.declined[0];
}

// cpu:own:deconv_blocked writes nChw16c, and the lanes past the last output channel are zero (the
// next oneDNN step reads the padding as part of its blocks).
TEST(CpuConvTranspose, BlockedKernelWritesBlockedOutputWithZeroPadding) {
  const DeconvCase c{{1, 5, 3, 11}, {5, 40, 2, 2}, 1, {2, 2}};
  SingleOp op;
  op.op_type = "ConvTranspose";
  op.opset = 11;
  op.attributes = attrs_of(c);
  op.inputs = {random_tensor(c.x, 3), random_tensor(c.w, 4), random_tensor({c.w[1]}, 5)};
  op.constant_inputs = {1, 2};
  SingleOpRunner runner("cpu", op, 2);
  ASSERT_EQ(runner.implementation(), "cpu:own:deconv_blocked");
  const SingleOpResult r = runner.run(/*plain=*/false);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const Tensor& y = r.out();
  ASSERT_FALSE(y.is_plain());
  const dnnl::memory::desc d = cpu::desc_of(y);
  EXPECT_EQ(d, cpu::tagged_desc(y.shape(), DType::float32, tag::aBcd16b));
  const float* v = static_cast<const float*>(y.raw_data());
  const int64_t pixels = y.dim(2) * y.dim(3);  // 3 blocks of 16: lanes 40..47 of the last are padding
  int64_t nonzero = 0;
  for (int64_t p = 0; p < pixels; ++p)
    for (int64_t lane = 40 % 16; lane < 16; ++lane) nonzero += v[(2 * pixels + p) * 16 + lane] != 0.f;
  EXPECT_EQ(nonzero, 0);
}

// An output_shape beyond the full transposed convolution needs negative padding: the reference
// kernel runs it (zeros and bias past the end).
TEST(CpuConvTranspose, NegativePaddingRunsTheReference) {
  DeconvCase c{{1, 2, 3, 3}, {2, 2, 2, 2}, 1, {1, 1}, {}, {}, {}, {6, 6}};
  const Tensor x = random_tensor(c.x, 9), w = random_tensor(c.w, 10);
  auto ref = testing::run_ref_op("ConvTranspose", {x, w}, attrs_of(c), 11);
  auto cpu = testing::run_backend_op("cpu", "ConvTranspose", {x, w}, attrs_of(c), 11, 1, "", {1});
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "cpu:onednn:deconv");
  std::vector<double> want;
  for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
  testing::expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-5, 1e-5);
}

TEST(CpuConvTranspose, DeclinesWithReasonsAndErrorsComeFromTheReference) {
  const Tensor x = random_tensor({1, 4, 5, 5}, 1), w = random_tensor({4, 3, 2, 2}, 2);
  auto dynamic_w = testing::run_backend_op("cpu", "ConvTranspose", {x, w}, {}, 11);
  EXPECT_EQ(dynamic_w.implementation, "ref:ConvTranspose");
  ASSERT_FALSE(dynamic_w.declined.empty());
  EXPECT_NE(dynamic_w.declined[0].find("weights are not a constant"), std::string::npos);
  // Channels of X and W disagree: the reference kernel's message, from either CPU kernel.
  auto bad = testing::run_backend_op("cpu", "ConvTranspose", {random_tensor({1, 5, 5, 5}, 3), w}, {}, 11, 1, "", {1});
  EXPECT_EQ(bad.implementation, "cpu:onednn:deconv");
  EXPECT_NE(bad.error.find("channels"), std::string::npos) << bad.error;
  auto bad_patch = testing::run_backend_op("cpu", "ConvTranspose", {random_tensor({1, 5, 5, 5}, 3), w},
                                           {testing::attr_ints("strides", {2, 2})}, 11, 1, "", {1});
  EXPECT_EQ(bad_patch.implementation, "cpu:own:deconv_patch");
  EXPECT_NE(bad_patch.error.find("channels"), std::string::npos) << bad_patch.error;
}

}  // namespace
}  // namespace hwopt
