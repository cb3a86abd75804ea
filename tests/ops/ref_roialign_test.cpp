#include <cmath>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_i;
using testing::attr_s;
using testing::run_ref_op;

// Two 4x4 images: image 0 holds f(h, w) = 4h + w, image 1 holds f + 100. Bilinear sampling of a
// linear function is exact, so an avg bin equals f at the mean of its sample points.
Tensor linear_images() {
  std::vector<float> v;
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 4; ++h)
      for (int w = 0; w < 4; ++w) v.push_back(static_cast<float>(4 * h + w + 100 * n));
  return Tensor::from_vector<float>({2, 1, 4, 4}, v);
}

TEST(RefRoiAlign, AvgHalfPixelAndOutputHalfPixel) {
  Tensor x = linear_images();
  Tensor rois = Tensor::from_vector<float>({2, 4}, {0.5f, 0.5f, 2.5f, 2.5f, 0.5f, 0.5f, 2.5f, 2.5f});
  Tensor batch = Tensor::from_vector<int64_t>({2}, {0, 1});
  std::vector<ir::Attribute> attrs = {attr_i("output_height", 2), attr_i("output_width", 2),
                                      attr_i("sampling_ratio", 2), attr_f("spatial_scale", 1.0f)};
  // half_pixel (opset 16 default): roi spans [0, 2], bin centres at 0.5 and 1.5.
  auto r = run_ref_op("RoiAlign", {x, rois, batch}, attrs, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 1, 2, 2}, {2.5, 3.5, 6.5, 7.5, 102.5, 103.5, 106.5, 107.5});
  // output_half_pixel (opset 10 behaviour): roi spans [0.5, 2.5], bin centres at 1 and 2.
  r = run_ref_op("RoiAlign", {x, rois, batch}, attrs, 10);
  testing::expect_tensor_near(r.out(), {2, 1, 2, 2}, {5, 6, 9, 10, 105, 106, 109, 110});
  auto attrs2 = attrs;
  attrs2.push_back(attr_s("coordinate_transformation_mode", "output_half_pixel"));
  r = run_ref_op("RoiAlign", {x, rois, batch}, attrs2, 16);
  testing::expect_tensor_near(r.out(), {2, 1, 2, 2}, {5, 6, 9, 10, 105, 106, 109, 110});
  // Adaptive sampling (ratio 0) and spatial_scale 0.5 on doubled coordinates give the same result.
  Tensor rois2 = Tensor::from_vector<float>({1, 4}, {1, 1, 5, 5});
  r = run_ref_op("RoiAlign", {x, rois2, Tensor::from_vector<int64_t>({1}, {0})},
                 {attr_i("output_height", 2), attr_i("output_width", 2), attr_f("spatial_scale", 0.5f)}, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2, 2}, {2.5, 3.5, 6.5, 7.5});
}

TEST(RefRoiAlign, MaxModeAndOutsideSamples) {
  Tensor x = Tensor::from_vector<float>({1, 1, 4, 4}, std::vector<float>(16, 2.0f));
  Tensor rois = Tensor::from_vector<float>({2, 4}, {0.5f, 0.5f, 2.5f, 2.5f, 50, 50, 60, 60});
  Tensor batch = Tensor::from_vector<int64_t>({2}, {0, 0});
  // Each sample sits a quarter pixel from a pixel centre: its largest weight is 0.75 * 0.75.
  auto r = run_ref_op(
      "RoiAlign", {x, rois, batch},
      {attr_s("mode", "max"), attr_i("output_height", 2), attr_i("output_width", 2), attr_i("sampling_ratio", 2)}, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 1, 2, 2}, {1.125, 1.125, 1.125, 1.125, 0, 0, 0, 0});
  r = run_ref_op("RoiAlign", {x, rois, batch}, {attr_i("sampling_ratio", 2)}, 16);
  testing::expect_tensor_near(r.out(), {2, 1, 1, 1}, {2, 0});
}

TEST(RefRoiAlign, BadInput) {
  Tensor x = linear_images();
  Tensor rois = Tensor::from_vector<float>({1, 4}, {0, 0, 1, 1});
  auto r = run_ref_op("RoiAlign", {x, rois, Tensor::from_vector<int64_t>({1}, {2})}, {}, 16);
  EXPECT_NE(r.error.find("batch_indices[0] = 2 is out of range"), std::string::npos) << r.error;
  r = run_ref_op("RoiAlign", {x, rois, Tensor::from_vector<int64_t>({1}, {0})}, {attr_s("mode", "min")}, 16);
  EXPECT_NE(r.error.find("'mode'"), std::string::npos) << r.error;
  r = run_ref_op("RoiAlign", {x, Tensor::from_vector<float>({1, 3}, {0, 0, 1}), Tensor::from_vector<int64_t>({1}, {0})},
                 {}, 16);
  EXPECT_NE(r.error.find("'rois' must have shape"), std::string::npos) << r.error;
  r = run_ref_op("RoiAlign", {x, rois, Tensor::from_vector<int64_t>({2}, {0, 0})}, {}, 16);
  EXPECT_NE(r.error.find("'batch_indices' must have shape [1]"), std::string::npos) << r.error;
  r = run_ref_op("RoiAlign",
                 {x, Tensor::from_vector<float>({1, 4}, {0, 0, NAN, 1}), Tensor::from_vector<int64_t>({1}, {0})}, {},
                 16);
  EXPECT_NE(r.error.find("non-finite"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
