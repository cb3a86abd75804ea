// Recognizes the activation applied to a value, for the passes that fuse an activation into the
// op producing the value (fuse_conv_activation, fuse_matmul_add).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "passes/graph_view.h"

namespace hwopt::passes {

/// An activation found after a value. `name` is the `activation` attribute of the fused op:
///   Relu, LeakyRelu [alpha], Clip [min, max], Sigmoid, Tanh, HardSigmoid [alpha, beta],
///   HardSwish (also written out as x * Clip(x + 3, 0, 6) / 6 or x * HardSigmoid(x, 1/6, 0.5)),
///   Silu (Mul(x, Sigmoid(x))), Mish (Mul(x, Tanh(Softplus(x)))), Gelu (erf form), FastGelu (tanh form);
/// `params` are its `activation_params` in that order.
struct ActivationMatch {
  std::string name;
  std::vector<float> params;
  std::vector<size_t> nodes;  // the nodes that make up the activation
  std::string output;         // the activation's result
};

/// The activation that alone reads float value `value`, if the nodes reading it form one of the
/// activations above with constant parameters. The intermediates of a multi-node activation
/// (Silu's Sigmoid, Mish's Softplus and Tanh) must have no other reader.
std::optional<ActivationMatch> match_activation(const GraphView& view, const std::string& value);

/// Appends `act` to a fused node's attributes: `activation` and, if it has parameters,
/// `activation_params` (FusedConv, FusedConvTranspose, FusedMatMul), or with `gemm_style`
/// `activation_alpha`/`activation_beta` (com.microsoft FusedGemm).
void add_activation_attrs(ir::Node& node, const ActivationMatch& act, bool gemm_style = false);

}  // namespace hwopt::passes
