#include "av_io.hpp"

#include <algorithm>
#include <cstdio>
#include <new>

extern "C" {
#include <libavutil/mem.h>
}

namespace imio::ffmpeg {
namespace {

// FFmpeg's own file protocol reads in blocks of this size.
constexpr int kBufferSize = 64 * 1024;

std::uint8_t* alloc_buffer() {
  auto* buf = static_cast<std::uint8_t*>(av_malloc(kBufferSize));
  if (buf == nullptr) throw std::bad_alloc();
  return buf;
}

}  // namespace

AvIo::AvIo(ByteSource& source) : source_(&source) {
  std::uint8_t* buf = alloc_buffer();
  ctx_ = avio_alloc_context(buf, kBufferSize, 0, this, &AvIo::read_cb, nullptr, &AvIo::seek_cb);
  if (ctx_ == nullptr) {
    av_free(buf);
    throw std::bad_alloc();
  }
  ctx_->seekable = AVIO_SEEKABLE_NORMAL;  // every ByteSource can seek (spec: buffered streams)
}

AvIo::AvIo(ByteSink& sink) : sink_(&sink), sink_end_(sink.tell()) {
  std::uint8_t* buf = alloc_buffer();
  ctx_ = avio_alloc_context(buf, kBufferSize, 1, this, nullptr, &AvIo::write_cb, &AvIo::seek_cb);
  if (ctx_ == nullptr) {
    av_free(buf);
    throw std::bad_alloc();
  }
}

AvIo::~AvIo() {
  if (ctx_ != nullptr) {
    av_freep(&ctx_->buffer);
    avio_context_free(&ctx_);
  }
}

void AvIo::rethrow_pending() {
  if (pending_) {
    auto e = pending_;
    pending_ = nullptr;
    std::rethrow_exception(e);
  }
}

int AvIo::read_cb(void* opaque, std::uint8_t* buf, int size) {
  auto* self = static_cast<AvIo*>(opaque);
  try {
    const std::size_t n = self->source_->read(buf, static_cast<std::size_t>(size));
    return n == 0 ? AVERROR_EOF : static_cast<int>(n);
  } catch (...) {
    if (!self->pending_) self->pending_ = std::current_exception();
    return AVERROR(EIO);
  }
}

int AvIo::write_cb(void* opaque, WriteBuffer buf, int size) {
  auto* self = static_cast<AvIo*>(opaque);
  try {
    self->sink_->write(buf, static_cast<std::size_t>(size));
    self->sink_end_ = std::max(self->sink_end_, self->sink_->tell());
    return size;
  } catch (...) {
    if (!self->pending_) self->pending_ = std::current_exception();
    return AVERROR(EIO);
  }
}

std::int64_t AvIo::seek_cb(void* opaque, std::int64_t offset, int whence) {
  auto* self = static_cast<AvIo*>(opaque);
  try {
    const bool reading = self->source_ != nullptr;
    std::int64_t size = -1;
    if (reading) {
      if (auto s = self->source_->size()) size = static_cast<std::int64_t>(*s);
    } else {
      size = static_cast<std::int64_t>(self->sink_end_);
    }
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return size >= 0 ? size : AVERROR(ENOSYS);
    std::int64_t target = offset;
    if (whence == SEEK_CUR) {
      target += static_cast<std::int64_t>(reading ? self->source_->tell() : self->sink_->tell());
    } else if (whence == SEEK_END) {
      if (size < 0) return AVERROR(ENOSYS);
      target += size;
    } else if (whence != SEEK_SET) {
      return AVERROR(EINVAL);
    }
    if (target < 0) return AVERROR(EINVAL);
    if (reading) {
      self->source_->seek(static_cast<std::uint64_t>(target));
    } else {
      self->sink_->seek(static_cast<std::uint64_t>(target));
    }
    return target;
  } catch (...) {
    if (!self->pending_) self->pending_ = std::current_exception();
    return AVERROR(EIO);
  }
}

}  // namespace imio::ffmpeg
