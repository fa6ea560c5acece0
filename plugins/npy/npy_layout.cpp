#include "npy_layout.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace imio::npy {
namespace {

template <class U>
U reversed_bytes(U v) noexcept {
  if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(v));
  if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
  if constexpr (sizeof(U) == 8) return __builtin_bswap64(v);
}

template <class U>
void swap_all(std::byte* data, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    U v;
    std::memcpy(&v, data + i * sizeof(U), sizeof(U));
    v = reversed_bytes(v);
    std::memcpy(data + i * sizeof(U), &v, sizeof(U));
  }
}

// The axes that matter for the layout: those longer than 1.
Shape without_unit_axes(const Shape& shape) {
  Shape out;
  std::copy_if(shape.begin(), shape.end(), std::back_inserter(out), [](std::size_t d) { return d != 1; });
  return out;
}

// Walks the destination in C order, reading the source with Fortran strides.
template <std::size_t N>
void transpose(const std::byte* src, std::byte* dst, const Shape& shape) {
  const std::size_t ndim = shape.size();
  // Fortran strides in bytes: axis k advances by the product of the axes before it.
  std::vector<std::size_t> stride(ndim);
  std::size_t step = N;
  for (std::size_t k = 0; k < ndim; ++k) {
    stride[k] = step;
    step *= shape[k];
  }
  const std::size_t inner = shape[ndim - 1];
  const std::size_t inner_stride = stride[ndim - 1];
  std::vector<std::size_t> index(ndim, 0);
  std::size_t offset = 0;
  for (;;) {
    const std::byte* s = src + offset;
    for (std::size_t i = 0; i < inner; ++i, s += inner_stride, dst += N) std::memcpy(dst, s, N);
    // Odometer over the outer axes, last of them fastest.
    std::size_t k = ndim - 1;
    while (k-- > 0) {
      offset += stride[k];
      if (++index[k] < shape[k]) break;
      offset -= stride[k] * shape[k];
      index[k] = 0;
    }
    if (k == static_cast<std::size_t>(-1)) return;
  }
}

}  // namespace

void byteswap_elements(std::byte* data, std::size_t count, std::size_t itemsize) noexcept {
  switch (itemsize) {
    case 2: swap_all<std::uint16_t>(data, count); break;
    case 4: swap_all<std::uint32_t>(data, count); break;
    case 8: swap_all<std::uint64_t>(data, count); break;
    default: break;  // single bytes have no order
  }
}

bool fortran_differs_from_c(const Shape& shape) noexcept {
  const auto longer = std::count_if(shape.begin(), shape.end(), [](std::size_t d) { return d > 1; });
  const bool empty = std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end();
  return longer >= 2 && !empty;
}

void fortran_to_c(const std::byte* src, std::byte* dst, const Shape& shape, std::size_t itemsize) {
  const Shape axes = without_unit_axes(shape);
  if (!fortran_differs_from_c(axes)) {
    std::size_t n = itemsize;
    for (const std::size_t d : shape) n *= d;
    if (n > 0) std::memcpy(dst, src, n);
    return;
  }
  switch (itemsize) {
    case 1: transpose<1>(src, dst, axes); break;
    case 2: transpose<2>(src, dst, axes); break;
    case 4: transpose<4>(src, dst, axes); break;
    default: transpose<8>(src, dst, axes); break;
  }
}

void canonicalize_bools(std::byte* data, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) data[i] = data[i] != std::byte{0} ? std::byte{1} : std::byte{0};
}

void copy_canonical_bools(const std::byte* src, std::byte* dst, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] = src[i] != std::byte{0} ? std::byte{1} : std::byte{0};
}

}  // namespace imio::npy
