// immeta: every attribute of a part's header by its OpenEXR name, its value
// in the nearest Python form (boxes and vectors as lists, enums as
// OpenEXR's lower-case names, the channel list as a list of dicts).
#include <fmt/format.h>

#include <ImfBoxAttribute.h>
#include <ImfChannelListAttribute.h>
#include <ImfChromaticitiesAttribute.h>
#include <ImfCompressionAttribute.h>
#include <ImfDeepImageStateAttribute.h>
#include <ImfDoubleAttribute.h>
#include <ImfEnvmapAttribute.h>
#include <ImfFloatAttribute.h>
#include <ImfFloatVectorAttribute.h>
#include <ImfHeader.h>
#include <ImfIntAttribute.h>
#include <ImfKeyCodeAttribute.h>
#include <ImfLineOrderAttribute.h>
#include <ImfMatrixAttribute.h>
#include <ImfMultiPartInputFile.h>
#include <ImfOpaqueAttribute.h>
#include <ImfPreviewImageAttribute.h>
#include <ImfRationalAttribute.h>
#include <ImfStringAttribute.h>
#include <ImfStringVectorAttribute.h>
#include <ImfTileDescriptionAttribute.h>
#include <ImfTimeCodeAttribute.h>
#include <ImfVecAttribute.h>

#include "exr_io.hpp"
#include "exr_names.hpp"
#include "exr_read.hpp"

namespace imio::exr {
namespace {

template <class T>
const T* as(const Imf::Attribute& a) {
  return dynamic_cast<const T*>(&a);
}

template <class M>
Value matrix(const M& m, int n) {
  Value::List l;
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) l.emplace_back(static_cast<double>(m[r][c]));
  }
  return l;
}

Value channel_list(const Imf::ChannelList& list) {
  Value::List out;
  for (auto it = list.begin(); it != list.end(); ++it) {
    const Imf::Channel& c = it.channel();
    out.emplace_back(Dict{{"name", it.name()},
                          {"type", std::string(pixel_type_name(c.type))},
                          {"x_sampling", c.xSampling},
                          {"y_sampling", c.ySampling},
                          {"p_linear", c.pLinear}});
  }
  return out;
}

Value attribute_value(const Imf::Attribute& a) {
  if (const auto* v = as<Imf::StringAttribute>(a)) return v->value();
  if (const auto* v = as<Imf::IntAttribute>(a)) return v->value();
  if (const auto* v = as<Imf::FloatAttribute>(a)) return static_cast<double>(v->value());
  if (const auto* v = as<Imf::DoubleAttribute>(a)) return v->value();
  if (const auto* v = as<Imf::Box2iAttribute>(a)) return Value{v->value().min.x, v->value().min.y, v->value().max.x, v->value().max.y};
  if (const auto* v = as<Imf::Box2fAttribute>(a)) {
    const auto& b = v->value();
    return Value{double{b.min.x}, double{b.min.y}, double{b.max.x}, double{b.max.y}};
  }
  if (const auto* v = as<Imf::V2iAttribute>(a)) return Value{v->value().x, v->value().y};
  if (const auto* v = as<Imf::V2fAttribute>(a)) return Value{double{v->value().x}, double{v->value().y}};
  if (const auto* v = as<Imf::V2dAttribute>(a)) return Value{v->value().x, v->value().y};
  if (const auto* v = as<Imf::V3iAttribute>(a)) return Value{v->value().x, v->value().y, v->value().z};
  if (const auto* v = as<Imf::V3fAttribute>(a)) return Value{double{v->value().x}, double{v->value().y}, double{v->value().z}};
  if (const auto* v = as<Imf::V3dAttribute>(a)) return Value{v->value().x, v->value().y, v->value().z};
  if (const auto* v = as<Imf::M33fAttribute>(a)) return matrix(v->value(), 3);
  if (const auto* v = as<Imf::M33dAttribute>(a)) return matrix(v->value(), 3);
  if (const auto* v = as<Imf::M44fAttribute>(a)) return matrix(v->value(), 4);
  if (const auto* v = as<Imf::M44dAttribute>(a)) return matrix(v->value(), 4);
  if (const auto* v = as<Imf::ChannelListAttribute>(a)) return channel_list(v->value());
  if (const auto* v = as<Imf::CompressionAttribute>(a)) return std::string(compression_name(v->value()));
  if (const auto* v = as<Imf::LineOrderAttribute>(a)) return std::string(line_order_name(v->value()));
  if (const auto* v = as<Imf::ChromaticitiesAttribute>(a)) {
    const Imf::Chromaticities& c = v->value();
    return Value{double{c.red.x}, double{c.red.y}, double{c.green.x}, double{c.green.y},
                 double{c.blue.x}, double{c.blue.y}, double{c.white.x}, double{c.white.y}};
  }
  if (const auto* v = as<Imf::TileDescriptionAttribute>(a)) {
    const Imf::TileDescription& t = v->value();
    return Dict{{"x_size", std::int64_t{t.xSize}},
                {"y_size", std::int64_t{t.ySize}},
                {"mode", t.mode == Imf::ONE_LEVEL ? "one_level" : t.mode == Imf::MIPMAP_LEVELS ? "mipmap" : "ripmap"},
                {"rounding", t.roundingMode == Imf::ROUND_UP ? "up" : "down"}};
  }
  if (const auto* v = as<Imf::RationalAttribute>(a)) return Value{v->value().n, std::int64_t{v->value().d}};
  if (const auto* v = as<Imf::StringVectorAttribute>(a)) return Value(v->value());
  if (const auto* v = as<Imf::FloatVectorAttribute>(a)) {
    Value::List l;
    for (float f : v->value()) l.emplace_back(static_cast<double>(f));
    return l;
  }
  if (const auto* v = as<Imf::EnvmapAttribute>(a)) return v->value() == Imf::ENVMAP_LATLONG ? "latlong" : "cube";
  if (const auto* v = as<Imf::TimeCodeAttribute>(a)) {
    return Dict{{"time_and_flags", std::int64_t{v->value().timeAndFlags()}}, {"user_data", std::int64_t{v->value().userData()}}};
  }
  if (const auto* v = as<Imf::KeyCodeAttribute>(a)) {
    const Imf::KeyCode& k = v->value();
    return Dict{{"film_mfc_code", k.filmMfcCode()}, {"film_type", k.filmType()},      {"prefix", k.prefix()},
                {"count", k.count()},               {"perf_offset", k.perfOffset()}, {"perfs_per_frame", k.perfsPerFrame()},
                {"perfs_per_count", k.perfsPerCount()}};
  }
  if (const auto* v = as<Imf::PreviewImageAttribute>(a)) {
    const Imf::PreviewImage& p = v->value();
    const auto* px = reinterpret_cast<const std::byte*>(p.pixels());
    return Dict{{"width", std::int64_t{p.width()}},
                {"height", std::int64_t{p.height()}},
                {"pixels", Bytes(px, px + std::size_t{p.width()} * p.height() * 4)}};
  }
  if (const auto* v = as<Imf::DeepImageStateAttribute>(a)) return std::int64_t{v->value()};
  if (const auto* v = as<Imf::OpaqueAttribute>(a)) {
    const auto* d = reinterpret_cast<const std::byte*>(static_cast<const char*>(v->data()));
    return Bytes(d, d + v->dataSize());
  }
  return fmt::format("<{}>", a.typeName());
}

}  // namespace

Metadata ExrFile::metadata(std::size_t part) const {
  return guarded<DecodeError>([&] {
    const Imf::Header& h = header(part);
    Metadata m;
    for (auto it = h.begin(); it != h.end(); ++it) m.set(it.name(), attribute_value(it.attribute()));
    m.set("n_images", static_cast<std::int64_t>(parts()));
    return m;
  });
}

}  // namespace imio::exr
