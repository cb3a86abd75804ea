#include "artifact_options.h"

#include <fmt/format.h>

namespace hwopt::cli {

Status refuse_plan_fixed(const CLI::App& cmd, const std::string& artifact) {
  static const char* kPlanFixed[] = {"--backend",   "--precision",   "--calibration",  "--calibration-table",
                                     "--keep-fp32", "--no-optimize", "--disable-pass", "--layout",
                                     "--conv-algorithm"};
  for (const char* name : kPlanFixed)
    if (const CLI::Option* o = cmd.get_option_no_throw(name); o && o->count() > 0)
      return Status(StatusCode::invalid_argument,
                    fmt::format("{} cannot be used with the tuned artifact '{}': its plan.json fixes that (run its "
                                "model.onnx directly to choose yourself)",
                                name, artifact));
  return Status::OK();
}

}  // namespace hwopt::cli
