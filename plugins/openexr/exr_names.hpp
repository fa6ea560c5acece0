// OpenEXR's enums by the lower-case names its tools and documentation use.
#pragma once

#include <ImfCompression.h>
#include <ImfLineOrder.h>
#include <ImfPixelType.h>

#include <optional>
#include <string_view>

namespace imio::exr {

inline constexpr std::string_view kCompressionNames[] = {"none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab"};

inline std::string_view compression_name(Imf::Compression c) {
  const auto i = static_cast<std::size_t>(c);
  return i < std::size(kCompressionNames) ? kCompressionNames[i] : std::string_view("unknown");
}

inline std::optional<Imf::Compression> compression_of(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kCompressionNames); ++i) {
    if (kCompressionNames[i] == name) return static_cast<Imf::Compression>(i);
  }
  return std::nullopt;
}

inline std::string_view line_order_name(Imf::LineOrder o) {
  return o == Imf::INCREASING_Y ? "increasing_y" : o == Imf::DECREASING_Y ? "decreasing_y" : "random_y";
}

inline std::string_view pixel_type_name(Imf::PixelType t) { return t == Imf::HALF ? "half" : t == Imf::FLOAT ? "float" : "uint"; }

}  // namespace imio::exr
