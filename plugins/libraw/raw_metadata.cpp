// LibRaw's parsed header → imio Metadata. Key names follow rawpy's RawPy
// attributes (imageio's rawpy plugin, spec §5.4.5); the additions use the
// names of LibRaw's fields where rawpy has none.
#include "raw_metadata.hpp"

#include <libraw/libraw.h>

#include <cmath>
#include <ctime>
#include <string>

#include <fmt/format.h>

#include <imio/plugin.hpp>

namespace imio::libraw {
namespace {

// A fixed-size C string field of LibRaw (NUL-terminated or full).
std::string text(const char* field, std::size_t size) {
  std::size_t n = 0;
  while (n < size && field[n] != '\0') ++n;
  return std::string(field, n);
}
template <std::size_t N>
std::string text(const char (&field)[N]) {
  return text(field, N);
}

template <class T>
Value list_of(const T* values, std::size_t n) {
  Value::List out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(values[i]);
  return Value(std::move(out));
}

// The CFA pattern as rawpy's raw_pattern: colour indices of the repeating
// tile (2×2 Bayer, 6×6 X-Trans); none for sensors without a CFA.
Value raw_pattern(const LibRaw& p) {
  const unsigned filters = p.imgdata.rawdata.iparams.filters;
  // Leaf's 16×16 patterns (other filters < 1000) are left out.
  if (filters == 0 || (filters < 1000 && filters != 9)) return Value();
  const int n = filters == 9 ? 6 : 2;
  Value::List rows;
  for (int r = 0; r < n; ++r) {
    Value::List row;
    for (int c = 0; c < n; ++c) {
      int color = 0;
      if (filters == 9) {
        color = p.imgdata.rawdata.iparams.xtrans[r][c];
      } else {
        // LibRaw::FC() is not const; the same bit arithmetic on the filters word.
        color = static_cast<int>(filters >> ((((r << 1) & 14) | (c & 1)) << 1) & 3);
      }
      row.emplace_back(color);
    }
    rows.emplace_back(std::move(row));
  }
  return Value(std::move(rows));
}

std::string iso8601(std::time_t t) {
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return {};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string thumbnail_format(int format) {
  switch (format) {
    case LIBRAW_THUMBNAIL_JPEG: return "jpeg";
    case LIBRAW_THUMBNAIL_BITMAP: return "bitmap";
    case LIBRAW_THUMBNAIL_BITMAP16: return "bitmap16";
    case LIBRAW_THUMBNAIL_LAYER: return "layer";
    case LIBRAW_THUMBNAIL_ROLLEI: return "rollei";
    default: return "unknown";
  }
}

// LibRaw's flip (dcraw's: bit 0 mirrors left-right, bit 1 top-bottom,
// bit 2 transposes) back to the EXIF orientation it came from (LibRaw
// reads tag 274 through the table "50132467").
int orientation_of_flip(int flip) {
  constexpr int kOrientation[8] = {1, 2, 4, 3, 5, 8, 6, 7};
  return flip >= 0 && flip < 8 ? kOrientation[flip] : 0;
}

}  // namespace

Metadata describe(const LibRaw& p, bool exclude_applied, std::span<const std::byte> exif_block) {
  const libraw_data_t& d = p.imgdata;
  // Development rewrites imgdata's sizes, iparams and colour data; the
  // copies LibRaw keeps in rawdata describe the file.
  const libraw_image_sizes_t& sizes = d.rawdata.sizes;
  const libraw_iparams_t& idata = d.rawdata.iparams;
  const libraw_colordata_t& color = d.rawdata.color;
  Metadata m;
  // rawpy's keys that survive exclude_applied.
  m.set("width", sizes.width);
  m.set("height", sizes.height);
  m.set("pixel_aspect", sizes.pixel_aspect);

  // Shooting information (beyond rawpy).
  m.set("make", text(idata.make));
  m.set("model", text(idata.model));
  if (d.lens.Lens[0] != '\0') m.set("lens", text(d.lens.Lens));
  if (d.other.iso_speed > 0) m.set("iso", static_cast<double>(d.other.iso_speed));
  if (d.other.shutter > 0) m.set("shutter", static_cast<double>(d.other.shutter));
  if (d.other.aperture > 0) m.set("aperture", static_cast<double>(d.other.aperture));
  if (d.other.focal_len > 0) m.set("focal_length", static_cast<double>(d.other.focal_len));
  if (d.other.timestamp > 0) {
    m.set("timestamp", static_cast<std::int64_t>(d.other.timestamp));
    m.set("datetime", iso8601(d.other.timestamp));
  }
  if (d.thumbnail.tformat != LIBRAW_THUMBNAIL_UNKNOWN || d.thumbnail.tlength > 0) {
    m.set("thumbnail_format", thumbnail_format(d.thumbnail.tformat));
    m.set("thumbnail_width", d.thumbnail.twidth);
    m.set("thumbnail_height", d.thumbnail.theight);
  }
  // The blocks LibRaw keeps (beyond rawpy, docs/metadata.md): the XMP
  // packet (TIFF tag 700 of TIFF-based raws) and the embedded ICC profile.
  if (d.idata.xmpdata != nullptr && d.idata.xmplen > 0) {
    const auto* x = reinterpret_cast<const std::byte*>(d.idata.xmpdata);
    m.set("xmp", Bytes(x, x + d.idata.xmplen));
  }
  if (d.color.profile != nullptr && d.color.profile_length > 0) {
    const auto* icc = static_cast<const std::byte*>(d.color.profile);
    m.set("icc_profile", Bytes(icc, icc + d.color.profile_length));
  }
  // The EXIF entries LibRaw read (raw_exif.cpp), named and typed as every
  // plugin's; a damaged one is a DecodeError naming the EXIF block.
  if (!exif_block.empty()) m.set("exif_tags", read_exif_tags(exif_block));
  if (exclude_applied) {
    add_photo_metadata(m);
    m.erase("orientation");  // development applies it (D17), whatever the EXIF says
    return m;
  }

  // What development applies: rawpy's remaining keys, then LibRaw's.
  Value::List black;
  for (int i = 0; i < 4; ++i) black.emplace_back(color.black + color.cblack[i]);
  m.set("black_level_per_channel", Value(std::move(black)));
  bool has_linear_max = false;
  for (long v : color.linear_max) has_linear_max = has_linear_max || v != 0;
  m.set("camera_white_level_per_channel", has_linear_max ? list_of(color.linear_max, 4) : Value());
  m.set("color_desc", Value(Bytes(reinterpret_cast<const std::byte*>(idata.cdesc),
                                  reinterpret_cast<const std::byte*>(idata.cdesc) +
                                      text(idata.cdesc).size())));
  Value::List matrix;
  for (const auto& row : color.cmatrix) matrix.push_back(list_of(row, 4));
  m.set("color_matrix", Value(std::move(matrix)));
  m.set("daylight_whitebalance", list_of(color.pre_mul, 4));
  m.set("camera_whitebalance", list_of(color.cam_mul, 4));
  m.set("dtype", "uint16");
  m.set("flip", sizes.flip);
  m.set("num_colors", idata.colors);
  m.set("tone_curve", list_of(color.curve, 0x10000));
  m.set("raw_width", sizes.raw_width);
  m.set("raw_height", sizes.raw_height);
  m.set("raw_shape", Value{sizes.raw_height, sizes.raw_width});
  m.set("iwidth", sizes.iwidth);
  m.set("iheight", sizes.iheight);
  m.set("white_level", color.maximum);
  m.set("raw_pattern", raw_pattern(p));
  m.set("top_margin", sizes.top_margin);
  m.set("left_margin", sizes.left_margin);
  add_photo_metadata(m, orientation_of_flip(sizes.flip));
  return m;
}

}  // namespace imio::libraw
