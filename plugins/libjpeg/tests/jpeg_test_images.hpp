// Images for the libjpeg crop tests: textured pixels (so that chroma
// upsampling at a box's edges matters) and an EXIF block that holds only an
// Orientation; the read options and the pixel comparison they share.
#pragma once

#include <imio/imio.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>

namespace imio_test {

/// A gradient with noise, h × w with c channels (no channel axis for 1).
inline imio::NDArray texture(std::size_t h, std::size_t w, std::size_t c, unsigned seed) {
  imio::Shape shape{h, w};
  if (c > 1) shape.push_back(c);
  imio::NDArray a(shape, imio::DType::uint8);
  std::mt19937 rng(seed);
  auto* p = a.data<std::uint8_t>();
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      for (std::size_t k = 0; k < c; ++k)
        p[(y * w + x) * c + k] = static_cast<std::uint8_t>((x * 150 / w + y * 90 / h + k * 40 + rng() % 24) & 0xFF);
  return a;
}

/// imread's options for the libjpeg plugin with `kwargs`.
inline imio::ReadOptions jpeg(imio::Kwargs kwargs = {}) { return {.plugin = "libjpeg", .kwargs = std::move(kwargs)}; }

/// Same shape, dtype and bytes.
inline bool same_pixels(const imio::NDArray& a, const imio::NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

/// "Exif\0\0" + a little-endian TIFF block whose IFD0 holds only Orientation.
inline imio::Bytes exif_orientation(int orientation) {
  const unsigned char b[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,  // header, IFD0 at 8
                             1, 0,                                                     // one entry
                             0x12, 0x01, 3, 0, 1, 0, 0, 0, static_cast<unsigned char>(orientation), 0, 0, 0,
                             0, 0, 0, 0};                                              // no next IFD
  imio::Bytes out(sizeof b);
  std::memcpy(out.data(), b, sizeof b);
  return out;
}

}  // namespace imio_test
