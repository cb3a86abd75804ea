// Tile: repeats a tensor along each axis (repeats input from opset 6; tiles/axis inputs in opset 1).
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_tile(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t r = x.rank();
  std::vector<int64_t> repeats(static_cast<size_t>(r), 1);
  if (ctx.opset() < 6) {
    // Tile-1: scalar 'tiles' copies along scalar 'axis'.
    const std::vector<int64_t> tiles = to_int64_vector(ctx.input(1));
    const std::vector<int64_t> axis = to_int64_vector(ctx.input(2));
    HWOPT_KCHECK(tiles.size() == 1 && axis.size() == 1, "inputs 'tiles' and 'axis' must hold one value each");
    HWOPT_KCHECK(axis[0] >= 0 && axis[0] < r, "input 'axis' = {} is out of range for rank {}", axis[0], r);
    repeats[axis[0]] = tiles[0];
  } else {
    const Tensor& rep = ctx.input(1);
    HWOPT_KCHECK(rep.rank() == 1, "input 'repeats' must be 1-D, got shape {}", shape_str(rep.shape()));
    repeats = to_int64_vector(rep);
    HWOPT_KCHECK(static_cast<int64_t>(repeats.size()) == r, "input 'repeats' {} has {} entries, input has rank {}",
                 shape_str(repeats), repeats.size(), r);
  }
  Shape out_shape(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    HWOPT_KCHECK(repeats[d] >= 0, "repeat count {} for axis {} is negative", repeats[d], d);
    HWOPT_KCHECK(repeats[d] == 0 || x.dim(d) <= INT64_MAX / repeats[d], "output dim {} * {} is too large",
                 x.dim(d), repeats[d]);
    out_shape[d] = x.dim(d) * repeats[d];
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  Shape st(static_cast<size_t>(r), 1);
  for (int64_t d = r - 2; d >= 0; --d) st[d] = st[d + 1] * x.dim(d + 1);
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (int64_t i = 0; i < out.numel(); ++i) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) off += (pos[d] % x.dim(d)) * st[d];
      dst[i] = src[off];
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++pos[d] < out_shape[d]) break;
        pos[d] = 0;
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Tile", "", 1, ref_tile);

}  // namespace hwopt::reference
