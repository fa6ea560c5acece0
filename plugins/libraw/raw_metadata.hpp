// immeta of a camera RAW: rawpy's keys (spec §5.4.5) plus the shooting
// information LibRaw parses (camera, lens, exposure, time, thumbnail).
#pragma once

#include <imio/metadata.hpp>

#include <cstddef>
#include <span>

class LibRaw;

namespace imio::libraw {

/// The metadata of an opened (identified, not necessarily unpacked) file.
/// `exclude_applied` drops the keys describing what development applies
/// (levels, white balance, colour matrix, flip, …), as rawpy does.
Metadata describe(const LibRaw& processor, bool exclude_applied, std::span<const std::byte> exif_block = {});

}  // namespace imio::libraw
