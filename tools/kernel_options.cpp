#include "kernel_options.h"

namespace hwopt::cli {

void add_kernel_options(CLI::App* cmd, KernelArgs* args) {
  cmd->add_option("--layout", args->layout,
                  "FP32 activation layout between the cpu backend's convolutions: blocked, channels_last or any "
                  "(oneDNN's choice per convolution)")
      ->default_val("blocked")
      ->check(CLI::IsMember(layout_names()));
  cmd->add_option("--conv-algorithm", args->conv_algorithm,
                  "FP32 convolutions of the cpu backend: winograd (3x3 stride-1 ones on oneDNN's Winograd kernels "
                  "where it has one, outputs within ~1e-6 relative) or direct (all on the direct kernel)")
      ->default_val("winograd")
      ->check(CLI::IsMember(conv_algorithm_names()));
}

void apply_kernel_options(const KernelArgs& args, SessionOptions& so) {
  so.layout = args.layout;
  so.conv_algorithm = args.conv_algorithm;
}

}  // namespace hwopt::cli
