// Data sets from .npy files: single files, directories of samples or batches, multi-input
// directories, batching, limits, dtype conversion and the errors naming file and input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/npy.h"
#include "quant/dataset.h"

namespace hwopt::quant {
namespace {

namespace fs = std::filesystem;

TensorInfo input_info(const std::string& name, DType dtype, Shape shape) {
  TensorInfo info;
  info.name = name;
  info.dtype = dtype;
  info.has_shape = true;
  info.shape = std::move(shape);
  return info;
}

// A float32 tensor of `shape` whose elements count up from `first`.
Tensor iota(const Shape& shape, float first) {
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  std::iota(v.begin(), v.end(), first);
  return Tensor::from_vector<float>(shape, v);
}

class QuantDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hwopt_quant_dataset_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const Tensor& t) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    EXPECT_TRUE(write_npy(path.string(), t).ok());
    return path.string();
  }
  fs::path dir_;
  // An image model: [batch, 1, 2, 2] float32.
  const std::vector<TensorInfo> image_model_{input_info("image", DType::float32, {-1, 1, 2, 2})};
};

TEST_F(QuantDatasetTest, OneFileSplitsIntoBatches) {
  const std::string file = write("data.npy", iota({5, 1, 2, 2}, 0));
  auto batches = load_dataset(file, image_model_, 2);
  ASSERT_TRUE(batches.ok()) << batches.status().to_string();
  ASSERT_EQ(batches->size(), 3u);
  EXPECT_EQ(batches->at(0).at("image").shape(), (Shape{2, 1, 2, 2}));
  EXPECT_EQ(batches->at(2).at("image").shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(batch_samples(batches->at(2)), 1);
  // Sample 4 (the last) starts at 16.
  EXPECT_EQ(batches->at(2).at("image").data<float>()[0], 16.0f);
  EXPECT_EQ(batches->at(1).at("image").data<float>()[0], 8.0f);

  auto limited = load_dataset(file, image_model_, 2, 3);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ(batch_samples(limited->at(1)), 1);
  // A limit above the data set's size keeps everything.
  EXPECT_EQ(load_dataset(file, image_model_, 8, 100)->at(0).at("image").dim(0), 5);
}

TEST_F(QuantDatasetTest, OneFileWithOneSample) {
  const std::string file = write("sample.npy", iota({1, 2, 2}, 3));
  auto batches = load_dataset(file, image_model_, 4);
  ASSERT_TRUE(batches.ok()) << batches.status().to_string();
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ(batches->at(0).at("image").shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(batches->at(0).at("image").data<float>()[3], 6.0f);
}

TEST_F(QuantDatasetTest, DirectoryOfSamplesAndBatchesInNameOrder) {
  write("dir/b.npy", iota({1, 2, 2}, 100));         // one sample
  write("dir/a.npy", iota({2, 1, 2, 2}, 0));        // two samples
  write("dir/c.npy", iota({3, 1, 2, 2}, 200));      // three samples
  write("dir/notes.txt.npy.bak", iota({1}, 0));     // not .npy: ignored
  auto batches = load_dataset((dir_ / "dir").string(), image_model_, 4);
  ASSERT_TRUE(batches.ok()) << batches.status().to_string();
  ASSERT_EQ(batches->size(), 2u);
  const Tensor& first = batches->at(0).at("image");
  EXPECT_EQ(first.dim(0), 4);
  // a[0], a[1], b, c[0]
  EXPECT_EQ(first.data<float>()[0], 0.0f);
  EXPECT_EQ(first.data<float>()[4], 4.0f);
  EXPECT_EQ(first.data<float>()[8], 100.0f);
  EXPECT_EQ(first.data<float>()[12], 200.0f);
  EXPECT_EQ(batches->at(1).at("image").dim(0), 2);
  EXPECT_EQ(batches->at(1).at("image").data<float>()[0], 204.0f);
}

TEST_F(QuantDatasetTest, Float64IsConvertedForFloat32Inputs) {
  const std::string file = write("f64.npy", Tensor::from_vector<double>({2, 1, 2, 2}, {0.5, 1, 2, 3, 4, 5, 6, 7}));
  auto batches = load_dataset(file, image_model_, 2);
  ASSERT_TRUE(batches.ok()) << batches.status().to_string();
  const Tensor& t = batches->at(0).at("image");
  EXPECT_EQ(t.dtype(), DType::float32);
  EXPECT_EQ(t.data<float>()[0], 0.5f);
  EXPECT_EQ(t.data<float>()[7], 7.0f);
}

TEST_F(QuantDatasetTest, MultiInputDirectory) {
  const std::vector<TensorInfo> model = {input_info("tokens", DType::int64, {-1, 3}),
                                         input_info("mask:0", DType::float32, {-1})};
  write("multi/tokens.npy", Tensor::from_vector<int64_t>({4, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  write("multi/mask_0.npy", iota({4}, 0));  // ':' is not kept in file names
  write("multi/labels.npy", Tensor::from_vector<int64_t>({4}, {0, 1, 0, 1}));  // ignored
  auto batches = load_dataset((dir_ / "multi").string(), model, 3);
  ASSERT_TRUE(batches.ok()) << batches.status().to_string();
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_EQ(batches->at(0).at("tokens").shape(), (Shape{3, 3}));
  EXPECT_EQ(batches->at(0).at("mask:0").shape(), (Shape{3}));
  EXPECT_EQ(batches->at(1).at("tokens").data<int64_t>()[2], 11);
  EXPECT_EQ(batches->at(1).at("mask:0").data<float>()[0], 3.0f);

  // Different sample counts.
  write("multi/mask_0.npy", iota({5}, 0));
  auto counts = load_dataset((dir_ / "multi").string(), model, 3);
  ASSERT_FALSE(counts.ok());
  EXPECT_NE(counts.status().message().find("mask:0"), std::string::npos) << counts.status().message();
  EXPECT_NE(counts.status().message().find("tokens"), std::string::npos) << counts.status().message();

  // A missing input file.
  fs::remove(dir_ / "multi/mask_0.npy");
  auto missing = load_dataset((dir_ / "multi").string(), model, 3);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::not_found);
  EXPECT_NE(missing.status().message().find("input 'mask:0'"), std::string::npos) << missing.status().message();

  // One file cannot feed two inputs.
  auto one_file = load_dataset((dir_ / "multi/tokens.npy").string(), model, 3);
  ASSERT_FALSE(one_file.ok());
  EXPECT_NE(one_file.status().message().find("2 inputs"), std::string::npos) << one_file.status().message();
}

TEST_F(QuantDatasetTest, ErrorsNameTheFileAndTheInput) {
  auto expect_error = [&](const Expected<std::vector<Batch>>& r, StatusCode code, const std::vector<std::string>& parts) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().to_string();
    for (const auto& p : parts) EXPECT_NE(r.status().message().find(p), std::string::npos) << r.status().message();
  };
  const std::string ints = write("ints.npy", Tensor::from_vector<int32_t>({1, 1, 2, 2}, {1, 2, 3, 4}));
  expect_error(load_dataset(ints, image_model_, 1), StatusCode::invalid_argument, {ints, "input 'image'", "int32", "float32"});
  const std::string wide = write("wide.npy", iota({2, 1, 2, 3}, 0));
  expect_error(load_dataset(wide, image_model_, 1), StatusCode::invalid_argument, {wide, "input 'image'", "dim 3 is 3"});
  const std::string flat = write("flat.npy", iota({4}, 0));
  expect_error(load_dataset(flat, image_model_, 1), StatusCode::invalid_argument, {flat, "rank 4"});
  expect_error(load_dataset((dir_ / "nothing.npy").string(), image_model_, 1), StatusCode::not_found, {"nothing.npy"});
  fs::create_directories(dir_ / "empty");
  expect_error(load_dataset((dir_ / "empty").string(), image_model_, 1), StatusCode::invalid_argument, {"no .npy files"});
  const std::string good = write("good.npy", iota({3, 1, 2, 2}, 0));
  expect_error(load_dataset(good, image_model_, 0), StatusCode::invalid_argument, {"batch size 0"});
  expect_error(load_dataset(good, image_model_, 1, -1), StatusCode::invalid_argument, {"limit -1"});
  const std::string garbage = (dir_ / "garbage.npy").string();
  { std::ofstream(garbage) << "not numpy"; }
  expect_error(load_dataset(garbage, image_model_, 1), StatusCode::invalid_argument, {"garbage.npy"});
  const std::string none = write("none.npy", iota({0, 1, 2, 2}, 0));
  expect_error(load_dataset(none, image_model_, 1), StatusCode::invalid_argument, {"no samples"});

  // A fixed batch dim: the batch size must match and the samples split evenly.
  const std::vector<TensorInfo> fixed = {input_info("image", DType::float32, {2, 1, 2, 2})};
  expect_error(load_dataset(good, fixed, 3), StatusCode::invalid_argument, {"input 'image'", "fixed batch of 2"});
  expect_error(load_dataset(good, fixed, 2), StatusCode::invalid_argument, {"3 samples", "batches of 2"});
  EXPECT_TRUE(load_dataset(good, fixed, 2, 2).ok());

  // Symbolic dims accept any size, but the files of one input must agree.
  const std::vector<TensorInfo> any_width = {input_info("image", DType::float32, {-1, 1, 2, -1})};
  write("mixed/a.npy", iota({1, 1, 2, 2}, 0));
  write("mixed/b.npy", iota({1, 1, 2, 3}, 0));
  expect_error(load_dataset((dir_ / "mixed").string(), any_width, 2), StatusCode::invalid_argument, {"b.npy", "a.npy", "[1,2,3]"});
  EXPECT_TRUE(load_dataset((dir_ / "mixed/b.npy").string(), any_width, 2).ok());
}

TEST_F(QuantDatasetTest, LabelsFollowTheBatches) {
  const std::string file = write("data.npy", iota({5, 1, 2, 2}, 0));
  auto batches = load_dataset(file, image_model_, 2, 4);
  ASSERT_TRUE(batches.ok());
  const std::string labels = write("labels.npy", Tensor::from_vector<int32_t>({5}, {3, 1, 4, 1, 5}));
  auto split = load_labels(labels, *batches);
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ(split->at(1).dtype(), DType::int64);
  EXPECT_EQ(split->at(1).shape(), (Shape{2}));
  EXPECT_EQ(split->at(1).data<int64_t>()[0], 4);
  EXPECT_EQ(split->at(1).data<int64_t>()[1], 1);

  const std::string u8 = write("u8.npy", Tensor::from_vector<uint8_t>({4, 1}, {9, 8, 7, 6}));
  auto small = load_labels(u8, *batches);
  ASSERT_TRUE(small.ok()) << small.status().to_string();
  EXPECT_EQ(small->at(0).data<int64_t>()[1], 8);

  auto all = load_dataset(file, image_model_, 2);
  auto few = load_labels(u8, *all);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("4 labels for 5 samples"), std::string::npos) << few.status().message();
  const std::string floats = write("float_labels.npy", iota({5}, 0));
  EXPECT_EQ(load_labels(floats, *batches).status().code(), StatusCode::invalid_argument);
  const std::string matrix = write("matrix.npy", Tensor::from_vector<int64_t>({2, 2}, {0, 1, 2, 3}));
  EXPECT_EQ(load_labels(matrix, *batches).status().code(), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace hwopt::quant
