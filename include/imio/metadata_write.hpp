// imio — writing photo metadata: EXIF and IPTC blocks built from their
// parsed form (what read_exif_tags and read_iptc_tags return), the writers'
// metadata kwargs, and carrying a file's metadata to another file.
#pragma once

#include <imio/export.hpp>
#include <imio/kwargs.hpp>
#include <imio/metadata.hpp>
#include <imio/value.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imio {

/// A TIFF-structured EXIF block (TIFF 6.0 §2, EXIF 2.32 §4.6), without the
/// "Exif\0\0" prefix of a JPEG APP1 segment, built from the parsed form
/// read_exif_tags returns: a map from IFD name ("IFD0", "ExifIFD", "GPS",
/// "InteropIFD", "IFD1") to a map of tags named as exiftool names them (or
/// "0xabcd"). read_exif_tags(write_exif_tags(x)) == x for such a map whose
/// IFD0 is present and whose values are what read_exif_tags gives, except
/// that IFD1's ThumbnailOffset and ThumbnailLength are structure: they are
/// dropped, and written (pointing to the data) when IFD1 holds the
/// thumbnail as bytes under "ThumbnailImage" (exiftool's name for it).
///
/// Offsets are computed afresh: IFD0 first, its values, then the Exif IFD,
/// the interoperability IFD, the GPS IFD and IFD1, each followed by its
/// values, on even offsets; entries in ascending tag order; IFD0 points to
/// the Exif IFD (0x8769, also created empty when only an InteropIFD is given)
/// and to the GPS IFD (0x8825), the Exif IFD to the interoperability IFD
/// (0xA005), IFD0's next IFD is IFD1.
///
/// Each tag's TIFF type is the one EXIF 2.32 gives it when imio knows it
/// (ASCII, BYTE, UNDEFINED, SHORT, LONG, RATIONAL, SRATIONAL); otherwise it
/// follows the value: str → ASCII, bytes → UNDEFINED, int → SHORT when every
/// value fits 16 bits, else LONG (SLONG when negative), float → RATIONAL
/// (SRATIONAL when negative). A list is several values. A float becomes the
/// fraction of 32-bit integers (the first continued-fraction convergent)
/// that gives the same double back, or the closest one; NaN becomes 0/0.
/// A name exiftool gives two tags is written as the EXIF 2.32 one
/// ("ExposureIndex" → 0xA215).
/// @throws ArgumentError naming the IFD and the tag when an IFD name is not
///   one of the five, a tag name is unknown or is an IFD pointer, a value's
///   type does not fit the tag (a number for Make, a str for Orientation,
///   a negative or fractional value for SHORT, a float beyond 32 bits for a
///   RATIONAL), a str holds a NUL, or a list is empty; and when the block
///   would exceed 4 GiB.
///
/// `base`: the offsets are written as if the block began at byte `base` of
/// a file — for a TIFF file that appends the block and points its own
/// IFD0 to the Exif and GPS IFDs in it (the block's header and IFD0 are
/// then unused bytes). 0 for a standalone block.
IMIO_EXPORT Bytes write_exif_tags(const Metadata& tags, std::endian byte_order = std::endian::little,
                                  std::uint64_t base = 0);

/// The EXIF block `exif` (TIFF-structured, with or without "Exif\0\0"; the
/// prefix is kept as given) with IFD0's Orientation set to `orientation`
/// (1…8). The value is changed in place when IFD0 holds it as one SHORT, so
/// every other byte (MakerNote offsets, the thumbnail) stays as it was;
/// otherwise the block is parsed and rebuilt with write_exif_tags (an IFD1
/// thumbnail is then lost). An empty `exif` gives a block holding only the
/// Orientation.
/// @throws ArgumentError when `orientation` is not 1…8; DecodeError when the
///   block must be rebuilt and cannot be parsed.
IMIO_EXPORT Bytes set_exif_orientation(std::span<const std::byte> exif, int orientation);

/// An IPTC IIM 4.2 block (the datasets, §1.5) from the parsed form
/// read_iptc_tags returns: exiftool's dataset names or "record:dataset"
/// keys; a list value is the dataset repeated, in list order. Datasets are
/// written in the order given, grouped by record (1 before 2); a value
/// longer than 32767 bytes uses an extended length (§1.5.4).
/// read_iptc_tags(write_iptc_tags(x)) == x for what read_iptc_tags gives
/// (records in ascending order).
/// @throws ArgumentError naming the dataset when a name is unknown, a
///   "record:dataset" key is out of range, or a value's type does not fit
///   it (text datasets take str, binary numbers int 0…65535 (wider values
///   take 4 bytes), undefined data bytes; "record:dataset" keys str or
///   bytes).
IMIO_EXPORT Bytes write_iptc_tags(const Metadata& datasets);

/// One Photoshop image resource ("8BIM", `id`, an empty name, the size,
/// `data` padded to an even size; Photoshop File Formats, Image Resource
/// Blocks), as a JPEG APP13 "Photoshop 3.0\0" segment holds IPTC (0x0404).
IMIO_EXPORT Bytes photoshop_resource_block(std::uint16_t id, std::span<const std::byte> data);

/// A writer's `exif` kwarg, shared by the plugins: None or absent → none;
/// bytes (or str, its bytes) → the block as given, without its "Exif\0\0"
/// prefix (it must start with a TIFF header, "II*\0" or "MM\0*"); a dict →
/// write_exif_tags. An empty block is none. Marks `key` as read.
/// @throws ArgumentError from `kw` naming the plugin, the method and the key
///   (and the tag, for a dict) when the value does not make a block.
IMIO_EXPORT std::optional<Bytes> take_exif_kwarg(KwargReader& kw, std::string_view key = "exif");
/// A writer's `xmp` kwarg: bytes or str (the packet as UTF-8) → the packet;
/// None, absent or empty → none.
/// @throws ArgumentError from `kw` for another type.
IMIO_EXPORT std::optional<Bytes> take_xmp_kwarg(KwargReader& kw, std::string_view key = "xmp");
/// An XMP packet as UTF-8, for formats whose place holds UTF-8 text (PNG's
/// iTXt): a UTF-16 or UTF-32 packet (XMP Part 1 §7.9 allows them; told by
/// its byte-order mark or by how its first character '<' is stored) is
/// transcoded, its byte-order mark becoming UTF-8's; a UTF-8 packet comes
/// back as given.
/// @throws ArgumentError when a UTF-16 or UTF-32 packet is cut or holds an
///   unpaired surrogate or a code point beyond U+10FFFF.
IMIO_EXPORT Bytes xmp_as_utf8(std::span<const std::byte> packet);
/// The JPEG APP1 segment payloads that hold an XMP packet (XMP Part 3
/// §1.1.3): one standard segment ("http://ns.adobe.com/xap/1.0/\0", then
/// the packet) when the packet fits its 65504 bytes. A larger packet is
/// extended XMP (§1.1.3.1): the standard segment holds a small packet that
/// names the extension (xmpNote:HasExtendedXMP, the MD5 digest of the
/// packet as 32 uppercase hexadecimal digits), and extension segments
/// ("http://ns.adobe.com/xmp/extension/\0", that GUID, the full length and
/// the chunk's offset as big-endian 32-bit numbers, then up to 65458 bytes)
/// carry the whole packet as given. Readers (exiftool, imio's `xmp` and
/// `xmp_extended`) join the two.
/// @throws ArgumentError when the packet is 4 GiB or more (the length field).
IMIO_EXPORT std::vector<Bytes> xmp_jpeg_segments(std::span<const std::byte> packet);
/// The APP1 payloads of a standard XMP packet and the extended packet it
/// names, both kept as given (how `imio convert` carries a JPEG's
/// `xmp` and `xmp_extended` byte for byte): `standard` in the standard
/// segment, `extension` in extension segments (chunks of 65458 bytes) under
/// the GUID `standard` names in xmpNote:HasExtendedXMP. The GUID is not
/// recomputed: XMP Part 3 §1.1.3.1 makes it the MD5 of the extension, which
/// a packet carried unchanged still is.
/// @throws ArgumentError when `standard` does not fit one segment (65504
///   bytes), names no extension (no HasExtendedXMP of 32 hex digits), or
///   `extension` is 4 GiB or more.
IMIO_EXPORT std::vector<Bytes> xmp_jpeg_segments(std::span<const std::byte> standard, std::span<const std::byte> extension);
/// The GUID an XMP packet names in xmpNote:HasExtendedXMP (XMP Part 3
/// §1.1.3.1), as an attribute or an element: the 32 characters after the
/// quote or '>'; empty when it names none.
IMIO_EXPORT std::string xmp_extension_guid(std::span<const std::byte> packet);
/// A writer's `iptc` kwarg: bytes → the IIM block as given; a dict →
/// write_iptc_tags; None, absent or empty → none.
/// @throws ArgumentError from `kw` naming the dataset when the dict does not
///   make a block.
IMIO_EXPORT std::optional<Bytes> take_iptc_kwarg(KwargReader& kw, std::string_view key = "iptc");
/// A writer's `icc_profile` kwarg: bytes (or str, its bytes) → the profile;
/// None, absent or empty → none.
IMIO_EXPORT std::optional<Bytes> take_icc_kwarg(KwargReader& kw, std::string_view key = "icc_profile");

/// The metadata blocks of an image, in the form the writers' kwargs take.
struct MetadataBlocks {
  std::optional<Bytes> exif;         ///< TIFF-structured EXIF, without "Exif\0\0"
  std::optional<Bytes> xmp;          ///< the XMP packet
  std::optional<Bytes> iptc;         ///< the IPTC IIM block
  std::optional<Bytes> icc_profile;  ///< the ICC profile
};

/// The orientation a writer records, by one rule for every format: an
/// `orientation` kwarg (1…8) wins and the EXIF block's IFD0 Orientation is
/// set to it (set_exif_orientation; when there is no block, one holding only
/// it is made if `make_exif` and the orientation is not 1 — formats with
/// their own field pass false); without the kwarg, the EXIF's Orientation, when valid, is
/// the orientation (formats with their own field, HEIF's irot/imir and JPEG
/// XL's header, store that one); else none. `exif` is updated in place.
/// @throws ArgumentError (from set_exif_orientation) for an orientation
///   outside 1…8.
IMIO_EXPORT std::optional<int> reconcile_orientation(std::optional<Bytes>& exif, std::optional<int> orientation,
                                                     bool make_exif = true);

/// Whether TIFF tag `tag` describes how an image's pixels are stored (TIFF
/// 6.0 §8: size, samples, compression, strips, photometric, planar layout;
/// §15 tiles; §21 YCbCr coefficients, subsampling and reference values;
/// §22 old-style JPEG; the IFD pointer tags of EXIF 2.32 §4.6.3): the
/// written image's own, never carried from another image's EXIF.
IMIO_EXPORT bool describes_tiff_storage(std::uint16_t tag) noexcept;

/// What copy_metadata carries to a writer, and what it could not.
struct MetadataCopy {
  /// The write kwargs that carry the blocks (`exif`, `xmp`, `iptc`,
  /// `icc_profile`): add them to the write call's kwargs.
  Kwargs kwargs{};
  /// The entries carried, in that order.
  std::vector<std::string> carried{};
  /// Each entry the source has but the target cannot take, with why.
  std::vector<std::pair<std::string, std::string>> not_carried{};
};

/// Options of copy_metadata.
struct CopyMetadataOptions {
  /// The pixels were turned upright when read (the source's Orientation was
  /// applied): the EXIF's Orientation is reset to 1 (set_exif_orientation).
  bool orientation_applied = false;
};

/// The kwargs that carry `source`'s metadata — what immeta gave for it:
/// its `exif`, `xmp`, `iptc` and `icc_profile` entries (bytes; `xmp` may be
/// str; a PNG's `XML:com.adobe.xmp` text stands for `xmp`) — to a write by
/// the plugin `target_plugin` (its canonical name or an alias:
/// ImageFile::plugin_name() of the imopen(…, "w") handle). An entry is
/// carried when that plugin's write method declares the kwarg of the same
/// name; otherwise it is listed in `not_carried`. The blocks are carried as
/// bytes, unchanged (EXIF without its "Exif\0\0" prefix) unless
/// `orientation_applied`. A source that gives only the parsed form
/// (`exif_tags`: TIFF pages, RAW files) has its EXIF rebuilt from it with
/// write_exif_tags, without the IFD0 tags that describe the source's own
/// pixel storage (describes_tiff_storage) and without IFD1; when that form
/// does not make a block, `exif` is listed in `not_carried` with the reason.
/// @throws NoPluginError when `target_plugin` is not registered.
IMIO_EXPORT MetadataCopy copy_metadata(const Metadata& source, std::string_view target_plugin,
                                       const CopyMetadataOptions& options = {});

}  // namespace imio
