// Writing a calibrated model as a standard QDQ ONNX model (`hwopt quantize`), the format ONNX
// Runtime and other runtimes read as static INT8 quantization: QuantizeLinear -> DequantizeLinear
// on activations, integer weights behind DequantizeLinear. hwopt reads such a model back with the
// fold_qdq pass (src/passes/fold_qdq.cpp) at precision int8.
#pragma once

#include <string>
#include <vector>

#include "hwopt/session.h"
#include "hwopt/status.h"
#include "onnx/import.h"
#include "quant/ranges.h"

namespace hwopt::quant {

/// The optimization passes whose results are not standard ONNX (com.microsoft FusedConv,
/// FusedGemm, Gelu, FastGelu; ai.hwopt FusedMatMul, FusedConv, FusedConvDepthwise,
/// ScaledDotProductAttention, LayerNormalization): a QDQ model keeps the plain Conv/Gemm/MatMul and activations instead.
std::vector<std::string> qdq_disabled_passes();

/// `base` as `hwopt quantize` optimizes and calibrates: optimize on, qdq_disabled_passes() added
/// to disabled_passes. Calibrate (quant::calibrate) with these options so that the ranges are
/// keyed by the names of the graph write_qdq_model quantizes.
SessionOptions qdq_session_options(SessionOptions base);

/// What insert_qdq did.
struct QdqSummary {
  int quantized_nodes = 0;  // Conv/Gemm/MatMul whose weights became INT8 + DequantizeLinear
  int activations = 0;      // values given a QuantizeLinear -> DequantizeLinear pair
  int int32_biases = 0;     // biases stored as INT32 (scale = input scale x weight scale)
  bool per_channel = false;  // weight scales per output channel (ai.onnx opset >= 13)
  int opset_before = 0, opset_after = 0;  // the model's ai.onnx opset
  std::vector<std::string> skipped;  // why a Conv/Gemm/MatMul stayed float, naming the node
};

/// Rewrites `model` (a float graph of standard ONNX ops, e.g. optimized with
/// qdq_session_options) into QDQ form with the calibrated `ranges` (keyed by its value names):
///  - the nodes hwopt's INT8 backend quantizes: Conv (weights of rank 3-5), Gemm and MatMul (2-D
///    weights) of the main graph whose weight is a float32 constant and whose float32 input has a
///    range. Their weights become int8 initializers, symmetric with zero point 0 and
///    scale = max|w| / 127 per output channel (axis 0 of Conv and of Gemm with transB, axis 1 of
///    Gemm without transB and of MatMul; 1 for an all-zero channel), behind a DequantizeLinear.
///    A bias (Conv's B; Gemm's C when it is [N] and alpha = beta = 1) becomes int32 with scale
///    input scale x weight scale and zero point 0, as ONNX Runtime's QDQ fusions expect; it stays
///    float if it would not fit in int32.
///  - QuantizeLinear -> DequantizeLinear on each such node's input, and on its output (after its
///    Relu, when a Relu alone reads it) unless that is a graph output: every reader then reads the
///    dequantized value, so ONNX Runtime fuses each group into QLinearConv/QLinearMatMul. A value
///    with range r gets scale r.threshold / 255 with a uint8 zero point 0 when r.min >= 0, else
///    r.threshold / 127 with an int8 zero point 0 (hwopt's own INT8 activations; scale 1 when
///    the threshold is 0).
///  - Per-channel scales need ai.onnx opset 13: an older model is moved to 13 when every op it
///    uses means the same there (its versions in between only added types or optional inputs),
///    else weights get one scale (max|w| / 127 over the tensor) and the opset stays (moved to 10,
///    QuantizeLinear's first, if older). A model that can reach neither is `unsupported`, naming
///    the op that holds it back.
/// The model's ir_version is raised to what its new opset needs. Errors name the node or value.
Expected<QdqSummary> insert_qdq(onnx_import::Model& model, const CalibrationTable& ranges);

/// Loads `model_path`, optimizes it as a session with `options` would (options.optimize,
/// options.disabled_passes; use qdq_session_options), inserts QDQ with `ranges` and writes the
/// result to `out_path` atomically.
Expected<QdqSummary> write_qdq_model(const std::string& model_path, const SessionOptions& options,
                                     const CalibrationTable& ranges, const std::string& out_path);

}  // namespace hwopt::quant
