// The core's ByteSource and ByteSink implementations (memory, files, streams).
#pragma once

#include <imio/plugin.hpp>

#include <cstdio>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>

namespace imio::detail {

/// A source over memory the caller keeps alive.
std::unique_ptr<ByteSource> memory_source(std::span<const std::byte> data);
/// A source over a file: memory-mapped where possible, else read with pread.
/// Throws FileNotFoundError / IOError naming `path`.
std::unique_ptr<ByteSource> file_source(const std::filesystem::path& path);
/// A source over an open descriptor (taken over and closed by the source);
/// `path` is for messages. Regular files are memory-mapped.
std::unique_ptr<ByteSource> fd_source(int fd, const std::filesystem::path& path);
/// A source owning its bytes (a decompressed zip member, a small download).
std::unique_ptr<ByteSource> owned_memory_source(Bytes data);
/// A source over a caller's istream, starting at its current position.
/// Seekable streams are read in place; others are buffered as they are read,
/// up to `max_bytes` (LimitError beyond). The destructor puts a seekable
/// stream back at its starting position.
std::unique_ptr<ByteSource> stream_source(std::istream& in, std::uint64_t max_bytes);

/// A sink collecting bytes in memory (the "<bytes>" target), bounded by max_bytes.
class MemorySink final : public ByteSink {
 public:
  explicit MemorySink(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}
  void write(const void* src, std::size_t n) override;
  void seek(std::uint64_t pos) override;
  std::uint64_t tell() const override { return pos_; }
  Bytes take() { return std::move(data_); }

 private:
  Bytes data_;
  std::uint64_t pos_ = 0;
  std::uint64_t max_bytes_;
};

/// A sink writing to a new file (the temporary sibling of an atomic write).
class FileSink final : public ByteSink {
 public:
  /// Takes ownership of an open FILE*; `path` is for messages.
  FileSink(std::FILE* file, std::filesystem::path path) : file_(file), path_(std::move(path)) {}
  ~FileSink() override;
  void write(const void* src, std::size_t n) override;
  void seek(std::uint64_t pos) override;
  std::uint64_t tell() const override;
  /// Flushes and closes; IOError when the data did not all reach the file.
  void finish();

 private:
  std::FILE* file_;
  std::filesystem::path path_;
};

/// A sink writing through to a caller's ostream, positions relative to where
/// the stream was. Seeking needs a seekable stream (IOError otherwise).
class OStreamSink final : public ByteSink {
 public:
  explicit OStreamSink(std::ostream& out);
  void write(const void* src, std::size_t n) override;
  void seek(std::uint64_t pos) override;
  std::uint64_t tell() const override { return pos_; }
  void finish();

 private:
  std::ostream& out_;
  std::optional<std::int64_t> start_;
  std::uint64_t pos_ = 0;
  std::uint64_t end_ = 0;
};

}  // namespace imio::detail
