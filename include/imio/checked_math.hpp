// imio — overflow-checked size arithmetic, for allocations computed from
// numbers a file states. For plugin authors.
#pragma once

#include <imio/ndarray.hpp>

#include <cstdint>
#include <optional>
#include <span>

namespace imio {

/// a × b, or nullopt when the product overflows 64 bits.
inline std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

/// a + b, or nullopt when the sum overflows 64 bits.
inline std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

/// The product of `dims`, or nullopt on overflow.
template <class T>
std::optional<std::uint64_t> checked_product(std::span<const T> dims) noexcept {
  std::uint64_t r = 1;
  for (const auto d : dims) {
    auto next = checked_mul(r, static_cast<std::uint64_t>(d));
    if (!next) return std::nullopt;
    r = *next;
  }
  return r;
}

/// The byte size of an array of `shape` and `dtype`, or nullopt on overflow.
inline std::optional<std::uint64_t> checked_nbytes(const Shape& shape, DType dtype) noexcept {
  const auto n = checked_product(std::span<const std::size_t>(shape));
  return n ? checked_mul(*n, itemsize(dtype)) : std::nullopt;
}

}  // namespace imio
