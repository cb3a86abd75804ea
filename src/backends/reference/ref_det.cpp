// Det: determinants of (batches of) square matrices, by LU decomposition with partial pivoting in double.
#include <cmath>
#include <utility>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// Determinant of the n x n row-major matrix `a` (destroyed).
double determinant(std::vector<double>& a, int64_t n) {
  double det = 1.0;
  for (int64_t col = 0; col < n; ++col) {
    int64_t pivot = col;
    for (int64_t r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col])) pivot = r;
    if (a[pivot * n + col] == 0.0) return 0.0;
    if (pivot != col) {
      for (int64_t c = 0; c < n; ++c) std::swap(a[col * n + c], a[pivot * n + c]);
      det = -det;
    }
    const double p = a[col * n + col];
    det *= p;
    for (int64_t r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / p;
      for (int64_t c = col; c < n; ++c) a[r * n + c] -= f * a[col * n + c];
    }
  }
  return det;
}

void ref_det(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  HWOPT_KCHECK(x.rank() >= 2, "input X must have rank >= 2 ([*, M, M]), got shape {}", shape_str(x.shape()));
  const int64_t n = x.dim(-1);
  HWOPT_KCHECK(x.dim(-2) == n, "input X must hold square matrices, got shape {}", shape_str(x.shape()));
  const Shape out_shape(x.shape().begin(), x.shape().end() - 2);
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    Tensor& y = ctx.allocate_output(0, x.dtype(), out_shape);
    T* yp = y.data<T>();
    std::vector<double> m(static_cast<size_t>(n * n));
    for (int64_t b = 0; b < y.numel(); ++b) {
      for (int64_t i = 0; i < n * n; ++i) m[i] = to_dbl(xp[b * n * n + i]);
      yp[b] = from_dbl<T>(determinant(m, n));
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Det", "", 11, ref_det);

}  // namespace hwopt::reference
