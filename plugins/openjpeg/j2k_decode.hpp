// Reading: what a read returns, planned from the header alone (improps and
// the Limits checks use the plan; D11), and the decode by OpenJPEG into
// the planned array. The only read-side file that includes <openjpeg.h>
// (through j2k_codec.hpp).
#pragma once

#include "j2k_header.hpp"

#include <imio/ndarray.hpp>
#include <imio/request.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::openjpeg {

/// How samples of more than 8 bits (and fewer) reach the array.
enum class Depth {
  native,  ///< the stored values, in the smallest dtype that holds them
  scaled,  ///< shifted to fill 8 or 16 bits (Pillow's L and I;16)
  eight,   ///< shifted to 8 bits (Pillow's LA, RGB, RGBA)
};

/// The read-side kwargs.
struct ReadArgs {
  int reduce = 0;
  int layers = 0;
  std::optional<std::array<std::uint32_t, 4>> area;  ///< left, top, right, bottom (image pixels)
  Depth depth = Depth::native;
  int threads = 0;
  std::optional<std::string> mode;  ///< Pillow's conversion
};

/// One output channel as OpenJPEG will return it (after the JP2 palette).
struct Channel {
  int precision = 8;
  bool is_signed = false;
  std::uint32_t dx = 1, dy = 1;
};

/// What a read returns and how it is made.
struct Plan {
  std::uint32_t win_x0 = 0, win_y0 = 0, win_x1 = 0, win_y1 = 0;  ///< the window on the reference grid
  /// Where OpenJPEG decodes from: the window's origin, moved up and left to
  /// the subsampled components' grid when they are upsampled, so that the
  /// first row and column have their chroma samples.
  std::uint32_t dec_x0 = 0, dec_y0 = 0;
  int reduce = 0;
  std::vector<Channel> channels;
  bool upsample = false;  ///< channels of different subsampling, replicated onto the full grid
  std::uint32_t width = 0, height = 0;  ///< the output grid
  bool ycc = false;       ///< Y, Cb, Cr to R, G, B (sYCC)
  Depth depth = Depth::native;
  DType stored = DType::uint8;  ///< the channels' array before `mode`
  std::string native_mode;      ///< Pillow's mode of the image ("" when it has none)
  std::optional<std::string> mode;
  Shape shape;                  ///< what read returns
  DType dtype = DType::uint8;
  std::uint64_t opj_bytes = 0;  ///< an estimate of OpenJPEG's own buffers
};

/// Pillow's mode for a file of these channels: L or I;16 (one), LA, RGB, RGBA; "" otherwise.
std::string pillow_mode(const std::vector<Channel>& channels);

/// The channels OpenJPEG returns for `h`: the codestream's components,
/// or the palette's columns as the component mapping (cmap) names them.
std::vector<Channel> output_channels(const Header& h);

/// Plans a read of `h` with `a`. Throws ArgumentError for a `reduce`, an
/// `area` or a `mode` the file does not allow.
Plan plan(const Header& h, const ReadArgs& a);

/// Throws LimitError when the read `p` plans exceeds the request's Limits
/// (its pixels, or OpenJPEG's buffers over max_bytes).
void check_limits(const Plan& p, const Request& request);

/// Decodes `file` (parsed as `h`) as `p` says, after checking the Limits.
NDArray decode(std::span<const std::byte> file, const Header& h, const Plan& p, const ReadArgs& a, const Request& request);

}  // namespace imio::openjpeg
