#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_s;

const char* kDomain = "ai.onnx.preview.training";

Tensor D(const Shape& shape, const std::vector<double>& v) { return Tensor::from_vector<double>(shape, v); }

// Expected values from a numpy transcription of the ONNX update rules (R = 0.1, T = 3).
const Tensor kR = Tensor::scalar<float>(0.1f);
const Tensor kT = Tensor::scalar<int64_t>(3);

TEST(RefTraining, AdagradTwoTensors) {
  auto r = testing::run_ref_op(
      "Adagrad",
      {kR, kT, D({2}, {1.0, -2.0}), D({1}, {0.3}), D({2}, {-1.0, 0.5}), D({1}, {0.7}), D({2}, {2.0, 0.25}), D({1}, {1.5})},
      {attr_f("decay_factor", 0.1f), attr_f("epsilon", 1e-5f), attr_f("norm_coefficient", 0.01f)}, 1, 4, kDomain);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out(0).dtype(), DType::float64);
  testing::expect_tensor_near(r.out(0), {2}, {1.04411374, -2.05327091});
  testing::expect_tensor_near(r.out(1), {1}, {0.261706632});
  testing::expect_tensor_near(r.out(2), {2}, {2.9801, 0.4804});
  testing::expect_tensor_near(r.out(3), {1}, {1.994209});
}

TEST(RefTraining, AdamWithPostNorm) {
  auto r = testing::run_ref_op("Adam",
                               {kR, kT, Tensor::from_vector<float>({2}, {1.f, -2.f}),
                                Tensor::from_vector<float>({2}, {-1.f, 0.5f}), Tensor::from_vector<float>({2}, {0.2f, -0.1f}),
                                Tensor::from_vector<float>({2}, {2.f, 0.25f})},
                               {attr_f("alpha", 0.9f), attr_f("beta", 0.99f), attr_f("norm_coefficient", 0.01f),
                                attr_f("norm_coefficient_post", 0.02f)},
                               1, 3, kDomain);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out(0).dtype(), DType::float32);
  testing::expect_tensor_near(r.out(0), {2}, {0.976421325, -1.9547629}, 1e-5, 1e-5);
  testing::expect_tensor_near(r.out(1), {2}, {0.081, -0.042}, 1e-6, 1e-5);
  testing::expect_tensor_near(r.out(2), {2}, {1.989801, 0.249804}, 1e-6, 1e-5);
}

TEST(RefTraining, MomentumStandardAndNesterov) {
  std::vector<Tensor> in = {kR, kT, D({2}, {1.0, -2.0}), D({2}, {-1.0, 0.5}), D({2}, {0.2, -0.1})};
  auto attrs = [](const char* mode) {
    return std::vector<ir::Attribute>{attr_f("alpha", 0.9f), attr_f("beta", 0.5f), attr_f("norm_coefficient", 0.01f),
                                      attr_s("mode", mode)};
  };
  auto r = testing::run_ref_op("Momentum", in, attrs("standard"), 1, 2, kDomain);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {2}, {1.0315, -2.015});
  testing::expect_tensor_near(r.out(1), {2}, {-0.315, 0.15});
  r = testing::run_ref_op("Momentum", in, attrs("nesterov"), 1, 2, kDomain);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {2}, {1.12735, -2.0615});
  testing::expect_tensor_near(r.out(1), {2}, {-0.315, 0.15});
  // T = 0: the gradient coefficient is 1 instead of beta.
  in[1] = Tensor::scalar<int64_t>(0);
  r = testing::run_ref_op("Momentum", in, attrs("standard"), 1, 2, kDomain);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(1), {2}, {0.9 * 0.2 + (0.01 - 1.0), 0.9 * -0.1 + (-0.02 + 0.5)});
}

TEST(RefTraining, RejectsBadInputs) {
  auto r = testing::run_ref_op("Adagrad", {kR, kT, D({2}, {1, 2}), D({3}, {1, 2, 3}), D({2}, {1, 1})}, {}, 1, 2, kDomain);
  EXPECT_NE(r.error.find("input 3"), std::string::npos) << r.error;
  r = testing::run_ref_op("Adam", {kR, kT, D({2}, {1, 2}), D({2}, {1, 2}), D({2}, {1, 1})}, {}, 1, 3, kDomain);
  EXPECT_NE(r.error.find("groups"), std::string::npos) << r.error;
  r = testing::run_ref_op("Momentum", {kR, kT, D({2}, {1, 2}), D({2}, {1, 2}), D({2}, {1, 1})},
                          {attr_f("alpha", 0.9f), attr_f("beta", 0.5f), attr_f("norm_coefficient", 0.f),
                           attr_s("mode", "adam")},
                          1, 2, kDomain);
  EXPECT_NE(r.error.find("mode"), std::string::npos) << r.error;
  r = testing::run_ref_op("Adagrad", {kR, Tensor::scalar<float>(1.f), D({2}, {1, 2}), D({2}, {1, 2}), D({2}, {1, 1})}, {},
                          1, 2, kDomain);
  EXPECT_NE(r.error.find("'T'"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
