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

bool starts_with(const Bytes& b, std::string_view prefix) {
  return b.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b.begin(),
                                                 [](char c, std::byte x) { return std::byte(c) == x; });
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
    Bytes profile = read_raw_profile(key, value.ref<std::string>());
    if (app1 && starts_with(profile, kXmpNamespace)) {
      entry = "xmp";
      profile.erase(profile.begin(), profile.begin() + static_cast<std::ptrdiff_t>(kXmpNamespace.size()));
    }
    if (m.contains(entry) || found.contains(entry)) continue;
    if (std::string_view(entry) == "iptc") {
      if (auto iim = iim_of_raw_profile(std::move(profile))) found.set(entry, std::move(*iim));
    } else {
      found.set(entry, std::move(profile));
    }
  }
  for (const auto& [key, value] : found) m.set(key, value);
  if (chunks.exif && !m.contains("exif")) m.set("exif_tags", read_exif_tags(*chunks.exif));  // eXIf after IDAT
  add_photo_metadata(m);
}

}  // namespace imio::png
