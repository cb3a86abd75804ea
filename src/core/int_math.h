// Integer division rounding down or up (C++ rounds toward zero), for window geometry: output sizes
// and "SAME" paddings of convolutions, transposed convolutions and pooling.
#pragma once

#include <cstdint>

namespace hwopt {

/// floor(a / b) for b > 0.
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
/// ceil(a / b) for b > 0.
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

}  // namespace hwopt
