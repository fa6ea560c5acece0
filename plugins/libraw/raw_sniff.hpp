// Whether data may be a camera RAW file before LibRaw sees them: the magic
// numbers of the formats LibRaw identifies by content (libraw identify()).
// Formats LibRaw identifies by file size alone (headerless dumps of old
// cameras) have no magic: they are read when the caller names the plugin or
// a RAW extension.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace imio::libraw {

/// True when the first bytes (64 are enough) carry a magic number LibRaw
/// identifies: TIFF-based RAWs (II*\0, MM\0*, Olympus IIRO/IIRS/MMOR,
/// Panasonic IIU\0), Canon CRW (HEAPCCDR) and CR3 (ftypcrx), Fujifilm RAF,
/// Minolta MRW, Sigma X3F (FOVb), Phase One (IIII/MMMM in the first 32
/// bytes followed by "Raw"), and the rarer ones identify() names.
bool has_raw_signature(std::span<const std::byte> head) noexcept;

/// True for the RAW extensions of DECISIONS D6 (".nef", ".CR2", …).
bool is_raw_extension(std::string_view extension) noexcept;

}  // namespace imio::libraw
