// Softmax and LogSoftmax on oneDNN's softmax_v2 primitive, plain in and out. Before opset 13 the
// input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] and normalised along its rows;
// from opset 13 along the single axis, viewed as [outer, n, inner]. oneDNN has a fast kernel only
// for inner == 1; other axes run a loop here that is vectorised across `inner` (with AVX-512 and
// own_math.h's exp; libm's otherwise).
#include <fmt/format.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/own_math.h"

namespace hwopt::cpu {
namespace {

int64_t attr_axis(const ir::Node& n) {
  const ir::Attribute* a = n.attr("axis");
  return a ? a->i : (n.opset >= 13 ? -1 : 1);
}

std::string check_softmax(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  const int64_t rank = nc.input_rank(0);
  const int64_t axis = attr_axis(nc.node);
  if (rank >= 0 && (axis < -std::max<int64_t>(rank, 1) || axis >= std::max<int64_t>(rank, 1)))
    return fmt::format("axis {} is out of range for rank {}", axis, rank);
  return "";
}

/// One [n, inner] block of the strided softmax: the maxima and sums per column in m and s
/// (inner floats each), the loops vectorised across the columns; exp_fn is e^x.
template <typename Exp>
OWN_INLINE void softmax_block(const float* px, float* py, int64_t n, int64_t inner, bool log, float* m, float* s,
                              Exp exp_fn) {
  for (int64_t i = 0; i < inner; ++i) {
    m[i] = -std::numeric_limits<float>::infinity();
    s[i] = 0.f;
  }
  for (int64_t k = 0; k < n; ++k) {
    const float* r = px + k * inner;
    for (int64_t i = 0; i < inner; ++i) m[i] = r[i] > m[i] ? r[i] : m[i];
  }
  for (int64_t k = 0; k < n; ++k) {
    const float* r = px + k * inner;
    float* w = py + k * inner;
    for (int64_t i = 0; i < inner; ++i) {
      w[i] = exp_fn(r[i] - m[i]);
      s[i] += w[i];
    }
  }
  if (log) {
    for (int64_t i = 0; i < inner; ++i) s[i] = m[i] + std::log(s[i]);
    for (int64_t k = 0; k < n; ++k) {
      const float* r = px + k * inner;
      float* w = py + k * inner;
      for (int64_t i = 0; i < inner; ++i) w[i] = r[i] - s[i];
    }
  } else {
    for (int64_t i = 0; i < inner; ++i) s[i] = 1.f / s[i];
    for (int64_t k = 0; k < n; ++k) {
      float* w = py + k * inner;
      for (int64_t i = 0; i < inner; ++i) w[i] *= s[i];
    }
  }
}

void softmax_block_libm(const float* px, float* py, int64_t n, int64_t inner, bool log, float* m, float* s) {
  softmax_block(px, py, n, inner, log, m, s, [](float v) { return std::exp(v); });
}
// With AVX-512 the exponentials are own::exp_approx (within 2 ulp of libm's), vectorised.
OWN_AVX512 void softmax_block_avx512(const float* px, float* py, int64_t n, int64_t inner, bool log, float* m,
                                     float* s) {
  softmax_block(px, py, n, inner, log, m, s, [](float v) __attribute__((always_inline)) { return own::exp_approx(v); });
}

/// Softmax (or log-softmax) of x viewed as [outer, n, inner] along n.
void strided_softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  const bool wide = own::use_avx512();
  // Per-thread column maxima and sums, allocated once before the parallel region (an allocation
  // failure must not throw inside it); the region's team has omp_get_max_threads() threads at most.
  const int threads = omp_get_max_threads();
  std::vector<float> scratch(static_cast<size_t>(2 * inner * threads));
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < outer; ++o) {
    float* m = scratch.data() + 2 * inner * omp_get_thread_num();
    const float* px = x + o * n * inner;
    float* py = y + o * n * inner;
    if (wide) {
      softmax_block_avx512(px, py, n, inner, log, m, m + inner);
    } else {
      softmax_block_libm(px, py, n, inner, log, m, m + inner);
    }
  }
}

struct SoftmaxEntry {
  dnnl::softmax_v2_forward prim;
  dnnl::memory::desc desc;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

class SoftmaxKernel {
 public:
  SoftmaxKernel(const NodeContext& nc, KernelFn reference)
      : log_(nc.node.op_type == "LogSoftmax"), reference_(std::move(reference)) {}

  void operator()(KernelContext& ctx) {
    const Tensor& in = ctx.input(0);
    const int64_t rank = in.rank();
    int64_t axis = ctx.attr_int("axis", ctx.opset() >= 13 ? -1 : 1);
    if (in.dtype() != DType::float32 || axis < -std::max<int64_t>(rank, 1) || axis >= std::max<int64_t>(rank, 1))
      return run_plain(ctx, reference_);
    if (in.numel() == 0) {
      ctx.allocate_output(0, in.dtype(), in.shape());
      return;
    }
    if (axis < 0) axis += rank;
    if (rank == 0) axis = 0;
    const Shape& s = in.shape();
    auto prod = [&](int64_t b, int64_t e) {
      int64_t p = 1;
      for (int64_t i = b; i < e; ++i) p *= s[i];
      return p;
    };
    const int64_t outer = prod(0, axis);
    const int64_t n = ctx.opset() >= 13 ? (rank == 0 ? 1 : s[axis]) : prod(axis, rank);
    const int64_t inner = ctx.opset() >= 13 ? prod(axis + 1, rank) : 1;
    const Tensor x = in.to_plain().contiguous();
    if (inner > 1) {
      Tensor& y = ctx.allocate_uninitialized_output(0, DType::float32, in.shape());
      strided_softmax(x.data<float>(), y.data<float>(), outer, n, inner, log_);
      return;
    }
    auto e = cache_.get(std::to_string(outer) + "x" + std::to_string(n), [&] {
      SoftmaxEntry entry;
      entry.desc = plain_desc({outer, n}, DType::float32);
      dnnl::softmax_v2_forward::desc d(dnnl::prop_kind::forward_inference,
                                       log_ ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate,
                                       entry.desc, entry.desc, 1);
      entry.prim = dnnl::softmax_v2_forward(dnnl::softmax_v2_forward::primitive_desc(d, user_scratchpad_attr(), engine()));
      entry.kernel = impl_name(entry.prim);
      return entry;
    });
    Tensor dst = Tensor::uninitialized(DType::float32, in.shape());
    ctx.set_kernel_detail(e->kernel);
    execute_with_scratchpad(e->prim, {{DNNL_ARG_SRC, memory_of(x, e->desc)}, {DNNL_ARG_DST, memory_of(dst, e->desc)}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  bool log_;
  KernelFn reference_;
  ShapeCache<SoftmaxEntry> cache_;
};

Candidate softmax_candidate(const char* op) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:softmax";
  c.op_type = op;
  c.check = check_softmax;
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<SoftmaxKernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(softmax_candidate("Softmax"));
HWOPT_REGISTER_CANDIDATE(softmax_candidate("LogSoftmax"));

}  // namespace hwopt::cpu
