#include <algorithm>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

TEST(RefTopK, OpsetVariants) {
  // [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] with rows reversed in places.
  Tensor x = Tensor::from_vector<float>({3, 4}, {0, 1, 2, 3, 7, 6, 5, 4, 8, 11, 9, 10});
  // Opset 1: k is an attribute.
  auto r = run_ref_op("TopK", {x}, {attr_i("k", 2)}, 1, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {3, 2}, {3, 2, 7, 6, 11, 10});
  EXPECT_EQ(r.out(1).dtype(), DType::int64);
  testing::expect_tensor_near(r.out(1), {3, 2}, {3, 2, 0, 1, 1, 3}, 0, 0);
  // Opset 10: k is an input.
  Tensor k3 = Tensor::from_vector<int64_t>({1}, {3});
  r = run_ref_op("TopK", {x, k3}, {attr_i("axis", -1)}, 10, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {3, 3}, {3, 2, 1, 7, 6, 5, 11, 10, 9});
  testing::expect_tensor_near(r.out(1), {3, 3}, {3, 2, 1, 0, 1, 2, 1, 3, 2}, 0, 0);
  // Opset 11: smallest, along axis 0.
  Tensor k1 = Tensor::from_vector<int64_t>({1}, {1});
  r = run_ref_op("TopK", {x, k1}, {attr_i("axis", 0), attr_i("largest", 0), attr_i("sorted", 1)}, 11, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {1, 4}, {0, 1, 2, 3});
  testing::expect_tensor_near(r.out(1), {1, 4}, {0, 0, 0, 0}, 0, 0);
}

TEST(RefTopK, TiesKeepLowerIndexFirst) {
  Tensor x = Tensor::from_vector<int32_t>({6}, {4, 9, 4, 1, 9, 1});
  auto r = run_ref_op("TopK", {x, Tensor::from_vector<int64_t>({1}, {4})}, {}, 11, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out(0).dtype(), DType::int32);
  testing::expect_tensor_near(r.out(0), {4}, {9, 9, 4, 4}, 0, 0);
  testing::expect_tensor_near(r.out(1), {4}, {1, 4, 0, 2}, 0, 0);
  r = run_ref_op("TopK", {x, Tensor::from_vector<int64_t>({1}, {3})}, {attr_i("largest", 0)}, 11, 2);
  testing::expect_tensor_near(r.out(0), {3}, {1, 1, 4}, 0, 0);
  testing::expect_tensor_near(r.out(1), {3}, {3, 5, 0}, 0, 0);
}

TEST(RefTopK, RandomMiddleAxis) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<double> dist(-10, 10);
  std::vector<double> xv(2 * 5 * 3);
  for (auto& v : xv) v = dist(gen);
  Tensor x = Tensor::from_vector<double>({2, 5, 3}, xv);
  auto r = run_ref_op("TopK", {x, Tensor::from_vector<int64_t>({1}, {2})}, {attr_i("axis", 1)}, 11, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> ev, ei;
  for (int a = 0; a < 2; ++a) {
    std::vector<std::vector<std::pair<double, int>>> cols(3);
    for (int b = 0; b < 5; ++b)
      for (int c = 0; c < 3; ++c) cols[c].push_back({xv[(a * 5 + b) * 3 + c], b});
    for (auto& col : cols) std::sort(col.begin(), col.end(), [](auto p, auto q) { return p.first > q.first; });
    for (int j = 0; j < 2; ++j)
      for (int c = 0; c < 3; ++c) {
        ev.push_back(cols[c][j].first);
        ei.push_back(cols[c][j].second);
      }
  }
  testing::expect_tensor_near(r.out(0), {2, 2, 3}, ev);
  testing::expect_tensor_near(r.out(1), {2, 2, 3}, ei, 0, 0);
}

TEST(RefTopK, BadK) {
  Tensor x = Tensor::from_vector<float>({4}, {1, 2, 3, 4});
  auto r = run_ref_op("TopK", {x, Tensor::from_vector<int64_t>({1}, {5})}, {}, 11, 2);
  EXPECT_NE(r.error.find("k = 5"), std::string::npos) << r.error;
  r = run_ref_op("TopK", {x, Tensor::from_vector<int64_t>({1}, {-1})}, {}, 11, 2);
  EXPECT_NE(r.error.find("k = -1"), std::string::npos) << r.error;
  r = run_ref_op("TopK", {x}, {}, 1, 2);
  EXPECT_NE(r.error.find("'k' is required"), std::string::npos) << r.error;
  r = run_ref_op("TopK", {x, Tensor::from_vector<int64_t>({1}, {1})}, {attr_i("axis", 1)}, 11, 2);
  EXPECT_NE(r.error.find("'axis' = 1"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
