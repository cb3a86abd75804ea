#include "backends/cpu/onednn.h"

#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/quantize_image.h"

namespace hwopt::cpu {

dnnl::engine& engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

bool onednn_supports(DType dtype) {
  switch (dtype) {
    case DType::float32: case DType::float16: case DType::bfloat16: case DType::int8: case DType::uint8:
    case DType::int32: return true;
    default: return false;
  }
}

dnnl::memory::data_type onednn_dtype(DType dtype) {
  using dt = dnnl::memory::data_type;
  switch (dtype) {
    case DType::float32: return dt::f32;
    case DType::float16: return dt::f16;
    case DType::bfloat16: return dt::bf16;
    case DType::int8: return dt::s8;
    case DType::uint8: return dt::u8;
    case DType::int32: return dt::s32;
    default: throw KernelError(fmt::format("oneDNN has no data type for {}", dtype_name(dtype)));
  }
}

dnnl::memory::dims to_dims(const Shape& shape) { return dnnl::memory::dims(shape.begin(), shape.end()); }

namespace {
dnnl::memory::desc plain_desc_dt(const Shape& shape, dnnl::memory::data_type dt) {
  dnnl::memory::dims strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * shape[i + 1];
  return dnnl::memory::desc(to_dims(shape), dt, strides);
}
}  // namespace

dnnl::memory::desc plain_desc(const Shape& shape, DType dtype) { return plain_desc_dt(shape, onednn_dtype(dtype)); }

dnnl::memory::desc tagged_desc(const Shape& shape, DType dtype, dnnl::memory::format_tag tag) {
  return dnnl::memory::desc(to_dims(shape), onednn_dtype(dtype), tag);
}

bool is_plain_desc(const dnnl::memory::desc& desc) {
  auto dims = desc.dims();
  return desc == plain_desc_dt(Shape(dims.begin(), dims.end()), desc.data_type());
}

const ChannelFormat* channel_format_of(const Tensor& t) {
  using tag = dnnl::memory::format_tag;
  static const ChannelFormat kFormats[] = {
      {{tag::aBc16b, tag::aBcd16b, tag::aBcde16b}, 16},
      {{tag::aBc8b, tag::aBcd8b, tag::aBcde8b}, 8},
      {{tag::aBc4b, tag::aBcd4b, tag::aBcde4b}, 4},
      {{tag::acb, tag::acdb, tag::acdeb}, 0},
  };
  if (t.is_plain() || t.rank() < 3 || t.rank() > 5) return nullptr;
  const dnnl::memory::desc d = desc_of(t);
  for (const ChannelFormat& f : kFormats)
    if (dnnl::memory::desc(d.dims(), d.data_type(), f.tags[t.rank() - 3]) == d) return &f;
  return nullptr;
}

void zero_block_lanes(void* data, int64_t batches, size_t batch_bytes, int64_t cblock, int64_t spatial, int64_t block,
                      int64_t lane0, size_t es) {
  if (lane0 >= block) return;
  for (int64_t b = 0; b < batches; ++b) {
    char* first = static_cast<char*>(data) + b * batch_bytes + static_cast<size_t>(cblock * spatial * block) * es;
    for (int64_t p = 0; p < spatial; ++p)
      std::memset(first + static_cast<size_t>(p * block + lane0) * es, 0, static_cast<size_t>(block - lane0) * es);
  }
}

std::string format_name(const dnnl::memory::desc& desc) {
  const auto& d = desc.data;
  if (d.format_kind != dnnl_blocked) return "any";
  const auto& b = d.format_desc.blocking;
  const int ndims = d.ndims;
  // Order the dims by decreasing stride, then append the inner blocks (oneDNN's naming).
  std::vector<int> order(ndims);
  for (int i = 0; i < ndims; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  std::vector<bool> blocked(ndims, false);
  for (int i = 0; i < b.inner_nblks; ++i) blocked[b.inner_idxs[i]] = true;
  const char* lower = "abcdefghijkl";
  const char* upper = "ABCDEFGHIJKL";
  std::string name;
  for (int i : order) name += blocked[i] ? upper[i] : lower[i];
  for (int i = 0; i < b.inner_nblks; ++i) name += std::to_string(b.inner_blks[i]) + lower[b.inner_idxs[i]];
  // Friendly names for the common activation formats.
  if (ndims == 4 && name == "abcd") return "nchw";
  if (ndims == 4 && name == "acdb") return "nhwc";
  if (ndims == 4 && name == "aBcd16b") return "nChw16c";
  if (ndims == 4 && name == "aBcd8b") return "nChw8c";
  return name;
}

std::string OnednnLayout::name() const {
  std::string n = "onednn:" + format_name(desc_);
  switch (desc_.data_type()) {
    case dnnl::memory::data_type::bf16: n += ":bf16"; break;
    case dnnl::memory::data_type::u8: n += fmt::format(":u8*{:g}", scale_); break;
    case dnnl::memory::data_type::s8: n += fmt::format(":s8*{:g}", scale_); break;
    default: break;
  }
  return n;
}

float quant_scale_of(const Tensor& t) {
  if (auto* l = dynamic_cast<const OnednnLayout*>(t.layout().get())) return l->scale();
  return 0.f;
}

dnnl::memory::desc desc_of(const Tensor& t) {
  if (auto* l = dynamic_cast<const OnednnLayout*>(t.layout().get())) return l->desc();
  HWOPT_KCHECK(t.is_plain(), "tensor in layout {} cannot be read by oneDNN", t.layout()->name());
  return plain_desc(t.shape(), t.dtype());
}

dnnl::memory memory_of(const Tensor& t, const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, engine(), const_cast<void*>(t.raw_data()));
}

dnnl::memory memory_of(const Tensor& t) {
  HWOPT_KCHECK(!t.is_plain() || t.is_contiguous(), "memory_of needs a contiguous tensor");
  return memory_of(t, desc_of(t));
}

Tensor allocate_like(const dnnl::memory::desc& desc, DType dtype, const Shape& shape, float scale) {
  // oneDNN primitives write every element (blocked padding included), so no zero-fill.
  // (A rank-0 tensor's desc is oneDNN's empty one, with no data type.)
  if (is_plain_desc(desc) && (desc.data.ndims == 0 || desc.data_type() == onednn_dtype(dtype)))
    return Tensor::uninitialized(dtype, shape);
  auto storage = Storage::allocate(desc.get_size(), false);
  if (!storage) throw std::bad_alloc();
  return Tensor::with_layout(dtype, shape, std::move(storage), std::make_shared<OnednnLayout>(desc, scale));
}

namespace {
// Reorders src (in src_desc) into dst (in dst_desc), multiplying by `factor` when it is not 1.
void reorder_scaled(const Tensor& src, const dnnl::memory::desc& src_desc, const Tensor& dst,
                    const dnnl::memory::desc& dst_desc, float factor) {
  dnnl::memory src_mem = memory_of(src, src_desc);
  dnnl::memory dst_mem = memory_of(dst, dst_desc);
  dnnl::primitive_attr attr;
  if (factor != 1.f) attr.set_output_scales(0, {factor});
  dnnl::reorder(dnnl::reorder::primitive_desc(src_mem, dst_mem, attr)).execute(stream(), src_mem, dst_mem);
  stream().wait();
}
}  // namespace

namespace {
// A plain FP32 batch of 3-channel images going into channels-last INT8 (a first convolution's
// input): quantize_image3 does it in one vectorized pass.
bool is_image3_quantization(const Tensor& src, const dnnl::memory::desc& desc, float scale) {
  using dt = dnnl::memory::data_type;
  return src.is_plain() && src.dtype() == DType::float32 && src.rank() == 4 && src.dim(1) == 3 && scale != 0.f &&
         (desc.data_type() == dt::u8 || desc.data_type() == dt::s8) &&
         desc == dnnl::memory::desc(to_dims(src.shape()), desc.data_type(), dnnl::memory::format_tag::nhwc) &&
         quantize_image3_available();
}
}  // namespace

Tensor convert_to(const Tensor& t, const dnnl::memory::desc& desc, float scale) {
  Tensor src = t.is_plain() ? t.contiguous() : t;
  const dnnl::memory::desc src_desc = desc_of(src);
  const float src_scale = quant_scale_of(src);
  if (src_desc == desc && src_scale == scale) return src;
  Tensor dst = allocate_like(desc, t.dtype(), t.shape(), scale);
  const float factor = (src_scale != 0.f ? src_scale : 1.f) / (scale != 0.f ? scale : 1.f);
  if (is_image3_quantization(src, desc, scale)) {
    quantize_image3(src.data<float>(), src.dim(0), src.dim(2), src.dim(3), factor,
                    desc.data_type() == dnnl::memory::data_type::s8, dst.raw_data());
    return dst;
  }
  reorder_scaled(src, src_desc, dst, desc, factor);
  return dst;
}

Tensor reorder_to(const Tensor& t, const dnnl::memory::desc& desc) { return convert_to(t, desc, 0.f); }

void reorder_into(const Tensor& t, const Tensor& dst, const dnnl::memory::desc& dst_desc, float dst_scale) {
  Tensor src = t.is_plain() ? t.contiguous() : t;
  const float src_scale = quant_scale_of(src);
  reorder_scaled(src, desc_of(src), dst, dst_desc,
                 (src_scale != 0.f ? src_scale : 1.f) / (dst_scale != 0.f ? dst_scale : 1.f));
}

Tensor OnednnLayout::to_plain(const Tensor& t) const {
  Tensor dst = Tensor::uninitialized(t.dtype(), t.shape());
  reorder_scaled(t, desc_, dst, plain_desc(t.shape(), t.dtype()), scale_ != 0.f ? scale_ : 1.f);
  return dst;
}

std::string impl_name(const dnnl::primitive& p) {
  if (!p) return {};
  const char* name = nullptr;
  if (dnnl_primitive_desc_query(p.get_primitive_desc(), dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
    return {};
  return fmt::format("{} {}", dnnl_prim_kind2str(static_cast<dnnl_primitive_kind_t>(p.get_kind())), name);
}

void run_plain(KernelContext& ctx, const KernelFn& fn) {
  std::vector<RtValue> plain(ctx.num_inputs());
  std::vector<const RtValue*> ptrs(ctx.num_inputs(), nullptr);
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const RtValue* v = ctx.input_value(i);
    if (!v) continue;
    plain[i] = *v;
    if (plain[i].is_tensor() && !plain[i].tensor.is_plain()) plain[i].tensor = plain[i].tensor.to_plain();
    ptrs[i] = &plain[i];
  }
  KernelContext inner(ctx.node(), std::move(ptrs), ctx.subgraph_runner());
  fn(inner);
  for (size_t i = 0; i < ctx.num_outputs(); ++i) ctx.set_output_value(i, std::move(inner.outputs()[i]));
  ctx.set_kernel_detail(inner.kernel_detail());
}

std::string shape_key(const KernelContext& ctx) {
  std::string key;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i) || !ctx.input_value(i)->is_tensor()) {
      key += "-;";
      continue;
    }
    const Tensor& t = ctx.input(i);
    key += shape_str(t.shape());
    key += dtype_name(t.dtype());
    if (!t.is_plain()) key += t.layout()->name();
    key += ';';
  }
  // The threads the primitives are created for (oneDNN partitions the work by them): with
  // inter-op parallelism one step may run on all threads or on a share of them.
  key += 't';
  key += std::to_string(omp_in_parallel() ? 1 : omp_get_max_threads());
  return key;
}

}  // namespace hwopt::cpu
