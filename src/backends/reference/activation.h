// The activation of a fused op (`activation` / `activation_params` attributes of FusedConv,
// FusedGemm's parameters, FusedMatMul, FusedConvTranspose, FusedConvDepthwise): parsed once and
// applied to one value exactly as the standalone reference kernel computes it. The reference
// fused kernels apply it; CPU kernels that apply an activation themselves (the own
// transposed-convolution kernels) parse it here and compute it as apply() does.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backends/kernel.h"
#include "backends/reference/util.h"

namespace hwopt::reference {

/// A fused activation: its name and parameters (activation / activation_params attributes).
struct Activation {
  enum class Kind { none, relu, leaky_relu, clip, sigmoid, tanh, hard_sigmoid, hard_swish, silu, mish, gelu, fast_gelu };
  Kind kind = Kind::none;
  float p0 = 0, p1 = 0;

  static Activation parse(const std::string& name, const std::vector<float>& params) {
    auto param = [&](size_t i, float def) { return i < params.size() ? params[i] : def; };
    Activation a;
    if (name.empty()) {
      a.kind = Kind::none;
    } else if (name == "Relu") {
      a.kind = Kind::relu;
    } else if (name == "LeakyRelu") {
      a.kind = Kind::leaky_relu;
      a.p0 = param(0, 0.01f);
    } else if (name == "Clip") {
      a.kind = Kind::clip;
      a.p0 = param(0, std::numeric_limits<float>::lowest());
      a.p1 = param(1, std::numeric_limits<float>::max());
    } else if (name == "Sigmoid") {
      a.kind = Kind::sigmoid;
    } else if (name == "Tanh") {
      a.kind = Kind::tanh;
    } else if (name == "HardSigmoid") {
      a.kind = Kind::hard_sigmoid;
      a.p0 = param(0, 0.2f);
      a.p1 = param(1, 0.5f);
    } else if (name == "HardSwish") {
      a.kind = Kind::hard_swish;
    } else if (name == "Silu") {
      a.kind = Kind::silu;
    } else if (name == "Mish") {
      a.kind = Kind::mish;
    } else if (name == "Gelu") {
      a.kind = Kind::gelu;
    } else if (name == "FastGelu") {
      a.kind = Kind::fast_gelu;
    } else {
      throw KernelError(fmt::format("unsupported activation '{}'", name));
    }
    return a;
  }


  /// The activation of x, computed exactly as the standalone reference kernel does.
  template <typename C>
  C apply(C x) const {
    switch (kind) {
      case Kind::none: return x;
      case Kind::relu: return std::isnan(x) ? x : (x > C(0) ? x : C(0));
      case Kind::leaky_relu: return x < C(0) ? static_cast<C>(p0) * x : x;
      case Kind::clip: {
        const C lo = static_cast<C>(p0), hi = static_cast<C>(p1);
        if (x < lo) x = lo;
        if (x > hi) x = hi;
        return x;
      }
      case Kind::sigmoid: return stable_sigmoid(x);
      case Kind::tanh: return std::tanh(x);
      case Kind::hard_sigmoid:
        return std::max(C(0), std::min(C(1), static_cast<C>(p0) * x + static_cast<C>(p1)));
      case Kind::hard_swish: return x * std::max(C(0), std::min(C(1), x / C(6) + C(0.5)));
      case Kind::silu: return x * stable_sigmoid(x);
      case Kind::mish: return x * std::tanh(stable_softplus(x));  // as Softplus, Tanh and Mul
      case Kind::gelu: return C(0.5) * x * (C(1) + std::erf(x / static_cast<C>(std::sqrt(2.0))));
      case Kind::fast_gelu: {
        const C k = static_cast<C>(std::sqrt(2.0 / 3.14159265358979323846));
        return C(0.5) * x * (C(1) + std::tanh(k * (x + static_cast<C>(0.044715) * x * x * x)));
      }
    }
    return x;
  }
};

}  // namespace hwopt::reference
