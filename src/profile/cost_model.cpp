// The op cost model (docs/cost_model.md says what counts as a flop and a byte for each class, and
// why) and the static whole-graph estimate built on the project's shape propagation.
#include "profile/cost_model.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/int_values.h"
#include "ir/elementwise_chain.h"
#include "onnx/import.h"
#include "passes/graph_view.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::profile {

using passes::attr_float;
using passes::attr_int;
using passes::attr_ints;
using passes::attr_string;

std::string_view op_class_name(OpClass op_class) {
  switch (op_class) {
    case OpClass::conv: return "conv";
    case OpClass::matmul: return "matmul";
    case OpClass::attention: return "attention";
    case OpClass::elementwise: return "elementwise";
    case OpClass::normalization: return "normalization";
    case OpClass::pooling: return "pooling";
    case OpClass::reduction: return "reduction";
    case OpClass::data_movement: return "data_movement";
    case OpClass::control_flow: return "control_flow";
    case OpClass::other: return "other";
  }
  return "other";
}

namespace {

// Flops charged per element for a transcendental function (exp, log, tanh, erf, sin, pow, ...): a
// convention, roughly the fused multiply-adds of the vectorised polynomial a fast kernel evaluates.
constexpr double kTranscendental = 4;
// Softmax per element: running max, subtract, exp, running sum, divide (or multiply by 1/sum).
constexpr double kSoftmax = kTranscendental + 4;
// Layer/instance/group normalization per element before the affine part: mean (add), variance
// (subtract, square, add), normalize (subtract, multiply by 1/stddev).
constexpr double kNormalize = 6;
// Requantization of an integer accumulator per output element (QLinearConv/QLinearMatMul): scale,
// round, add zero point, saturate.
constexpr double kRequantize = 4;

// ---- shapes of ValueDescs ----

bool has(const std::vector<ValueDesc>& v, size_t i) { return i < v.size() && v[i].present; }

double numel(const ValueDesc& v) {
  if (!v.present) return 0;
  double n = 1;
  for (int64_t d : v.shape) n *= static_cast<double>(std::max<int64_t>(d, 0));
  return n;
}

double nbytes(const ValueDesc& v) { return numel(v) * static_cast<double>(dtype_size(v.dtype)); }

double sum_bytes(const std::vector<ValueDesc>& v) {
  double b = 0;
  for (const auto& x : v) b += nbytes(x);
  return b;
}

double io_bytes(const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  return sum_bytes(ins) + sum_bytes(outs);
}

bool all_dims_valid(const std::vector<ValueDesc>& v) {
  for (const auto& x : v)
    if (x.present)
      for (int64_t d : x.shape)
        if (d < 0) return false;
  return true;
}

/// Product of dims [from, to) of a shape.
double dims_product(const std::vector<int64_t>& s, size_t from, size_t to) {
  double p = 1;
  for (size_t k = from; k < to && k < s.size(); ++k) p *= static_cast<double>(s[k]);
  return p;
}

OpCost unknown_cost(OpClass cls, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  OpCost c;
  c.op_class = cls;
  c.known = false;
  c.bytes = all_dims_valid(ins) && all_dims_valid(outs) ? io_bytes(ins, outs) : 0;
  return c;
}

// ---- per-element arithmetic ----

/// Flops per element of a fused activation (FusedConv/FusedGemm/FusedMatMul `activation`);
/// nullopt for a name the model does not know.
std::optional<double> activation_flops(const std::string& name) {
  static const std::unordered_map<std::string, double> table = {
      {"", 0},
      {"Relu", 1},
      {"LeakyRelu", 2},
      {"Clip", 2},
      {"Sigmoid", kTranscendental + 2},
      {"Tanh", kTranscendental},
      {"HardSigmoid", 4},
      {"HardSwish", 5},
      {"Silu", kTranscendental + 3},
      {"Mish", 3 * kTranscendental + 2},
      {"Gelu", kTranscendental + 4},
      {"FastGelu", kTranscendental + 7},
  };
  auto it = table.find(name);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

/// Flops per output element of the unary element-wise ops.
const std::unordered_map<std::string, double>& unary_flops() {
  static const std::unordered_map<std::string, double> table = {
      {"Relu", 1},          {"Abs", 1},
      {"Neg", 1},           {"Sign", 1},
      {"Floor", 1},         {"Ceil", 1},
      {"Round", 1},         {"Not", 1},
      {"Reciprocal", 1},    {"Sqrt", 1},
      {"IsNaN", 1},         {"IsInf", 1},
      {"BitwiseNot", 1},    {"ThresholdedRelu", 1},
      {"Shrink", 2},        {"LeakyRelu", 2},
      {"Clip", 2},          {"HardSigmoid", 4},
      {"HardSwish", 5},     {"Softsign", 3},
      {"Exp", kTranscendental},  {"Log", kTranscendental},
      {"Tanh", kTranscendental}, {"Erf", kTranscendental},
      {"Sin", kTranscendental},  {"Cos", kTranscendental},
      {"Tan", kTranscendental},  {"Asin", kTranscendental},
      {"Acos", kTranscendental}, {"Atan", kTranscendental},
      {"Sinh", kTranscendental}, {"Cosh", kTranscendental},
      {"Asinh", kTranscendental}, {"Acosh", kTranscendental},
      {"Atanh", kTranscendental}, {"Sigmoid", kTranscendental + 2},
      {"Elu", kTranscendental + 2}, {"Selu", kTranscendental + 3},
      {"Celu", kTranscendental + 3}, {"Softplus", 2 * kTranscendental + 1},
      {"Mish", 3 * kTranscendental + 2}, {"Gelu", kTranscendental + 4},
      {"FastGelu", kTranscendental + 7}, {"QuickGelu", kTranscendental + 3},
      {"Cast", 0},          {"CastLike", 0},
      {"QuantizeLinear", kRequantize}, {"DequantizeLinear", 2},
      {"DynamicQuantizeLinear", kRequantize + 2},
  };
  return table;
}

/// Flops per output element and per extra operand of the broadcasting (and variadic) ops.
const std::unordered_map<std::string, double>& binary_flops() {
  static const std::unordered_map<std::string, double> table = {
      {"Add", 1},   {"Sub", 1},          {"Mul", 1},       {"Div", 1},
      {"Max", 1},   {"Min", 1},          {"Sum", 1},       {"Mean", 1},
      {"Mod", 1},   {"Equal", 1},        {"Less", 1},      {"Greater", 1},
      {"LessOrEqual", 1}, {"GreaterOrEqual", 1}, {"And", 1}, {"Or", 1},
      {"Xor", 1},   {"BitShift", 1},     {"BitwiseAnd", 1}, {"BitwiseOr", 1},
      {"BitwiseXor", 1}, {"Where", 1},   {"PRelu", 2},     {"Pow", kTranscendental},
  };
  return table;
}

const std::set<std::string> kViewOps = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Shape", "Size",
                                        "Constant"};
const std::set<std::string> kCopyOps = {"Transpose", "Concat", "Pad", "Expand", "Tile", "DepthToSpace",
                                        "SpaceToDepth", "ReverseSequence", "Trilu", "ConstantOfShape", "Range",
                                        "EyeLike", "OneHot", "NonZero", "Compress", "Unique", "ScatterND",
                                        "ScatterElements", "Scatter", "MaxUnpool", "CenterCropPad"};
const std::set<std::string> kControlFlow = {"If", "Loop", "Scan", "SequenceMap"};

// ---- per-class costs ----

/// Conv-like: macs = |Y| * (C/group * prod(kernel)), read from W = [M, C/group, k...].
OpCost conv_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs,
                 size_t w_index, std::optional<size_t> b_index, std::optional<size_t> z_index, bool integer) {
  if (!has(ins, 0) || !has(ins, w_index) || !has(outs, 0) || ins[w_index].shape.size() < 2)
    return unknown_cost(OpClass::conv, ins, outs);
  const double y = numel(outs[0]);
  const auto& w = ins[w_index].shape;
  OpCost c;
  c.op_class = OpClass::conv;
  c.integer_math = integer;
  c.macs = y * dims_product(w, 1, w.size());
  c.flops = 2 * c.macs;
  if (b_index && has(ins, *b_index)) c.flops += y;
  if (z_index && has(ins, *z_index)) c.flops += y;
  if (node.op_type == "QLinearConv") c.flops += kRequantize * y;
  auto act = activation_flops(attr_string(node, "activation", ""));
  if (!act) return unknown_cost(OpClass::conv, ins, outs);
  c.flops += *act * y;
  if (node.attr("post_linear")) c.flops += 2 * y;  // ai.hwopt FusedConv: alpha * y + beta
  c.bytes = io_bytes(ins, outs);
  return c;
}

/// FusedConvDepthwise(X, W [M, C, 1, 1], B?, Wdw [M, 1, 3, 3], Bdw?): the pointwise convolution
/// over X's spatial size (the intermediate [N, M, H, W]) plus the depthwise one over Y. The
/// intermediate is not counted as traffic: the fused kernel keeps it in cache.
OpCost conv_depthwise_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(ins, 1) || !has(ins, 3) || !has(outs, 0) || ins[0].shape.size() < 3 ||
      ins[1].shape.size() < 2 || ins[3].shape.size() < 2)
    return unknown_cost(OpClass::conv, ins, outs);
  const auto& x = ins[0].shape;
  const double mid = static_cast<double>(x[0]) * static_cast<double>(ins[1].shape[0]) * dims_product(x, 2, x.size());
  const double y = numel(outs[0]);
  OpCost c;
  c.op_class = OpClass::conv;
  c.macs = mid * dims_product(ins[1].shape, 1, ins[1].shape.size()) + y * dims_product(ins[3].shape, 1, ins[3].shape.size());
  c.flops = 2 * c.macs;
  if (has(ins, 2)) c.flops += mid;
  if (has(ins, 4)) c.flops += y;
  auto act = activation_flops(attr_string(node, "activation", ""));
  auto dw_act = activation_flops(attr_string(node, "dw_activation", ""));
  if (!act || !dw_act) return unknown_cost(OpClass::conv, ins, outs);
  c.flops += *act * mid + *dw_act * y;
  c.bytes = io_bytes(ins, outs);
  return c;
}

/// ConvTranspose: every input element meets M/group * prod(kernel) weights, W = [C, M/group, k...].
/// ConvTranspose, and ai.hwopt FusedConvTranspose with its activation.
OpCost conv_transpose_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(ins, 1) || !has(outs, 0) || ins[1].shape.size() < 2)
    return unknown_cost(OpClass::conv, ins, outs);
  auto act = activation_flops(attr_string(node, "activation", ""));
  if (!act) return unknown_cost(OpClass::conv, ins, outs);
  OpCost c;
  c.op_class = OpClass::conv;
  c.macs = numel(ins[0]) * dims_product(ins[1].shape, 1, ins[1].shape.size());
  c.flops = 2 * c.macs + (has(ins, 2) ? numel(outs[0]) : 0) + *act * numel(outs[0]);
  c.bytes = io_bytes(ins, outs);
  return c;
}

OpCost gemm_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(ins, 1) || !has(outs, 0) || ins[0].shape.size() != 2)
    return unknown_cost(OpClass::matmul, ins, outs);
  const bool ta = attr_int(node, "transA", 0) != 0;
  const double k = static_cast<double>(ins[0].shape[ta ? 0 : 1]);
  const double y = numel(outs[0]);
  OpCost c;
  c.op_class = OpClass::matmul;
  c.macs = y * k;
  c.flops = 2 * c.macs;
  if (attr_float(node, "alpha", 1.0f) != 1.0f) c.flops += y;
  if (has(ins, 2)) c.flops += attr_float(node, "beta", 1.0f) != 1.0f ? 2 * y : y;
  auto act = activation_flops(attr_string(node, "activation", ""));
  if (!act) return unknown_cost(OpClass::matmul, ins, outs);
  c.flops += *act * y;
  c.bytes = io_bytes(ins, outs);
  return c;
}

/// MatMul-like: macs = |Y| * K (batch broadcasting is in |Y|). `b_index` is where B sits, `bias`
/// the optional bias input (FusedMatMul).
OpCost matmul_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs,
                   size_t b_index, std::optional<size_t> bias, bool integer) {
  if (!has(ins, 0) || !has(ins, b_index) || !has(outs, 0) || ins[0].shape.empty())
    return unknown_cost(OpClass::matmul, ins, outs);
  const auto& a = ins[0].shape;
  const bool ta = a.size() >= 2 && attr_int(node, "transA", 0) != 0;
  const double k = static_cast<double>(a.size() == 1 ? a[0] : a[a.size() - (ta ? 2 : 1)]);
  const double y = numel(outs[0]);
  OpCost c;
  c.op_class = OpClass::matmul;
  c.integer_math = integer;
  c.macs = y * k;
  c.flops = 2 * c.macs;
  if (attr_float(node, "alpha", 1.0f) != 1.0f) c.flops += y;
  if (bias && has(ins, *bias)) c.flops += y;
  if (node.op_type == "QLinearMatMul") c.flops += kRequantize * y;
  auto act = activation_flops(attr_string(node, "activation", ""));
  if (!act) return unknown_cost(OpClass::matmul, ins, outs);
  c.flops += *act * y;
  c.bytes = io_bytes(ins, outs);
  return c;
}

/// ScaledDotProductAttention(Q [.., S, D], K [.., S_kv, D] or [.., D, S_kv], V [.., S_kv, Dv], mask?):
/// Q K^T and P V as matmuls, scale + mask + softmax on the scores. Bytes assume a fused kernel that
/// never writes the scores to memory (the minimum).
OpCost attention_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(ins, 1) || !has(ins, 2) || !has(outs, 0) || ins[0].shape.size() < 2 ||
      ins[1].shape.size() < 2 || ins[2].shape.size() < 2 || outs[0].shape.size() < 2)
    return unknown_cost(OpClass::attention, ins, outs);
  const auto& q = ins[0].shape;
  const auto& k = ins[1].shape;
  const auto& v = ins[2].shape;
  const bool kt = attr_int(node, "k_transposed", 0) != 0;
  const double s = static_cast<double>(q[q.size() - 2]), d = static_cast<double>(q.back());
  const double s_kv = static_cast<double>(kt ? k.back() : k[k.size() - 2]);
  const double dv = static_cast<double>(v.back());
  const double y = numel(outs[0]);
  const double batch_heads = s * dv > 0 ? y / (s * dv) : 0;
  const double scores = batch_heads * s * s_kv;
  OpCost c;
  c.op_class = OpClass::attention;
  c.macs = scores * d + scores * dv;
  c.flops = 2 * c.macs + scores * (1 + kSoftmax + (has(ins, 3) ? 1 : 0));  // scale, softmax, mask
  c.bytes = io_bytes(ins, outs);
  return c;
}

OpCost pool_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(outs, 0)) return unknown_cost(OpClass::pooling, ins, outs);
  const std::string& op = node.op_type;
  const double x = numel(ins[0]), y = numel(outs[0]);
  OpCost c;
  c.op_class = OpClass::pooling;
  c.bytes = io_bytes(ins, outs);
  if (op.rfind("Global", 0) == 0) {
    if (op == "GlobalMaxPool") c.flops = x;
    else if (op == "GlobalAveragePool") c.flops = x + y;
    else c.flops = x * (kTranscendental + 1) + y * kTranscendental;  // |x|^p, sum, root
    return c;
  }
  auto ks = attr_ints(node, "kernel_shape");
  if (!ks || ks->empty()) return unknown_cost(OpClass::pooling, ins, outs);
  double window = 1;
  for (int64_t k : *ks) window *= static_cast<double>(k);
  if (op == "MaxPool") c.flops = y * window;
  else if (op == "AveragePool") c.flops = y * (window + 1);
  else c.flops = y * (window * (kTranscendental + 1) + kTranscendental);
  return c;
}

OpCost normalization_cost(const ir::Node& node, const std::vector<ValueDesc>& ins,
                          const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(outs, 0)) return unknown_cost(OpClass::normalization, ins, outs);
  const std::string& op = node.op_type;
  const double y = numel(outs[0]);
  double per = 0;
  if (op == "Softmax" || op == "LogSoftmax") per = kSoftmax;
  else if (op == "BatchNormalization") per = 2;  // one multiply-add per element after folding
  else if (op == "LayerNormalization") per = kNormalize + (has(ins, 1) ? 1 : 0) + (has(ins, 2) ? 1 : 0);
  else if (op == "SimplifiedLayerNormalization" || op == "RMSNormalization") per = 4 + (has(ins, 1) ? 1 : 0);
  else if (op == "InstanceNormalization" || op == "GroupNormalization") per = kNormalize + 2;
  else if (op == "MeanVarianceNormalization") per = kNormalize;
  else if (op == "LpNormalization") per = 3;
  else if (op == "LRN") per = 2 * static_cast<double>(attr_int(node, "size", 1)) + kTranscendental + 3;
  OpCost c;
  c.op_class = OpClass::normalization;
  c.flops = per * y;
  c.bytes = io_bytes(ins, outs);
  return c;
}

OpCost reduction_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(outs, 0)) return unknown_cost(OpClass::reduction, ins, outs);
  const std::string& op = node.op_type;
  const double x = numel(ins[0]), y = numel(outs[0]);
  OpCost c;
  c.op_class = OpClass::reduction;
  c.bytes = io_bytes(ins, outs);
  if (op == "ReduceSumSquare" || op == "ReduceL1") c.flops = 2 * x;
  else if (op == "ReduceL2") c.flops = 2 * x + y;
  else if (op == "ReduceLogSum") c.flops = x + kTranscendental * y;
  else if (op == "ReduceLogSumExp") c.flops = (kTranscendental + 2) * x + kTranscendental * y;
  else if (op == "ReduceMean") c.flops = x + y;
  else if (op == "TopK") c.flops = x * std::max(1.0, std::log2(std::max(2.0, outs[0].shape.empty() ? 2.0 : static_cast<double>(outs[0].shape.back()))));
  else c.flops = x;  // ReduceSum/Max/Min/Prod, ArgMax/ArgMin, CumSum, Hardmax
  return c;
}

OpCost elementwise_cost(double per_element, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  OpCost c;
  c.op_class = OpClass::elementwise;
  c.flops = per_element * (has(outs, 0) ? numel(outs[0]) : 0);
  c.bytes = io_bytes(ins, outs);
  return c;
}

/// Slice on the CPU backend is a view when its result is one contiguous block of the input. The
/// steps are not visible from shapes; a step of 1 is assumed.
bool slice_is_view(const ValueDesc& in, const ValueDesc& out) {
  if (in.shape.size() != out.shape.size()) return false;
  const size_t r = in.shape.size();
  size_t k = r;
  while (k > 0 && in.shape[k - 1] == out.shape[k - 1]) --k;
  if (k == 0) return true;  // nothing sliced
  for (size_t i = 0; i + 1 < k; ++i)
    if (out.shape[i] != 1) return false;
  return true;
}

OpCost data_movement_cost(const ir::Node& node, const std::vector<ValueDesc>& ins,
                          const std::vector<ValueDesc>& outs) {
  const std::string& op = node.op_type;
  OpCost c;
  c.op_class = OpClass::data_movement;
  if (kViewOps.count(op)) return c;  // views and metadata: nothing is copied
  if (op == "Dropout") {             // inference: output 0 is the input; a requested mask is written
    c.bytes = has(outs, 1) ? nbytes(outs[1]) : 0;
    return c;
  }
  if (op == "Gather" || op == "GatherElements" || op == "GatherND") {
    // Only the gathered elements are read (an embedding table is not read whole).
    c.bytes = (has(ins, 1) ? nbytes(ins[1]) : 0) + 2 * (has(outs, 0) ? nbytes(outs[0]) : 0);
    return c;
  }
  if (op == "Slice" && has(ins, 0) && has(outs, 0)) {
    if (slice_is_view(ins[0], outs[0])) return c;
    c.bytes = io_bytes(ins, outs) - nbytes(ins[0]) + nbytes(outs[0]);  // reads only what it keeps
    return c;
  }
  if (op == "Split" && has(ins, 0)) {
    int64_t axis = attr_int(node, "axis", 0);
    const int64_t r = static_cast<int64_t>(ins[0].shape.size());
    if (axis < 0) axis += r;
    if (axis >= 0 && axis <= r && dims_product(ins[0].shape, 0, static_cast<size_t>(axis)) == 1) return c;
    c.bytes = io_bytes(ins, outs);
    return c;
  }
  if (op == "Resize" || op == "Upsample") {
    const std::string mode = attr_string(node, "mode", "nearest");
    const double spatial = has(ins, 0) ? static_cast<double>(std::max<size_t>(ins[0].shape.size(), 2) - 2) : 0;
    const double y = has(outs, 0) ? numel(outs[0]) : 0;
    // Interpolation per output element: (2^d - 1) lerps of 3 flops (linear), 4^d multiply-adds (cubic).
    if (mode == "linear" || mode == "bilinear" || mode == "trilinear") c.flops = y * 3 * (std::pow(2.0, spatial) - 1);
    else if (mode == "cubic") c.flops = y * 2 * std::pow(4.0, spatial);
    c.bytes = io_bytes(ins, outs);
    return c;
  }
  c.bytes = io_bytes(ins, outs);
  return c;
}

/// Einsum without ellipsis: every distinct index is looped over once per extra operand.
OpCost einsum_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  const std::string eq = attr_string(node, "equation", "");
  const auto arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  if (eq.find("...") != std::string::npos) return unknown_cost(OpClass::matmul, ins, outs);
  std::map<char, int64_t> sizes;
  size_t operand = 0, axis = 0;
  for (char ch : lhs) {
    if (ch == ',') {
      ++operand;
      axis = 0;
    } else if (ch != ' ') {
      if (!has(ins, operand) || axis >= ins[operand].shape.size()) return unknown_cost(OpClass::matmul, ins, outs);
      sizes[ch] = ins[operand].shape[axis++];
    }
  }
  double loop = 1;
  for (const auto& [ch, n] : sizes) loop *= static_cast<double>(n);
  OpCost c;
  c.bytes = io_bytes(ins, outs);
  if (operand == 0) {
    c.op_class = OpClass::reduction;
    c.flops = loop;
    return c;
  }
  c.op_class = OpClass::matmul;
  c.macs = loop * static_cast<double>(operand);
  c.flops = 2 * c.macs;
  return c;
}

/// RNN/GRU/LSTM: per time step and batch row, the gate matmuls X W^T and H R^T (all directions),
/// plus bias adds, gate activations and the state update, about (kTranscendental + 3) per gate
/// element.
OpCost recurrent_cost(const ir::Node& node, const std::vector<ValueDesc>& ins, const std::vector<ValueDesc>& outs) {
  if (!has(ins, 0) || !has(ins, 1) || !has(ins, 2) || ins[0].shape.size() != 3 || ins[1].shape.size() != 3)
    return unknown_cost(OpClass::matmul, ins, outs);
  const bool batch_first = attr_int(node, "layout", 0) != 0;
  const double steps = static_cast<double>(ins[0].shape[batch_first ? 1 : 0]);
  const double batch = static_cast<double>(ins[0].shape[batch_first ? 0 : 1]);
  OpCost c;
  c.op_class = OpClass::matmul;
  c.macs = steps * batch * (numel(ins[1]) + numel(ins[2]));
  const double gate_elements = static_cast<double>(ins[1].shape[0] * ins[1].shape[1]);
  c.flops = 2 * c.macs + steps * batch * gate_elements * (kTranscendental + 3);
  c.bytes = io_bytes(ins, outs);
  return c;
}

bool modelled_domain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx" || domain == "com.microsoft" || domain == "ai.hwopt";
}

}  // namespace

OpCost op_cost(const ir::Node& node, const std::vector<ValueDesc>& inputs, const std::vector<ValueDesc>& outputs) {
  const std::string& op = node.op_type;
  if (kControlFlow.count(op)) return unknown_cost(OpClass::control_flow, inputs, outputs);
  if (!modelled_domain(node.domain)) return unknown_cost(OpClass::other, inputs, outputs);
  if (!all_dims_valid(inputs) || !all_dims_valid(outputs)) return unknown_cost(OpClass::other, inputs, outputs);

  if (op == "Conv") return conv_cost(node, inputs, outputs, 1, 2, std::nullopt, false);
  if (op == "FusedConv") return conv_cost(node, inputs, outputs, 1, 2, 3, false);
  if (op == "FusedConvDepthwise") return conv_depthwise_cost(node, inputs, outputs);
  if (op == "ConvInteger") return conv_cost(node, inputs, outputs, 1, std::nullopt, std::nullopt, true);
  if (op == "QLinearConv") return conv_cost(node, inputs, outputs, 3, 8, std::nullopt, true);
  if (op == "ConvTranspose" || op == "FusedConvTranspose") return conv_transpose_cost(node, inputs, outputs);
  if (op == "Gemm" || op == "FusedGemm") return gemm_cost(node, inputs, outputs);
  if (op == "MatMul") return matmul_cost(node, inputs, outputs, 1, std::nullopt, false);
  if (op == "FusedMatMul") return matmul_cost(node, inputs, outputs, 1, 2, false);
  if (op == "MatMulInteger") return matmul_cost(node, inputs, outputs, 1, std::nullopt, true);
  if (op == "QLinearMatMul") return matmul_cost(node, inputs, outputs, 3, std::nullopt, true);
  if (op == "Einsum") return einsum_cost(node, inputs, outputs);
  if (op == "RNN" || op == "GRU" || op == "LSTM") return recurrent_cost(node, inputs, outputs);
  if (op == "ScaledDotProductAttention") return attention_cost(node, inputs, outputs);
  if (op == "MaxPool" || op == "AveragePool" || op == "LpPool" || op == "GlobalAveragePool" ||
      op == "GlobalMaxPool" || op == "GlobalLpPool")
    return pool_cost(node, inputs, outputs);
  if (op == "Softmax" || op == "LogSoftmax" || op == "BatchNormalization" || op == "LayerNormalization" ||
      op == "SimplifiedLayerNormalization" || op == "RMSNormalization" || op == "InstanceNormalization" ||
      op == "GroupNormalization" || op == "MeanVarianceNormalization" || op == "LpNormalization" || op == "LRN")
    return normalization_cost(node, inputs, outputs);
  if (op.rfind("Reduce", 0) == 0 || op == "ArgMax" || op == "ArgMin" || op == "CumSum" || op == "TopK" ||
      op == "Hardmax")
    return reduction_cost(node, inputs, outputs);
  if (op == "ElementwiseChain") {
    // The steps' flops per output element (each step computed at the output's shape).
    ir::ElementwiseChain chain;
    if (!ir::parse_chain(node, chain).empty()) return unknown_cost(OpClass::elementwise, inputs, outputs);
    double per = 0;
    for (const ir::ChainStep& s : chain.steps) {
      auto u = unary_flops().find(s.op);
      per += u != unary_flops().end() ? u->second : binary_flops().at(s.op);
    }
    return elementwise_cost(per, inputs, outputs);
  }
  if (auto it = unary_flops().find(op); it != unary_flops().end()) {
    double per = it->second;
    if (op == "Gelu" && attr_string(node, "approximate", "none") == "tanh") per = kTranscendental + 7;
    if (op == "FastGelu" && has(inputs, 1)) per += 1;  // bias
    return elementwise_cost(per, inputs, outputs);
  }
  if (auto it = binary_flops().find(op); it != binary_flops().end()) {
    size_t operands = 0;
    for (const auto& in : inputs) operands += in.present;
    double per = it->second * static_cast<double>(op == "Where" ? 1 : std::max<size_t>(operands, 2) - 1);
    if (op == "Mean") per += 1;
    return elementwise_cost(per, inputs, outputs);
  }
  if (kViewOps.count(op) || kCopyOps.count(op) || op == "Dropout" || op == "Gather" || op == "GatherElements" ||
      op == "GatherND" || op == "Slice" || op == "Split" || op == "Resize" || op == "Upsample")
    return data_movement_cost(node, inputs, outputs);
  return unknown_cost(OpClass::other, inputs, outputs);
}

// ---------------------------------------------------------------------------------------------
// Whole graphs.

namespace {

struct Known {
  DType dtype = DType::undefined;
  Shape shape;
};

/// Static shapes of a graph's values and its constant tensors, with the shape rules the infer_shapes
/// pass lacks (pooling, fused ops, Split, Pad, Resize, ...) and the common ones, so one sweep gets far.
class ShapeFill {
 public:
  explicit ShapeFill(ir::Graph& graph) : graph_(graph) {
    std::set<std::string> input_names;
    for (const auto& in : graph.inputs) input_names.insert(in.name);
    for (const auto& [name, t] : graph.initializers)
      if (!input_names.count(name)) constants_[name] = &t;
    for (const auto& n : graph.nodes)
      if (n.op_type == "Constant" && n.domain.empty() && n.outputs.size() == 1)
        if (const ir::Attribute* a = n.attr("value"); a && a->type == ir::AttrType::t) constants_[n.outputs[0]] = &a->t;
  }

  /// Reloads the known static shapes from the graph (inputs, initializers, value_info, outputs).
  void reload() {
    known_.clear();
    for (const auto& [name, t] : graph_.initializers) known_[name] = {t.dtype(), t.shape()};
    for (const auto& [name, t] : constants_) known_[name] = {t->dtype(), t->shape()};
    auto take = [&](const ir::ValueInfo& vi) {
      if (vi.kind != ir::ValueKind::tensor || !vi.has_shape) return;
      if (auto s = vi.static_shape()) known_[vi.name] = {vi.dtype, *s};
    };
    for (const auto& [name, vi] : graph_.value_info) take(vi);
    for (const auto& vi : graph_.outputs) take(vi);
    for (const auto& vi : graph_.inputs) take(vi);
  }

  /// Values with a static shape plus integer values known (shape arithmetic).
  size_t known_count() const { return known_.size() + data_.size(); }
  const Known* find(const std::string& name) const {
    if (name.empty()) return nullptr;
    auto it = known_.find(name);
    return it == known_.end() ? nullptr : &it->second;
  }

  /// One sweep in `order`; returns the number of values it gave a static shape.
  int sweep(const std::vector<size_t>& order) {
    int added = 0;
    for (size_t i : order) {
      const ir::Node& n = graph_.nodes[i];
      infer_data(n);
      bool missing = false;
      for (const auto& o : n.outputs) missing |= !o.empty() && !find(o);
      if (!missing) continue;
      std::vector<std::optional<Known>> result(n.outputs.size());
      infer(n, result);
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (result[k] && !n.outputs[k].empty() && !find(n.outputs[k])) {
          store(n.outputs[k], *result[k]);
          ++added;
        }
    }
    return added;
  }

 private:
  void store(const std::string& name, const Known& k) {
    known_[name] = k;
    ir::ValueInfo vi;
    vi.name = name;
    vi.dtype = k.dtype;
    vi.has_shape = true;
    for (int64_t d : k.shape) vi.shape.push_back(ir::Dim{d, ""});
    for (auto& o : graph_.outputs)
      if (o.name == name) {
        if (vi.dtype == DType::undefined) vi.dtype = o.dtype;
        o = vi;
        return;
      }
    auto it = graph_.value_info.find(name);
    if (it != graph_.value_info.end() && vi.dtype == DType::undefined) vi.dtype = it->second.dtype;
    graph_.value_info[name] = vi;
  }

  std::optional<std::vector<int64_t>> ints(const ir::Node& n, size_t index) const {
    if (index >= n.inputs.size() || n.inputs[index].empty()) return std::nullopt;
    if (auto d = data_.find(n.inputs[index]); d != data_.end()) return d->second;
    auto it = constants_.find(n.inputs[index]);
    if (it == constants_.end()) return std::nullopt;
    const Tensor& t = *it->second;
    if (t.rank() > 1 || !(t.dtype() == DType::int64 || t.dtype() == DType::int32)) return std::nullopt;
    return int64_values(t);
  }
  std::optional<std::vector<double>> floats(const ir::Node& n, size_t index) const {
    if (index >= n.inputs.size() || n.inputs[index].empty()) return std::nullopt;
    auto it = constants_.find(n.inputs[index]);
    if (it == constants_.end() || it->second->rank() > 1) return std::nullopt;
    std::vector<double> v;
    for (int64_t k = 0; k < it->second->numel(); ++k) v.push_back(it->second->element_as_double(k));
    return v;
  }
  const Known* in(const ir::Node& n, size_t index) const { return index < n.inputs.size() ? find(n.inputs[index]) : nullptr; }

  static std::optional<Shape> broadcast(const std::vector<const Shape*>& shapes) {
    size_t r = 0;
    for (const auto* s : shapes) r = std::max(r, s->size());
    Shape out(r, 1);
    for (const auto* s : shapes)
      for (size_t k = 0; k < s->size(); ++k) {
        int64_t& o = out[r - s->size() + k];
        const int64_t d = (*s)[k];
        if (d == 1) continue;
        if (o != 1 && o != d) return std::nullopt;
        o = d;
      }
    return out;
  }

  /// Spatial output size of a sliding window (conv and pooling).
  static int64_t window_out(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pad_total,
                            const std::string& auto_pad, bool ceil_mode, int64_t pad_begin) {
    const int64_t eff = (k - 1) * dil + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") return (in + stride - 1) / stride;
    if (auto_pad == "VALID") return (in - eff) / stride + 1;
    const int64_t span = in + pad_total - eff;
    if (span < 0) return -1;
    if (!ceil_mode) return span / stride + 1;
    int64_t o = (span + stride - 1) / stride + 1;
    if ((o - 1) * stride >= in + pad_begin) --o;  // the last window must start inside the input or left pad
    return o;
  }

  std::optional<Shape> sliding(const ir::Node& n, const Shape& x, const std::vector<int64_t>& kernel, bool pool) const {
    const size_t sp = x.size() - 2;
    if (kernel.size() != sp) return std::nullopt;
    auto strides = attr_ints(n, "strides").value_or(std::vector<int64_t>(sp, 1));
    auto dil = attr_ints(n, "dilations").value_or(std::vector<int64_t>(sp, 1));
    auto pads = attr_ints(n, "pads").value_or(std::vector<int64_t>(2 * sp, 0));
    if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp) return std::nullopt;
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    const bool ceil_mode = pool && attr_int(n, "ceil_mode", 0) != 0;
    Shape out;
    for (size_t d = 0; d < sp; ++d) {
      if (strides[d] < 1 || kernel[d] < 1) return std::nullopt;
      const int64_t o = window_out(x[d + 2], kernel[d], strides[d], dil[d], pads[d] + pads[d + sp], auto_pad, ceil_mode, pads[d]);
      if (o < 0) return std::nullopt;
      out.push_back(o);
    }
    return out;
  }

  void infer(const ir::Node& n, std::vector<std::optional<Known>>& out) const;
  void infer_data(const ir::Node& n);

  ir::Graph& graph_;
  std::map<std::string, const Tensor*> constants_;
  std::map<std::string, Known> known_;
  // Elements of small integer tensors computed from shapes (Shape -> Slice -> Concat -> Reshape):
  // with every input shape concrete they are plain numbers, so a -1 in a Reshape target is known.
  std::map<std::string, std::vector<int64_t>> data_;
};

void ShapeFill::infer_data(const ir::Node& n) {
  if (n.outputs.empty() || n.outputs[0].empty() || data_.count(n.outputs[0]) || constants_.count(n.outputs[0])) return;
  if (!n.domain.empty() && n.domain != "ai.onnx") return;
  const std::string& op = n.op_type;
  std::optional<std::vector<int64_t>> r;
  if (op == "Shape") {
    const Known* x = in(n, 0);
    if (!x) return;
    const int64_t rank = static_cast<int64_t>(x->shape.size());
    int64_t start = n.opset >= 15 ? attr_int(n, "start", 0) : 0, end = n.opset >= 15 ? attr_int(n, "end", rank) : rank;
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    r = std::vector<int64_t>(x->shape.begin() + start, x->shape.begin() + end);
  } else if (op == "Size") {
    const Known* x = in(n, 0);
    if (!x) return;
    r = std::vector<int64_t>{static_cast<int64_t>(dims_product(x->shape, 0, x->shape.size()))};
  } else if (op == "Identity" || op == "Squeeze" || op == "Unsqueeze" ||
             (op == "Cast" && (attr_int(n, "to", 0) == static_cast<int64_t>(DType::int64) ||
                               attr_int(n, "to", 0) == static_cast<int64_t>(DType::int32)))) {
    r = ints(n, 0);
  } else if (op == "Concat") {
    std::vector<int64_t> v;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      auto d = ints(n, k);
      if (!d) return;
      v.insert(v.end(), d->begin(), d->end());
    }
    r = v;
  } else if (op == "Gather") {
    auto d = ints(n, 0);
    auto idx = ints(n, 1);
    if (!d || !idx || attr_int(n, "axis", 0) != 0) return;
    std::vector<int64_t> v;
    for (int64_t i : *idx) {
      if (i < 0) i += static_cast<int64_t>(d->size());
      if (i < 0 || i >= static_cast<int64_t>(d->size())) return;
      v.push_back((*d)[i]);
    }
    r = v;
  } else if (op == "Slice") {
    auto d = ints(n, 0);
    if (!d) return;
    std::optional<std::vector<int64_t>> starts, ends, axes, steps;
    if (n.opset < 10) {
      starts = attr_ints(n, "starts");
      ends = attr_ints(n, "ends");
      axes = attr_ints(n, "axes");
    } else {
      starts = ints(n, 1);
      ends = ints(n, 2);
      if (n.inputs.size() > 3 && !n.inputs[3].empty() && !(axes = ints(n, 3))) return;
      if (n.inputs.size() > 4 && !n.inputs[4].empty() && !(steps = ints(n, 4))) return;
    }
    if (!starts || !ends || starts->size() != 1 || ends->size() != 1) return;
    if (axes && (axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1))) return;
    const int64_t step = steps && steps->size() == 1 ? (*steps)[0] : 1;
    const int64_t size = static_cast<int64_t>(d->size());
    int64_t s = (*starts)[0], e = (*ends)[0];
    if (step != 1) return;
    if (s < 0) s += size;
    if (e < 0) e += size;
    s = std::clamp<int64_t>(s, 0, size);
    e = std::clamp<int64_t>(e, s, size);
    r = std::vector<int64_t>(d->begin() + s, d->begin() + e);
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    auto a = ints(n, 0);
    auto b = ints(n, 1);
    if (!a || !b || (a->size() != b->size() && a->size() != 1 && b->size() != 1)) return;
    const size_t len = std::max(a->size(), b->size());
    std::vector<int64_t> v;
    for (size_t k = 0; k < len; ++k) {
      const int64_t x = (*a)[a->size() == 1 ? 0 : k], y = (*b)[b->size() == 1 ? 0 : k];
      if (op == "Div" && y == 0) return;
      v.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
    }
    r = v;
  }
  if (r) data_[n.outputs[0]] = *r;
}

const std::set<std::string> kSameShapeOps = {
    "Relu", "Clip", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "LeakyRelu", "Gelu", "FastGelu", "QuickGelu", "Erf",
    "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Elu", "Selu", "Softplus", "Mish", "PRelu", "Softmax",
    "LogSoftmax", "BatchNormalization", "LayerNormalization", "SimplifiedLayerNormalization", "InstanceNormalization",
    "GroupNormalization", "LRN", "Identity", "Dropout", "DequantizeLinear", "QuantizeLinear", "Floor", "Ceil", "Round",
    "Sign", "Not", "IsNaN", "IsInf", "CumSum", "Hardmax", "MeanVarianceNormalization", "LpNormalization"};
const std::set<std::string> kBoolOps = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor",
                                        "Not", "IsNaN", "IsInf"};

void ShapeFill::infer(const ir::Node& n, std::vector<std::optional<Known>>& out) const {
  if (!modelled_domain(n.domain) || out.empty()) return;
  const std::string& op = n.op_type;
  const Known* x = in(n, 0);
  auto set = [&](size_t k, DType dt, Shape s) {
    if (k < out.size()) out[k] = Known{dt, std::move(s)};
  };

  if (op == "Constant") {
    for (const auto& a : n.attributes) {
      if (a.name == "value" && a.type == ir::AttrType::t) set(0, a.t.dtype(), a.t.shape());
      if (a.name == "value_float") set(0, DType::float32, {});
      if (a.name == "value_int") set(0, DType::int64, {});
      if (a.name == "value_floats") set(0, DType::float32, {static_cast<int64_t>(a.floats.size())});
      if (a.name == "value_ints") set(0, DType::int64, {static_cast<int64_t>(a.ints.size())});
    }
    return;
  }
  if (kSameShapeOps.count(op) || op == "Cast") {
    if (!x) return;
    DType dt = x->dtype;
    if (op == "Cast") dt = static_cast<DType>(attr_int(n, "to", 0));
    if (kBoolOps.count(op)) dt = DType::boolean;
    if (op == "DequantizeLinear") dt = DType::float32;
    if (op == "QuantizeLinear") dt = in(n, 2) ? in(n, 2)->dtype : DType::uint8;
    set(0, dt, x->shape);
    if (op == "Dropout" && out.size() > 1) set(1, DType::boolean, x->shape);
    return;
  }
  if (binary_flops().count(op) || kBoolOps.count(op) || op == "ElementwiseChain") {
    std::vector<const Shape*> shapes;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const Known* v = in(n, k);
      if (!v) return;
      shapes.push_back(&v->shape);
    }
    if (shapes.empty()) return;
    auto s = broadcast(shapes);
    if (!s) return;
    const DType dt = kBoolOps.count(op) ? DType::boolean : (op == "Where" ? in(n, 1)->dtype : x->dtype);
    set(0, dt, *s);
    return;
  }
  if (!x) return;
  const Shape& xs = x->shape;
  const int64_t rank = static_cast<int64_t>(xs.size());

  if (op == "Conv" || op == "FusedConv" || op == "ConvInteger" || op == "QLinearConv") {
    const Known* w = in(n, op == "QLinearConv" ? 3 : 1);
    if (!w || xs.size() < 3 || w->shape.size() != xs.size()) return;
    auto ks = attr_ints(n, "kernel_shape").value_or(Shape(w->shape.begin() + 2, w->shape.end()));
    auto sp = sliding(n, xs, ks, false);
    if (!sp) return;
    Shape s = {xs[0], w->shape[0]};
    s.insert(s.end(), sp->begin(), sp->end());
    DType dt = x->dtype;
    if (op == "ConvInteger") dt = DType::int32;
    if (op == "QLinearConv" && in(n, 7)) dt = in(n, 7)->dtype;
    set(0, dt, s);
    return;
  }
  if (op == "FusedConvDepthwise") {  // 1x1, then 3x3 with padding 1 and dw_strides
    const Known* w = in(n, 1);
    auto st = attr_ints(n, "dw_strides");
    if (!w || xs.size() != 4 || w->shape.size() != 4 || !st || st->size() != 2 || (*st)[0] < 1 || (*st)[1] < 1) return;
    auto out = [&](int64_t d, int64_t s) { return d < 0 ? d : (d - 1) / s + 1; };  // unknown stays unknown
    set(0, x->dtype, {xs[0], w->shape[0], out(xs[2], (*st)[0]), out(xs[3], (*st)[1])});
    return;
  }
  if (op == "ConvTranspose" || op == "FusedConvTranspose") {
    const Known* w = in(n, 1);
    if (!w || xs.size() < 3 || w->shape.size() != xs.size()) return;
    const size_t sp = xs.size() - 2;
    Shape s = {xs[0], w->shape[1] * attr_int(n, "group", 1)};
    if (auto os = attr_ints(n, "output_shape"); os && os->size() >= sp) {
      s.insert(s.end(), os->end() - static_cast<int64_t>(sp), os->end());
      set(0, x->dtype, s);
      return;
    }
    auto strides = attr_ints(n, "strides").value_or(std::vector<int64_t>(sp, 1));
    auto dil = attr_ints(n, "dilations").value_or(std::vector<int64_t>(sp, 1));
    auto pads = attr_ints(n, "pads").value_or(std::vector<int64_t>(2 * sp, 0));
    auto opad = attr_ints(n, "output_padding").value_or(std::vector<int64_t>(sp, 0));
    auto ks = attr_ints(n, "kernel_shape").value_or(Shape(w->shape.begin() + 2, w->shape.end()));
    if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp || opad.size() != sp || ks.size() != sp) return;
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    for (size_t d = 0; d < sp; ++d) {
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") s.push_back(xs[d + 2] * strides[d]);
      else s.push_back(strides[d] * (xs[d + 2] - 1) + opad[d] + (ks[d] - 1) * dil[d] + 1 - pads[d] - pads[d + sp]);
    }
    set(0, x->dtype, s);
    return;
  }
  if (op == "MaxPool" || op == "AveragePool" || op == "LpPool") {
    auto ks = attr_ints(n, "kernel_shape");
    if (!ks || xs.size() < 3) return;
    auto sp = sliding(n, xs, *ks, true);
    if (!sp) return;
    Shape s = {xs[0], xs[1]};
    s.insert(s.end(), sp->begin(), sp->end());
    set(0, x->dtype, s);
    set(1, DType::int64, s);
    return;
  }
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool" || op == "GlobalLpPool") {
    if (xs.size() < 2) return;
    Shape s = {xs[0], xs[1]};
    s.resize(xs.size(), 1);
    set(0, x->dtype, s);
    return;
  }
  if (op == "Flatten") {
    int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) return;
    set(0, x->dtype,
        {static_cast<int64_t>(dims_product(xs, 0, axis)), static_cast<int64_t>(dims_product(xs, axis, xs.size()))});
    return;
  }
  if (op == "Gemm" || op == "FusedGemm") {
    const Known* b = in(n, 1);
    if (!b || xs.size() != 2 || b->shape.size() != 2) return;
    set(0, x->dtype, {xs[attr_int(n, "transA", 0) ? 1 : 0], b->shape[attr_int(n, "transB", 0) ? 0 : 1]});
    return;
  }
  if (op == "MatMul" || op == "FusedMatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
    const Known* b = in(n, op == "QLinearMatMul" ? 3 : 1);
    if (!b || xs.empty() || b->shape.empty()) return;
    Shape a2 = xs, b2 = b->shape;
    if (a2.size() >= 2 && attr_int(n, "transA", 0)) std::swap(a2[a2.size() - 1], a2[a2.size() - 2]);
    if (b2.size() >= 2 && attr_int(n, "transB", 0)) std::swap(b2[b2.size() - 1], b2[b2.size() - 2]);
    const bool a1 = a2.size() == 1, b1 = b2.size() == 1;
    if (a1) a2.insert(a2.begin(), 1);
    if (b1) b2.push_back(1);
    const Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
    auto s = broadcast({&ab, &bb});
    if (!s) return;
    if (!a1) s->push_back(a2[a2.size() - 2]);
    if (!b1) s->push_back(b2.back());
    DType dt = x->dtype;
    if (op == "MatMulInteger") dt = DType::int32;
    if (op == "QLinearMatMul" && in(n, 7)) dt = in(n, 7)->dtype;
    set(0, dt, *s);
    return;
  }
  if (op == "ScaledDotProductAttention") {
    const Known* k = in(n, 1);
    const Known* v = in(n, 2);
    if (!k || !v || xs.size() < 2 || k->shape.size() < 2 || v->shape.size() < 2) return;
    const Shape qb(xs.begin(), xs.end() - 2), kb(k->shape.begin(), k->shape.end() - 2),
        vb(v->shape.begin(), v->shape.end() - 2);
    auto s = broadcast({&qb, &kb, &vb});
    if (!s) return;
    s->push_back(xs[xs.size() - 2]);
    s->push_back(v->shape.back());
    set(0, x->dtype, *s);
    return;
  }
  if (op == "Transpose") {
    Shape s;
    auto perm = attr_ints(n, "perm");
    if (!perm) {
      s.assign(xs.rbegin(), xs.rend());
    } else {
      if (perm->size() != xs.size()) return;
      for (int64_t p : *perm) {
        if (p < 0 || p >= rank) return;
        s.push_back(xs[p]);
      }
    }
    set(0, x->dtype, s);
    return;
  }
  if (op == "Reshape") {
    auto target = n.opset < 5 ? attr_ints(n, "shape") : ints(n, 1);
    if (!target) return;
    const bool allowzero = attr_int(n, "allowzero", 0) != 0;
    Shape s;
    int infer_at = -1;
    for (size_t k = 0; k < target->size(); ++k) {
      int64_t t = (*target)[k];
      if (t == 0 && !allowzero) {
        if (k >= xs.size()) return;
        t = xs[k];
      }
      if (t == -1) {
        if (infer_at >= 0) return;
        infer_at = static_cast<int>(k);
        t = 1;
      }
      if (t < 0) return;
      s.push_back(t);
    }
    if (infer_at >= 0) {
      const double total = dims_product(xs, 0, xs.size()), rest = dims_product(s, 0, s.size());
      if (rest <= 0 || std::fmod(total, rest) != 0) return;
      s[infer_at] = static_cast<int64_t>(total / rest);
    }
    set(0, x->dtype, s);
    return;
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    auto axes = n.opset >= 13 ? ints(n, 1) : attr_ints(n, "axes");
    const bool given = n.opset >= 13 ? n.inputs.size() > 1 && !n.inputs[1].empty() : n.attr("axes") != nullptr;
    if (given && !axes) return;
    Shape s;
    if (op == "Unsqueeze") {
      if (!axes) return;
      const int64_t r = rank + static_cast<int64_t>(axes->size());
      std::vector<bool> is_new(static_cast<size_t>(r), false);
      for (int64_t a : *axes) {
        if (a < 0) a += r;
        if (a < 0 || a >= r || is_new[a]) return;
        is_new[a] = true;
      }
      size_t k = 0;
      for (int64_t i = 0; i < r; ++i) s.push_back(is_new[i] ? 1 : xs[k++]);
    } else {
      std::vector<bool> drop(xs.size(), false);
      if (axes) {
        for (int64_t a : *axes) {
          if (a < 0) a += rank;
          if (a < 0 || a >= rank) return;
          drop[a] = true;
        }
      } else {
        for (size_t i = 0; i < xs.size(); ++i) drop[i] = xs[i] == 1;
      }
      for (size_t i = 0; i < xs.size(); ++i)
        if (!drop[i]) s.push_back(xs[i]);
    }
    set(0, x->dtype, s);
    return;
  }
  if (op == "Concat") {
    int64_t axis = attr_int(n, "axis", 0);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return;
    Shape s = xs;
    s[axis] = 0;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const Known* v = in(n, k);
      if (!v || v->shape.size() != xs.size()) return;
      s[axis] += v->shape[axis];
    }
    set(0, x->dtype, s);
    return;
  }
  if (op == "Split") {
    int64_t axis = attr_int(n, "axis", 0);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return;
    std::optional<std::vector<int64_t>> split = n.opset >= 13 ? ints(n, 1) : attr_ints(n, "split");
    if (n.opset >= 13 && n.inputs.size() > 1 && !n.inputs[1].empty() && !split) return;
    const int64_t outs = static_cast<int64_t>(n.outputs.size());
    if (!split) {
      const int64_t chunk = (xs[axis] + outs - 1) / outs;
      split = std::vector<int64_t>();
      for (int64_t k = 0, left = xs[axis]; k < outs; ++k, left -= chunk) split->push_back(std::clamp<int64_t>(left, 0, chunk));
    }
    if (static_cast<int64_t>(split->size()) != outs) return;
    for (int64_t k = 0; k < outs; ++k) {
      Shape s = xs;
      s[axis] = (*split)[k];
      set(k, x->dtype, s);
    }
    return;
  }
  if (op == "Slice") {
    std::optional<std::vector<int64_t>> starts, ends, axes, steps;
    if (n.opset < 10) {
      starts = attr_ints(n, "starts");
      ends = attr_ints(n, "ends");
      axes = attr_ints(n, "axes");
    } else {
      starts = ints(n, 1);
      ends = ints(n, 2);
      if (n.inputs.size() > 3 && !n.inputs[3].empty() && !(axes = ints(n, 3))) return;
      if (n.inputs.size() > 4 && !n.inputs[4].empty() && !(steps = ints(n, 4))) return;
    }
    if (!starts || !ends || starts->size() != ends->size()) return;
    if ((axes && axes->size() != starts->size()) || (steps && steps->size() != starts->size())) return;
    Shape s = xs;
    for (size_t k = 0; k < starts->size(); ++k) {
      int64_t a = axes ? (*axes)[k] : static_cast<int64_t>(k);
      if (a < 0) a += rank;
      const int64_t step = steps ? (*steps)[k] : 1;
      if (a < 0 || a >= rank || step == 0) return;
      const int64_t size = xs[a];
      int64_t b = (*starts)[k], e = (*ends)[k];
      if (b < 0) b += size;
      if (e < 0) e += size;
      if (step > 0) {
        b = std::clamp<int64_t>(b, 0, size);
        e = std::clamp<int64_t>(e, 0, size);
        s[a] = e > b ? (e - b + step - 1) / step : 0;
      } else {
        b = std::clamp<int64_t>(b, 0, size - 1);
        e = std::clamp<int64_t>(e, -1, size - 1);
        s[a] = b > e ? (b - e - step - 1) / -step : 0;
      }
    }
    set(0, x->dtype, s);
    return;
  }
  if (op == "Pad") {
    auto pads = n.opset >= 11 ? ints(n, 1) : attr_ints(n, "pads");
    if (!pads) return;
    std::vector<int64_t> axes;
    if (n.opset >= 18 && n.inputs.size() > 3 && !n.inputs[3].empty()) {
      auto a = ints(n, 3);
      if (!a) return;
      axes = *a;
    } else {
      for (int64_t k = 0; k < rank; ++k) axes.push_back(k);
    }
    if (pads->size() != 2 * axes.size()) return;
    Shape s = xs;
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
      if (a < 0 || a >= rank) return;
      s[a] += (*pads)[k] + (*pads)[k + axes.size()];
    }
    set(0, x->dtype, s);
    return;
  }
  if (op == "Expand") {
    auto target = ints(n, 1);
    if (!target) return;
    auto s = broadcast({&xs, &*target});
    if (s) set(0, x->dtype, *s);
    return;
  }
  if (op == "Tile") {
    auto reps = ints(n, 1);
    if (!reps || reps->size() != xs.size()) return;
    Shape s = xs;
    for (size_t k = 0; k < s.size(); ++k) s[k] *= (*reps)[k];
    set(0, x->dtype, s);
    return;
  }
  if (op == "Resize" || op == "Upsample") {
    if (attr_ints(n, "axes")) return;
    if (op == "Resize" && n.opset >= 11) {
      if (auto sizes = ints(n, 3); sizes && sizes->size() == xs.size()) {
        set(0, x->dtype, *sizes);
        return;
      }
    }
    std::optional<std::vector<double>> scales;
    if (op == "Upsample" && n.opset < 9) {
      if (auto* a = n.attr("scales")) scales = std::vector<double>(a->floats.begin(), a->floats.end());
    } else {
      scales = floats(n, op == "Resize" && n.opset >= 11 ? 2 : 1);
    }
    if (!scales || scales->size() != xs.size()) return;
    Shape s;
    for (size_t k = 0; k < xs.size(); ++k) s.push_back(static_cast<int64_t>(std::floor(xs[k] * (*scales)[k])));
    set(0, x->dtype, s);
    return;
  }
  if (op == "ConstantOfShape") {
    auto target = ints(n, 0);
    if (!target) return;
    const ir::Attribute* v = n.attr("value");
    set(0, v && v->type == ir::AttrType::t ? v->t.dtype() : DType::float32, *target);
    return;
  }
  if (op == "DepthToSpace" || op == "SpaceToDepth") {
    const int64_t b = attr_int(n, "blocksize", 1);
    if (xs.size() != 4 || b < 1) return;
    if (op == "DepthToSpace") set(0, x->dtype, {xs[0], xs[1] / (b * b), xs[2] * b, xs[3] * b});
    else set(0, x->dtype, {xs[0], xs[1] * b * b, xs[2] / b, xs[3] / b});
    return;
  }
  if (op.rfind("Reduce", 0) == 0 || op == "ArgMax" || op == "ArgMin") {
    const bool keep = attr_int(n, "keepdims", 1) != 0;
    std::vector<bool> red(xs.size(), false);
    if (op == "ArgMax" || op == "ArgMin") {
      int64_t a = attr_int(n, "axis", 0);
      if (a < 0) a += rank;
      if (a < 0 || a >= rank) return;
      red[a] = true;
    } else {
      const bool input_form = n.opset >= 18 || (op == "ReduceSum" && n.opset >= 13);
      std::optional<std::vector<int64_t>> axes = input_form ? ints(n, 1) : attr_ints(n, "axes");
      if (input_form && n.inputs.size() > 1 && !n.inputs[1].empty() && !axes) return;
      if (!axes || axes->empty()) {
        if (input_form && attr_int(n, "noop_with_empty_axes", 0)) return;
        red.assign(xs.size(), true);
      } else {
        for (int64_t a : *axes) {
          if (a < 0) a += rank;
          if (a < 0 || a >= rank) return;
          red[a] = true;
        }
      }
    }
    Shape s;
    for (size_t k = 0; k < xs.size(); ++k) {
      if (!red[k]) s.push_back(xs[k]);
      else if (keep) s.push_back(1);
    }
    set(0, op.rfind("Arg", 0) == 0 ? DType::int64 : x->dtype, s);
    return;
  }
  if (op == "TopK") {
    auto k = n.opset >= 10 ? ints(n, 1) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{attr_int(n, "k", -1)});
    int64_t axis = attr_int(n, "axis", -1);
    if (axis < 0) axis += rank;
    if (!k || k->size() != 1 || (*k)[0] < 0 || axis < 0 || axis >= rank) return;
    Shape s = xs;
    s[axis] = (*k)[0];
    set(0, x->dtype, s);
    set(1, DType::int64, s);
    return;
  }
}

/// Substitutes known symbolic dims; a shape left with an unknown dim is dropped (has_shape false)
/// so that shape propagation recomputes it from the concrete inputs.
void concretize(ir::ValueInfo& vi, const std::map<std::string, int64_t>& params) {
  if (!vi.has_shape) return;
  bool complete = true;
  for (auto& d : vi.shape) {
    if (!d.known() && !d.param.empty()) {
      auto it = params.find(d.param);
      if (it != params.end()) d = ir::Dim{it->second, ""};
    }
    complete &= d.known();
  }
  if (!complete) {
    vi.has_shape = false;
    vi.shape.clear();
  }
}

ValueDesc describe(const ShapeFill& shapes, const std::string& name) {
  ValueDesc v;
  if (const Known* k = shapes.find(name)) {
    v.present = true;
    v.dtype = k->dtype;
    v.shape = k->shape;
  }
  return v;
}

void add_params(const ir::Graph& graph, ModelCost& mc) {
  std::set<std::string> input_names;
  for (const auto& in : graph.inputs) input_names.insert(in.name);
  auto add = [&](const Tensor& t) {
    mc.param_count += static_cast<double>(t.numel());
    mc.param_bytes += static_cast<double>(t.numel()) * static_cast<double>(dtype_size(t.dtype()));
  };
  for (const auto& [name, t] : graph.initializers)
    if (!input_names.count(name)) add(t);
  for (const auto& n : graph.nodes)
    if (n.op_type == "Constant" && n.domain.empty())
      if (const ir::Attribute* a = n.attr("value"); a && a->type == ir::AttrType::t) add(a->t);
}

void add_node(ModelCost& mc, size_t index, const OpCost& c) {
  mc.macs += c.macs;
  mc.flops += c.flops;
  mc.bytes += c.bytes;
  if (!c.known) ++mc.unknown_nodes;
  mc.nodes.push_back({index, c});
}

}  // namespace

Expected<ModelCost> model_cost(const ir::Graph& graph, const std::map<std::string, Shape>& input_shapes) {
  onnx_import::Model model;
  model.graph = std::make_shared<ir::Graph>(graph);
  model.opsets = graph.opsets;
  ir::Graph& g = *model.graph;

  for (const auto& [name, shape] : input_shapes) {
    bool found = false;
    for (const auto& in : g.inputs) found |= in.name == name;
    if (!found) return Status(StatusCode::invalid_argument, "the model has no input '" + name + "'");
    for (int64_t d : shape)
      if (d < 0) return Status(StatusCode::invalid_argument, "input '" + name + "': shape " + shape_str(shape) + " has a negative dim");
  }
  // Bind the symbolic dims of the given inputs, then make every input concrete.
  std::map<std::string, int64_t> params;
  for (auto& in : g.inputs) {
    auto it = input_shapes.find(in.name);
    if (it == input_shapes.end()) continue;
    const Shape& s = it->second;
    if (in.has_shape) {
      if (in.shape.size() != s.size())
        return Status(StatusCode::invalid_argument, "input '" + in.name + "' has rank " + std::to_string(in.shape.size()) +
                                                        ", given shape " + shape_str(s));
      for (size_t k = 0; k < s.size(); ++k) {
        const ir::Dim& d = in.shape[k];
        if (d.known() && d.value != s[k])
          return Status(StatusCode::invalid_argument, "input '" + in.name + "' is " + in.type_str() + ", given shape " + shape_str(s));
        if (!d.known() && !d.param.empty()) {
          auto [p, fresh] = params.emplace(d.param, s[k]);
          if (!fresh && p->second != s[k])
            return Status(StatusCode::invalid_argument, "dim '" + d.param + "' is given as both " +
                                                            std::to_string(p->second) + " and " + std::to_string(s[k]));
        }
      }
    }
    in.has_shape = true;
    in.shape.clear();
    for (int64_t d : s) in.shape.push_back(ir::Dim{d, ""});
  }
  for (auto& in : g.inputs) {
    if (input_shapes.count(in.name) || in.kind != ir::ValueKind::tensor) continue;
    auto init = g.initializers.find(in.name);
    if (init != g.initializers.end() && !in.static_shape()) {
      in.has_shape = true;
      in.shape.clear();
      for (int64_t d : init->second.shape()) in.shape.push_back(ir::Dim{d, ""});
      continue;
    }
    const std::string declared = in.type_str();
    concretize(in, params);
    if (!in.has_shape)
      return Status(StatusCode::invalid_argument,
                    "input '" + in.name + "' is " + declared + ": give its shape (it has unknown dims)");
  }
  for (auto& [name, vi] : g.value_info) concretize(vi, params);
  for (auto& vi : g.outputs) concretize(vi, params);

  auto order = ir::topological_order(g);
  if (!order.ok()) return order.status();

  // Alternate the infer_shapes pass (shape values through Shape/Gather/Concat chains) and this
  // file's rules until neither adds a static shape.
  auto infer = passes::make_infer_shapes();
  passes::PassContext ctx(model);
  ShapeFill shapes(g);
  size_t known_before = 0;
  for (size_t round = 0; round <= g.nodes.size() + 1; ++round) {
    // infer_shapes also writes partial shapes; drop them so that neither side stops at one.
    auto r = infer->run(g, ctx);
    if (!r.ok()) return r.status();
    for (auto& [name, vi] : g.value_info)
      if (vi.has_shape && !vi.static_shape()) concretize(vi, params);
    for (auto& vi : g.outputs)
      if (vi.has_shape && !vi.static_shape()) concretize(vi, params);
    shapes.reload();
    shapes.sweep(*order);
    if (round > 0 && shapes.known_count() == known_before) break;
    known_before = shapes.known_count();
  }

  ModelCost mc;
  add_params(g, mc);
  for (size_t i : *order) {
    const ir::Node& n = g.nodes[i];
    std::vector<ValueDesc> ins, outs;
    bool complete = true;
    for (const auto& name : n.inputs) {
      ins.push_back(describe(shapes, name));
      complete &= name.empty() || ins.back().present;
    }
    for (const auto& name : n.outputs) {
      outs.push_back(describe(shapes, name));
      complete &= name.empty() || outs.back().present;
    }
    OpCost c = op_cost(n, ins, outs);
    if (!complete && c.known && !(c.op_class == OpClass::data_movement && kViewOps.count(n.op_type))) {
      // A shape stayed unknown: keep the class, count the bytes that are known, claim nothing else.
      c = unknown_cost(c.op_class, ins, outs);
    }
    add_node(mc, i, c);
  }
  return mc;
}

ModelCost cost_of_steps(const ir::Graph& graph, const std::vector<StepStat>& steps) {
  ModelCost mc;
  add_params(graph, mc);
  for (const auto& step : steps) {
    if (step.node_index >= graph.nodes.size()) {
      OpCost c;
      c.known = false;
      add_node(mc, step.node_index, c);
      continue;
    }
    add_node(mc, step.node_index, op_cost(graph.nodes[step.node_index], step.inputs, step.outputs));
  }
  return mc;
}

}  // namespace hwopt::profile
