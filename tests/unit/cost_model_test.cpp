// The op cost model against hand counts: single ops with exact MACs, flops and bytes, and whole
// networks (ResNet-50, MobileNetV2, BERT-base) built as ir::Graphs against their published totals.
#include "profile/cost_model.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>

#include "onnx/import.h"
#include "passes/graph_view.h"
#include "passes/pipeline.h"

namespace hwopt::profile {
namespace {

using passes::make_attr;

ValueDesc vd(Shape shape, DType dtype = DType::float32) { return ValueDesc{true, dtype, std::move(shape)}; }
const ValueDesc kAbsent{};
ir::Dim dim(int64_t v) { return ir::Dim{v, ""}; }

ir::Node make_node(const std::string& op, std::vector<ir::Attribute> attrs = {}, const std::string& domain = "") {
  ir::Node n;
  n.op_type = op;
  n.domain = domain;
  n.opset = domain.empty() ? 17 : 1;
  n.attributes = std::move(attrs);
  return n;
}

// ---- single ops, exact hand counts ----

TEST(CostModel, Conv3x3WithBias) {
  // X [1,3,8,8], W [16,3,3,3], B [16], pads 1 -> Y [1,16,8,8]: 16*8*8 outputs of 3*3*3 MACs each.
  auto n = make_node("Conv", {make_attr("pads", std::vector<int64_t>{1, 1, 1, 1})});
  OpCost c = op_cost(n, {vd({1, 3, 8, 8}), vd({16, 3, 3, 3}), vd({16})}, {vd({1, 16, 8, 8})});
  EXPECT_TRUE(c.known);
  EXPECT_EQ(c.op_class, OpClass::conv);
  EXPECT_EQ(c.macs, 1024.0 * 27);
  EXPECT_EQ(c.flops, 2 * 1024.0 * 27 + 1024);               // + bias add
  EXPECT_EQ(c.bytes, 4.0 * (192 + 432 + 16 + 1024));       // X, W, B, Y once each
  EXPECT_EQ(op_class_name(c.op_class), "conv");

  // FusedConv with a residual Z and Relu: one more add and one max per output, Z read once.
  auto f = make_node("FusedConv", {make_attr("activation", std::string("Relu"))}, "com.microsoft");
  OpCost fc = op_cost(f, {vd({1, 3, 8, 8}), vd({16, 3, 3, 3}), vd({16}), vd({1, 16, 8, 8})}, {vd({1, 16, 8, 8})});
  EXPECT_EQ(fc.macs, c.macs);
  EXPECT_EQ(fc.flops, c.flops + 1024 + 1024);
  EXPECT_EQ(fc.bytes, c.bytes + 4.0 * 1024);
}

TEST(CostModel, GroupedAndDepthwiseConv) {
  // Depthwise: X [1,32,16,16], W [32,1,3,3], group 32, stride 2 -> Y [1,32,8,8]: 9 MACs per output.
  auto dw = make_node("Conv", {make_attr("group", int64_t{32}), make_attr("strides", std::vector<int64_t>{2, 2}),
                               make_attr("pads", std::vector<int64_t>{1, 1, 1, 1})});
  OpCost c = op_cost(dw, {vd({1, 32, 16, 16}), vd({32, 1, 3, 3}), kAbsent}, {vd({1, 32, 8, 8})});
  EXPECT_EQ(c.macs, 2048.0 * 9);
  EXPECT_EQ(c.flops, 2 * 2048.0 * 9);  // no bias
  EXPECT_EQ(c.bytes, 4.0 * (8192 + 288 + 2048));
  // Grouped: X [1,8,4,4], W [16,2,3,3], group 4 -> Y [1,16,4,4]: 2*3*3 MACs per output; dilation
  // does not change the count.
  auto g = make_node("Conv", {make_attr("group", int64_t{4}), make_attr("dilations", std::vector<int64_t>{2, 2}),
                              make_attr("pads", std::vector<int64_t>{2, 2, 2, 2})});
  EXPECT_EQ(op_cost(g, {vd({1, 8, 4, 4}), vd({16, 2, 3, 3})}, {vd({1, 16, 4, 4})}).macs, 256.0 * 18);
  // ConvTranspose: X [1,4,5,5], W [4,2,3,3], group 2 -> 4 output channels; each input element meets
  // 2*3*3 weights.
  auto t = make_node("ConvTranspose", {make_attr("group", int64_t{2})});
  EXPECT_EQ(op_cost(t, {vd({1, 4, 5, 5}), vd({4, 2, 3, 3})}, {vd({1, 4, 7, 7})}).macs, 100.0 * 18);
}

TEST(CostModel, GemmTransposes) {
  // A [4,256], B [128,256] with transB, C [128] -> Y [4,128]: K = 256.
  auto n = make_node("Gemm", {make_attr("transB", int64_t{1})});
  OpCost c = op_cost(n, {vd({4, 256}), vd({128, 256}), vd({128})}, {vd({4, 128})});
  EXPECT_EQ(c.op_class, OpClass::matmul);
  EXPECT_EQ(c.macs, 512.0 * 256);
  EXPECT_EQ(c.flops, 2 * 512.0 * 256 + 512);
  EXPECT_EQ(c.bytes, 4.0 * (1024 + 32768 + 128 + 512));
  // transA: A [256,4]; alpha != 1 costs one multiply per output.
  auto ta = make_node("Gemm", {make_attr("transA", int64_t{1}), make_attr("alpha", 0.5f)});
  OpCost a = op_cost(ta, {vd({256, 4}), vd({256, 128})}, {vd({4, 128})});
  EXPECT_EQ(a.macs, 512.0 * 256);
  EXPECT_EQ(a.flops, 2 * 512.0 * 256 + 512);
  // FusedGemm with Relu.
  auto fg = make_node("FusedGemm", {make_attr("transB", int64_t{1}), make_attr("activation", std::string("Relu"))},
                      "com.microsoft");
  EXPECT_EQ(op_cost(fg, {vd({4, 256}), vd({128, 256}), vd({128})}, {vd({4, 128})}).flops, c.flops + 512);
}

TEST(CostModel, BatchedMatMulBroadcasting) {
  auto n = make_node("MatMul");
  // A [2,3,5,7] x B [7,11] -> [2,3,5,11]: 330 outputs of 7 MACs.
  OpCost c = op_cost(n, {vd({2, 3, 5, 7}), vd({7, 11})}, {vd({2, 3, 5, 11})});
  EXPECT_EQ(c.macs, 2310.0);
  EXPECT_EQ(c.flops, 4620.0);
  EXPECT_EQ(c.bytes, 4.0 * (210 + 77 + 330));
  // Both sides broadcast: A [2,1,5,7] x B [3,7,11] -> [2,3,5,11].
  EXPECT_EQ(op_cost(n, {vd({2, 1, 5, 7}), vd({3, 7, 11})}, {vd({2, 3, 5, 11})}).macs, 2310.0);
  // Vector operands: [7] x [7,11] -> [11].
  EXPECT_EQ(op_cost(n, {vd({7}), vd({7, 11})}, {vd({11})}).macs, 77.0);
  // FusedMatMul with bias and Gelu: + bias add + Gelu (4 + erf as one transcendental of 4) per output.
  auto f = make_node("FusedMatMul", {make_attr("activation", std::string("Gelu"))}, "ai.hwopt");
  OpCost fc = op_cost(f, {vd({2, 3, 5, 7}), vd({7, 11}), vd({11})}, {vd({2, 3, 5, 11})});
  EXPECT_EQ(fc.macs, 2310.0);
  EXPECT_EQ(fc.flops, 4620.0 + 330 + 330 * 8);
  // Integer matmul: the same MACs, flagged as integer math.
  OpCost q = op_cost(make_node("MatMulInteger"), {vd({4, 64}, DType::uint8), vd({64, 32}, DType::int8)},
                     {vd({4, 32}, DType::int32)});
  EXPECT_EQ(q.macs, 128.0 * 64);
  EXPECT_TRUE(q.integer_math);
  EXPECT_EQ(q.bytes, 256.0 + 2048 + 4 * 128);
}

TEST(CostModel, Attention) {
  // B=2, H=12, S=S_kv=128, D=64, additive mask [2,1,1,128].
  auto n = make_node("ScaledDotProductAttention", {make_attr("scale", 0.125f)}, "ai.hwopt");
  const Shape qkv = {2, 12, 128, 64};
  OpCost c = op_cost(n, {vd(qkv), vd(qkv), vd(qkv), vd({2, 1, 1, 128})}, {vd(qkv)});
  const double scores = 2.0 * 12 * 128 * 128;
  EXPECT_EQ(c.op_class, OpClass::attention);
  EXPECT_EQ(c.macs, 2 * scores * 64);  // Q K^T and P V
  // Per score: scale 1, mask add 1, softmax (max, subtract, exp = 4, sum, divide) 8.
  EXPECT_EQ(c.flops, 2 * c.macs + scores * 10);
  EXPECT_EQ(c.bytes, 4.0 * (4 * 196608 + 256));  // scores never leave the kernel
  // The same MACs as the unfused QK^T and PV MatMuls.
  auto mm = make_node("MatMul");
  const double unfused = op_cost(mm, {vd(qkv), vd({2, 12, 64, 128})}, {vd({2, 12, 128, 128})}).macs +
                         op_cost(mm, {vd({2, 12, 128, 128}), vd(qkv)}, {vd(qkv)}).macs;
  EXPECT_EQ(c.macs, unfused);
  // K given transposed: K [2,12,64,128]; heads broadcast from K and V [1,12,...].
  auto kt = make_node("ScaledDotProductAttention", {make_attr("k_transposed", int64_t{1})}, "ai.hwopt");
  OpCost t = op_cost(kt, {vd(qkv), vd({1, 12, 64, 128}), vd({1, 12, 128, 64})}, {vd(qkv)});
  EXPECT_EQ(t.macs, c.macs);
}

TEST(CostModel, Pooling) {
  // MaxPool 3x3 stride 2 pad 1 on [1,8,32,32] -> [1,8,16,16]: 9 compares per output.
  auto mp = make_node("MaxPool", {make_attr("kernel_shape", std::vector<int64_t>{3, 3}),
                                  make_attr("strides", std::vector<int64_t>{2, 2}),
                                  make_attr("pads", std::vector<int64_t>{1, 1, 1, 1})});
  OpCost c = op_cost(mp, {vd({1, 8, 32, 32})}, {vd({1, 8, 16, 16})});
  EXPECT_EQ(c.op_class, OpClass::pooling);
  EXPECT_EQ(c.macs, 0);
  EXPECT_EQ(c.flops, 2048.0 * 9);
  EXPECT_EQ(c.bytes, 4.0 * (8192 + 2048));  // the input is read once (minimum), not once per window
  // AveragePool 2x2: 4 adds and a divide per output.
  auto ap = make_node("AveragePool", {make_attr("kernel_shape", std::vector<int64_t>{2, 2}),
                                      make_attr("strides", std::vector<int64_t>{2, 2})});
  EXPECT_EQ(op_cost(ap, {vd({1, 8, 32, 32})}, {vd({1, 8, 16, 16})}).flops, 2048.0 * 5);
  // GlobalAveragePool: one add per input element, one divide per output.
  OpCost g = op_cost(make_node("GlobalAveragePool"), {vd({1, 8, 32, 32})}, {vd({1, 8, 1, 1})});
  EXPECT_EQ(g.flops, 8192.0 + 8);
  EXPECT_EQ(g.bytes, 4.0 * (8192 + 8));
}

TEST(CostModel, ElementwiseBroadcastAndVariadic) {
  // [2,3,4,5] + [5]: one add per output; the broadcast operand is read once.
  OpCost c = op_cost(make_node("Add"), {vd({2, 3, 4, 5}), vd({5})}, {vd({2, 3, 4, 5})});
  EXPECT_EQ(c.op_class, OpClass::elementwise);
  EXPECT_EQ(c.flops, 120.0);
  EXPECT_EQ(c.bytes, 4.0 * (120 + 5 + 120));
  // Sum of three: two adds per output; Mean: plus a divide.
  EXPECT_EQ(op_cost(make_node("Sum"), {vd({2, 3}), vd({2, 3}), vd({3})}, {vd({2, 3})}).flops, 12.0);
  EXPECT_EQ(op_cost(make_node("Mean"), {vd({2, 3}), vd({2, 3}), vd({3})}, {vd({2, 3})}).flops, 18.0);
  // Where: a select per output; bool condition is 1 byte.
  OpCost w = op_cost(make_node("Where"), {vd({4}, DType::boolean), vd({4}), vd({1})}, {vd({4})});
  EXPECT_EQ(w.flops, 4.0);
  EXPECT_EQ(w.bytes, 4.0 + 16 + 4 + 16);
  // Cast moves bytes, no arithmetic; Sigmoid = exp + add + divide.
  OpCost cast = op_cost(make_node("Cast", {make_attr("to", int64_t{10})}), {vd({8})}, {vd({8}, DType::float16)});
  EXPECT_EQ(cast.flops, 0);
  EXPECT_EQ(cast.bytes, 32.0 + 16);
  EXPECT_EQ(op_cost(make_node("Sigmoid"), {vd({8})}, {vd({8})}).flops, 8.0 * 6);
}

TEST(CostModel, NormalizationAndReduction) {
  // LayerNorm over 768 with scale and bias: 6 + 2 flops per element.
  OpCost ln = op_cost(make_node("LayerNormalization"), {vd({1, 128, 768}), vd({768}), vd({768})}, {vd({1, 128, 768})});
  EXPECT_EQ(ln.op_class, OpClass::normalization);
  EXPECT_EQ(ln.flops, 98304.0 * 8);
  OpCost sm = op_cost(make_node("Softmax"), {vd({4, 10})}, {vd({4, 10})});
  EXPECT_EQ(sm.flops, 40.0 * 8);
  OpCost bn = op_cost(make_node("BatchNormalization"), {vd({1, 4, 2, 2}), vd({4}), vd({4}), vd({4}), vd({4})},
                      {vd({1, 4, 2, 2})});
  EXPECT_EQ(bn.flops, 16.0 * 2);
  EXPECT_EQ(bn.bytes, 4.0 * (16 + 16 + 16));
  OpCost r = op_cost(make_node("ReduceMean"), {vd({2, 3, 4})}, {vd({2, 1, 1})});
  EXPECT_EQ(r.op_class, OpClass::reduction);
  EXPECT_EQ(r.flops, 24.0 + 2);
}

TEST(CostModel, DataMovement) {
  // Views move nothing.
  for (const char* op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Shape"}) {
    OpCost c = op_cost(make_node(op), {vd({2, 3, 4}), vd({2}, DType::int64)}, {vd({6, 4})});
    EXPECT_EQ(c.op_class, OpClass::data_movement) << op;
    EXPECT_EQ(c.bytes, 0) << op;
    EXPECT_TRUE(c.known) << op;
  }
  // Transpose reads and writes everything.
  EXPECT_EQ(op_cost(make_node("Transpose"), {vd({2, 3, 4})}, {vd({4, 3, 2})}).bytes, 4.0 * 48);
  // Gather of 128 rows from a [30522,768] table reads the rows, not the table.
  OpCost g = op_cost(make_node("Gather"), {vd({30522, 768}), vd({1, 128}, DType::int64)}, {vd({1, 128, 768})});
  EXPECT_EQ(g.bytes, 8.0 * 128 + 2 * 4.0 * 128 * 768);
  // Slice of the leading rows is a view; a column slice is a copy of what it keeps.
  const std::vector<ValueDesc> idx = {vd({1}, DType::int64), vd({1}, DType::int64), vd({1}, DType::int64)};
  std::vector<ValueDesc> rows = {vd({8, 16})};
  rows.insert(rows.end(), idx.begin(), idx.end());
  EXPECT_EQ(op_cost(make_node("Slice"), rows, {vd({4, 16})}).bytes, 0);
  EXPECT_EQ(op_cost(make_node("Slice"), rows, {vd({8, 4})}).bytes, 3 * 8.0 + 2 * 4.0 * 32);
  // Concat copies; Split of the outermost axis gives views, of an inner axis copies.
  EXPECT_EQ(op_cost(make_node("Concat"), {vd({2, 3}), vd({2, 5})}, {vd({2, 8})}).bytes, 4.0 * 32);
  EXPECT_EQ(op_cost(make_node("Split", {make_attr("axis", int64_t{1})}), {vd({1, 8})}, {vd({1, 4}), vd({1, 4})}).bytes, 0);
  EXPECT_EQ(op_cost(make_node("Split", {make_attr("axis", int64_t{1})}), {vd({2, 8})}, {vd({2, 4}), vd({2, 4})}).bytes,
            4.0 * 32);
}

TEST(CostModel, UnknownAndControlFlow) {
  OpCost u = op_cost(make_node("MyCustomOp", {}, "com.example"), {vd({4})}, {vd({4})});
  EXPECT_FALSE(u.known);
  EXPECT_EQ(u.op_class, OpClass::other);
  EXPECT_EQ(u.bytes, 32.0);
  EXPECT_EQ(u.flops, 0);
  OpCost i = op_cost(make_node("If"), {vd({}, DType::boolean)}, {vd({4})});
  EXPECT_FALSE(i.known);
  EXPECT_EQ(i.op_class, OpClass::control_flow);
  // A conv whose weight shape is missing is unknown rather than guessed.
  EXPECT_FALSE(op_cost(make_node("Conv"), {vd({1, 3, 8, 8}), kAbsent}, {vd({1, 16, 8, 8})}).known);
}

// ---- whole networks ----

/// Builds an ir::Graph op by op. Weights are uninitialized tensors of the real shapes: the cost
/// model reads shapes only (the memory is reserved but never touched).
class Builder {
 public:
  Builder() { g.opsets = {{"", 17}, {"com.microsoft", 1}, {"ai.hwopt", 1}}; }

  std::string input(const std::string& name, const std::vector<ir::Dim>& dims, DType dt = DType::float32) {
    ir::ValueInfo vi;
    vi.name = name;
    vi.dtype = dt;
    vi.has_shape = true;
    vi.shape = dims;
    g.inputs.push_back(vi);
    return name;
  }
  std::string weight(const Shape& shape) {
    std::string name = fmt::format("w{}", next_++);
    g.initializers[name] = Tensor::uninitialized(DType::float32, shape);
    return name;
  }
  std::string ints(const std::vector<int64_t>& v) {
    std::string name = fmt::format("c{}", next_++);
    g.initializers[name] = Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v);
    return name;
  }
  std::string scalar(float v) {
    std::string name = fmt::format("s{}", next_++);
    g.initializers[name] = Tensor::from_vector<float>({}, {v});
    return name;
  }
  std::string op(const std::string& type, std::vector<std::string> inputs, std::vector<ir::Attribute> attrs = {},
                 const std::string& domain = "") {
    ir::Node n = make_node(type, std::move(attrs), domain);
    n.name = fmt::format("{}_{}", type, next_);
    n.inputs = std::move(inputs);
    n.outputs = {fmt::format("v{}", next_++)};
    g.nodes.push_back(n);
    return n.outputs[0];
  }
  void output(const std::string& name) {
    ir::ValueInfo vi;
    vi.name = name;
    vi.dtype = DType::float32;
    g.outputs.push_back(vi);
  }

  ir::Graph g;

 private:
  int next_ = 0;
};

std::vector<ir::Attribute> conv_attrs(int64_t k, int64_t stride, int64_t group = 1) {
  const int64_t p = k / 2;
  return {make_attr("kernel_shape", std::vector<int64_t>{k, k}), make_attr("strides", std::vector<int64_t>{stride, stride}),
          make_attr("pads", std::vector<int64_t>{p, p, p, p}), make_attr("group", group)};
}

/// torchvision ResNet-50 (v1.5: stride on the 3x3), BatchNorm folded into the convs as PyTorch's
/// eval-mode export does, batch `batch` symbolic.
ir::Graph resnet50() {
  Builder b;
  auto conv = [&](const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t s) {
    return b.op("Conv", {x, b.weight({cout, cin, k, k}), b.weight({cout})}, conv_attrs(k, s));
  };
  std::string x = b.input("input", {ir::Dim{-1, "batch"}, dim(3), dim(224), dim(224)});
  x = b.op("Relu", {conv(x, 3, 64, 7, 2)});
  x = b.op("MaxPool", {x}, {make_attr("kernel_shape", std::vector<int64_t>{3, 3}),
                            make_attr("strides", std::vector<int64_t>{2, 2}),
                            make_attr("pads", std::vector<int64_t>{1, 1, 1, 1})});
  int64_t cin = 64;
  const int64_t widths[] = {64, 128, 256, 512}, blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t w = widths[stage];
    for (int64_t i = 0; i < blocks[stage]; ++i) {
      const int64_t s = i == 0 && stage > 0 ? 2 : 1;
      std::string y = b.op("Relu", {conv(x, cin, w, 1, 1)});
      y = b.op("Relu", {conv(y, w, w, 3, s)});
      y = conv(y, w, 4 * w, 1, 1);
      const std::string shortcut = i == 0 ? conv(x, cin, 4 * w, 1, s) : x;
      x = b.op("Relu", {b.op("Add", {y, shortcut})});
      cin = 4 * w;
    }
  }
  x = b.op("Flatten", {b.op("GlobalAveragePool", {x})});
  x = b.op("Gemm", {x, b.weight({1000, 2048}), b.weight({1000})}, {make_attr("transB", int64_t{1})});
  b.output(x);
  return b.g;
}

/// MobileNetV2 1.0 at 224, Conv + BatchNormalization + Clip(0, 6) unfolded (the nsfwjs/Keras form).
ir::Graph mobilenet_v2() {
  Builder b;
  const std::string zero = b.scalar(0), six = b.scalar(6);
  auto conv_bn = [&](const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t s, int64_t group, bool relu6) {
    std::string y = b.op("Conv", {x, b.weight({cout, cin / group, k, k})}, conv_attrs(k, s, group));
    y = b.op("BatchNormalization", {y, b.weight({cout}), b.weight({cout}), b.weight({cout}), b.weight({cout})});
    return relu6 ? b.op("Clip", {y, zero, six}) : y;
  };
  std::string x = b.input("input", {dim(1), dim(3), dim(224), dim(224)});
  x = conv_bn(x, 3, 32, 3, 2, 1, true);
  int64_t cin = 32;
  const int64_t settings[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                                 {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const auto& [t, c, n, s] : settings) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t stride = i == 0 ? s : 1, hidden = cin * t;
      std::string y = t == 1 ? x : conv_bn(x, cin, hidden, 1, 1, 1, true);
      y = conv_bn(y, hidden, hidden, 3, stride, hidden, true);
      y = conv_bn(y, hidden, c, 1, 1, 1, false);
      x = stride == 1 && cin == c ? b.op("Add", {x, y}) : y;
      cin = c;
    }
  }
  x = conv_bn(x, cin, 1280, 1, 1, 1, true);
  x = b.op("Flatten", {b.op("GlobalAveragePool", {x})});
  x = b.op("Gemm", {x, b.weight({1000, 1280}), b.weight({1000})}, {make_attr("transB", int64_t{1})});
  b.output(x);
  return b.g;
}

/// BERT-base (12 layers, hidden 768, 12 heads, FFN 3072) at sequence `seq` symbolic, embeddings as
/// Gather + Add + LayerNorm, the encoder as PyTorch exports it (MatMul + Add, Reshape/Transpose to
/// heads, Div by sqrt(64), additive mask, Softmax, LayerNormalization, erf GELU), or with
/// `fused` the forms hwopt's passes produce (FusedMatMul, ScaledDotProductAttention, Gelu).
ir::Graph bert_base(bool fused) {
  Builder b;
  const int64_t hidden = 768, heads = 12, dh = 64, ffn = 3072, seq = 128;
  const ir::Dim batch{-1, "batch"}, len{-1, "sequence"};
  std::string ids = b.input("input_ids", {batch, len}, DType::int64);
  std::string mask = b.input("attention_mask", {batch, len});
  auto ln = [&](const std::string& x) {
    return b.op("LayerNormalization", {x, b.weight({hidden}), b.weight({hidden})},
                {make_attr("axis", int64_t{-1}), make_attr("epsilon", 1e-12f)}, fused ? "ai.hwopt" : "");
  };
  auto linear = [&](const std::string& x, int64_t in, int64_t out, const std::string& act = "") {
    if (fused) {
      std::vector<ir::Attribute> attrs;
      if (!act.empty()) attrs.push_back(make_attr("activation", act));
      return b.op("FusedMatMul", {x, b.weight({in, out}), b.weight({out})}, attrs, "ai.hwopt");
    }
    std::string y = b.op("Add", {b.op("MatMul", {x, b.weight({in, out})}), b.weight({out})});
    if (act == "Gelu") {  // 0.5 * x * (1 + erf(x / sqrt(2)))
      std::string e = b.op("Erf", {b.op("Div", {y, b.scalar(1.4142135f)})});
      y = b.op("Mul", {b.op("Mul", {y, b.op("Add", {e, b.scalar(1)})}), b.scalar(0.5f)});
    }
    return y;
  };
  std::string x = b.op("Gather", {b.weight({30522, hidden}), ids});
  x = ln(b.op("Add", {x, b.weight({1, seq, hidden})}));
  // Additive mask [batch, 1, 1, seq]: (1 - mask) * -10000.
  std::string m = b.op("Unsqueeze", {mask, b.ints({1, 2})});
  m = b.op("Mul", {b.op("Sub", {b.scalar(1), m}), b.scalar(-10000)});
  const std::string split_heads = b.ints({1, seq, heads, dh}), merge_heads = b.ints({1, seq, hidden});
  auto to_heads = [&](const std::string& t, std::vector<int64_t> perm) {
    return b.op("Transpose", {b.op("Reshape", {t, split_heads})}, {make_attr("perm", perm)});
  };
  for (int layer = 0; layer < 12; ++layer) {
    const std::string q = to_heads(linear(x, hidden, hidden), {0, 2, 1, 3});
    const std::string v = to_heads(linear(x, hidden, hidden), {0, 2, 1, 3});
    std::string ctx;
    if (fused) {
      const std::string k = to_heads(linear(x, hidden, hidden), {0, 2, 1, 3});
      ctx = b.op("ScaledDotProductAttention", {q, k, v, m}, {make_attr("scale", 0.125f)}, "ai.hwopt");
    } else {
      const std::string kt = to_heads(linear(x, hidden, hidden), {0, 2, 3, 1});
      std::string s = b.op("Div", {b.op("MatMul", {q, kt}), b.scalar(8)});
      s = b.op("Softmax", {b.op("Add", {s, m})}, {make_attr("axis", int64_t{-1})});
      ctx = b.op("MatMul", {s, v});
    }
    ctx = b.op("Reshape", {b.op("Transpose", {ctx}, {make_attr("perm", std::vector<int64_t>{0, 2, 1, 3})}), merge_heads});
    x = ln(b.op("Add", {linear(ctx, hidden, hidden), x}));
    x = ln(b.op("Add", {linear(linear(x, hidden, ffn, "Gelu"), ffn, hidden), x}));
  }
  b.output(x);
  return b.g;
}

double within(double got, double want) { return std::abs(got - want) / want; }

TEST(CostModel, ResNet50) {
  auto mc = model_cost(resnet50(), {{"input", {1, 3, 224, 224}}});
  ASSERT_TRUE(mc.ok()) << mc.status().to_string();
  EXPECT_EQ(mc->unknown_nodes, 0u);
  // 4.09 GMAC per image: the 53 convs and the classifier's Gemm.
  EXPECT_LT(within(mc->macs, 4.09e9), 0.01) << mc->macs;
  EXPECT_LT(within(mc->param_count, 25.5e6), 0.01) << mc->param_count;  // 25.56 M with BN, less 26.6 k folded
  // Batch 8 is eight times the work.
  auto b8 = model_cost(resnet50(), {{"input", {8, 3, 224, 224}}});
  ASSERT_TRUE(b8.ok());
  EXPECT_DOUBLE_EQ(b8->macs, 8 * mc->macs);
  std::cout << "ResNet-50: " << mc->macs / 1e9 << " GMAC, " << mc->flops / 1e9 << " GFLOP, " << mc->bytes / 1e6
            << " MB moved, " << mc->param_count / 1e6 << " M params\n";
}

TEST(CostModel, MobileNetV2) {
  const ir::Graph g = mobilenet_v2();
  auto mc = model_cost(g, {});
  ASSERT_TRUE(mc.ok()) << mc.status().to_string();
  EXPECT_EQ(mc->unknown_nodes, 0u);
  EXPECT_LT(within(mc->macs, 0.30e9), 0.03) << mc->macs;
  size_t depthwise = 0;
  for (const auto& n : mc->nodes)
    depthwise += n.cost.op_class == OpClass::conv && passes::attr_int(g.nodes[n.node_index], "group", 1) > 1;
  EXPECT_EQ(depthwise, 17u);
  std::cout << "MobileNetV2: " << mc->macs / 1e9 << " GMAC, " << mc->flops / 1e9 << " GFLOP, " << mc->bytes / 1e6
            << " MB moved\n";
}

TEST(CostModel, BertBase) {
  const std::map<std::string, Shape> shapes = {{"input_ids", {1, 128}}, {"attention_mask", {1, 128}}};
  auto mc = model_cost(bert_base(false), shapes);
  ASSERT_TRUE(mc.ok()) << mc.status().to_string();
  EXPECT_EQ(mc->unknown_nodes, 0u);
  // What 11.2 GMAC counts: the 12 encoder layers' matmuls, per layer the Q, K, V and output
  // projections (4 * 128 * 768 * 768), the FFN (2 * 128 * 768 * 3072) and the attention score and
  // context matmuls (2 * 12 * 128 * 128 * 64); embeddings (Gather) and the pooler are not included.
  const double per_layer = 4.0 * 128 * 768 * 768 + 2.0 * 128 * 768 * 3072 + 2.0 * 12 * 128 * 128 * 64;
  EXPECT_EQ(mc->macs, 12 * per_layer);
  EXPECT_LT(within(mc->macs, 11.2e9), 0.03) << mc->macs;
  // The fused graph does the same contractions.
  auto fused = model_cost(bert_base(true), shapes);
  ASSERT_TRUE(fused.ok()) << fused.status().to_string();
  EXPECT_EQ(fused->unknown_nodes, 0u);
  EXPECT_EQ(fused->macs, mc->macs);
  EXPECT_LT(fused->bytes, mc->bytes);  // the attention scores and intermediates stay inside kernels
  size_t attention = 0;
  for (const auto& n : fused->nodes) attention += n.cost.op_class == OpClass::attention;
  EXPECT_EQ(attention, 12u);
  std::cout << "BERT-base seq 128: " << mc->macs / 1e9 << " GMAC (" << fused->macs / 1e9 << " fused), "
            << mc->bytes / 1e6 << " MB moved (" << fused->bytes / 1e6 << " fused)\n";
}

TEST(CostModel, ModelCostErrors) {
  auto unknown = model_cost(resnet50(), {{"image", {1, 3, 224, 224}}});
  EXPECT_FALSE(unknown.ok());
  auto missing = model_cost(resnet50(), {});  // batch is symbolic
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().to_string().find("input"), std::string::npos);
  EXPECT_FALSE(model_cost(resnet50(), {{"input", {1, 3, 224}}}).ok());
  EXPECT_FALSE(model_cost(resnet50(), {{"input", {1, 3, 225, 224}}}).ok());      // spatial dims are declared static
  EXPECT_FALSE(model_cost(mobilenet_v2(), {{"input", {2, 3, 224, 224}}}).ok());  // batch declared 1
}

TEST(CostModel, CostOfSteps) {
  ir::Graph g = mobilenet_v2();
  StepStat s;
  s.node_index = 0;  // the first Conv: [1,3,224,224] -> [1,32,112,112]
  s.inputs = {vd({1, 3, 224, 224}), vd({32, 3, 3, 3})};
  s.outputs = {vd({1, 32, 112, 112})};
  StepStat bad;
  bad.node_index = g.nodes.size();
  ModelCost mc = cost_of_steps(g, {s, bad});
  EXPECT_EQ(mc.macs, 32.0 * 112 * 112 * 27);
  EXPECT_EQ(mc.unknown_nodes, 1u);
  EXPECT_EQ(mc.nodes.size(), 2u);
  EXPECT_GT(mc.param_count, 3.4e6);
}

std::filesystem::path real_model(const std::string& file) {
  return std::filesystem::path(__FILE__).parent_path() / "../../models/real" / file;
}

TEST(CostModel, RealMobileNetV2) {
  auto model = onnx_import::load_model(real_model("nsfwjs_mobilenet_v2.onnx").string());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  // Input [N,3,224,224]; the head is 5 classes instead of 1000 (1.3 M fewer MACs).
  auto mc = model_cost(*model->graph, {{"input", {1, 3, 224, 224}}});
  ASSERT_TRUE(mc.ok()) << mc.status().to_string();
  EXPECT_EQ(mc->unknown_nodes, 0u);
  EXPECT_LT(within(mc->macs, 0.30e9), 0.03) << mc->macs;
  std::cout << "nsfwjs MobileNetV2: " << mc->macs / 1e9 << " GMAC, " << mc->param_count / 1e6 << " M params\n";
}

// Every bundled model is costed completely at concrete input shapes (paddle2onnx's Shape -> Slice ->
// Concat -> Reshape chains included), and the optimized graph (FusedConv, FusedMatMul, attention,
// folded BatchNorm) does the same MACs while moving fewer bytes.
TEST(CostModel, RealModelsBeforeAndAfterOptimization) {
  const std::vector<std::pair<std::string, std::map<std::string, Shape>>> models = {
      {"fmnist_cnn.onnx", {{"input", {1, 1, 28, 28}}}},
      {"blazeface_front_128.onnx", {}},
      {"ppocrv4_det.onnx", {{"x", {1, 3, 320, 320}}}},
      {"ppocrv4_rec.onnx", {{"x", {1, 3, 48, 320}}}},
      {"ppocr_mobile_v2_cls.onnx", {{"x", {1, 3, 48, 192}}}},
  };
  for (const auto& [file, shapes] : models) {
    auto model = onnx_import::load_model(real_model(file).string());
    ASSERT_TRUE(model.ok()) << file << ": " << model.status().to_string();
    auto before = model_cost(*model->graph, shapes);
    ASSERT_TRUE(before.ok()) << file << ": " << before.status().to_string();
    ASSERT_TRUE(passes::run_pipeline(*model, {}).ok()) << file;
    auto after = model_cost(*model->graph, shapes);
    ASSERT_TRUE(after.ok()) << file << ": " << after.status().to_string();
    EXPECT_EQ(before->unknown_nodes, 0u) << file;
    EXPECT_EQ(after->unknown_nodes, 0u) << file;
    EXPECT_GT(before->macs, 0) << file;
    EXPECT_NEAR(after->macs, before->macs, 1e-9 * before->macs) << file;
    EXPECT_LT(after->bytes, before->bytes) << file;
  }
  // Silero VAD is an If on the sample rate: the If is control flow, counted as unknown.
  auto vad = onnx_import::load_model(real_model("silero_vad_v5.onnx").string());
  ASSERT_TRUE(vad.ok());
  auto mc = model_cost(*vad->graph, {{"input", {1, 512}}, {"state", {2, 1, 128}}, {"sr", {}}});
  ASSERT_TRUE(mc.ok()) << mc.status().to_string();
  size_t control_flow = 0;
  for (const auto& n : mc->nodes) control_flow += n.cost.op_class == OpClass::control_flow && !n.cost.known;
  EXPECT_EQ(control_flow, 1u);
  EXPECT_EQ(mc->unknown_nodes, 1u);
}

}  // namespace
}  // namespace hwopt::profile
