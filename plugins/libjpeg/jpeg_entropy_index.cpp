// The MCU index of a baseline scan and the streams cut from it (see jpeg_entropy_index.hpp).
#include "jpeg_entropy_index.hpp"

#include <algorithm>

namespace imio::libjpeg {
namespace {

// Entries per MCU row at most: a 65 535-pixel-wide 4:4:4 row has 8 192 MCUs,
// indexed every 32; an ordinary photograph every 8.
constexpr std::uint64_t kEntriesPerRow = 256;

// The largest DC value an 8-bit scan can code: category 15 (libjpeg accepts
// DC symbols up to 15, jdhuff.c); a prediction beyond it is a damaged file.
constexpr std::int32_t kLargestDc = 32767;

}  // namespace

std::optional<EntropyIndex> EntropyIndex::create(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                                 std::size_t scan_start) {
  if (info.progressive_mode || info.arith_code || info.restart_interval != 0 || info.data_precision != 8 ||
      info.comps_in_scan != info.num_components || info.num_components < 1 || info.num_components > 4 ||
      info.image_width == 0 || info.image_height == 0 || scan_start >= file.size()) {
    return std::nullopt;
  }
  const std::optional<std::size_t> sof = sequential_huffman_sof(info, file, scan_start);
  if (!sof) return std::nullopt;
  // SOS: FF DA, Ls = 6 + 2 × Ns (T.81 §B.2.3), then the coded data.
  const std::size_t sos_length = 8 + 2 * static_cast<std::size_t>(info.comps_in_scan);
  if (scan_start < sos_length || std::to_integer<unsigned>(file[scan_start - sos_length]) != 0xFF ||
      std::to_integer<unsigned>(file[scan_start - sos_length + 1]) != 0xDA) {
    return std::nullopt;
  }
  const McuSize mcu = mcu_size(info);
  if (mcu.width == 0 || mcu.height == 0) return std::nullopt;

  EntropyIndex index(file, {scan_start, 0});
  index.scan_start_ = scan_start;
  index.sof_ = *sof;
  index.sos_ = scan_start - sos_length;
  index.width_ = info.image_width;
  index.height_ = info.image_height;
  index.mcu_ = mcu;
  index.per_row_ = (index.width_ + mcu.width - 1) / mcu.width;
  index.rows_ = (index.height_ + mcu.height - 1) / mcu.height;
  index.row_step_ = std::max<std::uint64_t>(1, mcu.imcu_height / mcu.height);
  index.stride_ = std::max<std::uint64_t>(8, (index.per_row_ + kEntriesPerRow - 1) / kEntriesPerRow);
  index.per_row_entries_ = (index.per_row_ + index.stride_ - 1) / index.stride_;
  // An MCU holds H × V blocks of each component in scan order (T.81
  // §A.2.3), one block when the scan has one component.
  for (int i = 0; i < info.comps_in_scan; ++i) {
    const jpeg_component_info* c = info.cur_comp_info[i];
    if (c == nullptr || c->dc_tbl_no < 0 || c->dc_tbl_no >= NUM_HUFF_TBLS || c->ac_tbl_no < 0 ||
        c->ac_tbl_no >= NUM_HUFF_TBLS) {
      return std::nullopt;
    }
    const JHUFF_TBL* dc = info.dc_huff_tbl_ptrs[c->dc_tbl_no];
    const JHUFF_TBL* ac = info.ac_huff_tbl_ptrs[c->ac_tbl_no];
    if (dc == nullptr || ac == nullptr) return std::nullopt;
    index.dc_tables_.emplace_back();
    index.ac_tables_.emplace_back();
    if (!index.dc_tables_.back().build(*dc) || !index.ac_tables_.back().build(*ac)) return std::nullopt;
    // DC symbols are bit counts of at most 15; libjpeg rejects a table
    // with others when it starts decoding (jdhuff.c), after this.
    for (unsigned k = 16; k < 256; ++k) {
      if (index.dc_tables_.back().length[k] != 0) return std::nullopt;
    }
    const int blocks = info.comps_in_scan == 1 ? 1 : c->h_samp_factor * c->v_samp_factor;
    for (int b = 0; b < blocks; ++b) index.membership_.push_back(static_cast<std::uint8_t>(i));
  }
  if (index.membership_.size() > 10) return std::nullopt;  // T.81 §B.2.3: at most 10 blocks per MCU
  index.entries_.push_back({{scan_start, 0}, {}});
  return index;
}

bool EntropyIndex::walk_mcu(ScanReader& reader) {
  // T.81 §F.2.2: a DC difference, then AC run/size symbols up to EOB or
  // the 63rd coefficient; only the DC values are kept. A run past the
  // block's end ends it as in libjpeg (jdhuff.c's loop over k < 64).
  for (const std::uint8_t c : membership_) {
    const int s = reader.decode(dc_tables_[c]);
    if (s < 0) return false;
    if (s > 0) {
      reader.ensure(static_cast<unsigned>(s));
      dc_[c] += extend(reader.take(static_cast<unsigned>(s)), static_cast<unsigned>(s));
      if (dc_[c] > kLargestDc || dc_[c] < -kLargestDc) return false;
    }
    const HuffmanTable& ac = ac_tables_[c];
    for (unsigned k = 1; k < 64;) {
      reader.ensure(32);  // a code of up to 16 bits and up to 15 extra bits
      const HuffmanTable::Skip step = ac.skip[reader.peek(HuffmanTable::kLookahead)];
      if (step.bits != 0) {
        reader.skip(step.bits);
        k += step.advance;
        continue;
      }
      const int rs = reader.decode(ac);
      if (rs < 0) return false;
      const auto size = static_cast<unsigned>(rs & 15);
      const auto run = static_cast<unsigned>(rs >> 4);
      reader.skip(size);
      k += size != 0 ? run + 1 : run == 15 ? 16 : 64;  // ZRL: sixteen zeros; else EOB
    }
  }
  return !reader.overrun();
}

bool EntropyIndex::reach(std::uint64_t row) {
  row = std::min(row, rows_);
  ScanReader reader = reader_;  // a local copy, kept in registers
  while (next_row_ < row && !broken_) {
    // The row's first entry is there already: the previous row's end.
    for (std::uint64_t c = 0; c < per_row_; ++c) {
      if (c > 0 && c % stride_ == 0) entries_.push_back({reader.position(), dc_});
      if (!walk_mcu(reader)) {
        broken_ = true;
        break;
      }
    }
    if (broken_) {
      entries_.resize(next_row_ * per_row_entries_ + 1);  // the row's entries are no use without its end
      break;
    }
    ++next_row_;
    entries_.push_back({reader.position(), dc_});  // the next row's start, or the scan's end
  }
  reader_ = reader;
  return next_row_ >= row;
}

std::optional<ColumnEntry> EntropyIndex::columns(const PixelBox& box) {
  if (box.left >= box.right || box.top >= box.bottom || box.right > width_ || box.bottom > height_) return std::nullopt;
  // As restart_columns: one MCU column beside the box, two iMCU rows above
  // and below it; then out to the entries around that, and up to an iMCU row.
  const std::uint64_t first_mcu = (box.left >= mcu_.width ? box.left - mcu_.width : 0) / mcu_.width;
  const std::uint64_t last_mcu = std::min(width_ - 1, box.right - 1 + mcu_.width) / mcu_.width;
  std::uint64_t first = first_mcu / stride_ * stride_;
  const std::uint64_t end = std::min(per_row_, (last_mcu / stride_ + 1) * stride_);
  const std::uint64_t margin = 2 * mcu_.imcu_height;
  const std::uint64_t top = (box.top >= margin ? (box.top - margin) / mcu_.height : 0) / row_step_ * row_step_;
  const std::uint64_t bottom = std::min(rows_, (box.bottom - 1 + margin) / mcu_.height + 1);
  // Worth it only when the band holds at most half the MCUs that libjpeg
  // would entropy-decode for the box (every MCU down to its rows' end): a
  // band near the image's width costs a second decoder and the cut for
  // nothing (a 32×32 box of a 128×128 image on a handle: 119 µs against
  // libjpeg's 98 µs).
  if (2 * (end - first) * (bottom - top) > per_row_ * bottom) return std::nullopt;
  if (!reach(bottom)) return std::nullopt;
  // A row whose first DC value the table cannot code: start the band at an
  // earlier entry, down to the row's first MCU.
  for (;;) {
    if (std::optional<ColumnEntry> e = cut(first, end, top, bottom)) return e;
    if (first == 0) return std::nullopt;
    first -= stride_;
  }
}

std::optional<ColumnEntry> EntropyIndex::cut(std::uint64_t first, std::uint64_t end, std::uint64_t top,
                                             std::uint64_t bottom) {
  ColumnEntry e;
  e.left = static_cast<std::uint32_t>(first * mcu_.width);
  e.top = static_cast<std::uint32_t>(top * mcu_.height);
  // The band's width counts to the image's right edge when it holds the
  // last, maybe partial, MCU column; its height likewise at the bottom.
  const std::uint64_t width = end == per_row_ ? width_ - e.left : (end - first) * mcu_.width;
  const std::uint64_t height = bottom == rows_ ? height_ - e.top : (bottom - top) * mcu_.height;
  std::vector<unsigned char>& s = e.stream;
  s = resized_head(file_, scan_start_, sof_, width, height);
  // DRI before the SOS: a restart interval of one band row (T.81 §B.2.4.4).
  const std::uint64_t interval = end - first;
  const unsigned char dri[6] = {0xFF, 0xDD, 0x00, 0x04, static_cast<unsigned char>(interval >> 8),
                                static_cast<unsigned char>(interval & 0xFF)};
  s.insert(s.begin() + static_cast<std::ptrdiff_t>(sos_), std::begin(dri), std::end(dri));
  const BitPosition band_start = entry(top, first).at;
  const BitPosition band_end = bottom == rows_ ? entry(rows_, 0).at : entry(bottom, 0).at;
  s.reserve(s.size() + (band_end.byte - band_start.byte) * (end - first) / per_row_ + 1024);
  StuffedWriter out(s);
  for (std::uint64_t r = top; r < bottom; ++r) {
    if (r > top) out.end_segment(static_cast<unsigned char>(0xD0 + (r - top - 1) % 8));  // RST0, RST1, … (§B.2.1)
    const Entry& from = entry(r, first);
    const BitPosition to = end == per_row_ ? entry(r + 1, 0).at : entry(r, end).at;
    ScanReader reader(file_, from.at);
    if (!recode_first_mcu(reader, out, from.dc)) return std::nullopt;
    const BitPosition here = reader.position();
    if (here.byte > to.byte || (here.byte == to.byte && here.bit > to.bit)) return std::nullopt;
    out.copy(reader, bits_between(file_, here, to));
  }
  out.end_segment(0xD9);  // EOI
  return e;
}

bool EntropyIndex::recode_first_mcu(ScanReader& reader, StuffedWriter& out, const std::array<std::int32_t, 4>& dc) const {
  std::array<bool, 4> seen{};
  for (const std::uint8_t c : membership_) {
    const HuffmanTable& dc_table = dc_tables_[c];
    const int s = reader.decode(dc_table);
    if (s < 0) return false;
    int value = 0;
    if (s > 0) {
      reader.ensure(static_cast<unsigned>(s));
      value = extend(reader.take(static_cast<unsigned>(s)), static_cast<unsigned>(s));
    }
    if (!seen[c]) {  // the component's first block: its prediction becomes 0
      seen[c] = true;
      value += dc[c];
    }
    const unsigned category = magnitude_category(value);
    if (category > 15 || dc_table.length[category] == 0) return false;
    out.put(dc_table.code[category], dc_table.length[category]);
    if (category > 0) out.put(magnitude_bits(value, category), category);
    const HuffmanTable& ac = ac_tables_[c];
    for (unsigned k = 1; k < 64; ++k) {
      const int rs = reader.decode(ac);
      if (rs < 0) return false;
      out.put(ac.code[static_cast<unsigned>(rs)], ac.length[static_cast<unsigned>(rs)]);
      const auto size = static_cast<unsigned>(rs & 15);
      const auto run = static_cast<unsigned>(rs >> 4);
      if (size != 0) {
        k += run;
        reader.ensure(size);
        out.put(reader.take(size), size);
      } else if (run == 15) {
        k += 15;
      } else {
        break;
      }
    }
  }
  return !reader.overrun();
}

}  // namespace imio::libjpeg
