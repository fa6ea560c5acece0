// PALETTE COLOR lookup tables (DICOM PS3.3 C.7.6.3.1.5–6): plain tables of
// 8- or 16-bit entries, and segmented ones (C.7.9.2: discrete, linear and
// indirect segments), read as pydicom's apply_color_lut reads them.
#include "dicom_internal.hpp"

#include <imio/error.hpp>

#include <gdcmDataSet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace imio::dicom {
namespace {

constexpr std::size_t kMaxEntries = 65536;  // a descriptor's largest count (0 means 2^16)
constexpr int kMaxIndirection = 8;          // nested indirect segments followed

// The bytes of (0028,e) in the top-level data set; empty when absent.
std::span<const std::byte> bytes_of(const gdcm::DataSet& ds, std::uint16_t e) {
  const gdcm::Tag t(0x0028, e);
  if (!ds.FindDataElement(t)) return {};
  const gdcm::ByteValue* bv = ds.GetDataElement(t).GetByteValue();
  if (bv == nullptr || bv->GetPointer() == nullptr) return {};
  return {reinterpret_cast<const std::byte*>(bv->GetPointer()), bv->GetLength()};
}

std::vector<std::uint32_t> words_of(std::span<const std::byte> b, bool big_endian) {
  std::vector<std::uint32_t> w(b.size() / 2);
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto lo = std::to_integer<std::uint32_t>(b[2 * i + (big_endian ? 1 : 0)]);
    const auto hi = std::to_integer<std::uint32_t>(b[2 * i + (big_endian ? 0 : 1)]);
    w[i] = hi << 8 | lo;
  }
  return w;
}

[[noreturn]] void damaged(const std::string& what) {
  throw DecodeError(fmt::format("damaged segmented palette lookup table (PS3.3 C.7.9.2): {}", what));
}

// Appends the expansion of the segments in data[at...] to `lut`: all of
// them, or `segments` of them (an indirect segment's count).
void expand(const std::vector<std::uint32_t>& data, std::size_t at, std::size_t segments, bool eight_bit,
            bool big_endian, int depth, std::vector<std::uint16_t>& lut) {
  if (depth > kMaxIndirection) damaged(fmt::format("indirect segments nested deeper than {}", kMaxIndirection));
  std::size_t done = 0;
  // at + 1: a trailing pad entry is not a segment (every segment is longer)
  while (at + 1 < data.size() && (segments == 0 || done < segments)) {
    const std::uint32_t opcode = data[at], length = data[at + 1];
    at += 2;
    if (lut.size() + length > kMaxEntries) damaged(fmt::format("it expands past {} entries", kMaxEntries));
    if (opcode == 0) {  // discrete: `length` values
      if (length > data.size() - at) damaged("a discrete segment runs past the data");
      lut.insert(lut.end(), data.begin() + static_cast<std::ptrdiff_t>(at),
                 data.begin() + static_cast<std::ptrdiff_t>(at + length));
      at += length;
    } else if (opcode == 1) {  // linear: from the last value to y1 in `length` steps
      if (lut.empty()) damaged("a linear segment comes first");
      if (at >= data.size()) damaged("a linear segment runs past the data");
      const double y0 = lut.back(), y1 = data[at++];
      // numpy's linspace(y0 + step, y1, length) rounded half to even, as
      // pydicom computes it (the last value is y1 exactly)
      const double step = (y1 - y0) / length;
      for (std::uint32_t k = 0; k < length; ++k) {
        const double start = y0 + step;
        const double v = k + 1 == length ? y1 : start + k * (length > 1 ? (y1 - start) / (length - 1) : 0.0);
        lut.push_back(static_cast<std::uint16_t>(std::clamp(std::nearbyint(v), 0.0, 65535.0)));
      }
    } else if (opcode == 2) {  // indirect: `length` segments from an earlier offset
      if (lut.empty()) damaged("an indirect segment comes first");
      std::size_t offset = 0;
      if (eight_bit) {  // four 8-bit entries, their order depending on the byte order
        if (at + 4 > data.size()) damaged("an indirect segment runs past the data");
        static constexpr std::size_t kLittle[] = {3, 2, 1, 0}, kBig[] = {2, 3, 0, 1};
        const std::size_t* order = big_endian ? kBig : kLittle;
        offset = (data[at + order[0]] << 8 | data[at + order[1]]) << 16 | (data[at + order[2]] << 8 | data[at + order[3]]);
        at += 4;
      } else {
        if (at + 2 > data.size()) damaged("an indirect segment runs past the data");
        offset = data[at + 1] << 16 | data[at];
        at += 2;
      }
      if (offset >= data.size()) damaged(fmt::format("an indirect segment points to entry {} of {}", offset, data.size()));
      expand(data, offset, length == 0 ? 1 : length, eight_bit, big_endian, depth + 1, lut);
    } else {
      damaged(fmt::format("unknown segment type {}", opcode));
    }
    ++done;
  }
}

}  // namespace

std::optional<Palette> read_palette(const gdcm::DataSet& ds, bool big_endian) {
  const auto descriptor = words_of(bytes_of(ds, 0x1101), big_endian);
  if (descriptor.size() < 3) return std::nullopt;
  const std::size_t entries = descriptor[0] == 0 ? kMaxEntries : descriptor[0];
  const unsigned nominal_bits = descriptor[2];
  Palette p;
  p.first = descriptor[1];
  // red, green, blue and (when present) alpha tables
  static constexpr std::uint16_t kPlain[] = {0x1201, 0x1202, 0x1203, 0x1204};
  static constexpr std::uint16_t kSegmented[] = {0x1221, 0x1222, 0x1223, 0x1224};
  const bool segmented = bytes_of(ds, kPlain[0]).empty() && !bytes_of(ds, kSegmented[0]).empty();
  for (std::size_t c = 0; c < 4; ++c) {
    const auto data = bytes_of(ds, segmented ? kSegmented[c] : kPlain[c]);
    if (data.empty()) {
      if (c < 3) throw DecodeError("PALETTE COLOR without its red, green and blue lookup table data");
      break;
    }
    std::vector<std::uint16_t> lut;
    if (segmented) {
      if (nominal_bits != 8 && nominal_bits != 16) {
        throw DecodeError(fmt::format("a segmented palette of {}-bit entries (8 or 16)", nominal_bits));
      }
      std::vector<std::uint32_t> values;
      if (nominal_bits == 8) {
        for (std::byte b : data) values.push_back(std::to_integer<std::uint32_t>(b));
      } else {
        values = words_of(data, big_endian);
      }
      expand(values, 0, 0, nominal_bits == 8, big_endian, 0, lut);
      p.bits = nominal_bits;
    } else {
      // the table's own size says whether entries are 8 or 16 bits (8-bit
      // entries may come in 16 bits allocated), as pydicom decides
      if (data.size() == entries) {
        p.bits = 8;
        for (std::byte b : data) lut.push_back(std::to_integer<std::uint16_t>(b));
      } else if (data.size() == 2 * entries) {
        p.bits = 16;
        for (std::uint32_t w : words_of(data, big_endian)) lut.push_back(static_cast<std::uint16_t>(w));
      } else {
        throw DecodeError(fmt::format("a palette lookup table of {} bytes for {} entries (8 or 16 bits each)",
                                      data.size(), entries));
      }
    }
    if (lut.empty()) throw DecodeError("an empty palette lookup table");
    if (!p.tables.empty() && lut.size() != p.tables.front().size()) {
      throw DecodeError(fmt::format("palette lookup tables of {} and {} entries", p.tables.front().size(), lut.size()));
    }
    p.tables.push_back(std::move(lut));
  }
  return p;
}

}  // namespace imio::dicom
