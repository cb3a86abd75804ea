// fold_constants: evaluates, once at optimization time, every node whose inputs are all constant,
// and stores its results as initializers. Constant nodes become initializers, and Shape/Size of a
// value whose shape inference knows the (selected) dims become constants too, so shape
// computations (Shape -> Gather -> Concat -> Reshape) collapse. Nodes are evaluated with the
// reference kernels, so a folded value is exactly what the unoptimized graph computes.
//
// Not folded: random ops, control flow (nodes with subgraphs), quantize/dequantize (kept so a
// quantization pass still sees the QDQ pairs), nodes with sequence/optional results, nodes whose
// output is a graph output, and results larger than the size cap (reported, not silently dropped).
#include <algorithm>
#include <fmt/format.h>

#include <map>
#include <set>

#include "backends/kernel.h"
#include "backends/reference/registry.h"
#include "core/int_values.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

const std::set<std::string> kNeverFold = {
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
    "Dropout", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "If", "Loop", "Scan",
    "SequenceEmpty", "Optional", "OptionalHasElement", "OptionalGetElement"};

std::string human_bytes(double bytes) {
  if (bytes >= 1048576.0) return fmt::format("{:.1f} MiB", bytes / 1048576.0);
  if (bytes >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.0f} bytes", bytes);
}

/// Values as int64 (shape/repeats inputs); nullopt if not an integer tensor.
std::optional<std::vector<int64_t>> int_values(const Tensor& t) {
  return int64_values(t);
}

/// Product of dims as a double (no overflow), negative dims counted as 0.
double count(const std::vector<int64_t>& dims) {
  double n = 1;
  for (int64_t d : dims) n *= static_cast<double>(std::max<int64_t>(d, 0));
  return n;
}

class FoldConstants final : public Pass {
 public:
  std::string name() const override { return "fold_constants"; }
  std::string description() const override {
    return "evaluate nodes whose inputs are all constant (incl. Constant nodes and Shape/Size of static shapes) "
           "into initializers";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    known_.clear();
    int folded = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& n = view.node(i);
      bool pinned_output = false;
      for (const auto& o : n.outputs) pinned_output |= !o.empty() && view.is_graph_output(o);
      if (pinned_output) continue;
      std::optional<std::vector<Tensor>> results;
      if (n.domain.empty() && n.op_type == "Constant") {
        if (const Tensor* t = view.constant(n.outputs[0])) results = std::vector<Tensor>{*t};
      } else if (n.domain.empty() && (n.op_type == "Shape" || n.op_type == "Size")) {
        results = fold_shape(view, n);
      }
      if (!results) results = evaluate(view, n, ctx);
      if (!results) continue;
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k].empty()) continue;
        known_[n.outputs[k]] = (*results)[k];
        patch.add_initializer(n.outputs[k], (*results)[k]);
      }
      patch.remove_node(i);
      ++folded;
    }
    if (folded) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return folded;
  }

 private:
  const Tensor* value(const GraphView& view, const std::string& name) const {
    auto it = known_.find(name);
    if (it != known_.end()) return &it->second;
    return view.constant(name);
  }

  /// Shape / Size of a value whose needed dims are known from shape inference.
  static std::optional<std::vector<Tensor>> fold_shape(const GraphView& view, const ir::Node& n) {
    if (n.inputs.size() != 1 || n.outputs.size() != 1) return std::nullopt;
    const ir::ValueInfo* vi = view.info(n.inputs[0]);
    if (!vi || vi->kind != ir::ValueKind::tensor || !vi->has_shape) return std::nullopt;
    const int64_t rank = static_cast<int64_t>(vi->shape.size());
    int64_t start = 0, end = rank;
    if (n.op_type == "Shape" && n.opset >= 15) {
      start = attr_int(n, "start", 0);
      end = attr_int(n, "end", rank);
      if (start < 0) start += rank;
      if (end < 0) end += rank;
      start = std::clamp<int64_t>(start, 0, rank);
      end = std::clamp<int64_t>(end, 0, rank);
    }
    std::vector<int64_t> dims;
    for (int64_t d = start; d < end; ++d) {
      if (!vi->shape[d].known()) return std::nullopt;
      dims.push_back(vi->shape[d].value);
    }
    if (n.op_type == "Size") {
      if (start != 0 || end != rank) return std::nullopt;
      int64_t numel = shape_numel(dims);
      if (numel < 0) return std::nullopt;
      return std::vector<Tensor>{Tensor::scalar<int64_t>(numel)};
    }
    return std::vector<Tensor>{Tensor::from_vector<int64_t>({static_cast<int64_t>(dims.size())}, dims)};
  }

  /// Bytes the node would produce, when they can be bounded before running it; nullopt if unknown.
  std::optional<double> estimate_bytes(const GraphView& view, const ir::Node& n) const {
    double total = 0;
    bool all_static = true;
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      auto s = view.static_shape(o);
      const DType dt = view.dtype(o);
      if (!s || dt == DType::undefined) {
        all_static = false;
        break;
      }
      total += count(*s) * static_cast<double>(dtype_size(dt));
    }
    if (all_static) return total;
    // Ops whose result can be far larger than their inputs: bound them from their constant inputs.
    auto in = [&](size_t k) -> const Tensor* { return k < n.inputs.size() ? value(view, n.inputs[k]) : nullptr; };
    if (n.op_type == "ConstantOfShape" && in(0)) {
      if (auto dims = int_values(*in(0))) return count(*dims) * 8;
    } else if (n.op_type == "Expand" && in(0) && in(1)) {
      if (auto dims = int_values(*in(1))) {
        const Shape& a = in(0)->shape();
        const size_t r = std::max(a.size(), dims->size());
        std::vector<int64_t> out(r, 1);
        for (size_t k = 0; k < r; ++k) {
          const int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
          const int64_t db = k < r - dims->size() ? 1 : (*dims)[k - (r - dims->size())];
          out[k] = da == 1 ? db : da;
        }
        return count(out) * static_cast<double>(dtype_size(in(0)->dtype()));
      }
    } else if (n.op_type == "Tile" && in(0) && in(1)) {
      if (auto reps = int_values(*in(1))) return count(*reps) * static_cast<double>(in(0)->nbytes());
    } else if (n.op_type == "Range" && in(0) && in(1) && in(2) && in(0)->numel() == 1 && in(1)->numel() == 1 &&
               in(2)->numel() == 1) {
      const double start = in(0)->element_as_double(0), limit = in(1)->element_as_double(0),
                   delta = in(2)->element_as_double(0);
      if (delta == 0) return std::nullopt;
      return std::max(0.0, std::ceil((limit - start) / delta)) * 8;
    } else if (n.op_type == "ConstantOfShape" || n.op_type == "Expand" || n.op_type == "Tile" ||
               n.op_type == "Range" || n.op_type == "Resize" || n.op_type == "Upsample" || n.op_type == "OneHot" ||
               n.op_type == "Pad" || n.op_type == "EyeLike") {
      return std::nullopt;
    }
    return 0.0;  // bounded by its inputs, which are constants already held
  }

  std::optional<std::vector<Tensor>> evaluate(const GraphView& view, const ir::Node& n, PassContext& ctx) const {
    if (kNeverFold.count(n.op_type) || !subgraphs_of(n).empty() || n.inputs.empty()) return std::nullopt;
    std::vector<RtValue> values(n.inputs.size());
    std::vector<const RtValue*> ptrs(n.inputs.size(), nullptr);
    bool any = false;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (n.inputs[k].empty()) continue;
      const Tensor* t = value(view, n.inputs[k]);
      if (!t) return std::nullopt;
      values[k] = RtValue::of(*t);
      ptrs[k] = &values[k];
      any = true;
    }
    if (!any) return std::nullopt;
    const auto* def = reference::KernelRegistry::instance().find(n.op_type, n.domain, n.opset);
    if (!def) return std::nullopt;
    const double cap = static_cast<double>(ctx.fold_limit_bytes());
    auto estimate = estimate_bytes(view, n);
    if (!estimate || *estimate > cap) {
      ctx.note(fmt::format("fold_constants: left {} unfolded: its result {} over the {} cap", n.label(),
                           estimate ? "would be " + human_bytes(*estimate) + "," : "cannot be bounded before running it, so may be",
                           human_bytes(cap)));
      return std::nullopt;
    }
    KernelContext kctx(n, ptrs, [](const ir::Graph&, std::vector<RtValue>) -> std::vector<RtValue> {
      throw KernelError("subgraphs are not evaluated while folding constants");
    });
    try {
      def->fn(kctx);
    } catch (const std::exception&) {
      // A kernel that rejects its constant inputs fails the same way at run time; leave it there.
      return std::nullopt;
    }
    std::vector<Tensor> out(n.outputs.size());
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k].empty()) continue;
      const RtValue& v = kctx.outputs()[k];
      if (!v.is_tensor() || !v.tensor.defined()) return std::nullopt;
      if (static_cast<double>(v.tensor.nbytes()) > cap) {
        ctx.note(fmt::format("fold_constants: left {} unfolded: output '{}' is {}, over the {} cap", n.label(),
                             n.outputs[k], human_bytes(static_cast<double>(v.tensor.nbytes())), human_bytes(cap)));
        return std::nullopt;
      }
      // A deep copy: a kernel may return a view into an input (Reshape, Slice) that would keep a
      // larger buffer alive or be strided.
      out[k] = v.tensor.clone();
    }
    return out;
  }

  std::map<std::string, Tensor> known_;
};

}  // namespace

std::unique_ptr<Pass> make_fold_constants() { return std::make_unique<FoldConstants>(); }

}  // namespace hwopt::passes
