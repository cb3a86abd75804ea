#include <cmath>
#include <cstdint>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::run_ref_op;

TEST(RefRange, FloatsAndInts) {
  auto r = run_ref_op("Range", {Tensor::scalar<float>(1), Tensor::scalar<float>(5), Tensor::scalar<float>(2)}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {1, 3});
  r = run_ref_op("Range", {Tensor::scalar<double>(0.5), Tensor::scalar<double>(1.75), Tensor::scalar<double>(0.25)}, {},
                 11);
  testing::expect_tensor_near(r.out(), {5}, {0.5, 0.75, 1.0, 1.25, 1.5});
  r = run_ref_op("Range", {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(6), Tensor::scalar<int32_t>(-3)}, {},
                 11);
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {2}, {10, 7}, 0, 0);
  r = run_ref_op("Range", {Tensor::scalar<int64_t>(-4), Tensor::scalar<int64_t>(3), Tensor::scalar<int64_t>(3)}, {},
                 11);
  testing::expect_tensor_near(r.out(), {3}, {-4, -1, 2}, 0, 0);
  r = run_ref_op("Range", {Tensor::scalar<int16_t>(3), Tensor::scalar<int16_t>(3), Tensor::scalar<int16_t>(1)}, {}, 11);
  testing::expect_tensor_near(r.out(), {0}, {}, 0, 0);
  // Moving away from the limit gives an empty range.
  r = run_ref_op("Range", {Tensor::scalar<float>(0), Tensor::scalar<float>(5), Tensor::scalar<float>(-1)}, {}, 11);
  testing::expect_tensor_near(r.out(), {0}, {});
  // Extreme int64 endpoints do not overflow.
  const int64_t lo = INT64_MIN, hi = INT64_MAX;
  r = run_ref_op("Range", {Tensor::scalar<int64_t>(lo), Tensor::scalar<int64_t>(hi), Tensor::scalar<int64_t>(hi)}, {},
                 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.out().shape(), (Shape{3}));
  EXPECT_EQ(r.out().data<int64_t>()[0], lo);
  EXPECT_EQ(r.out().data<int64_t>()[1], -1);
  EXPECT_EQ(r.out().data<int64_t>()[2], hi - 1);
}

TEST(RefRange, BadInput) {
  auto r = run_ref_op("Range", {Tensor::scalar<float>(0), Tensor::scalar<float>(5), Tensor::scalar<float>(0)}, {}, 11);
  EXPECT_NE(r.error.find("'delta' must not be zero"), std::string::npos) << r.error;
  r = run_ref_op("Range", {Tensor::scalar<int64_t>(0), Tensor::scalar<int64_t>(5), Tensor::scalar<int64_t>(0)}, {}, 11);
  EXPECT_NE(r.error.find("'delta' must not be zero"), std::string::npos) << r.error;
  r = run_ref_op("Range", {Tensor::scalar<float>(0), Tensor::scalar<int32_t>(5), Tensor::scalar<float>(1)}, {}, 11);
  EXPECT_NE(r.error.find("same dtype"), std::string::npos) << r.error;
  r = run_ref_op("Range", {Tensor::from_vector<float>({2}, {0, 1}), Tensor::scalar<float>(5), Tensor::scalar<float>(1)},
                 {}, 11);
  EXPECT_NE(r.error.find("'start' must be a scalar"), std::string::npos) << r.error;
  r = run_ref_op("Range", {Tensor::scalar<float>(0), Tensor::scalar<float>(1e30f), Tensor::scalar<float>(1e-30f)}, {},
                 11);
  EXPECT_NE(r.error.find("too many"), std::string::npos) << r.error;
  r = run_ref_op("Range", {Tensor::scalar<float>(0), Tensor::scalar<float>(NAN), Tensor::scalar<float>(1)}, {}, 11);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
