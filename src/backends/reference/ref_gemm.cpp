// Gemm: Y = alpha * op(A) * op(B) + beta * C, with transA/transB and an optional broadcast C.
#include <type_traits>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// An integer as uint64 (two's complement), so products and sums wrap instead of overflowing.
template <typename T>
uint64_t wrap(T v) {
  return static_cast<uint64_t>(static_cast<int64_t>(v));
}

void ref_gemm(KernelContext& ctx) {
  const Tensor a = ctx.input(0).contiguous();
  const Tensor b = ctx.input(1).contiguous();
  HWOPT_KCHECK(a.rank() == 2, "input A must be 2-D, got shape {}", shape_str(a.shape()));
  HWOPT_KCHECK(b.rank() == 2, "input B must be 2-D, got shape {}", shape_str(b.shape()));
  HWOPT_KCHECK(a.dtype() == b.dtype(), "A ({}) and B ({}) must have the same dtype", dtype_name(a.dtype()),
               dtype_name(b.dtype()));
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const double alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t Kb = tb ? b.dim(1) : b.dim(0), N = tb ? b.dim(0) : b.dim(1);
  HWOPT_KCHECK(K == Kb, "inner dimensions differ: op(A) is [{}, {}] but op(B) is [{}, {}] (transA={}, transB={})", M, K,
               Kb, N, ta, tb);
  Tensor c;
  std::vector<int64_t> c_offs;
  if (ctx.has_input(2)) {
    c = ctx.input(2).contiguous();
    HWOPT_KCHECK(c.dtype() == a.dtype(), "C ({}) must have A's dtype {}", dtype_name(c.dtype()), dtype_name(a.dtype()));
    HWOPT_KCHECK(c.rank() <= 2, "input C must have rank <= 2, got shape {}", shape_str(c.shape()));
    for (int64_t k = 1; k <= c.rank(); ++k) {
      const int64_t cd = c.dim(-k), yd = k == 1 ? N : M;
      HWOPT_KCHECK(cd == yd || cd == 1, "input C of shape {} cannot broadcast to [{}, {}]", shape_str(c.shape()), M, N);
    }
    c_offs = broadcast_offsets(c.shape(), {M, N});
  }
  visit_numeric(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    Tensor& y = ctx.allocate_output(0, a.dtype(), {M, N});
    T* yp = y.data<T>();
    // Float types: op(A) as [M, K] and op(B) transposed to [N, K], in double, so each output is a
    // plain dot product over k (in order) of two contiguous rows.
    std::vector<double> opa, opbt;
    if constexpr (!std::is_integral_v<T>) {
      opa.resize(static_cast<size_t>(M * K));
      opbt.resize(static_cast<size_t>(N * K));
      for (int64_t m = 0; m < M; ++m)
        for (int64_t k = 0; k < K; ++k) opa[m * K + k] = to_dbl(ap[ta ? k * M + m : m * K + k]);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) opbt[n * K + k] = to_dbl(bp[tb ? n * K + k : k * N + n]);
    }
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < N; ++n) {
        if constexpr (std::is_integral_v<T>) {
          // Integers: exact (wrapping) products and sums, scaled only when alpha/beta are not 1.
          uint64_t acc = 0;
          for (int64_t k = 0; k < K; ++k) {
            acc += wrap(ap[ta ? k * M + m : m * K + k]) * wrap(bp[tb ? n * K + k : k * N + n]);
          }
          T r = static_cast<T>(acc);
          if (alpha != 1.0) r = static_cast<T>(alpha * static_cast<double>(r));
          if (c.defined()) {
            const T cv = c.data<T>()[c_offs[m * N + n]];
            r = static_cast<T>(wrap(r) + wrap(beta == 1.0 ? cv : static_cast<T>(beta * static_cast<double>(cv))));
          }
          yp[m * N + n] = r;
        } else {
          double acc = 0;
          for (int64_t k = 0; k < K; ++k) acc += opa[m * K + k] * opbt[n * K + k];
          double r = alpha * acc;
          if (c.defined()) r += beta * to_dbl(c.data<T>()[c_offs[m * N + n]]);
          yp[m * N + n] = from_dbl<T>(r);
        }
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Gemm", "", 1, ref_gemm);

}  // namespace hwopt::reference
