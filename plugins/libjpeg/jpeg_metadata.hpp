// The normalised metadata entries of a JPEG (docs/metadata.md), beside
// Pillow's keys: parsed EXIF, XMP (extended XMP reassembled), IPTC and the
// ICC profile's description.
#pragma once

#include <imio/metadata.hpp>

#include "jpeg_markers.hpp"

namespace imio::libjpeg {

/// Adds `exif_tags`, `xmp`, `xmp_extended`, `iptc`, `iptc_tags` and
/// `icc_description` to `meta` for those the header holds. DecodeError
/// naming the block (EXIF, extended XMP, Photoshop resources, IPTC, ICC
/// profile) when one is malformed.
void add_metadata_entries(Metadata& meta, const HeaderInfo& header);

}  // namespace imio::libjpeg
