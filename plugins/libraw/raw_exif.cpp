// LibRaw 0.20 tags each entry it hands to the exif parser callback with
// where it came from (its parse_tiff_ifd, parse_exif, parse_gps_libraw and
// interop parsing): bits 20 and up hold the TIFF IFD's index plus one (1 is
// the first IFD, IFD0), bits 16–19 a kind (0 the Exif IFD when no IFD index
// is given, 3 Panasonic's raw IFD, 4 the interoperability IFD, 5 GPS).
// The stream is at the entry's value; LibRaw restores its position after
// the call.
#include "raw_exif.hpp"

#include <algorithm>
#include <array>

#include <libraw/libraw.h>

namespace imio::libraw {
namespace {

constexpr std::size_t kMaxValue = std::size_t{1} << 20, kMaxTotal = std::size_t{16} << 20, kMaxEntries = 1024;
constexpr std::uint16_t kExifPointer = 0x8769, kGpsPointer = 0x8825, kInteropPointer = 0xA005, kSubIfds = 0x014A;

std::size_t type_size(int type) {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;
    case 3: case 8: return 2;
    case 4: case 9: case 11: case 13: return 4;
    case 5: case 10: case 12: return 8;
    default: return 0;
  }
}

int ifd_of(int tag) {
  const int index = tag >> 20, kind = (tag >> 16) & 0xF;
  if (index == 1 && kind == 0) return 0;
  if (index != 0) return -1;
  switch (kind) {
    case 0: return 1;
    case 5: return 2;
    case 4: return 3;
    default: return -1;
  }
}

}  // namespace

void ExifCollector::callback(void* context, int tag, int type, int len, unsigned int ord, void* ifp, long long) noexcept {
  try {
    auto* self = static_cast<ExifCollector*>(context);
    if (self->sealed_) return;
    const int ifd = ifd_of(tag);
    const std::size_t size = type_size(type);
    if (ifd < 0 || size == 0 || len < 0 || (ord != 0x4949 && ord != 0x4d4d)) return;
    if (self->order_ == 0) self->order_ = ord;
    if (ord != self->order_) return;
    const auto number = static_cast<std::uint16_t>(tag & 0xFFFF);
    if (number == kExifPointer || number == kGpsPointer || number == kInteropPointer || number == kSubIfds) return;
    const std::size_t bytes = size * static_cast<std::size_t>(len);
    if (bytes > kMaxValue || self->bytes_ + bytes > kMaxTotal) return;
    std::size_t in_ifd = 0;
    for (const Entry& e : self->entries_) {
      if (e.ifd != ifd) continue;
      if (e.tag == number) return;
      ++in_ifd;
    }
    if (in_ifd >= kMaxEntries) return;
    Bytes value(bytes);
    auto* stream = static_cast<LibRaw_abstract_datastream*>(ifp);
    if (bytes > 0 && stream->read(value.data(), 1, static_cast<int>(bytes)) != static_cast<int>(bytes)) return;
    self->bytes_ += bytes;
    self->entries_.push_back({ifd, number, static_cast<std::uint16_t>(type), static_cast<std::uint32_t>(len), std::move(value)});
  } catch (...) {
    // an entry that cannot be read is left out; LibRaw goes on
  }
}

Bytes ExifCollector::block() const {
  if (entries_.empty()) return {};
  const bool little = order_ == 0x4949;
  std::array<std::vector<const Entry*>, 4> ifds;
  for (const Entry& e : entries_) ifds[static_cast<std::size_t>(e.ifd)].push_back(&e);
  for (auto& list : ifds) std::stable_sort(list.begin(), list.end(), [](const Entry* a, const Entry* b) { return a->tag < b->tag; });
  // pointers: IFD0 → Exif (1), GPS (2); Exif → interoperability (3)
  const bool has_exif = !ifds[1].empty() || !ifds[3].empty(), has_gps = !ifds[2].empty(), has_interop = !ifds[3].empty();
  const auto entry_count = [&](std::size_t i) {
    return ifds[i].size() + (i == 0 ? std::size_t{has_exif} + std::size_t{has_gps} : 0) + (i == 1 ? std::size_t{has_interop} : 0);
  };
  const auto ifd_size = [&](std::size_t i) {
    std::size_t n = 2 + 12 * entry_count(i) + 4;
    for (const Entry* e : ifds[i]) {
      if (e->value.size() > 4) n += e->value.size() + (e->value.size() & 1);
    }
    return n;
  };
  // layout: header, IFD0, Exif, interoperability, GPS — each followed by its values
  std::array<std::size_t, 4> at{};
  std::size_t pos = 8;
  for (const std::size_t i : {0U, 1U, 3U, 2U}) {
    if (i != 0 && (i == 1 ? !has_exif : ifds[i].empty())) continue;
    at[i] = pos;
    pos += ifd_size(i);
  }
  Bytes out;
  out.reserve(pos);
  const auto put = [&](std::uint64_t v, int n) {
    for (int k = 0; k < n; ++k) out.push_back(static_cast<std::byte>((v >> (8 * (little ? k : n - 1 - k))) & 0xFF));
  };
  put(little ? 0x4949 : 0x4d4d, 2);
  put(42, 2);
  put(8, 4);
  for (const std::size_t i : {0U, 1U, 3U, 2U}) {
    if (i != 0 && at[i] == 0) continue;
    struct Row {
      std::uint16_t tag, type;
      std::uint32_t count;
      const Bytes* value;
      std::uint32_t pointer;
    };
    std::vector<Row> rows;
    for (const Entry* e : ifds[i]) rows.push_back({e->tag, e->type, e->count, &e->value, 0});
    if (i == 0 && has_exif) rows.push_back({kExifPointer, 4, 1, nullptr, static_cast<std::uint32_t>(at[1])});
    if (i == 0 && has_gps) rows.push_back({kGpsPointer, 4, 1, nullptr, static_cast<std::uint32_t>(at[2])});
    if (i == 1 && has_interop) rows.push_back({kInteropPointer, 4, 1, nullptr, static_cast<std::uint32_t>(at[3])});
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.tag < b.tag; });
    std::size_t values = at[i] + 2 + 12 * rows.size() + 4;
    put(rows.size(), 2);
    for (const Row& r : rows) {
      put(r.tag, 2);
      put(r.type, 2);
      put(r.count, 4);
      if (r.value == nullptr) {
        put(r.pointer, 4);
      } else if (r.value->size() <= 4) {
        out.insert(out.end(), r.value->begin(), r.value->end());
        for (std::size_t k = r.value->size(); k < 4; ++k) out.push_back(std::byte{0});
      } else {
        put(values, 4);
        values += r.value->size() + (r.value->size() & 1);
      }
    }
    put(0, 4);  // no next IFD: a RAW's IFD1 is an image of its own
    for (const Row& r : rows) {
      if (r.value == nullptr || r.value->size() <= 4) continue;
      out.insert(out.end(), r.value->begin(), r.value->end());
      if (r.value->size() & 1) out.push_back(std::byte{0});
    }
  }
  return out;
}

}  // namespace imio::libraw
