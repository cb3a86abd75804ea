#include <cmath>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_i;
using testing::attr_ints;

std::vector<double> values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.element_as_double(i));
  return v;
}

TEST(RefRandom, UniformShapeDtypeRangeAndSeed) {
  auto a = testing::run_ref_op("RandomUniform", {},
                               {attr_ints("shape", {4, 50}), attr_f("low", -2.f), attr_f("high", 3.f), attr_f("seed", 5.f)},
                               17);
  ASSERT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.out().dtype(), DType::float32);
  EXPECT_EQ(a.out().shape(), (Shape{4, 50}));
  double mean = 0;
  for (double v : values(a.out())) {
    EXPECT_GE(v, -2.0);
    EXPECT_LE(v, 3.0);
    mean += v / 200.0;
  }
  EXPECT_NEAR(mean, 0.5, 0.4);
  auto b = testing::run_ref_op("RandomUniform", {},
                               {attr_ints("shape", {4, 50}), attr_f("low", -2.f), attr_f("high", 3.f), attr_f("seed", 5.f)},
                               17);
  EXPECT_EQ(values(a.out()), values(b.out()));  // same seed, same values
  auto c = testing::run_ref_op("RandomUniform", {},
                               {attr_ints("shape", {4, 50}), attr_f("low", -2.f), attr_f("high", 3.f), attr_f("seed", 6.f)},
                               17);
  EXPECT_NE(values(a.out()), values(c.out()));
}

TEST(RefRandom, NormalStatisticsAndDtype) {
  auto r = testing::run_ref_op("RandomNormal", {},
                               {attr_ints("shape", {2000}), attr_f("mean", 1.f), attr_f("scale", 2.f),
                                attr_i("dtype", 11), attr_f("seed", 1.f)},
                               17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  double m = 0, s2 = 0;
  auto v = values(r.out());
  for (double e : v) m += e / v.size();
  for (double e : v) s2 += (e - m) * (e - m) / v.size();
  EXPECT_NEAR(m, 1.0, 0.2);
  EXPECT_NEAR(std::sqrt(s2), 2.0, 0.2);
}

TEST(RefRandom, LikeVariantsTakeShapeAndDtype) {
  Tensor x = Tensor::from_vector<Half>({2, 3}, std::vector<Half>(6, Half(0.f)));
  auto r = testing::run_ref_op("RandomUniformLike", {x}, {attr_f("seed", 2.f)}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  EXPECT_EQ(r.out().shape(), (Shape{2, 3}));
  Tensor xi = Tensor::from_vector<int32_t>({3}, {1, 2, 3});
  r = testing::run_ref_op("RandomNormalLike", {xi}, {attr_i("dtype", 1)}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float32);
  EXPECT_EQ(r.out().shape(), (Shape{3}));
  r = testing::run_ref_op("RandomNormalLike", {xi}, {}, 17);  // int output is not allowed
  EXPECT_NE(r.error.find("dtype"), std::string::npos) << r.error;
}

TEST(RefRandom, BernoulliExtremesAndDtype) {
  Tensor p = Tensor::from_vector<float>({2, 4}, {0, 1, 0, 1, 1, 1, 0, 0});
  auto r = testing::run_ref_op("Bernoulli", {p}, {attr_f("seed", 0.f)}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float32);
  testing::expect_tensor_near(r.out(), {2, 4}, {0, 1, 0, 1, 1, 1, 0, 0});
  r = testing::run_ref_op("Bernoulli", {p}, {attr_i("dtype", 9)}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::boolean);
  testing::expect_tensor_near(r.out(), {2, 4}, {0, 1, 0, 1, 1, 1, 0, 0});
  r = testing::run_ref_op("Bernoulli", {Tensor::from_vector<int32_t>({1}, {1})}, {}, 15);
  EXPECT_NE(r.error.find("float"), std::string::npos) << r.error;
}

TEST(RefRandom, MultinomialPicksOnlyPossibleClasses) {
  // Row 0 puts all mass on class 2, row 1 on classes 0 and 1.
  Tensor logits = Tensor::from_vector<float>({2, 3}, {-INFINITY, -INFINITY, 0.f, 1.f, 1.f, -INFINITY});
  auto r = testing::run_ref_op("Multinomial", {logits}, {attr_i("sample_size", 20), attr_i("dtype", 7), attr_f("seed", 3.f)}, 7);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int64);
  ASSERT_EQ(r.out().shape(), (Shape{2, 20}));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(r.out().data<int64_t>()[i], 2);
    EXPECT_LE(r.out().data<int64_t>()[20 + i], 1);
  }
  r = testing::run_ref_op("Multinomial", {logits}, {}, 7);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  EXPECT_EQ(r.out().shape(), (Shape{2, 1}));
  r = testing::run_ref_op("Multinomial", {Tensor::from_vector<float>({3}, {1, 2, 3})}, {}, 7);
  EXPECT_NE(r.error.find("batch_size"), std::string::npos) << r.error;
  r = testing::run_ref_op("RandomUniform", {}, {attr_ints("shape", {2, -1})}, 17);
  EXPECT_NE(r.error.find("shape"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
