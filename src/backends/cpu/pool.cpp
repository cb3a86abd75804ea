// MaxPool (without Indices), AveragePool, GlobalAveragePool and GlobalMaxPool on oneDNN's
// pooling_v2 primitive (1-D to 3-D, dilations). A blocked input gives a blocked output (the format
// oneDNN picks); a plain input a plain output. MaxPool and GlobalMaxPool also take an INT8 input
// as it is stored (u8/s8 at a scale, from an INT8 convolution) and pool it to INT8 at the same
// scale: the maximum commutes with rounding and clamping, so the result equals quantizing the
// FP32 maximum. ceil_mode becomes extra end padding, which
// oneDNN's max and exclude-padding average ignore as ONNX does; an include-padding average whose
// windows would reach into that extra padding runs the reference kernel.
#include <fmt/format.h>

#include <algorithm>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"
#include "core/int_math.h"

namespace hwopt::cpu {
namespace {

enum class PoolKind { max, average, global_max, global_average };

PoolKind kind_of(const std::string& op) {
  if (op == "MaxPool") return PoolKind::max;
  if (op == "AveragePool") return PoolKind::average;
  if (op == "GlobalMaxPool") return PoolKind::global_max;
  return PoolKind::global_average;
}

bool is_global(PoolKind k) { return k == PoolKind::global_max || k == PoolKind::global_average; }

struct PoolAttrs {
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
  bool count_include_pad = false;
};

PoolAttrs read_attrs(const ir::Node& n) {
  PoolAttrs a;
  if (const ir::Attribute* x = n.attr("kernel_shape")) a.kernel = x->ints;
  if (const ir::Attribute* x = n.attr("strides")) a.strides = x->ints;
  if (const ir::Attribute* x = n.attr("dilations")) a.dilations = x->ints;
  if (const ir::Attribute* x = n.attr("pads")) a.pads = x->ints;
  if (const ir::Attribute* x = n.attr("auto_pad")) a.auto_pad = x->s;
  if (const ir::Attribute* x = n.attr("ceil_mode")) a.ceil_mode = x->i != 0;
  if (const ir::Attribute* x = n.attr("count_include_pad")) a.count_include_pad = x->i != 0;
  return a;
}

std::string check_pool(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  const PoolKind kind = kind_of(nc.node.op_type);
  if (kind == PoolKind::max && nc.node.outputs.size() > 1 && !nc.node.outputs[1].empty())
    return "the Indices output is requested";
  const int64_t rank = nc.input_rank(0);
  if (rank >= 0 && (rank < 3 || rank > 5)) return fmt::format("input of rank {} (only 1-D to 3-D pooling)", rank);
  if (is_global(kind)) return "";
  const PoolAttrs a = read_attrs(nc.node);
  if (a.kernel.empty()) return "attribute 'kernel_shape' is missing";
  if (a.kernel.size() > 3) return fmt::format("{}-D kernel (only 1-D to 3-D pooling)", a.kernel.size());
  if (a.auto_pad != "NOTSET" && a.auto_pad != "VALID" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER")
    return fmt::format("auto_pad '{}' is unknown", a.auto_pad);
  return "";
}

/// oneDNN's geometry for one input shape: strides, kernel, dilations (oneDNN's d - 1), pads and the
/// output shape. `ok` is false for inputs to leave to the reference kernel (invalid attributes,
/// or an include-padding average reaching into ceil_mode's extra padding).
struct Geometry {
  bool ok = false;
  dnnl::memory::dims strides, kernel, dilation, pad_l, pad_r;
  Shape out;
};

Geometry geometry(PoolKind kind, const PoolAttrs& a, const Shape& x) {
  Geometry g;
  const size_t n = x.size() - 2;
  g.out = {x[0], x[1]};
  if (is_global(kind)) {
    for (size_t d = 0; d < n; ++d) {
      if (x[2 + d] <= 0) return g;
      g.strides.push_back(1);
      g.kernel.push_back(x[2 + d]);
      g.dilation.push_back(0);
      g.pad_l.push_back(0);
      g.pad_r.push_back(0);
      g.out.push_back(1);
    }
    g.ok = true;
    return g;
  }
  const auto strides = a.strides.empty() ? std::vector<int64_t>(n, 1) : a.strides;
  const auto dilations = a.dilations.empty() ? std::vector<int64_t>(n, 1) : a.dilations;
  const auto pads = a.pads.empty() ? std::vector<int64_t>(2 * n, 0) : a.pads;
  if (a.kernel.size() != n || strides.size() != n || dilations.size() != n || pads.size() != 2 * n) return g;
  for (size_t d = 0; d < n; ++d) {
    const int64_t k = a.kernel[d], s = strides[d], dil = dilations[d], in = x[2 + d];
    if (k <= 0 || s <= 0 || dil <= 0) return g;
    const int64_t ek = (k - 1) * dil + 1;
    int64_t pb = 0, pe = 0, o = 0;
    if (a.auto_pad == "NOTSET") {
      pb = pads[d];
      pe = pads[d + n];
      if (pb < 0 || pe < 0) return g;
      const int64_t span = in + pb + pe - ek;
      if (span < 0) return g;
      o = (a.ceil_mode ? ceil_div(span, s) : span / s) + 1;
      if (a.ceil_mode && (o - 1) * s >= in + pb) --o;
    } else if (a.auto_pad == "VALID") {
      if (in < ek) return g;
      o = (a.ceil_mode ? ceil_div(in - ek, s) : (in - ek) / s) + 1;
    } else {
      o = ceil_div(in, s);
      const int64_t total = std::max<int64_t>(0, (o - 1) * s + ek - in);
      pb = a.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    }
    // The end padding oneDNN needs for o windows (more than pe under ceil_mode).
    const int64_t pr = std::max(pe, (o - 1) * s + ek - in - pb);
    if (pr > pe && kind == PoolKind::average && a.count_include_pad) return g;
    if ((in + pb + pr - ek) / s + 1 != o || o <= 0) return g;
    g.strides.push_back(s);
    g.kernel.push_back(k);
    g.dilation.push_back(dil - 1);
    g.pad_l.push_back(pb);
    g.pad_r.push_back(pr);
    g.out.push_back(o);
  }
  g.ok = true;
  return g;
}

struct PoolEntry {
  bool ok = false;
  dnnl::pooling_v2_forward prim;
  dnnl::pooling_v2_forward::primitive_desc pd;
  Shape out;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

class PoolKernel {
 public:
  PoolKernel(const NodeContext& nc, KernelFn reference)
      : kind_(kind_of(nc.node.op_type)), attrs_(read_attrs(nc.node)), reference_(std::move(reference)) {}

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::float32 || x.rank() < 3 || x.rank() > 5 || x.numel() == 0)
      return run_plain(ctx, reference_);
    auto e = cache_.get(shape_key(ctx), [&] { return create(x); });
    if (!e->ok) return run_plain(ctx, reference_);
    const Tensor src = x.is_plain() ? x.contiguous() : x;
    Tensor dst = allocate_like(e->pd.dst_desc(), DType::float32, e->out, quant_scale_of(src));
    ctx.set_kernel_detail(e->kernel);
    execute_with_scratchpad(e->prim, {{DNNL_ARG_SRC, memory_of(src, e->pd.src_desc())},
                               {DNNL_ARG_DST, memory_of(dst, e->pd.dst_desc())}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  PoolEntry create(const Tensor& x) const {
    PoolEntry e;
    const Geometry g = geometry(kind_, attrs_, x.shape());
    if (!g.ok) return e;
    dnnl::algorithm algorithm = dnnl::algorithm::pooling_max;
    if (kind_ == PoolKind::global_average || (kind_ == PoolKind::average && !attrs_.count_include_pad))
      algorithm = dnnl::algorithm::pooling_avg_exclude_padding;
    else if (kind_ == PoolKind::average)
      algorithm = dnnl::algorithm::pooling_avg_include_padding;
    const dnnl::memory::desc src_desc = x.is_plain() ? plain_desc(x.shape(), DType::float32) : desc_of(x);
    // Blocked in, blocked out (oneDNN's choice); plain in, plain out. A BF16 source (precision
    // bf16) pools to BF16 and an INT8 one (MaxPool) to INT8: oneDNN's pooling keeps the source's type.
    const dnnl::memory::desc dst_desc =
        x.is_plain() ? plain_desc(g.out, DType::float32)
                     : dnnl::memory::desc(to_dims(g.out), src_desc.data_type(), dnnl::memory::format_tag::any);
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, algorithm, src_desc, dst_desc, g.strides,
                                     g.kernel, g.dilation, g.pad_l, g.pad_r);
    e.pd = dnnl::pooling_v2_forward::primitive_desc(d, user_scratchpad_attr(), engine());
    e.prim = dnnl::pooling_v2_forward(e.pd);
    e.kernel = impl_name(e.prim);
    e.out = g.out;
    e.ok = true;
    return e;
  }

  PoolKind kind_;
  PoolAttrs attrs_;
  KernelFn reference_;
  ShapeCache<PoolEntry> cache_;
};

Candidate pool_candidate(const char* op) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:pool";
  c.op_type = op;
  c.accepts_layouts = true;
  c.accepts_quantized = kind_of(op) == PoolKind::max || kind_of(op) == PoolKind::global_max;
  c.check = check_pool;
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<PoolKernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(pool_candidate("MaxPool"));
HWOPT_REGISTER_CANDIDATE(pool_candidate("AveragePool"));
HWOPT_REGISTER_CANDIDATE(pool_candidate("GlobalAveragePool"));
HWOPT_REGISTER_CANDIDATE(pool_candidate("GlobalMaxPool"));

}  // namespace hwopt::cpu
