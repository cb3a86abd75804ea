#include "quant/calibrate.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "passes/pipeline.h"

namespace hwopt::quant {

SessionOptions calibration_session_options(const SessionOptions& base) {
  SessionOptions so = base;
  so.precision = "fp32";
  so.activation_ranges.clear();
  so.fp32_nodes.clear();
  for (const auto& name : passes::value_hiding_passes())
    if (std::find(so.disabled_passes.begin(), so.disabled_passes.end(), name) == so.disabled_passes.end())
      so.disabled_passes.push_back(name);
  return so;
}

Expected<CalibrationTable> calibrate(const std::string& model_path, const SessionOptions& base,
                                     const std::vector<Batch>& batches, const CalibrationOptions& options) {
  auto session = Session::load(model_path, calibration_session_options(base));
  if (!session.ok()) return session.status();
  return calibrate(**session, batches, options);
}

Expected<CalibrationTable> calibrate(const Session& session, const std::vector<Batch>& batches,
                                     const CalibrationOptions& options) {
  if (batches.empty()) return Status(StatusCode::invalid_argument, "calibration needs at least one batch of inputs");
  const std::vector<std::string> hiding = passes::value_hiding_passes();
  for (const auto& [pass, rewrites] : session.optimization().rewrites)
    if (rewrites > 0 && std::find(hiding.begin(), hiding.end(), pass) != hiding.end())
      return Status(StatusCode::invalid_argument,
                    fmt::format("calibration needs the graph a reduced-precision session runs, but this session ran "
                                "pass {}, which fuses some of them away (load it with quant::calibration_session_options)",
                                pass));
  std::map<std::string, RangeCollector> collectors;
  std::mutex mutex;  // steps may run on other threads than the caller's
  auto add = [&](const std::string& name, const Tensor& t) {
    if (t.dtype() != DType::float32 || t.numel() == 0) return;
    const Tensor c = t.contiguous();
    std::lock_guard<std::mutex> lock(mutex);
    collectors[name].add(c.data<float>(), static_cast<size_t>(c.numel()));
  };
  RunOptions ro;
  ro.observe = add;
  for (size_t b = 0; b < batches.size(); ++b) {
    // The model's own inputs feed the first quantized ops, so they need ranges too.
    for (const auto& [name, t] : batches[b]) add(name, t);
    auto out = session.run(batches[b], ro);
    if (!out.ok())
      return Status(out.status().code(), fmt::format("calibration batch {}: {}", b, out.status().message()));
    if (options.progress) options.progress(b + 1, batches.size());
  }
  CalibrationTable table;
  for (const auto& [name, c] : collectors) table[name] = c.range(options.method, options.percentile);
  return table;
}

}  // namespace hwopt::quant
