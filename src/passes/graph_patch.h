// A set of changes to one graph, collected while a pass walks the graph and applied afterwards in
// one step (tract's TypedModelPatch): nodes removed and added, value reads redirected, values
// renamed, initializers added. Applying never changes graph inputs or outputs.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hwopt/status.h"
#include "hwopt/tensor.h"
#include "ir/graph.h"
#include "passes/graph_view.h"

namespace hwopt::passes {

class GraphPatch {
 public:
  /// Removes node `index` (an index into the graph the patch will be applied to).
  void remove_node(size_t index) { removed_.insert(index); }
  bool removes(size_t index) const { return removed_.count(index) > 0; }
  /// Inserts `node` where node `position` stands (before it; `position` may itself be removed).
  /// `position` == number of nodes appends. `replaces` are the indices of the nodes it stands for
  /// (usually also removed): their names (or what they were fused from) become its `fused_from`.
  void add_node(size_t position, ir::Node node, std::vector<size_t> replaces = {}) {
    added_.push_back({position, std::move(node), std::move(replaces)});
  }
  /// Removes `nodes` and inserts `node`, standing for them, where the last of them stood: a
  /// fusion's usual rewrite (nodes listed in any order; their indices are the graph's).
  void replace_nodes(const std::vector<size_t>& nodes, ir::Node node) {
    size_t last = 0;
    for (size_t n : nodes) {
      remove_node(n);
      last = std::max(last, n);
    }
    add_node(last, std::move(node), nodes);
  }
  /// Every node input (here and in subgraphs) reading `from` reads `to` instead. Chains resolve
  /// (a->b, b->c reads c). Graph outputs are never redirected: a pass must not redirect a pinned value.
  void redirect(const std::string& from, const std::string& to) { redirect_[from] = to; }
  /// Renames value `from` everywhere it appears in this graph's nodes (its producer's output and
  /// every read), e.g. to let a node produce a graph output directly. `from` must not be pinned.
  void rename(const std::string& from, const std::string& to) { rename_[from] = to; }
  void add_initializer(const std::string& name, Tensor value) { initializers_[name] = std::move(value); }
  /// Sets (or replaces) the value_info of a value this patch creates or retypes.
  void set_value_info(ir::ValueInfo info) { value_info_[info.name] = std::move(info); }

  bool empty() const {
    return removed_.empty() && added_.empty() && redirect_.empty() && rename_.empty() && initializers_.empty();
  }

  /// Applies the changes; then drops initializers nothing reads, value_info of values no longer
  /// defined, and restores topological order if the insertions broke it.
  Status apply(ir::Graph& graph) const;

 private:
  std::set<size_t> removed_;
  struct Added {
    size_t position;
    ir::Node node;
    std::vector<size_t> replaces;
  };
  std::vector<Added> added_;
  std::map<std::string, std::string> redirect_;
  std::map<std::string, std::string> rename_;
  std::map<std::string, Tensor> initializers_;
  std::map<std::string, ir::ValueInfo> value_info_;
};

/// Drops initializers that nothing reads (not graph inputs), value_info of values the graph no
/// longer defines, and sorts nodes topologically when they are out of order. Returns the number
/// of initializers dropped.
Expected<int> tidy_graph(ir::Graph& graph);

/// Tracks the nodes a pass has already claimed during one walk, so that two rewrites collected in
/// the same walk never touch the same node.
class Claims {
 public:
  bool any(const std::vector<size_t>& nodes) const {
    for (size_t n : nodes)
      if (claimed_.count(n)) return true;
    return false;
  }
  bool has(size_t n) const { return claimed_.count(n) > 0; }
  void take(const std::vector<size_t>& nodes) { claimed_.insert(nodes.begin(), nodes.end()); }

 private:
  std::set<size_t> claimed_;
};

/// Records in `patch` that `node_index` (a node whose output `out` equals its input `in`) goes away:
/// readers of `out` read `in`. When `out` is pinned (a graph output), `in`'s producer is made to
/// produce `out` instead, if `in` is an unpinned node output whose producer is unclaimed. Claims
/// the nodes it touches. Returns false (and records nothing) when neither is possible.
bool bypass_node(const GraphView& view, GraphPatch& patch, Claims& claims, size_t node_index, const std::string& in,
                 const std::string& out);

}  // namespace hwopt::passes
