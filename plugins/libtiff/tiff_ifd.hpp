// The TIFF file structure (TIFF 6.0 §2, BigTIFF): header, IFD chain and the
// raw tag entries, parsed by imio itself. Reading the directories directly
// (instead of TIFFSetDirectory per page) keeps a 1000-page stack cheap and
// gives every tag, including repeated ones (a second ImageDescription), to
// the metadata code.
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace imio::tiff {

enum TagType : std::uint16_t {
  kByte = 1, kAscii = 2, kShort = 3, kLong = 4, kRational = 5, kSByte = 6, kUndefined = 7,
  kSShort = 8, kSLong = 9, kSRational = 10, kFloat = 11, kDouble = 12, kIfd = 13,
  kLong8 = 16, kSLong8 = 17, kIfd8 = 18,
};

/// The pointer tags that link a page's IFD to its EXIF, GPS and (from the
/// Exif IFD) interoperability IFDs (EXIF 2.32 §4.6.3).
inline constexpr std::uint16_t kExifPointer = 0x8769, kGpsPointer = 0x8825, kInteropPointer = 0xA005;

/// Bytes per value of a TIFF field type, 0 for an unknown type.
std::size_t type_size(std::uint16_t type) noexcept;

/// One directory entry with its value bytes (in the file's byte order).
struct Entry {
  std::uint16_t tag = 0;
  std::uint16_t type = 0;
  std::uint64_t count = 0;
  std::vector<std::byte> data;
  bool little = true;

  /// Value i as an unsigned integer (integer and IFD types; rationals give the numerator).
  std::uint64_t u(std::size_t i = 0) const noexcept;
  /// Value i as a signed integer.
  std::int64_t s(std::size_t i = 0) const noexcept;
  /// Value i as a double (rationals divided; a zero denominator gives NaN).
  double f(std::size_t i = 0) const noexcept;
  /// ASCII value up to the first NUL.
  std::string text() const;
  /// Number of values (rationals count once each).
  std::size_t size() const noexcept { return static_cast<std::size_t>(count); }
  bool is_integer() const noexcept;
};

/// One image file directory.
struct Ifd {
  std::uint64_t offset = 0;
  std::uint64_t entry_count = 0;  ///< as stored (entries drops unreadable ones)
  std::vector<Entry> entries;
  /// Tags dropped because their values lie past the end of the file.
  std::vector<std::uint16_t> lost;
  /// The values added up to more than read_ifd_at's `value_budget`: the
  /// entries after that point were not read.
  bool over_budget = false;
  /// The first entry with this tag, or nullptr.
  const Entry* find(std::uint16_t tag) const noexcept;
  /// The n-th entry with this tag (0 = first), or nullptr.
  const Entry* find_nth(std::uint16_t tag, std::size_t n) const noexcept;
  /// The tag's first value as an unsigned integer, or `fallback`.
  std::uint64_t get(std::uint16_t tag, std::uint64_t fallback) const noexcept;
};

/// The parsed structure of a TIFF file.
struct Structure {
  bool little = true;
  bool bigtiff = false;
  std::vector<Ifd> ifds;
  /// The file's size, or the largest uint64 when the source cannot tell.
  std::uint64_t file_size = UINT64_MAX;
};

/// Whether `first` starts with a classic or BigTIFF header (either byte order).
bool has_tiff_header(std::span<const std::byte> first) noexcept;

/// Parses the header and the IFD chain. A broken header, or a first IFD
/// that cannot be read (the file is cut inside its header or first IFD, or
/// the offset points past its end), throws DecodeError; a first IFD offset
/// of 0 is a file without pages (the list is empty). A broken chain after
/// the first IFD (loop, offset outside the file) ends the list with a
/// warning, as tifffile does; more IFDs than limits.max_frames is a
/// LimitError.
Structure parse_structure(ByteSource& source, const Limits& limits);

/// Reads one IFD at `offset` (for sub-IFDs such as EXIF); nullopt when it
/// cannot be read. Reading stops (`over_budget`) before the values would add
/// up to more than `value_budget` bytes: entries may all point at the same
/// bytes, so a small file could otherwise make it read gigabytes.
std::optional<Ifd> read_ifd_at(ByteSource& source, const Structure& s, std::uint64_t offset,
                               std::uint64_t value_budget = UINT64_MAX);

}  // namespace imio::tiff
