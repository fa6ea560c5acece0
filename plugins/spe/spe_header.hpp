// Princeton Instruments SPE files (WinView/WinSpec 2.x, LightField 3.0):
// the 4100-byte binary header, the data layout, and the metadata imageio's
// SpePlugin reports (its keys, its SDT-control decoding).
#pragma once

#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::spe {

/// The array data start after the header.
inline constexpr std::size_t kHeaderSize = 4100;

/// One region of interest of a frame (SPE 3.0's XML DataFormat); SPE 2.x
/// files have one, the frame.
struct Region {
  std::size_t width = 0;
  std::size_t height = 0;
  std::uint64_t offset = 0;  // bytes from the frame's start
};

/// What the header says about the data.
struct Layout {
  DType dtype = DType::uint16;
  std::size_t width = 0;   // xdim
  std::size_t height = 0;  // ydim
  std::int64_t declared_frames = 0;  // NumFrames
  float file_header_ver = 0;
  std::uint64_t xml_footer_offset = 0;
  std::uint64_t frame_stride = 0;  // bytes from one frame to the next
  std::vector<Region> regions;     // one, or SPE 3.0's regions
};

/// Parses the basic fields of a header (`header` holds kHeaderSize bytes)
/// and, for SPE 3.0, the DataFormat of the XML footer (`footer`, possibly
/// empty). DecodeError when they cannot describe frames.
Layout parse_layout(std::span<const std::byte> header, std::string_view footer);

/// Whether the header's fields are plausible for an SPE file (the factory's
/// test: SPE files have no signature).
bool plausible(std::span<const std::byte> header, std::uint64_t file_size);

/// imageio's SpePlugin metadata of an SPE 2.x header: its keys and value
/// forms; with `sdt_control`, SDT-control's fields decoded from the
/// comments. `char_encoding`: "latin1" (default), "ascii" or "utf-8".
Metadata metadata_v2(std::span<const std::byte> header, const std::string& char_encoding, bool sdt_control);

}  // namespace imio::spe
