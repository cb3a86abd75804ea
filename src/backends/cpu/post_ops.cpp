#include "backends/cpu/post_ops.h"

#include <limits>

#include "backends/kernel.h"

namespace hwopt::cpu {

bool activation_supported(const std::string& a) {
  return a.empty() || a == "Relu" || a == "LeakyRelu" || a == "Clip" || a == "Sigmoid" || a == "Tanh" ||
         a == "HardSigmoid" || a == "HardSwish" || a == "Silu" || a == "Swish" || a == "Mish" || a == "Gelu" || a == "Elu";
}

void append_activation(dnnl::post_ops& ops, const std::string& a, const std::vector<float>& p) {
  using alg = dnnl::algorithm;
  auto param = [&](size_t i, float def) { return i < p.size() ? p[i] : def; };
  if (a.empty()) return;
  if (a == "Relu") ops.append_eltwise(1.f, alg::eltwise_relu, 0.f, 0.f);
  else if (a == "LeakyRelu") ops.append_eltwise(1.f, alg::eltwise_relu, param(0, 0.01f), 0.f);
  else if (a == "Clip")
    ops.append_eltwise(1.f, alg::eltwise_clip_v2, param(0, std::numeric_limits<float>::lowest()),
                       param(1, std::numeric_limits<float>::max()));
  else if (a == "Sigmoid") ops.append_eltwise(1.f, alg::eltwise_logistic, 0.f, 0.f);
  else if (a == "Tanh") ops.append_eltwise(1.f, alg::eltwise_tanh, 0.f, 0.f);
  else if (a == "HardSigmoid") {
    ops.append_eltwise(1.f, alg::eltwise_linear, param(0, 0.2f), param(1, 0.5f));
    ops.append_eltwise(1.f, alg::eltwise_clip_v2, 0.f, 1.f);
  } else if (a == "HardSwish") ops.append_eltwise(1.f, alg::eltwise_hardswish, 0.f, 0.f);
  else if (a == "Silu" || a == "Swish") ops.append_eltwise(1.f, alg::eltwise_swish, 1.f, 0.f);
  else if (a == "Mish") ops.append_eltwise(1.f, alg::eltwise_mish, 0.f, 0.f);
  else if (a == "Gelu") ops.append_eltwise(1.f, alg::eltwise_gelu_erf, 0.f, 0.f);
  else if (a == "Elu") ops.append_eltwise(1.f, alg::eltwise_elu, param(0, 1.f), 0.f);
  else throw KernelError("activation '" + a + "' cannot be fused into a oneDNN primitive");
}

}  // namespace hwopt::cpu
