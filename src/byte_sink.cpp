#include <imio/plugin.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>

#include <sys/types.h>

#include <fmt/format.h>

#include "byte_io.hpp"

namespace imio {

ByteSink::~ByteSink() = default;

namespace detail {

void MemorySink::write(const void* src, std::size_t n) {
  if (pos_ + n > max_bytes_) {
    throw LimitError(fmt::format("the encoded data exceed max_bytes={} (raise Limits::max_bytes)", max_bytes_));
  }
  const auto end = static_cast<std::size_t>(pos_ + n);
  if (end > data_.size()) data_.resize(end);
  if (n > 0) std::memcpy(data_.data() + pos_, src, n);
  pos_ = end;
}

void MemorySink::seek(std::uint64_t pos) {
  if (pos > max_bytes_) throw LimitError(fmt::format("seek beyond max_bytes={}", max_bytes_));
  if (pos > data_.size()) data_.resize(static_cast<std::size_t>(pos));
  pos_ = pos;
}

FileSink::~FileSink() {
  if (file_ != nullptr) std::fclose(file_);
}

void FileSink::write(const void* src, std::size_t n) {
  if (n > 0 && std::fwrite(src, 1, n, file_) != n) {
    throw IOError(fmt::format("write failed: {}", std::strerror(errno)));
  }
}

void FileSink::seek(std::uint64_t pos) {
  if (::fseeko(file_, static_cast<off_t>(pos), SEEK_SET) != 0) {
    throw IOError(fmt::format("seek failed: {}", std::strerror(errno)));
  }
}

std::uint64_t FileSink::tell() const { return static_cast<std::uint64_t>(::ftello(file_)); }

void FileSink::finish() {
  std::FILE* f = std::exchange(file_, nullptr);
  const bool flushed = std::fflush(f) == 0 && std::ferror(f) == 0;
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!flushed || !closed) throw IOError(fmt::format("write failed: {}", std::strerror(flushed ? errno : err)));
}

OStreamSink::OStreamSink(std::ostream& out) : out_(out) {
  try {
    const auto p = out_.tellp();
    if (p != std::ostream::pos_type(-1)) start_ = static_cast<std::int64_t>(p);
  } catch (...) {
  }
  out_.clear();
}

void OStreamSink::write(const void* src, std::size_t n) {
  try {
    out_.write(static_cast<const char*>(src), static_cast<std::streamsize>(n));
  } catch (const std::exception& e) {
    throw IOError(fmt::format("stream write failed: {}", e.what()));
  }
  if (!out_) throw IOError("stream write failed");
  pos_ += n;
  end_ = std::max(end_, pos_);
}

void OStreamSink::seek(std::uint64_t pos) {
  if (!start_) throw IOError("the output stream cannot seek");
  try {
    out_.seekp(*start_ + static_cast<std::int64_t>(pos));
  } catch (const std::exception& e) {
    throw IOError(fmt::format("stream seek failed: {}", e.what()));
  }
  if (!out_) throw IOError("the output stream cannot seek");
  pos_ = pos;
}

void OStreamSink::finish() {
  // Leave the stream after the written data, whatever the plugin's last seek.
  if (start_ && pos_ != end_) seek(end_);
  try {
    out_.flush();
  } catch (const std::exception& e) {
    throw IOError(fmt::format("stream flush failed: {}", e.what()));
  }
  if (!out_) throw IOError("stream flush failed");
}

}  // namespace detail
}  // namespace imio
