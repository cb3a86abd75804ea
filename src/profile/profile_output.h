// A profile as JSON (stable, documented schema in docs/profile.md) and as a Chrome trace
// (trace event format, loads in Perfetto and chrome://tracing).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "profile/profiler.h"

namespace hwopt::profile {

inline constexpr int kProfileSchemaVersion = 1;

/// The profile as a JSON document: {"schema_version", "model", "stages", "end_to_end", "steps", ...}.
nlohmann::json profile_to_json(const Profile& profile);

/// The profiled runs kept in `profile.trace_runs` as Chrome trace events: one complete ("X")
/// event per step on the executor thread's track, one per run on a "runs" track, node names,
/// op types, implementations, shapes and covered ONNX nodes in each event's args.
nlohmann::json profile_to_chrome_trace(const Profile& profile);

/// "float32[1,3,224,224]"
std::string value_desc_str(const ValueDesc& v);

}  // namespace hwopt::profile
