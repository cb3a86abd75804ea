// ONNX import: bytes or a file -> validated ir::Graph, with safe external data and shape inference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "hwopt/status.h"
#include "hwopt/tensor.h"
#include "ir/graph.h"

namespace onnx {
class TensorProto;
class ModelProto;
class TypeProto;
}  // namespace onnx

namespace hwopt::onnx_import {

struct ImportOptions {
  /// Files larger than this are refused from their size, before parsing (protobuf's own limit).
  uint64_t max_file_bytes = (uint64_t{2} << 30) - 1;
  /// Deepest nesting of subgraphs (If/Loop/Scan bodies) accepted.
  int max_subgraph_depth = 32;
  /// Run ONNX shape inference to fill value types and shapes (symbolic dims kept).
  bool infer_shapes = true;
};

struct Model {
  std::shared_ptr<ir::Graph> graph;
  int64_t ir_version = 0;
  std::string producer;
  std::map<std::string, int> opsets;  // domain ("" = ai.onnx) -> version
  std::string base_dir;               // directory external data is resolved against
};

/// Oldest and newest ai.onnx opset versions hwopt accepts.
constexpr int kMinOpset = 1;
constexpr int kMaxOpset = 21;

Expected<Model> load_model(const std::string& path, const ImportOptions& options = {});
/// `base_dir` resolves external data; empty means the model may not use external data.
Expected<Model> load_model_from_bytes(const void* data, size_t size, const std::string& base_dir = "",
                                      const ImportOptions& options = {});

/// Converts one TensorProto (initializer, attribute, or a .pb test file); `what` names it in errors.
Expected<Tensor> tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir,
                                   const std::string& what);

/// True if `op_type` exists in `domain` at `opset` per ONNX's schemas or hwopt's kernels.
bool op_is_known(const std::string& op_type, const std::string& domain, int opset);

}  // namespace hwopt::onnx_import
