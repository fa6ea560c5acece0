#include <imio/ndarray.hpp>

#include <cstring>
#include <new>
#include <ostream>
#include <numeric>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <imio/checked_math.hpp>

#include "array_blocks.hpp"

namespace imio {
namespace {

std::size_t byte_size(const Shape& shape, DType dtype) {
  const auto n = checked_nbytes(shape, dtype);
  if (!n || *n > static_cast<std::uint64_t>(PTRDIFF_MAX)) {
    throw LimitError(fmt::format("an array of shape ({}) and dtype {} is larger than memory can hold",
                                 fmt::join(shape, ", "), name(dtype)));
  }
  return static_cast<std::size_t>(*n);
}

struct AlignedFree final : detail::ArrayReleaser {
  void release(void* p) noexcept override { ::operator delete(p, std::align_val_t{NDArray::alignment}); }
};

std::byte* aligned_alloc_bytes(std::size_t n, detail::ArrayReleaser*& releaser) {
  static AlignedFree aligned_free;
  if (n >= detail::kLargeArrayBytes) return detail::large_block(n, releaser);
  if (n >= detail::kMediumArrayBytes) return detail::medium_block(n, releaser);
  releaser = &aligned_free;
  // Never ask for 0 bytes: a scalar or empty array still gets a valid, unique pointer.
  return static_cast<std::byte*>(::operator new(n == 0 ? NDArray::alignment : n, std::align_val_t{NDArray::alignment}));
}

}  // namespace

NDArray::NDArray(Shape shape, DType dtype) : NDArray(uninitialized(std::move(shape), dtype)) {
  std::memset(data_, 0, nbytes());
}

std::size_t release_kept_memory() noexcept { return detail::release_medium_blocks() + detail::release_large_blocks(); }

NDArray NDArray::uninitialized(Shape shape, DType dtype) {
  const std::size_t n = byte_size(shape, dtype);
  NDArray a;
  try {
    a.data_ = aligned_alloc_bytes(n, a.releaser_);
  } catch (const std::bad_alloc&) {
    // imio's errors, not std::bad_alloc: a caller catches imio::Error.
    throw LimitError(fmt::format("cannot allocate {} bytes for an array of shape ({}) and dtype {}", n,
                                 fmt::join(shape, ", "), name(dtype)));
  }
  a.shape_ = std::move(shape);
  a.dtype_ = dtype;
  return a;
}

NDArray NDArray::adopt_with(void* data, Shape shape, DType dtype, Releaser* releaser) {
  if (data == nullptr) throw ArgumentError("NDArray::adopt: data is null");
  byte_size(shape, dtype);
  NDArray a;
  a.data_ = static_cast<std::byte*>(data);
  a.shape_ = std::move(shape);
  a.dtype_ = dtype;
  a.releaser_ = releaser;
  return a;
}

NDArray::NDArray(NDArray&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      shape_(std::exchange(other.shape_, {})),
      dtype_(other.dtype_),
      releaser_(std::exchange(other.releaser_, nullptr)) {}

NDArray& NDArray::operator=(NDArray&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    shape_ = std::exchange(other.shape_, {});
    dtype_ = other.dtype_;
    releaser_ = std::exchange(other.releaser_, nullptr);
  }
  return *this;
}

NDArray::~NDArray() { release(); }

void NDArray::release() noexcept {
  if (data_ != nullptr && releaser_ != nullptr) releaser_->release(data_);
  data_ = nullptr;
  releaser_ = nullptr;
}

std::size_t NDArray::size() const noexcept { return data_ == nullptr ? 0 : detail::element_count(shape_); }

std::vector<std::ptrdiff_t> NDArray::strides() const { return detail::c_strides(shape_, dtype_); }

namespace detail {

void throw_dtype_mismatch(DType have, DType wanted) {
  throw ArgumentError(fmt::format("the array holds {} elements, not {}", name(have), name(wanted)));
}

void throw_bad_access(DType have, DType wanted, const Shape& shape, std::span<const std::int64_t> index) {
  if (have != wanted) throw_dtype_mismatch(have, wanted);
  if (shape.empty() && index.empty()) throw_empty_access();
  if (index.size() != shape.size()) {
    throw ArgumentError(fmt::format("the array has {} axes but {} indices were given", shape.size(), index.size()));
  }
  for (std::size_t axis = 0; axis < index.size(); ++axis) {
    if (index[axis] < 0 || static_cast<std::uint64_t>(index[axis]) >= shape[axis]) {
      throw_index_out_of_range(index[axis], axis, shape[axis]);
    }
  }
  throw_empty_access();  // no index is wrong: the array has no data
}

void throw_index_out_of_range(std::int64_t index, std::size_t axis, std::size_t size) {
  throw IndexError(fmt::format("index {} is out of range for axis {} of size {}", index, axis, size));
}

void throw_empty_access() { throw IndexError("element access into an empty array"); }

std::size_t element_count(const Shape& shape) noexcept {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

std::vector<std::ptrdiff_t> c_strides(const Shape& shape, DType dtype) {
  std::vector<std::ptrdiff_t> s(shape.size());
  auto step = static_cast<std::ptrdiff_t>(itemsize(dtype));
  for (std::size_t i = shape.size(); i-- > 0;) {
    s[i] = step;
    step *= static_cast<std::ptrdiff_t>(shape[i]);
  }
  return s;
}

NDArray copy_of(const std::byte* data, const Shape& shape, DType dtype) {
  if (data == nullptr) return {};
  NDArray out = NDArray::uninitialized(shape, dtype);
  std::memcpy(out.bytes(), data, out.nbytes());
  return out;
}

Shape sub_shape(const std::byte* data, const Shape& shape, std::size_t index, DType dtype, std::size_t& offset) {
  if (data == nullptr) throw_empty_access();
  if (shape.empty()) throw IndexError("a 0-d array has no sub-arrays to index");
  if (index >= shape[0]) throw_index_out_of_range(static_cast<std::int64_t>(index), 0, shape[0]);
  Shape sub(shape.begin() + 1, shape.end());
  offset = index * element_count(sub) * itemsize(dtype);
  return sub;
}

}  // namespace detail

NDArray NDArray::copy() const { return detail::copy_of(data_, shape_, dtype_); }

NDArray NDArray::reshaped(Shape shape) && {
  const std::size_t n = std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
  if (data_ == nullptr || n != size()) {
    throw ArgumentError(fmt::format("cannot reshape an array of {} elements into shape ({})", size(), fmt::join(shape, ", ")));
  }
  shape_ = std::move(shape);
  return std::move(*this);
}

NDArray NDArray::stack(std::span<const NDArray> arrays) {
  if (arrays.empty()) throw ArgumentError("cannot stack an empty list of arrays");
  const NDArray& first = arrays.front();
  for (const NDArray& a : arrays) {
    if (a.shape_ != first.shape_ || a.dtype_ != first.dtype_ || a.data_ == nullptr) {
      throw ArgumentError(fmt::format("cannot stack arrays of different shapes or dtypes: ({}) {} and ({}) {}",
                                      fmt::join(first.shape_, ", "), name(first.dtype_), fmt::join(a.shape_, ", "),
                                      name(a.dtype_)));
    }
  }
  Shape shape{arrays.size()};
  shape.insert(shape.end(), first.shape_.begin(), first.shape_.end());
  NDArray out = uninitialized(std::move(shape), first.dtype_);
  const std::size_t n = first.nbytes();
  for (std::size_t i = 0; i < arrays.size(); ++i) std::memcpy(out.data_ + i * n, arrays[i].data_, n);
  return out;
}

bool NDArray::operator==(const NDArray& other) const noexcept {
  if (dtype_ != other.dtype_ || shape_ != other.shape_ || (data_ == nullptr) != (other.data_ == nullptr)) return false;
  return data_ == nullptr || std::memcmp(data_, other.data_, nbytes()) == 0;
}

std::ostream& operator<<(std::ostream& out, const NDArray& array) {
  return out << fmt::format("NDArray(shape=({}{}), dtype={})", fmt::join(array.shape(), ", "),
                            array.ndim() == 1 ? "," : "", name(array.dtype()));
}

std::ostream& operator<<(std::ostream& out, ConstArrayView view) {
  return out << fmt::format("ArrayView(shape=({}{}), dtype={})", fmt::join(view.shape(), ", "),
                            view.ndim() == 1 ? "," : "", name(view.dtype()));
}

}  // namespace imio
