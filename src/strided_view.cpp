// StridedArrayView: construction checks and the copy of a C-contiguous
// array into strided memory (rows at once where the last axis is packed).
#include <imio/strided_view.hpp>

#include <imio/error.hpp>

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace imio {

StridedArrayView::StridedArrayView(std::byte* data, Shape shape, DType dtype, std::vector<std::ptrdiff_t> strides)
    : data_(data), shape_(std::move(shape)), dtype_(dtype), strides_(std::move(strides)) {
  if (strides_.size() != shape_.size()) {
    throw ArgumentError(fmt::format("a strided view of shape ({}) needs {} strides, not {}", fmt::join(shape_, ", "),
                                    shape_.size(), strides_.size()));
  }
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    if (strides_[i] == 0 && shape_[i] > 1) {
      throw ArgumentError(fmt::format("a strided view cannot have stride 0 along axis {} of size {}: its elements "
                                      "would overlap",
                                      i, shape_[i]));
    }
  }
}

StridedArrayView::StridedArrayView(ArrayView view)
    : data_(view.bytes()), shape_(view.shape()), dtype_(view.dtype()), strides_(view.strides()) {}

bool StridedArrayView::is_c_contiguous() const noexcept {
  std::ptrdiff_t expected = static_cast<std::ptrdiff_t>(itemsize(dtype_));
  for (std::size_t i = shape_.size(); i-- > 0;) {
    // An axis of size 1 is never stepped along, whatever its stride.
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= static_cast<std::ptrdiff_t>(shape_[i]);
  }
  return true;
}

void StridedArrayView::assign(ConstArrayView source) const {
  if (source.shape() != shape_ || source.dtype() != dtype_) {
    throw ArgumentError(fmt::format("cannot assign an array of shape ({}) and dtype {} to a view of shape ({}) and "
                                    "dtype {}",
                                    fmt::join(source.shape(), ", "), name(source.dtype()), fmt::join(shape_, ", "),
                                    name(dtype_)));
  }
  const std::size_t count = size();
  if (count == 0) return;
  const std::size_t item = itemsize(dtype_);
  const std::size_t ndim = shape_.size();
  if (ndim == 0) {
    std::memcpy(data_, source.bytes(), item);
    return;
  }
  // The trailing axes that are one packed block in the view (an image row,
  // or a whole plane) are copied with one memcpy each; if even the last axis
  // is not packed, its elements are copied one by one. An odometer walks
  // the outer axes.
  std::size_t outer = ndim;
  std::size_t block = item;
  while (outer > 0 && (shape_[outer - 1] == 1 || strides_[outer - 1] == static_cast<std::ptrdiff_t>(block))) {
    block *= shape_[outer - 1];
    --outer;
  }
  const bool packed = block > item || outer == 0;
  if (!packed) outer = ndim - 1;  // the last axis is walked element by element
  const std::size_t run = packed ? block / item : shape_.back();
  const std::ptrdiff_t step = strides_.back();
  std::vector<std::size_t> at(outer, 0);
  std::ptrdiff_t offset = 0;
  const std::byte* from = source.bytes();
  for (std::size_t done = 0; done < count; done += run) {
    std::byte* to = data_ + offset;
    if (packed) {
      std::memcpy(to, from, run * item);
    } else {
      for (std::size_t x = 0; x < run; ++x) std::memcpy(to + static_cast<std::ptrdiff_t>(x) * step, from + x * item, item);
    }
    from += run * item;
    for (std::size_t axis = outer; axis-- > 0;) {
      offset += strides_[axis];
      if (++at[axis] < shape_[axis]) break;
      offset -= strides_[axis] * static_cast<std::ptrdiff_t>(shape_[axis]);
      at[axis] = 0;
    }
  }
}

}  // namespace imio
