// Large arrays' memory (see array_blocks.hpp).
//
// Why huge pages: filling a fresh multi-megabyte array otherwise spends most
// of its time in 4 KiB page faults (measured 2.5x slower for a 256 MiB .npy
// read).
//
// Why keep freed blocks: a fresh block's pages are still faulted in (and
// zeroed by the kernel) as the decoder first writes them, a fifth of a
// 12.6 MP JPEG's imread (37.9 ms, against 29.5 ms into a reused array with
// imread_into). glibc keeps freed memory of up to 32 MiB for its next
// allocations itself, but gave none back here for these 2 MiB-aligned
// blocks: a program reading one photograph after another faulted in every
// array. So the last freed blocks, up to kKeptBlocks of kKeptBytes in all,
// serve the next large arrays of at most their size and at least half of
// it; the rest are freed at once. Not under AddressSanitizer, where a reused
// block would hide a use after free.
#include "array_blocks.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <new>
#include <utility>

#include <sys/mman.h>

namespace imio::detail {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kKeptBlocks = 2;
constexpr std::size_t kKeptBytes = std::size_t{128} << 20;

void free_block(void* p) noexcept { ::operator delete(p, std::align_val_t{kHugePage}); }

class KeptBlocks {
 public:
  struct Block {
    void* data = nullptr;
    std::size_t capacity = 0;
  };

  /// A kept block for `bytes` (a multiple of kHugePage): the smallest of at
  /// least `bytes` and at most twice that; an empty Block when none fits.
  Block take(std::size_t bytes) noexcept {
    std::lock_guard lock(mutex_);
    std::size_t best = count_;
    for (std::size_t i = 0; i < count_; ++i) {
      const std::size_t c = blocks_[i].capacity;
      if (c >= bytes && c / 2 <= bytes && (best == count_ || c < blocks_[best].capacity)) best = i;
    }
    if (best == count_) return {};
    const Block out = blocks_[best];
    remove(best);
    return out;
  }

  std::mutex& mutex() noexcept { return mutex_; }

  std::size_t release_all() noexcept {
    std::array<Block, kKeptBlocks> all{};
    std::size_t bytes = 0;
    {
      std::lock_guard lock(mutex_);
      all = blocks_;
      blocks_ = {};
      count_ = 0;
      bytes = std::exchange(total_, 0);
    }
    for (const Block& b : all) {
      if (b.data != nullptr) free_block(b.data);
    }
    return bytes;
  }

  /// Keeps `block` for a later take(), freeing the oldest kept blocks to
  /// make room; frees it at once when it is larger than all kept may be.
  void keep(Block block) noexcept {
    if (!IMIO_KEEP_FREED_BLOCKS || block.capacity > kKeptBytes) {
      free_block(block.data);
      return;
    }
    std::array<void*, kKeptBlocks> evicted{};
    std::size_t n = 0;
    {
      std::lock_guard lock(mutex_);
      while (count_ > 0 && (count_ == kKeptBlocks || total_ + block.capacity > kKeptBytes)) {
        evicted[n++] = blocks_[0].data;
        remove(0);
      }
      blocks_[count_++] = block;
      total_ += block.capacity;
    }
    for (std::size_t i = 0; i < n; ++i) free_block(evicted[i]);
  }

 private:
  void remove(std::size_t i) noexcept {
    total_ -= blocks_[i].capacity;
    std::move(blocks_.begin() + static_cast<std::ptrdiff_t>(i) + 1, blocks_.begin() + static_cast<std::ptrdiff_t>(count_),
              blocks_.begin() + static_cast<std::ptrdiff_t>(i));
    blocks_[--count_] = {};
  }

  std::mutex mutex_;
  std::array<Block, kKeptBlocks> blocks_{};  // [0, count_): oldest first
  std::size_t count_ = 0, total_ = 0;
};

KeptBlocks& kept_blocks() { return process_blocks<KeptBlocks>(); }

// One per large array: its block's size, for keep().
struct LargeBlockReleaser final : ArrayReleaser {
  explicit LargeBlockReleaser(std::size_t c) : capacity(c) {}
  void release(void* p) noexcept override {
    kept_blocks().keep({p, capacity});
    delete this;
  }
  std::size_t capacity;
};

}  // namespace

std::byte* large_block(std::size_t bytes, ArrayReleaser*& releaser) {
  const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  KeptBlocks::Block block = kept_blocks().take(rounded);
  if (block.data == nullptr) block = {::operator new(rounded, std::align_val_t{kHugePage}), rounded};
  try {
    releaser = new LargeBlockReleaser(block.capacity);
  } catch (...) {
    free_block(block.data);
    throw;
  }
#ifdef MADV_HUGEPAGE
  // Again for a kept block: a video's stack turned it off (gradual_memory.cpp).
  ::madvise(block.data, block.capacity, MADV_HUGEPAGE);  // advice only: failure changes nothing
#endif
  return static_cast<std::byte*>(block.data);
}

std::size_t release_large_blocks() noexcept { return kept_blocks().release_all(); }

}  // namespace imio::detail
