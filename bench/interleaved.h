// The kernel benchmarks' timing (dwconv_int8_bench, pointwise_int8_bench): two functions run
// alternately, the median time of each.
#pragma once

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

namespace hwopt::bench {

/// Runs a() and b() alternately `runs` times each; returns their median times in seconds.
template <typename A, typename B>
std::pair<double, double> interleaved_medians(A&& a, B&& b, int runs) {
  auto seconds = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> ta, tb;
  for (int r = 0; r < runs; ++r) {
    ta.push_back(seconds(a));
    tb.push_back(seconds(b));
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  return {ta[ta.size() / 2], tb[tb.size() / 2]};
}

}  // namespace hwopt::bench
