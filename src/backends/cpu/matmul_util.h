// Helpers shared by the CPU backend's matrix-multiply family (gemm.cpp, matmul.cpp,
// attention.cpp): fused activations as post-ops, strided descriptors of plain views, a per-thread
// user scratchpad, and constant weights reordered once per oneDNN format.
#pragma once

#include <omp.h>

#include <dnnl.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/cpu/dynamic_quant.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/post_ops.h"
#include "backends/cpu/precision.h"

namespace hwopt::cpu {

/// The activations the fused reference kernels (ref_fused.cpp) define and oneDNN can fuse.
inline bool fused_activation_supported(const std::string& a) {
  return a.empty() || a == "Relu" || a == "LeakyRelu" || a == "Clip" || a == "Sigmoid" || a == "Tanh" ||
         a == "HardSigmoid" || a == "HardSwish" || a == "Silu" || a == "Mish" || a == "Gelu" || a == "FastGelu";
}

/// Appends `a` (one of fused_activation_supported) to `ops`.
inline void append_fused_activation(dnnl::post_ops& ops, const std::string& a, const std::vector<float>& params) {
  if (a == "FastGelu") {
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_tanh, 0.f, 0.f);
  } else {
    append_activation(ops, a, params);
  }
}

/// Descriptor of a plain (possibly strided) view with `dims` and element `strides`; a zero desc
/// when oneDNN cannot describe it (a zero or negative stride on a dim larger than one).
inline dnnl::memory::desc strided_desc(const Shape& dims, const Shape& strides) {
  dnnl::memory::dims d(dims.begin(), dims.end()), s(strides.begin(), strides.end());
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 1) {
      // A unit dim's stride is irrelevant; give it the dense value so oneDNN sees a plain layout.
      s[i] = 1;
      for (size_t j = i + 1; j < d.size(); ++j) s[i] *= d[j];
    } else if (s[i] <= 0) {
      return {};
    }
  }
  return dnnl::memory::desc(d, dnnl::memory::data_type::f32, s);
}

/// "c" for a contiguous tensor, else its strides (part of a primitive cache key).
inline std::string strides_key(const Tensor& t) {
  return t.is_contiguous() ? std::string("c") : fmt::format("s{}", shape_str(t.strides()));
}

/// The OpenMP thread count oneDNN would use now (part of every primitive cache key: oneDNN
/// partitions work by the thread count seen when a primitive is created).
inline int current_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

/// A primitive attribute with a user-managed scratchpad (so a primitive can run on any thread:
/// see scratchpad_memory).
inline dnnl::primitive_attr user_scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// A scratchpad buffer for `desc` owned by the calling thread, reused by its later primitives
/// (executions on one thread are sequential).
inline dnnl::memory scratchpad_memory(const dnnl::memory::desc& desc) {
  thread_local std::shared_ptr<Storage> buffer;
  const size_t bytes = desc.get_size();
  if (!buffer || buffer->bytes() < bytes) {
    buffer = Storage::allocate(std::max<size_t>(bytes, 4096));
    if (!buffer) throw std::bad_alloc();
  }
  return dnnl::memory(desc, engine(), buffer->data());
}

/// Executes a primitive created with user_scratchpad_attr() on the calling thread's stream, with
/// the calling thread's scratchpad. Cached primitives run on whichever thread runs the model, and
/// with oneDNN's library scratchpad they would share (and overflow) the scratchpad of the thread
/// that created them: concurrent Session::run calls corrupted each other's results.
inline void execute_with_scratchpad(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args) {
  const dnnl_memory_desc_t* md =
      dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  if (md) {
    const dnnl::memory::desc desc(*md);
    if (desc.get_size() > 0) args[DNNL_ARG_SCRATCHPAD] = scratchpad_memory(desc);
  }
  prim.execute(stream(), args);
}

/// Runs `make` with the calling thread's OpenMP thread count set to `threads`, restoring it
/// after: primitives that will run inside an OpenMP parallel region (one per thread) must be
/// created for one thread.
template <typename Make>
auto with_threads(int threads, Make&& make) {
  const int saved = omp_get_max_threads();
  if (threads == saved) return make();
  omp_set_num_threads(threads);
  struct Restore {
    int n;
    ~Restore() { omp_set_num_threads(n); }
  } restore{saved};
  return make();
}

/// Constant weights reordered into the formats primitives asked for, one copy per format (so
/// primitives for several input shapes that choose the same format share it). Thread-safe.
class ReorderedWeights {
 public:
  /// The weights in `desc`; `make` builds them (a reorder) the first time `desc` is asked for.
  template <typename Make>
  std::pair<dnnl::memory, Tensor> get(const dnnl::memory::desc& desc, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [d, t] : entries_)
      if (d == desc) return {memory_of(t, d), t};
    Tensor t = make();
    entries_.emplace_back(desc, t);
    return {memory_of(t, desc), t};
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<dnnl::memory::desc, Tensor>> entries_;
};

/// An inner product dst[M, N] = src[M, K] (row-major) x W + bias[N] with W in the format oneDNN
/// picks (the caller reorders its constant weights into pd.weights_desc(), logical [N, K]).
/// On Zen4 (oneDNN 2.6, brgemm) it ran on par with the matmul primitive for BERT's layers in
/// interleaved A/B runs, and takes the [N] bias as it is. `src_dt`/`weights_dt` other than f32
/// make a BF16 or INT8 product (the caller converts the source); the destination is f32.
inline dnnl::inner_product_forward::primitive_desc inner_product_pd(
    int64_t M, int64_t K, int64_t N, bool bias, const dnnl::primitive_attr& attr,
    dnnl::memory::data_type src_dt = dnnl::memory::data_type::f32,
    dnnl::memory::data_type weights_dt = dnnl::memory::data_type::f32) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const dnnl::memory::desc src({M, K}, src_dt, tag::ab), weights({N, K}, weights_dt, tag::any),
      dst({M, N}, dt::f32, tag::ab);
  const dnnl::memory::desc bias_desc = bias ? dnnl::memory::desc({N}, dt::f32, tag::a) : dnnl::memory::desc();
  return dnnl::inner_product_forward::primitive_desc(
      dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_inference, src, weights, bias_desc, dst), attr,
      engine());
}

/// `src` viewed through `src_desc` reordered into `desc` (a new tensor of `desc`'s dims),
/// multiplied by `factor` (quantizing into an INT8 desc).
inline Tensor reorder_view(const Tensor& src, const dnnl::memory::desc& src_desc, const dnnl::memory::desc& desc,
                           float factor = 1.f) {
  const dnnl::memory::dims dims = desc.dims();
  Tensor dst = allocate_like(desc, src.dtype(), Shape(dims.begin(), dims.end()));
  dnnl::memory sm = memory_of(src, src_desc), dm = memory_of(dst, desc);
  dnnl::primitive_attr attr;
  if (factor != 1.f) attr.set_output_scales(0, {factor});
  dnnl::reorder(dnnl::reorder::primitive_desc(sm, dm, attr)).execute(stream(), sm, dm);
  stream().wait();
  return dst;
}

/// The inner product of a Gemm/MatMul with constant weights, at the kernel's precision.
struct InnerProduct {
  dnnl::inner_product_forward prim;
  dnnl::memory::desc src_desc;  // non-zero: A is converted to this (BF16/INT8) first
  float src_factor = 1.f;       // INT8: 1 / the source's scale
  std::vector<float> acc_scales;  // INT8: real value of one accumulator unit per column (divide the bias by it)
  dnnl::memory::desc bias_desc, scratchpad_desc;
  dnnl::memory weights;
  Tensor weights_holder;
  bool dynamic = false;       // dynamic INT8: bind_dynamic_int8 supplies source, scale and bias
  bool dynamic_bias = false;  // the bias is a post-op operand (binary add), not DNNL_ARG_BIAS
};

/// Makes the inner product for `prec` (precision.h): FP32; BF16 source and weights; or INT8
/// with weights quantized per output column and the source at prec.src_scale. `weights_nk`
/// gives the FP32 weights as a plain [N, K] tensor; reordered weights are shared through `cache`.
/// Throws dnnl::error where oneDNN has no implementation.
template <typename WeightsNK>
InnerProduct make_inner_product(int64_t M, int64_t K, int64_t N, bool bias, const dnnl::post_ops& ops,
                                const KernelPrecision& prec, WeightsNK&& weights_nk, ReorderedWeights& cache) {
  InnerProduct ip;
  dnnl::primitive_attr attr = user_scratchpad_attr();
  QuantizedWeights q;
  if (prec.int8()) q = quantize_per_channel(weights_nk());
  if (prec.int8() && prec.dynamic) {
    // The source's scale is known only at run time: the output scales hold the weights' scales,
    // a binary-mul post-op multiplies by the source's scale, a binary-add one adds the bias (in
    // real units), then the caller's post-ops follow.
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    attr.set_output_scales(1 << 1, q.scales);
    dnnl::post_ops dyn;
    dyn.append_binary(dnnl::algorithm::binary_mul, dnnl::memory::desc({1, 1}, dt::f32, tag::ab));
    if (bias) dyn.append_binary(dnnl::algorithm::binary_add, dnnl::memory::desc({1, N}, dt::f32, tag::ab));
    for (int i = 0; i < ops.len(); ++i) {
      if (ops.kind(i) == dnnl::primitive::kind::eltwise) {
        float scale, alpha, beta;
        dnnl::algorithm alg;
        ops.get_params_eltwise(i, scale, alg, alpha, beta);
        dyn.append_eltwise(scale, alg, alpha, beta);
      } else if (ops.kind(i) == dnnl::primitive::kind::sum) {
        float scale;
        ops.get_params_sum(i, scale);
        dyn.append_sum(scale);
      } else {
        throw dnnl::error(dnnl_unimplemented, "post-op kind not supported with dynamic INT8");
      }
    }
    attr.set_post_ops(dyn);
    ip.dynamic = true;
    ip.dynamic_bias = bias;
    bias = false;
  } else {
    if (prec.int8()) {
      for (float ws : q.scales) ip.acc_scales.push_back(prec.src_scale * ws);
      attr.set_output_scales(1 << 1, ip.acc_scales);
      ip.src_factor = 1.f / prec.src_scale;
    }
    attr.set_post_ops(ops);
  }
  auto pd = inner_product_pd(M, K, N, bias, attr, prec.src, prec.weights);
  auto [mem, holder] = cache.get(pd.weights_desc(), [&] {
    return prec.int8() ? reorder_to(q.values, pd.weights_desc()) : reorder_to(weights_nk(), pd.weights_desc());
  });
  ip.weights = mem;
  ip.weights_holder = holder;
  if (prec.src != dnnl::memory::data_type::f32) ip.src_desc = pd.src_desc();
  ip.bias_desc = pd.bias_desc();
  ip.scratchpad_desc = pd.scratchpad_desc();
  ip.prim = dnnl::inner_product_forward(pd);
  return ip;
}

/// The run-time part of a dynamic INT8 inner product (InnerProduct::dynamic): quantizes the
/// dense [rows, K] FP32 source to s8 with its own scale (max|a| / 127) and binds it, the scale
/// and the bias ([N], when the product has one) as the primitive's source and post-op operands.
/// `holders` keeps the temporaries alive until the primitive has run.
inline void bind_dynamic_int8(const Tensor& a, int64_t rows, int64_t K, const dnnl::memory::desc& src_desc,
                              const Tensor* bias, int64_t N, std::unordered_map<int, dnnl::memory>& args,
                              std::vector<Tensor>& holders) {
  const float* src = a.data<float>();
  const int64_t n = rows * K;
  float amax = abs_max(src, n);
  if (!std::isfinite(amax)) amax = 0.f;  // Inf: the product is garbage anyway; keep the scale sane
  const float scale = amax > 0.f ? amax / kS8Levels : 1.f;
  Tensor q = allocate_like(src_desc, DType::int8, {rows, K});
  quantize_s8(src, n, 1.f / scale, q.data<int8_t>());
  Tensor s(DType::float32, {1, 1});
  s.data<float>()[0] = scale;
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  args[DNNL_ARG_SRC] = memory_of(q, src_desc);
  args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
      memory_of(s, dnnl::memory::desc({1, 1}, dt::f32, tag::ab));
  if (bias) {
    Tensor b = bias->contiguous();
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] = memory_of(b, dnnl::memory::desc({1, N}, dt::f32, tag::ab));
    holders.push_back(b);
  }
  holders.push_back(q);
  holders.push_back(s);
}

/// True if the primitive oneDNN chose is a reference (unoptimised) implementation.
template <typename PD>
bool is_reference_impl(const PD& pd) {
  const std::string impl = pd.impl_info_str();
  return impl.rfind("ref", 0) == 0;
}

}  // namespace hwopt::cpu
