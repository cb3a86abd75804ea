// The ordered list of graph optimization passes and the function that runs it over a model.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hwopt/status.h"
#include "onnx/import.h"
#include "passes/pass.h"

namespace hwopt::passes {

struct PipelineOptions {
  /// Names of passes to skip; an unknown name is an invalid_argument error listing the valid ones.
  std::set<std::string> disabled;
  /// Names of passes that are off by default (Pass::on_by_default() false) to run, unless also
  /// disabled; an unknown name is an invalid_argument error as for `disabled`.
  std::set<std::string> enabled;
  /// Largest result constant folding creates, per folded output; larger ones stay unfolded.
  size_t fold_limit_bytes = kDefaultFoldLimitBytes;
};

struct PassResult {
  std::string name;
  bool enabled = true;
  int rewrites = 0;  // summed over the main graph and every subgraph
  double ms = 0;
  int nodes_removed = 0;  // total node count (with subgraphs) before minus after
};

struct PipelineReport {
  std::vector<PassResult> passes;
  /// Things the passes chose not to do that the user may want to know (e.g. constants left unfolded).
  std::vector<std::string> notes;
  /// Quantization ranges the model carried, by value name (fold_qdq; empty otherwise).
  std::map<std::string, ActivationRange> activation_ranges;
  size_t nodes_before = 0, nodes_after = 0;  // including subgraphs
};

/// The passes in pipeline order.
std::vector<std::unique_ptr<Pass>> default_passes();
/// Names of the passes in pipeline order.
std::vector<std::string> pass_names();

/// Passes that fuse away a value INT8 calibration must observe (fuse_conv_depthwise hides the
/// expanded tensor; the fused node names it in its `intermediate` attribute, where the INT8
/// kernel finds its range). The FP32 sessions that calibrate turn them off
/// (quant::calibration_session_options), and so do BF16 sessions (the fused op has no BF16 kernel).
std::vector<std::string> value_hiding_passes();

/// Fusions whose benefit depends on the kernels that run the fused op and its parts, so that
/// `hwopt tune` measures the best configuration with each turned off: fuse_conv_depthwise (oneDNN's
/// fused pointwise + depthwise kernel against the pointwise convolution followed by the own INT8
/// depthwise kernel, which wins at INT8 on some models and batches). Pass name and the op it creates.
std::vector<std::pair<std::string, std::string>> tunable_passes();

/// Runs every enabled pass, in order, over the model's main graph and its subgraphs. The model's
/// outputs (names, types and values) are unchanged; opset imports gain the domains of any fused
/// ops introduced. On error the model may be partly optimized but stays valid.
Status run_pipeline(onnx_import::Model& model, const PipelineOptions& options, PipelineReport* report = nullptr);

/// Runs one pass over `graph` and, recursively, every subgraph; returns the summed rewrites.
Expected<int> run_pass_recursive(Pass& pass, ir::Graph& graph, PassContext& ctx);

}  // namespace hwopt::passes
