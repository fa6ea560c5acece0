// The PNG writer. Everything a call asks for is checked before the first
// byte reaches the sink; frames are then encoded one at a time.
#include "png_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "png_chunks.hpp"
#include "png_codec.hpp"

namespace imio::png {
namespace {

constexpr std::string_view kPlugin = "libpng";

// One frame as the encoder sees it: a view of the caller's array.
struct FrameView {
  const std::byte* data = nullptr;
  std::size_t height = 0, width = 0;
  int channels = 1;
  DType dtype = DType::uint8;
};

struct Options {
  int compress_level = 6;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> phys;
  std::optional<Bytes> icc, exif;
  std::vector<TextChunk> text;
  std::optional<std::vector<std::uint16_t>> transparency;
  std::optional<int> bits;
  std::vector<double> duration;
  std::vector<int> disposal, blend;
  std::uint32_t loop = 0;
};

int color_type_of(int channels) {
  switch (channels) {
    case 2: return 4;
    case 3: return 2;
    case 4: return 6;
    default: return 0;
  }
}

std::optional<double> as_number(const Value& x) {
  if (x.is<std::int64_t>()) return static_cast<double>(x.ref<std::int64_t>());
  if (x.is<double>()) return x.ref<double>();
  return std::nullopt;
}
const Value::List* as_list(const Value& v) { return v.is<Value::List>() ? &v.ref<Value::List>() : nullptr; }

bool is_latin1(const std::string& s) {
  // tEXt holds Latin-1; ASCII-only text qualifies, anything else goes to iTXt.
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::vector<double> numbers(KwargReader& kw, const char* key, std::size_t frames) {
  const Value* v = kw.find(key);
  if (v == nullptr) return {};
  std::vector<double> out;
  auto number = [&](const Value& x) {
    if (const auto d = as_number(x)) return *d;
    kw.fail(key, "expects a number or a list of numbers");
  };
  if (const auto* list = as_list(*v)) {
    for (const Value& x : *list) out.push_back(number(x));
    if (out.size() != frames) kw.fail(key, fmt::format("has {} values for {} frames", out.size(), frames));
  } else {
    out.assign(frames, number(*v));
  }
  return out;
}

Options read_options(KwargReader& kw, std::size_t frames, const FrameView& first) {
  Options o;
  o.compress_level = static_cast<int>(kw.take<std::int64_t>("compress_level", 6));
  if (o.compress_level < 0 || o.compress_level > 9) kw.fail("compress_level", "must be 0…9");
  if (kw.take<bool>("optimize", false)) o.compress_level = 9;  // Pillow: optimize means the highest zlib level
  if (const Value* dpi = kw.find("dpi")) {
    const auto* list = as_list(*dpi);
    if (list == nullptr || list->size() != 2) kw.fail("dpi", "expects a pair (x, y) of dots per inch");
    std::uint32_t ppm[2];
    for (int i = 0; i < 2; ++i) {
      const Value& x = (*list)[static_cast<std::size_t>(i)];
      const double d = as_number(x).value_or(-1);
      if (!(d > 0) || d > 1e8) kw.fail("dpi", "expects positive numbers");
      ppm[i] = static_cast<std::uint32_t>(d / 0.0254 + 0.5);  // Pillow: int(dpi / 0.0254 + 0.5)
    }
    o.phys = std::pair{ppm[0], ppm[1]};
  }
  o.icc = kw.take<Bytes>("icc_profile");
  if (auto exif = kw.take<Bytes>("exif")) {
    // Pillow strips the JPEG APP1 prefix before writing eXIf.
    if (exif->size() >= 6 && std::memcmp(exif->data(), "Exif\0\0", 6) == 0) exif->erase(exif->begin(), exif->begin() + 6);
    o.exif = std::move(*exif);
  }
  if (auto text = kw.take<Dict>("text")) {
    for (const auto& [key, value] : *text) {
      const auto* s = value.is<std::string>() ? &value.ref<std::string>() : nullptr;
      if (s == nullptr) kw.fail("text", fmt::format("value of '{}' is not a string", key));
      if (key.empty() || key.size() > 79) kw.fail("text", fmt::format("keyword '{}' must have 1…79 characters", key));
      o.text.push_back(TextChunk{key, *s, !is_latin1(*s)});
    }
  }
  if (const Value* t = kw.find("transparency")) {
    std::vector<std::uint16_t> v;
    const std::uint32_t top = first.dtype == DType::uint16 ? 65535 : 255;
    auto one = [&](const Value& x) {
      const auto i = x.is<std::int64_t>() ? std::optional(x.ref<std::int64_t>()) : std::nullopt;
      if (!i || *i < 0 || *i > top) kw.fail("transparency", fmt::format("expects integers 0…{}", top));
      v.push_back(static_cast<std::uint16_t>(*i));
    };
    if (const auto* list = as_list(*t)) {
      for (const Value& x : *list) one(x);
    } else {
      one(*t);
    }
    const std::size_t want = first.channels == 1 ? 1 : first.channels == 3 ? 3 : 0;
    if (want == 0 || v.size() != want || first.dtype == DType::bool_) {
      kw.fail("transparency", "is a gray value for gray images or an (r, g, b) triple for RGB images");
    }
    o.transparency = std::move(v);
  }
  if (const auto bits = kw.take<std::int64_t>("bits")) {
    if (*bits < 1 || *bits > 8) kw.fail("bits", "must be 1…8");
    if (first.dtype != DType::uint8) kw.fail("bits", "quantizes uint8 images only");
    o.bits = static_cast<int>(*bits);
  }
  o.duration = numbers(kw, "duration", frames);
  for (const double d : o.duration) {
    if (!(d >= 0) || std::round(d) > 65535) kw.fail("duration", "must be 0…65535 milliseconds");
  }
  const auto ops = [&](const char* key, int top) {
    std::vector<int> out;
    for (const double d : numbers(kw, key, frames)) {
      if (d != std::floor(d) || d < 0 || d > top) kw.fail(key, fmt::format("must be an integer 0…{}", top));
      out.push_back(static_cast<int>(d));
    }
    return out;
  };
  o.disposal = ops("disposal", 2);
  o.blend = ops("blend", 1);
  const auto loop = kw.take<std::int64_t>("loop", 0);
  if (loop < 0 || loop > 0x7fffffff) kw.fail("loop", "must be 0 (forever) or a positive count");
  o.loop = static_cast<std::uint32_t>(loop);
  return o;
}

// bits=n: a palette image with the image's colours, when at most 2**n.
// Lossy quantization (Pillow's median cut) is not implemented.
struct Paletted {
  std::vector<std::uint8_t> indices, palette;
  std::vector<std::uint16_t> alphas;
  int bit_depth = 8;
};

Paletted to_palette(const FrameView& f, int bits) {
  Paletted p;
  std::map<std::uint32_t, std::uint8_t> seen;
  const std::size_t n = f.height * f.width, limit = std::size_t{1} << bits;
  p.indices.resize(n);
  const auto* s = reinterpret_cast<const std::uint8_t*>(f.data);
  bool any_alpha = false;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t r, g, b, a = 255;
    switch (f.channels) {
      case 1: r = g = b = s[i]; break;
      case 2: r = g = b = s[2 * i]; a = s[2 * i + 1]; break;
      case 3: r = s[3 * i]; g = s[3 * i + 1]; b = s[3 * i + 2]; break;
      default: r = s[4 * i]; g = s[4 * i + 1]; b = s[4 * i + 2]; a = s[4 * i + 3];
    }
    const std::uint32_t key = (std::uint32_t{r} << 24) | (std::uint32_t{g} << 16) | (std::uint32_t{b} << 8) | a;
    auto it = seen.find(key);
    if (it == seen.end()) {
      if (seen.size() == limit) {
        throw ArgumentError(fmt::format("bits={}: the image has more than {} colours; lossy quantization is not "
                                        "implemented by the libpng plugin",
                                        bits, limit));
      }
      it = seen.emplace(key, static_cast<std::uint8_t>(seen.size())).first;
      p.palette.insert(p.palette.end(), {r, g, b});
      p.alphas.push_back(a);
      any_alpha = any_alpha || a != 255;
    }
    p.indices[i] = it->second;
  }
  if (!any_alpha) p.alphas.clear();
  // Pillow: 2**bits colours → the smallest PNG depth that holds them.
  p.bit_depth = limit <= 2 ? 1 : limit <= 4 ? 2 : limit <= 16 ? 4 : 8;
  return p;
}

class Encoder {
 public:
  Encoder(Request& request, const Options& o) : request_(request), o_(o) {}

  EncodeJob job(const FrameView& f, Paletted* pal, bool with_chunks) const {
    EncodeJob j;
    j.width = static_cast<std::uint32_t>(f.width);
    j.height = static_cast<std::uint32_t>(f.height);
    j.compress_level = o_.compress_level;
    if (pal != nullptr) {
      j.color_type = 3;
      j.bit_depth = pal->bit_depth;
      j.pixels = reinterpret_cast<const std::byte*>(pal->indices.data());
      j.row_bytes = f.width;
      j.palette = pal->palette;
      if (!pal->alphas.empty()) j.trns = pal->alphas;
    } else {
      j.color_type = color_type_of(f.channels);
      j.bit_depth = f.dtype == DType::bool_ ? 1 : f.dtype == DType::uint16 ? 16 : 8;
      j.pixels = f.data;
      j.row_bytes = f.width * static_cast<std::size_t>(f.channels) * itemsize(f.dtype);
      if (with_chunks) j.trns = o_.transparency;
    }
    if (with_chunks) {
      j.phys_per_meter = o_.phys;
      j.icc_profile = o_.icc;
      j.exif = o_.exif;
      j.text = o_.text;
    }
    return j;
  }

  void still(const FrameView& f) {
    std::optional<Paletted> pal;
    if (o_.bits) pal = to_palette(f, *o_.bits);
    ByteSink& sink = request_.sink();
    encode(job(f, pal ? &*pal : nullptr, true), [&](const std::byte* p, std::size_t n) { sink.write(p, n); });
  }

  // APNG 1.0: acTL before IDAT, fcTL per frame, frame 0 in IDAT, the rest
  // in fdAT; every frame covers the canvas (no cropping to changed areas).
  void animation(std::span<const FrameView> frames) {
    std::vector<Paletted> pals;
    if (o_.bits) {
      for (const FrameView& f : frames) pals.push_back(to_palette(f, *o_.bits));
      // Frames share the first frame's PLTE: the others must index into it.
      for (std::size_t k = 1; k < pals.size(); ++k) remap(pals[0], pals[k]);
    }
    std::uint32_t seq = 0;
    Bytes first;
    EncodeJob j0 = job(frames[0], pals.empty() ? nullptr : &pals[0], true);
    j0.before_idat = [&] {
      std::byte actl[8];
      put_be32(actl, static_cast<std::uint32_t>(frames.size()));
      put_be32(actl + 4, o_.loop);
      append_chunk(first, tag("acTL"), actl);
      append_chunk(first, tag("fcTL"), fctl(seq++, frames[0], 0));
    };
    encode(j0, [&](const std::byte* p, std::size_t n) { first.insert(first.end(), p, p + n); });
    // libpng ended the stream with IEND (12 bytes): the frames go before it.
    ByteSink& sink = request_.sink();
    sink.write(first.data(), first.size() - 12);
    first = Bytes();
    for (std::size_t k = 1; k < frames.size(); ++k) {
      Bytes frame;
      append_chunk(frame, tag("fcTL"), fctl(seq++, frames[k], k));
      Bytes encoded;
      encode(job(frames[k], pals.empty() ? nullptr : &pals[k], false),
             [&](const std::byte* p, std::size_t n) { encoded.insert(encoded.end(), p, p + n); });
      for (std::size_t pos = 8; pos + 12 <= encoded.size();) {
        const std::uint32_t len = be32(encoded.data() + pos), type = be32(encoded.data() + pos + 4);
        if (type == tag("IDAT")) {
          Bytes data(4 + std::size_t{len});
          put_be32(data.data(), seq++);
          std::memcpy(data.data() + 4, encoded.data() + pos + 8, len);
          append_chunk(frame, tag("fdAT"), data);
        }
        pos += 12 + std::size_t{len};
      }
      sink.write(frame.data(), frame.size());
    }
    Bytes iend;
    append_chunk(iend, tag("IEND"), {});
    sink.write(iend.data(), iend.size());
  }

 private:
  static void remap(const Paletted& base, Paletted& p) {
    std::vector<std::uint8_t> map(p.palette.size() / 3);
    for (std::size_t i = 0; i < map.size(); ++i) {
      bool found = false;
      for (std::size_t b = 0; b < base.palette.size() / 3 && !found; ++b) {
        const std::uint16_t ab = base.alphas.empty() ? 255 : base.alphas[b], ap = p.alphas.empty() ? 255 : p.alphas[i];
        if (std::memcmp(&base.palette[3 * b], &p.palette[3 * i], 3) == 0 && ab == ap) {
          map[i] = static_cast<std::uint8_t>(b);
          found = true;
        }
      }
      if (!found) throw ArgumentError("bits=: the frames of an APNG use colours the first frame's palette does not hold");
    }
    for (auto& v : p.indices) v = map[v];
    p.palette = base.palette;
    p.alphas = base.alphas;
    p.bit_depth = base.bit_depth;
  }

  std::array<std::byte, 26> fctl(std::uint32_t seq, const FrameView& f, std::size_t k) const {
    std::array<std::byte, 26> d{};
    put_be32(d.data(), seq);
    put_be32(d.data() + 4, static_cast<std::uint32_t>(f.width));
    put_be32(d.data() + 8, static_cast<std::uint32_t>(f.height));
    // x, y offsets 0
    put_be16(d.data() + 20, static_cast<std::uint16_t>(o_.duration.empty() ? 0 : std::lround(o_.duration[k])));
    put_be16(d.data() + 22, 1000);  // delays in milliseconds, as Pillow writes them
    d[24] = static_cast<std::byte>(o_.disposal.empty() ? 0 : o_.disposal[k]);
    d[25] = static_cast<std::byte>(o_.blend.empty() ? 0 : o_.blend[k]);
    return d;
  }

  Request& request_;
  const Options& o_;
};

// spec §5.1.6: the channel-last layouts one PNG frame can hold.
FrameView frame_of(const NDArray& a, std::size_t index, bool batch) {
  const Shape& s = a.shape();
  const std::size_t lead = batch ? 1 : 0;
  const std::size_t nd = s.size() - lead;
  FrameView f;
  f.dtype = a.dtype();
  if (nd == 2) {
    f.channels = 1;
  } else if (nd == 3 && s[lead + 2] >= 2 && s[lead + 2] <= 4) {
    f.channels = static_cast<int>(s[lead + 2]);
  } else if (nd == 3 && s[lead + 2] == 1) {
    throw ArgumentError("cannot write an image with a single explicit colour channel (H, W, 1): pass (H, W)");
  } else {
    throw ArgumentError(fmt::format("cannot write shape ({}) as PNG: frames are (H, W), (H, W, 2), (H, W, 3) or (H, W, 4)",
                                    fmt::join(s, ", ")));
  }
  f.height = s[lead];
  f.width = s[lead + 1];
  if (f.height == 0 || f.width == 0 || f.height > 0x7fffffff || f.width > 0x7fffffff) {
    throw ArgumentError(fmt::format("cannot write a {}x{} image as PNG", f.width, f.height));
  }
  if (a.dtype() != DType::uint8 && a.dtype() != DType::uint16 && a.dtype() != DType::bool_) {
    throw ArgumentError(fmt::format("cannot write dtype {} as PNG (bool, uint8 or uint16)", name(a.dtype())));
  }
  if (a.dtype() == DType::bool_ && f.channels != 1) throw ArgumentError("bool images are written as 1-bit gray: shape (H, W)");
  const std::size_t frame_bytes = f.height * f.width * static_cast<std::size_t>(f.channels) * itemsize(a.dtype());
  f.data = a.bytes() + index * frame_bytes;
  return f;
}

}  // namespace

void write_png(Request& request, std::span<const NDArray> images, bool batch, const Kwargs& kwargs) {
  KwargReader kw(kwargs, kPlugin, "write");
  const auto is_batch = kw.take<bool>("is_batch");
  std::vector<FrameView> frames;
  std::vector<NDArray> canon;  // bool arrays with values other than 0/1
  for (const NDArray& a : images) {
    if (a.bytes() == nullptr && a.size() != 0) throw ArgumentError("cannot write an empty NDArray");
    if (a.ndim() < 2) throw ArgumentError(fmt::format("cannot write a {}-D array as PNG", a.ndim()));
    // spec §5.1.6 batch detection: (N,H,W,C); (N,H,W) when W is no channel count.
    bool b = batch;
    if (!batch) {
      if (is_batch) {
        b = *is_batch;
      } else {
        b = a.ndim() == 4 || (a.ndim() == 3 && a.shape()[2] > 4);
      }
    }
    const std::size_t n = b ? a.shape()[0] : 1;
    for (std::size_t k = 0; k < n; ++k) frames.push_back(frame_of(a, k, b));
  }
  if (frames.empty()) throw ArgumentError("no frames to write");
  for (const FrameView& f : frames) {
    if (f.height != frames[0].height || f.width != frames[0].width || f.channels != frames[0].channels ||
        f.dtype != frames[0].dtype) {
      throw ArgumentError("the frames of an APNG must share shape and dtype");
    }
  }
  const Options o = read_options(kw, frames.size(), frames[0]);
  kw.finish();
  Encoder enc(request, o);
  if (frames.size() == 1) {
    enc.still(frames[0]);
  } else {
    enc.animation(frames);
  }
}

}  // namespace imio::png
