// decompose_qlinear: structure and numerics on a QOperator model (QLinearConv with per-channel
// int8 weights and an int32 bias, then QLinearConv with per-tensor uint8 weights and a zero point,
// then QLinearMatMul), and the sessions that run it: FP32 on float kernels, INT8 on oneDNN's
// INT8 convolutions with the model's own scales.
#include <random>

#include "hwopt/session.h"
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

Tensor u8_scalar(uint8_t v) { return Tensor::scalar<uint8_t>(v); }

Case qoperator_model() {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 8, 10, 10] x, float xs, uint8 xzp, int8[16, 8, 3, 3] w1, float[16] w1s, int8[16] w1zp,
       int32[16] b1, float hs, uint8 hzp, uint8[8, 16, 1, 1] w2, float w2s, uint8 w2zp, float h2s, uint8 h2zp,
       uint8[5, 4] wm, float wms, uint8 wmzp, float ys, uint8 yzp)
      => (float[2, 8, 5, 4] y) {
      xq = QuantizeLinear(x, xs, xzp)
      h = QLinearConv <pads = [1, 1, 1, 1], strides = [2, 2]> (xq, xs, xzp, w1, w1s, w1zp, hs, hzp, b1)
      h2 = QLinearConv (h, hs, hzp, w2, w2s, w2zp, h2s, h2zp)
      yq = QLinearMatMul (h2, h2s, h2zp, wm, wms, wmzp, ys, yzp)
      y = DequantizeLinear(yq, ys, yzp)
    }
  )";
  c.values["xs"] = Tensor::scalar<float>(0.02f);
  c.values["xzp"] = u8_scalar(128);
  c.values["w1"] = int_tensor<int8_t>(DType::int8, {16, 8, 3, 3}, -127, 127, 1);
  Tensor w1s(DType::float32, {16});
  for (int64_t i = 0; i < 16; ++i) w1s.data<float>()[i] = 0.002f + 0.0002f * static_cast<float>(i);
  c.values["w1s"] = w1s;
  c.values["w1zp"] = int_tensor<int8_t>(DType::int8, {16}, 0, 0, 2);
  c.values["b1"] = int_tensor<int32_t>(DType::int32, {16}, -2000, 2000, 3);
  c.values["hs"] = Tensor::scalar<float>(0.04f);
  c.values["hzp"] = u8_scalar(128);
  c.values["w2"] = int_tensor<uint8_t>(DType::uint8, {8, 16, 1, 1}, 0, 255, 4);
  c.values["w2s"] = Tensor::scalar<float>(0.003f);
  c.values["w2zp"] = u8_scalar(120);
  c.values["h2s"] = Tensor::scalar<float>(0.05f);
  c.values["h2zp"] = u8_scalar(128);
  c.values["wm"] = int_tensor<uint8_t>(DType::uint8, {5, 4}, 0, 255, 5);
  c.values["wms"] = Tensor::scalar<float>(0.01f);
  c.values["wmzp"] = u8_scalar(128);
  c.values["ys"] = Tensor::scalar<float>(0.02f);
  c.values["yzp"] = u8_scalar(128);
  return c;
}

// y is a multiple of ys = 0.02: the float accumulation may round a value at a quantization
// boundary to the neighbouring step, never further.
void expect_within_one_step(const Tensor& a, const Tensor& b, double step, double max_fraction, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  int64_t off = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = std::fabs(a.element_as_double(i) - b.element_as_double(i));
    EXPECT_LE(d, step * 1.001) << what << " element " << i;
    off += d > 1e-9;
  }
  EXPECT_LE(static_cast<double>(off), max_fraction * static_cast<double>(a.numel())) << what;
}

TEST(PassDecomposeQLinear, QOperatorOpsBecomeQdqAroundFloatOps) {
  Case c = qoperator_model();
  auto r = check_pass(c, "decompose_qlinear", 0.02);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 3);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "QLinearConv"), 0);
  EXPECT_EQ(count_op(g, "QLinearMatMul"), 0);
  EXPECT_EQ(count_op(g, "Conv"), 2);
  EXPECT_EQ(count_op(g, "MatMul"), 1);
  EXPECT_EQ(count_op(g, "QuantizeLinear"), 4);
  EXPECT_EQ(count_op(g, "DequantizeLinear"), 4);
  // The weights are float initializers (constants the float kernels take as weights).
  const ir::Node* conv = find_op(g, "Conv");
  ASSERT_NE(conv, nullptr);
  ASSERT_EQ(conv->inputs.size(), 3u);
  ASSERT_TRUE(g.initializers.count(conv->inputs[1]));
  EXPECT_EQ(g.initializers.at(conv->inputs[1]).dtype(), DType::float32);
  const auto inputs = make_inputs(*r.before, c);
  auto want = run_model(*r.before, inputs);
  auto got = run_model(*r.after, inputs);
  ASSERT_TRUE(want.ok() && got.ok());
  expect_within_one_step((*want)[0], (*got)[0], 0.02, 0.02, "decomposed vs QLinear reference kernels");
}

TEST(PassDecomposeQLinear, SkipsNonConstantWeightsAndScales) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (uint8[1, 4, 5, 5] x, float xs, uint8 xzp, int8[4, 4, 1, 1] w, float ws, int8 wzp, float ys, uint8 yzp)
      => (uint8[1, 4, 5, 5] y) {
      y = QLinearConv (x, xs, xzp, w, ws, wzp, ys, yzp)
    }
  )";
  c.values["xs"] = Tensor::scalar<float>(0.02f);
  c.values["xzp"] = u8_scalar(0);
  c.values["ws"] = Tensor::scalar<float>(0.01f);
  c.values["wzp"] = Tensor::scalar<int8_t>(0);
  c.values["ys"] = Tensor::scalar<float>(0.05f);
  c.values["yzp"] = u8_scalar(0);
  c.inputs["x"] = int_tensor<uint8_t>(DType::uint8, {1, 4, 5, 5}, 0, 255, 7);
  c.inputs["w"] = int_tensor<int8_t>(DType::int8, {4, 4, 1, 1}, -100, 100, 8);  // an input, not a constant
  EXPECT_EQ(check_pass(c, "decompose_qlinear").rewrites, 0);
}

TEST(PassDecomposeQLinear, SessionsRunTheQOperatorModelOnFloatAndInt8Kernels) {
  Case c = qoperator_model();
  auto bytes = build_model_bytes(c);
  ASSERT_TRUE(bytes.ok());
  auto before = build_model(c);
  ASSERT_TRUE(before.ok());
  const auto inputs = make_inputs(*before, c);
  auto want = run_model(*before, inputs);  // the QLinear reference kernels
  ASSERT_TRUE(want.ok());
  for (const std::string precision : {"fp32", "int8"}) {
    SessionOptions so;
    so.backend = "cpu";
    so.optimize = precision == "fp32";  // int8 imports QOperator and QDQ ops without optimizing too
    so.precision = precision;  // int8: the model's own scales, no calibration
    auto s = Session::load_from_bytes(bytes->data(), bytes->size(), so);
    ASSERT_TRUE(s.ok()) << precision << ": " << s.status().to_string();
    int onednn_convs = 0;
    for (const auto& st : s.value()->plan_steps())
      if (st.implementation.rfind("cpu:onednn:conv", 0) == 0) {
        ++onednn_convs;
        if (precision == "int8") {
          EXPECT_NE(st.implementation.find("[int8("), std::string::npos) << st.implementation;
        }
      }
    EXPECT_EQ(onednn_convs, 2) << precision;
    auto got = s.value()->run({{"x", inputs.at("x")}});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    // INT8 quantizes symmetrically around the model's asymmetric ranges: a few steps of error.
    const Tensor& y = got->at("y");
    if (precision == "fp32") {
      expect_within_one_step((*want)[0], y, 0.02, 0.02, "fp32 session");
    } else {
      double max_err = 0, max_ref = 0;
      for (int64_t i = 0; i < y.numel(); ++i) {
        max_err = std::max(max_err, std::fabs(y.element_as_double(i) - (*want)[0].element_as_double(i)));
        max_ref = std::max(max_ref, std::fabs((*want)[0].element_as_double(i)));
      }
      EXPECT_LE(max_err, 0.1 * max_ref) << "int8 session";
    }
  }
}

}  // namespace
}  // namespace hwopt::passes::testing
