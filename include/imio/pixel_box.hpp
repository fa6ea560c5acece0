// A region of an image given as a kwarg in Pillow's box form, read the same
// way by every plugin that takes one (libjpeg's, libpng's and libtiff's
// `crop`, openjpeg's `area`).
#pragma once

#include <imio/export.hpp>
#include <imio/kwargs.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace imio {

/// A box of an image in Pillow's form (`Image.crop(box)`): columns
/// [left, right) and rows [top, bottom), in pixels from the top-left corner.
struct PixelBox {
  std::uint64_t left = 0;    ///< first column
  std::uint64_t top = 0;     ///< first row
  std::uint64_t right = 0;   ///< one past the last column
  std::uint64_t bottom = 0;  ///< one past the last row
};

/// The caller's kwarg `key` as a box `[left, top, right, bottom]`: a list of
/// four non-negative integers. nullopt when absent or None; a list of
/// another length or with another element is an ArgumentError naming the
/// key (through `kw.fail`). Whether the box is non-empty and inside the
/// image is the plugin's check, which knows the image.
IMIO_EXPORT std::optional<PixelBox> take_pixel_box(KwargReader& kw, std::string_view key);

/// The box of the stored `height` × `width` image (pixels as the file
/// stores them) that shows as `upright` once EXIF `orientation` (1–8; other
/// values: as stored) is applied: what a reader decodes for a box given in
/// the upright image's pixels. `upright` must be a non-empty box inside the
/// upright image (width and height swapped for orientations 5–8).
IMIO_EXPORT PixelBox stored_box(int orientation, std::uint64_t height, std::uint64_t width, const PixelBox& upright);

}  // namespace imio
