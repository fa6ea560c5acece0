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
#include <memory>
#include <span>
#include <vector>

#include "jpeg_backend.hpp"

namespace imio::libjpeg {

/// A scan's coded data without the stuffed zeros (§B.1.1.5): the bytes of
/// the entropy-coded data up to the first marker or the file's end, with
/// every 0xFF 0x00 pair made one 0xFF byte, then zero bytes of padding.
/// Places in it are bit offsets (most significant bit of a byte first).
///
/// Why a copy: a reader of the file itself has to test every byte it takes
/// for 0xFF, and that test sat on every code's path; over this copy the
/// reader tops up its buffer with one unconditional 8-byte load. Making it
/// costs one pass of memchr and memcpy (0.5 ms for 1.8 MB of data).
class UnstuffedScan {
 public:
  UnstuffedScan(std::span<const std::byte> file, std::size_t scan_start);
  ~UnstuffedScan();
  UnstuffedScan(UnstuffedScan&&) noexcept = default;
  UnstuffedScan& operator=(UnstuffedScan&&) noexcept = default;

  /// The data's bits (the padding not counted).
  std::uint64_t bits() const { return bits_; }
  /// Whether the marker that ends the data is EOI (no fill bytes before it).
  bool ends_at_eoi() const { return ends_at_eoi_; }
  const unsigned char* data() const { return bytes_.get(); }
  /// Zero bytes after the data: a reader that has not overrun the data
  /// reads at most one MCU further (up to ten blocks, T.81 §B.2.3, of a DC
  /// code and 63 AC codes of up to 16 bits, each with up to 15 extra bits:
  /// 250 bytes a block, T.81 §F.1.2) and loads 8 bytes from there.
  static constexpr std::size_t kPadding = 4096;
  /// The largest copy whose memory a thread keeps for its next one (see
  /// the destructor).
  static constexpr std::size_t kKeepAtMost = std::size_t{32} << 20;

 private:
  /// Sets bits_ for data ending at `out`, and the padding after them.
  void finish(unsigned char* out, bool ends_at_eoi);

  std::unique_ptr<unsigned char[]> bytes_;
  std::size_t capacity_ = 0;  // bytes_'s size, at least the data and the padding
  std::uint64_t bits_ = 0;
  bool ends_at_eoi_ = false;
};

/// One Huffman table, for decoding and for encoding its own symbols.
class HuffmanTable {
 public:
  /// The table of a DHT as libjpeg holds it (bits[1..16], huffval); false
  /// when the counts do not make a prefix code (T.81 §C.2).
  bool build(const JHUFF_TBL& table);
  /// Fills ac_steps from `fast`, after build(), for a table of AC codes.
  void build_ac_steps();

  /// Codes up to this many bits decode with one lookup. 12 rather than
  /// libjpeg's 8: at 10 bits a walk of a 12.6 MP photograph spent 5 % of
  /// its time on longer codes, and with two AC codes per step (ac_steps)
  /// 11 and 13 bits walked slower than 12.
  static constexpr unsigned kLookahead = 12;
  struct Fast {
    std::uint8_t length = 0;  ///< 0: the code is longer than kLookahead bits
    std::uint8_t symbol = 0;
  };
  std::array<Fast, 1u << kLookahead> fast{};
  /// For walking AC coefficients without their values: what the next
  /// kLookahead bits start with, taken in one step. That is two codes with
  /// their extra bits when both lie within the kLookahead bits and the
  /// first does not end the block (an ordinary photograph's AC symbols are
  /// 4–6 bits with their extra bits), else one code and its extra bits
  /// (which may reach past the kLookahead bits). Coefficients covered:
  /// run + 1 per code, 16 for ZRL, 64 for EOB (which ends the block).
  struct AcStep {
    std::uint8_t bits = 0;     ///< bits taken; 0: a code longer than kLookahead (decode() it)
    std::uint8_t advance = 0;  ///< coefficients covered (at most 64 + 16)
    /// With two codes: the first one's bits and coefficients, for a walk at
    /// which the first code reaches the block's end (the second then
    /// belongs to the next block). With one code: 0 and 0.
    std::uint8_t first_bits = 0;
    std::uint8_t first_advance = 0;
  };
  std::array<AcStep, 1u << kLookahead> ac_steps{};
  std::array<std::int32_t, 18> max_code{};     ///< the largest code of each length; -1 when none
  std::array<std::int32_t, 18> value_offset{};  ///< symbol index of a code of that length minus the code
  std::array<std::uint8_t, 256> values{};

  std::array<std::uint16_t, 256> code{};   ///< a symbol's code
  std::array<std::uint8_t, 256> length{};  ///< its length; 0 when the table has no code for it
};

/// Reads an UnstuffedScan from a bit offset on. Past the data it reads the
/// padding's zero bits: overrun() says whether any of them was taken. A
/// reader must check overrun() at least once per MCU: the padding covers
/// one MCU's codes and no more.
class ScanReader {
 public:
  ScanReader(const UnstuffedScan& scan, std::uint64_t from)
      : data_(scan.data()), next_(scan.data() + from / 8), end_bits_(scan.bits()) {
    fill();
    skip(static_cast<unsigned>(from % 8));
  }

  /// At least `n` (≤ 56) bits ready.
  void ensure(unsigned n) {
    if (bits_ < n) fill();
  }
  /// Tops the buffer up to at least 56 bits with one load (no branch: the
  /// data have no stuffed bytes and are padded).
  void fill() {
    std::uint64_t word;
    std::memcpy(&word, next_, 8);
    if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
    buffer_ |= word >> bits_;
    next_ += (63 - bits_) / 8;
    bits_ |= 56;
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
  /// The next `n` (1–56) bits, after ensure(n).
  std::uint64_t take_wide(unsigned n) {
    const std::uint64_t v = buffer_ >> (64 - n);
    skip(n);
    return v;
  }
  /// The next symbol of `table`, or -1 for a code the table does not have.
  int decode(const HuffmanTable& table) {
    ensure(16);
    const HuffmanTable::Fast f = table.fast[peek(HuffmanTable::kLookahead)];
    if (f.length == 0) {
      const std::uint32_t found = decode_long(table, peek(16));
      if (found == 0) return -1;
      skip(found >> 8);
      return static_cast<int>(found & 0xFF);
    }
    skip(f.length);
    return f.symbol;
  }

  /// The offset of the next bit.
  std::uint64_t position() const { return static_cast<std::uint64_t>(next_ - data_) * 8 - bits_; }
  /// Bits past the end of the data were taken.
  bool overrun() const { return position() > end_bits_; }

 private:
  /// A code longer than kLookahead in the next 16 bits: its length << 8 |
  /// its symbol, or 0 when the table has no such code. A function of values,
  /// not a member: a call with `this` would make the compiler keep a walk's
  /// reader in memory, and every code's shift would wait on a store.
  static std::uint32_t decode_long(const HuffmanTable& table, std::uint32_t bits);

  const unsigned char* data_;
  const unsigned char* next_;
  std::uint64_t end_bits_;
  std::uint64_t buffer_ = 0;  // bits ready, most significant first
  unsigned bits_ = 0;
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

/// The coefficients an AC symbol (run << 4 | size) covers (T.81 §F.1.2.2):
/// run + 1 with a size, 16 for ZRL (F0), 64 for EOB (which ends the block).
inline unsigned ac_coefficients(unsigned symbol) {
  const unsigned run = symbol >> 4;
  return (symbol & 15u) != 0 ? run + 1 : run == 15 ? 16 : 64;
}

/// A coefficient's size category (T.81 §F.1.2.1.1, Table F.1), and its
/// extra bits as §F.1.2.1.1 appends them (negative values as value - 1).
unsigned magnitude_category(int value);
inline std::uint32_t magnitude_bits(int value, unsigned category) {
  const int v = value < 0 ? value - 1 : value;
  return static_cast<std::uint32_t>(v) & ((1u << category) - 1);
}
/// The value of `category` extra bits `bits` (T.81 §F.2.2.1, EXTEND); for
/// category 0 (no bits), 0. Written so that the compiler needs no branch.
inline int extend(std::uint32_t bits, unsigned category) {
  const auto v = static_cast<int>(bits);
  const int half = static_cast<int>((1u << category) >> 1);
  return v < half ? v - static_cast<int>((1u << category) - 1) : v;
}

}  // namespace imio::libjpeg
