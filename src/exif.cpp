// EXIF IFD0 reader (TIFF 6.0 §2 file structure; EXIF 2.32 §4.6).
//
// The block comes from untrusted files: every offset and count is checked
// against the block before use, sizes are computed without overflow, and
// only IFD0 is read (no pointer chains, so no loops).
#include <imio/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace imio {
namespace {

struct TagName {
  std::uint16_t tag;
  const char* name;
};

constexpr TagName kTagNames[] = {
#include "exif_tags.inc"
};

const char* tag_name(std::uint16_t tag) {
  for (const auto& t : kTagNames) {
    if (t.tag == tag) return t.name;
  }
  return nullptr;
}

enum Type : std::uint16_t {
  kByte = 1, kAscii = 2, kShort = 3, kLong = 4, kRational = 5, kSByte = 6, kUndefined = 7,
  kSShort = 8, kSLong = 9, kSRational = 10, kFloat = 11, kDouble = 12, kIfd = 13, kLong8 = 16,
};

std::size_t type_size(std::uint16_t type) {
  switch (type) {
    case kByte: case kAscii: case kSByte: case kUndefined: return 1;
    case kShort: case kSShort: return 2;
    case kLong: case kSLong: case kFloat: case kIfd: return 4;
    case kRational: case kSRational: case kDouble: case kLong8: return 8;
    default: return 0;
  }
}

// A TIFF-structured block and its byte order.
class Block {
 public:
  Block(std::span<const std::byte> data, bool little) : data_(data), little_(little) {}
  std::size_t size() const { return data_.size(); }
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

Value element(const Block& b, std::uint16_t type, std::size_t at) {
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

std::string latin1_to_utf8(std::span<const std::byte> s) {
  std::string out;
  for (const std::byte c : s) {
    const auto u = std::to_integer<unsigned>(c);
    if (u < 0x80) {
      out += static_cast<char>(u);
    } else {
      out += static_cast<char>(0xC0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3F));
    }
  }
  return out;
}

// One IFD entry's value, or none when it is unusable (skipped, as Pillow does).
Value entry_value(const Block& b, std::uint16_t type, std::uint64_t count, std::size_t entry) {
  const std::size_t unit = type_size(type);
  if (unit == 0 || count == 0 || count > b.size()) return Value();
  const std::uint64_t total = unit * count;
  std::uint64_t at = entry + 8;  // values of up to 4 bytes sit in the entry itself
  if (total > 4) at = b.uint(entry + 8, 4);
  if (!b.has(at, total)) return Value();
  const auto pos = static_cast<std::size_t>(at);
  const auto n = static_cast<std::size_t>(count);
  if (type == kByte || type == kUndefined) return Bytes(b.bytes(pos, n).begin(), b.bytes(pos, n).end());
  if (type == kAscii) {
    auto s = b.bytes(pos, n);
    if (!s.empty() && s.back() == std::byte{0}) s = s.first(s.size() - 1);
    return latin1_to_utf8(s);
  }
  if (n == 1) return element(b, type, pos);
  Value::List list;
  list.reserve(n);
  for (std::size_t i = 0; i < n; ++i) list.push_back(element(b, type, pos + i * unit));
  return list;
}

// The TIFF block inside `exif` (after an optional "Exif\0\0"), and its byte order.
std::optional<Block> tiff_block(std::span<const std::byte> exif) {
  static constexpr char kPrefix[] = {'E', 'x', 'i', 'f', 0, 0};
  if (exif.size() >= 6 && std::memcmp(exif.data(), kPrefix, 6) == 0) exif = exif.subspan(6);
  if (exif.size() < 8) return std::nullopt;
  const auto b0 = std::to_integer<char>(exif[0]), b1 = std::to_integer<char>(exif[1]);
  if (b0 != b1 || (b0 != 'I' && b0 != 'M')) return std::nullopt;
  Block b(exif, b0 == 'I');
  if (b.uint(2, 2) != 42) return std::nullopt;
  return b;
}

template <class F>
void for_each_ifd0_entry(std::span<const std::byte> exif, F&& f) {
  const auto block = tiff_block(exif);
  if (!block) return;
  const std::uint64_t ifd = block->uint(4, 4);
  if (!block->has(ifd, 2)) return;
  const std::uint64_t count = block->uint(static_cast<std::size_t>(ifd), 2);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t entry = ifd + 2 + 12 * i;
    if (!block->has(entry, 12)) return;
    const auto e = static_cast<std::size_t>(entry);
    f(*block, static_cast<std::uint16_t>(block->uint(e, 2)), static_cast<std::uint16_t>(block->uint(e + 2, 2)),
      block->uint(e + 4, 4), e);
  }
}

}  // namespace

Metadata read_exif(std::span<const std::byte> exif) {
  Metadata out;
  for_each_ifd0_entry(exif, [&](const Block& b, std::uint16_t tag, std::uint16_t type, std::uint64_t count, std::size_t e) {
    const char* name = tag_name(tag);
    if (name == nullptr) return;
    Value v = entry_value(b, type, count, e);
    if (!v.is_none()) out.set(name, std::move(v));
  });
  return out;
}

int exif_orientation(std::span<const std::byte> exif) noexcept {
  int orientation = 0;
  for_each_ifd0_entry(exif, [&](const Block& b, std::uint16_t tag, std::uint16_t type, std::uint64_t count, std::size_t e) {
    if (tag == 0x0112 && count == 1 && (type == kShort || type == kLong)) {
      const std::uint64_t v = b.uint(e + 8, type == kShort ? 2 : 4);
      orientation = v >= 1 && v <= 8 ? static_cast<int>(v) : 0;
    }
  });
  return orientation;
}

}  // namespace imio
