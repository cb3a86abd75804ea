// External data: every way a location, offset or length can be wrong is refused with an error
// naming the tensor, and nothing outside the model directory is ever read.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <utility>

#include "hwopt/session.h"
#include "model_builder.h"
#include "onnx/import.h"

namespace hwopt::test {
namespace {

namespace fs = std::filesystem;
using KV = std::vector<std::pair<std::string, std::string>>;

const std::vector<float> kWeights = {1, 2, 3, 4, 5, 6};  // W: float [2,3], 24 bytes

// Y = Add(X, W) where W: float [2,3] lives in external data described by `kv`.
onnx::ModelProto make_external_model(const KV& kv) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  for (const auto& [k, v] : kv) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  }
  add_node(g, "Add", {"X", "W"}, {"Y"}, "add0");
  add_output(g, "Y", onnx::TensorProto::FLOAT, {2, 3});
  return m;
}

// Writes the model into `dir` and loads it from the file.
Status load_in(const TempDir& dir, const KV& kv) {
  std::string path = write_model(dir, make_external_model(kv));
  return onnx_import::load_model(path).status();
}

class ExternalData : public ::testing::Test {
 protected:
  TempDir model_dir;
  TempDir outside_dir;
};

TEST_F(ExternalData, ValidModelLoadsAndRuns) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  std::string path = write_model(model_dir, make_external_model({{"location", "w.bin"}}));
  auto s = Session::load(path);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Tensor x = Tensor::from_vector<float>({2, 3}, {10, 20, 30, 40, 50, 60});
  auto out = (*s)->run({{"X", x}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const Tensor& y = out->at("Y");
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<float>()[i], 10.0f * (i + 1) + kWeights[i]);
}

TEST_F(ExternalData, ValidOffsetAndLengthInASharedFileInASubdirectory) {
  fs::create_directory(model_dir / "weights");
  std::string bytes = "HEADER__" + raw_bytes(kWeights) + "TRAILER";
  write_file(model_dir / "weights/all.bin", bytes);
  auto m = onnx_import::load_model(
      write_model(model_dir, make_external_model({{"location", "weights/all.bin"}, {"offset", "8"}, {"length", "24"}})));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const Tensor& w = m->graph->initializers.at("W");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(w.data<float>()[i], kWeights[i]);
}

TEST_F(ExternalData, SymlinkInsideTheModelDirectoryIsAllowed) {
  write_file(model_dir / "real.bin", raw_bytes(kWeights));
  fs::create_symlink("real.bin", model_dir / "alias.bin");
  EXPECT_TRUE(load_in(model_dir, {{"location", "alias.bin"}}).ok());
}

TEST_F(ExternalData, AbsoluteLocation) {
  write_file(outside_dir / "w.bin", raw_bytes(kWeights));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", outside_dir / "w.bin"}}), StatusCode::invalid_model,
                      {"'W'", "absolute"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "/nonexistent/dir/w.bin"}}), StatusCode::invalid_model,
                      {"'W'", "absolute"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "/etc/passwd"}}), StatusCode::invalid_model,
                      {"'W'", "absolute"}));
}

TEST_F(ExternalData, DotDotEscapes) {
  // The data exists where the escape would lead ...
  write_file(fs::path(model_dir.path()).parent_path() / (fs::path(model_dir.path()).filename().string() + "_x.bin"),
             raw_bytes(kWeights));
  const std::string sibling = "../" + fs::path(model_dir.path()).filename().string() + "_x.bin";
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", sibling}}), StatusCode::invalid_model, {"'W'", "'..'"}));
  fs::remove(fs::path(model_dir.path()).parent_path() / (fs::path(model_dir.path()).filename().string() + "_x.bin"));
  // ... and where it does not: the traversal is reported, not "not found".
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "../x.bin"}}), StatusCode::invalid_model, {"'W'", "'..'"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "sub/../../x.bin"}}), StatusCode::invalid_model,
                      {"'W'", "'..'"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "sub/../x.bin"}}), StatusCode::invalid_model, {"'W'", "'..'"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "a/b/../../../../../../etc/passwd"}}),
                      StatusCode::invalid_model, {"'W'", "'..'"}));
}

TEST_F(ExternalData, FinalComponentSymlinkLeadingOutside) {
  write_file(outside_dir / "secret.bin", raw_bytes(kWeights));
  fs::create_symlink(outside_dir / "secret.bin", model_dir / "w.bin");
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}}), StatusCode::invalid_model,
                      {"'W'", "'w.bin'", "symbolic link"}));
  // A relative link that climbs out is refused the same way.
  fs::create_symlink(fs::relative(outside_dir / "secret.bin", model_dir.path()), model_dir / "rel.bin");
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "rel.bin"}}), StatusCode::invalid_model,
                      {"'W'", "symbolic link"}));
  // A dangling link to the outside is still a traversal, not "not found".
  fs::create_symlink(outside_dir / "missing.bin", model_dir / "dangling.bin");
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "dangling.bin"}}), StatusCode::invalid_model,
                      {"'W'", "symbolic link"}));
}

TEST_F(ExternalData, ParentDirectorySymlinkLeadingOutside) {
  write_file(outside_dir / "secret.bin", raw_bytes(kWeights));
  fs::create_directory_symlink(outside_dir.path(), model_dir / "sub");
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "sub/secret.bin"}}), StatusCode::invalid_model,
                      {"'W'", "'sub/secret.bin'", "symbolic link"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "sub/missing.bin"}}), StatusCode::invalid_model,
                      {"'W'", "symbolic link"}));
}

TEST_F(ExternalData, HardLinkedDataFile) {
  write_file(outside_dir / "secret.bin", raw_bytes(kWeights));
  std::error_code ec;
  fs::create_hard_link(outside_dir / "secret.bin", model_dir / "w.bin", ec);
  if (ec) GTEST_SKIP() << "hard links not supported here: " << ec.message();
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}}), StatusCode::invalid_model,
                      {"'W'", "'w.bin'", "hard link"}));
}

TEST_F(ExternalData, MissingFileInsideTheDirectoryIsNotFound) {
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "nothing.bin"}}), StatusCode::not_found,
                      {"'W'", "'nothing.bin'"}));
}

TEST_F(ExternalData, LocationThatIsADirectory) {
  fs::create_directory(model_dir / "d");
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "d"}}), StatusCode::invalid_model, {"'W'", "regular file"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "."}}), StatusCode::invalid_model, {"'W'"}));
}

TEST_F(ExternalData, NegativeOffsetAndLength) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "-1"}}), StatusCode::invalid_model,
                      {"'W'", "offset -1 is negative"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"length", "-24"}}), StatusCode::invalid_model,
                      {"'W'", "length -24 is negative"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "-9223372036854775808"}}),
                      StatusCode::invalid_model, {"'W'", "negative"}));
}

TEST_F(ExternalData, HugeAndWrappingOffsetAndLength) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "9223372036854775807"}}),
                      StatusCode::invalid_model, {"'W'", "offset 9223372036854775807", "past the end"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"length", "9223372036854775807"}}),
                      StatusCode::invalid_model, {"'W'", "length 9223372036854775807", "past the end"}));
  // offset + length wraps around 2^64 when added as unsigned, and overflows int64.
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "8"}, {"length", "9223372036854775807"}}),
                      StatusCode::invalid_model, {"'W'", "past the end"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "9223372036854775807"},
                                          {"length", "9223372036854775807"}}),
                      StatusCode::invalid_model, {"'W'", "past the end"}));
  // Beyond int64: not a number we accept.
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "18446744073709551615"}}),
                      StatusCode::invalid_model, {"'W'", "offset"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"length", "99999999999999999999999"}}),
                      StatusCode::invalid_model, {"'W'", "length"}));
}

TEST_F(ExternalData, OffsetPastEndOfFile) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "100"}}), StatusCode::invalid_model,
                      {"'W'", "offset 100 is past the end", "24 bytes"}));
  // At the very end: zero bytes left, which is too few.
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "24"}}), StatusCode::invalid_model,
                      {"'W'", "holds 0 bytes", "need 24"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", "4"}, {"length", "24"}}),
                      StatusCode::invalid_model, {"'W'", "past the end"}));
}

TEST_F(ExternalData, DataShorterOrLongerThanTheTensor) {
  write_file(model_dir / "short.bin", raw_bytes(std::vector<float>{1, 2, 3}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "short.bin"}}), StatusCode::invalid_model,
                      {"'W'", "holds 12 bytes", "need 24"}));
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"length", "20"}}), StatusCode::invalid_model,
                      {"'W'", "holds 20 bytes", "need 24"}));
  write_file(model_dir / "long.bin", raw_bytes(std::vector<float>(7, 1.0f)));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "long.bin"}}), StatusCode::invalid_model,
                      {"'W'", "holds 28 bytes", "need 24"}));
}

TEST_F(ExternalData, MissingDuplicatedOrEmptyLocation) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  EXPECT_TRUE(IsError(load_in(model_dir, {}), StatusCode::invalid_model, {"'W'", "no 'location'"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"offset", "0"}}), StatusCode::invalid_model, {"'W'", "no 'location'"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"location", "w.bin"}}), StatusCode::invalid_model,
                      {"'W'", "'location' more than once"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"location", "../x.bin"}}),
                      StatusCode::invalid_model, {"'W'", "more than once"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", ""}}), StatusCode::invalid_model, {"'W'", "empty"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", std::string("w.bin\0../x", 10)}}), StatusCode::invalid_model,
                      {"'W'", "NUL"}));
}

TEST_F(ExternalData, UnknownKeys) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"compression", "zstd"}}), StatusCode::invalid_model,
                      {"'W'", "unknown key 'compression'"}));
  EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"", "1"}}), StatusCode::invalid_model,
                      {"'W'", "unknown key"}));
}

TEST_F(ExternalData, NonNumericOffsetAndLength) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  for (const char* bad : {"abc", "12abc", "", "-", " 8", "8 ", "+8", "0x10", "1e3", "8.0"}) {
    EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"offset", bad}}), StatusCode::invalid_model,
                        {"'W'", "offset", "not a decimal int64"}))
        << "offset '" << bad << "'";
    EXPECT_TRUE(IsError(load_in(model_dir, {{"location", "w.bin"}, {"length", bad}}), StatusCode::invalid_model,
                        {"'W'", "length", "not a decimal int64"}))
        << "length '" << bad << "'";
  }
}

TEST_F(ExternalData, InlineDataAndExternalTogether) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  onnx::ModelProto m = make_external_model({{"location", "w.bin"}});
  m.mutable_graph()->mutable_initializer(0)->set_raw_data(raw_bytes(kWeights));
  EXPECT_TRUE(IsError(onnx_import::load_model(write_model(model_dir, m)).status(), StatusCode::invalid_model,
                      {"'W'", "EXTERNAL"}));
}

TEST_F(ExternalData, ModelLoadedFromBytesHasNoBaseDirectory) {
  write_file(model_dir / "w.bin", raw_bytes(kWeights));
  std::string bytes = serialize(make_external_model({{"location", "w.bin"}}));
  EXPECT_TRUE(IsError(onnx_import::load_model_from_bytes(bytes.data(), bytes.size()).status(),
                      StatusCode::invalid_model, {"'W'", "from memory"}));
  auto s = Session::load_from_bytes(bytes.data(), bytes.size());
  EXPECT_TRUE(IsError(s.status(), StatusCode::invalid_model, {"'W'", "from memory"}));
  // With an explicit base directory the same bytes load.
  EXPECT_TRUE(onnx_import::load_model_from_bytes(bytes.data(), bytes.size(), model_dir.path()).ok());
  // Traversal is still reported first.
  std::string esc = serialize(make_external_model({{"location", "../w.bin"}}));
  EXPECT_TRUE(IsError(onnx_import::load_model_from_bytes(esc.data(), esc.size()).status(), StatusCode::invalid_model,
                      {"'W'", "'..'"}));
}

TEST_F(ExternalData, ExternalTensorInANodeAttribute) {
  // A Constant node whose value attribute points outside: the same checks apply.
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  auto* n = add_node(g, "Constant", {}, {"C"}, "const0");
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto* t = a->mutable_t();
  t->set_name("cval");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(6);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = t->add_external_data();
  e->set_key("location");
  e->set_value("../c.bin");
  add_output(g, "C", onnx::TensorProto::FLOAT, {6});
  EXPECT_TRUE(IsError(onnx_import::load_model(write_model(model_dir, m)).status(), StatusCode::invalid_model,
                      {"attribute 'value'", "'..'"}));
}

}  // namespace
}  // namespace hwopt::test
