// Resources and kernels: outputs that would be petabytes (left unfolded, then a clean
// out_of_memory), the max_memory_mb cap, ops that have no kernel, quantization parameters that
// disagree with the weight, out-of-range pads/axes/splits, and model-local functions.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/npy.h"
#include "hwopt/session.h"
#include "model_builder.h"

namespace hwopt::test {
namespace {

// Loads (optimized unless told otherwise) and runs with `inputs`; the first error, or OK.
Status load_and_run(const onnx::ModelProto& m, const std::map<std::string, Tensor>& inputs = {},
                    SessionOptions options = {}) {
  std::string bytes = serialize(m);
  auto s = Session::load_from_bytes(bytes.data(), bytes.size(), options);
  if (!s.ok()) return s.status();
  return s.value()->run(inputs).status();
}

SessionOptions optimized(const std::string& backend = "reference") {
  SessionOptions o;
  o.optimize = true;
  o.backend = backend;
  o.threads = 1;
  return o;
}

onnx::TensorProto* add_float_scalar_initializer(onnx::GraphProto* g, const std::string& name, float v) {
  return add_float_initializer(g, name, {}, {v});
}

// A model whose single node `op` (named "huge") makes a ~petabyte output from constant inputs.
onnx::ModelProto huge_output_model(const std::string& op) {
  onnx::ModelProto m = make_model(17);
  auto* g = m.mutable_graph();
  constexpr int64_t k25 = int64_t{1} << 25, k24 = int64_t{1} << 24;
  if (op == "ConstantOfShape") {
    add_int64_initializer(g, "shape", {2}, {k25, k25});
    add_node(g, op, {"shape"}, {"Y"}, "huge");
  } else if (op == "Expand") {
    add_float_initializer(g, "x", {1}, {1.0f});
    add_int64_initializer(g, "shape", {2}, {k25, k25});
    add_node(g, op, {"x", "shape"}, {"Y"}, "huge");
  } else if (op == "Tile") {
    add_float_initializer(g, "x", {2, 2}, {1, 2, 3, 4});
    add_int64_initializer(g, "repeats", {2}, {k24, k24});
    add_node(g, op, {"x", "repeats"}, {"Y"}, "huge");
  } else if (op == "Range") {
    add_float_scalar_initializer(g, "start", 0.0f);
    add_float_scalar_initializer(g, "limit", 1e15f);
    add_float_scalar_initializer(g, "delta", 1.0f);
    add_node(g, op, {"start", "limit", "delta"}, {"Y"}, "huge");
  } else if (op == "Resize") {
    add_float_initializer(g, "x", {1, 1, 2, 2}, {1, 2, 3, 4});
    add_float_initializer(g, "scales", {4}, {1, 1, 1e7f, 1e7f});
    add_node(g, op, {"x", "", "scales"}, {"Y"}, "huge");
  }
  // A graph input keeps the model an ordinary one (the node does not read it).
  add_input(g, "unused", onnx::TensorProto::FLOAT, {1});
  add_untyped_output(g, "Y");
  return m;
}

TEST(HugeOutputs, LeftUnfoldedThenOutOfMemoryAtRunTime) {
  for (const char* op : {"ConstantOfShape", "Expand", "Tile", "Range", "Resize"}) {
    for (const char* backend : {"reference", "cpu"}) {
      onnx::ModelProto m = huge_output_model(op);
      std::string bytes = serialize(m);
      // Loading and optimizing must not try to fold the petabyte constant.
      auto s = Session::load_from_bytes(bytes.data(), bytes.size(), optimized(backend));
      ASSERT_TRUE(s.ok()) << op << ": " << s.status().to_string();
      auto out = s.value()->run({{"unused", Tensor::from_vector<float>({1}, {0.0f})}});
      EXPECT_TRUE(IsError(out.status(), StatusCode::out_of_memory, {"node 'huge'", op})) << op << " on " << backend;
    }
  }
}

TEST(HugeOutputs, MemoryCapRefusesAtLoadOrRun) {
  for (const char* op : {"ConstantOfShape", "Expand", "Tile", "Range", "Resize"}) {
    SessionOptions o = optimized();
    o.max_memory_mb = 64;
    // Refused at load when shape inference sized the output (the memory plan passes the cap),
    // else by the run's budget: either way out_of_memory.
    EXPECT_TRUE(IsError(load_and_run(huge_output_model(op), {{"unused", Tensor::from_vector<float>({1}, {0.0f})}}, o),
                        StatusCode::out_of_memory, {"max_memory_mb"}))
        << op;
  }
}

// Y = Tile(X, [n, 1]) with X float [1, 1024] given at run time: 4 KiB × n bytes, sized only
// when running, so only the run's budget can refuse it.
onnx::ModelProto tile_model() {
  onnx::ModelProto m = make_model(17);
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {-1, 1024});
  add_input(g, "reps", onnx::TensorProto::INT64, {2});
  add_node(g, "Tile", {"X", "reps"}, {"Y"}, "tile0");
  add_untyped_output(g, "Y");
  return m;
}

TEST(MemoryCap, RunOverTheCapIsOutOfMemoryNamingNodeAndTensor) {
  onnx::ModelProto m = tile_model();
  std::string bytes = serialize(m);
  SessionOptions o;
  o.max_memory_mb = 16;
  auto s = Session::load_from_bytes(bytes.data(), bytes.size(), o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  const Tensor x = Tensor::from_vector<float>({1, 1024}, std::vector<float>(1024, 1.0f));
  // 8 MiB: under the cap, runs.
  auto ok = s.value()->run({{"X", x}, {"reps", Tensor::from_vector<int64_t>({2}, {2048, 1})}});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->at("Y").dim(0), 2048);
  // 32 MiB: over it.
  EXPECT_TRUE(IsError(s.value()->run({{"X", x}, {"reps", Tensor::from_vector<int64_t>({2}, {8192, 1})}}).status(),
                      StatusCode::out_of_memory, {"node 'tile0' (Tile)", "'Y'", "16.0 MiB", "max_memory_mb"}));
  // The failed run released what it had taken: a run under the cap works again.
  EXPECT_TRUE(s.value()->run({{"X", x}, {"reps", Tensor::from_vector<int64_t>({2}, {2048, 1})}}).ok());
}

TEST(MemoryCap, AllocationLargerThanTheMachineIsOutOfMemory) {
  // No cap: 2^45 × 4 KiB = 128 PiB, more than any address space.
  onnx::ModelProto m = tile_model();
  std::string bytes = serialize(m);
  auto s = Session::load_from_bytes(bytes.data(), bytes.size());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  const Tensor x = Tensor::from_vector<float>({1, 1024}, std::vector<float>(1024, 1.0f));
  EXPECT_TRUE(IsError(
      s.value()->run({{"X", x}, {"reps", Tensor::from_vector<int64_t>({2}, {int64_t{1} << 45, 1})}}).status(),
      StatusCode::out_of_memory, {"node 'tile0' (Tile)"}));
}

TEST(MemoryCap, PlannedPeakOverTheCapIsRefusedAtLoad) {
  // 64 MiB of static intermediates ([4096,4096] float, twice) against a 16 MiB cap.
  onnx::ModelProto m = make_model(17);
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {4096, 4096});
  add_node(g, "Relu", {"X"}, {"a"}, "relu0");
  add_node(g, "Neg", {"a"}, {"b"}, "neg0");
  add_node(g, "Relu", {"b"}, {"Y"}, "relu1");
  add_output(g, "Y", onnx::TensorProto::FLOAT, {4096, 4096});
  std::string bytes = serialize(m);
  SessionOptions o;
  o.max_memory_mb = 16;
  auto s = Session::load_from_bytes(bytes.data(), bytes.size(), o);
  EXPECT_TRUE(IsError(s.status(), StatusCode::out_of_memory, {"memory plan", "max_memory_mb"}));
  o.max_memory_mb = 1024;
  EXPECT_TRUE(Session::load_from_bytes(bytes.data(), bytes.size(), o).ok());
}

TEST(Kernels, OpWithNoKernelOnTheChosenBackend) {
  // Gradient (ai.onnx.preview.training) is in ONNX's schemas, but an inference runtime has no
  // kernel for it: refused when planning, naming the node and the backend.
  onnx::ModelProto m = make_model(17);
  auto* op = m.add_opset_import();
  op->set_domain("ai.onnx.preview.training");
  op->set_version(1);
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2});
  add_node(g, "Relu", {"X"}, {"Z"}, "relu0");
  auto* n = add_node(g, "Gradient", {"X"}, {"dZ_dX"}, "grad0");
  n->set_domain("ai.onnx.preview.training");
  auto* xs = n->add_attribute();
  xs->set_name("xs");
  xs->set_type(onnx::AttributeProto::STRINGS);
  xs->add_strings("X");
  auto* y = n->add_attribute();
  y->set_name("y");
  y->set_type(onnx::AttributeProto::STRING);
  y->set_s("Z");
  add_untyped_output(g, "Z");
  add_untyped_output(g, "dZ_dX");
  for (const char* backend : {"reference", "cpu"}) {
    SessionOptions o;
    o.backend = backend;
    EXPECT_TRUE(IsError(load_and_run(m, {}, o), StatusCode::unsupported,
                        {"node 'grad0'", "no kernel for op 'Gradient'", backend}))
        << backend;
  }
}

TEST(Quantized, WeightSmallerThanItsScaleImplies) {
  // Per-axis scale of 4 values for an int8 weight whose axis 0 has 2: 8 weights where the
  // parameters imply 12 or more. Folding leaves it (the kernel refuses), the run names the node.
  for (bool optimize : {false, true}) {
    onnx::ModelProto m = make_model(13);
    auto* g = m.mutable_graph();
    auto* w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::INT8);
    w->add_dims(2);
    w->add_dims(4);
    w->set_raw_data(std::string(8, '\x01'));
    add_float_initializer(g, "scale", {4}, {0.5f, 0.5f, 0.5f, 0.5f});
    add_attr_int(add_node(g, "DequantizeLinear", {"w", "scale"}, {"wf"}, "dq0"), "axis", 0);
    add_input(g, "X", onnx::TensorProto::FLOAT, {4, 2});
    add_node(g, "MatMul", {"X", "wf"}, {"Y"}, "mm0");
    add_untyped_output(g, "Y");
    SessionOptions o;
    o.optimize = optimize;
    EXPECT_TRUE(IsError(load_and_run(m, {{"X", Tensor::from_vector<float>({4, 2}, std::vector<float>(8, 1.0f))}}, o),
                        StatusCode::runtime_error, {"node 'dq0' (DequantizeLinear)", "x dim 2 along axis 0"}))
        << "optimize=" << optimize;
  }
}

TEST(Quantized, BlockedScaleSmallerThanTheBlocksImply) {
  // Opset 21 blocked quantization: block_size 2 over axis 1 of [2,6] needs scale [2,3]; [2,2] given.
  onnx::ModelProto m = make_model(21);
  m.set_ir_version(10);
  auto* g = m.mutable_graph();
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::INT8);
  w->add_dims(2);
  w->add_dims(6);
  w->set_raw_data(std::string(12, '\x02'));
  add_float_initializer(g, "scale", {2, 2}, {1, 1, 1, 1});
  auto* n = add_node(g, "DequantizeLinear", {"w", "scale"}, {"Y"}, "dq1");
  add_attr_int(n, "axis", 1);
  add_attr_int(n, "block_size", 2);
  add_input(g, "unused", onnx::TensorProto::FLOAT, {1});
  add_untyped_output(g, "Y");
  Status st = load_and_run(m, {{"unused", Tensor::from_vector<float>({1}, {0.0f})}}, optimized());
  // ONNX shape inference may already refuse it at load; otherwise the kernel does at run time.
  if (st.code() == StatusCode::invalid_model) {
    EXPECT_TRUE(IsError(st, StatusCode::invalid_model, {"dq1"}));
  } else {
    EXPECT_TRUE(IsError(st, StatusCode::runtime_error, {"node 'dq1' (DequantizeLinear)", "block_size 2"}));
  }
}

TEST(KernelAttributes, PadsOutOfRange) {
  // Opset 13 Pad: pads as an input; wrong count, and negative pads that remove more than the axis.
  for (const std::vector<int64_t>& pads : {std::vector<int64_t>{1, 1}, {0, -5, 0, 0}, {0, 0, 0, INT64_MIN},
                                          {0, INT64_MAX, 0, INT64_MAX}}) {
    onnx::ModelProto m = make_model(13);
    auto* g = m.mutable_graph();
    add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
    add_input(g, "pads", onnx::TensorProto::INT64, {static_cast<int64_t>(pads.size())});
    add_node(g, "Pad", {"X", "pads"}, {"Y"}, "pad0");
    add_untyped_output(g, "Y");
    Status st = load_and_run(
        m, {{"X", Tensor::from_vector<float>({2, 3}, std::vector<float>(6, 1.0f))},
            {"pads", Tensor::from_vector<int64_t>({static_cast<int64_t>(pads.size())}, pads)}});
    if (std::getenv("HWOPT_TEST_VERBOSE")) std::printf("  status: %s\n", st.to_string().c_str());
    EXPECT_FALSE(st.ok()) << pads[1];
    EXPECT_TRUE(st.code() == StatusCode::runtime_error || st.code() == StatusCode::out_of_memory) << st.to_string();
    EXPECT_NE(st.message().find("node 'pad0' (Pad)"), std::string::npos) << st.to_string();
  }
}

TEST(KernelAttributes, AxisOutOfRange) {
  for (const std::string op : {"Softmax", "Flatten", "Gather", "Split", "ArgMax", "CumSum"}) {
    for (int64_t axis : {int64_t{5}, int64_t{-7}, INT64_MAX, INT64_MIN}) {
      onnx::ModelProto m = make_model(11);
      auto* g = m.mutable_graph();
      add_input(g, "X", onnx::TensorProto::FLOAT, {-1, 3});
      std::vector<std::string> ins = {"X"};
      if (op == "Gather") {
        add_int64_initializer(g, "idx", {1}, {0});
        ins.push_back("idx");
      }
      if (op == "CumSum") {
        add_int64_initializer(g, "axis", {}, {axis});
        ins.push_back("axis");
      }
      auto* n = add_node(g, op, ins, {"Y"}, "node0");
      if (op != "CumSum") add_attr_int(n, "axis", axis);
      add_untyped_output(g, "Y");
      Status st = load_and_run(m, {{"X", Tensor::from_vector<float>({2, 3}, std::vector<float>(6, 1.0f))}});
      if (std::getenv("HWOPT_TEST_VERBOSE")) std::printf("  status: %s\n", st.to_string().c_str());
      // ONNX shape inference refuses some at load (invalid_model); the kernels refuse the rest.
      EXPECT_TRUE(st.code() == StatusCode::invalid_model || st.code() == StatusCode::runtime_error)
          << op << " axis " << axis << ": " << st.to_string();
      EXPECT_NE(st.message().find("node0"), std::string::npos) << st.to_string();
      EXPECT_NE(st.message().find("out of range"), std::string::npos) << st.to_string();
    }
  }
}

TEST(Functions, ModelLocalFunctionThatCallsItself) {
  onnx::ModelProto m = make_model(17);
  auto* op = m.add_opset_import();
  op->set_domain("local");
  op->set_version(1);
  auto* f = m.add_functions();
  f->set_name("Recurse");
  f->set_domain("local");
  f->add_input("x");
  f->add_output("y");
  f->add_opset_import()->set_domain("local");
  f->mutable_opset_import(0)->set_version(1);
  auto* inner = f->add_node();
  inner->set_op_type("Recurse");
  inner->set_domain("local");
  inner->add_input("x");
  inner->add_output("y");
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2});
  auto* n = add_node(g, "Recurse", {"X"}, {"Y"}, "call0");
  n->set_domain("local");
  add_untyped_output(g, "Y");
  EXPECT_TRUE(IsError(load_and_run(m, {{"X", Tensor::from_vector<float>({2}, {1, 2})}}), StatusCode::unsupported,
                      {"model-local functions"}));
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(ShapeInference, OldGemmWithAScalarInputFailsCleanly) {
  // libonnx 1.12's Gemm-6 shape inference reads dim 0 of A without checking its rank: a scalar A
  // crashed the import (found by fuzzing). Inference now refuses it and the kernel names the node.
  onnx::ModelProto m = make_model(6);
  m.set_ir_version(3);
  auto* g = m.mutable_graph();
  add_input(g, "A", onnx::TensorProto::FLOAT, {});
  add_input(g, "B", onnx::TensorProto::FLOAT, {3, 4});
  add_node(g, "Gemm", {"A", "B", "B"}, {"Y"}, "gemm0");
  add_output(g, "Y", onnx::TensorProto::FLOAT, {2, 4});
  EXPECT_TRUE(IsError(load_and_run(m, {{"A", Tensor::scalar<float>(1.0f)},
                                       {"B", Tensor::from_vector<float>({3, 4}, std::vector<float>(12, 1.0f))}}),
                      StatusCode::runtime_error, {"node 'gemm0' (Gemm)", "2-D"}));
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(ShapeInference, ConvTransposeWhoseInputRankDisagreesWithTheWeight) {
  // libonnx 1.12's ConvTranspose inference reads X's spatial dims by W's rank: X of rank 3 with
  // a rank-4 W read past X's dims (found by fuzzing). Now the kernel names the node.
  onnx::ModelProto m = make_model(11);
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {1, 1, 3});
  add_input(g, "W", onnx::TensorProto::FLOAT, {1, 2, 3, 3});
  add_attr_ints(add_node(g, "ConvTranspose", {"X", "W"}, {"Y"}, "convt0"), "pads", {1, 2, 1, 2});
  add_output(g, "Y", onnx::TensorProto::FLOAT, {1, 2, 7, 3});
  Status st = load_and_run(m, {{"X", Tensor::from_vector<float>({1, 1, 3}, {1, 2, 3})},
                               {"W", Tensor::from_vector<float>({1, 2, 3, 3}, std::vector<float>(18, 1.0f))}});
  EXPECT_TRUE(IsError(st, StatusCode::runtime_error, {"node 'convt0' (ConvTranspose)"}));
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(ShapeInference, ZeroStrideOrDilationInTheConvAndPoolFamily) {
  // libonnx 1.12's convPoolShapeInference divides by the strides: a stride of 0 was a SIGFPE
  // (found by fuzzing). Inference now refuses it, and the kernels name the node.
  for (const char* attr : {"strides", "dilations", "kernel_shape"}) {
    for (const char* op : {"MaxPool", "AveragePool", "Conv"}) {
      for (const char* backend : {"reference", "cpu"}) {
        onnx::ModelProto m = make_model(11);
        auto* g = m.mutable_graph();
        add_input(g, "X", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
        std::vector<std::string> ins = {"X"};
        if (std::string(op) == "Conv") {
          add_float_initializer(g, "W", {1, 1, 2, 2}, {1, 1, 1, 1});
          ins.push_back("W");
        }
        auto* n = add_node(g, op, ins, {"Y"}, "window0");
        add_attr_ints(n, "kernel_shape", std::string(attr) == "kernel_shape" ? std::vector<int64_t>{0, 2}
                                                                             : std::vector<int64_t>{2, 2});
        if (std::string(attr) != "kernel_shape") add_attr_ints(n, attr, {0, 1});
        add_untyped_output(g, "Y");
        SessionOptions o;
        o.backend = backend;
        o.optimize = true;
        Status st = load_and_run(m, {{"X", Tensor::from_vector<float>({1, 1, 4, 4}, std::vector<float>(16, 1.0f))}}, o);
        if (std::getenv("HWOPT_TEST_VERBOSE")) std::printf("  status: %s\n", st.to_string().c_str());
        EXPECT_EQ(st.code(), StatusCode::runtime_error) << op << " " << attr << " " << backend << ": " << st.to_string();
        EXPECT_NE(st.message().find("node 'window0'"), std::string::npos) << st.to_string();
      }
    }
  }
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(Npy, ZeroSizedArrayWhoseOtherDimsOverflow) {
  // (0, 2^40, 2^40) has no elements, but its strides overflow int64 (found by fuzzing parse_npy).
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1099511627776, 1099511627776), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  auto t = parse_npy(bytes, "x.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("x.npy"), std::string::npos) << t.status().to_string();
  // An empty array with small dims is fine.
  EXPECT_TRUE(Tensor::create(DType::float32, {0, 1 << 20, 1 << 20}).ok());
  EXPECT_FALSE(Tensor::create(DType::float32, {0, int64_t{1} << 40, int64_t{1} << 40}).ok());
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(ShapeInference, NodeMissingARequiredAttributeSkipsInference) {
  // Scan-9 without its required 'num_scan_inputs': libonnx's inference dereferenced the missing
  // attribute (found by fuzzing). Nodes that break their schema now skip shape inference, and
  // the kernel refuses the node at run time.
  onnx::ModelProto m = make_model(9);
  auto* g = m.mutable_graph();
  add_input(g, "init", onnx::TensorProto::FLOAT, {2});
  add_input(g, "x", onnx::TensorProto::FLOAT, {3, 2});
  auto* n = add_node(g, "Scan", {"init", "x"}, {"y", "z"}, "scan0");
  auto* a = n->add_attribute();
  a->set_name("body");
  a->set_type(onnx::AttributeProto::GRAPH);
  auto* body = a->mutable_g();
  body->set_name("body");
  add_input(body, "sum_in", onnx::TensorProto::FLOAT, {2});
  add_input(body, "next", onnx::TensorProto::FLOAT, {2});
  add_node(body, "Add", {"sum_in", "next"}, {"sum_out"});
  add_node(body, "Identity", {"sum_out"}, {"scan_out"});
  add_output(body, "sum_out", onnx::TensorProto::FLOAT, {2});
  add_output(body, "scan_out", onnx::TensorProto::FLOAT, {2});
  add_untyped_output(g, "y");
  add_untyped_output(g, "z");
  EXPECT_TRUE(IsError(load_and_run(m, {{"init", Tensor::from_vector<float>({2}, {0, 0})},
                                       {"x", Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6})}}),
                      StatusCode::runtime_error, {"node 'scan0' (Scan)", "num_scan_inputs"}));
  add_attr_int(n, "num_scan_inputs", 1);  // the control: with it, the model runs
  EXPECT_TRUE(load_and_run(m, {{"init", Tensor::from_vector<float>({2}, {0, 0})},
                               {"x", Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6})}})
                  .ok());
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(ShapeInference, UntypedGraphInputSkipsInference) {
  // A main-graph input without a type: libonnx's MaxUnpool inference dereferenced its missing
  // type (found by fuzzing). Such models skip shape inference; the run checks the real inputs.
  onnx::ModelProto m = make_model(11);
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {1, 1, 2, 2});
  g->add_input()->set_name("I");
  auto* n = add_node(g, "MaxUnpool", {"X", "I"}, {"Y"}, "unpool0");
  add_attr_ints(n, "kernel_shape", {2, 2});
  add_attr_ints(n, "strides", {2, 2});
  add_untyped_output(g, "Y");
  std::string bytes = serialize(m);
  auto s = Session::load_from_bytes(bytes.data(), bytes.size());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  const Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(s.value()->run({{"X", x}, {"I", Tensor::from_vector<int64_t>({1, 1, 2, 2}, {0, 3, 8, 15})}}).ok());
  EXPECT_TRUE(IsError(s.value()->run({{"X", x}, {"I", Tensor::from_vector<int64_t>({1, 1, 2, 2}, {0, 3, 8, 99})}}).status(),
                      StatusCode::runtime_error, {"node 'unpool0' (MaxUnpool)"}));
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(ShapeInference, LayerNormalizationAxisOutOfRange) {
  // libonnx's LayerNormalization-17 inference indexed X's dims by an unchecked axis (found by
  // fuzzing); now inference refuses it and the kernel names the node.
  for (int64_t axis : {int64_t{-3}, int64_t{2}, INT64_MIN, INT64_MAX}) {
    onnx::ModelProto m = make_model(17);
    auto* g = m.mutable_graph();
    add_input(g, "X", onnx::TensorProto::FLOAT, {3, 4});
    add_float_initializer(g, "W", {4}, {1, 1, 1, 1});
    add_attr_int(add_node(g, "LayerNormalization", {"X", "W"}, {"Y"}, "ln0"), "axis", axis);
    add_untyped_output(g, "Y");
    EXPECT_TRUE(IsError(load_and_run(m, {{"X", Tensor::from_vector<float>({3, 4}, std::vector<float>(12, 1.0f))}},
                                     optimized("cpu")),
                        StatusCode::runtime_error, {"node 'ln0' (LayerNormalization)", "axis"}))
        << axis;
  }
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(KernelErrors, ScanOverAScalar) {
  // A scalar scan input has no axis to scan: the Scan kernel read dims()[0] of an empty shape
  // (found by fuzzing).
  onnx::ModelProto m = make_model(9);
  auto* g = m.mutable_graph();
  add_input(g, "init", onnx::TensorProto::FLOAT, {});
  add_input(g, "x", onnx::TensorProto::FLOAT, {});
  auto* n = add_node(g, "Scan", {"init", "x"}, {"y", "z"}, "scan1");
  add_attr_int(n, "num_scan_inputs", 1);
  auto* a = n->add_attribute();
  a->set_name("body");
  a->set_type(onnx::AttributeProto::GRAPH);
  auto* body = a->mutable_g();
  body->set_name("body");
  add_input(body, "s", onnx::TensorProto::FLOAT, {});
  add_input(body, "e", onnx::TensorProto::FLOAT, {});
  add_node(body, "Add", {"s", "e"}, {"s2"});
  add_node(body, "Identity", {"s2"}, {"o"});
  add_output(body, "s2", onnx::TensorProto::FLOAT, {});
  add_output(body, "o", onnx::TensorProto::FLOAT, {});
  add_untyped_output(g, "y");
  add_untyped_output(g, "z");
  EXPECT_TRUE(IsError(load_and_run(m, {{"init", Tensor::scalar<float>(0)}, {"x", Tensor::scalar<float>(1)}}),
                      StatusCode::runtime_error, {"node 'scan1' (Scan)", "scalar"}));
}

}  // namespace
}  // namespace hwopt::test

namespace hwopt::test {
namespace {

TEST(ShapeInference, WhereWithTwoInputsIsRejectedNotOverrun) {
  // Where with two inputs instead of three: the infer_shapes pass read the missing third
  // input's name past the end of the node's inputs (found by fuzzing, heap-buffer-overflow).
  onnx::ModelProto m = make_model(16);
  auto* g = m.mutable_graph();
  add_input(g, "c", onnx::TensorProto::BOOL, {2});
  add_input(g, "x", onnx::TensorProto::FLOAT, {2});
  add_node(g, "Where", {"c", "x"}, {"y"}, "where0");
  add_untyped_output(g, "y");
  const std::map<std::string, Tensor> in = {{"c", Tensor::from_vector<bool>({2}, {true, false})},
                                            {"x", Tensor::from_vector<float>({2}, {1, 2})}};
  for (const char* backend : {"reference", "cpu"}) {
    Status st = load_and_run(m, in, optimized(backend));
    EXPECT_FALSE(st.ok()) << backend;
    EXPECT_NE(st.message().find("where0"), std::string::npos) << st.to_string();
  }
}

}  // namespace
}  // namespace hwopt::test
