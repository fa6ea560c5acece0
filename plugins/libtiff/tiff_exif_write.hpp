// EXIF in a written TIFF (EXIF 2.32 §4.6.2): the first page's IFD gets the
// EXIF's IFD0 tags and points to its Exif, GPS and interoperability IFDs.
#pragma once

#include <imio/metadata.hpp>
#include <imio/value.hpp>

#include <cstdint>
#include <set>

namespace imio::tiff {

/// What the writer's own tags are worth against the EXIF's IFD0: the tags
/// the EXIF may replace on the page, because the page holds only the
/// writer's default for them (no kwarg named them).
struct ExifOnPage {
  Dict tags;                              // read_exif_tags's form: IFD0, ExifIFD, GPS, InteropIFD (IFD1 ignored)
  std::set<std::uint16_t> replaceable;    // 270, 305, 306, 282, 283, 296 when no kwarg set them
};

/// Adds the EXIF to the finished TIFF `file` (classic or BigTIFF, either byte
/// order): a copy of the first page's IFD, holding its own entries, the
/// EXIF's IFD0 tags it lacks (those describing the pixels' storage
/// excepted: the page's win), the replaceable ones the EXIF gives, and the
/// ExifIFD (34665) and GPSInfo (34853) pointers, is appended with the
/// Exif, GPS and interoperability IFDs; the header then points to it (the
/// old IFD stays, unreferenced). Values keep their bytes: the EXIF block is
/// built by write_exif_tags in the file's byte order.
/// @throws ArgumentError when a classic TIFF would pass 4 GiB.
void add_exif(Bytes& file, const ExifOnPage& exif);

}  // namespace imio::tiff
