// The CPU backend's own elementwise kernels against the reference kernels: bit for bit, except
// Erf (within 2 ulp of the reference's erff: both are within 1 ulp of the true value).
#include <bit>
#include <cmath>
#include <limits>

#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;

/// Broadcasting pairs: same shape, row, column, scalar, outer product, mixed, and large ones
/// that take the multi-threaded path.
const std::vector<std::pair<Shape, Shape>> kPairs = {
    {{2, 3, 4}, {2, 3, 4}},
    {{2, 3, 4}, {4}},
    {{2, 3, 4}, {2, 3, 1}},
    {{2, 3, 4}, {}},
    {{}, {2, 3}},
    {{}, {}},
    {{3, 1}, {1, 4}},
    {{2, 1, 5, 1}, {1, 3, 1, 6}},
    {{1}, {7}},
    {{5, 1, 3}, {4, 1}},
    {{17}, {17}},
    {{1, 1, 1}, {2, 1}},
    {{0, 3}, {3}},
    {{8, 128, 768}, {768}},
    {{8, 128, 768}, {8, 128, 1}},
    {{8, 1, 1, 128}, {8, 12, 128, 128}},
    {{4, 33, 1025}, {4, 33, 1025}},
};

std::string pair_name(const std::pair<Shape, Shape>& p) { return shape_str(p.first) + " " + shape_str(p.second); }

TEST(CpuOwnElementwise, ArithmeticMatchesReference) {
  uint32_t seed = 1;
  testing::for_each_isa([&](cpu::own::Isa isa) {
    for (const char* op : {"Add", "Sub", "Mul", "Div"})
      for (const auto& p : kPairs) {
        if (testing::skip_large(isa, p.first) || testing::skip_large(isa, p.second)) continue;
        Tensor a = testing::random_of(DType::float32, p.first, seed++);
        Tensor b = testing::random_of(DType::float32, p.second, seed++);
        testing::expect_candidate_matches("own:binary", op, {a, b}, {}, std::string(op) + " " + pair_name(p));
      }
  });
}

TEST(CpuOwnElementwise, ArithmeticSpecialValuesMatchReference) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> v = {0.f, -0.f, 1.f, -1.f, inf, -inf, nan, 1e-40f, 3e38f, -3e38f, 1e-30f};
  Tensor a = Tensor::from_vector<float>({static_cast<int64_t>(v.size()), 1}, v);
  Tensor b = Tensor::from_vector<float>({1, static_cast<int64_t>(v.size())}, v);
  testing::for_each_isa([&](cpu::own::Isa) {
    for (const char* op : {"Add", "Sub", "Mul", "Div"})
      testing::expect_candidate_matches("own:binary", op, {a, b}, {}, std::string(op) + " specials");
  });
}

TEST(CpuOwnElementwise, ComparisonsMatchReference) {
  uint32_t seed = 50;
  for (const char* op : {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"})
    for (DType dt : {DType::float32, DType::int32, DType::int64})
      for (const auto& p : kPairs) {
        // Small integer values so that equal pairs occur.
        Tensor a = testing::random_of(dt, p.first, seed++, -3, 3);
        Tensor b = testing::random_of(dt, p.second, seed++, -3, 3);
        if (dt == DType::float32) {
          for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = std::round(a.data<float>()[i]);
          for (int64_t i = 0; i < b.numel(); ++i) b.data<float>()[i] = std::round(b.data<float>()[i]);
        }
        testing::expect_candidate_matches("own:compare", op, {a, b}, {},
                                          std::string(op) + " " + dtype_name(dt) + " " + pair_name(p));
      }
}

TEST(CpuOwnElementwise, WhereMatchesReference) {
  const std::vector<std::vector<Shape>> triples = {
      {{2, 3}, {2, 3}, {2, 3}},
      {{2, 3}, {}, {2, 3}},
      {{2, 3}, {2, 3}, {}},
      {{3}, {2, 3}, {2, 1}},
      {{2, 1, 4}, {3, 1}, {1, 1, 4}},
      {{8, 1, 1, 128}, {}, {8, 12, 128, 128}},
      {{1}, {5}, {1}},
      {{4, 1, 7}, {4, 6, 1}, {1, 6, 7}},
      {{}, {}, {}},
      {{8, 128, 768}, {8, 128, 768}, {768}},
  };
  uint32_t seed = 200;
  testing::for_each_isa([&](cpu::own::Isa isa) {
    for (const auto& t : triples)
      for (DType dt : {DType::float32, DType::int64, DType::float16, DType::uint8, DType::boolean}) {
        if (testing::skip_large(isa, t[0]) || testing::skip_large(isa, t[2])) continue;
        Tensor c = testing::random_of(DType::boolean, t[0], seed++);
        Tensor x = testing::random_of(dt, t[1], seed++);
        Tensor y = testing::random_of(dt, t[2], seed++);
        testing::expect_candidate_matches(
            "own:where", "Where", {c, x, y}, {},
            std::string("Where ") + dtype_name(dt) + " " + shape_str(t[0]) + shape_str(t[1]) + shape_str(t[2]));
      }
  });
}

TEST(CpuOwnElementwise, PowMatchesReference) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> base = {0.f, -0.f, 1.f, -1.f, 2.5f, -2.5f, inf, -inf, nan, 1e-30f, 3e30f, 0.3f, -7.f, 1e20f};
  Tensor specials = Tensor::from_vector<float>({static_cast<int64_t>(base.size())}, base);
  Tensor big = testing::random_of(DType::float32, {8, 128, 96}, 9, 0.01, 20);
  Tensor mixed = testing::random_of(DType::float32, {3, 4, 5}, 10);
  uint32_t seed = 300;
  testing::for_each_isa([&](cpu::own::Isa isa) {
    for (float e : {2.f, 0.5f, 1.f, 3.f, -1.f, -1.5f, 0.f, 2.2f, inf, nan})
      for (const Tensor& x : {specials, big, mixed}) {
        for (const Shape& es : std::vector<Shape>{{}, {1}}) {
          Tensor et = Tensor::from_vector<float>(es, {e});
          testing::expect_candidate_matches("own:pow", "Pow", {x, et}, {},
                                            "Pow exponent " + std::to_string(e) + " base " + shape_str(x.shape()));
        }
      }
    // Tensor exponents, float and integer, broadcast.
    for (const auto& p : kPairs) {
      if (testing::skip_large(isa, p.first) || testing::skip_large(isa, p.second)) continue;
      Tensor x = testing::random_of(DType::float32, p.first, seed++, 0.1, 4);
      Tensor ef = testing::random_of(DType::float32, p.second, seed++, -3, 3);
      testing::expect_candidate_matches("own:pow", "Pow", {x, ef}, {}, "Pow float exponents " + pair_name(p));
      Tensor xi = testing::random_of(DType::float32, p.first, seed++, -4, 4);
      Tensor ei = testing::random_of(DType::int64, p.second, seed++, -4, 4);
      testing::expect_candidate_matches("own:pow", "Pow", {xi, ei}, {}, "Pow int64 exponents " + pair_name(p));
      Tensor e32 = testing::random_of(DType::int32, p.second, seed++, -4, 4);
      testing::expect_candidate_matches("own:pow", "Pow", {xi, e32}, {}, "Pow int32 exponents " + pair_name(p));
    }
  });
}

TEST(CpuOwnElementwise, NotMatchesReference) {
  uint32_t seed = 400;
  for (const Shape& s : std::vector<Shape>{{}, {7}, {3, 5}, {300, 301}}) {
    Tensor x = testing::random_of(DType::boolean, s, seed++);
    testing::expect_candidate_matches("own:not", "Not", {x}, {}, "Not " + shape_str(s));
  }
}

int64_t ulp_distance(float a, float b) {
  auto ord = [](float f) {
    const int32_t i = std::bit_cast<int32_t>(f);
    return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : static_cast<int64_t>(i);
  };
  return std::llabs(ord(a) - ord(b));
}

TEST(CpuOwnElementwise, ErfIsWithinTwoUlpOfReference) {
  // A dense sweep of [-5, 5] plus special values, in one large tensor (the threaded path).
  std::vector<float> v;
  for (int i = -2000000; i <= 2000000; ++i) v.push_back(static_cast<float>(i) * 2.5e-6f);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (float f : {0.f, -0.f, 1e-40f, -1e-40f, 1e-30f, 1e-8f, 3.9f, 4.f, 1e10f, inf, -inf, nan}) v.push_back(f);
  Tensor x = Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v);
  auto ref = testing::run_ref_op("Erf", {x});
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  testing::for_each_isa([&](cpu::own::Isa isa) {
    auto got = testing::run_candidate("own:erf", "Erf", {x});
    ASSERT_TRUE(got.error.empty()) << got.error;
    EXPECT_FALSE(got.used_reference);
    int64_t worst = 0, differ = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      const float g = got.out().data<float>()[i], w = ref.out().data<float>()[i];
      if (std::isnan(w)) {
        EXPECT_TRUE(std::isnan(g)) << "erf(" << v[i] << ")";
        continue;
      }
      const int64_t d = ulp_distance(g, w);
      worst = std::max(worst, d);
      differ += d != 0;
      EXPECT_LE(d, 2) << "erf(" << v[i] << ") = " << g << ", reference " << w;
      if (d > 2) break;
    }
    // Same sign of zero: erf(-0) = -0.
    EXPECT_TRUE(std::signbit(got.out().data<float>()[v.size() - 11]));
    std::printf("erf (isa %d): %lld of %zu values differ from erff, by at most %lld ulp\n", static_cast<int>(isa),
                static_cast<long long>(differ), v.size(), static_cast<long long>(worst));
    // Without AVX2/FMA the kernel calls libm's erff, exactly the reference.
    if (isa == cpu::own::Isa::baseline) {
      EXPECT_EQ(differ, 0);
    }
  });
}

TEST(CpuOwnElementwise, CastMatchesReference) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> specials = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 255.9, 256.0, -129.0, 3e9, -3e9, 1e19,
                                        -1e19, 1e300, 65519, 65520, 6e-8, 3e-8, 1e-45, inf, -inf, nan,
                                        // Saturation edges of int8/uint8/int32/int64.
                                        127.5, 128.0, -128.9, -129.0, -0.3, 255.5, 2147483647.0, 2147483647.5,
                                        2147483648.0, -2147483648.5, -2147483649.0, 9223372036854774784.0,
                                        9223372036854775808.0, -9223372036854775808.0, -9223372036854777856.0};
  const std::vector<DType> types = {DType::float32, DType::float64, DType::int32, DType::int64,
                                    DType::boolean, DType::uint8,   DType::int8};
  uint32_t seed = 500;
  testing::for_each_isa([&](cpu::own::Isa isa) {
    auto check = [&](const Tensor& x, DType to, const std::string& what) {
      if (testing::skip_large(isa, x.shape())) return;
      testing::expect_candidate_matches("own:cast", "Cast", {x}, {attr_i("to", static_cast<int64_t>(to))},
                                        what + " " + dtype_name(x.dtype()) + "->" + dtype_name(to));
    };
    for (DType from : types) {
      Tensor sp = Tensor::from_vector<double>({static_cast<int64_t>(specials.size())}, specials);
      // The specials converted to `from` by the reference itself.
      auto conv = testing::run_ref_op("Cast", {sp}, {attr_i("to", static_cast<int64_t>(from))});
      ASSERT_TRUE(conv.error.empty()) << conv.error;
      for (DType to : types) {
        check(conv.out(), to, "specials");
        check(testing::random_of(from, {3, 41, 5}, seed++, -300, 300), to, "random");
        check(testing::random_of(from, {300, 257}, seed++, -1e6, 1e6), to, "large");
      }
    }
    // float16 <-> float32, including NaN payloads, subnormals, rounding ties and overflow.
    std::vector<float> f = {0.f,   -0.f,          1.f,    65504.f,        65519.f,       65520.f, -7e4f,
                            6e-8f, 2.9802322e-8f, 1e-45f, 1.00048828125f, 1.0009765625f, 3.14159f};
    f.push_back(std::numeric_limits<float>::infinity());
    f.push_back(std::numeric_limits<float>::quiet_NaN());
    f.push_back(std::bit_cast<float>(0x7f800001u));  // signalling NaN
    f.push_back(std::bit_cast<float>(0xffc12345u));
    for (int i = 0; i < 5; ++i) f.insert(f.end(), f.begin(), f.begin() + 17);  // several 8-wide blocks
    Tensor fs = Tensor::from_vector<float>({static_cast<int64_t>(f.size())}, f);
    check(fs, DType::float16, "specials");
    check(testing::random_of(DType::float32, {300, 257}, seed++, -7e4, 7e4), DType::float16, "large");
    std::vector<Half> h;
    for (uint32_t b = 0; b < 65536; ++b) h.push_back(Half::from_bits(static_cast<uint16_t>(b)));
    check(Tensor::from_vector<Half>({65536}, h), DType::float32, "every half");
    check(testing::random_of(DType::float16, {7, 9}, seed++), DType::float16, "same type");
  });
}

TEST(CpuOwnElementwise, DispatchOrderAndDeclines) {
  Tensor a = testing::random_of(DType::float32, {2, 3}, 1);
  Tensor m = testing::random_of(DType::boolean, {2, 3}, 2);
  auto where = testing::run_backend_op("cpu", "Where", {m, a, a});
  EXPECT_EQ(where.implementation, "cpu:own:where");
  auto erf = testing::run_backend_op("cpu", "Erf", {a});
  EXPECT_EQ(erf.implementation, "cpu:own:erf");
  auto cast = testing::run_backend_op("cpu", "Cast", {a}, {attr_i("to", 7)});
  EXPECT_EQ(cast.implementation, "cpu:own:cast");
  // Add: the oneDNN binary candidate (if registered) comes first; this one is the fallback.
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    bool found = false;
    for (const Candidate* c : CandidateRegistry::instance().find("cpu", op, "", 17))
      if (c->name == "own:binary") {
        found = true;
        EXPECT_EQ(c->priority, 20) << op;
      } else {
        EXPECT_LT(c->priority, 20) << op << ": " << c->name << " would come after the fallback";
      }
    EXPECT_TRUE(found) << op;
  }

  Tensor i64 = testing::random_of(DType::int64, {2, 3}, 3);
  auto add = testing::run_candidate("own:binary", "Add", {i64, i64});
  EXPECT_NE(add.declined.find("int64"), std::string::npos) << add.declined;
  auto legacy = testing::run_candidate("own:binary", "Add", {a, a}, {}, 6);
  EXPECT_NE(legacy.declined.find("opset"), std::string::npos) << legacy.declined;
  auto erf64 = testing::run_candidate("own:erf", "Erf", {testing::random_of(DType::float64, {2}, 4)});
  EXPECT_NE(erf64.declined.find("float64"), std::string::npos) << erf64.declined;
  auto cast_str = testing::run_candidate("own:cast", "Cast", {a}, {attr_i("to", 8)});
  EXPECT_NE(cast_str.declined.find("string"), std::string::npos) << cast_str.declined;
}

TEST(CpuOwnElementwise, ShapeErrorsAreReportedByReference) {
  Tensor a = testing::random_of(DType::float32, {2, 3}, 1);
  Tensor b = testing::random_of(DType::float32, {4}, 2);
  auto got = testing::run_candidate("own:binary", "Add", {a, b});
  auto ref = testing::run_ref_op("Add", {a, b});
  ASSERT_FALSE(ref.error.empty());
  EXPECT_EQ(got.error, ref.error);
}

}  // namespace
}  // namespace hwopt
