// Turning the array data of a .npy file into imio's layout: native byte
// order, C order, bool bytes of 0 and 1.
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>

namespace imio::npy {

/// Reverses the bytes of each of the `count` elements of `itemsize` bytes.
void byteswap_elements(std::byte* data, std::size_t count, std::size_t itemsize) noexcept;

/// True when Fortran-order data of `shape` are laid out differently from C
/// order (at least two axes longer than 1).
bool fortran_differs_from_c(const Shape& shape) noexcept;

/// Copies Fortran-order (first axis fastest) elements of `shape` from `src`
/// into C order (last axis fastest) at `dst`. The buffers must not overlap.
void fortran_to_c(const std::byte* src, std::byte* dst, const Shape& shape, std::size_t itemsize);

/// Makes every nonzero byte 1: numpy's bool is one byte holding 0 or 1, and
/// any other value in a file must not become an invalid C++ bool.
void canonicalize_bools(std::byte* data, std::size_t count) noexcept;

/// Copies `count` bytes of bool data to `dst` as 0 and 1.
void copy_canonical_bools(const std::byte* src, std::byte* dst, std::size_t count) noexcept;

}  // namespace imio::npy
