// The normalised entries of issue #25's metadata model for JPEG: the blocks
// found by describe_header, parsed by the core's readers; extended XMP is
// reassembled here (XMP Part 3 §1.1.3.1).
#include "jpeg_metadata.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <imio/error.hpp>
#include <imio/metadata_write.hpp>
#include <imio/plugin.hpp>

namespace imio::libjpeg {
namespace {

std::string_view text_of(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

std::uint32_t be32(std::span<const std::byte> b) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b[i]);
  return v;
}

struct Chunk {
  std::uint32_t offset;
  std::span<const std::byte> data;
};

// The extended packet: the chunks of the GUID the standard packet names
// (32 hex digits, the full length, this chunk's offset, data; §1.1.3.1),
// laid side by side. Chunks of other GUIDs are ignored, as the
// specification says; ones of this GUID must agree on the length and tile
// it exactly, or the sizes lie and the extension is refused.
std::optional<Bytes> extended_xmp(std::span<const std::byte> packet, const std::vector<std::span<const std::byte>>& segments) {
  const std::string guid = xmp_extension_guid(packet);
  if (guid.empty() || segments.empty()) return std::nullopt;
  const auto fail = [&](const std::string& reason) {
    throw DecodeError(fmt::format("extended XMP {}: {}", guid, reason));
  };
  std::vector<Chunk> chunks;
  std::uint32_t full = 0;
  for (const auto& s : segments) {
    if (s.size() < 40) fail(fmt::format("a {}-byte chunk is shorter than its 40-byte header", s.size()));
    if (text_of(s.first(32)) != guid) continue;
    const std::uint32_t length = be32(s.subspan(32, 4));
    if (!chunks.empty() && length != full) {
      fail(fmt::format("its chunks disagree on the full length ({} and {} bytes)", full, length));
    }
    full = length;
    chunks.push_back({be32(s.subspan(36, 4)), s.subspan(40)});
  }
  if (chunks.empty()) return std::nullopt;  // the file lost its extension: nothing to reassemble
  std::stable_sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) { return a.offset < b.offset; });
  std::uint64_t covered = 0;
  for (const Chunk& c : chunks) {
    if (c.offset != covered) {
      fail(fmt::format("a chunk starts at offset {} where {} bytes are covered (a gap or an overlap)", c.offset,
                       covered));
    }
    covered += c.data.size();
    if (covered > full) fail(fmt::format("its chunks hold more than the {} bytes it declares", full));
  }
  if (covered != full) fail(fmt::format("its chunks hold {} of the {} bytes it declares", covered, full));
  Bytes out;
  out.reserve(full);  // no more than the chunks hold, checked above
  for (const Chunk& c : chunks) out.insert(out.end(), c.data.begin(), c.data.end());
  return out;
}

}  // namespace

void add_metadata_entries(Metadata& meta, const HeaderInfo& header) {
  if (!header.xmp.empty()) {
    meta.set("xmp", Bytes(header.xmp.begin(), header.xmp.end()));
    if (auto extension = extended_xmp(header.xmp, header.xmp_extension)) meta.set("xmp_extended", std::move(*extension));
  }
  if (!header.photoshop.empty()) {
    if (auto iim = photoshop_resource(header.photoshop, 0x0404)) meta.set("iptc", std::move(*iim));  // IPTC-NAA record
  }
  add_photo_metadata(meta);  // exif_tags, iptc_tags, icc_description, orientation
}

}  // namespace imio::libjpeg
