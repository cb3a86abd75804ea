// Helpers shared by the CPU backend's matrix-multiply family (gemm.cpp, matmul.cpp,
// attention.cpp): fused activations as post-ops, strided descriptors of plain views, a per-thread
// user scratchpad, and constant weights reordered once per oneDNN format.
#pragma once

#include <omp.h>

#include <dnnl.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/cpu/onednn.h"
#include "backends/cpu/post_ops.h"

namespace hwopt::cpu {

/// The activations the fused reference kernels (ref_fused.cpp) define and oneDNN can fuse.
inline bool fused_activation_supported(const std::string& a) {
  return a.empty() || a == "Relu" || a == "LeakyRelu" || a == "Clip" || a == "Sigmoid" || a == "Tanh" ||
         a == "HardSigmoid" || a == "HardSwish" || a == "Silu" || a == "Gelu" || a == "FastGelu";
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
/// interleaved A/B runs, and takes the [N] bias as it is.
inline dnnl::inner_product_forward::primitive_desc inner_product_pd(int64_t M, int64_t K, int64_t N, bool bias,
                                                                   const dnnl::primitive_attr& attr) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const dnnl::memory::desc src({M, K}, dt::f32, tag::ab), weights({N, K}, dt::f32, tag::any),
      dst({M, N}, dt::f32, tag::ab);
  const dnnl::memory::desc bias_desc = bias ? dnnl::memory::desc({N}, dt::f32, tag::a) : dnnl::memory::desc();
  return dnnl::inner_product_forward::primitive_desc(
      dnnl::inner_product_forward::desc(dnnl::prop_kind::forward_inference, src, weights, bias_desc, dst), attr,
      engine());
}

/// `src` viewed through `src_desc` reordered into `desc` (a new tensor of `desc`'s dims).
inline Tensor reorder_view(const Tensor& src, const dnnl::memory::desc& src_desc, const dnnl::memory::desc& desc) {
  const dnnl::memory::dims dims = desc.dims();
  Tensor dst = allocate_like(desc, src.dtype(), Shape(dims.begin(), dims.end()));
  dnnl::memory sm = memory_of(src, src_desc), dm = memory_of(dst, desc);
  dnnl::reorder(sm, dm).execute(stream(), sm, dm);
  stream().wait();
  return dst;
}

/// True if the primitive oneDNN chose is a reference (unoptimised) implementation.
template <typename PD>
bool is_reference_impl(const PD& pd) {
  const std::string impl = pd.impl_info_str();
  return impl.rfind("ref", 0) == 0;
}

}  // namespace hwopt::cpu
