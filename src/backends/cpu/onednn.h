// oneDNN plumbing shared by the CPU backend's kernels: the engine, a stream per thread, memory
// descriptors for plain tensors, the Layout of tensors kept in oneDNN's blocked formats, and
// reorders between the two.
#pragma once

#include <dnnl.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backends/kernel.h"

namespace hwopt::cpu {

dnnl::engine& engine();
/// A stream for the calling thread (oneDNN streams are not thread-safe).
dnnl::stream& stream();

/// oneDNN data type for a dtype; throws KernelError for dtypes oneDNN does not have.
dnnl::memory::data_type onednn_dtype(DType dtype);
bool onednn_supports(DType dtype);
dnnl::memory::dims to_dims(const Shape& shape);
/// Row-major descriptor of a shape (abcd...).
dnnl::memory::desc plain_desc(const Shape& shape, DType dtype);
/// A descriptor with the same dims in a named format (e.g. nhwc) for rank 3..5 tensors.
dnnl::memory::desc tagged_desc(const Shape& shape, DType dtype, dnnl::memory::format_tag tag);

/// The Layout of a tensor stored the way oneDNN wants it rather than as plain row-major in its
/// own dtype: a blocked format (nChw16c), and/or a narrower storage type than the tensor's
/// logical float32 — BF16, or INT8 (u8/s8) where the real value is `scale` × the stored integer
/// (symmetric quantization, zero point 0). Kernels that do not know the layout see a plain
/// float32 copy (to_plain).
class OnednnLayout : public Layout {
 public:
  explicit OnednnLayout(dnnl::memory::desc desc, float scale = 0.f) : desc_(std::move(desc)), scale_(scale) {}
  std::string name() const override;
  size_t bytes() const override { return desc_.get_size(); }
  Tensor to_plain(const Tensor& t) const override;
  const dnnl::memory::desc& desc() const { return desc_; }
  /// The quantization scale of an INT8 storage type; 0 for float storage.
  float scale() const { return scale_; }
  bool quantized() const override { return scale_ != 0.f; }

 private:
  dnnl::memory::desc desc_;
  float scale_ = 0.f;
};

/// The quantization scale of a tensor stored as INT8 (OnednnLayout::scale), 0 otherwise.
float quant_scale_of(const Tensor& t);
/// True if `t` is stored as INT8: kernels that read desc_of(t) directly must not take it as
/// real values (convert_to dequantizes).
inline bool is_quantized(const Tensor& t) { return quant_scale_of(t) != 0.f; }

/// The oneDNN descriptor of a tensor: its layout's if it has one, else plain (it must be
/// contiguous).
dnnl::memory::desc desc_of(const Tensor& t);
/// A dnnl::memory over the tensor's bytes (no copy); the tensor must outlive its use.
dnnl::memory memory_of(const Tensor& t);
dnnl::memory memory_of(const Tensor& t, const dnnl::memory::desc& desc);
/// Allocates a tensor of logical `shape` and dtype laid out as `desc` (a plain tensor if desc is
/// row-major in the same dtype, else an OnednnLayout with `scale` for an INT8 desc).
Tensor allocate_like(const dnnl::memory::desc& desc, DType dtype, const Shape& shape, float scale = 0.f);
/// `t` in layout `desc` (no copy if it already is); an INT8 `t` is dequantized.
Tensor reorder_to(const Tensor& t, const dnnl::memory::desc& desc);
/// `t` converted to layout `desc` with quantization scale `scale` (0 for float descs): the
/// values are rescaled from t's scale (1 for float) and rounded/saturated to desc's type.
Tensor convert_to(const Tensor& t, const dnnl::memory::desc& desc, float scale);
/// Writes `src` into the existing tensor `dst` (laid out as `dst_desc`, quantized with
/// `dst_scale` or float for 0), rescaling from src's scale.
void reorder_into(const Tensor& src, const Tensor& dst, const dnnl::memory::desc& dst_desc, float dst_scale);

/// Channel-axis formats of rank 3..5 tensors whose batches (blocked: nChw16c, nChw8c, nChw4c) or
/// pixels (channels last) are contiguous runs: the blocked data the own kernels read directly.
struct ChannelFormat {
  dnnl::memory::format_tag tags[3];  // for rank 3, 4, 5
  int64_t block;                     // channel block; 0 for channels last
};
/// The ChannelFormat `t`'s layout is in, or nullptr (plain tensors, other formats and ranks).
const ChannelFormat* channel_format_of(const Tensor& t);
/// Zeroes lanes [lane0, block) of channel block `cblock` in every batch of blocked data (a batch
/// is `batch_bytes` long, its channel blocks of `spatial` pixels x `block` lanes one after another,
/// `es` bytes per element): the padding past the last channel, which oneDNN expects zero.
void zero_block_lanes(void* data, int64_t batches, size_t batch_bytes, int64_t cblock, int64_t spatial, int64_t block,
                      int64_t lane0, size_t es);

/// The primitive's kind and the implementation oneDNN picked for it ("convolution
/// jit_1x1:avx512_core", "inner_product brgemm:avx512_core", "eltwise ref:any"), for
/// KernelContext::set_kernel_detail; empty for an empty primitive.
std::string impl_name(const dnnl::primitive& p);

/// A short name of a descriptor's format: "nchw", "nChw16c", "ab", "blocked".
std::string format_name(const dnnl::memory::desc& desc);
/// True if `desc` is the row-major layout of its dims.
bool is_plain_desc(const dnnl::memory::desc& desc);

/// Primitive state keyed by input shapes, created on first use of a shape and shared by all
/// later runs (thread-safe). `Entry` holds the primitive and any pre-reordered weights.
template <typename Entry>
class ShapeCache {
 public:
  template <typename Make>
  std::shared_ptr<const Entry> get(const std::string& key, Make&& make) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = entries_.find(key);
      if (it != entries_.end()) return it->second;
    }
    auto entry = std::make_shared<const Entry>(make());
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.emplace(key, std::move(entry)).first->second;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries_;
};

/// Runs `fn` (e.g. the reference kernel) on plain copies of ctx's inputs and moves its outputs
/// into ctx: the fallback of a layout-aware kernel for cases it cannot handle.
void run_plain(KernelContext& ctx, const KernelFn& fn);

/// Key from the shapes and layouts of a kernel's inputs.
std::string shape_key(const KernelContext& ctx);

}  // namespace hwopt::cpu
