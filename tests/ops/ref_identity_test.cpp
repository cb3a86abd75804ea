#include "op_test_util.h"

namespace hwopt {
namespace {

TEST(RefIdentity, ForwardsTheInput) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1.5f, -2.0f, 3.0f, 0.25f});
  auto r = testing::run_ref_op("Identity", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {1.5, -2.0, 3.0, 0.25});
}

}  // namespace
}  // namespace hwopt
