// libjxl's reading side behind RAII: the file's headers without decoding
// pixels (basic info, extra channels, colour, every frame's header, the
// container's boxes), frames decoded straight into imio's arrays, the
// metadata boxes, and the JPEG a recompressed file reconstructs. The only
// read-side file that includes <jxl/decode.h>.
#pragma once

#include <imio/ndarray.hpp>
#include <imio/request.hpp>
#include <imio/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::jxl {

/// "libjxl 0.7.0".
std::string libjxl_version();

/// Whether `first` starts a JPEG XL file: a bare codestream (FF 0A) or the
/// container's signature box (00 00 00 0C 'JXL ' 0D 0A 87 0A).
bool has_signature(std::span<const std::byte> first);

/// One extra channel as the image header declares it.
struct ExtraChannel {
  std::string type;  ///< "alpha", "depth", "spot_color", "selection_mask", "black", "cfa", "thermal", "optional", "unknown"
  std::uint32_t bits = 0;
  std::uint32_t exponent_bits = 0;
  std::uint32_t dim_shift = 0;
  std::string name;
};

/// One displayed frame (zero-duration layers coalesced, as libjxl shows them).
struct Frame {
  std::uint32_t duration = 0;  ///< ticks
  std::string name;
};

/// What the headers say, before any pixel is decoded.
struct Info {
  bool container = false;
  std::uint32_t width = 0, height = 0;  ///< as stored (the orientation not applied)
  int orientation = 1;                  ///< 1…8, the codestream's (EXIF meaning)
  std::uint32_t bits = 8;               ///< bits per colour sample
  std::uint32_t exponent_bits = 0;      ///< > 0: floating-point samples
  std::uint32_t color_channels = 3;     ///< 1 gray, 3 colour
  bool alpha = false;
  std::uint32_t alpha_bits = 0;
  bool alpha_premultiplied = false;
  bool uses_original_profile = false;  ///< false: XYB (lossy VarDCT); true: the original colour space (lossless or modular)
  bool have_preview = false;
  float intensity_target = 0;
  bool animated = false;
  std::uint32_t tps_numerator = 0, tps_denominator = 0, loops = 0;
  std::vector<ExtraChannel> extra_channels;
  std::vector<Frame> frames;            ///< displayed frames; 1 for a still image
  std::optional<Bytes> icc;             ///< the original ICC profile, when the codestream holds one
  std::optional<Dict> color_encoding;   ///< the original colour encoding, when it is an enumerated one
  std::vector<std::string> boxes;       ///< the container's box types in file order (brob: the inner type)
  bool jpeg_reconstruction = false;     ///< a jbrd box: the original JPEG can be rebuilt bit-exactly
};

/// Reads every header of `file` with libjxl's event API (no pixel is
/// decoded): basic info, extra channels, the original colour, each
/// displayed frame, each layer's size and the container's boxes.
/// @throws LimitError when the image or a layer exceeds `request`'s
///         max_pixels or the frames exceed max_frames; DecodeError when a
///         header is damaged or cut off.
Info probe(std::span<const std::byte> file, const Request& request);

/// How frames reach the array.
enum class Sample { uint8, uint16, float16, float32 };
DType dtype_of(Sample s);

struct DecodeOptions {
  bool rotate = true;     ///< apply the codestream's orientation
  Sample sample = Sample::uint8;
  unsigned threads = 0;   ///< 0: one per core; 1: the calling thread
};

/// The shape of one frame of `info` read with `options`.
Shape frame_shape(const Info& info, bool rotate);

/// Decodes the displayed frames of one file in order, each straight into
/// the caller's memory. Owns the JxlDecoder and its thread pool.
class FrameDecoder {
 public:
  FrameDecoder(std::span<const std::byte> file, const Info& info, const DecodeOptions& options);
  ~FrameDecoder();
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  /// Skips the next `n` frames (libjxl still decodes those later frames
  /// reference).
  void skip(std::size_t n);
  /// Decodes the next frame into `dst` (exactly frame_shape × dtype bytes).
  /// @throws DecodeError for damaged or truncated data
  void next(std::byte* dst, std::size_t bytes);
  /// Frames handed out so far (skipped ones included).
  std::size_t position() const { return position_; }

 private:
  struct State;
  std::unique_ptr<State> s_;
  std::size_t position_ = 0;
};

/// The metadata boxes of a container (decompressed when Brotli-compressed).
struct Boxes {
  std::optional<Bytes> exif;  ///< the TIFF block (the box's 4-byte offset field removed)
  std::optional<Bytes> xmp;
  std::optional<Bytes> jumbf;
};
Boxes read_boxes(std::span<const std::byte> file, const Request& request);

/// The original JPEG file of a losslessly recompressed JPEG XL, bit-exact.
/// @throws ArgumentError when the file holds no reconstruction data;
///         DecodeError when the data are damaged or cut off
Bytes reconstruct_jpeg(std::span<const std::byte> file, const Info& info, const Request& request, unsigned threads);

}  // namespace imio::jxl
