#include <cmath>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_s;
using testing::run_ref_op;

TEST(RefNllLoss, HandComputed) {
  Tensor input = Tensor::from_vector<float>({2, 3}, {-1, -2, -3, -0.5f, -1.5f, -2.5f});
  Tensor target = Tensor::from_vector<int64_t>({2}, {2, 0});
  Tensor weight = Tensor::from_vector<float>({3}, {0.2f, 0.3f, 0.5f});
  auto r = run_ref_op("NegativeLogLikelihoodLoss", {input, target}, {attr_s("reduction", "none")}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {3, 0.5});
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target}, {attr_s("reduction", "sum")}, 13);
  testing::expect_tensor_near(r.out(), {}, {3.5});
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target}, {}, 12);  // default mean
  testing::expect_tensor_near(r.out(), {}, {1.75});
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target, weight}, {attr_s("reduction", "none")}, 13);
  testing::expect_tensor_near(r.out(), {2}, {1.5, 0.1});
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target, weight}, {}, 13);
  testing::expect_tensor_near(r.out(), {}, {1.6 / 0.7});
  // ignore_index drops the second sample from both the loss and the mean's denominator.
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target}, {attr_i("ignore_index", 0)}, 13);
  testing::expect_tensor_near(r.out(), {}, {3});
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target, weight},
                 {attr_i("ignore_index", 0), attr_s("reduction", "none")}, 13);
  testing::expect_tensor_near(r.out(), {2}, {1.5, 0});
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target, weight}, {attr_i("ignore_index", 0)}, 13);
  testing::expect_tensor_near(r.out(), {}, {3});
}

TEST(RefNllLoss, HigherRankAndNegativeIgnoreIndex) {
  // input [N=1, C=2, d=3], target [1, 3]
  Tensor input = Tensor::from_vector<double>({1, 2, 3}, {-1, -2, -3, -4, -5, -6});
  Tensor target = Tensor::from_vector<int32_t>({1, 3}, {1, -1, 0});
  auto r = run_ref_op("NegativeLogLikelihoodLoss", {input, target},
                      {attr_i("ignore_index", -1), attr_s("reduction", "none")}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  testing::expect_tensor_near(r.out(), {1, 3}, {4, 0, 3});
  r = run_ref_op("NegativeLogLikelihoodLoss", {input, target}, {attr_i("ignore_index", -1)}, 13);
  testing::expect_tensor_near(r.out(), {}, {3.5});
}

TEST(RefSoftmaxCrossEntropyLoss, RandomWithWeightsAndLogProb) {
  const int N = 2, C = 3, D = 2;
  std::mt19937 gen(17);
  std::uniform_real_distribution<float> dist(-2, 2);
  std::vector<float> sv(N * C * D);
  for (auto& v : sv) v = dist(gen);
  const std::vector<int64_t> labels = {0, 2, 1, 1};
  const std::vector<float> w = {0.5f, 1.5f, 2.0f};
  Tensor scores = Tensor::from_vector<float>({N, C, D}, sv);
  Tensor lab = Tensor::from_vector<int64_t>({N, D}, labels);
  Tensor weight = Tensor::from_vector<float>({C}, w);

  std::vector<double> logp(sv.size()), loss(N * D);
  double total = 0, wsum = 0;
  for (int n = 0; n < N; ++n)
    for (int d = 0; d < D; ++d) {
      double s = 0;
      for (int c = 0; c < C; ++c) s += std::exp(static_cast<double>(sv[(n * C + c) * D + d]));
      for (int c = 0; c < C; ++c) logp[(n * C + c) * D + d] = sv[(n * C + c) * D + d] - std::log(s);
      const int64_t t = labels[n * D + d];
      loss[n * D + d] = -logp[(n * C + t) * D + d] * w[t];
      total += loss[n * D + d];
      wsum += w[t];
    }

  auto r = run_ref_op("SoftmaxCrossEntropyLoss", {scores, lab, weight}, {attr_s("reduction", "none")}, 13, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {N, D}, loss);
  testing::expect_tensor_near(r.out(1), {N, C, D}, logp);
  r = run_ref_op("SoftmaxCrossEntropyLoss", {scores, lab, weight}, {attr_s("reduction", "sum")}, 12);
  testing::expect_tensor_near(r.out(), {}, {total});
  r = run_ref_op("SoftmaxCrossEntropyLoss", {scores, lab, weight}, {}, 13);
  testing::expect_tensor_near(r.out(), {}, {total / wsum});
  // ignore_index = 1 removes samples 2 and 3.
  const double kept = loss[0] + loss[1];
  r = run_ref_op("SoftmaxCrossEntropyLoss", {scores, lab, weight}, {attr_i("ignore_index", 1)}, 13);
  testing::expect_tensor_near(r.out(), {}, {kept / (w[0] + w[2])});
  // Without weights, mean is over the non-ignored count.
  r = run_ref_op("SoftmaxCrossEntropyLoss", {scores, lab}, {attr_i("ignore_index", 1)}, 13);
  testing::expect_tensor_near(r.out(), {}, {(loss[0] / w[0] + loss[1] / w[2]) / 2});
}

TEST(RefLoss, BadInput) {
  Tensor input = Tensor::from_vector<float>({2, 3}, {-1, -2, -3, -1, -2, -3});
  auto r = run_ref_op("NegativeLogLikelihoodLoss", {input, Tensor::from_vector<int64_t>({2}, {0, 3})}, {}, 13);
  EXPECT_NE(r.error.find("target value 3 is out of range"), std::string::npos) << r.error;
  r = run_ref_op("SoftmaxCrossEntropyLoss", {input, Tensor::from_vector<int64_t>({3}, {0, 1, 2})}, {}, 13);
  EXPECT_NE(r.error.find("must have shape [2]"), std::string::npos) << r.error;
  r = run_ref_op("SoftmaxCrossEntropyLoss", {input, Tensor::from_vector<int64_t>({2}, {0, 1})},
                 {attr_s("reduction", "avg")}, 13);
  EXPECT_NE(r.error.find("'avg'"), std::string::npos) << r.error;
  r = run_ref_op("NegativeLogLikelihoodLoss",
                 {input, Tensor::from_vector<int64_t>({2}, {0, 1}), Tensor::from_vector<float>({2}, {1, 1})}, {}, 13);
  EXPECT_NE(r.error.find("'weight' must have shape [3]"), std::string::npos) << r.error;
  r = run_ref_op("NegativeLogLikelihoodLoss",
                 {Tensor::from_vector<float>({3}, {1, 2, 3}), Tensor::from_vector<int64_t>({1}, {0})}, {}, 13);
  EXPECT_NE(r.error.find("rank >= 2"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
