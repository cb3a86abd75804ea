// src/hw: CPU detection, the ceilings cache (with an injected measurement, so it is quick),
// JSON round trips, and GPU detection without a GPU.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "hw/ceilings.h"
#include "hw/cpu_info.h"
#include "hw/gpu_info.h"

namespace hwopt::hw {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = fs::temp_directory_path() / ("hwopt_hw_test_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Ceilings fake_ceilings(const MeasureOptions& o) {
  Ceilings c;
  c.fp32 = {100.5, 50.25, "brg:fake", ""};
  c.bf16 = {0, 0, "", "not native"};
  c.int8 = {400, 200, "brg:fake_int8", ""};
  c.matmul_size = 64;
  c.triad_all_cores_gbs = 20;
  c.triad_one_core_gbs = 12.5;
  c.triad_array_bytes = 1 << 20;
  c.threads = o.threads;
  c.measured_at = "2025-01-02T03:04:05Z";
  c.onednn_version = "0.0.0";  // load_or_measure records the real one
  return c;
}

// A cache options object whose measurement is the fake one, counting its calls.
CacheOptions counting(const fs::path& dir, int* calls) {
  CacheOptions o;
  o.cache_dir = dir;
  o.measurer = [calls](const MeasureOptions& mo) -> Expected<Ceilings> {
    ++*calls;
    return fake_ceilings(mo);
  };
  return o;
}

TEST(HwCpu, DetectSane) {
  CpuInfo cpu = detect_cpu();
  EXPECT_GE(cpu.physical_cores, 1);
  EXPECT_LE(cpu.physical_cores, cpu.logical_processors);
  EXPECT_GE(cpu.usable_cores, 1);
  EXPECT_GE(cpu.sockets, 1);
  EXPECT_GE(cpu.numa_nodes, 1);
  EXPECT_FALSE(cpu.architecture.empty());
  for (const auto& name : feature_names()) EXPECT_EQ(cpu.features.count(name), 1u) << name;
  EXPECT_FALSE(cpu.has("no_such_feature"));
#if defined(__x86_64__)
  EXPECT_FALSE(cpu.has("neon"));
  // Implications any real CPU (and OS) satisfies.
  if (cpu.has("avx512bw")) {
    EXPECT_TRUE(cpu.has("avx512f"));
  }
  if (cpu.has("amx_bf16")) {
    EXPECT_TRUE(cpu.has("amx_tile"));
  }
#endif
  for (const auto& c : cpu.caches) {
    EXPECT_GE(c.level, 1);
    EXPECT_GT(c.size_bytes, 0u);
  }
}

TEST(HwCpu, FingerprintStable) {
  CpuInfo a = detect_cpu(), b = detect_cpu();
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint().size(), 16u);
  EXPECT_EQ(a.fingerprint().find_first_not_of("0123456789abcdef"), std::string::npos);
  b.features["avx2"] = !b.features["avx2"];
  EXPECT_NE(a.fingerprint(), b.fingerprint());
  nlohmann::json j = a;
  EXPECT_EQ(j.at("fingerprint"), a.fingerprint());
  EXPECT_EQ(j.at("physical_cores"), a.physical_cores);
}

TEST(HwCeilings, JsonRoundTrip) {
  MeasureOptions mo;
  mo.threads = 3;
  Ceilings c = fake_ceilings(mo);
  c.fingerprint = "0123456789abcdef";
  c.from_cache = true;
  nlohmann::json j = c;
  EXPECT_FALSE(j.contains("from_cache"));
  EXPECT_EQ(j.at("triad").at("bytes_per_element"), 24);
  Ceilings back = nlohmann::json::parse(j.dump()).get<Ceilings>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_FALSE(back.from_cache);
  EXPECT_EQ(back.int8.impl, "brg:fake_int8");
  EXPECT_EQ(back.bf16.why, "not native");
  EXPECT_EQ(back.threads, 3);

  nlohmann::json other = j;
  other["schema"] = 999;
  EXPECT_ANY_THROW(other.get<Ceilings>());
  nlohmann::json missing = j;
  missing["matmul"].erase("int8");
  EXPECT_ANY_THROW(missing.get<Ceilings>());
}

TEST(HwCeilings, CacheRoundTrip) {
  TempDir dir;
  int calls = 0;
  CacheOptions o = counting(dir.path(), &calls);
  auto first = load_or_measure(o);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(first->from_cache);
  const std::string fp = detect_cpu().fingerprint();
  EXPECT_EQ(first->fingerprint, fp);
  const fs::path file = ceilings_cache_file(dir.path(), fp);
  ASSERT_TRUE(fs::exists(file));
  for (const auto& e : fs::directory_iterator(dir.path())) EXPECT_EQ(e.path(), file) << "temporary file left behind";

  auto second = load_or_measure(o);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(second->from_cache);
  EXPECT_DOUBLE_EQ(second->fp32.all_cores, 100.5);
  EXPECT_DOUBLE_EQ(second->triad_one_core_gbs, 12.5);
  EXPECT_EQ(second->measured_at, "2025-01-02T03:04:05Z");

  o.refresh = true;
  auto third = load_or_measure(o);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(third->from_cache);
}

TEST(HwCeilings, BadCacheIsMeasuredAgain) {
  TempDir dir;
  int calls = 0;
  std::vector<std::string> lines;
  CacheOptions o = counting(dir.path(), &calls);
  o.measure.progress = [&](std::string_view l) { lines.emplace_back(l); };
  const fs::path file = ceilings_cache_file(dir.path(), detect_cpu().fingerprint());
  auto write = [&](const std::string& text) { std::ofstream(file, std::ios::binary | std::ios::trunc) << text; };
  auto expect_remeasured = [&](const char* what) {
    int before = calls;
    auto c = load_or_measure(o);
    ASSERT_TRUE(c.ok()) << what;
    EXPECT_EQ(calls, before + 1) << what;
    EXPECT_FALSE(c->from_cache) << what;
    // ... and the file is good again.
    auto again = load_or_measure(o);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->from_cache) << what;
    EXPECT_EQ(calls, before + 1) << what;
  };
  ASSERT_TRUE(load_or_measure(o).ok());
  nlohmann::json good = nlohmann::json::parse(std::ifstream(file));

  write("{ not json");
  expect_remeasured("corrupt");
  write("");
  expect_remeasured("empty");
  write("[1, 2, 3]");
  expect_remeasured("wrong type");
  nlohmann::json other = good;
  other["fingerprint"] = "ffffffffffffffff";
  write(other.dump());
  expect_remeasured("fingerprint mismatch");
  other = good;
  other["threads"] = good["threads"].get<int>() + 7;
  write(other.dump());
  expect_remeasured("thread count mismatch");
  other = good;
  other["onednn_version"] = "0.0.1";
  write(other.dump());
  expect_remeasured("other oneDNN");
  other = good;
  other["matmul"]["fp32"]["all_cores"] = -1.0;
  write(other.dump());
  expect_remeasured("negative figure");
  other = good;
  other["schema"] = Ceilings::kSchema + 1;
  write(other.dump());
  expect_remeasured("other schema");
  EXPECT_FALSE(lines.empty());
}

TEST(HwCeilings, UnwritableCacheStillMeasures) {
  TempDir dir;
  const fs::path blocker = dir.path() / "file";
  std::ofstream(blocker) << "x";
  int calls = 0;
  CacheOptions o = counting(blocker / "sub", &calls);  // a directory under a regular file
  auto c = load_or_measure(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(calls, 1);
}

TEST(HwCeilings, DefaultCacheDirFollowsEnvironment) {
  const char* saved = std::getenv("HWOPT_CACHE_DIR");
  std::string saved_value = saved ? saved : "";
  setenv("HWOPT_CACHE_DIR", "/some/where", 1);
  EXPECT_EQ(default_cache_dir(), fs::path("/some/where"));
  if (saved)
    setenv("HWOPT_CACHE_DIR", saved_value.c_str(), 1);
  else
    unsetenv("HWOPT_CACHE_DIR");
  EXPECT_FALSE(default_cache_dir().empty());
}

TEST(HwCeilings, QuickMeasurementRuns) {
  MeasureOptions mo;
  mo.quick = true;
  mo.threads = 1;
  auto c = measure_ceilings(mo);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_GT(c->fp32.all_cores, 0) << c->fp32.why;
  EXPECT_GT(c->fp32.one_core, 0);
  EXPECT_FALSE(c->fp32.impl.empty());
  EXPECT_GT(c->triad_all_cores_gbs, 0);
  EXPECT_EQ(c->threads, 1);
  EXPECT_EQ(c->fingerprint, detect_cpu().fingerprint());
  // A precision is either measured or says why not.
  for (const MatmulPeak* p : {&c->bf16, &c->int8}) EXPECT_TRUE(p->all_cores > 0 || !p->why.empty());
}

TEST(HwGpu, TensorCorePrecisions) {
  EXPECT_TRUE(tensor_core_precisions(6, 1).empty());
  EXPECT_EQ(tensor_core_precisions(7, 0), std::vector<std::string>({"fp16"}));
  EXPECT_EQ(tensor_core_precisions(8, 0), std::vector<std::string>({"fp16", "bf16", "tf32", "int8"}));
  EXPECT_EQ(tensor_core_precisions(8, 9), std::vector<std::string>({"fp16", "bf16", "tf32", "int8", "fp8"}));
  EXPECT_EQ(tensor_core_precisions(9, 0), std::vector<std::string>({"fp16", "bf16", "tf32", "int8", "fp8"}));
  EXPECT_EQ(tensor_core_precisions(10, 0).back(), "fp4");
}

TEST(HwGpu, DetectGivesDevicesOrReason) {
  std::string why;
  auto gpus = detect_gpus(&why);
  if (gpus.empty()) {
    EXPECT_FALSE(why.empty());
  } else {
    for (const auto& g : gpus) {
      EXPECT_GE(g.cc_major, 1);
      EXPECT_GE(g.sms, 1);
      EXPECT_FALSE(g.name.empty());
    }
  }
  EXPECT_TRUE(detect_gpus(nullptr).size() == gpus.size());
}

}  // namespace
}  // namespace hwopt::hw
