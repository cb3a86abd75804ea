// Dropout: identity in inference (mask all true); in training mode (opset 12+) a seeded random mask.
#include <random>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


void ref_dropout(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input data must be a float tensor, got {}", dtype_name(x.dtype()));
  double ratio = ctx.attr_float("ratio", 0.5f);
  bool training = false;
  if (ctx.opset() >= 12) {
    if (ctx.has_input(1)) {
      const Tensor& r = ctx.input(1);
      HWOPT_KCHECK(r.numel() == 1 && dtype_is_float(r.dtype()), "input ratio must be a float scalar, got {} {}",
                   dtype_name(r.dtype()), shape_str(r.shape()));
      ratio = to_double_vector(r)[0];
    }
    if (ctx.has_input(2)) {
      const Tensor& t = ctx.input(2);
      HWOPT_KCHECK(t.numel() == 1 && t.dtype() == DType::boolean,
                   "input training_mode must be a bool scalar, got {} {}", dtype_name(t.dtype()), shape_str(t.shape()));
      training = t.contiguous().data<bool>()[0];
    }
  }
  HWOPT_KCHECK(ratio >= 0.0 && ratio < 1.0, "ratio must be in [0, 1), got {}", ratio);
  if (training && ratio == 0.0) training = false;

  // Mask: bool from opset 10, the input's type (1/0) in opsets 7-9.
  const bool bool_mask = ctx.opset() >= 10;
  const bool want_mask = ctx.num_outputs() > 1 && ctx.wants_output(1);
  if (!training) {
    ctx.set_output(0, x);
    if (want_mask) {
      if (bool_mask) {
        Tensor& m = ctx.allocate_output(1, DType::boolean, x.shape());
        for (int64_t i = 0; i < m.numel(); ++i) m.data<bool>()[i] = true;
      } else {
        visit_float(x.dtype(), [&](auto tag) {
          using T = typename decltype(tag)::type;
          Tensor& m = ctx.allocate_output(1, x.dtype(), x.shape());
          for (int64_t i = 0; i < m.numel(); ++i) m.data<T>()[i] = from_dbl<T>(1.0);
        });
      }
    }
    return;
  }
  // MT19937 with 53-bit doubles, the generator numpy's legacy np.random.seed/uniform use, so a given
  // seed reproduces numpy's mask.
  std::mt19937 rng(ctx.has_attr("seed") ? static_cast<uint32_t>(ctx.attr_int("seed", 0)) : std::random_device{}());
  auto uniform = [&rng]() {
    const uint32_t a = rng() >> 5, b = rng() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  };
  const Tensor xc = x.contiguous();
  const double scale = 1.0 / (1.0 - ratio);
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    bool* mp = want_mask ? ctx.allocate_output(1, DType::boolean, x.shape()).data<bool>() : nullptr;
    for (int64_t i = 0; i < y.numel(); ++i) {
      const bool keep = uniform() >= ratio;
      y.data<T>()[i] = from_dbl<T>(keep ? to_dbl(xc.data<T>()[i]) * scale : 0.0);
      if (mp) mp[i] = keep;
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Dropout", "", 1, ref_dropout);

}  // namespace hwopt::reference
