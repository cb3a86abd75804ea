// The tuning report (OUT/report.md and OUT/report.html): hardware, requirements, the baseline,
// every candidate with its measurement, accuracy and decision, the final configuration against
// each requirement, the summary and limits, the Pareto set, and SVG plots (latency vs
// throughput with the Pareto front, the batch sweep, per-op-type time before vs after).
#pragma once

#include <string>
#include <vector>

#include "tune/tune_types.h"

namespace hwopt::report {

/// Figures appear in both reports exactly as these format them: milliseconds with 3 decimals,
/// throughput (samples/s) and MiB with 1 decimal; "—" when not finite.
std::string format_ms(double ms);
std::string format_throughput(double samples_per_s);
std::string format_mb(double mb);

/// One plot of the report: `file` is the name report.md links it under (write_artifact writes
/// it next to the report); report.html inlines `svg`.
struct ReportPlot {
  std::string file;   // "pareto.svg", "batch_sweep.svg", "op_types.svg"
  std::string title;
  std::string svg;    // a standalone SVG document
};

/// The plots the data allows: the Pareto plot when any candidate was measured, the batch sweep
/// when candidates of step "batch" were, the op-type chart when op_ms_before/after are set.
std::vector<ReportPlot> tune_report_plots(const tune::TuneResult& result);

/// The report as Markdown. The candidates table has one row per candidate, in order, starting
/// "| <index> |", with columns: #, step, configuration, median ms, p99 ms, throughput/s,
/// memory MiB, accuracy, decision, reason. Plots are linked by their ReportPlot::file.
std::string tune_report_markdown(const tune::TuneResult& result);

/// The same report as one self-contained HTML page (inline CSS and SVG, no network).
std::string tune_report_html(const tune::TuneResult& result);

/// Every file of the report, by name: report.md, report.html and the plots (*.svg), for
/// tune::write_artifact.
std::vector<std::pair<std::string, std::string>> tune_report_documents(const tune::TuneResult& result);

}  // namespace hwopt::report
