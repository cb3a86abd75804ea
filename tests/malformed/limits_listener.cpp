// Every malformed-model case must end quickly and without a large allocation: a listener checks
// each test's wall time (< 2 s) and growth of the peak resident set (< 256 MB), and fails the
// run if a case passes either. Sanitized builds run several times slower and their allocator
// keeps freed memory in quarantine, so there the time limit is scaled and the memory one skipped.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

constexpr double kMaxSeconds = kSanitized ? 10.0 : 2.0;
constexpr long kMaxRssGrowthKb = 256L * 1024;

long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

class LimitsListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override {
    start_ = std::chrono::steady_clock::now();
    rss_kb_ = peak_rss_kb();
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const long grown = peak_rss_kb() - rss_kb_;
    const std::string name = std::string(info.test_suite_name()) + "." + info.name();
    if (s > kMaxSeconds)
      violations_.push_back(name + " took " + std::to_string(s) + " s (limit " + std::to_string(kMaxSeconds) + " s)");
    if (!kSanitized && grown > kMaxRssGrowthKb)
      violations_.push_back(name + " grew the peak RSS by " + std::to_string(grown / 1024) + " MB (limit 256 MB)");
  }
  void OnTestProgramEnd(const ::testing::UnitTest&) override {
    if (violations_.empty()) return;
    for (const auto& v : violations_) std::fprintf(stderr, "[  LIMITS  ] %s\n", v.c_str());
    std::fflush(stderr);
    std::_Exit(1);  // the cases themselves passed; the suite still fails
  }

 private:
  std::chrono::steady_clock::time_point start_;
  long rss_kb_ = 0;
  std::vector<std::string> violations_;
};

// Registered before main() runs the tests (gtest_main); the listener list owns it.
const bool registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new LimitsListener);
  return true;
}();

}  // namespace

// Under ASan, an allocation larger than any machine must come back as nullptr (which hwopt turns
// into out_of_memory) rather than abort the process: the suite checks exactly that.
extern "C" __attribute__((used)) const char* __asan_default_options() { return "allocator_may_return_null=1"; }
