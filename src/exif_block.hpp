// A TIFF-structured block (TIFF 6.0 §2) as EXIF uses it: byte order, bounds
// checks and the decoding of one IFD entry's elements. Shared by the IFD0
// reader (exif.cpp, imageio's keys) and the full reader (exif_ifds.cpp).
#pragma once

#include <imio/value.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>

namespace imio::exif_detail {

/// TIFF 6.0 §2 field types, plus TIFF 6.0 Supplement 1's IFD (13) and
/// BigTIFF's LONG8 (16).
enum Type : std::uint16_t {
  kByte = 1, kAscii = 2, kShort = 3, kLong = 4, kRational = 5, kSByte = 6, kUndefined = 7,
  kSShort = 8, kSLong = 9, kSRational = 10, kFloat = 11, kDouble = 12, kIfd = 13, kLong8 = 16,
};

/// Bytes per element of `type`; 0 for a type TIFF 6.0 does not define.
inline std::size_t type_size(std::uint16_t type) {
  switch (type) {
    case kByte: case kAscii: case kSByte: case kUndefined: return 1;
    case kShort: case kSShort: return 2;
    case kLong: case kSLong: case kFloat: case kIfd: return 4;
    case kRational: case kSRational: case kDouble: case kLong8: return 8;
    default: return 0;
  }
}

/// A TIFF-structured block and its byte order.
class Block {
 public:
  Block(std::span<const std::byte> data, bool little) : data_(data), little_(little) {}
  std::size_t size() const { return data_.size(); }
  bool little_endian() const { return little_; }
  bool has(std::uint64_t offset, std::uint64_t n) const { return offset <= data_.size() && n <= data_.size() - offset; }
  std::uint64_t uint(std::size_t offset, int bytes) const {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      const auto b = std::to_integer<std::uint64_t>(data_[offset + static_cast<std::size_t>(little_ ? i : bytes - 1 - i)]);
      v |= b << (8 * i);
    }
    return v;
  }
  std::span<const std::byte> bytes(std::size_t offset, std::size_t n) const { return data_.subspan(offset, n); }

 private:
  std::span<const std::byte> data_;
  bool little_;
};

template <class T>
T as_signed(std::uint64_t v) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(v));
}

/// One numeric element of `type` at `at` (the caller checked the bounds):
/// integers → int, rationals → float (NaN for a zero denominator), FLOAT
/// and DOUBLE → float; none for BYTE, ASCII, UNDEFINED and unknown types.
inline Value element(const Block& b, std::uint16_t type, std::size_t at) {
  switch (type) {
    case kShort: return static_cast<std::int64_t>(b.uint(at, 2));
    case kLong: case kIfd: return static_cast<std::int64_t>(b.uint(at, 4));
    case kLong8: return static_cast<std::int64_t>(b.uint(at, 8));
    case kSByte: return as_signed<std::int8_t>(b.uint(at, 1));
    case kSShort: return as_signed<std::int16_t>(b.uint(at, 2));
    case kSLong: return as_signed<std::int32_t>(b.uint(at, 4));
    case kFloat: {
      float f;
      const auto u = static_cast<std::uint32_t>(b.uint(at, 4));
      std::memcpy(&f, &u, 4);
      return static_cast<double>(f);
    }
    case kDouble: {
      double d;
      const std::uint64_t u = b.uint(at, 8);
      std::memcpy(&d, &u, 8);
      return d;
    }
    case kRational:
    case kSRational: {
      const std::uint64_t n = b.uint(at, 4), d = b.uint(at + 4, 4);
      const double num = type == kRational ? static_cast<double>(n) : as_signed<std::int32_t>(n);
      const double den = type == kRational ? static_cast<double>(d) : as_signed<std::int32_t>(d);
      return den == 0 ? std::numeric_limits<double>::quiet_NaN() : num / den;
    }
    default: return Value();
  }
}

/// The TIFF block inside `exif` (after an optional "Exif\0\0", the JPEG APP1
/// prefix of EXIF 2.32 §4.7.2) with its byte order, or none when the header
/// ("II" or "MM", then 42) is not there.
inline std::optional<Block> tiff_block(std::span<const std::byte> exif) {
  static constexpr char kPrefix[] = {'E', 'x', 'i', 'f', 0, 0};
  if (exif.size() >= 6 && std::memcmp(exif.data(), kPrefix, 6) == 0) exif = exif.subspan(6);
  if (exif.size() < 8) return std::nullopt;
  const auto b0 = std::to_integer<char>(exif[0]), b1 = std::to_integer<char>(exif[1]);
  if (b0 != b1 || (b0 != 'I' && b0 != 'M')) return std::nullopt;
  Block b(exif, b0 == 'I');
  if (b.uint(2, 2) != 42) return std::nullopt;
  return b;
}

}  // namespace imio::exif_detail
