#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_floats;
using testing::attr_i;
using testing::attr_ints;
using testing::attr_s;

ir::Attribute attr_strs(const std::string& name, std::vector<std::string> v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::strings;
  a.strings = std::move(v);
  return a;
}

std::vector<ir::Attribute> int_attrs(const std::string& mode, int64_t min_n, int64_t max_n, int64_t skip) {
  return {attr_s("mode", mode), attr_i("min_gram_length", min_n), attr_i("max_gram_length", max_n),
          attr_i("max_skip_count", skip), attr_ints("ngram_counts", {0, 4}),
          attr_ints("ngram_indexes", {0, 1, 2, 3, 4, 5, 6}), attr_ints("pool_int64s", {2, 3, 5, 4, 5, 6, 7, 8, 6, 7})};
}

TEST(RefTfIdf, IntBatchUniAndBigramsWithSkips) {
  // The ONNX documentation example (expected output from the ONNX test data).
  Tensor x = Tensor::from_vector<int32_t>({2, 6}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8});
  auto r = testing::run_ref_op("TfIdfVectorizer", {x}, int_attrs("TF", 1, 2, 5), 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float32);
  testing::expect_tensor_near(r.out(), {2, 7}, {0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1});
  Tensor x1 = Tensor::from_vector<int64_t>({12}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8});
  r = testing::run_ref_op("TfIdfVectorizer", {x1}, int_attrs("TF", 2, 2, 0), 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {7}, {0, 0, 0, 0, 1, 1, 1});
}

TEST(RefTfIdf, SkipCountsEveryStride) {
  // Bigram (1, 2) in [1, 2, 1, 2]: twice with skip 0, never with skip 1, once with skip 2.
  Tensor x = Tensor::from_vector<int64_t>({4}, {1, 2, 1, 2});
  std::vector<ir::Attribute> attrs = {attr_s("mode", "TF"), attr_i("min_gram_length", 2), attr_i("max_gram_length", 2),
                                      attr_i("max_skip_count", 2), attr_ints("ngram_counts", {0, 0}),
                                      attr_ints("ngram_indexes", {0}), attr_ints("pool_int64s", {1, 2})};
  auto r = testing::run_ref_op("TfIdfVectorizer", {x}, attrs, 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1}, {3});
}

TEST(RefTfIdf, StringsWithWeightsAllModes) {
  Tensor x(DType::string, {2, 4});
  const char* toks[] = {"a", "b", "c", "a", "c", "c", "b", "a"};
  for (int i = 0; i < 8; ++i) x.data<std::string>()[i] = toks[i];
  // Pool n-grams: a, b, (a b), (b c) -> output slots 3, 2, 1, 0; weights 0.5, 2, 3, 4.
  auto attrs = [](const std::string& mode) {
    return std::vector<ir::Attribute>{attr_s("mode", mode), attr_i("min_gram_length", 1), attr_i("max_gram_length", 2),
                                      attr_i("max_skip_count", 1), attr_ints("ngram_counts", {0, 2}),
                                      attr_ints("ngram_indexes", {3, 2, 1, 0}),
                                      attr_strs("pool_strings", {"a", "b", "a", "b", "b", "c"}),
                                      attr_floats("weights", {0.5f, 2.f, 3.f, 4.f})};
  };
  auto r = testing::run_ref_op("TfIdfVectorizer", {x}, attrs("TF"), 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 4}, {1, 1, 1, 2, 0, 0, 1, 1});
  r = testing::run_ref_op("TfIdfVectorizer", {x}, attrs("IDF"), 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 4}, {4, 3, 2, 0.5, 0, 0, 2, 0.5});
  r = testing::run_ref_op("TfIdfVectorizer", {x}, attrs("TFIDF"), 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 4}, {4, 3, 2, 1, 0, 0, 2, 0.5});
}

TEST(RefTfIdf, RejectsInconsistentAttributes) {
  Tensor x = Tensor::from_vector<int64_t>({4}, {1, 2, 1, 2});
  auto attrs = int_attrs("TF", 1, 2, 0);
  attrs[5] = attr_ints("ngram_indexes", {0, 1});
  auto r = testing::run_ref_op("TfIdfVectorizer", {x}, attrs, 9);
  EXPECT_NE(r.error.find("ngram_indexes"), std::string::npos) << r.error;
  r = testing::run_ref_op("TfIdfVectorizer", {x}, int_attrs("BM25", 1, 2, 0), 9);
  EXPECT_NE(r.error.find("mode"), std::string::npos) << r.error;
  r = testing::run_ref_op("TfIdfVectorizer", {Tensor::from_vector<float>({2}, {1, 2})}, int_attrs("TF", 1, 2, 0), 9);
  EXPECT_NE(r.error.find("int32 or int64"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
