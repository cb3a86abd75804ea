// The graph optimization pass interface. A pass rewrites the portable IR without changing what the
// graph computes; it collects its rewrites while walking the graph and applies them afterwards
// (see graph_patch.h), never mutating the graph while iterating it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "hwopt/session.h"
#include "hwopt/status.h"
#include "ir/graph.h"
#include "onnx/import.h"

namespace hwopt::passes {

/// Domain of ONNX Runtime's contrib ops (FusedConv, FusedGemm, Gelu, FastGelu).
inline constexpr const char* kMicrosoftDomain = "com.microsoft";
/// Domain of hwopt's own fused ops (FusedMatMul, ScaledDotProductAttention, LayerNormalization
/// for models that import ai.onnx below opset 17).
inline constexpr const char* kHwoptDomain = "ai.hwopt";

/// Largest tensor constant folding creates by default (per folded output).
inline constexpr size_t kDefaultFoldLimitBytes = size_t{16} << 20;

/// State shared by the passes of one pipeline run over one model: the model's opset imports (a
/// pass that introduces a node of a new domain imports it here), a generator of names unused
/// anywhere in the model, the folding size cap, and notes for the report.
class PassContext {
 public:
  explicit PassContext(onnx_import::Model& model, size_t fold_limit_bytes = kDefaultFoldLimitBytes);

  /// Version of `domain` ("" = ai.onnx) the model imports, 0 if it imports none.
  int opset(const std::string& domain) const;
  /// Imports `domain` at version 1 into the model (and its main graph) unless it already is;
  /// returns the imported version, which the new node's `opset` must be set to.
  int use_domain(const std::string& domain);
  /// A value or node name not used anywhere in the model (`base`, or `base` with a suffix);
  /// reserved so that later calls never return it again.
  std::string unique_name(const std::string& base);
  /// Adds a line to the pipeline report (e.g. a constant left unfolded because of its size).
  void note(std::string line) { notes_.push_back(std::move(line)); }
  /// Records the quantization range a model states for value `name` (fold_qdq); a later record
  /// of the same name replaces it. The pipeline reports them as PipelineReport::activation_ranges.
  void record_range(const std::string& name, const ActivationRange& range) { ranges_[name] = range; }

  size_t fold_limit_bytes() const { return fold_limit_bytes_; }
  const std::vector<std::string>& notes() const { return notes_; }
  const std::map<std::string, ActivationRange>& ranges() const { return ranges_; }

 private:
  onnx_import::Model* model_;
  size_t fold_limit_bytes_;
  std::unordered_set<std::string> names_;
  std::vector<std::string> notes_;
  std::map<std::string, ActivationRange> ranges_;
};

/// A graph rewrite. `run` applies it to one graph (the pipeline calls it for the main graph and
/// for every subgraph) and returns how many rewrites it made (0: graph unchanged). Passes keep
/// graph outputs (names and values), value_info and topological order valid.
class Pass {
 public:
  virtual ~Pass() = default;
  /// Stable snake_case name, used by --disable-pass and in reports.
  virtual std::string name() const = 0;
  /// One line saying what the pass does.
  virtual std::string description() const = 0;
  /// False for a pass that changes what the graph computes (e.g. fold_qdq drops the quantization
  /// a QDQ model simulates): the pipeline runs it only when PipelineOptions::enabled names it.
  virtual bool on_by_default() const { return true; }
  virtual Expected<int> run(ir::Graph& graph, PassContext& ctx) = 0;
};

}  // namespace hwopt::passes
