// The normalised photo metadata of a TIFF page (docs/metadata.md), beside
// tifffile's keys: its EXIF, GPS and interoperability IFDs, XMP (tag 700),
// IPTC (33723) and ICC profile (34675).
#pragma once

#include <imio/plugin.hpp>

#include "tiff_ifd.hpp"

namespace imio::tiff {

/// Adds to `m` `exif_tags` (the IFD `ifd` as "IFD0", with the IFDs its
/// pointers 34665, 34853 and the Exif IFD's 0xA005 name, as one map of
/// IFDs), `xmp`, `iptc` and `icc_profile` (the tags' bytes as stored), then
/// add_photo_metadata's `iptc_tags`, `icc_description` and `orientation`
/// (an entry `m` holds, such as tifffile's `orientation`, stays).
/// @throws DecodeError naming the IFD or the block when a pointed-to IFD
///   cannot be read, is reached twice (a loop), has a value past the end of
///   the file, or a block is damaged.
void add_photo_entries(Metadata& m, ByteSource& source, const Structure& st, const Ifd& ifd);

}  // namespace imio::tiff
