// Pillow's conversions (Convert.c facts; RGB→L verified bit-exact in spec
// §5.1.3): L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16; CMYK→RGB with
// nk = 255 − K, R = nk − C·nk/255 (rounded as Pillow's MULDIV255); RGB→CMYK
// = (255 − R, 255 − G, 255 − B, 0); L→CMYK = (0, 0, 0, 255 − L); CMYK→L goes
// through RGB (Pillow converts via the mode's base).
//
// CMYK samples: Pillow reads every 4-component JPEG with the raw mode
// "CMYK;I" (Adobe's inverted convention), so its CMYK values are 255 minus
// what libjpeg returns for JCS_CMYK; the corpus goldens confirm it.
#include "jpeg_convert.hpp"

#include <imio/error.hpp>

#include <fmt/format.h>

namespace imio::libjpeg {
namespace {

inline std::uint8_t muldiv255(int a, int b) noexcept {
  const int t = a * b + 128;
  return static_cast<std::uint8_t>(((t >> 8) + t) >> 8);
}

// libjpeg's CMYK → Pillow's CMYK.
void invert4(const std::uint8_t* in, std::uint8_t* out, std::size_t w) {
  for (std::size_t i = 0; i < 4 * w; ++i) out[i] = static_cast<std::uint8_t>(255 - in[i]);
}

void rgb_to_l(const std::uint8_t* in, std::uint8_t* out, std::size_t w) {
  for (std::size_t x = 0; x < w; ++x, in += 3) out[x] = luma(in[0], in[1], in[2]);
}

void rgb_to_cmyk(const std::uint8_t* in, std::uint8_t* out, std::size_t w) {
  for (std::size_t x = 0; x < w; ++x, in += 3, out += 4) {
    out[0] = static_cast<std::uint8_t>(255 - in[0]);
    out[1] = static_cast<std::uint8_t>(255 - in[1]);
    out[2] = static_cast<std::uint8_t>(255 - in[2]);
    out[3] = 0;
  }
}

void l_to_cmyk(const std::uint8_t* in, std::uint8_t* out, std::size_t w) {
  for (std::size_t x = 0; x < w; ++x, out += 4) {
    out[0] = out[1] = out[2] = 0;
    out[3] = static_cast<std::uint8_t>(255 - in[x]);
  }
}

// The three functions below take libjpeg's (uninverted) CMYK.
void pillow_cmyk(const std::uint8_t* in, std::uint8_t* cmyk) {
  for (int i = 0; i < 4; ++i) cmyk[i] = static_cast<std::uint8_t>(255 - in[i]);
}

void jcmyk_to_rgb(const std::uint8_t* in, std::uint8_t* out, std::size_t w) {
  std::uint8_t c[4];
  for (std::size_t x = 0; x < w; ++x, in += 4, out += 3) {
    pillow_cmyk(in, c);
    cmyk_to_rgb(c, out);
  }
}

void jcmyk_to_rgba(const std::uint8_t* in, std::uint8_t* out, std::size_t w) {
  std::uint8_t c[4];
  for (std::size_t x = 0; x < w; ++x, in += 4, out += 4) {
    pillow_cmyk(in, c);
    cmyk_to_rgb(c, out);
    out[3] = 255;
  }
}

void jcmyk_to_l(const std::uint8_t* in, std::uint8_t* out, std::size_t w) {
  std::uint8_t c[4], rgb[3];
  for (std::size_t x = 0; x < w; ++x, in += 4) {
    pillow_cmyk(in, c);
    cmyk_to_rgb(c, rgb);
    out[x] = luma(rgb[0], rgb[1], rgb[2]);
  }
}

}  // namespace

std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) noexcept {
  return static_cast<std::uint8_t>((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}

void cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb) noexcept {
  const int nk = 255 - cmyk[3];
  for (int i = 0; i < 3; ++i) {
    const int v = nk - muldiv255(cmyk[i], nk);
    rgb[i] = static_cast<std::uint8_t>(v < 0 ? 0 : v);
  }
}

bool is_supported_mode(std::string_view mode) noexcept {
  return mode == "L" || mode == "RGB" || mode == "RGBA" || mode == "CMYK";
}

int channels_of(std::string_view mode) noexcept {
  if (mode == "L") return 1;
  if (mode == "RGB") return 3;
  return 4;
}

DecodePlan plan_decode(std::string_view native, std::string_view target) {
  const int ch = channels_of(target);
  if (native == "L") {
    if (target == "L") return {JCS_GRAYSCALE, 1, 1, nullptr};
    if (target == "RGB") return {JCS_RGB, 3, 3, nullptr};  // libjpeg replicates gray
    if (target == "RGBA") return {JCS_EXT_RGBA, 4, 4, nullptr};
    return {JCS_GRAYSCALE, 1, ch, l_to_cmyk};
  }
  if (native == "RGB") {
    if (target == "RGB") return {JCS_RGB, 3, 3, nullptr};
    if (target == "RGBA") return {JCS_EXT_RGBA, 4, 4, nullptr};  // alpha 255, like Pillow
    if (target == "L") return {JCS_RGB, 3, 1, rgb_to_l};
    return {JCS_RGB, 3, 4, rgb_to_cmyk};
  }
  // CMYK / YCCK
  if (target == "CMYK") return {JCS_CMYK, 4, 4, invert4};
  if (target == "RGB") return {JCS_CMYK, 4, 3, jcmyk_to_rgb};
  if (target == "RGBA") return {JCS_CMYK, 4, 4, jcmyk_to_rgba};
  return {JCS_CMYK, 4, 1, jcmyk_to_l};
}

}  // namespace imio::libjpeg
