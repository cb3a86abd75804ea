#include <utility>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

// Boxes of the ONNX NonMaxSuppression examples (corner format [y1, x1, y2, x2]).
const std::vector<float> kBoxes = {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                                   0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
const std::vector<float> kScores = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};

Tensor i64(int64_t v) { return Tensor::from_vector<int64_t>({1}, {v}); }
Tensor f32(float v) { return Tensor::from_vector<float>({1}, {v}); }

TEST(RefNms, SuppressByIouAndScore) {
  Tensor boxes = Tensor::from_vector<float>({1, 6, 4}, kBoxes);
  Tensor scores = Tensor::from_vector<float>({1, 1, 6}, kScores);
  auto r = run_ref_op("NonMaxSuppression", {boxes, scores, i64(3), f32(0.5f), f32(0.0f)}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int64);
  testing::expect_tensor_near(r.out(), {3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}, 0, 0);
  r = run_ref_op("NonMaxSuppression", {boxes, scores, i64(3), f32(0.5f), f32(0.4f)}, {}, 10);
  testing::expect_tensor_near(r.out(), {2, 3}, {0, 0, 3, 0, 0, 0}, 0, 0);
  r = run_ref_op("NonMaxSuppression", {boxes, scores, i64(2), f32(0.5f)}, {}, 11);  // limit output size
  testing::expect_tensor_near(r.out(), {2, 3}, {0, 0, 3, 0, 0, 0}, 0, 0);
  // iou_threshold omitted = 0: any overlap suppresses; box 4 overlaps box 3.
  r = run_ref_op("NonMaxSuppression", {boxes, scores, i64(10)}, {}, 11);
  testing::expect_tensor_near(r.out(), {3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}, 0, 0);
  // max_output_boxes_per_class omitted = 0: nothing selected.
  r = run_ref_op("NonMaxSuppression", {boxes, scores}, {}, 11);
  testing::expect_tensor_near(r.out(), {0, 3}, {}, 0, 0);
}

TEST(RefNms, CenterPointFlippedBatchesAndClasses) {
  const std::vector<float> center = {0.5f, 0.5f,  1, 1, 0.5f, 0.6f,  1, 1, 0.5f, 0.4f,   1, 1,
                                     0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1};
  Tensor scores = Tensor::from_vector<float>({1, 1, 6}, kScores);
  auto r = run_ref_op("NonMaxSuppression", {Tensor::from_vector<float>({1, 6, 4}, center), scores, i64(3), f32(0.5f)},
                      {attr_i("center_point_box", 1)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}, 0, 0);
  // Flipped corners describe the same boxes.
  std::vector<float> flipped = kBoxes;
  for (size_t b = 0; b < 6; b += 2) {
    std::swap(flipped[b * 4 + 0], flipped[b * 4 + 2]);
    std::swap(flipped[b * 4 + 1], flipped[b * 4 + 3]);
  }
  r = run_ref_op("NonMaxSuppression", {Tensor::from_vector<float>({1, 6, 4}, flipped), scores, i64(3), f32(0.5f)}, {},
                 11);
  testing::expect_tensor_near(r.out(), {3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}, 0, 0);
  // Two batches x two classes, 2 per class.
  std::vector<float> boxes2 = kBoxes;
  boxes2.insert(boxes2.end(), kBoxes.begin(), kBoxes.end());
  std::vector<float> scores2;
  for (int i = 0; i < 3; ++i) scores2.insert(scores2.end(), kScores.begin(), kScores.end());
  scores2.insert(scores2.end(), {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f});  // batch 1 class 1
  r = run_ref_op("NonMaxSuppression",
                 {Tensor::from_vector<float>({2, 6, 4}, boxes2), Tensor::from_vector<float>({2, 2, 6}, scores2), i64(2),
                  f32(0.5f)},
                 {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {8, 3}, {0, 0, 3, 0, 0, 0, 0, 1, 3, 0, 1, 0, 1, 0, 3, 1, 0, 0, 1, 1, 5, 1, 1, 4},
                              0, 0);
}

TEST(RefNms, IdenticalBoxesAndTies) {
  std::vector<float> boxes, scores;
  for (int i = 0; i < 5; ++i) {
    boxes.insert(boxes.end(), {0, 0, 1, 1});
    scores.push_back(0.9f);
  }
  auto r = run_ref_op(
      "NonMaxSuppression",
      {Tensor::from_vector<float>({1, 5, 4}, boxes), Tensor::from_vector<float>({1, 1, 5}, scores), i64(3), f32(0.5f)},
      {}, 11);
  testing::expect_tensor_near(r.out(), {1, 3}, {0, 0, 0}, 0, 0);
}

TEST(RefNms, BadInput) {
  Tensor boxes = Tensor::from_vector<float>({1, 6, 4}, kBoxes);
  auto r =
      run_ref_op("NonMaxSuppression", {boxes, Tensor::from_vector<float>({1, 1, 5}, {1, 1, 1, 1, 1}), i64(3)}, {}, 11);
  EXPECT_NE(r.error.find("'scores' must have shape"), std::string::npos) << r.error;
  r = run_ref_op("NonMaxSuppression",
                 {Tensor::from_vector<float>({6, 4}, kBoxes), Tensor::from_vector<float>({1, 1, 6}, kScores)}, {}, 11);
  EXPECT_NE(r.error.find("'boxes' must have shape"), std::string::npos) << r.error;
  r = run_ref_op("NonMaxSuppression", {boxes, Tensor::from_vector<float>({1, 1, 6}, kScores), i64(3), f32(1.5f)}, {},
                 11);
  EXPECT_NE(r.error.find("'iou_threshold' must be in [0, 1]"), std::string::npos) << r.error;
  r = run_ref_op("NonMaxSuppression", {boxes, Tensor::from_vector<float>({1, 1, 6}, kScores)},
                 {attr_i("center_point_box", 2)}, 11);
  EXPECT_NE(r.error.find("center_point_box"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
