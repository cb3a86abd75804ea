#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;

Tensor F(const Shape& shape, const std::vector<float>& v) { return Tensor::from_vector<float>(shape, v); }

// Expected values were computed with numpy.fft (and, for MelWeightMatrix, the ONNX numpy definition).

TEST(RefSignal, DftRealInputOpset17) {
  auto r = testing::run_ref_op("DFT", {F({2, 5, 3, 1}, {-0.74, -0, 0.2, -0.94, -0.7, 0.86, -0.86, -0.74, 0.9, 0.24, -0.26, 0.02, 0.33, -0.45, -0.72, 0.58, 0.34, 0.02, 0.63, 0.1, 0.96, -0.59, 0.11, -0.03, -0.29, 0.18, -0.53, 0.6, 0.73, -0.74})}, {attr_i("axis", 1)}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 5, 3, 2}, {-1.97, 0, -2.15, 0, 1.26, 0, -0.42690983, 1.85440555, 0.453647451, 0.51990105, -0.501033256, -2.01992032, -0.43809017, -0.299674898, 0.621352549, -0.309560815, 0.371033256, -0.0917709643, -0.43809017, 0.299674898, 0.621352549, 0.309560815, 0.371033256, 0.0917709643, -0.42690983, -1.85440555, 0.453647451, -0.51990105, -0.501033256, 2.01992032, 0.93, 0, 1.46, 0, -0.32, 0, 1.67202586, 0.14780388, 0.361869177, 0.640310573, 0.541033256, -1.9106887, -0.687025858, -0.302950512, -0.241869177, 0.303730753, -0.331033256, -0.523706671, -0.687025858, 0.302950512, -0.241869177, -0.303730753, -0.331033256, 0.523706671, 1.67202586, -0.14780388, 0.361869177, -0.640310573, 0.541033256, 1.9106887}, 1e-5, 1e-4);
}

TEST(RefSignal, DftInverseComplexPaddedOpset20DefaultAxis) {
  Tensor len = Tensor::scalar<int64_t>(5);
  auto r = testing::run_ref_op("DFT", {F({1, 4, 3, 2}, {-0.07, -0.45, -0.83, 0.79, -0.14, -0.7, 0.35, -0.6, 0.8, -0.57, -0.93, -0.6, -0.31, -0.06, 0.81, 0.39, -0.32, -0.97, -0.68, 0.99, -0.08, 0.38, -0.89, -0.93}), len}, {attr_i("inverse", 1)}, 20);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 4, 5, 2}, {-0.208, -0.072, -0.110621339, -0.102246304, -0.114373637, -0.332029834, 0.337662327, -0.190144295, 0.025332649, 0.246420433, 0.044, -0.354, 0.448874553, -0.0153049124, -0.164039143, 0.20608805, -0.0698006169, -0.335796254, 0.0909652069, -0.100986884, 0.036, -0.128, 0.0796857714, 0.285505522, -0.443190055, 0.0210362054, 0.0175143731, -0.29114145, -1.0089945e-05, 0.052599723, -0.33, 0.088, 0.0401085148, 0.252119773, -0.399628944, 0.238921043, 0.0435074381, -0.0808459484, -0.0339870086, 0.491805132}, 1e-5, 1e-4);
  // Same with an explicit axis input (-2) and the double type.
  Tensor xd = Tensor::from_vector<double>({1, 4, 3, 2}, {-0.07, -0.45, -0.83, 0.79, -0.14, -0.7, 0.35, -0.6, 0.8, -0.57, -0.93, -0.6, -0.31, -0.06, 0.81, 0.39, -0.32, -0.97, -0.68, 0.99, -0.08, 0.38, -0.89, -0.93});
  r = testing::run_ref_op("DFT", {xd, len, Tensor::scalar<int64_t>(-2)}, {attr_i("inverse", 1)}, 20);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  testing::expect_tensor_near(r.out(), {1, 4, 5, 2}, {-0.208, -0.072, -0.110621339, -0.102246304, -0.114373637, -0.332029834, 0.337662327, -0.190144295, 0.025332649, 0.246420433, 0.044, -0.354, 0.448874553, -0.0153049124, -0.164039143, 0.20608805, -0.0698006169, -0.335796254, 0.0909652069, -0.100986884, 0.036, -0.128, 0.0796857714, 0.285505522, -0.443190055, 0.0210362054, 0.0175143731, -0.29114145, -1.0089945e-05, 0.052599723, -0.33, 0.088, 0.0401085148, 0.252119773, -0.399628944, 0.238921043, 0.0435074381, -0.0808459484, -0.0339870086, 0.491805132}, 1e-7, 1e-6);
}

TEST(RefSignal, DftOnesidedTruncated) {
  Tensor len = Tensor::scalar<int32_t>(4);
  auto r = testing::run_ref_op("DFT", {F({2, 5, 3, 1}, {-0.74, -0, 0.2, -0.94, -0.7, 0.86, -0.86, -0.74, 0.9, 0.24, -0.26, 0.02, 0.33, -0.45, -0.72, 0.58, 0.34, 0.02, 0.63, 0.1, 0.96, -0.59, 0.11, -0.03, -0.29, 0.18, -0.53, 0.6, 0.73, -0.74}), len}, {attr_i("axis", 1), attr_i("onesided", 1)}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 3, 2}, {-2.3, 0, -1.7, 0, 1.98, 0, 0.12, 1.18, 0.74, 0.44, -0.7, -0.84, -0.9, 0, 0.22, 0, 0.22, 0, 0.33, 0, 0.73, 0, 0.42, 0, 1.17, -0.92, 0.23, 0.08, 0.05, -1.49, -0.35, 0, 0.17, 0, -0.44, 0}, 1e-5, 1e-4);
}

TEST(RefSignal, DftRejectsBadAxisAndLastDim) {
  auto r = testing::run_ref_op("DFT", {F({1, 4, 1}, {1, 2, 3, 4})}, {attr_i("axis", 2)}, 17);
  EXPECT_NE(r.error.find("axis 2"), std::string::npos) << r.error;
  r = testing::run_ref_op("DFT", {F({1, 2, 3}, {1, 2, 3, 4, 5, 6})}, {attr_i("axis", 1)}, 17);
  EXPECT_NE(r.error.find("last dim"), std::string::npos) << r.error;
  r = testing::run_ref_op("DFT", {F({1, 4, 1}, {1, 2, 3, 4}), Tensor::scalar<int64_t>(0)}, {}, 17);
  EXPECT_NE(r.error.find("dft_length"), std::string::npos) << r.error;
}

TEST(RefSignal, StftWindowOnesided) {
  auto r = testing::run_ref_op("STFT", {F({1, 10, 1}, {0.69, 0.18, -0.38, -0.37, -0.82, -0.65, -0.95, 0.68, -0.07, -0.75}), Tensor::scalar<int64_t>(3), F({4}, {0.48, -0.61, -0.88, 0.2})}, {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 3, 3, 2}, {0.4818, 0, -0.0032, 0.0358, 0.8494, 0, 0.7046, 0, -0.7496, -0.6902, 0.0842, 0, -0.9592, 0, -0.5176, 0.2648, 0.1704, 0}, 1e-5, 1e-4);
}

TEST(RefSignal, StftComplexFrameLengthFull) {
  auto r = testing::run_ref_op("STFT", {F({2, 7, 2}, {0.79, -0.95, 0.61, -0.62, -0.81, -0.96, -0.41, 0.45, -0.01, 0.71, -0.57, -0.37, -0.48, 0.96, 0.88, -0.32, -0.13, -0.37, 0.49, -0.92, -0.87, -0.19, -0.51, 0.69, 0.48, 0.09, 0.32, 0.38}), Tensor::scalar<int32_t>(2), Tensor(),
                                        Tensor::scalar<int32_t>(4)},
                               {attr_i("onesided", 0)}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2, 4, 2}, {0.18, -2.08, 0.53, -1.01, -0.22, -1.74, 2.67, 1.03, -1.8, -0.17, 0.02, -1.83, 0.16, -0.33, -1.62, -1.51, 0.37, -1.8, 0.21, -0.14, 2.37, -0.68, 0.57, 1.34, -0.41, -0.33, 0.72, -0.26, 0.37, -0.13, 1.28, -2.96}, 1e-5, 1e-4);
}

TEST(RefSignal, StftRejectsMissingLengthAndBadStep) {
  auto r = testing::run_ref_op("STFT", {F({1, 10, 1}, {0.69, 0.18, -0.38, -0.37, -0.82, -0.65, -0.95, 0.68, -0.07, -0.75}), Tensor::scalar<int64_t>(3)}, {}, 17);
  EXPECT_NE(r.error.find("frame_length"), std::string::npos) << r.error;
  r = testing::run_ref_op("STFT", {F({1, 10, 1}, {0.69, 0.18, -0.38, -0.37, -0.82, -0.65, -0.95, 0.68, -0.07, -0.75}), Tensor::scalar<int64_t>(0), F({4}, {0.48, -0.61, -0.88, 0.2})}, {}, 17);
  EXPECT_NE(r.error.find("frame_step"), std::string::npos) << r.error;
  r = testing::run_ref_op("STFT", {F({1, 10, 1}, {0.69, 0.18, -0.38, -0.37, -0.82, -0.65, -0.95, 0.68, -0.07, -0.75}), Tensor::scalar<int64_t>(1), F({4}, {0.48, -0.61, -0.88, 0.2}),
                                   Tensor::scalar<int64_t>(5)}, {}, 17);
  EXPECT_NE(r.error.find("does not match"), std::string::npos) << r.error;
}

TEST(RefSignal, Windows) {
  auto r = testing::run_ref_op("HannWindow", {Tensor::scalar<int32_t>(7)}, {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float32);
  testing::expect_tensor_near(r.out(), {7}, {0, 0.188255099, 0.611260467, 0.950484434, 0.950484434, 0.611260467, 0.188255099});
  r = testing::run_ref_op("HammingWindow", {Tensor::scalar<int64_t>(7)},
                          {attr_i("periodic", 0), attr_i("output_datatype", 11)}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  testing::expect_tensor_near(r.out(), {7}, {0.0869565217, 0.315217391, 0.77173913, 1, 0.77173913, 0.315217391, 0.0869565217}, 1e-8, 1e-8);
  r = testing::run_ref_op("BlackmanWindow", {Tensor::scalar<int64_t>(7)}, {attr_i("output_datatype", 10)}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {7}, {-1.38777878e-17, 0.0904534244, 0.459182958, 0.920363618, 0.920363618, 0.459182958, 0.0904534244}, 1e-3, 1e-3);
  r = testing::run_ref_op("HannWindow", {Tensor::scalar<int64_t>(0)}, {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), Shape{0});
  r = testing::run_ref_op("HannWindow", {Tensor::scalar<int64_t>(-3)}, {}, 17);
  EXPECT_NE(r.error.find("size"), std::string::npos) << r.error;
  r = testing::run_ref_op("HannWindow", {Tensor::scalar<int64_t>(3)}, {attr_i("output_datatype", 8)}, 17);
  EXPECT_NE(r.error.find("output_datatype"), std::string::npos) << r.error;
}

TEST(RefSignal, MelWeightMatrix) {
  auto r = testing::run_ref_op("MelWeightMatrix",
                               {Tensor::scalar<int32_t>(5), Tensor::scalar<int32_t>(40), Tensor::scalar<int32_t>(16000),
                                Tensor::scalar<float>(100.f), Tensor::scalar<float>(7000.f)},
                               {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {21, 5}, {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.666666667, 0.333333333, 0, 0, 0, 0.333333333, 0.666666667, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.75, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  r = testing::run_ref_op("MelWeightMatrix",
                          {Tensor::scalar<int32_t>(0), Tensor::scalar<int32_t>(40), Tensor::scalar<int32_t>(16000),
                           Tensor::scalar<float>(100.f), Tensor::scalar<float>(7000.f)},
                          {}, 17);
  EXPECT_NE(r.error.find("num_mel_bins"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
