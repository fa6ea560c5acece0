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
#include <gdcmTransferSyntax.h>
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

std::uint16_t be16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// What a frame's compressed stream says about itself, checked against the
// DICOM header before GDCM decodes it: GDCM's codecs assert (abort) or
// write past their buffer when the two disagree, and read RLE segment
// offsets unchecked.
struct FrameHeader {
  std::size_t rows = 0, cols = 0, samples = 1, bytes_per_sample = 1, bits = 8;
};

void check_jpeg(const unsigned char* p, std::size_t n, const FrameHeader& h, bool jpeg_ls) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) throw DecodeError("a compressed frame is not a JPEG stream (no SOI marker)");
  std::size_t at = 2;
  while (at + 4 <= n) {
    if (p[at] != 0xFF) throw DecodeError(fmt::format("damaged JPEG stream: no marker at byte {} of a frame", at));
    const unsigned char m = p[at + 1];
    if (m == 0xFF) {
      ++at;
      continue;
    }
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {
      at += 2;
      continue;
    }
    const std::size_t len = be16(p + at + 2);
    if (len < 2 || at + 2 + len > n) throw DecodeError("damaged JPEG stream: a marker segment runs past the frame");
    const bool sof = jpeg_ls ? m == 0xF7 : (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC);
    if (sof) {
      if (len < 8) throw DecodeError("damaged JPEG stream: a short frame header");
      const std::size_t bits = p[at + 4], rows = be16(p + at + 5), cols = be16(p + at + 7), comps = p[at + 9];
      if (rows != h.rows || cols != h.cols || comps != h.samples || bits > 8 * h.bytes_per_sample || bits == 0) {
        throw DecodeError(fmt::format("the JPEG stream of a frame is {}x{} with {} component{} of {} bits; the DICOM "
                                      "header says {}x{}, {} sample{}, {} bits allocated",
                                      cols, rows, comps, comps == 1 ? "" : "s", bits, h.cols, h.rows, h.samples,
                                      h.samples == 1 ? "" : "s", 8 * h.bytes_per_sample));
      }
      return;
    }
    if (m == 0xDA || m == 0xD9) break;
    at += 2 + len;
  }
  throw DecodeError("damaged JPEG stream: no frame header before the scan");
}

void check_j2k(const unsigned char* p, std::size_t n, const FrameHeader& h) {
  // a bare codestream (DICOM's usual form): SOC, then SIZ
  if (n < 42 || be16(p) != 0xFF4F || be16(p + 2) != 0xFF51) return;  // a JP2 file: GDCM's and OpenJPEG's checks
  const std::uint64_t xsiz = be32(p + 8), ysiz = be32(p + 12), x0 = be32(p + 16), y0 = be32(p + 20);
  const std::size_t comps = be16(p + 40);
  if (xsiz < x0 || ysiz < y0 || xsiz - x0 != h.cols || ysiz - y0 != h.rows || comps != h.samples) {
    throw DecodeError(fmt::format("the JPEG 2000 stream of a frame is {}x{} with {} components; the DICOM header "
                                  "says {}x{}, {} samples",
                                  xsiz - std::min(x0, xsiz), ysiz - std::min(y0, ysiz), comps, h.cols, h.rows,
                                  h.samples));
  }
}

void check_rle(const unsigned char* p, std::size_t n, const FrameHeader& h) {
  check_rle_header(p, n, h.samples, h.bytes_per_sample);
}

// The checks of the transfer syntax's kind; `first`: the first fragment (a
// frame must start there).
void check_fragment(gdcm::TransferSyntax::TSType ts, const unsigned char* p, std::size_t n, const FrameHeader& h,
                    bool first) {
  const bool jpeg_start = n >= 2 && p[0] == 0xFF && p[1] == 0xD8;
  const bool j2k_start = n >= 4 && be16(p) == 0xFF4F;
  switch (ts) {
    case gdcm::TransferSyntax::JPEGBaselineProcess1:
    case gdcm::TransferSyntax::JPEGExtendedProcess2_4:
    case gdcm::TransferSyntax::JPEGExtendedProcess3_5:
    case gdcm::TransferSyntax::JPEGSpectralSelectionProcess6_8:
    case gdcm::TransferSyntax::JPEGFullProgressionProcess10_12:
    case gdcm::TransferSyntax::JPEGLosslessProcess14:
    case gdcm::TransferSyntax::JPEGLosslessProcess14_1:
      if (first || jpeg_start) check_jpeg(p, n, h, false);
      break;
    case gdcm::TransferSyntax::JPEGLSLossless:
    case gdcm::TransferSyntax::JPEGLSNearLossless:
      if (first || jpeg_start) check_jpeg(p, n, h, true);
      break;
    case gdcm::TransferSyntax::JPEG2000Lossless:
    case gdcm::TransferSyntax::JPEG2000:
    case gdcm::TransferSyntax::JPEG2000Part2Lossless:
    case gdcm::TransferSyntax::JPEG2000Part2:
      if (j2k_start) check_j2k(p, n, h);
      break;
    case gdcm::TransferSyntax::RLELossless: check_rle(p, n, h); break;
    default: break;
  }
}

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
          if (pixels && depth == 0) fragments_at = pos;
          pos = items(pos, end, true, !pixels, depth);
        }
        continue;
      }
      if (len > end - pos) too_long(g, e, len, start, end);
      if (sq) items(pos, pos + len, false, true, depth);
      if (depth == 0 && g == 0x0028 && len == 2) pixel_module[e] = u16(pos);
      if (depth == 0 && g == 0x7FE0 && e == 0x0010) native_pixels = data.subspan(pos, len);
      pos += len;
    }
    if (undefined) truncated(pos, "an item of undefined length without its delimiter");
    return pos;
  }

  // (0028,xxxx) US values of the top-level data set, by element number
  std::map<std::uint16_t, std::uint16_t> pixel_module;
  // where the items of encapsulated Pixel Data start (0: none)
  std::size_t fragments_at = 0;
  // the value of a top-level Pixel Data of defined length
  std::span<const std::byte> native_pixels;

  // Each compressed frame's stream against the pixel module.
  void check_fragments(const std::string& ts_uid) const {
    if (fragments_at == 0) return;
    const auto ts = gdcm::TransferSyntax::GetTSType(ts_uid.c_str());
    const auto value = [&](std::uint16_t e, std::size_t fallback) -> std::size_t {
      const auto it = pixel_module.find(e);
      return it == pixel_module.end() ? fallback : it->second;
    };
    const std::size_t allocated = value(0x0100, 8);
    const FrameHeader h{value(0x0010, 0), value(0x0011, 0), value(0x0002, 1), (allocated + 7) / 8, allocated};
    std::size_t pos = fragments_at;
    bool offsets_table = true;
    bool first = true;
    while (data.size() - pos >= 8 && u16(pos) == 0xFFFE && u16(pos + 2) == 0xE000) {
      const std::size_t len = u32(pos + 4);
      pos += 8;
      if (!offsets_table) {
        check_fragment(ts, reinterpret_cast<const unsigned char*>(data.data() + pos), len, h, first);
        first = false;
      }
      offsets_table = false;
      pos += len;
    }
  }

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

std::uint32_t le32(const unsigned char* p) {
  return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
}

void check_rle_header(const unsigned char* p, std::size_t n, std::size_t samples, std::size_t bytes_per_sample) {
  const std::size_t segments = samples * bytes_per_sample;
  // The header has room for 15 offsets (PS3.5 G.5): more would be read past it.
  if (segments > 15) {
    throw DecodeError(fmt::format("RLE frames of {} samples of {} bytes would need {} segments; the format holds at "
                                  "most 15",
                                  samples, bytes_per_sample, segments));
  }
  if (n < 64) throw DecodeError("damaged RLE frame: shorter than its 64-byte header");
  if (le32(p) != segments) {
    throw DecodeError(fmt::format("damaged RLE frame: {} segments where {} samples of {} bytes need {}", le32(p),
                                  samples, bytes_per_sample, segments));
  }
  std::uint32_t previous = 0;
  for (std::size_t i = 0; i < segments; ++i) {
    const std::uint32_t offset = le32(p + 4 + 4 * i);
    if ((i == 0 && offset != 64) || offset < previous || offset >= n) {
      throw DecodeError(fmt::format("damaged RLE frame: segment {} starts at byte {} of a {}-byte frame", i, offset, n));
    }
    previous = offset;
  }
}

std::span<const std::byte> check_structure(std::span<const std::byte> data, std::uint64_t max_bytes) {
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
  // GDCM 3.0 asserts (abort) when the stream ends right after the file meta
  // group, reading the next element's tag at the end (found by fuzz_dicom).
  const std::size_t meta_start = starts_with(data, 128, "DICM") ? 132 : 0;
  if (pos > meta_start && pos == data.size()) {
    throw DecodeError("damaged DICOM file: it ends after its file meta information, without a data set");
  }
  if (pos == 132 && ts.empty()) {
    throw DecodeError("damaged DICOM file: no Transfer Syntax UID (0002,0010) in the file meta information after "
                      "the DICM preamble");
  }
  if (ts == "1.2.840.10008.1.2.1.99") {
    // deflated: the data set inflated here (within max_bytes) and walked;
    // GDCM inflates the original again
    const std::vector<std::byte> inflated = inflate_raw(data.subspan(pos), max_bytes);
    Walker body(inflated);
    body.dataset(0, inflated.size(), false, 0);
    body.check_pixel_module();
    return {};  // the pixels are in the inflated copy, not in `data`
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
  w.check_fragments(ts);
  return w.big_endian ? std::span<const std::byte>() : w.native_pixels;
}

}  // namespace imio::dicom
