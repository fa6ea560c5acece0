// The Huffman-coded data of a baseline scan read and written bit by bit,
// without libjpeg: what jpeg_entropy_index.hpp needs to walk a scan quickly
// (finding where each MCU starts) and to copy parts of it into a new stream.
//
// ITU T.81: codes are canonical, built from the DHT's BITS and HUFFVAL
// (§C.2, Annex C); the coded data are read most significant bit first, and
// a 0xFF data byte is followed by a stuffed 0x00 (§B.1.1.5, §F.1.2.3).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "jpeg_backend.hpp"

namespace imio::libjpeg {

/// A place in a scan's coded data: `bit` bits (0–7, most significant first)
/// into the data byte at offset `byte` of the file. A stuffed 0xFF 0x00
/// pair is one data byte, at the 0xFF's offset.
struct BitPosition {
  std::size_t byte = 0;
  unsigned bit = 0;
};

/// One Huffman table, for decoding and for encoding its own symbols.
class HuffmanTable {
 public:
  /// The table of a DHT as libjpeg holds it (bits[1..16], huffval); false
  /// when the counts do not make a prefix code (T.81 §C.2).
  bool build(const JHUFF_TBL& table);

  /// Codes up to this many bits decode with one lookup.
  static constexpr unsigned kLookahead = 10;
  struct Fast {
    std::uint8_t length = 0;  ///< 0: the code is longer than kLookahead bits
    std::uint8_t symbol = 0;
  };
  std::array<Fast, 1u << kLookahead> fast{};
  /// For walking AC coefficients without their values: what the code in
  /// the next kLookahead bits and its extra bits take, and how many
  /// coefficients they cover (run + 1; 16 for ZRL; 64 ends the block).
  struct Skip {
    std::uint8_t bits = 0;  ///< 0: a longer code (decode() it)
    std::uint8_t advance = 0;
  };
  std::array<Skip, 1u << kLookahead> skip{};
  std::array<std::int32_t, 18> max_code{};     ///< the largest code of each length; -1 when none
  std::array<std::int32_t, 18> value_offset{};  ///< symbol index of a code of that length minus the code
  std::array<std::uint8_t, 256> values{};

  std::array<std::uint16_t, 256> code{};   ///< a symbol's code
  std::array<std::uint8_t, 256> length{};  ///< its length; 0 when the table has no code for it
};

/// Reads the coded data of a scan from a position on. After the end of the
/// data (a marker, or the end of the file) it reads zero bits and counts
/// them: overrun() says whether any of them was taken.
class ScanReader {
 public:
  ScanReader(std::span<const std::byte> file, BitPosition from);

  /// At least `n` (≤ 57) bits ready.
  void ensure(unsigned n) {
    if (bits_ < n) fill();
  }
  /// Tops the buffer up to at least 57 bits. Inline for its common case,
  /// eight bytes without 0xFF at once, so that a walk keeps the reader in
  /// registers.
  void fill() {
    if (end_ - next_ >= 8) {
      std::uint64_t word;
      std::memcpy(&word, next_, 8);
      if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
      const std::uint64_t inverted = ~word;
      if (((inverted - 0x0101010101010101u) & ~inverted & 0x8080808080808080u) == 0) {
        const unsigned n = (64 - bits_) / 8;
        buffer_ |= word >> bits_;
        bits_ += 8 * n;
        next_ += n;
        if (bits_ < 64) buffer_ &= ~std::uint64_t{0} << (64 - bits_);
        return;
      }
    }
    fill_bytewise();
  }
  /// The next `n` (1–32) bits, after ensure(n).
  std::uint32_t peek(unsigned n) const { return static_cast<std::uint32_t>(buffer_ >> (64 - n)); }
  void skip(unsigned n) {
    buffer_ <<= n;
    bits_ -= n;
  }
  std::uint32_t take(unsigned n) {
    const std::uint32_t v = peek(n);
    skip(n);
    return v;
  }
  /// The next symbol of `table`, or -1 for a code the table does not have.
  int decode(const HuffmanTable& table) {
    ensure(16);
    const HuffmanTable::Fast f = table.fast[peek(HuffmanTable::kLookahead)];
    if (f.length == 0) return decode_long(table);
    skip(f.length);
    return f.symbol;
  }

  /// Bits past the end of the data were taken.
  bool overrun() const { return bits_ < fake_bits_; }
  /// Where the next bit comes from (meaningful when not overrun()).
  BitPosition position() const;

 private:
  void fill_bytewise();
  int decode_long(const HuffmanTable& table);

  const unsigned char* begin_;
  const unsigned char* next_;
  const unsigned char* end_;
  std::uint64_t buffer_ = 0;  // bits ready, most significant first
  unsigned bits_ = 0;
  unsigned fake_bits_ = 0;  // of bits_, the zeros fed after the data's end
};

/// Writes coded data: bits in, bytes out with every 0xFF followed by a
/// stuffed 0x00; markers between entropy-coded segments.
class StuffedWriter {
 public:
  explicit StuffedWriter(std::vector<unsigned char>& out) : out_(out) {}
  /// The low `n` (0–32) bits of `value`, most significant first.
  void put(std::uint32_t value, unsigned n) {
    pending_ = (pending_ << n) | (value & ((std::uint64_t{1} << n) - 1));
    count_ += n;
    while (count_ >= 8) {
      count_ -= 8;
      const auto byte = static_cast<unsigned char>(pending_ >> count_);
      out_.push_back(byte);
      if (byte == 0xFF) out_.push_back(0x00);
    }
  }
  /// Ends the segment: the last byte filled with 1 bits (T.81 §F.1.2.3),
  /// then the marker 0xFF `marker`.
  void end_segment(unsigned char marker);
  /// Copies `n` bits from `reader` as they are.
  void copy(ScanReader& reader, std::uint64_t n);

 private:
  std::vector<unsigned char>& out_;
  std::uint64_t pending_ = 0;
  unsigned count_ = 0;
};

/// The data bits from `from` to `to` (to after from, both in the same scan).
std::uint64_t bits_between(std::span<const std::byte> file, BitPosition from, BitPosition to);

/// A coefficient's size category (T.81 §F.1.2.1.1, Table F.1), and its
/// extra bits as §F.1.2.1.1 appends them (negative values as value - 1).
unsigned magnitude_category(int value);
inline std::uint32_t magnitude_bits(int value, unsigned category) {
  const int v = value < 0 ? value - 1 : value;
  return static_cast<std::uint32_t>(v) & ((1u << category) - 1);
}
/// The value of `category` extra bits `bits` (T.81 §F.2.2.1, EXTEND).
inline int extend(std::uint32_t bits, unsigned category) {
  const auto v = static_cast<int>(bits);
  return v < (1 << (category - 1)) ? v - (1 << category) + 1 : v;
}

}  // namespace imio::libjpeg
