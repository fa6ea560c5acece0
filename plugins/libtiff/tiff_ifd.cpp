// TIFF header and IFD chain parsing. Every offset and count comes from an
// untrusted file: sizes are checked against the file before any read or
// allocation, and the chain is followed with loop detection.
#include "tiff_ifd.hpp"

#include <imio/checked_math.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

std::uint64_t load(const std::byte* p, int bytes, bool little) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    const auto b = std::to_integer<std::uint64_t>(p[little ? i : bytes - 1 - i]);
    v |= b << (8 * i);
  }
  return v;
}

// A source's size, or "unbounded" when it cannot tell without reading.
std::uint64_t file_size(ByteSource& source) {
  if (const auto n = source.size()) return *n;
  return std::numeric_limits<std::uint64_t>::max();
}

bool read_at(ByteSource& source, std::uint64_t pos, void* dst, std::size_t n) {
  source.seek(pos);
  return source.read(dst, n) == n;
}

// Reads `n` bytes at `pos` into `out`, growing it as the data arrive: a tag's
// count from the file is never allocated ahead of the bytes that back it (a
// non-seekable stream cannot say how many will come). False when fewer arrive.
bool read_growing(ByteSource& source, std::uint64_t pos, std::uint64_t n, std::vector<std::byte>& out) {
  constexpr std::size_t kStep = std::size_t{1} << 20;
  out.clear();
  source.seek(pos);
  while (out.size() < n) {
    const std::size_t old = out.size();
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kStep, n - old));
    out.resize(old + want);
    const std::size_t got = source.read(out.data() + old, want);
    out.resize(old + got);
    if (got < want) return false;
  }
  return true;
}

}  // namespace

std::size_t type_size(std::uint16_t type) noexcept {
  switch (type) {
    case kByte: case kAscii: case kSByte: case kUndefined: return 1;
    case kShort: case kSShort: return 2;
    case kLong: case kSLong: case kFloat: case kIfd: return 4;
    case kRational: case kSRational: case kDouble: case kLong8: case kSLong8: case kIfd8: return 8;
    default: return 0;
  }
}

bool Entry::is_integer() const noexcept {
  switch (type) {
    case kByte: case kShort: case kLong: case kSByte: case kSShort: case kSLong: case kIfd: case kLong8:
    case kSLong8: case kIfd8: case kUndefined: return true;
    default: return false;
  }
}

std::uint64_t Entry::u(std::size_t i) const noexcept {
  const std::size_t ts = type_size(type);
  if (ts == 0 || i >= count) return 0;
  if (type == kRational || type == kSRational) return load(data.data() + i * 8, 4, little);
  return load(data.data() + i * ts, static_cast<int>(ts), little);
}

std::int64_t Entry::s(std::size_t i) const noexcept {
  const std::uint64_t v = u(i);
  switch (type) {
    case kSByte: return static_cast<std::int8_t>(v);
    case kSShort: return static_cast<std::int16_t>(v);
    case kSLong: case kSRational: return static_cast<std::int32_t>(v);
    default: return static_cast<std::int64_t>(v);
  }
}

double Entry::f(std::size_t i) const noexcept {
  if (i >= count) return 0.0;
  switch (type) {
    case kFloat: return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(u(i))));
    case kDouble: return std::bit_cast<double>(u(i));
    case kRational: {
      const double num = static_cast<double>(load(data.data() + i * 8, 4, little));
      const double den = static_cast<double>(load(data.data() + i * 8 + 4, 4, little));
      return den == 0 ? std::nan("") : num / den;
    }
    case kSRational: {
      const double num = static_cast<std::int32_t>(load(data.data() + i * 8, 4, little));
      const double den = static_cast<std::int32_t>(load(data.data() + i * 8 + 4, 4, little));
      return den == 0 ? std::nan("") : num / den;
    }
    case kSByte: case kSShort: case kSLong: case kSLong8: return static_cast<double>(s(i));
    default: return static_cast<double>(u(i));
  }
}

std::string Entry::text() const {
  const char* p = reinterpret_cast<const char*>(data.data());
  const std::size_t n = data.size();
  return std::string(p, std::find(p, p + n, '\0'));
}

const Entry* Ifd::find_nth(std::uint16_t tag, std::size_t n) const noexcept {
  for (const Entry& e : entries) {
    if (e.tag == tag && n-- == 0) return &e;
  }
  return nullptr;
}

const Entry* Ifd::find(std::uint16_t tag) const noexcept { return find_nth(tag, 0); }

std::uint64_t Ifd::get(std::uint16_t tag, std::uint64_t fallback) const noexcept {
  const Entry* e = find(tag);
  return e != nullptr && e->count > 0 ? e->u(0) : fallback;
}

bool has_tiff_header(std::span<const std::byte> first) noexcept {
  if (first.size() < 4) return false;
  const auto b = [&](std::size_t i) { return std::to_integer<unsigned>(first[i]); };
  const bool ii = b(0) == 'I' && b(1) == 'I', mm = b(0) == 'M' && b(1) == 'M';
  if (!ii && !mm) return false;
  const unsigned version = ii ? b(2) | (b(3) << 8) : (b(2) << 8) | b(3);
  return version == 42 || version == 43;
}

std::optional<Ifd> read_ifd_at(ByteSource& source, const Structure& st, std::uint64_t offset,
                               std::uint64_t value_budget) {
  const std::uint64_t size = file_size(source);
  const int count_bytes = st.bigtiff ? 8 : 2;
  const std::size_t entry_bytes = st.bigtiff ? 20 : 12;
  const std::size_t inline_bytes = st.bigtiff ? 8 : 4;
  std::byte head[8];
  if (offset >= size || !read_at(source, offset, head, static_cast<std::size_t>(count_bytes))) return std::nullopt;
  const std::uint64_t n = load(head, count_bytes, st.little);
  // 65535 entries is classic TIFF's own bound; BigTIFF files never need more.
  if (n > 0xFFFF || n * entry_bytes > size - offset - static_cast<std::uint64_t>(count_bytes)) return std::nullopt;
  std::vector<std::byte> raw(static_cast<std::size_t>(n) * entry_bytes);
  if (!raw.empty() && !read_at(source, offset + static_cast<std::uint64_t>(count_bytes), raw.data(), raw.size())) {
    return std::nullopt;
  }
  Ifd ifd;
  ifd.offset = offset;
  ifd.entry_count = n;
  ifd.entries.reserve(static_cast<std::size_t>(n));
  std::uint64_t spent = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* p = raw.data() + i * entry_bytes;
    Entry e;
    e.little = st.little;
    e.tag = static_cast<std::uint16_t>(load(p, 2, st.little));
    e.type = static_cast<std::uint16_t>(load(p + 2, 2, st.little));
    e.count = st.bigtiff ? load(p + 4, 8, st.little) : load(p + 4, 4, st.little);
    const std::size_t ts = type_size(e.type);
    const auto total = checked_mul(e.count, ts);
    if (ts == 0 || !total) continue;  // unknown type or absurd count: the tag is skipped, as libtiff does
    const std::byte* field = p + (st.bigtiff ? 12 : 8);
    if (*total <= inline_bytes) {
      e.data.assign(field, field + *total);
    } else {
      const std::uint64_t at = load(field, static_cast<int>(inline_bytes), st.little);
      if (at > size || *total > size - at) {
        warn(kPlugin, fmt::format("tag {} of the IFD at {} points outside the file; skipped", e.tag, offset));
        ifd.lost.push_back(e.tag);
        continue;
      }
      if (*total > value_budget - std::min(spent, value_budget)) {
        ifd.over_budget = true;
        break;
      }
      spent += *total;
      if (!read_growing(source, at, *total, e.data)) {
        warn(kPlugin, fmt::format("tag {} of the IFD at {} runs past the end of the data; skipped", e.tag, offset));
        ifd.lost.push_back(e.tag);
        continue;
      }
    }
    ifd.entries.push_back(std::move(e));
  }
  return ifd;
}

Structure parse_structure(ByteSource& source, const Limits& limits) {
  std::byte head[16];
  source.seek(0);
  const std::size_t got = source.read(head, sizeof head);
  if (got < 8 || !has_tiff_header(std::span<const std::byte>(head, got))) {
    throw DecodeError("not a TIFF file (bad header)");
  }
  Structure st;
  st.little = std::to_integer<char>(head[0]) == 'I';
  st.bigtiff = load(head + 2, 2, st.little) == 43;
  std::uint64_t next = 0;
  if (st.bigtiff) {
    if (got < 16 || load(head + 4, 2, st.little) != 8) throw DecodeError("not a BigTIFF file (bad header)");
    next = load(head + 8, 8, st.little);
  } else {
    next = load(head + 4, 4, st.little);
  }
  const std::uint64_t size = file_size(source);
  st.file_size = size;
  const int count_bytes = st.bigtiff ? 8 : 2;
  const std::uint64_t entry_bytes = st.bigtiff ? 20 : 12;
  std::unordered_set<std::uint64_t> seen;
  while (next != 0) {
    if (!seen.insert(next).second) {
      warn(kPlugin, fmt::format("the IFD chain loops back to offset {}; later pages are ignored", next));
      break;
    }
    if (st.ifds.size() >= limits.max_frames) {
      throw LimitError(fmt::format("the file has more than {} pages (Limits::max_frames)", limits.max_frames));
    }
    // A page's values lie side by side in the file: entries that point at
    // the same bytes again and again (a hostile file) stop at four times it.
    auto ifd = read_ifd_at(source, st, next, size > UINT64_MAX / 4 ? UINT64_MAX : 4 * size);
    if (ifd && ifd->over_budget) {
      const std::string why = fmt::format("the values of the IFD at offset {} add up to more than four times the "
                                          "file (its entries point at the same bytes again and again)",
                                          next);
      if (st.ifds.empty()) throw DecodeError("the file is damaged: " + why);
      warn(kPlugin, why + "; it and later pages are ignored");
      break;
    }
    if (!ifd && st.ifds.empty()) {
      // The header promises a page the file does not hold: it was cut inside
      // its header or first IFD, or the offset is damaged. tifffile reads
      // this as a file without pages (an empty float64 array); it is damage.
      if (size != std::numeric_limits<std::uint64_t>::max() && next >= size) {
        throw DecodeError(fmt::format("the file is truncated or damaged: its first IFD is at offset {}, past the end "
                                      "of the file ({} bytes)",
                                      next, size));
      }
      throw DecodeError(fmt::format("the file is truncated or damaged: its first IFD (at offset {}) is cut short or "
                                    "unreadable",
                                    next));
    }
    if (!ifd) {
      // tifffile ends the page list here, with a warning.
      warn(kPlugin, fmt::format("the IFD at offset {} cannot be read; it and later pages are ignored", next));
      break;
    }
    // The next-IFD pointer follows the entries.
    const std::uint64_t link = next + static_cast<std::uint64_t>(count_bytes) + ifd->entry_count * entry_bytes;
    std::byte ptr[8];
    const std::size_t ptr_bytes = st.bigtiff ? 8 : 4;
    std::uint64_t following = 0;
    // The smallest valid TIFFs end without the pointer: no next IFD.
    if (link < size && read_at(source, link, ptr, ptr_bytes)) following = load(ptr, static_cast<int>(ptr_bytes), st.little);
    st.ifds.push_back(std::move(*ifd));
    next = following;
  }
  return st;
}

}  // namespace imio::tiff
