// Pillow's mode conversions for JPEG pixels (spec §5.1.3 step 1), as row
// functions applied while decoding, and the plan that picks libjpeg's output
// colour space so that most requests decode straight into the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "jpeg_backend.hpp"

namespace imio::libjpeg {

using RowFn = void (*)(const std::uint8_t* in, std::uint8_t* out, std::size_t width);

struct DecodePlan {
  J_COLOR_SPACE out_space = JCS_UNKNOWN;
  int decoded_channels = 0;  ///< samples per pixel libjpeg produces
  int channels = 0;          ///< samples per pixel of the result (1 → a 2-D array)
  RowFn convert = nullptr;   ///< nullptr: libjpeg writes the result rows directly
};

/// The modes `mode=` accepts.
bool is_supported_mode(std::string_view mode) noexcept;
/// How to decode a `native` JPEG ("L", "RGB", "CMYK") into `target` mode.
DecodePlan plan_decode(std::string_view native, std::string_view target);
/// Samples per pixel of a mode.
int channels_of(std::string_view mode) noexcept;

// Pillow's conversions, exposed for the tests.
std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) noexcept;
void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb) noexcept;

}  // namespace imio::libjpeg
