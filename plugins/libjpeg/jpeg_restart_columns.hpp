// A smaller JPEG made of the restart intervals of a baseline scan that
// cover a `crop` box, so that the intervals left and right of the box (and
// the rows above and below it) are not entropy-decoded at all.
//
// Why it works (ITU T.81): after each RSTn marker the DC predictions restart
// from 0 and the coded data start on a byte boundary (§F.1.2.3; each
// entropy-coded segment is a whole number of bytes, §B.1.1.5), so an
// interval decodes from its own bytes alone. When the interval, counted in MCUs
// (§B.2.4.4 DRI's Ri), divides the MCUs of a row, every MCU row is a whole
// number of intervals, each covering the same columns in every row: the
// intervals of one column band, taken row after row, are the coded data of
// an image exactly that band wide, with the same tables and the same Ri.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <imio/pixel_box.hpp>

#include "jpeg_backend.hpp"

namespace imio::libjpeg {

/// A complete JPEG stream (SOI … EOI) holding the stored image's pixels
/// from (`left`, `top`) on: the file's markers with the frame's width and
/// height reduced, then the chosen intervals of each chosen MCU row in
/// order, separated by RST markers numbered afresh from RST0 (T.81 §B.2.1:
/// the decoder expects RST0…RST7 in turn from the scan's start).
struct ColumnEntry {
  std::vector<unsigned char> stream;
  std::uint32_t left = 0;  ///< full-size stored-image columns left out on the left (a whole number of MCUs)
  std::uint32_t top = 0;   ///< full-size stored-image rows left out above (a whole number of MCUs)
};

/// The stream for `box` (full-size pixels of the stored image, inside it),
/// or nullopt when the file cannot be cut into columns and the caller takes
/// the whole-row path (restart_entry): no restart interval, an interval
/// that does not divide the MCU row or spans a row or more, a progressive,
/// arithmetic-coded or non-interleaved multi-scan file, a frame height given
/// by DNL, intervals missing or out of order, a marker other than RSTn inside
/// the scan's data, no EOI after it, or a box whose intervals with their
/// margins span the whole row anyway. The stream keeps at least one MCU
/// column on each side of the box and two iMCU rows above and below it
/// wherever the image has them: fancy 4:2:0/4:2:2 upsampling (libjpeg's
/// default) reads the neighbouring chroma samples and treats the stream's
/// edges as image edges. `info` is the header of `file` as jpeg_read_header
/// left it; `scan_start` the offset just after its SOS segment; `restarts`
/// its restart_offsets.
std::optional<ColumnEntry> restart_columns(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                           std::size_t scan_start, const std::vector<std::size_t>& restarts,
                                           const PixelBox& box);

}  // namespace imio::libjpeg
