// The normalised metadata entries of a JPEG (docs/metadata.md), beside
// Pillow's keys: parsed EXIF, XMP (extended XMP reassembled), IPTC and the
// ICC profile's description.
#pragma once

#include <imio/metadata.hpp>

#include "jpeg_markers.hpp"

namespace imio::libjpeg {

/// Adds `xmp`, `xmp_extended` and `iptc` to `meta` for those the header
/// holds, then add_photo_metadata's `exif_tags`, `iptc_tags`,
/// `icc_description` and `orientation`. DecodeError
/// naming the block (EXIF, extended XMP, Photoshop resources, IPTC, ICC
/// profile) when one is malformed.
void add_metadata_entries(Metadata& meta, const HeaderInfo& header);

}  // namespace imio::libjpeg
