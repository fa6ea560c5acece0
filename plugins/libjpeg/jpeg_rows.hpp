// Where libjpeg writes decoded rows when they do not go straight into the
// result: a block of rows none of which starts on a 32-byte boundary.
//
// Why: libjpeg-turbo's AVX2 YCbCr→RGB conversion (2.1.5's disassembly: a
// `test rdi, 0x1f` per output chunk, then `vmovntdq`; the library holds about
// 100 such stores in all) writes an output chunk that is 32-byte aligned
// with non-temporal stores, which bypass the cache. For an image that fits in the cache that is a
// loss: each call then waits for the previous call's stores to reach memory,
// and the caller reads the pixels back from memory. 500 files of 64×64 RGB
// took 9.5–11.6 ms with 32-byte-aligned output rows against 6.8 ms with rows
// 16 bytes off (a plain libjpeg loop over the files in memory). imio's arrays are
// 64-byte aligned, so a small image is decoded through these rows (hot in
// L1) and copied; a large one goes straight into its array, where the
// non-temporal stores cost nothing measurable (2048×2048: 8.45 ms aligned
// against 8.55 ms not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace imio::libjpeg {

/// Output larger than this many bytes is decoded straight into the result
/// (see above: the crossover measured with 128² … 2048² images was between
/// 512² and 1024² RGB; the copy costs about what the cache saves at 512²).
inline constexpr std::size_t kScratchDecodeLimit = std::size_t{256} << 10;

class RowScratch {
 public:
  static constexpr unsigned kMaxRows = 16;
  /// `rows` (at most kMaxRows) rows of `row_bytes` each.
  RowScratch(unsigned rows, std::size_t row_bytes)
      : row_bytes_(row_bytes),
        stride_((row_bytes + 31) / 32 * 32),
        block_(std::make_unique_for_overwrite<unsigned char[]>(stride_ * rows + 32)) {
    // The first row at 16 mod 32; stride_ is a multiple of 32, so every row is.
    const auto address = reinterpret_cast<std::uintptr_t>(block_.get());
    unsigned char* first = block_.get() + (48 - address % 32) % 32;
    for (unsigned i = 0; i < rows && i < kMaxRows; ++i) rows_[i] = first + i * stride_;
  }
  unsigned char** rows() noexcept { return rows_; }
  /// The rows follow each other without a gap (their length is a multiple of 32).
  bool contiguous() const noexcept { return stride_ == row_bytes_; }

 private:
  std::size_t row_bytes_;
  std::size_t stride_;
  std::unique_ptr<unsigned char[]> block_;
  unsigned char* rows_[kMaxRows] = {};
};

}  // namespace imio::libjpeg
