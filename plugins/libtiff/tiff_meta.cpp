// Tag values become Values the way tifffile returns them: one value → a
// scalar, several → a list, rationals → (numerator, denominator) pairs,
// UNDEFINED → bytes, ASCII → str; enumerations stay integers.
#include "tiff_meta.hpp"

#include <imio/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "tiff_scn.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

std::string strip(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

struct TagName {
  std::uint16_t tag;
  const char* name;
};

// tifffile's names of the tags imio meets in practice (TIFF 6.0, TIFF/EP,
// DNG, GeoTIFF and microscopy private tags).
constexpr TagName kTagNames[] = {
    {254, "NewSubfileType"}, {255, "SubfileType"}, {256, "ImageWidth"}, {257, "ImageLength"},
    {258, "BitsPerSample"}, {259, "Compression"}, {262, "PhotometricInterpretation"}, {263, "Thresholding"},
    {264, "CellWidth"}, {265, "CellLength"}, {266, "FillOrder"}, {269, "DocumentName"},
    {270, "ImageDescription"}, {271, "Make"}, {272, "Model"}, {273, "StripOffsets"}, {274, "Orientation"},
    {277, "SamplesPerPixel"}, {278, "RowsPerStrip"}, {279, "StripByteCounts"}, {280, "MinSampleValue"},
    {281, "MaxSampleValue"}, {282, "XResolution"}, {283, "YResolution"}, {284, "PlanarConfiguration"},
    {285, "PageName"}, {286, "XPosition"}, {287, "YPosition"}, {288, "FreeOffsets"}, {289, "FreeByteCounts"},
    {290, "GrayResponseUnit"}, {291, "GrayResponseCurve"}, {292, "T4Options"}, {293, "T6Options"},
    {296, "ResolutionUnit"}, {297, "PageNumber"}, {301, "TransferFunction"}, {305, "Software"},
    {306, "DateTime"}, {315, "Artist"}, {316, "HostComputer"}, {317, "Predictor"}, {318, "WhitePoint"},
    {319, "PrimaryChromaticities"}, {320, "ColorMap"}, {321, "HalftoneHints"}, {322, "TileWidth"},
    {323, "TileLength"}, {324, "TileOffsets"}, {325, "TileByteCounts"}, {330, "SubIFDs"}, {332, "InkSet"},
    {333, "InkNames"}, {334, "NumberOfInks"}, {336, "DotRange"}, {337, "TargetPrinter"}, {338, "ExtraSamples"},
    {339, "SampleFormat"}, {340, "SMinSampleValue"}, {341, "SMaxSampleValue"}, {342, "TransferRange"},
    {343, "ClipPath"}, {347, "JPEGTables"}, {512, "JPEGProc"}, {513, "JPEGInterchangeFormat"},
    {514, "JPEGInterchangeFormatLength"}, {515, "JPEGRestartInterval"}, {517, "JPEGLosslessPredictors"},
    {518, "JPEGPointTransforms"}, {519, "JPEGQTables"}, {520, "JPEGDCTables"}, {521, "JPEGACTables"},
    {529, "YCbCrCoefficients"}, {530, "YCbCrSubSampling"}, {531, "YCbCrPositioning"},
    {532, "ReferenceBlackWhite"}, {700, "XMP"}, {18246, "Rating"}, {18249, "RatingPercent"},
    {32781, "ImageID"}, {32932, "WangAnnotation"}, {32995, "Matteing"}, {32996, "DataType"},
    {32997, "ImageDepth"}, {32998, "TileDepth"}, {33421, "CFARepeatPatternDim"}, {33422, "CFAPattern"},
    {33432, "Copyright"}, {33434, "ExposureTime"}, {33437, "FNumber"}, {33445, "MDFileTag"},
    {33446, "MDScalePixel"}, {33447, "MDColorTable"}, {33448, "MDLabName"}, {33449, "MDSampleInfo"},
    {33450, "MDPrepDate"}, {33451, "MDPrepTime"}, {33452, "MDFileUnits"}, {33550, "ModelPixelScaleTag"},
    {33723, "IPTCNAA"}, {33922, "ModelTiepointTag"}, {34118, "CZ_SEM"}, {34264, "ModelTransformationTag"},
    {34361, "MM_Header"}, {34362, "MM_Stamp"}, {34363, "MM_Unknown"}, {34377, "ImageResources"},
    {34412, "CZ_LSMINFO"}, {34665, "ExifTag"}, {34675, "InterColorProfile"}, {34680, "FEI_SFEG"},
    {34682, "FEI_HELIOS"}, {34683, "FEI_TITAN"}, {34735, "GeoKeyDirectoryTag"}, {34736, "GeoDoubleParamsTag"},
    {34737, "GeoAsciiParamsTag"}, {34850, "ExposureProgram"}, {34853, "GPSTag"}, {34855, "ISOSpeedRatings"},
    {36864, "ExifVersion"}, {36867, "DateTimeOriginal"}, {36868, "DateTimeDigitized"}, {37122, "CompressedBitsPerPixel"},
    {37377, "ShutterSpeedValue"}, {37378, "ApertureValue"}, {37380, "ExposureBiasValue"},
    {37381, "MaxApertureValue"}, {37383, "MeteringMode"}, {37384, "LightSource"}, {37385, "Flash"},
    {37386, "FocalLength"}, {37706, "TVIPS"}, {37724, "ImageSourceData"}, {40961, "ColorSpace"},
    {42016, "ImageUniqueID"}, {42112, "GDAL_METADATA"}, {42113, "GDAL_NODATA"}, {50288, "MC_IpWinScal"},
    {50706, "DNGVersion"}, {50707, "DNGBackwardVersion"}, {50708, "UniqueCameraModel"},
    {50838, "ImageJMetaDataByteCounts"}, {50839, "ImageJMetaData"}, {51123, "MicroManagerMetadata"},
    {65200, "FlexXML"},
};

const char* tag_name(std::uint16_t tag) {
  for (const auto& t : kTagNames) {
    if (t.tag == tag) return t.name;
  }
  return nullptr;
}

// Tags tifffile always returns as a tuple, even with one value.
bool always_list(std::uint16_t tag) {
  switch (tag) {
    case 273: case 279: case 324: case 325: case 330: case 338: case 513: case 514: case 530: case 531: case 50838:
    case 50839: return true;
    default: return false;
  }
}

Value number(const Entry& e, std::size_t i) {
  switch (e.type) {
    case kFloat: case kDouble: return e.f(i);
    case kSByte: case kSShort: case kSLong: case kSLong8: return e.s(i);
    default: {
      const std::uint64_t u = e.u(i);
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return static_cast<double>(u);
      return static_cast<std::int64_t>(u);
    }
  }
}

Value entry_value(const Entry& e, std::uint16_t bps) {
  if (e.type == kAscii) return strip(e.text());
  if (e.type == kUndefined || (e.type == kByte && e.count > 1)) return Bytes(e.data.begin(), e.data.end());
  if (e.type == kRational || e.type == kSRational) {
    Value::List l;
    for (std::size_t i = 0; i < e.size(); ++i) {
      const std::byte* p = e.data.data() + i * 8;
      std::uint32_t num = 0, den = 0;
      for (int b = 0; b < 4; ++b) {
        const int sh = e.little ? 8 * b : 8 * (3 - b);
        num |= std::to_integer<std::uint32_t>(p[b]) << sh;
        den |= std::to_integer<std::uint32_t>(p[4 + b]) << sh;
      }
      if (e.type == kSRational) {
        l.emplace_back(static_cast<std::int32_t>(num));
        l.emplace_back(static_cast<std::int32_t>(den));
      } else {
        l.emplace_back(num);
        l.emplace_back(den);
      }
    }
    return l;
  }
  if (e.tag == kColorMap && bps <= 16 && e.count == 3u * (1u << bps)) {
    // (3, 2**bps): red, green, blue rows.
    const std::size_t n = std::size_t{1} << bps;
    Value::List rows;
    for (std::size_t c = 0; c < 3; ++c) {
      Value::List row;
      row.reserve(n);
      for (std::size_t i = 0; i < n; ++i) row.push_back(number(e, c * n + i));
      rows.emplace_back(std::move(row));
    }
    return rows;
  }
  if (e.count == 1 && !always_list(e.tag)) return number(e, 0);
  Value::List l;
  l.reserve(e.size());
  for (std::size_t i = 0; i < e.size(); ++i) l.push_back(number(e, i));
  return l;
}

// "YYYY:MM:DD HH:MM:SS" → ISO 8601, or none when it is not a date-time.
Value parse_datetime(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (std::sscanf(s.c_str(), "%4d:%2d:%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6 || mo < 1 || mo > 12 ||
      d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
    return Value();
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, mo, d, h, mi, se);
}

// The EXIF IFD as a TIFF-structured block for the core EXIF reader: header,
// the entries, then their out-of-line values.
Metadata exif_of(ByteSource& source, const Structure& st, std::uint64_t offset) {
  // Entries may all point at the same bytes: past four times the file the
  // IFD is not read (tiff_photo.cpp's add_photo_entries then refuses it).
  const std::uint64_t budget = st.file_size > UINT64_MAX / 4 ? UINT64_MAX : 4 * st.file_size;
  const auto ifd = read_ifd_at(source, Structure{st.little, st.bigtiff, {}}, offset, budget);
  if (!ifd || ifd->over_budget) return {};
  Bytes block;
  auto put = [&](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) block.push_back(static_cast<std::byte>((v >> (8 * (st.little ? i : n - 1 - i))) & 0xFF));
  };
  std::vector<const Entry*> entries;
  for (const Entry& e : ifd->entries) {
    // BigTIFF-only types have no classic-TIFF form.
    if (e.type < kLong8 && e.data.size() <= 0xFFFFFFFFu) entries.push_back(&e);
  }
  block.push_back(std::byte{st.little ? std::byte{'I'} : std::byte{'M'}});
  block.push_back(block.back());
  put(42, 2);
  put(8, 4);
  put(entries.size(), 2);
  std::uint64_t extra = 8 + 2 + entries.size() * 12 + 4;
  Bytes tail;
  for (const Entry* e : entries) {
    put(e->tag, 2);
    put(e->type, 2);
    put(e->count, 4);
    if (e->data.size() <= 4) {
      Bytes v(e->data.begin(), e->data.end());
      v.resize(4);
      block.insert(block.end(), v.begin(), v.end());
    } else {
      put(extra + tail.size(), 4);
      tail.insert(tail.end(), e->data.begin(), e->data.end());
    }
  }
  put(0, 4);
  block.insert(block.end(), tail.begin(), tail.end());
  Metadata exif = read_exif(block);
  for (const auto& [k, v] : Metadata(exif)) {
    if (v.is<std::string>()) exif.set(k, strip(v.ref<std::string>()));  // tifffile strips ASCII values
  }
  return exif;
}

bool has_tag(const Ifd& ifd, std::uint16_t tag) { return ifd.find(tag) != nullptr; }

// ---------------------------------------------------------------- GeoTIFF

struct GeoKeyName {
  std::uint16_t key;
  const char* name;
};

constexpr GeoKeyName kGeoKeys[] = {
    {1024, "GTModelTypeGeoKey"}, {1025, "GTRasterTypeGeoKey"}, {1026, "GTCitationGeoKey"},
    {2048, "GeographicTypeGeoKey"}, {2049, "GeogCitationGeoKey"}, {2050, "GeogGeodeticDatumGeoKey"},
    {2051, "GeogPrimeMeridianGeoKey"}, {2052, "GeogLinearUnitsGeoKey"}, {2053, "GeogLinearUnitSizeGeoKey"},
    {2054, "GeogAngularUnitsGeoKey"}, {2055, "GeogAngularUnitSizeGeoKey"}, {2056, "GeogEllipsoidGeoKey"},
    {2057, "GeogSemiMajorAxisGeoKey"}, {2058, "GeogSemiMinorAxisGeoKey"}, {2059, "GeogInvFlatteningGeoKey"},
    {2060, "GeogAzimuthUnitsGeoKey"}, {2061, "GeogPrimeMeridianLongGeoKey"}, {3072, "ProjectedCSTypeGeoKey"},
    {3073, "PCSCitationGeoKey"}, {3074, "ProjectionGeoKey"}, {3075, "ProjCoordTransGeoKey"},
    {3076, "ProjLinearUnitsGeoKey"}, {3077, "ProjLinearUnitSizeGeoKey"}, {3078, "ProjStdParallel1GeoKey"},
    {3079, "ProjStdParallel2GeoKey"}, {3080, "ProjNatOriginLongGeoKey"}, {3081, "ProjNatOriginLatGeoKey"},
    {3082, "ProjFalseEastingGeoKey"}, {3083, "ProjFalseNorthingGeoKey"}, {3084, "ProjFalseOriginLongGeoKey"},
    {3085, "ProjFalseOriginLatGeoKey"}, {3086, "ProjFalseOriginEastingGeoKey"}, {3087, "ProjFalseOriginNorthingGeoKey"},
    {3088, "ProjCenterLongGeoKey"}, {3089, "ProjCenterLatGeoKey"}, {3090, "ProjCenterEastingGeoKey"},
    {3091, "ProjCenterNorthingGeoKey"}, {3092, "ProjScaleAtNatOriginGeoKey"}, {3093, "ProjScaleAtCenterGeoKey"},
    {3094, "ProjAzimuthAngleGeoKey"}, {3095, "ProjStraightVertPoleLongGeoKey"}, {4096, "VerticalCSTypeGeoKey"},
    {4097, "VerticalCitationGeoKey"}, {4098, "VerticalDatumGeoKey"}, {4099, "VerticalUnitsGeoKey"},
};

// The GeoKey directory (GeoTIFF 1.0 §2.4) as tifffile's geotiff_metadata
// gives it: the header numbers, each key by name, and the model tags.
void add_geotiff(const Ifd& ifd, Metadata& m) {
  const Entry* dir = ifd.find(34735);
  if (dir == nullptr || dir->count < 4) return;
  const Entry* doubles = ifd.find(34736);
  const Entry* ascii = ifd.find(34737);
  const std::string text = ascii != nullptr ? std::string(reinterpret_cast<const char*>(ascii->data.data()), ascii->data.size()) : std::string();
  m.set("KeyDirectoryVersion", static_cast<std::int64_t>(dir->u(0)));
  m.set("KeyRevision", static_cast<std::int64_t>(dir->u(1)));
  m.set("KeyRevisionMinor", static_cast<std::int64_t>(dir->u(2)));
  const std::size_t n = std::min<std::size_t>(dir->u(3), (dir->size() - 4) / 4);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = 4 + 4 * i;
    const auto key = static_cast<std::uint16_t>(dir->u(at));
    const std::uint64_t loc = dir->u(at + 1), count = dir->u(at + 2), value = dir->u(at + 3);
    const auto it = std::find_if(std::begin(kGeoKeys), std::end(kGeoKeys), [&](const GeoKeyName& g) { return g.key == key; });
    std::string name = it != std::end(kGeoKeys) ? it->name : std::to_string(key);
    if (loc == 0) {
      m.set(std::move(name), static_cast<std::int64_t>(value));
    } else if (loc == 34737 && value <= text.size()) {
      std::string v = text.substr(static_cast<std::size_t>(value), static_cast<std::size_t>(count));
      while (!v.empty() && (v.back() == '|' || v.back() == '\0')) v.pop_back();
      m.set(std::move(name), strip(v));
    } else if (loc == 34736 && doubles != nullptr && value < doubles->size()) {
      if (count == 1) {
        m.set(std::move(name), doubles->f(value));
      } else {
        Value::List l;
        for (std::uint64_t k = value; k < value + count && k < doubles->size(); ++k) l.emplace_back(doubles->f(k));
        m.set(std::move(name), std::move(l));
      }
    }
  }
  for (const auto& [tag, key] : {std::pair{33550, "ModelPixelScale"}, {33922, "ModelTiepoint"}, {34264, "ModelTransformation"}}) {
    if (const Entry* e = ifd.find(static_cast<std::uint16_t>(tag))) {
      Value::List l;
      for (std::size_t i = 0; i < e->size(); ++i) l.emplace_back(e->f(i));
      m.set(key, std::move(l));
    }
  }
}

// ---------------------------------------------------------------- FEI

Value ini_value(const std::string& v) {
  char* stop = nullptr;
  const long long i = std::strtoll(v.c_str(), &stop, 10);
  if (!v.empty() && *stop == '\0') return static_cast<std::int64_t>(i);
  const double d = std::strtod(v.c_str(), &stop);
  if (!v.empty() && *stop == '\0') return d;
  if (v == "true" || v == "True") return true;
  if (v == "false" || v == "False") return false;
  return v;
}

// FEI/Thermo SEM metadata: an INI text of [Section] and key=value lines.
Dict parse_fei(std::string_view text) {
  Dict out;
  std::string section;
  Dict current;
  auto flush = [&] {
    if (!section.empty()) out.set(section, std::move(current));
    current = Dict();
  };
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string line(strip(std::string(text.substr(0, nl))));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.size() >= 2 && line.front() == '[' && line.back() == ']') {
      flush();
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    current.set(strip(line.substr(0, eq)), ini_value(strip(line.substr(eq + 1))));
  }
  flush();
  return out;
}

// What tifffile's TiffFile.series says of each series: its name, kind,
// shape and number of pyramid levels (itself included, as len(levels)):
// those in the main IFD chain, else its first page's SubIFDs (what `level`
// reads).
Value::List series_list(const Structure& st, const std::vector<Series>& series) {
  Value::List out;
  for (const Series& s : series) {
    std::size_t levels = 1 + s.levels.size();
    if (s.levels.empty() && !s.pages.empty() && !s.pages.front().subifd) {
      const Entry* subifds = st.ifds[s.pages.front().ifd].find(kSubIfds);
      levels += subifds == nullptr ? 0 : subifds->size();
    }
    Dict d;
    d.set("name", s.name);
    d.set("kind", std::string(kind_name(s.kind)));
    Value::List shape;
    for (const std::size_t n : s.shape) shape.emplace_back(static_cast<std::int64_t>(n));
    d.set("shape", std::move(shape));
    d.set("levels", static_cast<std::int64_t>(levels));
    out.emplace_back(std::move(d));
  }
  return out;
}

}  // namespace

std::optional<std::vector<double>> page_resolution(const Structure& st, const Page& page) {
  const Ifd& ifd = st.ifds[page.ifd];
  const Entry* x = ifd.find(kXResolution);
  const Entry* y = ifd.find(kYResolution);
  if (!has_tag(ifd, kResolutionUnit) || x == nullptr || y == nullptr || x->count == 0 || y->count == 0) {
    return std::nullopt;
  }
  const double xr = x->f(0), yr = y->f(0);
  if (std::isnan(xr) || std::isnan(yr)) return std::nullopt;
  return std::vector<double>{xr, yr};
}

Metadata file_metadata(const Structure& st, const std::vector<Page>& pages, const std::vector<Series>& series) {
  Metadata m;
  m.set("byteorder", st.little ? "<" : ">");
  m.set("is_bigtiff", st.bigtiff);
  if (st.ifds.empty()) {
    for (const char* flag : {"is_fei", "is_geotiff", "is_imagej", "is_multipage", "is_ndpi", "is_ome", "is_scn",
                             "is_shaped", "is_subifd", "is_svs", "is_uniform"}) {
      m.set(flag, false);
    }
    m.set("series", Value::List{});
    return m;
  }
  const Ifd& first = st.ifds.front();
  const Entry* desc = first.find(kImageDescription);
  const std::string text = desc != nullptr ? desc->text() : std::string();
  const bool imagej = text.rfind("ImageJ=", 0) == 0;
  const bool shaped = !imagej && !series.empty() && series.front().kind == Series::Kind::shaped;
  bool uniform = true;
  for (const Page& p : pages) uniform = uniform && p.same_kind(pages.front());
  m.set("is_fei", has_tag(first, 34680) || has_tag(first, 34682));
  m.set("is_geotiff", has_tag(first, 34735));
  m.set("is_imagej", imagej);
  m.set("is_multipage", st.ifds.size() > 1);
  m.set("is_ndpi", is_ndpi(first));
  m.set("is_ome", text.find("<OME") != std::string::npos);
  m.set("is_scn", is_scn_description(text));
  m.set("is_shaped", shaped);
  m.set("is_subifd", has_tag(first, kSubIfds));
  m.set("is_svs", text.rfind("Aperio ", 0) == 0);
  m.set("is_uniform", uniform);
  m.set("series", series_list(st, series));
  if (shaped) {
    // The shaped description's entries (shape and what the writer's `metadata` added).
    for (std::size_t n = 0; n < 2; ++n) {
      const Entry* d = first.find_nth(kImageDescription, n);
      if (d == nullptr) break;
      const std::string t = d->text();
      if (auto json = try_from_json(t); json && json->is<Dict>() && json->ref<Dict>().contains("shape")) {
        for (const auto& [k, v] : json->ref<Dict>()) m.set(k, v);
        break;
      }
      if (auto s = parse_shape_description(t)) {
        Value::List l;
        for (const std::size_t x : *s) l.emplace_back(x);
        m.set("shape", std::move(l));
        break;
      }
    }
  }
  if (imagej) {
    for (const auto& [k, v] : parse_imagej(text)) m.set(k, v);
  }
  for (const std::uint16_t tag : {std::uint16_t{34680}, std::uint16_t{34682}}) {
    if (const Entry* fei = first.find(tag); fei != nullptr && fei->type == kAscii) {
      for (const auto& [k, v] : parse_fei(fei->text())) m.set(k, v);
    }
  }
  add_geotiff(first, m);
  return m;
}

Metadata page_metadata(ByteSource& source, const Structure& st, const Page& page) {
  const Ifd& ifd = st.ifds[page.ifd];
  Metadata m;
  for (const Entry& e : ifd.entries) {
    const char* name = tag_name(e.tag);
    std::string key = name != nullptr ? name : std::to_string(e.tag);
    if (m.contains(key)) continue;  // a repeated tag (second ImageDescription) is `description1` below
    if ((e.tag == 34680 || e.tag == 34682) && e.type == kAscii) {
      m.set(std::move(key), parse_fei(e.text()));
      continue;
    }
    if (e.tag == kExifIfd && e.count == 1) {
      m.set(std::move(key), exif_of(source, st, e.u(0)));
      continue;
    }
    m.set(std::move(key), entry_value(e, page.bps));
  }
  m.set("planar_configuration", static_cast<std::int64_t>(ifd.get(kPlanarConfig, 1)));
  m.set("compression", static_cast<std::int64_t>(page.compression));
  m.set("predictor", static_cast<std::int64_t>(page.predictor));
  m.set("orientation", Value());  // tifffile: not implemented, always None
  const Entry* d0 = ifd.find_nth(kImageDescription, 0);
  const Entry* d1 = ifd.find_nth(kImageDescription, 1);
  m.set("description", d0 != nullptr ? strip(d0->text()) : std::string());
  m.set("description1", d1 != nullptr ? strip(d1->text()) : std::string());
  const Entry* sw = ifd.find(kSoftware);
  m.set("software", sw != nullptr ? strip(sw->text()) : std::string());
  const Entry* dt = ifd.find(kDateTime);
  m.set("datetime", dt != nullptr ? parse_datetime(dt->text()) : Value());
  if (has_tag(ifd, kResolutionUnit)) {
    m.set("resolution_unit", static_cast<std::int64_t>(ifd.get(kResolutionUnit, 1)));
    const Entry* x = ifd.find(kXResolution);
    const Entry* y = ifd.find(kYResolution);
    if (x != nullptr && y != nullptr && x->count > 0 && y->count > 0) {
      if (std::isnan(x->f(0)) || std::isnan(y->f(0))) {
        warn(kPlugin, "XResolution or YResolution has a zero denominator; no resolution");
      } else {
        m.set("resolution", Value::List{x->f(0), y->f(0)});
      }
    }
  }
  return m;
}

}  // namespace imio::tiff
