// INT8 through a MaxPool: a ResNet stem (Conv -> Relu -> MaxPool -> two convolutions reading it).
// At int8 the first convolution writes u8 straight into the MaxPool, which pools the INT8 values
// as they are (the maximum commutes with the quantization), instead of writing FP32 for an FP32
// MaxPool whose readers then quantize again; outputs stay close to FP32. A MaxPool with an FP32
// reader keeps the convolution's FP32 destination.
#include <gtest/gtest.h>

#include "../malformed/model_builder.h"
#include "hwopt/session.h"
#include "quant/calibrate.h"
#include "quant_test_util.h"

namespace hwopt {
namespace {

using test::normal_values;

// x -> Conv(3x3, stride 2) -> Relu -> MaxPool(3x3, stride 2, pad 1) -> {Conv 1x1 -> y1, Conv 3x3 -> y2}
// (with_fp32_reader: the pool is also read by a Sigmoid, which has no INT8 kernel).
onnx::ModelProto stem(bool with_fp32_reader) {
  onnx::ModelProto m = test::make_model(13);
  auto* g = m.mutable_graph();
  test::add_input(g, "x", onnx::TensorProto::FLOAT, {-1, 3, 32, 32});
  auto conv = [&](const std::string& in, const std::string& out, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                  uint32_t seed) {
    test::add_float_initializer(g, out + "_w", {cout, cin, k, k}, normal_values(cout * cin * k * k, seed, 0.3f));
    test::add_float_initializer(g, out + "_b", {cout}, normal_values(cout, seed + 1, 0.1f));
    auto* n = test::add_node(g, "Conv", {in, out + "_w", out + "_b"}, {out}, out);
    if (k == 3) test::add_attr_ints(n, "pads", {1, 1, 1, 1});
    if (stride != 1) test::add_attr_ints(n, "strides", {stride, stride});
  };
  conv("x", "c1", 3, 16, 3, 2, 1);
  test::add_node(g, "Relu", {"c1"}, {"r1"}, "relu1");
  auto* pool = test::add_node(g, "MaxPool", {"r1"}, {"p"}, "pool");
  test::add_attr_ints(pool, "kernel_shape", {3, 3});
  test::add_attr_ints(pool, "strides", {2, 2});
  test::add_attr_ints(pool, "pads", {1, 1, 1, 1});
  conv("p", "y1", 16, 16, 1, 1, 3);
  conv("p", "y2", 16, 8, 3, 1, 5);
  test::add_output(g, "y1", onnx::TensorProto::FLOAT, {-1, 16, 8, 8});
  test::add_output(g, "y2", onnx::TensorProto::FLOAT, {-1, 8, 8, 8});
  if (with_fp32_reader) {
    test::add_node(g, "Sigmoid", {"p"}, {"s"}, "sigmoid");
    test::add_output(g, "s", onnx::TensorProto::FLOAT, {-1, 16, 8, 8});
  }
  return m;
}

std::string implementation_of(const Session& s, const std::string& op) {
  for (const auto& step : s.plan_steps())
    if (step.op_type == op) return step.implementation;
  return "";
}

TEST(QuantMaxPool, TheStemStaysInt8ThroughTheMaxPool) {
  for (bool fp32_reader : {false, true}) {
    SCOPED_TRACE(fp32_reader ? "the pool also has an FP32 reader" : "INT8 readers only");
    test::TempDir dir;
    const std::string path = test::write_model(dir, stem(fp32_reader));
    const std::vector<quant::Batch> batches = test::normal_batches("x", {2, 3, 32, 32}, 4);
    const test::Int8Pair s = test::calibrated_int8_pair(path, batches);
    ASSERT_TRUE(s.ok()) << s.error;
    // The first convolution (the only one reading x, 3 channels) writes u8 only when every reader
    // of the pool reads INT8.
    std::string first;
    for (const auto& step : s.int8->plan_steps())
      if (step.node == "c1") first = step.implementation;
    EXPECT_NE(first.find(fp32_reader ? "->f32)" : "->u8)"), std::string::npos) << first;
    EXPECT_EQ(implementation_of(*s.int8, "MaxPool"), "cpu:onednn:pool");
    test::expect_int8_close_to_fp32(*s.fp32, *s.int8, batches, "y1");
    test::expect_int8_close_to_fp32(*s.fp32, *s.int8, batches, "y2");
    if (fp32_reader) test::expect_int8_close_to_fp32(*s.fp32, *s.int8, batches, "s");
  }
}

}  // namespace
}  // namespace hwopt
