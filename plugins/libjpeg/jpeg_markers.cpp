// Pillow's JPEG info keys, computed from libjpeg's saved markers in file
// order. Facts mirrored (Pillow 9.4, the oracle of spec §5.1.8):
//  * APP0 "JFIF": jfif = version as a 16-bit number (257 for 1.1),
//    jfif_version = (major, minor), jfif_unit, jfif_density; dpi = density
//    only when the unit is 1 (dots per inch).
//  * APP1 "Exif\0": the first one is `exif` (the whole segment, prefix kept).
//  * After every APPn, when there is no dpi yet but EXIF: dpi from EXIF
//    XResolution and ResolutionUnit (3 = per cm → ×2.54); missing or NaN →
//    (72, 72).
//  * APP2 "ICC_PROFILE\0": chunks sorted by sequence number and joined when
//    their count matches the declared total.
//  * APP14 "Adobe": adobe (16-bit version), adobe_transform (byte 11).
//  * COM: comment (bytes, the last one wins).
//  * SOF2/SOF10 (progressive): progressive = progression = 1.
#include "jpeg_markers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include <fmt/format.h>

#include <imio/error.hpp>
#include <imio/plugin.hpp>

namespace imio::libjpeg {
namespace {

int be16(const JOCTET* p) { return (p[0] << 8) | p[1]; }

// XMP Part 3 §1.1.3: the APP1 namespaces of the standard and extended
// packets; Photoshop's APP13 signature (its image resources, IPTC among them).
constexpr std::string_view kXmpPrefix("http://ns.adobe.com/xap/1.0/\0", 29);
constexpr std::string_view kXmpExtensionPrefix("http://ns.adobe.com/xmp/extension/\0", 35);
constexpr std::string_view kPhotoshopPrefix("Photoshop 3.0\0", 14);

Bytes bytes_of(const JOCTET* p, std::size_t n) {
  Bytes out(n);
  if (n > 0) std::memcpy(out.data(), p, n);
  return out;
}

// One APPn or COM segment: its marker and payload (after the length).
struct Segment {
  int marker;
  const JOCTET* data;
  std::size_t length;
  bool starts_with(std::string_view prefix) const {
    return length >= prefix.size() && std::memcmp(data, prefix.data(), prefix.size()) == 0;
  }
};

// Calls `fn` with each APPn and COM segment before the first scan, in file
// order; `fn` returns false to stop. The markers are walked here rather than
// saved by libjpeg: jpeg_save_markers appends each one by walking its list,
// quadratic in the number of markers (a fuzzed file with 125,000 APP1
// segments took minutes). A malformed length ends the walk; libjpeg reports
// the error itself when decoding.
template <class Fn>
void for_each_app_segment(std::span<const std::byte> file, Fn&& fn) {
  const auto* d = reinterpret_cast<const JOCTET*>(file.data());
  const std::size_t n = file.size();
  std::size_t pos = 2;  // after SOI
  while (pos + 1 < n) {
    if (d[pos] != 0xFF) break;
    const int m = d[pos + 1];
    if (m == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (m == 0xDA || m == 0xD9) break;  // SOS, EOI: the header ends
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // markers without a length
      pos += 2;
      continue;
    }
    if (pos + 4 > n) break;
    const std::size_t length = (static_cast<std::size_t>(d[pos + 2]) << 8) | d[pos + 3];
    if (length < 2 || pos + 2 + length > n) break;
    if ((m >= JPEG_APP0 && m <= JPEG_APP0 + 15) || m == JPEG_COM) {
      if (!fn(Segment{m, d + pos + 4, length - 2})) break;
    }
    pos += 2 + length;
  }
}

constexpr std::string_view kExifPrefix("Exif\0", 5);

bool is_exif(const Segment& s) { return s.marker == JPEG_APP0 + 1 && s.starts_with(kExifPrefix); }

// The number behind an EXIF value as Pillow's float() sees it.
std::optional<double> number_of(const Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is<double>()) return v->get<double>();
  if (v->is<std::int64_t>()) return static_cast<double>(v->get<std::int64_t>());
  if (v->is<Value::List>()) {
    const auto& l = v->get<Value::List>();
    if (l.size() >= 2) {
      const auto a = number_of(&l[0]);
      const auto b = number_of(&l[1]);
      if (a && b && *b != 0) return *a / *b;
    }
  }
  return std::nullopt;
}

Value dpi_from_exif(std::span<const std::byte> exif) {
  const Metadata tags = read_exif(exif);
  const Value* unit = tags.lookup("ResolutionUnit");
  const auto x = number_of(tags.lookup("XResolution"));
  if (unit == nullptr || !x || std::isnan(*x)) return Value{72, 72};
  double dpi = *x;
  if (unit->is<std::int64_t>() && unit->get<std::int64_t>() == 3) dpi *= 2.54;
  return Value{dpi, dpi};
}

}  // namespace

ImageHeader read_image_header(const jpeg_decompress_struct& cinfo, std::span<const std::byte> file) {
  ImageHeader h;
  h.width = cinfo.image_width;
  h.height = cinfo.image_height;
  h.components = cinfo.num_components;
  h.progressive = cinfo.progressive_mode != FALSE;
  switch (cinfo.num_components) {
    case 1: h.mode = "L"; break;
    case 3: h.mode = "RGB"; break;
    case 4: h.mode = "CMYK"; break;
    default:
      throw DecodeError(fmt::format("cannot handle {}-component JPEG images (1, 3 or 4 are supported)",
                                    cinfo.num_components));
  }
  for_each_app_segment(file, [&h](const Segment& seg) {
    if (!is_exif(seg)) return true;
    h.exif = std::as_bytes(std::span(seg.data, seg.length));
    return false;
  });
  return h;
}

HeaderInfo describe_header(const ImageHeader& image, std::span<const std::byte> file) {
  HeaderInfo h;
  Metadata& info = h.info;
  std::vector<Segment> icc;
  for_each_app_segment(file, [&](const Segment& seg) {
    const Segment* m = &seg;
    const JOCTET* d = m->data;
    const std::size_t n = m->length;
    if (m->marker == JPEG_COM) {
      info.set("comment", bytes_of(d, n));
      return true;
    }
    if (m->marker == JPEG_APP0 && m->starts_with("JFIF") && n >= 7) {
      const int version = be16(d + 5);
      info.set("jfif", version);
      info.set("jfif_version", Value{version >> 8, version & 0xFF});
      if (n >= 12) {
        const int unit = d[7];
        Value density{be16(d + 8), be16(d + 10)};
        if (unit == 1) info.set("dpi", density);
        info.set("jfif_unit", unit);
        info.set("jfif_density", std::move(density));
      }
    } else if (is_exif(*m)) {
      if (h.exif.empty()) {
        h.exif = bytes_of(d, n);
        info.set("exif", h.exif);
      }
    } else if (m->marker == JPEG_APP0 + 1 && m->starts_with(kXmpPrefix)) {
      if (h.xmp.empty()) h.xmp = std::as_bytes(std::span(d, n)).subspan(kXmpPrefix.size());
    } else if (m->marker == JPEG_APP0 + 1 && m->starts_with(kXmpExtensionPrefix)) {
      h.xmp_extension.push_back(std::as_bytes(std::span(d, n)).subspan(kXmpExtensionPrefix.size()));
    } else if (m->marker == JPEG_APP0 + 13 && m->starts_with(kPhotoshopPrefix)) {
      const auto* p = reinterpret_cast<const std::byte*>(d);
      h.photoshop.insert(h.photoshop.end(), p + kPhotoshopPrefix.size(), p + n);
    } else if (m->marker == JPEG_APP0 + 2 && m->starts_with(std::string_view("ICC_PROFILE\0", 12)) && n >= 14) {
      icc.push_back(seg);
    } else if (m->marker == JPEG_APP0 + 14 && m->starts_with("Adobe") && n >= 7) {
      info.set("adobe", be16(d + 5));
      if (n >= 12) info.set("adobe_transform", static_cast<int>(d[11]));
    }
    if (!info.contains("dpi") && !h.exif.empty()) info.set("dpi", dpi_from_exif(h.exif));
    return true;
  });
  if (image.progressive) {
    info.set("progressive", 1);
    info.set("progression", 1);
  }
  if (!icc.empty()) {
    // Pillow sorts the whole segments; with the common prefix that is the
    // order of (sequence number, total, data).
    std::stable_sort(icc.begin(), icc.end(), [](const Segment& a, const Segment& b) {
      return std::lexicographical_compare(a.data + 12, a.data + a.length, b.data + 12, b.data + b.length);
    });
    if (icc.front().data[13] == icc.size()) {
      Bytes profile;
      for (const Segment& m : icc) {
        const auto* p = reinterpret_cast<const std::byte*>(m.data);
        profile.insert(profile.end(), p + 14, p + m.length);
      }
      info.set("icc_profile", std::move(profile));
    } else {
      info.set("icc_profile", Value());  // Pillow: None for a wrong number of chunks
    }
  }
  return h;
}

bool ends_before_eoi(std::span<const std::byte> file) {
  const auto at = [&](std::size_t i) { return std::to_integer<unsigned>(file[i]); };
  const std::size_t n = file.size();
  std::size_t pos = 2;  // after SOI
  while (pos + 1 < n) {
    if (at(pos) != 0xFF || at(pos + 1) == 0xFF) {  // a fill byte, or data between segments
      ++pos;
      continue;
    }
    const unsigned marker = at(pos + 1);
    if (marker == 0xD9) return false;  // EOI
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x00) {  // no length (T.81 §B.1.1.3)
      pos += 2;
      continue;
    }
    if (pos + 4 > n) return true;
    const std::size_t end = pos + 2 + ((at(pos + 2) << 8) | at(pos + 3));
    if (end > n) return true;
    pos = end;
    if (marker != 0xDA) continue;
    // SOS: entropy-coded data up to the next marker that may follow a scan
    // (§B.2.4, §B.6: tables, DNL, another scan, APPn/COM, EOI); stuffed
    // zeros, restart markers and damaged bytes are data (§B.1.1.5, §F.1.2.3).
    const auto ends_scan = [](unsigned m) {
      return m == 0xD9 || m == 0xDA || m == 0xDB || m == 0xDC || m == 0xDD || m == 0xC4 || m == 0xCC || m == 0xFE ||
             (m >= 0xE0 && m <= 0xEF);
    };
    while (pos + 1 < n && !(at(pos) == 0xFF && ends_scan(at(pos + 1)))) {
      // Most bytes are data: jump to the next 0xFF (memchr is vectorised).
      const void* ff = std::memchr(file.data() + pos + 1, 0xFF, n - pos - 1);
      pos = ff == nullptr ? n : static_cast<std::size_t>(static_cast<const std::byte*>(ff) - file.data());
    }
  }
  return true;
}

}  // namespace imio::libjpeg
