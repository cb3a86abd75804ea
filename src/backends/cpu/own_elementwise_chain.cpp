// ai.hwopt ElementwiseChain (ir/elementwise_chain.h) in one pass over memory: the output is
// walked in runs (own_broadcast.h), each run in tiles of kTile floats; the first step's input is
// copied into the output tile and every step then rewrites the tile in place while it sits in L1,
// reading its other operand as a vector or a scalar. Inner loops are compiled for AVX-512, AVX2
// and the baseline ISA (chosen at run time); own_math.h's functions vectorise in them.
//
// Layouts: plain inputs broadcast freely. When an input of the output's shape is blocked
// (nChw16c/8c/4c) or channels-last, the chain runs on that layout if every other input is the
// same layout, a scalar, or per channel and/or batch ([C,1,1], [N,C,1,1]; padded to whole
// blocks), and the output keeps the layout with its padding lanes zeroed; any other mix is
// computed plain.
//
// Results equal the steps' reference kernels bit for bit for Relu, LeakyRelu, HardSigmoid,
// HardSwish, Clip, Abs, Neg, Reciprocal, Sqrt and the binary ops (Pow with exponent 1, 2 or 0.5;
// other exponents leave the node to the reference); Exp, Log, Sigmoid, Tanh, Softplus, Elu and Erf
// are within a few ulp (own_math.h). This file is built with -ffp-contract=off (so a * x + b
// rounds twice, as the reference does) and -fno-math-errno (so sqrt vectorises).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/onednn.h"
#include "backends/cpu/own_broadcast.h"
#include "backends/cpu/own_math.h"
#include "backends/cpu/own_util.h"
#include "backends/reference/util.h"
#include "ir/elementwise_chain.h"

namespace hwopt::cpu {
namespace {

using own::Bcast;
using own::kMaxOperands;

enum class Op : uint8_t {
  relu, leaky_relu, elu, sigmoid, hard_sigmoid, hard_swish, softplus, tanh, exp, log, sqrt, abs, neg, reciprocal,
  erf, clip, add, sub, mul, div, max, min,
  pow,  // exponent read at run time, then one of:
  pow_one, pow_two, pow_half,
  tanh_softplus  // Softplus then Tanh (Mish's factor), computed as one function
};

Op op_of(const std::string& s) {
  static const std::pair<const char*, Op> kOps[] = {
      {"Relu", Op::relu},     {"LeakyRelu", Op::leaky_relu},     {"Elu", Op::elu},   {"Sigmoid", Op::sigmoid},
      {"HardSigmoid", Op::hard_sigmoid}, {"HardSwish", Op::hard_swish}, {"Softplus", Op::softplus},
      {"Tanh", Op::tanh},     {"Exp", Op::exp},   {"Log", Op::log},   {"Sqrt", Op::sqrt}, {"Abs", Op::abs},
      {"Neg", Op::neg},       {"Reciprocal", Op::reciprocal}, {"Erf", Op::erf}, {"Clip", Op::clip},
      {"Add", Op::add},       {"Sub", Op::sub},   {"Mul", Op::mul},   {"Div", Op::div},   {"Max", Op::max},
      {"Min", Op::min},       {"Pow", Op::pow}};
  for (const auto& [name, op] : kOps)
    if (s == name) return op;
  return Op::relu;  // unreachable: parse_chain accepted only these
}

/// One step as the loops run it.
struct Step {
  Op op = Op::relu;
  int operand = -1;           // binary ops: the input read besides the previous result
  bool running_first = true;  // binary ops: the previous result is the op's first input
  float alpha = 0.f, beta = 0.f;  // LeakyRelu/Elu alpha; HardSigmoid alpha, beta; Clip bounds
  int lo = ir::kChainAbsent, hi = ir::kChainAbsent;  // Clip (opset >= 11): bound inputs
};

struct Program {
  int load = 0;  // the input the first step transforms
  int steps = 0;
  Step step[ir::kMaxChainSteps];
};

/// The program of a parsed chain; "" or why this kernel cannot run it.
std::string compile(const ir::ElementwiseChain& chain, size_t num_inputs, Program& pr) {
  if (num_inputs > static_cast<size_t>(kMaxOperands))
    return fmt::format("{} inputs (this kernel reads at most {})", num_inputs, kMaxOperands);
  pr = Program{};
  for (size_t s = 0; s < chain.steps.size(); ++s) {
    const ir::ChainStep& cs = chain.steps[s];
    Step& st = pr.step[pr.steps++];
    st.op = op_of(cs.op);
    st.alpha = cs.alpha;
    st.beta = cs.beta;
    if (s == 0) pr.load = cs.inputs[0];
    if (ir::is_chain_binary_op(cs.op)) {
      st.running_first = s == 0 || cs.inputs[0] == ir::kChainRunning;
      st.operand = st.running_first ? cs.inputs[1] : cs.inputs[0];
      if (st.op == Op::pow && !st.running_first) return fmt::format("step {}: Pow with the exponent from the chain", s);
    } else if (st.op == Op::clip && chain.onnx_opset >= 11) {
      // Bounds are inputs (read at run time); an omitted one leaves that side open.
      st.alpha = std::numeric_limits<float>::lowest();
      st.beta = std::numeric_limits<float>::max();
      st.lo = cs.inputs.size() > 1 ? cs.inputs[1] : ir::kChainAbsent;
      st.hi = cs.inputs.size() > 2 ? cs.inputs[2] : ir::kChainAbsent;
    }
  }
  // Softplus followed by Tanh becomes one function (one exp and a division instead of exp, log1p
  // and another exp): Mish written op by op is x * Tanh(Softplus(x)).
  for (int s = 0; s + 1 < pr.steps; ++s)
    if (pr.step[s].op == Op::softplus && pr.step[s + 1].op == Op::tanh) {
      pr.step[s].op = Op::tanh_softplus;
      std::copy(pr.step + s + 2, pr.step + pr.steps, pr.step + s + 1);
      --pr.steps;
    }
  return "";
}

// ---------------------------------------------------------------------------------------------
// The loops

constexpr int64_t kTile = 256;

// Lambdas are functions of their own: without this they would be compiled for the baseline ISA
// (std::fma a library call, nothing vectorised) instead of inlined into the AVX2/AVX-512 loops.
#define INLINE_LAMBDA __attribute__((always_inline))

template <typename F>
OWN_INLINE void unary(float* a, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) a[i] = f(a[i]);
}

template <typename F>
OWN_INLINE void binary(float* a, const float* b, bool vb, bool first, int64_t n, F f) {
  if (vb) {
    if (first) {
      for (int64_t i = 0; i < n; ++i) a[i] = f(a[i], b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) a[i] = f(b[i], a[i]);
    }
  } else {
    const float c = b[0];
    if (first) {
      for (int64_t i = 0; i < n; ++i) a[i] = f(a[i], c);
    } else {
      for (int64_t i = 0; i < n; ++i) a[i] = f(c, a[i]);
    }
  }
}

/// Functions that need FMA to be fast and accurate: own_math.h with FMA hardware, libm without.
template <bool kFma>
struct Math {
  static OWN_INLINE float exp(float x) { return kFma ? own::exp_approx(x) : std::exp(x); }
  static OWN_INLINE float expm1(float x) { return kFma ? own::expm1_approx(x) : std::expm1(x); }
  static OWN_INLINE float log(float x) { return kFma ? own::log_approx(x) : std::log(x); }
  static OWN_INLINE float tanh(float x) { return kFma ? own::tanh_approx(x) : std::tanh(x); }
  static OWN_INLINE float erf(float x) { return kFma ? own::erf_approx(x) : std::erf(x); }
  static OWN_INLINE float sigmoid(float x) { return kFma ? own::sigmoid_approx(x) : reference::stable_sigmoid(x); }
  static OWN_INLINE float softplus(float x) { return kFma ? own::softplus_approx(x) : reference::stable_softplus(x); }
  static OWN_INLINE float tanh_softplus(float x) { return kFma ? own::tanh_softplus_approx(x) : std::tanh(softplus(x)); }
};

template <bool kFma>
OWN_INLINE void apply(const Step& s, float* a, int64_t n, const float* b, bool vb) {
  using M = Math<kFma>;
  const float alpha = s.alpha, beta = s.beta;
  const bool first = s.running_first;
  switch (s.op) {
    case Op::relu: return unary(a, n, [](float x) INLINE_LAMBDA { return x != x ? x : (x > 0.f ? x : 0.f); });
    case Op::leaky_relu: return unary(a, n, [alpha](float x) INLINE_LAMBDA { return x < 0.f ? alpha * x : x; });
    case Op::elu: return unary(a, n, [alpha](float x) INLINE_LAMBDA { return x < 0.f ? alpha * M::expm1(x) : x; });
    case Op::sigmoid: return unary(a, n, [](float x) INLINE_LAMBDA { return M::sigmoid(x); });
    case Op::hard_sigmoid:
      return unary(a, n, [alpha, beta](float x) INLINE_LAMBDA { return std::max(0.f, std::min(1.f, alpha * x + beta)); });
    case Op::hard_swish: return unary(a, n, [](float x) INLINE_LAMBDA { return x * std::max(0.f, std::min(1.f, x / 6.f + 0.5f)); });
    case Op::softplus: return unary(a, n, [](float x) INLINE_LAMBDA { return M::softplus(x); });
    case Op::tanh_softplus: return unary(a, n, [](float x) INLINE_LAMBDA { return M::tanh_softplus(x); });
    case Op::tanh: return unary(a, n, [](float x) INLINE_LAMBDA { return M::tanh(x); });
    case Op::exp: return unary(a, n, [](float x) INLINE_LAMBDA { return M::exp(x); });
    case Op::log: return unary(a, n, [](float x) INLINE_LAMBDA { return M::log(x); });
    case Op::sqrt: return unary(a, n, [](float x) INLINE_LAMBDA { return std::sqrt(x); });
    case Op::abs: return unary(a, n, [](float x) INLINE_LAMBDA { return std::fabs(x); });
    case Op::neg: return unary(a, n, [](float x) INLINE_LAMBDA { return -x; });
    case Op::reciprocal: return unary(a, n, [](float x) INLINE_LAMBDA { return 1.f / x; });
    case Op::erf: return unary(a, n, [](float x) INLINE_LAMBDA { return M::erf(x); });
    case Op::clip:
      // As the reference: raise to lo, then lower to hi (lo > hi gives hi; NaN stays NaN).
      return unary(a, n, [alpha, beta](float x) INLINE_LAMBDA {
        x = x < alpha ? alpha : x;
        return x > beta ? beta : x;
      });
    case Op::add: return binary(a, b, vb, first, n, [](float x, float y) INLINE_LAMBDA { return x + y; });
    case Op::sub: return binary(a, b, vb, first, n, [](float x, float y) INLINE_LAMBDA { return x - y; });
    case Op::mul: return binary(a, b, vb, first, n, [](float x, float y) INLINE_LAMBDA { return x * y; });
    case Op::div: return binary(a, b, vb, first, n, [](float x, float y) INLINE_LAMBDA { return x / y; });
    case Op::max:
      return binary(a, b, vb, first, n, [](float x, float y) INLINE_LAMBDA { return x != x ? x : (y != y ? y : (y > x ? y : x)); });
    case Op::min:
      return binary(a, b, vb, first, n, [](float x, float y) INLINE_LAMBDA { return x != x ? x : (y != y ? y : (y < x ? y : x)); });
    case Op::pow:  // resolved before the loops run
    case Op::pow_one: return;
    case Op::pow_two: return unary(a, n, [](float x) INLINE_LAMBDA { return x * x; });
    case Op::pow_half:
      // pow(x, 0.5) in double as the reference: +0 for -0 and +inf for -inf, where sqrt differs.
      return unary(a, n, [](float x) INLINE_LAMBDA {
        return x == -std::numeric_limits<float>::infinity() ? std::numeric_limits<float>::infinity()
                                                            : std::sqrt(x) + 0.f;
      });
  }
}

template <bool kFma>
OWN_INLINE void chain_body(const Program& pr, const Bcast& p, const float* const* in, float* out, int64_t begin,
                           int64_t end) {
  bool vec[kMaxOperands];
  for (int k = 0; k < kMaxOperands; ++k) vec[k] = p.strides[k][p.rank - 1] != 0;
  own::walk<kMaxOperands>(p, begin, end, [&](int64_t pos, const int64_t* off, int64_t len) INLINE_LAMBDA {
    for (int64_t t = 0; t < len; t += kTile) {
      const int64_t n = std::min(kTile, len - t);
      float* a = out + pos + t;
      const float* src = in[pr.load] + off[pr.load];
      if (vec[pr.load]) {
        std::memcpy(a, src + t, static_cast<size_t>(n) * sizeof(float));
      } else {
        const float v = src[0];
        for (int64_t i = 0; i < n; ++i) a[i] = v;
      }
      for (int s = 0; s < pr.steps; ++s) {
        const Step& st = pr.step[s];
        const int k = st.operand < 0 ? pr.load : st.operand;
        apply<kFma>(st, a, n, in[k] + off[k] + (vec[k] ? t : 0), vec[k]);
      }
    }
  });
}

void chain_base(const Program& pr, const Bcast& p, const float* const* in, float* out, int64_t b, int64_t e) {
  chain_body<false>(pr, p, in, out, b, e);
}
OWN_AVX2 void chain_avx2(const Program& pr, const Bcast& p, const float* const* in, float* out, int64_t b, int64_t e) {
  chain_body<true>(pr, p, in, out, b, e);
}
OWN_AVX512 void chain_avx512(const Program& pr, const Bcast& p, const float* const* in, float* out, int64_t b,
                             int64_t e) {
  chain_body<true>(pr, p, in, out, b, e);
}

/// Work per element for the threading decision: one unit per cheap step, more for the
/// transcendental ones.
int64_t cost_of(const Program& pr) {
  int64_t c = 1;
  for (int s = 0; s < pr.steps; ++s) {
    const Op op = pr.step[s].op;
    const bool heavy = op == Op::elu || op == Op::sigmoid || op == Op::softplus || op == Op::tanh || op == Op::exp ||
                       op == Op::log || op == Op::erf || op == Op::tanh_softplus;
    c += heavy ? 8 : 1;
  }
  return c;
}

void run_program(const Program& pr, const Bcast& p, const float* const* in, float* out) {
  const bool wide = own::use_avx512(), avx2 = own::use_avx2();
  own::parallel_range(p.total, p.total * cost_of(pr), [&](int64_t b, int64_t e) {
    if (wide) {
      chain_avx512(pr, p, in, out, b, e);
    } else if (avx2) {
      chain_avx2(pr, p, in, out, b, e);
    } else {
      chain_base(pr, p, in, out, b, e);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The kernel

class ChainKernel {
 public:
  ChainKernel(const NodeContext& nc, KernelFn reference) : reference_(std::move(reference)) {
    ir::ElementwiseChain chain;
    std::string why = ir::parse_chain(nc.node, chain);
    if (why.empty()) why = compile(chain, nc.num_inputs(), program_);
    HWOPT_KCHECK(why.empty(), "{}", why);
  }

  void operator()(KernelContext& ctx) {
    const size_t n = ctx.num_inputs();
    for (size_t i = 0; i < n; ++i)
      if (!ctx.has_input(i) || !ctx.input_value(i)->is_tensor() || ctx.input(i).dtype() != DType::float32)
        return run_plain(ctx, reference_);
    Program pr = program_;
    if (!resolve(ctx, pr)) return run_plain(ctx, reference_);
    std::vector<Shape> shapes;
    for (size_t i = 0; i < n; ++i) shapes.push_back(ctx.input(i).shape());
    Shape out;
    if (!own::broadcast_shapes(shapes, out)) return run_plain(ctx, reference_);  // its error message
    if (shape_numel(out) == 0) {
      ctx.allocate_output(0, DType::float32, out);
      return;
    }
    if (run_blocked(ctx, pr, out)) return;
    std::vector<Tensor> xs;
    for (size_t i = 0; i < n; ++i) xs.push_back(ctx.input(i).to_plain().contiguous());
    Bcast p;
    if (!own::make_bcast(shapes, out, p)) return run_plain(ctx, reference_);
    const float* in[kMaxOperands] = {};
    for (size_t i = 0; i < n; ++i) in[i] = xs[i].data<float>();
    Tensor& y = ctx.allocate_uninitialized_output(0, DType::float32, out);
    run_program(pr, p, in, y.data<float>());
  }

 private:
  /// Clip bounds and Pow exponents from their inputs; false if one is not a scalar this kernel
  /// takes (the reference then runs the node).
  static bool resolve(const KernelContext& ctx, Program& pr) {
    auto scalar = [&](int i, float& v) {
      const Tensor& t = ctx.input(static_cast<size_t>(i));
      if (t.numel() != 1) return false;
      v = t.to_plain().contiguous().data<float>()[0];
      return true;
    };
    for (int s = 0; s < pr.steps; ++s) {
      Step& st = pr.step[s];
      if (st.op == Op::clip) {
        if (st.lo != ir::kChainAbsent && !scalar(st.lo, st.alpha)) return false;
        if (st.hi != ir::kChainAbsent && !scalar(st.hi, st.beta)) return false;
      } else if (st.op == Op::pow) {
        float e = 0.f;
        if (!scalar(st.operand, e)) return false;
        if (e == 1.f) st.op = Op::pow_one;
        else if (e == 2.f) st.op = Op::pow_two;
        else if (e == 0.5f) st.op = Op::pow_half;
        else return false;
      }
    }
    return true;
  }

  /// The chain on a blocked or channels-last input's layout; false if the inputs do not allow it.
  bool run_blocked(KernelContext& ctx, const Program& pr, const Shape& out) {
    const size_t n = ctx.num_inputs();
    const ChannelFormat* f = nullptr;
    dnnl::memory::desc desc;
    for (size_t i = 0; i < n && !f; ++i) {
      const Tensor& x = ctx.input(i);
      if (x.shape() != out || is_quantized(x)) continue;
      if ((f = channel_format_of(x))) desc = desc_of(x);
    }
    if (!f || desc.data_type() != dnnl::memory::data_type::f32) return false;
    const int64_t r = static_cast<int64_t>(out.size()), N = out[0], C = out[1];
    const int64_t S = shape_numel(Shape(out.begin() + 2, out.end())), B = f->block;
    const int64_t CB = B > 0 ? (C + B - 1) / B : 1, Cp = B > 0 ? CB * B : C;
    const Shape phys = B > 0 ? Shape{N, CB, S, B} : Shape{N, S, C};
    std::vector<Tensor> keep(n);
    std::vector<Shape> shapes(n);
    for (size_t i = 0; i < n; ++i) {
      const Tensor& x = ctx.input(i);
      if (!x.is_plain()) {
        if (desc_of(x) != desc) return false;
        keep[i] = x;
        shapes[i] = phys;
      } else if (x.numel() == 1) {
        keep[i] = x.contiguous();
        shapes[i] = {};
      } else {
        // Per channel and/or batch ([C,1,1], [N,C,1,1], [N,1,1,1]): every other dim is 1.
        const int64_t xr = x.rank();
        if (xr > r) return false;
        int64_t nb = 1, cx = 1;
        for (int64_t j = 0; j < xr; ++j) {
          const int64_t a = j + r - xr, d = x.dim(j);
          if (a == 0 && (d == N || d == 1)) nb = d;
          else if (a == 1 && (d == C || d == 1)) cx = d;
          else if (d != 1) return false;
        }
        // Copied as [nb, Cp] (channels padded with zeros to whole blocks).
        const Tensor xc = x.contiguous();
        Tensor padded(DType::float32, {nb, Cp});
        float* dst = padded.data<float>();
        const float* src = xc.data<float>();
        for (int64_t b = 0; b < nb; ++b)
          for (int64_t ch = 0; ch < C; ++ch) dst[b * Cp + ch] = src[b * cx + (cx == 1 ? 0 : ch)];
        keep[i] = padded;
        shapes[i] = B > 0 ? Shape{nb, CB, 1, B} : Shape{nb, 1, C};
      }
    }
    Bcast p;
    if (!own::make_bcast(shapes, phys, p)) return false;
    const float* in[kMaxOperands] = {};
    for (size_t i = 0; i < n; ++i) in[i] = static_cast<const float*>(keep[i].raw_data());
    Tensor y = allocate_like(desc, DType::float32, out);
    float* py = static_cast<float*>(y.raw_data());
    run_program(pr, p, in, py);
    // The last block's lanes past C hold the chain of zeros.
    if (B > 0 && C % B != 0)
      zero_block_lanes(py, N, static_cast<size_t>(CB * S * B) * sizeof(float), CB - 1, S, B, C % B, sizeof(float));
    ctx.set_output(0, std::move(y));
    return true;
  }

  Program program_;
  KernelFn reference_;
};

std::string check_chain(const NodeContext& nc) {
  ir::ElementwiseChain chain;
  std::string why = ir::parse_chain(nc.node, chain);
  if (!why.empty()) return why;
  Program pr;
  if (why = compile(chain, nc.num_inputs(), pr); !why.empty()) return why;
  for (size_t i = 0; i < nc.num_inputs(); ++i) {
    if (!nc.has_input(i)) return fmt::format("input {} is missing", i);
    const DType dt = nc.input_dtype(i);
    if (dt != DType::undefined && dt != DType::float32)
      return fmt::format("input {} has dtype {} (float32 only)", i, dtype_name(dt));
  }
  return "";
}

KernelFn make_chain(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<ChainKernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

Candidate chain_candidate() {
  Candidate c = own::make_candidate("own:elementwise_chain", "ElementwiseChain", own::kOwnPriority, check_chain,
                                    make_chain, 1, "ai.hwopt");
  c.accepts_layouts = true;
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(chain_candidate());

}  // namespace hwopt::cpu
