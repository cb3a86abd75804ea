// String ops: StringNormalizer, StringConcat, StringSplit, RegexFullMatch.
#include <regex>
#include <string>
#include <unordered_set>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// Case mapping for ASCII and the Latin-1 letters (UTF-8 C3 xx), locale-independent (en_US rules).
std::string change_case(const std::string& s, bool upper) {
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) {
      if (upper && c >= 'a' && c <= 'z') out[i] = static_cast<char>(c - 32);
      if (!upper && c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c + 32);
    } else if (c == 0xC3 && i + 1 < out.size()) {
      unsigned char d = static_cast<unsigned char>(out[i + 1]);
      if (upper && d >= 0xA0 && d <= 0xBE && d != 0xB7) out[i + 1] = static_cast<char>(d - 0x20);
      if (!upper && d >= 0x80 && d <= 0x9E && d != 0x97) out[i + 1] = static_cast<char>(d + 0x20);
      ++i;
    }
  }
  return out;
}

const Tensor& string_input(const KernelContext& ctx, size_t i, const char* name) {
  const Tensor& t = ctx.input(i);
  HWOPT_KCHECK(t.dtype() == DType::string, "input '{}' must be a string tensor, got {}", name, dtype_name(t.dtype()));
  return t;
}

// ---- StringNormalizer ----

void ref_string_normalizer(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  const bool two_d = x.rank() == 2;
  HWOPT_KCHECK(x.rank() == 1 || (two_d && x.dim(0) == 1), "input 'X' must have shape [C] or [1, C], got {}",
               shape_str(x.shape()));
  const std::string action = ctx.attr_string("case_change_action", "NONE");
  HWOPT_KCHECK(action == "NONE" || action == "LOWER" || action == "UPPER",
               "attribute 'case_change_action' must be NONE, LOWER or UPPER, got '{}'", action);
  const bool case_sensitive = ctx.attr_int("is_case_sensitive", 0) != 0;
  std::unordered_set<std::string> stop;
  for (const auto& w : ctx.attr_strings("stopwords", {})) stop.insert(case_sensitive ? w : change_case(w, false));

  std::vector<std::string> kept;
  const std::string* in = x.data<std::string>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const std::string key = case_sensitive ? in[i] : change_case(in[i], false);
    if (stop.count(key)) continue;
    if (action == "LOWER") {
      kept.push_back(change_case(in[i], false));
    } else if (action == "UPPER") {
      kept.push_back(change_case(in[i], true));
    } else {
      kept.push_back(in[i]);
    }
  }
  if (kept.empty()) kept.emplace_back();  // all dropped: a single empty string
  const int64_t k = static_cast<int64_t>(kept.size());
  Tensor& out = ctx.allocate_output(0, DType::string, two_d ? Shape{1, k} : Shape{k});
  for (int64_t i = 0; i < k; ++i) out.data<std::string>()[i] = kept[i];
}

// ---- StringConcat (broadcasting X + Y) ----

void ref_string_concat(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  const Tensor y = string_input(ctx, 1, "Y").contiguous();
  const Shape shape = broadcast_shape(x.shape(), y.shape());
  const auto xo = broadcast_offsets(x.shape(), shape);
  const auto yo = broadcast_offsets(y.shape(), shape);
  Tensor& out = ctx.allocate_output(0, DType::string, shape);
  for (int64_t i = 0; i < out.numel(); ++i)
    out.data<std::string>()[i] = x.data<std::string>()[xo[i]] + y.data<std::string>()[yo[i]];
}

// ---- StringSplit (Python str.split semantics) ----

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string> split_string(const std::string& s, const std::string& sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep.empty()) {
    // Runs of whitespace separate; leading/trailing whitespace is dropped (the unsplit remainder
    // keeps its trailing whitespace once maxsplit is reached, as in Python).
    size_t i = 0;
    const size_t n = s.size();
    int64_t splits = 0;
    while (i < n) {
      while (i < n && is_space(s[i])) ++i;
      if (i == n) break;
      if (maxsplit >= 0 && splits == maxsplit) {
        parts.push_back(s.substr(i));
        break;
      }
      size_t j = i;
      while (j < n && !is_space(s[j])) ++j;
      parts.push_back(s.substr(i, j - i));
      ++splits;
      i = j;
    }
    return parts;
  }
  size_t start = 0;
  int64_t splits = 0;
  while (maxsplit < 0 || splits < maxsplit) {
    size_t at = s.find(sep, start);
    if (at == std::string::npos) break;
    parts.push_back(s.substr(start, at - start));
    start = at + sep.size();
    ++splits;
  }
  parts.push_back(s.substr(start));
  return parts;
}

void ref_string_split(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  const std::string sep = ctx.attr_string("delimiter", "");
  const int64_t maxsplit = ctx.attr_int("maxsplit", -1);
  std::vector<std::vector<std::string>> all(static_cast<size_t>(x.numel()));
  int64_t width = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    all[i] = split_string(x.data<std::string>()[i], sep, maxsplit);
    width = std::max<int64_t>(width, static_cast<int64_t>(all[i].size()));
  }
  Shape y_shape = x.shape();
  y_shape.push_back(width);
  Tensor& y = ctx.allocate_output(0, DType::string, y_shape);
  for (int64_t i = 0; i < x.numel(); ++i)
    for (size_t k = 0; k < all[i].size(); ++k) y.data<std::string>()[i * width + static_cast<int64_t>(k)] = all[i][k];
  if (ctx.wants_output(1)) {
    Tensor& z = ctx.allocate_output(1, DType::int64, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) z.data<int64_t>()[i] = static_cast<int64_t>(all[i].size());
  }
}

// ---- RegexFullMatch (std::regex ECMAScript syntax, which covers the common RE2 subset) ----

void ref_regex_full_match(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  HWOPT_KCHECK(ctx.has_attr("pattern"), "attribute 'pattern' is required");
  const std::string pattern = ctx.attr_string("pattern", "");
  Tensor& out = ctx.allocate_output(0, DType::boolean, x.shape());
  try {
    const std::regex re(pattern, std::regex::ECMAScript);
    for (int64_t i = 0; i < x.numel(); ++i) out.data<bool>()[i] = std::regex_match(x.data<std::string>()[i], re);
  } catch (const std::regex_error& e) {
    HWOPT_KCHECK(false, "attribute 'pattern' = '{}': {}", pattern, e.what());
  }
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("StringNormalizer", "", 10, ref_string_normalizer);
HWOPT_REGISTER_REF_KERNEL("StringConcat", "", 20, ref_string_concat);
HWOPT_REGISTER_REF_KERNEL("StringSplit", "", 20, ref_string_split);
HWOPT_REGISTER_REF_KERNEL("RegexFullMatch", "", 20, ref_regex_full_match);

}  // namespace hwopt::reference
