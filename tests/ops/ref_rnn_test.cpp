#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_i;
using testing::attr_s;

Tensor F(const Shape& shape, const std::vector<float>& v) { return Tensor::from_vector<float>(shape, v); }

ir::Attribute attr_strs(const std::string& name, std::vector<std::string> v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::strings;
  a.strings = std::move(v);
  return a;
}

// Expected values below were computed with an independent numpy implementation of the ONNX
// equations (seq 3, batch 2, input 3, hidden 2).
const std::vector<float> kX = {0.25, 0.79, 0.55, -0.55, -0.4, 0.75, -0.99, 0.64, 0.59, -0.06, -0.39, -0.44, -0.49, -0.11, 0.01, 0.11, 0.99, 0.59};

TEST(RefRnn, ForwardWithBiasAndInitialState) {
  auto r = testing::run_ref_op("RNN",
                               {F({3, 2, 3}, kX), F({1, 2, 3}, {0.24, 0.98, -0.57, -0.68, 0.23, -0.91}), F({1, 2, 2}, {-0.93, 0.03, -0.07, 0.83}),
                                F({1, 4}, {0.26, 0.03, -0.01, -0.5}), Tensor(), F({1, 2, 2}, {-0.98, -0.62, 0.38, -0.6})},
                               {attr_i("hidden_size", 2)}, 14, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {3, 1, 2, 2}, {0.930687087, -0.886384782, -0.7905513, -0.884287895, -0.529053994, -0.756229003, 0.671178184, -0.662423814, 0.452813136, -0.642157302, 0.260114838, -0.89584981});
  testing::expect_tensor_near(r.out(1), {1, 2, 2}, {0.452813136, -0.642157302, 0.260114838, -0.89584981});
}

TEST(RefRnn, BidirectionalSequenceLensActivationsAndClip) {
  Tensor lens = Tensor::from_vector<int32_t>({2}, {3, 1});
  auto r = testing::run_ref_op("RNN",
                               {F({3, 2, 3}, kX), F({2, 2, 3}, {-0.26, -0.99, 0.66, -0.69, -0.46, 0.76, 0.02, 0.69, 0.28, 0.48, -0.82, 0.08}), F({2, 2, 2}, {0.02, 0.74, -0.28, 0.2, -0.88, -0.22, -0.35, -0.7}),
                                F({2, 4}, {0.63, -0.24, 0.96, 0.18, 0.21, 0.28, 0.35, -0.7}), lens, F({2, 2, 2}, {-0.12, -0.52, -0.2, -0.81, 0.94, -0.57, 0.34, -0.4})},
                               {attr_i("hidden_size", 2), attr_s("direction", "bidirectional"),
                                attr_strs("activations", {"LeakyRelu", "Tanh"}),
                                testing::attr_floats("activation_alpha", {0.2f}), attr_f("clip", 0.5f)},
                               7, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {3, 2, 2, 2}, {0.5, -0.04966, 0.5, 0.5, 0.462117157, -0.462117157, 0.265298943, -0.13418581, 0.5, 0.5, 0, 0, 0.462117157, -0.462117157, 0, 0, 0.5, 0.2963, 0, 0, -0.220993138, -0.457543553, 0, 0});
  testing::expect_tensor_near(r.out(1), {2, 2, 2}, {0.5, 0.2963, 0.5, 0.5, 0.462117157, -0.462117157, 0.265298943, -0.13418581});
}

TEST(RefRnn, GruReverseBothResetModes) {
  for (int lbr = 0; lbr < 2; ++lbr) {
    auto r = testing::run_ref_op("GRU",
                                 {F({3, 2, 3}, kX), F({1, 6, 3}, {0.75, 0.32, -0.74, 0.69, 0.89, 0.81, 0.14, -0.71, -0.62, 0.86, 0.1, -0.64, 0.77, 0.28, 0.14, -0.25, -0.18, -0.52}), F({1, 6, 2}, {-0.92, 0.75, -0.06, 0.1, -0.36, 0.5, -0.95, -0.26, -0.94, -0.75, 0.93, 0.32}),
                                  F({1, 12}, {-0.14, 0.05, 0.75, -0.31, 0.18, 0.37, -0.29, 0.04, 0.53, 0.82, -0.7, 0.87}), Tensor(), F({1, 2, 2}, {-0.99, 0.51, 0.62, -0.73})},
                                 {attr_i("hidden_size", 2), attr_s("direction", "reverse"),
                                  attr_i("linear_before_reset", lbr)},
                                 14, 2);
    ASSERT_TRUE(r.error.empty()) << r.error;
    if (lbr == 0) {
      testing::expect_tensor_near(r.out(0), {3, 1, 2, 2}, {-0.402063161, 0.537113186, -0.585685337, 0.582283235, -0.67494424, 0.566539571, -0.312487232, 0.456486392, -0.748934804, 0.559711796, 0.0630971006, -0.452013975});
      testing::expect_tensor_near(r.out(1), {1, 2, 2}, {-0.402063161, 0.537113186, -0.585685337, 0.582283235});
    } else {
      testing::expect_tensor_near(r.out(0), {3, 1, 2, 2}, {-0.263514512, 0.408013159, -0.575330605, 0.442358579, -0.620069165, 0.456648447, -0.278232625, 0.421561809, -0.739006358, 0.519709521, 0.364250327, -0.506131195});
      testing::expect_tensor_near(r.out(1), {1, 2, 2}, {-0.263514512, 0.408013159, -0.575330605, 0.442358579});
    }
  }
}

const std::vector<float> kLstmW = {-0.16, 0.63, -0.97, 0.26, 0.59, 0.03, 0.45, -0.55, -0.6, -0.27, -0.64, -0.31, 0.9, 0.15, -0.32, -0.46, 0.9, -0.11, 0.96, 0.03, 0.04, 0.79, 0.49, 0.16};
const std::vector<float> kLstmR = {-0.15, 0.76, -0.18, 0.85, -0.86, -0.14, 0.04, 0.9, -0.5, 0.61, 0.35, 0.43, 0.26, 0.94, -0.33, -0.2};
const std::vector<float> kLstmB = {-0.59, -0.9, -0.57, 0.83, 0.68, -0.78, 0.21, -0.04, 0.19, 0.32, -0.39, 0.92, -0.07, 0.26, 0.27, -0.63};
const std::vector<float> kLstmP = {0.76, 0.05, 0.83, -0.91, -0.94, -0.96};

TEST(RefRnn, LstmPeepholesSequenceLensLayout0) {
  Tensor lens = Tensor::from_vector<int64_t>({2}, {2, 3});
  auto r = testing::run_ref_op("LSTM",
                               {F({3, 2, 3}, kX), F({1, 8, 3}, kLstmW), F({1, 8, 2}, kLstmR), F({1, 16}, kLstmB),
                                lens, F({1, 2, 2}, {-0.88, -0.18, 0.53, 0.63}), F({1, 2, 2}, {0.46, -0.77, 0.83, 0.6}), F({1, 6}, kLstmP)},
                               {attr_i("hidden_size", 2)}, 14, 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {3, 1, 2, 2}, {0.171394968, -0.218817709, 0.0821389263, -0.153096198, -0.00972789794, -0.365802823, 0.166063733, -0.229264386, 0, 0, 0.0632615083, -0.114469907});
  testing::expect_tensor_near(r.out(1), {1, 2, 2}, {-0.00972789794, -0.365802823, 0.0632615083, -0.114469907});
  testing::expect_tensor_near(r.out(2), {1, 2, 2}, {-0.109022438, -0.466548513, 0.393565821, -0.164675313});
}

TEST(RefRnn, LstmLayout1) {
  Tensor lens = Tensor::from_vector<int32_t>({2}, {2, 3});
  auto r = testing::run_ref_op("LSTM",
                               {F({2, 3, 3}, {0.25, 0.79, 0.55, -0.99, 0.64, 0.59, -0.49, -0.11, 0.01, -0.55, -0.4, 0.75, -0.06, -0.39, -0.44, 0.11, 0.99, 0.59}), F({1, 8, 3}, kLstmW), F({1, 8, 2}, kLstmR),
                                F({1, 16}, kLstmB), lens, F({2, 1, 2}, {-0.88, -0.18, 0.53, 0.63}),
                                F({2, 1, 2}, {0.46, -0.77, 0.83, 0.6}), F({1, 6}, kLstmP)},
                               {attr_i("hidden_size", 2), attr_i("layout", 1)}, 14, 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {2, 3, 1, 2}, {0.171394968, -0.218817709, -0.00972789794, -0.365802823, 0, 0, 0.0821389263, -0.153096198, 0.166063733, -0.229264386, 0.0632615083, -0.114469907});
  testing::expect_tensor_near(r.out(1), {2, 1, 2}, {-0.00972789794, -0.365802823, 0.0632615083, -0.114469907});
  testing::expect_tensor_near(r.out(2), {2, 1, 2}, {-0.109022438, -0.466548513, 0.393565821, -0.164675313});
}

TEST(RefRnn, DoubleInputAndDefaults) {
  // Zero weights: h stays tanh(0) = 0 for RNN; LSTM with zero weights gives c = 0.5 * c_prev.
  Tensor x = Tensor::from_vector<double>({2, 1, 1}, {1.0, 2.0});
  Tensor w = Tensor(DType::float64, {1, 1, 1});
  Tensor rr = Tensor(DType::float64, {1, 1, 1});
  auto r = testing::run_ref_op("RNN", {x, w, rr}, {attr_i("hidden_size", 1)}, 14, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out(0).dtype(), DType::float64);
  testing::expect_tensor_near(r.out(1), {1, 1, 1}, {0.0});
}

TEST(RefRnn, RejectsBadShapesAndAttributes) {
  auto r = testing::run_ref_op("RNN", {F({3, 2, 3}, kX), F({1, 2, 4}, std::vector<float>(8, 0.f)), F({1, 2, 2}, {0, 0, 0, 0})},
                               {attr_i("hidden_size", 2)}, 14, 2);
  EXPECT_NE(r.error.find("'W'"), std::string::npos) << r.error;
  r = testing::run_ref_op("GRU", {F({3, 2, 3}, kX), F({1, 6, 3}, std::vector<float>(18, 0.f)),
                                  F({1, 6, 2}, std::vector<float>(12, 0.f))},
                          {attr_i("hidden_size", 2), attr_s("direction", "sideways")}, 14, 2);
  EXPECT_NE(r.error.find("direction"), std::string::npos) << r.error;
  Tensor lens = Tensor::from_vector<int32_t>({2}, {4, 1});
  r = testing::run_ref_op("RNN", {F({3, 2, 3}, kX), F({1, 2, 3}, std::vector<float>(6, 0.f)), F({1, 2, 2}, {0, 0, 0, 0}),
                                  Tensor(), lens},
                          {attr_i("hidden_size", 2)}, 14, 2);
  EXPECT_NE(r.error.find("sequence_lens"), std::string::npos) << r.error;
  r = testing::run_ref_op("RNN", {F({3, 2, 3}, kX), F({1, 2, 3}, std::vector<float>(6, 0.f)), F({1, 2, 2}, {0, 0, 0, 0})},
                          {attr_i("hidden_size", 2), attr_strs("activations", {"Swish"})}, 14, 2);
  EXPECT_NE(r.error.find("Swish"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
