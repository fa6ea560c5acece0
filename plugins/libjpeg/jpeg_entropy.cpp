// Huffman tables, and coded data read and written bit by bit (see jpeg_entropy.hpp).
#include "jpeg_entropy.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace imio::libjpeg {

bool HuffmanTable::build(const JHUFF_TBL& table) {
  // T.81 §C.2: code lengths in order (Figure C.1), then the codes (Figure
  // C.2), each length's codes counting on from the previous length's, × 2.
  std::array<std::uint8_t, 257> sizes{};
  std::array<std::uint16_t, 257> codes{};
  unsigned count = 0;
  for (unsigned l = 1; l <= 16; ++l) {
    for (unsigned i = 0; i < table.bits[l]; ++i) {
      if (count >= 256) return false;
      sizes[count++] = static_cast<std::uint8_t>(l);
    }
  }
  std::uint32_t next = 0;
  unsigned k = 0;
  for (unsigned l = 1; l <= 16; ++l) {
    while (k < count && sizes[k] == l) codes[k++] = static_cast<std::uint16_t>(next++);
    // libjpeg rejects a length whose codes run out (the all-ones code
    // included): jdhuff.c's jpeg_make_d_derived_tbl.
    if (next >= (std::uint32_t{1} << l)) return false;
    next <<= 1;
  }
  fast.fill({});
  length.fill(0);
  unsigned p = 0;
  for (unsigned l = 1; l <= 16; ++l) {
    if (table.bits[l] == 0) {
      max_code[l] = -1;
      continue;
    }
    value_offset[l] = static_cast<std::int32_t>(p) - codes[p];
    p += table.bits[l];
    max_code[l] = codes[p - 1];
  }
  max_code[17] = 0x7FFFFFFF;
  for (unsigned i = 0; i < count; ++i) {
    const std::uint8_t symbol = table.huffval[i];
    values[i] = symbol;
    if (length[symbol] == 0) {
      code[symbol] = codes[i];
      length[symbol] = sizes[i];
    }
    if (sizes[i] <= kLookahead) {
      const unsigned first = static_cast<unsigned>(codes[i]) << (kLookahead - sizes[i]);
      const unsigned n = 1u << (kLookahead - sizes[i]);
      for (unsigned j = 0; j < n; ++j) fast[first + j] = {sizes[i], symbol};
    }
  }
  return true;
}

void HuffmanTable::build_ac_steps() {
  // One AC code per step first, then a second one wherever it fits.
  const auto one_code = [this](unsigned window) {
    const Fast f = fast[window];
    if (f.length == 0) return AcStep{};
    return AcStep{static_cast<std::uint8_t>(f.length + (f.symbol & 15u)),
                  static_cast<std::uint8_t>(ac_coefficients(f.symbol)), 0, 0};
  };
  constexpr unsigned kMask = (1u << kLookahead) - 1;
  for (unsigned window = 0; window <= kMask; ++window) {
    AcStep step = one_code(window);
    if (step.bits != 0 && step.bits < kLookahead && step.advance < 64) {
      // The bits after the first code's, shifted to the top; the second
      // code and its extra bits must lie within those that are real.
      const AcStep second = one_code((window << step.bits) & kMask);
      if (second.bits != 0 && second.bits <= kLookahead - step.bits) {
        step = {static_cast<std::uint8_t>(step.bits + second.bits),
                static_cast<std::uint8_t>(step.advance + second.advance), step.bits, step.advance};
      }
    }
    ac_steps[window] = step;
  }
}

namespace {

// The bytes of `word` (eight bytes loaded little-endian) that are 0xFF: the
// high bit of each set. Exact for the lowest one (the first in memory): a
// borrow can only mark bytes above a true one.
std::uint64_t ff_bytes(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101u, kHighs = 0x8080808080808080u;
  const std::uint64_t inverted = ~word;  // 0xFF bytes are now zero bytes
  return (inverted - kOnes) & ~inverted & kHighs;
}

// Set when the thread's spare is destroyed (at its exit; a plain bool has no
// destructor, so it can still be read then): a copy released after that, by
// a static reader at the program's exit, frees its memory instead.
thread_local bool t_spare_gone = false;

// The memory of the last copy a thread released, for its next copy: fresh
// memory costs a page fault per 4 KiB, and on this project's VM those took
// 1.0 of the 1.34 ms that copying a 1.8 MB scan took (a crop through a new
// reader, as every imread is, makes one copy).
struct SpareCopy {
  std::unique_ptr<unsigned char[]> bytes;
  std::size_t capacity = 0;
  SpareCopy() = default;
  SpareCopy(const SpareCopy&) = delete;
  SpareCopy& operator=(const SpareCopy&) = delete;
  ~SpareCopy() { t_spare_gone = true; }
};
thread_local SpareCopy t_spare;

}  // namespace

UnstuffedScan::~UnstuffedScan() {
  if (bytes_ && !t_spare_gone && capacity_ <= kKeepAtMost && capacity_ > t_spare.capacity) {
    t_spare.bytes = std::move(bytes_);
    t_spare.capacity = capacity_;
  }
}

UnstuffedScan::UnstuffedScan(std::span<const std::byte> file, std::size_t scan_start) {
  const auto* p = reinterpret_cast<const unsigned char*>(file.data()) + std::min(scan_start, file.size());
  const auto* end = reinterpret_cast<const unsigned char*>(file.data()) + file.size();
  // Not zeroed first: every byte up to the data's end is written, and the
  // padding after it.
  const std::size_t need = static_cast<std::size_t>(end - p) + kPadding;
  if (!t_spare_gone && t_spare.capacity >= need) {
    bytes_ = std::move(t_spare.bytes);
    capacity_ = std::exchange(t_spare.capacity, 0);
  } else {
    bytes_ = std::make_unique_for_overwrite<unsigned char[]>(need);
    capacity_ = need;
  }
  unsigned char* out = bytes_.get();
  // Sixteen bytes at a time while none of them is 0xFF, stored before they
  // are tested: `out` never passes `p`, and a 0xFF only moves `out` back.
  // memchr and memcpy between the 0xFF bytes (one in 74 bytes of a 12.6 MP
  // photograph's 1.8 MB of data: 24 000 calls of each) took 0.45 ms; this
  // loop 0.36–0.40 ms.
  if constexpr (std::endian::native == std::endian::little) {
    while (end - p >= 16) {
      std::uint64_t low, high;
      std::memcpy(&low, p, 8);
      std::memcpy(&high, p + 8, 8);
      std::memcpy(out, p, 16);
      const std::uint64_t ff_low = ff_bytes(low), ff_high = ff_bytes(high);
      if ((ff_low | ff_high) == 0) {
        p += 16;
        out += 16;
        continue;
      }
      const auto first = static_cast<unsigned>(ff_low != 0 ? std::countr_zero(ff_low) / 8
                                                            : 8 + std::countr_zero(ff_high) / 8);
      p += first;
      out += first;
      if (end - p < 2 || p[1] != 0x00) {  // a marker (or a cut one): the data end
        finish(out, end - p >= 2 && p[1] == 0xD9);
        return;
      }
      *out++ = 0xFF;
      p += 2;
    }
  }
  while (p < end) {
    const auto* ff = static_cast<const unsigned char*>(std::memchr(p, 0xFF, static_cast<std::size_t>(end - p)));
    const unsigned char* stop = ff != nullptr ? ff : end;
    std::memcpy(out, p, static_cast<std::size_t>(stop - p));
    out += stop - p;
    if (ff == nullptr || end - ff < 2 || ff[1] != 0x00) {  // a marker (or a cut one): the data end
      finish(out, ff != nullptr && end - ff >= 2 && ff[1] == 0xD9);
      return;
    }
    *out++ = 0xFF;
    p = ff + 2;
  }
  finish(out, false);
}

void UnstuffedScan::finish(unsigned char* out, bool ends_at_eoi) {
  ends_at_eoi_ = ends_at_eoi;
  bits_ = std::uint64_t{static_cast<std::size_t>(out - bytes_.get())} * 8;
  std::memset(out, 0, kPadding);
}

std::uint32_t ScanReader::decode_long(const HuffmanTable& table, std::uint32_t bits) {
  for (unsigned l = HuffmanTable::kLookahead + 1; l <= 16; ++l) {
    const auto c = static_cast<std::int32_t>(bits >> (16 - l));
    if (c <= table.max_code[l]) return l << 8 | table.values[static_cast<std::size_t>(c + table.value_offset[l]) & 0xFF];
  }
  return 0;
}

void StuffedWriter::end_segment(unsigned char marker) {
  if (count_ > 0) put((1u << (8 - count_)) - 1, 8 - count_);
  out_.push_back(0xFF);
  out_.push_back(marker);
}

void StuffedWriter::copy(ScanReader& reader, std::uint64_t n) {
  // Six bytes at a time straight into the vector, grown for the worst case
  // (every byte 0xFF, each stuffed) and cut back after: a band's rows are
  // mostly this copy (put()'s byte-by-byte push_back made it 3 % of a
  // crop's time; four bytes at a time, 0.1 ms of a 117 KB band's 0.16 ms cut).
  constexpr unsigned kStep = 48;
  const std::size_t at = out_.size();
  // A step writes at most 12 bytes, and stores 8 where it writes 6: within
  // the 12 it may take.
  out_.resize(at + static_cast<std::size_t>(n / kStep) * 12);
  unsigned char* p = out_.data() + at;
  for (; n >= kStep; n -= kStep) {
    reader.ensure(kStep);
    pending_ = (pending_ << kStep) | reader.take_wide(kStep);
    const std::uint64_t word = (pending_ >> count_) & ((std::uint64_t{1} << kStep) - 1);  // count_ < 8 bits stay pending
    if (ff_bytes(word) == 0) {  // no 0xFF byte among the six (the two bytes above them are 0)
      std::uint64_t big = word << 16;
      if constexpr (std::endian::native == std::endian::little) big = __builtin_bswap64(big);
      std::memcpy(p, &big, 8);
      p += 6;
      continue;
    }
    for (int shift = 40; shift >= 0; shift -= 8) {
      const auto byte = static_cast<unsigned char>(word >> shift);
      *p++ = byte;
      if (byte == 0xFF) *p++ = 0x00;
    }
  }
  out_.resize(static_cast<std::size_t>(p - out_.data()));
  while (n > 0) {
    const auto part = static_cast<unsigned>(std::min<std::uint64_t>(n, 32));
    reader.ensure(part);
    put(reader.take(part), part);
    n -= part;
  }
}

unsigned magnitude_category(int value) {
  return static_cast<unsigned>(std::bit_width(static_cast<unsigned>(std::abs(value))));
}

}  // namespace imio::libjpeg
