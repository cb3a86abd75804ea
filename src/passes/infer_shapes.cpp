// infer_shapes: fills in the type and shape of values that ONNX shape inference left unknown, so the
// fusions can prove ranks and dims. ONNX's inference loses every shape after a Reshape whose target
// comes from Shape -> Slice -> Concat on a dynamic input (exporters such as paddle2onnx write
// that); this pass propagates such "shape values" symbolically (each element a known size, a
// symbolic dim, or unknown) and applies the usual shape rules of common ops from there.
// It only annotates values that have no shape yet; it never changes nodes, so it cannot change
// results. A rule that cannot be sure leaves the value unknown.
#include <algorithm>
#include <map>
#include <set>

#include "core/int_values.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

using Dims = std::vector<ir::Dim>;

const ir::Dim kUnknown{};

ir::Dim known(int64_t v) { return ir::Dim{v, ""}; }

bool same_dim(const ir::Dim& a, const ir::Dim& b) {
  if (a.known() || b.known()) return a.known() && b.known() && a.value == b.value;
  return !a.param.empty() && a.param == b.param;
}

const std::set<std::string> kSameShape = {
    "Relu", "Sigmoid", "Tanh", "Sqrt", "Exp", "Log", "Abs", "Neg", "Erf", "Clip", "LeakyRelu", "HardSigmoid",
    "HardSwish", "Softmax", "LogSoftmax", "Identity", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Elu", "Selu",
    "Softplus", "Softsign", "Mish", "Celu", "Gelu", "Not", "Sin", "Cos", "Dropout", "BatchNormalization",
    "InstanceNormalization", "LRN", "LayerNormalization", "PRelu", "ThresholdedRelu", "Shrink", "Hardmax", "Cast",
    "IsNaN", "IsInf", "FastGelu", "CastLike", "CumSum"};

const std::set<std::string> kBroadcast = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean",
                                          "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And",
                                          "Or", "Xor", "Where", "Mod"};

const std::set<std::string> kBoolResult = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or",
                                           "Xor", "Not", "IsNaN", "IsInf"};

class Inferrer {
 public:
  explicit Inferrer(const GraphView& view) : view_(view) {}

  /// Shape of `name` if its rank is known.
  std::optional<Dims> shape(const std::string& name) const {
    auto it = shapes_.find(name);
    if (it != shapes_.end()) return it->second;
    const ir::ValueInfo* vi = view_.info(name);
    if (!vi || vi->kind != ir::ValueKind::tensor || !vi->has_shape) return std::nullopt;
    return vi->shape;
  }
  DType dtype(const std::string& name) const {
    auto it = dtypes_.find(name);
    return it != dtypes_.end() ? it->second : view_.dtype(name);
  }
  /// The elements of a 1-D (or scalar) integer value, when known symbolically.
  std::optional<Dims> data(const std::string& name) const {
    auto it = data_.find(name);
    if (it != data_.end()) return it->second;
    const Tensor* t = view_.constant(name);
    if (!t || t->rank() > 1 || (t->dtype() != DType::int64 && t->dtype() != DType::int32)) return std::nullopt;
    const std::vector<int64_t> values = *int64_values(*t);  // a named copy: the optional is a temporary
    Dims d;
    for (int64_t v : values) d.push_back(known(v));
    return d;
  }
  std::optional<std::vector<int64_t>> ints(const std::string& name) const {
    auto d = data(name);
    if (!d) return std::nullopt;
    std::vector<int64_t> v;
    for (const auto& x : *d) {
      if (!x.known() && !(x.value < 0 && view_.constant(name))) return std::nullopt;
      v.push_back(x.value);
    }
    return v;
  }

  void infer(const ir::Node& n);
  const std::map<std::string, Dims>& shapes() const { return shapes_; }
  const std::map<std::string, DType>& dtypes() const { return dtypes_; }

 private:
  void set(const std::string& name, Dims dims, DType dt) {
    if (name.empty()) return;
    shapes_[name] = std::move(dims);
    if (dt != DType::undefined) dtypes_[name] = dt;
  }
  std::optional<std::vector<int64_t>> axes_of(const ir::Node& n, size_t input_index, bool input_form) const {
    if (input_form) {
      if (n.inputs.size() <= input_index || n.inputs[input_index].empty()) return std::nullopt;
      return ints(n.inputs[input_index]);
    }
    return attr_ints(n, "axes");
  }

  void infer_broadcast(const ir::Node& n);
  void infer_reshape(const ir::Node& n);
  void infer_slice(const ir::Node& n);
  void infer_matmul(const ir::Node& n);
  void infer_conv(const ir::Node& n);

  const GraphView& view_;
  std::map<std::string, Dims> shapes_;
  std::map<std::string, DType> dtypes_;
  std::map<std::string, Dims> data_;
};

void Inferrer::infer_broadcast(const ir::Node& n) {
  if (n.opset < 7 && (n.op_type == "Add" || n.op_type == "Sub" || n.op_type == "Mul" || n.op_type == "Div")) return;
  std::vector<Dims> ins;
  for (const auto& in : n.inputs) {
    if (in.empty()) return;
    auto s = shape(in);
    if (!s) return;
    ins.push_back(*s);
  }
  // A malformed node (Where without its three inputs, no output) is left for its kernel to reject.
  if (ins.empty() || n.outputs.empty() || (n.op_type == "Where" && ins.size() != 3)) return;
  size_t rank = 0;
  for (const auto& s : ins) rank = std::max(rank, s.size());
  Dims out(rank, known(1));
  for (size_t k = 0; k < rank; ++k) {
    std::optional<int64_t> size;  // the known size > 1, if any operand has one
    std::vector<ir::Dim> others;  // operand dims not known
    bool conflict = false;
    for (const auto& s : ins) {
      if (k < rank - s.size()) continue;  // missing leading dims act as 1
      const ir::Dim& x = s[k - (rank - s.size())];
      if (x.known()) {
        if (x.value == 1) continue;
        if (size && *size != x.value) conflict = true;
        size = x.value;
      } else {
        others.push_back(x);
      }
    }
    if (conflict) {
      out[k] = kUnknown;
    } else if (size) {
      out[k] = known(*size);  // a valid model has every other dim 1 or equal to it
    } else if (others.empty()) {
      out[k] = known(1);
    } else {
      // Symbolic dims only: the result is that dim if they all name the same one.
      out[k] = others[0];
      for (const auto& x : others)
        if (x.param.empty() || x.param != others[0].param) out[k] = kUnknown;
    }
  }
  const DType dt = kBoolResult.count(n.op_type) ? DType::boolean : dtype(n.op_type == "Where" ? n.inputs[1] : n.inputs[0]);
  set(n.outputs[0], out, dt);
}

void Inferrer::infer_reshape(const ir::Node& n) {
  if (n.opset < 5 || n.inputs.size() != 2) return;
  auto target = data(n.inputs[1]);
  auto in = shape(n.inputs[0]);
  if (!target) return;
  const bool allowzero = attr_int(n, "allowzero", 0) != 0;
  Dims out;
  int infer_at = -1;
  for (size_t k = 0; k < target->size(); ++k) {
    const ir::Dim& t = (*target)[k];
    if (t.known() && t.value == 0 && !allowzero) {
      if (!in || k >= in->size()) return;
      out.push_back((*in)[k]);
    } else if (t.value == -1 && t.param.empty() && view_.constant(n.inputs[1])) {
      infer_at = static_cast<int>(k);
      out.push_back(kUnknown);
    } else if (t.known() && t.value > 0) {
      out.push_back(t);
    } else if (!t.known() && !t.param.empty()) {
      out.push_back(t);
    } else {
      out.push_back(kUnknown);  // an element we cannot see (could be -1 or 0): its size is unknown
    }
  }
  if (infer_at >= 0 && in) {
    int64_t total = 1, rest = 1;
    bool all = true;
    for (const auto& d : *in) {
      all &= d.known();
      if (d.known()) total *= d.value;
    }
    for (size_t k = 0; k < out.size() && all; ++k) {
      if (static_cast<int>(k) == infer_at) continue;
      all &= out[k].known();
      if (out[k].known()) rest *= out[k].value;
    }
    if (all && rest > 0 && total % rest == 0) out[infer_at] = known(total / rest);
  }
  set(n.outputs[0], out, dtype(n.inputs[0]));
}

void Inferrer::infer_slice(const ir::Node& n) {
  auto in = shape(n.inputs[0]);
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  if (n.opset < 10) {
    starts = attr_ints(n, "starts");
    ends = attr_ints(n, "ends");
    axes = attr_ints(n, "axes");
  } else {
    if (n.inputs.size() < 3) return;
    starts = ints(n.inputs[1]);
    ends = ints(n.inputs[2]);
    if (n.inputs.size() > 3 && !n.inputs[3].empty()) {
      axes = ints(n.inputs[3]);
      if (!axes) return;
    }
    if (n.inputs.size() > 4 && !n.inputs[4].empty()) {
      steps = ints(n.inputs[4]);
      if (!steps) return;
    }
  }
  if (!in || !starts || !ends || starts->size() != ends->size()) return;
  const int64_t rank = static_cast<int64_t>(in->size());
  std::vector<int64_t> ax = axes ? *axes : std::vector<int64_t>();
  if (!axes)
    for (size_t k = 0; k < starts->size(); ++k) ax.push_back(static_cast<int64_t>(k));
  if (ax.size() != starts->size() || (steps && steps->size() != ax.size())) return;
  Dims out = *in;
  std::optional<Dims> in_data = data(n.inputs[0]);
  std::optional<Dims> out_data;
  for (size_t k = 0; k < ax.size(); ++k) {
    int64_t a = ax[k] < 0 ? ax[k] + rank : ax[k];
    if (a < 0 || a >= rank) return;
    const int64_t step = steps ? (*steps)[k] : 1;
    if (step == 0) return;
    const ir::Dim& d = (*in)[a];
    if (!d.known()) {
      out[a] = kUnknown;
      continue;
    }
    const int64_t size = d.value;
    int64_t s = (*starts)[k], e = (*ends)[k];
    if (s < 0) s += size;
    if (e < 0) e += size;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, size);
      e = std::clamp<int64_t>(e, 0, size);
    } else {
      s = std::clamp<int64_t>(s, 0, size - 1);
      e = std::clamp<int64_t>(e, -1, size - 1);
    }
    int64_t count = step > 0 ? (e > s ? (e - s + step - 1) / step : 0) : (s > e ? (s - e + (-step) - 1) / (-step) : 0);
    out[a] = known(count);
    if (rank == 1 && in_data && static_cast<int64_t>(in_data->size()) == size && step == 1) {
      out_data = Dims(in_data->begin() + s, in_data->begin() + s + count);
    }
  }
  set(n.outputs[0], out, dtype(n.inputs[0]));
  if (out_data) data_[n.outputs[0]] = *out_data;
}

void Inferrer::infer_matmul(const ir::Node& n) {
  auto a = shape(n.inputs[0]);
  auto b = shape(n.inputs[1]);
  if (!a || !b || a->empty() || b->empty()) return;
  Dims a2 = *a, b2 = *b;
  if (a->size() == 1) a2.insert(a2.begin(), known(1));
  if (b->size() == 1) b2.push_back(known(1));
  const Dims ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  const size_t r = std::max(ab.size(), bb.size());
  Dims out(r, known(1));
  for (size_t k = 0; k < r; ++k) {
    const ir::Dim x = k < r - ab.size() ? known(1) : ab[k - (r - ab.size())];
    const ir::Dim y = k < r - bb.size() ? known(1) : bb[k - (r - bb.size())];
    if (x.known() && x.value == 1) out[k] = y;
    else if (y.known() && y.value == 1) out[k] = x;
    else if (same_dim(x, y)) out[k] = x;
    else if (x.known()) out[k] = x;
    else if (y.known()) out[k] = y;
    else out[k] = kUnknown;
  }
  if (a->size() > 1) out.push_back(a2[a2.size() - 2]);
  if (b->size() > 1) out.push_back(b2.back());
  set(n.outputs[0], out, dtype(n.inputs[0]));
}

void Inferrer::infer_conv(const ir::Node& n) {
  auto x = shape(n.inputs[0]);
  auto w = shape(n.inputs[1]);
  if (!x || !w || x->size() < 3 || x->size() != w->size()) return;
  const size_t sp = x->size() - 2;
  Dims out = {(*x)[0], (*w)[0]};
  const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
  auto strides = attr_ints(n, "strides").value_or(std::vector<int64_t>(sp, 1));
  auto dil = attr_ints(n, "dilations").value_or(std::vector<int64_t>(sp, 1));
  auto pads = attr_ints(n, "pads").value_or(std::vector<int64_t>(2 * sp, 0));
  auto ks = attr_ints(n, "kernel_shape");
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp) return;
  for (size_t d = 0; d < sp; ++d) {
    const ir::Dim& in = (*x)[d + 2];
    const int64_t k = ks && ks->size() == sp ? (*ks)[d] : ((*w)[d + 2].known() ? (*w)[d + 2].value : -1);
    if (!in.known() || k < 1 || strides[d] < 1) {
      out.push_back(kUnknown);
      continue;
    }
    const int64_t eff = (k - 1) * dil[d] + 1;
    int64_t o;
    if (auto_pad == "NOTSET") o = (in.value + pads[d] + pads[d + sp] - eff) / strides[d] + 1;
    else if (auto_pad == "VALID") o = (in.value - eff) / strides[d] + 1;
    else o = (in.value + strides[d] - 1) / strides[d];
    out.push_back(o >= 0 ? known(o) : kUnknown);
  }
  set(n.outputs[0], out, dtype(n.inputs[0]));
}

void Inferrer::infer(const ir::Node& n) {
  if (n.outputs.empty() || n.outputs[0].empty() || n.inputs.empty()) return;
  const std::string& op = n.op_type;
  const bool onnx = n.domain.empty();
  const bool ms = n.domain == "com.microsoft" || n.domain == "ai.hwopt";
  if ((onnx || ms) && kSameShape.count(op)) {
    if (op == "Dropout" || op == "BatchNormalization" || op == "LayerNormalization") {
      // only output 0 has the input's shape
    } else if (n.outputs.size() != 1) {
      return;
    }
    auto s = shape(n.inputs[0]);
    if (!s) return;
    DType dt = dtype(n.inputs[0]);
    if (op == "Cast") {
      const ir::Attribute* to = n.attr("to");
      dt = to && to->type == ir::AttrType::i ? static_cast<DType>(to->i) : DType::undefined;
    } else if (op == "CastLike" && n.inputs.size() == 2) {
      dt = dtype(n.inputs[1]);
    } else if (kBoolResult.count(op)) {
      dt = DType::boolean;
    }
    set(n.outputs[0], *s, dt);
    if (op == "Cast" || op == "Identity")
      if (auto d = data(n.inputs[0])) data_[n.outputs[0]] = *d;
    return;
  }
  if (n.domain == "ai.hwopt" && op == "ElementwiseChain") return infer_broadcast(n);
  if (!onnx) return;
  if (kBroadcast.count(op)) return infer_broadcast(n);
  if (op == "Reshape") return infer_reshape(n);
  if (op == "Slice") return infer_slice(n);
  if (op == "MatMul" && n.inputs.size() == 2) return infer_matmul(n);
  if (op == "Conv" && n.inputs.size() >= 2) return infer_conv(n);
  if (op == "Shape") {
    auto s = shape(n.inputs[0]);
    if (!s) return;
    const int64_t rank = static_cast<int64_t>(s->size());
    int64_t start = 0, end = rank;
    if (n.opset >= 15) {
      start = attr_int(n, "start", 0);
      end = attr_int(n, "end", rank);
      if (start < 0) start += rank;
      if (end < 0) end += rank;
      start = std::clamp<int64_t>(start, 0, rank);
      end = std::clamp<int64_t>(end, 0, rank);
    }
    Dims d(s->begin() + start, s->begin() + std::max(start, end));
    set(n.outputs[0], {known(static_cast<int64_t>(d.size()))}, DType::int64);
    data_[n.outputs[0]] = d;
    return;
  }
  if (op == "Transpose") {
    auto s = shape(n.inputs[0]);
    if (!s) return;
    auto perm = attr_ints(n, "perm");
    Dims out;
    if (!perm) {
      out.assign(s->rbegin(), s->rend());
    } else {
      if (perm->size() != s->size()) return;
      for (int64_t p : *perm) {
        if (p < 0 || p >= static_cast<int64_t>(s->size())) return;
        out.push_back((*s)[p]);
      }
    }
    set(n.outputs[0], out, dtype(n.inputs[0]));
    return;
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    auto s = shape(n.inputs[0]);
    if (!s) return;
    const bool input_form = n.opset >= 13;
    auto axes = axes_of(n, 1, input_form);
    if (op == "Unsqueeze") {
      if (!axes) return;
      const int64_t r = static_cast<int64_t>(s->size() + axes->size());
      std::vector<bool> is_new(static_cast<size_t>(r), false);
      for (int64_t a : *axes) {
        if (a < 0) a += r;
        if (a < 0 || a >= r || is_new[a]) return;
        is_new[a] = true;
      }
      Dims out;
      size_t k = 0;
      for (int64_t i = 0; i < r; ++i) out.push_back(is_new[i] ? known(1) : (*s)[k++]);
      set(n.outputs[0], out, dtype(n.inputs[0]));
      if (auto d = data(n.inputs[0]); d && s->empty() && r == 1) data_[n.outputs[0]] = *d;
      return;
    }
    const int64_t r = static_cast<int64_t>(s->size());
    std::vector<bool> drop(static_cast<size_t>(r), false);
    if (axes) {
      for (int64_t a : *axes) {
        if (a < 0) a += r;
        if (a < 0 || a >= r) return;
        drop[a] = true;
      }
    } else {
      for (int64_t i = 0; i < r; ++i) {
        if (!(*s)[i].known()) return;
        drop[i] = (*s)[i].value == 1;
      }
    }
    Dims out;
    for (int64_t i = 0; i < r; ++i)
      if (!drop[i]) out.push_back((*s)[i]);
    set(n.outputs[0], out, dtype(n.inputs[0]));
    if (auto d = data(n.inputs[0]); d && r == 1 && out.empty() && d->size() == 1) data_[n.outputs[0]] = *d;
    return;
  }
  if (op == "Concat") {
    const int64_t axis_attr = attr_int(n, "axis", 0);
    std::vector<Dims> ins;
    for (const auto& in : n.inputs) {
      auto s = shape(in);
      if (in.empty() || !s) return;
      ins.push_back(*s);
    }
    const int64_t r = static_cast<int64_t>(ins[0].size());
    const int64_t axis = axis_attr < 0 ? axis_attr + r : axis_attr;
    if (axis < 0 || axis >= r) return;
    Dims out = ins[0];
    int64_t total = 0;
    bool total_known = true;
    for (const auto& s : ins) {
      if (static_cast<int64_t>(s.size()) != r) return;
      total_known &= s[axis].known();
      if (s[axis].known()) total += s[axis].value;
      for (int64_t k = 0; k < r; ++k)
        if (k != axis && !out[k].known() && s[k].known()) out[k] = s[k];
    }
    out[axis] = total_known ? known(total) : kUnknown;
    set(n.outputs[0], out, dtype(n.inputs[0]));
    if (r == 1) {
      Dims d;
      for (const auto& in : n.inputs) {
        auto v = data(in);
        if (!v) return;
        d.insert(d.end(), v->begin(), v->end());
      }
      data_[n.outputs[0]] = d;
    }
    return;
  }
  if (op == "Gather" && n.inputs.size() == 2) {
    auto s = shape(n.inputs[0]);
    auto is = shape(n.inputs[1]);
    if (!s || !is || s->empty()) return;
    int64_t axis = attr_int(n, "axis", 0);
    const int64_t r = static_cast<int64_t>(s->size());
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return;
    Dims out(s->begin(), s->begin() + axis);
    out.insert(out.end(), is->begin(), is->end());
    out.insert(out.end(), s->begin() + axis + 1, s->end());
    set(n.outputs[0], out, dtype(n.inputs[0]));
    auto d = data(n.inputs[0]);
    auto idx = ints(n.inputs[1]);
    if (d && idx && r == 1 && is->size() <= 1) {
      Dims v;
      for (int64_t i : *idx) {
        if (i < 0) i += static_cast<int64_t>(d->size());
        if (i < 0 || i >= static_cast<int64_t>(d->size())) return;
        v.push_back((*d)[i]);
      }
      data_[n.outputs[0]] = v;
    }
    return;
  }
  if (op.rfind("Reduce", 0) == 0) {
    auto s = shape(n.inputs[0]);
    if (!s) return;
    const bool input_form = n.opset >= 18 || (op == "ReduceSum" && n.opset >= 13);
    auto axes = axes_of(n, 1, input_form);
    const bool keep = attr_int(n, "keepdims", 1) != 0;
    const int64_t r = static_cast<int64_t>(s->size());
    std::vector<bool> red(static_cast<size_t>(r), !axes || axes->empty());
    if (axes && axes->empty() && input_form && attr_int(n, "noop_with_empty_axes", 0) != 0) return;
    if (axes)
      for (int64_t a : *axes) {
        if (a < 0) a += r;
        if (a < 0 || a >= r) return;
        red[a] = true;
      }
    if (!axes && input_form && n.inputs.size() > 1 && !n.inputs[1].empty()) return;  // axes not constant
    Dims out;
    for (int64_t i = 0; i < r; ++i) {
      if (!red[i]) out.push_back((*s)[i]);
      else if (keep) out.push_back(known(1));
    }
    set(n.outputs[0], out, dtype(n.inputs[0]));
    return;
  }
  if (op == "Gemm" && n.inputs.size() >= 2) {
    auto a = shape(n.inputs[0]);
    auto b = shape(n.inputs[1]);
    if (!a || !b || a->size() != 2 || b->size() != 2) return;
    const bool ta = attr_int(n, "transA", 0) != 0, tb = attr_int(n, "transB", 0) != 0;
    set(n.outputs[0], {(*a)[ta ? 1 : 0], (*b)[tb ? 0 : 1]}, dtype(n.inputs[0]));
    return;
  }
}

class InferShapes final : public Pass {
 public:
  std::string name() const override { return "infer_shapes"; }
  std::string description() const override {
    return "fill in shapes ONNX shape inference left unknown (shape values propagated symbolically)";
  }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    GraphView view(graph);
    Inferrer inf(view);
    for (const auto& n : graph.nodes) inf.infer(n);
    int count = 0;
    for (const auto& [name, dims] : inf.shapes()) {
      if (view.constant(name) || view.is_graph_input(name)) continue;
      const ir::ValueInfo* have = view.info(name);
      if (have && have->has_shape) continue;
      ir::ValueInfo vi;
      vi.name = name;
      vi.kind = ir::ValueKind::tensor;
      auto dt = inf.dtypes().find(name);
      vi.dtype = have && have->dtype != DType::undefined ? have->dtype
                 : dt != inf.dtypes().end()              ? dt->second
                                                         : DType::undefined;
      vi.has_shape = true;
      vi.shape = dims;
      if (view.is_graph_output(name)) {
        for (auto& o : graph.outputs)
          if (o.name == name) o = vi;
      } else {
        graph.value_info[name] = vi;
      }
      ++count;
    }
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_infer_shapes() { return std::make_unique<InferShapes>(); }

}  // namespace hwopt::passes
