// The PNG writer. Everything a call asks for is checked before the first
// byte reaches the sink; frames are then encoded one at a time.
#include "png_writer.hpp"

#include <imio/metadata_write.hpp>
#include <imio/write_batch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <array>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "png_chunks.hpp"
#include "png_codec.hpp"
#include "png_quantize.hpp"

namespace imio::png {
namespace {

constexpr std::string_view kPlugin = "libpng";

// One frame as the encoder sees it: a view of a kept frame.
struct FrameView {
  const std::byte* data = nullptr;
  std::size_t height = 0, width = 0;
  int channels = 1;
  DType dtype = DType::uint8;
  bool gray_palette = false;
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

// A scalar or one value per frame. `frames` is the final count only when
// `complete` (a later write call may still add frames).
std::vector<double> numbers(KwargReader& kw, const char* key, std::size_t frames, bool complete) {
  const Value* v = kw.find(key);
  if (v == nullptr) return {};
  std::vector<double> out;
  auto number = [&](const Value& x) {
    if (const auto d = as_number(x)) return *d;
    kw.fail(key, "expects a number or a list of numbers");
  };
  if (const auto* list = as_list(*v)) {
    for (const Value& x : *list) out.push_back(number(x));
    if (complete && out.size() != frames) kw.fail(key, fmt::format("has {} values for {} frames", out.size(), frames));
  } else {
    out.assign(frames, number(*v));
  }
  return out;
}

Options read_options(KwargReader& kw, std::size_t frames, bool complete, const FrameView& first) {
  Options o;
  o.compress_level = kw.get<int>("compress_level");  // plugin.json: 0…9
  if (kw.get<bool>("optimize")) o.compress_level = 9;  // Pillow: optimize means the highest zlib level
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
  o.icc = take_icc_kwarg(kw);
  // EXIF (bytes, or the parsed form built into a block) without the JPEG
  // APP1 prefix, as Pillow writes eXIf; an `orientation` kwarg is written
  // into it (<imio/metadata_write.hpp>'s rule).
  o.exif = take_exif_kwarg(kw);
  reconcile_orientation(o.exif, kw.take<int>("orientation"));
  if (auto text = kw.take<Dict>("text")) {
    for (const auto& [key, value] : *text) {
      const auto* s = value.is<std::string>() ? &value.ref<std::string>() : nullptr;
      if (s == nullptr) kw.fail("text", fmt::format("value of '{}' is not a string", key));
      if (key.empty() || key.size() > 79) kw.fail("text", fmt::format("keyword '{}' must have 1…79 characters", key));
      o.text.push_back(TextChunk{key, *s, !is_latin1(*s)});
    }
  }
  if (auto xmp = take_xmp_kwarg(kw)) {
    // XMP Part 3 §1.1.4: an iTXt chunk, keyword "XML:com.adobe.xmp",
    // uncompressed; iTXt holds UTF-8, so a UTF-16 packet is transcoded.
    constexpr std::string_view kXmpKey = "XML:com.adobe.xmp";
    Bytes utf8;
    try {
      utf8 = xmp_as_utf8(*xmp);
    } catch (const ArgumentError& e) {
      kw.fail("xmp", e.reason());
    }
    const std::string packet(reinterpret_cast<const char*>(utf8.data()), utf8.size());
    if (packet.find('\0') != std::string::npos) {
      kw.fail("xmp", "holds a NUL byte: PNG's iTXt holds UTF-8 text");
    }
    for (const TextChunk& t : o.text) {
      if (t.key == kXmpKey) kw.fail("xmp", "is given twice: as `xmp` and as `text`'s \"XML:com.adobe.xmp\"");
    }
    o.text.push_back(TextChunk{std::string(kXmpKey), packet, true});
  }
  if (auto iptc = take_iptc_kwarg(kw)) {
    // PNG defines no chunk for IPTC; ImageMagick's "Raw profile type iptc"
    // text (a newline, the profile name, the length in 8 columns, then the
    // bytes in hex, 36 a line) is the convention exiftool reads and writes.
    constexpr std::string_view kIptcKey = "Raw profile type iptc";
    std::string text = fmt::format("\niptc\n{:8d}", iptc->size());
    for (std::size_t i = 0; i < iptc->size(); ++i) {
      if (i % 36 == 0) text += '\n';
      text += fmt::format("{:02x}", std::to_integer<unsigned>((*iptc)[i]));
    }
    text += '\n';
    for (const TextChunk& t : o.text) {
      if (t.key == kIptcKey) kw.fail("iptc", "is given twice: as `iptc` and as `text`'s \"Raw profile type iptc\"");
    }
    o.text.push_back(TextChunk{std::string(kIptcKey), std::move(text), false});
  }
  if (const auto bits = kw.take<std::int64_t>("bits")) {  // plugin.json: 1…8
    // Pillow's Image.quantize takes L, RGB and RGBA ("image has wrong mode" otherwise).
    if (first.dtype != DType::uint8 || first.channels == 2) {
      kw.fail("bits", "quantizes uint8 gray (H, W), RGB (H, W, 3) and RGBA (H, W, 4) images only");
    }
    o.bits = static_cast<int>(*bits);
  }
  if (const Value* t = kw.find("transparency")) {
    const bool paletted = o.bits || first.gray_palette;
    std::vector<std::uint16_t> v;
    const std::int64_t top = first.dtype == DType::uint16 && !paletted ? 65535 : 255;
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
    // A palette image takes the transparent index; gray a value; RGB a colour.
    const std::size_t want = paletted ? 1 : first.channels == 1 ? 1 : first.channels == 3 ? 3 : 0;
    if (want == 0 || v.size() != want || (first.dtype == DType::bool_ && !paletted)) {
      kw.fail("transparency",
              "is a palette index for palette images, a gray value for gray images or an (r, g, b) triple for RGB images");
    }
    o.transparency = std::move(v);
  }
  o.duration = numbers(kw, "duration", frames, complete);
  for (const double d : o.duration) {
    if (!(d >= 0) || std::round(d) > 65535) kw.fail("duration", "must be 0…65535 milliseconds");
  }
  const auto ops = [&](const char* key, int top) {
    std::vector<int> out;
    for (const double d : numbers(kw, key, frames, complete)) {
      if (d != std::floor(d) || d < 0 || d > top) kw.fail(key, fmt::format("must be an integer 0…{}", top));
      out.push_back(static_cast<int>(d));
    }
    return out;
  };
  o.disposal = ops("disposal", 2);
  o.blend = ops("blend", 1);
  o.loop = kw.get<std::uint32_t>("loop");  // plugin.json: 0…2^31-1
  return o;
}

// The palette of a palette PNG: `bits` (Pillow's quantize, spec §5.1.6) or
// mode="P" (indices into Pillow's default gray-ramp palette).
struct Paletted {
  std::vector<std::uint8_t> indices, palette;  // indices: all frames, one after the other
  std::vector<std::uint16_t> alphas;
  int bit_depth = 8;
};

// Every frame shares one palette: an APNG has one PLTE. (Pillow quantizes
// each frame on its own and then writes every frame's indices against the
// first frame's palette.)
Paletted to_palette(std::span<const FrameView> frames, const Options& o) {
  Paletted p;
  const FrameView& f0 = frames.front();
  const std::size_t n = f0.height * f0.width;
  int colors = 256;
  if (o.bits) {
    colors = 1 << *o.bits;
    std::vector<std::uint8_t> joined;
    const auto* data = reinterpret_cast<const std::uint8_t*>(f0.data);
    const std::size_t frame_bytes = n * static_cast<std::size_t>(f0.channels);
    if (frames.size() > 1) {
      joined.reserve(frame_bytes * frames.size());
      for (const FrameView& f : frames) {
        const auto* d = reinterpret_cast<const std::uint8_t*>(f.data);
        joined.insert(joined.end(), d, d + frame_bytes);
      }
      data = joined.data();
    }
    Quantized q = median_cut(data, n * frames.size(), f0.channels, colors);
    p.indices = std::move(q.indices);
    p.palette = std::move(q.palette);
    p.alphas.assign(q.alpha.begin(), q.alpha.end());
  } else {
    for (const FrameView& f : frames) {
      const auto* d = reinterpret_cast<const std::uint8_t*>(f.data);
      p.indices.insert(p.indices.end(), d, d + n);
    }
    for (int i = 0; i < 256; ++i) p.palette.insert(p.palette.end(), 3, static_cast<std::uint8_t>(i));
  }
  // Pillow writes 2**bits PLTE entries (zero-padded) at the smallest depth holding them.
  p.palette.resize(static_cast<std::size_t>(colors) * 3, 0);
  p.bit_depth = colors <= 2 ? 1 : colors <= 4 ? 2 : colors <= 16 ? 4 : 8;
  if (o.transparency) {
    // Pillow: transparency=i on a palette image → entries 0…i−1 opaque, i clear.
    p.alphas.assign((*o.transparency)[0], 255);
    p.alphas.push_back(0);
    if (p.alphas.size() > static_cast<std::size_t>(colors)) p.alphas.resize(static_cast<std::size_t>(colors));
  } else if (std::all_of(p.alphas.begin(), p.alphas.end(), [](std::uint16_t a) { return a == 255; })) {
    p.alphas.clear();
  }
  return p;
}

class Encoder {
 public:
  Encoder(Request& request, const Options& o) : request_(request), o_(o) {}

  EncodeJob job(const FrameView& f, const Paletted* pal, std::size_t k, bool with_chunks) const {
    EncodeJob j;
    j.width = static_cast<std::uint32_t>(f.width);
    j.height = static_cast<std::uint32_t>(f.height);
    j.compress_level = o_.compress_level;
    if (pal != nullptr) {
      j.color_type = 3;
      j.bit_depth = pal->bit_depth;
      j.pixels = reinterpret_cast<const std::byte*>(pal->indices.data() + k * f.width * f.height);
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

  void still(const FrameView& f, const Paletted* pal) {
    ByteSink& sink = request_.sink();
    encode(job(f, pal, 0, true), [&](const std::byte* p, std::size_t n) { sink.write(p, n); });
  }

  // APNG 1.0: acTL before IDAT, fcTL per frame, frame 0 in IDAT, the rest
  // in fdAT; every frame covers the canvas (Pillow crops frames to the
  // area that changed and merges identical frames; imio keeps each frame
  // whole, so the frames and their count read back as written).
  void animation(std::span<const FrameView> frames, const Paletted* pal) {
    std::uint32_t seq = 0;
    Bytes first;
    EncodeJob j0 = job(frames[0], pal, 0, true);
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
      encode(job(frames[k], pal, k, false), [&](const std::byte* p, std::size_t n) { encoded.insert(encoded.end(), p, p + n); });
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

bool single_band(const std::string& mode) { return mode == "1" || mode == "L" || mode == "P" || mode == "I;16"; }

// spec §5.1.6: the channel-last layouts one PNG frame can hold. With
// `mode`, the array must already be in that mode: imageio hands the bytes
// to Pillow as they are, so another layout would come out as garbage.
FrameView frame_of(const NDArray& a, std::size_t index, bool batch, const std::optional<std::string>& mode) {
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
  if (mode) {
    static constexpr const char* kModes[] = {"", "L", "LA", "RGB", "RGBA"};
    const std::string natural = a.dtype() == DType::bool_                          ? "1"
                                : a.dtype() == DType::uint16 && f.channels == 1 ? "I;16"
                                                                                   : kModes[f.channels];
    f.gray_palette = *mode == "P" && natural == "L";
    if (*mode != natural && !f.gray_palette) {
      throw ArgumentError(fmt::format("mode '{}' does not describe a {} array of shape ({}) (it is mode '{}'); imio does "
                                      "not convert on write",
                                      *mode, name(a.dtype()), fmt::join(Shape(s.begin() + static_cast<std::ptrdiff_t>(lead), s.end()), ", "),
                                      natural));
    }
  }
  const std::size_t frame_bytes = f.height * f.width * static_cast<std::size_t>(f.channels) * itemsize(a.dtype());
  f.data = a.bytes() + index * frame_bytes;
  return f;
}

bool same_layout(const FrameView& a, const FrameView& b) {
  return a.height == b.height && a.width == b.width && a.channels == b.channels && a.dtype == b.dtype &&
         a.gray_palette == b.gray_palette;
}

// Later calls override earlier ones, key by key.
Kwargs merged(const Kwargs& before, const Kwargs& now) {
  Kwargs out = before;
  for (const auto& given : now) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == given.first; });
    if (it == out.end()) {
      out.push_back(given);
    } else {
      it->second = given.second;
    }
  }
  return out;
}

Options parse(const Kwargs& kwargs, std::size_t frames, bool complete, const FrameView& first) {
  KwargReader kw(kwargs, kPlugin, "write");
  kw.find("is_batch");
  kw.find("mode");
  Options o = read_options(kw, frames, complete, first);
  kw.finish();
  return o;
}

}  // namespace

void PendingPng::add(std::span<const NDArray> images, bool list, const Kwargs& kwargs, const Request& request) {
  // is_batch and mode describe this call's arrays; the rest are encoder options.
  KwargReader call(kwargs, kPlugin, "write");
  const auto is_batch = call.take<bool>("is_batch");
  const auto mode = call.take<std::string>("mode");
  Kwargs options;
  for (const auto& kv : kwargs) {
    if (kv.first != "is_batch" && kv.first != "mode") options.push_back(kv);
  }
  std::vector<FrameView> frames;
  for (const NDArray& a : images) {
    if (a.bytes() == nullptr && a.size() != 0) throw ArgumentError("cannot write an empty NDArray");
    if (a.ndim() < 2) throw ArgumentError(fmt::format("cannot write a {}-D array as PNG", a.ndim()));
    const bool b = pillow_write_is_batch(a, list, is_batch, mode ? std::optional<bool>(single_band(*mode)) : std::nullopt);
    const std::size_t n = b ? a.shape()[0] : 1;
    for (std::size_t k = 0; k < n; ++k) frames.push_back(frame_of(a, k, b, mode));
  }
  if (frames.empty()) throw ArgumentError("no frames to write");
  const FrameView first = frames_.empty() ? frames[0] : FrameView{nullptr, frames_[0].height, frames_[0].width,
                                                                  frames_[0].channels, frames_[0].dtype, frames_[0].gray_palette};
  for (const FrameView& f : frames) {
    if (!same_layout(f, first)) {
      throw ArgumentError(fmt::format("the frames of an APNG share one shape and dtype: a {}x{}x{} {} frame after {}x{}x{} {}",
                                      f.height, f.width, f.channels, name(f.dtype), first.height, first.width,
                                      first.channels, name(first.dtype)));
    }
  }
  const std::size_t total = frames_.size() + frames.size();
  request.check_frames(total);
  Kwargs all = merged(merged_, options);
  parse(all, total, false, first);  // complete checks; per-frame list lengths wait for flush()
  for (const FrameView& f : frames) {
    Frame kept{Bytes(f.height * f.width * static_cast<std::size_t>(f.channels) * itemsize(f.dtype)), f.height, f.width,
               f.channels, f.dtype, f.gray_palette};
    std::memcpy(kept.pixels.data(), f.data, kept.pixels.size());
    frames_.push_back(std::move(kept));
  }
  merged_ = std::move(all);
}

void PendingPng::flush(Request& request) {
  if (frames_.empty()) return;
  std::vector<FrameView> views;
  for (const Frame& f : frames_) views.push_back({f.pixels.data(), f.height, f.width, f.channels, f.dtype, f.gray_palette});
  const Options o = parse(merged_, views.size(), true, views[0]);
  std::optional<Paletted> pal;
  if (o.bits || views[0].gray_palette) pal = to_palette(views, o);
  Encoder enc(request, o);
  if (views.size() == 1) {
    enc.still(views[0], pal ? &*pal : nullptr);
  } else {
    enc.animation(views, pal ? &*pal : nullptr);
  }
  frames_.clear();
}

}  // namespace imio::png
