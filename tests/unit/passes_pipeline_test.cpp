// The pipeline: options, report, and the real models in models/real (outputs unchanged within
// 1e-4, nodes removed per pass printed); the optimized file passes onnx.checker.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path().parent_path();

TEST(PassPipeline, UnknownDisabledPassIsAnErrorListingTheValidOnes) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2] x) => (float[2] y) { y = Relu(x) }
  )";
  auto m = build_model(c);
  ASSERT_TRUE(m.ok());
  PipelineOptions o;
  o.disabled = {"fuse_everything"};
  Status st = run_pipeline(*m, o);
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("fuse_everything"), std::string::npos);
  EXPECT_NE(st.message().find("fold_constants"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("fuse_attention"), std::string::npos) << st.message();
}

TEST(PassPipeline, NamesAreUniqueSnakeCaseWithDescriptions) {
  std::set<std::string> seen;
  for (const auto& p : default_passes()) {
    EXPECT_TRUE(seen.insert(p->name()).second) << p->name();
    for (char ch : p->name()) EXPECT_TRUE(std::islower(static_cast<unsigned char>(ch)) || ch == '_') << p->name();
    EXPECT_FALSE(p->description().empty()) << p->name();
  }
}

TEST(PassPipeline, ReportsEveryPassAndHonoursDisabledOnes) {
  // MatMul + bias + GELU (erf form) + LayerNorm: everything fuses, in order.
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 4, 8] x, float[8, 8] w, float[8] b) => (float[2, 4, 8] y) {
      i = Identity(x)
      t = MatMul(i, w)
      u = Add(t, b)
      half = Constant <value = float {0.5}> ()
      one = Constant <value = float {1.0}> ()
      r2 = Constant <value = float {1.4142135}> ()
      d = Div(u, r2)
      e = Erf(d)
      a = Add(e, one)
      h = Mul(u, half)
      y = Mul(h, a)
    }
  )";
  c.random = {"w", "b"};
  auto before = build_model(c);
  auto after = build_model(c);
  ASSERT_TRUE(before.ok() && after.ok());
  PipelineReport rep;
  ASSERT_TRUE(run_pipeline(*after, PipelineOptions{}, &rep).ok());
  ASSERT_EQ(rep.passes.size(), default_passes().size());
  EXPECT_EQ(rep.nodes_before, before->graph->total_nodes());
  EXPECT_EQ(rep.nodes_after, 1u);
  ASSERT_EQ(after->graph->nodes.size(), 1u);
  EXPECT_EQ(after->graph->nodes[0].op_type, "FusedMatMul");
  EXPECT_EQ(after->graph->nodes[0].attr("activation")->s, "Gelu");
  // Provenance survives fusions of fusions: the one node stands for every computing node.
  const auto& from = after->graph->nodes[0].fused_from;
  EXPECT_EQ(std::set<std::string>(from.begin(), from.end()),
            (std::set<std::string>{"t", "u", "d", "e", "a", "h", "y"}));
  const auto in = make_inputs(*before, c);
  auto want = run_model(*before, in);
  auto got = run_model(*after, in);
  ASSERT_TRUE(want.ok() && got.ok());
  expect_close(*want, *got, 1e-5, "pipeline");

  auto partial = build_model(c);
  PipelineOptions o;
  o.disabled = {"fuse_gelu", "eliminate_identity"};
  ASSERT_TRUE(run_pipeline(*partial, o, &rep).ok());
  std::set<std::string> off_by_default;
  for (const auto& p : default_passes())
    if (!p->on_by_default()) off_by_default.insert(p->name());
  EXPECT_EQ(off_by_default, std::set<std::string>{"fold_qdq"});
  for (const auto& p : rep.passes)
    EXPECT_EQ(p.enabled, !o.disabled.count(p.name) && !off_by_default.count(p.name)) << p.name;
  // Without fuse_gelu the decomposed GELU stays element-wise ops, which fuse_elementwise_chain
  // then runs as one chain.
  EXPECT_EQ(count_op(*partial->graph, "Gelu", "com.microsoft"), 0);
  const ir::Node* chain = find_op(*partial->graph, "ElementwiseChain", "ai.hwopt");
  ASSERT_NE(chain, nullptr);
  const auto& ops = chain->attr("ops")->strings;
  EXPECT_NE(std::find(ops.begin(), ops.end(), "Erf"), ops.end());
  EXPECT_EQ(count_op(*partial->graph, "Identity"), 1);
}

/// Inputs of a real model: the stored ONNX Runtime test case of tests/e2e/data.
std::map<std::string, Tensor> e2e_inputs(const std::string& model) {
  std::map<std::string, Tensor> inputs;
  const fs::path dir = kRoot / "tests/e2e/data" / model;
  std::ifstream mf(dir / "manifest.json");
  EXPECT_TRUE(mf) << "missing manifest in " << dir;
  if (!mf) return inputs;
  auto manifest = nlohmann::json::parse(mf);
  for (const auto& in : manifest["inputs"]) {
    auto t = read_npy((dir / in["file"].get<std::string>()).string());
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    if (t.ok()) inputs[in["name"].get<std::string>()] = std::move(t).value();
  }
  return inputs;
}

class PassRealModels : public ::testing::TestWithParam<std::string> {};

TEST_P(PassRealModels, OutputsUnchangedAndFileValid) {
  const std::string name = GetParam();
  const fs::path path = kRoot / "models/real" / (name + ".onnx");
  auto before = onnx_import::load_model(path.string());
  auto after = onnx_import::load_model(path.string());
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  ASSERT_TRUE(after.ok());
  PipelineReport rep;
  Status st = run_pipeline(*after, PipelineOptions{}, &rep);
  ASSERT_TRUE(st.ok()) << st.to_string();
  std::string summary;
  for (const auto& p : rep.passes)
    if (p.rewrites || p.nodes_removed) summary += fmt::format(" {}={}/{}", p.name, p.rewrites, p.nodes_removed);
  std::cout << fmt::format("[{}] nodes {} -> {};{} (pass=rewrites/nodes removed)\n", name, rep.nodes_before,
                           rep.nodes_after, summary);
  EXPECT_LT(rep.nodes_after, rep.nodes_before);

  const auto inputs = e2e_inputs(name);
  auto want = run_model(*before, inputs);
  auto got = run_model(*after, inputs);
  ASSERT_TRUE(want.ok()) << want.status().to_string();
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  expect_close(*want, *got, 1e-4, name);
  if (name == "silero_vad_v5") {
    // The stored case takes the 16 kHz branch of the If subgraphs; check the 8 kHz one too.
    std::map<std::string, Tensor> in8k = inputs;
    in8k["sr"] = Tensor::scalar<int64_t>(8000);
    in8k["input"] = inputs.at("input").contiguous().reshape({2, 256}).clone();
    in8k["state"] = Tensor(DType::float32, {2, 2, 128});
    auto want8k = run_model(*before, in8k);
    auto got8k = run_model(*after, in8k);
    ASSERT_TRUE(want8k.ok()) << want8k.status().to_string();
    ASSERT_TRUE(got8k.ok()) << got8k.status().to_string();
    expect_close(*want8k, *got8k, 1e-4, name + " at 8 kHz");
  }

  // The written file loads again in hwopt, gives the same outputs, and passes ONNX's checker.
  const fs::path out = fs::temp_directory_path() / fmt::format("hwopt_passes_{}_{}.onnx", name, ::getpid());
  ASSERT_TRUE(onnx_import::save_model(*after, out.string()).ok());
  auto again = onnx_import::load_model(out.string());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  auto reloaded = run_model(*again, inputs);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().to_string();
  expect_close(*want, *reloaded, 1e-4, name + " (reloaded)");
  if (std::system("/usr/bin/python3 -c 'import onnx' > /dev/null 2>&1") == 0) {
    const std::string cmd =
        "/usr/bin/python3 -c \"import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))\" '" + out.string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "onnx.checker rejected " << out;
  } else {
    std::cout << "[" << name << "] /usr/bin/python3 with onnx not available: checker not run\n";
  }
  fs::remove(out);
}

INSTANTIATE_TEST_SUITE_P(PassModels, PassRealModels,
                         ::testing::Values("fmnist_cnn", "nsfwjs_mobilenet_v2", "blazeface_front_128", "ppocrv4_det",
                                           "ppocrv4_rec", "ppocr_mobile_v2_cls", "silero_vad_v5"));

}  // namespace
}  // namespace hwopt::passes::testing
