// The EXIF of a RAW file, as LibRaw 0.20 parses it: LibRaw keeps no EXIF
// block, but hands each IFD entry it reads to an exif parser callback.
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <vector>

namespace imio::libraw {

/// Collects the entries of IFD0, the Exif, GPS and interoperability IFDs
/// from LibRaw's exif parser callback (installed before the file is
/// opened), and lays them out again as one TIFF-structured EXIF block for
/// read_exif_tags. Bounded: values over 1 MiB, more than 16 MiB in all and
/// more than 1024 entries per IFD are dropped; a tag LibRaw reports twice
/// for an IFD keeps its first value.
class ExifCollector {
 public:
  /// LibRaw's exif_parser_callback (libraw_types.h): `context` is the
  /// collector; `ifp` the LibRaw_abstract_datastream, at the value.
  static void callback(void* context, int tag, int type, int len, unsigned int ord, void* ifp, long long base) noexcept;  // INT64

  /// Takes no more entries: what LibRaw parses later (unpacking a
  /// thumbnail, identifying again after it recycled) does not change the
  /// file's EXIF.
  void seal() noexcept { sealed_ = true; }

  /// The block (classic TIFF, the file's byte order), empty when LibRaw
  /// reported no entry of those IFDs.
  Bytes block() const;

 private:
  struct Entry {
    int ifd;  // 0 IFD0, 1 Exif, 2 GPS, 3 interoperability
    std::uint16_t tag, type;
    std::uint32_t count;
    Bytes value;
  };
  std::vector<Entry> entries_;
  unsigned order_ = 0;  // 0x4949 "II" or 0x4d4d "MM"
  std::size_t bytes_ = 0;
  bool sealed_ = false;
};

}  // namespace imio::libraw
