// Resize (opset 10-19), modes nearest and linear, on an own separable kernel: FP32 in and out,
// the last two axes resized (the usual [N, C, H, W] upsampling of FPN and segmentation heads),
// every other axis left as it is. The geometry (output shape, each output coordinate's input
// indices and weights) is the reference kernel's own (backends/reference/resize_plan.h), so every
// coordinate_transformation_mode and nearest_mode is the same by construction; a run computes
// each output row from its one (nearest) or two (linear) input rows, parallel over rows. Cubic,
// antialiasing, tf_crop_and_resize and resizing any leading axis stay with the reference kernel.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "backends/backend.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/own_util.h"
#include "backends/reference/resize_plan.h"

namespace hwopt::cpu {
namespace {

using reference::AxisPlan;
using reference::ResizeSetup;
using reference::Tap;

std::string check_resize(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  const ir::Attribute* mode = nc.node.attr("mode");
  if (mode && mode->s != "nearest" && mode->s != "linear") return fmt::format("mode '{}'", mode->s);
  if (const ir::Attribute* a = nc.node.attr("antialias"); a && a->i != 0) return "antialias";
  if (const ir::Attribute* a = nc.node.attr("coordinate_transformation_mode"); a && a->s == "tf_crop_and_resize")
    return "coordinate_transformation_mode 'tf_crop_and_resize'";
  return "";
}

/// One resized axis: per output coordinate, its taps as flat arrays (at most two).
struct AxisTaps {
  std::vector<int64_t> first, second;  // input indices (second = first where there is one tap)
  std::vector<float> weight;           // weight of `second`; `first` has 1 - weight
  bool nearest = true;                 // every coordinate has one tap
};

/// The taps of `plan`, or nullopt if some coordinate needs more than two (not for nearest/linear).
std::optional<AxisTaps> flatten(const AxisPlan& plan) {
  AxisTaps t;
  for (const std::vector<Tap>& taps : plan.taps) {
    if (taps.empty() || taps.size() > 2) return std::nullopt;
    t.first.push_back(taps[0].index);
    if (taps.size() == 1) {
      t.second.push_back(taps[0].index);
      t.weight.push_back(0.f);
    } else {
      t.second.push_back(taps[1].index);
      t.weight.push_back(static_cast<float>(taps[1].weight));
      t.nearest = false;
      // Two taps with weights w0 + w1 = 1 (linear without exclude_outside); anything else is not ours.
      if (std::abs(taps[0].weight + taps[1].weight - 1.0) > 1e-9) return std::nullopt;
    }
  }
  return t;
}

/// True if `plan` maps every output coordinate to the same input coordinate with weight 1.
bool is_identity(const AxisPlan& plan, int64_t in, int64_t out) {
  if (in != out) return false;
  for (int64_t x = 0; x < out; ++x) {
    const auto& taps = plan.taps[static_cast<size_t>(x)];
    if (taps.size() != 1 || taps[0].index != x || taps[0].weight != 1.0) return false;
  }
  return true;
}

struct ResizeEntry {
  bool ok = false;
  AxisTaps rows, cols;  // the second-to-last and last axes
  int64_t outer = 1;    // product of the leading (unchanged) dims
};

class ResizeKernel {
 public:
  explicit ResizeKernel(KernelFn reference) : reference_(std::move(reference)) {}

  void operator()(KernelContext& ctx) {
    const Tensor& in = ctx.input(0);
    if (in.dtype() != DType::float32 || in.rank() < 1) return run_plain(ctx, reference_);
    const Tensor x = in.to_plain().contiguous();
    const ResizeSetup s = reference::resize_setup(ctx, x);  // its errors are the reference's
    // (Cubic, antialias and tf_crop_and_resize were declined by check_resize.)
    if (shape_numel(s.out_shape) == 0 || x.numel() == 0) return run_plain(ctx, reference_);
    // The output first: the tap tables are sized by the output dims, so a hostile scale must fail
    // on the output's allocation (a clean out_of_memory naming the node), as in the reference.
    Tensor& y = ctx.allocate_uninitialized_output(0, DType::float32, s.out_shape);
    std::string key = fmt::format("{}>{}", shape_str(x.shape()), shape_str(s.out_shape));
    for (double v : s.scales) key += fmt::format(",{:.17g}", v);
    auto e = cache_.get(key, [&] { return create(x, s); });
    if (!e->ok) {
      ctx.outputs()[0] = RtValue{};  // the reference allocates its own
      return run_plain(ctx, reference_);
    }

    const int64_t r = x.rank();
    const int64_t IH = r >= 2 ? x.dim(r - 2) : 1, IW = x.dim(r - 1);
    const int64_t OH = r >= 2 ? s.out_shape[r - 2] : 1, OW = s.out_shape[r - 1];
    const float* src = x.data<float>();
    float* dst = y.data<float>();
    const ResizeEntry& en = *e;
    own::parallel_range(en.outer * OH, y.numel() + x.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t o = row / OH, oh = row % OH;
        const float* plane = src + o * IH * IW;
        const float* r0 = plane + en.rows.first[oh] * IW;
        const float* r1 = plane + en.rows.second[oh] * IW;
        const float wr = en.rows.weight[oh];
        // Input column i on this output row: one input row, or the two blended (linear along H).
        auto at = [&](int64_t i) { return wr == 0.f ? r0[i] : r0[i] + wr * (r1[i] - r0[i]); };
        float* out = dst + row * OW;
        if (en.cols.nearest) {
          for (int64_t ow = 0; ow < OW; ++ow) out[ow] = at(en.cols.first[ow]);
        } else {
          for (int64_t ow = 0; ow < OW; ++ow) {
            const float a = at(en.cols.first[ow]), c = at(en.cols.second[ow]);
            out[ow] = a + en.cols.weight[ow] * (c - a);
          }
        }
      }
    });
  }

 private:
  static ResizeEntry create(const Tensor& x, const ResizeSetup& s) {
    ResizeEntry e;
    const int64_t r = x.rank();
    const int64_t spatial = std::min<int64_t>(r, 2);
    std::vector<AxisTaps> taps;
    for (int64_t d = 0; d < r; ++d) {
      const AxisPlan plan =
          reference::plan_axis(s.params, x.dim(d), s.out_shape[d], s.scales[d], s.roi[d], s.roi[r + d]);
      if (d < r - spatial) {
        if (!is_identity(plan, x.dim(d), s.out_shape[d])) return e;
        e.outer *= x.dim(d);
        continue;
      }
      auto t = flatten(plan);
      if (!t) return e;
      taps.push_back(std::move(*t));
    }
    if (spatial == 1) {
      e.rows.first = e.rows.second = {0};
      e.rows.weight = {0.f};
      e.cols = std::move(taps[0]);
    } else {
      e.rows = std::move(taps[0]);
      e.cols = std::move(taps[1]);
    }
    e.ok = true;
    return e;
  }

  KernelFn reference_;
  ShapeCache<ResizeEntry> cache_;
};

Candidate resize_candidate() {
  return own::make_candidate("own:resize", "Resize", 0, check_resize,
                             [](const NodeContext&, KernelFn reference) -> KernelFn {
                               auto kernel = std::make_shared<ResizeKernel>(std::move(reference));
                               return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
                             },
                             10);
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(resize_candidate());

}  // namespace hwopt::cpu
