// DepthToSpace (DCR/CRD) and SpaceToDepth: block rearrangements of NCHW tensors via reshape + transpose.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

int64_t blocksize_attr(const KernelContext& ctx) {
  HWOPT_KCHECK(ctx.has_attr("blocksize"), "attribute 'blocksize' is required");
  const int64_t b = ctx.attr_int("blocksize", 0);
  HWOPT_KCHECK(b >= 1, "attribute 'blocksize' = {} must be >= 1", b);
  return b;
}

void ref_depth_to_space(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(x.rank() == 4, "input must be 4-D [N,C,H,W], got shape {}", shape_str(x.shape()));
  const int64_t b = blocksize_attr(ctx);
  const std::string mode = ctx.opset() >= 11 ? ctx.attr_string("mode", "DCR") : "DCR";
  HWOPT_KCHECK(mode == "DCR" || mode == "CRD", "attribute 'mode' = '{}' must be DCR or CRD", mode);
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  HWOPT_KCHECK(c % (b * b) == 0, "channels {} are not divisible by blocksize^2 = {}", c, b * b);
  const int64_t oc = c / (b * b);
  Tensor t;
  if (mode == "DCR") {
    // [N, b, b, C/b^2, H, W] -> [N, C/b^2, H, b, W, b]
    t = x.reshape({n, b, b, oc, h, w}).permute({0, 3, 4, 1, 5, 2});
  } else {
    // [N, C/b^2, b, b, H, W] -> [N, C/b^2, H, b, W, b]
    t = x.reshape({n, oc, b, b, h, w}).permute({0, 1, 4, 2, 5, 3});
  }
  ctx.set_output(0, t.clone().reshape({n, oc, h * b, w * b}));
}

void ref_space_to_depth(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(x.rank() == 4, "input must be 4-D [N,C,H,W], got shape {}", shape_str(x.shape()));
  const int64_t b = blocksize_attr(ctx);
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  HWOPT_KCHECK(h % b == 0 && w % b == 0, "spatial dims {}x{} are not divisible by blocksize {}", h, w, b);
  // [N, C, H/b, b, W/b, b] -> [N, b, b, C, H/b, W/b]
  Tensor t = x.reshape({n, c, h / b, b, w / b, b}).permute({0, 3, 5, 1, 2, 4});
  ctx.set_output(0, t.clone().reshape({n, c * b * b, h / b, w / b}));
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("DepthToSpace", "", 1, ref_depth_to_space);
HWOPT_REGISTER_REF_KERNEL("SpaceToDepth", "", 1, ref_space_to_depth);

}  // namespace hwopt::reference
