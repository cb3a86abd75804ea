// MatMul and FusedMatMul (ai.hwopt: MatMul + bias [N] + activation) on oneDNN's matmul primitive.
// When B is one matrix (rank <= 2, or batch dims all 1) and A's rows can be merged, A [..., M, K]
// is viewed as [rows, K] and multiplied as one 2-D product; a constant B then makes an inner
// product whose weights are reordered once into the format oneDNN picks (format_tag::any). Otherwise (e.g. attention's [B,H,S,D] x
// [B,H,D,S]) a batched matmul reads both operands in place, strided views included, with numpy
// batch broadcasting. Bias and activation are fused (bias argument, eltwise post-op).
#include <fmt/format.h>

#include <algorithm>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"

namespace hwopt::cpu {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

constexpr int64_t kMaxRank = DNNL_MAX_NDIMS;

struct MatMulAttrs {
  std::string activation;
  std::vector<float> params;
};

MatMulAttrs read_attrs(const ir::Node& n) {
  MatMulAttrs a;
  if (const ir::Attribute* x = n.attr("activation")) a.activation = x->s;
  if (const ir::Attribute* x = n.attr("activation_params")) a.params = x->floats;
  return a;
}

std::string check_matmul(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input A is not known to be float32";
  if (nc.input_dtype(1) != DType::float32) return "input B is not known to be float32";
  if (nc.has_input(2) && nc.input_dtype(2) != DType::float32) return "bias is not known to be float32";
  if (nc.input_rank(0) == 0 || nc.input_rank(1) == 0) return "an input is a scalar";
  if (nc.input_rank(0) > kMaxRank || nc.input_rank(1) > kMaxRank) return "rank exceeds oneDNN's limit";
  MatMulAttrs a = read_attrs(nc.node);
  if (!fused_activation_supported(a.activation)) return fmt::format("activation '{}' has no oneDNN post-op", a.activation);
  return "";
}

/// How one call multiplies: the descriptors of A, B, bias and dst and the output shape.
struct MatMulPlan {
  bool valid = false;  // false: shapes the reference kernel must judge (errors, empty products)
  bool collapsed = false;  // A viewed as [rows, K], B one [K, N] matrix
  int64_t rows = 0, K = 0, N = 0;  // rows: of the collapsed A
  int64_t b_stride_k = 0, b_stride_n = 0;
  Shape out_shape;
  dnnl::memory::desc a_desc, b_desc, bias_desc, dst_desc;
};

MatMulPlan plan_matmul(const Tensor& a, const Tensor& b, const Tensor* bias) {
  MatMulPlan p;
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  // numpy: 1-D A is [1, K] (M dropped), 1-D B is [K, 1] (N dropped).
  Shape a2 = as, b2 = bs, sa = a.strides(), sb = b.strides();
  if (a2.size() == 1) {
    a2.insert(a2.begin(), 1);
    sa.insert(sa.begin(), 0);
  }
  if (b2.size() == 1) {
    b2.push_back(1);
    sb.push_back(1);
  }
  const int64_t M = a2[a2.size() - 2], K = a2.back(), N = b2.back();
  if (b2[b2.size() - 2] != K) return p;
  if (bias && (bias->rank() != 1 || bias->dim(0) != N)) return p;
  const size_t rank = std::max(a2.size(), b2.size());
  while (a2.size() < rank) {
    a2.insert(a2.begin(), 1);
    sa.insert(sa.begin(), 0);
  }
  while (b2.size() < rank) {
    b2.insert(b2.begin(), 1);
    sb.insert(sb.begin(), 0);
  }
  Shape batch;
  for (size_t i = 0; i + 2 < rank; ++i) {
    if (a2[i] != b2[i] && a2[i] != 1 && b2[i] != 1) return p;
    batch.push_back(a2[i] == 1 ? b2[i] : a2[i]);
  }
  p.out_shape = batch;
  if (as.size() > 1) p.out_shape.push_back(M);
  if (bs.size() > 1) p.out_shape.push_back(N);
  if (M == 0 || N == 0 || K == 0 || shape_numel(p.out_shape) == 0) return p;
  p.K = K;
  p.N = N;
  const bool b_single = std::all_of(b2.begin(), b2.end() - 2, [](int64_t d) { return d == 1; });
  // A's rows merge when A is contiguous (any rank) or has one batch of rows.
  const bool a_rows_merge =
      a.is_contiguous() || std::all_of(a2.begin(), a2.end() - 2, [](int64_t d) { return d == 1; });
  if (b_single && a_rows_merge) {
    p.collapsed = true;
    const int64_t rows = a.numel() / K;
    p.rows = rows;
    p.b_stride_k = sb[rank - 2];
    p.b_stride_n = sb[rank - 1];
    if (a.is_contiguous()) {
      p.a_desc = dnnl::memory::desc({rows, K}, dt::f32, tag::ab);
    } else {
      p.a_desc = strided_desc({rows, K}, {sa[rank - 2], sa[rank - 1]});
    }
    p.b_desc = strided_desc({K, N}, {sb[rank - 2], sb[rank - 1]});
    p.dst_desc = dnnl::memory::desc({rows, N}, dt::f32, tag::ab);
    if (bias) p.bias_desc = dnnl::memory::desc({1, N}, dt::f32, tag::ab);
  } else {
    Shape dst = batch;
    dst.push_back(M);
    dst.push_back(N);
    p.a_desc = strided_desc(a2, sa);
    p.b_desc = strided_desc(b2, sb);
    p.dst_desc = plain_desc(dst, DType::float32);
    if (bias) {
      Shape bd(rank, 1);
      bd.back() = N;
      p.bias_desc = plain_desc(bd, DType::float32);
    }
  }
  p.valid = true;
  return p;
}

struct MatMulEntry {
  bool ok = false;  // false: oneDNN has no primitive for this case; the reference runs
  dnnl::primitive prim;  // inner product (constant B) or matmul
  dnnl::memory::desc bias_desc, scratchpad_desc;
  dnnl::memory weights;  // constant B in the inner product's weights format
  Tensor weights_holder;
  dnnl::memory::desc src_desc;  // non-zero: A is converted to this (BF16/INT8) before the product
  float src_factor = 1.f;
  std::vector<float> acc_scales;  // INT8: the bias is divided by these
  bool dynamic = false;           // dynamic INT8 (bind_dynamic_int8)
  std::string kernel;             // impl_name(prim), for KernelContext::set_kernel_detail
};

class MatMulKernel {
 public:
  MatMulKernel(const NodeContext& nc, KernelFn reference, bool fused)
      : attrs_(read_attrs(nc.node)),
        fused_(fused),
        prec_(nc.constant_input(1) ? choose_precision(nc, nullptr, true) : KernelPrecision{}),
        reference_(std::move(reference)) {
    if (const Tensor* b = nc.constant_input(1)) weights_ = *b;
  }

  void operator()(KernelContext& ctx) {
    Tensor a = ctx.input(0), b = ctx.input(1);
    const Tensor* bias = fused_ && ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (a.dtype() != DType::float32 || b.dtype() != DType::float32 || (bias && bias->dtype() != DType::float32) ||
        a.rank() == 0 || b.rank() == 0 || a.rank() > kMaxRank || b.rank() > kMaxRank || !a.is_plain() ||
        !b.is_plain() || (bias && !bias->is_plain()))
      return run_plain(ctx, reference_);
    const bool const_b = weights_.defined() && b.storage() == weights_.storage() && b.offset() == weights_.offset() &&
                         b.shape() == weights_.shape();
    Tensor bias_c = bias ? bias->contiguous() : Tensor();
    MatMulPlan p = plan_matmul(a, b, bias ? &bias_c : nullptr);
    if (!p.valid) return run_plain(ctx, reference_);
    if (p.a_desc.is_zero() || p.b_desc.is_zero()) {
      // A view oneDNN cannot describe (e.g. a broadcast with stride 0): multiply a copy.
      a = a.contiguous();
      b = b.contiguous();
      p = plan_matmul(a, b, bias ? &bias_c : nullptr);
    }
    const bool reorder_b = const_b && p.collapsed;
    if (reorder_b && !a.is_contiguous()) {
      // The inner product reads A as dense rows.
      a = a.contiguous();
      p = plan_matmul(a, b, bias ? &bias_c : nullptr);
    }
    const std::string key = fmt::format("{}{}|{}|{}", shape_key(ctx), strides_key(a),
                                        reorder_b ? "w" : strides_key(b), current_threads());
    auto entry = cache_.get(key, [&] { return create(p, b, reorder_b); });
    if (!entry->ok) {
      if (a.is_contiguous() && b.is_contiguous()) return run_plain(ctx, reference_);
      // oneDNN declined the strides: try dense copies (their own cache entry).
      a = a.contiguous();
      b = b.contiguous();
      p = plan_matmul(a, b, bias ? &bias_c : nullptr);
      const std::string dense_key = fmt::format("{}c|{}|{}", shape_key(ctx), reorder_b ? "w" : "c", current_threads());
      entry = cache_.get(dense_key, [&] { return create(p, b, reorder_b); });
      if (!entry->ok) return run_plain(ctx, reference_);
    }
    ctx.set_kernel_detail(entry->kernel);
    Tensor& dst = ctx.allocate_uninitialized_output(0, DType::float32, p.out_shape);
    const bool convert_a = !entry->src_desc.is_zero() && !entry->dynamic;
    const Tensor a_src = convert_a ? reorder_view(a, p.a_desc, entry->src_desc, entry->src_factor) : a;
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, memory_of(a_src, convert_a ? entry->src_desc : p.a_desc)},
        {DNNL_ARG_WEIGHTS, reorder_b ? entry->weights : memory_of(b, p.b_desc)},
        {DNNL_ARG_DST, memory_of(dst, p.dst_desc)},
        {DNNL_ARG_SCRATCHPAD, scratchpad_memory(entry->scratchpad_desc)}};
    std::vector<Tensor> holders;
    if (entry->dynamic) {
      bind_dynamic_int8(a, p.rows, p.K, entry->src_desc, bias ? &bias_c : nullptr, p.N, args, holders);
      entry->prim.execute(stream(), args);
      stream().wait();
      return;
    }
    if (bias && !entry->acc_scales.empty()) {
      // INT8: oneDNN 2.x adds the bias to the accumulator, before the output scales.
      Tensor scaled(DType::float32, bias_c.shape());
      for (int64_t n = 0; n < bias_c.numel(); ++n)
        scaled.data<float>()[n] = bias_c.data<float>()[n] / entry->acc_scales[static_cast<size_t>(n)];
      bias_c = scaled;
    }
    if (bias) args[DNNL_ARG_BIAS] = memory_of(bias_c, entry->bias_desc);
    entry->prim.execute(stream(), args);
    stream().wait();
  }

 private:
  MatMulEntry create(const MatMulPlan& p, const Tensor& b, bool reorder_b) {
    MatMulEntry e;
    dnnl::post_ops ops;
    append_fused_activation(ops, attrs_.activation, attrs_.params);
    try {
      if (reorder_b) {
        // The inner product's weights are [N, K]: B read transposed.
        InnerProduct ip = make_inner_product(
            p.rows, p.K, p.N, !p.bias_desc.is_zero(), ops, prec_,
            [&] { return reorder_view(b, strided_desc({p.N, p.K}, {p.b_stride_n, p.b_stride_k}),
                                      plain_desc({p.N, p.K}, DType::float32)); },
            weights_cache_);
        e.weights = ip.weights;
        e.weights_holder = ip.weights_holder;
        e.bias_desc = ip.bias_desc;
        e.scratchpad_desc = ip.scratchpad_desc;
        e.src_desc = ip.src_desc;
        e.src_factor = ip.src_factor;
        e.acc_scales = ip.acc_scales;
        e.dynamic = ip.dynamic;
        e.prim = ip.prim;
      } else {
        dnnl::primitive_attr attr = user_scratchpad_attr();
        attr.set_post_ops(ops);
        auto pd =
            dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.a_desc, p.b_desc, p.bias_desc, p.dst_desc), attr, engine());
        e.bias_desc = p.bias_desc;
        e.scratchpad_desc = pd.scratchpad_desc();
        e.prim = dnnl::matmul(pd);
      }
    } catch (const dnnl::error&) {
      return MatMulEntry{};
    }
    e.kernel = impl_name(e.prim);
    e.ok = true;
    return e;
  }

  MatMulAttrs attrs_;
  bool fused_;
  KernelPrecision prec_;  // of constant-B products (precision bf16/int8)
  Tensor weights_;
  KernelFn reference_;
  ReorderedWeights weights_cache_;
  ShapeCache<MatMulEntry> cache_;
};

Candidate matmul_candidate(const char* op, const char* domain, bool fused) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:matmul";
  c.op_type = op;
  c.domain = domain;
  c.check = check_matmul;
  c.variant = [](const NodeContext& nc) {
    return nc.constant_input(1) ? choose_precision(nc, nullptr, true).label() : std::string();
  };
  c.make = [fused](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<MatMulKernel>(nc, std::move(reference), fused);
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(matmul_candidate("MatMul", "", false));
HWOPT_REGISTER_CANDIDATE(matmul_candidate("FusedMatMul", "ai.hwopt", true));

}  // namespace hwopt::cpu
