// Where every few MCUs of a baseline scan without restart markers start,
// so that a reader's later crops decode only the MCUs around their box.
//
// Why: without restart markers a scan is one Huffman-coded bit string, and
// libjpeg must entropy-decode every MCU before a box (jpeg_skip_scanlines)
// and every column of the rows it returns (jpeg_crop_scanline): a crop of
// 1/16 of an image at its bottom-right costs half a whole decode. Walking
// the scan once with a decoder that only finds code boundaries (no
// coefficients kept, no inverse DCT) gives the bit position and the DC
// predictions at every `stride` MCUs of every row. From those, the MCUs
// around a box are cut out of the bit string and made into a smaller JPEG
// whose scan is those MCUs row after row: each DC value is coded as the
// difference from the previous block's of its component (T.81 §F.1.2.1), so
// in each band row's first MCU the first block of each component is
// re-coded with its difference from the band's previous row (from 0 in the
// first), and every other bit is copied as it is. The smaller JPEG then
// goes through libjpeg like the restart-interval bands of
// jpeg_restart_columns.hpp.
//
// The walk goes only as far as a box needs, and on from there for the next
// box: a reader pays for one walk of the scan at most, and a reader's first
// crop costs about what libjpeg's own skipping costs.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <imio/pixel_box.hpp>

#include "jpeg_backend.hpp"
#include "jpeg_entropy.hpp"
#include "jpeg_helper_threads.hpp"
#include "jpeg_restart.hpp"
#include "jpeg_restart_columns.hpp"

namespace imio::libjpeg {

/// How an index's walk may be split among threads (EntropyIndex::columns).
struct WalkThreads {
  unsigned workers = 1;  ///< threads, the calling one included
  /// The least data a thread is worth starting for: 128 KiB, about 0.5 ms
  /// of walking here; below, starting the thread costs more than the split
  /// saves. A split walk's chunks hold at least a sixteenth of it. (Tests
  /// set it low to split small scans.)
  std::uint64_t part_bits = std::uint64_t{1} << 20;
};

class EntropyIndex {
 public:
  /// An index of the scan of `file` whose coded data start at `scan_start`
  /// (just after the SOS segment), `info` its header as jpeg_read_header
  /// left it; nullopt when the file is not one this index serves: not a
  /// sequential Huffman frame (SOF0/SOF1) of 8-bit samples in one
  /// interleaved scan of at most four components, with restart markers, a
  /// frame height given by DNL, or tables that are not prefix codes.
  static std::optional<EntropyIndex> create(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                            std::size_t scan_start);

  /// The stream for `box` (full-size pixels of the stored image, inside
  /// it), as restart_columns makes it from restart intervals but without
  /// them (see the top of this file): the MCUs of
  /// the box with at least one MCU column on each side and two iMCU rows
  /// above and below it wherever the image has them (fancy upsampling reads
  /// the neighbouring chroma samples). nullopt when those MCUs are more than
  /// half of what libjpeg decodes for the box (all MCUs down to the box's
  /// last rows), the scan's data break or end before the box's rows (a damaged or
  /// cut file: libjpeg decodes it the usual way and reports it), or a row's
  /// first DC value has no code in its table (tables optimised for the
  /// file's own differences may lack it).
  ///
  /// A long walk is split into chunks that up to `threads.workers` threads
  /// walk: each chunk but the first starts at a guessed bit, out of step
  /// with the scan's codes, and falls in step within a few MCUs (Huffman
  /// codes resynchronise: 3.3 MCUs on average from 2000 random bits of a
  /// 4:2:0 photograph, at most 21); the walk before it goes on until it
  /// meets one of the MCU starts the chunk's walk found, and from there
  /// takes the chunk's.
  /// The entries are the same for every number of threads.
  std::optional<ColumnEntry> columns(const PixelBox& box, const WalkThreads& threads = {});

  /// The MCUs columns() takes for a box: columns [first, end) of MCU rows
  /// [top, bottom).
  struct Band {
    std::uint64_t first = 0, end = 0, top = 0, bottom = 0;
  };
  /// columns() in two steps: band() checks the box and walks the scan to
  /// its band's end (nullopt where columns() gives nullopt for that);
  /// cut() makes the stream (nullopt when a row's first DC difference has
  /// no code). cut() only reads the index, so that threads may cut the
  /// bands of several boxes at once, each its own, once band() returned.
  std::optional<Band> band(const PixelBox& box, const WalkThreads& threads = {});
  std::optional<ColumnEntry> cut(const Band& band) const;

  /// Whether the scan's data end at the EOI marker (the file is not cut
  /// short): what ends_before_eoi finds with a pass over the file, known
  /// here from the copy of the scan.
  bool scan_ends_at_eoi() const { return scan_.ends_at_eoi(); }

  /// MCU rows walked so far (tests, benchmarks).
  std::uint64_t rows_walked() const { return next_mcu_ / per_row_; }
  /// MCUs whose starts were taken from chunks walked by other threads (tests).
  std::uint64_t mcus_from_chunks() const { return mcus_from_chunks_; }

 private:
  using Predictions = std::array<std::int32_t, 4>;  // each scan component's DC prediction
  struct Entry {
    std::uint64_t at = 0;  // a bit offset in scan_
    Predictions dc{};
  };
  using Boundary = Entry;  // an MCU's start that a chunk's walk found
  /// What a walk of a chunk found (speculate), out of step at first: every
  /// MCU start, and the least and largest of the predictions noted there.
  struct ChunkWalk {
    std::vector<Boundary> found;
    Predictions low{}, high{};
  };

  /// Counts a walk's MCUs along their rows: passed_one() after each MCU says
  /// whether the place after it is noted (every stride-th MCU of a row, and
  /// each row's end: the next row's start, or the scan's end). A countdown,
  /// not column % stride: a division per MCU showed in the walk's time.
  class EntryClock {
   public:
    EntryClock(std::uint64_t mcu, std::uint64_t per_row, std::uint64_t stride)
        : per_row_(per_row), stride_(stride), column_(mcu % per_row), to_entry_(stride - column_ % stride) {}
    bool passed_one() {
      if (++column_ == per_row_) column_ = 0;
      if (--to_entry_ != 0 && column_ != 0) return false;
      to_entry_ = stride_;
      return true;
    }

   private:
    std::uint64_t per_row_, stride_, column_, to_entry_;
  };

  EntropyIndex(std::span<const std::byte> file, std::size_t scan_start)
      : file_(file), scan_(file, scan_start), reader_(scan_, 0) {}

  /// Walks on to the start of MCU row `row` (rows_ for the scan's end);
  /// false when the data break or end before.
  bool reach(std::uint64_t row, const WalkThreads& threads);
  /// Walks on, noting entries, up to MCU `end` or to the first MCU start at
  /// or past bit `stop`, whichever comes first; broken_ when the data break.
  void walk(std::uint64_t end, std::uint64_t stop);
  /// reach() with the walk split among threads (see columns()).
  void walk_in_parts(std::uint64_t target, const WalkThreads& threads);
  /// The MCU starts a walk from bit `from`, out of step at first, finds up
  /// to the first at or past `stop` (or until `cancelled` is set), with its
  /// predictions counted from 0; with `next` (a walk from `stop`), on past
  /// `stop` to the first of its starts it meets.
  ChunkWalk speculate(std::uint64_t from, std::uint64_t stop, const std::atomic<bool>* cancelled = nullptr,
                      const ChunkWalk* next = nullptr) const;
  /// Walks on until the walk meets one of the MCU starts `walked` found and
  /// takes the rest of them; false when it never does, or when one of their
  /// predictions would be out of bounds (the walk then walks them itself).
  bool join_chunk(const ChunkWalk& walked);
  /// The first MCU count after `mcu` at which an entry is noted.
  std::uint64_t next_entry(std::uint64_t mcu) const;
  /// Walks one MCU, adding its DC differences to `dc`; false when the data
  /// break, end, or a prediction goes past ±`largest`.
  bool walk_mcu(ScanReader& reader, Predictions& dc, std::int32_t largest) const;
  /// Where MCU `column` of MCU row `row` starts, and the predictions there
  /// (walked from the entry before); nullopt when the data break.
  std::optional<Entry> locate(std::uint64_t row, std::uint64_t column) const;
  /// The stream for MCU columns [first, end) of MCU rows [top, bottom).
  std::optional<ColumnEntry> cut(std::uint64_t first, std::uint64_t end, std::uint64_t top, std::uint64_t bottom) const;
  /// Copies the MCU at `reader` to `out` with each component's first DC
  /// difference increased by `shift` (the file's prediction there less the
  /// band's); false when the data break or the table has no code for the
  /// new difference.
  bool recode_first_mcu(ScanReader& reader, StuffedWriter& out, const Predictions& shift) const;
  const Entry& entry(std::uint64_t row, std::uint64_t column) const {
    return entries_[row * per_row_entries_ + column / stride_];
  }

  std::span<const std::byte> file_;
  UnstuffedScan scan_;  // the walk's and the cuts' data (its heap buffer stays put when the index moves)
  std::size_t scan_start_ = 0;
  std::size_t sof_ = 0;
  std::size_t sos_ = 0;  // the SOS marker's offset
  std::uint64_t width_ = 0, height_ = 0;
  McuSize mcu_;
  std::uint64_t per_row_ = 0, rows_ = 0;  // MCUs across and down
  std::uint64_t row_step_ = 1;            // MCU rows per iMCU row: a band starts on one
  std::uint64_t stride_ = 8;              // MCUs between entries of a row
  std::uint64_t per_row_entries_ = 0;
  std::vector<std::uint8_t> membership_;  // the scan component of each block of an MCU
  std::vector<HuffmanTable> dc_tables_, ac_tables_;  // per scan component

  ScanReader reader_;  // where the walk stands: at the start of MCU next_mcu_
  Predictions dc_{};
  std::uint64_t next_mcu_ = 0;
  std::uint64_t mcus_from_chunks_ = 0;
  bool broken_ = false;
  std::vector<Entry> entries_;
  struct SplitWalk;
  /// The helpers of the last split walk (walk_in_parts), done with it or
  /// about to be. Last: they are waited for before the rest of the index goes.
  std::vector<HelperJob> helpers_;
};

}  // namespace imio::libjpeg
