// eliminate_cast_chains: Cast(Cast(x, T1), T2) becomes Cast(x, T2) when the inner cast is a
// lossless widening (every value of x's dtype is exactly representable in T1): the outer cast then
// sees exactly x's values, so converting x directly gives the same result. When T2 is x's own dtype
// both casts go. Strings are never involved (number formatting depends on the source type).
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

/// True if every value of `from` is exactly representable in `to`.
bool lossless(DType from, DType to) {
  using D = DType;
  if (from == to) return true;
  switch (from) {
    case D::boolean: return to != D::string && to != D::undefined;
    case D::int8: return to == D::int16 || to == D::int32 || to == D::int64 || to == D::float16 || to == D::bfloat16 ||
                         to == D::float32 || to == D::float64;
    case D::uint8:
      return to == D::int16 || to == D::uint16 || to == D::int32 || to == D::uint32 || to == D::int64 ||
             to == D::uint64 || to == D::float16 || to == D::bfloat16 || to == D::float32 || to == D::float64;
    case D::int16: return to == D::int32 || to == D::int64 || to == D::float32 || to == D::float64;
    case D::uint16:
      return to == D::int32 || to == D::uint32 || to == D::int64 || to == D::uint64 || to == D::float32 ||
             to == D::float64;
    case D::int32: return to == D::int64 || to == D::float64;
    case D::uint32: return to == D::int64 || to == D::uint64 || to == D::float64;
    case D::float16:
    case D::bfloat16: return to == D::float32 || to == D::float64;
    case D::float32: return to == D::float64;
    default: return false;
  }
}

std::optional<DType> cast_to(const ir::Node& n) {
  if (!n.domain.empty() || n.op_type != "Cast" || n.inputs.size() != 1 || n.inputs[0].empty() ||
      n.outputs.size() != 1 || n.outputs[0].empty())
    return std::nullopt;
  const ir::Attribute* a = n.attr("to");
  if (!a || a->type != ir::AttrType::i || !dtype_is_known(static_cast<int32_t>(a->i))) return std::nullopt;
  return static_cast<DType>(a->i);
}

class EliminateCastChains final : public Pass {
 public:
  std::string name() const override { return "eliminate_cast_chains"; }
  std::string description() const override {
    return "merge Cast(Cast(x)) into one Cast (or none) when the inner cast is a lossless widening";
  }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    int total = 0;
    for (int round = 0; round < 8; ++round) {
      GraphView view(graph);
      GraphPatch patch;
      Claims claims;
      int count = 0;
      for (size_t i = 0; i < view.num_nodes(); ++i) {
        const ir::Node& outer = view.node(i);
        auto t2 = cast_to(outer);
        if (!t2) continue;
        const int p = view.producer(outer.inputs[0]);
        if (p < 0 || view.sole_user(outer.inputs[0]) != static_cast<int>(i)) continue;
        const size_t inner_idx = static_cast<size_t>(p);
        const ir::Node& inner = view.node(inner_idx);
        auto t1 = cast_to(inner);
        if (!t1 || claims.any({inner_idx, i})) continue;
        const std::string& x = inner.inputs[0];
        const DType t0 = view.dtype(x);
        if (t0 == DType::undefined || t0 == DType::string || *t1 == DType::string || *t2 == DType::string) continue;
        if (!lossless(t0, *t1)) continue;
        if (*t2 == t0) {
          claims.take({inner_idx});
          if (bypass_node(view, patch, claims, i, x, outer.outputs[0])) {
            patch.remove_node(inner_idx);
            ++count;
            continue;
          }
        }
        ir::Node merged = outer;
        merged.inputs = {x};
        patch.remove_node(inner_idx);
        patch.remove_node(i);
        patch.add_node(i, std::move(merged), {inner_idx, i});
        claims.take({inner_idx, i});
        ++count;
      }
      if (count == 0) break;
      HWOPT_RETURN_IF_ERROR(patch.apply(graph));
      total += count;
    }
    return total;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_cast_chains() { return std::make_unique<EliminateCastChains>(); }

}  // namespace hwopt::passes
