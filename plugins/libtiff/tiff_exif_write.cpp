// EXIF in a written TIFF. libtiff writes the page; its IFD is then copied
// to the end of the file with the EXIF's tags added. This keeps every value
// byte the EXIF block holds (libtiff would convert rationals through
// doubles and refuses tags it does not know), serves classic TIFF and
// BigTIFF alike, and leaves libtiff's own tags as they are.
#include "tiff_exif_write.hpp"

#include <imio/error.hpp>
#include <imio/metadata_write.hpp>

#include <algorithm>
#include <bit>
#include <map>
#include <vector>

#include "tiff_ifd.hpp"

namespace imio::tiff {
namespace {

constexpr std::uint16_t kPhotometric = 262, kYCbCr = 6;

// Tags that describe how the page's pixels are stored: the page's own,
// never the EXIF's. The YCbCr tags (TIFF 6.0 §21) matter only to a YCbCr
// page; in an RGB or gray page they are the EXIF's to give.
bool describes_storage(std::uint16_t tag, bool ycbcr) {
  if (tag == 529 || tag == 530 || tag == 532) return ycbcr;
  return describes_tiff_storage(tag);
}

class Io {
 public:
  explicit Io(bool little) : little_(little) {}
  std::uint64_t get(const Bytes& b, std::uint64_t at, int n) const {
    if (at > b.size() || b.size() - at < static_cast<std::uint64_t>(n)) {
      throw EncodeError("libtiff: the written file's IFD lies past its end (imio's bug)");
    }
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
      const auto byte = std::to_integer<std::uint64_t>(b[static_cast<std::size_t>(at) + static_cast<std::size_t>(little_ ? i : n - 1 - i)]);
      v |= byte << (8 * i);
    }
    return v;
  }
  void put(Bytes& b, std::uint64_t at, std::uint64_t v, int n) const {
    for (int i = 0; i < n; ++i) {
      b[static_cast<std::size_t>(at) + static_cast<std::size_t>(little_ ? i : n - 1 - i)] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
    }
  }
  void append(Bytes& b, std::uint64_t v, int n) const {
    b.resize(b.size() + static_cast<std::size_t>(n));
    put(b, b.size() - static_cast<std::size_t>(n), v, n);
  }

 private:
  bool little_;
};

// One IFD entry: either copied from the page (its count and value field as
// they are: the offsets they hold do not move) or new (its value bytes).
struct WrittenEntry {
  std::uint16_t tag = 0, type = 0;
  std::uint64_t count = 0;
  Bytes field;  // copied: the 4- or 8-byte field; new: empty
  Bytes value;  // new: the value's bytes, in the file's byte order
};

// The IFDs of write_exif_tags's block (classic TIFF, the file's byte order).
std::vector<WrittenEntry> block_ifd(const Bytes& block, const Io& io, std::uint64_t at, std::map<std::uint16_t, std::uint64_t>& pointers) {
  std::vector<WrittenEntry> out;
  const std::uint64_t n = io.get(block, at, 2);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t e = at + 2 + 12 * i;
    WrittenEntry x;
    x.tag = static_cast<std::uint16_t>(io.get(block, e, 2));
    x.type = static_cast<std::uint16_t>(io.get(block, e + 2, 2));
    x.count = io.get(block, e + 4, 4);
    if (x.tag == kExifPointer || x.tag == kGpsPointer || x.tag == kInteropPointer) {
      pointers[x.tag] = io.get(block, e + 8, 4);
      continue;
    }
    const std::uint64_t size = x.count * type_size(x.type);
    const std::uint64_t from = size <= 4 ? e + 8 : io.get(block, e + 8, 4);
    if (size > 0) io.get(block, from + size - 1, 1);  // within the block
    x.value.assign(block.begin() + static_cast<std::ptrdiff_t>(from), block.begin() + static_cast<std::ptrdiff_t>(from + size));
    out.push_back(std::move(x));
  }
  return out;
}

class Appender {
 public:
  Appender(Bytes& file, const Io& io, bool big) : f_(file), io_(io), big_(big) {}

  // Writes the IFD (values first, then the entries) and returns its offset.
  std::uint64_t write(std::vector<WrittenEntry> entries, std::uint64_t next) {
    std::sort(entries.begin(), entries.end(), [](const WrittenEntry& a, const WrittenEntry& b) { return a.tag < b.tag; });
    const std::uint64_t field = big_ ? 8 : 4;
    for (WrittenEntry& e : entries) {
      if (!e.field.empty()) continue;
      Bytes value = std::move(e.value);
      e.field.assign(static_cast<std::size_t>(field), std::byte{0});
      if (value.size() <= field) {
        std::copy(value.begin(), value.end(), e.field.begin());
        continue;
      }
      align();
      Bytes offset;
      io_.append(offset, f_.size(), static_cast<int>(field));
      e.field = std::move(offset);
      f_.insert(f_.end(), value.begin(), value.end());
    }
    align();
    const std::uint64_t at = f_.size();
    io_.append(f_, entries.size(), big_ ? 8 : 2);
    for (const WrittenEntry& e : entries) {
      io_.append(f_, e.tag, 2);
      io_.append(f_, e.type, 2);
      io_.append(f_, e.count, big_ ? 8 : 4);
      f_.insert(f_.end(), e.field.begin(), e.field.end());
    }
    io_.append(f_, next, big_ ? 8 : 4);
    return at;
  }

  WrittenEntry pointer(std::uint16_t tag, std::uint64_t offset) const {
    WrittenEntry e{tag, big_ ? kIfd8 : kLong, 1, {}, {}};
    io_.append(e.field, offset, big_ ? 8 : 4);
    return e;
  }

 private:
  void align() {
    if (f_.size() & 1) f_.push_back(std::byte{0});
  }
  Bytes& f_;
  const Io& io_;
  bool big_;
};

}  // namespace

void add_exif(Bytes& file, const ExifOnPage& exif) {
  if (file.size() < 16) throw EncodeError("libtiff: the written file is too short (imio's bug)");
  const bool little = std::to_integer<char>(file[0]) == 'I';
  const Io io(little);
  const bool big = io.get(file, 2, 2) == 43;
  const int offset_size = big ? 8 : 4;

  Dict tags;
  for (const char* name : {"IFD0", "ExifIFD", "GPS", "InteropIFD"}) {
    if (const Value* v = exif.tags.lookup(name)) tags.set(name, *v);
  }
  if (!tags.contains("IFD0")) tags.set("IFD0", Dict{});
  const Bytes block = write_exif_tags(tags, little ? std::endian::little : std::endian::big, 0);
  std::map<std::uint16_t, std::uint64_t> pointers, sub_pointers;
  const std::vector<WrittenEntry> ifd0 = block_ifd(block, io, io.get(block, 4, 4), pointers);

  // the page's IFD, its entries kept as they are
  const std::uint64_t page = io.get(file, big ? 8 : 4, offset_size);
  const std::uint64_t n = io.get(file, page, big ? 8 : 2);
  const std::uint64_t entry_size = big ? 20 : 12, first = page + (big ? 8 : 2);
  std::vector<WrittenEntry> entries;
  bool ycbcr = false;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t e = first + entry_size * i;
    WrittenEntry x;
    x.tag = static_cast<std::uint16_t>(io.get(file, e, 2));
    x.type = static_cast<std::uint16_t>(io.get(file, e + 2, 2));
    x.count = io.get(file, e + 4, offset_size);
    const auto field = static_cast<std::ptrdiff_t>(e + 4 + static_cast<std::uint64_t>(offset_size));
    x.field.assign(file.begin() + field, file.begin() + field + offset_size);
    if (x.tag == kPhotometric && io.get(file, e + 4 + static_cast<std::uint64_t>(offset_size), 2) == kYCbCr) ycbcr = true;
    entries.push_back(std::move(x));
  }
  const std::uint64_t next = io.get(file, first + entry_size * n, offset_size);

  for (const WrittenEntry& x : ifd0) {
    if (describes_storage(x.tag, ycbcr)) continue;
    auto on_page = std::find_if(entries.begin(), entries.end(), [&](const WrittenEntry& e) { return e.tag == x.tag; });
    if (on_page == entries.end()) entries.push_back(x);
    else if (exif.replaceable.count(x.tag) > 0) *on_page = x;
  }

  Appender out(file, io, big);
  std::uint64_t exif_at = 0, gps_at = 0;
  if (pointers.count(kExifPointer) > 0) {
    std::vector<WrittenEntry> exif_ifd = block_ifd(block, io, pointers[kExifPointer], sub_pointers);
    if (sub_pointers.count(kInteropPointer) > 0) {
      std::map<std::uint16_t, std::uint64_t> none;
      const std::uint64_t interop = out.write(block_ifd(block, io, sub_pointers[kInteropPointer], none), 0);
      exif_ifd.push_back(out.pointer(kInteropPointer, interop));
    }
    exif_at = out.write(std::move(exif_ifd), 0);
    entries.push_back(out.pointer(kExifPointer, exif_at));
  }
  if (pointers.count(kGpsPointer) > 0) {
    std::map<std::uint16_t, std::uint64_t> none;
    gps_at = out.write(block_ifd(block, io, pointers[kGpsPointer], none), 0);
    entries.push_back(out.pointer(kGpsPointer, gps_at));
  }
  const std::uint64_t new_page = out.write(std::move(entries), next);
  if (!big && file.size() > 0xFFFFFFFFULL) {
    throw ArgumentError("libtiff.write(): keyword 'exif': the file would pass 4 GiB (write BigTIFF: bigtiff=true)");
  }
  io.put(file, big ? 8 : 4, new_page, offset_size);
}

}  // namespace imio::tiff
