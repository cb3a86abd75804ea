// ReverseSequence: reverses the first sequence_lens[b] steps along the time axis of each batch entry.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_reverse_sequence(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const std::vector<int64_t> lens = to_int64_vector(ctx.input(1));
  const int64_t r = x.rank();
  HWOPT_KCHECK(r >= 2, "input must have rank >= 2, got shape {}", shape_str(x.shape()));
  const int64_t batch_axis = ctx.attr_int("batch_axis", 1);
  const int64_t time_axis = ctx.attr_int("time_axis", 0);
  HWOPT_KCHECK((batch_axis == 0 || batch_axis == 1) && (time_axis == 0 || time_axis == 1) && batch_axis != time_axis,
               "attributes 'batch_axis' = {} and 'time_axis' = {} must be 0 and 1 in some order", batch_axis, time_axis);
  const int64_t batch = x.dim(batch_axis), time = x.dim(time_axis);
  HWOPT_KCHECK(ctx.input(1).rank() == 1 && static_cast<int64_t>(lens.size()) == batch,
               "input 'sequence_lens' has shape {}, expected [{}]", shape_str(ctx.input(1).shape()), batch);
  for (int64_t b = 0; b < batch; ++b)
    HWOPT_KCHECK(lens[b] >= 0 && lens[b] <= time, "sequence_lens[{}] = {} is out of range [0, {}]", b, lens[b], time);
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  const int64_t inner = dims_product(x.shape(), 2, r);
  const int64_t st_b = batch_axis == 0 ? x.dim(1) * inner : inner;  // element stride of the batch axis
  const int64_t st_t = time_axis == 0 ? x.dim(1) * inner : inner;   // element stride of the time axis
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < time; ++t) {
        const int64_t from = t < lens[b] ? lens[b] - 1 - t : t;
        for (int64_t j = 0; j < inner; ++j) dst[b * st_b + t * st_t + j] = src[b * st_b + from * st_t + j];
      }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("ReverseSequence", "", 1, ref_reverse_sequence);

}  // namespace hwopt::reference
