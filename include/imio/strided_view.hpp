// Writable views with arbitrary strides: where imread_into/read_into decode
// into memory that is not one C-contiguous block.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <vector>

namespace imio {

/// A writable view of elements laid out with any byte strides, like a numpy
/// view: a region of a larger image (OpenCV's `Mat` ROI with its `step`),
/// one plane of a planar buffer, an image flipped by a negative stride.
/// `imread_into` and `ImageFile::read_into` take it where an ArrayView must
/// be contiguous.
///
/// The view does not own the memory: the caller keeps it alive during the
/// call. Strides are not checked against any allocation; a view whose
/// elements overlap one another is refused only in the obvious case (a zero
/// stride along an axis longer than one).
class IMIO_EXPORT StridedArrayView {
 public:
  /// An empty view (ndim 0, no data).
  StridedArrayView() = default;
  /// A view of `shape` and `dtype` whose element (i, j, …) lies at
  /// `data + i * strides[0] + j * strides[1] + …` (strides in bytes,
  /// numpy's convention, negative allowed). ArgumentError when the number
  /// of strides is not the number of axes, or a stride is zero along an axis
  /// longer than one.
  StridedArrayView(std::byte* data, Shape shape, DType dtype, std::vector<std::ptrdiff_t> strides);
  /// The same elements as a contiguous view (C strides).
  explicit StridedArrayView(ArrayView view);

  /// Sizes of the axes, outermost first.
  const Shape& shape() const noexcept { return shape_; }
  /// Element type.
  DType dtype() const noexcept { return dtype_; }
  /// Byte strides per axis.
  const std::vector<std::ptrdiff_t>& strides() const noexcept { return strides_; }
  /// The address of element (0, 0, …).
  std::byte* bytes() const noexcept { return data_; }
  /// Number of elements.
  std::size_t size() const noexcept { return data_ == nullptr ? 0 : detail::element_count(shape_); }
  /// Whether the elements are one C-contiguous block (then it is an ArrayView).
  bool is_c_contiguous() const noexcept;

  /// Copies a C-contiguous array of the view's shape and dtype (`source`,
  /// element by element in C order) into the view. ArgumentError when the
  /// shape or dtype differ.
  void assign(ConstArrayView source) const;

 private:
  std::byte* data_ = nullptr;
  Shape shape_{};
  DType dtype_ = DType::uint8;
  std::vector<std::ptrdiff_t> strides_{};
};

}  // namespace imio
