// A small self-contained SVG line-plot writer (no dependencies): axes with "nice" ticks, a
// linear or log2 x axis, one or two y axes (series can be put on the right-hand one), markers,
// a legend, title and axis labels. Used by `hwopt bench` for the batch sweep and latency vs QPS.
#pragma once

#include <string>
#include <vector>

namespace hwopt::report {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite points are skipped
  bool right_axis = false;   // plot against the secondary (right) y axis
  std::string color;         // CSS colour; empty: from the palette
  bool dashed = false;
};

struct PlotOptions {
  std::string title;
  std::string x_label, y_label, y2_label;
  bool log2_x = false;  // e.g. batch sizes 1, 2, 4, ...
  int width = 760, height = 440;
  /// Optional horizontal reference line on the left axis (e.g. a latency bound); NaN: none.
  double y_reference = 0.0 / 0.0;
  std::string y_reference_label;
};

/// "Nice" tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten), about `target`.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
/// Short number text for tick labels ("0.25", "1.5k", "12").
std::string tick_label(double v);
/// Escapes &, <, >, " for SVG text.
std::string xml_escape(const std::string& s);

/// The plot as a standalone SVG document.
std::string render_line_plot(const PlotOptions& options, const std::vector<Series>& series);

}  // namespace hwopt::report
