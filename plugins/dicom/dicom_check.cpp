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

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include <zlib.h>
#include <map>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace imio::dicom {
namespace {

constexpr int kMaxDepth = 32;
constexpr std::uint32_t kUndefined = 0xFFFFFFFFu;

struct Walker {
  explicit Walker(std::span<const std::byte> d) : data(d) {}
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

  [[noreturn]] static void truncated(std::size_t at, std::string_view what) {
    throw DecodeError(fmt::format("truncated or damaged DICOM data: {} at byte {}", what, at));
  }

  static bool known_vr(std::string_view vr) {
    static constexpr std::string_view kAll[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO",
                                                "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ",
                                                "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT",
                                                "UV"};
    for (std::string_view v : kAll) {
      if (v == vr) return true;
    }
    return false;
  }

  // The items of a sequence (or the fragments of encapsulated pixel data)
  // in [pos, end): with undefined length, up to the sequence delimiter.
  // Returns the position after the sequence. `nested`: items hold data sets.
  std::size_t items(std::size_t pos, std::size_t end, bool undefined, bool nested, int depth) {
    while (pos < end) {
      if (end - pos < 8) truncated(pos, "an item header cut short");
      const std::uint16_t g = u16(pos), e = u16(pos + 2);
      const std::uint32_t len = u32(pos + 4);
      const std::size_t start = pos;
      pos += 8;
      if (g == 0xFFFE && e == 0xE0DD) {  // sequence delimiter
        if (!undefined) truncated(start, "a sequence delimiter in a sequence of defined length");
        return pos;
      }
      if (g != 0xFFFE || e != 0xE000) truncated(start, fmt::format("({:04X},{:04X}) where an item belongs", g, e));
      if (len == kUndefined) {
        if (!nested) truncated(start, "a fragment of undefined length");
        pos = dataset(pos, end, true, depth + 1);
        continue;
      }
      if (len > end - pos) too_long(g, e, len, start, end);
      if (nested) dataset(pos, pos + len, false, depth + 1);
      pos += len;
    }
    if (undefined) truncated(pos, "a sequence of undefined length without its delimiter");
    return pos;
  }

  // The elements of a data set in [pos, end); `undefined`: ends at an item
  // delimiter. Returns the position after it.
  std::size_t dataset(std::size_t pos, std::size_t end, bool undefined, int depth) {
    if (depth > kMaxDepth) {
      throw DecodeError(fmt::format("DICOM sequences nested deeper than {} levels (imio reads up to {})", depth,
                                    kMaxDepth));
    }
    while (pos < end) {
      if (end - pos < 8) truncated(pos, "an element header cut short");
      const std::size_t start = pos;
      const std::uint16_t g = u16(pos), e = u16(pos + 2);
      if (g == 0xFFFE) {
        const std::uint32_t len = u32(pos + 4);
        pos += 8;
        if (e == 0xE00D) {  // item delimiter
          if (!undefined) truncated(start, "an item delimiter in an item of defined length");
          return pos;
        }
        truncated(start, fmt::format("(FFFE,{:04X}) among the elements of a data set", e));
        (void)len;
      }
      std::uint32_t len = 0;
      bool sq = false;
      bool un = false;
      // file meta information (group 0002) is always explicit
      const bool is_explicit = explicit_vr || g == 0x0002;
      if (is_explicit) {
        const std::string_view vr(reinterpret_cast<const char*>(data.data() + pos + 4), 2);
        if (!known_vr(vr)) {
          truncated(start, fmt::format("element ({:04X},{:04X}) without a valid value representation", g, e));
        }
        if (long_vr(vr)) {
          if (end - pos < 12) truncated(pos, "an element header cut short");
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
        if (un) {  // UN of undefined length: a sequence in implicit VR
          const bool saved = explicit_vr;
          explicit_vr = false;
          pos = items(pos, end, true, true, depth);
          explicit_vr = saved;
        } else {
          pos = items(pos, end, true, !pixels, depth);
        }
        continue;
      }
      if (len > end - pos) too_long(g, e, len, start, end);
      if (sq) items(pos, pos + len, false, true, depth);
      if (depth == 0 && g == 0x0028 && len == 2) pixel_module[e] = u16(pos);
      pos += len;
    }
    if (undefined) truncated(pos, "an item of undefined length without its delimiter");
    return pos;
  }

  // (0028,xxxx) US values of the top-level data set, by element number
  std::map<std::uint16_t, std::uint16_t> pixel_module;

  // What GDCM asserts on (an abort, not an error) is refused here.
  void check_pixel_module() const {
    const auto value = [&](std::uint16_t e) -> std::optional<std::uint16_t> {
      const auto it = pixel_module.find(e);
      if (it == pixel_module.end()) return std::nullopt;
      return it->second;
    };
    if (const auto spp = value(0x0002); spp && *spp != 1 && *spp != 3 && *spp != 4) {
      throw DecodeError(fmt::format("DICOM SamplesPerPixel is {} (1, 3 or 4)", *spp));
    }
    const auto allocated = value(0x0100);
    if (allocated && *allocated != 1 && *allocated != 8 && *allocated != 12 && *allocated != 16 && *allocated != 32 &&
        *allocated != 64 && *allocated != 0xFFFF && *allocated != 0x0FFF && *allocated != 0x00FF) {
      throw DecodeError(fmt::format("DICOM BitsAllocated is {}", *allocated));
    }
    if (const auto pr = value(0x0103); pr && *pr > 1) {
      throw DecodeError(fmt::format("DICOM PixelRepresentation is {} (0 or 1)", *pr));
    }
    if (const auto pc = value(0x0006); pc && *pc > 1) {
      throw DecodeError(fmt::format("DICOM PlanarConfiguration is {} (0 or 1)", *pc));
    }
  }
};

// A raw deflate stream (DICOM's deflated transfer syntax), inflated up to
// max_bytes.
std::vector<std::byte> inflate_raw(std::span<const std::byte> in, std::uint64_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw DecodeError("zlib: cannot start inflating the deflated data set");
  std::vector<std::byte> out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  int rc = Z_OK;
  while (rc == Z_OK) {
    const std::size_t have = out.size();
    if (have >= max_bytes) {
      inflateEnd(&z);
      throw LimitError(fmt::format("the deflated DICOM data set inflates to more than {} bytes (Limits::max_bytes)",
                                   max_bytes));
    }
    out.resize(std::min<std::uint64_t>(max_bytes, std::max<std::size_t>(have * 2, 1 << 16)));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - have, UINT32_MAX));
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(out.size() - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // the stream ends without its end marker
    if (rc == Z_BUF_ERROR) rc = Z_OK;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
    throw DecodeError(fmt::format("truncated or damaged deflated DICOM data set (zlib: {})", z.msg ? z.msg : "error"));
  }
  if (rc == Z_BUF_ERROR) throw DecodeError("truncated deflated DICOM data set (the deflate stream does not end)");
  return out;
}

bool starts_with(std::span<const std::byte> data, std::size_t at, std::string_view s) {
  return data.size() >= at + s.size() && std::memcmp(data.data() + at, s.data(), s.size()) == 0;
}

}  // namespace

void check_structure(std::span<const std::byte> data, std::uint64_t max_bytes) {
  Walker w(data);
  std::size_t pos = 0;
  if (starts_with(data, 128, "DICM")) pos = 132;
  // The file meta information (group 0002, explicit VR little endian) and
  // the transfer syntax it names.
  std::string ts;
  while (data.size() - pos >= 8 && w.u16(pos) == 0x0002) {
    if (!Walker::known_vr(std::string_view(reinterpret_cast<const char*>(data.data() + pos + 4), 2))) {
      Walker::truncated(pos, "a file meta element without a valid value representation");
    }
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
  if (ts == "1.2.840.10008.1.2.1.99") {
    // deflated: the data set inflated here (within max_bytes) and walked;
    // GDCM inflates the original again
    const std::vector<std::byte> inflated = inflate_raw(data.subspan(pos), max_bytes);
    Walker body(inflated);
    body.dataset(0, inflated.size(), false, 0);
    body.check_pixel_module();
    return;
  }
  if (ts == "1.2.840.10008.1.2") {
    w.explicit_vr = false;
  } else if (ts == "1.2.840.10008.1.2.2") {
    w.big_endian = true;
  } else if (ts.empty()) {
    // no meta information: explicit when the first element shows a VR
    w.explicit_vr = data.size() - pos >= 6 && Walker::letters(data.data() + pos + 4);
  }
  w.dataset(pos, data.size(), false, 0);
  w.check_pixel_module();
}

}  // namespace imio::dicom
