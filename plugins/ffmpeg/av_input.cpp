#include "av_input.hpp"
#include "ffmpeg_plugins.hpp"

#include <cctype>
#include <cmath>
#include <string>
#include <string_view>

#include <fmt/format.h>

extern "C" {
#include <libavutil/opt.h>
}


namespace imio::ffmpeg {
namespace {

// Decoding forward beats a seek for short hops (no keyframe re-decode).
constexpr std::int64_t kForwardHop = 32;

// http(s) URLs go to FFmpeg's own protocols (spec §5.2.1).
bool is_http_url(const ImageResource& res) {
  if (res.kind() != ImageResource::Kind::text) return false;
  std::string head = res.text().substr(0, 8);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return head.starts_with("http://") || head.starts_with("https://");
}

struct DictGuard {
  AVDictionary* d = nullptr;
  ~DictGuard() { av_dict_free(&d); }
};

// A resource never reaches another resource (issue #19, security): FFmpeg
// demuxers that open inputs named inside the data — playlists (hls, dash),
// file lists (concat), composition playlists (imf), session descriptions and
// network streams (sdp, rtp, rtsp, sap), scripts (avisynth, vapoursynth) —
// would make bytes from a stranger read local files or open connections.
bool opens_nested_inputs(std::string_view demuxer_names) {
  static constexpr std::string_view kDenied[] = {"hls", "applehttp", "dash", "concat", "imf", "sdp", "rtp",
                                                 "rtsp", "sap", "avisynth", "vapoursynth", "tee"};
  while (!demuxer_names.empty()) {
    const auto comma = demuxer_names.find(',');
    const std::string_view name = demuxer_names.substr(0, comma);
    for (const std::string_view d : kDenied) {
      if (name == d) return true;
    }
    if (comma == std::string_view::npos) break;
    demuxer_names.remove_prefix(comma + 1);
  }
  return false;
}

// Every demuxer of this FFmpeg but those above, as AVFormatContext's
// format_whitelist wants it (comma-separated; FFmpeg matches any alias).
const std::string& demuxer_whitelist() {
  static const std::string list = [] {
    std::string out;
    void* it = nullptr;
    while (const AVInputFormat* f = av_demuxer_iterate(&it)) {
      if (opens_nested_inputs(f->name)) continue;
      if (!out.empty()) out += ',';
      out += f->name;
    }
    return out;
  }();
  return list;
}

// With imio's own AVIO every input the demuxer needs is in the data: any
// further open (an image2 pattern, a nested URL) is refused.
extern "C" int refuse_nested_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

}  // namespace

Input::Input(Request& request, OpenArgs args)
    : request_(request), args_(std::move(args)), pkt_(make_packet()) {
  ffmpeg_reads_url_ = is_http_url(request.resource());
  try {
    try {
      start();
    } catch (const InitializationError&) {
      if (!ffmpeg_reads_url_) throw;
      close_container();
      ffmpeg_reads_url_ = false;
      start();
    }
  } catch (...) {
    close_container();  // no destructor runs for a throwing constructor
    throw;
  }
}

void Input::start() {
  open_container();
  open_decoder();
  FramePtr first = make_frame();
  bool got = false;
  const AVCodecParameters* par = stream()->codecpar;
  // A still image whose header FFmpeg understood but whose body is damaged
  // is accepted: its properties are known and reading it is a DecodeError
  // (D4: "a real file with a broken body").
  const bool header_only_ok = is_still_codec(par->codec_id) && par->width > 0 && par->height > 0 && par->format >= 0;
  try {
    got = next_frame(first.get());
  } catch (const DecodeError& e) {
    if (!header_only_ok) throw InitializationError(fmt::format("the first frame of the video stream does not decode: {}", e.reason()));
    body_error_ = e.reason();
  }
  if (!got && header_only_ok) {
    if (!body_error_) body_error_ = "the image does not decode";
    width_ = par->width;
    height_ = par->height;
    pix_fmt_ = static_cast<AVPixelFormat>(par->format);
    return;
  }
  if (!got) throw InitializationError("no frame of the video stream decodes");
  width_ = first->width;
  height_ = first->height;
  pix_fmt_ = static_cast<AVPixelFormat>(first->format);
  const std::int64_t ts = first->best_effort_timestamp;
  start_pts_ = ts != AV_NOPTS_VALUE ? ts : 0;
  pending_ = std::move(first);
  next_index_ = 0;
}

Input::~Input() { close_container(); }

void Input::use_stream(int index) {
  if (index == stream_index_) return;
  close_container();
  wanted_stream_ = index;
  body_error_.reset();
  pending_.reset();
  try {
    start();
  } catch (const InitializationError& e) {
    // The file was accepted: a stream that does not open is damage.
    throw DecodeError(e.reason());
  }
}

void Input::close_container() noexcept {
  dec_.reset();
  if (fmt_ != nullptr) avformat_close_input(&fmt_);
  io_.reset();
}

void Input::open_container() {
  const ImageResource& res = request_.resource();
  const bool url = ffmpeg_reads_url_;
  std::string name;
  fmt_ = avformat_alloc_context();
  if (fmt_ == nullptr) throw std::bad_alloc();
  // A packet the demuxer could read only part of (the file ends inside it)
  // is dropped: decoding it would conceal the missing part with invented
  // pixels. The frames before it are the video.
  fmt_->flags |= AVFMT_FLAG_DISCARD_CORRUPT;
  if (url) {
    name = res.text();  // FFmpeg's own http(s) protocol reads URLs (spec §5.2.1)
  } else {
    // The name only guides probing (image2 goes by extension).
    auto path = request_.local_path();
    name = path ? path->string() : "imio" + request_.extension();
    request_.source().seek(0);
    io_ = std::make_unique<AvIo>(request_.source());
    fmt_->pb = io_->context();
    fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  const AVInputFormat* forced = nullptr;
  if (args_.format) {
    forced = av_find_input_format(args_.format->c_str());
    if (forced == nullptr) throw ArgumentError(fmt::format("'{}' is not a demuxer FFmpeg knows (kwarg format)", *args_.format));
  }
  DictGuard options;
  for (const auto& [key, value] : args_.options) av_dict_set(&options.d, key.c_str(), option_text(value, "FFmpeg option").c_str(), 0);
  // Set last, so no user option widens them: demuxers that follow nested
  // inputs are never used; network protocols only for the http(s) URL the
  // user named; with imio's AVIO no protocol at all (no nested open).
  if (forced != nullptr && opens_nested_inputs(forced->name)) {
    throw ArgumentError(fmt::format("the '{}' demuxer reads other resources named in the data; imio does not allow it "
                                    "(kwarg format)",
                                    forced->name));
  }
  av_dict_set(&options.d, "format_whitelist", demuxer_whitelist().c_str(), 0);
  av_dict_set(&options.d, "protocol_whitelist", url ? "http,https,tcp,tls" : "imio-none", 0);
  av_dict_set(&options.d, "protocol_blacklist", nullptr, 0);
  if (!url) fmt_->io_open = refuse_nested_open;
  int ret = avformat_open_input(&fmt_, name.c_str(), forced, &options.d);  // frees fmt_ on failure
  if (io_) io_->rethrow_pending();
  if (ret < 0) throw InitializationError(describe_failure("FFmpeg cannot open the data", ret));
  ret = avformat_find_stream_info(fmt_, nullptr);
  if (io_) io_->rethrow_pending();
  if (ret < 0) throw InitializationError(describe_failure("FFmpeg cannot read the streams", ret));
  stream_index_ = -1;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    if (fmt_->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && (wanted_stream_ < 0 || static_cast<int>(i) == wanted_stream_)) {
      stream_index_ = static_cast<int>(i);
      break;
    }
  }
  // D5: no video stream is a refusal like any other unreadable resource.
  if (stream_index_ < 0) throw InitializationError(fmt::format("the {} container has no video stream", fmt_->iformat->name));
  const AVCodecParameters* par = stream()->codecpar;
  codec_ = avcodec_find_decoder(par->codec_id);
  if (codec_ == nullptr) {
    throw InitializationError(fmt::format("FFmpeg has no decoder for the video codec '{}'", avcodec_get_name(par->codec_id)));
  }
  if (par->width > 0 && par->height > 0) request_.check_pixels(static_cast<std::uint64_t>(par->width), static_cast<std::uint64_t>(par->height));
  rate_ = av_guess_frame_rate(fmt_, stream(), nullptr);
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index_) fmt_->streams[i]->discard = AVDISCARD_ALL;
  }
}

void Input::open_decoder() {
  dec_.reset(avcodec_alloc_context3(codec_));
  if (!dec_) throw std::bad_alloc();
  int ret = avcodec_parameters_to_context(dec_.get(), stream()->codecpar);
  if (ret < 0) throw InitializationError(describe_failure("FFmpeg cannot set up the decoder", ret));
  dec_->pkt_timebase = stream()->time_base;
  const Limits& limits = request_.limits();
  if (limits.max_pixels < static_cast<std::uint64_t>(INT64_MAX)) dec_->max_pixels = static_cast<std::int64_t>(limits.max_pixels);
  dec_->thread_count = threading_.count;
  if (threading_.type == "SLICE") dec_->thread_type = FF_THREAD_SLICE;
  if (threading_.type == "FRAME") dec_->thread_type = FF_THREAD_FRAME;
  ret = avcodec_open2(dec_.get(), codec_, nullptr);
  if (ret < 0) throw InitializationError(describe_failure("FFmpeg cannot open the decoder", ret));
  opened_threading_ = threading_;
  draining_ = false;
  finished_ = false;
  pending_.reset();
}

void Input::set_threading(const Threading& threading) { threading_ = threading; }

void Input::restart_decoder() {
  // A flushed decoder keeps what it learned from the stream so far; a new
  // one decodes frames after a seek to a recovery-point I frame (x264's
  // keyframes) differently from PyAV, whose frames the goldens hold.
  if (dec_ && threading_ == opened_threading_) {
    avcodec_flush_buffers(dec_.get());
    draining_ = false;
    finished_ = false;
    pending_.reset();
  } else {
    open_decoder();
  }
}

bool Input::variable_frame_rate() const noexcept { return (fmt_->iformat->flags & AVFMT_VARIABLE_FPS) != 0; }

bool Input::read_packet() {
  for (;;) {
    const int ret = av_read_frame(fmt_, pkt_.get());
    if (io_) io_->rethrow_pending();
    if (ret == AVERROR(EAGAIN)) continue;
    if (ret < 0) {
      // A cut file ends the stream where its data ends: the frames before
      // the damage are the video (as FFmpeg's own tools and PyAV do).
      if (ret != AVERROR_EOF) warn(kPlugin, describe_failure("demuxing stopped early", ret));
      return false;
    }
    if (pkt_->stream_index == stream_index_) return true;
    av_packet_unref(pkt_.get());
  }
}

bool Input::next_frame(AVFrame* out) {
  if (pending_) {
    av_frame_unref(out);
    av_frame_move_ref(out, pending_.get());
    pending_.reset();
    if (next_index_) ++*next_index_;
    return true;
  }
  if (finished_) return false;
  for (;;) {
    int ret = avcodec_receive_frame(dec_.get(), out);
    if (ret == 0) {
      if (next_index_) ++*next_index_;
      return true;
    }
    if (ret == AVERROR_EOF) {
      finished_ = true;
      return false;
    }
    if (ret != AVERROR(EAGAIN)) throw DecodeError(describe_failure("the video stream does not decode", ret));
    if (draining_) {
      finished_ = true;
      return false;
    }
    if (read_packet()) {
      ret = avcodec_send_packet(dec_.get(), pkt_.get());
      av_packet_unref(pkt_.get());
    } else {
      ret = avcodec_send_packet(dec_.get(), nullptr);
      draining_ = true;
    }
    if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) {
      throw DecodeError(describe_failure("the video stream does not decode", ret));
    }
  }
}

void Input::rewind() {
  const std::int64_t start = stream()->start_time != AV_NOPTS_VALUE ? stream()->start_time : 0;
  int ret = av_seek_frame(fmt_, stream_index_, start, AVSEEK_FLAG_BACKWARD);
  if (io_) io_->rethrow_pending();
  if (ret < 0) {
    // Some demuxers (single images, raw streams) cannot seek: open again.
    close_container();
    open_container();
    open_decoder();
  } else {
    restart_decoder();
  }
  next_index_ = 0;
}

void Input::to_start() {
  if (next_index_ == 0 && pending_ && threading_ == opened_threading_) return;
  rewind();
}

std::optional<std::int64_t> Input::index_of(const AVFrame& frame) const {
  const std::int64_t ts = frame.best_effort_timestamp;
  if (ts == AV_NOPTS_VALUE || rate_.num <= 0 || rate_.den <= 0) return std::nullopt;
  const AVRational tb = stream()->time_base;
  const double seconds = static_cast<double>(ts - start_pts_) * tb.num / tb.den;
  return std::llround(seconds * rate_.num / rate_.den);
}

bool Input::seek_to(std::int64_t k, bool constant_frame_rate) {
  if (next_index_ && *next_index_ == k) return true;
  const bool hop = next_index_ && k > *next_index_ && k - *next_index_ <= kForwardHop;
  if (constant_frame_rate && !hop && rate_.num > 0 && rate_.den > 0) {
    // Spec §5.2.2: the keyframe at or before k / fps, then forward.
    const std::int64_t target = start_pts_ + av_rescale_q(k, av_inv_q(rate_), stream()->time_base);
    const int ret = av_seek_frame(fmt_, stream_index_, target, AVSEEK_FLAG_BACKWARD);
    if (io_) io_->rethrow_pending();
    if (ret >= 0) {
      restart_decoder();
      next_index_.reset();
      FramePtr f = make_frame();
      bool first = true;
      while (next_frame(f.get())) {
        const auto idx = index_of(*f);
        if (!idx || (first && *idx > k)) break;  // cannot place the frame: decode from the start
        first = false;
        if (*idx >= k) {
          pending_ = std::move(f);
          next_index_ = k;
          return true;
        }
      }
      if (!first && finished_) return false;
    }
    rewind();
  } else if (!next_index_ || k < *next_index_) {
    rewind();
  }
  FramePtr f = make_frame();
  while (*next_index_ < k) {
    if (!next_frame(f.get())) return false;
  }
  // Keep frame k for the next call.
  if (!next_frame(f.get())) return false;
  pending_ = std::move(f);
  --*next_index_;
  return true;
}

std::int64_t Input::count_decoded_frames() {
  rewind();
  AVCodecContext* dec = dec_.get();
  const AVDiscard idct = dec->skip_idct, loop = dec->skip_loop_filter;
  dec->skip_idct = AVDISCARD_ALL;
  dec->skip_loop_filter = AVDISCARD_ALL;
  FramePtr frame = make_frame();
  std::int64_t n = 0;
  try {
    while (next_frame(frame.get())) {
      ++n;
      request_.check_frames(static_cast<std::uint64_t>(n));
    }
  } catch (...) {
    if (dec_.get() == dec) {
      dec->skip_idct = idct;
      dec->skip_loop_filter = loop;
    }
    throw;
  }
  if (dec_.get() == dec) {
    dec->skip_idct = idct;
    dec->skip_loop_filter = loop;
  }
  rewind();
  return n;
}

std::int64_t Input::count_frames() {
  if (stream()->nb_frames > 0) return stream()->nb_frames;
  rewind();
  std::int64_t n = 0;
  while (read_packet()) {
    av_packet_unref(pkt_.get());
    ++n;
    request_.check_frames(static_cast<std::uint64_t>(n));
  }
  rewind();
  return n;
}

}  // namespace imio::ffmpeg
