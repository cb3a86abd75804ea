#include "model_inputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/npy.h"

namespace hwopt::cli {

Expected<std::map<std::string, std::string>> parse_pairs(const std::vector<std::string>& pairs, const char* flag) {
  std::map<std::string, std::string> out;
  for (const auto& p : pairs) {
    size_t eq = p.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size())
      return Status(StatusCode::invalid_argument, fmt::format("{} expects NAME=VALUE, got '{}'", flag, p));
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

namespace {
template <typename T>
void fill_random(Tensor& t, std::mt19937_64& rng) {
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      p[i] = (rng() & 1) != 0;
    } else if constexpr (std::is_integral_v<T>) {
      p[i] = static_cast<T>(rng() % 10);
    } else {
      p[i] = T(static_cast<float>(std::uniform_real_distribution<double>(0.0, 1.0)(rng)));
    }
  }
}
}  // namespace

Expected<std::map<std::string, Tensor>> make_inputs(const Session& session,
                                                    const std::map<std::string, std::string>& files,
                                                    const std::map<std::string, std::string>& dims, uint64_t seed) {
  for (const auto& [name, file] : files) {
    bool found = false;
    for (const auto& in : session.inputs()) found |= in.name == name;
    if (!found) {
      std::string names;
      for (const auto& in : session.inputs()) names += (names.empty() ? "" : ", ") + in.name;
      return Status(StatusCode::invalid_argument, fmt::format("--input names '{}', but the model's inputs are: {}", name, names));
    }
  }
  std::map<std::string, Tensor> out;
  std::mt19937_64 rng(seed);
  for (const auto& info : session.inputs()) {
    auto f = files.find(info.name);
    if (f != files.end()) {
      auto t = read_npy(f->second);
      if (!t.ok()) return Status(t.status().code(), fmt::format("input '{}': {}", info.name, t.status().message()));
      out[info.name] = std::move(t).value();
      continue;
    }
    if (info.is_sequence)
      return Status(StatusCode::unsupported, fmt::format("input '{}' is a sequence; random sequences are not supported", info.name));
    if (!info.has_shape)
      return Status(StatusCode::invalid_argument, fmt::format("input '{}' has no declared shape; pass it with --input", info.name));
    Shape shape;
    for (size_t d = 0; d < info.shape.size(); ++d) {
      if (info.shape[d] >= 0) {
        shape.push_back(info.shape[d]);
        continue;
      }
      auto it = dims.find(info.dim_names[d]);
      if (it == dims.end()) {
        shape.push_back(1);
        continue;
      }
      try {
        shape.push_back(std::stoll(it->second));
      } catch (const std::exception&) {
        return Status(StatusCode::invalid_argument, fmt::format("--dim {}={} is not an integer", it->first, it->second));
      }
    }
    if (info.dtype == DType::string || info.dtype == DType::undefined)
      return Status(StatusCode::unsupported, fmt::format("cannot make a random input of dtype {} for '{}'", dtype_name(info.dtype), info.name));
    auto t = Tensor::create(info.dtype, shape);
    if (!t.ok()) return Status(t.status().code(), fmt::format("input '{}': {}", info.name, t.status().message()));
    Tensor& tensor = t.value();
    switch (info.dtype) {
      case DType::float32: fill_random<float>(tensor, rng); break;
      case DType::float64: fill_random<double>(tensor, rng); break;
      case DType::float16: fill_random<Half>(tensor, rng); break;
      case DType::bfloat16: fill_random<BFloat16>(tensor, rng); break;
      case DType::int8: fill_random<int8_t>(tensor, rng); break;
      case DType::int16: fill_random<int16_t>(tensor, rng); break;
      case DType::int32: fill_random<int32_t>(tensor, rng); break;
      case DType::int64: fill_random<int64_t>(tensor, rng); break;
      case DType::uint8: fill_random<uint8_t>(tensor, rng); break;
      case DType::uint16: fill_random<uint16_t>(tensor, rng); break;
      case DType::uint32: fill_random<uint32_t>(tensor, rng); break;
      case DType::uint64: fill_random<uint64_t>(tensor, rng); break;
      case DType::boolean: fill_random<bool>(tensor, rng); break;
      default: break;
    }
    out[info.name] = std::move(tensor);
  }
  return out;
}

std::string summarize(const Tensor& t) {
  std::string s = fmt::format("{}{}", dtype_name(t.dtype()), shape_str(t.shape()));
  if (t.dtype() == DType::string || t.numel() == 0) return s;
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t nonfinite = 0;
  Tensor c = t.contiguous();
  for (int64_t i = 0; i < c.numel(); ++i) {
    double v = c.element_as_double(i);
    if (!std::isfinite(v)) {
      ++nonfinite;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  int64_t finite = c.numel() - nonfinite;
  if (finite > 0) s += fmt::format(" min={:.6g} max={:.6g} mean={:.6g}", lo, hi, sum / finite);
  if (nonfinite > 0) s += fmt::format(" non-finite={}", nonfinite);
  s += " [";
  for (int64_t i = 0; i < std::min<int64_t>(c.numel(), 5); ++i) s += fmt::format("{}{:.6g}", i ? ", " : "", c.element_as_double(i));
  if (c.numel() > 5) s += ", ...";
  return s + "]";
}

BatchDim batch_dim_of(const Session& session) {
  BatchDim b;
  for (const auto& in : session.inputs()) {
    if (!in.has_shape || in.shape.empty()) continue;
    if (in.shape[0] < 0 && !in.dim_names.empty() && !in.dim_names[0].empty()) {
      b.name = in.dim_names[0];
      return b;
    }
    if (in.shape[0] > 0) b.fixed = in.shape[0];
  }
  return b;
}

std::function<Expected<std::map<std::string, Tensor>>(int64_t, uint64_t)> random_input_factory(
    const Session& session, const std::map<std::string, std::string>& dims) {
  const Session* s = &session;
  const BatchDim b = batch_dim_of(session);
  return [s, b, dims](int64_t batch, uint64_t seed) -> Expected<std::map<std::string, Tensor>> {
    auto d = dims;
    if (!b.name.empty()) {
      d[b.name] = std::to_string(batch);
    } else if (batch != std::max<int64_t>(b.fixed, 1)) {
      return Status(StatusCode::invalid_argument,
                    fmt::format("batch {}: the model's first input dimension is static ({}), not a symbolic batch", batch,
                                b.fixed));
    }
    return make_inputs(*s, {}, d, seed);
  };
}

}  // namespace hwopt::cli
