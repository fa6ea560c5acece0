// The single-image formats FFmpeg serves with the semantics of imageio's
// pillow plugin (DECISIONS D23, issue #18): which decoders give a still
// image, which extensions they have, which encoders write them and what
// those encoders keep. One table: the reader, the writer and the tests
// (test_ffmpeg_stills walks it) read it. Codecs and encoders are FFmpeg's
// names, looked up at run time, so the table needs no FFmpeg header.
#pragma once

#include <string_view>

namespace imio::ffmpeg {

/// How a format stores float samples.
enum class FloatStorage {
  none,    ///< integers only
  half,    ///< IEEE half (PHM): 11 significant bits
  single,  ///< IEEE single (PFM, EXR with the encoder's default `format=float`)
};

struct StillFormat {
  std::string_view name;        ///< as users know it: "BMP", "JPEG 2000"
  std::string_view codecs;      ///< FFmpeg decoder/codec names, space-separated
  std::string_view extensions;  ///< space-separated, the first is the format's own
  std::string_view encoders;    ///< encoders that write it, preferred first; empty: read-only
  bool lossless = true;         ///< what the default encoder settings give
  bool keeps_alpha = true;      ///< a written alpha channel reads back (BMP: no, see below)
  FloatStorage floats = FloatStorage::none;
  /// Still only from an image demuxer (image2, *_pipe, ico, fits, AVIF's
  /// mov brand): JPEG 2000 in an MJ2 file and AV1 in an MP4 are videos.
  bool image_demuxer_only = false;
  /// Holds several images (ICO: one per size): `index` selects, all lists.
  bool several = false;
  /// The encoder pixel formats the muxer takes, space-separated; empty: all
  /// the encoder's (FFmpeg's ico muxer takes PNG images in rgba only).
  std::string_view pixel_formats = {};
};

// Tests build files for every row with the ffmpeg CLI (first encoder) and
// read them back with imio and an independent reader.
inline constexpr StillFormat kStillFormats[] = {
    // FFmpeg writes a 32-bit BMP as BI_RGB: Pillow (and imio) read its
    // fourth byte as padding, so an alpha channel would be lost.
    {"BMP", "bmp", ".bmp .dib", "bmp", true, false},
    {"WebP", "webp", ".webp", "libwebp webp", false},
    {"TGA", "targa", ".tga", "targa"},
    {"PNM", "ppm pgm pbm", ".ppm .pgm .pbm .pnm", "ppm pgm pbm"},
    {"PAM", "pam", ".pam", "pam"},
    {"PGMYUV", "pgmyuv", ".pgmyuv", "pgmyuv"},
    {"PFM", "pfm", ".pfm", "pfm", true, true, FloatStorage::single},
    {"PHM", "phm", ".phm", "phm", true, true, FloatStorage::half},
    {"PCX", "pcx", ".pcx", "pcx"},
    {"SGI", "sgi", ".sgi .bw .rgb .rgba", "sgi"},
    {"Sun raster", "sunrast", ".ras .sun .sunras .im1 .im8 .im24 .rs", "sunrast"},
    {"XBM", "xbm", ".xbm", "xbm"},
    {"XPM", "xpm", ".xpm", ""},
    {"XWD", "xwd", ".xwd", "xwd"},
    {"DPX", "dpx", ".dpx", "dpx"},
    {"OpenEXR", "exr", ".exr", "exr", true, true, FloatStorage::single},
    // libopenjpeg writes reversible (lossless) JPEG 2000 with alpha and 16
    // bits; FFmpeg's own encoder is lossy by default and has no alpha.
    {"JPEG 2000", "jpeg2000", ".jp2 .j2k .j2c .jpc .jpf .jpx", "libopenjpeg jpeg2000", true, true, FloatStorage::none, true},
    {"JPEG-LS", "jpegls", ".jls", "jpegls"},
    {"FITS", "fits", ".fits .fit", "fits"},
    {"DDS", "dds", ".dds", ""},
    {"PSD", "psd", ".psd", ""},
    {"QOI", "qoi", ".qoi", "qoi"},
    // Its entries are BMP or PNG images: found by the ico demuxer, not by codec.
    {"ICO", "", ".ico", "png", true, true, FloatStorage::none, true, true, "rgba"},
    {"AVIF", "av1", ".avif", "libaom-av1", false, false, FloatStorage::none, true},
    {"JPEG XL", "jpegxl", ".jxl", "libjxl", false},
    {"TIFF", "tiff", ".tif .tiff", "tiff", true, true, FloatStorage::none, true},
    {"Alias PIX", "alias_pix", ".pix", "alias_pix"},
    // No extension of their own (.img, .pic name many formats): found by content.
    {"GEM", "gem", "", ""},
    {"Pictor", "pictor", "", ""},
    {"PGX", "pgx", ".pgx", ""},
    {"Photo CD", "photocd", ".pcd", ""},
    {"VBN", "vbn", ".vbn", ""},
};

/// The row whose codec list names `codec` (a decoder's codec name), or null.
/// ICO is not found by codec (its entries are BMP or PNG): by demuxer.
const StillFormat* still_format_of_codec(std::string_view codec) noexcept;
/// The row that lists `extension` (lower case, with the dot), or null.
const StillFormat* still_format_of_extension(std::string_view extension) noexcept;
/// Whether the space-separated `list` holds `word`.
bool list_has(std::string_view list, std::string_view word) noexcept;

}  // namespace imio::ffmpeg
