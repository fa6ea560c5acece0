// The EXIF and GPS tag names (exiftool's and Pillow's spelling) and the
// pointer tags that link the IFDs, shared by the EXIF reader (exif_ifds.cpp)
// and writer (exif_write.cpp) so that a name reads back as it was written.
#pragma once

#include <cstdint>

namespace imio::exif_detail {

/// A tag number and its name.
struct TagName {
  std::uint16_t tag;
  const char* name;
};

/// IFD0, Exif, interoperability and IFD1 tags, sorted by number.
inline constexpr TagName kExifNames[] = {
#include "exif_tag_names.inc"
};
/// GPS IFD tags, sorted by number.
inline constexpr TagName kGpsNames[] = {
#include "exif_gps_tag_names.inc"
};

/// The pointer tags that link the IFDs (EXIF 2.32 §4.6.3): structure, not
/// entries of the parsed form.
inline constexpr std::uint16_t kExifPointer = 0x8769, kGpsPointer = 0x8825, kInteropPointer = 0xA005;

}  // namespace imio::exif_detail
