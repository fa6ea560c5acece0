// PNG row filters undone (PNG 1.2 §6, ISO/IEC 15948 §9): the step after
// inflate in imio's own IDAT decoder (png_idat.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace imio::png {

/// Reconstructs one row in place: `row` holds the filtered bytes (without
/// the filter-type byte) and receives the reconstructed ones; `prev` is the
/// reconstructed row above (all zeros for the first row); `bpp` is the
/// filter's byte distance (bytes per complete pixel, at least 1). Returns
/// false for a filter type above 4 (the row is then left as it was).
bool unfilter_row(std::uint8_t filter, std::uint8_t* row, const std::uint8_t* prev, std::size_t row_bytes, int bpp) noexcept;

}  // namespace imio::png
