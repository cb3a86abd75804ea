// Initializers and declared types whose data, dims or dtype disagree: refused naming the tensor.
#include <climits>

#include "model_builder.h"
#include "onnx/import.h"

namespace hwopt::test {
namespace {

// Y = Add(X, W), X: float [2,3] input; W is built by the caller (name "W").
onnx::ModelProto model_with_initializer(const std::function<void(onnx::TensorProto*)>& make_w) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  make_w(w);
  add_node(g, "Add", {"X", "W"}, {"Y"}, "add0");
  add_output(g, "Y", onnx::TensorProto::FLOAT, {2, 3});
  return m;
}

Status load(const onnx::ModelProto& m) {
  std::string bytes = serialize(m);
  return onnx_import::load_model_from_bytes(bytes.data(), bytes.size()).status();
}

TEST(Initializer, ControlLoads) {
  EXPECT_TRUE(load(model_with_initializer([](onnx::TensorProto* w) {
                w->set_raw_data(raw_bytes(std::vector<float>(6, 1.0f)));
              })).ok());
  EXPECT_TRUE(load(model_with_initializer([](onnx::TensorProto* w) {
                for (int i = 0; i < 6; ++i) w->add_float_data(1.0f);
              })).ok());
}

TEST(Initializer, RawDataLongerOrShorterThanTheShape) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_raw_data(raw_bytes(std::vector<float>(7, 1.0f)));
                      })),
                      StatusCode::invalid_model, {"'W'", "28 bytes of raw_data", "need 24"}));
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_raw_data(raw_bytes(std::vector<float>(5, 1.0f)));
                      })),
                      StatusCode::invalid_model, {"'W'", "20 bytes of raw_data", "need 24"}));
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) { w->set_raw_data("abc"); })),
                      StatusCode::invalid_model, {"'W'", "3 bytes"}));
}

TEST(Initializer, BothTypedAndRawData) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_raw_data(raw_bytes(std::vector<float>(6, 1.0f)));
                        for (int i = 0; i < 6; ++i) w->add_float_data(1.0f);
                      })),
                      StatusCode::invalid_model, {"'W'", "both raw_data and typed data"}));
}

TEST(Initializer, TypedDataCountMismatch) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        for (int i = 0; i < 5; ++i) w->add_float_data(1.0f);
                      })),
                      StatusCode::invalid_model, {"'W'", "5 values", "[2,3]"}));
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        for (int i = 0; i < 9; ++i) w->add_float_data(1.0f);
                      })),
                      StatusCode::invalid_model, {"'W'", "9 values"}));
  // Values in the field of another dtype.
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        for (int i = 0; i < 6; ++i) w->add_int64_data(1);
                      })),
                      StatusCode::invalid_model, {"'W'", "0 values"}));
}

TEST(Initializer, NegativeDims) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_dims(1, -3);
                        w->set_raw_data(raw_bytes(std::vector<float>(6, 1.0f)));
                      })),
                      StatusCode::invalid_model, {"'W'", "negative dim -3"}));
}

TEST(Initializer, DimsWhoseProductOverflows) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_dims(0, int64_t{1} << 40);
                        w->set_dims(1, int64_t{1} << 40);
                        w->set_raw_data("x");
                      })),
                      StatusCode::invalid_model, {"'W'", "overflows int64"}));
  // Fits int64 as a count but not as bytes.
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_dims(0, int64_t{1} << 31);
                        w->set_dims(1, int64_t{1} << 31);
                        w->set_raw_data("x");
                      })),
                      StatusCode::invalid_model, {"'W'", "too large"}));
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_dims(0, INT64_MAX);
                        w->set_dims(1, INT64_MAX);
                      })),
                      StatusCode::invalid_model, {"'W'", "overflows"}));
}

TEST(Initializer, UndefinedAndUnknownDtype) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_data_type(0);
                        w->set_raw_data(raw_bytes(std::vector<float>(6, 1.0f)));
                      })),
                      StatusCode::invalid_model, {"'W'", "data type"}));
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_data_type(9999);
                        w->set_raw_data(raw_bytes(std::vector<float>(6, 1.0f)));
                      })),
                      StatusCode::unsupported, {"'W'", "data type 9999"}));
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_data_type(-5);
                        w->set_raw_data("x");
                      })),
                      StatusCode::unsupported, {"'W'", "data type -5"}));
}

TEST(Initializer, DimsButNoData) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto*) {})), StatusCode::invalid_model,
                      {"'W'", "no data"}));
}

TEST(Initializer, StringTensorInRawData) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_data_type(onnx::TensorProto::STRING);
                        w->set_raw_data("abcdef");
                      })),
                      StatusCode::invalid_model, {"'W'", "string_data"}));
}

TEST(Initializer, UnnamedOrDuplicated) {
  EXPECT_TRUE(IsError(load(model_with_initializer([](onnx::TensorProto* w) {
                        w->set_name("");
                        w->set_raw_data(raw_bytes(std::vector<float>(6, 1.0f)));
                      })),
                      StatusCode::invalid_model, {"no name"}));
  onnx::ModelProto m = model_with_initializer([](onnx::TensorProto* w) {
    w->set_raw_data(raw_bytes(std::vector<float>(6, 1.0f)));
  });
  *m.mutable_graph()->add_initializer() = m.graph().initializer(0);
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"'W'", "twice"}));
}

// A graph input's declared element type.
onnx::ModelProto model_with_input_type(int32_t elem_type) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", elem_type, {2, 3});
  add_node(g, "Identity", {"X"}, {"Y"}, "id0");
  add_untyped_output(g, "Y");
  return m;
}

TEST(GraphInputType, UndefinedAndUnknownDtype) {
  EXPECT_TRUE(load(model_with_input_type(onnx::TensorProto::FLOAT)).ok());
  EXPECT_TRUE(IsError(load(model_with_input_type(0)), StatusCode::invalid_model, {"'X'", "element type"}));
  EXPECT_TRUE(IsError(load(model_with_input_type(9999)), StatusCode::unsupported, {"'X'", "data type 9999"}));
}

TEST(GraphInputType, NegativeAndOverflowingDims) {
  onnx::ModelProto m = model_with_input_type(onnx::TensorProto::FLOAT);
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(-2);
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"'X'", "negative dim -2"}));
  m = model_with_input_type(onnx::TensorProto::FLOAT);
  auto* shape = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->mutable_dim(0)->set_dim_value(INT64_MAX);
  shape->mutable_dim(1)->set_dim_value(INT64_MAX);
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"'X'", "overflows"}));
}

TEST(GraphInputType, SparseAndMapTypesAreUnsupported) {
  onnx::ModelProto m = model_with_input_type(onnx::TensorProto::FLOAT);
  auto* t = m.mutable_graph()->mutable_input(0)->mutable_type();
  t->clear_tensor_type();
  t->mutable_map_type()->set_key_type(onnx::TensorProto::INT64);
  t->mutable_map_type()->mutable_value_type()->mutable_tensor_type()->set_elem_type(1);
  EXPECT_TRUE(IsError(load(m), StatusCode::unsupported, {"'X'", "map"}));
}

}  // namespace
}  // namespace hwopt::test
