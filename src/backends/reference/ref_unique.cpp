// Unique: unique elements (or slices along an axis), first-occurrence indices, inverse indices, counts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// Three-way comparison; NaNs are equal to each other and greater than every number.
template <typename T>
int compare3(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> || std::is_integral_v<T>) {
    return a < b ? -1 : (b < a ? 1 : 0);
  } else {
    double x, y;
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      x = static_cast<float>(a);
      y = static_cast<float>(b);
    } else {
      x = static_cast<double>(a);
      y = static_cast<double>(b);
    }
    const bool nx = std::isnan(x), ny = std::isnan(y);
    if (nx || ny) return nx == ny ? 0 : (nx ? 1 : -1);
    return x < y ? -1 : (y < x ? 1 : 0);
  }
}

void ref_unique(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  const int64_t rank = input.rank();
  const bool sorted = ctx.attr_int("sorted", 1) != 0;
  const bool has_axis = ctx.has_attr("axis");

  // Bring the data into [m, slice] layout: m items of `slice` elements each.
  Tensor xt;
  std::vector<int64_t> perm;
  Shape item_shape;  // dims of one item (the input dims other than `axis`)
  if (has_axis) {
    const int64_t axis_attr = ctx.attr_int("axis", 0);
    HWOPT_KCHECK(axis_attr >= -rank && axis_attr < rank, "attribute 'axis' = {} is out of range for rank {}", axis_attr,
                 rank);
    const int64_t axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
    perm.push_back(axis);
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) continue;
      perm.push_back(d);
      item_shape.push_back(input.dim(d));
    }
    xt = input.permute(perm).contiguous();
  } else {
    xt = input.contiguous();
  }
  const int64_t m = has_axis ? xt.dim(0) : xt.numel();
  const int64_t slice = shape_numel(item_shape);

  visit_all(xt.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = xt.data<T>();
    auto cmp_items = [&](int64_t a, int64_t b) {
      for (int64_t e = 0; e < slice; ++e) {
        int c = compare3(px[a * slice + e], px[b * slice + e]);
        if (c != 0) return c;
      }
      return 0;
    };

    // Stable sort by value, so each run of equal items starts with its first occurrence.
    std::vector<int64_t> order(static_cast<size_t>(m));
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp_items(a, b) < 0; });
    struct Group {
      int64_t first;
      std::vector<int64_t> members;
    };
    std::vector<Group> groups;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || cmp_items(order[i - 1], order[i]) != 0) groups.push_back({order[i], {}});
      groups.back().members.push_back(order[i]);
    }
    if (!sorted) {
      std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.first < b.first; });
    }
    const int64_t k = static_cast<int64_t>(groups.size());

    Shape front_shape{k};
    front_shape.insert(front_shape.end(), item_shape.begin(), item_shape.end());
    Tensor front(xt.dtype(), front_shape);
    T* pf = front.data<T>();
    for (int64_t g = 0; g < k; ++g)
      for (int64_t e = 0; e < slice; ++e) pf[g * slice + e] = px[groups[g].first * slice + e];
    if (has_axis) {
      std::vector<int64_t> inverse_perm(perm.size());
      for (size_t p = 0; p < perm.size(); ++p) inverse_perm[perm[p]] = static_cast<int64_t>(p);
      ctx.set_output(0, front.permute(inverse_perm).contiguous());
    } else {
      ctx.set_output(0, front);
    }

    if (ctx.wants_output(1)) {
      int64_t* p = ctx.allocate_output(1, DType::int64, {k}).data<int64_t>();
      for (int64_t g = 0; g < k; ++g) p[g] = groups[g].first;
    }
    if (ctx.wants_output(2)) {
      int64_t* p = ctx.allocate_output(2, DType::int64, {m}).data<int64_t>();
      for (int64_t g = 0; g < k; ++g)
        for (int64_t member : groups[g].members) p[member] = g;
    }
    if (ctx.wants_output(3)) {
      int64_t* p = ctx.allocate_output(3, DType::int64, {k}).data<int64_t>();
      for (int64_t g = 0; g < k; ++g) p[g] = static_cast<int64_t>(groups[g].members.size());
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Unique", "", 11, ref_unique);

}  // namespace hwopt::reference
