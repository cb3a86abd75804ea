// Helpers shared by reference kernels: dtype dispatch, broadcasting, axis handling.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/kernel.h"

namespace hwopt::reference {

/// 1 / (1 + e^-x) without overflow (e^-|x| only), as the Sigmoid kernel computes it; the fused
/// kernels (Silu) and the CPU kernels' libm paths call the same.
template <typename C>
C stable_sigmoid(C x) {
  if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
  const C e = std::exp(x);
  return e / (C(1) + e);
}

/// log(1 + e^x) without overflow, as the Softplus kernel computes it (also Mish's inner step).
template <typename C>
C stable_softplus(C x) {
  return x > C(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

template <typename T>
struct type_tag {
  using type = T;
};

/// Calls f(type_tag<T>{}) for the C++ type of a floating dtype; KernelError otherwise.
template <typename F>
void visit_float(DType dt, F&& f) {
  switch (dt) {
    case DType::float32: f(type_tag<float>{}); return;
    case DType::float64: f(type_tag<double>{}); return;
    case DType::float16: f(type_tag<Half>{}); return;
    case DType::bfloat16: f(type_tag<BFloat16>{}); return;
    default: throw KernelError(fmt::format("dtype {} is not supported here (expected a float type)", dtype_name(dt)));
  }
}

/// Integer dtypes (signed and unsigned, not bool).
template <typename F>
void visit_integer(DType dt, F&& f) {
  switch (dt) {
    case DType::int8: f(type_tag<int8_t>{}); return;
    case DType::int16: f(type_tag<int16_t>{}); return;
    case DType::int32: f(type_tag<int32_t>{}); return;
    case DType::int64: f(type_tag<int64_t>{}); return;
    case DType::uint8: f(type_tag<uint8_t>{}); return;
    case DType::uint16: f(type_tag<uint16_t>{}); return;
    case DType::uint32: f(type_tag<uint32_t>{}); return;
    case DType::uint64: f(type_tag<uint64_t>{}); return;
    default: throw KernelError(fmt::format("dtype {} is not supported here (expected an integer type)", dtype_name(dt)));
  }
}

/// Every number type (floats and integers, not bool, not string).
template <typename F>
void visit_numeric(DType dt, F&& f) {
  if (dtype_is_float(dt)) return visit_float(dt, f);
  return visit_integer(dt, f);
}

/// Numbers and bool.
template <typename F>
void visit_numeric_bool(DType dt, F&& f) {
  if (dt == DType::boolean) return f(type_tag<bool>{});
  return visit_numeric(dt, f);
}

/// Every dtype including bool and string.
template <typename F>
void visit_all(DType dt, F&& f) {
  if (dt == DType::string) return f(type_tag<std::string>{});
  return visit_numeric_bool(dt, f);
}

/// True for the 16-bit float types, whose arithmetic goes through float.
template <typename T>
constexpr bool is_half_like = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

/// Element value as double (16-bit floats through float), and back.
template <typename T>
double to_dbl(T v) {
  if constexpr (is_half_like<T>) {
    return static_cast<double>(static_cast<float>(v));
  } else {
    return static_cast<double>(v);
  }
}
template <typename T>
T from_dbl(double v) {
  if constexpr (is_half_like<T>) {
    return T(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

/// Before opset 7, B broadcasts to A only with attribute broadcast=1, aligned at `axis` (default: trailing
/// dims). Returns B reshaped so that numpy broadcasting gives the same result.
Tensor legacy_broadcast_b(const KernelContext& ctx, const Tensor& a, const Tensor& b);

/// numpy-style broadcast of two shapes; KernelError naming both if incompatible.
Shape broadcast_shape(const Shape& a, const Shape& b);
/// For each element of `out` (row-major), the offset of the element of a contiguous tensor of
/// shape `in` that broadcasts to it.
std::vector<int64_t> broadcast_offsets(const Shape& in, const Shape& out);
/// Maps a possibly negative axis into [0, rank); KernelError if out of range.
int64_t normalize_axis(int64_t axis, int64_t rank);
/// Reads an int32/int64 tensor (e.g. a shape or axes input) into int64 values.
std::vector<int64_t> to_int64_vector(const Tensor& t);
/// Reads a float-like or integer scalar/tensor into doubles.
std::vector<double> to_double_vector(const Tensor& t);
/// Product of dims [begin, end).
int64_t dims_product(const Shape& s, int64_t begin, int64_t end);

}  // namespace hwopt::reference
