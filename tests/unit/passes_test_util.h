// Helpers for the pass tests: models written in ONNX's textual syntax, graph inputs turned into
// initializers with random (non-zero) values, one pass run, and outputs compared before/after.
#pragma once

#include <gtest/gtest.h>
#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "onnx/export.h"
#include "onnx/import.h"
#include "passes/pipeline.h"
#include "runtime/plan.h"

namespace hwopt::passes::testing {

/// A test model: ONNX text plus which graph inputs become constants (initializers).
struct Case {
  std::string text;
  std::set<std::string> random;              // constants with random values in ±[0.1, 1]
  std::set<std::string> positive;            // constants with random values in [0.5, 1.5]
  std::map<std::string, Tensor> values;      // constants with given values
  std::map<std::string, Tensor> inputs;      // run inputs (inputs not given get random values)
  uint32_t seed = 1;
};

inline float random_nonzero(std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> mag(lo, hi);
  std::bernoulli_distribution sign(0.5);
  return sign(rng) ? mag(rng) : -mag(rng);
}

/// A float32 tensor of `shape` with values in ±[lo, hi] (or [lo, hi] if `positive`).
inline Tensor random_tensor(const Shape& shape, std::mt19937& rng, float lo = 0.1f, float hi = 1.0f,
                            bool positive = false) {
  Tensor t(DType::float32, shape);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = positive ? u(rng) : random_nonzero(rng, lo, hi);
  return t;
}

/// Integers of type T (int8_t, uint8_t, ...) uniform in [lo, hi], as a tensor of `dt`.
template <typename T>
Tensor int_tensor(DType dt, const Shape& shape, int lo, int hi, uint32_t seed) {
  Tensor t(dt, shape);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(d(rng));
  return t;
}

inline void set_tensor_proto(const std::string& name, const Tensor& t, onnx::TensorProto& p) {
  p.set_name(name);
  p.set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) p.add_dims(d);
  const Tensor c = t.contiguous();
  p.set_raw_data(std::string(static_cast<const char*>(c.raw_data()), c.nbytes()));
}

/// Parses the case's text and loads it as hwopt would load a file (shape inference included).
/// The case's model serialized as ONNX bytes (inputs named in random/positive/values made constants).
inline Expected<std::string> build_model_bytes(const Case& c) {
  onnx::ModelProto mp;
  auto st = onnx::OnnxParser::Parse(mp, c.text.c_str());
  if (!st.IsOK()) return Status(StatusCode::invalid_argument, "parse error: " + st.ErrorMessage());
  std::mt19937 rng(c.seed);
  auto* g = mp.mutable_graph();
  std::set<std::string> inits;
  for (const auto& i : g->initializer()) inits.insert(i.name());
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> kept;
  for (const auto& in : g->input()) {
    const std::string& name = in.name();
    const bool make_const = c.random.count(name) || c.positive.count(name) || c.values.count(name);
    if (!make_const) {
      if (!inits.count(name)) *kept.Add() = in;  // the parser lists initializers as inputs too
      continue;
    }
    Tensor t;
    if (c.values.count(name)) {
      t = c.values.at(name);
    } else {
      Shape shape;
      for (const auto& d : in.type().tensor_type().shape().dim()) shape.push_back(d.dim_value());
      t = random_tensor(shape, rng, c.positive.count(name) ? 0.5f : 0.1f, c.positive.count(name) ? 1.5f : 1.0f,
                        c.positive.count(name) > 0);
    }
    set_tensor_proto(name, t, *g->add_initializer());
  }
  g->mutable_input()->Swap(&kept);
  std::string bytes;
  mp.SerializeToString(&bytes);
  return bytes;
}

inline Expected<onnx_import::Model> build_model(const Case& c) {
  auto bytes = build_model_bytes(c);
  if (!bytes.ok()) return bytes.status();
  return onnx_import::load_model_from_bytes(bytes->data(), bytes->size());
}

/// Random run inputs for every graph input the case does not give (static shapes required).
inline std::map<std::string, Tensor> make_inputs(const onnx_import::Model& m, const Case& c) {
  std::mt19937 rng(c.seed + 1000);
  std::map<std::string, Tensor> in = c.inputs;
  for (const auto& vi : m.graph->inputs) {
    if (in.count(vi.name) || m.graph->initializers.count(vi.name)) continue;
    auto s = vi.static_shape();
    EXPECT_TRUE(s.has_value()) << "input " << vi.name << " needs a static shape or a given value";
    if (!s) continue;
    in[vi.name] = random_tensor(*s, rng, 0.1f, 2.0f);
  }
  return in;
}

/// Runs the model with the reference kernels; returns the outputs in graph order.
inline Expected<std::vector<Tensor>> run_model(const onnx_import::Model& m, const std::map<std::string, Tensor>& in) {
  auto plan = Plan::create(m.graph, PlanOptions{});
  if (!plan.ok()) return plan.status();
  std::vector<RtValue> args;
  for (const auto& vi : m.graph->inputs) args.push_back(in.count(vi.name) ? RtValue::of(in.at(vi.name)) : RtValue{});
  auto out = plan.value()->run(std::move(args), RunOptions{}, nullptr);
  if (!out.ok()) return out.status();
  std::vector<Tensor> result;
  for (auto& v : *out) result.push_back(v.tensor);
  return result;
}

/// Expects equal dtypes and shapes and |a - b| <= tol + tol * |a| element-wise.
inline void expect_close(const std::vector<Tensor>& a, const std::vector<Tensor>& b, double tol,
                         const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].dtype(), b[k].dtype()) << what << " output " << k;
    ASSERT_EQ(a[k].shape(), b[k].shape()) << what << " output " << k;
    int64_t bad = 0;
    double worst = 0;
    for (int64_t i = 0; i < a[k].numel(); ++i) {
      const double x = a[k].element_as_double(i), y = b[k].element_as_double(i);
      if (std::isnan(x) && std::isnan(y)) continue;
      const double err = std::fabs(x - y);
      worst = std::max(worst, err);
      if (!(err <= tol + tol * std::fabs(x))) ++bad;
    }
    EXPECT_EQ(bad, 0) << what << " output " << k << ": " << bad << " of " << a[k].numel()
                      << " elements differ beyond " << tol << " (max abs diff " << worst << ")";
  }
}

/// Number of nodes with this op type and domain in the main graph.
inline int count_op(const ir::Graph& g, const std::string& op, const std::string& domain = "") {
  int n = 0;
  for (const auto& node : g.nodes) n += node.op_type == op && node.domain == domain;
  return n;
}

inline const ir::Node* find_op(const ir::Graph& g, const std::string& op, const std::string& domain = "") {
  for (const auto& node : g.nodes)
    if (node.op_type == op && node.domain == domain) return &node;
  return nullptr;
}

struct PassRun {
  std::optional<onnx_import::Model> before, after;
  int rewrites = -1;
  std::vector<std::string> notes;
};

/// The pipeline's pass called `name` (null if there is none).
inline std::unique_ptr<Pass> find_pass(const std::string& name) {
  for (auto& p : default_passes())
    if (p->name() == name) return std::move(p);
  return nullptr;
}

/// Runs pass `name` alone (main graph and subgraphs) on the case's model, then checks that the
/// outputs before and after agree within `tol` on the same random inputs, that the optimized graph
/// validates, and that it survives export and import with the same outputs.
inline PassRun check_pass(const Case& c, const std::string& name, double tol = 1e-5,
                          size_t fold_limit = kDefaultFoldLimitBytes) {
  PassRun r;
  auto before = build_model(c);
  auto after = build_model(c);
  EXPECT_TRUE(before.ok()) << before.status().to_string();
  if (!before.ok() || !after.ok()) return r;
  std::unique_ptr<Pass> pass = find_pass(name);
  EXPECT_TRUE(pass) << "no pass " << name;
  if (!pass) return r;
  PassContext ctx(*after, fold_limit);
  auto n = run_pass_recursive(*pass, *after->graph, ctx);
  EXPECT_TRUE(n.ok()) << n.status().to_string();
  if (!n.ok()) return r;
  r.rewrites = *n;
  r.notes = ctx.notes();
  Status valid = ir::validate_graph(*after->graph);
  EXPECT_TRUE(valid.ok()) << valid.to_string();
  const auto inputs = make_inputs(*before, c);
  auto want = run_model(*before, inputs);
  auto got = run_model(*after, inputs);
  EXPECT_TRUE(want.ok()) << want.status().to_string();
  EXPECT_TRUE(got.ok()) << got.status().to_string();
  if (want.ok() && got.ok()) expect_close(*want, *got, tol, name);
  auto bytes = onnx_import::save_model_to_bytes(*after);
  EXPECT_TRUE(bytes.ok()) << bytes.status().to_string();
  if (bytes.ok()) {
    auto again = onnx_import::load_model_from_bytes(bytes->data(), bytes->size());
    EXPECT_TRUE(again.ok()) << again.status().to_string();
    if (again.ok() && want.ok()) {
      auto reloaded = run_model(*again, inputs);
      EXPECT_TRUE(reloaded.ok()) << reloaded.status().to_string();
      if (reloaded.ok()) expect_close(*want, *reloaded, tol, name + " (exported and reloaded)");
    }
  }
  r.before = std::move(before).value();
  r.after = std::move(after).value();
  return r;
}

inline Tensor scalar_f(float v) { return Tensor::scalar<float>(v); }
inline Tensor floats(const Shape& s, std::vector<float> v) { return Tensor::from_vector<float>(s, v); }
inline Tensor ints(const Shape& s, std::vector<int64_t> v) { return Tensor::from_vector<int64_t>(s, v); }

}  // namespace hwopt::passes::testing
