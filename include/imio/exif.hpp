// imio — EXIF for plugins: the tags of an EXIF block as imageio gives them,
// and the Orientation tag applied to pixels.
#pragma once

#include <imio/export.hpp>
#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <span>
#include <utility>

namespace imio {

/// The EXIF tags of IFD0, named and typed as imageio (Pillow's getexif())
/// gives them: ASCII → str (trailing NUL dropped, Latin-1), RATIONAL →
/// float (NaN for a zero denominator), SHORT/LONG/signed → int,
/// BYTE/UNDEFINED → bytes, several values → a list; ExifOffset and GPSInfo
/// stay offsets (sub-IFDs are not expanded); tags without a known name are
/// dropped. `exif` is a TIFF-structured block, with or without the
/// "Exif\0\0" prefix of a JPEG APP1 segment. Entries that point outside the
/// block are skipped; a block whose header is unusable gives an empty map.
/// Never throws DecodeError: EXIF is advisory.
IMIO_EXPORT Metadata read_exif(std::span<const std::byte> exif);
/// Every IFD of an EXIF block, parsed: a map from IFD name to a map of its
/// tags. The IFDs are named as exiftool's `-G1` groups name them, and only
/// those present appear, in this order: "IFD0" (the primary image), "ExifIFD"
/// (EXIF 2.32 §4.6.5), "GPS" (§4.6.6), "InteropIFD" (§4.6.7; pointed to by
/// the Exif IFD) and "IFD1" (the thumbnail, IFD0's next IFD).
///
/// Tags are named as exiftool 12.57 names them ("ModifyDate" for 0x0132,
/// "ISO" for 0x8827, "ExposureCompensation" for 0x9204; Pillow's names where
/// the two agree); a tag neither knows is keyed by its number, "0x" and four
/// lowercase hex digits ("0xabcd"). The pointer tags linking the IFDs
/// (0x8769, 0x8825, 0xA005) are structure and do not appear. Values, raw
/// (no exiftool value conversion: ApertureValue is the APEX number):
/// ASCII → str (up to the first NUL, trailing spaces kept; UTF-8 kept,
/// other bytes read as Latin-1); BYTE and UNDEFINED → bytes (MakerNote too, unparsed);
/// SHORT, LONG and the signed integers → int; RATIONAL and SRATIONAL →
/// float (NaN for a zero denominator); FLOAT, DOUBLE → float; a count other
/// than 1 → a list of those. Entries of a type TIFF 6.0 does not define are
/// skipped.
///
/// `exif` is a TIFF-structured block in either byte order, with or without
/// the "Exif\0\0" prefix of a JPEG APP1 segment.
/// @throws DecodeError naming the block and the reason when the header is
///   not TIFF's, an IFD is reached twice (a pointer loop), an IFD or a value
///   lies past the end of the block, an IFD declares more than 1024 entries,
///   or the entries' values add up to more than four times the block (work is
///   bounded by the block's size).
IMIO_EXPORT Metadata read_exif_tags(std::span<const std::byte> exif);
/// The EXIF Orientation (1…8) of the block, or 0 when absent or invalid.
IMIO_EXPORT int exif_orientation(std::span<const std::byte> exif) noexcept;
/// The shape after apply_orientation: orientations 5–8 swap the axes
/// `height_axis` and `height_axis + 1`.
IMIO_EXPORT Shape oriented_shape(const Shape& shape, int orientation, std::size_t height_axis = 0);
/// Makes an image upright for its EXIF orientation (2 mirror left-right,
/// 3 rotate 180°, 4 mirror top-bottom, 5 transpose, 6 rotate 90° clockwise,
/// 7 transverse, 8 rotate 90° counter-clockwise; others unchanged). Acts on
/// the spatial axes `height_axis`, `height_axis + 1` only, whatever follows
/// them (DECISIONS D18).
IMIO_EXPORT NDArray apply_orientation(NDArray image, int orientation, std::size_t height_axis = 0);
/// Where pixel (`row`, `column`) of the upright image lies in the stored
/// `height` × `width` image of EXIF `orientation`, as {row, column}: the
/// inverse of apply_orientation (EXIF 2.32 §4.6.4 table 3), for readers that
/// map a region of the upright image back to the stored pixels.
IMIO_EXPORT std::pair<std::size_t, std::size_t> stored_position(int orientation, std::size_t height,
                                                                 std::size_t width, std::size_t row,
                                                                 std::size_t column) noexcept;

}  // namespace imio
