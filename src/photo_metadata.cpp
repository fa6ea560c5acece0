// The normalised photo metadata entries (docs/metadata.md): the core's
// block readers applied to the raw blocks a plugin found.
#include <imio/exif.hpp>
#include <imio/icc.hpp>
#include <imio/iptc.hpp>
#include <imio/photo_metadata.hpp>

#include <imio/error.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace imio {
namespace {

const Bytes* bytes_at(const Metadata& meta, const char* key) {
  const Value* v = meta.lookup(key);
  return v != nullptr && v->is<Bytes>() ? &v->ref<Bytes>() : nullptr;
}

// IFD0's Orientation (EXIF 2.32 §4.6.4 A), 0 when absent or not 1…8.
int exif_tags_orientation(const Metadata& meta) {
  const Value* tags = meta.lookup("exif_tags");
  if (tags == nullptr || !tags->is<Dict>()) return 0;
  const Value* ifd0 = tags->ref<Dict>().lookup("IFD0");
  if (ifd0 == nullptr || !ifd0->is<Dict>()) return 0;
  const Value* o = ifd0->ref<Dict>().lookup("Orientation");
  if (o == nullptr || !o->is<std::int64_t>()) return 0;
  const std::int64_t v = o->ref<std::int64_t>();
  return v >= 1 && v <= 8 ? static_cast<int>(v) : 0;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

bool starts_with(const Bytes& b, std::string_view prefix) {
  return b.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b.begin(),
                                                 [](char c, std::byte x) { return std::byte(c) == x; });
}

}  // namespace

Bytes read_raw_profile(std::string_view key, std::string_view text) {
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
  out.reserve(static_cast<std::size_t>(length));  // at most the text's length, checked above
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

std::optional<Bytes> iim_of_raw_profile(Bytes profile) {
  constexpr std::string_view kPhotoshop("Photoshop 3.0\0", 14);
  if (starts_with(profile, kPhotoshop)) profile.erase(profile.begin(), profile.begin() + kPhotoshop.size());
  if (starts_with(profile, "8BIM")) return photoshop_resource(profile, 0x0404);
  return profile;
}

void add_photo_metadata(Metadata& meta, int format_orientation) {
  if (const Bytes* exif = bytes_at(meta, "exif"); exif != nullptr && !meta.contains("exif_tags")) {
    meta.set("exif_tags", read_exif_tags(*exif));
  }
  if (const Bytes* iim = bytes_at(meta, "iptc"); iim != nullptr && !meta.contains("iptc_tags")) {
    meta.set("iptc_tags", read_iptc_tags(*iim));
  }
  if (const Bytes* icc = bytes_at(meta, "icc_profile"); icc != nullptr && !meta.contains("icc_description")) {
    meta.set("icc_description", icc_profile_description(*icc));
  }
  if (meta.contains("orientation")) return;
  const int orientation =
      format_orientation >= 1 && format_orientation <= 8 ? format_orientation : exif_tags_orientation(meta);
  if (orientation != 0) meta.set("orientation", std::int64_t{orientation});
}

}  // namespace imio
