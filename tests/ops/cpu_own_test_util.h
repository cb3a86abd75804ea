// Helpers for the tests of the CPU backend's own kernels (src/backends/cpu/own_*.cpp): random
// tensors of any dtype, bit-exact comparison with the reference, and running one named
// candidate directly (with a spy reference, so that a silent run-time fallback is visible).
#pragma once

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/own_util.h"
#include "op_test_util.h"

namespace hwopt::testing {

/// Random values of `dtype`: floats in [lo, hi] (never exactly 0), integers in [lo, hi] without
/// 0, bools both ways.
inline Tensor random_of(DType dtype, const Shape& shape, uint32_t seed, double lo = -10, double hi = 10) {
  Tensor t(dtype, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> real(lo, hi);
  std::uniform_int_distribution<int64_t> integer(static_cast<int64_t>(lo), static_cast<int64_t>(hi));
  auto nonzero_int = [&] {
    int64_t v = integer(rng);
    return v == 0 ? int64_t{1} : v;
  };
  auto nonzero_real = [&] {
    double v = real(rng);
    return v == 0 ? 0.5 : v;
  };
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::float32:
        t.data<float>()[i] = static_cast<float>(nonzero_real());
        break;
      case DType::float64:
        t.data<double>()[i] = nonzero_real();
        break;
      case DType::float16:
        t.data<Half>()[i] = Half(static_cast<float>(nonzero_real()));
        break;
      case DType::bfloat16:
        t.data<BFloat16>()[i] = BFloat16(static_cast<float>(nonzero_real()));
        break;
      case DType::int8:
        t.data<int8_t>()[i] = static_cast<int8_t>(nonzero_int());
        break;
      case DType::uint8:
        t.data<uint8_t>()[i] = static_cast<uint8_t>(nonzero_int());
        break;
      case DType::int16:
        t.data<int16_t>()[i] = static_cast<int16_t>(nonzero_int());
        break;
      case DType::uint16:
        t.data<uint16_t>()[i] = static_cast<uint16_t>(nonzero_int());
        break;
      case DType::int32:
        t.data<int32_t>()[i] = static_cast<int32_t>(nonzero_int());
        break;
      case DType::int64:
        t.data<int64_t>()[i] = nonzero_int();
        break;
      case DType::uint32:
        t.data<uint32_t>()[i] = static_cast<uint32_t>(nonzero_int());
        break;
      case DType::uint64:
        t.data<uint64_t>()[i] = static_cast<uint64_t>(nonzero_int());
        break;
      case DType::boolean:
        t.data<bool>()[i] = (rng() & 1) != 0;
        break;
      case DType::string:
        t.data<std::string>()[i] = "s" + std::to_string(rng() % 100);
        break;
      default:
        break;
    }
  }
  return t;
}

inline bool is_nan_bits(const uint8_t* p, DType dt) {
  switch (dt) {
    case DType::float32: {
      float f;
      std::memcpy(&f, p, 4);
      return std::isnan(f);
    }
    case DType::float64: {
      double f;
      std::memcpy(&f, p, 8);
      return std::isnan(f);
    }
    case DType::float16:
    case DType::bfloat16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return dt == DType::float16 ? ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) : ((h & 0x7f80) == 0x7f80 && (h & 0x7f));
    }
    default:
      return false;
  }
}

/// Same dtype, shape and bits (any NaN equals any NaN); reports the first differing element.
inline void expect_same(const Tensor& got_in, const Tensor& want_in, const std::string& what) {
  ASSERT_TRUE(got_in.defined()) << what;
  ASSERT_EQ(got_in.dtype(), want_in.dtype()) << what;
  ASSERT_EQ(got_in.shape(), want_in.shape()) << what;
  const Tensor got = got_in.to_plain().contiguous(), want = want_in.to_plain().contiguous();
  if (got.dtype() == DType::string) {
    for (int64_t i = 0; i < got.numel(); ++i)
      ASSERT_EQ(got.data<std::string>()[i], want.data<std::string>()[i]) << what << " element " << i;
    return;
  }
  const size_t e = dtype_size(got.dtype());
  const auto* g = static_cast<const uint8_t*>(got.raw_data());
  const auto* w = static_cast<const uint8_t*>(want.raw_data());
  for (int64_t i = 0; i < got.numel(); ++i) {
    if (std::memcmp(g + i * e, w + i * e, e) == 0) continue;
    if (is_nan_bits(g + i * e, got.dtype()) && is_nan_bits(w + i * e, got.dtype())) continue;
    FAIL() << what << ": element " << i << " is " << got.element_as_double(i) << ", reference "
           << want.element_as_double(i);
  }
}

struct CandidateRun {
  bool found = false;
  std::string declined;          // the candidate's reason, empty if it accepted
  bool used_reference = false;   // the kernel handed the node to the reference at run time
  std::vector<RtValue> outputs;  // as produced (may be views or in a backend layout)
  std::string error;
  const Tensor& out(size_t i = 0) const { return outputs.at(i).tensor; }
};

/// One node with its inputs, ready to run a kernel on repeatedly (for tests and timing).
/// `name` empty: the reference kernel; else the "cpu" candidate of that name.
struct PreparedOp {
  ir::Graph graph;
  ir::Node node;
  std::vector<RtValue> values;
  std::vector<bool> present;
  const Candidate* candidate = nullptr;
  KernelFn fn;
  std::string declined;
  bool used_reference = false;

  /// Runs the kernel once; returns its outputs (as produced) or throws KernelError.
  std::vector<RtValue> run() {
    std::vector<const RtValue*> ptrs;
    for (size_t i = 0; i < values.size(); ++i) ptrs.push_back(present[i] ? &values[i] : nullptr);
    KernelContext ctx(node, ptrs, [](const ir::Graph&, std::vector<RtValue>) -> std::vector<RtValue> {
      throw KernelError("subgraphs are not available here");
    });
    fn(ctx);
    return std::move(ctx.outputs());
  }
};

/// Builds the node like run_backend_op does and prepares kernel `name` (see PreparedOp); null
/// when the op has no reference kernel or no such candidate.
inline std::unique_ptr<PreparedOp> prepare_op(const std::string& name, const std::string& op_type,
                                              const std::vector<Tensor>& inputs, std::vector<ir::Attribute> attrs = {},
                                              int opset = 17, size_t num_outputs = 1,
                                              const std::vector<size_t>& constant_inputs = {},
                                              const std::string& domain = "") {
  auto p = std::make_unique<PreparedOp>();
  p->node.name = "test_" + op_type;
  p->node.op_type = op_type;
  p->node.domain = domain;
  p->node.opset = opset;
  p->node.attributes = std::move(attrs);
  p->values.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string in_name = inputs[i].defined() ? "in" + std::to_string(i) : "";
    p->node.inputs.push_back(in_name);
    p->present.push_back(inputs[i].defined());
    if (!inputs[i].defined()) continue;
    p->values[i] = RtValue::of(inputs[i]);
    if (std::find(constant_inputs.begin(), constant_inputs.end(), i) != constant_inputs.end()) {
      p->graph.initializers[in_name] = inputs[i];
    } else {
      ir::ValueInfo vi;
      vi.name = in_name;
      vi.dtype = inputs[i].dtype();
      vi.has_shape = true;
      for (int64_t d : inputs[i].shape()) vi.shape.push_back(ir::Dim{d, ""});
      p->graph.inputs.push_back(vi);
    }
  }
  for (size_t i = 0; i < num_outputs; ++i) p->node.outputs.push_back("out" + std::to_string(i));
  const auto* def = reference::KernelRegistry::instance().find(op_type, domain, opset);
  if (!def) return nullptr;
  if (name.empty()) {
    p->fn = def->fn;
    return p;
  }
  for (const Candidate* c : CandidateRegistry::instance().find("cpu", op_type, domain, opset))
    if (c->name == name) p->candidate = c;
  if (!p->candidate) return nullptr;
  NodeContext nctx{p->node, p->graph, 2};
  p->declined = p->candidate->check ? p->candidate->check(nctx) : "";
  if (!p->declined.empty()) return p;
  KernelFn ref = def->fn;
  bool* spy = &p->used_reference;
  p->fn = p->candidate->make(nctx, [ref, spy](KernelContext& ctx) {
    *spy = true;
    ref(ctx);
  });
  return p;
}

/// Runs the "cpu" candidate `name` for `op_type` alone, like run_backend_op builds the node.
inline CandidateRun run_candidate(const std::string& name, const std::string& op_type,
                                  const std::vector<Tensor>& inputs, std::vector<ir::Attribute> attrs = {},
                                  int opset = 17, size_t num_outputs = 1,
                                  const std::vector<size_t>& constant_inputs = {}, const std::string& domain = "") {
  CandidateRun result;
  auto p = prepare_op(name, op_type, inputs, std::move(attrs), opset, num_outputs, constant_inputs, domain);
  if (!p) return result;
  result.found = true;
  result.declined = p->declined;
  if (!result.declined.empty()) return result;
  try {
    result.outputs = p->run();
  } catch (const KernelError& e) {
    result.error = e.what();
  }
  result.used_reference = p->used_reference;
  return result;
}

/// Runs candidate `name` and the reference on the same inputs and expects identical outputs
/// and no run-time fallback.
inline void expect_candidate_matches(const std::string& name, const std::string& op_type,
                                     const std::vector<Tensor>& inputs, std::vector<ir::Attribute> attrs,
                                     const std::string& what, int opset = 17, size_t num_outputs = 1) {
  auto ref = run_ref_op(op_type, inputs, attrs, opset, num_outputs);
  ASSERT_TRUE(ref.error.empty()) << what << ": " << ref.error;
  auto got = run_candidate(name, op_type, inputs, attrs, opset, num_outputs);
  ASSERT_TRUE(got.found) << name << " is not registered for " << op_type;
  ASSERT_EQ(got.declined, "") << what;
  ASSERT_TRUE(got.error.empty()) << what << ": " << got.error;
  EXPECT_FALSE(got.used_reference) << what << ": fell back to the reference";
  ASSERT_EQ(got.outputs.size(), ref.outputs.size());
  for (size_t i = 0; i < ref.outputs.size(); ++i) {
    if (!ref.outputs[i].is_tensor()) continue;
    expect_same(got.out(i), ref.out(i), what + " output " + std::to_string(i));
  }
}

/// Limits the own kernels to `isa` for its lifetime (restored even when an assertion returns early).
/// The candidate that ran starts with `chosen` (e.g. "cpu:onednn:conv") and the first candidate
/// tried before it declined with a reason containing `why`.
inline void expect_declined(const BackendOpResult& cpu, const std::string& chosen, const std::string& why) {
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation.rfind(chosen, 0), 0u) << cpu.implementation;
  ASSERT_FALSE(cpu.declined.empty());
  EXPECT_NE(cpu.declined[0].find(why), std::string::npos) << cpu.declined[0];
}

struct IsaGuard {
  explicit IsaGuard(cpu::own::Isa isa) : saved(cpu::own::isa_limit().load()) {
    cpu::own::isa_limit() = static_cast<int>(isa);
  }
  ~IsaGuard() { cpu::own::isa_limit() = saved; }
  IsaGuard(const IsaGuard&) = delete;
  IsaGuard& operator=(const IsaGuard&) = delete;
  int saved;
};

/// Runs f(isa) with the own kernels limited to each ISA in turn (the widest first), so the
/// narrower code paths are tested on a machine that has the wider ones.
template <typename F>
void for_each_isa(F&& f) {
  using cpu::own::Isa;
  for (Isa isa : {Isa::avx512, Isa::avx2, Isa::baseline}) {
    cpu::own::isa_limit() = static_cast<int>(isa);
    SCOPED_TRACE(isa == Isa::avx512 ? "isa avx512" : isa == Isa::avx2 ? "isa avx2" : "isa baseline");
    f(isa);
  }
  cpu::own::isa_limit() = static_cast<int>(Isa::avx512);
}

/// Large shapes are run for the widest ISA only (the narrower ones share the threading code).
inline bool skip_large(cpu::own::Isa isa, const Shape& s, int64_t limit = 100000) {
  return isa != cpu::own::Isa::avx512 && shape_numel(s) > limit;
}

inline std::string shape_name(const Shape& s) { return shape_str(s); }

}  // namespace hwopt::testing
