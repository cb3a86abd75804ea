// INT8 residual blocks: a ResNet downsample block, whose shortcut is a convolution without ReLU
// (negative values) added before the block's ReLU. The residual is summed in the destination
// buffer, so it must not be stored in the u8 destination's units (it once was, and negative
// shortcut values were clipped to 0: logits off by more than their own size); it is stored there
// as s8 at its own scale and the sum reads it as s8.
#include <gtest/gtest.h>

#include <cmath>

#include "../malformed/model_builder.h"
#include "quant_test_util.h"
#include "hwopt/session.h"
#include "quant/calibrate.h"

namespace hwopt {
namespace {

using test::normal_values;

// x -> Conv(3x3) -> Relu -> Conv(3x3) -> (+ Conv1x1(x) shortcut) -> Relu -> Conv(1x1) -> y
onnx::ModelProto downsample_block() {
  onnx::ModelProto m = test::make_model(13);
  auto* g = m.mutable_graph();
  const int64_t c = 16;
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {-1, c, 8, 8});
  auto conv = [&](const std::string& in, const std::string& out, int64_t k, uint32_t seed) {
    test::add_float_initializer(g, out + "_w", {c, c, k, k}, normal_values(c * c * k * k, seed, 0.3f));
    test::add_float_initializer(g, out + "_b", {c}, normal_values(c, seed + 1, 0.1f));
    auto* n = test::add_node(g, "Conv", {in, out + "_w", out + "_b"}, {out}, out);
    if (k == 3) test::add_attr_ints(n, "pads", {1, 1, 1, 1});
  };
  conv("x", "a", 3, 1);
  test::add_node(g, "Relu", {"a"}, {"a_relu"}, "relu_a");
  conv("a_relu", "main", 3, 3);
  conv("x", "shortcut", 1, 5);
  test::add_node(g, "Add", {"main", "shortcut"}, {"sum"}, "add");
  test::add_node(g, "Relu", {"sum"}, {"block"}, "relu_block");
  conv("block", "y", 1, 7);
  test::add_output(g, "y", onnx::TensorProto::FLOAT, {-1, c, 8, 8});
  return m;
}

TEST(QuantResidual, Int8DownsampleBlockMatchesFp32) {
  test::TempDir dir;
  const std::string path = test::write_model(dir, downsample_block());
  const std::vector<quant::Batch> batches = test::normal_batches("x", {2, 16, 8, 8}, 4);
  const test::Int8Pair s = test::calibrated_int8_pair(path, batches);
  ASSERT_TRUE(s.ok()) << s.error;
  // The residual convolution stays INT8 to its u8 destination: its shortcut is negative, so it is
  // stored in the destination buffer as s8 at its own scale and summed as s8.
  bool residual_s8 = false;
  for (const auto& step : s.int8->plan_steps())
    residual_s8 |=
        step.op_type == "FusedConv" && step.implementation.find("[int8(u8->u8, s8 sum)]") != std::string::npos;
  EXPECT_TRUE(residual_s8);
  test::expect_int8_close_to_fp32(*s.fp32, *s.int8, batches, "y");
}

}  // namespace
}  // namespace hwopt
