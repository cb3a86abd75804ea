#include "backends/reference/util.h"

#include "core/int_values.h"

namespace hwopt::reference {

Shape broadcast_shape(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    HWOPT_KCHECK(da == db || da == 1 || db == 1, "shapes {} and {} cannot be broadcast together",
                 shape_str(a), shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> broadcast_offsets(const Shape& in, const Shape& out) {
  const size_t r = out.size();
  HWOPT_KCHECK(in.size() <= r, "shape {} cannot broadcast to {}", shape_str(in), shape_str(out));
  std::vector<int64_t> in_strides(r, 0);
  int64_t stride = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    size_t i = in.size() - 1 - k;
    size_t o = r - 1 - k;
    HWOPT_KCHECK(in[i] == out[o] || in[i] == 1, "shape {} cannot broadcast to {}", shape_str(in), shape_str(out));
    in_strides[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  int64_t n = shape_numel(out);
  std::vector<int64_t> offsets(static_cast<size_t>(n));
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (int64_t e = 0; e < n; ++e) {
    offsets[e] = off;
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      off += in_strides[d];
      if (idx[d] < out[d]) break;
      off -= in_strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return offsets;
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  HWOPT_KCHECK(a >= 0 && a < std::max<int64_t>(rank, 1), "axis {} is out of range for rank {}", axis, rank);
  return a;
}

std::vector<int64_t> to_int64_vector(const Tensor& t) {
  auto v = int64_values(t);
  HWOPT_KCHECK(v.has_value(), "expected an int32 or int64 tensor, got {}", dtype_name(t.dtype()));
  return *v;
}

std::vector<double> to_double_vector(const Tensor& t) {
  HWOPT_KCHECK(t.dtype() != DType::string, "expected a numeric tensor, got string");
  std::vector<double> v(static_cast<size_t>(t.numel()));
  Tensor c = t.contiguous();
  visit_numeric_bool(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c.data<T>();
    for (int64_t i = 0; i < c.numel(); ++i) v[i] = static_cast<double>(static_cast<std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>>(p[i]));
  });
  return v;
}

Tensor legacy_broadcast_b(const KernelContext& ctx, const Tensor& a, const Tensor& b) {
  if (ctx.opset() >= 7) return b;
  if (ctx.attr_int("broadcast", 0) == 0) {
    HWOPT_KCHECK(a.shape() == b.shape(), "{}: input shapes {} and {} differ and attribute 'broadcast' is 0",
                 ctx.node().op_type, shape_str(a.shape()), shape_str(b.shape()));
    return b;
  }
  const int64_t ra = a.rank(), rb = b.rank();
  const int64_t axis = ctx.has_attr("axis") ? ctx.attr_int("axis", 0) : ra - rb;
  HWOPT_KCHECK(rb <= ra && axis >= 0 && axis + rb <= ra,
               "{}: attribute 'axis' = {} cannot align B shape {} inside A shape {}", ctx.node().op_type, axis,
               shape_str(b.shape()), shape_str(a.shape()));
  Shape s = b.shape();
  s.resize(static_cast<size_t>(ra - axis), 1);
  return b.contiguous().reshape(s);
}

int64_t dims_product(const Shape& s, int64_t begin, int64_t end) {
  int64_t p = 1;
  for (int64_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

}  // namespace hwopt::reference
