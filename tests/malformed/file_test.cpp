// Model files that are empty, random, truncated, missing, not files, or too large.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "hwopt/session.h"
#include "model_builder.h"
#include "onnx/import.h"

namespace hwopt::test {
namespace {

// A small valid model with an initializer and attributes, so that truncation cuts through
// several kinds of fields.
onnx::ModelProto small_model() {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  add_float_initializer(g, "W", {2, 3}, {1, 2, 3, 4, 5, 6});
  add_node(g, "Add", {"X", "W"}, {"S"}, "add0");
  auto* t = add_node(g, "Transpose", {"S"}, {"Y"}, "transpose0");
  add_attr_ints(t, "perm", {1, 0});
  add_output(g, "Y", onnx::TensorProto::FLOAT, {3, 2});
  return m;
}

TEST(Files, ControlLoads) {
  TempDir dir;
  auto s = Session::load(write_model(dir, small_model()));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
}

TEST(Files, EmptyFile) {
  TempDir dir;
  write_file(dir / "empty.onnx", "");
  EXPECT_TRUE(IsError(onnx_import::load_model(dir / "empty.onnx").status(), StatusCode::invalid_model,
                      {"empty.onnx", "empty"}));
  EXPECT_TRUE(IsError(Session::load(dir / "empty.onnx").status(), StatusCode::invalid_model, {"empty"}));
  EXPECT_TRUE(IsError(Session::load_from_bytes("", 0).status(), StatusCode::invalid_model, {"empty"}));
  EXPECT_TRUE(IsError(Session::load_from_bytes(nullptr, 0).status(), StatusCode::invalid_model, {"empty"}));
}

TEST(Files, RandomBytes) {
  std::mt19937 rng(12345);
  for (size_t len : {1, 2, 7, 16, 100, 1000, 4096, 65536}) {
    for (int rep = 0; rep < 4; ++rep) {
      std::string bytes(len, '\0');
      for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
      auto r = onnx_import::load_model_from_bytes(bytes.data(), bytes.size());
      // Protobuf may accept a few random bytes as unknown fields; the model then has no graph.
      EXPECT_FALSE(r.ok()) << "random bytes of length " << len << " loaded as a model";
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), StatusCode::invalid_model) << r.status().to_string();
      }
    }
  }
}

TEST(Files, RandomBytesAfterAValidHeader) {
  // A valid prefix followed by garbage.
  std::mt19937 rng(777);
  std::string valid = serialize(small_model());
  for (int rep = 0; rep < 16; ++rep) {
    std::string bytes = valid.substr(0, valid.size() / 2);
    for (int i = 0; i < 64; ++i) bytes.push_back(static_cast<char>(rng() & 0xff));
    auto s = Session::load_from_bytes(bytes.data(), bytes.size());
    if (!s.ok()) {
      EXPECT_NE(s.status().code(), StatusCode::internal) << s.status().to_string();
    }
  }
}

TEST(Files, TruncatedAtEachSixteenth) {
  TempDir dir;
  std::string valid = serialize(small_model());
  ASSERT_GT(valid.size(), 32u);
  for (int k = 0; k < 16; ++k) {
    const size_t len = valid.size() * k / 16;
    std::string prefix = valid.substr(0, len);
    auto r = onnx_import::load_model_from_bytes(prefix.data(), prefix.size());
    // A prefix that happens to parse must still give a clean Status: here every prefix lacks
    // something the model needs (its graph, its outputs, a node's input).
    ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes loaded";
    EXPECT_NE(r.status().code(), StatusCode::internal) << r.status().to_string();
    write_file(dir / "t.onnx", prefix);
    auto s = Session::load(dir / "t.onnx");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().code(), StatusCode::internal) << s.status().to_string();
  }
  // Every truncation point, not just sixteenths: never a crash.
  for (size_t len = 1; len < valid.size(); ++len) {
    auto s = Session::load_from_bytes(valid.data(), len);
    if (!s.ok()) {
      EXPECT_NE(s.status().code(), StatusCode::internal) << len << ": " << s.status().to_string();
    }
  }
}

TEST(Files, MissingFile) {
  TempDir dir;
  EXPECT_TRUE(IsError(onnx_import::load_model(dir / "no_such.onnx").status(), StatusCode::not_found,
                      {"no_such.onnx"}));
  EXPECT_TRUE(IsError(Session::load(dir / "no_such.onnx").status(), StatusCode::not_found, {"no_such.onnx"}));
  EXPECT_TRUE(IsError(Session::load(dir / "no_dir/m.onnx").status(), StatusCode::not_found, {"m.onnx"}));
  EXPECT_TRUE(IsError(Session::load("").status(), StatusCode::not_found, {}));
}

TEST(Files, DirectoryInsteadOfAFile) {
  TempDir dir;
  std::filesystem::create_directory(dir / "model.onnx");
  EXPECT_TRUE(IsError(Session::load(dir / "model.onnx").status(), StatusCode::invalid_argument,
                      {"model.onnx", "not a regular file"}));
  EXPECT_TRUE(IsError(Session::load(dir.path()).status(), StatusCode::invalid_argument, {"not a regular file"}));
}

TEST(Files, OverTwoGibibytesIsRefusedFromItsSize) {
  TempDir dir;
  const std::string path = dir / "huge.onnx";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  // Sparse: no data blocks are written.
  const off_t size = (off_t{2} << 30) + 1;
  ASSERT_EQ(::ftruncate(fd, size), 0);
  ::close(fd);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(IsError(onnx_import::load_model(path).status(), StatusCode::invalid_model,
                      {"huge.onnx", "2147483649 bytes", "limit"}));
  EXPECT_TRUE(IsError(Session::load(path).status(), StatusCode::invalid_model, {"huge.onnx", "limit"}));
  // Protobuf's own 2 GiB limit holds even when the option asks for more.
  onnx_import::ImportOptions lax;
  lax.max_file_bytes = uint64_t{1} << 40;
  EXPECT_TRUE(IsError(onnx_import::load_model(path, lax).status(), StatusCode::invalid_model,
                      {"huge.onnx", "2147483647-byte limit"}));
  // Refused from stat(), not by reading 2 GiB.
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
}

TEST(Files, SizeLimitFromTheOptions) {
  TempDir dir;
  const std::string path = write_model(dir, small_model());
  onnx_import::ImportOptions tight;
  tight.max_file_bytes = 16;
  EXPECT_TRUE(IsError(onnx_import::load_model(path, tight).status(), StatusCode::invalid_model, {"16-byte limit"}));
  std::string bytes = serialize(small_model());
  EXPECT_TRUE(IsError(onnx_import::load_model_from_bytes(bytes.data(), bytes.size(), "", tight).status(),
                      StatusCode::invalid_model, {"16-byte limit"}));
}

TEST(Files, FileThatIsNotAModelButParses) {
  // A serialized TensorProto is valid protobuf but not a model.
  onnx::TensorProto t;
  t.set_name("W");
  t.set_data_type(1);
  t.add_dims(1);
  t.add_float_data(1.0f);
  std::string bytes;
  ASSERT_TRUE(t.SerializeToString(&bytes));
  auto r = onnx_import::load_model_from_bytes(bytes.data(), bytes.size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::invalid_model) << r.status().to_string();
}

}  // namespace
}  // namespace hwopt::test
