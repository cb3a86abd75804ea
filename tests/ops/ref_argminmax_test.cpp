#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

std::vector<float> random_values(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-5.0f, 5.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

TEST(RefArgMinMax, RandomAllAxes) {
  const std::vector<float> xv = random_values(24, 3);
  Tensor x = Tensor::from_vector<float>({2, 3, 4}, xv);
  const int64_t dims[3] = {2, 3, 4};
  for (int64_t axis = -3; axis < 3; ++axis) {
    const int64_t a = axis < 0 ? axis + 3 : axis;
    for (bool is_max : {true, false}) {
      for (int keep : {0, 1}) {
        auto r = run_ref_op(is_max ? "ArgMax" : "ArgMin", {x}, {attr_i("axis", axis), attr_i("keepdims", keep)}, 13);
        ASSERT_TRUE(r.error.empty()) << r.error;
        Shape shape;
        for (int d = 0; d < 3; ++d) {
          if (d != a)
            shape.push_back(dims[d]);
          else if (keep)
            shape.push_back(1);
        }
        std::vector<double> expected;
        int64_t idx[3];
        for (idx[0] = 0; idx[0] < (a == 0 ? 1 : 2); ++idx[0])
          for (idx[1] = 0; idx[1] < (a == 1 ? 1 : 3); ++idx[1])
            for (idx[2] = 0; idx[2] < (a == 2 ? 1 : 4); ++idx[2]) {
              int64_t best = 0;
              float best_v = 0;
              for (int64_t k = 0; k < dims[a]; ++k) {
                int64_t j[3] = {idx[0], idx[1], idx[2]};
                j[a] = k;
                const float v = xv[(j[0] * 3 + j[1]) * 4 + j[2]];
                if (k == 0 || (is_max ? v > best_v : v < best_v)) {
                  best = k;
                  best_v = v;
                }
              }
              expected.push_back(static_cast<double>(best));
            }
        EXPECT_EQ(r.out().dtype(), DType::int64);
        testing::expect_tensor_near(r.out(), shape, expected, 0, 0);
      }
    }
  }
}

TEST(RefArgMinMax, TiesAndSelectLastIndex) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {2, 7, 7, 1, 1, 5});
  auto r = run_ref_op("ArgMax", {x}, {attr_i("axis", 1)}, 13);
  testing::expect_tensor_near(r.out(), {2, 1}, {1, 2}, 0, 0);
  r = run_ref_op("ArgMax", {x}, {attr_i("axis", 1), attr_i("select_last_index", 1)}, 12);
  testing::expect_tensor_near(r.out(), {2, 1}, {2, 2}, 0, 0);
  r = run_ref_op("ArgMin", {x}, {attr_i("axis", -1), attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {2}, {0, 0}, 0, 0);
  r = run_ref_op("ArgMin", {x}, {attr_i("axis", -1), attr_i("keepdims", 0), attr_i("select_last_index", 1)}, 13);
  testing::expect_tensor_near(r.out(), {2}, {0, 1}, 0, 0);
  // select_last_index does not exist before opset 12.
  r = run_ref_op("ArgMin", {x}, {attr_i("axis", -1), attr_i("keepdims", 0), attr_i("select_last_index", 1)}, 11);
  testing::expect_tensor_near(r.out(), {2}, {0, 0}, 0, 0);
}

TEST(RefArgMinMax, IntegerAndHalfInputs) {
  Tensor x = Tensor::from_vector<int64_t>({4}, {int64_t{1} << 62, -3, (int64_t{1} << 62) + 1, -4});
  auto r = run_ref_op("ArgMax", {x}, {}, 13);
  testing::expect_tensor_near(r.out(), {1}, {2}, 0, 0);
  r = run_ref_op("ArgMin", {x}, {}, 13);
  testing::expect_tensor_near(r.out(), {1}, {3}, 0, 0);
  Tensor h = Tensor::from_vector<Half>({3}, {Half(0.5f), Half(-2.0f), Half(0.75f)});
  r = run_ref_op("ArgMax", {h}, {attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {}, {2}, 0, 0);
}

TEST(RefArgMinMax, BadInput) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run_ref_op("ArgMax", {x}, {attr_i("axis", 2)}, 13);
  EXPECT_NE(r.error.find("'axis' = 2 is out of range"), std::string::npos) << r.error;
  Tensor empty(DType::float32, {2, 0});
  r = run_ref_op("ArgMin", {empty}, {attr_i("axis", 1)}, 13);
  EXPECT_NE(r.error.find("size 0"), std::string::npos) << r.error;
  r = run_ref_op("ArgMin", {Tensor::scalar<float>(1.0f)}, {}, 13);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
