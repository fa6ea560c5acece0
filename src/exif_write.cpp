// The EXIF writer: a TIFF-structured block (TIFF 6.0 §2, EXIF 2.32 §4.6)
// built from the parsed form read_exif_tags returns. The parsed form keeps
// values, not TIFF types, so each tag's type comes from EXIF 2.32's tables
// (kTypes below) where imio knows it, else from the value.
#include <imio/error.hpp>
#include <imio/exif.hpp>
#include <imio/metadata_write.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "exif_block.hpp"
#include "exif_tag_names.hpp"

namespace imio {
namespace {

using namespace exif_detail;

constexpr std::uint16_t kThumbnailOffset = 0x0201, kThumbnailLength = 0x0202;

// A pseudo-type: SHORT when every value fits 16 bits, else LONG.
constexpr std::uint16_t kShortOrLong = 0xFFFF;

struct TagType {
  std::uint16_t tag;
  std::uint16_t type;
};

// The TIFF types EXIF 2.32 (§4.6.4–§4.6.7) and TIFF 6.0 give the tags a
// photo's EXIF usually holds; sorted by tag. Tags not listed take the type
// their value suggests.
constexpr TagType kTypes[] = {
    {0x0001, kAscii}, {0x0002, kUndefined}, {0x000B, kAscii}, {0x00FE, kLong}, {0x0100, kShortOrLong},
    {0x0101, kShortOrLong}, {0x0102, kShort}, {0x0103, kShort}, {0x0106, kShort}, {0x010D, kAscii},
    {0x010E, kAscii}, {0x010F, kAscii}, {0x0110, kAscii}, {0x0112, kShort}, {0x0115, kShort},
    {0x0116, kShortOrLong}, {0x011A, kRational}, {0x011B, kRational}, {0x011C, kShort}, {0x011D, kAscii},
    {0x0128, kShort}, {0x012D, kShort}, {0x0131, kAscii}, {0x0132, kAscii}, {0x013B, kAscii}, {0x013C, kAscii},
    {0x013E, kRational}, {0x013F, kRational}, {0x0201, kLong}, {0x0202, kLong}, {0x0211, kRational},
    {0x0212, kShort}, {0x0213, kShort}, {0x0214, kRational}, {0x02BC, kByte}, {0x4746, kShort},
    {0x4749, kShort}, {0x8298, kAscii}, {0x829A, kRational}, {0x829D, kRational}, {0x8822, kShort},
    {0x8824, kAscii}, {0x8827, kShort}, {0x8828, kUndefined}, {0x8830, kShort}, {0x8831, kLong},
    {0x8832, kLong}, {0x8833, kLong}, {0x8834, kLong}, {0x8835, kLong}, {0x9000, kUndefined},
    {0x9003, kAscii}, {0x9004, kAscii}, {0x9010, kAscii}, {0x9011, kAscii}, {0x9012, kAscii},
    {0x9101, kUndefined}, {0x9102, kRational}, {0x9201, kSRational}, {0x9202, kRational},
    {0x9203, kSRational}, {0x9204, kSRational}, {0x9205, kRational}, {0x9206, kRational}, {0x9207, kShort},
    {0x9208, kShort}, {0x9209, kShort}, {0x920A, kRational}, {0x9214, kShort}, {0x927C, kUndefined},
    {0x9286, kUndefined}, {0x9290, kAscii}, {0x9291, kAscii}, {0x9292, kAscii}, {0x9400, kSRational},
    {0x9401, kRational}, {0x9402, kRational}, {0x9403, kSRational}, {0x9404, kRational},
    {0x9405, kSRational}, {0x9C9B, kByte}, {0x9C9C, kByte}, {0x9C9D, kByte}, {0x9C9E, kByte},
    {0x9C9F, kByte}, {0xA000, kUndefined}, {0xA001, kShort}, {0xA002, kShortOrLong},
    {0xA003, kShortOrLong}, {0xA004, kAscii}, {0xA20B, kRational}, {0xA20C, kUndefined},
    {0xA20E, kRational}, {0xA20F, kRational}, {0xA210, kShort}, {0xA214, kShort}, {0xA215, kRational},
    {0xA217, kShort}, {0xA300, kUndefined}, {0xA301, kUndefined}, {0xA302, kUndefined}, {0xA401, kShort},
    {0xA402, kShort}, {0xA403, kShort}, {0xA404, kRational}, {0xA405, kShort}, {0xA406, kShort},
    {0xA407, kShort}, {0xA408, kShort}, {0xA409, kShort}, {0xA40A, kShort}, {0xA40B, kUndefined},
    {0xA40C, kShort}, {0xA420, kAscii}, {0xA430, kAscii}, {0xA431, kAscii}, {0xA432, kRational},
    {0xA433, kAscii}, {0xA434, kAscii}, {0xA435, kAscii}, {0xA460, kShort}, {0xA461, kShort},
    {0xA462, kUndefined}, {0xA500, kRational}, {0xC4A5, kUndefined},
};

// EXIF 2.32 §4.6.6, Table 15.
constexpr TagType kGpsTypes[] = {
    {0x00, kByte},     {0x01, kAscii},     {0x02, kRational}, {0x03, kAscii},     {0x04, kRational},
    {0x05, kByte},     {0x06, kRational},  {0x07, kRational}, {0x08, kAscii},     {0x09, kAscii},
    {0x0A, kAscii},    {0x0B, kRational},  {0x0C, kAscii},    {0x0D, kRational},  {0x0E, kAscii},
    {0x0F, kRational}, {0x10, kAscii},     {0x11, kRational}, {0x12, kAscii},     {0x13, kAscii},
    {0x14, kRational}, {0x15, kAscii},     {0x16, kRational}, {0x17, kAscii},     {0x18, kRational},
    {0x19, kAscii},    {0x1A, kRational},  {0x1B, kUndefined}, {0x1C, kUndefined}, {0x1D, kAscii},
    {0x1E, kShort},    {0x1F, kRational},
};

std::optional<std::uint16_t> known_type(std::span<const TagType> table, std::uint16_t tag) {
  const auto it = std::lower_bound(table.begin(), table.end(), tag,
                                   [](const TagType& t, std::uint16_t v) { return t.tag < v; });
  if (it != table.end() && it->tag == tag) return it->type;
  return std::nullopt;
}

// A name exiftool gives two tags (a TIFF/EP one and the EXIF 2.32 one, or
// a vendor's): the EXIF 2.32 one (0xA000…0xA4FF), else the lowest.
std::optional<std::uint16_t> tag_of(std::span<const TagName> names, std::string_view key) {
  if (key.size() == 6 && key.substr(0, 2) == "0x") {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(key.data() + 2, key.data() + 6, v, 16);
    if (ec == std::errc() && end == key.data() + 6) return static_cast<std::uint16_t>(v);
    return std::nullopt;
  }
  std::optional<std::uint16_t> found;
  for (const TagName& t : names) {
    if (key != t.name) continue;
    if (!found || (t.tag >= 0xA000 && t.tag <= 0xA4FF)) found = t.tag;
  }
  return found;
}

struct Entry {
  std::uint16_t tag;
  std::uint16_t type;
  std::uint32_t count;
  Bytes data;  // the values in the block's byte order
};

class Encoder {
 public:
  Encoder(bool little, std::string_view ifd, std::string_view name) : little_(little), ifd_(ifd), name_(name) {}

  [[noreturn]] void fail(std::string_view reason) const {
    throw ArgumentError(fmt::format("EXIF {} tag '{}': {}", ifd_, name_, reason));
  }

  Entry encode(std::uint16_t tag, std::optional<std::uint16_t> declared, const Value& v) {
    std::uint16_t type = declared ? *declared : inferred(v);
    // bytes are kept as given, whatever the tag's type (a camera's text as
    // UNDEFINED reads back as bytes and is written back so)
    if (v.is<Bytes>()) type = type == kByte ? kByte : kUndefined;
    // and a str is ASCII where the tag holds bytes (ExifVersion written as
    // ASCII by a camera reads back as str)
    if (v.is<std::string>() && (type == kByte || type == kUndefined)) type = kAscii;
    Entry e{tag, type, 0, {}};
    if (type == kAscii) {
      if (!v.is<std::string>()) fail(fmt::format("expects a str (ASCII), got {}", v.type_name()));
      const auto& s = v.ref<std::string>();
      if (s.find('\0') != std::string::npos) fail("a str holding a NUL cannot be ASCII (TIFF 6.0 §2 ends it there)");
      append_raw(e.data, s.data(), s.size());
      e.data.push_back(std::byte{0});
      e.count = checked_count(e.data.size());
      return e;
    }
    if (v.is<Bytes>()) {
      e.data = v.ref<Bytes>();
      e.count = checked_count(e.data.size());
      return e;
    }
    const std::vector<Value> values = numbers(v);
    e.count = checked_count(values.size());
    // SHORT tags take LONG values too (TIFF 6.0 allows either for sizes; a
    // camera's LONG reads back as the same int)
    if (type == kShortOrLong || type == kShort) type = e.type = fits_short(values) ? kShort : kLong;
    for (const Value& x : values) put_number(e.data, type, x);
    return e;
  }

 private:
  std::uint16_t inferred(const Value& v) const {
    if (v.is<std::string>()) return kAscii;
    if (v.is<Bytes>()) return kUndefined;
    const std::vector<Value> values = numbers(v);
    bool all_int = true, negative = false, wide = false, too_wide = false;
    for (const Value& x : values) {
      if (x.is<double>()) {
        all_int = false;
        negative = negative || x.ref<double>() < 0;
        continue;
      }
      const std::int64_t i = x.ref<std::int64_t>();
      negative = negative || i < 0;
      wide = wide || i > 0xFFFF;
      too_wide = too_wide || i > 0xFFFFFFFFLL || i < INT32_MIN;
    }
    if (!all_int) return negative ? kSRational : kRational;
    if (too_wide) fail("an int beyond 32 bits has no TIFF type");
    if (negative) return kSLong;
    return wide ? kLong : kShort;
  }

  // The value as a list of numbers (int or float).
  std::vector<Value> numbers(const Value& v) const {
    std::vector<Value> out;
    if (v.is<Value::List>()) out = v.ref<Value::List>();
    else out.push_back(v);
    if (out.empty()) fail("an empty list has no value to write");
    for (const Value& x : out) {
      if (!x.is<std::int64_t>() && !x.is<double>()) {
        fail(fmt::format("expects numbers, got {}", v.is<Value::List>() ? "a list holding " + std::string(x.type_name())
                                                                        : std::string(x.type_name())));
      }
    }
    return out;
  }

  static bool fits_short(const std::vector<Value>& values) {
    return std::all_of(values.begin(), values.end(), [](const Value& x) {
      return x.is<std::int64_t>() && x.ref<std::int64_t>() >= 0 && x.ref<std::int64_t>() <= 0xFFFF;
    });
  }

  std::uint32_t checked_count(std::size_t n) const {
    if (n > 0xFFFFFFFFULL) fail("too many values for one entry");
    return static_cast<std::uint32_t>(n);
  }

  std::int64_t integer(const Value& x, std::int64_t lo, std::int64_t hi, std::string_view type) const {
    if (!x.is<std::int64_t>()) fail(fmt::format("a {} tag takes int values, got {}", type, x.repr()));
    const std::int64_t i = x.ref<std::int64_t>();
    if (i < lo || i > hi) fail(fmt::format("{} does not fit a {} ({}…{})", i, type, lo, hi));
    return i;
  }

  void put_number(Bytes& out, std::uint16_t type, const Value& x) const {
    switch (type) {
      case kByte:
      case kUndefined: put(out, static_cast<std::uint64_t>(integer(x, 0, 0xFF, "BYTE")), 1); return;
      case kShort: put(out, static_cast<std::uint64_t>(integer(x, 0, 0xFFFF, "SHORT")), 2); return;
      case kLong: put(out, static_cast<std::uint64_t>(integer(x, 0, 0xFFFFFFFFLL, "LONG")), 4); return;
      case kSLong:
        put(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(integer(x, INT32_MIN, INT32_MAX, "SLONG"))), 4);
        return;
      case kRational:
      case kSRational: {
        const auto [num, den] = fraction(x.get<double>(), type == kSRational);
        put(out, num, 4);
        put(out, den, 4);
        return;
      }
      default: fail(fmt::format("TIFF type {} is not written", type));
    }
  }

  // The fraction num/den (32-bit; den > 0 unless NaN) whose quotient, as
  // read_exif_tags computes it, gives `x` back: the first continued-fraction
  // convergent that does, else the last one that fits.
  std::pair<std::uint32_t, std::uint32_t> fraction(double x, bool is_signed) const {
    if (std::isnan(x)) return {0, 0};
    const std::string_view type = is_signed ? "SRATIONAL" : "RATIONAL";
    if (std::isinf(x)) fail(fmt::format("{} cannot be a {}", x, type));
    if (x < 0 && !is_signed) fail(fmt::format("{} is negative: a RATIONAL is unsigned (SRATIONAL tags take it)", x));
    const double limit = is_signed ? 2147483647.0 : 4294967295.0;
    const double a = std::fabs(x);
    if (is_signed && x == -2147483648.0) return {0x80000000u, 1};  // INT32_MIN / 1
    if (a > limit) fail(fmt::format("{} is beyond the 32-bit numerator of a {}", x, type));
    double h1 = 1, h2 = 0, k1 = 0, k2 = 1;  // convergents h/k (TAOCP 4.5.3)
    double best_h = std::round(a), best_k = 1;
    double r = a;
    for (int i = 0; i < 64; ++i) {
      const double q = std::floor(r);
      const double h = q * h1 + h2, k = q * k1 + k2;
      if (h > limit || k > limit) break;
      best_h = h;
      best_k = k;
      if (h / k == a) break;
      const double frac = r - q;
      if (frac == 0) break;
      r = 1 / frac;
      h2 = h1;
      h1 = h;
      k2 = k1;
      k1 = k;
    }
    const auto num = static_cast<std::int64_t>(best_h);
    const auto den = static_cast<std::uint32_t>(best_k);
    if (x < 0) return {static_cast<std::uint32_t>(static_cast<std::int32_t>(-num)), den};
    return {static_cast<std::uint32_t>(num), den};
  }

  void put(Bytes& out, std::uint64_t v, int bytes) const {
    for (int i = 0; i < bytes; ++i) {
      const int shift = 8 * (little_ ? i : bytes - 1 - i);
      out.push_back(static_cast<std::byte>((v >> shift) & 0xFF));
    }
  }
  static void append_raw(Bytes& out, const char* p, std::size_t n) {
    const auto* b = reinterpret_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  }

  bool little_;
  std::string_view ifd_, name_;
};

struct Ifd {
  std::string_view name;
  std::vector<Entry> entries;
  Bytes thumbnail;  // IFD1's ThumbnailImage
  std::uint64_t offset = 0;
  std::uint64_t size = 0;  // the IFD and its values
};

Ifd encode_ifd(std::string_view name, const Dict& tags, bool little) {
  const bool gps = name == "GPS";
  const std::span<const TagName> names = gps ? std::span<const TagName>(kGpsNames) : std::span<const TagName>(kExifNames);
  const std::span<const TagType> types = gps ? std::span<const TagType>(kGpsTypes) : std::span<const TagType>(kTypes);
  Ifd ifd{name, {}, {}};
  std::vector<bool> seen(0x10000, false);
  for (const auto& [key, value] : tags) {
    Encoder enc(little, name, key);
    if (name == "IFD1" && key == "ThumbnailImage") {
      if (!value.is<Bytes>()) enc.fail(fmt::format("expects bytes (the thumbnail), got {}", value.type_name()));
      ifd.thumbnail = value.ref<Bytes>();
      continue;
    }
    const std::optional<std::uint16_t> tag = tag_of(names, key);
    if (!tag) enc.fail(gps ? "unknown GPS tag name (exiftool's names, or \"0xabcd\")"
                           : "unknown tag name (exiftool's names, or \"0xabcd\")");
    if (!gps && (*tag == kExifPointer || *tag == kGpsPointer || *tag == kInteropPointer)) {
      enc.fail("an IFD pointer is structure: give the IFD's tags under its name (ExifIFD, GPS, InteropIFD)");
    }
    if (name == "IFD1" && (*tag == kThumbnailOffset || *tag == kThumbnailLength)) continue;  // structure
    if (seen[*tag]) enc.fail(fmt::format("tag 0x{:04x} is given twice (under two names)", *tag));
    seen[*tag] = true;
    ifd.entries.push_back(enc.encode(*tag, known_type(types, *tag), value));
  }
  return ifd;
}

std::uint64_t values_size(const std::vector<Entry>& entries) {
  std::uint64_t n = 0;
  for (const Entry& e : entries) {
    if (e.data.size() > 4) n += e.data.size() + (e.data.size() & 1);
  }
  return n;
}

class Writer {
 public:
  explicit Writer(bool little) : little_(little) {}
  void put(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      const int shift = 8 * (little_ ? i : bytes - 1 - i);
      out_.push_back(static_cast<std::byte>((v >> shift) & 0xFF));
    }
  }
  void raw(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void pad_even() {
    if (out_.size() & 1) out_.push_back(std::byte{0});
  }
  std::size_t size() const { return out_.size(); }
  Bytes take() { return std::move(out_); }

  void ifd(const Ifd& ifd, std::uint64_t next) {
    put(ifd.entries.size(), 2);
    std::uint64_t at = ifd.offset + 2 + 12 * ifd.entries.size() + 4;
    for (const Entry& e : ifd.entries) {
      put(e.tag, 2);
      put(e.type, 2);
      put(e.count, 4);
      if (e.data.size() <= 4) {
        raw(e.data);
        for (std::size_t i = e.data.size(); i < 4; ++i) out_.push_back(std::byte{0});
      } else {
        put(at, 4);
        at += e.data.size() + (e.data.size() & 1);
      }
    }
    put(next, 4);
    for (const Entry& e : ifd.entries) {
      if (e.data.size() <= 4) continue;
      raw(e.data);
      pad_even();
    }
  }

 private:
  bool little_;
  Bytes out_;
};

Entry pointer(std::uint16_t tag, std::uint64_t offset, bool little) {
  Entry e{tag, kLong, 1, {}};
  for (int i = 0; i < 4; ++i) {
    const int shift = 8 * (little ? i : 3 - i);
    e.data.push_back(static_cast<std::byte>((offset >> shift) & 0xFF));
  }
  return e;
}

void sort_entries(Ifd& ifd) {
  std::sort(ifd.entries.begin(), ifd.entries.end(), [](const Entry& a, const Entry& b) { return a.tag < b.tag; });
}

}  // namespace

Bytes write_exif_tags(const Metadata& tags, std::endian byte_order, std::uint64_t base) {
  const bool little = byte_order == std::endian::little;
  constexpr std::array<std::string_view, 5> kOrder{"IFD0", "ExifIFD", "InteropIFD", "GPS", "IFD1"};
  std::array<std::optional<Ifd>, 5> ifds;
  for (const auto& [name, value] : tags) {
    const auto it = std::find(kOrder.begin(), kOrder.end(), name);
    if (it == kOrder.end()) {
      throw ArgumentError(fmt::format("EXIF: '{}' is not an IFD name (IFD0, ExifIFD, GPS, InteropIFD, IFD1)", name));
    }
    if (!value.is<Dict>()) {
      throw ArgumentError(fmt::format("EXIF {}: expects a dict of tags, got {}", name, value.type_name()));
    }
    ifds[static_cast<std::size_t>(it - kOrder.begin())] = encode_ifd(*it, value.ref<Dict>(), little);
  }
  auto& ifd0 = ifds[0];
  auto& exif = ifds[1];
  auto& interop = ifds[2];
  auto& gps = ifds[3];
  auto& ifd1 = ifds[4];
  if (!ifd0) ifd0 = Ifd{"IFD0", {}, {}};
  if (interop && !exif) exif = Ifd{"ExifIFD", {}, {}};  // EXIF 2.32 §4.6.3: the Exif IFD points to it
  // Pointer entries hold 4 bytes in the entry: their presence fixes the sizes.
  if (exif) ifd0->entries.push_back(pointer(kExifPointer, 0, little));
  if (gps) ifd0->entries.push_back(pointer(kGpsPointer, 0, little));
  if (interop) exif->entries.push_back(pointer(kInteropPointer, 0, little));
  if (ifd1 && !ifd1->thumbnail.empty()) {
    ifd1->entries.push_back(pointer(kThumbnailOffset, 0, little));
    ifd1->entries.push_back(pointer(kThumbnailLength, ifd1->thumbnail.size(), little));
  }
  std::uint64_t at = base + 8;
  for (auto& ifd : ifds) {
    if (!ifd) continue;
    sort_entries(*ifd);
    ifd->offset = at;
    ifd->size = 2 + 12 * ifd->entries.size() + 4 + values_size(ifd->entries);
    at += ifd->size;
  }
  const std::uint64_t thumbnail_at = at;
  if (ifd1) at += ifd1->thumbnail.size();
  for (const auto& ifd : ifds) {
    if (ifd && ifd->entries.size() > 0xFFFF) {
      throw ArgumentError(fmt::format("EXIF {}: {} entries (an IFD counts them in 16 bits)", ifd->name, ifd->entries.size()));
    }
  }
  if (at > 0xFFFFFFFFULL) throw ArgumentError(fmt::format("EXIF: the block would be {} bytes (TIFF offsets stop at 4 GiB)", at));
  const auto set_pointer = [&](Ifd& in, std::uint16_t tag, std::uint64_t target) {
    for (Entry& e : in.entries) {
      if (e.tag == tag) e = pointer(tag, target, little);
    }
  };
  if (exif) set_pointer(*ifd0, kExifPointer, exif->offset);
  if (gps) set_pointer(*ifd0, kGpsPointer, gps->offset);
  if (interop) set_pointer(*exif, kInteropPointer, interop->offset);
  if (ifd1 && !ifd1->thumbnail.empty()) set_pointer(*ifd1, kThumbnailOffset, thumbnail_at);

  Writer w(little);
  w.raw(std::as_bytes(std::span(little ? "II" : "MM", 2)));
  w.put(42, 2);
  w.put(base + 8, 4);
  for (auto& ifd : ifds) {
    if (!ifd) continue;
    w.ifd(*ifd, &ifd == &ifd0 && ifd1 ? ifd1->offset : 0);
  }
  if (ifd1) w.raw(ifd1->thumbnail);
  return w.take();
}

}  // namespace imio
