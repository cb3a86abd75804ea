// decompose_integer: ONNX Runtime's dynamic quantization (DynamicQuantizeLinear -> MatMulInteger/
// ConvInteger -> Cast -> Mul by x_scale·W_scale) becomes the float MatMul/Conv it came from.
// Structure (what is left, the float weights, provenance), numerics against the unoptimized model
// on the reference kernels (which run the integer ops exactly) with bounds derived from the
// activation's quantization step, and the chains that must be left alone.
#include <cstdio>
#include <random>

#include "hwopt/session.h"
#include "passes/graph_view.h"
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

Tensor scales(const Shape& shape, float lo, float step) {
  Tensor t(DType::float32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = lo + step * static_cast<float>(i);
  return t;
}

// The weight, zero point and scale of a quantized MatMul with K rows and N columns.
struct Weights {
  Tensor w, wzp, ws;
};

Weights matmul_weights(bool int8, bool per_column, int64_t K, int64_t N, uint32_t seed) {
  Weights q;
  const Shape zs = per_column ? Shape{N} : Shape{};
  if (int8) {
    q.w = int_tensor<int8_t>(DType::int8, {K, N}, -127, 127, seed);
    q.wzp = int_tensor<int8_t>(DType::int8, zs, -9, 9, seed + 1);
  } else {
    q.w = int_tensor<uint8_t>(DType::uint8, {K, N}, 0, 255, seed);
    q.wzp = int_tensor<uint8_t>(DType::uint8, zs, 118, 138, seed + 1);
  }
  q.ws = per_column ? scales({N}, 0.002f, 0.0005f) : Tensor::scalar<float>(0.004f);
  return q;
}

std::string type_of(const Tensor& t) {
  std::string s = t.dtype() == DType::int8 ? "int8" : t.dtype() == DType::uint8 ? "uint8" : "float";
  if (t.rank() == 0) return s;
  s += "[";
  for (int64_t d = 0; d < t.rank(); ++d) s += (d ? ", " : "") + std::to_string(t.dim(d));
  return s + "]";
}

// ORT's quantize_dynamic output for y = x[rows, K] · W (+ bias), the scale product and the output
// Mul in the given operand orders.
Case matmul_case(const Weights& q, bool swap_scale_mul, bool swap_out_mul, const std::string& x_dims = "4, 16",
                 bool bias = false) {
  const int64_t N = q.w.dim(1);
  std::string y_dims = x_dims.substr(0, x_dims.rfind(',')) + ", " + std::to_string(N);
  Case c;
  c.text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
           "g (float[" + x_dims + "] x, " + type_of(q.w) + " w, " + type_of(q.wzp) + " wzp, " + type_of(q.ws) +
           " ws" + (bias ? ", float[" + std::to_string(N) + "] b" : "") + ") => (float[" + y_dims + "] y) {\n"
           "  xq, xs, xzp = DynamicQuantizeLinear(x)\n"
           "  acc = MatMulInteger(xq, w, xzp, wzp)\n"
           "  accf = Cast <to = 1> (acc)\n" +
           (swap_scale_mul ? "  s = Mul(ws, xs)\n" : "  s = Mul(xs, ws)\n") +
           (bias ? (swap_out_mul ? "  m = Mul(s, accf)\n" : "  m = Mul(accf, s)\n") + std::string("  y = Add(m, b)\n")
                 : (swap_out_mul ? "  y = Mul(s, accf)\n" : "  y = Mul(accf, s)\n")) +
           "}\n";
  c.values["w"] = q.w;
  c.values["wzp"] = q.wzp;
  c.values["ws"] = q.ws;
  if (bias) c.values["b"] = scales({N}, -0.3f, 0.07f);
  return c;
}

// Wf[k, n] = (w[k, n] - wzp[n]) · ws[n] (per tensor: index 0), computed here independently of the pass.
std::vector<double> expected_weights(const Weights& q, int64_t channel_axis) {
  std::vector<double> wf(static_cast<size_t>(q.w.numel()));
  const int64_t channels = q.w.dim(channel_axis);
  int64_t inner = 1;
  for (int64_t d = channel_axis + 1; d < q.w.rank(); ++d) inner *= q.w.dim(d);
  for (int64_t e = 0; e < q.w.numel(); ++e) {
    const int64_t ch = (e / inner) % channels;
    const double zp = q.wzp.element_as_double(q.wzp.numel() == 1 ? 0 : ch);
    const float s = q.ws.data<float>()[q.ws.numel() == 1 ? 0 : ch];
    wf[e] = static_cast<double>(static_cast<float>(q.w.element_as_double(e) - zp) * s);
  }
  return wf;
}

// DynamicQuantizeLinear's scale for x: the range [min(0, x), max(0, x)] over 255 levels.
double dynamic_scale(const Tensor& x) {
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    lo = std::min(lo, x.element_as_double(i));
    hi = std::max(hi, x.element_as_double(i));
  }
  return static_cast<double>(static_cast<float>((hi - lo) / 255.0));
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t.element_as_double(i)));
  return m;
}

std::set<std::string> ops_of(const ir::Graph& g) {
  std::set<std::string> s;
  for (const auto& n : g.nodes) s.insert(n.op_type);
  return s;
}

Expected<std::unique_ptr<Session>> session(const Case& c, const std::string& precision) {
  auto bytes = build_model_bytes(c);
  if (!bytes.ok()) return bytes.status();
  SessionOptions so;
  so.backend = "cpu";
  so.optimize = true;
  so.precision = precision;
  return Session::load_from_bytes(bytes->data(), bytes->size(), so);
}

// Runs the case optimized on the cpu backend at `precision` and the unoptimized model on the
// reference kernels, and checks |got - want| <= bound(row, n) for y[rows, N] (x flattened to
// [rows, K]). Returns the largest error and the largest error / bound.
template <typename Bound>
std::pair<double, double> compare_matmul(const Case& c, const std::string& precision, Bound bound,
                                         const std::string& expect_impl = "") {
  auto before = build_model(c);
  EXPECT_TRUE(before.ok());
  if (!before.ok()) return {};
  const auto inputs = make_inputs(*before, c);
  auto want = run_model(*before, inputs);
  EXPECT_TRUE(want.ok()) << want.status().to_string();
  auto s = session(c, precision);
  EXPECT_TRUE(s.ok()) << precision << ": " << s.status().to_string();
  if (!want.ok() || !s.ok()) return {};
  EXPECT_EQ(count_op(s.value()->graph(), "MatMulInteger"), 0) << precision;
  if (!expect_impl.empty()) {
    int found = 0;
    for (const auto& st : s.value()->plan_steps()) found += st.implementation.find(expect_impl) != std::string::npos;
    EXPECT_GE(found, 1) << precision << ": no step runs " << expect_impl;
  }
  auto got = s.value()->run({{"x", inputs.at("x")}});
  EXPECT_TRUE(got.ok()) << got.status().to_string();
  if (!got.ok()) return {};
  const Tensor& y = got->at("y");
  const Tensor& r = (*want)[0];
  EXPECT_EQ(y.shape(), r.shape());
  const int64_t N = y.dim(y.rank() - 1);
  double worst = 0, worst_ratio = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double err = std::fabs(y.element_as_double(i) - r.element_as_double(i));
    const double b = bound(i / N, i % N);
    EXPECT_LE(err, b) << precision << " element " << i;
    worst = std::max(worst, err);
    worst_ratio = std::max(worst_ratio, err / b);
  }
  std::printf("[ decompose_integer ] %s: max |err| %.3g, max err/bound %.3f (max |y| %.3g)\n", precision.c_str(), worst,
              worst_ratio, max_abs(r));
  return {worst, worst_ratio};
}

// The bounds for y = x[rows, K] · Wf against the reference's xs·(xq − xzp) · Wf (exact integer
// accumulation): the activation is off by at most xs/2 per element, so
//   fp32:         |err| <= xs/2 · Σ_k |Wf[k,n]|                       + float slack
//   int8-dynamic: hwopt requantizes x to s8 at sa = max|x|/127 and Wf to s8 per column at
//                 sw[n] = max_k |Wf[k,n]|/127; with Ŵ within sw/2 of Wf,
//                 |err| <= xs/2 · Σ|Wf| + sa/2 · Σ_k (|Wf[k,n]| + sw[n]/2) + sw[n]/2 · Σ_k |x[r,k]| + slack
// where the float slack is 1e-5 of Σ_k |x[r,k]|·|Wf[k,n]| (float32 sums of K = 16..64 terms).
struct MatMulBounds {
  Tensor x;
  std::vector<double> wf;
  int64_t K = 0, N = 0;
  double xs = 0;

  double sum_w(int64_t n) const {
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::fabs(wf[k * N + n]);
    return s;
  }
  double magnitude(int64_t r, int64_t n) const {
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::fabs(x.element_as_double(r * K + k) * wf[k * N + n]);
    return s;
  }
  double fp32(int64_t r, int64_t n) const { return xs / 2 * sum_w(n) * (1 + 1e-4) + 1e-5 * magnitude(r, n) + 1e-6; }
  double int8_dynamic(int64_t r, int64_t n) const {
    double wmax = 0, xrow = 0;
    for (int64_t k = 0; k < K; ++k) {
      wmax = std::max(wmax, std::fabs(wf[k * N + n]));
      xrow += std::fabs(x.element_as_double(r * K + k));
    }
    const double sa = max_abs(x) / 127, sw = wmax / 127;
    return fp32(r, n) + sa / 2 * (sum_w(n) + K * sw / 2) + sw / 2 * xrow;
  }
};

MatMulBounds matmul_bounds(const Case& c, const Weights& q) {
  auto m = build_model(c);
  EXPECT_TRUE(m.ok());
  MatMulBounds b;
  b.x = make_inputs(*m, c).at("x");
  b.wf = expected_weights(q, 1);
  b.K = q.w.dim(0);
  b.N = q.w.dim(1);
  b.xs = dynamic_scale(b.x);
  return b;
}

TEST(PassDecomposeInteger, MatMulIntegerChainBecomesOneFloatMatMul) {
  int variant = 0;
  for (const bool int8 : {true, false})
    for (const bool per_column : {true, false})
      for (const bool swap : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "int8 " << int8 << " per_column " << per_column << " swap " << swap);
        const Weights q = matmul_weights(int8, per_column, 16, 8, 10 + variant++);
        const Case c = matmul_case(q, swap, !swap);
        // Before/after on the reference kernels: the float MatMul differs from the integer chain
        // by the activation's rounding (checked with a derived bound below); 0.05 only keeps
        // check_pass's own comparison from failing first.
        auto r = check_pass(c, "decompose_integer", 0.05);
        ASSERT_TRUE(r.after);
        EXPECT_EQ(r.rewrites, 1);
        const ir::Graph& g = *r.after->graph;
        EXPECT_EQ(ops_of(g), std::set<std::string>{"MatMul"});
        const ir::Node* mm = find_op(g, "MatMul");
        ASSERT_NE(mm, nullptr);
        EXPECT_EQ(mm->inputs[0], "x");
        EXPECT_EQ(mm->outputs[0], "y");
        ASSERT_TRUE(g.initializers.count(mm->inputs[1]));
        const Tensor& wf = g.initializers.at(mm->inputs[1]);
        ASSERT_EQ(wf.dtype(), DType::float32);
        ASSERT_EQ(wf.shape(), q.w.shape());
        const auto want = expected_weights(q, 1);
        for (int64_t e = 0; e < wf.numel(); ++e) ASSERT_EQ(wf.data<float>()[e], want[e]) << e;  // exact
        // Every imported node is accounted for (unnamed nodes go by their first output).
        EXPECT_EQ(std::set<std::string>(mm->fused_from.begin(), mm->fused_from.end()),
                  (std::set<std::string>{"xq", "acc", "accf", "s", "y"}));
        EXPECT_EQ(mm->fused_from.size(), 5u);
      }
}

TEST(PassDecomposeInteger, MatMulNumericsAtFp32AndInt8Dynamic) {
  int variant = 0;
  for (const bool int8 : {true, false})
    for (const bool per_column : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "int8 " << int8 << " per_column " << per_column);
      const Weights q = matmul_weights(int8, per_column, 64, 24, 30 + variant++);
      const Case c = matmul_case(q, per_column, int8, "8, 64");
      const MatMulBounds b = matmul_bounds(c, q);
      compare_matmul(c, "fp32", [&](int64_t r, int64_t n) { return b.fp32(r, n); });
      compare_matmul(c, "int8-dynamic", [&](int64_t r, int64_t n) { return b.int8_dynamic(r, n); }, "int8-dynamic");
    }
}

TEST(PassDecomposeInteger, SharedDynamicQuantizeLinearIsRewrittenWithAllItsChains) {
  // ORT quantizes an input once for all the MatMuls reading it (BERT's Q/K/V projections).
  const Weights a = matmul_weights(true, true, 16, 8, 50), b = matmul_weights(false, false, 16, 4, 52);
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[4, 16] x, int8[16, 8] wa, int8[8] wzpa, float[8] wsa, uint8[16, 4] wb, uint8 wzpb, float wsb)
      => (float[4, 8] ya, float[4, 4] yb) {
      xq, xs, xzp = DynamicQuantizeLinear(x)
      acca = MatMulInteger(xq, wa, xzp, wzpa)
      accfa = Cast <to = 1> (acca)
      sa = Mul(xs, wsa)
      ya = Mul(accfa, sa)
      accb = MatMulInteger(xq, wb, xzp, wzpb)
      accfb = Cast <to = 1> (accb)
      sb = Mul(wsb, xs)
      yb = Mul(sb, accfb)
    }
  )";
  c.values = {{"wa", a.w}, {"wzpa", a.wzp}, {"wsa", a.ws}, {"wb", b.w}, {"wzpb", b.wzp}, {"wsb", b.ws}};
  auto r = check_pass(c, "decompose_integer", 0.05);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(ops_of(*r.after->graph), std::set<std::string>{"MatMul"});
  // The shared DynamicQuantizeLinear is counted once, with the first chain.
  std::multiset<std::string> origins;
  for (const auto& n : r.after->graph->nodes) origins.insert(n.fused_from.begin(), n.fused_from.end());
  EXPECT_EQ(origins, (std::multiset<std::string>{"xq", "acca", "accfa", "sa", "ya", "accb", "accfb", "sb", "yb"}));
}

TEST(PassDecomposeInteger, BiasAddIsFusedAfterwards) {
  const Weights q = matmul_weights(false, true, 32, 16, 60);
  // Rank 3 (a transformer's [batch, sequence, hidden]): MatMul + bias becomes FusedMatMul.
  const Case c = matmul_case(q, true, true, "2, 5, 32", /*bias=*/true);
  auto m = build_model(c);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(run_pipeline(*m, PipelineOptions{}).ok());
  const ir::Graph& g = *m->graph;
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "FusedMatMul");
  EXPECT_EQ(g.nodes[0].domain, "ai.hwopt");
  EXPECT_EQ(std::set<std::string>(g.nodes[0].fused_from.begin(), g.nodes[0].fused_from.end()),
            (std::set<std::string>{"xq", "acc", "accf", "s", "m", "y"}));
  // The bias is exact in both; the bounds are those of the product (x seen as [10, 32]).
  MatMulBounds b = matmul_bounds(c, q);
  compare_matmul(c, "fp32", [&](int64_t r, int64_t n) { return b.fp32(r, n); });
  compare_matmul(c, "int8-dynamic", [&](int64_t r, int64_t n) { return b.int8_dynamic(r, n); }, "int8-dynamic");
}

TEST(PassDecomposeInteger, ConvIntegerChainBecomesFloatConv) {
  for (const bool int8 : {false, true}) {
    SCOPED_TRACE(::testing::Message() << "int8 " << int8);
    Weights q;
    if (int8) {
      q.w = int_tensor<int8_t>(DType::int8, {6, 3, 3, 3}, -127, 127, 70);
      q.wzp = int_tensor<int8_t>(DType::int8, {6}, -5, 5, 71);
    } else {
      q.w = int_tensor<uint8_t>(DType::uint8, {6, 3, 3, 3}, 0, 255, 72);
      q.wzp = Tensor::scalar<uint8_t>(131);
    }
    q.ws = scales({6, 1, 1}, 0.003f, 0.001f);  // per output channel, broadcast along axis 1
    Case c;
    c.text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
             "g (float[2, 3, 9, 9] x, " + type_of(q.w) + " w, " + type_of(q.wzp) + " wzp, float[6, 1, 1] ws)"
             " => (float[2, 6, 5, 5] y) {\n"
             "  xq, xs, xzp = DynamicQuantizeLinear(x)\n"
             "  acc = ConvInteger <pads = [1, 1, 1, 1], strides = [2, 2]> (xq, w, xzp, wzp)\n"
             "  accf = Cast <to = 1> (acc)\n"
             "  s = Mul(ws, xs)\n"
             "  y = Mul(s, accf)\n"
             "}\n";
    c.values = {{"w", q.w}, {"wzp", q.wzp}, {"ws", q.ws}};
    auto r = check_pass(c, "decompose_integer", 0.05);
    ASSERT_TRUE(r.after);
    EXPECT_EQ(r.rewrites, 1);
    const ir::Graph& g = *r.after->graph;
    EXPECT_EQ(ops_of(g), std::set<std::string>{"Conv"});
    const ir::Node* conv = find_op(g, "Conv");
    ASSERT_NE(conv, nullptr);
    ASSERT_EQ(conv->inputs.size(), 2u);
    EXPECT_EQ(attr_ints(*conv, "pads"), (std::optional<std::vector<int64_t>>{{1, 1, 1, 1}}));
    EXPECT_EQ(attr_ints(*conv, "strides"), (std::optional<std::vector<int64_t>>{{2, 2}}));
    const Tensor& wf = g.initializers.at(conv->inputs[1]);
    const auto want_w = expected_weights(q, 0);
    for (int64_t e = 0; e < wf.numel(); ++e) ASSERT_EQ(wf.data<float>()[e], want_w[e]) << e;

    // fp32 on the cpu backend vs the integer reference: each output sums at most C·kh·kw = 27
    // products, each off by at most xs/2·|Wf|, so |err| <= xs/2 · Σ_{c,i,j} |Wf[m,c,i,j]|.
    auto before = build_model(c);
    ASSERT_TRUE(before.ok());
    const auto inputs = make_inputs(*before, c);
    auto want = run_model(*before, inputs);
    ASSERT_TRUE(want.ok());
    auto s = session(c, "fp32");
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    EXPECT_EQ(count_op(s.value()->graph(), "ConvInteger"), 0);
    auto got = s.value()->run({{"x", inputs.at("x")}});
    ASSERT_TRUE(got.ok());
    const double xs = dynamic_scale(inputs.at("x"));
    const Tensor& y = got->at("y");
    double worst = 0, worst_ratio = 0;
    for (int64_t i = 0; i < y.numel(); ++i) {
      const int64_t m = (i / 25) % 6;
      double sum_w = 0;
      for (int64_t e = 0; e < 27; ++e) sum_w += std::fabs(want_w[m * 27 + e]);
      const double bound = xs / 2 * sum_w * (1 + 1e-4) + 1e-5 * max_abs(inputs.at("x")) * sum_w + 1e-6;
      const double err = std::fabs(y.element_as_double(i) - (*want)[0].element_as_double(i));
      EXPECT_LE(err, bound) << i;
      worst = std::max(worst, err);
      worst_ratio = std::max(worst_ratio, err / bound);
    }
    std::printf("[ decompose_integer ] conv fp32: max |err| %.3g, max err/bound %.3f (max |y| %.3g)\n", worst,
                worst_ratio, max_abs((*want)[0]));
  }
}

// Left alone: the graph keeps its nodes and runs as before (reference kernels for the integer
// ops), on the reference backend (check_pass) and optimized on the cpu backend.
void expect_unchanged(const Case& c) {
  auto r = check_pass(c, "decompose_integer", 1e-6);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(r.after->graph->nodes.size(), r.before->graph->nodes.size());
  EXPECT_EQ(ops_of(*r.after->graph), ops_of(*r.before->graph));
  auto s = session(c, "fp32");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  std::map<std::string, Tensor> in;
  const auto inputs = make_inputs(*r.before, c);
  for (const auto& vi : r.before->graph->inputs)
    if (inputs.count(vi.name)) in[vi.name] = inputs.at(vi.name);
  auto got = s.value()->run(in);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto want = run_model(*r.before, inputs);
  ASSERT_TRUE(want.ok());
  std::vector<Tensor> ordered;
  for (const auto& o : r.before->graph->outputs) ordered.push_back(got->at(o.name));
  expect_close(*want, ordered, 1e-5, "cpu session");
}

TEST(PassDecomposeInteger, LeavesOtherChainsAlone) {
  const Weights q = matmul_weights(true, true, 16, 8, 80);
  const std::string head = "<ir_version: 8, opset_import: [\"\" : 13]>\n";
  const std::string args = "float[4, 16] x, int8[16, 8] w, int8[8] wzp, float[8] ws";
  const std::string chain = "  xq, xs, xzp = DynamicQuantizeLinear(x)\n"
                            "  acc = MatMulInteger(xq, w, xzp, wzp)\n";
  {
    SCOPED_TRACE("weight not constant");
    Case c = matmul_case(q, false, false);
    c.values.erase("w");
    c.inputs["w"] = q.w;
    expect_unchanged(c);
  }
  // A graph of the chain's head plus `body`, with the usual constant weight, zero point and scale.
  auto chain_case = [&](const std::string& extra_args, const std::string& outputs, const std::string& body) {
    Case c;
    c.text = head + "g (" + args + extra_args + ") => (" + outputs + ") {\n" + chain + body + "}\n";
    c.values = {{"w", q.w}, {"wzp", q.wzp}, {"ws", q.ws}};
    return c;
  };
  {
    SCOPED_TRACE("Cast missing: the int32 result is read directly");
    expect_unchanged(chain_case("", "int32[4, 8] acc, float[8] s", "  s = Mul(xs, ws)\n"));
  }
  {
    SCOPED_TRACE("Cast to double");
    Case c;
    c.text = head + "g (float[4, 16] x, int8[16, 8] w, int8[8] wzp, double[8] ws) => (double[4, 8] y) {\n" + chain +
             "  accf = Cast <to = 11> (acc)\n  xsd = Cast <to = 11> (xs)\n  s = Mul(xsd, ws)\n  y = Mul(accf, s)\n}\n";
    c.values = {{"w", q.w}, {"wzp", q.wzp}};
    Tensor wsd(DType::float64, {8});
    for (int64_t n = 0; n < 8; ++n) wsd.data<double>()[n] = q.ws.data<float>()[n];
    c.values["ws"] = wsd;
    expect_unchanged(c);
  }
  {
    SCOPED_TRACE("the Cast's result has a second reader");
    expect_unchanged(chain_case("", "float[4, 8] y, float[4, 8] z",
                                "  accf = Cast <to = 1> (acc)\n  s = Mul(xs, ws)\n  y = Mul(accf, s)\n  z = Relu(accf)\n"));
  }
  {
    SCOPED_TRACE("x_scale has a reader outside the chain");
    expect_unchanged(chain_case("", "float[4, 8] y, float z",
                                "  accf = Cast <to = 1> (acc)\n  s = Mul(xs, ws)\n  y = Mul(accf, s)\n  z = Neg(xs)\n"));
  }
  {
    SCOPED_TRACE("Mul by a tensor that is not x_scale times the weight scale");
    Case c = chain_case(", float k", "float[4, 8] y", "  accf = Cast <to = 1> (acc)\n  s = Mul(k, ws)\n  y = Mul(accf, s)\n");
    c.inputs["k"] = Tensor::scalar<float>(0.01f);
    expect_unchanged(c);
  }
  {
    SCOPED_TRACE("Mul by the constant weight scale alone");
    expect_unchanged(chain_case("", "float[4, 8] y", "  accf = Cast <to = 1> (acc)\n  y = Mul(accf, ws)\n"));
  }
  {
    SCOPED_TRACE("a shared DynamicQuantizeLinear also feeds a chain with a non-constant weight");
    Case c = chain_case(", int8[16, 8] w2", "float[4, 8] y, int32[4, 8] acc2",
                        "  accf = Cast <to = 1> (acc)\n  s = Mul(xs, ws)\n  y = Mul(accf, s)\n"
                        "  acc2 = MatMulInteger(xq, w2, xzp, wzp)\n");
    c.inputs["w2"] = int_tensor<int8_t>(DType::int8, {16, 8}, -127, 127, 81);
    expect_unchanged(c);
  }
}

TEST(PassDecomposeInteger, RunsInTheSessionPipelineAtInt8WithoutOptimizing) {
  // Like decompose_qlinear, the session runs it at precision int8 also without `optimize`.
  const Weights q = matmul_weights(true, true, 16, 8, 90);
  const Case c = matmul_case(q, false, false);
  auto bytes = build_model_bytes(c);
  ASSERT_TRUE(bytes.ok());
  SessionOptions so;
  so.backend = "cpu";
  so.optimize = false;
  so.precision = "int8";
  so.activation_ranges["x"] = ActivationRange{-2.f, 2.f, 2.f};  // int8 refuses a session without ranges
  auto s = Session::load_from_bytes(bytes->data(), bytes->size(), so);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(count_op(s.value()->graph(), "MatMulInteger"), 0);
  EXPECT_EQ(count_op(s.value()->graph(), "MatMul"), 1);
}

}  // namespace
}  // namespace hwopt::passes::testing
