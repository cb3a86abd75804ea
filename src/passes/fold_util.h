// Helpers for passes that fold constant parameters into weights (BatchNormalization, bias Add).
#pragma once

#include <optional>
#include <vector>

#include "hwopt/tensor.h"
#include "passes/graph_view.h"

namespace hwopt::passes {

/// An inference BatchNormalization over axis 1 as y = x * scale[c] + shift[c], computed in double.
struct Affine {
  std::vector<double> scale, shift;
};

/// The affine form of BatchNormalization node `bn` when it runs in inference mode (only output Y,
/// training_mode 0, spatial) and its scale, B, mean and var are float constants of `channels`
/// elements each. nullopt otherwise.
std::optional<Affine> batchnorm_affine(const GraphView& view, const ir::Node& bn, int64_t channels);

/// The per-channel values of constant `c` added to or multiplied with a result of rank `rank` with
/// `channels` channels on axis 1, if `c` varies only along that axis ([C,1,1], [1,C,1,1], a scalar,
/// ...) and cannot widen the result (rank not above `rank`). nullopt otherwise.
std::optional<std::vector<double>> channel_values(const Tensor& c, int64_t rank, int64_t channels);

/// `q` (an integer tensor) dequantized as DequantizeLinear computes it, float(q - zp) * scale:
/// per tensor (`scale` of one element) or per `axis` (`scale` rank 1 of q's size there);
/// `zero_point` (optional) has q's dtype and scale's shape. nullopt when the parameters do not
/// fit or the result cannot be allocated.
std::optional<Tensor> dequantize_tensor(const Tensor& q, const Tensor& scale, const Tensor* zero_point, int64_t axis);

/// A float32/float64 tensor's values in double; nullopt for other dtypes.
std::optional<std::vector<double>> float_values(const Tensor& t);
/// A new contiguous tensor of `dtype` (float32 or float64) holding `values`.
Tensor float_tensor(DType dtype, const Shape& shape, const std::vector<double>& values);

}  // namespace hwopt::passes
