// libFuzzer target: .npy bytes -> parse_npy -> (on success) to_npy -> parse_npy again, which must
// give the same dtype, shape and bytes. Run with `make fuzz` / `make fuzz-smoke`.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = hwopt::parse_npy(std::string(reinterpret_cast<const char*>(data), size));
  if (!t.ok()) return 0;
  auto bytes = hwopt::to_npy(*t);
  if (!bytes.ok()) return 0;  // e.g. strings cannot be written
  auto again = hwopt::parse_npy(*bytes);
  if (!again.ok() || again->dtype() != t->dtype() || again->shape() != t->shape() ||
      again->nbytes() != t->nbytes() ||
      std::memcmp(again->contiguous().raw_data(), t->contiguous().raw_data(), t->nbytes()) != 0) {
    std::fprintf(stderr, "npy round trip changed the tensor: %s\n",
                 again.ok() ? "different dtype, shape or bytes" : again.status().to_string().c_str());
    std::abort();
  }
  return 0;
}
