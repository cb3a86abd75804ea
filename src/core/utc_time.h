// The current time as text, for files that record when they were made (plans, caches).
#pragma once

#include <string>

namespace hwopt {

/// Now, in UTC, as ISO 8601 to the second: "2026-11-26T12:34:56Z".
std::string utc_now_iso8601();

}  // namespace hwopt
