// Intra-op threads: the CPU order pinning uses, pinning itself (each thread of the team on its own
// CPU), and a session run with SessionOptions::pin_threads giving the same outputs. Pinning runs
// on a thread of its own, so the test binary's main thread keeps its affinity.
#include <cpuinfo.h>
#include <gtest/gtest.h>
#include <omp.h>
#include <sched.h>

#include <filesystem>
#include <set>
#include <thread>

#include "core/threads.h"
#include "hwopt/session.h"

namespace hwopt {
namespace {

TEST(Threads, CpusByCoreListEachAllowedCpuOnceCoresFirst) {
  const std::vector<int> cpus = cpus_by_core();
  ASSERT_FALSE(cpus.empty());
  EXPECT_EQ(std::set<int>(cpus.begin(), cpus.end()).size(), cpus.size()) << "a CPU listed twice";
  EXPECT_EQ(static_cast<int>(cpus.size()), logical_cpus());
  ASSERT_GE(static_cast<int>(cpus.size()), physical_cores());
  // The first physical_cores() CPUs lie on different cores (pinning fills cores before siblings).
  ASSERT_TRUE(cpuinfo_initialize());
  std::set<const cpuinfo_core*> cores;
  for (int i = 0; i < physical_cores(); ++i)
    for (uint32_t k = 0; k < cpuinfo_get_processors_count(); ++k)
      if (cpuinfo_get_processor(k)->linux_id == cpus[static_cast<size_t>(i)])
        cores.insert(cpuinfo_get_processor(k)->core);
  EXPECT_EQ(static_cast<int>(cores.size()), physical_cores());
}

// The CPU set of each thread of a team of n, after pinning from this (fresh) thread.
std::vector<std::set<int>> pinned_team(int n, bool* ok) {
  std::vector<std::set<int>> sets(static_cast<size_t>(n));
  std::thread t([&] {
    *ok = pin_intra_op_threads(n);
#pragma omp parallel num_threads(n)
    {
      cpu_set_t mask;
      CPU_ZERO(&mask);
      if (sched_getaffinity(0, sizeof(mask), &mask) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
          if (CPU_ISSET(c, &mask)) sets[static_cast<size_t>(omp_get_thread_num())].insert(c);
    }
  });
  t.join();
  return sets;
}

TEST(Threads, PinningPutsEachThreadOnItsOwnCpu) {
  const std::vector<int> cpus = cpus_by_core();
  const int n = static_cast<int>(std::min<size_t>(cpus.size(), 4));
  bool ok = false;
  const auto sets = pinned_team(n, &ok);
  ASSERT_TRUE(ok);
  std::set<int> used;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(sets[static_cast<size_t>(i)].size(), 1u) << "thread " << i << " may run on several CPUs";
    EXPECT_EQ(*sets[static_cast<size_t>(i)].begin(), cpus[static_cast<size_t>(i)]) << "thread " << i;
    used.insert(*sets[static_cast<size_t>(i)].begin());
  }
  EXPECT_EQ(static_cast<int>(used.size()), n) << "two threads share a CPU";
}

TEST(Threads, PinnedSessionRunsAsUnpinned) {
  const std::string model =
      (std::filesystem::path(__FILE__).parent_path() / "../../models/real/fmnist_cnn.onnx").string();
  Tensor x(DType::float32, {2, 1, 28, 28});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i % 97) / 97.f;
  auto run = [&](bool pin, std::vector<Tensor>* out) {
    std::thread t([&] {
      SessionOptions so;
      so.backend = "cpu";
      so.optimize = true;
      so.threads = 2;
      so.pin_threads = pin;
      auto s = Session::load(model, so);
      ASSERT_TRUE(s.ok()) << s.status().to_string();
      auto r = (*s)->run({{"input", x}});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      for (auto& [name, t] : *r) out->push_back(t);
    });
    t.join();
  };
  std::vector<Tensor> pinned, free;
  run(true, &pinned);
  run(false, &free);
  ASSERT_EQ(pinned.size(), free.size());
  for (size_t i = 0; i < pinned.size(); ++i)
    for (int64_t k = 0; k < pinned[i].numel(); ++k)
      EXPECT_FLOAT_EQ(pinned[i].data<float>()[k], free[i].data<float>()[k]);
}

}  // namespace
}  // namespace hwopt
