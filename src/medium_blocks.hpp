// Memory for medium arrays (4 KiB up to 4 MiB): blocks in size classes,
// freed blocks kept for the next arrays of their class (see
// medium_blocks.cpp).
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>

namespace imio::detail {

/// Arrays of at least this many bytes (and under kLargeArrayBytes) come
/// from medium_block().
inline constexpr std::size_t kMediumArrayBytes = std::size_t{4} << 10;

/// A block of at least `bytes` (in [kMediumArrayBytes, kLargeArrayBytes)),
/// uninitialized, NDArray::alignment aligned, and the releaser that keeps
/// or frees it when its array goes. Throws std::bad_alloc.
std::byte* medium_block(std::size_t bytes, ArrayReleaser*& releaser);

/// Frees every kept medium block; returns their bytes.
std::size_t release_medium_blocks() noexcept;

}  // namespace imio::detail
