// Gemm and FusedGemm (com.microsoft) on oneDNN. A constant B makes an inner product whose weights
// are reordered once into the format oneDNN picks (format_tag::any), alpha folded in; a
// non-constant B makes a matmul reading A and B in place (transA/transB through strides) with
// alpha as the output scale. A constant C that is one row ([N], [1, N] or a scalar) becomes the
// primitive's bias (times beta); any other C is copied into the output and added by a sum post-op
// (scale beta); the activation is a post-op.
//
// One row of A times a constant FP32 B without an activation (a classifier head at batch 1) is a
// matrix-vector product bound by reading B from memory: an own kernel streams B as ONNX stores it
// (no reordered copy), both threads reading rows of it, 1.3-1.6x faster than oneDNN's inner
// product and matmul when B is not in cache (docs/benchmarks.md, session 11).
#include <fmt/format.h>

#include <immintrin.h>

#include <algorithm>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/own_util.h"

namespace hwopt::cpu {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct GemmAttrs {
  bool trans_a = false, trans_b = false;
  float alpha = 1.f, beta = 1.f;
  std::string activation;
  std::vector<float> params;
  bool params_ok = true;
};

GemmAttrs read_attrs(const ir::Node& n) {
  GemmAttrs a;
  if (const ir::Attribute* x = n.attr("transA")) a.trans_a = x->i != 0;
  if (const ir::Attribute* x = n.attr("transB")) a.trans_b = x->i != 0;
  if (const ir::Attribute* x = n.attr("alpha")) a.alpha = x->f;
  if (const ir::Attribute* x = n.attr("beta")) a.beta = x->f;
  if (const ir::Attribute* x = n.attr("activation")) a.activation = x->s;
  const ir::Attribute* aa = n.attr("activation_alpha");
  const ir::Attribute* ab = n.attr("activation_beta");
  if (aa) a.params.push_back(aa->f);
  if (ab) {
    if (!aa) a.params_ok = false;
    a.params.push_back(ab->f);
  }
  return a;
}

std::string check_gemm(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input A is not known to be float32";
  if (nc.input_dtype(1) != DType::float32) return "input B is not known to be float32";
  if (nc.has_input(2) && nc.input_dtype(2) != DType::float32) return "input C is not known to be float32";
  if (nc.input_rank(0) != -1 && nc.input_rank(0) != 2) return fmt::format("input A has rank {}", nc.input_rank(0));
  if (nc.input_rank(1) != -1 && nc.input_rank(1) != 2) return fmt::format("input B has rank {}", nc.input_rank(1));
  GemmAttrs a = read_attrs(nc.node);
  if (!fused_activation_supported(a.activation)) return fmt::format("activation '{}' has no oneDNN post-op", a.activation);
  if (!a.params_ok) return "attribute 'activation_beta' without 'activation_alpha'";
  return "";
}

/// A 2-D tensor as the operand op(X): itself, or transposed through its strides when `trans`.
dnnl::memory::desc operand_desc(const Tensor& t, bool trans) {
  if (!trans) return strided_desc(t.shape(), t.strides());
  return strided_desc({t.dim(1), t.dim(0)}, {t.strides()[1], t.strides()[0]});
}

// GCC 12 warns that the intrinsics' internal _mm512_undefined_* operands are uninitialized when
// they are inlined into a function with a target attribute (a false positive of its headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// y[n] = a . w[n] for n in [n0, n1), w row-major [N, K] (B with transB = 1).
__attribute__((target("avx512f,fma"))) void gemv_rows(const float* a, const float* w, int64_t K, int64_t n0,
                                                      int64_t n1, float* y) {
  for (int64_t n = n0; n < n1; ++n) {
    const float* row = w + n * K;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(row + k), _mm512_loadu_ps(a + k), s0);
      s1 = _mm512_fmadd_ps(_mm512_loadu_ps(row + k + 16), _mm512_loadu_ps(a + k + 16), s1);
    }
    if (k + 16 <= K) {
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(row + k), _mm512_loadu_ps(a + k), s0);
      k += 16;
    }
    if (k < K) {
      const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
      s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + k), _mm512_maskz_loadu_ps(m, a + k), s1);
    }
    y[n] = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  }
}

// y[n] = sum_k a[k] * w[k][n] for n in [n0, n1), w row-major [K, N] (B with transB = 0): rows of
// w streamed, 16 outputs per vector.
__attribute__((target("avx512f,fma"))) void gemv_cols(const float* a, const float* w, int64_t K, int64_t N,
                                                      int64_t n0, int64_t n1, float* y) {
  int64_t n = n0;
  for (; n + 64 <= n1; n += 64) {
    __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t k = 0; k < K; ++k) {
      const __m512 ak = _mm512_set1_ps(a[k]);
      for (int j = 0; j < 4; ++j) s[j] = _mm512_fmadd_ps(ak, _mm512_loadu_ps(w + k * N + n + 16 * j), s[j]);
    }
    for (int j = 0; j < 4; ++j) _mm512_storeu_ps(y + n + 16 * j, s[j]);
  }
  for (; n < n1; n += 16) {
    const __mmask16 m = static_cast<__mmask16>(n1 - n >= 16 ? 0xFFFFu : (1u << (n1 - n)) - 1);
    __m512 s = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; ++k) s = _mm512_fmadd_ps(_mm512_set1_ps(a[k]), _mm512_maskz_loadu_ps(m, w + k * N + n), s);
    _mm512_mask_storeu_ps(y + n, m, s);
  }
}

#pragma GCC diagnostic pop

struct GemmEntry {
  bool ok = false;  // false: oneDNN has no primitive for this case; the reference runs
  dnnl::primitive prim;  // inner product (constant B) or matmul
  dnnl::memory::desc a_desc, b_desc, dst_desc, scratchpad_desc;
  dnnl::memory weights;  // constant B (alpha folded in) in the primitive's weights format
  Tensor weights_holder;
  dnnl::memory bias;  // beta * C as one row
  Tensor bias_holder;
  bool c_as_sum = false;  // C is copied into the output and added by a sum post-op
  dnnl::memory::desc src_desc;  // non-zero: A is converted to this (BF16/INT8) before the product
  float src_factor = 1.f;
  bool dynamic = false;  // dynamic INT8 (bind_dynamic_int8); the bias (beta * C) is bias_holder
  std::string kernel;    // impl_name(prim), for KernelContext::set_kernel_detail
};

class GemmKernel {
 public:
  GemmKernel(const NodeContext& nc, KernelFn reference)
      : attrs_(read_attrs(nc.node)),
        prec_(nc.constant_input(1) ? choose_precision(nc, nullptr, true) : KernelPrecision{}),
        reference_(std::move(reference)) {
    if (const Tensor* b = nc.constant_input(1)) weights_ = *b;
    if (const Tensor* c = nc.constant_input(2)) c_const_ = *c;
    gemv_ok_ = weights_.defined() && attrs_.activation.empty() && !prec_.int8() && !prec_.bf16() && !prec_.dynamic &&
               own::use_avx512();
  }

  void operator()(KernelContext& ctx) {
    Tensor a = ctx.input(0), b = ctx.input(1);
    const Tensor* c = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (a.dtype() != DType::float32 || b.dtype() != DType::float32 || (c && c->dtype() != DType::float32) ||
        a.rank() != 2 || b.rank() != 2 || (c && c->rank() > 2) || !a.is_plain() || !b.is_plain() ||
        (c && !c->is_plain()))
      return run_plain(ctx, reference_);
    bool trans_a = attrs_.trans_a;
    const int64_t M = trans_a ? a.dim(1) : a.dim(0), K = trans_a ? a.dim(0) : a.dim(1);
    const int64_t Kb = attrs_.trans_b ? b.dim(1) : b.dim(0), N = attrs_.trans_b ? b.dim(0) : b.dim(1);
    // Shape errors and empty products are the reference kernel's business.
    if (K != Kb || M == 0 || N == 0 || K == 0) return run_plain(ctx, reference_);
    int64_t cm = 1, cn = 1;
    if (c) {
      if (c->rank() == 2) cm = c->dim(0);
      if (c->rank() >= 1) cn = c->dim(-1);
      if ((cm != 1 && cm != M) || (cn != 1 && cn != N)) return run_plain(ctx, reference_);
    }
    const bool const_b = weights_.defined() && b.storage() == weights_.storage() && b.offset() == weights_.offset() &&
                         b.shape() == weights_.shape();
    if (M == 1 && const_b && gemv_ok_ && b.is_contiguous() && (!c || cm == 1)) return run_gemv(ctx, a, b, c, K, N, cn);
    if (const_b && (trans_a || !a.is_contiguous())) {
      // The inner product reads A as dense rows.
      a = trans_a ? a.permute({1, 0}).contiguous() : a.contiguous();
      trans_a = false;
    }
    if (operand_desc(a, trans_a).is_zero()) a = a.contiguous();
    if (!const_b && operand_desc(b, attrs_.trans_b).is_zero()) b = b.contiguous();
    const bool const_c = c && c_const_.defined() && c->storage() == c_const_.storage() &&
                         c->offset() == c_const_.offset() && c->shape() == c_const_.shape();
    const std::string key = fmt::format("{}{}{}|{}{}|{}", shape_key(ctx), strides_key(a), trans_a ? "t" : "",
                                        const_b ? "w" : strides_key(b), const_c ? "k" : "", current_threads());
    auto entry = cache_.get(key, [&] { return create(a, trans_a, b, c, M, K, N, cm, const_b, const_c); });
    if (!entry->ok) return run_plain(ctx, reference_);
    ctx.set_kernel_detail(entry->kernel);

    Tensor& dst = ctx.allocate_uninitialized_output(0, DType::float32, {M, N});
    if (entry->c_as_sum) {
      const Tensor cc = c->contiguous();
      const float* cp = cc.data<float>();
      float* dp = dst.data<float>();
      for (int64_t m = 0; m < M; ++m) {
        const float* row = cp + (cm == 1 ? 0 : m * cn);
        float* out = dp + m * N;
        if (cn == 1) {
          std::fill(out, out + N, row[0]);
        } else {
          std::copy(row, row + N, out);
        }
      }
    }
    const bool convert_a = !entry->src_desc.is_zero() && !entry->dynamic;
    const Tensor a_src = convert_a ? reorder_view(a, entry->a_desc, entry->src_desc, entry->src_factor) : a;
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, memory_of(a_src, convert_a ? entry->src_desc : entry->a_desc)},
        {DNNL_ARG_WEIGHTS, const_b ? entry->weights : memory_of(b, entry->b_desc)},
        {DNNL_ARG_DST, memory_of(dst, entry->dst_desc)},
        {DNNL_ARG_SCRATCHPAD, scratchpad_memory(entry->scratchpad_desc)}};
    std::vector<Tensor> holders;
    if (entry->dynamic) {
      bind_dynamic_int8(a, M, K, entry->src_desc, entry->bias_holder.defined() ? &entry->bias_holder : nullptr, N, args,
                        holders);
    } else if (entry->bias_holder.defined()) {
      args[DNNL_ARG_BIAS] = entry->bias;
    }
    entry->prim.execute(stream(), args);
    stream().wait();
  }

 private:
  // M = 1, constant FP32 B, no activation: Y = alpha * op(A) op(B) + beta * C with the own
  // matrix-vector kernels, reading B where it is (C one row or a scalar).
  void run_gemv(KernelContext& ctx, const Tensor& a_in, const Tensor& b, const Tensor* c, int64_t K, int64_t N,
                int64_t cn) {
    ctx.set_kernel_detail(attrs_.trans_b ? "own gemv (B rows)" : "own gemv (B columns)");
    const Tensor a = a_in.contiguous();  // [1, K] or [K, 1]: K floats either way
    const Tensor cc = c ? c->contiguous() : Tensor();
    Tensor& dst = ctx.allocate_uninitialized_output(0, DType::float32, {1, N});
    const float* ap = a.data<float>();
    const float* wp = b.data<float>();
    const float* cp = c ? cc.data<float>() : nullptr;
    float* y = dst.data<float>();
    const float alpha = attrs_.alpha, beta = attrs_.beta;
    const bool trans_b = attrs_.trans_b;
    // Whole cache lines of output per thread in the column form (16 outputs each).
    own::parallel_range((N + 15) / 16, N * K, [&](int64_t g0, int64_t g1) {
      const int64_t n0 = g0 * 16, n1 = std::min(N, g1 * 16);
      if (trans_b)
        gemv_rows(ap, wp, K, n0, n1, y);
      else
        gemv_cols(ap, wp, K, N, n0, n1, y);
      for (int64_t n = n0; n < n1; ++n) {
        float v = alpha * y[n];
        if (cp) v += beta * cp[cn == 1 ? 0 : n];
        y[n] = v;
      }
    });
  }

  GemmEntry create(const Tensor& a, bool trans_a, const Tensor& b, const Tensor* c, int64_t M, int64_t K, int64_t N,
                   int64_t cm, bool const_b, bool const_c) {
    GemmEntry e;
    e.a_desc = operand_desc(a, trans_a);
    e.dst_desc = dnnl::memory::desc({M, N}, dt::f32, tag::ab);
    // A constant C that is one row becomes the bias; that is exact only when alpha is not an
    // output scale (oneDNN would scale the bias too), i.e. when alpha is folded into constant B.
    const bool c_as_bias = c && const_c && cm == 1 && (const_b || attrs_.alpha == 1.f);
    e.c_as_sum = c && !c_as_bias;
    if (c_as_bias) {
      e.bias_holder = Tensor(DType::float32, {N});
      const Tensor cc = c->contiguous();
      const float* cp = cc.data<float>();
      float* bp = e.bias_holder.data<float>();
      const bool scalar = cc.numel() == 1;
      for (int64_t n = 0; n < N; ++n) bp[n] = attrs_.beta * cp[scalar ? 0 : n];
    }
    dnnl::post_ops ops;
    if (e.c_as_sum) ops.append_sum(attrs_.beta);
    append_fused_activation(ops, attrs_.activation, attrs_.params);
    dnnl::primitive_attr attr = user_scratchpad_attr();
    attr.set_post_ops(ops);
    try {
      if (const_b) {
        InnerProduct ip = make_inner_product(
            M, K, N, c_as_bias, ops, prec_,
            [&] { return reorder_weights(b, plain_desc({N, K}, DType::float32)); }, weights_cache_);
        e.weights = ip.weights;
        e.weights_holder = ip.weights_holder;
        e.dynamic = ip.dynamic;
        if (c_as_bias && !ip.dynamic) {
          // INT8: oneDNN 2.x adds the bias to the accumulator, before the output scales.
          for (size_t n = 0; n < ip.acc_scales.size(); ++n) e.bias_holder.data<float>()[n] /= ip.acc_scales[n];
          e.bias = memory_of(e.bias_holder, ip.bias_desc);
        }
        e.scratchpad_desc = ip.scratchpad_desc;
        e.src_desc = ip.src_desc;
        e.src_factor = ip.src_factor;
        e.prim = ip.prim;
      } else {
        if (attrs_.alpha != 1.f) attr.set_output_scales(0, {attrs_.alpha});
        e.b_desc = operand_desc(b, attrs_.trans_b);
        dnnl::memory::desc bias_desc;
        if (c_as_bias) {
          bias_desc = dnnl::memory::desc({1, N}, dt::f32, tag::ab);
          e.bias = memory_of(e.bias_holder, bias_desc);
        }
        auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(e.a_desc, e.b_desc, bias_desc, e.dst_desc), attr,
                                               engine());
        e.scratchpad_desc = pd.scratchpad_desc();
        e.prim = dnnl::matmul(pd);
      }
    } catch (const dnnl::error&) {
      return GemmEntry{};
    }
    e.kernel = impl_name(e.prim);
    e.ok = true;
    return e;
  }

  /// alpha * op(B), as the inner product's [N, K] weights in `desc`.
  Tensor reorder_weights(const Tensor& b, const dnnl::memory::desc& desc) const {
    Tensor src = b.contiguous();
    if (attrs_.alpha != 1.f) {
      src = src.clone();
      float* p = src.data<float>();
      for (int64_t i = 0; i < src.numel(); ++i) p[i] *= attrs_.alpha;
    }
    // op(B)^T: B itself when transB, else B read transposed.
    return reorder_view(src, operand_desc(src, !attrs_.trans_b), desc);
  }

  GemmAttrs attrs_;
  KernelPrecision prec_;  // of constant-B products (precision bf16/int8)
  bool gemv_ok_ = false;  // run_gemv may take M = 1 (constant FP32 B, no activation, AVX-512)
  Tensor weights_, c_const_;
  KernelFn reference_;
  ReorderedWeights weights_cache_;
  ShapeCache<GemmEntry> cache_;
};

KernelFn make_gemm(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<GemmKernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

Candidate gemm_candidate(const char* op, const char* domain) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:gemm";
  c.op_type = op;
  c.domain = domain;
  c.check = check_gemm;
  c.variant = [](const NodeContext& nc) {
    return nc.constant_input(1) ? choose_precision(nc, nullptr, true).label() : std::string();
  };
  c.make = make_gemm;
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(gemm_candidate("Gemm", ""));
HWOPT_REGISTER_CANDIDATE(gemm_candidate("FusedGemm", "com.microsoft"));

}  // namespace hwopt::cpu
