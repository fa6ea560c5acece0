// The zip container of NumPy's .npz files (numpy.savez, numpy.savez_compressed):
// the central directory read from any seekable ByteSource, one member at a
// time as a ByteSource of its own (stored or deflated), and a writer that
// streams members into a ByteSink. Only what .npz needs: no encryption, no
// multi-disk archives, methods 0 (stored) and 8 (deflate); ZIP64 both ways.
#pragma once

#include <imio/byte_source.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imio::npy {

/// "PK\3\4" (a local file header) or "PK\5\6" (the end record of an empty archive).
bool has_zip_signature(std::span<const std::byte> first_bytes) noexcept;

/// One member as the central directory describes it.
struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  // 0 stored, 8 deflate
  std::uint16_t flags = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;  // uncompressed
  std::uint64_t local_header_offset = 0;
};

/// The archive's members in central-directory order (numpy's `files` order).
/// DecodeError for anything that is not a well-formed zip archive whose
/// entries lie inside the data (`data_size` bytes); `max_entries` bounds the
/// count before the directory is buffered.
std::vector<ZipEntry> read_central_directory(ByteSource& source, std::uint64_t data_size, std::uint64_t max_bytes);

/// The uncompressed bytes of one member, read on demand from `archive`
/// (which must outlive it and is not read by anyone else meanwhile). Reads
/// are sequential; a backward seek restarts the member. The CRC-32 is checked
/// when the last byte has been read. A stored member of a contiguous archive
/// is contiguous too.
std::unique_ptr<ByteSource> open_member(ByteSource& archive, std::uint64_t archive_size, const ZipEntry& entry);

/// Writes members one after the other into a sink that need not seek:
/// stored members with their sizes and CRC-32 in the local header (computed
/// first), deflated ones with a data descriptor, ZIP64 records throughout as
/// numpy's zipfile writes them (force_zip64).
class ZipWriter {
 public:
  explicit ZipWriter(ByteSink& sink) : sink_(sink) {}

  /// One member made of `parts` concatenated: `compress` selects deflate
  /// (level `level`, 0…9) over stored.
  void add(std::string_view name, std::span<const std::span<const std::byte>> parts, bool compress, int level);

  /// The central directory and end records; the archive is complete.
  void finish();

 private:
  void put(const void* data, std::size_t n);

  ByteSink& sink_;
  std::uint64_t offset_ = 0;
  std::vector<ZipEntry> entries_;
};

}  // namespace imio::npy
