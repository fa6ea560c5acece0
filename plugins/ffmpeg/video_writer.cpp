// Video write side (spec §5.2.5, DECISIONS D19, D21, D22): frames of a batch
// or a list encoded into the container the extension (or `container=`)
// names; several writes append; the file is finalized by close(), or inside
// the call for "<bytes>".
#include <imio/plugin.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include "av_filter.hpp"
#include "av_io.hpp"
#include "ffmpeg_plugins.hpp"
#include "pixel_layout.hpp"

namespace imio::ffmpeg {
namespace {

struct WriteArgs {
  std::optional<std::string> codec;
  bool is_batch = true;
  double fps = 24;
  AVPixelFormat in_format = AV_PIX_FMT_RGB24;
  bool in_format_given = false;
  std::optional<AVPixelFormat> out_format;
  FilterSpec filters;
  std::optional<std::int64_t> bitrate;
  std::optional<std::string> crf;
  Dict codec_options;
};

WriteArgs write_args(const Kwargs& kwargs, bool still) {
  KwargReader kw(kwargs, kPlugin, "write");
  WriteArgs a;
  a.codec = kw.take<std::string>("codec");
  a.is_batch = kw.take<bool>("is_batch", !still);  // a still image is one frame (D23)
  a.fps = kw.take<double>("fps", 24.0);
  if (!(a.fps > 0) || !std::isfinite(a.fps)) kw.fail("fps", fmt::format("must be a positive number, not {}", a.fps));
  if (auto in = kw.take<std::string>("in_pixel_format")) {
    a.in_format = pixel_format_by_name(*in);
    a.in_format_given = true;
  }
  if (auto out = kw.take<std::string>("out_pixel_format")) a.out_format = pixel_format_by_name(*out);
  if (const Value* v = kw.find("filter_sequence")) a.filters.sequence = *v;
  if (const Value* v = kw.find("filter_graph")) a.filters.graph = *v;
  check_filter_spec(a.filters);
  a.bitrate = kw.take<std::int64_t>("bitrate");
  if (const Value* v = kw.find("crf"); v != nullptr && !v->is_none()) a.crf = v->is<std::string>() ? v->get<std::string>() : fmt::format("{}", v->get<double>());
  a.codec_options = kw.take<Dict>("codec_options", Dict{});
  kw.finish();
  return a;
}

// D21: a default encoder per container.
const AVCodec* default_encoder(const AVOutputFormat* muxer, const std::string& file_name) {
  const std::string_view name = muxer->name;
  auto by_name = [](const char* n) { return avcodec_find_encoder_by_name(n); };
  if (name == "mp4" || name == "mov" || name == "matroska") {
    if (const AVCodec* c = by_name("libx264")) return c;
    return avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  }
  if (name == "webm") {
    if (const AVCodec* c = by_name("libvpx-vp9")) return c;
  }
  if (name == "avi") return avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (name == "gif") return avcodec_find_encoder(AV_CODEC_ID_GIF);
  const AVCodecID id = av_guess_codec(muxer, nullptr, file_name.c_str(), nullptr, AVMEDIA_TYPE_VIDEO);
  return id != AV_CODEC_ID_NONE ? avcodec_find_encoder(id) : nullptr;
}

class VideoWriter final : public Plugin {
 public:
  VideoWriter(Request& request, const AVOutputFormat* muxer) : request_(request), muxer_(muxer) {
    const ImageResource& res = request.resource();
    to_bytes_ = res.kind() == ImageResource::Kind::text && res.text() == "<bytes>";
    file_name_ = "tmp" + request.extension();
    const std::string_view mux = muxer->name;
    const AVCodec* still = default_encoder(muxer, file_name_);
    still_ = (mux == "image2" || mux == "image2pipe" || mux == "webp" || mux.ends_with("_pipe")) && still != nullptr && is_still_codec(still->id);
  }

  ~VideoWriter() override { release(); }

  NDArray read(const Index&, const Kwargs&) override { throw not_readable(); }
  std::unique_ptr<FrameSource> iter(const Kwargs&) override { throw not_readable(); }
  ImageProperties properties(const Index&, const Kwargs&) override { throw not_readable(); }
  Metadata metadata(const Index&, bool, const Kwargs&) override { throw not_readable(); }

  void write(const NDArray& image, const Kwargs& kwargs) override {
    WriteArgs a = write_args(kwargs, still_);
    LogScope log;
    if (still_ && !a.in_format_given) a.in_format = still_format(image, a.is_batch);
    const PixelLayout layout = in_layout(a);
    const std::size_t frame_dims = layout.shape(1, 1).size();
    if (!a.is_batch) {
      check_still_count(1);
      check_frame(image, layout, frame_dims, 0);
      encode_frames({&image, 1}, a, layout);
    } else {
      if (image.ndim() != frame_dims + 1) {
        throw ArgumentError(fmt::format("a batch of {} frames needs {} axes, the array has shape {} (is_batch=false writes one frame)",
                                        av_get_pix_fmt_name(a.in_format), frame_dims + 1, shape_text(image.shape())));
      }
      const std::size_t n = image.shape()[0];
      check_still_count(n);
      request_.check_frames(n);
      Shape fs(image.shape().begin() + 1, image.shape().end());
      const std::size_t bytes = n == 0 ? 0 : image.nbytes() / n;
      for (std::size_t i = 0; i < n; ++i) {
        check_dtype(image.dtype(), layout);
        encode_one(image.bytes() + i * bytes, fs, a, layout);
      }
    }
    if (to_bytes_) finalize();  // spec §5.2.5: "<bytes>" is finalized in the call
  }

  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    WriteArgs a = write_args(kwargs, still_);
    LogScope log;
    if (still_ && !images.empty() && !a.in_format_given) a.in_format = still_format(images[0], false);
    const PixelLayout layout = in_layout(a);
    const std::size_t frame_dims = layout.shape(1, 1).size();
    check_still_count(images.size());
    request_.check_frames(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
      check_frame(images[i], layout, frame_dims, i);
      if (images[i].shape() != images[0].shape()) throw ArgumentError("All frames should have the same shape");
    }
    encode_frames(images, a, layout);
    if (to_bytes_) finalize();
  }

  void close() override {
    LogScope log;
    finalize();
  }

 private:
  static IOError not_readable() { return IOError("the file is open for writing"); }

  // Pillow's layouts for a still image: (H,W) gray, (H,W,3) RGB, (H,W,4) RGBA.
  static AVPixelFormat still_format(const NDArray& image, bool batch) {
    const std::size_t dims = image.ndim() - (batch ? 1 : 0);
    if (image.dtype() != DType::uint8 || (dims != 2 && dims != 3)) {
      throw ArgumentError(fmt::format("a still image is (H,W), (H,W,3) or (H,W,4) uint8, not {} {}", shape_text(image.shape()), name(image.dtype())));
    }
    if (dims == 2) return AV_PIX_FMT_GRAY8;
    const std::size_t c = image.shape().back();
    if (c == 3) return AV_PIX_FMT_RGB24;
    if (c == 4) return AV_PIX_FMT_RGBA;
    throw ArgumentError(fmt::format("a still image has 1, 3 or 4 channels, not {}", c));
  }

  // D8: a still-image file holds one image; refused before anything is written.
  void check_still_count(std::size_t n) const {
    if (still_ && (n != 1 || next_pts_ > 0)) {
      throw ArgumentError(fmt::format("a {} file holds one image, not {}", file_name_.substr(4), next_pts_ > 0 ? n + static_cast<std::size_t>(next_pts_) : n));
    }
  }

  static std::string shape_text(const Shape& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
  }

  static PixelLayout in_layout(const WriteArgs& a) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(a.in_format);
    // Bayer data is one plane of (H,W) values (spec §5.2.5).
    if (d != nullptr && (d->flags & AV_PIX_FMT_FLAG_BAYER) != 0) {
      PixelLayout l;
      l.format = a.in_format;
      l.components = 1;
      l.dtype = d->comp[0].depth > 8 ? DType::uint16 : DType::uint8;
      l.big_endian = (d->flags & AV_PIX_FMT_FLAG_BE) != 0;
      return l;
    }
    try {
      return layout_of(a.in_format);
    } catch (const IOError& e) {
      throw ArgumentError(fmt::format("in_pixel_format: {}", e.reason()));
    }
  }

  // D19: the dtype the pixel format implies.
  static void check_dtype(DType dtype, const PixelLayout& layout) {
    if (dtype != layout.dtype) {
      throw ArgumentError(fmt::format("in_pixel_format {} takes {} arrays, not {}", av_get_pix_fmt_name(layout.format),
                                      name(layout.dtype), name(dtype)));
    }
  }

  static void check_frame(const NDArray& f, const PixelLayout& layout, std::size_t dims, std::size_t i) {
    check_dtype(f.dtype(), layout);
    const bool ok = f.ndim() == dims && (layout.components == 1 || f.shape()[layout.planar ? 0 : 2] == layout.components);
    if (!ok) {
      throw ArgumentError(fmt::format("frame {} has shape {}, not a frame of {} ({} axes{})", i, shape_text(f.shape()),
                                      av_get_pix_fmt_name(layout.format), dims,
                                      layout.components > 1 ? fmt::format(", {} channels", layout.components) : ""));
    }
  }

  void encode_frames(std::span<const NDArray> frames, const WriteArgs& a, const PixelLayout& layout) {
    for (const NDArray& f : frames) encode_one(f.bytes(), f.shape(), a, layout);
  }

  static std::pair<int, int> size_of(const Shape& s, const PixelLayout& layout) {
    if (layout.planar) return {static_cast<int>(s[2]), static_cast<int>(s[1])};
    return {static_cast<int>(s[1]), static_cast<int>(s[0])};
  }

  void encode_one(const std::byte* data, const Shape& shape, const WriteArgs& a, const PixelLayout& layout) {
    if (finalized_) throw IOError("the video is already finalized (a \"<bytes>\" target takes one write call)");
    const auto [w, h] = size_of(shape, layout);
    if (w <= 0 || h <= 0) throw ArgumentError("frames must have a width and a height of at least 1");
    if (!enc_) open_stream(a, w, h);
    if (w != enc_->width || h != enc_->height) {
      throw ArgumentError(fmt::format("frame of {}x{} pixels, but the video is {}x{} (the first frame sets the size)", w, h,
                                      enc_->width, enc_->height));
    }
    // Wrap the array as an AVFrame of the input format (no copy).
    FramePtr in = make_frame();
    in->width = w;
    in->height = h;
    in->format = layout.format;
    const std::size_t row = layout.row_bytes(w);
    const int planes = layout.planar ? static_cast<int>(layout.components) : 1;
    for (int p = 0; p < planes; ++p) {
      in->data[p] = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(data)) + static_cast<std::size_t>(p) * row * static_cast<std::size_t>(h);
      in->linesize[p] = static_cast<int>(row);
    }
    in->pts = next_pts_++;
    if (a.filters.empty() && filters_.empty()) {
      send(*in);
      return;
    }
    if (!graph_) {
      if (!a.filters.empty()) filters_ = a.filters;
      graph_ = std::make_unique<FilterGraph>(filters_, *in, enc_->time_base, enc_->framerate);
    }
    graph_->push(in.get());
    FramePtr out = make_frame();
    while (graph_->pull(out.get())) send(*out);
  }

  void open_stream(const WriteArgs& a, int w, int h) {
    const AVCodec* codec = nullptr;
    if (a.codec) {
      codec = avcodec_find_encoder_by_name(a.codec->c_str());
      if (codec == nullptr) {
        const AVCodecDescriptor* d = avcodec_descriptor_get_by_name(a.codec->c_str());
        if (d != nullptr) codec = avcodec_find_encoder(d->id);
      }
      if (codec == nullptr) throw ArgumentError(fmt::format("'{}' is not an encoder this FFmpeg has", *a.codec));
    } else {
      codec = default_encoder(muxer_, file_name_);
      if (codec == nullptr) throw ArgumentError(fmt::format("no default encoder for the {} container: pass codec=", muxer_->name));
    }
    if (codec->type != AVMEDIA_TYPE_VIDEO) throw ArgumentError(fmt::format("'{}' is not a video encoder", codec->name));
    request_.check_pixels(static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h));
    out_ = avformat_alloc_context();
    if (out_ == nullptr) throw std::bad_alloc();
    out_->oformat = muxer_;
    io_ = std::make_unique<AvIo>(request_.sink());
    out_->pb = io_->context();
    out_->flags |= AVFMT_FLAG_CUSTOM_IO;
    stream_ = avformat_new_stream(out_, nullptr);
    if (stream_ == nullptr) throw std::bad_alloc();
    enc_.reset(avcodec_alloc_context3(codec));
    if (!enc_) throw std::bad_alloc();
    // fps as a rational with denominator ≤ 65535; time base 1/fps (spec §5.2.5).
    const AVRational rate = av_d2q(a.fps, 65535);
    enc_->width = w;
    enc_->height = h;
    enc_->framerate = rate;
    enc_->time_base = av_inv_q(rate);
    if (a.out_format) {
      enc_->pix_fmt = *a.out_format;
    } else if (still_ && codec->pix_fmts != nullptr) {
      // Keep the image's layout where the format can store it (gray, RGB, RGBA).
      const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(a.in_format);
      const int alpha = d != nullptr && (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
      enc_->pix_fmt = avcodec_find_best_pix_fmt_of_list(codec->pix_fmts, a.in_format, alpha, nullptr);
    } else {
      enc_->pix_fmt = codec->pix_fmts != nullptr ? codec->pix_fmts[0] : a.in_format;
    }
    if (a.bitrate) enc_->bit_rate = *a.bitrate;
    enc_->thread_count = 0;  // FFmpeg picks (PyAV's default); FFmpeg's own default is one thread
    if ((muxer_->flags & AVFMT_GLOBALHEADER) != 0) enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    struct Opts {
      AVDictionary* d = nullptr;
      ~Opts() { av_dict_free(&d); }
    } opts;
    if (a.crf) av_dict_set(&opts.d, "crf", a.crf->c_str(), 0);
    for (const auto& [k, v] : a.codec_options) av_dict_set(&opts.d, k.c_str(), option_text(v, "codec_options").c_str(), 0);
    int ret = avcodec_open2(enc_.get(), codec, &opts.d);
    if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} encoder cannot be opened", codec->name), ret));
    if (opts.d != nullptr) {
      const AVDictionaryEntry* e = av_dict_get(opts.d, "", nullptr, AV_DICT_IGNORE_SUFFIX);
      throw ArgumentError(fmt::format("the {} encoder has no option '{}'", codec->name, e->key));
    }
    ret = avcodec_parameters_from_context(stream_->codecpar, enc_.get());
    if (ret < 0) throw EncodeError(describe_failure("cannot set up the video stream", ret));
    stream_->time_base = enc_->time_base;
    stream_->avg_frame_rate = rate;
    ret = avformat_write_header(out_, nullptr);
    io_->rethrow_pending();
    if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} muxer cannot start the file", muxer_->name), ret));
    header_written_ = true;
  }

  // Converts to the encoder's format and size, encodes, muxes.
  void send(const AVFrame& frame) {
    FramePtr conv = make_frame();
    conv->width = enc_->width;
    conv->height = enc_->height;
    conv->format = enc_->pix_fmt;
    if (av_frame_get_buffer(conv.get(), 64) < 0) throw std::bad_alloc();
    const auto src = static_cast<AVPixelFormat>(frame.format);
    if (!sws_ || sws_src_ != src || sws_w_ != frame.width || sws_h_ != frame.height) {
      sws_.reset(sws_getContext(frame.width, frame.height, src, enc_->width, enc_->height, enc_->pix_fmt, SWS_BILINEAR,
                                nullptr, nullptr, nullptr));
      if (!sws_) {
        throw EncodeError(fmt::format("libswscale cannot convert {} to {}", av_get_pix_fmt_name(src), av_get_pix_fmt_name(enc_->pix_fmt)));
      }
      sws_src_ = src, sws_w_ = frame.width, sws_h_ = frame.height;
    }
    sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, conv->data, conv->linesize);
    conv->pts = frame.pts;
    encode(conv.get());
  }

  void encode(AVFrame* frame) {
    int ret = avcodec_send_frame(enc_.get(), frame);
    if (ret < 0 && ret != AVERROR_EOF) throw EncodeError(describe_failure(fmt::format("the {} encoder fails", enc_->codec->name), ret));
    PacketPtr pkt = make_packet();
    for (;;) {
      ret = avcodec_receive_packet(enc_.get(), pkt.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} encoder fails", enc_->codec->name), ret));
      av_packet_rescale_ts(pkt.get(), enc_->time_base, stream_->time_base);
      pkt->stream_index = stream_->index;
      ret = av_interleaved_write_frame(out_, pkt.get());
      io_->rethrow_pending();
      if (ret < 0) throw EncodeError(describe_failure("the muxer cannot write a packet", ret));
    }
  }

  void finalize() {
    if (finalized_) return;
    finalized_ = true;
    if (!header_written_) return;
    if (graph_) {
      graph_->push(nullptr);
      FramePtr out = make_frame();
      while (graph_->pull(out.get())) send(*out);
    }
    encode(nullptr);
    const int ret = av_write_trailer(out_);
    io_->rethrow_pending();
    if (ret < 0) throw EncodeError(describe_failure("the muxer cannot finish the file", ret));
    avio_flush(out_->pb);
    io_->rethrow_pending();
  }

  void release() noexcept {
    enc_.reset();
    if (out_ != nullptr) {
      avformat_free_context(out_);
      out_ = nullptr;
    }
    io_.reset();
  }

  Request& request_;
  const AVOutputFormat* muxer_;
  bool to_bytes_ = false;
  bool still_ = false;
  std::string file_name_;
  AVFormatContext* out_ = nullptr;
  std::unique_ptr<AvIo> io_;
  AVStream* stream_ = nullptr;
  CodecPtr enc_;
  SwsPtr sws_;
  AVPixelFormat sws_src_ = AV_PIX_FMT_NONE;
  int sws_w_ = 0, sws_h_ = 0;
  FilterSpec filters_;
  std::unique_ptr<FilterGraph> graph_;
  std::int64_t next_pts_ = 0;
  bool header_written_ = false;
  bool finalized_ = false;
};

}  // namespace

const AVOutputFormat* guess_muxer(Request& request, const std::optional<std::string>& container) {
  if (container) return av_guess_format(container->c_str(), nullptr, nullptr);
  // D22: the request's extension (extension= when given) decides.
  if (request.extension().empty()) return nullptr;
  const std::string name = "tmp" + request.extension();
  const AVOutputFormat* f = av_guess_format(nullptr, name.c_str(), nullptr);
  if (f == nullptr || f->video_codec == AV_CODEC_ID_NONE) return nullptr;
  // image2 opens files by name itself; its pipe twin writes through our sink.
  if (std::string_view(f->name) == "image2") return av_guess_format("image2pipe", nullptr, nullptr);
  return f;
}

std::unique_ptr<Plugin> make_writer(Request& request, const AVOutputFormat* muxer) {
  return std::make_unique<VideoWriter>(request, muxer);
}

}  // namespace imio::ffmpeg
