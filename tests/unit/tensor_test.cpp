#include <gtest/gtest.h>

#include <cmath>

#include "hwopt/tensor.h"

namespace hwopt {
namespace {

TEST(Tensor, AllocatesZeroedContiguous) {
  Tensor t(DType::float32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.data<float>()[i], 0.0f);
}

TEST(Tensor, PermuteIsAViewAndContiguousCopies) {
  Tensor t = Tensor::from_vector<int32_t>({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor p = t.permute({1, 0});
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.storage(), t.storage());
  Tensor c = p.contiguous();
  std::vector<int32_t> got(c.data<int32_t>(), c.data<int32_t>() + 6);
  EXPECT_EQ(got, (std::vector<int32_t>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, CreateRejectsOverflowingShape) {
  auto t = Tensor::create(DType::float32, {INT64_MAX / 2, 4});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("too large"), std::string::npos);
}

TEST(Half, RoundTripsAndRounds) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) EXPECT_EQ(static_cast<float>(Half(f)), f);
  EXPECT_TRUE(std::isinf(static_cast<float>(Half(70000.0f))));
  EXPECT_EQ(static_cast<float>(BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(BFloat16(3.0f)), 3.0f);
}

}  // namespace
}  // namespace hwopt
