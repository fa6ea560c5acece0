// JSON rendering of Values and Metadata (the `imio meta` encoding, design/CLI.md).
#include <imio/metadata.hpp>

#include <cmath>

#include <fmt/format.h>

#include "sha256.hpp"

namespace imio {
namespace {

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;  // UTF-8 passes through; invalid bytes are the producer's business
        }
    }
  }
  out += '"';
}

void append(std::string& out, const Value& value);

void append_dict(std::string& out, const Dict& dict) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : dict) {
    if (!first) out += ", ";
    first = false;
    append_string(out, k);
    out += ": ";
    append(out, v);
  }
  out += '}';
}

void append_bytes(std::string& out, const Bytes& b) {
  const std::span<const std::byte> all(b);
  if (b.size() <= 64) {
    out += fmt::format(R"({{"bytes_hex": "{}", "len": {}}})", detail::to_hex(all), b.size());
    return;
  }
  const auto digest = detail::sha256(all);
  out += fmt::format(R"({{"bytes_len": {}, "sha256": "{}", "head_hex": "{}"}})", b.size(),
                     detail::to_hex(std::as_bytes(std::span(digest))), detail::to_hex(all.first(16)));
}

void append_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += R"({"float": "nan"})";
  } else if (std::isinf(d)) {
    out += d > 0 ? R"({"float": "inf"})" : R"({"float": "-inf"})";
  } else {
    std::string s = fmt::format("{}", d);  // shortest round-trip form
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    out += s;
  }
}

void append(std::string& out, const Value& value) {
  struct Visitor {
    std::string& out;
    void operator()(Value::None) const { out += "null"; }
    void operator()(bool b) const { out += b ? "true" : "false"; }
    void operator()(std::int64_t i) const { out += std::to_string(i); }
    void operator()(double d) const { append_double(out, d); }
    void operator()(const std::string& s) const { append_string(out, s); }
    void operator()(const Bytes& b) const { append_bytes(out, b); }
    void operator()(const Value::List& l) const {
      out += '[';
      for (std::size_t i = 0; i < l.size(); ++i) {
        if (i > 0) out += ", ";
        append(out, l[i]);
      }
      out += ']';
    }
    void operator()(const Dict& d) const { append_dict(out, d); }
    void operator()(All) const { out += "\"...\""; }
  };
  std::visit(Visitor{out}, value.storage());
}

}  // namespace

std::string to_json(const Value& value) {
  std::string out;
  append(out, value);
  return out;
}

std::string to_json(const Metadata& metadata) {
  std::string out;
  append_dict(out, metadata);
  return out;
}

}  // namespace imio
