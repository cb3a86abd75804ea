#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

Tensor random_tensor(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.5f, 4.0f);
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (auto& f : v) f = d(rng);
  return Tensor::from_vector<float>(s, v);
}

// Element of a contiguous 3-D tensor.
double at3(const Tensor& t, int64_t i, int64_t j, int64_t k) {
  return t.element_as_double((i * t.dim(1) + j) * t.dim(2) + k);
}

TEST(RefConcat, ThreeInputsEachAxis) {
  for (int64_t axis : {0, 1, 2, -1, -3}) {
    const int64_t a = axis < 0 ? axis + 3 : axis;
    std::vector<Tensor> xs;
    std::vector<int64_t> lens{1, 3, 2};
    for (int i = 0; i < 3; ++i) {
      Shape s{2, 3, 4};
      s[a] = lens[i];
      xs.push_back(random_tensor(s, 10 + i));
    }
    auto r = run_ref_op("Concat", xs, {attr_i("axis", axis)}, 13);
    ASSERT_TRUE(r.error.empty()) << r.error;
    Shape os{2, 3, 4};
    os[a] = 6;
    ASSERT_EQ(r.out().shape(), os);
    // Independent check: locate each output element's source input by its coordinate on the axis.
    for (int64_t i = 0; i < os[0]; ++i)
      for (int64_t j = 0; j < os[1]; ++j)
        for (int64_t k = 0; k < os[2]; ++k) {
          int64_t c[3] = {i, j, k};
          int src = 0;
          while (c[a] >= lens[src]) c[a] -= lens[src++];
          EXPECT_EQ(at3(r.out(), i, j, k), at3(xs[src], c[0], c[1], c[2]));
        }
  }
}

TEST(RefConcat, IntsOpset1DefaultAxisAndEmpty) {
  Tensor a = Tensor::from_vector<int32_t>({2, 1}, {1, 2});
  Tensor b = Tensor::from_vector<int32_t>({2, 2}, {3, 4, 5, 6});
  auto r = run_ref_op("Concat", {a, b}, {}, 1);  // opset 1: axis defaults to 1
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 3, 4, 2, 5, 6});
  auto e = run_ref_op("Concat", {a, Tensor(DType::int32, {2, 0})}, {attr_i("axis", 1)}, 13);
  ASSERT_TRUE(e.error.empty()) << e.error;
  testing::expect_tensor_near(e.out(), {2, 1}, {1, 2});
}

TEST(RefConcat, MismatchesAreErrors) {
  Tensor a = random_tensor({2, 3}, 1);
  EXPECT_NE(run_ref_op("Concat", {a, random_tensor({3, 3}, 2)}, {attr_i("axis", 1)}, 13).error.find("must match"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Concat", {a, random_tensor({2, 3, 1}, 2)}, {attr_i("axis", 0)}, 13).error.find("ranks differ"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Concat", {a, Tensor(DType::int32, {2, 3})}, {attr_i("axis", 0)}, 13).error.find("dtype"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Concat", {a, a}, {attr_i("axis", 2)}, 13).error.find("out of range"), std::string::npos);
  EXPECT_NE(run_ref_op("Concat", {a, a}, {}, 13).error.find("required"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
