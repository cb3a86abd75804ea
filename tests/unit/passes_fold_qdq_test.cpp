// fold_qdq (QDQ models at precision int8): structurally (Q/DQ gone, ranges recorded, weights
// folded exactly, pairs it must keep kept) and numerically (an int8 session of a QDQ model, with
// no ranges given, agrees with the model's own QDQ-simulated fp32 run within quantization error);
// QOperator models (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger) run on their
// reference kernels at both precisions.
#include "hwopt/session.h"
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

struct FoldRun {
  std::optional<onnx_import::Model> model;
  int rewrites = -1;
  std::map<std::string, ActivationRange> ranges;
};

FoldRun fold_qdq(const Case& c) {
  FoldRun r;
  auto m = build_model(c);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  if (!m.ok()) return r;
  std::unique_ptr<Pass> pass = find_pass("fold_qdq");
  EXPECT_TRUE(pass);
  if (!pass) return r;
  EXPECT_FALSE(pass->on_by_default());
  PassContext ctx(*m);
  auto n = run_pass_recursive(*pass, *m->graph, ctx);
  EXPECT_TRUE(n.ok()) << n.status().to_string();
  if (!n.ok()) return r;
  EXPECT_TRUE(ir::validate_graph(*m->graph).ok());
  r.rewrites = *n;
  r.ranges = ctx.ranges();
  r.model = std::move(m).value();
  return r;
}

/// int8 weights [O, I, kh, kw] in [-127, 127] with ±127 in every output channel, so that hwopt's
/// own per-channel requantization of the folded weights gives the same integers back.
Tensor int8_weights(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(-127, 127);
  Tensor t(DType::int8, shape);
  const int64_t per = t.numel() / shape[0];
  for (int64_t e = 0; e < t.numel(); ++e) t.data<int8_t>()[e] = static_cast<int8_t>(u(rng));
  for (int64_t o = 0; o < shape[0]; ++o) t.data<int8_t>()[o * per] = o % 2 ? -127 : 127;
  return t;
}

constexpr float kXScale = 2.0f / 127;  // int8 input, zero point 0: x in [-2, 2]
constexpr float kRScale = 0.05f;       // uint8 Relu output, zero point 0: r in [0, 12.75]

// x (int8 QDQ) -> Conv (int8 per-channel weights) -> Relu -> (uint8 QDQ) -> Conv -> y
Case conv_chain() {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3, 8, 8] x, float xs, int8 xz, int8[4, 3, 3, 3] wq, float[4] ws, int8[4] wz, float rs, uint8 rz,
       int8[5, 4, 3, 3] vq, float[5] vs, int8[5] vz, float[5] vb) => (float[2, 5, 8, 8] y) {
      xq = QuantizeLinear(x, xs, xz)
      xd = DequantizeLinear(xq, xs, xz)
      w = DequantizeLinear <axis = 0> (wq, ws, wz)
      c = Conv <pads = [1, 1, 1, 1]> (xd, w)
      r = Relu(c)
      rq = QuantizeLinear(r, rs, rz)
      rd = DequantizeLinear(rq, rs, rz)
      v = DequantizeLinear <axis = 0> (vq, vs, vz)
      y = Conv <pads = [1, 1, 1, 1]> (rd, v, vb)
    }
  )";
  c.values["xs"] = scalar_f(kXScale);
  c.values["xz"] = Tensor::scalar<int8_t>(0);
  c.values["wq"] = int8_weights({4, 3, 3, 3}, 7);
  c.values["ws"] = floats({4}, {0.011f, 0.023f, 0.0057f, 0.031f});
  c.values["wz"] = Tensor::from_vector<int8_t>({4}, {0, 0, 0, 0});
  c.values["rs"] = scalar_f(kRScale);
  c.values["rz"] = Tensor::scalar<uint8_t>(0);
  c.values["vq"] = int8_weights({5, 4, 3, 3}, 8);
  c.values["vs"] = floats({5}, {0.004f, 0.009f, 0.013f, 0.002f, 0.007f});
  c.values["vz"] = Tensor::from_vector<int8_t>({5}, {0, 0, 0, 0, 0});
  c.values["vb"] = floats({5}, {0.1f, -0.2f, 0.3f, 0.05f, -0.4f});
  return c;
}

/// Expects initializer `name` to hold exactly float(q - zp) * scale[channel(e)] for every element.
void expect_folded(const ir::Graph& g, const std::string& name, const Tensor& q, const std::vector<float>& scales,
                   const std::vector<int64_t>& zps, int64_t inner) {
  ASSERT_TRUE(g.initializers.count(name)) << name;
  const Tensor& w = g.initializers.at(name);
  ASSERT_EQ(w.dtype(), DType::float32);
  ASSERT_EQ(w.shape(), q.shape());
  const Tensor wc = w.contiguous();
  int64_t bad = 0;
  for (int64_t e = 0; e < q.numel(); ++e) {
    const size_t k = scales.size() == 1 ? 0 : static_cast<size_t>((e / inner) % static_cast<int64_t>(scales.size()));
    const float want = static_cast<float>(static_cast<int64_t>(q.element_as_double(e)) - zps[k]) * scales[k];
    bad += wc.data<float>()[e] != want;  // bitwise: the fold is exact
  }
  EXPECT_EQ(bad, 0) << name;
}

TEST(PassFoldQdq, FoldsWeightsExactlyRemovesPairsAndRecordsRanges) {
  const Case c = conv_chain();
  FoldRun r = fold_qdq(c);
  ASSERT_TRUE(r.model);
  EXPECT_EQ(r.rewrites, 4);  // two weight DequantizeLinear, two Q/DQ pairs
  const ir::Graph& g = *r.model->graph;
  EXPECT_EQ(count_op(g, "QuantizeLinear"), 0);
  EXPECT_EQ(count_op(g, "DequantizeLinear"), 0);
  ASSERT_EQ(count_op(g, "Conv"), 2);
  EXPECT_EQ(g.nodes[0].inputs[0], "x");  // the first Conv reads x itself
  EXPECT_EQ(find_op(g, "Relu")->outputs[0], "r");
  expect_folded(g, "w", c.values.at("wq"), {0.011f, 0.023f, 0.0057f, 0.031f}, {0, 0, 0, 0}, 27);
  expect_folded(g, "v", c.values.at("vq"), {0.004f, 0.009f, 0.013f, 0.002f, 0.007f}, {0, 0, 0, 0, 0}, 36);

  ASSERT_EQ(r.ranges.size(), 2u);
  ASSERT_TRUE(r.ranges.count("x") && r.ranges.count("r"));
  // int8, zero point 0: [-128 s, 127 s], threshold 127 s (hwopt's s8 scale threshold / 127 = s).
  EXPECT_FLOAT_EQ(r.ranges["x"].min, -128 * kXScale);
  EXPECT_FLOAT_EQ(r.ranges["x"].max, 127 * kXScale);
  EXPECT_FLOAT_EQ(r.ranges["x"].threshold, 127 * kXScale);
  // uint8, zero point 0: [0, 255 s], threshold 255 s (hwopt's u8 scale threshold / 255 = s).
  EXPECT_EQ(r.ranges["r"].min, 0.f);
  EXPECT_FLOAT_EQ(r.ranges["r"].max, 255 * kRScale);
  EXPECT_FLOAT_EQ(r.ranges["r"].threshold, 255 * kRScale);
}

TEST(PassFoldQdq, AsymmetricZeroPointsAndPerTensorUint8Weights) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3, 6] x, float xs, uint8 xz, uint8[6, 4] wq, float wsc, uint8 wz) => (float[3, 4] y) {
      xq = QuantizeLinear(x, xs, xz)
      xd = DequantizeLinear(xq, xs, xz)
      w = DequantizeLinear(wq, wsc, wz)
      y = MatMul(xd, w)
    }
  )";
  c.values["xs"] = scalar_f(0.1f);
  c.values["xz"] = Tensor::scalar<uint8_t>(100);
  std::vector<uint8_t> wv(24);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<uint8_t>(i * 11 % 256);
  c.values["wq"] = Tensor::from_vector<uint8_t>({6, 4}, wv);
  c.values["wsc"] = scalar_f(0.0123f);
  c.values["wz"] = Tensor::scalar<uint8_t>(128);
  FoldRun r = fold_qdq(c);
  ASSERT_TRUE(r.model);
  EXPECT_EQ(r.rewrites, 2);
  const ir::Graph& g = *r.model->graph;
  EXPECT_EQ(count_op(g, "QuantizeLinear") + count_op(g, "DequantizeLinear"), 0);
  expect_folded(g, "w", c.values.at("wq"), {0.0123f}, {128}, 1);
  ASSERT_TRUE(r.ranges.count("x"));
  // [(0 - 100) * 0.1, (255 - 100) * 0.1], threshold the larger magnitude.
  EXPECT_FLOAT_EQ(r.ranges["x"].min, -10.f);
  EXPECT_FLOAT_EQ(r.ranges["x"].max, 15.5f);
  EXPECT_FLOAT_EQ(r.ranges["x"].threshold, 15.5f);
}

TEST(PassFoldQdq, KeepsPairsItCannotRemoveButRecordsTheirRanges) {
  // Q/DQ on a graph output; a Q read by QLinearMatMul; a Q of a constant (fake-quantized weight,
  // left to fold_constants); a DQ pair whose scale differs from its Q's.
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 4] x, float s, uint8 z, float s2, uint8[4, 3] bq, float bs, uint8 bz, float[4, 3] wf)
      => (float[2, 4] out, uint8[2, 3] mq, float[4, 3] wd, float[2, 4] other) {
      xq = QuantizeLinear(x, s, z)
      out = DequantizeLinear(xq, s, z)
      mq = QLinearMatMul(xq, s, z, bq, bs, bz, s, z)
      wq = QuantizeLinear(wf, s, z)
      wd = DequantizeLinear(wq, s, z)
      e = Exp(x)
      eq = QuantizeLinear(e, s, z)
      other = DequantizeLinear(eq, s2, z)
    }
  )";
  c.values["s"] = scalar_f(0.02f);
  c.values["s2"] = scalar_f(0.03f);
  c.values["z"] = Tensor::scalar<uint8_t>(0);
  c.values["bq"] = Tensor::from_vector<uint8_t>({4, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  c.values["bs"] = scalar_f(0.5f);
  c.values["bz"] = Tensor::scalar<uint8_t>(2);
  c.random = {"wf"};
  FoldRun r = fold_qdq(c);
  ASSERT_TRUE(r.model);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(count_op(*r.model->graph, "QuantizeLinear"), 3);
  EXPECT_EQ(count_op(*r.model->graph, "DequantizeLinear"), 3);
  EXPECT_EQ(r.ranges.size(), 2u);  // x and e; never the constant wf
  EXPECT_TRUE(r.ranges.count("x"));
  EXPECT_TRUE(r.ranges.count("e"));
}

TEST(PassFoldQdq, PipelineRunsItOnlyWhenEnabled) {
  const Case c = conv_chain();
  auto plain = build_model(c);
  ASSERT_TRUE(plain.ok());
  PipelineReport rep;
  ASSERT_TRUE(run_pipeline(*plain, PipelineOptions{}, &rep).ok());
  EXPECT_EQ(count_op(*plain->graph, "QuantizeLinear"), 2);  // the simulation stays at fp32
  EXPECT_TRUE(rep.activation_ranges.empty());

  auto folded = build_model(c);
  ASSERT_TRUE(folded.ok());
  PipelineOptions o;
  o.enabled = {"fold_qdq"};
  ASSERT_TRUE(run_pipeline(*folded, o, &rep).ok());
  EXPECT_EQ(count_op(*folded->graph, "QuantizeLinear"), 0);
  EXPECT_EQ(count_op(*folded->graph, "DequantizeLinear"), 0);
  EXPECT_EQ(rep.activation_ranges.size(), 2u);
  EXPECT_EQ(rep.passes.at(2).name, "fold_qdq");  // after decompose_qlinear and decompose_integer
  EXPECT_TRUE(rep.passes.at(2).enabled);

  o.enabled = {"fold_everything"};
  EXPECT_EQ(run_pipeline(*folded, o).code(), StatusCode::invalid_argument);
}

Expected<std::unique_ptr<Session>> load_case(const Case& c, const std::string& precision, const std::string& backend = "cpu") {
  auto bytes = build_model_bytes(c);
  if (!bytes.ok()) return bytes.status();
  SessionOptions so;
  so.backend = backend;
  so.optimize = backend == "cpu";
  so.precision = precision;
  return Session::load_from_bytes(bytes->data(), bytes->size(), so);
}

TEST(PassFoldQdq, Int8SessionUsesTheModelsRangesAndAgreesWithItsQdqSimulation) {
  const Case c = conv_chain();
  auto fp32 = load_case(c, "fp32");
  ASSERT_TRUE(fp32.ok()) << fp32.status().to_string();
  auto int8 = load_case(c, "int8");  // no activation_ranges: the model's own
  ASSERT_TRUE(int8.ok()) << int8.status().to_string();
  auto reference = load_case(c, "fp32", "reference");  // unoptimized, reference kernels
  ASSERT_TRUE(reference.ok()) << reference.status().to_string();

  // At fp32 the Q/DQ pairs stay (the simulation is what the model computes).
  EXPECT_EQ(count_op((*fp32)->graph(), "QuantizeLinear"), 2);
  EXPECT_EQ(count_op((*int8)->graph(), "QuantizeLinear"), 0);
  int int8_steps = 0;
  for (const auto& line : (*int8)->describe_plan()) int8_steps += line.find("[int8(") != std::string::npos;
  EXPECT_EQ(int8_steps, 2);

  std::mt19937 rng(3);
  Tensor x = random_tensor({2, 3, 8, 8}, rng, 0.0f, 2.0f);
  auto want = (*reference)->run({{"x", x}});
  auto sim = (*fp32)->run({{"x", x}});
  auto got = (*int8)->run({{"x", x}});
  ASSERT_TRUE(want.ok() && sim.ok() && got.ok());
  const Tensor& y_ref = want->at("y");
  double max_abs = 0;
  for (int64_t i = 0; i < y_ref.numel(); ++i) max_abs = std::max(max_abs, std::fabs(y_ref.element_as_double(i)));
  ASSERT_GT(max_abs, 0.1);
  // Same integers on both sides (x and r quantized with the model's scales, the folded weights
  // requantized to themselves): only a value on a rounding boundary of r may move one level,
  // changing y by kRScale x one weight (<= 0.013 * 127).
  const double one_level = kRScale * 0.013 * 127;
  for (const auto* run : {&*sim, &*got}) {
    const Tensor& y = run->at("y");
    ASSERT_EQ(y.shape(), y_ref.shape());
    double worst = 0;
    int64_t off = 0;
    for (int64_t i = 0; i < y.numel(); ++i) {
      const double d = std::fabs(y.element_as_double(i) - y_ref.element_as_double(i));
      worst = std::max(worst, d);
      off += d > 1e-4;
    }
    EXPECT_LE(worst, 2 * one_level + 1e-4) << (run == &*got ? "int8" : "fp32 (cpu)");
    EXPECT_LE(off, y.numel() / 50) << (run == &*got ? "int8" : "fp32 (cpu)");
    std::cout << (run == &*got ? "int8" : "fp32 cpu") << " vs QDQ reference: max abs diff " << worst << ", "
              << off << " of " << y.numel() << " elements off by more than 1e-4\n";
  }
}

TEST(PassFoldQdq, ExplicitRangesWinAndAModelWithoutRangesIsRefusedAtInt8) {
  Case plain;
  plain.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 4] x, float[4, 3] w) => (float[2, 3] y) { y = MatMul(x, w) }
  )";
  plain.random = {"w"};
  auto s = load_case(plain, "int8");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(s.status().message().find("QDQ"), std::string::npos) << s.status().message();

  // Without optimization the pass still runs at int8.
  auto bytes = build_model_bytes(conv_chain());
  ASSERT_TRUE(bytes.ok());
  SessionOptions so;
  so.backend = "cpu";
  so.precision = "int8";
  auto unoptimized = Session::load_from_bytes(bytes->data(), bytes->size(), so);
  ASSERT_TRUE(unoptimized.ok()) << unoptimized.status().to_string();
  EXPECT_EQ(count_op((*unoptimized)->graph(), "QuantizeLinear"), 0);
  // An explicit range of x wins over the model's: a huge threshold quantizes x to nearly nothing.
  so.activation_ranges["x"] = ActivationRange{-1000.f, 1000.f, 1000.f};
  auto overridden = Session::load_from_bytes(bytes->data(), bytes->size(), so);
  ASSERT_TRUE(overridden.ok()) << overridden.status().to_string();
  std::mt19937 rng(4);
  Tensor x = random_tensor({2, 3, 8, 8}, rng, 0.0f, 1.0f);
  auto a = (*unoptimized)->run({{"x", x}});
  auto b = (*overridden)->run({{"x", x}});
  ASSERT_TRUE(a.ok() && b.ok());
  double diff = 0;
  for (int64_t i = 0; i < a->at("y").numel(); ++i)
    diff = std::max(diff, std::fabs(a->at("y").element_as_double(i) - b->at("y").element_as_double(i)));
  EXPECT_GT(diff, 0.01);
}

// QLinearConv/QLinearMatMul are decomposed into QDQ around float ops (decompose_qlinear) and run on
// the CPU kernels, within one output quantization step (ys = 0.5) of the integer reference at
// fp32 and a few at int8 (hwopt requantizes the asymmetric zero-point-3 input symmetrically);
// ConvInteger/MatMulInteger still run on their reference kernels, exactly.
TEST(PassFoldQdq, QOperatorOpsRunDecomposedAndIntegerOpsOnReferenceKernels) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 2, 5, 5] x, float s, uint8 z, int8[3, 2, 3, 3] wq, float ws, int8 wz, float ys, uint8 yz,
       int8[50, 4] mq, int8 mz, int64[2] shape)
      => (float[1, 3, 3, 3] conv, int32[1, 3, 3, 3] conv_int, float[1, 4] mm, int32[1, 4] mm_int) {
      xq = QuantizeLinear(x, s, z)
      cq = QLinearConv(xq, s, z, wq, ws, wz, ys, yz)
      conv = DequantizeLinear(cq, ys, yz)
      conv_int = ConvInteger(xq, wq, z, wz)
      fq = Reshape(xq, shape)
      mqq = QLinearMatMul(fq, s, z, mq, ws, mz, ys, yz)
      mm = DequantizeLinear(mqq, ys, yz)
      mm_int = MatMulInteger(fq, mq, z, mz)
    }
  )";
  c.values["s"] = scalar_f(0.02f);
  c.values["z"] = Tensor::scalar<uint8_t>(3);
  std::vector<int8_t> w(54), m(200);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<int8_t>(static_cast<int>(i * 53 % 255) - 127);
  c.values["wq"] = Tensor::from_vector<int8_t>({3, 2, 3, 3}, w);
  c.values["ws"] = scalar_f(0.01f);
  c.values["wz"] = Tensor::scalar<int8_t>(0);
  c.values["ys"] = scalar_f(0.5f);
  c.values["yz"] = Tensor::scalar<uint8_t>(128);
  c.values["mq"] = Tensor::from_vector<int8_t>({50, 4}, m);
  c.values["mz"] = Tensor::scalar<int8_t>(0);
  c.values["shape"] = ints({2}, {1, 50});

  auto reference = load_case(c, "fp32", "reference");
  ASSERT_TRUE(reference.ok()) << reference.status().to_string();
  std::mt19937 rng(5);
  Tensor x = random_tensor({1, 2, 5, 5}, rng, 0.0f, 2.0f);
  auto want = (*reference)->run({{"x", x}});
  ASSERT_TRUE(want.ok()) << want.status().to_string();
  for (const char* precision : {"fp32", "int8"}) {
    SCOPED_TRACE(precision);
    auto s = load_case(c, precision);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    bool qlinear_on_reference = false, integer_on_reference = false;
    for (const auto& line : (*s)->describe_plan()) {
      qlinear_on_reference |= line.find("ref:QLinear") != std::string::npos;
      integer_on_reference |= line.find("ref:ConvInteger") != std::string::npos;
    }
    EXPECT_FALSE(qlinear_on_reference);
    EXPECT_TRUE(integer_on_reference);
    auto got = (*s)->run({{"x", x}});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    for (const char* out : {"conv", "conv_int", "mm", "mm_int"}) {
      const Tensor& a = want->at(out);
      const Tensor& b = got->at(out);
      ASSERT_EQ(a.shape(), b.shape()) << out;
      const bool integer = std::string(out).find("_int") != std::string::npos;
      const double tol = integer ? 0 : std::string(precision) == "fp32" ? 0.5 : 1.5;
      for (int64_t i = 0; i < a.numel(); ++i)
        EXPECT_LE(std::fabs(a.element_as_double(i) - b.element_as_double(i)), tol) << out << " " << i;
    }
  }
  // The integer results themselves: ConvInteger's first output element by hand.
  const Tensor xq = [&] {
    Tensor q(DType::int64, {50});
    for (int64_t i = 0; i < 50; ++i)
      q.data<int64_t>()[i] = std::clamp<int64_t>(std::nearbyint(x.data<float>()[i] / 0.02f) + 3, 0, 255);
    return q;
  }();
  int64_t acc = 0;
  for (int64_t ci = 0; ci < 2; ++ci)
    for (int64_t kh = 0; kh < 3; ++kh)
      for (int64_t kw = 0; kw < 3; ++kw)
        acc += (xq.data<int64_t>()[ci * 25 + kh * 5 + kw] - 3) * w[static_cast<size_t>(ci * 9 + kh * 3 + kw)];
  EXPECT_EQ(want->at("conv_int").element_as_double(0), static_cast<double>(acc));
}

}  // namespace
}  // namespace hwopt::passes::testing
