// ScaledDotProductAttention (ai.hwopt): Y = Softmax(scale * Q K^T + mask) V, one (batch, head)
// at a time. The heads are spread over the OpenMP threads; each thread keeps one [S, S_kv] score
// block and runs three oneDNN primitives made for one thread on it: a matmul for the scores
// (scale as output scale, the mask as a binary-add post-op, K^T read through strides), softmax
// in place, and a matmul with V writing the head's rows of Y. With fewer heads than threads the
// heads run in turn and each primitive uses all threads. Q, K and V may be strided views (e.g. a
// Transpose of [B, S, H, D]); B and H broadcast between Q, K, V and the mask.
//
// At precision bf16 (AVX-512 BF16/AMX) the two products run in BF16 with FP32 accumulation: Q, K
// and V are converted to dense BF16 once per run, the scores are FP32 (scale and mask added in
// FP32), the softmax runs in FP32 and writes the probabilities as BF16 for the second product,
// and Y is FP32.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"

namespace hwopt::cpu {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

std::string check_sdpa(const NodeContext& nc) {
  for (size_t i = 0; i < 3; ++i)
    if (nc.input_dtype(i) != DType::float32) return fmt::format("input {} is not known to be float32", i);
  if (nc.has_input(3) && nc.input_dtype(3) != DType::float32) return "mask is not known to be float32";
  for (size_t i = 0; i < 3; ++i)
    if (nc.input_rank(i) != -1 && nc.input_rank(i) != 4) return fmt::format("input {} has rank {}", i, nc.input_rank(i));
  return "";
}

/// One operand's per-head view: element offset of head (b, h) and the 2-D descriptor.
struct HeadView {
  int64_t stride_b = 0, stride_h = 0;  // 0 where the operand broadcasts
  int64_t offset(int64_t b, int64_t h) const { return b * stride_b + h * stride_h; }
};

HeadView head_view(const Tensor& t) {
  return {t.dim(0) == 1 ? 0 : t.strides()[0], t.dim(1) == 1 ? 0 : t.strides()[1]};
}

/// `d` with element type `type` (same dims and strides).
dnnl::memory::desc with_type(dnnl::memory::desc d, dt type) {
  d.data.data_type = static_cast<dnnl_data_type_t>(type);
  return d;
}

/// A dense BF16 copy of a plain FP32 tensor (any strides oneDNN can describe).
Tensor to_bf16(const Tensor& t) {
  Tensor src = t;
  dnnl::memory::desc sd = strided_desc(src.shape(), src.strides());
  if (sd.is_zero()) {
    src = t.contiguous();
    sd = strided_desc(src.shape(), src.strides());
  }
  Tensor out(DType::bfloat16, t.shape());
  dnnl::memory from(sd, engine(), const_cast<void*>(src.raw_data()));
  dnnl::memory to(plain_desc(t.shape(), DType::bfloat16), engine(), out.raw_data());
  dnnl::reorder(from, to).execute(stream(), from, to);
  stream().wait();
  return out;
}

struct SdpaEntry {
  bool ok = false;
  bool heads_in_parallel = false;  // primitives made for one thread, heads spread over threads
  bool mask_post_op = false;       // else the mask is added by add_mask
  dnnl::memory::desc q_desc, k_desc, v_desc, mask_desc, scores_desc, probs_desc, out_desc;
  dnnl::matmul::primitive_desc qk_pd, pv_pd;
  dnnl::matmul qk, pv;
  dnnl::softmax_v2_forward::primitive_desc sm_pd;
  dnnl::softmax_v2_forward sm;
  std::string kernel;  // the three primitives' impl_name, for KernelContext::set_kernel_detail
};

class SdpaKernel {
 public:
  SdpaKernel(const NodeContext& nc, KernelFn reference) : bf16_(runs_bf16(nc)), reference_(std::move(reference)) {
    if (const ir::Attribute* x = nc.node.attr("scale")) scale_ = x->f;
    if (const ir::Attribute* x = nc.node.attr("k_transposed")) k_transposed_ = x->i != 0;
  }

  /// Precision bf16 (the session refuses it where the CPU has no native BF16), node not kept FP32.
  static bool runs_bf16(const NodeContext& nc) { return nc.precision == "bf16" && !nc.kept_fp32(); }

  void operator()(KernelContext& ctx) {
    Tensor q = ctx.input(0), k = ctx.input(1), v = ctx.input(2);
    Tensor mask = ctx.has_input(3) ? ctx.input(3) : Tensor();
    for (const Tensor* t : {&q, &k, &v, &mask})
      if (t->defined() && (t->dtype() != DType::float32 || !t->is_plain())) return run_plain(ctx, reference_);
    if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || (mask.defined() && mask.rank() > 4))
      return run_plain(ctx, reference_);
    const int64_t S = q.dim(2), D = q.dim(3);
    const int64_t Skv = k_transposed_ ? k.dim(3) : k.dim(2), Dk = k_transposed_ ? k.dim(2) : k.dim(3);
    const int64_t Dv = v.dim(3);
    int64_t batch[2];
    for (int i = 0; i < 2; ++i) {
      batch[i] = std::max({q.dim(i), k.dim(i), v.dim(i)});
      for (const Tensor* t : {&q, &k, &v})
        if (t->dim(i) != 1 && t->dim(i) != batch[i]) return run_plain(ctx, reference_);
    }
    // Shape errors and empty tensors are the reference kernel's business.
    if (Dk != D || v.dim(2) != Skv || S == 0 || D == 0 || Skv == 0 || Dv == 0 || batch[0] == 0 || batch[1] == 0)
      return run_plain(ctx, reference_);
    if (mask.defined()) {
      Shape ms = mask.shape();
      while (ms.size() < 4) ms.insert(ms.begin(), 1);
      const int64_t full[4] = {batch[0], batch[1], S, Skv};
      for (int i = 0; i < 4; ++i)
        if (ms[i] != 1 && ms[i] != full[i]) return run_plain(ctx, reference_);
      mask = mask.contiguous().reshape(ms);
    }
    // The per-head matrices must be describable by strides; else multiply dense copies.
    auto inner_ok = [](const Tensor& t) {
      return !strided_desc({t.dim(2), t.dim(3)}, {t.strides()[2], t.strides()[3]}).is_zero() &&
             (t.dim(0) == 1 || t.strides()[0] >= 0) && (t.dim(1) == 1 || t.strides()[1] >= 0);
    };
    if (!inner_ok(q)) q = q.contiguous();
    if (!inner_ok(k)) k = k.contiguous();
    if (!inner_ok(v)) v = v.contiguous();
    if (bf16_) {
      q = to_bf16(q);
      k = to_bf16(k);
      v = to_bf16(v);
    }

    const int threads = current_threads();
    const int64_t heads = batch[0] * batch[1];
    const bool parallel = threads > 1 && heads >= threads;
    const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}", shape_key(ctx), strides_key(q), strides_key(k),
                                        strides_key(v), threads, parallel, bf16_);
    auto entry = cache_.get(key, [&] {
      return with_threads(parallel ? 1 : threads, [&] { return create(q, k, v, mask, S, D, Skv, Dv, parallel); });
    });
    if (!entry->ok) return run_plain(ctx, reference_);
    ctx.set_kernel_detail(entry->kernel);

    Tensor& y = ctx.allocate_uninitialized_output(0, DType::float32, {batch[0], batch[1], S, Dv});
    const HeadView qv = head_view(q), kv = head_view(k), vv = head_view(v);
    HeadView mv;
    if (mask.defined()) mv = head_view(mask);
    const int64_t H = batch[1];
    // Q, K and V are FP32, or BF16 copies: element offsets times the element size.
    const size_t qkv_bytes = bf16_ ? sizeof(BFloat16) : sizeof(float);
    const char* qp = static_cast<const char*>(q.raw_data());
    const char* kp = static_cast<const char*>(k.raw_data());
    const char* vp = static_cast<const char*>(v.raw_data());
    const float* mp = mask.defined() ? mask.data<float>() : nullptr;
    float* yp = y.data<float>();
    const SdpaEntry& e = *entry;

    auto run_heads = [&](int64_t begin, int64_t end, int64_t step) {
      Tensor scores(DType::float32, {S, Skv});
      dnnl::memory sm = memory_of(scores, e.scores_desc);
      Tensor probs = bf16_ ? Tensor(DType::bfloat16, {S, Skv}) : scores;  // the softmax's output
      dnnl::memory pm = bf16_ ? memory_of(probs, e.probs_desc) : sm;
      dnnl::stream& st = stream();
      for (int64_t bh = begin; bh < end; bh += step) {
        const int64_t b = bh / H, h = bh % H;
        auto mem = [](const dnnl::memory::desc& d, const void* p) {
          return dnnl::memory(d, engine(), const_cast<void*>(p));
        };
        auto at = [&](const char* base, int64_t elements) { return base + static_cast<size_t>(elements) * qkv_bytes; };
        std::unordered_map<int, dnnl::memory> qk_args{
            {DNNL_ARG_SRC, mem(e.q_desc, at(qp, qv.offset(b, h)))},
            {DNNL_ARG_WEIGHTS, mem(e.k_desc, at(kp, kv.offset(b, h)))},
            {DNNL_ARG_DST, sm},
            {DNNL_ARG_SCRATCHPAD, scratchpad_memory(e.qk_pd.scratchpad_desc())}};
        if (mp && e.mask_post_op)
          qk_args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = mem(e.mask_desc, mp + mv.offset(b, h));
        e.qk.execute(st, qk_args);
        if (mp && !e.mask_post_op) {
          st.wait();
          add_mask(scores.data<float>(), mp + mv.offset(b, h), S, Skv, mask.dim(2), mask.dim(3));
        }
        e.sm.execute(st, {{DNNL_ARG_SRC, sm},
                          {DNNL_ARG_DST, pm},
                          {DNNL_ARG_SCRATCHPAD, scratchpad_memory(e.sm_pd.scratchpad_desc())}});
        e.pv.execute(st, {{DNNL_ARG_SRC, pm},
                          {DNNL_ARG_WEIGHTS, mem(e.v_desc, at(vp, vv.offset(b, h)))},
                          {DNNL_ARG_DST, mem(e.out_desc, yp + bh * S * Dv)},
                          {DNNL_ARG_SCRATCHPAD, scratchpad_memory(e.pv_pd.scratchpad_desc())}});
        st.wait();
      }
    };

    if (!e.heads_in_parallel) {
      run_heads(0, heads, 1);
      return;
    }
    // No exception may leave an OpenMP region: keep the first and rethrow it after.
    std::string error;
#pragma omp parallel num_threads(threads)
    {
      try {
        run_heads(omp_get_thread_num(), heads, omp_get_num_threads());
      } catch (const std::exception& ex) {
#pragma omp critical(hwopt_sdpa_error)
        if (error.empty()) error = ex.what();
      }
    }
    HWOPT_KCHECK(error.empty(), "attention failed: {}", error);
  }

 private:
  /// scores += mask block ([ms, mt] with ms in {1, S}, mt in {1, Skv}, row-major).
  static void add_mask(float* scores, const float* mask, int64_t S, int64_t Skv, int64_t ms, int64_t mt) {
    for (int64_t s = 0; s < S; ++s) {
      float* row = scores + s * Skv;
      const float* mrow = mask + (ms == 1 ? 0 : s * mt);
      if (mt == 1) {
        for (int64_t t = 0; t < Skv; ++t) row[t] += mrow[0];
      } else {
        for (int64_t t = 0; t < Skv; ++t) row[t] += mrow[t];
      }
    }
  }

  SdpaEntry create(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, int64_t S, int64_t D,
                   int64_t Skv, int64_t Dv, bool parallel) const {
    SdpaEntry e;
    e.heads_in_parallel = parallel;
    const dt qkv = bf16_ ? dt::bf16 : dt::f32;
    e.q_desc = with_type(strided_desc({S, D}, {q.strides()[2], q.strides()[3]}), qkv);
    // Q K^T multiplies by K^T [D, Skv]: K [Skv, D] read transposed through its strides.
    e.k_desc = with_type(k_transposed_ ? strided_desc({D, Skv}, {k.strides()[2], k.strides()[3]})
                                       : strided_desc({D, Skv}, {k.strides()[3], k.strides()[2]}),
                         qkv);
    e.v_desc = with_type(strided_desc({Skv, Dv}, {v.strides()[2], v.strides()[3]}), qkv);
    e.scores_desc = dnnl::memory::desc({S, Skv}, dt::f32, tag::ab);
    e.probs_desc = dnnl::memory::desc({S, Skv}, qkv, tag::ab);
    e.out_desc = dnnl::memory::desc({S, Dv}, dt::f32, tag::ab);
    try {
      auto make_qk = [&](bool mask_post_op) {
        dnnl::primitive_attr attr = user_scratchpad_attr();
        if (scale_ != 1.f) attr.set_output_scales(0, {scale_});
        if (mask_post_op) {
          dnnl::post_ops ops;
          ops.append_binary(dnnl::algorithm::binary_add, e.mask_desc);
          attr.set_post_ops(ops);
        }
        return dnnl::matmul::primitive_desc(dnnl::matmul::desc(e.q_desc, e.k_desc, e.scores_desc), attr, engine());
      };
      if (mask.defined()) {
        e.mask_desc = dnnl::memory::desc({mask.dim(2), mask.dim(3)}, dt::f32, tag::ab);
        e.mask_post_op = true;
        try {
          e.qk_pd = make_qk(true);
          // A broadcast oneDNN's optimised kernels lack lands in a reference kernel: add it ourselves.
          if (is_reference_impl(e.qk_pd)) e.mask_post_op = false;
        } catch (const dnnl::error&) {
          e.mask_post_op = false;
        }
      }
      if (!e.mask_post_op) e.qk_pd = make_qk(false);
      e.qk = dnnl::matmul(e.qk_pd);
      e.sm_pd = dnnl::softmax_v2_forward::primitive_desc(
          dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::softmax_accurate,
                                         e.scores_desc, e.probs_desc, 1),
          user_scratchpad_attr(), engine());
      e.sm = dnnl::softmax_v2_forward(e.sm_pd);
      e.pv_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(e.probs_desc, e.v_desc, e.out_desc),
                                             user_scratchpad_attr(), engine());
      // BF16 only where oneDNN has a fast kernel for it (else this falls back to the reference).
      if (bf16_ && (is_reference_impl(e.qk_pd) || is_reference_impl(e.pv_pd))) return SdpaEntry{};
      e.pv = dnnl::matmul(e.pv_pd);
    } catch (const dnnl::error&) {
      return SdpaEntry{};
    }
    e.kernel = fmt::format("{}{} + {} + {}{}", impl_name(e.qk), mask.defined() && !e.mask_post_op ? " + own mask add" : "",
                           impl_name(e.sm), impl_name(e.pv), e.heads_in_parallel ? ", heads in parallel" : "");
    e.ok = true;
    return e;
  }

  bool bf16_ = false;
  float scale_ = 1.f;
  bool k_transposed_ = false;
  KernelFn reference_;
  ShapeCache<SdpaEntry> cache_;
};

Candidate sdpa_candidate() {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:attention";
  c.op_type = "ScaledDotProductAttention";
  c.domain = "ai.hwopt";
  c.check = check_sdpa;
  c.variant = [](const NodeContext& nc) { return SdpaKernel::runs_bf16(nc) ? std::string("bf16(->f32)") : std::string(); };
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<SdpaKernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(sdpa_candidate());

}  // namespace hwopt::cpu
