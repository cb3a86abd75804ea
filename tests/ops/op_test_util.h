// Runs one reference kernel on given tensors, for op unit tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/reference/registry.h"
#include "runtime/single_op.h"

namespace hwopt::testing {

inline ir::Attribute attr_i(const std::string& name, int64_t v) {
  ir::Attribute a; a.name = name; a.type = ir::AttrType::i; a.i = v; return a;
}
inline ir::Attribute attr_f(const std::string& name, float v) {
  ir::Attribute a; a.name = name; a.type = ir::AttrType::f; a.f = v; return a;
}
inline ir::Attribute attr_s(const std::string& name, const std::string& v) {
  ir::Attribute a; a.name = name; a.type = ir::AttrType::s; a.s = v; return a;
}
inline ir::Attribute attr_ints(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a; a.name = name; a.type = ir::AttrType::ints; a.ints = std::move(v); return a;
}
inline ir::Attribute attr_floats(const std::string& name, std::vector<float> v) {
  ir::Attribute a; a.name = name; a.type = ir::AttrType::floats; a.floats = std::move(v); return a;
}

struct OpResult {
  std::vector<RtValue> outputs;
  std::string error;  // KernelError message, empty on success
  const Tensor& out(size_t i = 0) const { return outputs.at(i).tensor; }
};

/// Runs the reference kernel for `op_type` (domain "", given opset) on `inputs`.
/// An undefined Tensor in `inputs` is an omitted optional input.
inline OpResult run_ref_op(const std::string& op_type, const std::vector<Tensor>& inputs,
                           std::vector<ir::Attribute> attrs = {}, int opset = 17,
                           size_t num_outputs = 1, const std::string& domain = "") {
  ir::Node node;
  node.name = "test_" + op_type;
  node.op_type = op_type;
  node.domain = domain;
  node.opset = opset;
  node.attributes = std::move(attrs);
  std::vector<RtValue> values;
  values.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(inputs[i].defined() ? "in" + std::to_string(i) : "");
    values.push_back(inputs[i].defined() ? RtValue::of(inputs[i]) : RtValue{});
  }
  std::vector<const RtValue*> ptrs;
  for (size_t i = 0; i < values.size(); ++i) ptrs.push_back(inputs[i].defined() ? &values[i] : nullptr);
  for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  OpResult result;
  const auto* def = reference::KernelRegistry::instance().find(op_type, domain, opset);
  if (!def) {
    result.error = "no reference kernel for " + op_type;
    return result;
  }
  KernelContext ctx(node, ptrs, [](const ir::Graph&, std::vector<RtValue>) -> std::vector<RtValue> {
    throw KernelError("subgraphs are not available in run_ref_op");
  });
  try {
    def->fn(ctx);
  } catch (const KernelError& e) {
    result.error = e.what();
    return result;
  }
  result.outputs = std::move(ctx.outputs());
  return result;
}

using BackendOpResult = SingleOpResult;

/// Runs `op_type` through `backend`'s candidates like the planner does: inputs whose index is in
/// `constant_inputs` become initializers (as weights are), the first accepting candidate runs,
/// and the reference kernel runs if all decline. Outputs are returned plain.
inline BackendOpResult run_backend_op(const std::string& backend, const std::string& op_type,
                                      const std::vector<Tensor>& inputs, std::vector<ir::Attribute> attrs = {},
                                      int opset = 17, size_t num_outputs = 1, const std::string& domain = "",
                                      const std::vector<size_t>& constant_inputs = {}, int threads = 2,
                                      const std::string& precision = "fp32",
                                      std::map<std::string, ActivationRange> ranges = {}) {
  SingleOp op;
  op.precision = precision;
  op.ranges = std::move(ranges);
  op.op_type = op_type;
  op.domain = domain;
  op.opset = opset;
  op.attributes = std::move(attrs);
  op.inputs = inputs;
  op.constant_inputs = constant_inputs;
  op.num_outputs = num_outputs;
  return run_single_op(backend, op, threads);
}

/// Random float32 tensor in [-1, 1) with no zeros (a zero would hide missing work), seeded.
inline Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor t(DType::float32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = dist(rng);
    t.data<float>()[i] = v == 0.f ? 0.5f : v;
  }
  return t;
}

/// Expects `t` to have `shape` and values close to `expected` (compared as doubles).
inline void expect_tensor_near(const Tensor& t, const Shape& shape, const std::vector<double>& expected,
                               double atol = 1e-5, double rtol = 1e-5) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    double got = t.element_as_double(i);
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got)) << "element " << i;
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(got, expected[i]) << "element " << i;
    } else {
      EXPECT_NEAR(got, expected[i], atol + rtol * std::fabs(expected[i])) << "element " << i;
    }
  }
}

/// Largest |value| of a tensor.
inline double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t.element_as_double(i)));
  return m;
}

/// Expects a reduced-precision result `got` to be within `tol` × `scale` of the FP32 reference
/// everywhere (scale: the magnitude the error grows with, e.g. max |reference|) and to have a
/// cosine similarity of at least `min_cosine` with it.
inline void expect_within_precision(const Tensor& got, const Tensor& ref, double tol, double scale,
                                    double min_cosine, const std::string& what) {
  ASSERT_EQ(got.shape(), ref.shape()) << what;
  double max_err = 0, dot = 0, n_ref = 0, n_got = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double r = ref.element_as_double(i), g = got.element_as_double(i);
    max_err = std::max(max_err, std::fabs(r - g));
    dot += r * g;
    n_ref += r * r;
    n_got += g * g;
  }
  EXPECT_LE(max_err, tol * scale) << what;
  EXPECT_GE(dot / std::sqrt(n_ref * n_got + 1e-30), min_cosine) << what;
}

/// The calibrated range a tensor would get from MinMax calibration.
inline ActivationRange range_of(const Tensor& t) {
  ActivationRange r;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = static_cast<float>(t.element_as_double(i));
    r.min = std::min(r.min, v);
    r.max = std::max(r.max, v);
  }
  r.threshold = std::max(-r.min, r.max);
  return r;
}

/// Expects a backend run and a reference run of the same op to agree within 1e-4.
inline void expect_same(const BackendOpResult& cpu, const OpResult& ref) {
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  std::vector<double> want;
  for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
  expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-4, 1e-4);
}

}  // namespace hwopt::testing
