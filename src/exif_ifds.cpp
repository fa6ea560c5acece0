// The full EXIF reader: IFD0, the Exif and GPS IFDs, the interoperability
// IFD and IFD1 (EXIF 2.32 §4.6.2, §4.6.3; TIFF 6.0 §2).
//
// The block comes from untrusted files. Unlike read_exif (IFD0 only, lenient
// as Pillow), this reader follows pointers, so it refuses what would make it
// loop or run long: an IFD reached twice, an IFD or value past the end of
// the block, more than kMaxEntries entries in one IFD, and entries whose
// values add up to more than kValueBudget times the block (overlapping
// values read again and again). Each refusal is a DecodeError naming the
// block and the reason. Sizes are 64-bit: a count of 2^32-1 RATIONALs does
// not wrap.
#include <imio/error.hpp>
#include <imio/exif.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "exif_block.hpp"
#include "exif_tag_names.hpp"
#include "text_bytes.hpp"

namespace imio {
namespace {

using namespace exif_detail;

/// More entries than any camera writes (EXIF 2.32 defines under 100 per
/// IFD; DNG's IFD0 has some 150): beyond it the IFD is refused.
constexpr std::uint64_t kMaxEntries = 1024;
/// Values are laid out side by side in a sound block, so their sizes add up
/// to less than the block; four times it allows shared values and no more.
constexpr std::uint64_t kValueBudget = 4;

std::string tag_key(std::span<const TagName> names, std::uint16_t tag) {
  const auto it = std::lower_bound(names.begin(), names.end(), tag,
                                   [](const TagName& t, std::uint16_t v) { return t.tag < v; });
  if (it != names.end() && it->tag == tag) return it->name;
  return fmt::format("0x{:04x}", tag);
}

// ASCII (TIFF 6.0 §2: NUL-terminated) as exiftool shows it: up to the first
// NUL. Trailing spaces stay (EXIF 2.32 §4.6.5 pads unknown text with them;
// exiftool trims them from a few tags only). EXIF says 7-bit ASCII, cameras
// write UTF-8 or Latin-1: UTF-8 is kept, anything else is read as Latin-1.
std::string ascii_text(std::span<const std::byte> raw) {
  std::string s(reinterpret_cast<const char*>(raw.data()), raw.size());
  if (const auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return text_detail::utf8_or_latin1(s);
}

// Where the IFDs below IFD0 are.
struct Links {
  std::optional<std::uint64_t> exif, gps, interop;
  std::uint64_t next = 0;
};

class IfdReader {
 public:
  explicit IfdReader(const Block& block) : b_(block) {}

  // Reads the IFD `group` at `offset`. Pointer tags go to `links` (when
  // given) instead of the result; GPS IFDs have their own tag names.
  Dict read(std::string_view group, std::uint64_t offset, Links* links) {
    if (std::find(visited_.begin(), visited_.end(), offset) != visited_.end()) {
      fail(fmt::format("{} at offset {} is an IFD read before (the IFD pointers loop)", group, offset));
    }
    visited_.push_back(offset);
    if (!b_.has(offset, 2)) fail(fmt::format("{} at offset {} is past the end", group, offset));
    const std::uint64_t count = b_.uint(static_cast<std::size_t>(offset), 2);
    if (count > kMaxEntries) {
      fail(fmt::format("{} declares {} entries (imio reads at most {} per IFD)", group, count, kMaxEntries));
    }
    if (!b_.has(offset + 2, 12 * count)) {
      fail(fmt::format("{} at offset {} declares {} entries, which run past the end", group, offset, count));
    }
    const std::span<const TagName> names = group == "GPS" ? std::span<const TagName>(kGpsNames)
                                                          : std::span<const TagName>(kExifNames);
    Dict out;
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto e = static_cast<std::size_t>(offset + 2 + 12 * i);
      const auto tag = static_cast<std::uint16_t>(b_.uint(e, 2));
      if (group != "GPS" && (tag == kExifPointer || tag == kGpsPointer || tag == kInteropPointer)) {
        if (links != nullptr) link(*links, group, tag, e);
        continue;
      }
      std::optional<Value> v = value(group, tag, e);
      if (v) out.set(tag_key(names, tag), std::move(*v));
    }
    // A missing next-IFD offset after the last entry is read as none.
    const std::uint64_t next_at = offset + 2 + 12 * count;
    if (links != nullptr && b_.has(next_at, 4)) links->next = b_.uint(static_cast<std::size_t>(next_at), 4);
    return out;
  }

  [[noreturn]] void fail(const std::string& reason) const {
    throw DecodeError(fmt::format("EXIF block ({} bytes, {}): {}", b_.size(),
                                  b_.little_endian() ? "little-endian" : "big-endian", reason));
  }

 private:
  void link(Links& links, std::string_view group, std::uint16_t tag, std::size_t e) {
    const auto type = static_cast<std::uint16_t>(b_.uint(e + 2, 2));
    const std::uint64_t count = b_.uint(e + 4, 4);
    if ((type != kLong && type != kIfd) || count != 1) {
      fail(fmt::format("{} tag 0x{:04x} (an IFD pointer) is not one LONG (type {}, count {})", group, tag, type, count));
    }
    const std::uint64_t target = b_.uint(e + 8, 4);
    if (tag == kExifPointer) links.exif = target;
    else if (tag == kGpsPointer) links.gps = target;
    else links.interop = target;
  }

  // The entry's value; none for a type TIFF 6.0 does not define ("readers
  // should skip over fields containing an unexpected field type", §2).
  std::optional<Value> value(std::string_view group, std::uint16_t tag, std::size_t e) {
    const auto type = static_cast<std::uint16_t>(b_.uint(e + 2, 2));
    const std::size_t unit = type_size(type);
    if (unit == 0) return std::nullopt;
    const std::uint64_t count = b_.uint(e + 4, 4);
    const std::uint64_t total = unit * count;  // at most 8 × (2^32 − 1): no wrap in 64 bits
    const std::uint64_t at = total <= 4 ? e + 8 : b_.uint(e + 8, 4);  // up to 4 bytes sit in the entry
    if (!b_.has(at, total)) {
      fail(fmt::format("{} tag 0x{:04x} has {} values of {} bytes at offset {}, past the end", group, tag, count,
                       unit, at));
    }
    value_bytes_ += total;
    if (value_bytes_ > kValueBudget * b_.size()) {
      fail(fmt::format("the values of its entries add up to more than {} times its size (they overlap)",
                       kValueBudget));
    }
    const auto pos = static_cast<std::size_t>(at);
    const auto n = static_cast<std::size_t>(count);
    const auto raw = b_.bytes(pos, static_cast<std::size_t>(total));
    if (type == kByte || type == kUndefined) return Value(Bytes(raw.begin(), raw.end()));
    if (type == kAscii) return Value(ascii_text(raw));
    if (n == 1) return element(b_, type, pos);
    Value::List list;
    list.reserve(n);
    for (std::size_t i = 0; i < n; ++i) list.push_back(element(b_, type, pos + i * unit));
    return Value(std::move(list));
  }

  const Block& b_;
  std::vector<std::uint64_t> visited_;
  std::uint64_t value_bytes_ = 0;
};

}  // namespace

Metadata read_exif_tags(std::span<const std::byte> exif) {
  const auto block = tiff_block(exif);
  if (!block) {
    throw DecodeError(fmt::format("EXIF block ({} bytes): no TIFF header ('II' or 'MM', then 42; TIFF 6.0 §2)",
                                  exif.size()));
  }
  IfdReader reader(*block);
  Links top;
  Dict ifd0 = reader.read("IFD0", block->uint(4, 4), &top);
  Links sub;
  std::optional<Dict> exif_ifd, gps, interop, ifd1;
  if (top.exif) exif_ifd = reader.read("ExifIFD", *top.exif, &sub);
  if (!top.interop) top.interop = sub.interop;  // EXIF 2.32 §4.6.3: the Exif IFD points to it
  if (top.gps) gps = reader.read("GPS", *top.gps, nullptr);
  if (top.interop) interop = reader.read("InteropIFD", *top.interop, nullptr);
  if (top.next != 0) ifd1 = reader.read("IFD1", top.next, nullptr);
  Metadata out;
  out.set("IFD0", std::move(ifd0));
  if (exif_ifd) out.set("ExifIFD", std::move(*exif_ifd));
  if (gps) out.set("GPS", std::move(*gps));
  if (interop) out.set("InteropIFD", std::move(*interop));
  if (ifd1) out.set("IFD1", std::move(*ifd1));
  return out;
}

}  // namespace imio
