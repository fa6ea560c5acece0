#include "spool.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "byte_io.hpp"

namespace imio::detail {
namespace {

// An unnamed file in the temporary folder: nothing to clean up, whatever
// happens to the process (O_TMPFILE; else a named file unlinked at once).
int anonymous_temporary_file() {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
#ifdef O_TMPFILE
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
#endif
  std::string name = (dir / "imio-spool-XXXXXX").string();
  const int named = ::mkstemp(name.data());
  if (named < 0) throw IOError(fmt::format("cannot create a temporary file in '{}': {}", dir.string(), std::strerror(errno)));
  ::unlink(name.c_str());
  ::fcntl(named, F_SETFD, FD_CLOEXEC);
  return named;
}

void write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t done = ::write(fd, p, n);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) throw IOError(fmt::format("cannot write the temporary copy: {}", std::strerror(errno)));
    p += done;
    n -= static_cast<std::size_t>(done);
  }
}

}  // namespace

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

void Spool::expect(std::uint64_t total) {
  if (total > max_bytes_) {
    throw LimitError(fmt::format("{} bytes exceed max_bytes={} (raise it with Limits{{.max_bytes = …}})", total, max_bytes_));
  }
  if (fd_ < 0 && total <= kMemoryThreshold) memory_.reserve(static_cast<std::size_t>(total));
}

void Spool::append(const void* data, std::size_t n) {
  if (n > max_bytes_ - size_) {
    throw LimitError(fmt::format("the data exceed max_bytes={} (raise it with Limits{{.max_bytes = …}})", max_bytes_));
  }
  if (fd_ < 0 && size_ + n > kMemoryThreshold) spill();
  if (fd_ >= 0) {
    write_all(fd_, data, n);
  } else {
    const auto* p = static_cast<const std::byte*>(data);
    memory_.insert(memory_.end(), p, p + n);
  }
  size_ += n;
}

void Spool::spill() {
  fd_ = anonymous_temporary_file();
  write_all(fd_, memory_.data(), memory_.size());
  Bytes().swap(memory_);
}

std::unique_ptr<ByteSource> Spool::finish() {
  size_ = 0;
  if (fd_ < 0) return owned_memory_source(std::move(memory_));
  return fd_source(std::exchange(fd_, -1), "<temporary copy>");
}

}  // namespace imio::detail
