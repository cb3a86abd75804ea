#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

Tensor arange(const Shape& s) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return Tensor::from_vector<float>(s, v);
}

TEST(RefReverseSequence, TimeMajorAndBatchMajor) {
  // time-major [time=4, batch=4]: column b reverses its first lens[b] entries.
  Tensor x = arange({4, 4});
  auto t = run_ref_op("ReverseSequence", {x, Tensor::from_vector<int64_t>({4}, {4, 3, 2, 1})},
                      {attr_i("batch_axis", 1), attr_i("time_axis", 0)}, 10);
  ASSERT_TRUE(t.error.empty()) << t.error;
  testing::expect_tensor_near(t.out(), {4, 4}, {13, 10, 7, 4, 9, 6, 3, 8, 5, 2, 11, 12, 1, 14, 15, 16});
  // batch-major [batch=4, time=4].
  auto b = run_ref_op("ReverseSequence", {x, Tensor::from_vector<int64_t>({4}, {1, 2, 3, 4})},
                      {attr_i("batch_axis", 0), attr_i("time_axis", 1)}, 10);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {4, 4}, {1, 2, 3, 4, 6, 5, 7, 8, 11, 10, 9, 12, 16, 15, 14, 13});
}

TEST(RefReverseSequence, Rank3InnerDimsMoveTogether) {
  Tensor x = arange({3, 2, 2});  // [time=3, batch=2, feat=2] with default axes
  auto r = run_ref_op("ReverseSequence", {x, Tensor::from_vector<int64_t>({2}, {3, 0})}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 2, 2}, {9, 10, 3, 4, 5, 6, 7, 8, 1, 2, 11, 12});
}

TEST(RefReverseSequence, BadInputsAreErrors) {
  Tensor x = arange({4, 2});
  auto a = run_ref_op("ReverseSequence", {x, Tensor::from_vector<int64_t>({2}, {5, 1})}, {}, 10);
  EXPECT_NE(a.error.find("sequence_lens[0] = 5"), std::string::npos) << a.error;
  auto b = run_ref_op("ReverseSequence", {x, Tensor::from_vector<int64_t>({3}, {1, 1, 1})}, {}, 10);
  EXPECT_NE(b.error.find("expected [2]"), std::string::npos) << b.error;
  auto c = run_ref_op("ReverseSequence", {x, Tensor::from_vector<int64_t>({2}, {1, 1})},
                      {attr_i("batch_axis", 0), attr_i("time_axis", 0)}, 10);
  EXPECT_NE(c.error.find("batch_axis"), std::string::npos) << c.error;
}

}  // namespace
}  // namespace hwopt
