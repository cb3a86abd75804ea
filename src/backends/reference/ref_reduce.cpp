// Reduce* ops: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare (axes attribute or input).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

enum class ReduceKind { sum, mean, max, min, prod, l1, l2, log_sum, log_sum_exp, sum_square };


template <typename T>
double to_f64(T v) {
  if constexpr (is_half_like<T>) {
    return static_cast<double>(static_cast<float>(v));
  } else {
    return static_cast<double>(v);
  }
}

// double -> integer T: NaN gives 0, out-of-range values saturate, the rest truncate toward zero.
template <typename T>
T int_from_double(double d) {
  if (std::isnan(d)) return T(0);
  if (d <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (d >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(d);
}

// Reduction of floating-point values (all float dtypes are computed in double).
double reduce_float(ReduceKind kind, const std::vector<double>& v) {
  const double n = static_cast<double>(v.size());
  switch (kind) {
    case ReduceKind::sum: {
      double s = 0;
      for (double x : v) s += x;
      return s;
    }
    case ReduceKind::mean: {
      double s = 0;
      for (double x : v) s += x;
      return v.empty() ? std::numeric_limits<double>::quiet_NaN() : s / n;
    }
    case ReduceKind::max: {
      double m = -std::numeric_limits<double>::infinity();
      for (double x : v)
        if (std::isnan(x) || x > m) m = x;
      return m;
    }
    case ReduceKind::min: {
      double m = std::numeric_limits<double>::infinity();
      for (double x : v)
        if (std::isnan(x) || x < m) m = x;
      return m;
    }
    case ReduceKind::prod: {
      double p = 1;
      for (double x : v) p *= x;
      return p;
    }
    case ReduceKind::l1: {
      double s = 0;
      for (double x : v) s += std::fabs(x);
      return s;
    }
    case ReduceKind::l2: {
      double s = 0;
      for (double x : v) s += x * x;
      return std::sqrt(s);
    }
    case ReduceKind::log_sum: {
      double s = 0;
      for (double x : v) s += x;
      return std::log(s);
    }
    case ReduceKind::log_sum_exp: {
      if (v.empty()) return -std::numeric_limits<double>::infinity();
      double m = -std::numeric_limits<double>::infinity();
      for (double x : v)
        if (std::isnan(x) || x > m) m = x;
      if (std::isnan(m) || std::isinf(m)) return m;  // NaN, or every input -inf / some input +inf
      double s = 0;
      for (double x : v) s += std::exp(x - m);
      return m + std::log(s);
    }
    case ReduceKind::sum_square: {
      double s = 0;
      for (double x : v) s += x * x;
      return s;
    }
  }
  return 0;
}

// Reduction of integer values. Sums and products wrap around like same-typed integer arithmetic;
// L2, LogSum and LogSumExp go through double and truncate back.
template <typename T>
T reduce_int(ReduceKind kind, const std::vector<T>& v) {
  using W = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
  auto u = [](T x) { return static_cast<uint64_t>(static_cast<W>(x)); };  // modular view
  auto back = [](uint64_t x) { return static_cast<T>(static_cast<W>(x)); };
  switch (kind) {
    case ReduceKind::sum: {
      uint64_t s = 0;
      for (T x : v) s += u(x);
      return back(s);
    }
    case ReduceKind::mean: {
      if (v.empty()) return T(0);
      uint64_t s = 0;
      for (T x : v) s += u(x);
      return static_cast<T>(static_cast<W>(s) / static_cast<W>(v.size()));
    }
    case ReduceKind::max: {
      T m = std::numeric_limits<T>::lowest();
      for (T x : v) m = std::max(m, x);
      return m;
    }
    case ReduceKind::min: {
      T m = std::numeric_limits<T>::max();
      for (T x : v) m = std::min(m, x);
      return m;
    }
    case ReduceKind::prod: {
      uint64_t p = 1;
      for (T x : v) p *= u(x);
      return back(p);
    }
    case ReduceKind::l1: {
      uint64_t s = 0;
      for (T x : v) s += (static_cast<W>(x) < 0) ? (0 - u(x)) : u(x);
      return back(s);
    }
    case ReduceKind::sum_square: {
      uint64_t s = 0;
      for (T x : v) s += u(x) * u(x);
      return back(s);
    }
    case ReduceKind::l2:
    case ReduceKind::log_sum:
    case ReduceKind::log_sum_exp: {
      std::vector<double> d(v.size());
      for (size_t i = 0; i < v.size(); ++i) d[i] = static_cast<double>(v[i]);
      return int_from_double<T>(reduce_float(kind, d));
    }
  }
  return T(0);
}

// Offsets (in a contiguous tensor of `shape`) of every index combination over the dims where
// `mask` is set, the other dims held at 0; row-major order over the masked dims.
std::vector<int64_t> masked_offsets(const Shape& shape, const std::vector<bool>& mask) {
  const size_t r = shape.size();
  Shape strides(r, 1);
  for (size_t d = r; d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  std::vector<int64_t> offs{0};
  for (size_t d = 0; d < r; ++d) {
    if (!mask[d]) continue;
    std::vector<int64_t> next;
    next.reserve(offs.size() * static_cast<size_t>(shape[d]));
    for (int64_t base : offs)
      for (int64_t i = 0; i < shape[d]; ++i) next.push_back(base + i * strides[d]);
    offs = std::move(next);
  }
  return offs;
}

bool reduce_uses_axes_input(const std::string& op, int opset) { return op == "ReduceSum" ? opset >= 13 : opset >= 18; }

void run_reduce(KernelContext& ctx, ReduceKind kind) {
  const std::string& op = ctx.node().op_type;
  const Tensor x = ctx.input(0).contiguous();
  const int64_t rank = x.rank();
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;

  std::vector<int64_t> axes;
  bool noop_with_empty_axes = false;
  if (reduce_uses_axes_input(op, ctx.opset())) {
    HWOPT_KCHECK(!ctx.has_attr("axes"), "{} takes axes as an input from opset {}, not as an attribute", op,
                 op == "ReduceSum" ? 13 : 18);
    if (ctx.has_input(1)) {
      const Tensor& a = ctx.input(1);
      HWOPT_KCHECK(a.rank() <= 1, "input 'axes' must be 1-D, got shape {}", shape_str(a.shape()));
      HWOPT_KCHECK(a.dtype() == DType::int64 || a.dtype() == DType::int32,
                   "input 'axes' must be int64 (or int32), got {}", dtype_name(a.dtype()));
      axes = to_int64_vector(a);
    }
    noop_with_empty_axes = ctx.attr_int("noop_with_empty_axes", 0) != 0;
  } else {
    HWOPT_KCHECK(!ctx.has_input(1), "{} takes axes as an attribute before opset {}, not as an input", op,
                 op == "ReduceSum" ? 13 : 18);
    axes = ctx.attr_ints("axes", {});
  }

  if (axes.empty() && noop_with_empty_axes) {
    ctx.set_output(0, x);
    return;
  }

  std::vector<bool> reduced(static_cast<size_t>(rank), axes.empty());
  for (int64_t a : axes) {
    HWOPT_KCHECK(a >= -rank && a < rank, "axes value {} is out of range for input rank {}", a, rank);
    int64_t n = a < 0 ? a + rank : a;
    HWOPT_KCHECK(!reduced[n], "axes contains axis {} more than once", n);
    reduced[n] = true;
  }

  Shape out_shape;
  std::vector<bool> kept(static_cast<size_t>(rank));
  for (int64_t d = 0; d < rank; ++d) {
    kept[d] = !reduced[d];
    if (!reduced[d]) {
      out_shape.push_back(x.dim(d));
    } else if (keepdims) {
      out_shape.push_back(1);
    }
  }
  const std::vector<int64_t> out_offs = masked_offsets(x.shape(), kept);
  const std::vector<int64_t> red_offs = masked_offsets(x.shape(), reduced);

  const DType dt = x.dtype();
  if (dt == DType::boolean) {
    HWOPT_KCHECK(kind == ReduceKind::max || kind == ReduceKind::min, "{} does not support bool input", op);
    HWOPT_KCHECK(ctx.opset() >= 20, "{} supports bool input from opset 20 (model opset is {})", op, ctx.opset());
    Tensor& y = ctx.allocate_output(0, dt, out_shape);
    const bool* px = x.data<bool>();
    bool* py = y.data<bool>();
    for (size_t o = 0; o < out_offs.size(); ++o) {
      bool acc = kind == ReduceKind::min;  // empty: max -> false, min -> true
      for (int64_t r : red_offs)
        acc = kind == ReduceKind::max ? (acc || px[out_offs[o] + r]) : (acc && px[out_offs[o] + r]);
      py[o] = acc;
    }
    return;
  }

  visit_numeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, dt, out_shape);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    if constexpr (std::is_integral_v<T>) {
      std::vector<T> vals(red_offs.size());
      for (size_t o = 0; o < out_offs.size(); ++o) {
        for (size_t j = 0; j < red_offs.size(); ++j) vals[j] = px[out_offs[o] + red_offs[j]];
        py[o] = reduce_int<T>(kind, vals);
      }
    } else {
      std::vector<double> vals(red_offs.size());
      for (size_t o = 0; o < out_offs.size(); ++o) {
        for (size_t j = 0; j < red_offs.size(); ++j) vals[j] = to_f64(px[out_offs[o] + red_offs[j]]);
        const double r = reduce_float(kind, vals);
        if constexpr (is_half_like<T>) {
          py[o] = T(static_cast<float>(r));
        } else {
          py[o] = static_cast<T>(r);
        }
      }
    }
  });
}

void ref_reduce_sum(KernelContext& ctx) { run_reduce(ctx, ReduceKind::sum); }
void ref_reduce_mean(KernelContext& ctx) { run_reduce(ctx, ReduceKind::mean); }
void ref_reduce_max(KernelContext& ctx) { run_reduce(ctx, ReduceKind::max); }
void ref_reduce_min(KernelContext& ctx) { run_reduce(ctx, ReduceKind::min); }
void ref_reduce_prod(KernelContext& ctx) { run_reduce(ctx, ReduceKind::prod); }
void ref_reduce_l1(KernelContext& ctx) { run_reduce(ctx, ReduceKind::l1); }
void ref_reduce_l2(KernelContext& ctx) { run_reduce(ctx, ReduceKind::l2); }
void ref_reduce_log_sum(KernelContext& ctx) { run_reduce(ctx, ReduceKind::log_sum); }
void ref_reduce_log_sum_exp(KernelContext& ctx) { run_reduce(ctx, ReduceKind::log_sum_exp); }
void ref_reduce_sum_square(KernelContext& ctx) { run_reduce(ctx, ReduceKind::sum_square); }

}  // namespace

HWOPT_REGISTER_REF_KERNEL("ReduceSum", "", 1, ref_reduce_sum);
HWOPT_REGISTER_REF_KERNEL("ReduceMean", "", 1, ref_reduce_mean);
HWOPT_REGISTER_REF_KERNEL("ReduceMax", "", 1, ref_reduce_max);
HWOPT_REGISTER_REF_KERNEL("ReduceMin", "", 1, ref_reduce_min);
HWOPT_REGISTER_REF_KERNEL("ReduceProd", "", 1, ref_reduce_prod);
HWOPT_REGISTER_REF_KERNEL("ReduceL1", "", 1, ref_reduce_l1);
HWOPT_REGISTER_REF_KERNEL("ReduceL2", "", 1, ref_reduce_l2);
HWOPT_REGISTER_REF_KERNEL("ReduceLogSum", "", 1, ref_reduce_log_sum);
HWOPT_REGISTER_REF_KERNEL("ReduceLogSumExp", "", 1, ref_reduce_log_sum_exp);
HWOPT_REGISTER_REF_KERNEL("ReduceSumSquare", "", 1, ref_reduce_sum_square);

}  // namespace hwopt::reference
