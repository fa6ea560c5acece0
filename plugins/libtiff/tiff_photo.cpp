// The normalised photo metadata of a TIFF page. A TIFF is itself
// TIFF-structured, so its EXIF lives in the file's own IFDs (EXIF 2.32
// §4.6.3: IFD0 points to the Exif and GPS IFDs, the Exif IFD to the
// interoperability IFD). They are read with the plugin's IFD reader, laid
// out again as one EXIF block (offsets recomputed, values unchanged) and
// handed to the core's read_exif_tags, so that names and values are the
// same as for a JPEG's APP1 block.
#include "tiff_photo.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace imio::tiff {
namespace {

constexpr std::uint16_t kXmp = 700, kIptc = 33723, kIcc = 34675;
/// As read_exif_tags: values laid out side by side add up to less than the
/// file; four times it allows shared values and no more.
constexpr std::uint64_t kValueBudget = 4;

// One IFD of the rebuilt block: its entries and the pointers to the IFDs
// that follow it in the block (tag, index in the list).
struct BlockIfd {
  std::vector<const Entry*> entries;
  std::vector<std::pair<std::uint16_t, std::size_t>> pointers;
};

std::uint64_t padded(std::uint64_t n) { return n + (n & 1); }

// Sizes in a classic TIFF block: 12-byte entries, values over 4 bytes out of line.
std::uint64_t ifd_size(const BlockIfd& b) {
  std::uint64_t n = 2 + 12 * (b.entries.size() + b.pointers.size()) + 4;
  for (const Entry* e : b.entries) {
    if (e->data.size() > 4) n += padded(e->data.size());
  }
  return n;
}

// The IFDs as one TIFF-structured block in the file's byte order: header,
// then each IFD followed by its out-of-line values. nullopt when it would
// not fit classic TIFF's 32-bit offsets.
std::optional<Bytes> exif_block(bool little, const std::vector<BlockIfd>& ifds) {
  std::vector<std::uint64_t> at;
  std::uint64_t end = 8;
  for (const BlockIfd& b : ifds) {
    at.push_back(end);
    end += ifd_size(b);
  }
  if (end > 0xFFFFFFFFu) return std::nullopt;
  Bytes block;
  block.reserve(static_cast<std::size_t>(end));
  auto put = [&](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) block.push_back(static_cast<std::byte>((v >> (8 * (little ? i : n - 1 - i))) & 0xFF));
  };
  block.push_back(little ? std::byte{'I'} : std::byte{'M'});
  block.push_back(block.back());
  put(42, 2);
  put(8, 4);
  for (std::size_t i = 0; i < ifds.size(); ++i) {
    const BlockIfd& b = ifds[i];
    put(b.entries.size() + b.pointers.size(), 2);
    std::uint64_t value_at = at[i] + 2 + 12 * (b.entries.size() + b.pointers.size()) + 4;
    for (const Entry* e : b.entries) {
      put(e->tag, 2);
      put(e->type, 2);
      put(e->count, 4);
      if (e->data.size() <= 4) {
        block.insert(block.end(), e->data.begin(), e->data.end());
        block.resize(block.size() + 4 - e->data.size());
      } else {
        put(value_at, 4);
        value_at += padded(e->data.size());
      }
    }
    for (const auto& [tag, child] : b.pointers) {
      put(tag, 2);
      put(kLong, 2);
      put(1, 4);
      put(at[child], 4);
    }
    put(0, 4);  // no next IFD: IFD1 of an EXIF block is a thumbnail, a TIFF's next IFD is a page
    for (const Entry* e : b.entries) {
      if (e->data.size() <= 4) continue;
      block.insert(block.end(), e->data.begin(), e->data.end());
      if (e->data.size() & 1) block.push_back(std::byte{0});
    }
  }
  return block;
}

// Entries that fit a classic TIFF block: not the pointers (laid out again),
// not BigTIFF's 64-bit types.
std::vector<const Entry*> plain_entries(const Ifd& ifd) {
  std::vector<const Entry*> out;
  for (const Entry& e : ifd.entries) {
    if (e.tag == kExifPointer || e.tag == kGpsPointer || e.tag == kInteropPointer) continue;
    if (e.type >= kLong8 || e.type == kIfd || e.data.size() > 0xFFFFFFFFu || e.count > 0xFFFFFFFFu) continue;
    out.push_back(&e);
  }
  return out;
}

class ExifIfds {
 public:
  ExifIfds(ByteSource& source, const Structure& st, const Ifd& ifd0) : source_(source), st_(st) {
    budget_ = st.file_size > UINT64_MAX / kValueBudget ? UINT64_MAX : kValueBudget * st.file_size;
    seen_.push_back(ifd0.offset);
    ifds_.push_back({plain_entries(ifd0), {}});
    charge(ifds_.back(), "IFD0", ifd0.offset);
  }

  // Follows `tag` of IFD `parent` (an entry of `from`), when present.
  void follow(const Ifd& from, std::size_t parent, std::uint16_t tag, const char* name) {
    const Entry* e = from.find(tag);
    if (e == nullptr || e->count == 0 || !e->is_integer()) return;
    const std::uint64_t offset = e->u(0);
    if (std::find(seen_.begin(), seen_.end(), offset) != seen_.end()) {
      fail(name, offset, "it is an IFD already read (a pointer loop)");
    }
    auto ifd = read_ifd_at(source_, Structure{st_.little, st_.bigtiff, {}, st_.file_size}, offset, budget_ - spent_);
    if (!ifd) fail(name, offset, "it lies past the end of the file or declares more than 65535 entries");
    if (ifd->over_budget) fail(name, offset, over_budget_reason());
    if (!ifd->lost.empty()) {
      fail(name, offset, fmt::format("the value of tag 0x{:04x} lies past the end of the file", ifd->lost.front()));
    }
    seen_.push_back(offset);
    read_.push_back(std::make_unique<Ifd>(std::move(*ifd)));
    ifds_.push_back({plain_entries(*read_.back()), {}});
    charge(ifds_.back(), name, offset);
    ifds_[parent].pointers.emplace_back(tag, ifds_.size() - 1);
  }

  const Ifd& last() const { return *read_.back(); }
  std::size_t count() const { return ifds_.size(); }
  const std::vector<BlockIfd>& ifds() const { return ifds_; }

 private:
  [[noreturn]] static void fail(const char* name, std::uint64_t offset, const std::string& why) {
    throw DecodeError(fmt::format("TIFF {} at offset {}: {}", name, offset, why));
  }

  std::string over_budget_reason() const {
    return fmt::format("the values of the EXIF IFDs add up to more than {} bytes, {} times the file (values read "
                       "again and again)",
                       budget_, kValueBudget);
  }

  // Adds an IFD's values to what the block will hold.
  void charge(const BlockIfd& b, const char* name, std::uint64_t offset) {
    for (const Entry* e : b.entries) spent_ += e->data.size();
    if (spent_ > budget_) fail(name, offset, over_budget_reason());
  }

  ByteSource& source_;
  const Structure& st_;
  std::uint64_t budget_ = 0, spent_ = 0;
  std::vector<std::uint64_t> seen_;
  std::vector<std::unique_ptr<Ifd>> read_;
  std::vector<BlockIfd> ifds_;
};

Metadata exif_tags_of(ByteSource& source, const Structure& st, const Ifd& ifd0) {
  ExifIfds ifds(source, st, ifd0);
  const std::size_t before = ifds.count();
  ifds.follow(ifd0, 0, kExifPointer, "Exif IFD (tag 34665)");
  if (ifds.count() > before) {
    const std::size_t exif = ifds.count() - 1;
    const Ifd& exif_ifd = ifds.last();
    ifds.follow(exif_ifd, exif, kInteropPointer, "interoperability IFD (tag 0xA005)");
  }
  ifds.follow(ifd0, 0, kGpsPointer, "GPS IFD (tag 34853)");
  auto block = exif_block(st.little, ifds.ifds());
  if (!block) throw DecodeError("TIFF EXIF IFDs: their values exceed the 4 GiB an EXIF block can address");
  return read_exif_tags(*block);
}

void set_bytes(Metadata& m, const char* key, const Ifd& ifd, std::uint16_t tag) {
  const Entry* e = ifd.find(tag);
  if (e == nullptr || m.contains(key)) return;
  m.set(key, Bytes(e->data.begin(), e->data.end()));
}

}  // namespace

void add_photo_entries(Metadata& m, ByteSource& source, const Structure& st, const Ifd& ifd) {
  if (!m.contains("exif_tags")) m.set("exif_tags", exif_tags_of(source, st, ifd));
  set_bytes(m, "xmp", ifd, kXmp);
  set_bytes(m, "iptc", ifd, kIptc);
  set_bytes(m, "icc_profile", ifd, kIcc);
  add_photo_metadata(m);
}

}  // namespace imio::tiff
