// Element-wise activations and unary math on oneDNN's eltwise primitive: Relu, LeakyRelu, Elu,
// Sigmoid, Tanh, Clip, HardSigmoid (linear + clip), HardSwish, Exp, Log, Sqrt, Abs, Neg (linear),
// Softplus (soft_relu), Mish, Gelu (ai.onnx 20 and com.microsoft) and FastGelu (com.microsoft; its
// optional bias is a broadcast binary add with the GELU as post-op). The output keeps the input's
// layout (blocked stays blocked); plain tensors are processed as one flat vector.
#include <fmt/format.h>

#include <limits>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"

namespace hwopt::cpu {
namespace {

using alg = dnnl::algorithm;

/// One oneDNN eltwise step: y = f(x; alpha, beta).
struct EltwiseStep {
  alg algorithm;
  float alpha = 0.f, beta = 0.f;
};

/// The oneDNN steps that compute a node (applied in order), or a reason to decline.
struct EltwiseSpec {
  std::vector<EltwiseStep> steps;
  bool fast_gelu_bias = false;  // FastGelu with its bias input: x + bias first
};

float attr_float(const ir::Node& n, const char* name, float def) {
  const ir::Attribute* a = n.attr(name);
  return a ? a->f : def;
}

std::string attr_string(const ir::Node& n, const char* name, const std::string& def) {
  const ir::Attribute* a = n.attr(name);
  return a ? a->s : def;
}

/// A Clip bound given as input `i` (opset >= 11): must be a constant float32 scalar if present.
std::string clip_bound(const NodeContext& nc, size_t i, float& value) {
  if (!nc.has_input(i)) return "";
  const Tensor* t = nc.constant_input(i);
  if (!t) return fmt::format("Clip bound input {} is not a constant initializer", i);
  if (t->dtype() != DType::float32 || t->numel() != 1) return fmt::format("Clip bound input {} is not a float32 scalar", i);
  value = t->data<float>()[0];
  return "";
}

std::string make_spec(const NodeContext& nc, EltwiseSpec& spec) {
  const ir::Node& n = nc.node;
  const std::string& op = n.op_type;
  auto one = [&](alg a, float alpha = 0.f, float beta = 0.f) { spec.steps.push_back({a, alpha, beta}); };
  if (op == "Relu") one(alg::eltwise_relu);
  else if (op == "LeakyRelu") one(alg::eltwise_relu, attr_float(n, "alpha", 0.01f));
  else if (op == "Elu") one(alg::eltwise_elu, attr_float(n, "alpha", 1.f));
  else if (op == "Sigmoid") one(alg::eltwise_logistic);
  else if (op == "Tanh") one(alg::eltwise_tanh);
  else if (op == "HardSigmoid") {
    one(alg::eltwise_linear, attr_float(n, "alpha", 0.2f), attr_float(n, "beta", 0.5f));
    one(alg::eltwise_clip_v2, 0.f, 1.f);
  } else if (op == "HardSwish") one(alg::eltwise_hardswish);
  else if (op == "Exp") one(alg::eltwise_exp);
  else if (op == "Log") one(alg::eltwise_log);
  else if (op == "Sqrt") one(alg::eltwise_sqrt);
  else if (op == "Abs") one(alg::eltwise_abs);
  else if (op == "Neg") one(alg::eltwise_linear, -1.f, 0.f);
  else if (op == "Softplus") one(alg::eltwise_soft_relu);
  else if (op == "Mish") one(alg::eltwise_mish);
  else if (op == "Clip") {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (n.opset < 11) {
      lo = attr_float(n, "min", lo);
      hi = attr_float(n, "max", hi);
    } else {
      if (std::string why = clip_bound(nc, 1, lo); !why.empty()) return why;
      if (std::string why = clip_bound(nc, 2, hi); !why.empty()) return why;
    }
    // ONNX gives max everywhere when min > max; clip_v2 would give min.
    if (lo > hi) lo = hi;
    one(alg::eltwise_clip_v2, lo, hi);
  } else if (op == "Gelu") {
    const std::string approximate = n.domain.empty() ? attr_string(n, "approximate", "none") : "none";
    if (approximate == "none") one(alg::eltwise_gelu_erf);
    else if (approximate == "tanh") one(alg::eltwise_gelu_tanh);
    else return fmt::format("Gelu approximate='{}' is unknown", approximate);
  } else if (op == "FastGelu") {
    one(alg::eltwise_gelu_tanh);
    spec.fast_gelu_bias = nc.has_input(1);
  } else {
    return fmt::format("{} has no oneDNN eltwise algorithm", op);
  }
  return "";
}

std::string check_eltwise(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  if (nc.node.op_type == "FastGelu" && nc.has_input(1) && nc.input_dtype(1) != DType::float32)
    return "FastGelu bias is not known to be float32";
  EltwiseSpec spec;
  return make_spec(nc, spec);
}

struct EltwiseEntry {
  std::vector<dnnl::eltwise_forward> prims;
  dnnl::binary bias_add;  // FastGelu with bias: x + bias with the GELU as post-op
  dnnl::memory::desc desc, bias_desc;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

class EltwiseKernel {
 public:
  EltwiseKernel(const NodeContext& nc, KernelFn reference) : reference_(std::move(reference)) {
    std::string why = make_spec(nc, spec_);
    HWOPT_KCHECK(why.empty(), "{}", why);
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::float32) return run_plain(ctx, reference_);
    if (x.numel() == 0) {
      ctx.allocate_output(0, x.dtype(), x.shape());
      return;
    }
    if (spec_.fast_gelu_bias) return run_bias(ctx);
    Tensor src = x.is_plain() ? x.contiguous() : x;
    // A plain tensor is one flat vector; a blocked one keeps its descriptor (padding included).
    const dnnl::memory::desc desc = src.is_plain() ? plain_desc({src.numel()}, DType::float32) : desc_of(src);
    auto entry = cache_.get(src.is_plain() ? std::to_string(src.numel()) : shape_key(ctx), [&] {
      EltwiseEntry e;
      e.desc = desc;
      for (const EltwiseStep& s : spec_.steps) {
        dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, s.algorithm, desc, s.alpha, s.beta);
        e.prims.emplace_back(dnnl::eltwise_forward::primitive_desc(d, user_scratchpad_attr(), engine()));
        e.kernel += (e.kernel.empty() ? "" : " + ") + impl_name(e.prims.back());
      }
      return e;
    });
    Tensor dst = allocate_like(desc_of(src), DType::float32, src.shape());
    dnnl::memory sm = memory_of(src, entry->desc), dm = memory_of(dst, entry->desc);
    ctx.set_kernel_detail(entry->kernel);
    for (size_t i = 0; i < entry->prims.size(); ++i)
      execute_with_scratchpad(entry->prims[i], {{DNNL_ARG_SRC, i == 0 ? sm : dm}, {DNNL_ARG_DST, dm}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  // FastGelu(x, bias): gelu_tanh(x + bias), bias over the last axis, as one binary primitive.
  void run_bias(KernelContext& ctx) {
    Tensor x = ctx.input(0).to_plain().contiguous();
    const Tensor bias = ctx.input(1).to_plain().contiguous();
    const int64_t c = x.rank() == 0 ? 1 : x.dim(-1);
    if (bias.dtype() != DType::float32 || bias.numel() != c || (bias.rank() > 0 && bias.dim(-1) != c))
      return run_plain(ctx, reference_);
    const int64_t rows = x.numel() / c;
    auto entry = cache_.get(shape_key(ctx), [&] {
      EltwiseEntry e;
      e.desc = plain_desc({rows, c}, DType::float32);
      e.bias_desc = plain_desc({1, c}, DType::float32);
      dnnl::post_ops ops;
      for (const EltwiseStep& s : spec_.steps) ops.append_eltwise(1.f, s.algorithm, s.alpha, s.beta);
      dnnl::primitive_attr attr = user_scratchpad_attr();
      attr.set_post_ops(ops);
      dnnl::binary::desc d(alg::binary_add, e.desc, e.bias_desc, e.desc);
      e.bias_add = dnnl::binary(dnnl::binary::primitive_desc(d, attr, engine()));
      e.kernel = impl_name(e.bias_add);
      return e;
    });
    ctx.set_kernel_detail(entry->kernel);
    Tensor dst = Tensor::uninitialized(DType::float32, x.shape());
    execute_with_scratchpad(entry->bias_add, {{DNNL_ARG_SRC_0, memory_of(x, entry->desc)},
                                       {DNNL_ARG_SRC_1, memory_of(bias, entry->bias_desc)},
                                       {DNNL_ARG_DST, memory_of(dst, entry->desc)}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

  EltwiseSpec spec_;
  KernelFn reference_;
  ShapeCache<EltwiseEntry> cache_;
};

KernelFn make_eltwise(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<EltwiseKernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

Candidate eltwise_candidate(const char* op, const char* domain, int since) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:eltwise";
  c.op_type = op;
  c.domain = domain;
  c.since_version = since;
  c.accepts_layouts = true;
  c.check = check_eltwise;
  c.make = make_eltwise;
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Relu", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("LeakyRelu", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Elu", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Sigmoid", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Tanh", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Clip", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("HardSigmoid", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("HardSwish", "", 14));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Exp", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Log", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Sqrt", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Abs", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Neg", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Softplus", "", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Mish", "", 18));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Gelu", "", 20));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("Gelu", "com.microsoft", 1));
HWOPT_REGISTER_CANDIDATE(eltwise_candidate("FastGelu", "com.microsoft", 1));

}  // namespace hwopt::cpu
