// imio — the encoded bytes a plugin reads (ByteSource) and writes (ByteSink).
// For plugin authors (<imio/plugin.hpp> includes it).
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace imio {

/// Random-access reader over the encoded data of a resource.
///
/// Position 0 is the first byte of the resource (for a caller's istream: the
/// position it had when the call began). Every source is seekable: data of
/// non-seekable streams are buffered as they are read.
class IMIO_EXPORT ByteSource {
 public:
  virtual ~ByteSource();
  /// Reads up to `n` bytes at the current position; fewer only at the end.
  /// Throws IOError on an operating-system failure.
  virtual std::size_t read(void* dst, std::size_t n) = 0;
  /// Moves to absolute position `pos` (beyond the end is allowed; reads then return 0).
  virtual void seek(std::uint64_t pos) = 0;
  /// The current absolute position.
  virtual std::uint64_t tell() const = 0;
  /// Total size when known without reading everything.
  virtual std::optional<std::uint64_t> size() const = 0;
  /// The whole data as one view when already in memory or memory-mapped.
  virtual std::optional<std::span<const std::byte>> contiguous() const { return std::nullopt; }

  /// Reads exactly `n` bytes or throws DecodeError ("unexpected end of data").
  void read_exact(void* dst, std::size_t n);
  /// Reads everything from the current position to the end (bounded by max_bytes).
  Bytes read_all(std::uint64_t max_bytes);
};

/// Sequential writer with seek, over the target of a write request.
class IMIO_EXPORT ByteSink {
 public:
  virtual ~ByteSink();
  /// Writes all `n` bytes or throws IOError (disk full, stream failure).
  virtual void write(const void* src, std::size_t n) = 0;
  /// Moves to absolute position `pos`; IOError when the target cannot seek.
  virtual void seek(std::uint64_t pos) = 0;
  /// The current absolute position (bytes from the start of the output).
  virtual std::uint64_t tell() const = 0;
};

}  // namespace imio
