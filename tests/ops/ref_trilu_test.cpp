#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

// x[i][j] = 10 * i + j + 1 for a rows x cols matrix; expected keeps (i, j) when pred(j - i).
std::vector<double> expected_tri(int rows, int cols, bool (*keep)(int64_t, int64_t), int64_t k) {
  std::vector<double> e;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) e.push_back(keep(j - i, k) ? 10 * i + j + 1 : 0);
  return e;
}
bool upper_keep(int64_t diag, int64_t k) { return diag >= k; }
bool lower_keep(int64_t diag, int64_t k) { return diag <= k; }

Tensor make(int rows, int cols) {
  std::vector<int64_t> v;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) v.push_back(10 * i + j + 1);
  return Tensor::from_vector<int64_t>({rows, cols}, v);
}

TEST(RefTrilu, UpperAndLowerWithK) {
  Tensor x = make(4, 5);
  for (int64_t k : {-7, -1, 0, 2, 6}) {
    auto r = run_ref_op("Trilu", {x, Tensor::scalar<int64_t>(k)}, {}, 14);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), {4, 5}, expected_tri(4, 5, upper_keep, k), 0, 0);
    r = run_ref_op("Trilu", {x, Tensor::scalar<int64_t>(k)}, {attr_i("upper", 0)}, 14);
    testing::expect_tensor_near(r.out(), {4, 5}, expected_tri(4, 5, lower_keep, k), 0, 0);
  }
  auto r = run_ref_op("Trilu", {x}, {attr_i("upper", 0)}, 14);  // k omitted = 0
  testing::expect_tensor_near(r.out(), {4, 5}, expected_tri(4, 5, lower_keep, 0), 0, 0);
}

TEST(RefTrilu, BatchedFloatBoolAndEmpty) {
  Tensor x = Tensor::from_vector<float>({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto r = run_ref_op("Trilu", {x}, {}, 14);
  testing::expect_tensor_near(r.out(), {2, 2, 2}, {1, 2, 0, 4, 5, 6, 0, 8});
  Tensor b = Tensor::from_vector<bool>({2, 2}, {true, true, true, true});
  r = run_ref_op("Trilu", {b, Tensor::scalar<int64_t>(-1)}, {attr_i("upper", 0)}, 14);
  EXPECT_EQ(r.out().dtype(), DType::boolean);
  testing::expect_tensor_near(r.out(), {2, 2}, {0, 0, 1, 0});
  r = run_ref_op("Trilu", {Tensor(DType::int64, {3, 0, 5})}, {}, 14);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), (Shape{3, 0, 5}));
}

TEST(RefTrilu, BadInput) {
  auto r = run_ref_op("Trilu", {Tensor::from_vector<float>({3}, {1, 2, 3})}, {}, 14);
  EXPECT_NE(r.error.find("rank >= 2"), std::string::npos) << r.error;
  r = run_ref_op("Trilu", {make(2, 2), Tensor::from_vector<int64_t>({2}, {1, 2})}, {}, 14);
  EXPECT_NE(r.error.find("'k' must be a scalar"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
