// INT8 with fuse_conv_depthwise: calibration observes the expanded tensor (its FP32 session runs
// without the pass), the INT8 session fuses the pair and stores the expanded tensor as INT8 inside
// the fused kernel at its calibrated scale, and calibrating on a session that fused it is refused.
#include <gtest/gtest.h>

#include <cmath>

#include "../malformed/model_builder.h"
#include "backends/cpu/dwconv_int8.h"
#include "quant_test_util.h"
#include "hwopt/session.h"
#include "quant/calibrate.h"

namespace hwopt {
namespace {

using test::normal_values;

// x -> Conv 1x1 (16 -> 48) -> Relu -> depthwise Conv 3x3 stride 2 -> Relu -> Conv 1x1 (48 -> 8) -> y
onnx::ModelProto expand_depthwise_project() {
  onnx::ModelProto m = test::make_model(13);
  auto* g = m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {-1, 16, 10, 10});
  test::add_float_initializer(g, "we", {48, 16, 1, 1}, normal_values(48 * 16, 1, 0.3f));
  test::add_float_initializer(g, "be", {48}, normal_values(48, 2, 0.1f));
  test::add_node(g, "Conv", {"x", "we", "be"}, {"expanded"}, "expand");
  test::add_node(g, "Relu", {"expanded"}, {"expanded_relu"}, "expand_relu");
  test::add_float_initializer(g, "wd", {48, 1, 3, 3}, normal_values(48 * 9, 3, 0.3f));
  test::add_float_initializer(g, "bd", {48}, normal_values(48, 4, 0.1f));
  auto* dw = test::add_node(g, "Conv", {"expanded_relu", "wd", "bd"}, {"dw"}, "depthwise");
  test::add_attr_int(dw, "group", 48);
  test::add_attr_ints(dw, "strides", {2, 2});
  test::add_attr_ints(dw, "pads", {1, 1, 1, 1});
  test::add_node(g, "Relu", {"dw"}, {"dw_relu"}, "depthwise_relu");
  test::add_float_initializer(g, "wp", {8, 48, 1, 1}, normal_values(8 * 48, 5, 0.3f));
  test::add_node(g, "Conv", {"dw_relu", "wp"}, {"y"}, "project");
  test::add_output(g, "y", onnx::TensorProto::FLOAT, {-1, 8, 5, 5});
  return m;
}

TEST(QuantConvDepthwise, Int8FusedPairUsesTheCalibratedIntermediate) {
  test::TempDir dir;
  const std::string path = test::write_model(dir, expand_depthwise_project());
  SessionOptions fp32;
  fp32.backend = "cpu";
  fp32.optimize = true;
  const std::vector<quant::Batch> batches = test::normal_batches("x", {2, 16, 10, 10}, 4);
  auto table = quant::calibrate(path, fp32, batches, {});
  ASSERT_TRUE(table.ok()) << table.status().to_string();
  EXPECT_TRUE(table->count("expanded_relu")) << "calibration did not observe the expanded tensor";

  auto ref = Session::load(path, fp32);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  // The FP32 session fuses the pair; calibrating on it would miss the expanded tensor.
  auto refused = quant::calibrate(*ref.value(), batches, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("fuse_conv_depthwise"), std::string::npos);

  SessionOptions int8 = fp32;
  int8.precision = "int8";
  int8.activation_ranges = *table;
  auto cand = Session::load(path, int8);
  ASSERT_TRUE(cand.ok()) << cand.status().to_string();
  std::string impl;
  for (const auto& s : cand.value()->plan_steps())
    if (s.op_type == "FusedConvDepthwise") impl = s.implementation;
  // Signed input; the projection reads u8. The own kernel where the CPU has AVX-512 VNNI.
  EXPECT_EQ(impl, cpu::dwconv_int8_fast_available() ? "cpu:own:conv1x1_dw3x3[int8(s8->u8)]"
                                                     : "cpu:onednn:conv[int8(s8->u8)]");
  test::expect_int8_close_to_fp32(*ref.value(), *cand.value(), batches, "y");
}

}  // namespace
}  // namespace hwopt
