// EXIF orientation transforms (spec §5.1.7), on the two spatial axes only.
#include <imio/plugin.hpp>

#include <cstring>

#include <fmt/format.h>

namespace imio {
namespace {

bool swaps_axes(int orientation) { return orientation >= 5 && orientation <= 8; }

// Where output pixel (i, j) of an image of input size h × w comes from;
// inline here for the per-pixel loops below, exported as stored_position.
inline std::pair<std::size_t, std::size_t> source_of(int orientation, std::size_t h, std::size_t w, std::size_t i,
                                                      std::size_t j) noexcept {
  switch (orientation) {
    case 2: return {i, w - 1 - j};
    case 3: return {h - 1 - i, w - 1 - j};
    case 4: return {h - 1 - i, j};
    case 5: return {j, i};
    case 6: return {h - 1 - j, i};
    case 7: return {h - 1 - j, w - 1 - i};
    case 8: return {j, w - 1 - i};
    default: return {i, j};
  }
}

struct Source {
  int orientation;
  std::size_t h, w;
  std::pair<std::size_t, std::size_t> operator()(std::size_t i, std::size_t j) const {
    return source_of(orientation, h, w, i, j);
  }
};

// Copies one h × w plane of `Pixel`-byte pixels; Pixel is a compile-time
// size for the common layouts so that the copy is a plain load/store.
template <std::size_t Pixel>
void transform_plane(const std::byte* in, std::byte* out, Source src, std::size_t pixel) {
  const std::size_t oh = swaps_axes(src.orientation) ? src.w : src.h;
  const std::size_t ow = swaps_axes(src.orientation) ? src.h : src.w;
  const std::size_t n = Pixel == 0 ? pixel : Pixel;
  for (std::size_t i = 0; i < oh; ++i) {
    std::byte* row = out + i * ow * n;
    for (std::size_t j = 0; j < ow; ++j) {
      const auto [y, x] = src(i, j);
      std::memcpy(row + j * n, in + (y * src.w + x) * n, n);
    }
  }
}

}  // namespace

std::pair<std::size_t, std::size_t> stored_position(int orientation, std::size_t height, std::size_t width,
                                                    std::size_t row, std::size_t column) noexcept {
  return source_of(orientation, height, width, row, column);
}

Shape oriented_shape(const Shape& shape, int orientation, std::size_t height_axis) {
  if (height_axis + 1 >= shape.size()) {
    throw ArgumentError(fmt::format("an image of {} axes has no spatial axes at {} and {}", shape.size(), height_axis,
                                    height_axis + 1));
  }
  Shape out = shape;
  if (swaps_axes(orientation)) std::swap(out[height_axis], out[height_axis + 1]);
  return out;
}

NDArray apply_orientation(NDArray image, int orientation, std::size_t height_axis) {
  Shape shape = oriented_shape(image.shape(), orientation, height_axis);
  if (orientation < 2 || orientation > 8 || image.empty()) return image;
  const Shape& in_shape = image.shape();
  std::size_t outer = 1, pixel = itemsize(image.dtype());
  for (std::size_t a = 0; a < height_axis; ++a) outer *= in_shape[a];
  for (std::size_t a = height_axis + 2; a < in_shape.size(); ++a) pixel *= in_shape[a];
  const Source src{orientation, in_shape[height_axis], in_shape[height_axis + 1]};
  const std::size_t plane = src.h * src.w * pixel;
  NDArray out = NDArray::uninitialized(std::move(shape), image.dtype());
  for (std::size_t k = 0; k < outer; ++k) {
    const std::byte* in = image.bytes() + k * plane;
    std::byte* dst = out.bytes() + k * plane;
    switch (pixel) {
      case 1: transform_plane<1>(in, dst, src, pixel); break;
      case 2: transform_plane<2>(in, dst, src, pixel); break;
      case 3: transform_plane<3>(in, dst, src, pixel); break;
      case 4: transform_plane<4>(in, dst, src, pixel); break;
      case 6: transform_plane<6>(in, dst, src, pixel); break;
      case 8: transform_plane<8>(in, dst, src, pixel); break;
      default: transform_plane<0>(in, dst, src, pixel); break;
    }
  }
  return out;
}

}  // namespace imio
