#include "quant/qdq_export.h"

#include <fmt/format.h>
#include <onnx/defs/schema.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <variant>

#include "onnx/export.h"
#include "passes/graph_patch.h"
#include "passes/graph_view.h"
#include "passes/pass.h"
#include "passes/pipeline.h"

namespace hwopt::quant {

namespace {

using passes::GraphView;

constexpr float kU8Levels = 255.f;  // uint8 activations: [0, threshold] onto 0..255
constexpr float kS8Levels = 127.f;  // int8 activations and weights: [-threshold, threshold] onto -127..127
constexpr int kPerChannelOpset = 13;  // DequantizeLinear's per-axis scales
constexpr int kQuantizeOpset = 10;    // QuantizeLinear and DequantizeLinear appear

// Versions of ai.onnx ops (op-version) that only extended the previous one (types, negative axes,
// optional inputs, new attributes with the old behaviour as default): a model using the op at an
// older version means the same at this one. Versions that turned attributes into inputs (Pad-11,
// Slice-10, Squeeze-13, ReduceSum-13, Split-13, Dropout-12), changed semantics (Softmax-13, Add-7)
// or are otherwise unlisted stop a model from moving past them.
const std::set<std::string>& compatible_versions() {
  static const std::set<std::string> kVersions = {
      "Abs-13",          "Add-13",         "ArgMax-11",      "ArgMax-12",        "ArgMax-13",     "ArgMin-11",
      "ArgMin-12",       "ArgMin-13",      "AveragePool-10", "AveragePool-11",   "Cast-13",       "Ceil-13",
      "Clip-12",         "Clip-13",        "Concat-11",      "Concat-13",        "Constant-11",   "Constant-12",
      "Constant-13",     "Conv-11",        "ConvTranspose-11", "Div-13",         "Equal-11",      "Equal-13",
      "Erf-13",          "Exp-13",         "Expand-13",      "Flatten-9",        "Flatten-11",    "Flatten-13",
      "Floor-13",        "Gather-11",      "Gather-13",      "Gemm-9",           "Gemm-11",       "Gemm-13",
      "Greater-9",       "Greater-13",     "Identity-13",    "Less-9",           "Less-13",       "Log-13",
      "LRN-13",          "MatMul-9",       "MatMul-13",      "Max-12",           "Max-13",        "MaxPool-10",
      "MaxPool-11",      "MaxPool-12",     "Mean-13",        "Min-12",           "Min-13",        "Mul-13",
      "Neg-13",          "Pad-13",         "Pow-12",         "Pow-13",           "Reciprocal-13", "ReduceMax-11",
      "ReduceMax-12",    "ReduceMax-13",   "ReduceMean-11",  "ReduceMean-13",    "ReduceMin-11",  "ReduceMin-12",
      "ReduceMin-13",    "ReduceProd-11",  "ReduceProd-13",  "Relu-13",          "Reshape-13",    "Shape-13",
      "Sigmoid-13",      "Sign-13",        "Slice-11",       "Slice-13",         "Softmax-11",    "LogSoftmax-11",
      "Sqrt-13",         "Sub-13",         "Sum-13",         "Tanh-13",          "Tile-13",       "TopK-11",
      "Transpose-13",    "Unsqueeze-11",   "Squeeze-11",     "QuantizeLinear-13", "DequantizeLinear-13",
  };
  return kVersions;
}

/// True if ai.onnx op `op` means the same at opset `to` as at opset `from` (< `to`).
bool op_survives(const std::string& op, int from, int to) {
  const auto* old_schema = ::onnx::OpSchemaRegistry::Schema(op, from, "");
  const auto* new_schema = ::onnx::OpSchemaRegistry::Schema(op, to, "");
  if (!old_schema || !new_schema) return false;
  for (int v = new_schema->since_version(); v > old_schema->since_version();) {
    if (!compatible_versions().count(fmt::format("{}-{}", op, v))) return false;
    const auto* prev = ::onnx::OpSchemaRegistry::Schema(op, v - 1, "");
    if (!prev) return false;
    v = prev->since_version();
  }
  return true;
}

/// The first ai.onnx op of `g` (or its subgraphs) that does not survive the move; "" if none.
std::string op_blocking_move(const ir::Graph& g, int from, int to) {
  for (const auto& n : g.nodes) {
    if ((n.domain.empty() || n.domain == "ai.onnx") && !op_survives(n.op_type, from, to)) return n.op_type;
    for (const ir::Graph* sg : passes::subgraphs_of(n))
      if (std::string op = op_blocking_move(*sg, from, to); !op.empty()) return op;
  }
  return "";
}

void set_onnx_opset(ir::Graph& g, int opset) {
  for (auto& n : g.nodes) {
    if (n.domain.empty() || n.domain == "ai.onnx") n.opset = opset;
    for (ir::Graph* sg : passes::subgraphs_of(n)) set_onnx_opset(*sg, opset);
  }
}

/// Symmetric INT8 weights: values and one scale per slice along `axis` (-1: one for the tensor).
struct QuantWeights {
  Tensor values;
  std::vector<float> scales;
};

QuantWeights quantize_weights(const Tensor& w, int64_t axis) {
  const Tensor src = w.contiguous();
  const float* s = src.data<float>();
  const int64_t channels = axis < 0 ? 1 : src.dim(axis);
  int64_t inner = 1;
  if (axis >= 0)
    for (int64_t d = axis + 1; d < src.rank(); ++d) inner *= src.dim(d);
  auto channel_of = [&](int64_t e) { return axis < 0 ? int64_t{0} : (e / inner) % channels; };
  std::vector<float> max_abs(static_cast<size_t>(channels), 0.f);
  for (int64_t e = 0; e < src.numel(); ++e) {
    float& m = max_abs[static_cast<size_t>(channel_of(e))];
    m = std::max(m, std::fabs(s[e]));
  }
  QuantWeights q;
  for (float m : max_abs) q.scales.push_back(m > 0.f ? m / kS8Levels : 1.f);
  q.values = Tensor(DType::int8, src.shape());
  int8_t* d = q.values.data<int8_t>();
  for (int64_t e = 0; e < src.numel(); ++e) {
    const float v = std::nearbyint(s[e] / q.scales[static_cast<size_t>(channel_of(e))]);
    d[e] = static_cast<int8_t>(std::clamp(v, -kS8Levels, kS8Levels));
  }
  return q;
}

/// A Conv/Gemm/MatMul to quantize: its weight's channel axis and whether its bias may be int32.
struct Target {
  size_t node = 0;
  int64_t weight_axis = 0;   // output channels of the weight
  int64_t channels = 0;      // their number
  bool bias = false;         // input 2 is a float32 constant of `channels` values to store as int32
};

/// Whether node `n` is one hwopt's INT8 backend quantizes, as a Target; else a reason (or "" for
/// ops that are not candidates at all).
std::variant<Target, std::string> classify(const GraphView& view, size_t index, const CalibrationTable& ranges) {
  const ir::Node& n = view.node(index);
  if (!n.domain.empty() || (n.op_type != "Conv" && n.op_type != "Gemm" && n.op_type != "MatMul") ||
      n.inputs.size() < 2 || n.outputs.size() != 1)
    return std::string();
  const std::string& x = n.inputs[0];
  const Tensor* w = view.constant(n.inputs[1]);
  if (!w || w->dtype() != DType::float32) return fmt::format("{}: weight '{}' is not a float32 constant", n.label(), n.inputs[1]);
  if (view.constant(x)) return fmt::format("{}: input '{}' is a constant", n.label(), x);
  if (view.dtype(x) != DType::float32) return fmt::format("{}: input '{}' is not known to be float32", n.label(), x);
  if (!ranges.count(x)) return fmt::format("{}: no calibrated range for input '{}'", n.label(), x);
  Target t;
  t.node = index;
  const Tensor* bias = n.inputs.size() > 2 && !n.inputs[2].empty() ? view.constant(n.inputs[2]) : nullptr;
  if (n.op_type == "Conv") {
    if (w->rank() < 3 || w->rank() > 5) return fmt::format("{}: weight of rank {}", n.label(), w->rank());
    const int64_t group = passes::attr_int(n, "group", 1);
    if (group < 1 || w->dim(0) % group != 0) return fmt::format("{}: group does not divide the output channels", n.label());
    if (n.inputs.size() > 2 && !n.inputs[2].empty() && !bias)
      return fmt::format("{}: bias '{}' is not a constant", n.label(), n.inputs[2]);
    t.weight_axis = 0;
    t.channels = w->dim(0);
  } else if (n.op_type == "Gemm") {
    if (w->rank() != 2) return fmt::format("{}: weight of rank {}", n.label(), w->rank());
    const bool trans_b = passes::attr_int(n, "transB", 0) != 0;
    t.weight_axis = trans_b ? 0 : 1;
    t.channels = w->dim(t.weight_axis);
    if (passes::attr_float(n, "alpha", 1.f) != 1.f || passes::attr_float(n, "beta", 1.f) != 1.f) bias = nullptr;
  } else {
    if (w->rank() != 2) return fmt::format("{}: weight of rank {} (only 2-D weights)", n.label(), w->rank());
    t.weight_axis = 1;
    t.channels = w->dim(1);
  }
  t.bias = bias && bias->dtype() == DType::float32 && bias->rank() == 1 && bias->dim(0) == t.channels;
  return t;
}

float activation_scale(const ActivationRange& r) {
  if (!(r.threshold > 0.f)) return 1.f;
  return r.threshold / (r.min >= 0.f ? kU8Levels : kS8Levels);
}

ir::Node make_node(const std::string& op, std::string name, std::vector<std::string> inputs,
                   std::vector<std::string> outputs, int opset) {
  ir::Node n;
  n.op_type = op;
  n.name = std::move(name);
  n.opset = opset;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

}  // namespace

std::vector<std::string> qdq_disabled_passes() {
  return {"fuse_layer_norm", "fuse_gelu", "fuse_attention", "fuse_matmul_add", "fuse_conv_activation",
          "fuse_conv_transpose_activation", "fuse_conv_depthwise", "fuse_conv_post_linear", "fuse_elementwise_chain"};
}

SessionOptions qdq_session_options(SessionOptions base) {
  base.optimize = true;
  for (const auto& p : qdq_disabled_passes())
    if (std::find(base.disabled_passes.begin(), base.disabled_passes.end(), p) == base.disabled_passes.end())
      base.disabled_passes.push_back(p);
  return base;
}

Expected<QdqSummary> insert_qdq(onnx_import::Model& model, const CalibrationTable& ranges) {
  if (!model.graph) return Status(StatusCode::invalid_argument, "the model has no graph");
  ir::Graph& g = *model.graph;
  QdqSummary summary;
  const auto it = model.opsets.find("");
  const int opset = it == model.opsets.end() ? 0 : it->second;
  summary.opset_before = opset;
  int target = opset;
  if (opset < kPerChannelOpset && op_blocking_move(g, opset, kPerChannelOpset).empty()) {
    target = kPerChannelOpset;
  } else if (opset < kQuantizeOpset) {
    const std::string op = op_blocking_move(g, opset, kQuantizeOpset);
    if (!op.empty())
      return Status(StatusCode::unsupported,
                    fmt::format("the model imports ai.onnx opset {}, which has no QuantizeLinear (opset {}), and its op "
                                "'{}' changed meaning since, so it cannot move there",
                                opset, kQuantizeOpset, op));
    target = kQuantizeOpset;
  }
  summary.opset_after = target;
  summary.per_channel = target >= kPerChannelOpset;

  const GraphView view(g);
  std::vector<Target> targets;
  for (size_t i = 0; i < view.num_nodes(); ++i) {
    auto c = classify(view, i, ranges);
    if (auto* t = std::get_if<Target>(&c))
      targets.push_back(*t);
    else if (const auto& why = std::get<std::string>(c); !why.empty())
      summary.skipped.push_back(why);
  }

  // The activations to quantize, in a deterministic order: inputs, then outputs of the targets.
  std::vector<std::string> activations;
  std::set<std::string> chosen;
  auto choose = [&](const std::string& v) {
    if (chosen.insert(v).second) activations.push_back(v);
  };
  for (const Target& t : targets) choose(view.node(t.node).inputs[0]);
  for (const Target& t : targets) {
    std::string y = view.node(t.node).outputs[0];
    const int reader = view.sole_user(y);
    if (reader >= 0 && view.node(reader).domain.empty() && view.node(reader).op_type == "Relu" &&
        view.node(reader).outputs.size() == 1)
      y = view.node(reader).outputs[0];
    if (view.pinned(y) || !ranges.count(y) || view.dtype(y) != DType::float32) continue;
    choose(y);
  }

  passes::PassContext names(model);
  std::map<std::string, std::string> dequantized;  // activation -> its QuantizeLinear/DequantizeLinear output
  std::map<std::string, float> scale_of;
  std::map<std::string, std::vector<ir::Node>> after;  // value -> the Q/DQ nodes that follow its producer
  std::vector<ir::Node> front;                         // nodes reading only inputs and initializers
  for (const std::string& v : activations) {
    const ActivationRange& r = ranges.at(v);
    const float scale = activation_scale(r);
    const bool u8 = r.min >= 0.f;
    const std::string s_name = names.unique_name(v + "_scale"), z_name = names.unique_name(v + "_zero_point");
    g.initializers[s_name] = Tensor::scalar<float>(scale);
    g.initializers[z_name] = u8 ? Tensor::scalar<uint8_t>(0) : Tensor::scalar<int8_t>(0);
    const std::string q = names.unique_name(v + "_quantized"), dq = names.unique_name(v + "_dequantized");
    std::vector<ir::Node>& dst = view.producer(v) >= 0 ? after[v] : front;
    dst.push_back(make_node("QuantizeLinear", names.unique_name(v + "_QuantizeLinear"), {v, s_name, z_name}, {q}, target));
    dst.push_back(make_node("DequantizeLinear", names.unique_name(v + "_DequantizeLinear"), {q, s_name, z_name}, {dq}, target));
    dequantized[v] = dq;
    scale_of[v] = scale;
  }
  summary.activations = static_cast<int>(activations.size());

  // Weights (shared ones quantized once per axis) and biases.
  std::map<std::pair<std::string, int64_t>, std::pair<std::string, std::vector<float>>> weights;
  std::map<size_t, std::vector<std::string>> new_inputs;  // node -> its rewritten inputs
  for (const Target& t : targets) {
    const ir::Node& n = view.node(t.node);
    const int64_t axis = summary.per_channel ? t.weight_axis : -1;
    auto key = std::make_pair(n.inputs[1], axis);
    auto wit = weights.find(key);
    if (wit == weights.end()) {
      QuantWeights q = quantize_weights(*view.constant(n.inputs[1]), axis);
      const std::string& w = n.inputs[1];
      const std::string q_name = names.unique_name(w + "_quantized"), s_name = names.unique_name(w + "_scale"),
                        z_name = names.unique_name(w + "_zero_point"), dq = names.unique_name(w + "_dequantized");
      const Shape param_shape = axis < 0 ? Shape{} : Shape{static_cast<int64_t>(q.scales.size())};
      g.initializers[q_name] = q.values;
      g.initializers[s_name] = Tensor::from_vector<float>(param_shape, q.scales);
      g.initializers[z_name] = Tensor::from_vector<int8_t>(param_shape, std::vector<int8_t>(q.scales.size(), 0));
      ir::Node d = make_node("DequantizeLinear", names.unique_name(w + "_DequantizeLinear"), {q_name, s_name, z_name},
                             {dq}, target);
      if (axis >= 0) d.attributes.push_back(passes::make_attr("axis", axis));
      front.push_back(std::move(d));
      wit = weights.emplace(key, std::make_pair(dq, std::move(q.scales))).first;
    }
    std::vector<std::string> inputs = n.inputs;
    inputs[1] = wit->second.first;
    if (t.bias) {
      const std::vector<float>& ws = wit->second.second;
      const float xs = scale_of.at(n.inputs[0]);
      const Tensor b = view.constant(n.inputs[2])->contiguous();
      std::vector<float> scales(static_cast<size_t>(t.channels));
      std::vector<int32_t> values(static_cast<size_t>(t.channels));
      bool fits = true;
      for (int64_t c = 0; c < t.channels; ++c) {
        const float s = xs * ws[axis < 0 ? 0 : static_cast<size_t>(c)];
        const double q = std::nearbyint(static_cast<double>(b.data<float>()[c]) / s);
        fits = fits && s > 0.f && std::fabs(q) <= std::numeric_limits<int32_t>::max();
        scales[static_cast<size_t>(c)] = s;
        values[static_cast<size_t>(c)] = fits ? static_cast<int32_t>(q) : 0;
      }
      if (fits) {
        const std::string& bn = n.inputs[2];
        const std::string q_name = names.unique_name(bn + "_quantized"), s_name = names.unique_name(bn + "_scale"),
                          z_name = names.unique_name(bn + "_zero_point"), dq = names.unique_name(bn + "_dequantized");
        const bool per_axis = summary.per_channel;
        const Shape param_shape = per_axis ? Shape{t.channels} : Shape{};
        if (!per_axis) scales.resize(1);
        g.initializers[q_name] = Tensor::from_vector<int32_t>({t.channels}, values);
        g.initializers[s_name] = Tensor::from_vector<float>(param_shape, scales);
        g.initializers[z_name] = Tensor::from_vector<int32_t>(param_shape, std::vector<int32_t>(scales.size(), 0));
        ir::Node d = make_node("DequantizeLinear", names.unique_name(bn + "_DequantizeLinear"), {q_name, s_name, z_name},
                               {dq}, target);
        if (per_axis) d.attributes.push_back(passes::make_attr("axis", int64_t{0}));
        front.push_back(std::move(d));
        inputs[2] = dq;
        ++summary.int32_biases;
      }
    }
    new_inputs[t.node] = std::move(inputs);
    ++summary.quantized_nodes;
  }

  // Every reader of a quantized activation reads its dequantized copy; the Q/DQ pair follows the
  // value's producer so that the order stays topological.
  std::vector<ir::Node> nodes = std::move(front);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node n = std::move(g.nodes[i]);
    if (auto ni = new_inputs.find(i); ni != new_inputs.end()) n.inputs = ni->second;
    for (auto& in : n.inputs)
      if (auto d = dequantized.find(in); d != dequantized.end()) in = d->second;
    std::vector<std::string> outs = n.outputs;
    nodes.push_back(std::move(n));
    for (const auto& o : outs)
      if (auto a = after.find(o); a != after.end())
        for (auto& qn : a->second) nodes.push_back(std::move(qn));
  }
  g.nodes = std::move(nodes);

  if (target != opset) {
    model.opsets[""] = target;
    g.opsets[""] = target;
    set_onnx_opset(g, target);
    // The IR version that came with the opset (ONNX 1.5: IR 5 / opset 10; ONNX 1.8: IR 7 / opset 13).
    model.ir_version = std::max<int64_t>(model.ir_version, target >= kPerChannelOpset ? 7 : 5);
  }
  auto tidied = passes::tidy_graph(g);
  if (!tidied.ok()) return Status(StatusCode::internal, "inserting QDQ nodes: " + tidied.status().message());
  HWOPT_RETURN_IF_ERROR(ir::validate_graph(g));
  return summary;
}

Expected<QdqSummary> write_qdq_model(const std::string& model_path, const SessionOptions& options,
                                     const CalibrationTable& ranges, const std::string& out_path) {
  auto model = onnx_import::load_model(model_path);
  if (!model.ok()) return model.status();
  if (options.optimize) {
    passes::PipelineOptions popts;
    popts.disabled.insert(options.disabled_passes.begin(), options.disabled_passes.end());
    HWOPT_RETURN_IF_ERROR(passes::run_pipeline(*model, popts));
  }
  auto summary = insert_qdq(*model, ranges);
  if (!summary.ok()) return summary.status();
  HWOPT_RETURN_IF_ERROR(onnx_import::save_model(*model, out_path));
  return summary;
}

}  // namespace hwopt::quant
