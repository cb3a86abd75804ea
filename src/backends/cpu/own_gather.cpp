// Gather and GatherElements for any element size (1/2/4/8 bytes) with int32/int64 indices.
// Gather copies whole contiguous inner blocks with memcpy (the embedding lookup
// Gather([30522,768], [B,S]) is B*S row copies), parallel over indices; a scalar index into the
// outermost axis is a view. Indices are checked (negative ones count from the back) before any
// copy, so an out-of-range index is a KernelError naming it, as in the reference.
#include <cstring>

#include "backends/cpu/own_util.h"

namespace hwopt::cpu {
namespace {

using own::parallel_range;

bool plain_element_size_ok(const Tensor& t) {
  const size_t e = dtype_size(t.dtype());
  return t.dtype() != DType::string && t.is_plain() && (e == 1 || e == 2 || e == 4 || e == 8);
}

/// Indices as int64 in [0, size); KernelError naming the first out-of-range one.
template <typename I>
std::vector<int64_t> normalized_indices(const I* p, int64_t n, int64_t size, int64_t axis) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  bool bad = false;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = static_cast<int64_t>(p[i]);
    bad |= v < -size || v >= size;
    out[i] = v < 0 ? v + size : v;
  }
  if (bad) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = static_cast<int64_t>(p[i]);
      HWOPT_KCHECK(v >= -size && v < size, "index {} in 'indices' is out of range for axis {} of size {}", v, axis,
                   size);
    }
  }
  return out;
}

std::vector<int64_t> read_indices(const Tensor& indices, int64_t size, int64_t axis) {
  const Tensor c = indices.contiguous();
  if (c.dtype() == DType::int64) return normalized_indices(c.data<int64_t>(), c.numel(), size, axis);
  return normalized_indices(c.data<int32_t>(), c.numel(), size, axis);
}

template <typename T>
void gather_elements_last(const T* src, T* dst, const int64_t* idx, int64_t outer, int64_t size, int64_t n_idx) {
  parallel_range(outer, outer * n_idx, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const T* s = src + o * size;
      T* d = dst + o * n_idx;
      for (int64_t k = 0; k < n_idx; ++k) d[k] = s[idx[k]];
    }
  });
}

void run_gather(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& data_in = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t r = data_in.rank();
  int64_t axis = ctx.attr_int("axis", 0);
  if (!plain_element_size_ok(data_in) || r < 1 || axis < -r || axis >= r ||
      (indices.dtype() != DType::int64 && indices.dtype() != DType::int32))
    return reference(ctx);  // the reference reports the error or handles the dtype
  if (axis < 0) axis += r;
  const Tensor data = data_in.contiguous();
  const int64_t size = data.dim(axis);
  const Shape& ishape = indices.shape();
  Shape out_shape(data.shape().begin(), data.shape().begin() + axis);
  out_shape.insert(out_shape.end(), ishape.begin(), ishape.end());
  out_shape.insert(out_shape.end(), data.shape().begin() + axis + 1, data.shape().end());
  const std::vector<int64_t> idx = read_indices(indices, size, axis);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= data.dim(d);
  for (int64_t d = axis + 1; d < r; ++d) inner *= data.dim(d);
  const int64_t n_idx = static_cast<int64_t>(idx.size());
  if (n_idx == 1 && outer == 1) {
    // One block of the outermost axis: a view, no copy.
    ctx.set_output(0, Tensor(data.dtype(), out_shape, data.storage(), data.offset() + idx[0] * inner));
    return;
  }
  Tensor& out = ctx.allocate_uninitialized_output(0, data.dtype(), out_shape);
  if (out.numel() == 0) return;
  const size_t elem = dtype_size(data.dtype());
  if (inner == 1) {
    switch (elem) {
      case 1:
        gather_elements_last(data.data<uint8_t>(), out.data<uint8_t>(), idx.data(), outer, size, n_idx);
        break;
      case 2:
        gather_elements_last(data.data<uint16_t>(), out.data<uint16_t>(), idx.data(), outer, size, n_idx);
        break;
      case 4:
        gather_elements_last(data.data<uint32_t>(), out.data<uint32_t>(), idx.data(), outer, size, n_idx);
        break;
      default:
        gather_elements_last(data.data<uint64_t>(), out.data<uint64_t>(), idx.data(), outer, size, n_idx);
        break;
    }
    return;
  }
  const char* src = static_cast<const char*>(data.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  const size_t row = static_cast<size_t>(inner) * elem;
  parallel_range(outer * n_idx, outer * n_idx * inner, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t o = i / n_idx, k = i % n_idx;
      std::memcpy(dst + static_cast<size_t>(i) * row, src + static_cast<size_t>(o * size + idx[k]) * row, row);
    }
  });
}

template <typename T>
void gather_elements_typed(const Tensor& data, const Shape& ishape, const std::vector<int64_t>& idx, int64_t axis,
                           Tensor& out) {
  const int64_t r = data.rank();
  const Shape& st = data.strides();
  const int64_t len = ishape[r - 1];
  const int64_t rows = len == 0 ? 0 : static_cast<int64_t>(idx.size()) / len;
  const T* src = data.data<T>();
  T* dst = out.data<T>();
  parallel_range(rows, rows * len, [&](int64_t begin, int64_t end) {
    int64_t pos[own::kMaxDims] = {};
    for (int64_t row = begin; row < end; ++row) {
      int64_t rem = row, base = 0;
      for (int64_t d = r - 2; d >= 0; --d) {
        pos[d] = rem % ishape[d];
        rem /= ishape[d];
        if (d != axis) base += pos[d] * st[d];
      }
      const int64_t* ir = idx.data() + row * len;
      T* d = dst + row * len;
      if (axis == r - 1) {
        const T* s = src + base;
        for (int64_t j = 0; j < len; ++j) d[j] = s[ir[j]];
      } else {
        const T* s = src + base;
        const int64_t sa = st[axis];
        for (int64_t j = 0; j < len; ++j) d[j] = s[ir[j] * sa + j];
      }
    }
  });
}

void run_gather_elements(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& data_in = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t r = data_in.rank();
  const Shape& ishape = indices.shape();
  int64_t axis = ctx.attr_int("axis", 0);
  bool ok = plain_element_size_ok(data_in) && r >= 1 && r <= own::kMaxDims && axis >= -r && axis < r &&
            static_cast<int64_t>(ishape.size()) == r &&
            (indices.dtype() == DType::int64 || indices.dtype() == DType::int32);
  if (ok) {
    if (axis < 0) axis += r;
    for (int64_t d = 0; d < r; ++d) ok = ok && (d == axis || ishape[d] <= data_in.dim(d));
  }
  if (!ok) return reference(ctx);  // the reference reports the error or handles the dtype
  const Tensor data = data_in.contiguous();
  const std::vector<int64_t> idx = read_indices(indices, data.dim(axis), axis);
  Tensor& out = ctx.allocate_uninitialized_output(0, data.dtype(), ishape);
  if (out.numel() == 0) return;
  switch (dtype_size(data.dtype())) {
    case 1:
      gather_elements_typed<uint8_t>(data, ishape, idx, axis, out);
      break;
    case 2:
      gather_elements_typed<uint16_t>(data, ishape, idx, axis, out);
      break;
    case 4:
      gather_elements_typed<uint32_t>(data, ishape, idx, axis, out);
      break;
    default:
      gather_elements_typed<uint64_t>(data, ishape, idx, axis, out);
      break;
  }
}

std::string check_gather(const NodeContext& nc) {
  if (nc.input_dtype(0) == DType::string) return "string tensors are not copied by this kernel";
  const DType it = nc.input_dtype(1);
  if (it != DType::undefined && it != DType::int32 && it != DType::int64)
    return fmt::format("indices of dtype {} (int32/int64 only)", dtype_name(it));
  return "";
}

KernelFn make_gather(const NodeContext&, KernelFn reference) {
  return [reference](KernelContext& ctx) { run_gather(ctx, reference); };
}

KernelFn make_gather_elements(const NodeContext&, KernelFn reference) {
  return [reference](KernelContext& ctx) { run_gather_elements(ctx, reference); };
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(own::make_candidate("own:gather", "Gather", own::kOwnPriority, check_gather, make_gather));
HWOPT_REGISTER_CANDIDATE(own::make_candidate("own:gather_elements", "GatherElements", own::kOwnPriority, check_gather,
                                             make_gather_elements));

}  // namespace hwopt::cpu
