// Memory for NDArray's buffers from 4 KiB on, and the freed blocks kept for
// later arrays: medium arrays in size classes (medium_blocks.cpp), large
// ones as 2 MiB-aligned blocks offered to the kernel as huge pages
// (large_blocks.cpp). Smaller arrays come from operator new as they are.
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>
#include <mutex>

#include <pthread.h>

// Freed blocks are kept, except under AddressSanitizer, where a reused
// block would hide a use after free.
#if defined(__SANITIZE_ADDRESS__)
#define IMIO_KEEP_FREED_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMIO_KEEP_FREED_BLOCKS 0
#endif
#endif
#ifndef IMIO_KEEP_FREED_BLOCKS
#define IMIO_KEEP_FREED_BLOCKS 1
#endif

namespace imio::detail {

/// Arrays of at least this many bytes, and under kLargeArrayBytes, come
/// from medium_block().
inline constexpr std::size_t kMediumArrayBytes = std::size_t{4} << 10;
/// Arrays of at least this many bytes come from large_block().
inline constexpr std::size_t kLargeArrayBytes = std::size_t{4} << 20;

/// A block of at least `bytes` (in [kMediumArrayBytes, kLargeArrayBytes)),
/// uninitialized, NDArray::alignment aligned, and the releaser that keeps
/// or frees it when its array goes. Throws std::bad_alloc.
std::byte* medium_block(std::size_t bytes, ArrayReleaser*& releaser);

/// A block of at least `bytes` (≥ kLargeArrayBytes), uninitialized, 2 MiB
/// aligned, and the releaser that frees or keeps it when its array goes.
/// Throws std::bad_alloc.
std::byte* large_block(std::size_t bytes, ArrayReleaser*& releaser);

/// The one T of the process, never destroyed (arrays released during static
/// destruction still find it), whose mutex (T::mutex()) is held across
/// fork(): a fork while another thread held it would leave the child's copy
/// locked for good, and the child's first array made or destroyed would
/// hang (glibc guards malloc's arenas the same way).
template <class T>
T& process_blocks() {
  static T* const instance = [] {
    T* blocks = new T;
    ::pthread_atfork([] { process_blocks<T>().mutex().lock(); }, [] { process_blocks<T>().mutex().unlock(); },
                     [] { process_blocks<T>().mutex().unlock(); });
    return blocks;
  }();
  return *instance;
}

/// Free every kept block of their kind; return their bytes.
std::size_t release_medium_blocks() noexcept;
std::size_t release_large_blocks() noexcept;

}  // namespace imio::detail
