// Random generators RandomUniform(Like), RandomNormal(Like), Bernoulli, Multinomial (seed -> deterministic).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// The generator: seeded from the float `seed` attribute when given, otherwise nondeterministically.
std::mt19937_64 make_engine(const KernelContext& ctx) {
  if (ctx.has_attr("seed")) {
    float seed = ctx.attr_float("seed", 0.f);
    uint32_t bits;
    std::memcpy(&bits, &seed, sizeof bits);
    return std::mt19937_64(bits);
  }
  std::random_device rd;
  return std::mt19937_64((static_cast<uint64_t>(rd()) << 32) ^ rd());
}

// Uniform in [0, 1).
double uniform01(std::mt19937_64& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

// Standard normal via Box-Muller (no distribution-object preconditions to violate).
double standard_normal(std::mt19937_64& gen) {
  double u1 = 1.0 - uniform01(gen);  // (0, 1]
  double u2 = uniform01(gen);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

void write_doubles(Tensor& t, const std::vector<double>& v) {
  visit_numeric_bool(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        p[i] = T(static_cast<float>(v[i]));
      } else if constexpr (std::is_same_v<T, bool>) {
        p[i] = v[i] != 0;
      } else {
        p[i] = static_cast<T>(v[i]);
      }
    }
  });
}

DType float_dtype_attr(const KernelContext& ctx, DType def) {
  int64_t dt = ctx.attr_int("dtype", static_cast<int64_t>(def));
  HWOPT_KCHECK(dtype_is_known(static_cast<int32_t>(dt)) && dtype_is_float(static_cast<DType>(dt)),
               "attribute 'dtype' = {} must be a float data type", dt);
  return static_cast<DType>(dt);
}

Shape shape_attr(const KernelContext& ctx) {
  HWOPT_KCHECK(ctx.has_attr("shape"), "attribute 'shape' is required");
  Shape shape = ctx.attr_ints("shape");
  for (int64_t d : shape) HWOPT_KCHECK(d >= 0, "attribute 'shape' has a negative dim: {}", shape_str(shape));
  return shape;
}

void fill_uniform(KernelContext& ctx, DType dt, const Shape& shape) {
  const double low = ctx.attr_float("low", 0.f), high = ctx.attr_float("high", 1.f);
  auto gen = make_engine(ctx);
  Tensor& out = ctx.allocate_output(0, dt, shape);
  std::vector<double> v(static_cast<size_t>(out.numel()));
  for (double& e : v) e = low + (high - low) * uniform01(gen);
  write_doubles(out, v);
}

void fill_normal(KernelContext& ctx, DType dt, const Shape& shape) {
  const double mean = ctx.attr_float("mean", 0.f), scale = ctx.attr_float("scale", 1.f);
  auto gen = make_engine(ctx);
  Tensor& out = ctx.allocate_output(0, dt, shape);
  std::vector<double> v(static_cast<size_t>(out.numel()));
  for (double& e : v) e = mean + scale * standard_normal(gen);
  write_doubles(out, v);
}

void ref_random_uniform(KernelContext& ctx) { fill_uniform(ctx, float_dtype_attr(ctx, DType::float32), shape_attr(ctx)); }
void ref_random_normal(KernelContext& ctx) { fill_normal(ctx, float_dtype_attr(ctx, DType::float32), shape_attr(ctx)); }

void ref_random_uniform_like(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  fill_uniform(ctx, float_dtype_attr(ctx, x.dtype()), x.shape());
}
void ref_random_normal_like(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  fill_normal(ctx, float_dtype_attr(ctx, x.dtype()), x.shape());
}

// Bernoulli: output 1 with probability input[i], else 0.
void ref_bernoulli(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input 'input' must be a float tensor of probabilities, got {}",
               dtype_name(x.dtype()));
  int64_t dt = ctx.attr_int("dtype", static_cast<int64_t>(x.dtype()));
  HWOPT_KCHECK(dtype_is_known(static_cast<int32_t>(dt)) && static_cast<DType>(dt) != DType::string &&
                   static_cast<DType>(dt) != DType::undefined,
               "attribute 'dtype' = {} must be a numeric or bool data type", dt);
  std::vector<double> p = to_double_vector(x);
  auto gen = make_engine(ctx);
  std::vector<double> v(p.size());
  for (size_t i = 0; i < p.size(); ++i) v[i] = uniform01(gen) < p[i] ? 1.0 : 0.0;
  write_doubles(ctx.allocate_output(0, static_cast<DType>(dt), x.shape()), v);
}

// Multinomial: input [batch, classes] of unnormalized log-probabilities; output [batch, sample_size]
// of drawn class indices.
void ref_multinomial(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input 'input' must be a float tensor, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(x.rank() == 2, "input 'input' must have shape [batch_size, class_size], got {}", shape_str(x.shape()));
  const int64_t batch = x.dim(0), classes = x.dim(1);
  HWOPT_KCHECK(classes > 0, "input 'input' has no classes (shape {})", shape_str(x.shape()));
  const int64_t samples = ctx.attr_int("sample_size", 1);
  HWOPT_KCHECK(samples >= 0, "attribute 'sample_size' must be non-negative, got {}", samples);
  const int64_t dt = ctx.attr_int("dtype", static_cast<int64_t>(DType::int32));
  HWOPT_KCHECK(dt == static_cast<int64_t>(DType::int32) || dt == static_cast<int64_t>(DType::int64),
               "attribute 'dtype' = {} must be int32 (6) or int64 (7)", dt);
  Tensor& out = ctx.allocate_output(0, static_cast<DType>(dt), {batch, samples});
  std::vector<double> logits = to_double_vector(x);
  auto gen = make_engine(ctx);
  std::vector<double> v(static_cast<size_t>(out.numel()));
  std::vector<double> cdf(static_cast<size_t>(classes));
  for (int64_t b = 0; b < batch; ++b) {
    double mx = -INFINITY;
    for (int64_t c = 0; c < classes; ++c) mx = std::max(mx, logits[b * classes + c]);
    double total = 0;
    for (int64_t c = 0; c < classes; ++c) {
      double e = std::isfinite(mx) ? std::exp(logits[b * classes + c] - mx) : 0.0;
      total += std::isfinite(e) ? e : 0.0;
      cdf[c] = total;
    }
    for (int64_t s = 0; s < samples; ++s) {
      double u = uniform01(gen) * total;
      int64_t pick = classes - 1;
      for (int64_t c = 0; c < classes; ++c) {
        if (u < cdf[c]) {
          pick = c;
          break;
        }
      }
      v[b * samples + s] = static_cast<double>(pick);
    }
  }
  write_doubles(out, v);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("RandomUniform", "", 1, ref_random_uniform);
HWOPT_REGISTER_REF_KERNEL("RandomNormal", "", 1, ref_random_normal);
HWOPT_REGISTER_REF_KERNEL("RandomUniformLike", "", 1, ref_random_uniform_like);
HWOPT_REGISTER_REF_KERNEL("RandomNormalLike", "", 1, ref_random_normal_like);
HWOPT_REGISTER_REF_KERNEL("Bernoulli", "", 15, ref_bernoulli);
HWOPT_REGISTER_REF_KERNEL("Multinomial", "", 7, ref_multinomial);

}  // namespace hwopt::reference
