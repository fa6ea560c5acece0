// The HEIF container as the plugin reads it before libheif does: the
// ISOBMFF boxes of the `ftyp` and `meta` boxes (brands, items, their
// references and properties), parsed with every size checked against the
// data. It finds what libheif 1.15's API does not tell (chroma format, the
// transformation properties in file order) and refuses what would make
// libheif recurse without end (item references in a loop) or run past the
// data (a box cut short), with messages that say what is wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::heif {

/// One property box of the `ipco` list, as an item uses it.
struct Property {
  std::string type;                   ///< "ispe", "irot", "hvcC", …
  std::span<const std::byte> payload; ///< the box body after its header (full-box header included)
};

/// One item of the `iinf` list.
struct Item {
  std::uint32_t id = 0;
  std::string type;                    ///< "hvc1", "av01", "grid", "iovl", "iden", "Exif", "mime", …
  std::vector<Property> properties;    ///< in `ipma` order
  std::map<std::string, std::vector<std::uint32_t>> refs;  ///< iref type → to-item ids (from this item)
  int construction_method = 0;                 ///< iloc: 0 file offsets, 1 idat offsets
  std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;  ///< iloc: (offset, length), base offset added
};

/// The fields of a `grid` item's data (ISO/IEC 23008-12 §6.6.2.3.2).
struct Grid {
  std::uint32_t rows = 0, columns = 0;
  std::uint32_t width = 0, height = 0;  ///< the output image
};

/// What the plugin knows of a file before libheif reads it.
struct Container {
  std::string major_brand;
  std::vector<std::string> compatible_brands;
  std::optional<std::uint32_t> primary;  ///< pitm
  bool has_meta = false;                  ///< a `meta` box (image items) was found
  bool has_moov = false;                  ///< a `moov` box (an image sequence's track) was found
  std::span<const std::byte> idat;        ///< the `meta` box's `idat` body
  std::map<std::uint32_t, Item> items;
};

/// Whether the first bytes are an ISOBMFF `ftyp` box whose major or
/// compatible brands name a HEIF image format (heic, heix, heim, heis,
/// hevc, hevx, mif1, msf1, avif, avis, mif2, miaf). `first` holds up to
/// 64 bytes.
bool has_signature(std::span<const std::byte> first);

/// Parses `ftyp` and `meta`. Throws DecodeError for a box that runs past
/// its parent or the data ("the file is truncated: …") and for item
/// references in a loop (an image that
/// would need itself to be decoded: `dimg` of a grid, overlay or identity
/// item, `auxl` of an alpha or depth image). Unknown boxes are skipped.
Container parse(std::span<const std::byte> file);

/// The grid descriptor of item `item` (a `grid` item), from its data
/// through `iloc`; nullopt when the data are not where iloc says (libheif
/// then reports the item).
std::optional<Grid> grid_of(const Container& c, std::span<const std::byte> file, std::uint32_t item);

/// The `ispe` size (width, height) of item `item`, when it has one.
std::optional<std::pair<std::uint32_t, std::uint32_t>> ispe_of(const Container& c, std::uint32_t item);

/// The size (width, height) of item `item` once its transformations are
/// applied in file order (clap crops, irot 90/270 swaps), from its ispe;
/// nullopt without an ispe.
std::optional<std::pair<std::uint32_t, std::uint32_t>> displayed_size(const Container& c, std::uint32_t item);

/// Whether item `item` (or a grid's first tile) is AV1-coded (`av01`).
bool is_av1(const Container& c, std::uint32_t item);

/// The chroma format of an image item, "420", "422", "444" or
/// "monochrome", from its (first tile's) hvcC or av1C; empty when unknown.
std::string chroma_of(const Container& c, std::uint32_t item);

/// The transformation properties of an item in the order the file lists
/// them (the order they apply in): "irot 90" (anticlockwise degrees),
/// "imir 0" / "imir 1" (the mirror axis field as stored), "clap WxH" (the
/// clean aperture's size, rounded as libheif rounds it).
std::vector<std::string> transformations_of(const Container& c, std::uint32_t item);

}  // namespace imio::heif
