// Timing of the CPU backend's own kernels against the reference on BERT-base-sized tensors.
// Disabled by default; run with
//   hwopt_unit_tests --gtest_also_run_disabled_tests --gtest_filter='CpuOwnPerf*'
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_ints;

/// Median wall time of one run in milliseconds (after warm-up runs; at most ~0.4 s of runs).
double median_ms(testing::PreparedOp& op) {
  for (int i = 0; i < 2; ++i) op.run();
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  while (times.size() < 7 ||
         (times.size() < 200 && std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400))) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = op.run();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void time_case(const std::string& label, const std::string& name, const std::string& op_type,
               const std::vector<Tensor>& inputs, std::vector<ir::Attribute> attrs = {}, size_t num_outputs = 1,
               const std::vector<size_t>& constant_inputs = {}) {
  auto own = testing::prepare_op(name, op_type, inputs, attrs, 17, num_outputs, constant_inputs);
  auto ref = testing::prepare_op("", op_type, inputs, attrs, 17, num_outputs, constant_inputs);
  ASSERT_TRUE(own && ref) << label;
  ASSERT_EQ(own->declined, "") << label;
  const double r = median_ms(*ref);
  omp_set_num_threads(1);
  const double o1 = median_ms(*own);
  omp_set_num_threads(2);
  const double o2 = median_ms(*own);
  EXPECT_FALSE(own->used_reference) << label;
  std::printf("%-44s ref %9.3f ms | own 1 thread %8.3f ms (%6.1fx) | 2 threads %8.3f ms (%6.1fx)\n", label.c_str(), r,
              o1, r / o1, o2, r / o2);
}

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(CpuOwnPerf, DISABLED_BertSizedOps) {
  const Tensor heads = testing::random_of(DType::float32, {8, 128, 12, 64}, 1);
  const Tensor merged = testing::random_of(DType::float32, {8, 12, 128, 64}, 2);
  time_case("Transpose [8,128,12,64] perm 0,2,1,3", "own:transpose", "Transpose", {heads},
            {attr_ints("perm", {0, 2, 1, 3})});
  time_case("Transpose [8,128,12,64] perm 0,2,3,1", "own:transpose", "Transpose", {heads},
            {attr_ints("perm", {0, 2, 3, 1})});
  time_case("Transpose [8,12,128,64] perm 0,2,1,3", "own:transpose", "Transpose", {merged},
            {attr_ints("perm", {0, 2, 1, 3})});
  time_case("Transpose [8,128,768] perm 0,2,1", "own:transpose", "Transpose",
            {testing::random_of(DType::float32, {8, 128, 768}, 3)}, {attr_ints("perm", {0, 2, 1})});

  const Tensor table = testing::random_of(DType::float32, {30522, 768}, 4);
  Tensor ids(DType::int64, {8, 128});
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int64_t>()[i] = (i * 7919) % 30522;
  time_case("Gather [30522,768] ids [8,128]", "own:gather", "Gather", {table, ids}, {attr_i("axis", 0)}, 1, {0});

  const Tensor x = testing::random_of(DType::float32, {8, 128, 768}, 5);
  const Tensor y = testing::random_of(DType::float32, {8, 128, 768}, 6);
  const Tensor row = testing::random_of(DType::float32, {768}, 7);
  const Tensor col = testing::random_of(DType::float32, {8, 128, 1}, 8);
  time_case("Add [8,128,768] + same", "own:binary", "Add", {x, y});
  time_case("Add [8,128,768] + [768]", "own:binary", "Add", {x, row});
  time_case("Mul [8,128,768] * [8,128,1]", "own:binary", "Mul", {x, col});
  time_case("Div [8,128,768] / scalar", "own:binary", "Div", {x, Tensor::scalar<float>(8.f)});
  time_case("Pow [8,128,768] ^ 2", "own:pow", "Pow", {x, Tensor::scalar<float>(2.f)});
  time_case("Pow [8,128,768] ^ 3 (libm)", "own:pow", "Pow", {x, Tensor::scalar<float>(3.f)});
  time_case("Erf [8,128,3072]", "own:erf", "Erf", {testing::random_of(DType::float32, {8, 128, 3072}, 9, -4, 4)});
  time_case("Cast f32->f16 [8,128,768]", "own:cast", "Cast", {x}, {attr_i("to", 10)});
  time_case("Cast f32->int64 [8,128,768]", "own:cast", "Cast", {x}, {attr_i("to", 7)});
  time_case("Cast bool->f32 [8,12,128,128]", "own:cast", "Cast",
            {testing::random_of(DType::boolean, {8, 12, 128, 128}, 10)}, {attr_i("to", 1)});
  time_case("Where [8,1,1,128] ? s : [8,12,128,128]", "own:where", "Where",
            {testing::random_of(DType::boolean, {8, 1, 1, 128}, 11), Tensor::scalar<float>(-1e4f),
             testing::random_of(DType::float32, {8, 12, 128, 128}, 12)});
  time_case("Equal [8,12,128,128] == scalar", "own:compare", "Equal",
            {testing::random_of(DType::float32, {8, 12, 128, 128}, 13, -2, 2), Tensor::scalar<float>(1.f)});
  time_case("Less [8,128,768] < [768]", "own:compare", "Less", {x, row});

  const Tensor qkv = testing::random_of(DType::float32, {8, 128, 2304}, 14);
  time_case("Slice [8,128,2304] last axis 768:1536", "own:slice", "Slice", {qkv, i64({768}), i64({1536}), i64({2})});
  time_case("Slice [8,128,2304] axis 0 2:6 (view)", "own:slice", "Slice", {qkv, i64({2}), i64({6}), i64({0})});
  time_case("Split [8,128,2304] axis 2 in 3", "own:split", "Split", {qkv}, {attr_i("axis", 2)}, 3);
  time_case("Concat 2 x [8,12,128,64] axis 2", "own:concat", "Concat", {merged, merged}, {attr_i("axis", 2)});
  time_case(
      "Concat 2 x [8,12,128,64] axis 2 int64", "own:concat", "Concat",
      {testing::random_of(DType::int64, {8, 12, 128, 64}, 15), testing::random_of(DType::int64, {8, 12, 128, 64}, 16)},
      {attr_i("axis", 2)});
}

}  // namespace
}  // namespace hwopt
