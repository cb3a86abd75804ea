// String ops: StringNormalizer, StringConcat, StringSplit, RegexFullMatch (own RE2-subset NFA matcher).
#include <cctype>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// Case mapping for ASCII and the Latin-1 letters (UTF-8 C3 xx), locale-independent (en_US rules).
std::string change_case(const std::string& s, bool upper) {
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) {
      if (upper && c >= 'a' && c <= 'z') out[i] = static_cast<char>(c - 32);
      if (!upper && c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c + 32);
    } else if (c == 0xC3 && i + 1 < out.size()) {
      unsigned char d = static_cast<unsigned char>(out[i + 1]);
      if (upper && d >= 0xA0 && d <= 0xBE && d != 0xB7) out[i + 1] = static_cast<char>(d - 0x20);
      if (!upper && d >= 0x80 && d <= 0x9E && d != 0x97) out[i + 1] = static_cast<char>(d + 0x20);
      ++i;
    }
  }
  return out;
}

const Tensor& string_input(const KernelContext& ctx, size_t i, const char* name) {
  const Tensor& t = ctx.input(i);
  HWOPT_KCHECK(t.dtype() == DType::string, "input '{}' must be a string tensor, got {}", name, dtype_name(t.dtype()));
  return t;
}

// ---- StringNormalizer ----

void ref_string_normalizer(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  const bool two_d = x.rank() == 2;
  HWOPT_KCHECK(x.rank() == 1 || (two_d && x.dim(0) == 1), "input 'X' must have shape [C] or [1, C], got {}",
               shape_str(x.shape()));
  const std::string action = ctx.attr_string("case_change_action", "NONE");
  HWOPT_KCHECK(action == "NONE" || action == "LOWER" || action == "UPPER",
               "attribute 'case_change_action' must be NONE, LOWER or UPPER, got '{}'", action);
  const bool case_sensitive = ctx.attr_int("is_case_sensitive", 0) != 0;
  std::unordered_set<std::string> stop;
  for (const auto& w : ctx.attr_strings("stopwords", {})) stop.insert(case_sensitive ? w : change_case(w, false));

  std::vector<std::string> kept;
  const std::string* in = x.data<std::string>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const std::string key = case_sensitive ? in[i] : change_case(in[i], false);
    if (stop.count(key)) continue;
    if (action == "LOWER") {
      kept.push_back(change_case(in[i], false));
    } else if (action == "UPPER") {
      kept.push_back(change_case(in[i], true));
    } else {
      kept.push_back(in[i]);
    }
  }
  if (kept.empty()) kept.emplace_back();  // all dropped: a single empty string
  const int64_t k = static_cast<int64_t>(kept.size());
  Tensor& out = ctx.allocate_output(0, DType::string, two_d ? Shape{1, k} : Shape{k});
  for (int64_t i = 0; i < k; ++i) out.data<std::string>()[i] = kept[i];
}

// ---- StringConcat (broadcasting X + Y) ----

void ref_string_concat(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  const Tensor y = string_input(ctx, 1, "Y").contiguous();
  const Shape shape = broadcast_shape(x.shape(), y.shape());
  const auto xo = broadcast_offsets(x.shape(), shape);
  const auto yo = broadcast_offsets(y.shape(), shape);
  Tensor& out = ctx.allocate_output(0, DType::string, shape);
  for (int64_t i = 0; i < out.numel(); ++i)
    out.data<std::string>()[i] = x.data<std::string>()[xo[i]] + y.data<std::string>()[yo[i]];
}

// ---- StringSplit (Python str.split semantics) ----

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string> split_string(const std::string& s, const std::string& sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep.empty()) {
    // Runs of whitespace separate; leading/trailing whitespace is dropped (the unsplit remainder
    // keeps its trailing whitespace once maxsplit is reached, as in Python).
    size_t i = 0;
    const size_t n = s.size();
    int64_t splits = 0;
    while (i < n) {
      while (i < n && is_space(s[i])) ++i;
      if (i == n) break;
      if (maxsplit >= 0 && splits == maxsplit) {
        parts.push_back(s.substr(i));
        break;
      }
      size_t j = i;
      while (j < n && !is_space(s[j])) ++j;
      parts.push_back(s.substr(i, j - i));
      ++splits;
      i = j;
    }
    return parts;
  }
  size_t start = 0;
  int64_t splits = 0;
  while (maxsplit < 0 || splits < maxsplit) {
    size_t at = s.find(sep, start);
    if (at == std::string::npos) break;
    parts.push_back(s.substr(start, at - start));
    start = at + sep.size();
    ++splits;
  }
  parts.push_back(s.substr(start));
  return parts;
}

void ref_string_split(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  const std::string sep = ctx.attr_string("delimiter", "");
  const int64_t maxsplit = ctx.attr_int("maxsplit", -1);
  std::vector<std::vector<std::string>> all(static_cast<size_t>(x.numel()));
  int64_t width = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    all[i] = split_string(x.data<std::string>()[i], sep, maxsplit);
    width = std::max<int64_t>(width, static_cast<int64_t>(all[i].size()));
  }
  Shape y_shape = x.shape();
  y_shape.push_back(width);
  Tensor& y = ctx.allocate_output(0, DType::string, y_shape);
  for (int64_t i = 0; i < x.numel(); ++i)
    for (size_t k = 0; k < all[i].size(); ++k) y.data<std::string>()[i * width + static_cast<int64_t>(k)] = all[i][k];
  if (ctx.wants_output(1)) {
    Tensor& z = ctx.allocate_output(1, DType::int64, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) z.data<int64_t>()[i] = static_cast<int64_t>(all[i].size());
  }
}

// ---- RegexFullMatch ----
// A small RE2-syntax matcher: the pattern is parsed to a tree, compiled to a Thompson NFA and
// simulated over the input's code points (no backtracking, no recursion over the input, so long
// inputs cannot overflow the stack and time is linear). Supported: literals, ., [...] classes with
// ranges, negation and [:posix:] names, \d \w \s (and negations), \b \B \A \z ^ $, groups
// (...), (?:...), (?P<name>...), flags (?i) (?s) (?m) (?U) and (?flags:...), alternation, and
// the quantifiers * + ? {n} {n,} {n,m} (lazy forms accepted; they do not change a full match).

// UTF-8 to code points (an invalid byte stands for itself).
std::vector<uint32_t> decode_utf8(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int k = 1; ok && k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      ok = (d >> 6) == 0x2;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
    } else {
      out.push_back(cp);
      i += static_cast<size_t>(len);
    }
  }
  return out;
}

struct CharSet {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool negated = false;
  bool fold = false;  // case-insensitive (ASCII letters)
  bool contains(uint32_t c) const {
    auto in = [&](uint32_t v) {
      for (const auto& r : ranges)
        if (v >= r.first && v <= r.second) return true;
      return false;
    };
    bool hit = in(c);
    if (!hit && fold && c < 128 && std::isalpha(static_cast<int>(c))) {
      hit = in(static_cast<uint32_t>(std::islower(static_cast<int>(c)) ? std::toupper(static_cast<int>(c))
                                                                          : std::tolower(static_cast<int>(c))));
    }
    return hit != negated;
  }
};

enum class AssertKind { begin_text, end_text, begin_line, end_line, word_boundary, not_word_boundary };

struct RegexNode {
  enum class Kind { empty, set, concat, alternate, repeat, assertion } kind = Kind::empty;
  CharSet set;
  std::vector<std::unique_ptr<RegexNode>> children;
  int64_t min = 0, max = -1;  // repeat bounds, max -1 = unbounded
  AssertKind assertion = AssertKind::begin_text;
};
using NodePtr = std::unique_ptr<RegexNode>;

class RegexParser {
 public:
  explicit RegexParser(const std::string& pattern) : p_(decode_utf8(pattern)), pattern_(pattern) {}

  NodePtr parse() {
    NodePtr n = parse_alternation(0);
    fail_unless(pos_ == p_.size(), "unexpected ')'");
    return n;
  }

 private:
  struct Flags {
    bool fold = false, dot_nl = false, multi_line = false;
  };

  void fail_unless(bool cond, const char* what) const {
    HWOPT_KCHECK(cond, "attribute 'pattern' = '{}': {} (at offset {})", pattern_, what, pos_);
  }
  bool at_end() const { return pos_ >= p_.size(); }
  uint32_t peek() const { return p_[pos_]; }
  bool accept(uint32_t c) {
    if (!at_end() && peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  static NodePtr make(RegexNode::Kind k) {
    auto n = std::make_unique<RegexNode>();
    n->kind = k;
    return n;
  }
  NodePtr make_set(CharSet set) const {
    auto n = make(RegexNode::Kind::set);
    set.fold = set.fold || flags_.fold;
    n->set = std::move(set);
    return n;
  }
  static CharSet single(uint32_t c) {
    CharSet s;
    s.ranges.push_back({c, c});
    return s;
  }

  NodePtr parse_alternation(int depth) {
    fail_unless(depth < 250, "groups are nested too deeply");
    const Flags saved = flags_;
    auto alt = make(RegexNode::Kind::alternate);
    alt->children.push_back(parse_concat(depth));
    while (accept('|')) alt->children.push_back(parse_concat(depth));
    flags_ = saved;  // inline flags end with their group
    if (alt->children.size() == 1) return std::move(alt->children[0]);
    return alt;
  }

  NodePtr parse_concat(int depth) {
    auto cat = make(RegexNode::Kind::concat);
    while (!at_end() && peek() != '|' && peek() != ')') {
      NodePtr atom = parse_atom(depth);
      if (!atom) continue;  // a flag group like (?i)
      int64_t lo, hi;
      if (parse_quantifier(lo, hi)) {
        accept('?');  // lazy: same language
        int64_t lo2, hi2;
        fail_unless(!parse_quantifier(lo2, hi2), "bad repetition operator (two in a row)");
        auto rep = make(RegexNode::Kind::repeat);
        rep->min = lo;
        rep->max = hi;
        rep->children.push_back(std::move(atom));
        atom = std::move(rep);
      }
      cat->children.push_back(std::move(atom));
    }
    return cat;
  }

  bool parse_quantifier(int64_t& lo, int64_t& hi) {
    if (accept('*')) { lo = 0; hi = -1; return true; }
    if (accept('+')) { lo = 1; hi = -1; return true; }
    if (accept('?')) { lo = 0; hi = 1; return true; }
    if (at_end() || peek() != '{') return false;
    // {n}, {n,}, {n,m}; anything else is a literal '{'.
    size_t save = pos_++;
    auto number = [&](int64_t& v) {
      size_t start = pos_;
      v = 0;
      while (!at_end() && peek() >= '0' && peek() <= '9') {
        v = v * 10 + (peek() - '0');
        fail_unless(v <= 1000, "repeat count exceeds 1000");
        ++pos_;
      }
      return pos_ > start;
    };
    if (!number(lo)) { pos_ = save; return false; }
    hi = lo;
    if (accept(',')) {
      if (!number(hi)) hi = -1;
    }
    if (!accept('}')) { pos_ = save; return false; }
    fail_unless(hi < 0 || hi >= lo, "bad repetition range");
    return true;
  }

  NodePtr parse_atom(int depth) {
    const uint32_t c = p_[pos_++];
    switch (c) {
      case '(': return parse_group(depth);
      case '[': return make_set(parse_class());
      case '.': {
        CharSet s;
        if (flags_.dot_nl) {
          s.negated = true;  // nothing excluded
        } else {
          s.ranges.push_back({'\n', '\n'});
          s.negated = true;
        }
        return make_set(s);
      }
      case '^': return make_assert(flags_.multi_line ? AssertKind::begin_line : AssertKind::begin_text);
      case '$': return make_assert(flags_.multi_line ? AssertKind::end_line : AssertKind::end_text);
      case '\\': return parse_escape_atom();
      case '*': case '+': case '?': fail_unless(false, "missing argument to repetition operator"); break;
      case ')': fail_unless(false, "unexpected ')'"); break;
      default: break;
    }
    return make_set(single(c));
  }

  NodePtr make_assert(AssertKind k) {
    auto n = make(RegexNode::Kind::assertion);
    n->assertion = k;
    return n;
  }

  NodePtr parse_group(int depth) {
    if (accept('?')) {
      if (accept('P') || (!at_end() && peek() == '<')) {  // named group (?P<name>...) or (?<name>...)
        fail_unless(accept('<'), "bad named group");
        while (!at_end() && peek() != '>') ++pos_;
        fail_unless(accept('>'), "bad named group");
      } else {
        Flags f = flags_;
        bool on = true;
        while (!at_end() && peek() != ':' && peek() != ')') {
          uint32_t ch = p_[pos_++];
          if (ch == '-') on = false;
          else if (ch == 'i') f.fold = on;
          else if (ch == 's') f.dot_nl = on;
          else if (ch == 'm') f.multi_line = on;
          else if (ch == 'U') {}
          else fail_unless(false, "unsupported group flag");
        }
        fail_unless(!at_end(), "missing ')'");
        if (accept(')')) {  // (?flags): applies to the rest of the enclosing group
          flags_ = f;
          return nullptr;
        }
        accept(':');
        const Flags saved = flags_;
        flags_ = f;
        NodePtr inner = parse_alternation(depth + 1);
        flags_ = saved;
        fail_unless(accept(')'), "missing ')'");
        return inner;
      }
    }
    NodePtr inner = parse_alternation(depth + 1);
    fail_unless(accept(')'), "missing ')'");
    return inner;
  }

  // Perl classes \d \w \s and their negations, as ranges (ASCII, as in RE2).
  static bool perl_class(uint32_t c, CharSet& out, bool& negated) {
    uint32_t lc = c | 0x20;
    if (lc != 'd' && lc != 'w' && lc != 's') return false;
    negated = c != lc;
    if (lc == 'd') out.ranges.push_back({'0', '9'});
    if (lc == 'w') {
      out.ranges.push_back({'0', '9'});
      out.ranges.push_back({'A', 'Z'});
      out.ranges.push_back({'a', 'z'});
      out.ranges.push_back({'_', '_'});
    }
    if (lc == 's') {
      out.ranges.push_back({'\t', '\n'});
      out.ranges.push_back({'\f', '\r'});
      out.ranges.push_back({' ', ' '});
    }
    return true;
  }

  // A single escaped character (after the backslash); false if it is not a plain character escape.
  bool escaped_char(uint32_t c, uint32_t& out) {
    switch (c) {
      case 'n': out = '\n'; return true;
      case 't': out = '\t'; return true;
      case 'r': out = '\r'; return true;
      case 'f': out = '\f'; return true;
      case 'v': out = '\v'; return true;
      case 'a': out = '\a'; return true;
      case 'x': {
        uint32_t v = 0;
        auto hex = [&](uint32_t h, uint32_t& d) {
          if (h >= '0' && h <= '9') d = h - '0';
          else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f') d = (h | 0x20) - 'a' + 10;
          else return false;
          return true;
        };
        uint32_t d = 0;
        if (accept('{')) {
          int digits = 0;
          while (!at_end() && peek() != '}') {
            fail_unless(hex(p_[pos_++], d) && ++digits <= 8, "bad \\x{...} escape");
            v = v * 16 + d;
          }
          fail_unless(accept('}') && digits > 0, "bad \\x{...} escape");
        } else {
          for (int k = 0; k < 2; ++k) {
            fail_unless(!at_end() && hex(p_[pos_++], d), "bad \\x escape");
            v = v * 16 + d;
          }
        }
        out = v;
        return true;
      }
      default:
        if (c < 128 && !std::isalnum(static_cast<int>(c))) {  // escaped punctuation
          out = c;
          return true;
        }
        return false;
    }
  }

  NodePtr parse_escape_atom() {
    fail_unless(!at_end(), "trailing backslash");
    const uint32_t c = p_[pos_++];
    CharSet set;
    bool negated = false;
    if (perl_class(c, set, negated)) {
      set.negated = negated;
      return make_set(set);
    }
    if (c == 'b') return make_assert(AssertKind::word_boundary);
    if (c == 'B') return make_assert(AssertKind::not_word_boundary);
    if (c == 'A') return make_assert(AssertKind::begin_text);
    if (c == 'z') return make_assert(AssertKind::end_text);
    if (c == 'Q') {  // \Q...\E literal text
      auto cat = make(RegexNode::Kind::concat);
      while (!at_end() && !(peek() == '\\' && pos_ + 1 < p_.size() && p_[pos_ + 1] == 'E'))
        cat->children.push_back(make_set(single(p_[pos_++])));
      if (!at_end()) pos_ += 2;
      return cat;
    }
    uint32_t lit;
    fail_unless(escaped_char(c, lit), "unsupported escape sequence");
    return make_set(single(lit));
  }

  CharSet parse_class() {
    CharSet set;
    set.negated = accept('^');
    bool first = true;
    while (true) {
      fail_unless(!at_end(), "missing ']'");
      if (peek() == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      // [:name:]
      if (peek() == '[' && pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
        size_t close = pos_ + 2;
        while (close + 1 < p_.size() && !(p_[close] == ':' && p_[close + 1] == ']')) ++close;
        fail_unless(close + 1 < p_.size(), "bad [:class:]");
        std::string name(p_.begin() + static_cast<std::ptrdiff_t>(pos_ + 2), p_.begin() + static_cast<std::ptrdiff_t>(close));
        pos_ = close + 2;
        add_posix(name, set);
        continue;
      }
      uint32_t lo;
      if (accept('\\')) {
        fail_unless(!at_end(), "trailing backslash");
        uint32_t c = p_[pos_++];
        CharSet perl;
        bool neg = false;
        if (perl_class(c, perl, neg)) {
          fail_unless(!neg, "negated class escapes inside [...] are not supported");
          set.ranges.insert(set.ranges.end(), perl.ranges.begin(), perl.ranges.end());
          continue;
        }
        fail_unless(escaped_char(c, lo), "unsupported escape in character class");
      } else {
        lo = p_[pos_++];
      }
      uint32_t hi = lo;
      if (pos_ + 1 < p_.size() && peek() == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        if (accept('\\')) {
          fail_unless(!at_end(), "trailing backslash");
          fail_unless(escaped_char(p_[pos_++], hi), "unsupported escape in character class");
        } else {
          hi = p_[pos_++];
        }
        fail_unless(hi >= lo, "bad character class range");
      }
      set.ranges.push_back({lo, hi});
    }
    return set;
  }

  void add_posix(const std::string& name, CharSet& set) {
    auto add = [&](uint32_t a, uint32_t b) { set.ranges.push_back({a, b}); };
    if (name == "alpha") { add('A', 'Z'); add('a', 'z'); }
    else if (name == "digit") { add('0', '9'); }
    else if (name == "alnum") { add('0', '9'); add('A', 'Z'); add('a', 'z'); }
    else if (name == "upper") { add('A', 'Z'); }
    else if (name == "lower") { add('a', 'z'); }
    else if (name == "space") { add('\t', '\r'); add(' ', ' '); }
    else if (name == "xdigit") { add('0', '9'); add('A', 'F'); add('a', 'f'); }
    else if (name == "punct") { add('!', '/'); add(':', '@'); add('[', '`'); add('{', '~'); }
    else if (name == "word") { add('0', '9'); add('A', 'Z'); add('a', 'z'); add('_', '_'); }
    else if (name == "blank") { add('\t', '\t'); add(' ', ' '); }
    else if (name == "cntrl") { add(0, 31); add(127, 127); }
    else if (name == "print") { add(' ', '~'); }
    else if (name == "graph") { add('!', '~'); }
    else if (name == "ascii") { add(0, 127); }
    else fail_unless(false, "unknown [:class:] name");
  }

  std::vector<uint32_t> p_;
  std::string pattern_;
  size_t pos_ = 0;
  Flags flags_;
};

// NFA program.
struct Inst {
  enum class Op { set, split, jump, assertion, match } op = Op::match;
  const CharSet* set = nullptr;
  int64_t x = 0, y = 0;  // jump targets
  AssertKind assertion = AssertKind::begin_text;
};

class RegexProgram {
 public:
  explicit RegexProgram(const RegexNode& root, const std::string& pattern) : pattern_(pattern) {
    compile(root);
    emit({Inst::Op::match});
  }

  bool full_match(const std::string& text) const {
    const std::vector<uint32_t> in = decode_utf8(text);
    const int64_t n = static_cast<int64_t>(in.size());
    std::vector<int64_t> mark(prog_.size(), -1);
    std::vector<int64_t> cur, next, stack;
    add(0, 0, in, cur, mark, stack);
    for (int64_t i = 0; i < n && !cur.empty(); ++i) {
      next.clear();
      for (int64_t pc : cur) {
        const Inst& ins = prog_[pc];
        if (ins.op == Inst::Op::set && ins.set->contains(in[i])) add(pc + 1, i + 1, in, next, mark, stack);
      }
      std::swap(cur, next);
    }
    for (int64_t pc : cur)
      if (prog_[pc].op == Inst::Op::match) return true;
    return false;
  }

 private:
  static bool is_word(uint32_t c) { return c < 128 && (std::isalnum(static_cast<int>(c)) || c == '_'); }

  bool assertion_holds(AssertKind k, int64_t pos, const std::vector<uint32_t>& in) const {
    const int64_t n = static_cast<int64_t>(in.size());
    switch (k) {
      case AssertKind::begin_text: return pos == 0;
      case AssertKind::end_text: return pos == n;
      case AssertKind::begin_line: return pos == 0 || in[pos - 1] == '\n';
      case AssertKind::end_line: return pos == n || in[pos] == '\n';
      case AssertKind::word_boundary:
      case AssertKind::not_word_boundary: {
        bool before = pos > 0 && is_word(in[pos - 1]);
        bool after = pos < n && is_word(in[pos]);
        return (before != after) == (k == AssertKind::word_boundary);
      }
    }
    return false;
  }

  // Adds pc and everything reachable by empty moves at input position `pos` (iteratively).
  void add(int64_t pc0, int64_t pos, const std::vector<uint32_t>& in, std::vector<int64_t>& list,
           std::vector<int64_t>& mark, std::vector<int64_t>& stack) const {
    stack.assign(1, pc0);
    while (!stack.empty()) {
      int64_t pc = stack.back();
      stack.pop_back();
      if (mark[pc] == pos) continue;
      mark[pc] = pos;
      const Inst& ins = prog_[pc];
      switch (ins.op) {
        case Inst::Op::jump: stack.push_back(ins.x); break;
        case Inst::Op::split:
          stack.push_back(ins.y);
          stack.push_back(ins.x);
          break;
        case Inst::Op::assertion:
          if (assertion_holds(ins.assertion, pos, in)) stack.push_back(pc + 1);
          break;
        default: list.push_back(pc); break;
      }
    }
  }

  int64_t emit(Inst i) {
    HWOPT_KCHECK(prog_.size() < 200000, "attribute 'pattern' = '{}' is too large once repeats are expanded", pattern_);
    prog_.push_back(i);
    return static_cast<int64_t>(prog_.size()) - 1;
  }
  int64_t here() const { return static_cast<int64_t>(prog_.size()); }

  void compile(const RegexNode& n) {
    switch (n.kind) {
      case RegexNode::Kind::empty: break;
      case RegexNode::Kind::set: {
        Inst i{Inst::Op::set};
        i.set = &n.set;
        emit(i);
        break;
      }
      case RegexNode::Kind::assertion: {
        Inst i{Inst::Op::assertion};
        i.assertion = n.assertion;
        emit(i);
        break;
      }
      case RegexNode::Kind::concat:
        for (const auto& c : n.children) compile(*c);
        break;
      case RegexNode::Kind::alternate: {
        std::vector<int64_t> jumps;
        for (size_t k = 0; k + 1 < n.children.size(); ++k) {
          int64_t split = emit({Inst::Op::split});
          prog_[split].x = here();
          compile(*n.children[k]);
          jumps.push_back(emit({Inst::Op::jump}));
          prog_[split].y = here();
        }
        compile(*n.children.back());
        for (int64_t j : jumps) prog_[j].x = here();
        break;
      }
      case RegexNode::Kind::repeat: {
        const RegexNode& body = *n.children[0];
        for (int64_t k = 0; k < n.min; ++k) compile(body);
        if (n.max < 0) {  // L: split body, out; body; jump L
          int64_t split = emit({Inst::Op::split});
          prog_[split].x = here();
          compile(body);
          int64_t j = emit({Inst::Op::jump});
          prog_[j].x = split;
          prog_[split].y = here();
        } else {
          std::vector<int64_t> splits;
          for (int64_t k = n.min; k < n.max; ++k) {
            int64_t split = emit({Inst::Op::split});
            prog_[split].x = here();
            splits.push_back(split);
            compile(body);
          }
          for (int64_t s : splits) prog_[s].y = here();
        }
        break;
      }
    }
  }

  std::vector<Inst> prog_;
  std::string pattern_;
};

void ref_regex_full_match(KernelContext& ctx) {
  const Tensor x = string_input(ctx, 0, "X").contiguous();
  HWOPT_KCHECK(ctx.has_attr("pattern"), "attribute 'pattern' is required");
  const std::string pattern = ctx.attr_string("pattern", "");
  RegexParser parser(pattern);
  NodePtr root = parser.parse();
  RegexProgram program(*root, pattern);
  Tensor& out = ctx.allocate_output(0, DType::boolean, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.data<bool>()[i] = program.full_match(x.data<std::string>()[i]);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("StringNormalizer", "", 10, ref_string_normalizer);
HWOPT_REGISTER_REF_KERNEL("StringConcat", "", 20, ref_string_concat);
HWOPT_REGISTER_REF_KERNEL("StringSplit", "", 20, ref_string_split);
HWOPT_REGISTER_REF_KERNEL("RegexFullMatch", "", 20, ref_regex_full_match);

}  // namespace hwopt::reference
