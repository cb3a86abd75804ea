#include "report/tune_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "report/svg_plot.h"

namespace hwopt::report {

namespace {

using tune::Candidate;
using tune::TuneResult;

constexpr const char* kNone = "—";
constexpr size_t kMaxOpTypes = 12;  // the op-type chart shows the largest; the rest are summed

// Both reports are rendered from one list of blocks, so their text and figures are the same.
struct Block {
  enum class Kind { heading, paragraph, bullets, table, plot } kind;
  std::string text;                             // heading, paragraph
  std::vector<std::string> items;               // bullets; table header
  std::vector<std::vector<std::string>> rows;   // table
  size_t plot = 0;                              // index into the plots
};

Block heading(std::string text) { return {Block::Kind::heading, std::move(text), {}, {}, 0}; }
Block paragraph(std::string text) { return {Block::Kind::paragraph, std::move(text), {}, {}, 0}; }
Block bullets(std::vector<std::string> items) { return {Block::Kind::bullets, "", std::move(items), {}, 0}; }
Block table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
  return {Block::Kind::table, "", std::move(header), std::move(rows), 0};
}

bool usable(const Candidate& c) { return c.measured && c.error.empty(); }

std::string accuracy_text(const Candidate& c) {
  if (!usable(c)) return kNone;
  if (!c.validated) return "reference (fp32, not checked)";
  std::vector<std::string> parts;
  if (c.top1_agreement >= 0) parts.push_back(fmt::format("top-1 {:.2f} %", c.top1_agreement));
  if (c.accuracy_drop >= 0) parts.push_back(fmt::format("drop {:.2f} pp", c.accuracy_drop));
  if (std::isfinite(c.cosine)) parts.push_back(fmt::format("cos {:.5f}", c.cosine));
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? " / " : "") + parts[i];
  if (!c.accuracy_ok) s += " (outside the budget)";
  return s.empty() ? kNone : s;
}

std::string decision_text(const Candidate& c) {
  if (!c.error.empty()) return "error";
  if (!c.measured) return c.decision.empty() ? "not measured" : c.decision;
  return c.decision.empty() ? kNone : c.decision;
}

std::string reason_text(const Candidate& c) {
  std::string s = c.reason;
  if (!c.error.empty()) s = c.reason.empty() ? c.error : c.error + "; " + c.reason;
  if (c.resumed) s += s.empty() ? "from the earlier run's log (--resume)" : " (from the earlier run's log, --resume)";
  return s;
}

std::vector<std::string> figures(const Candidate& c) {
  if (!usable(c)) return {kNone, kNone, kNone, kNone};
  return {format_ms(c.median_ms), format_ms(c.p99_ms), format_throughput(c.throughput), format_mb(c.memory_mb)};
}

std::string plural(size_t n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

std::vector<std::vector<std::string>> requirement_rows(const tune::Requirements& r) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"goal", tune::goal_name(r.goal)});
  if (!r.preset.empty()) rows.push_back({"preset", r.preset});
  if (r.max_latency_ms > 0) rows.push_back({"p99 latency", "≤ " + format_ms(r.max_latency_ms) + " ms"});
  if (r.min_throughput > 0) rows.push_back({"throughput", "≥ " + format_throughput(r.min_throughput) + " samples/s"});
  if (r.max_memory_mb > 0) rows.push_back({"memory", "≤ " + format_mb(r.max_memory_mb) + " MiB"});
  rows.push_back({"accuracy", fmt::format("top-1 drop ≤ {:g} pp; cosine ≥ {:g} (outputs other than class scores)",
                                          r.max_accuracy_drop, r.min_cosine)});
  rows.push_back({"batch", r.min_batch == r.max_batch ? fmt::format("{}", r.min_batch)
                                                      : fmt::format("{}..{}", r.min_batch, r.max_batch)});
  rows.push_back({"threads", r.max_threads > 0 ? fmt::format("≤ {}", r.max_threads) : "up to the physical cores"});
  rows.push_back({"time budget", fmt::format("{:g} s", r.time_budget_s)});
  if (r.exhaustive) rows.push_back({"search", "exhaustive (does not stop when the requirements are met)"});
  return rows;
}

// The best candidate against each requirement, with its figures.
std::vector<std::vector<std::string>> verdict_rows(const tune::Requirements& r, const Candidate& b) {
  auto verdict = [](bool ok) { return std::string(ok ? "met" : "not met"); };
  std::vector<std::vector<std::string>> rows;
  if (r.max_latency_ms > 0)
    rows.push_back({"p99 latency", "≤ " + format_ms(r.max_latency_ms) + " ms", format_ms(b.p99_ms) + " ms",
                    verdict(b.p99_ms <= r.max_latency_ms)});
  if (r.min_throughput > 0)
    rows.push_back({"throughput", "≥ " + format_throughput(r.min_throughput) + " samples/s",
                    format_throughput(b.throughput) + " samples/s", verdict(b.throughput >= r.min_throughput)});
  if (r.max_memory_mb > 0)
    rows.push_back({"memory", "≤ " + format_mb(r.max_memory_mb) + " MiB", format_mb(b.memory_mb) + " MiB",
                    verdict(b.memory_mb <= r.max_memory_mb)});
  rows.push_back({"accuracy", fmt::format("top-1 drop ≤ {:g} pp; cosine ≥ {:g}", r.max_accuracy_drop, r.min_cosine),
                  accuracy_text(b), verdict(b.accuracy_ok)});
  rows.push_back({"batch", r.min_batch == r.max_batch ? fmt::format("{}", r.min_batch)
                                                      : fmt::format("{}..{}", r.min_batch, r.max_batch),
                  fmt::format("{}", b.config.batch),
                  verdict(b.config.batch >= r.min_batch && b.config.batch <= std::max(r.min_batch, r.max_batch))});
  if (r.max_threads > 0)
    rows.push_back({"threads", fmt::format("≤ {}", r.max_threads), fmt::format("{}", b.config.threads),
                    verdict(b.config.threads <= r.max_threads)});
  return rows;
}

double per_sample_ms(const Candidate& c) {
  return c.config.batch > 0 ? c.median_ms / static_cast<double>(c.config.batch) : c.median_ms;
}

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
};

Axis axis_from_zero(double hi) {
  Axis a;
  a.ticks = nice_ticks(0, std::isfinite(hi) && hi > 0 ? hi : 1);
  a.lo = a.ticks.front();
  a.hi = a.ticks.back();
  return a;
}

// Latency per sample against throughput: every measured candidate as a labelled marker, the
// Pareto front as a line through its members (render_line_plot has no marker-only series).
std::string pareto_svg(const TuneResult& r) {
  const double W = 760, H = 440, left = 70, right = 30, top = 40, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  std::set<int> front(r.pareto.begin(), r.pareto.end());
  double max_x = 0, max_y = 0;
  for (const auto& c : r.candidates)
    if (usable(c) && std::isfinite(c.throughput) && std::isfinite(per_sample_ms(c))) {
      max_x = std::max(max_x, c.throughput);
      max_y = std::max(max_y, per_sample_ms(c));
    }
  const Axis xa = axis_from_zero(max_x), ya = axis_from_zero(max_y);
  auto px = [&](double x) { return left + (x - xa.lo) / (xa.hi - xa.lo) * pw; };
  auto py = [&](double y) { return top + ph - (y - ya.lo) / (ya.hi - ya.lo) * ph; };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      W, H);
  s += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Latency vs throughput</text>\n", W / 2);
  for (double t : xa.ticks) {
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", px(t), top,
                     top + ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", px(t), top + ph + 16, tick_label(t));
  }
  for (double t : ya.ticks) {
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e5e5\"/>\n", left, py(t),
                     left + pw, py(t));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6, py(t) + 4, tick_label(t));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", left, top, pw, ph);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">throughput (samples/s)</text>\n", left + pw / 2, H - 18);
  s += fmt::format("<text transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\">median ms per sample</text>\n",
                   top + ph / 2);
  std::vector<std::pair<double, double>> line;
  for (int i : r.pareto)
    if (i >= 0 && static_cast<size_t>(i) < r.candidates.size() && usable(r.candidates[i]))
      line.emplace_back(r.candidates[i].throughput, per_sample_ms(r.candidates[i]));
  std::sort(line.begin(), line.end());
  std::string pts;
  for (const auto& [x, y] : line) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
  if (!pts.empty())
    s += fmt::format("<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"{}\"/>\n", pts);
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const Candidate& c = r.candidates[i];
    if (!usable(c) || !std::isfinite(c.throughput) || !std::isfinite(per_sample_ms(c))) continue;
    const bool on_front = front.count(static_cast<int>(i)) > 0;
    const double x = px(c.throughput), y = py(per_sample_ms(c));
    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>#{} {}</title></circle>\n", x, y,
                     on_front ? 4 : 3, on_front ? "#d62728" : "#1f77b4", i, xml_escape(c.config.key()));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"#555\">#{}</text>\n", x + 5, y - 5, i);
  }
  const double ly = top + 14;
  s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"#1f77b4\"/>\n", left + 20, ly - 4);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">candidate (#index in the table)</text>\n", left + 36, ly);
  s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#d62728\" stroke-width=\"2\"/>\n",
                   left + 10, ly + 12, left + 30, ly + 12);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">Pareto front</text>\n", left + 36, ly + 16);
  s += "</svg>\n";
  return s;
}

std::string batch_svg(const std::vector<const Candidate*>& sweep) {
  Series thr{"throughput (samples/s)", {}, {}, false, "#1f77b4", false};
  Series p99{"p99 ms per batch", {}, {}, true, "#d62728", true};
  for (const Candidate* c : sweep) {
    thr.x.push_back(static_cast<double>(c->config.batch));
    thr.y.push_back(c->throughput);
    p99.x.push_back(static_cast<double>(c->config.batch));
    p99.y.push_back(c->p99_ms);
  }
  PlotOptions o;
  o.title = "Batch sweep";
  o.x_label = "batch";
  o.y_label = "samples/s";
  o.y2_label = "p99 ms";
  o.log2_x = true;
  return render_line_plot(o, {thr, p99});
}

// Horizontal bars, two per op type (before, after), largest first.
std::string op_types_svg(const std::map<std::string, double>& before, const std::map<std::string, double>& after) {
  struct Row {
    std::string op;
    double before = 0, after = 0;
  };
  std::map<std::string, Row> by_op;
  for (const auto& [op, ms] : before) by_op[op].before = std::isfinite(ms) ? ms : 0;
  for (const auto& [op, ms] : after) by_op[op].after = std::isfinite(ms) ? ms : 0;
  std::vector<Row> rows;
  for (auto& [op, row] : by_op) {
    row.op = op;
    rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::max(a.before, a.after) != std::max(b.before, b.after) ? std::max(a.before, a.after) > std::max(b.before, b.after)
                                                                      : a.op < b.op;
  });
  if (rows.size() > kMaxOpTypes) {
    Row other{fmt::format("{} other types", rows.size() - (kMaxOpTypes - 1))};
    for (size_t i = kMaxOpTypes - 1; i < rows.size(); ++i) {
      other.before += rows[i].before;
      other.after += rows[i].after;
    }
    rows.resize(kMaxOpTypes - 1);
    rows.push_back(other);
  }
  const double W = 760, left = 180, right = 30, top = 56, row_h = 26, bar_h = 10;
  const double pw = W - left - right, H = top + row_h * static_cast<double>(rows.size()) + 44;
  double max_ms = 0;
  for (const auto& r : rows) max_ms = std::max({max_ms, r.before, r.after});
  const Axis xa = axis_from_zero(max_ms);
  auto px = [&](double x) { return left + (x - xa.lo) / (xa.hi - xa.lo) * pw; };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      W, H);
  s += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Time per op type (ms per sample)</text>\n",
                   W / 2);
  s += fmt::format("<rect x=\"{}\" y=\"32\" width=\"12\" height=\"{}\" fill=\"#9db4cf\"/><text x=\"{}\" y=\"42\">before "
                   "(baseline)</text>\n",
                   left, bar_h, left + 16);
  s += fmt::format("<rect x=\"{}\" y=\"32\" width=\"12\" height=\"{}\" fill=\"#ff7f0e\"/><text x=\"{}\" y=\"42\">after "
                   "(best)</text>\n",
                   left + 150, bar_h, left + 166);
  const double bottom_y = top + row_h * static_cast<double>(rows.size());
  for (double t : xa.ticks) {
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", px(t), top,
                     bottom_y);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", px(t), bottom_y + 16,
                     tick_label(t));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const double y = top + row_h * static_cast<double>(i) + 3;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6, y + bar_h + 2,
                     xml_escape(rows[i].op));
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"#9db4cf\"><title>{} ms</title></rect>\n",
                     left, y, px(rows[i].before) - left, bar_h, format_ms(rows[i].before));
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"#ff7f0e\"><title>{} ms</title></rect>\n",
                     left, y + bar_h, px(rows[i].after) - left, bar_h, format_ms(rows[i].after));
  }
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>\n", left, top, bottom_y);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">ms per sample</text>\n", left + pw / 2, bottom_y + 34);
  s += "</svg>\n";
  return s;
}

std::vector<const Candidate*> batch_sweep(const TuneResult& r) {
  std::vector<const Candidate*> sweep;
  for (const auto& c : r.candidates)
    if (c.step == "batch" && usable(c) && c.config.batch > 0) sweep.push_back(&c);
  std::stable_sort(sweep.begin(), sweep.end(),
                   [](const Candidate* a, const Candidate* b) { return a->config.batch < b->config.batch; });
  return sweep;
}

// The per-op-type times of a run of `batch` samples, per sample: the baseline and the chosen
// configuration may run different batch sizes.
std::map<std::string, double> per_sample(const std::map<std::string, double>& ms_per_run, int64_t batch) {
  std::map<std::string, double> out;
  for (const auto& [op, ms] : ms_per_run) out[op] = ms / static_cast<double>(std::max<int64_t>(batch, 1));
  return out;
}
int64_t baseline_batch(const TuneResult& r) { return r.candidates.empty() ? 1 : r.candidates.front().config.batch; }
int64_t chosen_batch(const TuneResult& r) {
  return r.best >= 0 && static_cast<size_t>(r.best) < r.candidates.size() ? r.candidates[r.best].config.batch : 1;
}

// Where the time goes per op type, baseline and chosen, per sample, largest first (the baseline
// profile the method starts from, and what the search changed).
Block op_type_table(const TuneResult& r) {
  const auto before = per_sample(r.op_ms_before, baseline_batch(r));
  const auto after = per_sample(r.op_ms_after, chosen_batch(r));
  double total_before = 0, total_after = 0;
  for (const auto& [op, ms] : before) total_before += ms;
  for (const auto& [op, ms] : after) total_after += ms;
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [op, ms] : before) order.emplace_back(ms, op);
  for (const auto& [op, ms] : after)
    if (!before.count(op)) order.emplace_back(0.0, op);
  std::sort(order.rbegin(), order.rend());
  auto cell = [](const std::map<std::string, double>& m, const std::string& op, double total) {
    auto it = m.find(op);
    if (it == m.end()) return std::vector<std::string>{kNone, kNone};
    return std::vector<std::string>{fmt::format("{:.3f}", it->second),
                                    total > 0 ? fmt::format("{:.1f} %", 100 * it->second / total) : kNone};
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& [ms, op] : order) {
    std::vector<std::string> row{op};
    for (auto& c : cell(before, op, total_before)) row.push_back(c);
    for (auto& c : cell(after, op, total_after)) row.push_back(c);
    rows.push_back(std::move(row));
  }
  rows.push_back({"total", fmt::format("{:.3f}", total_before), "100 %", fmt::format("{:.3f}", total_after), "100 %"});
  return table({"op type", "baseline ms/sample", "share", "chosen ms/sample", "share"}, std::move(rows));
}

std::vector<Block> build(const TuneResult& r, const std::vector<ReportPlot>& plots) {
  std::vector<Block> doc;
  size_t measured = 0;
  for (const auto& c : r.candidates) measured += usable(c) ? 1 : 0;
  std::string intro = fmt::format("Model `{}`, goal: {}{}. {} tried ({} measured) in {:.1f} s.", r.model_path,
                                  tune::goal_name(r.requirements.goal),
                                  r.requirements.preset.empty() ? "" : fmt::format(" (preset {})", r.requirements.preset),
                                  plural(r.candidates.size(), "configuration", "configurations"), measured, r.elapsed_s);
  if (r.interrupted) intro += " The search was interrupted; this is what it had measured.";
  doc.push_back(paragraph(intro));

  doc.push_back(heading("Hardware"));
  std::string features;
  for (size_t i = 0; i < r.hardware.features.size(); ++i) features += (i ? " " : "") + r.hardware.features[i];
  doc.push_back(bullets({fmt::format("CPU: {}", r.hardware.cpu_model.empty() ? "unknown" : r.hardware.cpu_model),
                         fmt::format("physical cores: {}", r.hardware.physical_cores),
                         fmt::format("ISA features: {}", features.empty() ? "none detected" : features),
                         fmt::format("fingerprint: {}", r.hardware.fingerprint)}));

  doc.push_back(heading("Requirements"));
  doc.push_back(table({"requirement", "value"}, requirement_rows(r.requirements)));

  doc.push_back(heading("Baseline"));
  if (r.candidates.empty()) {
    doc.push_back(paragraph("No configuration was tried."));
  } else {
    const Candidate& b = r.candidates.front();
    if (usable(b))
      doc.push_back(paragraph(fmt::format(
          "Candidate #0, {}: median {} ms and p99 {} ms per run of {} sample(s), throughput {} samples/s, memory {} MiB.",
          b.config.key(), format_ms(b.median_ms), format_ms(b.p99_ms), b.config.batch, format_throughput(b.throughput),
          format_mb(b.memory_mb))));
    else
      doc.push_back(paragraph(fmt::format("Candidate #0, {}, could not be measured: {}", b.config.key(),
                                          b.error.empty() ? "not measured" : b.error)));
  }

  if (!r.op_ms_before.empty() || !r.op_ms_after.empty()) {
    doc.push_back(heading("Where the time goes"));
    doc.push_back(paragraph(fmt::format(
        "Per op type, from 5 profiled runs of the baseline (batch {}) and of the chosen configuration (batch {}), per "
        "sample (`hwopt profile` gives the per-node view with the roofline).",
        baseline_batch(r), chosen_batch(r))));
    doc.push_back(op_type_table(r));
  }

  doc.push_back(heading("Candidates"));
  if (r.requirements.server)
    doc.push_back(paragraph(
        "Rows of the server step (`server(...)`): single-sample requests arrive at random through the dynamic "
        "batcher; median and p99 are per request, queueing included, at the highest arrival rate that kept the p99 "
        "bound, and throughput is that rate in requests/s. The other rows are batches run back to back."));
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const Candidate& c = r.candidates[i];
    std::vector<std::string> row{fmt::format("{}", i), c.step, c.config.key()};
    for (auto& f : figures(c)) row.push_back(std::move(f));
    row.push_back(accuracy_text(c));
    row.push_back(decision_text(c));
    row.push_back(reason_text(c));
    rows.push_back(std::move(row));
  }
  doc.push_back(table({"#", "step", "configuration", "median ms", "p99 ms", "throughput/s", "memory MiB", "accuracy",
                       "decision", "reason"},
                      std::move(rows)));

  doc.push_back(heading("Result"));
  if (r.best < 0 || static_cast<size_t>(r.best) >= r.candidates.size()) {
    doc.push_back(paragraph("No configuration could run, so there is no result."));
  } else {
    const Candidate& b = r.candidates[r.best];
    doc.push_back(paragraph(fmt::format("Chosen: candidate #{}, {}: {}.", r.best, b.config.key(),
                                        r.met ? "meets every requirement"
                                              : "does NOT meet every requirement (the closest candidate)")));
    doc.push_back(table({"requirement", "required", "chosen", "verdict"}, verdict_rows(r.requirements, b)));
    if (!b.misses.empty()) doc.push_back(bullets(b.misses));
  }
  if (!r.summary.empty()) doc.push_back(paragraph(r.summary));
  if (!r.limits.empty()) doc.push_back(paragraph("What limits it: " + r.limits));
  if (!r.confirmation.empty()) doc.push_back(paragraph(r.confirmation));
  for (const auto& w : r.warnings) doc.push_back(paragraph("Warning: " + w));

  doc.push_back(heading("Pareto set"));
  std::vector<std::vector<std::string>> front;
  for (int i : r.pareto) {
    if (i < 0 || static_cast<size_t>(i) >= r.candidates.size()) continue;
    const Candidate& c = r.candidates[i];
    std::vector<std::string> row{fmt::format("{}", i), c.config.key()};
    for (auto& f : figures(c)) row.push_back(std::move(f));
    row.push_back(accuracy_text(c));
    front.push_back(std::move(row));
  }
  if (front.empty())
    doc.push_back(paragraph("No Pareto set (no candidate was measured)."));
  else
    doc.push_back(table({"#", "configuration", "median ms", "p99 ms", "throughput/s", "memory MiB", "accuracy"},
                        std::move(front)));

  doc.push_back(heading("Plots"));
  if (plots.empty()) doc.push_back(paragraph("Nothing was measured to plot."));
  for (size_t i = 0; i < plots.size(); ++i) doc.push_back({Block::Kind::plot, plots[i].title, {}, {}, i});
  return doc;
}

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n' || c == '\r') o += ' ';
    else o += c;
  }
  return o.empty() ? " " : o;
}

std::string html_inline(const std::string& s) {
  // Markdown `code` spans become <code>; everything else is escaped text.
  std::string o;
  bool code = false;
  for (char c : s) {
    if (c == '`') {
      o += code ? "</code>" : "<code>";
      code = !code;
      continue;
    }
    o += xml_escape(std::string(1, c));
  }
  if (code) o += "</code>";
  return o;
}

constexpr const char* kCss = R"(body{font-family:sans-serif;margin:2em auto;max-width:1200px;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#f2f2f2;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.kept td{background:#eef8ee}tr.rejected td{background:#fbeeee}tr.error td{background:#f6f0e0}
code{background:#f4f4f4;padding:0 3px}figure{margin:1em 0}figcaption{font-size:.9em;color:#555})";

bool numeric(const std::string& s) {
  return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s == kNone) &&
         s.find_first_not_of("0123456789.-—") == std::string::npos;
}

}  // namespace

std::string format_ms(double ms) { return std::isfinite(ms) ? fmt::format("{:.3f}", ms) : kNone; }
std::string format_throughput(double v) { return std::isfinite(v) ? fmt::format("{:.1f}", v) : kNone; }
std::string format_mb(double mb) { return std::isfinite(mb) ? fmt::format("{:.1f}", mb) : kNone; }

std::vector<ReportPlot> tune_report_plots(const TuneResult& r) {
  std::vector<ReportPlot> plots;
  if (std::any_of(r.candidates.begin(), r.candidates.end(), usable))
    plots.push_back({"pareto.svg", "Latency per sample vs throughput of every measured candidate, with the Pareto front",
                     pareto_svg(r)});
  if (auto sweep = batch_sweep(r); !sweep.empty())
    plots.push_back({"batch_sweep.svg", "Batch sweep: throughput and p99 latency per batch", batch_svg(sweep)});
  if (!r.op_ms_before.empty() || !r.op_ms_after.empty())
    plots.push_back({"op_types.svg", "Time per op type per sample, baseline vs chosen configuration",
                     op_types_svg(per_sample(r.op_ms_before, baseline_batch(r)), per_sample(r.op_ms_after, chosen_batch(r)))});
  return plots;
}

std::string tune_report_markdown(const TuneResult& r) {
  const auto plots = tune_report_plots(r);
  std::string s = "# hwopt tune report\n\n";
  for (const Block& b : build(r, plots)) {
    switch (b.kind) {
      case Block::Kind::heading: s += "## " + b.text + "\n\n"; break;
      case Block::Kind::paragraph: s += b.text + "\n\n"; break;
      case Block::Kind::bullets:
        for (const auto& item : b.items) s += "- " + item + "\n";
        s += "\n";
        break;
      case Block::Kind::table: {
        std::string line = "|", rule = "|";
        for (const auto& h : b.items) {
          line += fmt::format(" {} |", md_cell(h));
          rule += "---|";
        }
        s += line + "\n" + rule + "\n";
        for (const auto& row : b.rows) {
          line = "|";
          for (const auto& cell : row) line += fmt::format(" {} |", md_cell(cell));
          s += line + "\n";
        }
        s += "\n";
        break;
      }
      case Block::Kind::plot: s += fmt::format("![{}]({})\n\n", b.text, plots[b.plot].file); break;
    }
  }
  return s;
}

std::string tune_report_html(const TuneResult& r) {
  const auto plots = tune_report_plots(r);
  std::string s = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>hwopt tune report: {}</title>\n"
      "<style>\n{}\n</style>\n</head>\n<body>\n<h1>hwopt tune report</h1>\n",
      xml_escape(r.model_path), kCss);
  for (const Block& b : build(r, plots)) {
    switch (b.kind) {
      case Block::Kind::heading: s += "<h2>" + xml_escape(b.text) + "</h2>\n"; break;
      case Block::Kind::paragraph: s += "<p>" + html_inline(b.text) + "</p>\n"; break;
      case Block::Kind::bullets:
        s += "<ul>\n";
        for (const auto& item : b.items) s += "<li>" + html_inline(item) + "</li>\n";
        s += "</ul>\n";
        break;
      case Block::Kind::table: {
        s += "<table>\n<tr>";
        for (const auto& h : b.items) s += "<th>" + xml_escape(h) + "</th>";
        s += "</tr>\n";
        // Candidate rows are shaded by their decision (the column named "decision").
        const auto decision_col = std::find(b.items.begin(), b.items.end(), "decision") - b.items.begin();
        for (const auto& row : b.rows) {
          std::string cls;
          if (static_cast<size_t>(decision_col) < row.size()) {
            const std::string& d = row[decision_col];
            if (d == "kept" || d == "rejected" || d == "error") cls = " class=\"" + d + "\"";
          }
          s += "<tr" + cls + ">";
          for (const auto& cell : row)
            s += (numeric(cell) ? "<td class=\"num\">" : "<td>") + xml_escape(cell) + "</td>";
          s += "</tr>\n";
        }
        s += "</table>\n";
        break;
      }
      case Block::Kind::plot:
        s += "<figure>\n" + plots[b.plot].svg + "<figcaption>" + xml_escape(b.text) + "</figcaption>\n</figure>\n";
        break;
    }
  }
  s += "</body>\n</html>\n";
  return s;
}

std::vector<std::pair<std::string, std::string>> tune_report_documents(const tune::TuneResult& result) {
  std::vector<std::pair<std::string, std::string>> docs{{"report.md", tune_report_markdown(result)},
                                                        {"report.html", tune_report_html(result)}};
  for (auto& p : tune_report_plots(result)) docs.emplace_back(p.file, std::move(p.svg));
  return docs;
}

}  // namespace hwopt::report
