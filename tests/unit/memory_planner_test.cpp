// The static memory planner: buffers alive at the same step never share bytes, buffers whose
// lifetimes do not overlap may share them, and the reported sizes are consistent.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "runtime/memory_planner.h"

namespace hwopt {
namespace {

size_t aligned(size_t b) { return (b + kPlannerAlignment - 1) / kPlannerAlignment * kPlannerAlignment; }

bool lifetimes_overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return !(a.last_step < b.first_step || b.last_step < a.first_step);
}

// Checks every invariant of a plan against a brute-force reading of the buffers.
void check_plan(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan) {
  ASSERT_EQ(plan.offsets.size(), buffers.size());
  size_t end = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % kPlannerAlignment, 0u) << "buffer " << i;
    end = std::max(end, plan.offsets[i] + buffers[i].bytes);
    EXPECT_LE(plan.offsets[i] + buffers[i].bytes, plan.arena_bytes) << "buffer " << i << " outside the arena";
  }
  EXPECT_LE(plan.arena_bytes, aligned(end)) << "arena larger than its last buffer";
  for (size_t i = 0; i < buffers.size(); ++i)
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      if (!lifetimes_overlap(buffers[i], buffers[j])) continue;
      if (buffers[i].bytes == 0 || buffers[j].bytes == 0) continue;
      const size_t a0 = plan.offsets[i], a1 = a0 + buffers[i].bytes;
      const size_t b0 = plan.offsets[j], b1 = b0 + buffers[j].bytes;
      EXPECT_TRUE(a1 <= b0 || b1 <= a0) << "buffers " << i << " [" << a0 << "," << a1 << ") and " << j << " [" << b0
                                        << "," << b1 << ") are alive together and overlap";
    }
  // Peak live bytes, by brute force over every step.
  int max_step = 0;
  for (const auto& b : buffers) max_step = std::max(max_step, b.last_step);
  size_t peak = 0;
  for (int s = 0; s <= max_step; ++s) {
    size_t live = 0;
    for (const auto& b : buffers)
      if (b.first_step <= s && s <= b.last_step) live += b.bytes;
    peak = std::max(peak, live);
  }
  EXPECT_EQ(plan.peak_live_bytes, peak);
  EXPECT_GE(plan.arena_bytes, plan.peak_live_bytes);
}

TEST(MemoryPlanner, Empty) {
  MemoryPlan plan = plan_memory({});
  EXPECT_TRUE(plan.offsets.empty());
  EXPECT_EQ(plan.arena_bytes, 0u);
  EXPECT_EQ(plan.peak_live_bytes, 0u);
}

TEST(MemoryPlanner, NonOverlappingLifetimesShareAnOffset) {
  std::vector<BufferLifetime> buffers = {{100, 0, 1}, {100, 2, 3}, {80, 4, 5}};
  MemoryPlan plan = plan_memory(buffers);
  check_plan(buffers, plan);
  EXPECT_EQ(plan.offsets[0], plan.offsets[1]);
  EXPECT_EQ(plan.offsets[1], plan.offsets[2]);
  EXPECT_EQ(plan.arena_bytes, aligned(100));
  EXPECT_EQ(plan.peak_live_bytes, 100u);
}

TEST(MemoryPlanner, OverlappingLifetimesGetDisjointBytes) {
  // Sharing a single step (last_step of one == first_step of the other) counts as overlapping:
  // the step reads one while writing the other.
  std::vector<BufferLifetime> buffers = {{100, 0, 2}, {50, 2, 3}, {70, 1, 1}};
  MemoryPlan plan = plan_memory(buffers);
  check_plan(buffers, plan);
  EXPECT_NE(plan.offsets[0], plan.offsets[1]);
  EXPECT_NE(plan.offsets[0], plan.offsets[2]);
  EXPECT_EQ(plan.peak_live_bytes, 170u);
}

TEST(MemoryPlanner, ChainOfEqualBuffersUsesTwoSlots) {
  // step i writes buffer i and reads buffer i-1: a typical sequential network.
  std::vector<BufferLifetime> buffers;
  for (int i = 0; i < 20; ++i) buffers.push_back({4096, i, i + 1});
  MemoryPlan plan = plan_memory(buffers);
  check_plan(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, 2 * 4096u);
}

TEST(MemoryPlanner, SmallBufferReusesAGapLeftByLargeOnes) {
  // Two large buffers alive together around a small one that starts after the first dies.
  std::vector<BufferLifetime> buffers = {{1000, 0, 1}, {1000, 0, 3}, {500, 2, 3}};
  MemoryPlan plan = plan_memory(buffers);
  check_plan(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, 2 * aligned(1000));
}

TEST(MemoryPlanner, ZeroByteAndSingleStepBuffers) {
  std::vector<BufferLifetime> buffers = {{0, 0, 0}, {1, 0, 0}, {0, 0, 5}, {64, 3, 3}, {65, 3, 3}};
  MemoryPlan plan = plan_memory(buffers);
  check_plan(buffers, plan);
  EXPECT_EQ(plan.peak_live_bytes, 129u);
}

TEST(MemoryPlanner, RandomCasesCheckedByBruteForce) {
  std::mt19937 rng(20240601);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 40);
    const int steps = 1 + static_cast<int>(rng() % 30);
    std::vector<BufferLifetime> buffers;
    for (int i = 0; i < n; ++i) {
      BufferLifetime b;
      // Mix of tiny, unaligned and large sizes.
      switch (rng() % 4) {
        case 0: b.bytes = rng() % 8; break;
        case 1: b.bytes = 1 + rng() % 200; break;
        case 2: b.bytes = 64 * (1 + rng() % 16); break;
        default: b.bytes = 1 + rng() % 100000; break;
      }
      b.first_step = static_cast<int>(rng() % steps);
      b.last_step = b.first_step + static_cast<int>(rng() % (steps - b.first_step));
      buffers.push_back(b);
    }
    MemoryPlan plan = plan_memory(buffers);
    SCOPED_TRACE("trial " + std::to_string(trial));
    check_plan(buffers, plan);
    if (::testing::Test::HasFailure()) break;
    // Never worse than giving every buffer its own bytes.
    size_t separate = 0;
    for (const auto& b : buffers) separate += aligned(b.bytes);
    EXPECT_LE(plan.arena_bytes, separate);
  }
}

TEST(MemoryPlanner, RandomDisjointLifetimesAllShareOneRegion) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> buffers;
    int step = 0;
    size_t largest = 0;
    for (int i = 0; i < 10; ++i) {
      const int len = static_cast<int>(rng() % 3);
      const size_t bytes = 1 + rng() % 5000;
      buffers.push_back({bytes, step, step + len});
      step += len + 1;
      largest = std::max(largest, bytes);
    }
    MemoryPlan plan = plan_memory(buffers);
    check_plan(buffers, plan);
    for (size_t off : plan.offsets) EXPECT_EQ(off, 0u);
    EXPECT_EQ(plan.arena_bytes, aligned(largest));
  }
}

}  // namespace
}  // namespace hwopt
