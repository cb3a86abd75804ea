// Rank checks in front of libonnx shape-inference functions that index input dims without
// checking the rank first (libonnx 1.12): a hostile model would make them read out of bounds.
#pragma once

#include <map>
#include <string>

namespace onnx {
class ModelProto;
}

namespace hwopt::onnx_import {

/// Wraps the affected schemas' inference functions (once per process, thread-safe) so that an
/// input of the wrong rank fails inference with an error instead of crashing. Call before
/// onnx::shape_inference::InferShapes.
void guard_shape_inference();

/// True if libonnx's shape inference may run on the model: every main-graph input has a type,
/// and every node (subgraphs included) whose op ONNX knows satisfies its schema (required
/// attributes present, attribute types, input and output counts: OpSchema::Verify). libonnx's
/// inference functions assume both (found by fuzzing: Scan-9 dereferenced a missing
/// 'num_scan_inputs', MaxUnpool an untyped input). `opsets`: domain ("" is ai.onnx) -> version.
bool safe_for_shape_inference(const onnx::ModelProto& model, const std::map<std::string, int>& opsets);

}  // namespace hwopt::onnx_import
