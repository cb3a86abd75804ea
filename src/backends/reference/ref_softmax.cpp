// Softmax, LogSoftmax and Hardmax (2-D coercion at `axis` before opset 13, per-axis from 13).
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

enum class SoftmaxKind { softmax, log_softmax, hardmax };

template <typename T>
double to_f64(T v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return static_cast<double>(static_cast<float>(v));
  } else {
    return static_cast<double>(v);
  }
}

template <typename T>
T from_f64(double v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return T(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

// Computes one row of n values in place.
void softmax_row(SoftmaxKind kind, std::vector<double>& v) {
  const size_t n = v.size();
  if (kind == SoftmaxKind::hardmax) {
    size_t best = 0;  // first maximum; a NaN counts as the maximum, as in numpy's argmax
    for (size_t k = 1; k < n; ++k) {
      if (std::isnan(v[best])) break;
      if (std::isnan(v[k]) || v[k] > v[best]) best = k;
    }
    for (size_t k = 0; k < n; ++k) v[k] = k == best ? 1.0 : 0.0;
    return;
  }
  double m = -std::numeric_limits<double>::infinity();
  for (double x : v)
    if (std::isnan(x) || x > m) m = x;
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  if (kind == SoftmaxKind::softmax) {
    for (double& x : v) x = std::exp(x - m) / s;
  } else {
    const double log_s = std::log(s);
    for (double& x : v) x = x - m - log_s;
  }
}

void run_softmax(KernelContext& ctx, SoftmaxKind kind) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t rank = x.rank();
  const bool per_axis = ctx.opset() >= 13;
  const int64_t axis_attr = ctx.attr_int("axis", per_axis ? -1 : 1);
  const int64_t lo = rank == 0 ? -1 : -rank;
  const int64_t hi = rank == 0 ? 0 : rank - 1;
  HWOPT_KCHECK(axis_attr >= lo && axis_attr <= hi, "attribute 'axis' = {} is out of range for input rank {}", axis_attr,
               rank);
  const int64_t axis = rank == 0 ? 0 : (axis_attr < 0 ? axis_attr + rank : axis_attr);

  // The op works on rows of n elements spaced `inner` apart, `outer` * `inner` rows in all.
  int64_t outer = dims_product(x.shape(), 0, axis);
  int64_t n, inner;
  if (per_axis) {
    n = rank == 0 ? 1 : x.dim(axis);
    inner = dims_product(x.shape(), axis + 1, rank);
  } else {  // coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]
    n = dims_product(x.shape(), axis, rank);
    inner = 1;
  }

  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* px = x.data<T>();
    T* py = y.data<T>();
    std::vector<double> row(static_cast<size_t>(n));
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * n * inner + i;
        for (int64_t k = 0; k < n; ++k) row[k] = to_f64(px[base + k * inner]);
        softmax_row(kind, row);
        for (int64_t k = 0; k < n; ++k) py[base + k * inner] = from_f64<T>(row[k]);
      }
    }
  });
}

void ref_softmax(KernelContext& ctx) { run_softmax(ctx, SoftmaxKind::softmax); }
void ref_log_softmax(KernelContext& ctx) { run_softmax(ctx, SoftmaxKind::log_softmax); }
void ref_hardmax(KernelContext& ctx) { run_softmax(ctx, SoftmaxKind::hardmax); }

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Softmax", "", 1, ref_softmax);
HWOPT_REGISTER_REF_KERNEL("LogSoftmax", "", 1, ref_log_softmax);
HWOPT_REGISTER_REF_KERNEL("Hardmax", "", 1, ref_hardmax);

}  // namespace hwopt::reference
