// Why not huge pages for a video's frames: on a VM whose balloon reports free
// memory to the host (virtio-balloon free page reporting, Firecracker), the
// free blocks of 2 MiB and more are handed back to the host, and a fresh huge
// page is faulted in by the host 4 KiB at a time: filling a 774 MB stack of
// 720p frames took 1.0-2.0 s of kernel time once its blocks had been free a
// few seconds, as in a fresh process (0.1 s when the same blocks had just
// been freed), against 0.3 s in 4 KiB pages, which
// the guest serves from its low-order free lists, and 0.13-0.25 s in 4 KiB
// pages mapped a frame at a time by MADV_POPULATE_WRITE (docs/performance.md,
// "Video"). A stack sized by an overstated frame count also never maps its
// unused tail this way.
#include "gradual_memory.hpp"

#include <cstdint>
#include <new>

#include <fmt/format.h>

#include <imio/error.hpp>

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

namespace imio::detail {
namespace {

constexpr std::uintptr_t kPage = 4096;
[[maybe_unused]] constexpr std::size_t kHugePage = std::size_t{2} << 20;

}  // namespace

NDArray small_page_array(Shape shape, DType dtype, std::size_t nbytes) {
#ifdef MADV_NOHUGEPAGE
  // A block of its own, never one of the freed large arrays' blocks that
  // NDArray keeps (large_blocks.cpp), which may hold huge pages already;
  // and never kept either. (Advice: failure changes nothing.)
  if (nbytes >= kHugePage) {
    const std::size_t rounded = (nbytes + kHugePage - 1) / kHugePage * kHugePage;
    void* block = nullptr;
    try {
      block = ::operator new(rounded, std::align_val_t{kHugePage});
    } catch (const std::bad_alloc&) {
      // imio's errors, as NDArray::uninitialized gives them
      throw LimitError(fmt::format("cannot allocate {} bytes for a stack of frames", nbytes));
    }
    ::madvise(block, rounded, MADV_NOHUGEPAGE);
    return NDArray::adopt(block, std::move(shape), dtype,
                          [](void* p) { ::operator delete(p, std::align_val_t{kHugePage}); });
  }
#endif
  (void)nbytes;
  return NDArray::uninitialized(std::move(shape), dtype);
}

void prefault_pages(std::byte* data, std::size_t n) noexcept {
#ifdef MADV_POPULATE_WRITE
  if (n == 0) return;
  // Whole pages around the range: pages already mapped cost nothing, and a
  // kernel without MADV_POPULATE_WRITE (before Linux 5.14) returns EINVAL,
  // after which writing faults the pages in as usual.
  const auto begin = reinterpret_cast<std::uintptr_t>(data) / kPage * kPage;
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + n + kPage - 1) / kPage * kPage;
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)n;
#endif
}

}  // namespace imio::detail
