// A 3-D TIFF stack: (Z, H, W) uint16, compressed, read back exactly.
//
//   imio_tiff_stack
//
// Microscopy and CT data are stacks of 16-bit slices. The libtiff plugin
// writes a (Z, H, W) array as Z pages of one series (with tifffile's
// {"shape": …} description, so Python's tifffile reads the same shape),
// compresses each page losslessly, and reads the series back as one array.
// improps reports the shape and the pixel spacing; immeta the file's keys.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>  // imio::plugins(): which formats this build has

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>  // getpid

namespace fs = std::filesystem;

int main() {
  const auto all = imio::plugins();
  if (std::none_of(all.begin(), all.end(), [](const imio::PluginInfo& p) { return p.name == "libtiff"; })) {
    std::cout << "this build has no libtiff plugin\ntiff_stack finished (skipped)\n";
    return 0;
  }
  const fs::path path = fs::temp_directory_path() / ("imio-stack-" + std::to_string(::getpid()) + ".tif");

  // A (16, 64, 80) uint16 volume: a bright ball in a dim background.
  const std::size_t Z = 16, H = 64, W = 80;
  imio::NDArray volume({Z, H, W}, imio::DType::uint16);
  for (std::size_t z = 0; z < Z; ++z) {
    for (std::size_t y = 0; y < H; ++y) {
      for (std::size_t x = 0; x < W; ++x) {
        const long dz = static_cast<long>(z) - 8, dy = static_cast<long>(y) - 32, dx = static_cast<long>(x) - 40;
        const bool inside = 16 * dz * dz + dy * dy + dx * dx < 400;
        volume.at<std::uint16_t>(z, y, x) = static_cast<std::uint16_t>(inside ? 40000 + 100 * z : 1000 + x);
      }
    }
  }

  // zlib (deflate) with the horizontal predictor: lossless and small.
  // resolution is (x, y) in pixels per resolutionunit: 4 per centimetre.
  // improps' spacing reports that (XResolution, YResolution) pair, as
  // imageio's tifffile plugin does (not its inverse).
  imio::imwrite(path, volume,
                {.kwargs = {{"compression", "zlib"},
                            {"predictor", true},
                            {"resolution", imio::Value::List{4.0, 4.0}},
                            {"resolutionunit", "centimeter"}}});
  std::cout << "wrote " << path.filename().string() << ": " << fs::file_size(path) << " bytes for "
            << volume.nbytes() << " bytes of pixels\n";

  const imio::NDArray back = imio::imread(path);  // the whole series: (Z, H, W)
  std::cout << "imread: (" << back.shape()[0] << ", " << back.shape()[1] << ", " << back.shape()[2] << ") "
            << imio::name(back.dtype()) << ", " << (back == volume ? "identical to" : "DIFFERENT from")
            << " what was written\n";

  const imio::ImageProperties p = imio::improps(path);
  std::cout << "improps: shape (" << p.shape[0] << ", " << p.shape[1] << ", " << p.shape[2] << "), spacing ";
  if (p.spacing) {
    for (double s : *p.spacing) std::cout << s << ' ';
  } else {
    std::cout << "none";
  }
  std::cout << "\nimmeta keys:";
  for (const auto& [key, value] : imio::immeta(path)) std::cout << ' ' << key;
  std::cout << "\n";

  fs::remove(path);
  std::cout << (back == volume ? "tiff_stack finished\n" : "round trip failed\n");
  return back == volume ? 0 : 1;
}
