// Activation range collection and thresholds (MinMax, Percentile, Entropy) and calibration tables.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "quant/ranges.h"

namespace hwopt::quant {
namespace {

namespace fs = std::filesystem;

std::vector<float> normal_sample(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// The exact empirical percentile of |x| (nearest rank).
float exact_abs_percentile(std::vector<float> v, double percentile) {
  for (float& x : v) x = std::fabs(x);
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(std::ceil(percentile / 100.0 * v.size()));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

TEST(QuantRanges, ParsesMethodNames) {
  for (auto m : {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    auto parsed = parse_calibration_method(calibration_method_name(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  auto bad = parse_calibration_method("kl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(bad.status().message().find("minmax, percentile, entropy"), std::string::npos) << bad.status().message();
}

TEST(QuantRanges, MinMaxIsExact) {
  RangeCollector c;
  const std::vector<float> a = {0.5f, -3.25f, 2.0f};
  const std::vector<float> b = {1.0f, 7.5f};
  c.add(a.data(), a.size());
  c.add(b.data(), b.size());
  EXPECT_EQ(c.count(), 5u);
  EXPECT_EQ(c.min(), -3.25f);
  EXPECT_EQ(c.max(), 7.5f);
  EXPECT_EQ(c.threshold(CalibrationMethod::minmax), 7.5f);
  ActivationRange r = c.range(CalibrationMethod::minmax, 99.99);
  EXPECT_EQ(r.min, -3.25f);
  EXPECT_EQ(r.max, 7.5f);
  EXPECT_EQ(r.threshold, 7.5f);
  // A negative extreme sets max|x| too.
  RangeCollector n;
  const std::vector<float> neg = {-9.0f, 1.0f};
  n.add(neg.data(), neg.size());
  EXPECT_EQ(n.threshold(CalibrationMethod::minmax), 9.0f);
}

TEST(QuantRanges, PercentileOfUniformWithinOneBin) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(200000);
  for (float& x : v) x = dist(rng);
  RangeCollector c;
  c.add(v.data(), v.size());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const float want = exact_abs_percentile(v, p);
    EXPECT_NEAR(c.threshold(CalibrationMethod::percentile, p), want, c.bin_width()) << "percentile " << p;
  }
  EXPECT_NEAR(c.threshold(CalibrationMethod::percentile, 99.0), 0.99, 0.01);
  EXPECT_EQ(c.threshold(CalibrationMethod::percentile, 100.0), c.abs_max());
}

TEST(QuantRanges, PercentileOfNormalWithinOneBin) {
  const std::vector<float> v = normal_sample(300000, 11);
  RangeCollector c;
  c.add(v.data(), v.size());
  for (double p : {68.27, 95.45, 99.73, 99.99}) {
    const float want = exact_abs_percentile(v, p);
    EXPECT_NEAR(c.threshold(CalibrationMethod::percentile, p), want, c.bin_width()) << "percentile " << p;
  }
  // 99.73 % of a standard normal lies within 3 sigma.
  EXPECT_NEAR(c.threshold(CalibrationMethod::percentile, 99.73), 3.0, 0.05);
}

TEST(QuantRanges, EntropyClipsOutliers) {
  std::vector<float> v = normal_sample(200000, 3);
  const float outlier = 50.0f;
  for (int i = 0; i < 5; ++i) v[i * 1000] = i % 2 ? outlier : -outlier;
  RangeCollector c;
  c.add(v.data(), v.size());
  EXPECT_EQ(c.threshold(CalibrationMethod::minmax), outlier);
  const float t = c.threshold(CalibrationMethod::entropy);
  EXPECT_LT(t, 0.5f * outlier);
  EXPECT_GT(t, 2.5f);
}

TEST(QuantRanges, EntropyOfPlainGaussianKeepsMostOfTheRange) {
  const std::vector<float> v = normal_sample(100000, 5);
  RangeCollector c;
  c.add(v.data(), v.size());
  const float t = c.threshold(CalibrationMethod::entropy);
  EXPECT_GT(t, 2.5f);
  EXPECT_LE(t, c.abs_max());
}

TEST(QuantRanges, EntropyIgnoresTheZeroSpikeOfRelu) {
  // A ReLU output: half exact zeros, half |N(0, 1)|. Without discounting the zeros, KL favours
  // thresholds near max|x| / 10 (about 0.5 here).
  std::vector<float> v = normal_sample(200000, 9);
  for (float& x : v) x = std::max(x, 0.0f);
  RangeCollector c;
  c.add(v.data(), v.size());
  EXPECT_GT(c.threshold(CalibrationMethod::entropy), 2.5f);
}

TEST(QuantRanges, RebinningMatchesOneBatch) {
  // Batches with growing ranges force re-binning; the answers must match one batch of all data.
  std::vector<float> all;
  RangeCollector streamed;
  for (int b = 0; b < 6; ++b) {
    std::vector<float> batch = normal_sample(40000, 100 + b, 0.5f + 0.5f * b);
    streamed.add(batch.data(), batch.size());
    all.insert(all.end(), batch.begin(), batch.end());
  }
  RangeCollector whole;
  whole.add(all.data(), all.size());
  ASSERT_EQ(streamed.abs_max(), whole.abs_max());
  EXPECT_EQ(streamed.count(), whole.count());
  EXPECT_EQ(streamed.min(), whole.min());
  EXPECT_EQ(streamed.max(), whole.max());
  const double width = whole.bin_width();
  for (double p : {50.0, 99.0, 99.99})
    EXPECT_NEAR(streamed.threshold(CalibrationMethod::percentile, p), whole.threshold(CalibrationMethod::percentile, p), width)
        << "percentile " << p;
  double total = 0;
  for (double h : streamed.histogram()) total += h;
  EXPECT_NEAR(total, static_cast<double>(streamed.count()), 1e-6 * total);
  // Entropy compares KL divergences of nearby candidates; re-binning may move the minimum a few bins.
  EXPECT_NEAR(streamed.threshold(CalibrationMethod::entropy), whole.threshold(CalibrationMethod::entropy), 8 * width);
}

TEST(QuantRanges, EmptyZeroAndConstantData) {
  RangeCollector empty;
  for (auto m : {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    EXPECT_EQ(empty.threshold(m), 0.0f);
    ActivationRange r = empty.range(m, 99.9);
    EXPECT_EQ(r.min, 0.0f);
    EXPECT_EQ(r.max, 0.0f);
    EXPECT_EQ(r.threshold, 0.0f);
  }
  empty.add(nullptr, 0);
  EXPECT_EQ(empty.count(), 0u);

  RangeCollector zeros;
  const std::vector<float> z(1000, 0.0f);
  zeros.add(z.data(), z.size());
  for (auto m : {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy})
    EXPECT_EQ(zeros.threshold(m), 0.0f) << calibration_method_name(m);

  RangeCollector constant;
  const std::vector<float> k(1000, -2.5f);
  constant.add(k.data(), k.size());
  for (auto m : {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    const float t = constant.threshold(m);
    EXPECT_TRUE(std::isfinite(t)) << calibration_method_name(m);
    EXPECT_NEAR(t, 2.5f, constant.bin_width()) << calibration_method_name(m);
  }
  EXPECT_EQ(constant.threshold(CalibrationMethod::minmax), 2.5f);

  // Zeros first, then a wider batch: the zeros stay in bin 0.
  RangeCollector grow;
  grow.add(z.data(), z.size());
  const std::vector<float> ones(1000, 1.0f);
  grow.add(ones.data(), ones.size());
  EXPECT_NEAR(grow.threshold(CalibrationMethod::percentile, 40.0), 0.0f, grow.bin_width());
  EXPECT_NEAR(grow.threshold(CalibrationMethod::percentile, 100.0), 1.0f, 1e-6);
}

TEST(QuantRanges, NonFiniteValuesAreCountedAndIgnored) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> v = {1.0f, nan, -2.0f, inf, -inf, 0.5f};
  RangeCollector c;
  c.add(v.data(), v.size());
  EXPECT_EQ(c.count(), 3u);
  EXPECT_EQ(c.nonfinite_count(), 3u);
  EXPECT_EQ(c.min(), -2.0f);
  EXPECT_EQ(c.max(), 1.0f);
  for (auto m : {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    const float t = c.threshold(m);
    EXPECT_TRUE(std::isfinite(t)) << calibration_method_name(m);
    EXPECT_LE(t, 2.0f) << calibration_method_name(m);
  }
  RangeCollector only_nan;
  const std::vector<float> n = {nan, nan};
  only_nan.add(n.data(), n.size());
  EXPECT_EQ(only_nan.count(), 0u);
  EXPECT_EQ(only_nan.threshold(CalibrationMethod::entropy), 0.0f);
}

class QuantTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hwopt_quant_table_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(QuantTableTest, RoundTrip) {
  CalibrationTable table;
  table["conv1_out"] = {-1.5f, 2.25f, 2.0f};
  table["relu/out:0"] = {0.0f, 6.0f, 5.5f};
  table["zeros"] = {0.0f, 0.0f, 0.0f};
  const std::string path = (dir_ / "table.json").string();
  ASSERT_TRUE(save_calibration_table(path, table, CalibrationMethod::entropy).ok());
  auto loaded = load_calibration_table(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  ASSERT_EQ(loaded->size(), table.size());
  for (const auto& [name, r] : table) {
    ASSERT_TRUE(loaded->count(name)) << name;
    EXPECT_EQ(loaded->at(name).min, r.min);
    EXPECT_EQ(loaded->at(name).max, r.max);
    EXPECT_EQ(loaded->at(name).threshold, r.threshold);
  }
  // float32 values survive the trip exactly, whatever their decimal form.
  CalibrationTable odd{{"x", {-0.1f, 0.3f, 1.0f / 3.0f}}};
  ASSERT_TRUE(save_calibration_table(path, odd, CalibrationMethod::minmax).ok());
  auto again = load_calibration_table(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at("x").threshold, 1.0f / 3.0f);
  EXPECT_EQ(again->at("x").min, -0.1f);
}

TEST_F(QuantTableTest, SaveRefusesBadRanges) {
  const std::string path = (dir_ / "t.json").string();
  CalibrationTable nan_table{{"v", {0, 1, std::numeric_limits<float>::quiet_NaN()}}};
  EXPECT_EQ(save_calibration_table(path, nan_table, CalibrationMethod::minmax).code(), StatusCode::invalid_argument);
  CalibrationTable neg{{"v", {0, 1, -1}}};
  EXPECT_EQ(save_calibration_table(path, neg, CalibrationMethod::minmax).code(), StatusCode::invalid_argument);
  CalibrationTable swapped{{"v", {2, 1, 1}}};
  EXPECT_EQ(save_calibration_table(path, swapped, CalibrationMethod::minmax).code(), StatusCode::invalid_argument);
  EXPECT_FALSE(fs::exists(path));
  CalibrationTable ok{{"v", {0, 1, 1}}};
  EXPECT_EQ(save_calibration_table((dir_ / "no/such/dir/t.json").string(), ok, CalibrationMethod::minmax).code(),
            StatusCode::io_error);
}

TEST_F(QuantTableTest, LoadErrors) {
  auto missing = load_calibration_table((dir_ / "missing.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::not_found);
  EXPECT_NE(missing.status().message().find("missing.json"), std::string::npos);

  const std::string head = R"({"format": "hwopt-calibration", "version": 1, "method": "minmax", "ranges": )";
  struct Case {
    const char* name;
    std::string text;
    const char* expect;  // a part of the message
  };
  const std::vector<Case> cases = {
      {"bad_json", "{\"format\": ", "not valid JSON"},
      {"not_object", "[1, 2]", "not a JSON object"},
      {"wrong_format", R"({"format": "other", "version": 1, "ranges": {}})", "format"},
      {"wrong_version", R"({"format": "hwopt-calibration", "version": 2, "ranges": {}})", "version"},
      {"bad_method", R"({"format": "hwopt-calibration", "version": 1, "method": "kl", "ranges": {}})", "kl"},
      {"no_ranges", R"({"format": "hwopt-calibration", "version": 1})", "ranges"},
      {"missing_field", head + R"({"a": {"min": 0, "max": 1}}})", "'a': \"threshold\""},
      {"string_field", head + R"({"a": {"min": 0, "max": 1, "threshold": "1"}}})", "'a': \"threshold\""},
      {"null_threshold", head + R"({"a": {"min": 0, "max": 1, "threshold": null}}})", "'a': \"threshold\""},
      {"huge_threshold", head + R"({"a": {"min": 0, "max": 1, "threshold": 1e39}}})", "not a finite float32"},
      {"inf_threshold", head + R"({"a": {"min": 0, "max": 1, "threshold": 1e999}}})", "calibration table"},  // nlohmann: bad JSON
      {"negative_threshold", head + R"({"a": {"min": 0, "max": 1, "threshold": -0.5}}})", "negative threshold"},
      {"min_above_max", head + R"({"b": {"min": 2, "max": 1, "threshold": 2}}})", "'b': min 2 > max 1"},
      {"entry_not_object", head + R"({"a": 3}})", "'a'"},
  };
  for (const Case& c : cases) {
    const std::string path = write(std::string(c.name) + ".json", c.text);
    auto r = load_calibration_table(path);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::invalid_argument) << c.name;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << c.name << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << c.name << ": " << r.status().message();
  }
}

}  // namespace
}  // namespace hwopt::quant
