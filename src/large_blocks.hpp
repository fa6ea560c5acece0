// Memory for large arrays (4 MiB and more): 2 MiB-aligned blocks offered to
// the kernel as huge pages, and a few freed blocks kept for the next large
// array (see large_blocks.cpp).
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>

namespace imio::detail {

/// Arrays of at least this many bytes come from large_block().
inline constexpr std::size_t kLargeArrayBytes = std::size_t{4} << 20;

/// A block of at least `bytes` (≥ kLargeArrayBytes), uninitialized, 2 MiB
/// aligned, and the releaser that frees or keeps it when its array goes.
/// Throws std::bad_alloc.
std::byte* large_block(std::size_t bytes, ArrayReleaser*& releaser);

/// Frees every kept large block; returns their bytes.
std::size_t release_large_blocks() noexcept;

}  // namespace imio::detail
