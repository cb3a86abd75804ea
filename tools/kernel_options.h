// The cpu backend's kernel choices that several subcommands share (run, bench, profile):
// --layout (the FP32 activation layout between convolutions) and --conv-algorithm.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "hwopt/session.h"

namespace hwopt::cli {

struct KernelArgs {
  std::string layout = "blocked";           // SessionOptions::layout
  std::string conv_algorithm = "winograd";  // SessionOptions::conv_algorithm
};

/// --layout and --conv-algorithm.
void add_kernel_options(CLI::App* cmd, KernelArgs* args);

/// Sets the SessionOptions fields of `args`.
void apply_kernel_options(const KernelArgs& args, SessionOptions& so);

}  // namespace hwopt::cli
