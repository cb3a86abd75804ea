// libFuzzer target: model bytes -> load -> optimize -> plan -> run with tiny inputs, on the
// reference and the CPU backend. Any crash, sanitizer report, hang or over-limit allocation is a
// bug: hostile bytes must end in a Status (docs/security.md). Run with `make fuzz` / `make fuzz-smoke`.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "../../tools/model_inputs.h"
#include "core/memory_budget.h"
#include "hwopt/session.h"

namespace {

// Inputs larger than this many elements are not built (a fuzzed model may declare huge static
// dims; refusing those is checked by the malformed suite, not here).
constexpr int64_t kMaxInputElements = int64_t{1} << 16;
// Cap on the tensor memory of loading (constant folding) and of each run: far under the
// -rss_limit_mb the fuzzer runs with, so an oversized allocation shows up as a clean error.
constexpr size_t kMemoryCapMb = 256;

bool small_enough(const hwopt::Session& s) {
  for (const auto& info : s.inputs()) {
    if (info.is_sequence || !info.has_shape) return false;
    int64_t n = 1;
    for (int64_t d : info.shape) {
      const int64_t size = d < 1 ? 1 : d;  // symbolic (-1) dims are made 1
      if (size > kMaxInputElements / n) return false;
      n *= size;
    }
  }
  return true;
}

void check(const hwopt::Status& st) {
  // An internal error is a bug in hwopt even when it is reported cleanly.
  if (st.code() == hwopt::StatusCode::internal) {
    std::fprintf(stderr, "internal error: %s\n", st.to_string().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const char* backend : {"reference", "cpu"}) {
    hwopt::SessionOptions so;
    so.backend = backend;
    so.threads = 1;
    so.optimize = true;
    so.max_memory_mb = kMemoryCapMb;
    std::unique_ptr<hwopt::Session> session;
    {
      hwopt::MemoryBudgetScope load_budget(std::make_shared<hwopt::MemoryBudget>(kMemoryCapMb << 20));
      auto s = hwopt::Session::load_from_bytes(data, size, so);
      if (!s.ok()) {
        check(s.status());
        return 0;  // the other backend would refuse the same bytes the same way
      }
      session = std::move(s).value();
    }
    if (!small_enough(*session)) return 0;
    auto inputs = hwopt::cli::make_inputs(*session, {}, {}, 0);
    if (!inputs.ok()) {
      check(inputs.status());
      continue;
    }
    auto out = session->run(*inputs);
    if (!out.ok()) check(out.status());
  }
  return 0;
}
