// insert_qdq (hwopt quantize's writer): the QDQ structure it writes (Q/DQ on the inputs and
// outputs of the quantized nodes, int8 weights with per-channel scales max|w| / 127 on the right
// axis, int32 biases), the opset move, the nodes it leaves float and why, and that hwopt reads the
// written model back on its INT8 kernels with weights that requantize to themselves.
#include <fmt/format.h>

#include <cmath>

#include "backends/cpu/precision.h"
#include "hwopt/session.h"
#include "passes_test_util.h"
#include "quant/qdq_export.h"

namespace hwopt::quant {
namespace {

using passes::testing::Case;
using passes::testing::count_op;

// x -> Conv(+B) -> Relu -> Flatten -> Gemm(transB, +C) -> Relu -> Gemm(+C) -> MatMul -> y
Case mlp_case(int opset = 13, const std::string& extra = "") {
  Case c;
  c.text = fmt::format(R"(
    <ir_version: 7, opset_import: ["" : {}]>
    g (float[2, 3, 4, 4] x, float[4, 3, 3, 3] w, float[4] b, float[5, 64] g1, float[5] c1, float[5, 6] g2,
       float[6] c2, float[6, 3] m) => (float[2, 3] y) {{
      cv = Conv <pads = [1, 1, 1, 1]> (x, w, b)
      r = Relu(cv)
      f = Flatten(r)
      h1 = Gemm <transB = 1> (f, g1, c1)
      h1r = Relu(h1)
      h2 = Gemm(h1r, g2, c2)
      {}
    }}
  )",
                       opset, extra.empty() ? "y = MatMul(h2, m)" : extra);
  c.random = {"w", "b", "g1", "c1", "g2", "c2", "m"};
  return c;
}

CalibrationTable mlp_ranges() {
  return {{"x", {-2.f, 1.5f, 2.f}}, {"cv", {-3.f, 3.f, 3.f}}, {"r", {0.f, 3.f, 3.f}},    {"f", {0.f, 3.f, 3.f}},
          {"h1", {-4.f, 4.f, 4.f}}, {"h1r", {0.f, 4.f, 4.f}}, {"h2", {-6.f, 5.f, 6.f}}, {"y", {-9.f, 9.f, 9.f}}};
}

/// MinMax ranges of every float value of the case's model over `inputs` (as quant::calibrate
/// observes them, on the reference backend without optimization).
CalibrationTable observed_ranges(const Case& c, const std::map<std::string, Tensor>& inputs) {
  auto bytes = passes::testing::build_model_bytes(c);
  EXPECT_TRUE(bytes.ok());
  if (!bytes.ok()) return {};
  auto s = Session::load_from_bytes(bytes->data(), bytes->size());
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return {};
  std::map<std::string, RangeCollector> seen;
  auto add = [&](const std::string& name, const Tensor& t) {
    if (t.dtype() != DType::float32) return;
    const Tensor tc = t.contiguous();
    seen[name].add(tc.data<float>(), static_cast<size_t>(tc.numel()));
  };
  for (const auto& [name, t] : inputs) add(name, t);
  RunOptions ro;
  ro.observe = add;
  EXPECT_TRUE((*s)->run(inputs, ro).ok());
  CalibrationTable table;
  for (const auto& [name, rc] : seen) table[name] = rc.range(CalibrationMethod::minmax);
  return table;
}

const ir::Node* producer(const ir::Graph& g, const std::string& value) {
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs)
      if (o == value) return &n;
  return nullptr;
}

/// Checks that `value` (the input of a quantized node) is DequantizeLinear(QuantizeLinear(v)) with
/// v's hwopt scale and a zero point 0 of the right type; returns v.
std::string expect_qdq_activation(const ir::Graph& g, const std::string& value, const CalibrationTable& ranges) {
  const ir::Node* dq = producer(g, value);
  EXPECT_TRUE(dq && dq->op_type == "DequantizeLinear") << value;
  if (!dq || dq->op_type != "DequantizeLinear") return "";
  const ir::Node* q = producer(g, dq->inputs[0]);
  EXPECT_TRUE(q && q->op_type == "QuantizeLinear") << value;
  if (!q) return "";
  const std::string& v = q->inputs[0];
  EXPECT_EQ(q->inputs[1], dq->inputs[1]);
  EXPECT_EQ(q->inputs[2], dq->inputs[2]);
  const ActivationRange& r = ranges.at(v);
  const Tensor& scale = g.initializers.at(q->inputs[1]);
  const Tensor& zp = g.initializers.at(q->inputs[2]);
  EXPECT_EQ(scale.numel(), 1);
  EXPECT_FLOAT_EQ(scale.contiguous().data<float>()[0], r.threshold / (r.min >= 0 ? 255.f : 127.f)) << v;
  EXPECT_EQ(zp.dtype(), r.min >= 0 ? DType::uint8 : DType::int8) << v;
  EXPECT_EQ(zp.element_as_double(0), 0.0) << v;
  return v;
}

/// Checks the weight DequantizeLinear: int8 values, zero points 0, scales max|w| / 127 along `axis`
/// (-1: one scale); returns the scales.
std::vector<float> expect_qdq_weight(const ir::Graph& g, const std::string& value, const Tensor& w, int64_t axis) {
  const ir::Node* dq = producer(g, value);
  EXPECT_TRUE(dq && dq->op_type == "DequantizeLinear") << value;
  if (!dq) return {};
  const Tensor& q = g.initializers.at(dq->inputs[0]);
  const Tensor& s = g.initializers.at(dq->inputs[1]);
  const Tensor& z = g.initializers.at(dq->inputs[2]);
  EXPECT_EQ(q.dtype(), DType::int8);
  EXPECT_EQ(q.shape(), w.shape());
  EXPECT_EQ(z.dtype(), DType::int8);
  const int64_t channels = axis < 0 ? 1 : w.dim(axis);
  EXPECT_EQ(s.numel(), channels);
  if (axis >= 0) {
    EXPECT_TRUE(dq->attr("axis") && dq->attr("axis")->i == axis) << value;
  } else {
    EXPECT_EQ(s.rank(), 0);
  }
  int64_t inner = 1;
  if (axis >= 0)
    for (int64_t d = axis + 1; d < w.rank(); ++d) inner *= w.dim(d);
  std::vector<float> max_abs(static_cast<size_t>(channels), 0.f);
  const Tensor wc = w.contiguous();
  for (int64_t e = 0; e < w.numel(); ++e) {
    float& m = max_abs[static_cast<size_t>(axis < 0 ? 0 : (e / inner) % channels)];
    m = std::max(m, std::fabs(wc.data<float>()[e]));
  }
  std::vector<float> scales;
  for (int64_t k = 0; k < channels; ++k) {
    EXPECT_EQ(s.contiguous().data<float>()[k], max_abs[static_cast<size_t>(k)] / 127.f) << value << " channel " << k;
    EXPECT_EQ(z.element_as_double(k), 0.0);
    scales.push_back(s.contiguous().data<float>()[k]);
  }
  for (int64_t e = 0; e < w.numel(); ++e) {
    const float sc = scales[static_cast<size_t>(axis < 0 ? 0 : (e / inner) % channels)];
    EXPECT_EQ(q.element_as_double(e), std::nearbyint(wc.data<float>()[e] / sc)) << value << " element " << e;
  }
  return scales;
}

TEST(QdqExport, WritesQdqAroundConvGemmAndMatMul) {
  const Case c = mlp_case();
  auto model = passes::testing::build_model(c);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const auto original = model->graph->initializers;
  const CalibrationTable ranges = mlp_ranges();
  auto summary = insert_qdq(*model, ranges);
  ASSERT_TRUE(summary.ok()) << summary.status().to_string();
  EXPECT_EQ(summary->quantized_nodes, 4);
  EXPECT_TRUE(summary->per_channel);
  EXPECT_EQ(summary->opset_after, 13);
  EXPECT_TRUE(summary->skipped.empty());
  // Inputs x, f, h1r, h2 and outputs r (after the Conv's Relu), h1r, h2; never the graph output y.
  EXPECT_EQ(summary->activations, 5);
  EXPECT_EQ(summary->int32_biases, 3);  // Conv's B and both Gemms' C
  const ir::Graph& g = *model->graph;
  EXPECT_EQ(count_op(g, "QuantizeLinear"), 5);
  EXPECT_EQ(count_op(g, "DequantizeLinear"), 5 + 4 + 3);
  for (const auto& n : g.nodes) EXPECT_EQ(n.opset, 13) << n.label();

  const ir::Node* conv = passes::testing::find_op(g, "Conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(expect_qdq_activation(g, conv->inputs[0], ranges), "x");
  const std::vector<float> ws = expect_qdq_weight(g, conv->inputs[1], original.at("w"), 0);
  // The bias: int32 with scale x_scale * w_scale[c] and zero point 0.
  const ir::Node* bias_dq = producer(g, conv->inputs[2]);
  ASSERT_NE(bias_dq, nullptr);
  ASSERT_EQ(bias_dq->op_type, "DequantizeLinear");
  const Tensor& bq = g.initializers.at(bias_dq->inputs[0]);
  const Tensor& bs = g.initializers.at(bias_dq->inputs[1]);
  EXPECT_EQ(bq.dtype(), DType::int32);
  EXPECT_EQ(g.initializers.at(bias_dq->inputs[2]).dtype(), DType::int32);
  const float xs = 2.f / 127.f;
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_EQ(bs.contiguous().data<float>()[k], xs * ws[static_cast<size_t>(k)]);
    EXPECT_EQ(bq.element_as_double(k),
              std::nearbyint(static_cast<double>(original.at("b").data<float>()[k]) / (xs * ws[static_cast<size_t>(k)])));
  }
  // The Conv's output is quantized after its Relu, and the Flatten reads it dequantized.
  const ir::Node* flatten = passes::testing::find_op(g, "Flatten");
  ASSERT_NE(flatten, nullptr);
  EXPECT_EQ(expect_qdq_activation(g, flatten->inputs[0], ranges), "r");

  std::vector<const ir::Node*> gemms;
  for (const auto& n : g.nodes)
    if (n.op_type == "Gemm") gemms.push_back(&n);
  ASSERT_EQ(gemms.size(), 2u);
  EXPECT_EQ(expect_qdq_activation(g, gemms[0]->inputs[0], ranges), "f");
  expect_qdq_weight(g, gemms[0]->inputs[1], original.at("g1"), 0);  // transB: [N, K]
  EXPECT_EQ(expect_qdq_activation(g, gemms[1]->inputs[0], ranges), "h1r");
  expect_qdq_weight(g, gemms[1]->inputs[1], original.at("g2"), 1);  // [K, N]
  const ir::Node* matmul = passes::testing::find_op(g, "MatMul");
  ASSERT_NE(matmul, nullptr);
  EXPECT_EQ(expect_qdq_activation(g, matmul->inputs[0], ranges), "h2");
  expect_qdq_weight(g, matmul->inputs[1], original.at("m"), 1);
  EXPECT_EQ(producer(g, "y")->op_type, "MatMul");  // the graph output stays float
  // The float weights are gone.
  for (const char* w : {"w", "b", "g1", "c1", "g2", "c2", "m"}) EXPECT_FALSE(g.initializers.count(w)) << w;
}

TEST(QdqExport, HwoptReadsTheWrittenModelBackOnInt8Kernels) {
  const Case c = mlp_case();
  auto float_model = passes::testing::build_model(c);
  auto model = passes::testing::build_model(c);
  ASSERT_TRUE(float_model.ok() && model.ok());
  const auto inputs = passes::testing::make_inputs(*float_model, c);
  const CalibrationTable ranges = observed_ranges(c, inputs);
  ASSERT_TRUE(ranges.count("x") && ranges.count("h2"));
  ASSERT_TRUE(insert_qdq(*model, ranges).ok());
  auto bytes = onnx_import::save_model_to_bytes(*model);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();

  // The folded weights requantize to exactly the integers written (hwopt's per-channel rule is
  // the writer's), so reading the model back loses nothing more.
  auto folded = onnx_import::load_model_from_bytes(bytes->data(), bytes->size());
  ASSERT_TRUE(folded.ok());
  passes::PipelineOptions po;
  po.enabled = {"fold_qdq"};
  for (const auto& name : passes::pass_names())
    if (name != "fold_qdq") po.disabled.insert(name);
  ASSERT_TRUE(passes::run_pipeline(*folded, po).ok());
  const ir::Node* conv = passes::testing::find_op(*folded->graph, "Conv");
  ASSERT_NE(conv, nullptr);
  const Tensor& w = folded->graph->initializers.at(conv->inputs[1]);
  const cpu::QuantizedWeights again = cpu::quantize_per_channel(w);
  const ir::Node* conv_q = passes::testing::find_op(*model->graph, "Conv");
  const Tensor& written = model->graph->initializers.at(producer(*model->graph, conv_q->inputs[1])->inputs[0]);
  for (int64_t e = 0; e < w.numel(); ++e) EXPECT_EQ(again.values.data<int8_t>()[e], written.data<int8_t>()[e]) << e;

  SessionOptions so;
  so.backend = "cpu";
  so.optimize = true;
  so.precision = "int8";
  auto int8 = Session::load_from_bytes(bytes->data(), bytes->size(), so);
  ASSERT_TRUE(int8.ok()) << int8.status().to_string();
  int steps = 0;
  for (const auto& line : (*int8)->describe_plan()) steps += line.find("[int8(") != std::string::npos;
  EXPECT_EQ(steps, 4);

  auto want = passes::testing::run_model(*float_model, inputs);
  auto sim = passes::testing::run_model(*model, inputs);  // the QDQ model at fp32 (reference kernels)
  auto got = (*int8)->run(inputs);
  ASSERT_TRUE(want.ok() && sim.ok() && got.ok());
  const Tensor& y = (*want)[0];
  double max_abs = 0, sim_err = 0, int8_err = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    max_abs = std::max(max_abs, std::fabs(y.element_as_double(i)));
    sim_err = std::max(sim_err, std::fabs((*sim)[0].element_as_double(i) - y.element_as_double(i)));
    int8_err = std::max(int8_err, std::fabs(got->at("y").element_as_double(i) - (*sim)[0].element_as_double(i)));
  }
  std::cout << "max |y| " << max_abs << ", QDQ simulation vs float " << sim_err << ", hwopt int8 vs simulation "
            << int8_err << "\n";
  EXPECT_LT(sim_err, 0.05 * max_abs);
  EXPECT_LT(int8_err, 0.05 * max_abs);
}

TEST(QdqExport, MovesAnOldOpsetTo13WhenItsOpsAllow) {
  auto model = passes::testing::build_model(mlp_case(11));
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto summary = insert_qdq(*model, mlp_ranges());
  ASSERT_TRUE(summary.ok()) << summary.status().to_string();
  EXPECT_EQ(summary->opset_before, 11);
  EXPECT_EQ(summary->opset_after, 13);
  EXPECT_TRUE(summary->per_channel);
  EXPECT_EQ(model->opsets.at(""), 13);
  EXPECT_GE(model->ir_version, 7);
  auto bytes = onnx_import::save_model_to_bytes(*model);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(onnx_import::load_model_from_bytes(bytes->data(), bytes->size()).ok());
}

TEST(QdqExport, KeepsTheOpsetAndUsesPerTensorScalesWhenAnOpChangedMeaning) {
  // Softmax-13 normalizes one axis where Softmax-11 flattened the trailing ones.
  auto model = passes::testing::build_model(mlp_case(11, "z = MatMul(h2, m)\n      y = Softmax(z)"));
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const auto original = model->graph->initializers;
  auto summary = insert_qdq(*model, mlp_ranges());
  ASSERT_TRUE(summary.ok()) << summary.status().to_string();
  EXPECT_EQ(summary->opset_after, 11);
  EXPECT_FALSE(summary->per_channel);
  EXPECT_EQ(model->opsets.at(""), 11);
  const ir::Node* conv = passes::testing::find_op(*model->graph, "Conv");
  ASSERT_NE(conv, nullptr);
  expect_qdq_weight(*model->graph, conv->inputs[1], original.at("w"), -1);
  const ir::Node* bias_dq = producer(*model->graph, conv->inputs[2]);
  ASSERT_NE(bias_dq, nullptr);
  EXPECT_EQ(model->graph->initializers.at(bias_dq->inputs[1]).numel(), 1);
  EXPECT_EQ(bias_dq->attr("axis"), nullptr);
  auto bytes = onnx_import::save_model_to_bytes(*model);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(onnx_import::load_model_from_bytes(bytes->data(), bytes->size()).ok());
}

TEST(QdqExport, RefusesAnOpsetBeforeQuantizeLinearThatCannotMove) {
  Case c;
  c.text = R"(
    <ir_version: 4, opset_import: ["" : 9]>
    g (float[2, 8] x, float[8, 4] w) => (float[2, 2] y) {
      h = MatMul(x, w)
      y = Slice <starts = [0, 0], ends = [2, 2]> (h)
    }
  )";
  c.random = {"w"};
  auto model = passes::testing::build_model(c);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto summary = insert_qdq(*model, {{"x", {-1.f, 1.f, 1.f}}});
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::unsupported);
  EXPECT_NE(summary.status().message().find("Slice"), std::string::npos) << summary.status().message();
}

TEST(QdqExport, SaysWhyANodeStaysFloat) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 8] x, float[8, 4] w, float[4, 3] v, float[3, 3] u) => (float[2, 3] y, float[2, 3] z) {
      h = MatMul(x, w)
      y = MatMul(h, v)
      z = MatMul(y, u)
    }
  )";
  c.random = {"w", "v"};
  auto model = passes::testing::build_model(c);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto summary = insert_qdq(*model, {{"x", {-1.f, 1.f, 1.f}}});  // no range for h
  ASSERT_TRUE(summary.ok()) << summary.status().to_string();
  EXPECT_EQ(summary->quantized_nodes, 1);
  ASSERT_EQ(summary->skipped.size(), 2u);
  EXPECT_NE(summary->skipped[0].find("no calibrated range for input 'h'"), std::string::npos) << summary->skipped[0];
  EXPECT_NE(summary->skipped[1].find("weight 'u' is not a float32 constant"), std::string::npos) << summary->skipped[1];
}

}  // namespace
}  // namespace hwopt::quant
