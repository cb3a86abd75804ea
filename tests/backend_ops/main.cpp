// Cross-backend op checker (after ggml's test-backend-ops): every op case runs on a backend and on
// the reference kernels with the same random inputs (never zeros) and the outputs are compared.
//   --mode test     compare outputs (default); exits non-zero on any mismatch
//   --mode perf     time each case on the backend and on the reference
//   --mode support  matrix of op x dtype: which implementation each backend picks
// Ends with "N passed, N failed, N skipped" in test mode.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>

#include "ir/elementwise_chain.h"
#include "runtime/single_op.h"

using namespace hwopt;

namespace {

struct InputSpec {
  Shape shape;
  DType dtype = DType::float32;
  bool constant = false;
  enum class Fill { uniform, positive, indices, ones } fill = Fill::uniform;
  int64_t index_range = 0;  // for indices: values in [-range, range)
  std::vector<int64_t> values;  // explicit int64 values (shapes, axes)
};

struct Case {
  std::string op;
  std::string domain;
  int opset;
  std::vector<ir::Attribute> attrs;
  std::vector<InputSpec> inputs;
  size_t num_outputs = 1;
  std::string label;  // shown in reports
};

ir::Attribute ai(const std::string& n, int64_t v) { ir::Attribute a; a.name = n; a.type = ir::AttrType::i; a.i = v; return a; }
ir::Attribute af(const std::string& n, float v) { ir::Attribute a; a.name = n; a.type = ir::AttrType::f; a.f = v; return a; }
ir::Attribute as(const std::string& n, std::string v) { ir::Attribute a; a.name = n; a.type = ir::AttrType::s; a.s = std::move(v); return a; }
ir::Attribute ais(const std::string& n, std::vector<int64_t> v) { ir::Attribute a; a.name = n; a.type = ir::AttrType::ints; a.ints = std::move(v); return a; }
ir::Attribute afs(const std::string& n, std::vector<float> v) { ir::Attribute a; a.name = n; a.type = ir::AttrType::floats; a.floats = std::move(v); return a; }

InputSpec f32(Shape s) { return InputSpec{std::move(s)}; }
InputSpec w32(Shape s) { InputSpec i{std::move(s)}; i.constant = true; return i; }
InputSpec pos(Shape s, bool constant = false) { InputSpec i{std::move(s)}; i.fill = InputSpec::Fill::positive; i.constant = constant; return i; }
InputSpec i64(std::vector<int64_t> v) {
  InputSpec i{{static_cast<int64_t>(v.size())}, DType::int64, true};
  i.values = std::move(v);
  return i;
}
InputSpec idx(Shape s, int64_t range) {
  InputSpec i{std::move(s), DType::int64};
  i.fill = InputSpec::Fill::indices;
  i.index_range = range;
  return i;
}
InputSpec boolean(Shape s) { return InputSpec{std::move(s), DType::boolean}; }

std::vector<Case> all_cases() {
  std::vector<Case> c;
  // Convolutions: plain, strided/padded, depthwise, grouped+dilated, pointwise, 1-D, 3-D, fused.
  struct ConvShape { Shape x, w; int64_t group; std::vector<int64_t> strides, pads, dil; };
  const std::vector<ConvShape> convs = {
      {{1, 3, 17, 17}, {8, 3, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {{2, 16, 14, 14}, {32, 16, 3, 3}, 1, {2, 2}, {1, 1, 1, 1}, {1, 1}},
      {{1, 32, 15, 15}, {32, 1, 3, 3}, 32, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {{1, 64, 8, 8}, {64, 1, 5, 5}, 64, {2, 2}, {2, 2, 2, 2}, {1, 1}},
      {{1, 8, 11, 9}, {8, 2, 3, 3}, 4, {1, 2}, {0, 1, 2, 1}, {2, 2}},
      {{3, 24, 7, 7}, {40, 24, 1, 1}, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}},
      {{2, 5, 30}, {7, 5, 4}, 1, {2}, {1, 2}, {1}},
      {{1, 4, 6, 7, 8}, {6, 4, 3, 3, 3}, 1, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, {1, 1, 1}},
  };
  for (const auto& s : convs) {
    std::vector<ir::Attribute> a = {ai("group", s.group), ais("strides", s.strides), ais("pads", s.pads), ais("dilations", s.dil)};
    c.push_back({"Conv", "", 11, a, {f32(s.x), w32(s.w), w32({s.w[0]})}});
    c.push_back({"Conv", "", 11, a, {f32(s.x), w32(s.w)}});
    for (auto act : std::vector<std::pair<std::string, std::vector<float>>>{{"Relu", {}}, {"Clip", {0.f, 6.f}}, {"HardSigmoid", {0.2f, 0.5f}}, {"Mish", {}}}) {
      auto fa = a;
      fa.push_back(as("activation", act.first));
      if (!act.second.empty()) fa.push_back(afs("activation_params", act.second));
      c.push_back({"FusedConv", "com.microsoft", 1, fa, {f32(s.x), w32(s.w), w32({s.w[0]})}});
    }
    // fuse_conv_post_linear's ai.hwopt FusedConv: PP-LCNet's affine after a HardSwish.
    auto pa = a;
    pa.push_back(as("activation", "HardSwish"));
    pa.push_back(afs("post_linear", {0.8f, -0.25f}));
    c.push_back({"FusedConv", "ai.hwopt", 1, pa, {f32(s.x), w32(s.w), w32({s.w[0]})}});
  }
  // Pooling.
  for (Shape x : {Shape{1, 8, 16, 16}, Shape{2, 3, 15, 13}}) {
    c.push_back({"MaxPool", "", 12, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1})}, {f32(x)}});
    c.push_back({"MaxPool", "", 12, {ais("kernel_shape", {2, 2}), ais("strides", {2, 2}), ai("ceil_mode", 1)}, {f32(x)}});
    c.push_back({"AveragePool", "", 11, {ais("kernel_shape", {3, 3}), ais("pads", {1, 1, 1, 1}), ai("count_include_pad", 0)}, {f32(x)}});
    c.push_back({"AveragePool", "", 11, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ai("count_include_pad", 1), ais("pads", {1, 1, 1, 1})}, {f32(x)}});
    c.push_back({"GlobalAveragePool", "", 1, {}, {f32(x)}});
    c.push_back({"GlobalMaxPool", "", 1, {}, {f32(x)}});
  }
  // Transposed convolutions (PP-OCR's 2x upsampling with bias, padded with output_padding, grouped).
  c.push_back({"ConvTranspose", "", 11, {ais("strides", {2, 2})}, {f32({1, 24, 20, 20}), w32({24, 16, 2, 2}), w32({16})}});
  c.push_back({"ConvTranspose", "", 11, {ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1}), ais("output_padding", {1, 1})},
               {f32({2, 16, 9, 7}), w32({16, 8, 3, 3})}});
  c.push_back({"ConvTranspose", "", 11, {ai("group", 4), ais("strides", {2, 1})}, {f32({1, 8, 6, 6}), w32({8, 3, 3, 3})}});
  c.push_back({"ConvTranspose", "", 11, {ais("strides", {2, 2})}, {f32({1, 24, 160, 160}), w32({24, 24, 2, 2}), w32({24})}});
  // PP-OCR det's last layer: one output channel, kernel = stride (cpu:own:deconv_patch).
  c.push_back({"ConvTranspose", "", 11, {ais("strides", {2, 2})}, {f32({1, 24, 320, 320}), w32({24, 1, 2, 2}), w32({1})}});
  // With its activation (fuse_conv_transpose_activation): det's 24 -> 24 upsampling + Relu
  // (cpu:own:deconv_blocked), a Relu6 on oneDNN's padded one, a LeakyRelu on the patch kernel.
  c.push_back({"FusedConvTranspose", "ai.hwopt", 1, {ais("strides", {2, 2}), as("activation", "Relu")},
               {f32({1, 24, 160, 160}), w32({24, 24, 2, 2}), w32({24})}});
  c.push_back({"FusedConvTranspose", "ai.hwopt", 1,
               {ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1}), ais("output_padding", {1, 1}),
                as("activation", "Clip"), afs("activation_params", {0.f, 6.f})},
               {f32({2, 16, 9, 7}), w32({16, 8, 3, 3})}});
  c.push_back({"FusedConvTranspose", "ai.hwopt", 1,
               {ais("strides", {2, 2}), as("activation", "LeakyRelu"), afs("activation_params", {0.1f})},
               {f32({1, 24, 20, 20}), w32({24, 1, 2, 2}), w32({1})}});
  // Resize by sizes (empty roi and scales): FPN's nearest 2x, linear up and down.
  c.push_back({"Resize", "", 13, {as("coordinate_transformation_mode", "asymmetric"), as("nearest_mode", "floor")},
               {f32({1, 24, 20, 20}), w32({0}), w32({0}), i64({1, 24, 40, 40})}});
  c.push_back({"Resize", "", 13, {as("mode", "linear")}, {f32({2, 8, 9, 11}), w32({0}), w32({0}), i64({2, 8, 17, 5})}});
  c.push_back({"Resize", "", 13, {as("mode", "linear"), as("coordinate_transformation_mode", "align_corners")},
               {f32({1, 3, 16, 16}), w32({0}), w32({0}), i64({1, 3, 7, 30})}});
  // Elementwise activations.
  for (Shape x : {Shape{4, 33}, Shape{2, 8, 5, 7}}) {
    for (const char* op : {"Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Neg", "Softplus", "Erf"}) c.push_back({op, "", 13, {}, {f32(x)}});
    for (const char* op : {"Sqrt", "Log"}) c.push_back({op, "", 13, {}, {pos(x)}});
    c.push_back({"LeakyRelu", "", 6, {af("alpha", 0.1f)}, {f32(x)}});
    c.push_back({"Elu", "", 6, {af("alpha", 0.7f)}, {f32(x)}});
    c.push_back({"HardSigmoid", "", 6, {af("alpha", 0.3f), af("beta", 0.4f)}, {f32(x)}});
    c.push_back({"HardSwish", "", 14, {}, {f32(x)}});
    c.push_back({"Clip", "", 6, {af("min", -0.5f), af("max", 0.5f)}, {f32(x)}});
    c.push_back({"Gelu", "com.microsoft", 1, {}, {f32(x)}});
    c.push_back({"FastGelu", "com.microsoft", 1, {}, {f32(x)}});
  }
  // fuse_elementwise_chain's ai.hwopt ElementwiseChain: Mish written op by op (YOLOv4's stages), a
  // YOLO head's box decoding, BERT's attention-mask arithmetic widened onto the scores.
  {
    constexpr int R = ir::kChainRunning;
    auto chain = [](std::vector<ir::ChainStep> steps) {
      ir::ElementwiseChain ch;
      ch.onnx_opset = 13;
      ch.steps = std::move(steps);
      return ir::chain_attributes(ch);
    };
    const auto mish = chain({{"Softplus", {0}}, {"Tanh", {R}}, {"Mul", {0, R}}});
    for (Shape x : {Shape{2, 8, 5, 7}, Shape{1, 16, 112, 112}}) c.push_back({"ElementwiseChain", "ai.hwopt", 1, mish, {f32(x)}});
    c.push_back({"ElementwiseChain", "ai.hwopt", 1,
                 chain({{"Sigmoid", {0}}, {"Mul", {R, 1}}, {"Sub", {R, 2}}, {"Add", {R, 3}}, {"Mul", {R, 4}}}),
                 {f32({1, 3, 40, 40, 2}), w32({}), w32({}), f32({1, 1, 40, 40, 2}), w32({})}});
    c.push_back({"ElementwiseChain", "ai.hwopt", 1, chain({{"Sub", {0, 1}}, {"Mul", {R, 2}}, {"Add", {3, R}}}),
                 {w32({}), f32({2, 1, 1, 128}), w32({}), f32({2, 12, 128, 128})}});
  }
  // Binary with broadcasting.
  const std::vector<std::pair<Shape, Shape>> bshapes = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{2, 3, 4, 5}, {5}}, {{4, 1}, {1, 6}},
      {{8, 128, 64}, {64}}, {{1}, {3, 7}}, {{2, 12, 16, 16}, {2, 1, 1, 16}}};
  for (const auto& [a, b] : bshapes)
    for (const char* op : {"Add", "Sub", "Mul", "Max", "Min"}) c.push_back({op, "", 13, {}, {f32(a), f32(b)}});
  for (const auto& [a, b] : bshapes) c.push_back({"Div", "", 13, {}, {f32(a), pos(b)}});
  c.push_back({"Pow", "", 13, {}, {pos({4, 9}), w32({})}});
  c.push_back({"Where", "", 16, {}, {boolean({4, 1, 6}), f32({4, 5, 6}), f32({6})}});
  // Softmax family.
  for (Shape x : {Shape{4, 10}, Shape{2, 12, 16, 16}, Shape{3, 5, 7}}) {
    for (int64_t axis : {int64_t{-1}, int64_t{1}}) {
      c.push_back({"Softmax", "", 13, {ai("axis", axis)}, {f32(x)}});
      c.push_back({"LogSoftmax", "", 13, {ai("axis", axis)}, {f32(x)}});
    }
    c.push_back({"Softmax", "", 11, {ai("axis", 1)}, {f32(x)}});
  }
  // Normalisations.
  c.push_back({"BatchNormalization", "", 15, {af("epsilon", 1e-3f)}, {f32({2, 16, 7, 9}), w32({16}), w32({16}), w32({16}), pos({16}, true)}});
  for (Shape x : {Shape{2, 5, 64}, Shape{8, 768}, Shape{1, 7, 33}}) {
    c.push_back({"LayerNormalization", "", 17, {ai("axis", -1), af("epsilon", 1e-5f)}, {f32(x), w32({x.back()}), w32({x.back()})}});
    c.push_back({"LayerNormalization", "ai.hwopt", 1, {ai("axis", -1), af("epsilon", 1e-12f)}, {f32(x), w32({x.back()}), w32({x.back()})}});
  }
  c.push_back({"InstanceNormalization", "", 6, {af("epsilon", 1e-5f)}, {f32({2, 4, 5, 6}), w32({4}), w32({4})}});
  // Concat, reductions.
  c.push_back({"Concat", "", 13, {ai("axis", 1)}, {f32({2, 3, 4, 4}), f32({2, 5, 4, 4}), f32({2, 1, 4, 4})}});
  c.push_back({"Concat", "", 13, {ai("axis", -1)}, {f32({3, 4}), f32({3, 7})}});
  c.push_back({"Concat", "", 13, {ai("axis", 0)}, {f32({1, 6}), f32({3, 6})}});
  for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2"}) {
    c.push_back({op, "", 11, {ais("axes", {-1}), ai("keepdims", 1)}, {f32({4, 6, 10})}});
    c.push_back({op, "", 11, {ais("axes", {2, 3}), ai("keepdims", 0)}, {f32({2, 3, 5, 7})}});
  }
  c.push_back({"ReduceSum", "", 13, {ai("keepdims", 1)}, {f32({4, 6, 10}), i64({1})}});
  // Matrix multiplication.
  c.push_back({"Gemm", "", 13, {ai("transB", 1)}, {f32({4, 64}), w32({10, 64}), w32({10})}});
  c.push_back({"Gemm", "", 13, {af("alpha", 0.5f), af("beta", 2.f)}, {f32({7, 33}), w32({33, 17}), w32({7, 17})}});
  c.push_back({"Gemm", "", 13, {ai("transA", 1)}, {f32({33, 7}), w32({33, 17})}});
  c.push_back({"FusedGemm", "com.microsoft", 1, {ai("transB", 1), as("activation", "Relu")}, {f32({5, 48}), w32({24, 48}), w32({24})}});
  c.push_back({"MatMul", "", 13, {}, {f32({2, 128, 96}), w32({96, 64})}});
  c.push_back({"MatMul", "", 13, {}, {f32({2, 4, 16, 8}), f32({2, 4, 8, 16})}});
  c.push_back({"MatMul", "", 13, {}, {f32({3, 5, 7}), f32({7})}});
  c.push_back({"MatMul", "", 13, {}, {f32({6}), f32({2, 6, 3})}});
  c.push_back({"MatMul", "", 13, {}, {f32({1, 3, 5, 7}), f32({4, 1, 7, 2})}});
  c.push_back({"FusedMatMul", "ai.hwopt", 1, {as("activation", "Gelu")}, {f32({2, 16, 96}), w32({96, 64}), w32({64})}});
  c.push_back({"FusedMatMul", "ai.hwopt", 1, {}, {f32({2, 16, 96}), w32({96, 64}), w32({64})}});
  c.push_back({"ScaledDotProductAttention", "ai.hwopt", 1, {af("scale", 0.125f)},
               {f32({2, 4, 16, 64}), f32({2, 4, 16, 64}), f32({2, 4, 16, 64}), f32({2, 1, 1, 16})}});
  c.push_back({"ScaledDotProductAttention", "ai.hwopt", 1, {af("scale", 0.25f), ai("k_transposed", 1)},
               {f32({1, 2, 9, 16}), f32({1, 2, 16, 9}), f32({1, 2, 9, 16})}});
  // Data movement.
  c.push_back({"Transpose", "", 13, {ais("perm", {0, 2, 1, 3})}, {f32({2, 16, 12, 8})}});
  c.push_back({"Transpose", "", 13, {ais("perm", {0, 2, 3, 1})}, {f32({2, 12, 16, 8})}});
  c.push_back({"Transpose", "", 13, {ais("perm", {1, 0})}, {f32({37, 53})}});
  c.push_back({"Gather", "", 13, {ai("axis", 0)}, {w32({100, 32}), idx({2, 7}, 100)}});
  c.push_back({"Gather", "", 13, {ai("axis", 1)}, {f32({3, 10, 4}), idx({5}, 10)}});
  c.push_back({"Reshape", "", 14, {}, {f32({2, 3, 4}), i64({6, -1})}});
  c.push_back({"Flatten", "", 13, {ai("axis", 1)}, {f32({2, 3, 4, 5})}});
  c.push_back({"Unsqueeze", "", 13, {}, {f32({3, 4}), i64({0, 3})}});
  c.push_back({"Squeeze", "", 13, {}, {f32({3, 1, 4}), i64({1})}});
  c.push_back({"Slice", "", 13, {}, {f32({4, 10, 6}), i64({1, 2}), i64({3, 9}), i64({0, 1})}});
  c.push_back({"Split", "", 13, {ai("axis", 1)}, {f32({2, 6, 3}), i64({2, 4})}, 2});
  c.push_back({"Cast", "", 13, {ai("to", static_cast<int64_t>(DType::int64))}, {f32({4, 9})}});
  for (auto& k : c) {
    if (!k.label.empty()) continue;
    std::string shapes;
    for (const auto& i : k.inputs) shapes += (shapes.empty() ? "" : ",") + shape_str(i.shape);
    k.label = fmt::format("{}({})", k.op, shapes);
  }
  return c;
}

Tensor make_input(const InputSpec& s, std::mt19937& rng, DType float_dtype) {
  if (!s.values.empty()) return Tensor::from_vector<int64_t>(s.shape, s.values);
  DType dt = s.dtype == DType::float32 ? float_dtype : s.dtype;
  Tensor t(dt, s.shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v;
    switch (s.fill) {
      case InputSpec::Fill::positive: v = std::uniform_real_distribution<double>(0.1, 2.0)(rng); break;
      case InputSpec::Fill::indices: v = static_cast<double>(std::uniform_int_distribution<int64_t>(-s.index_range, s.index_range - 1)(rng)); break;
      case InputSpec::Fill::ones: v = 1; break;
      default: {
        v = std::uniform_real_distribution<double>(-2.0, 2.0)(rng);
        if (std::fabs(v) < 1e-3) v = 0.5;  // never zero
      }
    }
    switch (dt) {
      case DType::float32: t.data<float>()[i] = static_cast<float>(v); break;
      case DType::float16: t.data<Half>()[i] = Half(static_cast<float>(v)); break;
      case DType::bfloat16: t.data<BFloat16>()[i] = BFloat16(static_cast<float>(v)); break;
      case DType::float64: t.data<double>()[i] = v; break;
      case DType::int64: t.data<int64_t>()[i] = static_cast<int64_t>(v); break;
      case DType::int32: t.data<int32_t>()[i] = static_cast<int32_t>(v); break;
      case DType::int8: t.data<int8_t>()[i] = static_cast<int8_t>(v * 20); break;
      case DType::uint8: t.data<uint8_t>()[i] = static_cast<uint8_t>(std::fabs(v) * 60); break;
      case DType::boolean: t.data<bool>()[i] = v > 0; break;
      default: break;
    }
  }
  return t;
}

SingleOp make_op(const Case& k, DType float_dtype, uint32_t seed) {
  std::mt19937 rng(seed);
  SingleOp op;
  op.op_type = k.op;
  op.domain = k.domain;
  op.opset = k.opset;
  op.attributes = k.attrs;
  op.num_outputs = k.num_outputs;
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    op.inputs.push_back(make_input(k.inputs[i], rng, float_dtype));
    if (k.inputs[i].constant) op.constant_inputs.push_back(i);
  }
  return op;
}

std::string compare(const SingleOpResult& got, const SingleOpResult& want, double tol) {
  if (got.outputs.size() != want.outputs.size()) return "different number of outputs";
  for (size_t o = 0; o < want.outputs.size(); ++o) {
    const Tensor& g = got.outputs[o].tensor;
    const Tensor& w = want.outputs[o].tensor;
    if (!w.defined()) continue;
    if (!g.defined()) return fmt::format("output {} missing", o);
    if (g.dtype() != w.dtype()) return fmt::format("output {} dtype {} vs {}", o, dtype_name(g.dtype()), dtype_name(w.dtype()));
    if (g.shape() != w.shape()) return fmt::format("output {} shape {} vs {}", o, shape_str(g.shape()), shape_str(w.shape()));
    double worst = 0;
    int64_t where = -1;
    for (int64_t i = 0; i < w.numel(); ++i) {
      double a = g.element_as_double(i), b = w.element_as_double(i);
      if (std::isnan(a) && std::isnan(b)) continue;
      double err = std::fabs(a - b) / (tol + tol * std::fabs(b));
      if (!(err <= 1.0) && (where < 0 || err > worst)) {
        worst = err;
        where = i;
      }
    }
    if (where >= 0)
      return fmt::format("output {} differs at {}: {} vs reference {}", o, where, g.element_as_double(where),
                         w.element_as_double(where));
  }
  return "";
}

double median_ms(const SingleOpRunner& r, int runs) {
  std::vector<double> t;
  r.run(false);  // warm-up: primitive creation, weight reorders
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    r.run(false);
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "test", backend = "cpu", filter;
  int threads = 0, runs = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--mode") mode = next();
    else if (a == "--backend") backend = next();
    else if (a == "--op") filter = next();
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--runs") runs = std::max(1, std::atoi(next().c_str()));
    else {
      std::cout << "usage: hwopt_backend_ops [--mode test|perf|support] [--backend cpu] [--op REGEX] [--threads N] [--runs N]\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  std::regex re(filter.empty() ? ".*" : filter);
  auto cases = all_cases();
  int passed = 0, failed = 0, skipped = 0;
  if (mode == "support") {
    const std::vector<DType> dtypes = {DType::float32, DType::float16, DType::bfloat16};
    std::map<std::string, std::map<DType, std::set<std::string>>> matrix;
    for (const auto& k : cases) {
      if (!std::regex_search(k.op, re)) continue;
      for (DType dt : dtypes) {
        SingleOpRunner r(backend, make_op(k, dt, 1), threads);
        matrix[k.domain.empty() ? k.op : k.domain + ":" + k.op][dt].insert(r.error().empty() ? r.implementation() : "error");
      }
    }
    std::cout << fmt::format("{:<40}", "op");
    for (DType dt : dtypes) std::cout << fmt::format(" {:<34}", dtype_name(dt));
    std::cout << "\n";
    for (const auto& [op, row] : matrix) {
      std::cout << fmt::format("{:<40}", op);
      for (DType dt : dtypes) {
        std::string cell;
        for (const auto& impl : row.at(dt)) cell += (cell.empty() ? "" : " | ") + impl;
        std::cout << fmt::format(" {:<34}", cell);
      }
      std::cout << "\n";
    }
    return 0;
  }
  if (mode == "perf")
    std::cout << fmt::format("{:<58} {:<30} {:>10} {:>10} {:>8}  {}\n", "case", "implementation", "ms", "ref ms", "speedup",
                             "ran");
  for (size_t n = 0; n < cases.size(); ++n) {
    const Case& k = cases[n];
    if (!std::regex_search(k.op, re)) continue;
    SingleOp op = make_op(k, DType::float32, static_cast<uint32_t>(n + 1));
    SingleOpRunner fast(backend, op, threads);
    SingleOpRunner ref("reference", op, threads);
    if (mode == "perf") {
      double f = median_ms(fast, runs), r = median_ms(ref, std::max(1, runs / 3));
      std::cout << fmt::format("{:<58} {:<30} {:>10.3f} {:>10.3f} {:>7.1f}x  {}\n", k.label, fast.implementation(), f, r,
                               r / f, fast.run().kernel);
      continue;
    }
    auto want = ref.run();
    if (!want.error.empty()) {
      ++skipped;
      std::cout << fmt::format("SKIP {}: reference failed: {}\n", k.label, want.error);
      continue;
    }
    auto got = fast.run();
    std::string why = got.error.empty() ? compare(got, want, 1e-4) : got.error;
    if (why.empty()) {
      ++passed;
      std::cout << fmt::format("ok   {:<58} {}{}\n", k.label, got.implementation,
                               got.kernel.empty() ? "" : " (ran " + got.kernel + ")");
    } else {
      ++failed;
      std::cout << fmt::format("FAIL {:<58} {}: {}\n", k.label, got.implementation, why);
    }
  }
  if (mode == "test") std::cout << fmt::format("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
