// RowTarget: where a plugin that decodes row by row writes its rows when
// they are not one contiguous block (Request::row_target).
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>

namespace imio {

/// Rows of equal length at a fixed byte distance from one another: the
/// caller's row-padded memory under read_into (a region of a larger image,
/// an OpenCV `Mat` ROI, a tile of a mosaic, a vertically flipped view), or a
/// plugin's own contiguous array, so that one decode loop serves both.
///
/// A "row" is one item of the first axis: for an image of shape (H, W, C),
/// W × C elements. The bytes of each row are contiguous; the stride between
/// rows may exceed a row (padding, left untouched) or be negative (row 0 is
/// then the highest in memory).
class RowTarget {
 public:
  /// An empty target (no rows).
  RowTarget() = default;
  /// `rows` rows of `row_bytes` bytes, row `y` starting at
  /// `first_row + y * stride`.
  RowTarget(std::byte* first_row, std::ptrdiff_t stride, std::size_t rows, std::size_t row_bytes) noexcept
      : first_(first_row), stride_(stride), rows_(rows), row_bytes_(row_bytes) {}
  /// The rows of a C-contiguous array (its first axis; none for ndim 0).
  explicit RowTarget(ArrayView contiguous) noexcept
      : first_(contiguous.bytes()),
        rows_(contiguous.ndim() == 0 || contiguous.empty() ? 0 : contiguous.shape()[0]),
        row_bytes_(rows_ == 0 ? 0 : contiguous.nbytes() / rows_) {
    stride_ = static_cast<std::ptrdiff_t>(row_bytes_);
  }

  /// The first byte of row `y` (not bounds-checked: `y` < rows()).
  std::byte* row(std::size_t y) const noexcept { return first_ + static_cast<std::ptrdiff_t>(y) * stride_; }
  /// The first byte of row 0.
  std::byte* first_row() const noexcept { return first_; }
  /// Bytes from the start of one row to the start of the next (negative
  /// when the rows run backwards in memory).
  std::ptrdiff_t stride() const noexcept { return stride_; }
  /// Number of rows.
  std::size_t rows() const noexcept { return rows_; }
  /// Bytes in one row.
  std::size_t row_bytes() const noexcept { return row_bytes_; }
  /// Whether the rows follow one another without a gap (one memcpy may
  /// fill several).
  bool contiguous() const noexcept { return stride_ == static_cast<std::ptrdiff_t>(row_bytes_); }

 private:
  std::byte* first_ = nullptr;
  std::ptrdiff_t stride_ = 0;
  std::size_t rows_ = 0;
  std::size_t row_bytes_ = 0;
};

}  // namespace imio
