// JSON in and out of Value (<imio/json.hpp>): the `imio meta` encoding and
// strict RFC 8259 on the way out, a recursive-descent reader on the way in.
#include <imio/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "sha256.hpp"
#include "text_bytes.hpp"

namespace imio {
namespace {

// ---------------------------------------------------------------- writing

class Writer {
 public:
  explicit Writer(JsonStyle style) : style_(style) {}

  void value(const Value& v) {
    struct Visitor {
      Writer& w;
      void operator()(Value::None) const { w.out_ += "null"; }
      void operator()(bool b) const { w.out_ += b ? "true" : "false"; }
      void operator()(std::int64_t i) const { w.out_ += std::to_string(i); }
      void operator()(double d) const { w.number(d); }
      void operator()(const std::string& s) const { w.string(s); }
      void operator()(const Bytes& b) const { w.bytes(b); }
      void operator()(const Value::List& l) const {
        w.out_ += '[';
        for (std::size_t i = 0; i < l.size(); ++i) {
          if (i > 0) w.out_ += ", ";
          w.value(l[i]);
        }
        w.out_ += ']';
      }
      void operator()(const Dict& d) const { w.dict(d); }
      void operator()(All) const {
        if (w.style_ == JsonStyle::strict) throw ArgumentError("'...' (imio::all) has no JSON form");
        w.out_ += "\"...\"";
      }
    };
    std::visit(Visitor{*this}, v.storage());
  }

  void dict(const Dict& d) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : d) {
      if (!std::exchange(first, false)) out_ += ", ";
      string(k);
      out_ += ": ";
      value(v);
    }
    out_ += '}';
  }

  std::string take() { return std::move(out_); }

 private:
  void string(std::string_view s) {
    out_ += '"';
    for (const char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            out_ += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
          } else {
            out_ += c;  // UTF-8 passes through; invalid bytes are the producer's business
          }
      }
    }
    out_ += '"';
  }

  void number(double d) {
    if (std::isfinite(d)) {
      std::string s = fmt::format("{}", d);  // shortest round-trip form
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      out_ += s;
      return;
    }
    if (style_ == JsonStyle::strict) throw ArgumentError(fmt::format("the float {} has no JSON form", d));
    out_ += std::isnan(d) ? R"({"float": "nan"})" : d > 0 ? R"({"float": "inf"})" : R"({"float": "-inf"})";
  }

  void bytes(const Bytes& b) {
    if (style_ == JsonStyle::strict) throw ArgumentError(fmt::format("bytes ({} of them) have no JSON form", b.size()));
    const std::span<const std::byte> all(b);
    if (b.size() <= 64) {
      out_ += fmt::format(R"({{"bytes_hex": "{}", "len": {}}})", detail::to_hex(all), b.size());
      return;
    }
    const auto digest = detail::sha256(all);
    out_ += fmt::format(R"({{"bytes_len": {}, "sha256": "{}", "head_hex": "{}"}})", b.size(),
                        detail::to_hex(std::as_bytes(std::span(digest))), detail::to_hex(all.first(16)));
  }

  JsonStyle style_;
  std::string out_;
};

// ---------------------------------------------------------------- reading

// Deeper documents are refused rather than risking the stack.
constexpr int max_depth = 256;

// Thrown inside the reader only; from_json turns it into an ArgumentError
// and try_from_json into nullopt.
struct Syntax {
  std::size_t offset;
  const char* expected;
};

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  Value document() {
    Value v = value(0);
    skip_space();
    if (pos_ != s_.size()) fail("the end of the document");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* expected) const { throw Syntax{pos_, expected}; }

  Value value(int depth) {
    if (depth > max_depth) fail("at most 256 nested arrays and objects");
    skip_space();
    if (pos_ >= s_.size()) fail("a value");
    switch (s_[pos_]) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return Value(string());
      case 't': return literal("true", Value(true));
      case 'f': return literal("false", Value(false));
      case 'n': return literal("null", Value());
      case 'N': return literal("NaN", Value(std::numeric_limits<double>::quiet_NaN()));
      case 'I': return literal("Infinity", Value(std::numeric_limits<double>::infinity()));
      default: return number();
    }
  }

  Value literal(std::string_view word, Value v) {
    if (s_.substr(pos_, word.size()) != word) fail("a value");
    pos_ += word.size();
    return v;
  }

  Value object(int depth) {
    ++pos_;  // '{'
    Dict dict;
    skip_space();
    if (consume('}')) return Value(std::move(dict));
    for (;;) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("a string key");
      std::string key = string();
      skip_space();
      if (!consume(':')) fail("':'");
      dict.set(std::move(key), value(depth + 1));
      skip_space();
      if (consume('}')) return Value(std::move(dict));
      if (!consume(',')) fail("',' or '}'");
    }
  }

  Value array(int depth) {
    ++pos_;  // '['
    Value::List list;
    skip_space();
    if (consume(']')) return Value(std::move(list));
    for (;;) {
      list.push_back(value(depth + 1));
      skip_space();
      if (consume(']')) return Value(std::move(list));
      if (!consume(',')) fail("',' or ']'");
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  or  -Infinity
  Value number() {
    const std::size_t start = pos_;
    consume('-');
    if (s_.substr(pos_, 8) == "Infinity") {
      pos_ += 8;
      return Value(-std::numeric_limits<double>::infinity());
    }
    if (!consume('0') && digits() == 0) fail("a value");
    bool integral = true;
    if (consume('.')) {
      integral = false;
      if (digits() == 0) fail("a digit after '.'");
    }
    if (consume('e') || consume('E')) {
      integral = false;
      if (!consume('+')) consume('-');
      if (digits() == 0) fail("a digit in the exponent");
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(first, last, i);
      if (ec == std::errc() && end == last) return Value(i);
      // beyond int64: a float, the closest imio can hold (as Python's float())
    }
    // strtod in the C locale (imio never calls setlocale) gives ±inf on
    // overflow and 0 or a subnormal on underflow, as Python's float() does.
    const std::string copy(first, last);
    return Value(std::strtod(copy.c_str(), nullptr));
  }

  std::size_t digits() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ - start;
  }

  std::string string() {
    ++pos_;  // '"'
    std::string out;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("an escaped control character");
      ++pos_;
      if (c != '\\') {
        out += c;
        continue;
      }
      escape(out);
    }
    fail("'\"' closing the string");
  }

  void escape(std::string& out) {
    if (pos_ >= s_.size()) fail("an escape");
    switch (s_[pos_++]) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': unicode_escape(out); return;
      default: --pos_; fail("one of the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u");
    }
  }

  // \uXXXX, with UTF-16 surrogate pairs; a lone surrogate has no UTF-8 form.
  void unicode_escape(std::string& out) {
    char32_t cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("a \\u escape that is not a lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") fail("the low surrogate of a \\u surrogate pair");
      pos_ += 2;
      const char32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("the low surrogate of a \\u surrogate pair");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    text_detail::append_utf8(out, cp);
  }

  char32_t hex4() {
    unsigned v = 0;
    const char* first = s_.data() + pos_;
    if (pos_ + 4 > s_.size()) fail("four hex digits");
    const auto [end, ec] = std::from_chars(first, first + 4, v, 16);
    if (ec != std::errc() || end != first + 4) fail("four hex digits");
    pos_ += 4;
    return static_cast<char32_t>(v);
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string to_json(const Value& value, JsonStyle style) {
  Writer w(style);
  w.value(value);
  return w.take();
}

std::string to_json(const Dict& dict, JsonStyle style) {
  Writer w(style);
  w.dict(dict);
  return w.take();
}

Value from_json(std::string_view text) {
  try {
    return Reader(text).document();
  } catch (const Syntax& e) {
    throw ArgumentError(fmt::format("not JSON: expected {} at byte {}", e.expected, e.offset));
  }
}

std::optional<Value> try_from_json(std::string_view text) {
  try {
    return Reader(text).document();
  } catch (const Syntax&) {
    return std::nullopt;
  }
}

}  // namespace imio
