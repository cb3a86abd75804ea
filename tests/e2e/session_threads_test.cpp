// One Session used from several threads at once gives the same results as sequential runs.
// Also built alone under ThreadSanitizer (make test-tsan), where OpenMP (libgomp) and oneDNN are
// not instrumented: there the CPU backend runs with one intra-op thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "core/npy.h"
#include "hwopt/session.h"

namespace hwopt {
namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif
#else
constexpr bool kTsan = false;
#endif

const std::string kModel = std::string(HWOPT_SOURCE_DIR) + "/models/real/fmnist_cnn.onnx";

Tensor input_for(int i) {
  Tensor x(DType::float32, {2, 1, 28, 28});
  for (int64_t k = 0; k < x.numel(); ++k) x.data<float>()[k] = static_cast<float>((k * (i + 3)) % 97) / 97.0f;
  return x;
}

// Runs `s` from `threads` threads at once, each `runs` times on its own input, and compares
// every result with the serial run of the same input, bit for bit.
void expect_concurrent_matches_serial(const Session& s, int threads, int runs) {
  std::vector<Tensor> inputs, expected;
  for (int i = 0; i < threads; ++i) {
    inputs.push_back(input_for(i));
    auto out = s.run({{"input", inputs[i]}});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    expected.push_back(out->at("logits"));
  }
  // The inputs really differ, so a run that read another thread's data would be caught.
  ASSERT_NE(std::memcmp(expected[0].raw_data(), expected[1].raw_data(), expected[0].nbytes()), 0);
  std::vector<int> mismatches(threads, 0), errors(threads, 0);
  std::vector<float> worst(threads, 0.0f);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      for (int r = 0; r < runs; ++r) {
        auto out = s.run({{"input", inputs[i]}});
        if (!out.ok()) {
          ++errors[i];
          continue;
        }
        const Tensor& got = out->at("logits");
        if (got.nbytes() != expected[i].nbytes() ||
            std::memcmp(got.raw_data(), expected[i].raw_data(), got.nbytes()) != 0) {
          ++mismatches[i];
          for (int64_t k = 0; k < got.numel() && got.nbytes() == expected[i].nbytes(); ++k)
            worst[i] = std::max(worst[i], std::abs(got.data<float>()[k] - expected[i].data<float>()[k]));
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  for (int i = 0; i < threads; ++i) {
    EXPECT_EQ(errors[i], 0) << "thread " << i;
    EXPECT_EQ(mismatches[i], 0) << "thread " << i << ": largest difference " << worst[i];
  }
}

TEST(SessionThreads, ConcurrentRunsMatchSequentialRuns) {
  auto session = Session::load(kModel);
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  expect_concurrent_matches_serial(*session.value(), 4, 6);
}

TEST(SessionThreads, EightThreadsWithDifferentInputsOnEachBackend) {
  for (const char* backend : {"reference", "cpu"}) {
    for (bool optimize : {false, true}) {
      SessionOptions o;
      o.backend = backend;
      o.optimize = optimize;
      if (kTsan) o.threads = 1;  // libgomp's own synchronisation is invisible to TSan
      auto session = Session::load(kModel, o);
      ASSERT_TRUE(session.ok()) << session.status().to_string();
      SCOPED_TRACE(std::string(backend) + (optimize ? ", optimized" : ""));
      expect_concurrent_matches_serial(*session.value(), 8, kTsan ? 2 : 4);
    }
  }
}

TEST(SessionThreads, EightThreadsUnderAMemoryCap) {
  // Each run has its own budget: concurrent runs neither share nor leak it.
  SessionOptions o;
  o.max_memory_mb = 64;
  auto session = Session::load(kModel, o);
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  expect_concurrent_matches_serial(*session.value(), 8, 2);
}

}  // namespace
}  // namespace hwopt
