#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

std::vector<double> eye(int rows, int cols, int k) {
  std::vector<double> e;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) e.push_back(j - i == k ? 1 : 0);
  return e;
}

TEST(RefEyeLike, DiagonalsAndDtypes) {
  Tensor x(DType::int32, {3, 4});
  for (int k : {-3, -1, 0, 1, 3, 4}) {
    auto r = run_ref_op("EyeLike", {x}, {attr_i("k", k)}, 9);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.out().dtype(), DType::int32);
    testing::expect_tensor_near(r.out(), {3, 4}, eye(3, 4, k), 0, 0);
  }
  auto r = run_ref_op("EyeLike", {x}, {attr_i("dtype", 11), attr_i("k", 1)}, 9);
  EXPECT_EQ(r.out().dtype(), DType::float64);
  testing::expect_tensor_near(r.out(), {3, 4}, eye(3, 4, 1));
  r = run_ref_op("EyeLike", {Tensor(DType::float32, {2, 2})}, {attr_i("dtype", 9)}, 9);
  EXPECT_EQ(r.out().dtype(), DType::boolean);
  testing::expect_tensor_near(r.out(), {2, 2}, {1, 0, 0, 1});
  r = run_ref_op("EyeLike", {Tensor(DType::float16, {2, 3})}, {attr_i("k", -1)}, 9);
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {2, 3}, eye(2, 3, -1));
  r = run_ref_op("EyeLike", {x}, {attr_i("k", int64_t{1} << 62)}, 9);
  testing::expect_tensor_near(r.out(), {3, 4}, eye(3, 4, 100));
}

TEST(RefEyeLike, BadInput) {
  auto r = run_ref_op("EyeLike", {Tensor(DType::float32, {2, 2, 2})}, {}, 9);
  EXPECT_NE(r.error.find("2-D"), std::string::npos) << r.error;
  r = run_ref_op("EyeLike", {Tensor(DType::float32, {2, 2})}, {attr_i("dtype", 99)}, 9);
  EXPECT_NE(r.error.find("'dtype' = 99"), std::string::npos) << r.error;
  r = run_ref_op("EyeLike", {Tensor(DType::float32, {2, 2})}, {attr_i("dtype", 8)}, 9);
  EXPECT_NE(r.error.find("string"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
