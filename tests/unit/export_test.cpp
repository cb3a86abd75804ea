#include <gtest/gtest.h>

#include <filesystem>

#include "onnx/export.h"
#include "onnx/import.h"

namespace hwopt {
namespace {

// Every conformance model survives import -> export -> import with the same structure.
TEST(Export, RoundTripsConformanceModels) {
  const std::filesystem::path root = "/usr/share/libonnx-testdata/data/node";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "libonnx-testdata not installed";
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    auto a = onnx_import::load_model((e.path() / "model.onnx").string());
    if (!a.ok()) continue;
    auto bytes = onnx_import::save_model_to_bytes(*a);
    ASSERT_TRUE(bytes.ok()) << e.path() << ": " << bytes.status().to_string();
    auto b = onnx_import::load_model_from_bytes(bytes->data(), bytes->size(), e.path().string());
    ASSERT_TRUE(b.ok()) << e.path() << ": " << b.status().to_string();
    ASSERT_EQ(a->graph->nodes.size(), b->graph->nodes.size()) << e.path();
    ASSERT_EQ(a->graph->initializers.size(), b->graph->initializers.size()) << e.path();
    for (size_t i = 0; i < a->graph->nodes.size(); ++i) {
      EXPECT_EQ(a->graph->nodes[i].op_type, b->graph->nodes[i].op_type);
      EXPECT_EQ(a->graph->nodes[i].inputs, b->graph->nodes[i].inputs);
      EXPECT_EQ(a->graph->nodes[i].attributes.size(), b->graph->nodes[i].attributes.size());
    }
    for (const auto& [name, t] : a->graph->initializers) {
      const Tensor& u = b->graph->initializers.at(name);
      ASSERT_EQ(t.shape(), u.shape());
      if (t.dtype() != DType::string) {
        EXPECT_EQ(0, std::memcmp(t.raw_data(), u.raw_data(), t.nbytes())) << name;
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 800);
}

}  // namespace
}  // namespace hwopt
