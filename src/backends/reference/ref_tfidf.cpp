// TfIdfVectorizer: counts pooled n-grams (with skips) per row and weights them (TF, IDF, TFIDF).
#include <algorithm>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

using Token = std::variant<int64_t, std::string>;

void ref_tfidf_vectorizer(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  HWOPT_KCHECK(x.rank() == 1 || x.rank() == 2, "input 'X' must have shape [C] or [N, C], got {}",
               shape_str(x.shape()));
  const std::string mode = ctx.attr_string("mode", "");
  HWOPT_KCHECK(mode == "TF" || mode == "IDF" || mode == "TFIDF", "attribute 'mode' must be TF, IDF or TFIDF, got '{}'",
               mode);
  const int64_t min_n = ctx.attr_int("min_gram_length", 0);
  const int64_t max_n = ctx.attr_int("max_gram_length", 0);
  const int64_t max_skip = ctx.attr_int("max_skip_count", 0);
  HWOPT_KCHECK(min_n >= 1 && max_n >= min_n, "need 1 <= min_gram_length ({}) <= max_gram_length ({})", min_n, max_n);
  HWOPT_KCHECK(max_skip >= 0, "attribute 'max_skip_count' must be non-negative, got {}", max_skip);
  const std::vector<int64_t> counts = ctx.attr_ints("ngram_counts", {});
  const std::vector<int64_t> indexes = ctx.attr_ints("ngram_indexes", {});
  const std::vector<float> weights = ctx.attr_floats("weights", {});

  // The pool as a flat token list.
  std::vector<Token> pool;
  const bool strings = ctx.has_attr("pool_strings");
  HWOPT_KCHECK(strings != ctx.has_attr("pool_int64s"), "exactly one of 'pool_strings' and 'pool_int64s' must be set");
  if (strings) {
    HWOPT_KCHECK(x.dtype() == DType::string, "input 'X' must be a string tensor with 'pool_strings', got {}",
                 dtype_name(x.dtype()));
    for (const auto& s : ctx.attr_strings("pool_strings")) pool.emplace_back(s);
  } else {
    HWOPT_KCHECK(x.dtype() == DType::int32 || x.dtype() == DType::int64,
                 "input 'X' must be int32 or int64 with 'pool_int64s', got {}", dtype_name(x.dtype()));
    for (int64_t v : ctx.attr_ints("pool_int64s")) pool.emplace_back(v);
  }

  // Split the pool into n-grams: counts[k] is where the (k+1)-grams start.
  const int64_t pool_size = static_cast<int64_t>(pool.size());
  std::map<std::vector<Token>, int64_t> ngram_id;  // n-gram -> its index i in the pool's n-gram list
  int64_t next_id = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    const int64_t n = static_cast<int64_t>(k) + 1;
    const int64_t begin = counts[k];
    const int64_t end = k + 1 < counts.size() ? counts[k + 1] : pool_size;
    HWOPT_KCHECK(begin >= 0 && begin <= end && end <= pool_size,
                 "attribute 'ngram_counts' is inconsistent with the pool size {} at entry {}", pool_size, k);
    HWOPT_KCHECK((end - begin) % n == 0, "pool section for {}-grams has {} items, not a multiple of {}", n,
                 end - begin, n);
    for (int64_t at = begin; at < end; at += n) {
      std::vector<Token> g(pool.begin() + at, pool.begin() + at + n);
      ngram_id.emplace(std::move(g), next_id);
      ++next_id;
    }
  }
  HWOPT_KCHECK(static_cast<int64_t>(indexes.size()) == next_id,
               "attribute 'ngram_indexes' has {} entries, but the pool holds {} n-grams", indexes.size(), next_id);
  HWOPT_KCHECK(weights.empty() || weights.size() == indexes.size(),
               "attribute 'weights' has {} entries, expected {} (one per n-gram)", weights.size(), indexes.size());
  int64_t out_size = 0;
  for (int64_t v : indexes) {
    HWOPT_KCHECK(v >= 0 && v < (int64_t{1} << 40), "attribute 'ngram_indexes' has an invalid index {}", v);
    out_size = std::max(out_size, v + 1);
  }

  const int64_t rows = x.rank() == 2 ? x.dim(0) : 1;
  const int64_t cols = x.rank() == 2 ? x.dim(1) : x.dim(0);
  auto token = [&](int64_t i) -> Token {
    if (x.dtype() == DType::string) return x.data<std::string>()[i];
    if (x.dtype() == DType::int32) return static_cast<int64_t>(x.data<int32_t>()[i]);
    return x.data<int64_t>()[i];
  };

  Tensor& y = ctx.allocate_output(0, DType::float32, x.rank() == 2 ? Shape{rows, out_size} : Shape{out_size});
  std::vector<double> out(static_cast<size_t>(y.numel()), 0.0);
  // Longer n-grams than the pool holds or a row can contain, and strides wider than a row, match
  // nothing: bound the loops by them.
  const int64_t top_n = std::min({max_n, static_cast<int64_t>(counts.size()), cols});
  for (int64_t row = 0; row < rows; ++row) {
    std::vector<int64_t> freq(static_cast<size_t>(next_id), 0);  // per pool n-gram
    for (int64_t n = min_n; n <= top_n; ++n) {
      // A 1-gram does not depend on the skip, so it is counted once.
      const int64_t skips = n == 1 ? 0 : std::min(max_skip, cols);
      for (int64_t skip = 0; skip <= skips; ++skip) {
        const int64_t stride = skip + 1;
        for (int64_t start = 0; start + (n - 1) * stride < cols; ++start) {
          std::vector<Token> g;
          for (int64_t k = 0; k < n; ++k) g.push_back(token(row * cols + start + k * stride));
          auto it = ngram_id.find(g);
          if (it != ngram_id.end()) ++freq[it->second];
        }
      }
    }
    for (int64_t i = 0; i < next_id; ++i) {
      const double w = weights.empty() ? 1.0 : static_cast<double>(weights[i]);
      double v;
      if (mode == "TF") {
        v = static_cast<double>(freq[i]);
      } else if (mode == "IDF") {
        v = freq[i] > 0 ? w : 0.0;
      } else {
        v = static_cast<double>(freq[i]) * w;
      }
      out[row * out_size + indexes[i]] += v;
    }
  }
  for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = static_cast<float>(out[i]);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("TfIdfVectorizer", "", 9, ref_tfidf_vectorizer);

}  // namespace hwopt::reference
