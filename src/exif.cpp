// EXIF IFD0 reader (TIFF 6.0 §2 file structure; EXIF 2.32 §4.6).
//
// The block comes from untrusted files: every offset and count is checked
// against the block before use, sizes are computed without overflow, and
// only IFD0 is read (no pointer chains, so no loops).
#include <imio/plugin.hpp>

#include "exif_block.hpp"
#include "exif_tag_names.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace imio {
namespace {

using namespace exif_detail;

constexpr TagName kTagNames[] = {
#include "exif_tags.inc"
};

const char* tag_name(std::uint16_t tag) {
  for (const auto& t : kTagNames) {
    if (t.tag == tag) return t.name;
  }
  return nullptr;
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
