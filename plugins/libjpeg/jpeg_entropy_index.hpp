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
// with a restart interval of one band row (T.81 §B.2.4.4): after each RSTn
// the DC predictions restart from 0 (§F.1.2.3), so each row's first block of
// each component is re-coded with its absolute DC value, and every other bit
// is copied as it is. The smaller JPEG then goes through libjpeg like the
// restart-interval bands of jpeg_restart_columns.hpp.
//
// The walk goes only as far as a box needs, and on from there for the next
// box: a reader pays for one walk of the scan at most, and a reader's first
// crop costs about what libjpeg's own skipping costs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <imio/pixel_box.hpp>

#include "jpeg_backend.hpp"
#include "jpeg_entropy.hpp"
#include "jpeg_restart.hpp"
#include "jpeg_restart_columns.hpp"

namespace imio::libjpeg {

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
  /// it), as restart_columns makes it from restart intervals: the MCUs of
  /// the box with at least one MCU column on each side and two iMCU rows
  /// above and below it wherever the image has them (fancy upsampling reads
  /// the neighbouring chroma samples). nullopt when those MCUs are more than
  /// half of what libjpeg decodes for the box (all MCUs down to the box's
  /// last rows), the scan's data break or end before the box's rows (a damaged or
  /// cut file: libjpeg decodes it the usual way and reports it), or a row's
  /// first DC value has no code in its table (tables optimised for the
  /// file's own differences may lack it).
  std::optional<ColumnEntry> columns(const PixelBox& box);

  /// MCU rows walked so far (tests, benchmarks).
  std::uint64_t rows_walked() const { return next_row_; }

 private:
  struct Entry {
    BitPosition at;
    std::array<std::int32_t, 4> dc{};  // each scan component's DC prediction there
  };

  EntropyIndex(std::span<const std::byte> file, BitPosition start) : file_(file), reader_(file, start) {}

  /// Walks on to the start of MCU row `row` (rows_ for the scan's end);
  /// false when the data break or end before.
  bool reach(std::uint64_t row);
  /// Walks one MCU, keeping its DC values in dc_.
  bool walk_mcu(ScanReader& reader);
  /// The stream for MCU columns [first, end) of MCU rows [top, bottom).
  std::optional<ColumnEntry> cut(std::uint64_t first, std::uint64_t end, std::uint64_t top, std::uint64_t bottom);
  /// Copies the MCU at `reader` to `out` with each component's first DC
  /// coded as its absolute value (`dc` the predictions there); false when
  /// the data break or the table has no code for that value.
  bool recode_first_mcu(ScanReader& reader, StuffedWriter& out, const std::array<std::int32_t, 4>& dc) const;
  const Entry& entry(std::uint64_t row, std::uint64_t column) const {
    return entries_[row * per_row_entries_ + column / stride_];
  }

  std::span<const std::byte> file_;
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

  ScanReader reader_;
  std::array<std::int32_t, 4> dc_{};
  std::uint64_t next_row_ = 0;
  bool broken_ = false;
  std::vector<Entry> entries_;
};

}  // namespace imio::libjpeg
