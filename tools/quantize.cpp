// `hwopt quantize`: calibrate a float model and write it as a standard QDQ ONNX model (INT8
// weights, QuantizeLinear/DequantizeLinear on activations) that ONNX Runtime runs, and that hwopt
// runs on its INT8 kernels with `--precision int8` and no calibration (src/quant/qdq_export.h).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "precision_options.h"
#include "quant/qdq_export.h"

namespace hwopt::cli {

namespace {

struct QuantizeArgs {
  std::string model;
  std::string output;
  std::string backend = "cpu";
  int threads = 0;
  std::vector<std::string> disabled_passes;
  PrecisionArgs precision;
};

int fail(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return 1;
}

int quantize(QuantizeArgs a) {
  a.precision.precision = "int8";
  if (a.precision.calibration.empty() && a.precision.calibration_table.empty())
    return fail(Status(StatusCode::invalid_argument,
                       "quantize needs --calibration DATA (representative inputs) or --calibration-table FILE"));
  SessionOptions so;
  so.backend = a.backend;
  so.threads = a.threads;
  so.disabled_passes = a.disabled_passes;
  // The passes that create non-standard ops stay off, for calibration as for writing, so that the
  // calibrated value names are those of the graph written.
  so = quant::qdq_session_options(so);
  Status st = apply_precision(a.model, a.precision, so);
  if (!st.ok()) return fail(st);
  auto summary = quant::write_qdq_model(a.model, so, so.activation_ranges, a.output);
  if (!summary.ok()) return fail(summary.status());
  const quant::QdqSummary& s = *summary;
  std::cout << fmt::format("model        {}\n", a.model);
  std::cout << fmt::format("quantized    {} Conv/Gemm/MatMul nodes ({} int32 biases), {} activations\n",
                           s.quantized_nodes, s.int32_biases, s.activations);
  std::cout << fmt::format("weights      int8, symmetric, {}\n", s.per_channel ? "per output channel" : "per tensor");
  if (s.opset_after != s.opset_before)
    std::cout << fmt::format("opset        ai.onnx {} -> {}\n", s.opset_before, s.opset_after);
  for (const auto& why : s.skipped) std::cout << "kept float   " << why << "\n";
  std::cout << fmt::format("wrote        {}\n", a.output);
  return 0;
}

}  // namespace

CommandRunner add_quantize_command(CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "Calibrate a model and write it as a QDQ ONNX model with INT8 weights (for ONNX Runtime, or hwopt "
                  "--precision int8 without calibration).");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--output,-o", args->output, "where to write the QDQ model (.onnx)")->required();
  PrecisionArgs* p = &args->precision;
  add_calibration_options(cmd, p);
  cmd->add_option("--backend", args->backend, "backend that runs the calibration: cpu or reference")
      ->default_val("cpu")
      ->check(CLI::IsMember({"cpu", "reference"}));
  cmd->add_option("--threads", args->threads, "intra-op threads for calibration (0 = physical cores)")
      ->default_val(0)
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--disable-pass", args->disabled_passes,
                  "skip an optimization pass (repeatable; the passes that create non-standard ops are always off)");
  return [args]() { return quantize(*args); };
}

}  // namespace hwopt::cli
