#include "quant/calibrate.h"

#include <fmt/format.h>

#include <mutex>

namespace hwopt::quant {

Expected<CalibrationTable> calibrate(const std::string& model_path, const SessionOptions& base,
                                     const std::vector<Batch>& batches, const CalibrationOptions& options) {
  SessionOptions so = base;
  so.precision = "fp32";
  so.activation_ranges.clear();
  so.fp32_nodes.clear();
  auto session = Session::load(model_path, so);
  if (!session.ok()) return session.status();
  return calibrate(**session, batches, options);
}

Expected<CalibrationTable> calibrate(const Session& session, const std::vector<Batch>& batches,
                                     const CalibrationOptions& options) {
  if (batches.empty()) return Status(StatusCode::invalid_argument, "calibration needs at least one batch of inputs");
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
