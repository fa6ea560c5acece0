#include "hdr_header.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

namespace imio::radiance {
namespace {

// A header longer than this is not a picture header (Radiance's own are a
// few hundred bytes; a long VIEW or command history stays far below).
constexpr std::size_t kMaxHeader = 1 << 20;

std::vector<double> numbers(std::string_view text, std::string_view line) {
  std::vector<double> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
    if (i == text.size()) break;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\r') ++j;
    double v = 0;
    const auto r = std::from_chars(text.data() + i, text.data() + j, v);
    if (r.ec != std::errc{} || r.ptr != text.data() + j || !std::isfinite(v)) {
      throw DecodeError(fmt::format("the header line '{}' holds '{}', which is not a number", line, text.substr(i, j - i)));
    }
    out.push_back(v);
    i = j;
  }
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void read_variable(Header& h, std::string_view line) {
  const auto eq = line.find('=');
  if (eq == std::string_view::npos || line.starts_with("#")) return;  // a comment or a command line
  const std::string_view name = trimmed(line.substr(0, eq));
  const std::string_view value = trimmed(line.substr(eq + 1));
  if (name == "FORMAT") {
    h.format = value;
  } else if (name == "EXPOSURE") {
    const auto v = numbers(value, line);
    if (v.size() != 1 || v[0] <= 0) throw DecodeError(fmt::format("the header line '{}' is not a positive EXPOSURE", line));
    h.exposure = h.exposure.value_or(1.0) * v[0];
  } else if (name == "COLORCORR") {
    const auto v = numbers(value, line);
    if (v.size() != 3 || v[0] <= 0 || v[1] <= 0 || v[2] <= 0) throw DecodeError(fmt::format("the header line '{}' is not three positive COLORCORR factors", line));
    std::array<double, 3> c = h.colorcorr.value_or(std::array<double, 3>{1, 1, 1});
    for (std::size_t k = 0; k < 3; ++k) c[k] *= v[k];
    h.colorcorr = c;
  } else if (name == "PRIMARIES") {
    const auto v = numbers(value, line);
    if (v.size() != 8) throw DecodeError(fmt::format("the header line '{}' does not hold 8 PRIMARIES numbers", line));
    std::array<double, 8> p{};
    std::copy(v.begin(), v.end(), p.begin());
    h.primaries = p;
  } else if (name == "PIXASPECT") {
    const auto v = numbers(value, line);
    if (v.size() == 1 && v[0] > 0) h.pixaspect = h.pixaspect.value_or(1.0) * v[0];
  } else if (name == "GAMMA") {
    const auto v = numbers(value, line);
    if (v.size() == 1) h.gamma = v[0];
  } else if (name == "SOFTWARE") {
    h.software = value;
  } else if (name == "VIEW") {
    h.view = h.view ? *h.view + " " + std::string(value) : std::string(value);
  }
}

// "-Y 480 +X 640" and the seven other orders (Radiance: "Resolution String").
bool parse_axis(std::string_view& s, Axis& a) {
  s = trimmed(s);
  if (s.size() < 2 || (s[0] != '+' && s[0] != '-') || (s[1] != 'X' && s[1] != 'Y')) return false;
  a.sign = s[0];
  a.letter = s[1];
  s.remove_prefix(2);
  s = trimmed(s);
  std::size_t n = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec != std::errc{} || n == 0 || n > 0x7fffffff) return false;
  s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
  a.size = n;
  return true;
}

}  // namespace

std::string Header::orientation() const { return fmt::format("{}{} {}{}", major.sign, major.letter, minor.sign, minor.letter); }

bool has_signature(std::span<const std::byte> head) noexcept {
  if (head.size() < 3 || head[0] != std::byte{'#'} || head[1] != std::byte{'?'}) return false;
  const auto c = std::to_integer<char>(head[2]);
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

Header parse_header(std::span<const std::byte> file) {
  const std::string_view text(reinterpret_cast<const char*>(file.data()), std::min(file.size(), kMaxHeader));
  Header h;
  std::size_t pos = 0;
  auto next_line = [&](std::string_view what) {
    const std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      if (text.size() == kMaxHeader) throw DecodeError(fmt::format("the header is longer than {} bytes", kMaxHeader));
      throw DecodeError(fmt::format("the file is truncated: it ends inside the header ({})", what));
    }
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    return line;
  };
  const std::string_view first = trimmed(next_line("the first line"));
  h.program = first.substr(2);
  while (true) {
    const std::string_view line = next_line("the variables");
    if (trimmed(line).empty()) break;
    h.lines.emplace_back(trimmed(line));
    read_variable(h, trimmed(line));
  }
  if (h.format.empty()) h.format = "32-bit_rle_rgbe";  // Radiance's default when FORMAT is absent
  if (h.format != "32-bit_rle_rgbe" && h.format != "32-bit_rle_xyze") {
    throw DecodeError(fmt::format("FORMAT={} is not supported (imio reads 32-bit_rle_rgbe and 32-bit_rle_xyze)", h.format));
  }
  const std::string_view res_line = next_line("the resolution line");
  std::string_view res = res_line;
  if (!parse_axis(res, h.major) || !parse_axis(res, h.minor) || !trimmed(res).empty() || h.major.letter == h.minor.letter) {
    throw DecodeError(fmt::format("the resolution line '{}' is not of the form '-Y height +X width'", trimmed(res_line).substr(0, 80)));
  }
  h.data_offset = pos;
  return h;
}

}  // namespace imio::radiance
