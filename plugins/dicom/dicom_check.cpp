// A walk over the data elements before GDCM parses them: GDCM allocates a
// value's stated length before it reads it, so a lying length (4 GB in a
// 1 KB file) would cost gigabytes and seconds. Only lengths and nesting are
// checked; anything the walk does not understand is left to GDCM.
#include "dicom_internal.hpp"

#include <imio/error.hpp>

#include <gdcmDict.h>
#include <gdcmDicts.h>
#include <gdcmGlobal.h>
#include <gdcmTag.h>
#include <gdcmVR.h>

#include <cstring>
#include <string_view>

#include <fmt/format.h>

namespace imio::dicom {
namespace {

constexpr int kMaxDepth = 32;
constexpr std::uint32_t kUndefined = 0xFFFFFFFFu;

struct Walker {
  std::span<const std::byte> data;
  bool explicit_vr = true;
  bool big_endian = false;

  std::uint16_t u16(std::size_t at) const {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
    return big_endian ? static_cast<std::uint16_t>(p[0] << 8 | p[1]) : static_cast<std::uint16_t>(p[1] << 8 | p[0]);
  }
  std::uint32_t u32(std::size_t at) const {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
    if (big_endian) return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
    return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
  }

  [[noreturn]] static void too_long(std::uint16_t g, std::uint16_t e, std::uint64_t length, std::size_t at,
                                    std::size_t end) {
    throw DecodeError(fmt::format("truncated or damaged DICOM data: element ({:04X},{:04X}) at byte {} states a "
                                  "value of {} bytes where {} remain",
                                  g, e, at, length, end - at));
  }

  static bool letters(const std::byte* p) {
    const auto a = static_cast<char>(p[0]), b = static_cast<char>(p[1]);
    return a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z';
  }

  static bool long_vr(std::string_view vr) {
    return vr == "OB" || vr == "OD" || vr == "OF" || vr == "OL" || vr == "OV" || vr == "OW" || vr == "SQ" ||
           vr == "UC" || vr == "UN" || vr == "UR" || vr == "UT" || vr == "SV" || vr == "UV";
  }

  static bool dictionary_sq(std::uint16_t g, std::uint16_t e) {
    const gdcm::Tag t(g, e);
    if (t.IsPrivate()) return false;
    return gdcm::Global::GetInstance().GetDicts().GetDictEntry(t).GetVR() == gdcm::VR::SQ;
  }

  // The items of a sequence (or the fragments of encapsulated pixel data)
  // in [pos, end): with undefined length, up to the sequence delimiter.
  // Returns the position after the sequence. `nested`: items hold data sets.
  std::size_t items(std::size_t pos, std::size_t end, bool undefined, bool nested, int depth) {
    while (pos < end) {
      if (end - pos < 8) return end;  // GDCM reports what is left
      const std::uint16_t g = u16(pos), e = u16(pos + 2);
      const std::uint32_t len = u32(pos + 4);
      pos += 8;
      if (g == 0xFFFE && e == 0xE0DD) return pos;  // sequence delimiter
      if (g != 0xFFFE || e != 0xE000) return end;  // not an item: left to GDCM
      if (len == kUndefined) {
        if (!nested) return end;
        pos = dataset(pos, end, true, depth + 1);
        continue;
      }
      if (len > end - pos) too_long(g, e, len, pos - 8, end);
      if (nested) dataset(pos, pos + len, false, depth + 1);
      pos += len;
    }
    if (undefined) return end;
    return pos;
  }

  // The elements of a data set in [pos, end); `undefined`: ends at an item
  // delimiter. Returns the position after it.
  std::size_t dataset(std::size_t pos, std::size_t end, bool undefined, int depth) {
    (void)undefined;  // a defined-length item ends at `end`, an undefined one at its delimiter
    if (depth > kMaxDepth) {
      throw DecodeError(fmt::format("DICOM sequences nested deeper than {} levels (imio reads up to {})", depth,
                                    kMaxDepth));
    }
    while (pos < end) {
      if (end - pos < 8) return end;
      const std::size_t start = pos;
      const std::uint16_t g = u16(pos), e = u16(pos + 2);
      if (g == 0xFFFE) {
        const std::uint32_t len = u32(pos + 4);
        pos += 8;
        if (e == 0xE00D) return pos;  // item delimiter
        if (e == 0xE0DD) return pos;  // a stray sequence delimiter: GDCM decides
        if (len != kUndefined && len > end - pos) too_long(g, e, len, start, end);
        if (len != kUndefined) pos += len;
        continue;
      }
      std::uint32_t len = 0;
      bool sq = false;
      bool un = false;
      // file meta information (group 0002) is always explicit
      const bool is_explicit = explicit_vr || g == 0x0002;
      if (is_explicit) {
        if (!letters(data.data() + pos + 4)) return end;  // not what the walk understands
        const std::string_view vr(reinterpret_cast<const char*>(data.data() + pos + 4), 2);
        if (long_vr(vr)) {
          if (end - pos < 12) return end;
          len = u32(pos + 8);
          pos += 12;
        } else {
          len = u16(pos + 6);
          pos += 8;
        }
        sq = vr == "SQ";
        un = vr == "UN";
      } else {
        len = u32(pos + 4);
        pos += 8;
        sq = dictionary_sq(g, e);
      }
      if (len == kUndefined) {
        const bool pixels = g == 0x7FE0 && e == 0x0010;
        pos = items(pos, end, true, !pixels, depth);
        (void)un;
        continue;
      }
      if (len > end - pos) too_long(g, e, len, start, end);
      if (sq) items(pos, pos + len, false, true, depth);
      pos += len;
    }
    return pos;
  }
};

bool starts_with(std::span<const std::byte> data, std::size_t at, std::string_view s) {
  return data.size() >= at + s.size() && std::memcmp(data.data() + at, s.data(), s.size()) == 0;
}

}  // namespace

void check_structure(std::span<const std::byte> data) {
  Walker w{data};
  std::size_t pos = 0;
  if (starts_with(data, 128, "DICM")) pos = 132;
  // The file meta information (group 0002, explicit VR little endian) and
  // the transfer syntax it names.
  std::string ts;
  while (data.size() - pos >= 8 && w.u16(pos) == 0x0002) {
    if (!Walker::letters(data.data() + pos + 4)) break;
    const std::string_view vr(reinterpret_cast<const char*>(data.data() + pos + 4), 2);
    std::size_t len = 0;
    std::size_t head = 8;
    if (Walker::long_vr(vr)) {
      if (data.size() - pos < 12) break;
      len = w.u32(pos + 8);
      head = 12;
    } else {
      len = w.u16(pos + 6);
    }
    if (len == kUndefined) break;
    if (len > data.size() - pos - head) Walker::too_long(0x0002, w.u16(pos + 2), len, pos, data.size());
    if (w.u16(pos + 2) == 0x0010) {
      ts.assign(reinterpret_cast<const char*>(data.data() + pos + head), len);
      while (!ts.empty() && (ts.back() == '\0' || ts.back() == ' ')) ts.pop_back();
    }
    pos += head + len;
  }
  if (ts == "1.2.840.10008.1.2.1.99") return;  // deflated: GDCM inflates it
  if (ts == "1.2.840.10008.1.2") {
    w.explicit_vr = false;
  } else if (ts == "1.2.840.10008.1.2.2") {
    w.big_endian = true;
  } else if (ts.empty()) {
    // no meta information: explicit when the first element shows a VR
    w.explicit_vr = data.size() - pos >= 6 && Walker::letters(data.data() + pos + 4);
  }
  w.dataset(pos, data.size(), false, 0);
}

}  // namespace imio::dicom
