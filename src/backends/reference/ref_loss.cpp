// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (reduction none/sum/mean, weights, ignore_index).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

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

std::vector<double> read_doubles(const Tensor& t) {
  std::vector<double> v;
  visit_float(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Tensor c = t.contiguous();
    const T* p = c.data<T>();
    v.resize(static_cast<size_t>(c.numel()));
    for (int64_t i = 0; i < c.numel(); ++i) v[i] = to_f64(p[i]);
  });
  return v;
}

// Writes the loss given log-probabilities `logp` [N, C, d...] (row-major, as doubles) to output 0.
// Inputs: 1 = target [N, d...], 2 = optional weight [C].
void nll_from_log_prob(KernelContext& ctx, DType dtype, const Shape& shape, const std::vector<double>& logp,
                       const char* input_name, const char* target_name) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  HWOPT_KCHECK(rank >= 2, "input '{}' must have rank >= 2 ([N, C, ...]), got shape {}", input_name, shape_str(shape));
  const Tensor& target_t = ctx.input(1);
  Shape expect_target{shape[0]};
  expect_target.insert(expect_target.end(), shape.begin() + 2, shape.end());
  HWOPT_KCHECK(target_t.shape() == expect_target, "input '{}' must have shape {} for input shape {}, got {}",
               target_name, shape_str(expect_target), shape_str(shape), shape_str(target_t.shape()));
  HWOPT_KCHECK(target_t.dtype() == DType::int64 || target_t.dtype() == DType::int32,
               "input '{}' must be int64 (or int32), got {}", target_name, dtype_name(target_t.dtype()));
  const std::vector<int64_t> target = to_int64_vector(target_t);
  const int64_t N = shape[0], C = shape[1];
  const int64_t D = dims_product(shape, 2, rank);

  std::vector<double> weight;
  if (ctx.has_input(2)) {
    const Tensor& w = ctx.input(2);
    HWOPT_KCHECK(w.rank() == 1 && w.dim(0) == C, "input 'weight' must have shape [{}], got {}", C,
                 shape_str(w.shape()));
    HWOPT_KCHECK(w.dtype() == dtype, "input 'weight' must have dtype {}, got {}", dtype_name(dtype),
                 dtype_name(w.dtype()));
    weight = read_doubles(w);
  }
  std::optional<int64_t> ignore_index;
  if (ctx.has_attr("ignore_index")) ignore_index = ctx.attr_int("ignore_index", 0);
  const std::string reduction = ctx.attr_string("reduction", "mean");
  HWOPT_KCHECK(reduction == "none" || reduction == "sum" || reduction == "mean",
               "attribute 'reduction' must be none, sum or mean, got '{}'", reduction);

  std::vector<double> loss(static_cast<size_t>(N * D), 0.0);
  double loss_sum = 0, weight_sum = 0;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t d = 0; d < D; ++d) {
      const int64_t t = target[n * D + d];
      if (ignore_index && t == *ignore_index) continue;
      HWOPT_KCHECK(t >= 0 && t < C, "target value {} is out of range [0, {}) at position {}", t, C, n * D + d);
      const double w = weight.empty() ? 1.0 : weight[t];
      const double l = -logp[(n * C + t) * D + d] * w;
      loss[n * D + d] = l;
      loss_sum += l;
      weight_sum += w;
    }
  }

  visit_float(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (reduction == "none") {
      Tensor& out = ctx.allocate_output(0, dtype, expect_target);
      T* p = out.data<T>();
      for (size_t i = 0; i < loss.size(); ++i) p[i] = from_f64<T>(loss[i]);
    } else {
      Tensor& out = ctx.allocate_output(0, dtype, {});
      // mean divides by the total weight of the non-ignored targets (NaN when there is none).
      out.data<T>()[0] = from_f64<T>(reduction == "sum" ? loss_sum : loss_sum / weight_sum);
    }
  });
}

void ref_negative_log_likelihood_loss(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  nll_from_log_prob(ctx, input.dtype(), input.shape(), read_doubles(input), "input", "target");
}

void ref_softmax_cross_entropy_loss(KernelContext& ctx) {
  const Tensor& scores = ctx.input(0);
  const Shape& shape = scores.shape();
  const int64_t rank = scores.rank();
  HWOPT_KCHECK(rank >= 2, "input 'scores' must have rank >= 2 ([N, C, ...]), got shape {}", shape_str(shape));
  std::vector<double> logp = read_doubles(scores);
  const int64_t N = shape[0], C = shape[1];
  const int64_t D = dims_product(shape, 2, rank);
  // log_softmax over the class axis (1).
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t d = 0; d < D; ++d) {
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < C; ++c) m = std::max(m, logp[(n * C + c) * D + d]);
      double s = 0;
      for (int64_t c = 0; c < C; ++c) s += std::exp(logp[(n * C + c) * D + d] - m);
      const double log_s = std::log(s);
      for (int64_t c = 0; c < C; ++c) logp[(n * C + c) * D + d] -= m + log_s;
    }
  }
  nll_from_log_prob(ctx, scores.dtype(), shape, logp, "scores", "labels");
  if (ctx.wants_output(1)) {
    visit_float(scores.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* p = ctx.allocate_output(1, scores.dtype(), shape).data<T>();
      for (size_t i = 0; i < logp.size(); ++i) p[i] = from_f64<T>(logp[i]);
    });
  }
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("NegativeLogLikelihoodLoss", "", 12, ref_negative_log_likelihood_loss);
HWOPT_REGISTER_REF_KERNEL("SoftmaxCrossEntropyLoss", "", 12, ref_softmax_cross_entropy_loss);

}  // namespace hwopt::reference
