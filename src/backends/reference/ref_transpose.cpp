// Transpose: permutes the axes of a tensor (default perm reverses them).
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_transpose(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  std::vector<int64_t> perm;
  if (ctx.has_attr("perm")) {
    perm = ctx.attr_ints("perm");
  } else {
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  }
  HWOPT_KCHECK(static_cast<int64_t>(perm.size()) == r, "attribute 'perm' {} has {} entries, input has rank {}",
               shape_str(perm), perm.size(), r);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (int64_t p : perm) {
    HWOPT_KCHECK(p >= 0 && p < r && !seen[p], "attribute 'perm' {} is not a permutation of 0..{}",
                 shape_str(perm), r - 1);
    seen[p] = true;
  }
  // A strided view made contiguous: out[i0..] = x[... i_k at axis perm[k] ...].
  ctx.set_output(0, x.permute(perm).clone());
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Transpose", "", 1, ref_transpose);

}  // namespace hwopt::reference
