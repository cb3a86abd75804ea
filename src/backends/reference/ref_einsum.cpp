// Einsum: general Einstein summation (explicit/implicit output, ellipsis broadcasting, repeated labels).
#include <algorithm>
#include <array>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


template <typename T>
uint64_t wrap(T v) {
  return static_cast<uint64_t>(static_cast<int64_t>(v));
}

constexpr int kEllipsis = -1;
constexpr int kLetters = 52;  // a-z -> 0..25, A-Z -> 26..51; ellipsis dims get ids from 52 on

/// Splits one subscript term into letter ids and at most one kEllipsis.
std::vector<int> parse_term(const std::string& term, const std::string& equation) {
  std::vector<int> out;
  bool seen_ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    const char ch = term[i];
    if (ch >= 'a' && ch <= 'z') {
      out.push_back(ch - 'a');
    } else if (ch >= 'A' && ch <= 'Z') {
      out.push_back(26 + (ch - 'A'));
    } else if (ch == '.') {
      HWOPT_KCHECK(term.compare(i, 3, "...") == 0, "equation '{}': a '.' must be part of '...'", equation);
      HWOPT_KCHECK(!seen_ellipsis, "equation '{}': term '{}' has more than one '...'", equation, term);
      seen_ellipsis = true;
      out.push_back(kEllipsis);
      i += 2;
    } else {
      HWOPT_KCHECK(false, "equation '{}': invalid character '{}'", equation, ch);
    }
  }
  return out;
}

/// Sort key for implicit output order: uppercase before lowercase (ASCII order).
int ascii_of(int id) { return id < 26 ? 'a' + id : 'A' + (id - 26); }

void ref_einsum(KernelContext& ctx) {
  HWOPT_KCHECK(ctx.has_attr("equation"), "attribute 'equation' is required");
  const std::string raw = ctx.attr_string("equation", "");
  std::string eq;
  for (char ch : raw)
    if (ch != ' ') eq += ch;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  HWOPT_KCHECK(arrow == std::string::npos || eq.find("->", arrow + 2) == std::string::npos,
               "equation '{}' has more than one '->'", raw);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const size_t n_in = ctx.num_inputs();
  HWOPT_KCHECK(terms.size() == n_in, "equation '{}' has {} input terms but the node has {} inputs", raw, terms.size(),
               n_in);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < n_in; ++i) inputs.push_back(ctx.input(i).contiguous());
  const DType dt = inputs[0].dtype();
  for (size_t i = 1; i < n_in; ++i) {
    HWOPT_KCHECK(inputs[i].dtype() == dt, "input {} has dtype {} but input 0 has {}", i, dtype_name(inputs[i].dtype()),
                 dtype_name(dt));
  }

  // Expand each term to one label per input dimension; ellipsis dims are right-aligned across inputs.
  std::vector<std::vector<int>> parsed(n_in);
  int64_t ell_rank = 0;
  for (size_t i = 0; i < n_in; ++i) {
    parsed[i] = parse_term(terms[i], raw);
    const int64_t letters = std::count_if(parsed[i].begin(), parsed[i].end(), [](int l) { return l != kEllipsis; });
    const bool has_ell = letters != static_cast<int64_t>(parsed[i].size());
    const int64_t r = inputs[i].rank();
    HWOPT_KCHECK(has_ell ? r >= letters : r == letters, "equation '{}': term '{}' does not match input {} of shape {}",
                 raw, terms[i], i, shape_str(inputs[i].shape()));
    if (has_ell) ell_rank = std::max(ell_rank, r - letters);
  }
  const int n_labels = kLetters + static_cast<int>(ell_rank);
  std::vector<int64_t> size(static_cast<size_t>(n_labels), -1);
  std::vector<int> count(static_cast<size_t>(n_labels), 0);
  std::vector<std::vector<int>> labels(n_in);
  for (size_t i = 0; i < n_in; ++i) {
    const int64_t r = inputs[i].rank();
    const int64_t e = r - static_cast<int64_t>(parsed[i].size()) + 1;  // this input's ellipsis rank (if any)
    for (int l : parsed[i]) {
      if (l == kEllipsis) {
        for (int64_t k = 0; k < e; ++k) labels[i].push_back(kLetters + static_cast<int>(ell_rank - e + k));
      } else {
        labels[i].push_back(l);
      }
    }
    for (int64_t d = 0; d < r; ++d) {
      const int l = labels[i][d];
      const int64_t dim = inputs[i].dim(d);
      ++count[l];
      if (l >= kLetters) {  // ellipsis dims broadcast
        HWOPT_KCHECK(size[l] < 0 || size[l] == dim || size[l] == 1 || dim == 1,
                     "equation '{}': ellipsis dims of input {} (shape {}) do not broadcast", raw, i,
                     shape_str(inputs[i].shape()));
        if (size[l] < 0 || size[l] == 1) size[l] = dim;
      } else {
        HWOPT_KCHECK(size[l] < 0 || size[l] == dim,
                     "equation '{}': label '{}' has size {} in input {} but {} elsewhere", raw,
                     static_cast<char>(ascii_of(l)), dim, i, size[l]);
        size[l] = dim;
      }
    }
  }

  // Output labels.
  std::vector<int> out_labels;
  if (arrow != std::string::npos) {
    const std::vector<int> parsed_out = parse_term(eq.substr(arrow + 2), raw);
    std::vector<bool> used(static_cast<size_t>(n_labels), false);
    for (int l : parsed_out) {
      if (l == kEllipsis) {
        for (int k = 0; k < ell_rank; ++k) out_labels.push_back(kLetters + k);
        continue;
      }
      HWOPT_KCHECK(count[l] > 0, "equation '{}': output label '{}' does not appear in any input", raw,
                   static_cast<char>(ascii_of(l)));
      HWOPT_KCHECK(!used[l], "equation '{}': output label '{}' is repeated", raw, static_cast<char>(ascii_of(l)));
      used[l] = true;
      out_labels.push_back(l);
    }
    // '...' dims left out of an explicit output are summed over (numpy semantics).
  } else {
    for (int k = 0; k < ell_rank; ++k) out_labels.push_back(kLetters + k);
    std::vector<int> singles;
    for (int l = 0; l < kLetters; ++l)
      if (count[l] == 1) singles.push_back(l);
    std::sort(singles.begin(), singles.end(), [](int a, int b) { return ascii_of(a) < ascii_of(b); });
    out_labels.insert(out_labels.end(), singles.begin(), singles.end());
  }
  for (int l = 0; l < n_labels; ++l)
    if (size[l] < 0) size[l] = 1;  // an ellipsis dim present in no input

  // Loop order: output labels, then summed labels. Each input's stride per loop label.
  std::vector<int> loop = out_labels;
  for (int l = 0; l < n_labels; ++l)
    if (count[l] > 0 && std::find(out_labels.begin(), out_labels.end(), l) == out_labels.end()) loop.push_back(l);
  const size_t n_out = out_labels.size(), n_loop = loop.size();
  std::vector<std::vector<int64_t>> strides(n_in, std::vector<int64_t>(n_loop, 0));
  for (size_t i = 0; i < n_in; ++i) {
    int64_t st = 1;
    for (int64_t d = inputs[i].rank() - 1; d >= 0; --d) {
      const int l = labels[i][d];
      const size_t pos = static_cast<size_t>(std::find(loop.begin(), loop.end(), l) - loop.begin());
      if (inputs[i].dim(d) != 1 || size[l] == 1) strides[i][pos] += st;  // size-1 broadcast dims stay put
      st *= inputs[i].dim(d);
    }
  }
  Shape out_shape;
  for (int l : out_labels) out_shape.push_back(size[l]);
  int64_t sum_count = 1;
  for (size_t k = n_out; k < n_loop; ++k) sum_count *= size[loop[k]];

  visit_numeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, dt, out_shape);
    T* yp = y.data<T>();
    std::vector<const T*> ptr(n_in);
    for (size_t i = 0; i < n_in; ++i) ptr[i] = inputs[i].template data<T>();
    std::vector<int64_t> idx(n_loop, 0), off(n_in, 0);
    for (int64_t o = 0; o < y.numel(); ++o) {
      double dacc = 0;
      uint64_t iacc = 0;
      for (int64_t s = 0; s < sum_count; ++s) {
        if constexpr (std::is_integral_v<T>) {
          uint64_t prod = 1;
          for (size_t i = 0; i < n_in; ++i) prod *= wrap(ptr[i][off[i]]);
          iacc += prod;
        } else {
          double prod = 1;
          for (size_t i = 0; i < n_in; ++i) prod *= to_dbl(ptr[i][off[i]]);
          dacc += prod;
        }
        // Advance the odometer (summed labels fastest, then output labels).
        for (size_t k = n_loop; k-- > 0;) {
          ++idx[k];
          for (size_t i = 0; i < n_in; ++i) off[i] += strides[i][k];
          if (idx[k] < size[loop[k]]) break;
          for (size_t i = 0; i < n_in; ++i) off[i] -= strides[i][k] * idx[k];
          idx[k] = 0;
        }
      }
      if constexpr (std::is_integral_v<T>) {
        yp[o] = static_cast<T>(iacc);
      } else {
        yp[o] = from_dbl<T>(dacc);
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Einsum", "", 12, ref_einsum);

}  // namespace hwopt::reference
