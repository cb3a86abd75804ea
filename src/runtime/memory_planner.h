// Static memory planning: place buffers with known sizes and lifetimes in one arena so that
// buffers whose lifetimes do not overlap share bytes (greedy by size, TFLite-arena style).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hwopt {

struct BufferLifetime {
  size_t bytes = 0;
  int first_step = 0;  // step that writes it
  int last_step = 0;   // last step that reads it (inclusive)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per buffer, aligned to kAlignment
  size_t arena_bytes = 0;       // size of the arena holding every buffer at its offset
  size_t peak_live_bytes = 0;   // largest sum of simultaneously live buffers (a lower bound)
};

constexpr size_t kPlannerAlignment = 64;

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers);

}  // namespace hwopt
