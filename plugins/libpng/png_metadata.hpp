// The normalised photo metadata of a PNG (docs/metadata.md), beside
// Pillow's keys: eXIf, iTXt XMP, iCCP and the "Raw profile type …" text
// chunks ImageMagick and exiftool write.
#pragma once

#include <imio/plugin.hpp>

#include "png_chunks.hpp"

namespace imio::png {

/// Adds `xmp` (iTXt "XML:com.adobe.xmp"), the blocks of "Raw profile type
/// exif/APP1/iptc/xmp/icc/icm" text chunks (`exif`, `iptc`, `xmp`,
/// `icc_profile`, each only when `m` has no such key), then
/// add_photo_metadata's `exif_tags`, `iptc_tags`, `icc_description` and
/// `orientation`. An eXIf chunk after IDAT (no `exif` key, as Pillow's
/// info) still gives `exif_tags`.
/// @throws DecodeError naming the block or the text chunk when one is damaged.
void add_photo_entries(Metadata& m, const Chunks& chunks);

}  // namespace imio::png
