// What a JPEG header says, as imageio's pillow plugin reports it (spec
// §5.1.8): Pillow's info keys from APP0/APP1/APP2/APP14/COM and the SOF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <imio/metadata.hpp>
#include <imio/value.hpp>

#include "jpeg_backend.hpp"

namespace imio::libjpeg {

/// What reading needs from the header, found when the file is opened.
struct ImageHeader {
  std::uint32_t width = 0, height = 0;
  int components = 0;
  bool progressive = false;
  std::string mode;                  ///< Pillow's native mode: "L", "RGB" or "CMYK"
  std::span<const std::byte> exif;  ///< the first "Exif\0" APP1 payload (in the file's bytes), prefix included; empty when none
};

/// The header fields from libjpeg (after jpeg_read_header) and the EXIF
/// segment of `file`, the whole JPEG stream, found without copying it.
/// DecodeError for component counts Pillow cannot represent.
ImageHeader read_image_header(const jpeg_decompress_struct& cinfo, std::span<const std::byte> file);

/// What immeta reports beyond the image header. Built only when metadata is
/// asked (issue #26: a plain imread does not pay for Pillow's info mapping,
/// an ICC profile's copy or the EXIF's dpi).
struct HeaderInfo {
  Metadata info;  ///< Pillow's info mapping (jfif…, exif, icc_profile, dpi, adobe…, comment)
  Bytes exif;     ///< the first "Exif\0\0" APP1 segment, prefix included; empty when none
  // For the normalised entries (jpeg_metadata.hpp); the spans point into the
  // file's bytes, which the reader keeps.
  std::span<const std::byte> xmp;                          ///< the first standard XMP packet (after its APP1 prefix)
  std::vector<std::span<const std::byte>> xmp_extension;  ///< extended XMP APP1 payloads (after the prefix), in file order
  Bytes photoshop;  ///< the APP13 "Photoshop 3.0\0" payloads joined in file order (a large resource spans several)
};

/// Reads the APPn/COM segments of `file`, the whole JPEG stream, whose
/// header `image` describes (read_image_header).
HeaderInfo describe_header(const ImageHeader& image, std::span<const std::byte> file);

/// Whether `file` ends before its EOI marker (ITU T.81 §B.2.1): a walk over
/// the marker segments that steps through entropy-coded data to the next
/// marker, decoding nothing. A file cut anywhere after its header is one.
bool ends_before_eoi(std::span<const std::byte> file);

}  // namespace imio::libjpeg
