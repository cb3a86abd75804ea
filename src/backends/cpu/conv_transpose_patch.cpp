// ConvTranspose whose kernel equals its stride (no overlap: each input pixel writes its own
// kh x kw patch of the output), no padding, one group, with few outputs per pixel
// (M x kh x kw <= 16): the own kernel `cpu:own:deconv_patch`. It reads a blocked (nChw16c) input
// as it is and writes the plain output, one dot product over the channels per output value.
// PP-OCRv4 det's last layer (24 channels at 320x320 to one channel at 640x640) ran on oneDNN in
// 1.4 ms (the reorder of its input to channels-last, which oneDNN's deconvolution needs for one
// output channel) + 1.8 ms; the direct kernel reads the blocked input once.
#include <immintrin.h>

#include <fmt/format.h>

#include <algorithm>

#include "backends/backend.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/own_util.h"

namespace hwopt::cpu {
namespace {

constexpr int64_t kMaxOutputsPerPixel = 16;

bool all_equal(const ir::Node& n, const char* name, int64_t v) {
  const ir::Attribute* a = n.attr(name);
  return !a || std::all_of(a->ints.begin(), a->ints.end(), [&](int64_t x) { return x == v; });
}

bool avx512_available() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return ok;
}

std::string check_patch(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  if (nc.input_rank(0) != -1 && nc.input_rank(0) != 4) return "not a 2-D transposed convolution";
  const Tensor* w = nc.constant_input(1);
  if (!w || w->dtype() != DType::float32 || w->rank() != 4) return "weights are not a constant float32 [C, M, kh, kw]";
  if (nc.has_input(2) && !nc.constant_input(2)) return "bias is not a constant initializer";
  const ir::Node& n = nc.node;
  if (!all_equal(n, "group", 1) || !all_equal(n, "dilations", 1) || !all_equal(n, "pads", 0) ||
      !all_equal(n, "output_padding", 0) || n.attr("output_shape"))
    return "groups, dilations, pads, output_padding or output_shape";
  if (const ir::Attribute* a = n.attr("auto_pad"); a && a->s != "NOTSET" && a->s != "VALID") return "auto_pad";
  const ir::Attribute* s = n.attr("strides");
  if (!s || s->ints != std::vector<int64_t>{w->dim(2), w->dim(3)}) return "the stride is not the kernel size";
  if (w->dim(1) * w->dim(2) * w->dim(3) > kMaxOutputsPerPixel)
    return fmt::format("{} outputs per input pixel (at most {})", w->dim(1) * w->dim(2) * w->dim(3),
                       kMaxOutputsPerPixel);
  if (!avx512_available()) return "needs AVX-512";
  return "";
}

// GCC 12 warns that the intrinsics' internal _mm512_undefined_* operands are uninitialized when
// they are inlined into a function with a target attribute (a false positive of its headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// One input row of one image: `x` at (n, channel block 0, row h, column 0) in nChw16c, blocks
// `block_stride` floats apart; `wt` [O][blocks * 16] (padded channels zero); `out` the output at
// the row's patch origin (row h * kh, column 0), output o at offset[o] + w * kw.
template <int O>
__attribute__((target("avx512f,fma"))) void patch_row(const float* x, int64_t block_stride, int64_t blocks,
                                                      int64_t width, int64_t kw, const float* wt, const float* bias,
                                                      const int64_t* offset, float* out) {
  for (int64_t w = 0; w < width; ++w) {
    __m512 acc[O];
    for (int o = 0; o < O; ++o) acc[o] = _mm512_setzero_ps();
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const __m512 xv = _mm512_loadu_ps(x + cb * block_stride + w * 16);
      for (int o = 0; o < O; ++o) acc[o] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wt + (o * blocks + cb) * 16), acc[o]);
    }
    for (int o = 0; o < O; ++o) out[offset[o] + w * kw] = _mm512_reduce_add_ps(acc[o]) + bias[o];
  }
}

#pragma GCC diagnostic pop

using RowFn = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, const float*, const float*, const int64_t*,
                       float*);

template <int... Os>
RowFn row_fn_of(int o, std::integer_sequence<int, Os...>) {
  RowFn fn = nullptr;
  ((Os + 1 == o ? (fn = &patch_row<Os + 1>, 0) : 0), ...);
  return fn;
}

class PatchKernel {
 public:
  PatchKernel(const NodeContext& nc, KernelFn reference)
      : weights_(nc.constant_input(1)->contiguous()), reference_(std::move(reference)) {
    C_ = weights_.dim(0);
    M_ = weights_.dim(1);
    kh_ = weights_.dim(2);
    kw_ = weights_.dim(3);
    blocks_ = (C_ + 15) / 16;
    const int64_t outs = M_ * kh_ * kw_;
    // [o][block * 16 + lane] with o = (m * kh + a) * kw + b; padded channels stay zero.
    wt_.assign(static_cast<size_t>(outs * blocks_ * 16), 0.f);
    const float* w = weights_.data<float>();
    for (int64_t c = 0; c < C_; ++c)
      for (int64_t o = 0; o < outs; ++o) wt_[static_cast<size_t>(o * blocks_ * 16 + c)] = w[c * outs + o];
    bias_.assign(static_cast<size_t>(outs), 0.f);
    if (nc.has_input(2)) {
      const Tensor b = nc.constant_input(2)->contiguous();
      if (b.numel() == M_)
        for (int64_t o = 0; o < outs; ++o) bias_[static_cast<size_t>(o)] = b.data<float>()[o / (kh_ * kw_)];
      else
        bad_bias_ = true;  // the reference kernel names the error
    }
    row_ = row_fn_of(static_cast<int>(outs), std::make_integer_sequence<int, kMaxOutputsPerPixel>{});
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (bad_bias_ || !row_ || x.dtype() != DType::float32 || x.rank() != 4 || x.dim(1) != C_ || x.numel() == 0 ||
        ctx.input(1).storage() != weights_.storage())
      return run_plain(ctx, reference_);
    const int64_t N = x.dim(0), H = x.dim(2), W = x.dim(3), OH = H * kh_, OW = W * kw_;
    const Tensor xb = convert_to(x, dnnl::memory::desc(to_dims(x.shape()), dnnl::memory::data_type::f32,
                                                       dnnl::memory::format_tag::aBcd16b),
                                 0.f);  // nothing if x is already blocked
    Tensor& out = ctx.allocate_uninitialized_output(0, DType::float32, {N, M_, OH, OW});
    std::vector<int64_t> offset;
    for (int64_t m = 0; m < M_; ++m)
      for (int64_t a = 0; a < kh_; ++a)
        for (int64_t b = 0; b < kw_; ++b) offset.push_back((m * OH + a) * OW + b);
    const float* in = xb.data<float>();
    float* o = out.data<float>();
    own::parallel_range(N * H, N * H * W * blocks_ * 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / H, h = r % H;
        row_(in + (n * blocks_ * H + h) * W * 16, H * W * 16, blocks_, W, kw_, wt_.data(), bias_.data(),
             offset.data(), o + n * M_ * OH * OW + h * kh_ * OW);
      }
    });
  }

 private:
  Tensor weights_;
  int64_t C_ = 0, M_ = 0, kh_ = 0, kw_ = 0, blocks_ = 0;
  std::vector<float> wt_, bias_;
  bool bad_bias_ = false;
  RowFn row_ = nullptr;
  KernelFn reference_;
};

Candidate patch_candidate() {
  Candidate c;
  c.backend = "cpu";
  c.name = "own:deconv_patch";
  c.op_type = "ConvTranspose";
  c.priority = -1;  // before oneDNN's
  c.accepts_layouts = true;
  c.check = check_patch;
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<PatchKernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(patch_candidate());

}  // namespace hwopt::cpu
