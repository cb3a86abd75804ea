// Conv, FusedConv (com.microsoft; ai.hwopt with post_linear) and FusedConvDepthwise (ai.hwopt) on
// oneDNN: FP32 source and destination in the session's layout (SessionOptions::layout: nChw16c by
// default), reduced precision ones in the formats oneDNN picks (format_tag::any); weights
// reordered once per input shape; bias, residual sum, activation and post_linear fused as
// post-ops; FP32 3x3 stride-1 convolutions on oneDNN's Winograd kernels where it has them
// (SessionOptions::conv_algorithm "winograd", the default). The depthwise half of
// FusedConvDepthwise is oneDNN's depthwise post-op (pads 1) or a second primitive (other pads).
// A static INT8 3x3 depthwise Conv/FusedConv runs on the own kernel of dwconv_int8.h instead, and
// a static INT8 FusedConvDepthwise on the own banded kernel (OwnConvDwKernel).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>

#include "backends/backend.h"
#include "backends/cpu/dwconv_int8.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/own_util.h"
#include "backends/cpu/pointwise_int8.h"
#include "backends/cpu/post_ops.h"
#include "backends/cpu/precision.h"

namespace hwopt::cpu {
namespace {

using tag = dnnl::memory::format_tag;

struct ConvAttrs {
  std::vector<int64_t> strides, dilations, pads;
  std::string auto_pad;
  int64_t group = 1;
  std::string activation;
  std::vector<float> activation_params;
  std::vector<float> post_linear;  // ai.hwopt FusedConv: [alpha, beta] after the activation
};

std::vector<int64_t> get_ints(const ir::Node& n, const char* name) {
  const ir::Attribute* a = n.attr(name);
  return a ? a->ints : std::vector<int64_t>{};
}

ConvAttrs read_attrs(const ir::Node& n) {
  ConvAttrs a;
  a.strides = get_ints(n, "strides");
  a.dilations = get_ints(n, "dilations");
  a.pads = get_ints(n, "pads");
  if (const ir::Attribute* x = n.attr("auto_pad")) a.auto_pad = x->s;
  if (const ir::Attribute* x = n.attr("group")) a.group = x->i;
  if (const ir::Attribute* x = n.attr("activation")) a.activation = x->s;
  if (const ir::Attribute* x = n.attr("activation_params")) a.activation_params = x->floats;
  if (const ir::Attribute* x = n.attr("post_linear")) a.post_linear = x->floats;
  return a;
}

// ai.hwopt FusedConv's post_linear (alpha * y + beta after the activation) as an eltwise_linear
// post-op; nothing when the node has none.
void append_post_linear(dnnl::post_ops& ops, const ConvAttrs& a) {
  if (a.post_linear.size() == 2)
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, a.post_linear[0], a.post_linear[1]);
}

// Strides and dilations in [1, 2^31], pads in [0, 2^31]: the output-size arithmetic below then
// cannot overflow, and nothing divides by zero (a hostile model's stride of 0 was a SIGFPE).
bool window_ok(const ConvAttrs& a) {
  constexpr int64_t kMax = int64_t{1} << 31;
  for (int64_t v : a.strides)
    if (v < 1 || v > kMax) return false;
  for (int64_t v : a.dilations)
    if (v < 1 || v > kMax) return false;
  for (int64_t v : a.pads)
    if (v < 0 || v > kMax) return false;
  return true;
}

std::string check_conv(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  const Tensor* w = nc.constant_input(1);
  if (!w) return "weights are not a constant initializer";
  if (w->dtype() != DType::float32) return "weights are not float32";
  if (w->rank() < 3 || w->rank() > 5) return fmt::format("weights of rank {} (only 1-D to 3-D convolutions)", w->rank());
  if (nc.has_input(2) && !nc.constant_input(2)) return "bias is not a constant initializer";
  ConvAttrs a = read_attrs(nc.node);
  if (!activation_supported(a.activation)) return fmt::format("activation '{}' has no oneDNN post-op", a.activation);
  if (nc.node.attr("post_linear") && a.post_linear.size() != 2) return "attribute 'post_linear' is not [alpha, beta]";
  if (a.group < 1 || w->dim(0) % a.group != 0) return "group does not divide the output channels";
  // Out-of-range windows are the reference kernel's to refuse (with the node's name).
  if (!window_ok(a)) return "strides, dilations or pads out of range";
  if (const ir::Attribute* ks = nc.node.attr("kernel_shape");
      ks && !std::equal(ks->ints.begin(), ks->ints.end(), w->shape().begin() + 2, w->shape().end()))
    return "attribute 'kernel_shape' does not match the weights";
  if (!a.auto_pad.empty() && a.auto_pad != "NOTSET" && a.auto_pad != "VALID" && a.auto_pad != "SAME_UPPER" &&
      a.auto_pad != "SAME_LOWER")
    return "unknown auto_pad";
  return "";
}

bool is_conv_depthwise(const ir::Node& n) { return n.op_type == "FusedConvDepthwise"; }
std::string check_conv_depthwise(const NodeContext& nc);

// The calibrated range of FusedConvDepthwise's intermediate (the pointwise convolution's output,
// named by its `intermediate` attribute), or nullptr.
const ActivationRange* intermediate_range(const NodeContext& nc) {
  const ir::Attribute* a = nc.node.attr("intermediate");
  return a ? nc.range_of(a->s) : nullptr;
}

// A Conv/FusedConv that the oneDNN candidate will take can read its inputs quantized; so can a
// FusedConvDepthwise whose intermediate has a calibrated range, and a MaxPool (it pools INT8 as
// it is, backends/cpu/pool.cpp) whose readers all read INT8 (ResNet's stem: the first
// convolution then writes u8 instead of FP32).
bool reads_int8(const NodeContext& nc, const ir::Node& n) {
  if (nc.kept_fp32(&n)) return false;
  NodeContext other{n, nc.graph, nc.threads, nc.precision, nc.ranges, nc.fp32_nodes};
  if (n.domain.empty() && n.op_type == "MaxPool") {
    if (n.outputs.size() != 1 || nc.is_graph_output(n.outputs[0])) return false;  // no Indices
    const auto readers = nc.consumers_of(n.outputs[0]);
    return !readers.empty() && std::all_of(readers.begin(), readers.end(), [&](const ir::Node* r) {
             return r->op_type != "MaxPool" && reads_int8(nc, *r);
           });
  }
  if (is_conv_depthwise(n)) return check_conv_depthwise(other).empty() && intermediate_range(other) != nullptr;
  return (n.op_type == "Conv" || n.op_type == "FusedConv") && check_conv(other).empty();
}

// FusedConvDepthwise: the depthwise weights (input 3) [C, 1, 3, 3] with C the pointwise
// weights' output channels, a constant bias (input 4), a 1x1 pointwise kernel, dw_strides
// 1 or 2, dw_pads of 0 to 2 (1: oneDNN's depthwise post-op; others two primitives, see
// ConvEntry::split), activations oneDNN can fuse.
std::string check_conv_depthwise(const NodeContext& nc) {
  if (std::string why = check_conv(nc); !why.empty()) return why;
  const Tensor* w = nc.constant_input(1);
  if (w->rank() != 4 || w->dim(2) != 1 || w->dim(3) != 1) return "the pointwise weights are not [M, C, 1, 1]";
  ConvAttrs a = read_attrs(nc.node);
  if (a.group != 1 || !a.pads.empty() || !a.strides.empty() || !a.dilations.empty() || !a.auto_pad.empty())
    return "the pointwise convolution has strides, pads, dilations or groups";
  const Tensor* wd = nc.has_input(3) ? nc.constant_input(3) : nullptr;
  if (!wd || wd->dtype() != DType::float32) return "the depthwise weights are not a constant float32 initializer";
  if (wd->rank() != 4 || wd->dim(0) != w->dim(0) || wd->dim(1) != 1 || wd->dim(2) != 3 || wd->dim(3) != 3)
    return fmt::format("the depthwise weights are {}, not [{}, 1, 3, 3]", shape_str(wd->shape()), w->dim(0));
  if (nc.has_input(4) && !nc.constant_input(4)) return "the depthwise bias is not a constant initializer";
  const std::vector<int64_t> st = get_ints(nc.node, "dw_strides"), pd = get_ints(nc.node, "dw_pads");
  if (st.size() != 2 || st[0] != st[1] || (st[0] != 1 && st[0] != 2)) return "dw_strides are not [1, 1] or [2, 2]";
  if (pd.size() != 4 || std::any_of(pd.begin(), pd.end(), [](int64_t v) { return v < 0 || v > 2; }))
    return "dw_pads are not 4 pads of 0 to 2";
  const ir::Attribute* act = nc.node.attr("dw_activation");
  if (act && !activation_supported(act->s)) return fmt::format("activation '{}' has no oneDNN post-op", act->s);
  return "";
}

// The precision of a convolution: choose_precision(), except that an INT8 convolution with a
// residual input writes FP32 unless the residual fits its destination. oneDNN adds the
// residual as it is stored in the destination buffer, so a residual that can be negative cannot
// go into a u8 destination (ReLU comes after the sum), nor one larger than the destination's
// range into any INT8 one: either would be clipped before the addition.
//
// FusedConvDepthwise runs in FP32, or in static INT8 when its intermediate has a calibrated range
// too (the intermediate is then stored as INT8 inside the fused kernel, as it would be between
// two INT8 convolutions); it has no BF16 kernel.
bool residual_fits_destination(const NodeContext& nc, const KernelPrecision& p);
float s8_sum_scale(const NodeContext& nc, const KernelPrecision& p);

KernelPrecision conv_precision(const NodeContext& nc) {
  KernelPrecision p = choose_precision(nc, reads_int8);
  if (is_conv_depthwise(nc.node))
    return p.int8() && !p.dynamic && intermediate_range(nc) ? p : KernelPrecision{};
  // Written INT8 into MaxPools only: stored at the pooled value's scale, the one its readers
  // expect. The pool keeps the largest values, whose range an entropy (or percentile) threshold
  // of the convolution's own output would clip (Fashion-MNIST: 96.75 % agreement instead of 99 %).
  if (p.int8() && p.dst != dnnl::memory::data_type::f32 && !nc.is_graph_output(nc.node.outputs[0])) {
    const auto readers = nc.consumers_of(nc.node.outputs[0]);
    const ActivationRange* pooled = nullptr;
    bool all_pools = !readers.empty();
    for (const ir::Node* r : readers) {
      all_pools = all_pools && r->op_type == "MaxPool" && !r->outputs.empty();
      if (!all_pools) break;
      const ActivationRange* rr = nc.range_of(r->outputs[0]);
      if (!rr) all_pools = false;
      else if (!pooled || rr->threshold > pooled->threshold) pooled = rr;
    }
    if (all_pools && pooled) {
      const QuantType q = quant_type_of(*pooled);
      p.dst = q.dt;
      p.dst_scale = q.scale;
    }
  }
  if (!p.int8() || p.dst == dnnl::memory::data_type::f32 || !nc.has_input(3)) return p;
  if (!residual_fits_destination(nc, p) && s8_sum_scale(nc, p) == 0.f) {
    p.dst = dnnl::memory::data_type::f32;
    p.dst_scale = 0.f;
  }
  return p;
}

// The residual can be stored in the INT8 destination's own units: within its range, and not
// negative in a u8 one.
bool residual_fits_destination(const NodeContext& nc, const KernelPrecision& p) {
  if (!nc.has_input(3)) return false;
  const ActivationRange* rz = nc.range_of(nc.node.inputs[3]);
  const ActivationRange* ry = nc.range_of(nc.node.outputs[0]);
  return rz && ry && rz->threshold <= ry->threshold && (rz->min >= 0.f || p.dst == dnnl::memory::data_type::s8);
}

// Otherwise (e.g. ResNet's first block of a stage: a signed downsample residual into a u8
// destination after ReLU) the residual is stored in the destination's buffer as s8 at its own
// calibrated scale and the sum post-op reads that buffer as s8 (oneDNN reinterprets it, same
// size), so the output stays INT8 instead of falling back to an FP32 destination. Returns that
// scale (threshold / 127), or 0 when it fits the destination, has no range, or the destination is
// not INT8.
float s8_sum_scale(const NodeContext& nc, const KernelPrecision& p) {
  if (!p.int8() || p.dst == dnnl::memory::data_type::f32 || !nc.has_input(3) || residual_fits_destination(nc, p))
    return 0.f;
  const ActivationRange* rz = nc.range_of(nc.node.inputs[3]);
  return rz && rz->threshold > 0.f && std::isfinite(rz->threshold) ? rz->threshold / kS8Levels : 0.f;
}

// Output shape, strides, dilations and pads (auto_pad resolved) of a convolution of x with
// weights of shape ws; throws KernelError for a window that does not fit.
struct ConvGeometry {
  Shape out;
  std::vector<int64_t> strides, dilations, pads;  // pads: begins then ends
};

ConvGeometry conv_geometry(const ConvAttrs& a, const Tensor& x, const Shape& ws) {
  const int64_t spatial = x.rank() - 2;
  HWOPT_KCHECK(window_ok(a), "strides, dilations or pads out of range");
  HWOPT_KCHECK(x.dim(1) == ws[1] * a.group, "input has {} channels but weights expect {} x group {}", x.dim(1), ws[1],
               a.group);
  ConvGeometry g;
  g.strides = a.strides.empty() ? std::vector<int64_t>(spatial, 1) : a.strides;
  g.dilations = a.dilations.empty() ? std::vector<int64_t>(spatial, 1) : a.dilations;
  g.pads = a.pads.empty() ? std::vector<int64_t>(2 * spatial, 0) : a.pads;
  HWOPT_KCHECK(static_cast<int64_t>(g.strides.size()) == spatial && static_cast<int64_t>(g.dilations.size()) == spatial &&
                   static_cast<int64_t>(g.pads.size()) == 2 * spatial,
               "strides/dilations/pads do not match {} spatial dims", spatial);
  g.out = {x.dim(0), ws[0]};
  for (int64_t i = 0; i < spatial; ++i) {
    const int64_t in = x.dim(2 + i), k = ws[2 + i];
    const int64_t ek = (k - 1) * g.dilations[i] + 1;
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      const int64_t o = (in + g.strides[i] - 1) / g.strides[i];
      const int64_t total = std::max<int64_t>(0, (o - 1) * g.strides[i] + ek - in);
      g.pads[i] = a.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pads[i + spatial] = total - g.pads[i];
    } else if (a.auto_pad == "VALID") {
      g.pads[i] = g.pads[i + spatial] = 0;
    }
    const int64_t o = (in + g.pads[i] + g.pads[i + spatial] - ek) / g.strides[i] + 1;
    HWOPT_KCHECK(o > 0, "spatial dim {} of size {} is too small for the kernel", i, in);
    g.out.push_back(o);
  }
  return g;
}

struct ConvEntry {
  dnnl::convolution_forward prim;
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::memory weights;  // reordered to the primitive's format
  dnnl::memory bias;
  Tensor weights_holder, bias_holder;
  dnnl::memory dw_weights, dw_bias;  // FusedConvDepthwise: the depthwise post-op's
  Tensor dw_weights_holder, dw_bias_holder;
  Shape out_shape;
  bool use_reference = false;  // oneDNN has no fused primitive for this shape
  // FusedConvDepthwise as two primitives where oneDNN's depthwise post-op does not apply
  // (dw_pads other than 1: TensorFlow's "SAME" stride 2) or applies only through its slow
  // ref_fused_convolution (see create): `prim` writes the intermediate, then this depthwise
  // convolution reads it.
  bool split = false;
  dnnl::convolution_forward dw_prim;
  dnnl::convolution_forward::primitive_desc dw_pd;
  std::string kernel;  // oneDNN's implementation(s), for KernelContext::set_kernel_detail
  dnnl::memory::desc dst_desc() const { return split ? dw_pd.dst_desc() : pd.dst_desc(); }
};

// The depthwise half of FusedConvDepthwise (3x3).
struct DepthwiseStage {
  Tensor weights, bias;  // [C, 1, 3, 3]; [C] (zeros when the node has none)
  int64_t stride = 1;
  std::vector<int64_t> pads;  // top, left, bottom, right
  std::string activation;
  std::vector<float> activation_params;
  QuantType mid;              // INT8: how the intermediate is stored between the two halves
  QuantizedWeights qweights;  // INT8: the depthwise weights
};

class ConvKernel {
 public:
  ConvKernel(const NodeContext& nc, KernelFn reference)
      : attrs_(read_attrs(nc.node)),
        weights_(*nc.constant_input(1)),
        prec_(conv_precision(nc)),
        layout_(nc.layout),
        winograd_(nc.conv_algorithm == "winograd"),
        reference_(std::move(reference)) {
    if (nc.has_input(2)) bias_ = *nc.constant_input(2);
    if (prec_.int8()) qweights_ = quantize_per_channel(weights_);
    sum_s8_scale_ = s8_sum_scale(nc, prec_);
    if (is_conv_depthwise(nc.node)) {
      DepthwiseStage dw;
      dw.weights = *nc.constant_input(3);
      if (nc.has_input(4)) {
        dw.bias = nc.constant_input(4)->contiguous();
      } else {
        dw.bias = Tensor(DType::float32, {dw.weights.dim(0)});
        std::fill_n(dw.bias.data<float>(), dw.bias.numel(), 0.f);
      }
      dw.stride = get_ints(nc.node, "dw_strides").at(0);
      dw.pads = get_ints(nc.node, "dw_pads");
      if (const ir::Attribute* a = nc.node.attr("dw_activation")) dw.activation = a->s;
      if (const ir::Attribute* a = nc.node.attr("dw_activation_params")) dw.activation_params = a->floats;
      if (prec_.int8()) {
        dw.mid = quant_type_of(*intermediate_range(nc));
        dw.qweights = quantize_per_channel(dw.weights);
      }
      dw_ = std::move(dw);
    }
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::float32 || x.rank() != weights_.rank() || ctx.input(1).storage() != weights_.storage()) {
      return run_reference(ctx);
    }
    const bool has_sum = !dw_ && ctx.num_inputs() > 3 && ctx.has_input(3);
    auto entry = cache_.get(shape_key(ctx), [&] { return create(x, has_sum); });
    if (entry->use_reference) return run_reference(ctx);
    ctx.set_kernel_detail(entry->kernel);
    // Quantizes, converts to BF16 or reorders as the primitive needs (nothing if x already is).
    const Tensor src = convert_to(x, entry->pd.src_desc(), prec_.src_scale);
    Tensor dst = allocate_like(entry->dst_desc(), DType::float32, entry->out_shape, prec_.dst_scale);
    if (has_sum) {
      const Tensor& z = ctx.input(3);
      HWOPT_KCHECK(z.shape() == entry->out_shape, "residual input Z has shape {} but the convolution output is {}",
                   shape_str(z.shape()), shape_str(entry->out_shape));
      if (sum_s8_scale_ > 0.f) {  // s8 at the residual's own scale, read back as s8 by the sum
        dnnl::memory::desc as_s8 = entry->pd.dst_desc();
        as_s8.data.data_type = dnnl_s8;
        reorder_into(z, dst, as_s8, sum_s8_scale_);
      } else {
        reorder_into(z, dst, entry->pd.dst_desc(), prec_.dst_scale);
      }
    }
    // Split FusedConvDepthwise: the pointwise primitive writes the intermediate, stored as its
    // INT8 type at its scale (or FP32).
    const Tensor mid = entry->split ? allocate_like(entry->pd.dst_desc(), DType::float32, mid_shape(x),
                                                    prec_.int8() ? dw_->mid.scale : 0.f)
                                    : Tensor();
    const Tensor& first_dst = entry->split ? mid : dst;
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, memory_of(src, entry->pd.src_desc())},
                                                {DNNL_ARG_WEIGHTS, entry->weights},
                                                {DNNL_ARG_DST, memory_of(first_dst, entry->pd.dst_desc())}};
    if (bias_.defined()) args[DNNL_ARG_BIAS] = entry->bias;
    if (dw_ && !entry->split) {
      args[DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS] = entry->dw_weights;
      args[DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS] = entry->dw_bias;
    }
    execute_with_scratchpad(entry->prim, args);
    if (entry->split)
      execute_with_scratchpad(entry->dw_prim, {{DNNL_ARG_SRC, memory_of(mid, entry->pd.dst_desc())},
                                               {DNNL_ARG_WEIGHTS, entry->dw_weights},
                                               {DNNL_ARG_BIAS, entry->dw_bias},
                                               {DNNL_ARG_DST, memory_of(dst, entry->dw_pd.dst_desc())}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  void run_reference(KernelContext& ctx) { run_plain(ctx, reference_); }

  // The pointwise half's output shape (FusedConvDepthwise): x's, with its output channels.
  Shape mid_shape(const Tensor& x) const {
    Shape m = x.shape();
    m[1] = weights_.dim(0);
    return m;
  }

  ConvEntry create(const Tensor& x, bool has_sum, bool force_split = false) const {
    const int64_t spatial = x.rank() - 2;
    const Shape& ws = weights_.shape();
    const ConvGeometry g = conv_geometry(attrs_, x, ws);
    const std::vector<int64_t>&strides = g.strides, &dil = g.dilations, &pads = g.pads;
    const Shape& out = g.out;
    dnnl::memory::dims s(strides.begin(), strides.end()), d, pl, pr;
    for (int64_t i = 0; i < spatial; ++i) {
      d.push_back(dil[i] - 1);
      pl.push_back(pads[i]);
      pr.push_back(pads[i + spatial]);
    }
    Shape wshape = ws;
    if (attrs_.group > 1) {
      wshape = {attrs_.group, ws[0] / attrs_.group};
      wshape.insert(wshape.end(), ws.begin() + 1, ws.end());
    }
    auto any = [](const Shape& sh, dnnl::memory::data_type dt) { return dnnl::memory::desc(to_dims(sh), dt, tag::any); };
    // SessionOptions::layout: FP32 activations of plain and depthwise 2-D convolutions in one
    // format throughout (a first convolution's few input channels excepted; grouped ones, whose
    // per-group channels rarely fill a 16-channel block, keep oneDNN's choice), so that no
    // reorder sits between two convolutions; "any" lets oneDNN pick per convolution.
    // FP32 primitives only: an INT8/BF16 one keeps oneDNN's choice (a fixed FP32 destination
    // format next to an INT8 source can leave only oneDNN's slow reference implementation).
    const bool fixed_layout = layout_ != "any" && spatial == 2 && !prec_.int8() && !prec_.bf16() &&
                              (attrs_.group == 1 || attrs_.group == x.dim(1));
    auto act = [&](const Shape& sh, dnnl::memory::data_type dt) {
      if (!fixed_layout || dt != dnnl::memory::data_type::f32 || sh[1] < 8) return any(sh, dt);
      return dnnl::memory::desc(to_dims(sh), dt, layout_ == "channels_last" ? tag::acdb : tag::aBcd16b);
    };
    dnnl::memory::desc bias_desc;
    if (bias_.defined()) bias_desc = plain_desc({ws[0]}, DType::float32);
    const dnnl::memory::data_type stage_dt = dw_ && prec_.int8() ? dw_->mid.dt : prec_.dst;
    auto conv_desc = [&](bool fixed, dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct) {
      return dnnl::convolution_forward::desc(
          dnnl::prop_kind::forward_inference, algorithm,
          fixed ? act(x.shape(), prec_.src) : any(x.shape(), prec_.src), any(wshape, prec_.weights), bias_desc,
          fixed ? act(out, stage_dt) : any(out, stage_dt), s, d, pl, pr);
    };
    // dw_pads other than 1: two primitives (ConvEntry::split).
    const bool split = dw_ && (force_split || dw_->pads != std::vector<int64_t>{1, 1, 1, 1});
    dnnl::primitive_attr attr = user_scratchpad_attr();
    dnnl::post_ops ops, dw_ops;  // dw_ops: the depthwise primitive's when split
    std::vector<float> acc_scales;  // INT8: the real value of one accumulator unit, per channel
    std::vector<float> dw_acc_scales;  // INT8 FusedConvDepthwise: the same for the depthwise half
    if (prec_.int8()) {
      // oneDNN 2.x: dst = post_ops(oscale * (acc + bias)). oscale makes real values, so the
      // activation sees real values; a quantized destination then divides by its scale, and a
      // residual already stored in the destination (in its units) is summed at that scale.
      const float dst_scale = prec_.dst_scale != 0.f ? prec_.dst_scale : 1.f;
      // FusedConvDepthwise: the pointwise half writes the intermediate at its own scale, and the
      // depthwise post-op (or primitive) works the same way (its scales make real values, then
      // its activation, then the destination's scale).
      const float stage_scale = dw_ ? dw_->mid.scale : dst_scale;
      for (float ws_c : qweights_.scales) acc_scales.push_back(prec_.src_scale * ws_c);
      attr.set_output_scales(1 << 1, acc_scales);
      if (has_sum && sum_s8_scale_ > 0.f)
        ops.append_sum(sum_s8_scale_, dnnl::memory::data_type::s8);
      else if (has_sum)
        ops.append_sum(dst_scale);
      append_activation(ops, attrs_.activation, attrs_.activation_params);
      // post_linear and the destination's scale as one linear post-op: oneDNN 2.6's brgconv_1x1
      // with an s8 destination computes two consecutive eltwise_linear post-ops wrongly (a
      // standalone 240-channel 1x1 convolution: 95 % of the outputs off by up to 124 against a
      // scalar reference; merged, none), and PP-OCRv4's recognizer in INT8 read no word at all
      // (tests/e2e/quant_detect_ocr_test.cpp).
      const float pa = attrs_.post_linear.size() == 2 ? attrs_.post_linear[0] : 1.f;
      const float pb = attrs_.post_linear.size() == 2 ? attrs_.post_linear[1] : 0.f;
      if (stage_scale != 1.f || pa != 1.f || pb != 0.f)
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, pa / stage_scale, pb / stage_scale);
      if (dw_) {
        for (float ws_c : dw_->qweights.scales) dw_acc_scales.push_back(dw_->mid.scale * ws_c);
        if (!split)
          ops.append_dw(dnnl::memory::data_type::s8, dnnl::memory::data_type::f32, prec_.dst, 3, dw_->stride, 1,
                        1 << 1, dw_acc_scales);
        dnnl::post_ops& tail = split ? dw_ops : ops;
        append_activation(tail, dw_->activation, dw_->activation_params);
        if (dst_scale != 1.f) tail.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / dst_scale, 0.f);
      }
    } else {
      if (has_sum) ops.append_sum(1.f);
      append_activation(ops, attrs_.activation, attrs_.activation_params);
      append_post_linear(ops, attrs_);
    }
    ConvEntry e{};
    e.out_shape = out;
    if (dw_) {
      if (!prec_.int8()) {
        if (!split)
          ops.append_dw(dnnl::memory::data_type::f32, dnnl::memory::data_type::f32, dnnl::memory::data_type::f32, 3,
                        dw_->stride, 1, 0, {});
        append_activation(split ? dw_ops : ops, dw_->activation, dw_->activation_params);
      }
      // 3x3: each spatial dim d becomes (d + pad_begin + pad_end - 3) / stride + 1.
      for (int64_t i = 0; i < spatial; ++i) {
        const int64_t extent = out[2 + i] + dw_->pads[i] + dw_->pads[i + spatial] - 3;
        HWOPT_KCHECK(extent >= 0, "spatial dim {} of size {} is too small for the depthwise kernel", i, out[2 + i]);
        e.out_shape[2 + i] = extent / dw_->stride + 1;
      }
    }
    attr.set_post_ops(ops);
    // Winograd (oneDNN's jit_wino_4x3 / jit_fp32_wino_2x3) for FP32 3x3 convolutions with stride 1,
    // no dilation and one group: 1.2-2.5x faster than the direct kernel here (64-512 channels at
    // 56-7 pixels, PP-OCRv4 det's 96->24 at 160x160), outputs within ~2e-6 of the largest |y|
    // (direct: ~1e-7). oneDNN's convolution_auto keeps the direct kernel for all of these.
    // SessionOptions::conv_algorithm "direct" turns it off (the tuner measures both).
    const bool winograd = !prec_.int8() && !prec_.bf16() && !dw_ && spatial == 2 && attrs_.group == 1 &&
                          ws[2] == 3 && ws[3] == 3 && strides == std::vector<int64_t>{1, 1} &&
                          dil == std::vector<int64_t>{1, 1} && winograd_;
    bool wino_ok = false;
    if (winograd) try {
        e.pd = dnnl::convolution_forward::primitive_desc(conv_desc(fixed_layout, dnnl::algorithm::convolution_winograd),
                                                         attr, engine());
        wino_ok = std::string(e.pd.impl_info_str()).find("wino") != std::string::npos;
      } catch (const dnnl::error&) {
        wino_ok = false;  // shapes or post-ops oneDNN's Winograd kernels do not take
      }
    if (!wino_ok) try {
      // The fixed layout unless oneDNN has only its slow reference implementation for it (or
      // none): then oneDNN's own choice of formats.
      bool fixed_ok = fixed_layout;
      if (fixed_layout) try {
          e.pd = dnnl::convolution_forward::primitive_desc(conv_desc(true), attr, engine());
          const std::string impl = e.pd.impl_info_str();
          fixed_ok = impl.rfind("ref", 0) != 0 || impl.rfind("ref_fused", 0) == 0;  // fused: composed of fast ones
        } catch (const dnnl::error&) {
          fixed_ok = false;
        }
      if (!fixed_ok) e.pd = dnnl::convolution_forward::primitive_desc(conv_desc(false), attr, engine());
    } catch (const dnnl::error&) {
      if (!dw_) throw;
      e.use_reference = true;  // no fused implementation here: the reference kernel computes it
      return e;
    }
    // oneDNN fuses the depthwise post-op into its jit_1x1 kernel only for some shapes (here:
    // MobileNetV2's first stride-2 block); elsewhere it offers ref_fused_convolution, which runs
    // the two convolutions one after the other through its scratchpad and measured slower than
    // the same two primitives run by the split path (MobileNetV2 batch 1, 12 of its 16
    // FusedConvDepthwise steps: 0.96-0.98x the time, `bench/ab_builds.sh`; batch 8 even).
    if (dw_ && !split && !prec_.int8() && std::string(e.pd.impl_info_str()).rfind("ref_fused", 0) == 0)
      return create(x, has_sum, true);
    e.prim = dnnl::convolution_forward(e.pd);
    const Tensor& w_src = prec_.int8() ? qweights_.values : weights_;
    Tensor w_plain = w_src.contiguous();
    e.weights_holder =
        reorder_to(Tensor(w_plain.dtype(), wshape, w_plain.storage(), w_plain.offset()), e.pd.weights_desc());
    e.weights = memory_of(e.weights_holder, e.pd.weights_desc());
    if (bias_.defined()) {
      e.bias_holder = bias_.contiguous();
      if (prec_.int8()) {
        // The bias in accumulator units (added before oscale).
        Tensor b(DType::float32, {ws[0]});
        for (int64_t c = 0; c < ws[0]; ++c) b.data<float>()[c] = e.bias_holder.data<float>()[c] / acc_scales[c];
        e.bias_holder = b;
      }
      e.bias = memory_of(e.bias_holder, bias_desc);
    }
    if (dw_) {
      const int64_t c = dw_->weights.dim(0);
      const Tensor w_plain = (prec_.int8() ? dw_->qweights.values : dw_->weights).contiguous();
      if (split) {
        dnnl::primitive_attr dw_attr = user_scratchpad_attr();
        if (prec_.int8()) dw_attr.set_output_scales(1 << 1, dw_acc_scales);
        dw_attr.set_post_ops(dw_ops);
        const dnnl::convolution_forward::desc dw_desc(
            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, e.pd.dst_desc(),
            any({c, 1, 1, 3, 3}, prec_.int8() ? dnnl::memory::data_type::s8 : dnnl::memory::data_type::f32),
            plain_desc({c}, DType::float32), fixed_layout ? act(e.out_shape, prec_.dst) : any(e.out_shape, prec_.dst),
            {dw_->stride, dw_->stride}, {0, 0}, {dw_->pads[0], dw_->pads[1]}, {dw_->pads[2], dw_->pads[3]});
        e.dw_pd = dnnl::convolution_forward::primitive_desc(dw_desc, dw_attr, engine());
        e.dw_prim = dnnl::convolution_forward(e.dw_pd);
        e.split = true;
      }
      const dnnl::memory::desc w_desc =
          split ? e.dw_pd.weights_desc()
                : e.pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS);
      e.dw_weights_holder = reorder_to(Tensor(w_plain.dtype(), {c, 1, 1, 3, 3}, w_plain.storage(), w_plain.offset()), w_desc);
      e.dw_weights = memory_of(e.dw_weights_holder, w_desc);
      e.dw_bias_holder = dw_->bias;
      if (prec_.int8()) {  // in the depthwise half's accumulator units, as for the pointwise bias
        e.dw_bias_holder = Tensor(DType::float32, {c});
        for (int64_t k = 0; k < c; ++k)
          e.dw_bias_holder.data<float>()[k] = dw_->bias.data<float>()[k] / dw_acc_scales[k];
      }
      e.dw_bias = memory_of(e.dw_bias_holder, plain_desc({c}, DType::float32));
    }
    e.kernel = e.split ? impl_name(e.prim) + " + " + impl_name(e.dw_prim) : impl_name(e.prim);
    return e;
  }

  ConvAttrs attrs_;
  Tensor weights_, bias_;
  KernelPrecision prec_;
  // INT8 with a residual that does not fit the destination's units: the residual's s8 scale
  // (s8_sum_scale), 0 otherwise.
  float sum_s8_scale_ = 0.f;
  std::string layout_;
  bool winograd_;  // SessionOptions::conv_algorithm: FP32 3x3 stride-1 convolutions may run Winograd
  QuantizedWeights qweights_;
  std::optional<DepthwiseStage> dw_;
  KernelFn reference_;
  ShapeCache<ConvEntry> cache_;
};

KernelFn make_conv(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<ConvKernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

// The own INT8 3x3 depthwise kernel (dwconv_int8.h) for a Conv/FusedConv with one [1, 3, 3]
// filter per channel, static INT8, no residual and a clamp activation: oneDNN 2.6's INT8
// depthwise kernel runs it at 30-50 GOP/s per core here, this one 1.3-2.5x faster
// (docs/benchmarks.md). Source and destination channels-last, like oneDNN's INT8 convolutions
// around it (no reorder between them).

// The activation as a clamp on real values; false if it is not one.
bool clamp_of(const ConvAttrs& a, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::infinity();
  *hi = std::numeric_limits<float>::infinity();
  if (a.activation.empty()) return true;
  if (a.activation == "Relu") {
    *lo = 0.f;
    return true;
  }
  if (a.activation != "Clip") return false;
  if (!a.activation_params.empty()) *lo = a.activation_params[0];
  if (a.activation_params.size() > 1) *hi = a.activation_params[1];
  return *lo <= *hi;
}

// The own INT8 kernels' destination type for a oneDNN data type.
Int8Dst int8_dst_of(dnnl::memory::data_type dt) {
  return dt == dnnl::memory::data_type::u8 ? Int8Dst::u8 : dt == dnnl::memory::data_type::s8 ? Int8Dst::s8 : Int8Dst::f32;
}

// What every own INT8 convolution kernel needs: static INT8, AVX-512 VNNI.
std::string check_own_int8(const NodeContext& nc) {
  const KernelPrecision p = conv_precision(nc);
  if (!p.int8() || p.dynamic) return "runs in static INT8 only";
  if (!dwconv_int8_fast_available()) return "needs AVX-512 VNNI";
  return "";
}

std::string check_own_dwconv(const NodeContext& nc) {
  if (std::string why = check_conv(nc); !why.empty()) return why;
  const Tensor* w = nc.constant_input(1);
  const ConvAttrs a = read_attrs(nc.node);
  if (w->rank() != 4 || w->dim(1) != 1 || w->dim(2) != 3 || w->dim(3) != 3 || a.group != w->dim(0))
    return "not a 3x3 depthwise convolution (one [1, 3, 3] filter per channel)";
  if (std::any_of(a.dilations.begin(), a.dilations.end(), [](int64_t d) { return d != 1; })) return "dilated";
  if (nc.has_input(3)) return "has a residual input";
  if (nc.node.attr("post_linear")) return "has a post_linear";
  float lo = 0, hi = 0;
  if (!clamp_of(a, &lo, &hi)) return fmt::format("activation '{}' is not a clamp", a.activation);
  return check_own_int8(nc);
}

struct OwnDwEntry {
  DwConvInt8 params;
  dnnl::memory::desc src_desc, dst_desc;
  Shape out_shape;
};

class OwnDwConvKernel {
 public:
  OwnDwConvKernel(const NodeContext& nc, KernelFn reference)
      : attrs_(read_attrs(nc.node)),
        weights_(*nc.constant_input(1)),
        prec_(conv_precision(nc)),
        qweights_(quantize_per_channel(weights_)),
        reference_(std::move(reference)) {
    if (nc.has_input(2)) bias_ = nc.constant_input(2)->contiguous();
    clamp_of(attrs_, &lo_, &hi_);
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    // What the check could not see (a float 4-D input, the constant weights) goes to the
    // reference kernel, as in ConvKernel; a channel count that does not match is its error.
    if (x.dtype() != DType::float32 || x.rank() != 4 || x.dim(1) != weights_.dim(0) ||
        ctx.input(1).storage() != weights_.storage())
      return run_plain(ctx, reference_);
    auto entry = cache_.get(shape_key(ctx), [&] { return create(x); });
    const Tensor src = convert_to(x, entry->src_desc, prec_.src_scale);  // nothing if x is already
    Tensor dst = allocate_like(entry->dst_desc, DType::float32, entry->out_shape, prec_.dst_scale);
    dwconv3x3_int8(entry->params, src.raw_data(), dst.raw_data());
    ctx.set_output(0, std::move(dst));
  }

 private:
  OwnDwEntry create(const Tensor& x) const {
    const ConvGeometry g = conv_geometry(attrs_, x, weights_.shape());
    OwnDwEntry e;
    e.out_shape = g.out;
    DwConvInt8& p = e.params;
    p.batch = x.dim(0);
    p.channels = x.dim(1);
    p.in_h = x.dim(2);
    p.in_w = x.dim(3);
    p.out_h = g.out[2];
    p.out_w = g.out[3];
    p.stride_h = g.strides[0];
    p.stride_w = g.strides[1];
    p.pad_top = g.pads[0];
    p.pad_left = g.pads[1];
    p.src_signed = prec_.src == dnnl::memory::data_type::s8;
    p.dst = int8_dst_of(prec_.dst);
    const Tensor w = qweights_.values.contiguous();
    p.prepare(w.data<int8_t>(), qweights_.scales.data(), prec_.src_scale,
              bias_.defined() ? bias_.data<float>() : nullptr, lo_, hi_, prec_.dst_scale);
    e.src_desc = dnnl::memory::desc(to_dims(x.shape()), prec_.src, tag::nhwc);
    e.dst_desc = dnnl::memory::desc(to_dims(g.out), prec_.dst, tag::nhwc);
    return e;
  }

  ConvAttrs attrs_;
  Tensor weights_, bias_;
  KernelPrecision prec_;
  QuantizedWeights qweights_;
  float lo_ = 0.f, hi_ = 0.f;
  KernelFn reference_;
  ShapeCache<OwnDwEntry> cache_;
};

KernelFn make_own_dwconv(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<OwnDwConvKernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

// The own static INT8 FusedConvDepthwise: oneDNN's pointwise INT8 convolution on bands of rows
// of one image, each band's intermediate then read by the own depthwise kernel (dwconv_int8.h)
// while it is still in cache. MobileNetV2's expanded tensors (6x the block's channels, at batch
// 16 up to 19 MB at 112x112) are never written to memory; oneDNN's fused depthwise post-op
// would do the same but runs its depthwise half at a fraction of the own kernel's speed, and it
// has no TensorFlow "SAME" padding. Each thread runs whole images (or parts of one at batch 1)
// through single-threaded primitives: no synchronisation per band.
// FusedConvDepthwise's depthwise activation (dw_activation, dw_activation_params).
ConvAttrs depthwise_activation(const ir::Node& n) {
  ConvAttrs dw;
  if (const ir::Attribute* a = n.attr("dw_activation")) dw.activation = a->s;
  if (const ir::Attribute* a = n.attr("dw_activation_params")) dw.activation_params = a->floats;
  return dw;
}

std::string check_own_conv_depthwise(const NodeContext& nc) {
  if (std::string why = check_conv_depthwise(nc); !why.empty()) return why;
  const ConvAttrs dw = depthwise_activation(nc.node);
  float lo = 0, hi = 0;
  if (!clamp_of(dw, &lo, &hi)) return fmt::format("depthwise activation '{}' is not a clamp", dw.activation);
  return check_own_int8(nc);
}

// One step of a band schedule: output rows [o0, o1) of an image read intermediate rows [lo, hi);
// rows [lo, keep_end) are in the buffer from the previous step (whose first row was prev_lo),
// rows [keep_end, hi) are computed.
struct BandStep {
  int64_t o0, o1, lo, keep_end, hi, prev_lo;
};

// Output rows [oa, ob) of an image in bands of `band` rows.
std::vector<BandStep> band_schedule(const DwConvInt8& p, int64_t oa, int64_t ob, int64_t band) {
  std::vector<BandStep> steps;
  int64_t buf_lo = 0, buf_hi = 0;  // the rows in the buffer (none yet)
  for (int64_t o0 = oa; o0 < ob; o0 += band) {
    const int64_t o1 = std::min(ob, o0 + band);
    const int64_t lo = std::clamp<int64_t>(o0 * p.stride_h - p.pad_top, 0, p.in_h);
    const int64_t hi = std::clamp<int64_t>((o1 - 1) * p.stride_h - p.pad_top + 3, lo, p.in_h);
    const int64_t keep_end = lo >= buf_lo && lo < buf_hi ? std::min(buf_hi, hi) : lo;
    steps.push_back({o0, o1, lo, keep_end, hi, buf_lo});
    buf_lo = lo;
    buf_hi = hi;
  }
  return steps;
}

struct OwnConvDwEntry {
  DwConvInt8 dw;  // the whole depthwise convolution, its source being the intermediate
  dnnl::memory::desc src_desc, dst_desc;
  Shape out_shape;
  int64_t in_channels = 0, splits = 1, buffer_rows = 0;
  // Task t of batch x splits: image t / splits, output rows part t % splits, its band schedule.
  std::vector<std::vector<BandStep>> schedules;  // per part
  struct Pointwise {  // the pointwise convolution of `rows` image rows, for one thread
    dnnl::convolution_forward prim;
    dnnl::memory::desc src, dst;
    dnnl::memory weights;
    Tensor weights_holder;
  };
  std::map<int64_t, Pointwise> pointwise;  // by rows
  // Few input channels: the own pointwise kernel instead (pointwise_int8.h).
  bool own_pointwise = false;
  PointwiseInt8 own_pw;
  dnnl::memory bias;
  Tensor bias_holder;
};

class OwnConvDwKernel {
 public:
  OwnConvDwKernel(const NodeContext& nc, KernelFn reference)
      : attrs_(read_attrs(nc.node)),
        weights_(*nc.constant_input(1)),
        dw_weights_(*nc.constant_input(3)),
        prec_(conv_precision(nc)),
        mid_(quant_type_of(*intermediate_range(nc))),
        qweights_(quantize_per_channel(weights_)),
        dw_qweights_(quantize_per_channel(dw_weights_)),
        reference_(std::move(reference)) {
    if (nc.has_input(2)) bias_ = nc.constant_input(2)->contiguous();
    if (nc.has_input(4)) dw_bias_ = nc.constant_input(4)->contiguous();
    stride_ = get_ints(nc.node, "dw_strides").at(0);
    pads_ = get_ints(nc.node, "dw_pads");
    clamp_of(depthwise_activation(nc.node), &lo_, &hi_);
  }

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::float32 || x.rank() != 4 || x.dim(1) != weights_.dim(1) ||
        ctx.input(1).storage() != weights_.storage() || ctx.input(3).storage() != dw_weights_.storage())
      return run_plain(ctx, reference_);
    auto entry = cache_.get(shape_key(ctx), [&] { return create(x); });
    const OwnConvDwEntry& e = *entry;
    const Tensor src = convert_to(x, e.src_desc, prec_.src_scale);  // nothing if x is already
    Tensor dst = allocate_like(e.dst_desc, DType::float32, e.out_shape, prec_.dst_scale);
    const int64_t tasks = e.dw.batch * e.splits;
    // One buffer per thread of parallel_range's team; called inside an outer parallel region it
    // runs on the calling thread alone, whose omp_get_thread_num() indexes the outer team: buffer 0.
    const bool nested = omp_in_parallel();
    const int nt = nested ? 1 : std::max(1, omp_get_max_threads());
    const int64_t mid_row = e.dw.in_w * e.dw.channels, in_row = e.dw.in_w * e.in_channels;
    const int64_t buffer_bytes = (e.buffer_rows * mid_row + 63) / 64 * 64;
    const Tensor buffers = Tensor::uninitialized(DType::uint8, {nt, buffer_bytes});
    std::atomic<bool> failed{false};
    std::string error;
    std::mutex error_mutex;
    auto* in = static_cast<uint8_t*>(const_cast<void*>(src.raw_data()));
    auto run_tasks = [&](int thread, int64_t t0, int64_t t1) {
      uint8_t* buf = const_cast<uint8_t*>(buffers.data<uint8_t>()) + thread * buffer_bytes;
      try {
        for (int64_t t = t0; t < t1 && !failed.load(std::memory_order_relaxed); ++t) {
          const int64_t n = t / e.splits;
          for (const BandStep& st : e.schedules[static_cast<size_t>(t % e.splits)]) {
            // Rows still in the buffer move to its front; the pointwise convolution writes the rest.
            if (st.keep_end > st.lo && st.lo > st.prev_lo)
              std::memmove(buf, buf + (st.lo - st.prev_lo) * mid_row, static_cast<size_t>((st.keep_end - st.lo) * mid_row));
            if (st.hi > st.keep_end && e.own_pointwise) {
              pointwise_int8(e.own_pw, in + (n * e.dw.in_h + st.keep_end) * in_row, buf + (st.keep_end - st.lo) * mid_row,
                             (st.hi - st.keep_end) * e.dw.in_w);
            } else if (st.hi > st.keep_end) {
              const OwnConvDwEntry::Pointwise& pw = e.pointwise.at(st.hi - st.keep_end);
              execute_with_scratchpad(
                  pw.prim, {{DNNL_ARG_SRC, dnnl::memory(pw.src, engine(), in + (n * e.dw.in_h + st.keep_end) * in_row)},
                            {DNNL_ARG_WEIGHTS, pw.weights},
                            {DNNL_ARG_BIAS, e.bias},
                            {DNNL_ARG_DST, dnnl::memory(pw.dst, engine(), buf + (st.keep_end - st.lo) * mid_row)}});
              stream().wait();  // the depthwise kernel reads the band next
            }
            dwconv3x3_int8_rows(e.dw, buf, n * e.dw.in_h + st.lo, dst.raw_data(), n * e.dw.out_h + st.o0,
                                n * e.dw.out_h + st.o1);
          }
        }
      } catch (const std::exception& ex) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!failed.exchange(true)) error = ex.what();
      }
    };
    // Work: the depthwise half's 9 multiply-adds per output (the pointwise half scales with it).
    own::parallel_range(tasks, e.dw.batch * e.dw.out_h * e.dw.out_w * e.dw.channels * 9,
                        [&](int64_t t0, int64_t t1) { run_tasks(nested ? 0 : omp_get_thread_num(), t0, t1); });
    HWOPT_KCHECK(!failed, "{}", error);
    ctx.set_output(0, std::move(dst));
  }

 private:
  OwnConvDwEntry create(const Tensor& x) const {
    const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), M = weights_.dim(0);
    OwnConvDwEntry e;
    e.in_channels = C;
    DwConvInt8& p = e.dw;
    p.batch = N;
    p.channels = M;
    p.in_h = H;
    p.in_w = W;
    p.stride_h = p.stride_w = stride_;
    p.pad_top = pads_[0];
    p.pad_left = pads_[1];
    const int64_t eh = H + pads_[0] + pads_[2] - 3, ew = W + pads_[1] + pads_[3] - 3;
    HWOPT_KCHECK(eh >= 0 && ew >= 0, "input of {}x{} is too small for the depthwise kernel", H, W);
    p.out_h = eh / stride_ + 1;
    p.out_w = ew / stride_ + 1;
    e.out_shape = {N, M, p.out_h, p.out_w};
    p.src_signed = mid_.dt == dnnl::memory::data_type::s8;
    p.dst = int8_dst_of(prec_.dst);
    const Tensor dw_w = dw_qweights_.values.contiguous();
    p.prepare(dw_w.data<int8_t>(), dw_qweights_.scales.data(), mid_.scale,
              dw_bias_.defined() ? dw_bias_.data<float>() : nullptr, lo_, hi_, prec_.dst_scale);
    e.src_desc = dnnl::memory::desc(to_dims(x.shape()), prec_.src, tag::nhwc);
    e.dst_desc = dnnl::memory::desc(to_dims(e.out_shape), prec_.dst, tag::nhwc);

    // Bands: as many output rows as keep the intermediate's rows within kBandBytes (in L2 with
    // the source and destination rows around it); parts of an image when the batch is smaller
    // than the threads.
    constexpr int64_t kBandBytes = 256 << 10;
    const int64_t mid_row = W * M;
    const int64_t rows_fit = std::max<int64_t>(3, kBandBytes / std::max<int64_t>(1, mid_row));
    const int64_t band = std::clamp<int64_t>((rows_fit - 3) / stride_ + 1, 1, p.out_h);
    const int threads = std::max(1, omp_get_max_threads());
    e.splits = N >= threads ? 1 : std::min<int64_t>(p.out_h, (threads + N - 1) / N);
    for (int64_t part = 0; part < e.splits; ++part) {
      e.schedules.push_back(band_schedule(p, p.out_h * part / e.splits, p.out_h * (part + 1) / e.splits, band));
      for (const BandStep& st : e.schedules.back()) {
        e.buffer_rows = std::max(e.buffer_rows, st.hi - st.lo);
        if (st.hi > st.keep_end) e.pointwise[st.hi - st.keep_end];
      }
    }

    // The pointwise convolution as ConvKernel's INT8 one writes the intermediate: real values
    // from the accumulators (oscale), its activation, the intermediate's scale.
    std::vector<float> acc_scales;
    for (float ws_c : qweights_.scales) acc_scales.push_back(prec_.src_scale * ws_c);
    dnnl::primitive_attr attr = user_scratchpad_attr();
    attr.set_output_scales(1 << 1, acc_scales);
    dnnl::post_ops ops;
    append_activation(ops, attrs_.activation, attrs_.activation_params);
    if (mid_.scale != 1.f) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / mid_.scale, 0.f);
    attr.set_post_ops(ops);
    e.bias_holder = Tensor(DType::float32, {M});  // in accumulator units (added before oscale)
    for (int64_t m = 0; m < M; ++m)
      e.bias_holder.data<float>()[m] = bias_.defined() ? bias_.data<float>()[m] / acc_scales[static_cast<size_t>(m)] : 0.f;
    const dnnl::memory::desc bias_desc = plain_desc({M}, DType::float32);
    e.bias = memory_of(e.bias_holder, bias_desc);
    const Tensor w_plain = qweights_.values.contiguous();
    // Up to 64 input channels (MobileNetV2's blocks 1 to 10) the own pointwise kernel: oneDNN's
    // spends most of its time in its output stage there; with more, the multiply-adds dominate
    // and oneDNN's runs them as well (docs/benchmarks.md, session 7).
    constexpr int64_t kOwnPointwiseMaxChannels = 64;
    float pw_lo = 0, pw_hi = 0;
    if (C <= kOwnPointwiseMaxChannels && clamp_of(attrs_, &pw_lo, &pw_hi)) {
      PointwiseInt8& q = e.own_pw;
      q.in_channels = C;
      q.out_channels = M;
      q.src_signed = prec_.src == dnnl::memory::data_type::s8;
      q.dst = int8_dst_of(mid_.dt);
      q.prepare(w_plain.data<int8_t>(), qweights_.scales.data(), prec_.src_scale,
                bias_.defined() ? bias_.data<float>() : nullptr, pw_lo, pw_hi, mid_.scale);
      if (q.vectorized()) {
        e.own_pointwise = true;
        e.pointwise.clear();
        return e;
      }
    }
    for (auto& [rows, pw] : e.pointwise) {
      pw.src = dnnl::memory::desc({1, C, rows, W}, prec_.src, tag::nhwc);
      pw.dst = dnnl::memory::desc({1, M, rows, W}, mid_.dt, tag::nhwc);
      const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                              pw.src, dnnl::memory::desc({M, C, 1, 1}, prec_.weights, tag::any),
                                              bias_desc, pw.dst, {1, 1}, {0, 0}, {0, 0});
      // For one thread: it runs inside the parallel region, one image (part) per thread.
      const auto pd = with_threads(1, [&] { return dnnl::convolution_forward::primitive_desc(d, attr, engine()); });
      pw.prim = dnnl::convolution_forward(pd);
      pw.weights_holder = reorder_to(Tensor(w_plain.dtype(), {M, C, 1, 1}, w_plain.storage(), w_plain.offset()),
                                     pd.weights_desc());
      pw.weights = memory_of(pw.weights_holder, pd.weights_desc());
    }
    return e;
  }

  ConvAttrs attrs_;
  Tensor weights_, dw_weights_, bias_, dw_bias_;
  KernelPrecision prec_;
  QuantType mid_;  // how the intermediate is stored
  QuantizedWeights qweights_, dw_qweights_;
  int64_t stride_ = 1;
  std::vector<int64_t> pads_;
  float lo_ = 0.f, hi_ = 0.f;  // the depthwise activation's clamp
  KernelFn reference_;
  ShapeCache<OwnConvDwEntry> cache_;
};

KernelFn make_own_conv_depthwise(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<OwnConvDwKernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

std::string conv_variant(const NodeContext& nc) {
  const KernelPrecision p = conv_precision(nc);
  std::string label = p.label();  // "int8(u8->u8)": a residual summed as s8 shows as "int8(u8->u8, s8 sum)"
  if (s8_sum_scale(nc, p) > 0.f) label.insert(label.size() - 1, ", s8 sum");
  return label;
}

Candidate conv_candidate(const char* op, const char* domain, std::string (*check)(const NodeContext&) = check_conv) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:conv";
  c.op_type = op;
  c.domain = domain;
  c.accepts_layouts = true;
  c.accepts_quantized = true;
  c.check = check;
  c.make = make_conv;
  c.variant = conv_variant;
  return c;
}

Candidate own_conv_depthwise_candidate() {
  Candidate c = conv_candidate("FusedConvDepthwise", "ai.hwopt", check_own_conv_depthwise);
  c.name = "own:conv1x1_dw3x3";
  c.priority = -1;  // before oneDNN's
  c.make = make_own_conv_depthwise;
  return c;
}

Candidate own_dwconv_candidate(const char* op, const char* domain) {
  Candidate c = conv_candidate(op, domain, check_own_dwconv);
  c.name = "own:dwconv3x3";
  c.priority = -1;  // before oneDNN's
  c.make = make_own_dwconv;
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(conv_candidate("Conv", ""));
HWOPT_REGISTER_CANDIDATE(conv_candidate("FusedConv", "com.microsoft"));
HWOPT_REGISTER_CANDIDATE(conv_candidate("FusedConv", "ai.hwopt"));
HWOPT_REGISTER_CANDIDATE(conv_candidate("FusedConvDepthwise", "ai.hwopt", check_conv_depthwise));
HWOPT_REGISTER_CANDIDATE(own_dwconv_candidate("Conv", ""));
HWOPT_REGISTER_CANDIDATE(own_dwconv_candidate("FusedConv", "com.microsoft"));
HWOPT_REGISTER_CANDIDATE(own_conv_depthwise_candidate());

}  // namespace hwopt::cpu
