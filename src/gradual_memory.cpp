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

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

namespace imio::detail {
namespace {

constexpr std::uintptr_t kPage = 4096;
constexpr std::size_t kHugePage = std::size_t{2} << 20;

}  // namespace

NDArray small_page_array(Shape shape, DType dtype, std::size_t nbytes) {
  NDArray array = NDArray::uninitialized(std::move(shape), dtype);
#ifdef MADV_NOHUGEPAGE
  // Only a block that could hold a huge page (with THP "always", even
  // memory nobody advised gets them; NDArray advises large arrays to use
  // them, which this advice overrides), and only the whole pages inside it:
  // the advice must not reach memory the allocator shares with other blocks.
  // (Advice: failure changes nothing.)
  if (nbytes >= kHugePage) {
    const auto p = reinterpret_cast<std::uintptr_t>(array.bytes());
    const auto begin = (p + kPage - 1) / kPage * kPage;
    const auto end = (p + nbytes) / kPage * kPage;
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_NOHUGEPAGE);
  }
#endif
  return array;
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
