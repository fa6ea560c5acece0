// imio — the normalised photo metadata entries (docs/metadata.md): what
// every plugin whose format carries EXIF, XMP, IPTC or ICC adds to its
// immeta beside its own keys.
#pragma once

#include <imio/export.hpp>
#include <imio/metadata.hpp>

namespace imio {

/// Adds the normalised entries of issue #25's metadata model to `meta`, a
/// plugin's immeta holding the raw blocks it found under these keys (each
/// Bytes; other types and absent keys are ignored):
///
/// - `exif` (a TIFF-structured block, with or without the "Exif\0\0"
///   prefix) → `exif_tags`, read_exif_tags' map of IFDs;
/// - `iptc` (an IPTC IIM block) → `iptc_tags`, read_iptc_tags' datasets;
/// - `icc_profile` (an ICC profile) → `icc_description`, its 'desc' text;
/// - `xmp` is kept as it is (the packet, not parsed).
///
/// and `orientation` (int, 1…8), the orientation of the stored image as the
/// file declares it: `format_orientation` when it is 1…8 (the format's own
/// orientation, which its specification makes the one that counts: HEIF
/// irot/imir, the JPEG XL header), else IFD0's Orientation (0x0112) of
/// `exif_tags` when it is 1…8, else absent (unknown).
///
/// An entry `meta` already holds is never replaced (a plugin's own parse,
/// or a key imageio gives with another meaning, such as tifffile's
/// `orientation`, always None).
/// @throws DecodeError naming the block when `exif`, `iptc` or
///   `icc_profile` is damaged (see read_exif_tags, read_iptc_tags,
///   icc_profile_description); `meta` then holds the entries added before.
IMIO_EXPORT void add_photo_metadata(Metadata& meta, int format_orientation = 0);

}  // namespace imio
