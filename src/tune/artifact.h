// The tuner's output directory (docs/tune.md, "The artifact"): the optimized model, the plan
// that runs it exactly as tuned, the measurements log and the report, written atomically; and
// loading a plan back on this or (re-lowered) another machine.
//
// Running a tuned artifact from C++:
//
//   auto plan = hwopt::tune::load_plan("OUT", /*relower=*/false);
//   if (!plan.ok()) return plan.status();  // e.g. tuned for another CPU
//   auto session = hwopt::Session::load(plan->model_path, plan->options);
//
// `hwopt run OUT/` does the same.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "hwopt/session.h"
#include "hwopt/status.h"
#include "tune/tune_types.h"

namespace hwopt::tune {

/// Version tag of plan.json ("schema" key).
inline constexpr const char* kPlanSchema = "hwopt-plan/1";

/// Writes the artifact of `result` to `out_dir`: model.onnx (the optimized graph of the best
/// configuration, from Session::load(result.model_path, best_options)), plan.json, tune.json
/// (to_json(result)), and `documents` (file name -> text: the report, rendered by the caller
/// with report::tune_report_documents, so that src/tune does not depend on src/report).
///
/// Everything is written into a temporary directory next to `out_dir` (same parent, created if
/// missing), the exported model is loaded back with the plan's options to prove it runs, and
/// the directory is then renamed onto `out_dir`. An existing `out_dir` is renamed aside first
/// and removed only once the new one is in place. On any failure the temporary directory is
/// removed and an existing artifact is left as it was. An existing `out_dir` that is not a
/// directory, or a non-empty directory holding neither plan.json nor tune.json, is refused
/// rather than replaced. Fails when result.best names no candidate.
Status write_artifact(const std::string& out_dir, const TuneResult& result, const SessionOptions& best_options,
                      const std::vector<std::pair<std::string, std::string>>& documents = {});

/// plan.json of `result` for a best configuration run with `options` (what write_artifact
/// writes, with `created` set to now). `model_steps` lists the plan's steps
/// ({node, op_type, implementation}); may be empty.
nlohmann::json make_plan_json(const TuneResult& result, const SessionOptions& options,
                              const std::vector<PlanStepInfo>& model_steps);

/// A plan read back from an artifact directory.
struct LoadedPlan {
  std::string model_path;      // DIR/model.onnx (or the file plan.json names inside DIR)
  SessionOptions options;      // run model_path exactly as tuned (optimize = false)
  Config config;               // the tuned configuration (batch: the batch it was tuned for)
  nlohmann::json plan;         // plan.json as read
  std::vector<std::string> notes;  // what re-lowering changed
};

/// Reads and validates DIR/plan.json (errors name the file and the field). A plan tuned on a
/// CPU whose fingerprint differs from this machine's is refused with invalid_argument unless
/// `relower`: then the threads are capped at this machine's physical cores and bf16 becomes
/// fp32 where this CPU lacks native BF16 (each change noted), everything else kept.
Expected<LoadedPlan> load_plan(const std::string& dir, bool relower);

/// True if `dir` is a directory holding a plan.json (what `hwopt run DIR` takes as an artifact).
bool is_artifact_dir(const std::string& dir);

}  // namespace hwopt::tune
