// imio — DType, Shape and NDArray: the owned, typed, C-contiguous array every
// read returns and every write takes.
#pragma once

#include <imio/error.hpp>
#include <imio/export.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace imio {

/// Encoded file data in memory (what imwrite("<bytes>", …) returns).
using Bytes = std::vector<std::byte>;

/// Element types, named as numpy names them.
enum class DType : std::uint8_t {
  bool_,
  uint8,
  uint16,
  uint32,
  uint64,
  int8,
  int16,
  int32,
  int64,
  float16,
  float32,
  float64,
};

/// numpy's name of the dtype: "bool", "uint8", "float32", …
IMIO_EXPORT std::string_view name(DType dtype) noexcept;
/// Writes name(dtype).
IMIO_EXPORT std::ostream& operator<<(std::ostream& out, DType dtype);
/// Bytes per element.
IMIO_EXPORT std::size_t itemsize(DType dtype) noexcept;
/// The dtype whose numpy name is `name`, or ArgumentError.
IMIO_EXPORT DType dtype_from_name(std::string_view name);

namespace detail {
/// Frees an array's memory once: built-in buffers use static releasers,
/// NDArray::adopt() a heap one that deletes itself (a virtual call instead
/// of std::function keeps <functional> out of this header).
struct ArrayReleaser {
  virtual ~ArrayReleaser() = default;
  virtual void release(void* data) noexcept = 0;
};
}  // namespace detail

/// IEEE 754 half precision, stored as its 16 bits (C++20 has no float16).
struct float16 {
  /// The binary16 bit pattern (sign, 5 exponent bits, 10 fraction bits).
  std::uint16_t bits = 0;
  /// Round-to-nearest-even conversion from float.
  IMIO_EXPORT static float16 from_float(float value) noexcept;
  /// Round-to-nearest-even conversion from double, rounded once (not through float).
  IMIO_EXPORT static float16 from_double(double value) noexcept;
  /// Exact conversion to float.
  IMIO_EXPORT float to_float() const noexcept;
  /// Bitwise equality (so +0 != -0 and a NaN equals the same NaN pattern).
  friend bool operator==(float16, float16) = default;
};

/// The DType of a C++ element type (bool, std::uint8_t … double, imio::float16).
/// Only the specialisations below exist; another T does not compile.
template <class T>
struct dtype_of;
/// bool elements are DType::bool_.
template <> struct dtype_of<bool> { static constexpr DType value = DType::bool_; /**< DType::bool_ */ };
/// std::uint8_t elements are DType::uint8.
template <> struct dtype_of<std::uint8_t> { static constexpr DType value = DType::uint8; /**< DType::uint8 */ };
/// std::uint16_t elements are DType::uint16.
template <> struct dtype_of<std::uint16_t> { static constexpr DType value = DType::uint16; /**< DType::uint16 */ };
/// std::uint32_t elements are DType::uint32.
template <> struct dtype_of<std::uint32_t> { static constexpr DType value = DType::uint32; /**< DType::uint32 */ };
/// std::uint64_t elements are DType::uint64.
template <> struct dtype_of<std::uint64_t> { static constexpr DType value = DType::uint64; /**< DType::uint64 */ };
/// std::int8_t elements are DType::int8.
template <> struct dtype_of<std::int8_t> { static constexpr DType value = DType::int8; /**< DType::int8 */ };
/// std::int16_t elements are DType::int16.
template <> struct dtype_of<std::int16_t> { static constexpr DType value = DType::int16; /**< DType::int16 */ };
/// std::int32_t elements are DType::int32.
template <> struct dtype_of<std::int32_t> { static constexpr DType value = DType::int32; /**< DType::int32 */ };
/// std::int64_t elements are DType::int64.
template <> struct dtype_of<std::int64_t> { static constexpr DType value = DType::int64; /**< DType::int64 */ };
/// float16 elements are DType::float16.
template <> struct dtype_of<float16> { static constexpr DType value = DType::float16; /**< DType::float16 */ };
/// float elements are DType::float32.
template <> struct dtype_of<float> { static constexpr DType value = DType::float32; /**< DType::float32 */ };
/// double elements are DType::float64.
template <> struct dtype_of<double> { static constexpr DType value = DType::float64; /**< DType::float64 */ };
/// `dtype_of<T>::value`, ignoring const.
template <class T>
inline constexpr DType dtype_of_v = dtype_of<std::remove_const_t<T>>::value;

static_assert(sizeof(bool) == 1, "imio stores bool elements as one byte each");

/// Sizes of the axes, outermost first: [N,] H, W [, C].
using Shape = std::vector<std::size_t>;

class NDArray;

namespace detail {
// Element access shared by NDArray and its views. The checks are inline, so
// a loop over at<T>(y, x, c) compiles to index arithmetic; the throws are not.
[[noreturn]] IMIO_EXPORT void throw_dtype_mismatch(DType have, DType wanted);
[[noreturn]] IMIO_EXPORT void throw_index_out_of_range(std::int64_t index, std::size_t axis, std::size_t size);
[[noreturn]] IMIO_EXPORT void throw_empty_access();

[[noreturn]] IMIO_EXPORT void throw_bad_access(DType have, DType wanted, const Shape& shape,
                                             std::span<const std::int64_t> index);

template <class I>
constexpr bool index_outside(I index, std::size_t size) noexcept {
  static_assert(std::is_integral_v<I> && !std::is_same_v<I, bool>, "indices are integers");
  if constexpr (std::is_signed_v<I>) {
    return (index < 0) | (static_cast<std::uint64_t>(index) >= size);
  } else {
    return static_cast<std::uint64_t>(index) >= size;
  }
}

// The offset of element `index...` of a C-contiguous array, after one test
// of everything (dtype, axis count, every index): the tests are joined with
// `|`, so a loop of accesses carries one well-predicted branch per element,
// which compilers keep cheap at -O2.
template <class T, class... I>
std::size_t checked_offset(const std::byte* data, const Shape& shape, DType dtype, I... index) {
  constexpr std::size_t n = sizeof...(I);
  bool bad = (dtype_of_v<T> != dtype) | (shape.size() != n);
  if constexpr (n == 0) bad |= data == nullptr;  // with indices, an array without data has no axes
  std::size_t offset = 0;
  if (!bad) {
    const std::size_t* dims = shape.data();
    std::size_t axis = 0;
    ((bad |= index_outside(index, dims[axis]), offset = offset * dims[axis] + static_cast<std::size_t>(index), ++axis), ...);
  }
  if (bad) [[unlikely]] {
    const std::int64_t given[] = {static_cast<std::int64_t>(index)..., 0};
    throw_bad_access(dtype, dtype_of_v<T>, shape, std::span<const std::int64_t>(given, n));
  }
  return offset;
}

IMIO_EXPORT std::size_t element_count(const Shape& shape) noexcept;
IMIO_EXPORT std::vector<std::ptrdiff_t> c_strides(const Shape& shape, DType dtype);
IMIO_EXPORT NDArray copy_of(const std::byte* data, const Shape& shape, DType dtype);
IMIO_EXPORT Shape sub_shape(const std::byte* data, const Shape& shape, std::size_t index, DType dtype, std::size_t& offset);
}  // namespace detail

/// A non-owning view of an array's elements (or of a sub-array): shape,
/// dtype and typed access, like a numpy view. `ArrayView` may write the
/// elements, `ConstArrayView` only read them.
///
/// Lifetime: a view points into the buffer of the array it came from and is
/// valid as long as that buffer lives — while the NDArray lives, or the
/// NDArray it was moved into (a move keeps the buffer); a view of a
/// temporary array dangles, so taking one from an rvalue NDArray does not
/// compile. Views are C-contiguous: `strides()` are the C strides of shape().
template <class Byte>
class BasicArrayView {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, std::byte>, "a view is over bytes or const bytes");
  template <class T>
  using Element = std::conditional_t<std::is_const_v<Byte>, const T, T>;

 public:
  /// An empty view (ndim 0, size 0).
  BasicArrayView() noexcept = default;
  /// A view of `data` as a C-contiguous array of `shape` and `dtype`.
  BasicArrayView(Byte* data, Shape shape, DType dtype) : data_(data), shape_(std::move(shape)), dtype_(dtype) {}
  /// A writable view is also a read-only view.
  operator BasicArrayView<const std::byte>() const
    requires(!std::is_const_v<Byte>)
  {
    return {data_, shape_, dtype_};
  }

  /// Sizes of the axes, outermost first.
  const Shape& shape() const noexcept { return shape_; }
  /// Number of axes.
  std::size_t ndim() const noexcept { return shape_.size(); }
  /// Number of elements (0 for an empty view).
  std::size_t size() const noexcept { return data_ == nullptr ? 0 : detail::element_count(shape_); }
  /// Size of the elements in bytes.
  std::size_t nbytes() const noexcept { return size() * itemsize(dtype_); }
  /// Element type.
  DType dtype() const noexcept { return dtype_; }
  /// Whether the view has no elements.
  bool empty() const noexcept { return size() == 0; }
  /// Byte strides per axis (C order).
  std::vector<std::ptrdiff_t> strides() const { return detail::c_strides(shape_, dtype_); }
  /// The raw elements (nbytes() bytes, C order); nullptr for an empty view.
  Byte* bytes() const noexcept { return data_; }

  /// Typed pointer; ArgumentError unless dtype_of_v<T> == dtype().
  template <class T>
  Element<T>* data() const {
    if (dtype_of_v<T> != dtype_) detail::throw_dtype_mismatch(dtype_, dtype_of_v<T>);
    return reinterpret_cast<Element<T>*>(data_);
  }
  /// All elements as a span in C order; ArgumentError unless T matches dtype().
  template <class T>
  std::span<Element<T>> values() const {
    return {data<T>(), size()};
  }
  /// Bounds-checked element access: one index per axis; IndexError when out
  /// of range, ArgumentError when the count or T is wrong.
  template <class T, class... I>
  Element<T>& at(I... index) const {
    return reinterpret_cast<Element<T>*>(data_)[detail::checked_offset<T>(data_, shape_, dtype_, index...)];
  }
  /// The i-th sub-array along the first axis (a frame of a batch, a row of
  /// an image), a view of the same buffer; IndexError when out of range or
  /// the view has no axis.
  BasicArrayView operator[](std::size_t i) const {
    std::size_t offset = 0;
    Shape sub = detail::sub_shape(data_, shape_, i, dtype_, offset);
    return {data_ + offset, std::move(sub), dtype_};
  }
  /// An owning copy of the elements.
  NDArray copy() const;

 private:
  Byte* data_ = nullptr;
  Shape shape_{};
  DType dtype_ = DType::uint8;
};

/// A view that may write the elements.
using ArrayView = BasicArrayView<std::byte>;
/// A view that only reads the elements.
using ConstArrayView = BasicArrayView<const std::byte>;

/// Frees the memory kept from destroyed arrays for later ones (see
/// NDArray::alignment) and returns its size in bytes: for a program that
/// has read its images and turns to other work.
IMIO_EXPORT std::size_t release_kept_memory() noexcept;

/// An owned, C-contiguous, 64-byte aligned n-dimensional array.
///
/// Move-only: copy() is the only way to duplicate pixels. Element access is
/// checked against the dtype (data<T>() throws ArgumentError when T does not
/// match). A default-constructed NDArray is empty (ndim 0, size 0); an array
/// of shape {} is a scalar holding one element.
///
/// Thread-safety: like a std::vector — concurrent const access is safe.
class IMIO_EXPORT NDArray {
 public:
  /// Buffer alignment in bytes (arrays of 4 MiB and more: 2 MiB, offered
  /// to the kernel as huge pages).
  ///
  /// Memory: destroyed arrays' blocks are kept for later arrays, so that
  /// reading one image or one batch after another does not fault in fresh
  /// pages each time (not in AddressSanitizer builds):
  /// - of 4 MiB or more: the blocks of the last two (up to 128 MiB in all),
  ///   for the next arrays of at most their size and at least half of it;
  /// - of 4 KiB up to 4 MiB: blocks in size classes eight to a power of two
  ///   (at most 1/8 larger than the array), for the next arrays of their
  ///   class, up to 1/16 of the machine's memory and 1 GiB in all; a block
  ///   unused for 2 s is freed by the next such array made or destroyed.
  /// Other blocks go back to the system at once; release_kept_memory()
  /// frees the kept ones.
  static constexpr std::size_t alignment = 64;

  NDArray() noexcept = default;
  /// A zero-filled array. Throws LimitError if the byte size overflows.
  NDArray(Shape shape, DType dtype);
  /// An array whose contents are unspecified, for decoders that overwrite everything.
  static NDArray uninitialized(Shape shape, DType dtype);
  /// Wraps memory the caller allocated (zero-copy); `deleter(data)` runs when
  /// the array dies (it must not throw). `data` must be suitably aligned for
  /// the dtype. ArgumentError for null data, LimitError when the byte size
  /// overflows; the deleter is not called then.
  template <class Deleter>
    requires std::invocable<Deleter&, void*>
  static NDArray adopt(void* data, Shape shape, DType dtype, Deleter deleter) {
    if constexpr (std::is_empty_v<Deleter> && std::is_default_constructible_v<Deleter>) {
      // A stateless deleter (a lambda without captures) needs no owner per
      // array: one shared releaser, and no heap allocation per adopt().
      struct Stateless final : detail::ArrayReleaser {
        void release(void* p) noexcept override { Deleter{}(p); }
      };
      static Stateless releaser;
      return adopt_with(data, std::move(shape), dtype, &releaser);
    }
    struct Owner final : detail::ArrayReleaser {
      explicit Owner(Deleter&& d) : deleter(std::move(d)) {}
      void release(void* p) noexcept override {
        deleter(p);
        delete this;
      }
      Deleter deleter;
    };
    Owner* owner = new Owner(std::move(deleter));
    try {
      return adopt_with(data, std::move(shape), dtype, owner);
    } catch (...) {
      delete owner;
      throw;
    }
  }

  /// Takes the buffer of `other`, which is left without data (size 0, shape {}).
  NDArray(NDArray&& other) noexcept;
  /// Releases this array's buffer and takes the buffer of `other`, which is
  /// left without data (size 0, shape {}).
  NDArray& operator=(NDArray&& other) noexcept;
  NDArray(const NDArray&) = delete;
  NDArray& operator=(const NDArray&) = delete;
  ~NDArray();

  /// Sizes of the axes, outermost first.
  const Shape& shape() const noexcept { return shape_; }
  /// Number of axes (0 for a scalar and for a default-constructed array).
  std::size_t ndim() const noexcept { return shape_.size(); }
  /// Number of elements (0 for a default-constructed array).
  std::size_t size() const noexcept;
  /// Size of the data in bytes: size() × itemsize(dtype()).
  std::size_t nbytes() const noexcept { return size() * itemsize(dtype_); }
  /// Element type.
  DType dtype() const noexcept { return dtype_; }
  /// Whether the array has no elements.
  bool empty() const noexcept { return size() == 0; }
  /// Byte strides per axis (C order).
  std::vector<std::ptrdiff_t> strides() const;

  /// The raw, untyped data (nbytes() bytes, C order); nullptr for a default-constructed
  /// or moved-from array.
  std::byte* bytes() noexcept { return data_; }
  /// The raw, untyped data (nbytes() bytes, C order); nullptr for a default-constructed
  /// or moved-from array.
  const std::byte* bytes() const noexcept { return data_; }

  /// Typed pointer; throws ArgumentError unless dtype_of_v<T> == dtype().
  template <class T>
  T* data() {
    if (dtype_of_v<T> != dtype_) detail::throw_dtype_mismatch(dtype_, dtype_of_v<T>);
    return reinterpret_cast<T*>(data_);
  }
  /// Typed read-only pointer; throws ArgumentError unless dtype_of_v<T> == dtype().
  template <class T>
  const T* data() const {
    if (dtype_of_v<T> != dtype_) detail::throw_dtype_mismatch(dtype_, dtype_of_v<T>);
    return reinterpret_cast<const T*>(data_);
  }
  /// All elements as a span in C order; throws ArgumentError unless T matches dtype().
  template <class T>
  std::span<T> values() {
    return {data<T>(), size()};
  }
  /// All elements as a read-only span in C order; throws ArgumentError unless
  /// T matches dtype().
  template <class T>
  std::span<const T> values() const {
    return {data<T>(), size()};
  }

  /// Bounds-checked element access: one index per axis; IndexError when out
  /// of range, ArgumentError when the count or T is wrong.
  template <class T, class... I>
  T& at(I... index) {
    return reinterpret_cast<T*>(data_)[detail::checked_offset<T>(data_, shape_, dtype_, index...)];
  }
  /// Bounds-checked read-only element access (see the non-const overload).
  template <class T, class... I>
  const T& at(I... index) const {
    return reinterpret_cast<const T*>(data_)[detail::checked_offset<T>(data_, shape_, dtype_, index...)];
  }

  /// The i-th sub-array along the first axis — a frame of a batch `(N,H,W,C)`,
  /// a row of an image — as a view of this array's buffer (numpy's `a[i]`);
  /// views of views index further (`a[2][10]`). IndexError when out of range
  /// or the array has no axis.
  ArrayView operator[](std::size_t i) & { return view()[i]; }
  /// A read-only view of the i-th sub-array along the first axis.
  ConstArrayView operator[](std::size_t i) const& { return view()[i]; }
  /// A temporary's buffer dies with it: no view of it.
  ConstArrayView operator[](std::size_t i) && = delete;
  /// The whole array as a view (writable).
  ArrayView view() & { return {data_, shape_, dtype_}; }
  /// The whole array as a read-only view.
  ConstArrayView view() const& { return {data_, shape_, dtype_}; }
  /// A temporary's buffer dies with it: no view of it.
  ConstArrayView view() && = delete;
  /// An array converts to a view of itself (functions can take ConstArrayView).
  operator ArrayView() & { return view(); }
  /// An array converts to a read-only view of itself.
  operator ConstArrayView() const& { return view(); }
  /// A temporary's buffer dies with it: no view of it.
  operator ConstArrayView() && = delete;

  /// A new array of `dtype` holding these elements converted as numpy's
  /// `astype(dtype)` (casting="unsafe") converts them on x86-64: integers
  /// wrap modulo 2^bits; floats to integers truncate toward zero, and a value
  /// beyond the target's range or NaN gives what numpy gives there (the
  /// integer-indefinite value of a 32- or 64-bit conversion, then the low
  /// bits; for float → uint32 numpy's result depends on the array's length,
  /// and imio's is that of its element-by-element loop); to bool: nonzero
  /// (NaN included) is true; to float16: rounded to nearest even, ±inf beyond
  /// its range. The same dtype gives a copy.
  NDArray astype(DType dtype) const;

  /// A deep copy.
  NDArray copy() const;
  /// The same elements under another shape of equal size (ArgumentError otherwise).
  NDArray reshaped(Shape shape) &&;
  /// Stacks arrays of equal shape and dtype along a new first axis
  /// (ArgumentError when they differ or the list is empty).
  static NDArray stack(std::span<const NDArray> arrays);

  /// Same dtype, shape and bytes.
  bool operator==(const NDArray& other) const noexcept;

 private:
  using Releaser = detail::ArrayReleaser;
  static NDArray adopt_with(void* data, Shape shape, DType dtype, Releaser* releaser);
  void release() noexcept;

  std::byte* data_ = nullptr;
  Shape shape_{};
  DType dtype_ = DType::uint8;
  Releaser* releaser_ = nullptr;
};

template <class Byte>
NDArray BasicArrayView<Byte>::copy() const {
  return detail::copy_of(data_, shape_, dtype_);
}

/// One line: `NDArray(shape=(300, 451, 3), dtype=uint8)` (no elements).
IMIO_EXPORT std::ostream& operator<<(std::ostream& out, const NDArray& array);
/// One line: `ArrayView(shape=(451, 3), dtype=uint8)`.
IMIO_EXPORT std::ostream& operator<<(std::ostream& out, ConstArrayView view);

}  // namespace imio
