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

bool starts_with(const jpeg_saved_marker_ptr m, std::string_view prefix) {
  return m->data_length >= prefix.size() && std::memcmp(m->data, prefix.data(), prefix.size()) == 0;
}

int be16(const JOCTET* p) { return (p[0] << 8) | p[1]; }

Bytes bytes_of(const JOCTET* p, std::size_t n) {
  Bytes out(n);
  if (n > 0) std::memcpy(out.data(), p, n);
  return out;
}

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

HeaderInfo describe_header(const jpeg_decompress_struct& cinfo) {
  HeaderInfo h;
  h.width = cinfo.image_width;
  h.height = cinfo.image_height;
  h.components = cinfo.num_components;
  switch (cinfo.num_components) {
    case 1: h.mode = "L"; break;
    case 3: h.mode = "RGB"; break;
    case 4: h.mode = "CMYK"; break;
    default:
      throw DecodeError(fmt::format("cannot handle {}-component JPEG images (1, 3 or 4 are supported)",
                                    cinfo.num_components));
  }
  Metadata& info = h.info;
  std::vector<jpeg_saved_marker_ptr> icc;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    const JOCTET* d = m->data;
    const std::size_t n = m->data_length;
    if (m->marker == JPEG_COM) {
      info.set("comment", bytes_of(d, n));
      continue;
    }
    if (m->marker == JPEG_APP0 && starts_with(m, "JFIF") && n >= 7) {
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
    } else if (m->marker == JPEG_APP0 + 1 && starts_with(m, std::string_view("Exif\0", 5))) {
      if (h.exif.empty()) {
        h.exif = bytes_of(d, n);
        info.set("exif", h.exif);
      }
    } else if (m->marker == JPEG_APP0 + 2 && starts_with(m, std::string_view("ICC_PROFILE\0", 12)) && n >= 14) {
      icc.push_back(m);
    } else if (m->marker == JPEG_APP0 + 14 && starts_with(m, "Adobe") && n >= 7) {
      info.set("adobe", be16(d + 5));
      if (n >= 12) info.set("adobe_transform", static_cast<int>(d[11]));
    }
    if (!info.contains("dpi") && !h.exif.empty()) info.set("dpi", dpi_from_exif(h.exif));
  }
  if (cinfo.progressive_mode) {
    info.set("progressive", 1);
    info.set("progression", 1);
  }
  if (!icc.empty()) {
    // Pillow sorts the whole segments; with the common prefix that is the
    // order of (sequence number, total, data).
    std::stable_sort(icc.begin(), icc.end(), [](jpeg_saved_marker_ptr a, jpeg_saved_marker_ptr b) {
      return std::lexicographical_compare(a->data + 12, a->data + a->data_length, b->data + 12, b->data + b->data_length);
    });
    if (icc.front()->data[13] == icc.size()) {
      Bytes profile;
      for (const auto* m : icc) {
        const auto* p = reinterpret_cast<const std::byte*>(m->data);
        profile.insert(profile.end(), p + 14, p + m->data_length);
      }
      info.set("icc_profile", std::move(profile));
    } else {
      info.set("icc_profile", Value());  // Pillow: None for a wrong number of chunks
    }
  }
  return h;
}

}  // namespace imio::libjpeg
