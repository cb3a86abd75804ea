// Tests for Dropout: inference identity and masks across opsets, training mode, bad ratios.
#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_i;
using testing::run_ref_op;

TEST(RefDropout, InferenceIsIdentityWithTrueMask) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, -2, 3, -4, 5, -6});
  for (int opset : {7, 10, 12, 13}) {
    auto r = run_ref_op("Dropout", {x}, {attr_f("ratio", 0.3f)}, opset, 2);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(0), {2, 3}, {1, -2, 3, -4, 5, -6});
    // Opsets 7-9 give the mask in the input's type, later ones as bool.
    EXPECT_EQ(r.out(1).dtype(), opset >= 10 ? DType::boolean : DType::float32);
    testing::expect_tensor_near(r.out(1), {2, 3}, {1, 1, 1, 1, 1, 1});
  }
  // Opset 12 inputs: ratio given, training_mode false.
  auto r = run_ref_op("Dropout", {x, Tensor::scalar<float>(0.9f), Tensor::scalar<bool>(false)}, {}, 13, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {2, 3}, {1, -2, 3, -4, 5, -6});
}

TEST(RefDropout, TrainingMode) {
  std::vector<float> xv(1000, 2.0f);
  Tensor x = Tensor::from_vector<float>({1000}, xv);
  auto r =
      run_ref_op("Dropout", {x, Tensor::scalar<float>(0.25f), Tensor::scalar<bool>(true)}, {attr_i("seed", 3)}, 13, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  int kept = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    const double y = r.out(0).element_as_double(i);
    const bool m = r.out(1).element_as_double(i) != 0;
    EXPECT_NEAR(y, m ? 2.0 / 0.75 : 0.0, 1e-6);
    kept += m;
  }
  EXPECT_GT(kept, 650);
  EXPECT_LT(kept, 850);
  // Same seed, same mask.
  auto r2 =
      run_ref_op("Dropout", {x, Tensor::scalar<float>(0.25f), Tensor::scalar<bool>(true)}, {attr_i("seed", 3)}, 13, 2);
  ASSERT_TRUE(r2.error.empty()) << r2.error;
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(r.out(1).element_as_double(i), r2.out(1).element_as_double(i));
  // Ratio 0 in training mode keeps everything.
  r = run_ref_op("Dropout", {x, Tensor::scalar<float>(0.0f), Tensor::scalar<bool>(true)}, {}, 13, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {1000}, std::vector<double>(1000, 2.0));
}

TEST(RefDropout, RejectsBadRatio) {
  Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  auto r = run_ref_op("Dropout", {x, Tensor::scalar<float>(1.5f)}, {}, 13);
  EXPECT_NE(r.error.find("ratio must be in [0, 1)"), std::string::npos) << r.error;
  r = run_ref_op("Dropout", {x, Tensor::scalar<float>(0.5f), Tensor::scalar<int32_t>(1)}, {}, 13);
  EXPECT_NE(r.error.find("training_mode must be a bool"), std::string::npos) << r.error;
  r = run_ref_op("Dropout", {Tensor::from_vector<int32_t>({1}, {1})}, {}, 13);
  EXPECT_NE(r.error.find("float"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
