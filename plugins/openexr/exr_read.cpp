#include "exr_read.hpp"

#include <imio/checked_math.hpp>

#include <fmt/format.h>

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfInputPart.h>
#include <ImfMultiPartInputFile.h>
#include <ImfPartType.h>
#include <ImfThreading.h>
#include <ImfTiledInputPart.h>
#include <OpenEXRConfig.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>

#include "exr_io.hpp"

namespace imio::exr {
namespace {

constexpr std::string_view kPlugin = "openexr";

// OpenEXR decodes chunks on the threads of its global pool, whose size is
// process-wide (0 = no threads, the library's default). imio sizes it once
// to the machine unless the application already has.
int decode_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (Imf::globalThreadCount() == 0) Imf::setGlobalThreadCount(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  });
  return Imf::globalThreadCount();
}

DType dtype_of(Imf::PixelType t) {
  switch (t) {
    case Imf::HALF: return DType::float16;
    case Imf::UINT: return DType::uint32;
    default: return DType::float32;
  }
}

Imf::PixelType pixel_type_of(DType d) {
  switch (d) {
    case DType::float16: return Imf::HALF;
    case DType::uint32: return Imf::UINT;
    default: return Imf::FLOAT;
  }
}

std::string_view layer_of(std::string_view name) {
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
}

std::string_view suffix_of(std::string_view name) {
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

int rgba_rank(std::string_view name) {
  const std::string_view s = suffix_of(name);
  if (s == "R") return 0;
  if (s == "G") return 1;
  if (s == "B") return 2;
  if (s == "Y") return 3;  // luminance: gray + alpha reads (Y, A)
  if (s == "A") return 4;
  return 5;
}

// Every full-resolution channel: the layers in the file's order (the
// unnamed layer first), R, G, B (or Y), A first inside each, then the others.
std::vector<std::string> default_channels(const Imf::ChannelList& list) {
  std::vector<std::string> layers{""};
  std::vector<std::string> names;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it.channel().xSampling != 1 || it.channel().ySampling != 1) continue;
    names.emplace_back(it.name());
    const std::string layer(layer_of(it.name()));
    if (std::find(layers.begin(), layers.end(), layer) == layers.end()) layers.push_back(layer);
  }
  std::vector<std::string> out;
  for (const std::string& layer : layers) {
    std::vector<std::string> in;
    for (const std::string& n : names) {
      if (layer_of(n) == layer) in.push_back(n);
    }
    std::stable_sort(in.begin(), in.end(), [](const std::string& a, const std::string& b) { return rgba_rank(a) < rgba_rank(b); });
    out.insert(out.end(), in.begin(), in.end());
  }
  return out;
}

std::string channel_names(const Imf::ChannelList& list) {
  std::string s;
  for (auto it = list.begin(); it != list.end(); ++it) s += (s.empty() ? "" : ", ") + std::string(it.name());
  return s;
}

}  // namespace

ReadArgs read_args(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadArgs a;
  if (const Value* v = kw.find("channels"); v != nullptr && !v->is_none()) {
    std::vector<std::string> names;
    if (v->is<std::string>()) {
      names.push_back(v->ref<std::string>());
    } else {
      for (const Value& item : v->ref<Value::List>()) {
        if (!item.is<std::string>()) kw.fail("channels", fmt::format("expects channel names (str), got {}", item.repr()));
        names.push_back(item.ref<std::string>());
      }
      if (names.empty()) kw.fail("channels", "expects at least one channel name");
    }
    a.channels = std::move(names);
  }
  a.display_window = kw.get<std::string>("window") == "display";
  const Value* level = kw.find("level");
  if (level != nullptr && level->is<Value::List>()) {
    const auto& l = level->ref<Value::List>();
    if (l.size() != 2 || !l[0].is<std::int64_t>() || !l[1].is<std::int64_t>()) kw.fail("level", "expects an int or [lx, ly]");
    a.level_x = static_cast<int>(std::clamp<std::int64_t>(l[0].ref<std::int64_t>(), -1, 1 << 20));
    a.level_y = static_cast<int>(std::clamp<std::int64_t>(l[1].ref<std::int64_t>(), -1, 1 << 20));
  } else {
    a.level_x = a.level_y = static_cast<int>(std::clamp<std::int64_t>(kw.get<std::int64_t>("level"), -1, 1 << 20));
  }
  if (a.level_x < 0 || a.level_y < 0) kw.fail("level", "expects levels ≥ 0");
  if (a.display_window && (a.level_x != 0 || a.level_y != 0)) kw.fail("window", "'display' applies to level 0 only");
  if (const auto d = kw.take<std::string>("dtype")) {
    a.dtype = *d == "float16" ? DType::float16 : *d == "uint32" ? DType::uint32 : DType::float32;
  }
  kw.finish();
  return a;
}

ExrFile::ExrFile(std::span<const std::byte> data, const std::string& name, const Limits& limits)
    : scan_(scan_headers(data, limits)), stream_(std::make_unique<MemoryInput>(data, name)) {
  file_ = guarded<DecodeError>([&] { return std::make_unique<Imf::MultiPartInputFile>(*stream_, decode_threads()); });
}

ExrFile::~ExrFile() = default;

const Imf::Header& ExrFile::header(std::size_t part) const { return file_->header(static_cast<int>(part)); }

Plan ExrFile::plan(std::size_t part, const ReadArgs& args) const {
  const Imf::Header& h = header(part);
  if (scan_.parts[part].deep) {
    throw DecodeError(fmt::format("part {} holds deep data ({}), which imio does not read", part, h.hasType() ? h.type() : "deep"));
  }
  Plan p;
  p.part = part;
  p.tiled = scan_.parts[part].tiled;
  const Imf::ChannelList& list = h.channels();
  p.channels = args.channels ? *args.channels : default_channels(list);
  if (p.channels.empty()) throw DecodeError(fmt::format("part {} has no full-resolution channel (only subsampled ones: {})", part, channel_names(list)));
  std::optional<Imf::PixelType> common;
  bool mixed = false;
  for (const std::string& n : p.channels) {
    const Imf::Channel* c = list.findChannel(n);
    if (c == nullptr) throw ArgumentError(fmt::format("part {} has no channel '{}' (its channels: {})", part, n, channel_names(list)));
    if (c->xSampling != 1 || c->ySampling != 1) {
      throw ArgumentError(fmt::format("channel '{}' of part {} is subsampled ({}x{}), which imio does not read", n, part, c->xSampling,
                                      c->ySampling));
    }
    if (common && *common != c->type) mixed = true;
    common = c->type;
  }
  p.dtype = args.dtype ? *args.dtype : mixed ? DType::float32 : dtype_of(*common);
  // The level's data window.
  const Imath::Box2i dw = h.dataWindow();
  std::int64_t x0 = dw.min.x, y0 = dw.min.y, x1 = dw.max.x, y1 = dw.max.y;
  if (args.level_x != 0 || args.level_y != 0) {
    if (!p.tiled || !h.hasTileDescription() || h.tileDescription().mode == Imf::ONE_LEVEL) {
      throw ArgumentError(fmt::format("part {} has one resolution level: level must be 0", part));
    }
    const Imf::TileDescription td = h.tileDescription();
    if (td.mode == Imf::MIPMAP_LEVELS && args.level_x != args.level_y) {
      throw ArgumentError(fmt::format("part {} has mipmap levels: level [{}, {}] must be one number", part, args.level_x, args.level_y));
    }
    auto count = [&](std::int64_t size) {
      int n = 1;
      while ((std::int64_t{1} << (n - 1)) < size) ++n;
      if (td.roundingMode == Imf::ROUND_DOWN && (std::int64_t{1} << (n - 1)) > size) --n;
      return n;
    };
    auto size_at = [&](std::int64_t size, int l) {
      const std::int64_t d = std::int64_t{1} << l;
      return std::max<std::int64_t>(1, td.roundingMode == Imf::ROUND_UP ? (size + d - 1) / d : size / d);
    };
    const std::int64_t w = x1 - x0 + 1, hh = y1 - y0 + 1;
    const int nx = td.mode == Imf::MIPMAP_LEVELS ? count(std::max(w, hh)) : count(w);
    const int ny = td.mode == Imf::MIPMAP_LEVELS ? nx : count(hh);
    if (args.level_x >= nx || args.level_y >= ny) {
      throw ArgumentError(td.mode == Imf::MIPMAP_LEVELS
                              ? fmt::format("level {} is out of range: part {} has mipmap levels 0…{}", args.level_x, part, nx - 1)
                              : fmt::format("level [{}, {}] is out of range: part {} has ripmap levels [0…{}, 0…{}]", args.level_x,
                                            args.level_y, part, nx - 1, ny - 1));
    }
    x1 = x0 + size_at(w, args.level_x) - 1;
    y1 = y0 + size_at(hh, args.level_y) - 1;
  }
  p.level_x = args.level_x;
  p.level_y = args.level_y;
  p.data_x0 = x0, p.data_y0 = y0, p.data_x1 = x1, p.data_y1 = y1;
  if (args.display_window) {
    const Imath::Box2i dsp = h.displayWindow();
    x0 = dsp.min.x, y0 = dsp.min.y, x1 = dsp.max.x, y1 = dsp.max.y;
    if (x1 < x0 || y1 < y0) throw DecodeError(fmt::format("part {} has an empty display window", part));
  }
  p.x0 = x0;
  p.y0 = y0;
  p.shape = {static_cast<std::size_t>(y1 - y0 + 1), static_cast<std::size_t>(x1 - x0 + 1)};
  if (p.channels.size() > 1) p.shape.push_back(p.channels.size());
  return p;
}

namespace {

// Reads the data window [x0…x1] × [y0…y1] of `plan` into `dst`, rows of
// (x1 − x0 + 1) pixels of `row_stride` bytes.
void read_window(Imf::MultiPartInputFile& file, const Plan& plan, std::byte* dst, std::size_t row_stride) {
  const std::size_t elem = itemsize(plan.dtype);
  const std::size_t xstride = elem * plan.channels.size();
  const Imf::PixelType type = pixel_type_of(plan.dtype);
  const Imath::V2i origin(static_cast<int>(plan.data_x0), static_cast<int>(plan.data_y0));
  const std::int64_t w = plan.data_x1 - plan.data_x0 + 1, h = plan.data_y1 - plan.data_y0 + 1;
  Imf::FrameBuffer fb;
  for (std::size_t c = 0; c < plan.channels.size(); ++c) {
    fb.insert(plan.channels[c], Imf::Slice::Make(type, dst + c * elem, origin, w, h, xstride, row_stride));
  }
  const int part = static_cast<int>(plan.part);
  if (plan.tiled) {
    Imf::TiledInputPart in(file, part);
    in.setFrameBuffer(fb);
    in.readTiles(0, in.numXTiles(plan.level_x) - 1, 0, in.numYTiles(plan.level_y) - 1, plan.level_x, plan.level_y);
  } else {
    Imf::InputPart in(file, part);
    in.setFrameBuffer(fb);
    in.readPixels(static_cast<int>(plan.data_y0), static_cast<int>(plan.data_y1));
  }
}

}  // namespace

void ExrFile::decode(const Plan& plan, std::byte* dst, const Request& request) {
  guarded<DecodeError>([&] {
    const std::size_t pixel = itemsize(plan.dtype) * plan.channels.size();
    const std::size_t width = plan.shape[1];
    const std::int64_t x1 = plan.x0 + static_cast<std::int64_t>(width) - 1, y1 = plan.y0 + static_cast<std::int64_t>(plan.shape[0]) - 1;
    const bool inside = plan.data_x0 >= plan.x0 && plan.data_x1 <= x1 && plan.data_y0 >= plan.y0 && plan.data_y1 <= y1;
    if (inside) {
      if (plan.data_x0 != plan.x0 || plan.data_x1 != x1 || plan.data_y0 != plan.y0 || plan.data_y1 != y1) {
        std::memset(dst, 0, pixel * width * plan.shape[0]);  // the display window around the data window
      }
      const std::size_t offset = (static_cast<std::size_t>(plan.data_y0 - plan.y0) * width + static_cast<std::size_t>(plan.data_x0 - plan.x0)) * pixel;
      read_window(*file_, plan, dst + offset, width * pixel);
      return;
    }
    // The data window reaches outside the display window: decoded on its
    // own, the overlap copied.
    const std::size_t dw = static_cast<std::size_t>(plan.data_x1 - plan.data_x0 + 1), dh = static_cast<std::size_t>(plan.data_y1 - plan.data_y0 + 1);
    Shape tmp_shape{dh, dw, plan.channels.size()};
    NDArray tmp = request.allocate(tmp_shape, plan.dtype);
    read_window(*file_, plan, tmp.bytes(), dw * pixel);
    std::memset(dst, 0, pixel * width * plan.shape[0]);
    const std::int64_t ox0 = std::max(plan.x0, plan.data_x0), ox1 = std::min(x1, plan.data_x1);
    const std::int64_t oy0 = std::max(plan.y0, plan.data_y0), oy1 = std::min(y1, plan.data_y1);
    for (std::int64_t y = oy0; y <= oy1 && ox0 <= ox1; ++y) {
      const std::byte* from = tmp.bytes() + (static_cast<std::size_t>(y - plan.data_y0) * dw + static_cast<std::size_t>(ox0 - plan.data_x0)) * pixel;
      std::byte* to = dst + (static_cast<std::size_t>(y - plan.y0) * width + static_cast<std::size_t>(ox0 - plan.x0)) * pixel;
      std::memcpy(to, from, static_cast<std::size_t>(ox1 - ox0 + 1) * pixel);
    }
  });
}

std::string openexr_version() { return std::string("OpenEXR ") + OPENEXR_VERSION_STRING; }

}  // namespace imio::exr
