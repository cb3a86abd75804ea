// Dispatch: for each node, an ordered list of candidate kernels of a backend, most specialised
// first. A candidate checks the node (attributes, dtypes and shapes known at plan time) and either
// accepts or declines with a reason; the reference kernel is always the last candidate.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "backends/kernel.h"
#include "hwopt/session.h"
#include "ir/graph.h"

namespace hwopt {

/// What a candidate can see of a node when the plan is made.
struct NodeContext {
  const ir::Node& node;
  const ir::Graph& graph;
  int threads = 1;
  /// SessionOptions::precision: "fp32", "bf16" or "int8".
  std::string precision = "fp32";
  /// Calibrated ranges of values (precision "int8"); nullptr when none.
  const std::map<std::string, ActivationRange>* ranges = nullptr;
  /// Nodes kept in FP32 whatever the precision (SessionOptions::fp32_nodes); nullptr: none.
  const std::set<std::string>* fp32_nodes = nullptr;
  /// SessionOptions::layout: "blocked", "channels_last" or "any".
  std::string layout = "blocked";
  /// SessionOptions::conv_algorithm: "winograd" or "direct".
  std::string conv_algorithm = "winograd";

  size_t num_inputs() const { return node.inputs.size(); }
  bool has_input(size_t i) const { return i < node.inputs.size() && !node.inputs[i].empty(); }
  /// Declared/inferred type of input/output i; nullptr when unknown.
  const ir::ValueInfo* input_info(size_t i) const;
  const ir::ValueInfo* output_info(size_t i) const;
  /// dtype of input i if known, else undefined.
  DType input_dtype(size_t i) const;
  /// The initializer feeding input i, or nullptr if it is not a constant.
  const Tensor* constant_input(size_t i) const;
  /// Rank of input i if known, else -1.
  int64_t input_rank(size_t i) const;
  /// The calibrated range of a value, or nullptr.
  const ActivationRange* range_of(const std::string& value) const;
  /// Nodes of the graph that read `value` (empty for a graph output that nothing else reads).
  std::vector<const ir::Node*> consumers_of(const std::string& value) const;
  /// True if `n` (this node by default) is one of fp32_nodes.
  bool kept_fp32(const ir::Node* n = nullptr) const;
  /// True if `value` is an output of the graph.
  bool is_graph_output(const std::string& value) const;
};

struct Candidate {
  std::string backend;       // "cpu"
  std::string name;          // "onednn:conv"; shown as "<backend>:<name>" in logs and profiles
  std::string op_type;
  std::string domain;        // "" = ai.onnx
  int since_version = 1;
  int priority = 0;          // lower runs first among a backend's candidates for an op
  bool accepts_layouts = false;  // inputs may arrive in a backend layout (else made plain first)
  bool accepts_quantized = false;  // inputs may arrive quantized (Layout::quantized; else dequantized first)
  /// "" to accept the node, else the reason for declining.
  std::function<std::string(const NodeContext&)> check;
  /// Builds the kernel (may prepare state: reordered weights, primitive caches). `reference`
  /// is the reference kernel, for inputs the candidate meets only at run time and cannot handle.
  std::function<KernelFn(const NodeContext&, KernelFn reference)> make;
  /// Optional: what the accepted candidate runs as for this node (e.g. "int8(u8->s8)"); shown
  /// after the name in brackets: "cpu:onednn:conv[int8(u8->s8)]".
  std::function<std::string(const NodeContext&)> variant;
};

class CandidateRegistry {
 public:
  static CandidateRegistry& instance();
  void add(Candidate c);
  /// Candidates of `backend` for the op, in priority order.
  std::vector<const Candidate*> find(const std::string& backend, const std::string& op_type,
                                     const std::string& domain, int opset) const;
  std::vector<const Candidate*> all() const;

 private:
  std::vector<Candidate> candidates_;
};

struct CandidateRegistrar {
  explicit CandidateRegistrar(Candidate c) { CandidateRegistry::instance().add(std::move(c)); }
};

/// The kernel dispatch chose for a node.
struct KernelChoice {
  KernelFn fn;
  std::string implementation;          // "cpu:onednn:conv[int8(u8->s8)]", or "ref:Conv"
  std::vector<std::string> declined;   // "<candidate>: <reason>" of candidates tried before it
  bool accepts_layouts = false, accepts_quantized = false;  // the chosen candidate's
};

/// Tries `backend`'s candidates for nctx's node in order and builds the first that accepts it;
/// the reference kernel (`reference`, named "ref:<op>") when every candidate declines or the
/// backend is "reference". A chosen candidate gets a reference kernel that marks the run with
/// kReferenceFallback, so that profiles show the inputs it handed over. Throws what a
/// candidate's make throws.
KernelChoice choose_kernel(const std::string& backend, const NodeContext& nctx, const KernelFn& reference);

/// Backends a plan can be made for, in the order they are tried.
std::vector<std::string> known_backends();

}  // namespace hwopt

#define HWOPT_REGISTER_CANDIDATE(candidate) \
  static ::hwopt::CandidateRegistrar HWOPT_CONCAT(_hwopt_candidate_, __COUNTER__)(candidate)
