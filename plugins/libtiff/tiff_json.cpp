// A small recursive-descent JSON reader/writer for image descriptions.
#include "tiff_json.hpp"

#include <imio/metadata.hpp>

#include <cctype>
#include <cmath>
#include <utility>
#include <cstdlib>

#include <fmt/format.h>

namespace imio::tiff {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  std::optional<Value> value(int depth) {
    if (depth > 64) return std::nullopt;  // descriptions are flat; deep nesting is hostile
    skip();
    if (i_ >= t_.size()) return std::nullopt;
    const char c = t_[i_];
    if (c == '{') {
      auto d = object(depth);
      if (!d) return std::nullopt;
      return Value(std::move(*d));
    }
    if (c == '[') return array(depth);
    if (c == '"') {
      auto s = string();
      if (!s) return std::nullopt;
      return Value(std::move(*s));
    }
    if (word("true")) return Value(true);
    if (word("false")) return Value(false);
    if (word("null")) return Value();
    return number();
  }

  std::optional<Dict> object(int depth) {
    Dict d;
    ++i_;
    skip();
    if (peek('}')) return d;
    for (;;) {
      skip();
      auto key = string();
      if (!key) return std::nullopt;
      skip();
      if (!peek(':')) return std::nullopt;
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      d.set(std::move(*key), std::move(*v));
      skip();
      if (peek('}')) return d;
      if (!peek(',')) return std::nullopt;
    }
  }

  bool at_end() {
    skip();
    return i_ == t_.size();
  }

 private:
  std::optional<Value> array(int depth) {
    Value::List l;
    ++i_;
    skip();
    if (peek(']')) return Value(std::move(l));
    for (;;) {
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      l.push_back(std::move(*v));
      skip();
      if (peek(']')) return Value(std::move(l));
      if (!peek(',')) return std::nullopt;
    }
  }

  std::optional<std::string> string() {
    if (i_ >= t_.size() || t_[i_] != '"') return std::nullopt;
    std::string out;
    for (++i_; i_ < t_.size(); ++i_) {
      const char c = t_[i_];
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (++i_ >= t_.size()) return std::nullopt;
      switch (t_[i_]) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (i_ + 4 >= t_.size()) return std::nullopt;
          const unsigned cp = static_cast<unsigned>(std::strtoul(std::string(t_.substr(i_ + 1, 4)).c_str(), nullptr, 16));
          i_ += 4;
          // UTF-8 for the basic plane (surrogates are kept as given).
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: out += t_[i_];
      }
    }
    return std::nullopt;
  }

  std::optional<Value> number() {
    const std::size_t start = i_;
    bool real = false;
    while (i_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[i_])) || t_[i_] == '-' || t_[i_] == '+' ||
                              t_[i_] == '.' || t_[i_] == 'e' || t_[i_] == 'E')) {
      real = real || t_[i_] == '.' || t_[i_] == 'e' || t_[i_] == 'E';
      ++i_;
    }
    if (i_ == start) return std::nullopt;
    const std::string s(t_.substr(start, i_ - start));
    char* end = nullptr;
    if (!real) {
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (end == s.c_str() + s.size()) return Value(static_cast<std::int64_t>(v));
    }
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return std::nullopt;
    return Value(d);
  }

  bool word(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool peek(char c) {
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void skip() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) ++i_;
  }

  std::string_view t_;
  std::size_t i_ = 0;
};

// Strings are escaped as the core's JSON writer escapes them.
void dump_string(std::string& out, const std::string& s) { out += to_json(Value(s)); }

void dump(std::string& out, const Value& v) {
  if (v.is_none()) {
    out += "null";
  } else if (v.is<bool>()) {
    out += v.get<bool>() ? "true" : "false";
  } else if (v.is<std::int64_t>()) {
    out += std::to_string(v.get<std::int64_t>());
  } else if (v.is<double>()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) throw ArgumentError("metadata: non-finite numbers have no JSON form");
    std::string s = fmt::format("{}", d);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    out += s;
  } else if (v.is<std::string>()) {
    dump_string(out, v.ref<std::string>());
  } else if (v.is<Value::List>()) {
    out += '[';
    bool first = true;
    for (const Value& e : v.ref<Value::List>()) {
      if (!std::exchange(first, false)) out += ", ";
      dump(out, e);
    }
    out += ']';
  } else if (v.is<Dict>()) {
    out += '{';
    bool first = true;
    for (const auto& [k, e] : v.ref<Dict>()) {
      if (!std::exchange(first, false)) out += ", ";
      dump_string(out, k);
      out += ": ";
      dump(out, e);
    }
    out += '}';
  } else {
    throw ArgumentError(fmt::format("metadata: a {} value cannot be stored as JSON", v.type_name()));
  }
}

}  // namespace

std::optional<Dict> parse_json_object(std::string_view text) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || text[start] != '{') return std::nullopt;
  Parser q(text.substr(start));
  auto d = q.object(0);
  if (!d || !q.at_end()) return std::nullopt;
  return d;
}

std::string dump_json(const Value& value) {
  std::string out;
  dump(out, value);
  return out;
}

}  // namespace imio::tiff
