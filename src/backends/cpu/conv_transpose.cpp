// ConvTranspose (1-D to 3-D, groups, dilations, pads, output_padding, output_shape, auto_pad) on
// oneDNN's deconvolution primitive. Source, weights and destination in the formats oneDNN picks
// (format_tag::any: nChw16c-style blocked on AVX-512), so a blocked input from a convolution is read
// as it is and the output stays blocked for the next oneDNN op; the weights are reordered from
// ONNX's [C, M/group, k...] once per input shape. Fewer than 8 output channels are written
// channels-last instead (nChw16c would pad them to 16), and the bias is added by the kernel, not
// by oneDNN (its bias pass is slow). The output geometry follows the ONNX rules as the reference
// kernel does; geometries that need negative padding (an output_shape larger than the full
// transposed convolution) stay with the reference kernel.
//
// Before it, the own `cpu:own:deconv_patch` takes a 2-D ConvTranspose whose kernel equals its
// stride (no overlap: each input pixel writes its own kh x kw patch), no padding, one group, with
// at most 16 outputs per input pixel (M x kh x kw): it reads a blocked (nChw16c) input as it is and
// writes the plain output, one dot product over the channels per output value. PP-OCRv4 det's last
// layer (24 channels at 320x320 to one at 640x640) took 1.4 ms to reorder its input to
// channels-last for oneDNN plus 1.8 ms; 0.55 ms this way. The own `cpu:own:deconv_blocked` takes
// the same geometry with more outputs per pixel and at least 8 output channels, blocked input to
// blocked output (PP-OCRv4 det's 24 -> 24 channels at 2x).
//
// All three also run ai.hwopt FusedConvTranspose (fuse_conv_transpose_activation): the
// ConvTranspose followed by Relu, LeakyRelu or Clip keeping 0 (reference::Activation), applied as
// the output is written: by the own kernels in registers, by oneDNN as post-ops (the bias then a
// binary-add post-op before it).
#include <fmt/format.h>

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/own_util.h"
#include "backends/cpu/post_ops.h"
#include "backends/reference/activation.h"
#include "core/int_math.h"

namespace hwopt::cpu {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct DeconvAttrs {
  std::vector<int64_t> strides, dilations, pads, output_padding, output_shape;
  std::string auto_pad = "NOTSET";
  int64_t group = 1;
};

DeconvAttrs read_attrs(const ir::Node& n) {
  DeconvAttrs a;
  if (const ir::Attribute* x = n.attr("strides")) a.strides = x->ints;
  if (const ir::Attribute* x = n.attr("dilations")) a.dilations = x->ints;
  if (const ir::Attribute* x = n.attr("pads")) a.pads = x->ints;
  if (const ir::Attribute* x = n.attr("output_padding")) a.output_padding = x->ints;
  if (const ir::Attribute* x = n.attr("output_shape")) a.output_shape = x->ints;
  if (const ir::Attribute* x = n.attr("auto_pad")) a.auto_pad = x->s;
  if (const ir::Attribute* x = n.attr("group")) a.group = x->i;
  return a;
}

using reference::Activation;

/// ai.hwopt FusedConvTranspose's activation (fuse_conv_transpose_activation): its `activation` and
/// `activation_params`; none for ConvTranspose. Throws KernelError for an unknown name.
Activation activation_of(const ir::Node& n) {
  const ir::Attribute* name = n.attr("activation");
  const ir::Attribute* params = n.attr("activation_params");
  return Activation::parse(name ? name->s : "", params ? params->floats : std::vector<float>{});
}

/// "" if the CPU kernels apply the node's activation: none, Relu, LeakyRelu or Clip with
/// min <= 0 <= max (f(0) = 0, so the padding lanes of a blocked output stay zero; what
/// fuse_conv_transpose_activation fuses), else why not.
std::string check_activation(const ir::Node& n) {
  Activation a;
  try {
    a = activation_of(n);
  } catch (const KernelError& e) {
    return e.what();
  }
  using K = Activation::Kind;
  if (a.kind == K::none || a.kind == K::relu || a.kind == K::leaky_relu ||
      (a.kind == K::clip && a.p0 <= 0.f && a.p1 >= 0.f))
    return "";
  return fmt::format("activation '{}' (the CPU kernels apply Relu, LeakyRelu and Clip keeping 0)",
                     n.attr("activation")->s);
}

std::string check_conv_transpose(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  if (std::string why = check_activation(nc.node); !why.empty()) return why;
  const Tensor* w = nc.constant_input(1);
  if (!w) return "weights are not a constant initializer";
  if (w->dtype() != DType::float32) return "weights are not float32";
  if (w->rank() < 3 || w->rank() > 5)
    return fmt::format("weights of rank {} (only 1-D to 3-D transposed convolutions)", w->rank());
  if (nc.has_input(2) && !nc.constant_input(2)) return "bias is not a constant initializer";
  const DeconvAttrs a = read_attrs(nc.node);
  if (a.group < 1 || w->dim(0) % a.group != 0) return "group does not divide the input channels";
  if (a.auto_pad != "NOTSET" && a.auto_pad != "VALID" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER")
    return fmt::format("auto_pad '{}' is unknown", a.auto_pad);
  return "";
}

/// oneDNN's geometry for one input shape (strides, dilations as d - 1, pads, output dims), by the
/// ONNX rules (as ref_conv_transpose computes them). `ok` is false for anything to leave to the
/// reference kernel: invalid attributes (its errors name them) or negative padding.
struct Geometry {
  bool ok = false;
  dnnl::memory::dims strides, dilation, pad_l, pad_r;
  Shape out;  // [N, M, spatial...]
};

Geometry geometry(const DeconvAttrs& a, const Shape& x, const Shape& w) {
  Geometry g;
  const size_t n = x.size() - 2;
  if (w.size() != x.size() || x[1] != w[0] || x[1] % a.group != 0) return g;
  const auto strides = a.strides.empty() ? std::vector<int64_t>(n, 1) : a.strides;
  const auto dilations = a.dilations.empty() ? std::vector<int64_t>(n, 1) : a.dilations;
  const auto out_pad = a.output_padding.empty() ? std::vector<int64_t>(n, 0) : a.output_padding;
  const auto pads = a.pads.empty() ? std::vector<int64_t>(2 * n, 0) : a.pads;
  std::vector<int64_t> target = a.output_shape;
  if (target.size() == n + 2) target.erase(target.begin(), target.begin() + 2);
  if (strides.size() != n || dilations.size() != n || out_pad.size() != n || pads.size() != 2 * n ||
      (!target.empty() && target.size() != n))
    return g;
  constexpr int64_t kMax = int64_t{1} << 31;
  g.out = {x[0], w[1] * a.group};
  for (size_t d = 0; d < n; ++d) {
    const int64_t s = strides[d], dil = dilations[d], k = w[2 + d], in = x[2 + d];
    if (s < 1 || s > kMax || dil < 1 || dil > kMax || k < 1 || k > kMax || in < 1 || out_pad[d] < 0 ||
        out_pad[d] > kMax)
      return g;
    const int64_t full = s * (in - 1) + out_pad[d] + (k - 1) * dil + 1;
    int64_t out = 0, pb = 0;
    int64_t want = -1;
    if (!target.empty()) want = target[d];
    else if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") want = in * s;
    if (want >= 0) {
      const int64_t total = full - want;
      pb = a.auto_pad == "SAME_UPPER" ? floor_div(total, 2) : total - floor_div(total, 2);
      out = want;
    } else if (a.auto_pad == "VALID") {
      out = full;
    } else {
      if (pads[d] < 0 || pads[d + n] < 0) return g;
      pb = pads[d];
      out = full - pads[d] - pads[d + n];
    }
    const int64_t pe = full - pb - out;
    if (out < 1 || pb < 0 || pe < 0) return g;
    g.strides.push_back(s);
    g.dilation.push_back(dil - 1);
    g.pad_l.push_back(pb);
    g.pad_r.push_back(pe);
    g.out.push_back(out);
  }
  g.ok = true;
  return g;
}

/// Where the channel of each destination element is, for adding the bias ourselves: oneDNN 2.6's
/// deconvolution adds a bias input in a slow separate pass (6.1 against 1.2 ms for PP-OCR's
/// 24-channel 320x320 layer; an in-place binary primitive on nChw16c is its reference kernel).
struct BiasLayout {
  enum class Kind { none, plain, channels_last, blocked } kind = Kind::none;
  int64_t n = 0, c = 0, spatial = 0, block = 0;  // blocked: channels padded to a multiple of block
};

BiasLayout bias_layout_of(const dnnl::memory::desc& d, const Shape& out) {
  BiasLayout b;
  b.n = out[0];
  b.c = out[1];
  b.spatial = shape_numel(Shape(out.begin() + 2, out.end()));
  const size_t r = out.size();
  const tag cl = r == 3 ? tag::nwc : r == 4 ? tag::nhwc : tag::ndhwc;
  const tag b16 = r == 3 ? tag::nCw16c : r == 4 ? tag::nChw16c : tag::nCdhw16c;
  const tag b8 = r == 3 ? tag::nCw8c : r == 4 ? tag::nChw8c : tag::nCdhw8c;
  if (d == plain_desc(out, DType::float32)) {
    b.kind = BiasLayout::Kind::plain;
  } else if (d == tagged_desc(out, DType::float32, cl)) {
    b.kind = BiasLayout::Kind::channels_last;
  } else if (d == tagged_desc(out, DType::float32, b16)) {
    b.kind = BiasLayout::Kind::blocked;
    b.block = 16;
  } else if (d == tagged_desc(out, DType::float32, b8)) {
    b.kind = BiasLayout::Kind::blocked;
    b.block = 8;
  }
  return b;
}

/// dst += bias[channel], parallel over images x channel planes (or blocks, or pixels).
void add_bias(const BiasLayout& b, const float* bias, float* dst) {
  switch (b.kind) {
    case BiasLayout::Kind::plain:
      own::parallel_range(b.n * b.c, b.n * b.c * b.spatial, [&](int64_t begin, int64_t end) {
        for (int64_t nc = begin; nc < end; ++nc) {
          float* p = dst + nc * b.spatial;
          const float v = bias[nc % b.c];
          for (int64_t i = 0; i < b.spatial; ++i) p[i] += v;
        }
      });
      return;
    case BiasLayout::Kind::channels_last:
      own::parallel_range(b.n * b.spatial, b.n * b.c * b.spatial, [&](int64_t begin, int64_t end) {
        for (int64_t px = begin; px < end; ++px) {
          float* p = dst + px * b.c;
          for (int64_t c = 0; c < b.c; ++c) p[c] += bias[c];
        }
      });
      return;
    case BiasLayout::Kind::blocked: {
      const int64_t blocks = (b.c + b.block - 1) / b.block;
      own::parallel_range(b.n * blocks, b.n * blocks * b.block * b.spatial, [&](int64_t begin, int64_t end) {
        float lanes[16] = {};
        for (int64_t nb = begin; nb < end; ++nb) {
          const int64_t c0 = (nb % blocks) * b.block;
          for (int64_t l = 0; l < b.block; ++l) lanes[l] = c0 + l < b.c ? bias[c0 + l] : 0.f;  // padding stays 0
          float* p = dst + nb * b.spatial * b.block;
          for (int64_t i = 0; i < b.spatial; ++i)
            for (int64_t l = 0; l < b.block; ++l) p[i * b.block + l] += lanes[l];
        }
      });
      return;
    }
    case BiasLayout::Kind::none:
      return;
  }
}

struct DeconvEntry {
  bool ok = false;
  dnnl::deconvolution_forward prim;
  dnnl::deconvolution_forward::primitive_desc pd;
  dnnl::memory weights;  // reordered once into pd.weights_desc()
  Tensor weights_holder;
  Shape out;
  bool plain_out = false;  // the destination's bytes are the plain layout's (one channel, channels-last)
  BiasLayout bias_layout;  // how add_bias walks the destination; none: the primitive adds the bias
  dnnl::memory::desc bias_post_op;  // non-zero: the bias is the binary-add post-op (with an activation)
  std::string kernel;               // oneDNN's implementation, for KernelContext::set_kernel_detail
};

class ConvTransposeKernel {
 public:
  ConvTransposeKernel(const NodeContext& nc, KernelFn reference)
      : attrs_(read_attrs(nc.node)),
        weights_(nc.constant_input(1)->contiguous()),
        reference_(std::move(reference)) {
    if (nc.has_input(2)) bias_ = nc.constant_input(2)->contiguous();
    if (const ir::Attribute* a = nc.node.attr("activation")) activation_ = a->s;
    if (const ir::Attribute* a = nc.node.attr("activation_params")) activation_params_ = a->floats;
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::float32 || x.rank() != weights_.rank() || x.numel() == 0)
      return run_plain(ctx, reference_);
    const bool bias_ok = !bias_.defined() || (bias_.rank() == 1 && bias_.dim(0) == weights_.dim(1) * attrs_.group);
    if (!bias_ok) return run_plain(ctx, reference_);
    // A BF16-stored input (precision bf16) is read as FP32: the weights stay FP32.
    const bool as_is = !x.is_plain() && desc_of(x).data_type() == dt::f32;
    auto e = cache_.get(shape_key(ctx), [&] { return create(x, as_is); });
    if (!e->ok) return run_plain(ctx, reference_);
    ctx.set_kernel_detail(e->kernel);
    const Tensor src = reorder_to(as_is ? x : x.to_plain().contiguous(), e->pd.src_desc());
    Tensor dst = e->plain_out ? Tensor::uninitialized(DType::float32, e->out)
                              : allocate_like(e->pd.dst_desc(), DType::float32, e->out);
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, memory_of(src, e->pd.src_desc())},
                                                {DNNL_ARG_WEIGHTS, e->weights},
                                                {DNNL_ARG_DST, memory_of(dst, e->pd.dst_desc())}};
    if (!e->bias_post_op.is_zero()) {
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = memory_of(bias_, e->bias_post_op);
    } else if (bias_.defined() && e->bias_layout.kind == BiasLayout::Kind::none) {
      args[DNNL_ARG_BIAS] = memory_of(bias_, e->pd.bias_desc());
    }
    execute_with_scratchpad(e->prim, args);
    stream().wait();
    if (bias_.defined() && e->bias_layout.kind != BiasLayout::Kind::none)
      add_bias(e->bias_layout, bias_.data<float>(), static_cast<float*>(dst.raw_data()));
    ctx.set_output(0, std::move(dst));
  }

 private:
  DeconvEntry create(const Tensor& x, bool as_is) const {
    DeconvEntry e;
    const Geometry g = geometry(attrs_, x.shape(), weights_.shape());
    if (!g.ok) return e;
    const int64_t G = attrs_.group, C = x.dim(1), Cg = C / G, Mg = weights_.dim(1);
    const Shape kernel(weights_.shape().begin() + 2, weights_.shape().end());
    const int64_t ksp = shape_numel(kernel);
    // ONNX weights [C, M/G, k...] = [G, Cg, Mg, k...] described as oneDNN's [(G,) Mg, Cg, k...].
    Shape wdims, wstrides;
    if (G > 1) {
      wdims = {G, Mg, Cg};
      wstrides = {Cg * Mg * ksp, ksp, Mg * ksp};
    } else {
      wdims = {Mg, Cg};
      wstrides = {ksp, Mg * ksp};
    }
    int64_t ks = ksp;
    for (int64_t k : kernel) {
      ks /= k;
      wdims.push_back(k);
      wstrides.push_back(ks);
    }
    const dnnl::memory::desc onnx_w = strided_desc(wdims, wstrides);
    if (onnx_w.is_zero()) return e;
    try {
      const dnnl::memory::desc src_d = as_is ? desc_of(x) : dnnl::memory::desc(to_dims(x.shape()), dt::f32, tag::any);
      const dnnl::memory::desc w_d(to_dims(wdims), dt::f32, tag::any);
      const int64_t M = g.out[1];
      // FusedConvTranspose: the activation is a post-op (post_ops.h), after the bias as a
      // binary-add post-op, both applied as oneDNN writes the output (add_bias afterwards would
      // come after the activation; oneDNN's own bias input is slow).
      dnnl::primitive_attr attr = user_scratchpad_attr();
      if (!activation_.empty()) {
        dnnl::post_ops ops;
        if (bias_.defined()) {
          Shape per_channel(x.shape().size(), 1);
          per_channel[1] = M;
          e.bias_post_op = plain_desc(per_channel, DType::float32);
          ops.append_binary(dnnl::algorithm::binary_add, e.bias_post_op);
        }
        append_activation(ops, activation_, activation_params_);
        attr.set_post_ops(ops);
      }
      auto make = [&](const dnnl::memory::desc& s_d, const dnnl::memory::desc& d_d) {
        dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                            s_d, w_d, d_d, g.strides, g.dilation, g.pad_l, g.pad_r);
        return dnnl::deconvolution_forward::primitive_desc(d, attr, engine());
      };
      // Few output channels (a detector's one-channel probability map): a blocked destination
      // pads them to 16, multiplying its size and the cost of every later elementwise step
      // (oneDNN's eltwise has only its reference kernel for one channel in nChw16c). Channels-last
      // source and destination instead (oneDNN has no fast plain one); one channel is then plain.
      const tag cl = x.rank() == 3 ? tag::nwc : x.rank() == 4 ? tag::nhwc : tag::ndhwc;
      if (M < 8) {
        e.pd = make(dnnl::memory::desc(to_dims(x.shape()), dt::f32, cl),
                         dnnl::memory::desc(to_dims(g.out), dt::f32, cl));
        e.plain_out = M == 1;
      }
      if (M >= 8 || is_reference_impl(e.pd)) {
        e.pd = make(src_d, dnnl::memory::desc(to_dims(g.out), dt::f32, tag::any));
        e.plain_out = false;
      }
      if (bias_.defined() && e.bias_post_op.is_zero()) {
        e.bias_layout = bias_layout_of(e.pd.dst_desc(), g.out);
        if (e.bias_layout.kind == BiasLayout::Kind::none) {  // oneDNN's bias input, slow as it is
          const dnnl::memory::desc dst_d = e.pd.dst_desc(), src_used = e.pd.src_desc();
          dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                              dnnl::algorithm::deconvolution_direct, src_used, w_d,
                                              plain_desc(bias_.shape(), DType::float32), dst_d, g.strides,
                                              g.dilation, g.pad_l, g.pad_r);
          e.pd = dnnl::deconvolution_forward::primitive_desc(d, user_scratchpad_attr(), engine());
        }
      }
      e.prim = dnnl::deconvolution_forward(e.pd);
      e.kernel = impl_name(e.prim);
      e.weights_holder = Tensor::uninitialized(DType::uint8, {static_cast<int64_t>(e.pd.weights_desc().get_size())});
      e.weights = dnnl::memory(e.pd.weights_desc(), engine(), e.weights_holder.raw_data());
      dnnl::memory from(onnx_w, engine(), const_cast<void*>(weights_.raw_data()));
      dnnl::reorder(from, e.weights).execute(stream(), from, e.weights);
      stream().wait();
    } catch (const dnnl::error&) {
      return DeconvEntry{};
    }
    e.out = g.out;
    e.ok = true;
    return e;
  }

  DeconvAttrs attrs_;
  std::string activation_;  // FusedConvTranspose: a post-op (check_activation accepted it)
  std::vector<float> activation_params_;
  Tensor weights_;  // contiguous constant [C, M/G, k...]
  Tensor bias_;
  KernelFn reference_;
  ShapeCache<DeconvEntry> cache_;
};


// ---- cpu:own:deconv_patch ----

constexpr int64_t kMaxOutputsPerPixel = 16;

// "" if each input pixel writes its own kh x kw patch of the output: stride = kernel, one group,
// no pads, dilations, output_padding or output_shape (the own kernels' geometry).
std::string check_patch_geometry(const DeconvAttrs& a, const Tensor& w) {
  auto all = [](const std::vector<int64_t>& v, int64_t x) {
    return std::all_of(v.begin(), v.end(), [&](int64_t e) { return e == x; });
  };
  if (a.group != 1 || !all(a.dilations, 1) || !all(a.pads, 0) || !all(a.output_padding, 0) || !a.output_shape.empty() ||
      (a.auto_pad != "NOTSET" && a.auto_pad != "VALID"))
    return "groups, dilations, pads, output_padding, output_shape or auto_pad";
  if (a.strides != std::vector<int64_t>{w.dim(2), w.dim(3)}) return "the stride is not the kernel size";
  return "";
}

std::string check_patch(const NodeContext& nc) {
  if (std::string why = check_conv_transpose(nc); !why.empty()) return why;
  const Tensor* w = nc.constant_input(1);
  if (w->rank() != 4 || (nc.input_rank(0) != -1 && nc.input_rank(0) != 4)) return "not a 2-D transposed convolution";
  if (std::string why = check_patch_geometry(read_attrs(nc.node), *w); !why.empty()) return why;
  if (w->dim(1) * w->dim(2) * w->dim(3) > kMaxOutputsPerPixel)
    return fmt::format("{} outputs per input pixel (at most {})", w->dim(1) * w->dim(2) * w->dim(3),
                       kMaxOutputsPerPixel);
  if (!own::use_avx512()) return "needs AVX-512";
  return "";
}

// ---- cpu:own:deconv_blocked ----

// The kernel = stride ConvTranspose with more outputs per pixel than deconv_patch takes and at
// least 8 output channels (fewer would be mostly padding in nChw16c; oneDNN writes them
// channels-last).
std::string check_blocked(const NodeContext& nc) {
  if (std::string why = check_conv_transpose(nc); !why.empty()) return why;
  const Tensor* w = nc.constant_input(1);
  if (w->rank() != 4 || (nc.input_rank(0) != -1 && nc.input_rank(0) != 4)) return "not a 2-D transposed convolution";
  if (std::string why = check_patch_geometry(read_attrs(nc.node), *w); !why.empty()) return why;
  if (w->dim(1) * w->dim(2) * w->dim(3) <= kMaxOutputsPerPixel) return "few outputs per pixel (own:deconv_patch's)";
  if (w->dim(1) < 8) return fmt::format("{} output channels (fewer than 8: mostly padding in nChw16c)", w->dim(1));
  if (!own::use_avx512()) return "needs AVX-512";
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
                                                      const int64_t* offset, const Activation& act, float* out) {
  for (int64_t w = 0; w < width; ++w) {
    __m512 acc[O];
    for (int o = 0; o < O; ++o) acc[o] = _mm512_setzero_ps();
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const __m512 xv = _mm512_loadu_ps(x + cb * block_stride + w * 16);
      for (int o = 0; o < O; ++o) acc[o] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wt + (o * blocks + cb) * 16), acc[o]);
    }
    for (int o = 0; o < O; ++o) out[offset[o] + w * kw] = act.apply(_mm512_reduce_add_ps(acc[o]) + bias[o]);
  }
}

// Activation::apply on 16 lanes (NaN kept where the scalar form keeps it), for the kinds
// check_activation accepts.
__attribute__((target("avx512f"))) inline __m512 activate(const Activation& a, __m512 x) {
  switch (a.kind) {
    case Activation::Kind::relu:  // x <= 0 (ordered: not NaN) -> +0
      return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LE_OQ), x, _mm512_setzero_ps());
    case Activation::Kind::leaky_relu:
      return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), x,
                                  _mm512_mul_ps(x, _mm512_set1_ps(a.p0)));
    case Activation::Kind::clip: {
      const __m512 lo = _mm512_set1_ps(a.p0), hi = _mm512_set1_ps(a.p1);
      x = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), x, lo);
      return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), x, hi);
    }
    default:
      return x;
  }
}

// P pixels of one input row into nChw16c output rows, for output block `ob` and patch position
// (a, b): `x` at the first pixel (channel block 0) in nChw16c, blocks `block_stride` floats
// apart, `C` channels; `wt` [C][16] the weights of (ob, a, b); `out` the output at (n, ob, row
// h * kh + a, column w * kw + b), pixel p's 16 lanes at out + p * kw * 16. The P pixels share
// each weight load.
template <int P>
__attribute__((target("avx512f,fma"))) inline void blocked_pixels(const float* x, int64_t block_stride, int64_t C,
                                                                  const float* wt, __m512 bias, const Activation& act,
                                                                  int64_t kw, float* out) {
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = bias;
  for (int64_t c = 0; c < C; ++c) {
    const __m512 wv = _mm512_loadu_ps(wt + c * 16);
    const float* xc = x + (c / 16) * block_stride + c % 16;
    for (int p = 0; p < P; ++p) acc[p] = _mm512_fmadd_ps(_mm512_set1_ps(xc[p * 16]), wv, acc[p]);
  }
  for (int p = 0; p < P; ++p) _mm512_storeu_ps(out + p * kw * 16, activate(act, acc[p]));
}

// A whole input row (`width` pixels), 8 at a time.
__attribute__((target("avx512f,fma"))) void blocked_row(const float* x, int64_t block_stride, int64_t C,
                                                       int64_t width, const float* wt, const float* bias,
                                                       const Activation& act, int64_t kw, float* out) {
  constexpr int kP = 8;
  const __m512 b = _mm512_loadu_ps(bias);
  int64_t w = 0;
  for (; w + kP <= width; w += kP) blocked_pixels<kP>(x + w * 16, block_stride, C, wt, b, act, kw, out + w * kw * 16);
  for (; w < width; ++w) blocked_pixels<1>(x + w * 16, block_stride, C, wt, b, act, kw, out + w * kw * 16);
}

#pragma GCC diagnostic pop

using RowFn = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, const float*, const float*, const int64_t*,
                       const Activation&, float*);

template <int... Os>
RowFn row_fn_of(int o, std::integer_sequence<int, Os...>) {
  RowFn fn = nullptr;
  ((Os + 1 == o ? (fn = &patch_row<Os + 1>, 0) : 0), ...);
  return fn;
}

class PatchKernel {
 public:
  PatchKernel(const NodeContext& nc, KernelFn reference)
      : act_(activation_of(nc.node)), weights_(nc.constant_input(1)->contiguous()), reference_(std::move(reference)) {
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
    std::array<int64_t, kMaxOutputsPerPixel> offset{};  // of output o = (m * kh + a) * kw + b
    for (int64_t o = 0; o < M_ * kh_ * kw_; ++o)
      offset[static_cast<size_t>(o)] = ((o / (kh_ * kw_)) * OH + o / kw_ % kh_) * OW + o % kw_;
    const float* in = xb.data<float>();
    float* o = out.data<float>();
    own::parallel_range(N * H, N * H * W * blocks_ * 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / H, h = r % H;
        row_(in + (n * blocks_ * H + h) * W * 16, H * W * 16, blocks_, W, kw_, wt_.data(), bias_.data(),
             offset.data(), act_, o + n * M_ * OH * OW + h * kh_ * OW);
      }
    });
  }

 private:
  Activation act_;
  Tensor weights_;
  int64_t C_ = 0, M_ = 0, kh_ = 0, kw_ = 0, blocks_ = 0;
  std::vector<float> wt_, bias_;
  bool bad_bias_ = false;
  RowFn row_ = nullptr;
  KernelFn reference_;
};

// Kernel = stride, many outputs per pixel (PP-OCRv4 det's 24 -> 24 channels at 2x): reads a
// blocked (nChw16c) input as it is and writes a blocked output, so the next oneDNN step reads it
// as it is too. Each (output block, patch position) is a small matrix product over the channels:
// 16 output lanes per pixel, the weights broadcast-multiplied by each input channel, 8 pixels per
// weight load. Padded output lanes get zero weights and bias, so they stay zero.
class BlockedKernel {
 public:
  BlockedKernel(const NodeContext& nc, KernelFn reference)
      : act_(activation_of(nc.node)), weights_(nc.constant_input(1)->contiguous()), reference_(std::move(reference)) {
    C_ = weights_.dim(0);
    M_ = weights_.dim(1);
    kh_ = weights_.dim(2);
    kw_ = weights_.dim(3);
    mblocks_ = (M_ + 15) / 16;
    // [ob][a][b][c][lane] = W[c][ob * 16 + lane][a][b]; lanes past M stay zero.
    wt_.assign(static_cast<size_t>(mblocks_ * kh_ * kw_ * C_ * 16), 0.f);
    const float* w = weights_.data<float>();
    for (int64_t c = 0; c < C_; ++c)
      for (int64_t m = 0; m < M_; ++m)
        for (int64_t a = 0; a < kh_; ++a)
          for (int64_t b = 0; b < kw_; ++b)
            wt_[static_cast<size_t>((((m / 16 * kh_ + a) * kw_ + b) * C_ + c) * 16 + m % 16)] =
                w[((c * M_ + m) * kh_ + a) * kw_ + b];
    bias_.assign(static_cast<size_t>(mblocks_ * 16), 0.f);
    if (nc.has_input(2)) {
      const Tensor b = nc.constant_input(2)->contiguous();
      if (b.numel() == M_)
        std::copy(b.data<float>(), b.data<float>() + M_, bias_.begin());
      else
        bad_bias_ = true;  // the reference kernel names the error
    }
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (bad_bias_ || x.dtype() != DType::float32 || x.rank() != 4 || x.dim(1) != C_ || x.numel() == 0 ||
        ctx.input(1).storage() != weights_.storage())
      return run_plain(ctx, reference_);
    const int64_t N = x.dim(0), H = x.dim(2), W = x.dim(3), OH = H * kh_, OW = W * kw_;
    const int64_t cblocks = (C_ + 15) / 16;
    const Tensor xb = convert_to(x, tagged_desc(x.shape(), DType::float32, tag::aBcd16b), 0.f);  // nothing if blocked
    const Shape out_shape = {N, M_, OH, OW};
    Tensor out = allocate_like(tagged_desc(out_shape, DType::float32, tag::aBcd16b), DType::float32, out_shape);
    const float* in = xb.data<float>();
    float* o = static_cast<float*>(out.raw_data());
    own::parallel_range(N * H, N * H * W * C_ * M_ * kh_ * kw_ / 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / H, h = r % H;
        const float* xr = in + (n * cblocks * H + h) * W * 16;
        for (int64_t ob = 0; ob < mblocks_; ++ob)
          for (int64_t a = 0; a < kh_; ++a)
            for (int64_t b = 0; b < kw_; ++b)
              blocked_row(xr, H * W * 16, C_, W, wt_.data() + ((ob * kh_ + a) * kw_ + b) * C_ * 16,
                          bias_.data() + ob * 16, act_, kw_,
                          o + (((n * mblocks_ + ob) * OH + h * kh_ + a) * OW + b) * 16);
      }
    });
    ctx.set_output(0, std::move(out));
  }

 private:
  Activation act_;
  Tensor weights_;
  int64_t C_ = 0, M_ = 0, kh_ = 0, kw_ = 0, mblocks_ = 0;
  std::vector<float> wt_, bias_;
  bool bad_bias_ = false;
  KernelFn reference_;
};

/// A ConvTranspose candidate running `Kernel`.
template <typename Kernel>
Candidate deconv_candidate(const char* op, const char* domain, const char* name,
                           std::string (*check)(const NodeContext&), int priority) {
  Candidate c;
  c.backend = "cpu";
  c.name = name;
  c.op_type = op;
  c.domain = domain;
  c.priority = priority;
  c.accepts_layouts = true;
  c.check = check;
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<Kernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

// ConvTranspose, and ai.hwopt FusedConvTranspose (with its activation); the own kernels before oneDNN's.
HWOPT_REGISTER_CANDIDATE(deconv_candidate<ConvTransposeKernel>("ConvTranspose", "", "onednn:deconv", check_conv_transpose, 0));
HWOPT_REGISTER_CANDIDATE(deconv_candidate<PatchKernel>("ConvTranspose", "", "own:deconv_patch", check_patch, -1));
HWOPT_REGISTER_CANDIDATE(deconv_candidate<BlockedKernel>("ConvTranspose", "", "own:deconv_blocked", check_blocked, -1));
HWOPT_REGISTER_CANDIDATE(deconv_candidate<ConvTransposeKernel>("FusedConvTranspose", "ai.hwopt", "onednn:deconv",
                                                               check_conv_transpose, 0));
HWOPT_REGISTER_CANDIDATE(deconv_candidate<PatchKernel>("FusedConvTranspose", "ai.hwopt", "own:deconv_patch", check_patch,
                                                       -1));
HWOPT_REGISTER_CANDIDATE(deconv_candidate<BlockedKernel>("FusedConvTranspose", "ai.hwopt", "own:deconv_blocked",
                                                         check_blocked, -1));

}  // namespace hwopt::cpu
