// `hwopt profile`'s engine on every real model (models/real) on the cpu backend: the JSON and the
// Chrome trace follow their documented schemas, and every imported ONNX node is accounted for
// exactly once: covered by one step (fused or not) or listed as removed by the optimizer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "../common/json_schema.h"
#include "core/npy.h"
#include "onnx/import.h"
#include "profile/profile_output.h"
#include "profile/profiler.h"

#ifndef HWOPT_SOURCE_DIR
#error "HWOPT_SOURCE_DIR must be defined"
#endif

namespace hwopt {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = HWOPT_SOURCE_DIR;

class ProfileRealModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ProfileRealModel, SchemaTraceAndEveryNodeAccountedForOnce) {
  const fs::path dir = kRoot / "tests/e2e/data" / GetParam();
  std::ifstream mf(dir / "manifest.json");
  ASSERT_TRUE(mf) << "missing manifest in " << dir;
  const auto manifest = nlohmann::json::parse(mf);
  const std::string model_path = (kRoot / manifest["model"].get<std::string>()).string();
  SessionOptions so;
  so.backend = "cpu";
  so.optimize = true;
  auto session = Session::load(model_path, so);
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  std::map<std::string, Tensor> inputs;
  for (const auto& in : manifest["inputs"]) {
    auto t = read_npy((dir / in["file"].get<std::string>()).string());
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    inputs[in["name"].get<std::string>()] = *t;
  }

  profile::Roofs roofs;  // a made-up machine: the classification is tested elsewhere
  roofs.fp32_gflops = 200;
  roofs.bandwidth_gbs = 20;
  profile::ProfileOptions po;
  po.warmup = 1;
  po.runs = 3;
  po.threads = 2;
  auto p = profile::profile_session(**session, inputs, roofs, po);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  p->model = manifest["model"];
  p->backend = "cpu";
  p->findings = profile::find_opportunities(*p, 2, {}, true);

  for (const auto& e : testing::validate_json_file_schema(profile::profile_to_json(*p),
                                                          (kRoot / "docs/schemas/profile.schema.json").string()))
    ADD_FAILURE() << "profile JSON: " << e;
  for (const auto& e : testing::validate_json_file_schema(profile::profile_to_chrome_trace(*p),
                                                          (kRoot / "docs/schemas/chrome_trace.schema.json").string()))
    ADD_FAILURE() << "trace: " << e;

  // Every node of the model as imported (a second, independent import) is accounted for exactly
  // once: by a step or as removed.
  auto imported = onnx_import::load_model(model_path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  std::map<std::string, int> seen;
  for (const auto& s : p->steps)
    for (const auto& n : s.onnx_nodes) ++seen[n];
  for (const auto& n : p->removed_nodes) ++seen[n];
  for (const auto& n : imported->graph->nodes)
    EXPECT_EQ(seen[n.provenance_name()], 1) << "imported node " << n.provenance_name();
  EXPECT_EQ(p->imported_nodes, imported->graph->nodes.size());

  double shares = 0;
  for (const auto& s : p->steps) shares += s.share;
  EXPECT_NEAR(shares, 1.0, 1e-9);
  EXPECT_NEAR(p->gap_ms, p->end_to_end.median - p->steps_sum_ms, 1e-9);
  EXPECT_GT(p->total_flops, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, ProfileRealModel,
                         ::testing::Values("fmnist_cnn", "nsfwjs_mobilenet_v2", "blazeface_front_128", "ppocrv4_det",
                                           "ppocrv4_rec", "ppocr_mobile_v2_cls", "silero_vad_v5"));

}  // namespace
}  // namespace hwopt
