// exiftool (Debian's libimage-exiftool-perl) as the independent reader of
// EXIF, XMP, IPTC and ICC: its `-j -G1 -n -b` output, and a comparison of
// imio's parsed values with exiftool's for the tags both name.
#pragma once

#include <imio/json.hpp>
#include <imio/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "python_oracle.hpp"
#include "test_util.hpp"

// Skip the current test case with a message when exiftool (and, for the
// second form, Pillow) is missing: the oracle tests then say why they did
// not run instead of passing silently.
#define REQUIRE_EXIFTOOL()                                                                        \
  if (!imio_test::exiftool_available()) {                                                         \
    WARN("skipped: exiftool is not installed (Debian: apt-get install libimage-exiftool-perl)"); \
    return;                                                                                       \
  }

#define REQUIRE_EXIFTOOL_AND_PILLOW()                                                                 \
  if (!imio_test::exiftool_available() || !imio_test::python_has("PIL")) {                            \
    WARN("skipped: needs exiftool (libimage-exiftool-perl) and Pillow for " << imio_test::python()); \
    return;                                                                                           \
  }

namespace imio_test {

/// Whether `exiftool` runs (cached).
inline bool exiftool_available() {
  static const bool ok = std::system("exiftool -ver >/dev/null 2>&1") == 0;
  return ok;
}

/// exiftool's `-j -G1 -n -b` objects for `files` (one per file, in order).
/// -n turns off print conversion only: exiftool still applies its value
/// conversions (ApertureValue as an f-number, GPSLatitude in degrees…).
inline std::vector<imio::Dict> exiftool_json(const std::vector<std::filesystem::path>& files,
                                             const std::string& extra_args = "") {
  TempDir dir;
  const auto list = dir / "files.txt";
  const auto out = dir / "out.json";
  {
    std::string names;
    for (const auto& f : files) names += f.string() + "\n";
    write_file(list, to_bytes(names));
  }
  const std::string cmd = "exiftool -j -G1 -n -b -charset filename=utf8 " + extra_args + " -@ \"" + list.string() +
                          "\" > \"" + out.string() + "\" 2>/dev/null";
  (void)std::system(cmd.c_str());  // exit status 1 when one file has an error; the JSON still lists it
  const imio::Value v = imio::from_json(to_string(read_file(out)));
  std::vector<imio::Dict> result;
  for (const imio::Value& o : v.ref<imio::Value::List>()) result.push_back(o.ref<imio::Dict>());
  return result;
}

inline std::optional<imio::Bytes> from_base64(std::string_view s) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  imio::Bytes out;
  unsigned acc = 0;
  int bits = 0;
  for (const char c : s) {
    if (c == '=') break;
    const int d = digit(c);
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::byte>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

/// The numbers in a value exiftool printed: a number, or a string of
/// space-separated numbers ("2 3 0 0").
inline std::optional<std::vector<double>> exiftool_numbers(const imio::Value& v) {
  if (v.is<std::int64_t>()) return std::vector<double>{static_cast<double>(v.get<std::int64_t>())};
  if (v.is<double>()) return std::vector<double>{v.get<double>()};
  if (!v.is<std::string>()) return std::nullopt;
  std::istringstream in(v.ref<std::string>());
  std::vector<double> out;
  std::string word;
  while (in >> word) {
    char* end = nullptr;
    const double d = std::strtod(word.c_str(), &end);
    if (end == word.c_str() || *end != '\0') return std::nullopt;
    out.push_back(d);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

/// The numbers in one of imio's values: a number, a list of numbers, bytes.
inline std::optional<std::vector<double>> imio_numbers(const imio::Value& v) {
  if (v.is<std::int64_t>()) return std::vector<double>{static_cast<double>(v.get<std::int64_t>())};
  if (v.is<double>()) return std::vector<double>{v.get<double>()};
  std::vector<double> out;
  if (v.is<imio::Bytes>()) {
    for (const std::byte b : v.ref<imio::Bytes>()) out.push_back(std::to_integer<int>(b));
    return out;
  }
  if (!v.is<imio::Value::List>()) return std::nullopt;
  for (const imio::Value& e : v.ref<imio::Value::List>()) {
    const auto n = imio_numbers(e);
    if (!n || n->size() != 1) return std::nullopt;
    out.push_back(n->front());
  }
  return out;
}

inline bool close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= 1e-6 * std::max({1e-6, std::fabs(a), std::fabs(b)});
}

inline bool same_numbers(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!close(a[i], b[i])) return false;
  }
  return true;
}

inline std::string trim_right(std::string s, std::string_view chars) {
  while (!s.empty() && chars.find(s.back()) != std::string_view::npos) s.pop_back();
  return s;
}

/// Whether imio's `mine` is the value exiftool printed as `theirs`: numbers
/// within 1e-6 relative (exiftool prints about ten digits), NaN (a zero
/// denominator) as exiftool's "undef"/"inf", bytes as exiftool's base64, its
/// numbers or its text, text as text or as the number exiftool made of it.
inline bool same_as_exiftool(const imio::Value& mine, const imio::Value& theirs) {
  if (theirs.is<std::string>()) {
    const std::string& t = theirs.ref<std::string>();
    if (t.rfind("base64:", 0) == 0) {
      const auto b = from_base64(std::string_view(t).substr(7));
      if (mine.is<imio::Bytes>()) return b && *b == mine.ref<imio::Bytes>();
      if (mine.is<std::string>()) return b && to_string(*b) == mine.ref<std::string>();
      return false;
    }
    if (mine.is<double>() && std::isnan(mine.get<double>())) return t == "undef" || t == "inf" || t == "-inf";
    if (mine.is<std::string>()) return mine.ref<std::string>() == t;
    if (mine.is<imio::Bytes>()) {  // the text without its trailing NULs
      const imio::Bytes& b = mine.ref<imio::Bytes>();
      std::size_t n = b.size();
      while (n > 0 && b[n - 1] == std::byte{0}) --n;
      // Compared byte by byte: a trimmed copy compared with == made g++ 12
      // see a memcmp of SIZE_MAX bytes (-Wstringop-overread, a false alarm).
      if (n == t.size() && std::equal(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n), t.begin(),
                                      [](std::byte x, char c) { return x == static_cast<std::byte>(c); })) {
        return true;
      }
    }
  }
  if (mine.is<std::string>()) {
    const auto t = exiftool_numbers(theirs);
    char* end = nullptr;
    const double d = std::strtod(mine.ref<std::string>().c_str(), &end);
    return t && t->size() == 1 && end != mine.ref<std::string>().c_str() && *end == '\0' && close(d, t->front());
  }
  const auto a = imio_numbers(mine);
  const auto b = exiftool_numbers(theirs);
  return a && b && same_numbers(*a, *b);
}

/// Tallies of one comparison of imio's entries with exiftool's.
struct OracleTally {
  int compared = 0;    ///< tags both name
  int equal = 0;       ///< of those, the same value
  int imio_only = 0;   ///< tags imio names that exiftool does not print
  int exiftool_only = 0;  ///< tags exiftool prints that imio does not name
  std::vector<std::string> mismatches;  ///< "file group:tag: imio … exiftool …"
};

}  // namespace imio_test
