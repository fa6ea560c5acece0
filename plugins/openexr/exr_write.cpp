#include "exr_write.hpp"

#include <imio/single_image.hpp>

#include <fmt/format.h>

#include <ImfBoxAttribute.h>
#include <ImfChannelList.h>
#include <ImfChromaticitiesAttribute.h>
#include <ImfFloatAttribute.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfIntAttribute.h>
#include <ImfMatrixAttribute.h>
#include <ImfMultiPartOutputFile.h>
#include <ImfOutputPart.h>
#include <ImfPartType.h>
#include <ImfRationalAttribute.h>
#include <ImfStringAttribute.h>
#include <ImfStringVectorAttribute.h>
#include <ImfTiledOutputPart.h>
#include <ImfVecAttribute.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include "exr_io.hpp"
#include "exr_names.hpp"

namespace imio::exr {
namespace {

constexpr std::string_view kPlugin = "openexr";

struct WriteArgs {
  std::optional<std::vector<std::string>> channels;
  std::optional<Imf::PixelType> pixel_type;
  Imf::Compression compression = Imf::ZIP_COMPRESSION;
  std::optional<float> dwa_level;
  std::optional<std::pair<unsigned, unsigned>> tile;
  Imf::LineOrder line_order = Imf::INCREASING_Y;
  std::optional<bool> is_batch;
  std::vector<const Dict*> attributes;  // one for all parts, or one per part
};

WriteArgs write_args(const Kwargs& kwargs, KwargReader& kw) {
  WriteArgs a;
  if (const Value* v = kw.find("channels"); v != nullptr && !v->is_none()) {
    std::vector<std::string> names;
    for (const Value& item : v->ref<Value::List>()) {
      if (!item.is<std::string>() || item.ref<std::string>().empty()) kw.fail("channels", fmt::format("expects channel names, got {}", item.repr()));
      names.push_back(item.ref<std::string>());
    }
    if (std::set<std::string>(names.begin(), names.end()).size() != names.size()) kw.fail("channels", "names a channel twice");
    a.channels = std::move(names);
  }
  if (const auto p = kw.take<std::string>("pixel_type")) a.pixel_type = *p == "half" ? Imf::HALF : *p == "float" ? Imf::FLOAT : Imf::UINT;
  a.compression = *compression_of(kw.get<std::string>("compression"));
  if (const auto l = kw.take<double>("dwa_compression_level")) a.dwa_level = static_cast<float>(*l);
  if (const Value* v = kw.find("tile_size"); v != nullptr && !v->is_none()) {
    std::int64_t tx = 0, ty = 0;
    if (v->is<std::int64_t>()) {
      tx = ty = v->ref<std::int64_t>();
    } else if (v->is<Value::List>() && v->ref<Value::List>().size() == 2 && v->ref<Value::List>()[0].is<std::int64_t>() &&
               v->ref<Value::List>()[1].is<std::int64_t>()) {
      tx = v->ref<Value::List>()[0].ref<std::int64_t>();
      ty = v->ref<Value::List>()[1].ref<std::int64_t>();
    } else {
      kw.fail("tile_size", "expects an int or [width, height]");
    }
    if (tx < 1 || ty < 1 || tx > 65536 || ty > 65536) kw.fail("tile_size", "expects sizes 1…65536");
    a.tile = std::pair{static_cast<unsigned>(tx), static_cast<unsigned>(ty)};
  }
  a.line_order = kw.get<std::string>("line_order") == "decreasing_y" ? Imf::DECREASING_Y : Imf::INCREASING_Y;
  a.is_batch = kw.take<bool>("is_batch");
  if (const Value* v = kw.find("attributes"); v != nullptr && !v->is_none()) {
    if (v->is<Dict>()) {
      a.attributes.push_back(&v->ref<Dict>());
    } else {
      for (const Value& item : v->ref<Value::List>()) {
        if (!item.is<Dict>()) kw.fail("attributes", "expects a dict or a list of dicts (one per part)");
        a.attributes.push_back(&item.ref<Dict>());
      }
    }
  }
  (void)kwargs;
  return a;
}

// Numbers of a list value, or nullopt when it is not a list of numbers.
std::optional<std::vector<double>> numbers(const Value& v, bool* all_int = nullptr) {
  if (!v.is<Value::List>()) return std::nullopt;
  std::vector<double> out;
  bool ints = true;
  for (const Value& x : v.ref<Value::List>()) {
    if (x.is<std::int64_t>()) {
      out.push_back(static_cast<double>(x.ref<std::int64_t>()));
    } else if (x.is<double>()) {
      ints = false;
      out.push_back(x.ref<double>());
    } else {
      return std::nullopt;
    }
  }
  if (all_int != nullptr) *all_int = ints;
  return out;
}

int to_int(double d, const std::string& name) {
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<std::int64_t>(d))) {
    throw ArgumentError(fmt::format("attribute '{}': {} is not a 32-bit integer", name, d));
  }
  return static_cast<int>(d);
}

float to_float(double d) { return static_cast<float>(std::clamp(d, -3.4028234663852886e38, 3.4028234663852886e38)); }

// Sets one attribute of `h` from a metadata value.
void set_attribute(Imf::Header& h, const std::string& name, const Value& v, std::int64_t width, std::int64_t height) {
  auto fail = [&](std::string_view what) {
    throw ArgumentError(fmt::format("{}.write(): keyword 'attributes': '{}' {} (got {})", kPlugin, name, what, v.repr()));
  };
  bool ints = false;
  const auto nums = numbers(v, &ints);
  if (name == "dataWindow" || name == "displayWindow") {
    if (!nums || nums->size() != 4 || !ints) fail("expects [xmin, ymin, xmax, ymax] (ints)");
    const Imath::Box2i b(Imath::V2i(to_int((*nums)[0], name), to_int((*nums)[1], name)),
                         Imath::V2i(to_int((*nums)[2], name), to_int((*nums)[3], name)));
    if (b.max.x < b.min.x || b.max.y < b.min.y) fail("is an empty window");
    if (name == "dataWindow" && (std::int64_t{b.max.x} - b.min.x + 1 != width || std::int64_t{b.max.y} - b.min.y + 1 != height)) {
      fail(fmt::format("must have the image's size ({} x {})", width, height));
    }
    (name == "dataWindow" ? h.dataWindow() : h.displayWindow()) = b;
    return;
  }
  if (name == "channels" || name == "compression" || name == "lineOrder" || name == "tiles" || name == "type" || name == "chunkCount" ||
      name == "version" || name == "maxSamplesPerPixel") {
    fail("is set by the write's own kwargs, not by attributes");
  }
  if (name == "chromaticities") {
    if (!nums || nums->size() != 8) fail("expects 8 numbers [rx, ry, gx, gy, bx, by, wx, wy]");
    const auto& n = *nums;
    h.insert(name, Imf::ChromaticitiesAttribute(Imf::Chromaticities(Imath::V2f(to_float(n[0]), to_float(n[1])), Imath::V2f(to_float(n[2]), to_float(n[3])),
                                                                   Imath::V2f(to_float(n[4]), to_float(n[5])), Imath::V2f(to_float(n[6]), to_float(n[7])))));
    return;
  }
  if (name == "framesPerSecond") {
    if (!nums || nums->size() != 2 || !ints || (*nums)[1] < 0) fail("expects [numerator, denominator] (ints)");
    h.insert(name, Imf::RationalAttribute(Imf::Rational(to_int((*nums)[0], name), static_cast<unsigned>(to_int((*nums)[1], name)))));
    return;
  }
  const bool float_name = name == "pixelAspectRatio" || name == "screenWindowWidth" || name == "utcOffset" || name == "expTime" ||
                          name == "aperture" || name == "isoSpeed" || name == "focus" || name == "whiteLuminance" || name == "xDensity";
  if (v.is<std::string>()) {
    h.insert(name, Imf::StringAttribute(v.ref<std::string>()));
  } else if (v.is<std::int64_t>() && !float_name) {
    h.insert(name, Imf::IntAttribute(to_int(static_cast<double>(v.ref<std::int64_t>()), name)));
  } else if (v.is<double>() || v.is<std::int64_t>()) {
    h.insert(name, Imf::FloatAttribute(to_float(v.get<double>())));
  } else if (v.is<Value::List>() && !v.ref<Value::List>().empty() && v.ref<Value::List>()[0].is<std::string>()) {
    Imf::StringVector sv;
    for (const Value& x : v.ref<Value::List>()) {
      if (!x.is<std::string>()) fail("mixes strings and other values");
      sv.push_back(x.ref<std::string>());
    }
    h.insert(name, Imf::StringVectorAttribute(sv));
  } else if (nums && nums->size() == 2) {
    const auto& n = *nums;
    if (ints && name != "screenWindowCenter") {
      h.insert(name, Imf::V2iAttribute(Imath::V2i(to_int(n[0], name), to_int(n[1], name))));
    } else {
      h.insert(name, Imf::V2fAttribute(Imath::V2f(to_float(n[0]), to_float(n[1]))));
    }
  } else if (nums && nums->size() == 3) {
    const auto& n = *nums;
    if (ints) {
      h.insert(name, Imf::V3iAttribute(Imath::V3i(to_int(n[0], name), to_int(n[1], name), to_int(n[2], name))));
    } else {
      h.insert(name, Imf::V3fAttribute(Imath::V3f(to_float(n[0]), to_float(n[1]), to_float(n[2]))));
    }
  } else if (nums && nums->size() == 9) {
    Imath::M33f m;
    for (int i = 0; i < 9; ++i) m[i / 3][i % 3] = to_float((*nums)[static_cast<std::size_t>(i)]);
    h.insert(name, Imf::M33fAttribute(m));
  } else if (nums && nums->size() == 16) {
    Imath::M44f m;
    for (int i = 0; i < 16; ++i) m[i / 4][i % 4] = to_float((*nums)[static_cast<std::size_t>(i)]);
    h.insert(name, Imf::M44fAttribute(m));
  } else {
    fail("has a value OpenEXR has no attribute type for (str, int, float, a list of str, or 2, 3, 9 or 16 numbers)");
  }
}

struct PartPlan {
  const std::byte* pixels = nullptr;
  std::size_t height = 0, width = 0, channels = 0;
  DType dtype = DType::float32;
  Imf::PixelType stored = Imf::FLOAT;
  Imf::PixelType given = Imf::FLOAT;  // the array's samples as a pixel type (float64: FLOAT)
  std::vector<std::string> names;
};

std::vector<std::string> default_names(std::size_t c) {
  switch (c) {
    case 1: return {"Y"};
    case 2: return {"Y", "A"};
    case 3: return {"R", "G", "B"};
    case 4: return {"R", "G", "B", "A"};
    default: return {};
  }
}

PartPlan plan_part(const std::byte* pixels, const Shape& shape, DType dtype, const WriteArgs& a) {
  PartPlan p;
  p.pixels = pixels;
  if (shape.size() != 2 && shape.size() != 3) {
    throw ArgumentError(fmt::format("an OpenEXR image is (H, W) or (H, W, C); got {} dimensions", shape.size()));
  }
  p.height = shape[0];
  p.width = shape[1];
  p.channels = shape.size() == 3 ? shape[2] : 1;
  if (p.height == 0 || p.width == 0 || p.channels == 0) throw ArgumentError("cannot write an empty image");
  if (p.height > 0x7fffffff || p.width > 0x7fffffff) throw ArgumentError("OpenEXR images have at most 2^31 − 1 pixels per side");
  p.dtype = dtype;
  switch (dtype) {
    case DType::float16: p.given = Imf::HALF; break;
    case DType::float32: p.given = Imf::FLOAT; break;
    case DType::uint32: p.given = Imf::UINT; break;
    case DType::float64:
      if (!a.pixel_type || *a.pixel_type == Imf::UINT) {
        throw ArgumentError("float64 images are written as half or float: pass pixel_type='float' or 'half' (OpenEXR has no double samples)");
      }
      p.given = Imf::FLOAT;
      break;
    default:
      throw ArgumentError(fmt::format("OpenEXR stores float16, float32 and uint32 samples; got {} (convert the array first)", name(dtype)));
  }
  p.stored = a.pixel_type.value_or(p.given);
  if ((p.stored == Imf::UINT) != (p.given == Imf::UINT)) {
    throw ArgumentError(fmt::format("pixel_type '{}' does not hold {} samples", pixel_type_name(p.stored), name(dtype)));
  }
  p.names = a.channels ? *a.channels : default_names(p.channels);
  if (p.names.empty()) throw ArgumentError(fmt::format("an image of {} channels needs channel names (kwarg channels)", p.channels));
  if (p.names.size() != p.channels) {
    throw ArgumentError(fmt::format("{} channel names for an image of {} channels", p.names.size(), p.channels));
  }
  return p;
}

// Samples converted to the stored type (OpenEXR's writers take slices of
// the channel's own type): to half rounded to nearest even, to float exactly
// from half and rounded from float64, beyond float's range ±inf (numpy's
// astype), without the undefined conversion of such a double.
NDArray convert_samples(const std::byte* pixels, std::size_t n, DType from, Imf::PixelType to, const Request& request) {
  NDArray out = request.allocate(Shape{n}, to == Imf::HALF ? DType::float16 : DType::float32);
  constexpr double top = 3.4028234663852886e38;
  for (std::size_t i = 0; i < n; ++i) {
    if (from == DType::float64) {
      double d;
      std::memcpy(&d, pixels + i * 8, 8);
      if (to == Imf::HALF) {
        out.data<float16>()[i] = float16::from_double(d);
      } else {
        out.data<float>()[i] = d > top ? std::numeric_limits<float>::infinity() : d < -top ? -std::numeric_limits<float>::infinity() : static_cast<float>(d);
      }
    } else if (from == DType::float32) {
      float f;
      std::memcpy(&f, pixels + i * 4, 4);
      out.data<float16>()[i] = float16::from_float(f);
    } else {
      float16 h;
      std::memcpy(&h.bits, pixels + i * 2, 2);
      out.data<float>()[i] = h.to_float();
    }
  }
  return out;
}

}  // namespace

Bytes encode(std::span<const NDArray> images, bool several, const Kwargs& kwargs, const Request& request) {
  KwargReader kw(kwargs, kPlugin, "write");
  const WriteArgs a = write_args(kwargs, kw);
  kw.finish();
  // The parts: a list's items, a batch's first axis, or the one image.
  std::vector<PartPlan> parts;
  std::vector<NDArray> converted;  // float64 images as float32
  const bool batch = !several && a.is_batch.value_or(false);
  for (const NDArray& image : images) {
    if (batch) {
      if (image.ndim() < 3) throw ArgumentError("is_batch=True needs an array (N, H, W[, C])");
      const Shape frame(image.shape().begin() + 1, image.shape().end());
      const std::size_t n = image.shape()[0];
      if (n == 0) throw ArgumentError("no images to write");
      for (std::size_t k = 0; k < n; ++k) parts.push_back(plan_part(image.bytes() + k * (image.nbytes() / n), frame, image.dtype(), a));
    } else {
      parts.push_back(plan_part(image.bytes(), image.shape(), image.dtype(), a));
    }
  }
  request.check_frames(parts.size());
  if (a.attributes.size() > 1 && a.attributes.size() != parts.size()) {
    throw ArgumentError(fmt::format("{}.write(): keyword 'attributes': {} dicts for {} parts", kPlugin, a.attributes.size(), parts.size()));
  }
  std::vector<Imf::Header> headers;
  std::vector<bool> display_given;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    PartPlan& p = parts[k];
    if (p.given != p.stored || p.dtype == DType::float64) {
      converted.push_back(convert_samples(p.pixels, p.height * p.width * p.channels, p.dtype, p.stored, request));
      p.pixels = converted.back().bytes();
      p.given = p.stored;
    }
    Imf::Header h(static_cast<int>(p.width), static_cast<int>(p.height));
    h.compression() = a.compression;
    h.lineOrder() = a.line_order;
    if (a.dwa_level) h.dwaCompressionLevel() = *a.dwa_level;
    for (const std::string& n : p.names) h.channels().insert(n, Imf::Channel(p.stored));
    if (a.tile) {
      h.setTileDescription(Imf::TileDescription(a.tile->first, a.tile->second, Imf::ONE_LEVEL));
      h.setType(Imf::TILEDIMAGE);
    } else {
      h.setType(Imf::SCANLINEIMAGE);
    }
    if (parts.size() > 1) h.setName(fmt::format("part{}", k));
    if (!a.attributes.empty()) {
      const Dict& attrs = *a.attributes[a.attributes.size() == 1 ? 0 : k];
      for (const auto& [name, value] : attrs) {
        if (name.empty()) throw ArgumentError(fmt::format("{}.write(): keyword 'attributes': an attribute name is empty", kPlugin));
        if (name == "name" && value.is<std::string>()) {
          h.setName(value.ref<std::string>());
          continue;
        }
        set_attribute(h, name, value, static_cast<std::int64_t>(p.width), static_cast<std::int64_t>(p.height));
      }
    }
    display_given.push_back(!a.attributes.empty() && a.attributes[a.attributes.size() == 1 ? 0 : k]->contains("displayWindow"));
    headers.push_back(std::move(h));
  }
  // The parts of a multi-part file share one display window (OpenEXR's
  // shared attributes): by default the box around every data window.
  if (parts.size() > 1) {
    Imath::Box2i all;
    for (const Imf::Header& h : headers) all.extendBy(h.dataWindow());
    for (std::size_t k = 0; k < headers.size(); ++k) {
      if (!display_given[k]) headers[k].displayWindow() = all;
    }
  }
  if (parts.size() > 1) {
    std::set<std::string> names;
    for (const Imf::Header& h : headers) {
      if (!names.insert(h.name()).second) throw ArgumentError(fmt::format("two parts are named '{}' (attribute 'name')", h.name()));
    }
  }
  return guarded<EncodeError>([&] {
    MemoryOutput out;
    {
      Imf::MultiPartOutputFile file(out, headers.data(), static_cast<int>(headers.size()));
      for (std::size_t k = 0; k < parts.size(); ++k) {
        const PartPlan& p = parts[k];
        const std::size_t elem = p.given == Imf::HALF ? 2 : 4;
        const std::size_t xstride = elem * p.channels, ystride = xstride * p.width;
        const Imath::Box2i dw = headers[k].dataWindow();
        Imf::FrameBuffer fb;
        for (std::size_t c = 0; c < p.channels; ++c) {
          fb.insert(p.names[c], Imf::Slice::Make(p.given, p.pixels + c * elem, dw.min, static_cast<std::int64_t>(p.width),
                                                 static_cast<std::int64_t>(p.height), xstride, ystride));
        }
        if (a.tile) {
          Imf::TiledOutputPart part(file, static_cast<int>(k));
          part.setFrameBuffer(fb);
          part.writeTiles(0, part.numXTiles(0) - 1, 0, part.numYTiles(0) - 1, 0);
        } else {
          Imf::OutputPart part(file, static_cast<int>(k));
          part.setFrameBuffer(fb);
          part.writePixels(static_cast<int>(p.height));
        }
      }
    }
    return out.bytes();
  });
}

}  // namespace imio::exr
