// Optimizers of domain ai.onnx.preview.training: Adagrad, Adam, Momentum (standard and nesterov).
#include <cmath>
#include <string>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

constexpr const char* kTrainingDomain = "ai.onnx.preview.training";

void write_doubles(Tensor& t, const std::vector<double>& v) {
  visit_float(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, double>) {
        p[i] = v[i];
      } else {
        p[i] = T(static_cast<float>(v[i]));
      }
    }
  });
}

// Inputs R (learning rate), T (update count), then `groups` blocks of n tensors each
// (X_1..X_n, G_1..G_n, ...). Returns n and fills r, t and the block values.
struct OptimizerInputs {
  double r = 0;
  int64_t t = 0;
  int64_t n = 0;
  // values[g][i] = tensor i of block g, as doubles; x_tensors[i] = X_i.
  std::vector<std::vector<std::vector<double>>> values;
  std::vector<const Tensor*> x_tensors;
};

OptimizerInputs read_inputs(const KernelContext& ctx, int64_t groups, int64_t out_groups, const char* op) {
  OptimizerInputs in;
  const int64_t variadic = static_cast<int64_t>(ctx.num_inputs()) - 2;
  HWOPT_KCHECK(variadic > 0 && variadic % groups == 0, "{}: expected R, T and {} groups of tensors, got {} inputs", op,
               groups, ctx.num_inputs());
  in.n = variadic / groups;
  HWOPT_KCHECK(static_cast<int64_t>(ctx.num_outputs()) <= out_groups * in.n,
               "{}: {} tensors to update give at most {} outputs, got {}", op, in.n, out_groups * in.n,
               ctx.num_outputs());
  const Tensor& R = ctx.input(0);
  const Tensor& T = ctx.input(1);
  HWOPT_KCHECK(R.numel() == 1 && dtype_is_float(R.dtype()), "{}: input 'R' must be a float scalar, got {} {}", op,
               dtype_name(R.dtype()), shape_str(R.shape()));
  HWOPT_KCHECK(T.numel() == 1 && T.dtype() == DType::int64, "{}: input 'T' must be an int64 scalar, got {} {}", op,
               dtype_name(T.dtype()), shape_str(T.shape()));
  in.r = to_double_vector(R)[0];
  in.t = to_int64_vector(T)[0];
  in.values.resize(static_cast<size_t>(groups));
  for (int64_t i = 0; i < in.n; ++i) {
    const Tensor& x = ctx.input(static_cast<size_t>(2 + i));
    HWOPT_KCHECK(x.dtype() == DType::float32 || x.dtype() == DType::float64,
                 "{}: input {} must be float or double, got {}", op, 2 + i, dtype_name(x.dtype()));
    in.x_tensors.push_back(&x);
    for (int64_t g = 0; g < groups; ++g) {
      const Tensor& v = ctx.input(static_cast<size_t>(2 + g * in.n + i));
      HWOPT_KCHECK(v.shape() == x.shape() && v.dtype() == x.dtype(),
                   "{}: input {} is {} {}, but the tensor it belongs to (input {}) is {} {}", op, 2 + g * in.n + i,
                   dtype_name(v.dtype()), shape_str(v.shape()), 2 + i, dtype_name(x.dtype()), shape_str(x.shape()));
      in.values[g].push_back(to_double_vector(v));
    }
  }
  return in;
}

void emit(KernelContext& ctx, int64_t idx, const Tensor& like, const std::vector<double>& v) {
  if (!ctx.wants_output(static_cast<size_t>(idx))) return;
  write_doubles(ctx.allocate_output(static_cast<size_t>(idx), like.dtype(), like.shape()), v);
}

// Adagrad: inputs R, T, X..., G..., H...; outputs X_new..., H_new...
void ref_adagrad(KernelContext& ctx) {
  OptimizerInputs in = read_inputs(ctx, 3, 2, "Adagrad");
  const double decay = ctx.attr_float("decay_factor", 0.f);
  const double eps = ctx.attr_float("epsilon", 1e-6f);
  const double norm = ctx.attr_float("norm_coefficient", 0.f);
  const double r = in.r / (1.0 + static_cast<double>(in.t) * decay);
  for (int64_t i = 0; i < in.n; ++i) {
    const auto& x = in.values[0][i];
    const auto& g = in.values[1][i];
    const auto& h = in.values[2][i];
    std::vector<double> x_new(x.size()), h_new(x.size());
    for (size_t k = 0; k < x.size(); ++k) {
      double gr = norm * x[k] + g[k];
      h_new[k] = h[k] + gr * gr;
      x_new[k] = x[k] - r * gr / (std::sqrt(h_new[k]) + eps);
    }
    emit(ctx, i, *in.x_tensors[i], x_new);
    emit(ctx, in.n + i, *in.x_tensors[i], h_new);
  }
}

// Adam: inputs R, T, X..., G..., V..., H...; outputs X_new..., V_new..., H_new...
void ref_adam(KernelContext& ctx) {
  OptimizerInputs in = read_inputs(ctx, 4, 3, "Adam");
  const double alpha = ctx.attr_float("alpha", 0.9f);
  const double beta = ctx.attr_float("beta", 0.999f);
  const double eps = ctx.attr_float("epsilon", 1e-6f);
  const double norm = ctx.attr_float("norm_coefficient", 0.f);
  const double norm_post = ctx.attr_float("norm_coefficient_post", 0.f);
  double r = in.r;
  if (in.t > 0) {
    const double td = static_cast<double>(in.t);
    r = in.r * std::sqrt(1.0 - std::pow(beta, td)) / (1.0 - std::pow(alpha, td));
  }
  for (int64_t i = 0; i < in.n; ++i) {
    const auto& x = in.values[0][i];
    const auto& g = in.values[1][i];
    const auto& v = in.values[2][i];
    const auto& h = in.values[3][i];
    std::vector<double> x_new(x.size()), v_new(x.size()), h_new(x.size());
    for (size_t k = 0; k < x.size(); ++k) {
      double gr = norm * x[k] + g[k];
      v_new[k] = alpha * v[k] + (1.0 - alpha) * gr;
      h_new[k] = beta * h[k] + (1.0 - beta) * gr * gr;
      double xn = x[k] - r * (v_new[k] / (std::sqrt(h_new[k]) + eps));
      x_new[k] = (1.0 - norm_post) * xn;
    }
    emit(ctx, i, *in.x_tensors[i], x_new);
    emit(ctx, in.n + i, *in.x_tensors[i], v_new);
    emit(ctx, 2 * in.n + i, *in.x_tensors[i], h_new);
  }
}

// Momentum: inputs R, T, X..., G..., V...; outputs X_new..., V_new...
void ref_momentum(KernelContext& ctx) {
  OptimizerInputs in = read_inputs(ctx, 3, 2, "Momentum");
  for (const char* a : {"alpha", "beta", "mode", "norm_coefficient"})
    HWOPT_KCHECK(ctx.has_attr(a), "Momentum: attribute '{}' is required", a);
  const double alpha = ctx.attr_float("alpha", 0.f);
  const double beta = ctx.attr_float("beta", 0.f);
  const double norm = ctx.attr_float("norm_coefficient", 0.f);
  const std::string mode = ctx.attr_string("mode", "");
  HWOPT_KCHECK(mode == "standard" || mode == "nesterov", "attribute 'mode' must be standard or nesterov, got '{}'",
               mode);
  const double beta_adj = in.t > 0 ? beta : 1.0;
  for (int64_t i = 0; i < in.n; ++i) {
    const auto& x = in.values[0][i];
    const auto& g = in.values[1][i];
    const auto& v = in.values[2][i];
    std::vector<double> x_new(x.size()), v_new(x.size());
    for (size_t k = 0; k < x.size(); ++k) {
      double gr = norm * x[k] + g[k];
      v_new[k] = alpha * v[k] + beta_adj * gr;
      x_new[k] = mode == "standard" ? x[k] - in.r * v_new[k] : x[k] - in.r * (gr + alpha * v_new[k]);
    }
    emit(ctx, i, *in.x_tensors[i], x_new);
    emit(ctx, in.n + i, *in.x_tensors[i], v_new);
  }
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Adagrad", kTrainingDomain, 1, ref_adagrad);
HWOPT_REGISTER_REF_KERNEL("Adam", kTrainingDomain, 1, ref_adam);
HWOPT_REGISTER_REF_KERNEL("Momentum", kTrainingDomain, 1, ref_momentum);

}  // namespace hwopt::reference
