// Medium arrays' memory (see array_blocks.hpp).
//
// Why keep freed blocks: an array's fresh pages are faulted in (and zeroed
// by the kernel) as the decoder first writes them. glibc hands freed memory
// back to the kernel once the top of a heap is free: a batch of 500 arrays of
// 768 KiB (512×512 RGB) made and dropped, again and again, faulted in every
// page each round, on one thread as on two; on a virtual machine whose page
// faults cost 10 µs each (2026-12-07, the 2-core development VM) that was a
// second per round for 0.4 s of decoding, and imread_many on two threads
// was no faster than a loop on one. Kept blocks serve the next arrays of
// their size class instead: a loader reading batch after batch, or a loop
// over the images of a folder, reuses its memory. Small arrays too (from
// 4 KiB): imread_many's worker thread, new for each call, took fresh pages
// for its share of 500 arrays of 64×64 RGB (12 KiB) from glibc, 26 to 500
// faults a call, where the loop on the main thread took none.
//
// Bounds: at most a sixteenth of the machine's memory (1 GiB at most) is
// kept; a block kept for kKeepFor unused is freed by the next allocation or
// release of a medium array after that, and release_kept_memory() frees
// them all. Not under AddressSanitizer, where a reused block would hide a
// use after free.
#include "array_blocks.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>

#include <unistd.h>

namespace imio::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Size classes: eight per power of two from 4 KiB (2^12) up to 4 MiB
// (2^22), so that a block is at most 1/8 larger than its array.
constexpr unsigned kFirstOctave = 12;
constexpr unsigned kStepsPerOctave = 8;
constexpr std::size_t kClasses = (22 - kFirstOctave) * kStepsPerOctave + 1;
static_assert(kMediumArrayBytes == std::size_t{1} << kFirstOctave);
static_assert(kLargeArrayBytes == std::size_t{1} << 22);

constexpr Clock::duration kKeepFor = std::chrono::seconds(2);
constexpr Clock::duration kSweepEvery = std::chrono::seconds(1);

std::size_t class_capacity(std::size_t bytes) {
  const std::size_t step = std::size_t{1} << (std::bit_width(bytes) - 1 - 3);
  return (bytes + step - 1) / step * step;
}
std::size_t class_index(std::size_t capacity) {
  const unsigned top = static_cast<unsigned>(std::bit_width(capacity)) - 1;
  return (top - kFirstOctave) * kStepsPerOctave + (capacity >> (top - 3)) - kStepsPerOctave;
}
std::size_t capacity_of(std::size_t index) {
  const std::size_t top = kFirstOctave + index / kStepsPerOctave;
  return (kStepsPerOctave + index % kStepsPerOctave) << (top - 3);
}

void free_block(void* p) noexcept { ::operator delete(p, std::align_val_t{NDArray::alignment}); }

// What a kept block holds at its start: the next kept block of its class
// (newer ones first) and when it was kept.
struct KeptBlock {
  KeptBlock* next;
  Clock::time_point kept_at;
};

std::size_t kept_bytes_allowed() {
  constexpr std::size_t kMost = std::size_t{1} << 30;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return kMost / 4;
  return std::min<std::size_t>(kMost, static_cast<std::size_t>(pages) / 16 * static_cast<std::size_t>(page));
}

class MediumBlocks {
 public:
  /// A kept block of class `index`, or nullptr.
  void* take(std::size_t index) noexcept {
    if (!IMIO_KEEP_FREED_BLOCKS) return nullptr;
    KeptBlock* stale = nullptr;
    KeptBlock* block = nullptr;
    {
      std::lock_guard lock(mutex_);
      stale = sweep(Clock::now());
      block = heads_[index];
      if (block != nullptr) {
        heads_[index] = block->next;
        total_ -= capacity_of(index);
      }
    }
    free_all(stale);
    return block;
  }

  /// Keeps `p`, a block of class `index`, or frees it when the kept
  /// blocks are at their bound.
  void keep(void* p, std::size_t index) noexcept {
    const std::size_t capacity = capacity_of(index);
    KeptBlock* stale = nullptr;
    bool kept = false;
    if (IMIO_KEEP_FREED_BLOCKS) {
      std::lock_guard lock(mutex_);
      const Clock::time_point now = Clock::now();
      stale = sweep(now);
      if (total_ + capacity <= allowed_) {
        heads_[index] = new (p) KeptBlock{heads_[index], now};
        total_ += capacity;
        kept = true;
      }
    }
    if (!kept) free_block(p);
    free_all(stale);
  }

  std::mutex& mutex() noexcept { return mutex_; }

  std::size_t release_all() noexcept {
    std::array<KeptBlock*, kClasses> all{};
    std::size_t bytes = 0;
    {
      std::lock_guard lock(mutex_);
      all = heads_;
      heads_ = {};
      bytes = std::exchange(total_, 0);
    }
    for (KeptBlock* list : all) free_all(list);
    return bytes;
  }

 private:
  // Unlinks the blocks kept for longer than kKeepFor (each class's list is
  // newest first, so they are its tail), at most once per kSweepEvery;
  // returns them chained, for free_all() outside the lock.
  KeptBlock* sweep(Clock::time_point now) noexcept {
    if (total_ == 0 || now - last_sweep_ < kSweepEvery) return nullptr;
    last_sweep_ = now;
    KeptBlock* stale = nullptr;
    for (std::size_t i = 0; i < kClasses; ++i) {
      KeptBlock** link = &heads_[i];
      while (*link != nullptr && now - (*link)->kept_at < kKeepFor) link = &(*link)->next;
      for (KeptBlock* b = std::exchange(*link, nullptr); b != nullptr;) {
        KeptBlock* next = b->next;
        total_ -= capacity_of(i);
        b->next = stale;
        stale = b;
        b = next;
      }
    }
    return stale;
  }

  static void free_all(KeptBlock* list) noexcept {
    while (list != nullptr) free_block(std::exchange(list, list->next));
  }

  std::mutex mutex_;
  std::array<KeptBlock*, kClasses> heads_{};
  std::size_t total_ = 0;
  const std::size_t allowed_ = kept_bytes_allowed();
  Clock::time_point last_sweep_{};
};

MediumBlocks& medium_blocks() { return process_blocks<MediumBlocks>(); }

// One per size class, never destroyed either.
struct MediumBlockReleaser final : ArrayReleaser {
  void release(void* p) noexcept override { medium_blocks().keep(p, index); }
  std::size_t index = 0;
};
MediumBlockReleaser& releaser_for(std::size_t index) {
  static MediumBlockReleaser* releasers = [] {
    auto* r = new MediumBlockReleaser[kClasses];
    for (std::size_t i = 0; i < kClasses; ++i) r[i].index = i;
    return r;
  }();
  return releasers[index];
}

}  // namespace

std::byte* medium_block(std::size_t bytes, ArrayReleaser*& releaser) {
  const std::size_t capacity = class_capacity(bytes);
  const std::size_t index = class_index(capacity);
  void* block = medium_blocks().take(index);
  if (block == nullptr) block = ::operator new(capacity, std::align_val_t{NDArray::alignment});
  releaser = &releaser_for(index);
  return static_cast<std::byte*>(block);
}

std::size_t release_medium_blocks() noexcept { return medium_blocks().release_all(); }

}  // namespace imio::detail
