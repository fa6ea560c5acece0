// A small recursive-descent JSON reader (RFC 8259, plus Python's NaN and
// Infinity) producing imio::Value.
#include "json_input.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

namespace imio::cli {
namespace {

// Deeper documents are refused rather than risking the stack.
constexpr int max_depth = 256;

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  std::optional<Value> document() {
    auto v = value(0);
    skip_space();
    if (!v || pos_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  std::optional<Value> value(int depth) {
    if (depth > max_depth) return std::nullopt;
    skip_space();
    if (pos_ >= s_.size()) return std::nullopt;
    switch (s_[pos_]) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': {
        auto str = string();
        if (!str) return std::nullopt;
        return Value(std::move(*str));
      }
      case 't': return literal("true", Value(true));
      case 'f': return literal("false", Value(false));
      case 'n': return literal("null", Value());
      case 'N': return literal("NaN", Value(std::numeric_limits<double>::quiet_NaN()));
      case 'I': return literal("Infinity", Value(std::numeric_limits<double>::infinity()));
      default: return number();
    }
  }

  std::optional<Value> literal(std::string_view word, Value v) {
    if (s_.substr(pos_, word.size()) != word) return std::nullopt;
    pos_ += word.size();
    return v;
  }

  std::optional<Value> object(int depth) {
    ++pos_;  // '{'
    Dict dict;
    skip_space();
    if (consume('}')) return Value(std::move(dict));
    for (;;) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') return std::nullopt;
      auto key = string();
      if (!key) return std::nullopt;
      skip_space();
      if (!consume(':')) return std::nullopt;
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      dict.set(std::move(*key), std::move(*v));
      skip_space();
      if (consume('}')) return Value(std::move(dict));
      if (!consume(',')) return std::nullopt;
    }
  }

  std::optional<Value> array(int depth) {
    ++pos_;  // '['
    Value::List list;
    skip_space();
    if (consume(']')) return Value(std::move(list));
    for (;;) {
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      list.push_back(std::move(*v));
      skip_space();
      if (consume(']')) return Value(std::move(list));
      if (!consume(',')) return std::nullopt;
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  or  -Infinity
  std::optional<Value> number() {
    const std::size_t start = pos_;
    consume('-');
    if (s_.substr(pos_, 8) == "Infinity") {
      pos_ += 8;
      return Value(-std::numeric_limits<double>::infinity());
    }
    if (consume('0')) {
      // no leading zeros
    } else if (digits() == 0) {
      return std::nullopt;
    }
    bool integral = true;
    if (consume('.')) {
      integral = false;
      if (digits() == 0) return std::nullopt;
    }
    if (consume('e') || consume('E')) {
      integral = false;
      if (!consume('+')) consume('-');
      if (digits() == 0) return std::nullopt;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(first, last, i);
      if (ec == std::errc() && end == last) return Value(i);
      // beyond int64: fall through to a float, as the closest imio can hold
    }
    // strtod (the C locale: the CLI never calls setlocale) gives ±inf on
    // overflow and 0 or a subnormal on underflow, as Python's float() does.
    const std::string copy(first, last);
    return Value(std::strtod(copy.c_str(), nullptr));
  }

  std::size_t digits() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ - start;
  }

  std::optional<std::string> string() {
    ++pos_;  // '"'
    std::string out;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size() || !escape(out)) return std::nullopt;
    }
    return std::nullopt;  // unterminated
  }

  bool escape(std::string& out) {
    const char c = s_[pos_++];
    switch (c) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': return unicode_escape(out);
      default: return false;
    }
  }

  // \uXXXX, with UTF-16 surrogate pairs; a lone surrogate has no UTF-8 form.
  bool unicode_escape(std::string& out) {
    auto cp = hex4();
    if (!cp) return false;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return false;
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") return false;
      pos_ += 2;
      auto low = hex4();
      if (!low || *low < 0xDC00 || *low > 0xDFFF) return false;
      cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
    }
    append_utf8(out, *cp);
    return true;
  }

  std::optional<char32_t> hex4() {
    if (pos_ + 4 > s_.size()) return std::nullopt;
    unsigned v = 0;
    const char* first = s_.data() + pos_;
    const auto [end, ec] = std::from_chars(first, first + 4, v, 16);
    if (ec != std::errc() || end != first + 4) return std::nullopt;
    pos_ += 4;
    return static_cast<char32_t>(v);
  }

  static void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
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

std::optional<Value> parse_json(std::string_view text) { return Reader(text).document(); }

Value parse_kwarg_value(std::string_view text) {
  if (text == "...") return Value(all);
  if (auto v = parse_json(text)) return std::move(*v);
  return Value(std::string(text));
}

}  // namespace imio::cli
