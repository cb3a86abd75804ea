// The CPU backend's own Gather and GatherElements against the reference kernels, bit for bit.
#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;

/// Random indices in [-size, size) of `dtype` (int32 or int64), negatives included.
Tensor random_indices(DType dtype, const Shape& shape, int64_t size, uint32_t seed) {
  Tensor t(dtype, shape);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(-size, size - 1);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t v = dist(rng);
    if (dtype == DType::int64) {
      t.data<int64_t>()[i] = v;
    } else {
      t.data<int32_t>()[i] = static_cast<int32_t>(v);
    }
  }
  return t;
}

TEST(CpuOwnGather, MatchesReferenceOverShapesAxesAndDtypes) {
  struct Case {
    Shape data, indices;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{10}, {4}, 0},           {{10}, {}, 0},          {{5, 7}, {3}, 0},        {{5, 7}, {3}, 1},
      {{5, 7}, {2, 3}, -1},     {{4, 5, 6}, {2, 2}, 1}, {{4, 5, 6}, {7}, -3},    {{4, 5, 6}, {}, 2},
      {{3, 1, 9}, {4, 1}, 1},   {{2, 3, 4, 5}, {6}, 3}, {{7, 33}, {5, 1, 2}, 0}, {{4, 5, 6}, {0}, 1},
      {{1000, 64}, {2, 16}, 0},  // an embedding lookup
  };
  uint32_t seed = 1;
  for (const Case& c : cases)
    for (DType dt : {DType::float32, DType::int64, DType::float16, DType::boolean})
      for (DType it : {DType::int64, DType::int32}) {
        const int64_t r = static_cast<int64_t>(c.data.size());
        const int64_t size = c.data[c.axis < 0 ? c.axis + r : c.axis];
        Tensor data = testing::random_of(dt, c.data, seed++);
        Tensor idx = random_indices(it, c.indices, size, seed++);
        testing::expect_candidate_matches("own:gather", "Gather", {data, idx}, {attr_i("axis", c.axis)},
                                          shape_str(c.data) + " idx " + shape_str(c.indices) + " axis " +
                                              std::to_string(c.axis) + " " + dtype_name(dt) + "/" + dtype_name(it));
      }
}

TEST(CpuOwnGather, BertEmbeddingLookupMatchesReference) {
  Tensor table = testing::random_of(DType::float32, {30522, 768}, 3);
  Tensor ids = random_indices(DType::int64, {8, 128}, 30522, 4);
  testing::expect_candidate_matches("own:gather", "Gather", {table, ids}, {attr_i("axis", 0)}, "embedding");
  auto cpu = testing::run_backend_op("cpu", "Gather", {table, ids}, {attr_i("axis", 0)}, 13, 1, "", {0});
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "cpu:own:gather");
}

TEST(CpuOwnGather, ScalarIndexIntoOuterAxisIsAView) {
  Tensor data = testing::random_of(DType::int64, {4, 3}, 3);
  Tensor idx = Tensor::scalar<int64_t>(-2);
  auto got = testing::run_candidate("own:gather", "Gather", {data, idx}, {attr_i("axis", 0)});
  ASSERT_TRUE(got.error.empty()) << got.error;
  EXPECT_EQ(got.out().storage(), data.storage());
  auto ref = testing::run_ref_op("Gather", {data, idx}, {attr_i("axis", 0)});
  testing::expect_same(got.out(), ref.out(), "scalar index");
}

TEST(CpuOwnGather, OutOfRangeIndexIsAnErrorNamingIt) {
  Tensor data = testing::random_of(DType::float32, {5, 4}, 3);
  for (int64_t bad : {5, -6, 1000}) {
    Tensor idx = Tensor::from_vector<int64_t>({3}, {0, bad, 1});
    auto got = testing::run_candidate("own:gather", "Gather", {data, idx}, {attr_i("axis", 0)});
    auto ref = testing::run_ref_op("Gather", {data, idx}, {attr_i("axis", 0)});
    ASSERT_FALSE(ref.error.empty());
    EXPECT_EQ(got.error, ref.error);
    EXPECT_NE(got.error.find(std::to_string(bad)), std::string::npos) << got.error;
  }
}

TEST(CpuOwnGather, BadAxisGoesToReferenceForItsMessage) {
  Tensor data = testing::random_of(DType::float32, {5, 4}, 3);
  Tensor idx = Tensor::from_vector<int64_t>({1}, {0});
  auto got = testing::run_candidate("own:gather", "Gather", {data, idx}, {attr_i("axis", 2)});
  EXPECT_TRUE(got.used_reference);
  EXPECT_NE(got.error.find("axis"), std::string::npos) << got.error;
}

TEST(CpuOwnGather, DeclinesStringsAndFloatIndices) {
  auto s = testing::run_candidate("own:gather", "Gather",
                                  {testing::random_of(DType::string, {3}, 1), Tensor::from_vector<int64_t>({1}, {0})});
  EXPECT_NE(s.declined.find("string"), std::string::npos) << s.declined;
  auto f = testing::run_candidate("own:gather", "Gather",
                                  {testing::random_of(DType::float32, {3}, 1), Tensor::from_vector<float>({1}, {0.f})});
  EXPECT_NE(f.declined.find("indices"), std::string::npos) << f.declined;
}

TEST(CpuOwnGatherElements, MatchesReference) {
  struct Case {
    Shape data, indices;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{10}, {4}, 0},
      {{5, 7}, {3, 7}, 0},
      {{5, 7}, {5, 3}, 1},
      {{5, 7}, {2, 9}, -1},
      {{4, 5, 6}, {4, 2, 6}, 1},
      {{4, 5, 6}, {3, 5, 11}, 2},
      {{4, 5, 6}, {7, 2, 3}, -3},
      {{300, 257}, {300, 300}, 1},
  };
  uint32_t seed = 11;
  for (const Case& c : cases)
    for (DType dt : {DType::float32, DType::int32, DType::uint8})
      for (DType it : {DType::int64, DType::int32}) {
        const int64_t r = static_cast<int64_t>(c.data.size());
        const int64_t size = c.data[c.axis < 0 ? c.axis + r : c.axis];
        Tensor data = testing::random_of(dt, c.data, seed++);
        Tensor idx = random_indices(it, c.indices, size, seed++);
        testing::expect_candidate_matches(
            "own:gather_elements", "GatherElements", {data, idx}, {attr_i("axis", c.axis)},
            shape_str(c.data) + " idx " + shape_str(c.indices) + " axis " + std::to_string(c.axis));
      }
}

TEST(CpuOwnGatherElements, OutOfRangeIndexIsAnError) {
  Tensor data = testing::random_of(DType::float32, {3, 4}, 3);
  Tensor idx = Tensor::from_vector<int64_t>({1, 2}, {1, 4});
  auto got = testing::run_candidate("own:gather_elements", "GatherElements", {data, idx}, {attr_i("axis", 1)});
  auto ref = testing::run_ref_op("GatherElements", {data, idx}, {attr_i("axis", 1)});
  ASSERT_FALSE(ref.error.empty());
  EXPECT_EQ(got.error, ref.error);
}

}  // namespace
}  // namespace hwopt
