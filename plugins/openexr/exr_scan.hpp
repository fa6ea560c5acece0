// The plugin's own bounded walk of an OpenEXR file's headers (OpenEXR file
// layout: magic, version field, one header or — multi-part — several, then
// the chunk offset tables), done before the OpenEXR library sees the file:
// the library sizes its offset tables, line buffers and tile buffers from
// the data window, the channel list and the tile description, so those are
// checked against imio's Limits and the file's size first.
#pragma once

#include <imio/options.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace imio::exr {

/// What the walk found about one part.
struct ScannedPart {
  std::int64_t width = 0, height = 0;  ///< of the data window
  bool tiled = false;
  bool deep = false;
  std::uint64_t chunks = 0;  ///< entries of the part's offset table
  std::size_t channels = 0;
};

struct Scan {
  bool multipart = false;
  std::vector<ScannedPart> parts;
};

/// Whether `head` starts with OpenEXR's magic number (20000630, little endian).
bool has_magic(std::span<const std::byte> head) noexcept;

/// Walks the headers of `file`. Throws DecodeError for a malformed or
/// truncated header or an offset table the file cannot hold, LimitError for
/// a data window above `limits.max_pixels`, parts above `max_frames`, or a
/// chunk or tile buffer above `max_bytes`.
Scan scan_headers(std::span<const std::byte> file, const Limits& limits);

}  // namespace imio::exr
