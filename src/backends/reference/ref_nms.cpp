// NonMaxSuppression: greedy per-(batch, class) box selection by score with IoU suppression.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

struct Box {
  double x_min, y_min, x_max, y_max;
};

// corners: [y1, x1, y2, x2] with any diagonal pair; center: [x_center, y_center, width, height].
Box make_box(const double* b, bool center_point_box) {
  if (center_point_box) {
    return {b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2};
  }
  return {std::min(b[1], b[3]), std::min(b[0], b[2]), std::max(b[1], b[3]), std::max(b[0], b[2])};
}

// True when IoU(a, b) > threshold; boxes without area never suppress each other.
bool suppresses(const Box& a, const Box& b, double iou_threshold) {
  const double ix_min = std::max(a.x_min, b.x_min), ix_max = std::min(a.x_max, b.x_max);
  const double iy_min = std::max(a.y_min, b.y_min), iy_max = std::min(a.y_max, b.y_max);
  if (ix_max <= ix_min || iy_max <= iy_min) return false;
  const double inter = (ix_max - ix_min) * (iy_max - iy_min);
  const double area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const double area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const double uni = area_a + area_b - inter;
  if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou_threshold;
}

double optional_scalar(const KernelContext& ctx, size_t i, const char* name, double def) {
  if (!ctx.has_input(i)) return def;
  const Tensor& t = ctx.input(i);
  HWOPT_KCHECK(t.numel() == 1 && t.rank() <= 1, "input '{}' must hold exactly one value, got shape {}", name,
               shape_str(t.shape()));
  return to_double_vector(t)[0];
}

void ref_nms(KernelContext& ctx) {
  const Tensor& boxes_t = ctx.input(0);
  const Tensor& scores_t = ctx.input(1);
  HWOPT_KCHECK(dtype_is_float(boxes_t.dtype()) && dtype_is_float(scores_t.dtype()),
               "inputs 'boxes' and 'scores' must be float tensors, got {} and {}", dtype_name(boxes_t.dtype()),
               dtype_name(scores_t.dtype()));
  HWOPT_KCHECK(boxes_t.rank() == 3 && boxes_t.dim(2) == 4, "input 'boxes' must have shape [batch, boxes, 4], got {}",
               shape_str(boxes_t.shape()));
  HWOPT_KCHECK(scores_t.rank() == 3 && scores_t.dim(0) == boxes_t.dim(0) && scores_t.dim(2) == boxes_t.dim(1),
               "input 'scores' must have shape [{}, classes, {}] to match boxes {}, got {}", boxes_t.dim(0),
               boxes_t.dim(1), shape_str(boxes_t.shape()), shape_str(scores_t.shape()));
  int64_t max_per_class = 0;
  if (ctx.has_input(2)) {
    const Tensor& t = ctx.input(2);
    HWOPT_KCHECK(t.numel() == 1 && t.rank() <= 1,
                 "input 'max_output_boxes_per_class' must hold exactly one value, got shape {}", shape_str(t.shape()));
    HWOPT_KCHECK(t.dtype() == DType::int64 || t.dtype() == DType::int32,
                 "input 'max_output_boxes_per_class' must be int64 (or int32), got {}", dtype_name(t.dtype()));
    max_per_class = to_int64_vector(t)[0];
  }
  const double iou_threshold = optional_scalar(ctx, 3, "iou_threshold", 0.0);
  HWOPT_KCHECK(iou_threshold >= 0 && iou_threshold <= 1, "input 'iou_threshold' must be in [0, 1], got {}",
               iou_threshold);
  const bool has_score_threshold = ctx.has_input(4);
  const double score_threshold = optional_scalar(ctx, 4, "score_threshold", 0.0);
  const int64_t cpb = ctx.attr_int("center_point_box", 0);
  HWOPT_KCHECK(cpb == 0 || cpb == 1, "attribute 'center_point_box' must be 0 or 1, got {}", cpb);

  const int64_t batches = boxes_t.dim(0), num_boxes = boxes_t.dim(1), classes = scores_t.dim(1);
  const std::vector<double> boxes = to_double_vector(boxes_t);
  const std::vector<double> scores = to_double_vector(scores_t);

  std::vector<int64_t> selected;  // triples (batch, class, box)
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<Box> bx(static_cast<size_t>(num_boxes));
    for (int64_t i = 0; i < num_boxes; ++i) bx[i] = make_box(&boxes[(b * num_boxes + i) * 4], cpb == 1);
    for (int64_t c = 0; c < classes; ++c) {
      if (max_per_class <= 0) continue;
      const double* s = &scores[(b * classes + c) * num_boxes];
      std::vector<int64_t> candidates;
      for (int64_t i = 0; i < num_boxes; ++i)
        if (!std::isnan(s[i]) && (!has_score_threshold || s[i] > score_threshold)) candidates.push_back(i);
      // Highest score first; equal scores keep the lower box index first. NaN scores never qualify.
      std::stable_sort(candidates.begin(), candidates.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
      std::vector<int64_t> kept;
      for (int64_t i : candidates) {
        if (static_cast<int64_t>(kept.size()) >= max_per_class) break;
        bool keep = true;
        for (int64_t j : kept)
          if (suppresses(bx[i], bx[j], iou_threshold)) {
            keep = false;
            break;
          }
        if (keep) kept.push_back(i);
      }
      for (int64_t i : kept) selected.insert(selected.end(), {b, c, i});
    }
  }

  const int64_t count = static_cast<int64_t>(selected.size() / 3);
  Tensor& y = ctx.allocate_output(0, DType::int64, {count, 3});
  std::copy(selected.begin(), selected.end(), y.data<int64_t>());
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("NonMaxSuppression", "", 10, ref_nms);

}  // namespace hwopt::reference
