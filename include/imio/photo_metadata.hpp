// imio — the normalised photo metadata entries (docs/metadata.md): what
// every plugin whose format carries EXIF, XMP, IPTC or ICC adds to its
// immeta beside its own keys.
#pragma once

#include <imio/export.hpp>
#include <imio/metadata.hpp>

#include <optional>
#include <string_view>

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

/// The bytes of ImageMagick's "Raw profile type NAME" PNG text (its png.c;
/// exiftool's PNG.pm reads and writes the same): "\nNAME\n", the byte count
/// (8 columns), then the bytes as hex digits in lines. Digits beyond the
/// count are ignored. `key` is the text chunk's keyword, for the message.
/// @throws DecodeError "PNG text chunk 'KEY': …" when the count is missing,
///   a character is neither a hex digit nor white space, or the text holds
///   fewer bytes than it declares (the count is checked against the text's
///   length before anything is allocated).
IMIO_EXPORT Bytes read_raw_profile(std::string_view key, std::string_view text);

/// The IPTC IIM block of a "Raw profile type iptc" profile: ImageMagick
/// stores Photoshop image resources there (with or without APP13's
/// "Photoshop 3.0\0"), whose resource 0x0404 is the block (none when it is
/// absent); other writers store the IIM datasets themselves, returned as
/// they are.
/// @throws DecodeError when the Photoshop resources are damaged
///   (photoshop_resource).
IMIO_EXPORT std::optional<Bytes> iim_of_raw_profile(Bytes profile);

}  // namespace imio
