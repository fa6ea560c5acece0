// Collects data of unknown length (an http body, a decompressed zip member)
// and hands it to plugins as one seekable ByteSource: in memory while small,
// in an anonymous temporary file beyond a threshold (so a large download
// does not hold its whole body in RAM).
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <memory>

namespace imio::detail {

class Spool {
 public:
  /// Bodies up to this size stay in memory.
  static constexpr std::uint64_t kMemoryThreshold = std::uint64_t{16} << 20;

  /// `max_bytes` bounds the total (LimitError beyond; Limits::max_bytes).
  explicit Spool(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  /// A hint: the total size when known, to allocate once.
  void expect(std::uint64_t total);
  /// Appends; LimitError beyond max_bytes, IOError when the temporary file fails.
  void append(const void* data, std::size_t n);
  std::uint64_t size() const noexcept { return size_; }
  /// The collected data, from byte 0. The spool is empty afterwards.
  std::unique_ptr<ByteSource> finish();

 private:
  void spill();

  std::uint64_t max_bytes_;
  std::uint64_t size_ = 0;
  Bytes memory_;
  int fd_ = -1;
};

}  // namespace imio::detail
