// Normalisations: BatchNormalization (inference) on oneDNN's batch_normalization with global
// statistics, layout-aware; LayerNormalization (ai.onnx 17 and ai.hwopt) on oneDNN's
// layer_normalization over X viewed as [prod(dims[:axis]), prod(dims[axis:])], plain;
// InstanceNormalization as a loop here (statistics in double, like the reference), plain.
#include <fmt/format.h>

#include <cmath>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"

namespace hwopt::cpu {
namespace {

float attr_float(const ir::Node& n, const char* name, float def) {
  const ir::Attribute* a = n.attr(name);
  return a ? a->f : def;
}

int64_t attr_int(const ir::Node& n, const char* name, int64_t def) {
  const ir::Attribute* a = n.attr(name);
  return a ? a->i : def;
}

bool wants_extra_outputs(const ir::Node& n) {
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) return true;
  return false;
}

/// Input i is float32 or of unknown dtype (checked again at run time).
bool float_or_unknown(const NodeContext& nc, size_t i) {
  const DType d = nc.input_dtype(i);
  return d == DType::float32 || d == DType::undefined;
}

/// A float32 copy of a 1-D parameter of `n` elements (a single value is repeated), or undefined.
Tensor param_vector(const Tensor& p, int64_t n) {
  if (p.dtype() != DType::float32 || (p.numel() != n && p.numel() != 1)) return Tensor();
  Tensor c = p.to_plain().contiguous();
  if (p.numel() == n) return c.reshape({n});
  Tensor out(DType::float32, {n});
  for (int64_t i = 0; i < n; ++i) out.data<float>()[i] = c.data<float>()[0];
  return out;
}

// ---- BatchNormalization ----

std::string check_batch_norm(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  if (wants_extra_outputs(nc.node)) return "training outputs are requested";
  if (nc.node.opset >= 14 && attr_int(nc.node, "training_mode", 0) != 0) return "training_mode is set";
  if (nc.node.opset < 9 && attr_int(nc.node, "spatial", 1) == 0) return "spatial=0 (per-activation statistics)";
  for (size_t i = 1; i <= 4; ++i)
    if (!float_or_unknown(nc, i)) return fmt::format("parameter input {} is not float32", i);
  const int64_t rank = nc.input_rank(0);
  if (rank >= 0 && (rank < 2 || rank > 5)) return fmt::format("input of rank {} (only 2 to 5)", rank);
  return "";
}

struct BatchNormEntry {
  dnnl::batch_normalization_forward prim;
  dnnl::memory::desc desc, param_desc;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

class BatchNormKernel {
 public:
  BatchNormKernel(const NodeContext& nc, KernelFn reference)
      : epsilon_(attr_float(nc.node, "epsilon", 1e-5f)), reference_(std::move(reference)) {}

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::float32 || x.rank() < 2 || x.rank() > 5 || x.numel() == 0)
      return run_plain(ctx, reference_);
    const int64_t c = x.dim(1);
    Tensor params[4];
    for (size_t i = 0; i < 4; ++i) {
      const Tensor& p = ctx.input(i + 1);
      if (p.numel() != c) return run_plain(ctx, reference_);
      params[i] = param_vector(p, c);
      if (!params[i].defined()) return run_plain(ctx, reference_);
    }
    const Tensor src = x.is_plain() ? x.contiguous() : x;
    auto e = cache_.get(shape_key(ctx), [&] {
      BatchNormEntry entry;
      entry.desc = src.is_plain() ? plain_desc(src.shape(), DType::float32) : desc_of(src);
      entry.param_desc = plain_desc({c}, DType::float32);
      const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                         dnnl::normalization_flags::use_shift;
      dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, entry.desc, epsilon_, flags);
      entry.prim = dnnl::batch_normalization_forward(dnnl::batch_normalization_forward::primitive_desc(d, user_scratchpad_attr(), engine()));
      entry.kernel = impl_name(entry.prim);
      return entry;
    });
    Tensor dst = allocate_like(e->desc, DType::float32, x.shape());
    ctx.set_kernel_detail(e->kernel);
    execute_with_scratchpad(e->prim, {{DNNL_ARG_SRC, memory_of(src, e->desc)},
                               {DNNL_ARG_DST, memory_of(dst, e->desc)},
                               {DNNL_ARG_SCALE, memory_of(params[0], e->param_desc)},
                               {DNNL_ARG_SHIFT, memory_of(params[1], e->param_desc)},
                               {DNNL_ARG_MEAN, memory_of(params[2], e->param_desc)},
                               {DNNL_ARG_VARIANCE, memory_of(params[3], e->param_desc)}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  float epsilon_;
  KernelFn reference_;
  ShapeCache<BatchNormEntry> cache_;
};

// ---- LayerNormalization ----

std::string check_layer_norm(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  if (wants_extra_outputs(nc.node)) return "the Mean/InvStdDev outputs are requested";
  if (nc.node.domain.empty() && attr_int(nc.node, "stash_type", 1) != 1) return "stash_type is not float32";
  if (!float_or_unknown(nc, 1) || (nc.has_input(2) && !float_or_unknown(nc, 2))) return "Scale/B are not float32";
  const int64_t rank = nc.input_rank(0);
  const int64_t axis = attr_int(nc.node, "axis", -1);
  if (rank >= 0 && (rank == 0 || axis < -rank || axis >= rank))
    return fmt::format("axis {} is out of range for rank {}", axis, rank);
  return "";
}

/// True if parameter shape `p` broadcasts to the normalised dims `x[axis:]` with every element
/// distinct (leading 1s aside), or is a single value.
bool matches_normalized(const Shape& p, const Shape& x, int64_t axis) {
  if (shape_numel(p) == 1) return true;
  Shape a(p), b(x.begin() + axis, x.end());
  auto strip = [](Shape& s) {
    while (!s.empty() && s.front() == 1) s.erase(s.begin());
  };
  strip(a);
  strip(b);
  return a == b;
}

struct LayerNormEntry {
  dnnl::layer_normalization_forward prim;
  dnnl::memory::desc desc, param_desc, stat_desc;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

class LayerNormKernel {
 public:
  LayerNormKernel(const NodeContext& nc, KernelFn reference)
      : epsilon_(attr_float(nc.node, "epsilon", 1e-5f)), reference_(std::move(reference)) {}

  void operator()(KernelContext& ctx) {
    const Tensor& in = ctx.input(0);
    const int64_t rank = in.rank();
    int64_t axis = ctx.attr_int("axis", -1);
    if (in.dtype() != DType::float32 || rank == 0 || axis < -rank || axis >= rank) return run_plain(ctx, reference_);
    if (axis < 0) axis += rank;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= in.dim(d);
    for (int64_t d = axis; d < rank; ++d) inner *= in.dim(d);
    const bool has_bias = ctx.has_input(2);
    if (!matches_normalized(ctx.input(1).shape(), in.shape(), axis) ||
        (has_bias && !matches_normalized(ctx.input(2).shape(), in.shape(), axis)))
      return run_plain(ctx, reference_);
    const Tensor scale = param_vector(ctx.input(1), inner);
    const Tensor bias = has_bias ? param_vector(ctx.input(2), inner) : Tensor();
    if (!scale.defined() || (has_bias && !bias.defined())) return run_plain(ctx, reference_);
    if (in.numel() == 0) {
      ctx.allocate_output(0, DType::float32, in.shape());
      return;
    }
    const Tensor x = in.to_plain().contiguous();
    auto e = cache_.get(fmt::format("{}x{}{}", outer, inner, has_bias ? "b" : ""), [&] {
      LayerNormEntry entry;
      entry.desc = plain_desc({outer, inner}, DType::float32);
      entry.param_desc = plain_desc({inner}, DType::float32);
      entry.stat_desc = plain_desc({outer}, DType::float32);
      auto flags = dnnl::normalization_flags::use_scale;
      if (has_bias) flags = flags | dnnl::normalization_flags::use_shift;
      dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, entry.desc, entry.stat_desc,
                                                epsilon_, flags);
      entry.prim = dnnl::layer_normalization_forward(dnnl::layer_normalization_forward::primitive_desc(d, user_scratchpad_attr(), engine()));
      entry.kernel = impl_name(entry.prim);
      return entry;
    });
    Tensor dst = Tensor::uninitialized(DType::float32, in.shape());
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, memory_of(x, e->desc)},
                                                {DNNL_ARG_DST, memory_of(dst, e->desc)},
                                                {DNNL_ARG_SCALE, memory_of(scale, e->param_desc)}};
    if (has_bias) args[DNNL_ARG_SHIFT] = memory_of(bias, e->param_desc);
    ctx.set_kernel_detail(e->kernel);
    execute_with_scratchpad(e->prim, args);
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  float epsilon_;
  KernelFn reference_;
  ShapeCache<LayerNormEntry> cache_;
};

// ---- InstanceNormalization ----

std::string check_instance_norm(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  if (!float_or_unknown(nc, 1) || !float_or_unknown(nc, 2)) return "scale/B are not float32";
  const int64_t rank = nc.input_rank(0);
  if (rank >= 0 && rank < 3) return fmt::format("input of rank {} (needs N, C and spatial dims)", rank);
  return "";
}

void instance_norm(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& in = ctx.input(0);
  if (in.dtype() != DType::float32 || in.rank() < 3) return run_plain(ctx, reference);
  const int64_t n = in.dim(0), c = in.dim(1), sp = in.numel() / std::max<int64_t>(n * c, 1);
  const Tensor& st = ctx.input(1);
  const Tensor& bt = ctx.input(2);
  if (st.rank() != 1 || st.dim(0) != c || bt.rank() != 1 || bt.dim(0) != c || sp == 0)
    return run_plain(ctx, reference);
  const Tensor scale = param_vector(st, c), bias = param_vector(bt, c);
  if (!scale.defined() || !bias.defined()) return run_plain(ctx, reference);
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const Tensor x = in.to_plain().contiguous();
  Tensor& y = ctx.allocate_uninitialized_output(0, DType::float32, in.shape());
  const float* px = x.data<float>();
  const float* ps = scale.data<float>();
  const float* pb = bias.data<float>();
  float* py = y.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < n * c; ++plane) {
    const float* p = px + plane * sp;
    float* q = py + plane * sp;
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < sp; ++i) sum += p[i];
    const double mean = sum / static_cast<double>(sp);
    double sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < sp; ++i) sq += (p[i] - mean) * (p[i] - mean);
    const double var = sq / static_cast<double>(sp);
    const int64_t ch = plane % c;
    const float s = static_cast<float>(ps[ch] / std::sqrt(var + eps));
    const float m = static_cast<float>(mean), b = pb[ch];
#pragma omp simd
    for (int64_t i = 0; i < sp; ++i) q[i] = (p[i] - m) * s + b;
  }
}

template <typename Kernel>
KernelFn make_kernel(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<Kernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

Candidate batch_norm_candidate() {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:batch_norm";
  c.op_type = "BatchNormalization";
  c.accepts_layouts = true;
  c.check = check_batch_norm;
  c.make = make_kernel<BatchNormKernel>;
  return c;
}

Candidate layer_norm_candidate(const char* domain, int since) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:layer_norm";
  c.op_type = "LayerNormalization";
  c.domain = domain;
  c.since_version = since;
  c.check = check_layer_norm;
  c.make = make_kernel<LayerNormKernel>;
  return c;
}

Candidate instance_norm_candidate() {
  Candidate c;
  c.backend = "cpu";
  c.name = "own:instance_norm";
  c.op_type = "InstanceNormalization";
  c.check = check_instance_norm;
  c.make = [](const NodeContext&, KernelFn reference) -> KernelFn {
    return [reference](KernelContext& ctx) { instance_norm(ctx, reference); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(batch_norm_candidate());
HWOPT_REGISTER_CANDIDATE(layer_norm_candidate("", 17));
HWOPT_REGISTER_CANDIDATE(layer_norm_candidate("ai.hwopt", 1));
HWOPT_REGISTER_CANDIDATE(instance_norm_candidate());

}  // namespace hwopt::cpu
