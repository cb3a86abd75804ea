#include "precision_options.h"

#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "quant/calibrate.h"

namespace hwopt::cli {

void add_precision_options(CLI::App* cmd, PrecisionArgs* a) {
  cmd->add_option("--precision", a->precision,
                  "fp32, bf16 (BF16 compute, FP32 accumulation; needs AVX-512 BF16 or AMX), int8 (static "
                  "quantization; needs --calibration or --calibration-table unless the model is a QDQ model) or "
                  "int8-dynamic (Gemm/MatMul weights INT8, activations quantized per run; no calibration)")
      ->default_val("fp32")
      ->check(CLI::IsMember({"fp32", "bf16", "int8", "int8-dynamic"}));
  add_calibration_options(cmd, a);
  cmd->add_option("--keep-fp32", a->fp32_nodes,
                  "bf16/int8: nodes (of the optimized graph) kept in FP32, e.g. the layers hwopt validate --fallback "
                  "chose; comma-separated or repeated")
      ->delimiter(',');
}

void add_calibration_options(CLI::App* cmd, PrecisionArgs* a) {
  cmd->add_option("--calibration", a->calibration,
                  "int8: calibration data (.npy file or directory of .npy files, see docs/quantization.md)");
  cmd->add_option("--calibration-method", a->method, "int8: minmax, percentile or entropy")
      ->default_val("minmax")
      ->check(CLI::IsMember({"minmax", "percentile", "entropy"}));
  cmd->add_option("--percentile", a->percentile, "int8, percentile method: the percentile of |x| kept")
      ->default_val(99.99)
      ->check(CLI::Range(50.0, 100.0));
  cmd->add_option("--calibration-limit", a->calibration_limit, "int8: samples of the calibration data used")
      ->default_val(100)
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--calibration-table", a->calibration_table, "int8: ranges from a JSON table (--save-calibration)");
  cmd->add_option("--save-calibration", a->save_calibration, "int8: write the calibrated ranges as a JSON table");
}

Status apply_precision(const std::string& model, const PrecisionArgs& a, SessionOptions& so) {
  so.precision = a.precision;
  so.fp32_nodes = a.fp32_nodes;
  if (a.precision != "int8") return Status::OK();
  if (!a.calibration_table.empty()) {
    auto table = quant::load_calibration_table(a.calibration_table);
    if (!table.ok()) return Status(table.status().code(), "--calibration-table: " + table.status().message());
    so.activation_ranges = std::move(table).value();
    return Status::OK();
  }
  // Without either, the ranges must come from the model itself (a QDQ model, e.g. from hwopt
  // quantize); Session::load refuses a model that carries none.
  if (a.calibration.empty()) return Status::OK();
  auto method = quant::parse_calibration_method(a.method);
  if (!method.ok()) return method.status();
  auto fp32_session = Session::load(model, quant::calibration_session_options(so));
  if (!fp32_session.ok()) return fp32_session.status();
  auto batches = quant::load_dataset(a.calibration, (*fp32_session)->inputs(), a.calibration_batch, a.calibration_limit);
  if (!batches.ok()) return Status(batches.status().code(), "--calibration: " + batches.status().message());
  quant::CalibrationOptions co;
  co.method = *method;
  co.percentile = a.percentile;
  const bool tty = isatty(2);
  co.progress = [tty](size_t done, size_t all) {
    if (tty || done == all) std::cerr << fmt::format("\rcalibrating: batch {}/{}", done, all) << (done == all ? "\n" : "");
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto table = quant::calibrate(**fp32_session, *batches, co);
  if (!table.ok()) return table.status();
  std::cerr << fmt::format("calibrated {} values ({}) on {} batch(es) in {:.1f} s\n", table->size(), a.method,
                           batches->size(),
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!a.save_calibration.empty())
    HWOPT_RETURN_IF_ERROR(quant::save_calibration_table(a.save_calibration, *table, *method));
  so.activation_ranges = std::move(table).value();
  return Status::OK();
}

}  // namespace hwopt::cli
