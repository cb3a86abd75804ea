// MatMul (numpy semantics: batched broadcasting, 1-D operands), MatMulInteger and QLinearMatMul.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


template <typename T>
uint64_t wrap(T v) {
  return static_cast<uint64_t>(static_cast<int64_t>(v));
}

/// numpy matmul shapes: a [..., M, K] x b [..., K, N] -> [..., M, N]; a 1-D a is [1, K] (M dropped),
/// a 1-D b is [K, 1] (N dropped). For each batch, the element offsets of its A and B matrices.
struct MatMulPlan {
  int64_t M = 0, K = 0, N = 0;
  Shape out_shape;
  std::vector<int64_t> a_off, b_off;  // per batch
};

MatMulPlan plan_matmul(const Shape& as, const Shape& bs) {
  HWOPT_KCHECK(!as.empty() && !bs.empty(), "MatMul inputs must have rank >= 1, got shapes {} and {}", shape_str(as),
               shape_str(bs));
  Shape a2 = as, b2 = bs;
  if (as.size() == 1) a2.insert(a2.begin(), 1);
  if (bs.size() == 1) b2.push_back(1);
  MatMulPlan p;
  p.M = a2[a2.size() - 2];
  p.K = a2.back();
  p.N = b2.back();
  HWOPT_KCHECK(b2[b2.size() - 2] == p.K, "MatMul inner dimensions differ: A has shape {} and B has shape {}",
               shape_str(as), shape_str(bs));
  const Shape a_batch(a2.begin(), a2.end() - 2), b_batch(b2.begin(), b2.end() - 2);
  const Shape batch = broadcast_shape(a_batch, b_batch);
  const std::vector<int64_t> ao = broadcast_offsets(a_batch, batch), bo = broadcast_offsets(b_batch, batch);
  for (int64_t o : ao) p.a_off.push_back(o * p.M * p.K);
  for (int64_t o : bo) p.b_off.push_back(o * p.K * p.N);
  p.out_shape = batch;
  if (as.size() > 1) p.out_shape.push_back(p.M);
  if (bs.size() > 1) p.out_shape.push_back(p.N);
  return p;
}

void ref_matmul(KernelContext& ctx) {
  const Tensor a = ctx.input(0).contiguous();
  const Tensor b = ctx.input(1).contiguous();
  HWOPT_KCHECK(a.dtype() == b.dtype(), "A ({}) and B ({}) must have the same dtype", dtype_name(a.dtype()),
               dtype_name(b.dtype()));
  const MatMulPlan p = plan_matmul(a.shape(), b.shape());
  visit_numeric(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    Tensor& y = ctx.allocate_output(0, a.dtype(), p.out_shape);
    T* yp = y.data<T>();
    for (size_t bi = 0; bi < p.a_off.size(); ++bi) {
      const T* am = ap + p.a_off[bi];
      const T* bm = bp + p.b_off[bi];
      T* ym = yp + static_cast<int64_t>(bi) * p.M * p.N;
      // Row by row: row[n] = sum over k (in order) of a[m, k] * b[k, n], accumulated in double or
      // wrapping uint64; walking b by rows keeps the reads sequential.
      using Acc = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;
      std::vector<Acc> row(static_cast<size_t>(p.N));
      for (int64_t m = 0; m < p.M; ++m) {
        std::fill(row.begin(), row.end(), Acc(0));
        for (int64_t k = 0; k < p.K; ++k) {
          const T* brow = bm + k * p.N;
          if constexpr (std::is_integral_v<T>) {
            const uint64_t av = wrap(am[m * p.K + k]);
            for (int64_t n = 0; n < p.N; ++n) row[n] += av * wrap(brow[n]);
          } else {
            const double av = to_dbl(am[m * p.K + k]);
            for (int64_t n = 0; n < p.N; ++n) row[n] += av * to_dbl(brow[n]);
          }
        }
        for (int64_t n = 0; n < p.N; ++n) {
          if constexpr (std::is_integral_v<T>) {
            ym[m * p.N + n] = static_cast<T>(row[n]);
          } else {
            ym[m * p.N + n] = from_dbl<T>(row[n]);
          }
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Quantized variants

void check_8bit(const Tensor& t, const char* name) {
  HWOPT_KCHECK(t.dtype() == DType::uint8 || t.dtype() == DType::int8, "input {} must be uint8 or int8, got {}", name,
               dtype_name(t.dtype()));
}

std::vector<int64_t> read_ints(const Tensor& t) {
  Tensor c = t.contiguous();
  std::vector<int64_t> v(static_cast<size_t>(c.numel()));
  visit_integer(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < c.numel(); ++i) v[i] = static_cast<int64_t>(c.data<T>()[i]);
  });
  return v;
}

/// A per-tensor value or a 1-D vector of `count` values (per row of A / per column of B), expanded to `count`.
std::vector<double> per_tensor_or_1d(const Tensor& t, int64_t count, const char* name, const char* what) {
  HWOPT_KCHECK(t.numel() == 1 || (t.rank() == 1 && t.dim(0) == count),
               "{} must be a scalar or a 1-D tensor of {} values ({}), got shape {}", name, count, what,
               shape_str(t.shape()));
  std::vector<double> v = to_double_vector(t);
  if (v.size() == 1) v.assign(static_cast<size_t>(count), v[0]);
  return v;
}

std::vector<double> zero_points(const KernelContext& ctx, size_t idx, DType expected, int64_t count, const char* name,
                                const char* what) {
  if (!ctx.has_input(idx)) return std::vector<double>(static_cast<size_t>(count), 0.0);
  const Tensor& t = ctx.input(idx);
  HWOPT_KCHECK(t.dtype() == expected, "{} has dtype {} but must match its input's dtype {}", name,
               dtype_name(t.dtype()), dtype_name(expected));
  return per_tensor_or_1d(t, count, name, what);
}

/// (A - a_zp[row]) x (B - b_zp[col]) accumulated in int64, per batch, as [batch, M, N].
std::vector<int64_t> integer_matmul(const Tensor& a, const Tensor& b, const std::vector<double>& azp,
                                    const std::vector<double>& bzp, const MatMulPlan& p) {
  const std::vector<int64_t> av = read_ints(a), bv = read_ints(b);
  std::vector<int64_t> out(p.a_off.size() * static_cast<size_t>(p.M * p.N), 0);
  for (size_t bi = 0; bi < p.a_off.size(); ++bi)
    for (int64_t m = 0; m < p.M; ++m)
      for (int64_t n = 0; n < p.N; ++n) {
        int64_t acc = 0;
        for (int64_t k = 0; k < p.K; ++k) {
          acc += (av[p.a_off[bi] + m * p.K + k] - static_cast<int64_t>(azp[m])) *
                 (bv[p.b_off[bi] + k * p.N + n] - static_cast<int64_t>(bzp[n]));
        }
        out[(bi * p.M + m) * p.N + n] = acc;
      }
  return out;
}

void ref_matmul_integer(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  check_8bit(a, "A");
  check_8bit(b, "B");
  const MatMulPlan p = plan_matmul(a.shape(), b.shape());
  const auto azp = zero_points(ctx, 2, a.dtype(), p.M, "a_zero_point", "one per row of A");
  const auto bzp = zero_points(ctx, 3, b.dtype(), p.N, "b_zero_point", "one per column of B");
  const std::vector<int64_t> acc = integer_matmul(a, b, azp, bzp, p);
  Tensor& y = ctx.allocate_output(0, DType::int32, p.out_shape);
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(acc[i]);
}

std::vector<float> scales(const Tensor& t, int64_t count, const char* name, const char* what) {
  HWOPT_KCHECK(dtype_is_float(t.dtype()), "{} must be a float tensor, got {}", name, dtype_name(t.dtype()));
  const std::vector<double> v = per_tensor_or_1d(t, count, name, what);
  return std::vector<float>(v.begin(), v.end());
}

void ref_qlinear_matmul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  check_8bit(a, "a");
  check_8bit(b, "b");
  const MatMulPlan p = plan_matmul(a.shape(), b.shape());
  const auto a_scale = scales(ctx.input(1), p.M, "a_scale", "one per row of a");
  const auto azp = zero_points(ctx, 2, a.dtype(), p.M, "a_zero_point", "one per row of a");
  const auto b_scale = scales(ctx.input(4), p.N, "b_scale", "one per column of b");
  const auto bzp = zero_points(ctx, 5, b.dtype(), p.N, "b_zero_point", "one per column of b");
  const auto y_scale = scales(ctx.input(6), p.M, "y_scale", "one per row of y");
  DType ydt = a.dtype();
  if (ctx.has_input(7)) {
    ydt = ctx.input(7).dtype();
    check_8bit(ctx.input(7), "y_zero_point");
  }
  const auto yzp = zero_points(ctx, 7, ydt, p.M, "y_zero_point", "one per row of y");
  const std::vector<int64_t> acc = integer_matmul(a, b, azp, bzp, p);
  Tensor& y = ctx.allocate_output(0, ydt, p.out_shape);
  const double lo = ydt == DType::uint8 ? 0 : -128, hi = ydt == DType::uint8 ? 255 : 127;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const int64_t m = (i / p.N) % p.M, n = i % p.N;
    const float scale = a_scale[m] * b_scale[n] / y_scale[m];
    double v = std::nearbyint(static_cast<double>(acc[i]) * static_cast<double>(scale)) + yzp[m];
    v = std::min(hi, std::max(lo, v));
    if (ydt == DType::uint8) {
      y.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    } else {
      y.data<int8_t>()[i] = static_cast<int8_t>(v);
    }
  }
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("MatMul", "", 1, ref_matmul);
HWOPT_REGISTER_REF_KERNEL("MatMulInteger", "", 10, ref_matmul_integer);
HWOPT_REGISTER_REF_KERNEL("QLinearMatMul", "", 10, ref_qlinear_matmul);

}  // namespace hwopt::reference
