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
};

// The own kernel takes a 2-D ConvTranspose whose stride is its kernel, one group, no pads,
// dilations or output shape, and at most 16 outputs per input pixel.
std::string expected_impl(const DeconvCase& c) {
  const bool patch = c.x.size() == 4 && c.group == 1 && c.strides == std::vector<int64_t>{c.w[2], c.w[3]} &&
                     c.pads.empty() && c.output_padding.empty() && c.dilations.empty() && c.output_shape.empty() &&
                     c.auto_pad.empty() && c.w[1] * c.w[2] * c.w[3] <= 16;
  return patch ? "cpu:own:deconv_patch" : "cpu:onednn:deconv";
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
