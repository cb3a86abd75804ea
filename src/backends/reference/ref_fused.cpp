// Reference kernels of the fused ops the graph passes introduce, written by composing the same
// math as the unfused reference kernels (the Conv/Gemm/MatMul parts run those very kernels), so a
// fused graph computes what the unfused one did:
//   com.microsoft  FusedConv, FusedGemm, Gelu, FastGelu   (ONNX Runtime contrib ops)
//   ai.hwopt       FusedMatMul, FusedConv (with post_linear), FusedConvDepthwise, FusedConvTranspose,
//                  ScaledDotProductAttention,
//                  LayerNormalization, ElementwiseChain (its steps' own reference kernels in order)
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/activation.h"
#include "backends/reference/util.h"
#include "ir/elementwise_chain.h"

namespace hwopt::reference {
namespace {


/// The type element-wise arithmetic on T is done in, as in the unfused kernels: float for 16-bit
/// floats, T otherwise.
template <typename T>
using compute_t = std::conditional_t<is_half_like<T>, float, T>;

/// Runs the ai.onnx reference kernel `op` (at `opset`) with the attributes of `attrs_from` on
/// `values` (nullptr = an absent input); returns output 0.
Tensor run_onnx_kernel_on(const ir::Node& attrs_from, const char* op, int opset, const std::vector<const RtValue*>& values) {
  const KernelDef* def = KernelRegistry::instance().find(op, "", opset);
  HWOPT_KCHECK(def != nullptr, "no reference kernel for {}", op);
  ir::Node node = attrs_from;
  node.op_type = op;
  node.domain = "";
  node.opset = opset;
  node.inputs.clear();
  node.outputs = {"y"};
  for (size_t i = 0; i < values.size(); ++i) {
    std::string name;  // built with append: GCC 12 warns falsely (-Wrestrict) on "x" + to_string(i)
    if (values[i]) name.append("x").append(std::to_string(i));
    node.inputs.push_back(std::move(name));
  }
  KernelContext inner(node, values, [](const ir::Graph&, std::vector<RtValue>) -> std::vector<RtValue> {
    throw KernelError("fused kernels run no subgraphs");
  });
  def->fn(inner);
  HWOPT_KCHECK(inner.outputs()[0].is_tensor(), "{} produced no tensor", op);
  return inner.outputs()[0].tensor;
}

/// The same with this node's attributes on the given inputs of this node (an index past the
/// inputs, or an absent input, is omitted).
Tensor run_onnx_kernel(const KernelContext& ctx, const char* op, int opset, const std::vector<size_t>& inputs) {
  std::vector<const RtValue*> values;
  for (size_t i : inputs) values.push_back(ctx.has_input(i) ? ctx.input_value(i) : nullptr);
  return run_onnx_kernel_on(ctx.node(), op, opset, values);
}

/// act(y + z) element-wise in the compute type (z optional, same shape as y); a new tensor.
Tensor finished(const Tensor& y_in, const Tensor* z, const Tensor* bias_last, const Activation& act) {
  const Tensor y = y_in.contiguous();
  Tensor out;
  visit_float(y.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = compute_t<T>;
    Tensor zc, bc;
    if (z) {
      zc = z->contiguous();
      HWOPT_KCHECK(zc.dtype() == y.dtype(), "input Z has dtype {} but the result has {}", dtype_name(zc.dtype()),
                   dtype_name(y.dtype()));
      HWOPT_KCHECK(zc.shape() == y.shape(), "input Z has shape {} but the result has shape {}", shape_str(zc.shape()),
                   shape_str(y.shape()));
    }
    int64_t n = 1;
    if (bias_last) {
      bc = bias_last->contiguous();
      n = y.rank() > 0 ? y.dim(-1) : 1;
      HWOPT_KCHECK(bc.dtype() == y.dtype(), "bias has dtype {} but the result has {}", dtype_name(bc.dtype()),
                   dtype_name(y.dtype()));
      HWOPT_KCHECK(bc.rank() == 1 && bc.dim(0) == n, "bias must have shape [{}], got {}", n, shape_str(bc.shape()));
    }
    out = Tensor(y.dtype(), y.shape());
    const T* py = y.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0; i < y.numel(); ++i) {
      T v = py[i];
      // Each step rounds to T as the separate Add node would have.
      if (bias_last) v = static_cast<T>(static_cast<C>(v) + static_cast<C>(bc.data<T>()[i % n]));
      if (z) v = static_cast<T>(static_cast<C>(v) + static_cast<C>(zc.data<T>()[i]));
      po[i] = static_cast<T>(act.apply(static_cast<C>(v)));
    }
  });
  return out;
}

/// Output 0 of this node is act(y + z) (see finished).
void finish(KernelContext& ctx, const Tensor& y, const Tensor* z, const Tensor* bias_last, const Activation& act) {
  ctx.set_output(0, finished(y, z, bias_last, act));
}

// FusedConv(X, W, B?, Z?): Y = activation(Conv(X, W, B) + Z). The ai.hwopt FusedConv adds
// `post_linear` = [alpha, beta]: Y = alpha * activation(Conv(X, W, B) + Z) + beta, rounded as a
// Mul by alpha and then an Add of beta would round it (fuse_conv_post_linear).
void ref_fused_conv(KernelContext& ctx) {
  const Activation act = Activation::parse(ctx.attr_string("activation", ""), ctx.attr_floats("activation_params"));
  Tensor y = finished(run_onnx_kernel(ctx, "Conv", 11, {0, 1, 2}), ctx.has_input(3) ? &ctx.input(3) : nullptr, nullptr,
                      act);
  const std::vector<float> post = ctx.attr_floats("post_linear");
  if (!post.empty()) {
    HWOPT_KCHECK(post.size() == 2, "attribute 'post_linear' must be [alpha, beta], got {} values", post.size());
    visit_float(y.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      using C = compute_t<T>;
      T* p = y.data<T>();
      for (int64_t i = 0; i < y.numel(); ++i) {
        const T scaled = static_cast<T>(static_cast<C>(p[i]) * static_cast<C>(post[0]));
        p[i] = static_cast<T>(static_cast<C>(scaled) + static_cast<C>(post[1]));
      }
    });
  }
  ctx.set_output(0, std::move(y));
}

// FusedConvTranspose(X, W, B?): Y = activation(ConvTranspose(X, W, B)).
void ref_fused_conv_transpose(KernelContext& ctx) {
  const Activation act = Activation::parse(ctx.attr_string("activation", ""), ctx.attr_floats("activation_params"));
  finish(ctx, run_onnx_kernel(ctx, "ConvTranspose", 11, {0, 1, 2}), nullptr, nullptr, act);
}

// FusedConvDepthwise(X, W, B?, Wdw, Bdw?): a pointwise (1x1, stride 1, no padding, one group)
// convolution with its activation, then a depthwise convolution of its result with its own:
//   Y = dw_activation(DepthwiseConv(activation(Conv(X, W, B)), Wdw, Bdw; dw_strides, dw_pads))
// Wdw is [C, 1, kH, kW] with C the pointwise convolution's output channels (group = C).
void ref_fused_conv_depthwise(KernelContext& ctx) {
  const Activation act = Activation::parse(ctx.attr_string("activation", ""), ctx.attr_floats("activation_params"));
  const Activation dw_act =
      Activation::parse(ctx.attr_string("dw_activation", ""), ctx.attr_floats("dw_activation_params"));
  const Tensor& w = ctx.input(1);
  HWOPT_KCHECK(w.rank() >= 3 && std::all_of(w.shape().begin() + 2, w.shape().end(), [](int64_t d) { return d == 1; }),
               "the pointwise weights W must be [M, C, 1, 1], got {}", shape_str(w.shape()));
  HWOPT_KCHECK(ctx.has_input(3), "input Wdw (the depthwise weights) is missing");
  const Tensor& wdw = ctx.input(3);
  HWOPT_KCHECK(wdw.rank() == w.rank() && wdw.dim(0) == w.dim(0) && wdw.dim(1) == 1,
               "the depthwise weights Wdw must be [{}, 1, k...] for {} channels, got {}", w.dim(0), w.dim(0),
               shape_str(wdw.shape()));
  ir::Node pointwise;  // Conv's defaults: stride 1, no padding, one group
  const Tensor mid = finished(run_onnx_kernel_on(pointwise, "Conv", 11, {ctx.input_value(0), ctx.input_value(1),
                                                                        ctx.has_input(2) ? ctx.input_value(2) : nullptr}),
                              nullptr, nullptr, act);
  ir::Node depthwise;
  ir::Attribute group;
  group.name = "group";
  group.type = ir::AttrType::i;
  group.i = wdw.dim(0);
  depthwise.attributes.push_back(group);
  for (const char* name : {"strides", "pads"})
    if (const ir::Attribute* a = ctx.node().attr(std::string("dw_") + name)) {
      depthwise.attributes.push_back(*a);
      depthwise.attributes.back().name = name;
    }
  const RtValue mid_value = RtValue::of(mid);
  const Tensor y = run_onnx_kernel_on(depthwise, "Conv", 11,
                                      {&mid_value, ctx.input_value(3), ctx.has_input(4) ? ctx.input_value(4) : nullptr});
  finish(ctx, y, nullptr, nullptr, dw_act);
}

// FusedGemm(A, B, C?): Y = activation(alpha * op(A) * op(B) + beta * C).
void ref_fused_gemm(KernelContext& ctx) {
  std::vector<float> params;
  if (ctx.has_attr("activation_alpha")) params.push_back(ctx.attr_float("activation_alpha", 0));
  if (ctx.has_attr("activation_beta")) {
    HWOPT_KCHECK(params.size() == 1, "attribute 'activation_beta' needs 'activation_alpha'");
    params.push_back(ctx.attr_float("activation_beta", 0));
  }
  const Activation act = Activation::parse(ctx.attr_string("activation", ""), params);
  Tensor y = run_onnx_kernel(ctx, "Gemm", 13, {0, 1, 2});
  finish(ctx, y, nullptr, nullptr, act);
}

// FusedMatMul(A, B, bias?): Y = activation(MatMul(A, B) + bias), bias of shape [N].
void ref_fused_matmul(KernelContext& ctx) {
  const Activation act = Activation::parse(ctx.attr_string("activation", ""), ctx.attr_floats("activation_params"));
  Tensor y = run_onnx_kernel(ctx, "MatMul", 13, {0, 1});
  finish(ctx, y, nullptr, ctx.has_input(2) ? &ctx.input(2) : nullptr, act);
}

// Gelu(X): 0.5 * x * (1 + erf(x / sqrt(2))).
void ref_ms_gelu(KernelContext& ctx) {
  finish(ctx, ctx.input(0), nullptr, nullptr, Activation::parse("Gelu", {}));
}

// FastGelu(X, bias?): the tanh approximation of GELU of x (+ bias over the last axis).
void ref_fast_gelu(KernelContext& ctx) {
  finish(ctx, ctx.input(0), nullptr, ctx.has_input(1) ? &ctx.input(1) : nullptr, Activation::parse("FastGelu", {}));
}

// LayerNormalization(X, Scale, B?; axis, epsilon) with outputs Y, Mean?, InvStdDev?, as ONNX
// opset 17 defines it; statistics in double.
void ref_layer_norm(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input X must be a float tensor, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(x.rank() >= 1, "input X must have rank >= 1");
  const int64_t axis = normalize_axis(ctx.attr_int("axis", -1), x.rank());
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const int64_t outer = dims_product(x.shape(), 0, axis), inner = dims_product(x.shape(), axis, x.rank());
  const Tensor& scale_t = ctx.input(1);
  HWOPT_KCHECK(scale_t.numel() == inner || scale_t.numel() == 1, "input Scale has shape {} but the normalized shape has {} elements",
               shape_str(scale_t.shape()), inner);
  const std::vector<double> scale = to_double_vector(scale_t);
  std::vector<double> bias;
  if (ctx.has_input(2)) {
    HWOPT_KCHECK(ctx.input(2).numel() == inner || ctx.input(2).numel() == 1,
                 "input B has shape {} but the normalized shape has {} elements", shape_str(ctx.input(2).shape()), inner);
    bias = to_double_vector(ctx.input(2));
  }
  const std::vector<double> xv = to_double_vector(x);
  std::vector<double> y(xv.size()), mean(static_cast<size_t>(outer)), inv_std(static_cast<size_t>(outer));
  for (int64_t o = 0; o < outer; ++o) {
    const double* p = xv.data() + o * inner;
    double m = 0, var = 0;
    for (int64_t i = 0; i < inner; ++i) m += p[i];
    m = inner > 0 ? m / static_cast<double>(inner) : 0.0;
    for (int64_t i = 0; i < inner; ++i) var += (p[i] - m) * (p[i] - m);
    var = inner > 0 ? var / static_cast<double>(inner) : 0.0;
    const double r = 1.0 / std::sqrt(var + eps);
    mean[o] = m;
    inv_std[o] = r;
    for (int64_t i = 0; i < inner; ++i) {
      double v = (p[i] - m) * r * scale[scale.size() == 1 ? 0 : i];
      if (!bias.empty()) v += bias[bias.size() == 1 ? 0 : i];
      y[o * inner + i] = v;
    }
  }
  Shape stat_shape = x.shape();
  for (int64_t d = axis; d < x.rank(); ++d) stat_shape[d] = 1;
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
    for (int64_t i = 0; i < out.numel(); ++i) out.data<T>()[i] = from_dbl<T>(y[i]);
  });
  const DType stash = DType::float32;
  if (ctx.wants_output(1)) {
    Tensor& t = ctx.allocate_output(1, stash, stat_shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(mean[i]);
  }
  if (ctx.wants_output(2)) {
    Tensor& t = ctx.allocate_output(2, stash, stat_shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(inv_std[i]);
  }
}

// ScaledDotProductAttention(Q, K, V, mask?; scale, k_transposed):
//   Y = Softmax(scale * Q K^T + mask, last axis) V
// Q [B, H, S, D]; K [B, H, S_kv, D] ([B, H, D, S_kv] with k_transposed=1); V [B, H, S_kv, Dv];
// mask broadcastable to [B, H, S, S_kv]. B and H broadcast between Q, K and V as in MatMul.
// Computed in double.
void ref_sdpa(KernelContext& ctx) {
  const Tensor q = ctx.input(0).contiguous();
  const Tensor k = ctx.input(1).contiguous();
  const Tensor v = ctx.input(2).contiguous();
  const double scale = ctx.attr_float("scale", 1.0f);
  const bool kt = ctx.attr_int("k_transposed", 0) != 0;
  HWOPT_KCHECK(q.rank() == 4 && k.rank() == 4 && v.rank() == 4, "Q, K and V must have rank 4, got shapes {}, {} and {}",
               shape_str(q.shape()), shape_str(k.shape()), shape_str(v.shape()));
  HWOPT_KCHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(), "Q, K and V must have the same dtype");
  const int64_t S = q.dim(2), D = q.dim(3);
  const int64_t Skv = kt ? k.dim(3) : k.dim(2), Dk = kt ? k.dim(2) : k.dim(3);
  const int64_t Dv = v.dim(3);
  HWOPT_KCHECK(Dk == D, "K's head size {} differs from Q's {} (shapes {} and {}, k_transposed={})", Dk, D,
               shape_str(k.shape()), shape_str(q.shape()), kt);
  HWOPT_KCHECK(v.dim(2) == Skv, "V has {} positions but K has {}", v.dim(2), Skv);
  const Shape qb{q.dim(0), q.dim(1)}, kb{k.dim(0), k.dim(1)}, vb{v.dim(0), v.dim(1)};
  const Shape batch = broadcast_shape(broadcast_shape(qb, kb), vb);
  const std::vector<int64_t> qo = broadcast_offsets(qb, batch), ko = broadcast_offsets(kb, batch),
                             vo = broadcast_offsets(vb, batch);
  const Shape scores_shape{batch[0], batch[1], S, Skv};
  Tensor mask;
  std::vector<int64_t> mo;
  std::vector<double> mv;
  if (ctx.has_input(3)) {
    mask = ctx.input(3).contiguous();
    HWOPT_KCHECK(mask.dtype() == q.dtype(), "mask has dtype {} but Q has {}", dtype_name(mask.dtype()),
                 dtype_name(q.dtype()));
    HWOPT_KCHECK(broadcast_shape(scores_shape, mask.shape()) == scores_shape,
                 "mask of shape {} does not broadcast to the scores' shape {}", shape_str(mask.shape()),
                 shape_str(scores_shape));
    mo = broadcast_offsets(mask.shape(), scores_shape);
    mv = to_double_vector(mask);
  }
  const std::vector<double> qv = to_double_vector(q), kv = to_double_vector(k), vv = to_double_vector(v);
  std::vector<double> out(static_cast<size_t>(batch[0] * batch[1] * S * Dv)), row(static_cast<size_t>(Skv));
  for (size_t b = 0; b < qo.size(); ++b) {
    const double* qm = qv.data() + qo[b] * S * D;
    const double* km = kv.data() + ko[b] * Skv * D;
    const double* vm = vv.data() + vo[b] * Skv * Dv;
    for (int64_t s = 0; s < S; ++s) {
      for (int64_t t = 0; t < Skv; ++t) {
        double acc = 0;
        for (int64_t d = 0; d < D; ++d) acc += qm[s * D + d] * (kt ? km[d * Skv + t] : km[t * D + d]);
        row[t] = acc * scale;
        if (!mo.empty()) row[t] += mv[mo[(static_cast<int64_t>(b) * S + s) * Skv + t]];
      }
      double m = -std::numeric_limits<double>::infinity();
      for (double x : row)
        if (std::isnan(x) || x > m) m = x;
      double sum = 0;
      for (double& x : row) sum += (x = std::exp(x - m));
      for (double& x : row) x /= sum;
      double* o = out.data() + (static_cast<int64_t>(b) * S + s) * Dv;
      for (int64_t t = 0; t < Skv; ++t)
        for (int64_t e = 0; e < Dv; ++e) o[e] += row[t] * vm[t * Dv + e];
    }
  }
  visit_float(q.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, q.dtype(), {batch[0], batch[1], S, Dv});
    for (int64_t i = 0; i < y.numel(); ++i) y.data<T>()[i] = from_dbl<T>(out[i]);
  });
}

// ai.hwopt ElementwiseChain: each step is the ai.onnx node it was fused from, run by its own
// reference kernel on the previous step's result and the chain's inputs.
void ref_elementwise_chain(KernelContext& ctx) {
  ir::ElementwiseChain chain;
  const std::string why = ir::parse_chain(ctx.node(), chain);
  HWOPT_KCHECK(why.empty(), "ElementwiseChain: {}", why);
  RtValue running;
  for (const ir::ChainStep& step : chain.steps) {
    ir::Node attrs;
    attrs.name = ctx.node().name;
    attrs.attributes = ir::step_attributes(step, chain.onnx_opset);
    std::vector<const RtValue*> values;
    for (int i : step.inputs) {
      if (i == ir::kChainRunning) values.push_back(&running);
      else if (i == ir::kChainAbsent) values.push_back(nullptr);
      else values.push_back(ctx.has_input(static_cast<size_t>(i)) ? ctx.input_value(static_cast<size_t>(i)) : nullptr);
    }
    running = RtValue::of(run_onnx_kernel_on(attrs, step.op.c_str(), chain.onnx_opset, values));
  }
  ctx.set_output(0, std::move(running.tensor));
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("FusedConv", "com.microsoft", 1, ref_fused_conv);
HWOPT_REGISTER_REF_KERNEL("FusedGemm", "com.microsoft", 1, ref_fused_gemm);
HWOPT_REGISTER_REF_KERNEL("Gelu", "com.microsoft", 1, ref_ms_gelu);
HWOPT_REGISTER_REF_KERNEL("FastGelu", "com.microsoft", 1, ref_fast_gelu);
HWOPT_REGISTER_REF_KERNEL("FusedMatMul", "ai.hwopt", 1, ref_fused_matmul);
HWOPT_REGISTER_REF_KERNEL("FusedConvDepthwise", "ai.hwopt", 1, ref_fused_conv_depthwise);
HWOPT_REGISTER_REF_KERNEL("FusedConv", "ai.hwopt", 1, ref_fused_conv);
HWOPT_REGISTER_REF_KERNEL("FusedConvTranspose", "ai.hwopt", 1, ref_fused_conv_transpose);
HWOPT_REGISTER_REF_KERNEL("ScaledDotProductAttention", "ai.hwopt", 1, ref_sdpa);
HWOPT_REGISTER_REF_KERNEL("LayerNormalization", "ai.hwopt", 1, ref_layer_norm);
HWOPT_REGISTER_REF_KERNEL("ElementwiseChain", "ai.hwopt", 1, ref_elementwise_chain);

}  // namespace hwopt::reference
