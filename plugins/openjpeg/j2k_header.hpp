// What the plugin knows of a JPEG 2000 file before OpenJPEG reads it: the
// JP2 boxes (ISO/IEC 15444-1 Annex I: ihdr, colr, pclr/cmap/cdef, res,
// xml, uuid, jp2c) and the codestream's main header (Annex A: SIZ, COD,
// COC, COM), every size checked against the data, and a walk over the
// tile-parts (SOT/Psot) that finds a cut or incomplete codestream without
// decoding it. From these come the Limits checks before OpenJPEG
// allocates, improps' shape and dtype (D11) and immeta's keys.
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::openjpeg {

/// Whether `first` (up to 12 bytes) starts a JP2 file (the signature box)
/// or a raw codestream (SOC followed by SIZ).
bool has_signature(std::span<const std::byte> first);

/// One codestream component (SIZ).
struct Component {
  int precision = 8;  ///< bits, 1…38
  bool is_signed = false;
  std::uint32_t dx = 1, dy = 1;  ///< subsampling on the reference grid
};

/// The coding style a tile-component uses by default (COD, COC).
struct CodingStyle {
  int levels = 5;                     ///< wavelet decompositions (resolutions − 1)
  int codeblock_w = 64, codeblock_h = 64;
  bool reversible = true;             ///< 5/3 (true) or 9/7 wavelet
  int codeblock_style = 0;            ///< SPcod's mode switches (bit 6: HT code-blocks)
  std::vector<std::pair<int, int>> precincts;  ///< (PPx, PPy) per resolution, lowest first; empty: 2^15
};

/// The main header of a codestream and what the tile-part walk found.
struct Codestream {
  std::size_t offset = 0, length = 0;  ///< within the file
  std::uint16_t rsiz = 0;              ///< capabilities (profile; bit 14: HTJ2K)
  std::uint32_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;  ///< the image area on the reference grid
  std::uint32_t tile_x0 = 0, tile_y0 = 0, tile_w = 0, tile_h = 0;
  std::uint32_t tiles_x = 0, tiles_y = 0;
  std::vector<Component> components;
  int progression = 0;  ///< 0 LRCP … 4 CPRL
  int layers = 1;
  int mct = 0;
  CodingStyle style;              ///< COD's
  std::vector<int> levels;        ///< per component, COC applied
  std::vector<std::string> comments;  ///< COM segments of Latin text
  std::size_t tile_parts = 0;

  std::uint32_t width() const { return x1 - x0; }
  std::uint32_t height() const { return y1 - y0; }
  std::uint64_t tiles() const { return std::uint64_t{tiles_x} * tiles_y; }
  /// The fewest resolution levels any component has: `reduce` may be at most this − 1.
  int min_resolutions() const;
};

/// A palette (pclr) and its component mapping (cmap).
struct Palette {
  std::uint16_t entries = 0;
  std::vector<int> column_bits;    ///< bits of each palette column (bit 7: signed)
  struct Channel {
    std::uint16_t component = 0;
    bool from_palette = false;
    std::uint8_t column = 0;
  };
  std::vector<Channel> channels;   ///< cmap, in order
};

/// One cdef entry.
struct ChannelDef {
  std::uint16_t channel = 0, type = 0, association = 0;
};

/// The boxes of a JP2 (or JPX/JPF) file that matter here.
struct Jp2Boxes {
  std::string brand;  ///< "jp2 ", "jpx ", …
  std::uint32_t ihdr_height = 0, ihdr_width = 0;
  std::uint16_t ihdr_components = 0;
  std::uint8_t ihdr_bpc = 0;
  int colr_method = 0;          ///< 0: no colr box; 1 enumerated; 2/3 ICC
  std::uint32_t enumcs = 0;     ///< 16 sRGB, 17 greyscale, 18 sYCC, 12 CMYK, …
  std::vector<std::byte> icc;   ///< method 2/3
  std::optional<Palette> palette;
  std::vector<ChannelDef> cdef;
  std::optional<std::pair<double, double>> capture_dpi, display_dpi;  ///< (x, y) from resc / resd
  std::vector<std::byte> xmp;   ///< the XMP uuid box
  std::vector<std::byte> exif;  ///< the EXIF uuid box ("JpgTiffExif->JP2"): a TIFF-structured block
  std::vector<std::byte> iptc;  ///< the IPTC uuid box: IIM datasets
  std::vector<std::string> xml; ///< xml boxes
};

/// A parsed file.
struct Header {
  bool jp2 = false;
  Jp2Boxes boxes;
  Codestream cs;
};

/// Parses the JP2 boxes up to the first contiguous codestream (jp2c), or
/// the raw codestream, then the codestream's main header, then walks its
/// tile-parts. Throws DecodeError naming what is wrong: "the file is
/// truncated: …" for data that end early (a box, a marker segment or a
/// tile-part that runs past the end, no EOC), and the field for values
/// the standard forbids.
Header parse(std::span<const std::byte> file);

/// A JP2 `res ` superbox holding a `resc` box for `dpi` (x, y), to insert in jp2h.
std::vector<std::byte> resolution_box(double dpi_x, double dpi_y);

/// `jp2` (an encoder's JP2 file) with its jp2h box edited: the colr box
/// replaced by one holding `icc` (method 2) unless `icc` is empty, and
/// `extra` (whole boxes) appended; the box's length is fixed.
std::vector<std::byte> edit_jp2h(std::span<const std::byte> jp2, std::span<const std::byte> icc, std::span<const std::byte> extra);

}  // namespace imio::openjpeg
