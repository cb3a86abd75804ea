// One Session used from several threads at once gives the same results as sequential runs.
#include <gtest/gtest.h>

#include <thread>

#include "core/npy.h"
#include "hwopt/session.h"

namespace hwopt {
namespace {

TEST(SessionThreads, ConcurrentRunsMatchSequentialRuns) {
  auto session = Session::load(std::string(HWOPT_SOURCE_DIR) + "/models/real/fmnist_cnn.onnx");
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  const Session& s = *session.value();
  constexpr int kThreads = 4, kRuns = 6;
  std::vector<Tensor> inputs;
  for (int i = 0; i < kThreads; ++i) {
    Tensor x(DType::float32, {2, 1, 28, 28});
    for (int64_t k = 0; k < x.numel(); ++k) x.data<float>()[k] = static_cast<float>((k * (i + 3)) % 97) / 97.0f;
    inputs.push_back(x);
  }
  std::vector<Tensor> expected;
  for (int i = 0; i < kThreads; ++i) {
    auto out = s.run({{"input", inputs[i]}});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    expected.push_back(out->at("logits"));
  }
  std::vector<int> mismatches(kThreads, 0), errors(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < kRuns; ++r) {
        auto out = s.run({{"input", inputs[i]}});
        if (!out.ok()) {
          ++errors[i];
          continue;
        }
        const Tensor& got = out->at("logits");
        if (std::memcmp(got.raw_data(), expected[i].raw_data(), got.nbytes()) != 0) ++mismatches[i];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(errors[i], 0) << "thread " << i;
    EXPECT_EQ(mismatches[i], 0) << "thread " << i;
  }
}

}  // namespace
}  // namespace hwopt
