// The normalised photo metadata of a PNG: the blocks PNG carries, found in
// the chunk walk's info and handed to the core's readers.
#include "png_metadata.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace imio::png {
namespace {

constexpr std::string_view kRawProfile = "Raw profile type ";
constexpr std::string_view kXmpNamespace("http://ns.adobe.com/xap/1.0/\0", 29);

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// ImageMagick's raw profile text (its png.c, also exiftool's PNG.pm):
// "\n<name>\n<length, %8lu>\n<hex digits in lines>\n". The length counts
// bytes; digits beyond it are ignored, fewer are a damaged chunk.
Bytes raw_profile(std::string_view key, std::string_view text) {
  const auto fail = [&](const std::string& reason) -> Bytes {
    throw DecodeError(fmt::format("PNG text chunk '{}': {}", key, reason));
  };
  std::size_t pos = 0;
  while (pos < text.size() && is_space(text[pos])) ++pos;
  while (pos < text.size() && text[pos] != '\n') ++pos;  // the profile name
  while (pos < text.size() && is_space(text[pos])) ++pos;
  std::uint64_t length = 0;
  const std::size_t digits = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    length = length * 10 + static_cast<std::uint64_t>(text[pos] - '0');
    if (length > text.size()) return fail(fmt::format("it declares more bytes than its {} characters can hold", text.size()));
    ++pos;
  }
  if (pos == digits) return fail("no byte count after the profile name (ImageMagick's raw profile format)");
  Bytes out;
  out.reserve(static_cast<std::size_t>(length));  // at most half the text, checked above
  int high = -1;
  for (; pos < text.size() && out.size() < length; ++pos) {
    if (is_space(text[pos])) continue;
    const int d = hex_digit(text[pos]);
    if (d < 0) return fail(fmt::format("'{}' at character {} is not a hex digit", text[pos], pos));
    if (high < 0) {
      high = d;
    } else {
      out.push_back(static_cast<std::byte>(high * 16 + d));
      high = -1;
    }
  }
  if (out.size() < length) return fail(fmt::format("it declares {} bytes and holds {}", length, out.size()));
  return out;
}

bool starts_with(const Bytes& b, std::string_view prefix) {
  return b.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b.begin(),
                                                 [](char c, std::byte x) { return std::byte(c) == x; });
}

// The IIM block of a "Raw profile type iptc": ImageMagick stores the
// Photoshop image resources (with or without APP13's "Photoshop 3.0\0"),
// others the IIM datasets themselves.
std::optional<Bytes> iim_of(Bytes profile) {
  constexpr std::string_view kPhotoshop("Photoshop 3.0\0", 14);
  if (starts_with(profile, kPhotoshop)) profile.erase(profile.begin(), profile.begin() + kPhotoshop.size());
  if (starts_with(profile, "8BIM")) return photoshop_resource(profile, 0x0404);
  return profile;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void add_photo_entries(Metadata& m, const Chunks& chunks) {
  if (const Value* x = m.lookup("XML:com.adobe.xmp"); x != nullptr && x->is<std::string>() && !m.contains("xmp")) {
    const std::string& s = x->ref<std::string>();
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    m.set("xmp", Bytes(p, p + s.size()));
  }
  Metadata found;
  for (const auto& [key, value] : m) {
    if (key.rfind(kRawProfile, 0) != 0 || !value.is<std::string>()) continue;
    const std::string type = lower(std::string_view(key).substr(kRawProfile.size()));
    const bool app1 = type == "app1";  // ImageMagick's name for a JPEG APP1 payload: EXIF or XMP
    const char* entry = type == "exif" || app1             ? "exif"
                        : type == "iptc"                 ? "iptc"
                        : type == "xmp"                  ? "xmp"
                        : type == "icc" || type == "icm" ? "icc_profile"
                                                         : nullptr;
    if (entry == nullptr || (!app1 && (m.contains(entry) || found.contains(entry)))) continue;
    Bytes profile = raw_profile(key, value.ref<std::string>());
    if (app1 && starts_with(profile, kXmpNamespace)) {
      entry = "xmp";
      profile.erase(profile.begin(), profile.begin() + static_cast<std::ptrdiff_t>(kXmpNamespace.size()));
    }
    if (m.contains(entry) || found.contains(entry)) continue;
    if (std::string_view(entry) == "iptc") {
      if (auto iim = iim_of(std::move(profile))) found.set(entry, std::move(*iim));
    } else {
      found.set(entry, std::move(profile));
    }
  }
  for (const auto& [key, value] : found) m.set(key, value);
  if (chunks.exif && !m.contains("exif")) m.set("exif_tags", read_exif_tags(*chunks.exif));  // eXIf after IDAT
  add_photo_metadata(m);
}

}  // namespace imio::png
