// The model part of `hwopt inspect MODEL`: inputs and outputs, op histogram, parameters, FLOPs and
// minimum memory traffic per batch item (as imported and after optimization), the planned peak
// of activations, and the roofline's lower bound on this machine's measured ceilings.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hw/ceilings.h"
#include "hwopt/status.h"

namespace hwopt::cli {

struct ModelInspectOptions {
  std::string model;
  int batch = 1;                  // value of the symbolic first (batch) dimension of the inputs
  std::vector<std::string> dims;  // NAME=SIZE for other symbolic dimensions (default 1)
};

/// The model report as JSON (keys documented in docs/cli.md under "hwopt inspect MODEL").
Expected<nlohmann::json> inspect_model(const ModelInspectOptions& options, const std::optional<hw::Ceilings>& ceilings);

/// Prints the report made by inspect_model as readable tables.
void print_model_report(const nlohmann::json& report);

}  // namespace hwopt::cli
