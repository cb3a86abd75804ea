// ONNX export: ir::Graph -> ModelProto bytes, so an optimized portable graph can be saved.
#pragma once

#include <string>

#include "hwopt/status.h"
#include "onnx/import.h"

namespace hwopt::onnx_import {

/// Serialises `model` (its graph, opsets, ir_version) to ONNX protobuf bytes. Initializers and
/// tensor attributes are stored inline (raw_data); graphs over 2 GiB are refused.
Expected<std::string> save_model_to_bytes(const Model& model);
/// Writes atomically (temporary file, then rename).
Status save_model(const Model& model, const std::string& path);

}  // namespace hwopt::onnx_import
