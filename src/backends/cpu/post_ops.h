// Fused activations of FusedConv / FusedGemm / FusedMatMul as oneDNN post-ops.
#pragma once

#include <dnnl.hpp>

#include <string>
#include <vector>

namespace hwopt::cpu {

/// Activation names (as in ONNX Runtime's FusedConv `activation` attribute) that
/// append_activation can express.
bool activation_supported(const std::string& activation);
/// Appends `activation` with its params (LeakyRelu: alpha; Clip: min, max; HardSigmoid: alpha,
/// beta) to `ops`. Empty activation appends nothing.
void append_activation(dnnl::post_ops& ops, const std::string& activation, const std::vector<float>& params);

}  // namespace hwopt::cpu
