#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_s;

Tensor S(const Shape& shape, const std::vector<std::string>& v) {
  Tensor t(DType::string, shape);
  for (size_t i = 0; i < v.size(); ++i) t.data<std::string>()[i] = v[i];
  return t;
}

std::vector<std::string> strs(const Tensor& t) {
  return std::vector<std::string>(t.data<std::string>(), t.data<std::string>() + t.numel());
}

ir::Attribute attr_strs(const std::string& name, std::vector<std::string> v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::strings;
  a.strings = std::move(v);
  return a;
}

TEST(RefString, NormalizerStopwordsAndCase) {
  Tensor x = S({5}, {"Monday", "tuesday", "MONDAY", "Straße", "École"});
  auto r = testing::run_ref_op("StringNormalizer", {x},
                               {attr_strs("stopwords", {"monday"}), attr_s("case_change_action", "UPPER")}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), Shape{3});
  EXPECT_EQ(strs(r.out()), (std::vector<std::string>{"TUESDAY", "STRAßE", "ÉCOLE"}));
  r = testing::run_ref_op("StringNormalizer", {x},
                          {attr_strs("stopwords", {"monday"}), attr_i("is_case_sensitive", 1),
                           attr_s("case_change_action", "LOWER")},
                          10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strs(r.out()), (std::vector<std::string>{"monday", "tuesday", "monday", "straße", "école"}));
}

TEST(RefString, NormalizerAllDroppedAndTwoDim) {
  auto r = testing::run_ref_op("StringNormalizer", {S({1, 2}, {"a", "A"})}, {attr_strs("stopwords", {"a"})}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), (Shape{1, 1}));
  EXPECT_EQ(strs(r.out()), (std::vector<std::string>{""}));
  r = testing::run_ref_op("StringNormalizer", {S({1, 3}, {"a", "b", "c"})}, {attr_strs("stopwords", {"B"})}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), (Shape{1, 2}));
  r = testing::run_ref_op("StringNormalizer", {S({2, 2}, {"a", "b", "c", "d"})}, {}, 10);
  EXPECT_NE(r.error.find("[1, C]"), std::string::npos) << r.error;
  r = testing::run_ref_op("StringNormalizer", {S({1}, {"a"})}, {attr_s("case_change_action", "TITLE")}, 10);
  EXPECT_NE(r.error.find("case_change_action"), std::string::npos) << r.error;
}

TEST(RefString, ConcatBroadcasts) {
  auto r = testing::run_ref_op("StringConcat", {S({2, 1}, {"a", "b"}), S({3}, {"x", "y", ""})}, {}, 20);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), (Shape{2, 3}));
  EXPECT_EQ(strs(r.out()), (std::vector<std::string>{"ax", "ay", "a", "bx", "by", "b"}));
  r = testing::run_ref_op("StringConcat", {S({2}, {"a", "b"}), S({3}, {"x", "y", "z"})}, {}, 20);
  EXPECT_NE(r.error.find("broadcast"), std::string::npos) << r.error;
}

TEST(RefString, SplitLikePython) {
  Tensor x = S({3}, {"a,b,,c", "", "x"});
  auto r = testing::run_ref_op("StringSplit", {x}, {attr_s("delimiter", ",")}, 20, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out(0).shape(), (Shape{3, 4}));
  EXPECT_EQ(strs(r.out(0)), (std::vector<std::string>{"a", "b", "", "c", "", "", "", "", "x", "", "", ""}));
  testing::expect_tensor_near(r.out(1), {3}, {4, 1, 1});
  r = testing::run_ref_op("StringSplit", {x}, {attr_s("delimiter", ","), attr_i("maxsplit", 1)}, 20, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strs(r.out(0)), (std::vector<std::string>{"a", "b,,c", "", "", "x", ""}));
  Tensor w = S({1, 2}, {"  hello   big world ", "   "});
  r = testing::run_ref_op("StringSplit", {w}, {}, 20, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out(0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(strs(r.out(0)), (std::vector<std::string>{"hello", "big", "world", "", "", ""}));
  testing::expect_tensor_near(r.out(1), {1, 2}, {3, 0});
  r = testing::run_ref_op("StringSplit", {w}, {attr_i("maxsplit", 1)}, 20, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strs(r.out(0)), (std::vector<std::string>{"hello", "big world ", "", ""}));
  r = testing::run_ref_op("StringSplit", {Tensor::from_vector<float>({1}, {1.f})}, {}, 20, 2);
  EXPECT_NE(r.error.find("string"), std::string::npos) << r.error;
}

TEST(RefString, RegexFullMatch) {
  // Expected values agree with Python's re.fullmatch on the same (RE2-compatible) patterns.
  struct Case {
    const char* pattern;
    std::vector<std::string> inputs;
    std::vector<double> expected;
  };
  const std::vector<Case> cases = {
      {R"(www\.[\w.-]+\.\bcom\b)", {"www.google.com", "www.facebook.com", "google.com", "www.bbc.co.uk"}, {1, 1, 0, 0}},
      {R"((?i)hello\s+WORLD!?)", {"Hello   world", "HELLO WORLD!", "hello world!!", "helloworld"}, {1, 1, 0, 0}},
      {R"([^a-c\d]{2,3}x*)", {"dd", "ddxxx", "d1", "eeee", "é_x"}, {1, 1, 0, 0, 1}},
      {R"((ab|a)(bc|c)?)", {"abc", "ab", "a", "ac", "abcc"}, {1, 1, 1, 1, 0}},
      {R"(\d{3}-\d{4}|[[:upper:]]+)", {"555-1234", "ABC", "abc", "55-1234", ""}, {1, 1, 0, 0, 0}},
      {R"(a.c)", {"abc", "a\nc", "aéc", "ac"}, {1, 0, 1, 0}},
      {R"((?s:a.c))", {"a\nc"}, {1}},
      {R"(^$)", {"", "x"}, {1, 0}},
      {R"(caf\x{e9}|\x41)", {"café", "A", "cafe"}, {1, 1, 0}},
  };
  for (const auto& c : cases) {
    Tensor x = S({static_cast<int64_t>(c.inputs.size())}, c.inputs);
    auto r = testing::run_ref_op("RegexFullMatch", {x}, {attr_s("pattern", c.pattern)}, 20);
    ASSERT_TRUE(r.error.empty()) << c.pattern << ": " << r.error;
    EXPECT_EQ(r.out().dtype(), DType::boolean);
    SCOPED_TRACE(c.pattern);
    testing::expect_tensor_near(r.out(), {static_cast<int64_t>(c.inputs.size())}, c.expected);
  }
}

TEST(RefString, RegexLongInputAndBadPatterns) {
  // A long input is matched without recursion (std::regex would overflow the stack here).
  std::string long_ab(200000, 'a');
  long_ab[100] = 'b';
  auto r = testing::run_ref_op("RegexFullMatch", {S({2}, {long_ab, long_ab + "c"})}, {attr_s("pattern", "(a|b)*")}, 20);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {1, 0});
  for (const char* bad : {"(unclosed", "a)", "*a", "[z-a]", "a**", "x{2,1}", "\\p{Greek}", "[[:nope:]]", "a{1001}"}) {
    r = testing::run_ref_op("RegexFullMatch", {S({1}, {"a"})}, {attr_s("pattern", bad)}, 20);
    EXPECT_NE(r.error.find("pattern"), std::string::npos) << bad << " -> " << r.error;
  }
  std::string deep(5000, '(');
  r = testing::run_ref_op("RegexFullMatch", {S({1}, {"a"})}, {attr_s("pattern", deep)}, 20);
  EXPECT_NE(r.error.find("nested"), std::string::npos) << r.error;
  r = testing::run_ref_op("RegexFullMatch", {S({1}, {"a"})}, {attr_s("pattern", "(a{1000}){1000}")}, 20);
  EXPECT_NE(r.error.find("too large"), std::string::npos) << r.error;
  r = testing::run_ref_op("RegexFullMatch", {S({1}, {"a"})}, {}, 20);
  EXPECT_NE(r.error.find("pattern"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
