// AVIOContexts over imio's ByteSource (reading) and ByteSink (writing), so
// FFmpeg sees files, memory and caller streams alike through the Request.
#pragma once

#include <imio/plugin.hpp>

#include <exception>
#include <memory>

#include "av_util.hpp"

namespace imio::ffmpeg {

/// An AVIOContext bound to a ByteSource or ByteSink. Exceptions thrown by
/// the source/sink cannot cross FFmpeg's C frames: the callbacks keep the
/// first one and return an error, and rethrow_pending() raises it after
/// the FFmpeg call returns.
class AvIo {
 public:
  explicit AvIo(ByteSource& source);
  explicit AvIo(ByteSink& sink);
  ~AvIo();
  AvIo(const AvIo&) = delete;
  AvIo& operator=(const AvIo&) = delete;

  AVIOContext* context() const noexcept { return ctx_; }
  /// Throws the exception a callback caught, if any.
  void rethrow_pending();

 private:
  static int read_cb(void* opaque, std::uint8_t* buf, int size);
  // FFmpeg 7.0 (lavf 61; doc/APIchanges 2023-09-07, lavf 60.12.100) makes
  // the buffer of avio_alloc_context()'s write_packet callback const.
#if LIBAVFORMAT_VERSION_MAJOR >= 61
  using WriteBuffer = const std::uint8_t*;
#else
  using WriteBuffer = std::uint8_t*;
#endif
  static int write_cb(void* opaque, WriteBuffer buf, int size);
  static std::int64_t seek_cb(void* opaque, std::int64_t offset, int whence);

  ByteSource* source_ = nullptr;
  ByteSink* sink_ = nullptr;
  std::uint64_t sink_end_ = 0;  // the sink's size, for SEEK_END and AVSEEK_SIZE
  AVIOContext* ctx_ = nullptr;
  std::exception_ptr pending_;
};

}  // namespace imio::ffmpeg
