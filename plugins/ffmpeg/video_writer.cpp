// Video write side (spec §5.2.5, §5.2.6, DECISIONS D19, D21, D22): frames of
// a batch or a list, or one by one through the imio::plugin::FFmpeg extras,
// encoded into the container the extension (or `container=`) names; several
// writes append; the file is finalized by close(), or inside the call for
// "<bytes>".
#include <imio/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
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
  KwargReader kw(kwargs, kPlugin, "write", "video");
  WriteArgs a;
  a.codec = kw.take<std::string>("codec");
  a.is_batch = kw.take<bool>("is_batch", !still);  // a still image is one frame (D23)
  a.fps = kw.get<double>("fps");
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
  a.codec_options = kw.get<Dict>("codec_options");
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

// The encoder by name, or the default encoder of a codec name ("h264").
const AVCodec* find_encoder(const std::string& name) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (codec == nullptr) {
    const AVCodecDescriptor* d = avcodec_descriptor_get_by_name(name.c_str());
    if (d != nullptr) codec = avcodec_find_encoder(d->id);
  }
  if (codec == nullptr) throw ArgumentError(fmt::format("'{}' is not an encoder this FFmpeg has", name));
  if (codec->type != AVMEDIA_TYPE_VIDEO) throw ArgumentError(fmt::format("'{}' is not a video encoder", codec->name));
  return codec;
}

// fps as a rational with denominator ≤ 65535 (spec §5.2.5: 3.5 round-trips).
AVRational rate_of(double fps) {
  if (!(fps > 0) || !std::isfinite(fps)) throw ArgumentError(fmt::format("fps must be a positive number, not {}", fps));
  const AVRational rate = av_d2q(fps, 65535);
  if (rate.num <= 0 || rate.den <= 0) throw ArgumentError(fmt::format("fps {} cannot be stored as a frame rate", fps));
  return rate;
}

// What the video stream is made with: the first write()'s kwargs or
// init_video_stream() (spec §5.2.5: ignored on later writes). The encoder
// itself opens with the first frame that reaches it.
struct StreamConfig {
  const AVCodec* codec = nullptr;
  AVRational rate{24, 1};
  std::optional<AVPixelFormat> pix_fmt;
  std::optional<int> gop;
  std::optional<bool> closed_gop;
  std::optional<std::int64_t> bitrate;
  std::optional<std::string> crf;
  Dict codec_options;
};

// Adds (or replaces) every tag in the AVDictionary; the muxer's own entries
// ("encoder") stay.
void merge_tags(AVDictionary** dict, const Tags& tags) {
  for (const auto& [k, v] : tags) {
    if (av_dict_set(dict, k.c_str(), v.c_str(), 0) < 0) throw std::bad_alloc();
  }
}

class VideoWriter final : public plugin::FFmpeg {
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


  void write(const NDArray& image, const Kwargs& kwargs) override {
    WriteArgs a = write_args(kwargs, still_);
    LogScope log;
    if (still_ && !a.in_format_given) a.in_format = still_format(image, a.is_batch);
    const PixelLayout layout = in_layout(a.in_format);
    const std::size_t frame_dims = layout.shape(1, 1).size();
    if (!a.is_batch) {
      check_still_count(1);
      check_frame(image, layout, frame_dims, 0);
      start(a);
      encode_one(image.bytes(), image.shape(), layout);
    } else {
      if (image.ndim() != frame_dims + 1) {
        throw ArgumentError(fmt::format("a batch of {} frames needs {} axes, the array has shape {} (is_batch=false writes one frame)",
                                        av_get_pix_fmt_name(a.in_format), frame_dims + 1, shape_text(image.shape())));
      }
      check_dtype(image.dtype(), layout);
      const std::size_t n = image.shape()[0];
      check_still_count(n);
      request_.check_frames(n);
      start(a);
      const Shape fs(image.shape().begin() + 1, image.shape().end());
      const std::size_t bytes = n == 0 ? 0 : image.nbytes() / n;
      for (std::size_t i = 0; i < n; ++i) encode_one(image.bytes() + i * bytes, fs, layout);
    }
    if (to_bytes_) finalize();  // spec §5.2.5: "<bytes>" is finalized in the call
  }

  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    WriteArgs a = write_args(kwargs, still_);
    LogScope log;
    if (still_ && !images.empty() && !a.in_format_given) a.in_format = still_format(images[0], false);
    const PixelLayout layout = in_layout(a.in_format);
    const std::size_t frame_dims = layout.shape(1, 1).size();
    check_still_count(images.size());
    request_.check_frames(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
      check_frame(images[i], layout, frame_dims, i);
      if (images[i].shape() != images[0].shape()) throw ArgumentError("All frames should have the same shape");
    }
    start(a);
    for (const NDArray& f : images) encode_one(f.bytes(), f.shape(), layout);
    if (to_bytes_) finalize();
  }

  void close() override {
    LogScope log;
    finalize();
  }

  // ---------------------------------------------------------------- extras (spec §5.2.6)

  void init_video_stream(std::string_view codec, const VideoStreamOptions& options) override {
    run_extra(request_, "init the video stream of", [&] {
      check_open();
      if (config_) throw IOError("the video stream already exists (made by init_video_stream() or the first write())");
      StreamConfig c;
      c.codec = codec.empty() ? default_encoder_or_throw() : find_encoder(std::string(codec));
      c.rate = rate_of(options.fps);
      if (options.pixel_format) c.pix_fmt = pixel_format_by_name(*options.pixel_format);
      if (options.max_keyframe_interval) {
        if (*options.max_keyframe_interval < 1) {
          throw ArgumentError(fmt::format("max_keyframe_interval must be at least 1, not {}", *options.max_keyframe_interval));
        }
        c.gop = options.max_keyframe_interval;
      }
      c.closed_gop = options.force_keyframes;
      config_ = std::move(c);
    });
  }

  void write_frame(const NDArray& frame, std::string_view pixel_format) override {
    run_extra(request_, "write a frame to", [&] {
      check_open();
      if (!config_) throw IOError("the video has no stream yet: call init_video_stream() (or write()) first");
      const PixelLayout layout = in_layout(pixel_format_by_name(pixel_format));
      check_still_count(1);
      check_frame(frame, layout, layout.shape(1, 1).size(), frames_in_);
      encode_one(frame.bytes(), frame.shape(), layout);
    });
  }

  void set_video_filter(const Value& filter_sequence, const Value& filter_graph) override {
    run_extra(request_, "set the video filter of", [&] {
      check_open();
      FilterSpec spec{filter_sequence, filter_graph};
      check_filter_spec(spec);
      use_filters(std::move(spec));
    });
  }

  Tags& container_metadata() override { return container_tags_; }
  Tags& video_stream_metadata() override { return stream_tags_; }

 private:
  void check_open() const {
    if (finalized_) throw IOError("the video is already finalized (a \"<bytes>\" target takes one write call)");
  }

  const AVCodec* default_encoder_or_throw() const {
    const AVCodec* codec = default_encoder(muxer_, file_name_);
    if (codec == nullptr) throw ArgumentError(fmt::format("no default encoder for the {} container: pass codec=", muxer_->name));
    return codec;
  }

  // The first write creates the stream from its kwargs (spec §5.2.5: codec,
  // fps, out_pixel_format and the quality options are ignored later); a
  // write's filter kwargs replace the handle's filter (set_video_filter).
  void start(const WriteArgs& a) {
    check_open();
    if (!config_) {
      StreamConfig c;
      c.codec = a.codec ? find_encoder(*a.codec) : default_encoder_or_throw();
      c.rate = rate_of(a.fps);
      c.pix_fmt = a.out_format;
      c.bitrate = a.bitrate;
      c.crf = a.crf;
      c.codec_options = a.codec_options;
      config_ = std::move(c);
    }
    if (!a.filters.empty()) use_filters(a.filters);
  }

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
    if (still_ && (n != 1 || frames_in_ > 0)) {
      throw ArgumentError(fmt::format("a {} file holds one image, not {}", file_name_.substr(4), n + frames_in_));
    }
  }

  static std::string shape_text(const Shape& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
  }

  static PixelLayout in_layout(AVPixelFormat format) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
    // Bayer data is one plane of (H,W) values (spec §5.2.5).
    if (d != nullptr && (d->flags & AV_PIX_FMT_FLAG_BAYER) != 0) {
      PixelLayout l;
      l.format = format;
      l.components = 1;
      l.dtype = d->comp[0].depth > 8 ? DType::uint16 : DType::uint8;
      l.big_endian = (d->flags & AV_PIX_FMT_FLAG_BE) != 0;
      return l;
    }
    try {
      return layout_of(format);
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

  static std::pair<int, int> size_of(const Shape& s, const PixelLayout& layout) {
    if (layout.planar) return {static_cast<int>(s[2]), static_cast<int>(s[1])};
    return {static_cast<int>(s[1]), static_cast<int>(s[0])};
  }

  // One input frame: through the filter (if any) to the encoder.
  void encode_one(const std::byte* data, const Shape& shape, const PixelLayout& layout) {
    const auto [w, h] = size_of(shape, layout);
    if (w <= 0 || h <= 0) throw ArgumentError("frames must have a width and a height of at least 1");
    if (in_w_ == 0) {
      request_.check_pixels(static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h));
      in_w_ = w, in_h_ = h;
    } else if (w != in_w_ || h != in_h_) {
      throw ArgumentError(fmt::format("frame of {}x{} pixels, but the video is {}x{} (the first frame sets the size)", w, h, in_w_, in_h_));
    }
    // Wrap the array as an AVFrame of the input format (no copy; the filter
    // and encoder copy what they keep, since the frame is not refcounted).
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
    ++frames_in_;
    if (filters_.empty()) {
      send(*in);
      return;
    }
    // A graph is built for one input layout: another one (write_frame with
    // another pixel_format) ends it and starts a new one.
    if (graph_ && graph_format_ != layout.format) flush_filter();
    if (!graph_) {
      graph_ = std::make_unique<FilterGraph>(filters_, *in, av_inv_q(config_->rate), config_->rate);
      graph_format_ = layout.format;
    }
    graph_->push(in.get());
    drain_filter();
  }

  // Replaces the filter; frames queued in the old one are encoded first.
  void use_filters(FilterSpec spec) {
    if (spec == filters_) return;
    flush_filter();
    filters_ = std::move(spec);
  }

  void flush_filter() {
    if (!graph_) return;
    graph_->push(nullptr);
    drain_filter();
    graph_.reset();
    // Frames a filter added at its end (tpad) took timestamps ahead.
    next_pts_ = std::max(next_pts_, last_pts_ + 1);
  }

  void drain_filter() {
    FramePtr out = make_frame();
    while (graph_->pull(out.get())) {
      // Filters like fps or settb change the time base; the encoder's is 1/fps.
      if (out->pts != AV_NOPTS_VALUE) out->pts = av_rescale_q(out->pts, graph_->output_time_base(), av_inv_q(config_->rate));
      // Encoders and muxers need increasing timestamps, whatever a filter
      // (or a change of filter) made of them.
      if (out->pts == AV_NOPTS_VALUE || out->pts <= last_pts_) out->pts = last_pts_ + 1;
      send(*out);
    }
  }

  // The encoder takes the size and layout of the first frame that reaches
  // it, after the filter: a filter may change the size (spec §5.2.7).
  void open_encoder(const AVFrame& first) {
    const StreamConfig& c = *config_;
    const AVCodec* codec = c.codec;
    request_.check_pixels(static_cast<std::uint64_t>(first.width), static_cast<std::uint64_t>(first.height));
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
    enc_->width = first.width;
    enc_->height = first.height;
    enc_->framerate = c.rate;
    enc_->time_base = av_inv_q(c.rate);  // spec §5.2.5: time base 1/fps
    const auto first_format = static_cast<AVPixelFormat>(first.format);
    const AVPixelFormat* formats = supported_pixel_formats(codec);
    if (c.pix_fmt) {
      enc_->pix_fmt = *c.pix_fmt;
    } else if (still_ && formats != nullptr) {
      // Keep the image's layout where the format can store it (gray, RGB, RGBA).
      const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(first_format);
      const int alpha = d != nullptr && (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
      enc_->pix_fmt = avcodec_find_best_pix_fmt_of_list(formats, first_format, alpha, nullptr);
    } else {
      enc_->pix_fmt = formats != nullptr ? formats[0] : first_format;
    }
    if (c.gop) enc_->gop_size = *c.gop;
    if (c.closed_gop) {
      // imageio's force_keyframes: the closed-GOP flag, set or cleared.
      if (*c.closed_gop) enc_->flags |= AV_CODEC_FLAG_CLOSED_GOP;
      else enc_->flags &= ~AV_CODEC_FLAG_CLOSED_GOP;
    }
    if (c.bitrate) enc_->bit_rate = *c.bitrate;
    enc_->thread_count = 0;  // FFmpeg picks (PyAV's default); FFmpeg's own default is one thread
    if ((muxer_->flags & AVFMT_GLOBALHEADER) != 0) enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    struct Opts {
      AVDictionary* d = nullptr;
      ~Opts() { av_dict_free(&d); }
    } opts;
    if (c.crf) av_dict_set(&opts.d, "crf", c.crf->c_str(), 0);
    for (const auto& [k, v] : c.codec_options) av_dict_set(&opts.d, k.c_str(), option_text(v, "codec_options").c_str(), 0);
    int ret = avcodec_open2(enc_.get(), codec, &opts.d);
    if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} encoder cannot be opened", codec->name), ret));
    if (opts.d != nullptr) {
      const AVDictionaryEntry* e = av_dict_get(opts.d, "", nullptr, AV_DICT_IGNORE_SUFFIX);
      throw ArgumentError(fmt::format("the {} encoder has no option '{}'", codec->name, e->key));
    }
    ret = avcodec_parameters_from_context(stream_->codecpar, enc_.get());
    if (ret < 0) throw EncodeError(describe_failure("cannot set up the video stream", ret));
    stream_->time_base = enc_->time_base;
    stream_->avg_frame_rate = c.rate;
  }

  // As PyAV, the header is written with the first packet, so tags set
  // until then are in it (containers that write tags in the header).
  void write_header() {
    merge_tags(&out_->metadata, container_tags_);
    merge_tags(&stream_->metadata, stream_tags_);
    const int ret = avformat_write_header(out_, nullptr);
    io_->rethrow_pending();
    if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} muxer cannot start the file", muxer_->name), ret));
    header_written_ = true;
  }

  // Converts to the encoder's format, encodes, muxes.
  void send(const AVFrame& frame) {
    if (!enc_) open_encoder(frame);
    last_pts_ = frame.pts;
    if (frame.width != enc_->width || frame.height != enc_->height) {
      throw ArgumentError(fmt::format("the video filter gives {}x{} frames, but the video is {}x{} (the first frame that reached the encoder sets the size)",
                                      frame.width, frame.height, enc_->width, enc_->height));
    }
    const auto src = static_cast<AVPixelFormat>(frame.format);
    if (src == enc_->pix_fmt) {
      // Already the encoder's layout (a filter's output, yuv420p input):
      // avcodec_send_frame copies or references it itself.
      encode(&frame);
      return;
    }
    if (!conv_ || !av_frame_is_writable(conv_.get())) {
      conv_ = make_frame();
      conv_->width = enc_->width;
      conv_->height = enc_->height;
      conv_->format = enc_->pix_fmt;
      if (av_frame_get_buffer(conv_.get(), 64) < 0) throw std::bad_alloc();
    }
    if (!sws_ || sws_src_ != src) {
      sws_.reset(sws_getContext(frame.width, frame.height, src, enc_->width, enc_->height, enc_->pix_fmt, SWS_BILINEAR,
                                nullptr, nullptr, nullptr));
      if (!sws_) {
        throw EncodeError(fmt::format("libswscale cannot convert {} to {}", av_get_pix_fmt_name(src), av_get_pix_fmt_name(enc_->pix_fmt)));
      }
      sws_src_ = src;
    }
    sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, conv_->data, conv_->linesize);
    conv_->pts = frame.pts;
    encode(conv_.get());
  }

  void encode(const AVFrame* frame) {
    int ret = avcodec_send_frame(enc_.get(), frame);
    if (ret < 0 && ret != AVERROR_EOF) throw EncodeError(describe_failure(fmt::format("the {} encoder fails", enc_->codec->name), ret));
    PacketPtr pkt = make_packet();
    for (;;) {
      ret = avcodec_receive_packet(enc_.get(), pkt.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      if (ret < 0) throw EncodeError(describe_failure(fmt::format("the {} encoder fails", enc_->codec->name), ret));
      if (!header_written_) write_header();
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
    flush_filter();
    if (!enc_) {
      if (frames_in_ > 0) throw EncodeError(fmt::format("the video filter passed none of the {} frames: there is nothing to encode", frames_in_));
      return;
    }
    encode(nullptr);
    if (!header_written_) write_header();
    // Tags set after the header: containers that write them at the end
    // (mp4/mov: the moov box) still take them.
    merge_tags(&out_->metadata, container_tags_);
    merge_tags(&stream_->metadata, stream_tags_);
    const int ret = av_write_trailer(out_);
    io_->rethrow_pending();
    if (ret < 0) throw EncodeError(describe_failure("the muxer cannot finish the file", ret));
    avio_flush(out_->pb);
    io_->rethrow_pending();
  }

  void release() noexcept {
    graph_.reset();
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
  std::optional<StreamConfig> config_;
  Tags container_tags_, stream_tags_;
  int in_w_ = 0, in_h_ = 0;  // size of the frames written (before the filter)
  AVFormatContext* out_ = nullptr;
  std::unique_ptr<AvIo> io_;
  AVStream* stream_ = nullptr;
  CodecPtr enc_;
  SwsPtr sws_;
  AVPixelFormat sws_src_ = AV_PIX_FMT_NONE;
  FramePtr conv_;
  FilterSpec filters_;
  std::unique_ptr<FilterGraph> graph_;
  AVPixelFormat graph_format_ = AV_PIX_FMT_NONE;
  std::size_t frames_in_ = 0;     // frames written (before the filter)
  std::int64_t next_pts_ = 0;     // of the next frame written, in 1/fps
  std::int64_t last_pts_ = -1;    // of the last frame sent to the encoder
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
  // A still format's extension FFmpeg's image2 does not list (.dib), or
  // gives to another muxer (SGI's .rgb is raw video to FFmpeg): image2's pipe twin.
  const StillFormat* still = still_format_of_extension(request.extension());
  const std::string_view mux = f != nullptr ? f->name : "";
  const bool image_muxer = mux == "image2" || mux.ends_with("_pipe") || mux == "fits" || mux == "avif" || mux == "webp" || mux == "ico";
  if (still != nullptr && !still->encoders.empty() && !still->several && !image_muxer) {
    return av_guess_format("image2pipe", nullptr, nullptr);
  }
  if (f == nullptr || f->video_codec == AV_CODEC_ID_NONE) return nullptr;
  // image2 opens files by name itself; its pipe twin writes through our sink.
  if (std::string_view(f->name) == "image2") return av_guess_format("image2pipe", nullptr, nullptr);
  return f;
}

std::unique_ptr<Plugin> make_writer(Request& request, const AVOutputFormat* muxer) {
  return std::make_unique<VideoWriter>(request, muxer);
}

}  // namespace imio::ffmpeg
