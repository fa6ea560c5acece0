// Writing the still formats (still_formats.hpp; DECISIONS D8, D23; issue
// #18): an (H,W[,C]) image of bool, uint8, uint16, float16 or float32 goes
// into the encoder pixel format that holds every channel, the alpha and
// the precision it was given; where no encoder of the format can, an
// ArgumentError says what would be lost and which formats keep it. Samples
// are written component by component (av_write_image_line2), so nothing
// is rounded on the way to the encoder.
#include <imio/plugin.hpp>
#include <imio/registry.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavcodec/version.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

#include "av_io.hpp"
#include "ffmpeg_plugins.hpp"
#include "pixel_layout.hpp"
#include "still_formats.hpp"

namespace imio::ffmpeg {
namespace {

// What one image holds.
struct Sample {
  int channels = 1;        // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  DType dtype = DType::uint8;
  bool color() const { return channels >= 3; }
  bool alpha() const { return channels == 2 || channels == 4; }
  int bits() const {
    switch (dtype) {
      case DType::bool_: return 1;
      case DType::uint16: return 16;
      case DType::float16: return 11;  // significant bits
      case DType::float32: return 24;
      default: return 8;
    }
  }
  bool floating() const { return dtype == DType::float16 || dtype == DType::float32; }
};

std::string sample_text(const Sample& s) {
  static constexpr const char* kLayouts[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
  return fmt::format("{} {}", kLayouts[s.channels], name(s.dtype));
}

// What an encoder pixel format stores, for the still format `row`.
struct Storage {
  bool usable = false;  // gray, mono or RGB (not YUV, not a palette)
  bool mono = false, color = false, alpha = false, floating = false;
  int bits = 0;  // integer depth, or the float's significant bits
};

Storage storage_of(AVPixelFormat f, const StillFormat& row) {
  Storage s;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  if (d == nullptr || (d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BAYER)) != 0) return s;
  const bool rgb = (d->flags & AV_PIX_FMT_FLAG_RGB) != 0;
  if (!rgb && d->nb_components > 2) return s;  // YUV, XYZ: not the samples given
  if (d->log2_chroma_w != 0 || d->log2_chroma_h != 0) return s;
  s.usable = true;
  s.color = rgb;
  s.mono = (d->flags & AV_PIX_FMT_FLAG_BITSTREAM) != 0 && d->nb_components == 1;
  s.alpha = (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0 && row.keeps_alpha;
  s.floating = (d->flags & AV_PIX_FMT_FLAG_FLOAT) != 0;
  if (s.floating) {
    s.bits = row.floats == FloatStorage::half ? 11 : 24;
  } else {
    s.bits = 64;
    for (int c = 0; c < d->nb_components; ++c) s.bits = std::min(s.bits, d->comp[c].depth);
  }
  return s;
}

// What writing `in` as `st` would lose: empty when nothing.
std::vector<std::string> losses(const Sample& in, const Storage& st) {
  std::vector<std::string> out;
  if (!st.usable) return {"its samples (the format is YUV or a palette)"};
  if (in.color() && !st.color) out.push_back("its colour (stored as gray)");
  if (in.alpha() && !st.alpha) out.push_back("its alpha channel");
  if (st.mono && in.dtype != DType::bool_) {
    out.push_back(fmt::format("its {}-bit precision (stored as 1 bit)", in.bits()));
  } else if (in.floating() && !st.floating) {
    out.push_back(fmt::format("its {} samples (stored as {}-bit integers)", name(in.dtype), st.bits));
  } else if (in.floating() && st.bits < in.bits()) {
    out.push_back(fmt::format("its {} precision (stored as half floats)", name(in.dtype)));
  } else if (!in.floating() && st.bits < in.bits()) {
    out.push_back(fmt::format("its {}-bit precision (stored with {} bits)", in.bits(), st.bits));
  }
  return out;
}

// How far a holding storage is from the input (lower is closer): channels
// added first, then a change of sample type, then unneeded bits.
int distance(const Sample& in, const Storage& st) {
  int d = 0;
  if (!in.color() && st.color) d += 1000;
  if (!in.alpha() && st.alpha) d += 100;
  const bool same_type = in.dtype == DType::bool_ ? st.mono : in.floating() == st.floating;
  if (!same_type) d += 50;
  d += std::max(0, st.bits - in.bits());
  return d;
}

struct Choice {
  const AVCodec* encoder = nullptr;
  AVPixelFormat format = AV_PIX_FMT_NONE;
};

const AVCodec* encoder_named(std::string_view name) {
  return avcodec_find_encoder_by_name(std::string(name).c_str());
}

// The encoders of `row` that this FFmpeg has, preferred first.
std::vector<const AVCodec*> encoders_of(const StillFormat& row) {
  std::vector<const AVCodec*> out;
  std::string_view list = row.encoders;
  while (!list.empty()) {
    const auto space = list.find(' ');
    if (const AVCodec* c = encoder_named(list.substr(0, space))) out.push_back(c);
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return out;
}

// The closest (encoder, pixel format) of `row` that holds `in`; with the
// losses of the least lossy one when none does.
std::optional<Choice> choose(const StillFormat& row, const std::vector<const AVCodec*>& encoders, const Sample& in,
                             std::vector<std::string>* why = nullptr) {
  std::optional<Choice> best;
  int best_distance = 0;
  std::optional<std::vector<std::string>> fewest;
  for (const AVCodec* codec : encoders) {
    const AVPixelFormat* formats = supported_pixel_formats(codec);
    if (formats == nullptr) continue;
    for (const AVPixelFormat* f = formats; *f != AV_PIX_FMT_NONE; ++f) {
      if (!row.pixel_formats.empty() && !list_has(row.pixel_formats, av_get_pix_fmt_name(*f))) continue;
      const Storage st = storage_of(*f, row);
      std::vector<std::string> lost = losses(in, st);
      if (lost.empty()) {
        const int d = distance(in, st);
        if (!best || d < best_distance) best = Choice{codec, *f}, best_distance = d;
      } else if (!fewest || lost.size() < fewest->size()) {
        fewest = std::move(lost);
      }
    }
  }
  if (!best && why != nullptr && fewest) *why = std::move(*fewest);
  return best;
}

// Other formats that keep `in`: the still formats FFmpeg writes, and the
// formats of the other plugins built into imio that do.
std::string keepers(const Sample& in) {
  std::vector<std::string> out;
  if (has_plugin("libpng") && !in.floating()) out.emplace_back(".png");
  if (has_plugin("libtiff")) out.emplace_back(".tif");
  for (const StillFormat& row : kStillFormats) {
    if (row.encoders.empty() || row.several || !row.lossless) continue;
    const auto encoders = encoders_of(row);
    if (!choose(row, encoders, in)) continue;
    const std::string_view ext = row.extensions.substr(0, row.extensions.find(' '));
    if (std::find(out.begin(), out.end(), ext) == out.end()) out.emplace_back(ext);
  }
  std::string text;
  for (const auto& e : out) text += (text.empty() ? "" : ", ") + e;
  return text.empty() ? "none that imio writes" : text;
}

Sample sample_of(const NDArray& image) {
  Sample s;
  s.dtype = image.dtype();
  const bool ok_dtype = s.dtype == DType::bool_ || s.dtype == DType::uint8 || s.dtype == DType::uint16 ||
                        s.dtype == DType::float16 || s.dtype == DType::float32;
  const auto shape_text = [&] {
    std::string t = "(";
    for (std::size_t i = 0; i < image.ndim(); ++i) t += (i ? ", " : "") + std::to_string(image.shape()[i]);
    return t + (image.ndim() == 1 ? ",)" : ")");
  };
  if (!ok_dtype) {
    throw ArgumentError(fmt::format("a still image is bool, uint8, uint16, float16 or float32, not {} (shape {})", name(s.dtype), shape_text()));
  }
  if (image.ndim() == 2) {
    s.channels = 1;
  } else if (image.ndim() == 3 && image.shape()[2] >= 2 && image.shape()[2] <= 4 && s.dtype != DType::bool_) {
    s.channels = static_cast<int>(image.shape()[2]);
  } else {
    throw ArgumentError(fmt::format("a still image is (H,W) gray, (H,W,2) gray+alpha, (H,W,3) RGB or (H,W,4) RGBA{}, not {} {}",
                                    s.dtype == DType::bool_ ? " (bool: (H,W) only)" : "", shape_text(), name(s.dtype)));
  }
  if (image.shape()[0] == 0 || image.shape()[1] == 0) throw ArgumentError("a still image has a width and a height of at least 1");
  return s;
}

// Sample i of `image` (channel c of pixel p) as the storage wants it: an
// integer of `bits`, or a float's bit pattern.
struct SampleReader {
  const NDArray& image;
  Sample in;
  std::uint32_t get(std::size_t pixel, int c, const Storage& st, int comp_depth) const {
    // The input's channel for the storage's component c (gray repeated into
    // R, G, B; a missing alpha is opaque).
    const bool alpha_comp = st.color ? c == 3 : c == 1;
    int src;
    if (alpha_comp) {
      if (!in.alpha()) return opaque(st, comp_depth);
      src = in.channels - 1;
    } else {
      src = in.color() ? c : 0;
    }
    const std::size_t i = pixel * static_cast<std::size_t>(in.channels) + static_cast<std::size_t>(src);
    switch (in.dtype) {
      case DType::bool_: {
        const bool on = reinterpret_cast<const std::uint8_t*>(image.bytes())[i] != 0;
        if (st.floating) return bits_of(on ? 1.0f : 0.0f);
        return on ? (1u << comp_depth) - 1 : 0;
      }
      case DType::uint8: {
        const std::uint32_t v = image.data<std::uint8_t>()[i];
        if (st.floating) return bits_of(static_cast<float>(v) / 255.0f);
        return comp_depth == 8 ? v : scale(v, 8, comp_depth);
      }
      case DType::uint16: {
        const std::uint32_t v = image.data<std::uint16_t>()[i];
        if (st.floating) return bits_of(static_cast<float>(v) / 65535.0f);
        return comp_depth == 16 ? v : scale(v, 16, comp_depth);
      }
      case DType::float16: return bits_of(image.data<float16>()[i].to_float());
      default: return bits_of(image.data<float>()[i]);
    }
  }
  static std::uint32_t bits_of(float f) {
    std::uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
  }
  static std::uint32_t opaque(const Storage& st, int depth) { return st.floating ? bits_of(1.0f) : (1u << depth) - 1; }
  // Only with an explicit out_pixel_format (the choice never narrows).
  static std::uint32_t scale(std::uint32_t v, int from, int to) {
    const std::uint64_t max_from = (1u << from) - 1, max_to = (1u << to) - 1;
    return static_cast<std::uint32_t>((v * max_to + max_from / 2) / max_from);
  }
};

// The image as a frame of `format` (gray, mono or RGB with any packing).
FramePtr frame_of(const NDArray& image, const Sample& in, AVPixelFormat format, const StillFormat& row, std::string_view encoder) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  const Storage st = storage_of(format, row);
  FramePtr f = make_frame();
  f->width = static_cast<int>(image.shape()[1]);
  f->height = static_cast<int>(image.shape()[0]);
  f->format = format;
  if (av_frame_get_buffer(f.get(), 64) < 0) throw std::bad_alloc();
  // av_write_image_line2 ORs the bits in: start from zero.
  for (int p = 0; p < 4 && f->data[p] != nullptr; ++p) std::memset(f->data[p], 0, static_cast<std::size_t>(f->linesize[p]) * static_cast<std::size_t>(f->height));
  const auto w = static_cast<std::size_t>(f->width);
  std::vector<std::uint32_t> line(w);
  SampleReader reader{image, in};
  // FFmpeg 5.1 writes PFM/PHM rows top-down; the format stores them
  // bottom-up (see still_reader.cpp): the frame is given upside down.
  const bool flip = LIBAVCODEC_VERSION_MAJOR <= 59 && (encoder == "pfm" || encoder == "phm");
  for (int c = 0; c < d->nb_components; ++c) {
    const int depth = d->comp[c].depth;
    for (int y = 0; y < f->height; ++y) {
      const auto src_y = static_cast<std::size_t>(flip ? f->height - 1 - y : y);
      for (std::size_t x = 0; x < w; ++x) line[x] = reader.get(src_y * w + x, c, st, depth);
      // Mono formats: monowhite stores 1 for black (Pillow reads an XBM's set bit as white).
      if (format == AV_PIX_FMT_MONOWHITE && encoder != "xbm") {
        for (auto& v : line) v = v != 0 ? 0 : 1;
      }
      av_write_image_line2(line.data(), f->data, f->linesize, d, 0, y, c, static_cast<int>(w), 4);
    }
  }
  return f;
}

struct WriteArgs {
  std::optional<std::string> codec;
  std::optional<bool> is_batch;
  std::optional<AVPixelFormat> out_format;
  Dict codec_options;
};

WriteArgs write_args(const Kwargs& kwargs) {
  KwargReader kw(kwargs, kPlugin, "write", "still");
  WriteArgs a;
  a.codec = kw.take<std::string>("codec");
  a.is_batch = kw.take<bool>("is_batch");
  if (auto out = kw.take<std::string>("out_pixel_format")) a.out_format = pixel_format_by_name(*out);
  a.codec_options = kw.get<Dict>("codec_options");
  kw.finish();
  return a;
}

// One image ready to encode.
struct Planned {
  const NDArray* image;
  Sample in;
  Choice choice;
};

class StillWriter final : public Plugin {
 public:
  StillWriter(Request& request, const AVOutputFormat* muxer, const StillFormat& row)
      : request_(request), muxer_(muxer), row_(row) {}

  void write(const NDArray& image, const Kwargs& kwargs) override {
    const WriteArgs a = write_args(kwargs);
    if (a.is_batch.value_or(false)) {
      if (image.ndim() < 3) throw ArgumentError(fmt::format("is_batch=true needs a first axis of images; the array has {} axes", image.ndim()));
      std::vector<NDArray> images;
      const Shape shape(image.shape().begin() + 1, image.shape().end());
      const std::size_t n = image.shape()[0];
      check_count(n);
      const std::size_t bytes = n == 0 ? 0 : image.nbytes() / n;
      for (std::size_t i = 0; i < n; ++i) {
        NDArray one(shape, image.dtype());
        std::memcpy(one.bytes(), image.bytes() + i * bytes, bytes);
        images.push_back(std::move(one));
      }
      write_all(images, a);
      return;
    }
    check_count(1);
    write_all(std::span<const NDArray>(&image, 1), a);
  }

  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    const WriteArgs a = write_args(kwargs);
    check_count(images.size());
    write_all(images, a);
  }

 private:
  // D8: a still file holds one image (an ICO several), from one write call.
  void check_count(std::size_t n) const {
    const std::string_view ext = row_.extensions.substr(0, row_.extensions.find(' '));
    if (written_) throw ArgumentError(fmt::format("the {} file is written: it takes the images of one write call", row_.name));
    if (n == 0) throw ArgumentError("there is no image to write");
    if (!row_.several && n != 1) throw ArgumentError(fmt::format("a {} file holds one image, not {}", ext.substr(1), n));
    request_.check_frames(n);
  }

  void write_all(std::span<const NDArray> images, const WriteArgs& a) {
    LogScope log;
    // Everything is checked before the target is touched.
    std::vector<const AVCodec*> encoders;
    if (a.codec) {
      const AVCodec* c = encoder_named(*a.codec);
      if (c == nullptr) {
        const AVCodecDescriptor* d = avcodec_descriptor_get_by_name(a.codec->c_str());
        if (d != nullptr) c = avcodec_find_encoder(d->id);
      }
      if (c == nullptr || c->type != AVMEDIA_TYPE_VIDEO) throw ArgumentError(fmt::format("'{}' is not a video encoder this FFmpeg has", *a.codec));
      encoders.push_back(c);
    } else {
      encoders = encoders_of(row_);
      if (encoders.empty()) throw ArgumentError(fmt::format("this FFmpeg has no encoder for {} ({})", row_.name, row_.encoders));
    }
    std::vector<Planned> plan;
    for (const NDArray& image : images) {
      Planned p{&image, sample_of(image), {}};
      request_.check_pixels(image.shape()[1], image.shape()[0]);
      if (row_.several && (image.shape()[0] > 256 || image.shape()[1] > 256)) {
        throw ArgumentError(fmt::format("an {} image is at most 256x256 pixels, not {}x{}", row_.name, image.shape()[1], image.shape()[0]));
      }
      if (a.out_format) {
        // The caller chose the stored layout: no check of what it keeps.
        p.choice = Choice{encoders.front(), *a.out_format};
        if (!frame_writable(*a.out_format)) {
          throw ArgumentError(fmt::format("out_pixel_format {} is not a gray or RGB layout the still writer fills", av_get_pix_fmt_name(*a.out_format)));
        }
      } else {
        std::vector<std::string> lost;
        auto choice = choose(row_, encoders, p.in, &lost);
        if (!choice) {
          std::string what;
          for (std::size_t i = 0; i < lost.size(); ++i) what += (i == 0 ? "" : i + 1 == lost.size() ? " and " : ", ") + lost[i];
          throw ArgumentError(fmt::format("{} ({} encoder) cannot hold this {} image: {} would be lost. Formats that keep it: {}",
                                          row_.name, encoders.front()->name, sample_text(p.in), what, keepers(p.in)));
        }
        p.choice = *choice;
      }
      plan.push_back(p);
    }
    written_ = true;
    encode(plan, a);
  }

  static bool frame_writable(AVPixelFormat f) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
    if (d == nullptr || (d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BAYER)) != 0) return false;
    return ((d->flags & AV_PIX_FMT_FLAG_RGB) != 0 || d->nb_components <= 2) && d->log2_chroma_w == 0 && d->log2_chroma_h == 0;
  }

  void encode(const std::vector<Planned>& plan, const WriteArgs& a) {
    struct Out {
      AVFormatContext* ctx = nullptr;
      ~Out() { avformat_free_context(ctx); }
    } out;
    out.ctx = avformat_alloc_context();
    if (out.ctx == nullptr) throw std::bad_alloc();
    out.ctx->oformat = muxer_;
    AvIo io(request_.sink());
    out.ctx->pb = io.context();
    out.ctx->flags |= AVFMT_FLAG_CUSTOM_IO;
    std::vector<CodecPtr> encoders;
    for (const Planned& p : plan) {
      AVStream* stream = avformat_new_stream(out.ctx, nullptr);
      if (stream == nullptr) throw std::bad_alloc();
      CodecPtr enc(avcodec_alloc_context3(p.choice.encoder));
      if (!enc) throw std::bad_alloc();
      enc->width = static_cast<int>(p.image->shape()[1]);
      enc->height = static_cast<int>(p.image->shape()[0]);
      enc->pix_fmt = p.choice.format;
      enc->time_base = AVRational{1, 25};
      enc->framerate = AVRational{25, 1};
      if ((muxer_->flags & AVFMT_GLOBALHEADER) != 0) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
      struct Opts {
        AVDictionary* d = nullptr;
        ~Opts() { av_dict_free(&d); }
      } opts;
      // OpenJPEG needs 2^(resolutions−1) ≤ the smaller side (its default is 6).
      if (std::string_view(p.choice.encoder->name) == "libopenjpeg") {
        int levels = 1;
        while (levels < 6 && (1 << levels) <= std::min(enc->width, enc->height)) ++levels;
        av_dict_set(&opts.d, "numresolution", std::to_string(levels).c_str(), 0);
      }
      for (const auto& [k, v] : a.codec_options) av_dict_set(&opts.d, k.c_str(), option_text(v, "codec_options").c_str(), 0);
      int ret = avcodec_open2(enc.get(), p.choice.encoder, &opts.d);
      if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} encoder cannot be opened", p.choice.encoder->name), ret));
      if (opts.d != nullptr) {
        const AVDictionaryEntry* e = av_dict_get(opts.d, "", nullptr, AV_DICT_IGNORE_SUFFIX);
        throw ArgumentError(fmt::format("the {} encoder has no option '{}'", p.choice.encoder->name, e->key));
      }
      ret = avcodec_parameters_from_context(stream->codecpar, enc.get());
      if (ret < 0) throw EncodeError(describe_failure("cannot set up the image stream", ret));
      stream->time_base = enc->time_base;
      encoders.push_back(std::move(enc));
    }
    int ret = avformat_write_header(out.ctx, nullptr);
    io.rethrow_pending();
    if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} muxer cannot start the file", muxer_->name), ret));
    PacketPtr pkt = make_packet();
    for (std::size_t i = 0; i < plan.size(); ++i) {
      FramePtr frame = frame_of(*plan[i].image, plan[i].in, plan[i].choice.format, row_, plan[i].choice.encoder->name);
      frame->pts = 0;
      AVCodecContext* enc = encoders[i].get();
      for (const AVFrame* f : {static_cast<const AVFrame*>(frame.get()), static_cast<const AVFrame*>(nullptr)}) {
        ret = avcodec_send_frame(enc, f);
        if (ret < 0 && ret != AVERROR_EOF) throw EncodeError(describe_failure(fmt::format("the {} encoder fails", enc->codec->name), ret));
        for (;;) {
          ret = avcodec_receive_packet(enc, pkt.get());
          if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) break;
          if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} encoder fails", enc->codec->name), ret));
          av_packet_rescale_ts(pkt.get(), enc->time_base, out.ctx->streams[i]->time_base);
          pkt->stream_index = static_cast<int>(i);
          ret = av_interleaved_write_frame(out.ctx, pkt.get());
          io.rethrow_pending();
          if (ret < 0) throw EncodeError(describe_failure("the muxer cannot write the image", ret));
        }
      }
    }
    ret = av_write_trailer(out.ctx);
    io.rethrow_pending();
    if (ret < 0) throw EncodeError(describe_failure("the muxer cannot finish the file", ret));
    avio_flush(out.ctx->pb);
    io.rethrow_pending();
  }

  Request& request_;
  const AVOutputFormat* muxer_;
  const StillFormat& row_;
  bool written_ = false;
};

}  // namespace

std::unique_ptr<Plugin> make_still_writer(Request& request, const AVOutputFormat* muxer, const StillFormat& row) {
  return std::make_unique<StillWriter>(request, muxer, row);
}

}  // namespace imio::ffmpeg
