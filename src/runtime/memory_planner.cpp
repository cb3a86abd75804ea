#include "runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace hwopt {

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  auto align = [](size_t b) { return (b + kPlannerAlignment - 1) / kPlannerAlignment * kPlannerAlignment; };
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<size_t> placed;
  for (size_t idx : order) {
    const auto& buf = buffers[idx];
    const size_t size = align(buf.bytes);
    // Intervals of placed buffers alive at the same time, sorted by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t p : placed) {
      const auto& o = buffers[p];
      if (o.last_step < buf.first_step || buf.last_step < o.first_step) continue;
      busy.emplace_back(plan.offsets[p], plan.offsets[p] + align(o.bytes));
    }
    std::sort(busy.begin(), busy.end());
    size_t best = 0;
    bool found = false;
    size_t best_gap = SIZE_MAX;
    size_t cursor = 0;
    for (const auto& [lo, hi] : busy) {  // smallest gap that fits (best fit)
      if (lo >= cursor && lo - cursor >= size && lo - cursor < best_gap) {
        best = cursor;
        best_gap = lo - cursor;
        found = true;
      }
      cursor = std::max(cursor, hi);
    }
    if (!found) best = cursor;
    plan.offsets[idx] = best;
    plan.arena_bytes = std::max(plan.arena_bytes, best + size);
    placed.push_back(idx);
  }
  int max_step = 0;
  for (const auto& b : buffers) max_step = std::max(max_step, b.last_step);
  for (int s = 0; s <= max_step; ++s) {
    size_t live = 0;
    for (const auto& b : buffers)
      if (b.first_step <= s && s <= b.last_step) live += b.bytes;
    plan.peak_live_bytes = std::max(plan.peak_live_bytes, live);
  }
  return plan;
}

}  // namespace hwopt
