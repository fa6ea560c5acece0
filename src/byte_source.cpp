#include <imio/plugin.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <istream>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "byte_io.hpp"

namespace imio {

ByteSource::~ByteSource() = default;

void ByteSource::read_exact(void* dst, std::size_t n) {
  const std::uint64_t at = tell();
  const std::size_t got = read(dst, n);
  if (got != n) {
    throw DecodeError(fmt::format("unexpected end of data: needed {} bytes at offset {}, got {}", n, at, got));
  }
}

Bytes ByteSource::read_all(std::uint64_t max_bytes) {
  Bytes out;
  if (auto total = size()) {
    const std::uint64_t here = tell();
    const std::uint64_t n = *total > here ? *total - here : 0;
    if (n > max_bytes) {
      throw LimitError(fmt::format("{} bytes exceed max_bytes={} (raise Limits::max_bytes)", n, max_bytes));
    }
    out.resize(static_cast<std::size_t>(n));
    out.resize(read(out.data(), out.size()));
    return out;
  }
  std::byte chunk[65536];
  while (const std::size_t got = read(chunk, sizeof chunk)) {
    if (out.size() + got > max_bytes) {
      throw LimitError(fmt::format("the data exceed max_bytes={} (raise Limits::max_bytes)", max_bytes));
    }
    out.insert(out.end(), chunk, chunk + got);
  }
  return out;
}

namespace detail {
namespace {

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::span<const std::byte> data) : data_(data) {}
  std::size_t read(void* dst, std::size_t n) override {
    if (pos_ >= data_.size()) return 0;
    n = std::min<std::size_t>(n, data_.size() - static_cast<std::size_t>(pos_));
    if (n > 0) std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  void seek(std::uint64_t pos) override { pos_ = pos; }
  std::uint64_t tell() const override { return pos_; }
  std::optional<std::uint64_t> size() const override { return data_.size(); }
  std::optional<std::span<const std::byte>> contiguous() const override { return data_; }

 private:
  std::span<const std::byte> data_;
  std::uint64_t pos_ = 0;
};

std::string os_error(int err) { return std::strerror(err); }

// A file read with pread (when it cannot be mapped: empty files, special files).
class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::filesystem::path path, std::optional<std::uint64_t> size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  std::size_t read(void* dst, std::size_t n) override {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, static_cast<char*>(dst) + done, n - done, static_cast<off_t>(pos_ + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw IOError(fmt::format("read failed: {}", os_error(errno)));
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    pos_ += done;
    return done;
  }
  void seek(std::uint64_t pos) override { pos_ = pos; }
  std::uint64_t tell() const override { return pos_; }
  std::optional<std::uint64_t> size() const override { return size_; }

 private:
  int fd_;
  std::filesystem::path path_;
  std::optional<std::uint64_t> size_;
  std::uint64_t pos_ = 0;
};

// A mapped file: contiguous() views the mapping; large reads use pread,
// which copies without faulting in the mapping's pages one by one (measured
// 1.1-2.7x faster than memcpy from the mapping for whole-file reads).
class MappedSource final : public ByteSource {
 public:
  MappedSource(int fd, void* map, std::size_t size, std::filesystem::path path)
      : map_(map), view_(static_cast<const std::byte*>(map), size), inner_(view_), file_(fd, std::move(path), size) {}
  ~MappedSource() override { ::munmap(map_, view_.size()); }
  std::size_t read(void* dst, std::size_t n) override {
    if (n < kPreadThreshold) return inner_.read(dst, n);
    file_.seek(inner_.tell());
    const std::size_t got = file_.read(dst, n);
    inner_.seek(file_.tell());
    return got;
  }
  void seek(std::uint64_t pos) override { inner_.seek(pos); }
  std::uint64_t tell() const override { return inner_.tell(); }
  std::optional<std::uint64_t> size() const override { return view_.size(); }
  std::optional<std::span<const std::byte>> contiguous() const override { return view_; }

 private:
  static constexpr std::size_t kPreadThreshold = std::size_t{256} << 10;
  void* map_;
  std::span<const std::byte> view_;
  MemorySource inner_;
  FileSource file_;  // owns the descriptor
};

// A small file (up to 256 KiB), read whole with pread into a buffer and closed at once
// (issue #26 item 5): for files of a few KiB, mapping costs more than the
// decode (mmap, the page faults, munmap; measured +13.6 us per 64x64 JPEG),
// and mmap/munmap take the process's memory-map lock, so threads reading
// small files in parallel waited for each other. The buffers are kept per
// thread for the next file, so a loop over small files allocates nothing
// and touches no fresh page.
class SmallFileSource final : public ByteSource {
 public:
  SmallFileSource(int fd, std::size_t size) : buffer_(take_buffer(size)) {
    FileSource file(fd, {}, size);  // closes the descriptor
    view_ = MemorySource({buffer_.data.get(), file.read(buffer_.data.get(), size)});
  }
  ~SmallFileSource() override { give_back(std::move(buffer_)); }
  std::size_t read(void* dst, std::size_t n) override { return view_.read(dst, n); }
  void seek(std::uint64_t pos) override { view_.seek(pos); }
  std::uint64_t tell() const override { return view_.tell(); }
  std::optional<std::uint64_t> size() const override { return view_.size(); }
  std::optional<std::span<const std::byte>> contiguous() const override { return view_.contiguous(); }

  // Where the copy starts to cost more than the mapping it saves: reading
  // uncompressed npy files in a loop (the worst case: decoding is a copy),
  // 48 KB took 4.8 us read whole against 12.1 us mapped, 192 KB 15.9 against
  // 18.3, 468 KB 36 against 36, 768 KB 68 against 56.
  static constexpr std::size_t kMaxSize = std::size_t{256} << 10;

 private:
  struct Buffer {
    std::unique_ptr<std::byte[]> data;
    std::size_t capacity = 0;
  };
  static constexpr std::size_t kKept = 4;  // buffers kept per thread: sources alive at once
  static std::vector<Buffer>& free_buffers() {
    thread_local std::vector<Buffer> buffers;
    return buffers;
  }
  static Buffer take_buffer(std::size_t size) {
    std::vector<Buffer>& free = free_buffers();
    for (std::size_t i = free.size(); i-- > 0;) {
      if (free[i].capacity >= size) {
        Buffer b = std::move(free[i]);
        free.erase(free.begin() + static_cast<std::ptrdiff_t>(i));
        return b;
      }
    }
    // At least 64 KiB, so one buffer serves the next files of a folder.
    const std::size_t capacity = std::max<std::size_t>(size, std::size_t{64} << 10);
    return {std::make_unique_for_overwrite<std::byte[]>(capacity), capacity};
  }
  // Kept in place of the smallest kept one when all places are taken, so
  // a folder of larger files does not allocate a buffer per file.
  static void give_back(Buffer b) noexcept {
    try {
      std::vector<Buffer>& free = free_buffers();
      if (free.size() < kKept) {
        free.push_back(std::move(b));
        return;
      }
      auto smallest = std::min_element(free.begin(), free.end(),
                                       [](const Buffer& x, const Buffer& y) { return x.capacity < y.capacity; });
      if (smallest->capacity < b.capacity) *smallest = std::move(b);
    } catch (...) {  // no room to keep it: it is freed
    }
  }

  Buffer buffer_;
  MemorySource view_{{}};
};

// Streams may have exceptions enabled; they become IOErrors.
template <class F>
auto guard(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    throw IOError(fmt::format("stream error: {}", e.what()));
  }
}

// A caller's istream. Positions are relative to where the stream was when the
// call began. Seekable streams are read in place; the bytes of a non-seekable
// stream are kept as they are read, so that every candidate plugin can start
// again from byte 0 (DECISIONS D3).
class StreamSource final : public ByteSource {
 public:
  StreamSource(std::istream& in, std::uint64_t max_bytes) : in_(in), max_bytes_(max_bytes) {
    in_.clear(in_.rdstate() & ~std::ios::eofbit);
    const auto start = guard([&] { return in_.tellg(); });
    if (start != std::istream::pos_type(-1)) {
      const bool sized = guard([&] { return static_cast<bool>(in_.seekg(0, std::ios::end)); });
      const auto end = guard([&] { return in_.tellg(); });
      if (sized && end != std::istream::pos_type(-1) && end >= start) {
        start_ = static_cast<std::int64_t>(start);
        size_ = static_cast<std::uint64_t>(end - start);
      }
      in_.clear();
      guard([&] { return static_cast<bool>(in_.seekg(start)); });
    }
    in_.clear();
  }
  ~StreamSource() override {
    if (start_) {
      try {
        in_.clear();
        in_.seekg(*start_);
      } catch (...) {
      }
    }
  }
  std::size_t read(void* dst, std::size_t n) override {
    if (start_) return read_seekable(dst, n);
    return read_buffered(dst, n);
  }
  void seek(std::uint64_t pos) override { pos_ = pos; }
  std::uint64_t tell() const override { return pos_; }
  std::optional<std::uint64_t> size() const override { return size_; }

 private:
  std::size_t raw_read(char* dst, std::size_t n) {
    return guard([&] {
      in_.read(dst, static_cast<std::streamsize>(n));
      const auto got = static_cast<std::size_t>(in_.gcount());
      if (in_.bad()) throw IOError("stream read failed");
      in_.clear(in_.rdstate() & ~(std::ios::eofbit | std::ios::failbit));
      return got;
    });
  }
  std::size_t read_seekable(void* dst, std::size_t n) {
    if (pos_ >= *size_) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, *size_ - pos_));
    guard([&] { return static_cast<bool>(in_.seekg(*start_ + static_cast<std::int64_t>(pos_))); });
    const std::size_t got = raw_read(static_cast<char*>(dst), n);
    pos_ += got;
    return got;
  }
  std::size_t read_buffered(void* dst, std::size_t n) {
    const std::uint64_t want = pos_ + n;
    while (!eof_ && buffer_.size() < want) {
      if (buffer_.size() >= max_bytes_) {
        throw LimitError(fmt::format("the stream holds more than max_bytes={} bytes (raise Limits::max_bytes)", max_bytes_));
      }
      const std::size_t chunk = static_cast<std::size_t>(
          std::min<std::uint64_t>({std::uint64_t{1} << 20, max_bytes_ - buffer_.size(), std::max<std::uint64_t>(want - buffer_.size(), 65536)}));
      const std::size_t old = buffer_.size();
      buffer_.resize(old + chunk);
      const std::size_t got = raw_read(reinterpret_cast<char*>(buffer_.data() + old), chunk);
      buffer_.resize(old + got);
      if (got == 0) {
        eof_ = true;
        size_ = buffer_.size();
      }
    }
    if (pos_ >= buffer_.size()) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, buffer_.size() - pos_));
    std::memcpy(dst, buffer_.data() + pos_, n);
    pos_ += n;
    return n;
  }

  std::istream& in_;
  std::uint64_t max_bytes_;
  std::optional<std::int64_t> start_;
  std::optional<std::uint64_t> size_;
  std::uint64_t pos_ = 0;
  Bytes buffer_;
  bool eof_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> memory_source(std::span<const std::byte> data) { return std::make_unique<MemorySource>(data); }

std::unique_ptr<ByteSource> file_source(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw FileNotFoundError(fmt::format("no such file: {}", os_error(err)));
    throw IOError(fmt::format("cannot open: {}", os_error(err)));
  }
  return fd_source(fd, path);
}

std::unique_ptr<ByteSource> fd_source(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IOError(fmt::format("cannot stat: {}", os_error(err)));
  }
  if (S_ISDIR(st.st_mode)) {
    // imageio points at its plugins for image folders (DICOM series); imio
    // has none, and the check comes before any plugin is chosen.
    ::close(fd);
    throw IOError("is a folder, and no imio plugin reads folders: pass one of its files");
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) <= SmallFileSource::kMaxSize) {
    return std::make_unique<SmallFileSource>(fd, static_cast<std::size_t>(st.st_size));
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto n = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) return std::make_unique<MappedSource>(fd, map, n, path);
  }
  std::optional<std::uint64_t> size;
  if (S_ISREG(st.st_mode)) size = static_cast<std::uint64_t>(st.st_size);
  return std::make_unique<FileSource>(fd, path, size);
}

std::unique_ptr<ByteSource> owned_memory_source(Bytes data) {
  // The bytes live in the source, beside the view that reads them.
  class Owned final : public ByteSource {
   public:
    explicit Owned(Bytes data) : data_(std::move(data)), view_(data_) {}
    std::size_t read(void* dst, std::size_t n) override { return view_.read(dst, n); }
    void seek(std::uint64_t pos) override { view_.seek(pos); }
    std::uint64_t tell() const override { return view_.tell(); }
    std::optional<std::uint64_t> size() const override { return view_.size(); }
    std::optional<std::span<const std::byte>> contiguous() const override { return view_.contiguous(); }

   private:
    Bytes data_;
    MemorySource view_;
  };
  return std::make_unique<Owned>(std::move(data));
}

std::unique_ptr<ByteSource> stream_source(std::istream& in, std::uint64_t max_bytes) {
  return std::make_unique<StreamSource>(in, max_bytes);
}

}  // namespace detail
}  // namespace imio
