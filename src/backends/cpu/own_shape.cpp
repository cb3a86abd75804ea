// Shape and data-movement ops on plain tensors:
// - Reshape, Flatten, Squeeze, Unsqueeze: zero-copy views (what the reference kernels already
//   do; listed so that the plan names a CPU implementation). Their inputs are made plain first.
// - Identity, Dropout (inference), Shape, Size: accept backend layouts, so a blocked oneDNN
//   tensor passes through (or has its shape read) without a reorder to plain.
// - Slice: a view when the result is one contiguous block of the input, else a strided copy
//   with memcpy of contiguous inner runs, parallel over rows.
// - Concat (after the oneDNN concat candidate) and Split: memcpy of row blocks; Split of the
//   outermost non-trivial axis gives views.
#include <cstring>

#include "backends/cpu/onednn.h"
#include "backends/cpu/own_util.h"
#include "backends/reference/util.h"

namespace hwopt::cpu {
namespace {

using own::parallel_range;

using RunFn = void (*)(KernelContext&, const KernelFn&);

template <RunFn run>
KernelFn make_kernel(const NodeContext&, KernelFn reference) {
  return [reference](KernelContext& ctx) { run(ctx, reference); };
}

bool copyable(const Tensor& t) {
  const size_t e = dtype_size(t.dtype());
  return t.dtype() != DType::string && t.is_plain() && (e == 1 || e == 2 || e == 4 || e == 8) &&
         t.rank() <= own::kMaxDims;
}

// ---------------------------------------------------------------------------------------------
// Views and metadata. Each kernel computes the happy path itself and hands anything invalid to
// the reference, which reports it with its own message.

/// `x` (made contiguous if it is not) viewed with `shape`.
Tensor view_as(const Tensor& x, const Shape& shape) { return x.reshape(shape); }

/// Axes of Squeeze/Unsqueeze: attribute before opset 13, optional int input from 13.
bool read_axes(KernelContext& ctx, std::vector<int64_t>& axes, bool& given) {
  if (ctx.opset() < 13) {
    given = ctx.has_attr("axes");
    axes = ctx.attr_ints("axes");
    return true;
  }
  given = ctx.has_input(1);
  if (!given) return true;
  const Tensor& a = ctx.input(1);
  if (a.rank() > 1 || (a.dtype() != DType::int64 && a.dtype() != DType::int32)) return false;
  axes = reference::to_int64_vector(a);
  return true;
}

void run_reshape(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> req;
  if (ctx.opset() < 5) {
    if (!ctx.has_attr("shape")) return reference(ctx);
    req = ctx.attr_ints("shape");
  } else {
    const Tensor& s = ctx.input(1);
    if (s.rank() != 1 || (s.dtype() != DType::int64 && s.dtype() != DType::int32)) return reference(ctx);
    req = reference::to_int64_vector(s);
  }
  const bool allowzero = ctx.opset() >= 14 && ctx.attr_int("allowzero", 0) != 0;
  Shape out(req.size());
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < req.size(); ++i) {
    int64_t d = req[i];
    if (d == -1 && infer_at < 0) {
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    if (d < 0 || (d == 0 && allowzero && infer_at >= 0)) return reference(ctx);
    if (d == 0 && !allowzero) {
      if (static_cast<int64_t>(i) >= x.rank()) return reference(ctx);
      d = x.dim(static_cast<int64_t>(i));
    }
    if (d != 0 && known > INT64_MAX / d) return reference(ctx);
    out[i] = d;
    known *= d;
  }
  if (infer_at >= 0) {
    if (known == 0 || x.numel() % known != 0) return reference(ctx);
    for (int64_t d : req)
      if (allowzero && d == 0) return reference(ctx);
    out[infer_at] = x.numel() / known;
  }
  if (shape_numel(out) != x.numel()) return reference(ctx);
  ctx.set_output(0, view_as(x, out));
}

void run_flatten(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < -r || axis > r) return reference(ctx);
  if (axis < 0) axis += r;
  ctx.set_output(
      0, view_as(x, {reference::dims_product(x.shape(), 0, axis), reference::dims_product(x.shape(), axis, r)}));
}

void run_squeeze(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  std::vector<int64_t> axes;
  bool given = false;
  if (!read_axes(ctx, axes, given)) return reference(ctx);
  std::vector<bool> drop(static_cast<size_t>(r), false);
  if (!given) {
    for (int64_t i = 0; i < r; ++i) drop[i] = x.dim(i) == 1;
  } else {
    for (int64_t a : axes) {
      if (a < -r || a >= r) return reference(ctx);
      const int64_t n = a < 0 ? a + r : a;
      if (drop[n] || x.dim(n) != 1) return reference(ctx);
      drop[n] = true;
    }
  }
  Shape out;
  for (int64_t i = 0; i < r; ++i)
    if (!drop[i]) out.push_back(x.dim(i));
  ctx.set_output(0, view_as(x, out));
}

void run_unsqueeze(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> axes;
  bool given = false;
  if (!read_axes(ctx, axes, given) || !given) return reference(ctx);
  const int64_t out_rank = x.rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) {
    if (a < -out_rank || a >= out_rank) return reference(ctx);
    const int64_t n = a < 0 ? a + out_rank : a;
    if (inserted[n]) return reference(ctx);
    inserted[n] = true;
  }
  Shape out;
  int64_t src = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : x.dim(src++));
  ctx.set_output(0, view_as(x, out));
}

// The kernels below accept backend layouts: they forward a blocked tensor or read its logical
// shape, so no reorder to plain happens for them.

void run_identity(KernelContext& ctx, const KernelFn& reference) {
  const RtValue* v = ctx.input_value(0);
  if (!v) return reference(ctx);
  ctx.set_output_value(0, *v);
}

void run_shape(KernelContext& ctx, const KernelFn&) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  int64_t start = 0, end = r;
  if (ctx.opset() >= 15) {
    start = ctx.attr_int("start", 0);
    end = ctx.attr_int("end", r);
  }
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  const int64_t n = std::max<int64_t>(end - start, 0);
  Tensor out(DType::int64, {n});
  for (int64_t i = 0; i < n; ++i) out.data<int64_t>()[i] = x.dim(start + i);
  ctx.set_output(0, std::move(out));
}

void run_size(KernelContext& ctx, const KernelFn&) { ctx.set_output(0, Tensor::scalar<int64_t>(ctx.input(0).numel())); }

// Dropout in inference forwards X (any layout) with an all-true mask; with a training_mode input
// the reference draws the mask from the plain values.
void run_dropout(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& x = ctx.input(0);
  double ratio = ctx.attr_float("ratio", 0.5f);
  bool training = false;
  if (ctx.opset() >= 12) {
    if (ctx.has_input(1)) {
      const Tensor& r = ctx.input(1);
      if (r.numel() != 1 || !dtype_is_float(r.dtype()) || !r.is_plain()) return run_plain(ctx, reference);
      ratio = reference::to_double_vector(r)[0];
    }
    if (ctx.has_input(2)) {
      const Tensor& t = ctx.input(2);
      if (t.numel() != 1 || t.dtype() != DType::boolean || !t.is_plain()) return run_plain(ctx, reference);
      training = t.contiguous().data<bool>()[0];
    }
  }
  // Opsets before 10 have a float mask; errors and training are the reference's.
  if (!dtype_is_float(x.dtype()) || ctx.opset() < 10 || !(ratio >= 0.0 && ratio < 1.0) || (training && ratio != 0.0))
    return run_plain(ctx, reference);
  ctx.set_output(0, x);
  if (ctx.num_outputs() > 1 && ctx.wants_output(1)) {
    Tensor mask = Tensor::uninitialized(DType::boolean, x.shape());
    std::memset(mask.raw_data(), 1, static_cast<size_t>(mask.numel()));
    ctx.set_output(1, std::move(mask));
  }
}

std::string check_dropout(const NodeContext& nc) {
  if (nc.node.opset >= 12 && nc.has_input(2)) {
    const Tensor* t = nc.constant_input(2);
    if (t && t->dtype() == DType::boolean && t->numel() == 1 && t->contiguous().data<bool>()[0])
      return "training_mode is true (random mask)";
  }
  return "";
}

std::string accept_any(const NodeContext&) { return ""; }

Candidate layout_candidate(const char* name, const char* op, std::function<std::string(const NodeContext&)> check,
                           std::function<KernelFn(const NodeContext&, KernelFn)> make) {
  Candidate c = own::make_candidate(name, op, own::kOwnPriority, std::move(check), std::move(make));
  c.accepts_layouts = true;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Strided copies shared by Slice and Split

/// Copies a strided view of `src` (element strides, any sign) into contiguous `dst`: dims of
/// size 1 are dropped and dims that are contiguous with their inner neighbour are merged first.
void strided_copy(const char* src, char* dst, Shape dims, Shape strides, size_t elem) {
  Shape d2, s2;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!d2.empty() && s2.back() == strides[i] * dims[i]) {
      d2.back() *= dims[i];
      s2.back() = strides[i];
    } else {
      d2.push_back(dims[i]);
      s2.push_back(strides[i]);
    }
  }
  if (d2.empty()) {
    std::memcpy(dst, src, elem);
    return;
  }
  const int64_t r = static_cast<int64_t>(d2.size());
  const int64_t inner = d2[r - 1], inner_stride = s2[r - 1];
  int64_t rows = 1;
  for (int64_t i = 0; i < r - 1; ++i) rows *= d2[i];
  parallel_range(rows, rows * inner, [&](int64_t begin, int64_t end) {
    int64_t idx[own::kMaxDims] = {};
    int64_t off = 0, rem = begin;
    for (int64_t k = r - 2; k >= 0; --k) {
      idx[k] = rem % d2[k];
      rem /= d2[k];
      off += idx[k] * s2[k];
    }
    for (int64_t row = begin; row < end; ++row) {
      char* d = dst + static_cast<size_t>(row * inner) * elem;
      const char* s = src + off * static_cast<int64_t>(elem);
      if (inner_stride == 1) {
        std::memcpy(d, s, static_cast<size_t>(inner) * elem);
      } else {
        const int64_t step = inner_stride * static_cast<int64_t>(elem);
        switch (elem) {
          case 1:
            for (int64_t j = 0; j < inner; ++j) d[j] = s[j * step];
            break;
          case 2:
            for (int64_t j = 0; j < inner; ++j) std::memcpy(d + 2 * j, s + j * step, 2);
            break;
          case 4:
            for (int64_t j = 0; j < inner; ++j) std::memcpy(d + 4 * j, s + j * step, 4);
            break;
          default:
            for (int64_t j = 0; j < inner; ++j) std::memcpy(d + 8 * j, s + j * step, 8);
            break;
        }
      }
      for (int64_t k = r - 2; k >= 0; --k) {
        off += s2[k];
        if (++idx[k] < d2[k]) break;
        off -= s2[k] * idx[k];
        idx[k] = 0;
      }
    }
  });
}

/// True if the view (dims, element strides) covers one contiguous block in row-major order.
bool is_contiguous_view(const Shape& dims, const Shape& strides) {
  int64_t expected = 1;
  for (int64_t i = static_cast<int64_t>(dims.size()) - 1; i >= 0; --i) {
    if (dims[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= dims[i];
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Slice

/// Per-axis first index, step and count, as the reference computes them; false where the
/// reference would report an error (it runs then and names the problem).
bool slice_params(KernelContext& ctx, const Tensor& x, Shape& out_shape, std::vector<int64_t>& first,
                  std::vector<int64_t>& step) {
  const int64_t r = x.rank();
  std::vector<int64_t> starts, ends, axes, steps;
  bool have_axes = false, have_steps = false;
  auto int_input = [&](size_t i) {
    const DType dt = ctx.input(i).dtype();
    return dt == DType::int32 || dt == DType::int64;
  };
  if (ctx.opset() < 10) {
    if (!ctx.has_attr("starts") || !ctx.has_attr("ends")) return false;
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    have_axes = ctx.has_attr("axes");
    axes = ctx.attr_ints("axes");
  } else {
    if (!ctx.has_input(1) || !ctx.has_input(2) || !int_input(1) || !int_input(2)) return false;
    if (ctx.input(1).rank() != 1 || ctx.input(2).rank() != 1) return false;
    starts = reference::to_int64_vector(ctx.input(1));
    ends = reference::to_int64_vector(ctx.input(2));
    if (ctx.has_input(3)) {
      if (!int_input(3)) return false;
      have_axes = true;
      axes = reference::to_int64_vector(ctx.input(3));
    }
    if (ctx.has_input(4)) {
      if (!int_input(4)) return false;
      have_steps = true;
      steps = reference::to_int64_vector(ctx.input(4));
    }
  }
  const size_t n = starts.size();
  if (ends.size() != n) return false;
  if (!have_axes)
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
  if (!have_steps) steps.assign(n, 1);
  if (axes.size() != n || steps.size() != n) return false;
  out_shape = x.shape();
  first.assign(static_cast<size_t>(r), 0);
  step.assign(static_cast<size_t>(r), 1);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (size_t i = 0; i < n; ++i) {
    if (axes[i] < -r || axes[i] >= r) return false;
    const int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    if (seen[a]) return false;
    seen[a] = true;
    const int64_t s = steps[i];
    if (s == 0) return false;
    const int64_t dim = x.dim(a);
    int64_t b = starts[i], e = ends[i];
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    int64_t count = 0;
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      if (e > b) count = (e - b - 1) / s + 1;
    } else if (dim > 0) {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      const int64_t ns = s == INT64_MIN ? INT64_MAX : -s;
      if (b > e) count = (b - e - 1) / ns + 1;
    }
    out_shape[a] = count;
    first[a] = b;
    step[a] = s;
  }
  return true;
}

void run_slice(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& in = ctx.input(0);
  if (!copyable(in)) return reference(ctx);
  const Tensor x = in.contiguous();
  Shape out_shape;
  std::vector<int64_t> first, step;
  if (!slice_params(ctx, x, out_shape, first, step)) return reference(ctx);
  const int64_t r = x.rank();
  if (shape_numel(out_shape) == 0) {
    ctx.set_output(0, Tensor(x.dtype(), out_shape));
    return;
  }
  int64_t base = 0;
  Shape strides(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    base += first[d] * x.strides()[d];
    strides[d] = x.strides()[d] * step[d];
  }
  if (is_contiguous_view(out_shape, strides)) {
    ctx.set_output(0, Tensor(x.dtype(), out_shape, x.storage(), x.offset() + base));
    return;
  }
  Tensor& out = ctx.allocate_uninitialized_output(0, x.dtype(), out_shape);
  const size_t elem = dtype_size(x.dtype());
  strided_copy(static_cast<const char*>(x.raw_data()) + base * static_cast<int64_t>(elem),
               static_cast<char*>(out.raw_data()), out_shape, strides, elem);
}

std::string check_copyable(const NodeContext& nc) {
  if (nc.input_dtype(0) == DType::string) return "string tensors are not copied by this kernel";
  return "";
}

// ---------------------------------------------------------------------------------------------
// Concat

void run_concat(KernelContext& ctx, const KernelFn& reference) {
  const size_t n = ctx.num_inputs();
  if (n < 1) return reference(ctx);
  std::vector<Tensor> xs;
  for (size_t i = 0; i < n; ++i) {
    if (!ctx.has_input(i)) return reference(ctx);
    const Tensor& t = ctx.input(i);
    if (!copyable(t)) return reference(ctx);
    xs.push_back(t.contiguous());
  }
  const Tensor& f = xs[0];
  const int64_t r = f.rank();
  if (r < 1 || (ctx.opset() >= 4 && !ctx.has_attr("axis"))) return reference(ctx);
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < -r || axis >= r) return reference(ctx);
  if (axis < 0) axis += r;
  Shape out_shape = f.shape();
  out_shape[axis] = 0;
  for (const Tensor& x : xs) {
    if (x.dtype() != f.dtype() || x.rank() != r) return reference(ctx);
    for (int64_t d = 0; d < r; ++d)
      if (d != axis && x.dim(d) != f.dim(d)) return reference(ctx);
    out_shape[axis] += x.dim(axis);
  }
  if (n == 1) {
    ctx.set_output(0, f);  // one input: the output is that input
    return;
  }
  Tensor& out = ctx.allocate_uninitialized_output(0, f.dtype(), out_shape);
  const int64_t total = shape_numel(out_shape);
  if (total == 0) return;
  const size_t elem = dtype_size(f.dtype());
  const int64_t outer = reference::dims_product(out_shape, 0, axis);
  const int64_t inner = reference::dims_product(out_shape, axis + 1, r);
  const size_t out_row = static_cast<size_t>(out_shape[axis] * inner) * elem;
  std::vector<size_t> row_bytes(n), col(n);
  size_t c = 0;
  for (size_t i = 0; i < n; ++i) {
    row_bytes[i] = static_cast<size_t>(xs[i].dim(axis) * inner) * elem;
    col[i] = c;
    c += row_bytes[i];
  }
  char* dst = static_cast<char*>(out.raw_data());
  const int64_t tasks = outer * static_cast<int64_t>(n);
  parallel_range(tasks, total, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t o = t / static_cast<int64_t>(n);
      const size_t i = static_cast<size_t>(t % static_cast<int64_t>(n));
      if (row_bytes[i] == 0) continue;
      std::memcpy(dst + static_cast<size_t>(o) * out_row + col[i],
                  static_cast<const char*>(xs[i].raw_data()) + static_cast<size_t>(o) * row_bytes[i], row_bytes[i]);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Split

/// Split sizes as the reference computes them; false where the reference would report an error.
bool split_sizes(KernelContext& ctx, int64_t dim, std::vector<int64_t>& split) {
  const int64_t n_out = static_cast<int64_t>(ctx.num_outputs());
  if (n_out < 1) return false;
  bool have_split = false;
  if ((ctx.opset() >= 13 || ctx.opset() < 2) && ctx.has_input(1)) {
    const DType dt = ctx.input(1).dtype();
    if (dt != DType::int32 && dt != DType::int64) return false;
    split = reference::to_int64_vector(ctx.input(1));
    have_split = true;
  } else if (ctx.opset() < 13 && ctx.has_attr("split")) {
    split = ctx.attr_ints("split");
    have_split = true;
  }
  if (have_split) {
    if (ctx.opset() >= 18 && ctx.has_attr("num_outputs")) return false;
    if (static_cast<int64_t>(split.size()) != n_out) return false;
    int64_t sum = 0;
    for (int64_t s : split) {
      if (s < 0) return false;
      sum += s;
    }
    return sum == dim;
  }
  if (ctx.opset() >= 18 && ctx.has_attr("num_outputs")) {
    const int64_t k = ctx.attr_int("num_outputs", 0);
    if (k != n_out) return false;
    const int64_t chunk = (dim + k - 1) / k;
    split.assign(static_cast<size_t>(k), chunk);
    split.back() = dim - chunk * (k - 1);
    return split.back() >= 0;
  }
  if (dim % n_out != 0) return false;
  split.assign(static_cast<size_t>(n_out), dim / n_out);
  return true;
}

void run_split(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& in = ctx.input(0);
  const int64_t r = in.rank();
  int64_t axis = ctx.attr_int("axis", 0);
  if (!copyable(in) || r < 1 || axis < -r || axis >= r) return reference(ctx);
  if (axis < 0) axis += r;
  const Tensor x = in.contiguous();
  const int64_t dim = x.dim(axis);
  std::vector<int64_t> split;
  if (!split_sizes(ctx, dim, split)) return reference(ctx);
  const int64_t outer = reference::dims_product(x.shape(), 0, axis);
  const int64_t inner = reference::dims_product(x.shape(), axis + 1, r);
  const size_t elem = dtype_size(x.dtype());
  int64_t begin = 0;
  for (size_t k = 0; k < split.size(); ++k) {
    const int64_t len = split[k];
    if (ctx.wants_output(k)) {
      Shape shape = x.shape();
      shape[axis] = len;
      if (outer == 1 && len > 0) {
        ctx.set_output(k, Tensor(x.dtype(), shape, x.storage(), x.offset() + begin * inner));
      } else if (outer * len * inner == 0) {
        ctx.set_output(k, Tensor(x.dtype(), shape));
      } else {
        Tensor& out = ctx.allocate_uninitialized_output(k, x.dtype(), shape);
        const char* src = static_cast<const char*>(x.raw_data()) + static_cast<size_t>(begin * inner) * elem;
        strided_copy(src, static_cast<char*>(out.raw_data()), {outer, len * inner}, {dim * inner, 1}, elem);
      }
    }
    begin += len;
  }
}

using own::make_candidate;

}  // namespace

HWOPT_REGISTER_CANDIDATE(make_candidate("own:reshape", "Reshape", own::kOwnPriority, accept_any,
                                        make_kernel<run_reshape>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:reshape", "Flatten", own::kOwnPriority, accept_any,
                                        make_kernel<run_flatten>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:reshape", "Squeeze", own::kOwnPriority, accept_any,
                                        make_kernel<run_squeeze>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:reshape", "Unsqueeze", own::kOwnPriority, accept_any,
                                        make_kernel<run_unsqueeze>));
HWOPT_REGISTER_CANDIDATE(layout_candidate("own:identity", "Identity", accept_any, make_kernel<run_identity>));
HWOPT_REGISTER_CANDIDATE(layout_candidate("own:dropout", "Dropout", check_dropout, make_kernel<run_dropout>));
HWOPT_REGISTER_CANDIDATE(layout_candidate("own:shape", "Shape", accept_any, make_kernel<run_shape>));
HWOPT_REGISTER_CANDIDATE(layout_candidate("own:shape", "Size", accept_any, make_kernel<run_size>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:slice", "Slice", own::kOwnPriority, check_copyable,
                                        make_kernel<run_slice>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:concat", "Concat", own::kOwnFallbackPriority, check_copyable,
                                        make_kernel<run_concat>));
HWOPT_REGISTER_CANDIDATE(make_candidate("own:split", "Split", own::kOwnPriority, check_copyable,
                                        make_kernel<run_split>));

}  // namespace hwopt::cpu
