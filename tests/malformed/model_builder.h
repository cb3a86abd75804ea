// Helpers for tests that build ONNX models in code: protobuf builders, a self-removing temporary
// directory, and an assertion on a Status's code and message.
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "hwopt/status.h"
#include "hwopt/tensor.h"

namespace hwopt::test {

/// n values drawn from N(0, scale²) with a fixed seed: weights and inputs of the built models.
inline std::vector<float> normal_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// A fresh directory under ::testing::TempDir(), removed (without following links) at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::path(::testing::TempDir()) / "hwopt_test_XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

/// Bytes of `values` as stored in raw_data / external files (little-endian host).
template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

/// A model with ir_version 8 and one ai.onnx opset import.
inline onnx::ModelProto make_model(int64_t opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("hwopt-tests");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  m.mutable_graph()->set_name("g");
  return m;
}

/// Sets a tensor type on `vi`; a dim < 0 becomes the symbolic dim "N". `dims == nullptr` leaves
/// the shape out.
inline void set_tensor_type(onnx::ValueInfoProto* vi, int32_t elem_type, const std::vector<int64_t>* dims) {
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  if (!dims) return;
  auto* shape = tt->mutable_shape();
  for (int64_t d : *dims) {
    auto* dim = shape->add_dim();
    if (d >= 0) dim->set_dim_value(d);
    else dim->set_dim_param("N");
  }
}

inline onnx::ValueInfoProto* add_input(onnx::GraphProto* g, const std::string& name, int32_t elem_type,
                                       const std::vector<int64_t>& dims) {
  auto* vi = g->add_input();
  vi->set_name(name);
  set_tensor_type(vi, elem_type, &dims);
  return vi;
}

inline onnx::ValueInfoProto* add_output(onnx::GraphProto* g, const std::string& name, int32_t elem_type,
                                        const std::vector<int64_t>& dims) {
  auto* vi = g->add_output();
  vi->set_name(name);
  set_tensor_type(vi, elem_type, &dims);
  return vi;
}

/// An output with no type at all (allowed for subgraph outputs; keeps protobuf nesting shallow).
inline void add_untyped_output(onnx::GraphProto* g, const std::string& name) { g->add_output()->set_name(name); }

inline onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op_type, std::vector<std::string> inputs,
                                 std::vector<std::string> outputs, const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op_type);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

inline onnx::AttributeProto* add_attr_int(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
  return a;
}

inline onnx::AttributeProto* add_attr_ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
  return a;
}

inline onnx::TensorProto* add_float_initializer(onnx::GraphProto* g, const std::string& name,
                                                const std::vector<int64_t>& dims, const std::vector<float>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(raw_bytes(values));
  return t;
}

inline onnx::TensorProto* add_int64_initializer(onnx::GraphProto* g, const std::string& name,
                                                const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
  return t;
}

/// Y = Add(A, B) on float inputs of shape `dims` (a dim < 0 is the symbolic "N").
inline onnx::ModelProto make_add_model(const std::vector<int64_t>& dims = {2, 3}) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "A", onnx::TensorProto::FLOAT, dims);
  add_input(g, "B", onnx::TensorProto::FLOAT, dims);
  add_node(g, "Add", {"A", "B"}, {"Y"}, "add0");
  add_output(g, "Y", onnx::TensorProto::FLOAT, dims);
  return m;
}

inline std::string serialize(const onnx::ModelProto& m) {
  std::string s;
  EXPECT_TRUE(m.SerializeToString(&s));
  return s;
}

inline std::string write_model(const TempDir& dir, const onnx::ModelProto& m, const std::string& name = "model.onnx") {
  std::string path = dir / name;
  write_file(path, serialize(m));
  return path;
}

/// Passes if `st` has `code` and its message contains every one of `parts`. With
/// HWOPT_TEST_VERBOSE set, prints every Status it checks (to review the messages by eye).
inline ::testing::AssertionResult IsError(const Status& st, StatusCode code, std::initializer_list<std::string> parts) {
  if (std::getenv("HWOPT_TEST_VERBOSE")) std::printf("  status: %s\n", st.to_string().c_str());
  if (st.ok()) return ::testing::AssertionFailure() << "expected " << status_code_name(code) << ", got ok";
  if (st.code() != code)
    return ::testing::AssertionFailure() << "expected " << status_code_name(code) << ", got " << st.to_string();
  for (const auto& p : parts)
    if (st.message().find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks \"" << p << "\": " << st.to_string();
  return ::testing::AssertionSuccess() << st.to_string();
}

}  // namespace hwopt::test
