// What the subcommands that take a tuned artifact directory (run, bench) share: the options its
// plan.json fixes, which are refused with an artifact rather than silently ignored.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "hwopt/status.h"

namespace hwopt::cli {

/// invalid_argument naming the first option of `cmd` that the tuned artifact's plan fixes
/// (backend, precision and calibration, FP32 layers, passes, layout, convolution algorithm) if it was given; OK
/// otherwise. --threads may still override.
Status refuse_plan_fixed(const CLI::App& cmd, const std::string& artifact);

}  // namespace hwopt::cli
