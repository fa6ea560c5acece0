// The writers' metadata kwargs (one reading for every plugin), the
// orientation rule, and copy_metadata.
#include <imio/error.hpp>
#include <imio/exif.hpp>
#include <imio/iptc.hpp>
#include <imio/metadata_write.hpp>
#include <imio/photo_metadata.hpp>
#include <imio/registry.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "exif_block.hpp"
#include "exif_tag_names.hpp"
#include "md5.hpp"
#include "registry.hpp"
#include "text_bytes.hpp"

namespace imio {
namespace {

constexpr char kExifPrefix[] = {'E', 'x', 'i', 'f', 0, 0};

bool has_exif_prefix(std::span<const std::byte> b) { return b.size() >= 6 && std::memcmp(b.data(), kExifPrefix, 6) == 0; }

Bytes to_bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return Bytes(p, p + s.size());
}

// bytes, or a str's bytes; none for None, absent or empty.
std::optional<Bytes> bytes_or_text(KwargReader& kw, std::string_view key, const Value* v) {
  if (v == nullptr || v->is_none()) return std::nullopt;
  Bytes b;
  if (v->is<Bytes>()) b = v->ref<Bytes>();
  else if (v->is<std::string>()) b = to_bytes(v->ref<std::string>());
  else kw.fail(key, fmt::format("expects bytes or str, got {}", v->type_name()));
  if (b.empty()) return std::nullopt;
  return b;
}

// IFD0's Orientation entry as one SHORT: where its value is in `exif`.
std::optional<std::size_t> orientation_value_at(std::span<const std::byte> exif) {
  const std::size_t base = has_exif_prefix(exif) ? 6 : 0;
  const auto block = exif_detail::tiff_block(exif);
  if (!block) return std::nullopt;
  const std::uint64_t ifd = block->uint(4, 4);
  if (!block->has(ifd, 2)) return std::nullopt;
  const std::uint64_t count = block->uint(static_cast<std::size_t>(ifd), 2);
  if (!block->has(ifd + 2, 12 * count)) return std::nullopt;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto e = static_cast<std::size_t>(ifd + 2 + 12 * i);
    if (block->uint(e, 2) != 0x0112) continue;
    if (block->uint(e + 2, 2) != exif_detail::kShort || block->uint(e + 4, 4) != 1) return std::nullopt;
    return base + e + 8;
  }
  return std::nullopt;
}

const PluginInfo* find_plugin(const std::vector<PluginInfo>& all, std::string_view name) {
  for (const PluginInfo& p : all) {
    if (p.name == name) return &p;
  }
  for (const PluginInfo& p : all) {
    if (std::find(p.aliases.begin(), p.aliases.end(), name) != p.aliases.end()) return &p;
  }
  return nullptr;
}

bool writes_kwarg(const PluginInfo& p, std::string_view key) {
  return std::any_of(p.methods.begin(), p.methods.end(),
                     [&](const MethodSpec& m) { return m.method == "write" && m.find(key) != nullptr; });
}

// The code unit width and byte order of an XMP packet: from its byte-order
// mark, else from how '<' (every packet's first character) is stored.
struct Encoding {
  int width;  // 1, 2 or 4
  bool big;
};

Encoding xmp_encoding(std::span<const std::byte> p) {
  const auto at = [&](std::size_t i) { return i < p.size() ? std::to_integer<unsigned>(p[i]) : 0x100U; };
  if (at(0) == 0 && at(1) == 0 && ((at(2) == 0xFE && at(3) == 0xFF) || (at(2) == 0 && at(3) == 0x3C))) return {4, true};
  if (((at(0) == 0xFF && at(1) == 0xFE) || (at(0) == 0x3C && at(1) == 0)) && at(2) == 0 && at(3) == 0) return {4, false};
  if ((at(0) == 0xFE && at(1) == 0xFF) || (at(0) == 0 && at(1) == 0x3C)) return {2, true};
  if ((at(0) == 0xFF && at(1) == 0xFE) || (at(0) == 0x3C && at(1) == 0)) return {2, false};
  return {1, false};
}

// The IIM block of a PNG's "Raw profile type iptc" text (the libpng
// plugin's own reading, read_raw_profile); none when it does not read.
std::optional<Bytes> raw_profile_iptc(const Value* text) {
  if (text == nullptr || !text->is<std::string>()) return std::nullopt;
  try {
    auto iim = iim_of_raw_profile(read_raw_profile("Raw profile type iptc", text->ref<std::string>()));
    if (iim && iim->empty()) return std::nullopt;
    return iim;
  } catch (const DecodeError&) {
    return std::nullopt;
  }
}

}  // namespace

Bytes xmp_as_utf8(std::span<const std::byte> packet) {
  const Encoding enc = xmp_encoding(packet);
  if (enc.width == 1) return Bytes(packet.begin(), packet.end());
  const auto fail = [&](const std::string& reason) {
    throw ArgumentError(fmt::format("XMP packet ({} bytes, UTF-{}): {}", packet.size(), 8 * enc.width, reason));
  };
  if (packet.size() % static_cast<std::size_t>(enc.width) != 0) fail("cut inside a character");
  const auto unit = [&](std::size_t i) {
    std::uint32_t v = 0;
    for (int k = 0; k < enc.width; ++k) {
      const auto byte = std::to_integer<std::uint32_t>(packet[i + static_cast<std::size_t>(enc.big ? k : enc.width - 1 - k)]);
      v = (v << 8) | byte;
    }
    return v;
  };
  std::string out;
  const auto w = static_cast<std::size_t>(enc.width);
  for (std::size_t i = 0; i < packet.size(); i += w) {
    std::uint32_t c = unit(i);
    if (enc.width == 2 && c >= 0xD800 && c <= 0xDBFF) {  // a surrogate pair (RFC 2781 §2.2)
      if (i + 2 >= packet.size()) fail("an unpaired surrogate at its end");
      const std::uint32_t low = unit(i + 2);
      if (low < 0xDC00 || low > 0xDFFF) fail(fmt::format("an unpaired surrogate at byte {}", i));
      c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
      i += 2;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      fail(fmt::format("an unpaired surrogate at byte {}", i));
    }
    if (c > 0x10FFFF) fail(fmt::format("code point 0x{:x} beyond U+10FFFF at byte {}", c, i));
    text_detail::append_utf8(out, static_cast<char32_t>(c));
  }
  return to_bytes(out);
}

namespace {

constexpr std::string_view kXmpStandard("http://ns.adobe.com/xap/1.0/\0", 29);
constexpr std::string_view kXmpExtension("http://ns.adobe.com/xmp/extension/\0", 35);
constexpr std::size_t kJpegSegment = 65533;  // a marker segment's payload

Bytes xmp_segment(std::string_view prefix, std::span<const std::byte> body) {
  Bytes s(prefix.size() + body.size());
  std::memcpy(s.data(), prefix.data(), prefix.size());
  if (!body.empty()) std::memcpy(s.data() + prefix.size(), body.data(), body.size());
  return s;
}

// The extension segments (§1.1.3.1): the prefix, the GUID, the full length
// and this chunk's offset (big-endian), then the chunk.
void append_xmp_extension(std::vector<Bytes>& out, std::string_view guid, std::span<const std::byte> packet) {
  if (packet.size() > 0xFFFFFFFFULL) {
    throw ArgumentError(fmt::format("XMP packet of {} bytes: extended XMP counts its length in 32 bits", packet.size()));
  }
  const std::size_t chunk = kJpegSegment - kXmpExtension.size() - 32 - 8;
  for (std::size_t offset = 0; offset < packet.size(); offset += chunk) {
    Bytes s = to_bytes(kXmpExtension);
    s.insert(s.end(), reinterpret_cast<const std::byte*>(guid.data()), reinterpret_cast<const std::byte*>(guid.data()) + 32);
    for (const std::uint64_t v : {static_cast<std::uint64_t>(packet.size()), static_cast<std::uint64_t>(offset)}) {
      for (int i = 3; i >= 0; --i) s.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
    }
    const auto body = packet.subspan(offset, std::min(chunk, packet.size() - offset));
    s.insert(s.end(), body.begin(), body.end());
    out.push_back(std::move(s));
  }
}

}  // namespace

std::string xmp_extension_guid(std::span<const std::byte> packet) {
  const std::string_view text(reinterpret_cast<const char*>(packet.data()), packet.size());
  const auto at = text.find("HasExtendedXMP");
  if (at == std::string_view::npos) return {};
  const auto start = text.find_first_of("\"'>", at);
  if (start == std::string_view::npos || text.size() - start - 1 < 32) return {};
  return std::string(text.substr(start + 1, 32));
}

std::vector<Bytes> xmp_jpeg_segments(std::span<const std::byte> packet) {
  std::vector<Bytes> out;
  if (packet.size() <= kJpegSegment - kXmpStandard.size()) {
    out.push_back(xmp_segment(kXmpStandard, packet));
    return out;
  }
  if (packet.size() > 0xFFFFFFFFULL) {
    throw ArgumentError(fmt::format("XMP packet of {} bytes: extended XMP counts its length in 32 bits", packet.size()));
  }
  std::string guid;
  for (const std::uint8_t byte : detail::md5(packet)) guid += fmt::format("{:02X}", byte);
  const std::string standard =
      "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
      "<rdf:Description rdf:about=\"\" xmlns:xmpNote=\"http://ns.adobe.com/xmp/note/\" xmpNote:HasExtendedXMP=\"" +
      guid + "\"/></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";
  out.push_back(xmp_segment(kXmpStandard, to_bytes(standard)));
  append_xmp_extension(out, guid, packet);
  return out;
}

std::vector<Bytes> xmp_jpeg_segments(std::span<const std::byte> standard, std::span<const std::byte> extension) {
  if (standard.size() > kJpegSegment - kXmpStandard.size()) {
    throw ArgumentError(fmt::format("the standard XMP packet is {} bytes; with an extension it must fit one APP1 segment ({} bytes)",
                                    standard.size(), kJpegSegment - kXmpStandard.size()));
  }
  const std::string guid = xmp_extension_guid(standard);
  const bool hex = guid.size() == 32 && std::all_of(guid.begin(), guid.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  if (!hex) throw ArgumentError("the standard XMP packet names no extension (xmpNote:HasExtendedXMP with a 32-digit GUID)");
  std::vector<Bytes> out{xmp_segment(kXmpStandard, standard)};
  append_xmp_extension(out, guid, extension);
  return out;
}

Bytes set_exif_orientation(std::span<const std::byte> exif, int orientation) {
  if (orientation < 1 || orientation > 8) {
    throw ArgumentError(fmt::format("orientation {} is not an EXIF orientation (1…8)", orientation));
  }
  if (exif.empty()) return write_exif_tags(Metadata{{"IFD0", Dict{{"Orientation", orientation}}}});
  Bytes out(exif.begin(), exif.end());
  if (const auto at = orientation_value_at(exif)) {
    const bool little = std::to_integer<char>(out[has_exif_prefix(exif) ? 6 : 0]) == 'I';
    out[*at + (little ? 0 : 1)] = static_cast<std::byte>(orientation);
    out[*at + (little ? 1 : 0)] = std::byte{0};
    return out;
  }
  Metadata tags = read_exif_tags(exif);
  Dict ifd0 = tags.get<Dict>("IFD0");
  ifd0.set("Orientation", orientation);
  tags.set("IFD0", std::move(ifd0));
  const auto block = exif_detail::tiff_block(exif);
  Bytes rebuilt = write_exif_tags(tags, block->little_endian() ? std::endian::little : std::endian::big);
  if (has_exif_prefix(exif)) rebuilt.insert(rebuilt.begin(), exif.begin(), exif.begin() + 6);
  return rebuilt;
}

std::optional<Bytes> take_exif_kwarg(KwargReader& kw, std::string_view key) {
  const Value* v = kw.find(key);
  if (v != nullptr && v->is<Dict>()) {
    try {
      return write_exif_tags(v->ref<Dict>());
    } catch (const ArgumentError& e) {
      kw.fail(key, e.reason());
    }
  }
  if (v != nullptr && !v->is_none() && !v->is<Bytes>() && !v->is<std::string>()) {
    kw.fail(key, fmt::format("expects bytes (an EXIF block) or a dict (read_exif_tags's form), got {}", v->type_name()));
  }
  std::optional<Bytes> b = bytes_or_text(kw, key, v);
  if (!b) return b;
  if (has_exif_prefix(*b)) b->erase(b->begin(), b->begin() + 6);
  if (!exif_detail::tiff_block(*b)) {
    kw.fail(key, fmt::format("is not an EXIF block: {} bytes without a TIFF header (\"II*\\0\" or \"MM\\0*\", TIFF 6.0 §2)",
                             b->size()));
  }
  return b;
}

std::optional<Bytes> take_xmp_kwarg(KwargReader& kw, std::string_view key) {
  return bytes_or_text(kw, key, kw.find(key));
}

std::optional<Bytes> take_iptc_kwarg(KwargReader& kw, std::string_view key) {
  const Value* v = kw.find(key);
  if (v != nullptr && v->is<Dict>()) {
    try {
      Bytes b = write_iptc_tags(v->ref<Dict>());
      if (b.empty()) return std::nullopt;
      return b;
    } catch (const ArgumentError& e) {
      kw.fail(key, e.reason());
    }
  }
  if (v != nullptr && !v->is_none() && !v->is<Bytes>()) {
    kw.fail(key, fmt::format("expects bytes (an IPTC IIM block) or a dict (read_iptc_tags's form), got {}", v->type_name()));
  }
  return bytes_or_text(kw, key, v);
}

std::optional<Bytes> take_icc_kwarg(KwargReader& kw, std::string_view key) {
  return bytes_or_text(kw, key, kw.find(key));
}

std::optional<int> reconcile_orientation(std::optional<Bytes>& exif, std::optional<int> orientation, bool make_exif) {
  if (orientation) {
    if (exif) exif = set_exif_orientation(*exif, *orientation);
    else if (make_exif && *orientation != 1) exif = set_exif_orientation({}, *orientation);
    return orientation;
  }
  if (!exif) return std::nullopt;
  const int o = exif_orientation(*exif);
  if (o < 1 || o > 8) return std::nullopt;
  return o;
}

bool describes_tiff_storage(std::uint16_t tag) noexcept {
  switch (tag) {
    case 254: case 255: case 256: case 257: case 258: case 259: case 262: case 263: case 264: case 265:
    case 266: case 273: case 277: case 278: case 279: case 280: case 281: case 284: case 290: case 291:
    case 292: case 293: case 317: case 320: case 322: case 323: case 324: case 325: case 330: case 338:
    case 339: case 340: case 341: case 347: case 529: case 530: case 532:
    case exif_detail::kExifPointer: case exif_detail::kGpsPointer: case exif_detail::kInteropPointer:
      return true;
    default:
      return tag >= 512 && tag <= 521;  // TIFF 6.0 §22 old-style JPEG
  }
}

namespace {

// The tag number of an IFD0 name of the parsed form: exiftool's name, or
// "0xabcd" for a tag without one.
std::optional<std::uint16_t> ifd0_tag_number(const std::string& name) {
  for (const auto& t : exif_detail::kExifNames) {
    if (name == t.name) return t.tag;
  }
  if (name.size() == 6 && name.starts_with("0x")) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(name.c_str() + 2, &end, 16);
    if (end == name.c_str() + 6) return static_cast<std::uint16_t>(n);
  }
  return std::nullopt;
}

// EXIF rebuilt from a source's parsed form (copy_metadata's contract):
// IFD0 without the source's storage tags, the Exif, GPS and Interop IFDs
// as they are, no IFD1 (its thumbnail is not in the parsed form).
Bytes exif_of_parsed(const Dict& tags) {
  Metadata kept;
  for (const auto& [ifd, entries] : tags) {
    if (ifd == "IFD1" || !entries.is<Dict>()) continue;
    if (ifd != "IFD0") {
      kept.set(ifd, entries);
      continue;
    }
    Dict ifd0;
    for (const auto& [name, value] : entries.ref<Dict>()) {
      const auto tag = ifd0_tag_number(name);
      if (tag && describes_tiff_storage(*tag)) continue;
      ifd0.set(name, value);
    }
    kept.set("IFD0", std::move(ifd0));
  }
  if (!kept.contains("IFD0")) kept.set("IFD0", Dict{});
  return write_exif_tags(kept);
}

}  // namespace

MetadataCopy copy_metadata(const Metadata& source, std::string_view target_plugin, const CopyMetadataOptions& options) {
  const std::vector<PluginInfo> all = detail::plugin_infos(false);  // names and kwargs: no module loaded
  const PluginInfo* target = find_plugin(all, target_plugin);
  if (target == nullptr) {
    throw NoPluginError(fmt::format("copy_metadata: no plugin named '{}'", target_plugin), {});
  }
  MetadataCopy out;
  const auto carry = [&](const char* key, Bytes block) {
    if (writes_kwarg(*target, key)) {
      out.kwargs.emplace_back(key, Value(std::move(block)));
      out.carried.emplace_back(key);
    } else {
      out.not_carried.emplace_back(key, fmt::format("{}'s writer does not take it (no `{}` kwarg)", target->name, key));
    }
  };
  const auto block_of = [](const Value* v) -> std::optional<Bytes> {
    if (v == nullptr) return std::nullopt;
    if (v->is<Bytes>() && !v->ref<Bytes>().empty()) return v->ref<Bytes>();
    if (v->is<std::string>() && !v->ref<std::string>().empty()) return to_bytes(v->ref<std::string>());
    return std::nullopt;
  };
  if (auto exif = block_of(source.lookup("exif")); exif && source.lookup("exif")->is<Bytes>()) {
    if (has_exif_prefix(*exif)) exif->erase(exif->begin(), exif->begin() + 6);
    const int o = exif_orientation(*exif);
    if (options.orientation_applied && o > 1 && o <= 8) *exif = set_exif_orientation(*exif, 1);
    carry("exif", std::move(*exif));
  } else if (const Value* parsed = source.lookup("exif_tags"); parsed != nullptr && parsed->is<Dict>()) {
    std::optional<Bytes> rebuilt;
    try {
      rebuilt = exif_of_parsed(parsed->ref<Dict>());
    } catch (const Error& e) {
      out.not_carried.emplace_back("exif", fmt::format("the source's parsed EXIF does not make a block: {}", e.what()));
    }
    if (rebuilt) {
      const int o = exif_orientation(*rebuilt);
      if (options.orientation_applied && o > 1 && o <= 8) *rebuilt = set_exif_orientation(*rebuilt, 1);
      carry("exif", std::move(*rebuilt));
    }
  }
  std::optional<Bytes> xmp = block_of(source.lookup("xmp"));
  if (!xmp) xmp = block_of(source.lookup("XML:com.adobe.xmp"));  // a PNG's iTXt, as Pillow names it
  const bool xmp_carried = xmp && writes_kwarg(*target, "xmp");
  if (xmp) carry("xmp", std::move(*xmp));
  // A JPEG's extended XMP (XMP Part 3 §1.1.3.1) goes with its standard
  // packet, byte for byte, to a writer that takes both (JPEG's).
  if (auto extension = block_of(source.lookup("xmp_extended"))) {
    if (!xmp_carried) {
      out.not_carried.emplace_back("xmp_extended", "the standard packet naming it is not carried");
    } else {
      carry("xmp_extended", std::move(*extension));
    }
  }
  std::optional<Bytes> iptc;
  if (const Value* v = source.lookup("iptc"); v != nullptr && v->is<Bytes>() && !v->ref<Bytes>().empty()) iptc = v->ref<Bytes>();
  if (!iptc) iptc = raw_profile_iptc(source.lookup("Raw profile type iptc"));  // a PNG's, ImageMagick's convention
  if (iptc) carry("iptc", std::move(*iptc));
  if (auto icc = block_of(source.lookup("icc_profile")); icc && source.lookup("icc_profile")->is<Bytes>()) {
    carry("icc_profile", std::move(*icc));
  }
  return out;
}

}  // namespace imio
