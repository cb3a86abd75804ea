// Cast and CastLike: element type conversion between numbers, bool, float16, bfloat16 and strings.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// double -> float without UB: finite values beyond float's range round to +-FLT_MAX or +-inf as IEEE
/// round-to-nearest would.
float double_to_float(double v) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (std::isfinite(v) && std::fabs(v) > kMax) {
    // Halfway between FLT_MAX and 2^128 (0x1.ffffffp127) and above rounds to infinity.
    constexpr double kOverflow = 0x1.ffffffp127;
    float r = std::fabs(v) >= kOverflow ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::max();
    return v < 0 ? -r : r;
  }
  return static_cast<float>(v);
}

/// Float -> integer: truncates toward zero and saturates to the target range; NaN gives 0.
/// (Out-of-range conversion is undefined in ONNX; this choice is deterministic and UB-free.)
template <typename I>
I float_to_int(double v) {
  if (std::isnan(v)) return I(0);
  double t = std::trunc(v);
  if (t <= static_cast<double>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (t >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(t);
}

/// Converts one number/bool value of type S to type D (neither is a string).
template <typename D, typename S>
D convert_number(const S& s) {
  if constexpr (std::is_same_v<D, S>) {
    return s;
  } else if constexpr (is_half_like<S>) {
    return convert_number<D>(static_cast<float>(s));
  } else if constexpr (is_half_like<D>) {
    return D(convert_number<float>(s));
  } else if constexpr (std::is_same_v<D, bool>) {
    return s != S(0);  // NaN -> true
  } else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    return float_to_int<D>(static_cast<double>(s));
  } else if constexpr (std::is_same_v<S, double> && std::is_same_v<D, float>) {
    return double_to_float(s);
  } else {
    // int -> int wraps modulo 2^bits (well defined since C++20); int/bool -> float rounds; float -> double.
    return static_cast<D>(s);
  }
}

// ---- numbers -> strings ----

/// Shortest decimal digits (no dot, no trailing zeros) and exponent e with value = d.ddd * 10^e, for a
/// finite non-zero value that round-trips through type T.
template <typename T>
void shortest_digits(T value, std::string& digits, int& exp10) {
  char buf[64];
  std::string sci;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    sci.assign(buf, res.ptr);
  } else {
    // 16-bit floats: the fewest significant digits that parse back to the same bits.
    const float f = static_cast<float>(value);
    for (int prec = 0; prec <= 9; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*e", prec, static_cast<double>(f));
      if (T(std::strtof(buf, nullptr)).bits == value.bits) break;
    }
    sci = buf;
  }
  // sci looks like "-1.2345e+06" or "5e-324".
  size_t epos = sci.find('e');
  exp10 = std::atoi(sci.c_str() + epos + 1);
  digits.clear();
  for (size_t i = 0; i < epos; ++i) {
    if (sci[i] >= '0' && sci[i] <= '9') digits.push_back(sci[i]);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
}

/// numpy's str() of a float scalar: shortest round-trip digits, positional for 1e-4 <= |x| < 1e16
/// ("0.5", "100.0"), scientific otherwise ("1e-05", "1.5e+17"); specials as ONNX spells them ("NaN",
/// "INF", "-INF").
template <typename T>
std::string float_to_string(T value) {
  const double d = static_cast<double>(static_cast<std::conditional_t<is_half_like<T>, float, T>>(value));
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "INF" : "-INF";
  std::string out = std::signbit(d) ? "-" : "";
  if (d == 0) return out + "0.0";
  std::string digits;
  int e = 0;
  shortest_digits(value, digits, e);
  const double mag = std::fabs(d);
  if (mag >= 1e-4 && mag < 1e16) {
    if (e >= 0) {
      std::string int_part = digits.substr(0, std::min<size_t>(digits.size(), static_cast<size_t>(e) + 1));
      int_part.append(static_cast<size_t>(e) + 1 - int_part.size(), '0');
      std::string frac = digits.size() > static_cast<size_t>(e) + 1 ? digits.substr(static_cast<size_t>(e) + 1) : "0";
      return out + int_part + "." + frac;
    }
    return out + "0." + std::string(static_cast<size_t>(-e - 1), '0') + digits;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", e < 0 ? '-' : '+', std::abs(e));
  return out + ebuf;
}

template <typename S>
std::string number_to_string(const S& s) {
  if constexpr (std::is_same_v<S, bool>) {
    return s ? "True" : "False";  // numpy's str(bool)
  } else if constexpr (std::is_integral_v<S>) {
    return std::to_string(s);
  } else {
    return float_to_string(s);
  }
}

// ---- strings -> numbers ----

bool iequals(const std::string& a, const char* b) {
  if (a.size() != std::strlen(b)) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(b, e - b + 1);
}

/// Parses a decimal/scientific number or "NaN", "INF", "+INF", "-INF" (any case) as double/float.
template <typename F>
F parse_float(const std::string& raw) {
  const std::string s = trim(raw);
  if (iequals(s, "nan") || iequals(s, "+nan") || iequals(s, "-nan")) return std::numeric_limits<F>::quiet_NaN();
  if (iequals(s, "inf") || iequals(s, "+inf") || iequals(s, "infinity") || iequals(s, "+infinity")) {
    return std::numeric_limits<F>::infinity();
  }
  if (iequals(s, "-inf") || iequals(s, "-infinity")) return -std::numeric_limits<F>::infinity();
  HWOPT_KCHECK(!s.empty(), "Cast: cannot convert string '{}' to a number", raw);
  char* end = nullptr;
  errno = 0;
  F v;
  if constexpr (std::is_same_v<F, float>) {
    v = std::strtof(s.c_str(), &end);
  } else {
    v = std::strtod(s.c_str(), &end);
  }
  HWOPT_KCHECK(end == s.c_str() + s.size() && s.find_first_of("xXpP") == std::string::npos,
               "Cast: cannot convert string '{}' to a number", raw);
  return v;  // overflow gives +-inf, underflow 0 (errno ignored on purpose)
}

template <typename D>
D string_to_number(const std::string& raw) {
  if constexpr (std::is_same_v<D, float> || std::is_same_v<D, double>) {
    return parse_float<D>(raw);
  } else if constexpr (is_half_like<D>) {
    return D(parse_float<float>(raw));
  } else if constexpr (std::is_same_v<D, bool>) {
    const std::string s = trim(raw);
    if (iequals(s, "true")) return true;
    if (iequals(s, "false")) return false;
    return parse_float<double>(raw) != 0.0;
  } else {
    // Integers: exact parse when the whole string is an integer, else through double ("100.5" -> 100);
    // either way out-of-range values saturate to D's range.
    const std::string s = trim(raw);
    if (!s.empty() && !(s[0] == '+' && s.size() > 1 && (s[1] == '-' || s[1] == '+'))) {
      const char* first = s.c_str() + (s[0] == '+' ? 1 : 0);
      const char* last = s.c_str() + s.size();
      if (*first == '-') {
        int64_t v = 0;
        auto res = std::from_chars(first, last, v);
        if (res.ec == std::errc() && res.ptr == last) {
          if constexpr (std::is_unsigned_v<D>) return D(0);
          else return v < std::numeric_limits<D>::lowest() ? std::numeric_limits<D>::lowest() : static_cast<D>(v);
        }
      } else {
        uint64_t v = 0;
        auto res = std::from_chars(first, last, v);
        if (res.ec == std::errc() && res.ptr == last) {
          return v > static_cast<uint64_t>(std::numeric_limits<D>::max()) ? std::numeric_limits<D>::max()
                                                                          : static_cast<D>(v);
        }
      }
    }
    return float_to_int<D>(parse_float<double>(raw));
  }
}

/// Writes `in` converted to dtype `to` into output 0.
void cast_tensor(KernelContext& ctx, const Tensor& in_view, DType to) {
  Tensor in = in_view.contiguous();
  Tensor& out = ctx.allocate_output(0, to, in.shape());
  const int64_t n = in.numel();
  visit_all(in.dtype(), [&](auto stag) {
    using S = typename decltype(stag)::type;
    const S* src = in.data<S>();
    visit_all(to, [&](auto dtag) {
      using D = typename decltype(dtag)::type;
      D* dst = out.data<D>();
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<S, std::string> && std::is_same_v<D, std::string>) {
          dst[i] = src[i];
        } else if constexpr (std::is_same_v<S, std::string>) {
          dst[i] = string_to_number<D>(src[i]);
        } else if constexpr (std::is_same_v<D, std::string>) {
          dst[i] = number_to_string(src[i]);
        } else {
          dst[i] = convert_number<D>(src[i]);
        }
      }
    });
  });
}

/// Maps an ONNX TensorProto.DataType number to a DType we support, with a clear error otherwise.
DType target_dtype(int64_t to, const char* what) {
  switch (to) {
    case 14: case 15:
      throw KernelError(fmt::format("Cast: {} is complex ({}), which is not supported", what, to));
    case 17: case 18: case 19: case 20:
      throw KernelError(fmt::format("Cast: {} is a float8 type ({}), which is not supported", what, to));
    case 21: case 22:
      throw KernelError(fmt::format("Cast: {} is a 4-bit integer type ({}), which is not supported", what, to));
    default: break;
  }
  HWOPT_KCHECK(to >= 0 && to <= std::numeric_limits<int32_t>::max() && dtype_is_known(static_cast<int32_t>(to)) &&
                   to != 0,
               "Cast: {} = {} is not a valid data type", what, to);
  return static_cast<DType>(to);
}

/// Opset 1 spelled `to` as a string ("FLOAT", "INT64", ...).
DType dtype_from_name(const std::string& name) {
  static const std::pair<const char*, DType> kNames[] = {
      {"FLOAT", DType::float32}, {"UINT8", DType::uint8},     {"INT8", DType::int8},
      {"UINT16", DType::uint16}, {"INT16", DType::int16},     {"INT32", DType::int32},
      {"INT64", DType::int64},   {"STRING", DType::string},   {"BOOL", DType::boolean},
      {"FLOAT16", DType::float16}, {"DOUBLE", DType::float64}, {"UINT32", DType::uint32},
      {"UINT64", DType::uint64}, {"BFLOAT16", DType::bfloat16}};
  for (const auto& [n, dt] : kNames) {
    if (name == n) return dt;
  }
  throw KernelError(fmt::format("Cast: attribute 'to' = '{}' is not a supported data type name", name));
}

void ref_cast(KernelContext& ctx) {
  const ir::Attribute* to_attr = ctx.node().attr("to");
  HWOPT_KCHECK(to_attr != nullptr, "Cast: attribute 'to' is required");
  DType to = to_attr->type == ir::AttrType::s ? dtype_from_name(to_attr->s)
                                              : target_dtype(ctx.attr_int("to", 0), "attribute 'to'");
  // `saturate` (opset 19) only affects float8 targets, which are rejected above.
  cast_tensor(ctx, ctx.input(0), to);
}

void ref_cast_like(KernelContext& ctx) {
  const Tensor& target = ctx.input(1);
  cast_tensor(ctx, ctx.input(0), target.dtype());
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Cast", "", 1, ref_cast);
HWOPT_REGISTER_REF_KERNEL("CastLike", "", 15, ref_cast_like);

}  // namespace hwopt::reference
