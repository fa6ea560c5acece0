// The Radiance picture header (Radiance's "Picture File Format"): the
// "#?PROGRAM" line, variable lines (FORMAT=, EXPOSURE=, COLORCORR=,
// PRIMARIES=, PIXASPECT=, SOFTWARE=, VIEW=, …) up to an empty line, then the
// resolution string that says the order of the scanlines ("-Y 480 +X 640").
#pragma once

#include <imio/plugin.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::radiance {

/// One axis of the resolution string: its sign and letter ('+'/'-', 'X'/'Y')
/// and its size.
struct Axis {
  char sign = '-';
  char letter = 'Y';
  std::size_t size = 0;
};

struct Header {
  std::string program;            ///< "RADIANCE" (after "#?")
  std::string format;             ///< "32-bit_rle_rgbe" or "32-bit_rle_xyze"
  std::vector<std::string> lines;  ///< every header line after the first, as written
  std::optional<double> exposure;  ///< product of the EXPOSURE lines
  std::optional<std::array<double, 3>> colorcorr;  ///< product of the COLORCORR lines
  std::optional<std::array<double, 8>> primaries;
  std::optional<double> pixaspect, gamma;
  std::optional<std::string> software, view;
  Axis major, minor;      ///< the scanlines' axis (slow) and the pixels' axis (fast)
  std::size_t data_offset = 0;  ///< the first byte after the resolution line

  std::size_t width() const { return major.letter == 'X' ? major.size : minor.size; }
  std::size_t height() const { return major.letter == 'Y' ? major.size : minor.size; }
  /// "-Y +X" etc.
  std::string orientation() const;
};

/// Whether `head` starts like a Radiance picture: "#?" and a program name.
bool has_signature(std::span<const std::byte> head) noexcept;

/// Parses the header of `file`. Throws DecodeError for a malformed header
/// (naming the line), an unsupported FORMAT, or a missing resolution line.
Header parse_header(std::span<const std::byte> file);

}  // namespace imio::radiance
