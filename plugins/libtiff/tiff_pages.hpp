// Pages (IFDs) as images, and their grouping into series (spec §5.3.2):
// shaped series (tifffile's JSON or `shape=(…)` description), ImageJ
// hyperstacks, Aperio SVS, Hamamatsu NDPI, and generic grouping of pages
// with identical geometry (OME-TIFF and Leica SCN: tiff_ome, tiff_scn).
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "tiff_ifd.hpp"

namespace imio::tiff {

/// TIFF tag numbers used by the reader and writer.
enum Tag : std::uint16_t {
  kNewSubfileType = 254, kImageWidth = 256, kImageLength = 257, kBitsPerSample = 258, kCompression = 259,
  kPhotometric = 262, kFillOrder = 266, kImageDescription = 270, kStripOffsets = 273, kSamplesPerPixel = 277,
  kRowsPerStrip = 278, kStripByteCounts = 279, kXResolution = 282, kYResolution = 283, kPlanarConfig = 284,
  kResolutionUnit = 296, kSoftware = 305, kDateTime = 306, kPredictor = 317, kColorMap = 320, kTileWidth = 322,
  kTileLength = 323, kTileOffsets = 324, kTileByteCounts = 325, kSubIfds = 330, kExtraSamples = 338,
  kSampleFormat = 339, kYCbCrSubsampling = 530, kImageDepth = 32997, kExifIfd = 34665,
  kMake = 271,
  // Hamamatsu NDPI's private tags (tifffile's TIFF.NDPI_TAGS names).
  kNdpiFileFormat = 65420, kNdpiMagnification = 65421, kNdpiMcuStarts = 65426, kNdpiSlideLabel = 65427,
  kNdpiCaptureMode = 65441,
};

/// One page: its geometry, the array it decodes to, and where its data lie.
struct Page {
  std::size_t ifd = 0;  ///< index of the directory holding its tags
  std::uint32_t width = 0, height = 0;
  std::uint16_t spp = 1, bps = 1, sample_format = 1, compression = 1, photometric = 1, planar = 1, predictor = 1,
                fill_order = 1;
  bool tiled = false;
  bool subifd = false;  ///< a SubIFD read for `level`: `ifd` indexes the reader's SubIFD structure
  std::uint32_t tile_width = 0, tile_height = 0, rows_per_strip = 0;
  std::vector<std::uint64_t> offsets, counts;  ///< strips or tiles
  bool jpeg_rgb = false;                       ///< JPEG-compressed YCbCr decoded to RGB
  bool ojpeg_rgb = false;                      ///< old-style JPEG YCbCr, decoded to RGB through TIFFReadRGBA*
  DType dtype = DType::uint8;
  Shape shape;          ///< (H,W), (H,W,S) contiguous or (S,H,W) planar
  std::string problem;  ///< why the page cannot be decoded (empty when it can)
  /// Why the file does not hold the page's data (a strip or tile ends past
  /// its end), empty when it does: found without decoding, so improps
  /// reports it as imread does (D11).
  std::string truncated;

  std::size_t nbytes() const noexcept;
  /// tifffile's grouping key: pages with equal keys stack into one series.
  bool same_kind(const Page& o) const noexcept;
};

/// An ndimage of the file: a list of pages and the shape they form.
struct Series {
  enum class Kind { generic, shaped, imagej, svs, ome, scn, ndpi };
  Kind kind = Kind::generic;
  Shape shape;
  DType dtype = DType::uint8;
  std::vector<Page> pages;
  /// Its reduced-resolution levels found in the main IFD chain, as tifffile
  /// finds them (generic pyramids, Aperio SVS, NDPI, SCN): `levels[k - 1]` is level k.
  /// Empty when the levels, if any, are SubIFDs (read on demand for `level`).
  std::vector<Series> levels;
  /// tifffile's series name: SVS's `Baseline`, `Thumbnail`, `Label`,
  /// `Macro`; NDPI's slide label or `Baseline`, `Macro`, `Map`; an OME
  /// Image's `Name`; an SCN image's `name` or `Unknown`; a shaped JSON
  /// description's `name`; empty otherwise.
  std::string name = {};
};

/// tifffile's name of a series kind (`generic`, `shaped`, `imagej`, `svs`, `ome`, `scn`, `ndpi`).
std::string_view kind_name(Series::Kind kind) noexcept;

/// Whether the first page marks a Hamamatsu NDPI file (tifffile's
/// TiffPage.is_ndpi: the NDPI FileFormat tag 65420 and Make are present).
bool is_ndpi(const Ifd& first) noexcept;

/// The number of elements of `s`, 0 when it overflows.
std::uint64_t product(const Shape& s);

/// The page of directory `index`.
Page make_page(const Structure& s, std::size_t index);

/// The series of the file, in order (spec §5.3.2). `file_name` (the
/// resource's file name, or empty) lets OME-XML name this file.
std::vector<Series> build_series(const Structure& s, const std::vector<Page>& pages, std::string_view file_name = {});

/// The key=value lines of an ImageJ description as typed values (int, float,
/// bool or string), or an empty Dict when `text` is not one.
Dict parse_imagej(std::string_view text);

/// The shape in a shaped description (`{"shape": [...]}` or `shape=(…)`).
std::optional<Shape> parse_shape_description(std::string_view text);

}  // namespace imio::tiff
