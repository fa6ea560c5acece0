// imio — EXIF for plugins: the tags of an EXIF block as imageio gives them,
// and the Orientation tag applied to pixels.
#pragma once

#include <imio/export.hpp>
#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <span>

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

}  // namespace imio
