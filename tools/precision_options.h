// The reduced-precision options that several subcommands share (run, bench, profile):
// --precision, and for int8 the calibration data set or a saved calibration table.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "hwopt/session.h"

namespace hwopt::cli {

struct PrecisionArgs {
  std::string precision = "fp32";
  std::string calibration;        // data set (quant::load_dataset) for int8 calibration
  std::string method = "minmax";  // minmax, percentile or entropy
  double percentile = 99.99;
  int64_t calibration_limit = 100;  // samples used for calibration
  int64_t calibration_batch = 8;
  std::string calibration_table;  // ranges from a JSON table instead of calibrating
  std::string save_calibration;   // write the ranges calibrated here
  std::vector<std::string> fp32_nodes;  // layers kept in FP32 (e.g. from hwopt validate --fallback)
};

/// --precision, --keep-fp32 and the calibration options below.
void add_precision_options(CLI::App* cmd, PrecisionArgs* args);
/// The calibration options only: --calibration, --calibration-method, --percentile,
/// --calibration-limit, --calibration-table, --save-calibration.
void add_calibration_options(CLI::App* cmd, PrecisionArgs* args);

/// Sets `so.precision` and, for int8, `so.activation_ranges` (calibrating `model` over the
/// data set with so's backend, threads and passes, with progress on stderr, or loading the
/// table). Errors name the option at fault.
Status apply_precision(const std::string& model, const PrecisionArgs& args, SessionOptions& so);

}  // namespace hwopt::cli
