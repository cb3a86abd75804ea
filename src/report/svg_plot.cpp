#include "report/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace hwopt::report {

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::floor(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  if (!t.empty() && t.back() < hi) t.push_back(t.back() + step);
  return t;
}

std::string tick_label(double v) {
  const double a = std::abs(v);
  if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

}  // namespace

std::string render_line_plot(const PlotOptions& o, const std::vector<Series>& series) {
  const double W = o.width, H = o.height;
  const double left = 70, right = 70, top = 40, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  Range xr, yl, yr;
  bool has_right = false;
  for (const auto& s : series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (o.log2_x && s.x[i] <= 0)) continue;
      xr.add(o.log2_x ? std::log2(s.x[i]) : s.x[i]);
      (s.right_axis ? yr : yl).add(s.y[i]);
      has_right |= s.right_axis;
    }
  if (std::isfinite(o.y_reference)) yl.add(o.y_reference);
  if (xr.empty()) xr.lo = 0, xr.hi = 1;
  if (yl.empty()) yl.lo = 0, yl.hi = 1;
  if (yr.empty()) yr.lo = 0, yr.hi = 1;
  // Y axes start at 0 for non-negative data (latency, throughput).
  if (yl.lo >= 0) yl.lo = 0;
  if (yr.lo >= 0) yr.lo = 0;
  std::vector<double> xt;
  if (o.log2_x) {
    const int a = static_cast<int>(std::floor(xr.lo)), b = static_cast<int>(std::ceil(xr.hi));
    const int stride = std::max(1, (b - a) / 10 + 1);
    for (int e = a; e <= b; e += stride) xt.push_back(e);
    if (xr.hi == xr.lo) xr.hi = xr.lo + 1;
  } else {
    xt = nice_ticks(xr.lo, xr.hi);
    xr.lo = xt.front();
    xr.hi = xt.back();
  }
  const std::vector<double> ylt = nice_ticks(yl.lo, yl.hi), yrt = nice_ticks(yr.lo, yr.hi);
  yl.lo = ylt.front(), yl.hi = ylt.back();
  yr.lo = yrt.front(), yr.hi = yrt.back();
  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto py = [&](double y, const Range& r) { return top + ph - (y - r.lo) / (r.hi - r.lo) * ph; };

  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      o.width, o.height);
  s += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n", W / 2, xml_escape(o.title));
  // Grid and ticks.
  for (double t : xt) {
    const double x = px(t);
    if (x < left - 0.5 || x > left + pw + 0.5) continue;
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", x, top, top + ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, top + ph + 16,
                     tick_label(o.log2_x ? std::exp2(t) : t));
  }
  for (double t : ylt) {
    const double y = py(t, yl);
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e5e5\"/>\n", left, y, left + pw, y);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6, y + 4, tick_label(t));
  }
  if (has_right)
    for (double t : yrt)
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"start\">{}</text>\n", left + pw + 6, py(t, yr) + 4,
                       tick_label(t));
  // Axes and labels.
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", left, top, pw, ph);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + pw / 2, H - 18, xml_escape(o.x_label));
  s += fmt::format("<text transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", top + ph / 2,
                   xml_escape(o.y_label));
  if (has_right)
    s += fmt::format("<text transform=\"translate({},{}) rotate(90)\" text-anchor=\"middle\">{}</text>\n", W - 18, top + ph / 2,
                     xml_escape(o.y2_label));
  if (std::isfinite(o.y_reference)) {
    const double y = py(o.y_reference, yl);
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#999\" stroke-dasharray=\"2,3\"/>\n",
                     left, y, left + pw, y);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#666\">{}</text>\n", left + pw - 4, y - 4,
                     xml_escape(o.y_reference_label));
  }
  // Series.
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& se = series[k];
    const std::string color = se.color.empty() ? kPalette[k % 6] : se.color;
    const Range& r = se.right_axis ? yr : yl;
    std::string pts;
    std::string marks;
    for (size_t i = 0; i < std::min(se.x.size(), se.y.size()); ++i) {
      if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i]) || (o.log2_x && se.x[i] <= 0)) continue;
      const double x = px(o.log2_x ? std::log2(se.x[i]) : se.x[i]), y = py(se.y[i], r);
      pts += fmt::format("{:.1f},{:.1f} ", x, y);
      marks += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", x, y, color);
    }
    s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n", color,
                     se.dashed ? " stroke-dasharray=\"6,4\"" : "", pts);
    s += marks;
    const double ly = top + 14 + 16 * static_cast<double>(k);
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>\n", left + 10,
                     ly - 4, left + 30, ly - 4, color);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}{}</text>\n", left + 36, ly, xml_escape(se.name),
                     has_right ? (se.right_axis ? " (right axis)" : " (left axis)") : "");
  }
  s += "</svg>\n";
  return s;
}

}  // namespace hwopt::report
