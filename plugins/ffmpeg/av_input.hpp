// One opened container and the decoder of its first video stream: the
// demux/decode loop every read-side call of the ffmpeg plugin runs on.
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "av_io.hpp"
#include "av_util.hpp"

namespace imio::ffmpeg {

/// imopen's read-side kwargs (spec §5.2.1): a demuxer to force and
/// options for FFmpeg's open call.
struct OpenArgs {
  std::optional<std::string> format;
  Dict options;
};

/// Decoder threading (spec §5.2.2 thread_count / thread_type).
struct Threading {
  int count = 0;                      ///< 0: FFmpeg's default
  std::optional<std::string> type{};  ///< "SLICE", "FRAME" or FFmpeg's default
  bool operator==(const Threading&) const = default;
};

class Input {
 public:
  /// Opens the container of `request` and its first video stream, and
  /// decodes the first frame. Throws InitializationError (the factory's
  /// refusal, D4/D5) when FFmpeg cannot open the data, there is no video
  /// stream, or no frame decodes — except for a still image whose header
  /// gives the size and format (see body_error()).
  Input(Request& request, OpenArgs args);
  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  AVFormatContext* container() const noexcept { return fmt_; }
  AVStream* stream() const noexcept { return fmt_->streams[stream_index_]; }
  AVCodecContext* decoder() const noexcept { return dec_.get(); }
  const AVCodec* codec() const noexcept { return codec_; }
  /// Width, height and pixel format of the first decoded frame.
  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  AVPixelFormat pixel_format() const noexcept { return pix_fmt_; }
  /// Why the first frame did not decode, when it was accepted anyway.
  const std::optional<std::string>& body_error() const noexcept { return body_error_; }
  /// The stream's guessed frame rate (PyAV's guessed_rate).
  AVRational frame_rate() const noexcept { return rate_; }
  /// Whether the container's demuxer declares a variable frame rate.
  bool variable_frame_rate() const noexcept;

  /// Reopens the container on video stream `index` (an ICO file has one
  /// stream per image) and decodes its first frame, as the constructor does
  /// for the first video stream.
  void use_stream(int index);
  int stream_index() const noexcept { return stream_index_; }

  /// Uses `threading` from the next decoder (re)start on.
  void set_threading(const Threading& threading);

  /// The next decoded frame in presentation order into `out`; false at the
  /// end of the stream. DecodeError when the decoder rejects the data.
  bool next_frame(AVFrame* out);
  /// Index (in iteration order) of the frame next_frame() returns next,
  /// when known (unknown after a seek until a frame is decoded).
  std::optional<std::int64_t> next_index() const noexcept { return next_index_; }
  /// Back to frame 0 (seeks and flushes the decoder).
  void rewind();
  /// So that next_frame() returns frame 0: free when the handle is already
  /// there with the requested threading (a fresh handle keeps the frame its
  /// constructor decoded), else rewind().
  void to_start();
  /// Positions the decoder so that next_frame() returns frame k, seeking to
  /// the keyframe before its time (constant frame rate) or decoding forward
  /// (restarting when going back). False when the stream ends first.
  bool seek_to(std::int64_t k, bool constant_frame_rate);
  /// The frame index a decoded frame has by its timestamp at the stream's rate.
  std::optional<std::int64_t> index_of(const AVFrame& frame) const;

  /// Frames of the stream without decoding: the container's count when it
  /// states one, else the packets of the stream counted by demuxing (D11).
  /// Leaves the decoder rewound.
  std::int64_t count_frames();
  /// The frames a read of the whole stream returns (D11: improps equals
  /// imread), counted by decoding cheaply: the IDCT and the loop filter
  /// are skipped, every picture still comes out. A container's stated count
  /// or its packets can both differ from that (a cut file whose index
  /// lists frames it does not hold, an access unit without a picture).
  /// Throws the DecodeError a read would throw.
  std::int64_t count_decoded_frames();


 private:
  /// The constructor's work: open, find the stream, decode the first frame.
  void start();
  void open_container();
  void close_container() noexcept;
  void open_decoder();
  /// Flushes the decoder (or opens a new one when the threading changed).
  void restart_decoder();
  /// Demuxes the next packet of the video stream; false at the end.
  bool read_packet();

  Request& request_;
  OpenArgs args_;
  std::unique_ptr<AvIo> io_;
  AVFormatContext* fmt_ = nullptr;
  // An http(s) URL is first handed to FFmpeg's own protocol (spec §5.2.1);
  // when that fails (a server without Range support under an MP4 whose
  // index is at the end), the body is read through imio's download instead.
  bool ffmpeg_reads_url_ = false;
  int stream_index_ = -1;
  int wanted_stream_ = -1;  // use_stream()'s choice; -1: the first video stream
  const AVCodec* codec_ = nullptr;
  CodecPtr dec_;
  PacketPtr pkt_;
  FramePtr pending_;  // a decoded frame next_frame() returns before decoding more
  Threading threading_, opened_threading_;
  bool draining_ = false;  // the demuxer is exhausted and the decoder flushed
  bool finished_ = false;
  std::optional<std::int64_t> next_index_ = 0;
  std::int64_t start_pts_ = 0;
  int width_ = 0, height_ = 0;
  AVPixelFormat pix_fmt_ = AV_PIX_FMT_NONE;
  AVRational rate_{0, 1};
  std::optional<std::string> body_error_;
};

}  // namespace imio::ffmpeg
