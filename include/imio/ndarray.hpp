// imio — DType, Shape and NDArray: the owned, typed, C-contiguous array every
// read returns and every write takes.
#pragma once

#include <imio/error.hpp>
#include <imio/export.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
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
  /// Buffer alignment in bytes.
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
    check_dtype(dtype_of_v<T>);
    return reinterpret_cast<T*>(data_);
  }
  /// Typed read-only pointer; throws ArgumentError unless dtype_of_v<T> == dtype().
  template <class T>
  const T* data() const {
    check_dtype(dtype_of_v<T>);
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
  T& at(I... idx) {
    return data<T>()[offset_of({static_cast<std::size_t>(idx)...}, {static_cast<std::int64_t>(idx)...})];
  }
  /// Bounds-checked read-only element access (see the non-const overload).
  template <class T, class... I>
  const T& at(I... idx) const {
    return data<T>()[offset_of({static_cast<std::size_t>(idx)...}, {static_cast<std::int64_t>(idx)...})];
  }

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
  void check_dtype(DType wanted) const;
  std::size_t offset_of(std::initializer_list<std::size_t> idx, std::initializer_list<std::int64_t> signed_idx) const;
  void release() noexcept;

  std::byte* data_ = nullptr;
  Shape shape_{};
  DType dtype_ = DType::uint8;
  Releaser* releaser_ = nullptr;
};

}  // namespace imio
