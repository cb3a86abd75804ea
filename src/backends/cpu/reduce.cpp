// ReduceMean, ReduceSum, ReduceMax, ReduceMin and ReduceL2 over float32, axes as the attribute
// (before opset 13 for ReduceSum, 18 for the others) or a constant input.
//
// The reduced dims, after merging neighbours, are viewed as [outer, R, inner]:
// - inner == 1 (reducing the trailing dims) runs oneDNN's reduction, which has a fast kernel only
//   for that case (L2 excepted);
// - inner > 1 and L2 run a loop here, vectorised across `inner` (sums in double);
// - reduced dims that do not form one block run oneDNN's reduction (its reference kernel).
// A blocked input reduced over all its spatial dims by ReduceMean/ReduceMax (a squeeze-excite
// block's global pooling) runs oneDNN's pooling and stays blocked; other blocked inputs go plain.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/int_values.h"
#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"

namespace hwopt::cpu {
namespace {

enum class ReduceKind { mean, sum, max, min, l2 };

ReduceKind kind_of(const std::string& op) {
  if (op == "ReduceMean") return ReduceKind::mean;
  if (op == "ReduceSum") return ReduceKind::sum;
  if (op == "ReduceMax") return ReduceKind::max;
  if (op == "ReduceMin") return ReduceKind::min;
  return ReduceKind::l2;
}

bool axes_from_input(const std::string& op, int opset) { return op == "ReduceSum" ? opset >= 13 : opset >= 18; }

/// The node's axes (attribute or constant input); false with a reason if they are not known.
bool node_axes(const NodeContext& nc, std::vector<int64_t>& axes, std::string& why) {
  axes.clear();
  if (axes_from_input(nc.node.op_type, nc.node.opset)) {
    if (!nc.has_input(1)) return true;
    const Tensor* t = nc.constant_input(1);
    if (!t) {
      why = "axes input is not a constant initializer";
      return false;
    }
    if ((t->dtype() != DType::int64 && t->dtype() != DType::int32) || t->rank() > 1) {
      why = "axes input is not a 1-D int64/int32 tensor";
      return false;
    }
    axes = *int64_values(*t);
    return true;
  }
  if (const ir::Attribute* a = nc.node.attr("axes")) axes = a->ints;
  return true;
}

std::string check_reduce(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  std::vector<int64_t> axes;
  std::string why;
  if (!node_axes(nc, axes, why)) return why;
  const int64_t rank = nc.input_rank(0);
  if (rank >= 0) {
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t a : axes) {
      if (a < -rank || a >= rank) return fmt::format("axis {} is out of range for rank {}", a, rank);
      const int64_t n = a < 0 ? a + rank : a;
      if (seen[n]) return fmt::format("axis {} is repeated", a);
      seen[n] = true;
    }
  }
  return "";
}

/// y[o, i] = reduce over r of x[o, r, i]; parallel over outer and blocks of inner.
void strided_reduce(ReduceKind kind, const float* x, float* y, int64_t outer, int64_t R, int64_t inner) {
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (outer * R * inner > 16384)
  for (int64_t t = 0; t < outer * blocks; ++t) {
    const int64_t o = t / blocks, i0 = (t % blocks) * kBlock, n = std::min(kBlock, inner - i0);
    const float* px = x + o * R * inner + i0;
    float* py = y + o * inner + i0;
    if (kind == ReduceKind::max || kind == ReduceKind::min) {
      float acc[kBlock];
      for (int64_t i = 0; i < n; ++i) acc[i] = px[i];
      for (int64_t r = 1; r < R; ++r) {
        const float* row = px + r * inner;
        if (kind == ReduceKind::max) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) acc[i] = row[i] > acc[i] ? row[i] : acc[i];
        } else {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) acc[i] = row[i] < acc[i] ? row[i] : acc[i];
        }
      }
      for (int64_t i = 0; i < n; ++i) py[i] = acc[i];
    } else {
      double acc[kBlock] = {};
      for (int64_t r = 0; r < R; ++r) {
        const float* row = px + r * inner;
        if (kind == ReduceKind::l2) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<double>(row[i]) * row[i];
        } else {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) acc[i] += row[i];
        }
      }
      for (int64_t i = 0; i < n; ++i) {
        if (kind == ReduceKind::mean) py[i] = static_cast<float>(acc[i] / static_cast<double>(R));
        else if (kind == ReduceKind::l2) py[i] = static_cast<float>(std::sqrt(acc[i]));
        else py[i] = static_cast<float>(acc[i]);
      }
    }
  }
}

/// Row-wise L2 norm of x viewed as [outer, R].
void row_l2(const float* x, float* y, int64_t outer, int64_t R) {
#pragma omp parallel for schedule(static) if (outer * R > 16384)
  for (int64_t o = 0; o < outer; ++o) {
    const float* p = x + o * R;
    double acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t r = 0; r < R; ++r) acc += static_cast<double>(p[r]) * p[r];
    y[o] = static_cast<float>(std::sqrt(acc));
  }
}

dnnl::algorithm onednn_alg(ReduceKind k) {
  switch (k) {
    case ReduceKind::mean: return dnnl::algorithm::reduction_mean;
    case ReduceKind::sum: return dnnl::algorithm::reduction_sum;
    case ReduceKind::max: return dnnl::algorithm::reduction_max;
    case ReduceKind::min: return dnnl::algorithm::reduction_min;
    case ReduceKind::l2: return dnnl::algorithm::reduction_norm_lp_sum;
  }
  return dnnl::algorithm::reduction_sum;
}

/// How one input shape is reduced.
struct ReduceEntry {
  enum class Mode { onednn_rows, strided, onednn_general, blocked_pool } mode = Mode::strided;
  int64_t outer = 1, R = 1, inner = 1;
  Shape out, kept;  // output shape, and the shape with reduced dims kept as 1
  dnnl::primitive prim;
  dnnl::memory::desc src_desc, dst_desc;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

class ReduceKernel {
 public:
  ReduceKernel(const NodeContext& nc, KernelFn reference)
      : kind_(kind_of(nc.node.op_type)), reference_(std::move(reference)) {
    std::string why;
    node_axes(nc, axes_, why);
    if (const Tensor* t = nc.constant_input(1)) axes_tensor_ = *t;
    if (const ir::Attribute* a = nc.node.attr("keepdims")) keepdims_ = a->i != 0;
    if (const ir::Attribute* a = nc.node.attr("noop_with_empty_axes")) noop_ = a->i != 0;
    noop_ = noop_ && axes_from_input(nc.node.op_type, nc.node.opset);
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    const int64_t rank = x.rank();
    if (x.dtype() != DType::float32 || x.numel() == 0 || rank == 0) return run_plain(ctx, reference_);
    if (axes_.empty() && noop_) return run_plain(ctx, reference_);
    // The axes were read from the constant when the plan was made.
    if (ctx.has_input(1) && ctx.input(1).storage() != axes_tensor_.storage()) return run_plain(ctx, reference_);
    std::vector<bool> reduced(static_cast<size_t>(rank), axes_.empty());
    for (int64_t a : axes_) {
      if (a < -rank || a >= rank) return run_plain(ctx, reference_);
      const int64_t n = a < 0 ? a + rank : a;
      if (reduced[n] && !axes_.empty()) return run_plain(ctx, reference_);
      reduced[n] = true;
    }
    auto e = cache_.get(shape_key(ctx), [&] { return create(x, reduced); });
    if (e->mode == ReduceEntry::Mode::blocked_pool) {
      Tensor dst = allocate_like(e->dst_desc, DType::float32, e->kept);
      ctx.set_kernel_detail(e->kernel);
      execute_with_scratchpad(e->prim, {{DNNL_ARG_SRC, memory_of(x, e->src_desc)}, {DNNL_ARG_DST, memory_of(dst, e->dst_desc)}});
      stream().wait();
      ctx.set_output(0, keepdims_ ? dst : dst.to_plain().reshape(e->out));
      return;
    }
    const Tensor src = x.to_plain().contiguous();
    Tensor& y = ctx.allocate_output(0, DType::float32, e->out);
    switch (e->mode) {
      case ReduceEntry::Mode::strided:
        ctx.set_kernel_detail("own strided reduction");
        if (e->inner == 1 && kind_ == ReduceKind::l2)
          row_l2(src.data<float>(), y.data<float>(), e->outer, e->R);
        else
          strided_reduce(kind_, src.data<float>(), y.data<float>(), e->outer, e->R, e->inner);
        return;
      default:
        ctx.set_kernel_detail(e->kernel);
        execute_with_scratchpad(e->prim, {{DNNL_ARG_SRC, memory_of(src, e->src_desc)}, {DNNL_ARG_DST, memory_of(y, e->dst_desc)}});
        stream().wait();
        return;
    }
  }

 private:
  ReduceEntry create(const Tensor& x, const std::vector<bool>& reduced) const {
    ReduceEntry e;
    const int64_t rank = x.rank();
    for (int64_t d = 0; d < rank; ++d) {
      e.kept.push_back(reduced[d] ? 1 : x.dim(d));
      if (!reduced[d]) e.out.push_back(x.dim(d));
      else if (keepdims_) e.out.push_back(1);
    }
    // Blocked input, mean/max over every spatial dim: a global pooling in the same layout.
    if (!x.is_plain() && rank >= 3 && rank <= 5 && (kind_ == ReduceKind::mean || kind_ == ReduceKind::max) &&
        !reduced[0] && !reduced[1] && std::all_of(reduced.begin() + 2, reduced.end(), [](bool b) { return b; })) {
      dnnl::memory::dims kernel, strides, dil, pads;
      for (int64_t d = 2; d < rank; ++d) {
        kernel.push_back(x.dim(d));
        strides.push_back(1);
        dil.push_back(0);
        pads.push_back(0);
      }
      e.src_desc = desc_of(x);
      const dnnl::memory::desc any(to_dims(e.kept), dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
      dnnl::pooling_v2_forward::desc d(
          dnnl::prop_kind::forward_inference,
          kind_ == ReduceKind::max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
          e.src_desc, any, strides, kernel, dil, pads, pads);
      dnnl::pooling_v2_forward::primitive_desc pd(d, user_scratchpad_attr(), engine());
      e.dst_desc = pd.dst_desc();
      e.prim = dnnl::pooling_v2_forward(pd);
      e.kernel = impl_name(e.prim);
      e.mode = ReduceEntry::Mode::blocked_pool;
      return e;
    }
    // Merge into [outer, R, inner] if the reduced dims (ignoring size-1 dims) are one block.
    int64_t first = -1, last = -1;
    for (int64_t d = 0; d < rank; ++d)
      if (reduced[d] && x.dim(d) > 1) {
        if (first < 0) first = d;
        last = d;
      }
    bool one_block = true;
    for (int64_t d = first; first >= 0 && d <= last; ++d)
      if (!reduced[d] && x.dim(d) > 1) one_block = false;
    if (one_block) {
      if (first < 0) first = last = rank;  // only size-1 dims are reduced: R = 1
      for (int64_t d = 0; d < first; ++d) e.outer *= x.dim(d);
      for (int64_t d = first; d <= last && d < rank; ++d) e.R *= x.dim(d);
      for (int64_t d = last + 1; d < rank; ++d) e.inner *= x.dim(d);
      if (e.inner == 1 && kind_ != ReduceKind::l2 && e.R > 1) {
        e.src_desc = plain_desc({e.outer, e.R}, DType::float32);
        e.dst_desc = plain_desc({e.outer, 1}, DType::float32);
        e.prim = dnnl::reduction(dnnl::reduction::primitive_desc(
            dnnl::reduction::desc(onednn_alg(kind_), e.src_desc, e.dst_desc, 0.f, 0.f), user_scratchpad_attr(), engine()));
        e.kernel = impl_name(e.prim);
        e.mode = ReduceEntry::Mode::onednn_rows;
      } else {
        e.mode = ReduceEntry::Mode::strided;
      }
      return e;
    }
    e.src_desc = plain_desc(x.shape(), DType::float32);
    e.dst_desc = plain_desc(e.kept, DType::float32);
    e.prim = dnnl::reduction(dnnl::reduction::primitive_desc(
        dnnl::reduction::desc(onednn_alg(kind_), e.src_desc, e.dst_desc, kind_ == ReduceKind::l2 ? 2.f : 0.f, 0.f),
        user_scratchpad_attr(), engine()));
    e.kernel = impl_name(e.prim);
    e.mode = ReduceEntry::Mode::onednn_general;
    return e;
  }

  ReduceKind kind_;
  std::vector<int64_t> axes_;
  Tensor axes_tensor_;
  bool keepdims_ = true, noop_ = false;
  KernelFn reference_;
  ShapeCache<ReduceEntry> cache_;
};

Candidate reduce_candidate(const char* op) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:reduce";
  c.op_type = op;
  c.accepts_layouts = true;
  c.check = check_reduce;
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<ReduceKernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(reduce_candidate("ReduceMean"));
HWOPT_REGISTER_CANDIDATE(reduce_candidate("ReduceSum"));
HWOPT_REGISTER_CANDIDATE(reduce_candidate("ReduceMax"));
HWOPT_REGISTER_CANDIDATE(reduce_candidate("ReduceMin"));
HWOPT_REGISTER_CANDIDATE(reduce_candidate("ReduceL2"));

}  // namespace hwopt::cpu
