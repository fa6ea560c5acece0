// Read, inspect and convert: the everyday round of imio.
//
//   imio_read_inspect_convert
//
// Makes a PNG of its own, asks improps (shape and dtype, no pixels decoded)
// and immeta (the format's metadata), reads the pixels with imread, then
// converts the image to JPEG and TIFF with imwrite. The output format is
// chosen by the file extension, as in imageio. Files go to a temporary
// folder that is removed at the end.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>  // imio::plugins(): which formats this build has

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>  // getpid

namespace fs = std::filesystem;

// Whether the plugin `name` is part of this build (plugins are optional).
bool has_plugin(const std::string& name) {
  const auto all = imio::plugins();
  return std::any_of(all.begin(), all.end(), [&](const imio::PluginInfo& p) { return p.name == name; });
}

int main() {
  if (!has_plugin("libpng")) {
    std::cout << "this build has no libpng plugin; nothing to show\nread_inspect_convert finished (skipped)\n";
    return 0;
  }
  const fs::path dir = fs::temp_directory_path() / ("imio-ric-" + std::to_string(::getpid()));
  fs::create_directories(dir);

  // A (120, 160, 3) uint8 RGB image: red grows to the right, green downwards.
  imio::NDArray rgb({120, 160, 3}, imio::DType::uint8);
  for (std::size_t y = 0; y < 120; ++y) {
    for (std::size_t x = 0; x < 160; ++x) {
      rgb.at<std::uint8_t>(y, x, 0) = static_cast<std::uint8_t>(x * 255 / 159);
      rgb.at<std::uint8_t>(y, x, 1) = static_cast<std::uint8_t>(y * 255 / 119);
      rgb.at<std::uint8_t>(y, x, 2) = 128;
    }
  }
  const fs::path png = dir / "picture.png";
  imio::imwrite(png, rgb);  // ".png" selects the libpng plugin
  std::cout << "wrote " << png.filename().string() << " (" << fs::file_size(png) << " bytes)\n";

  // improps reads only the header: cheap even for huge files.
  const imio::ImageProperties props = imio::improps(png);
  std::cout << "improps: shape (" << props.shape[0] << ", " << props.shape[1] << ", " << props.shape[2]
            << "), dtype " << imio::name(props.dtype) << "\n";
  // immeta: the format's own keys (for PNG e.g. "mode", "dpi", "gamma" when present).
  std::cout << "immeta: " << imio::to_json(imio::immeta(png)) << "\n";

  const imio::NDArray pixels = imio::imread(png);
  std::cout << "imread: " << (pixels == rgb ? "the pixels written" : "different pixels (unexpected)") << "\n";

  // Conversion is imread + imwrite; the extension picks the encoder, kwargs tune it.
  if (has_plugin("libjpeg")) {
    const fs::path jpg = dir / "picture.jpg";
    imio::imwrite(jpg, pixels, {.kwargs = {{"quality", 90}}});
    std::cout << "converted to " << jpg.filename().string() << " (" << fs::file_size(jpg)
              << " bytes, lossy: pixels are close, not equal)\n";
  } else {
    std::cout << "no libjpeg plugin in this build: JPEG conversion skipped\n";
  }
  if (has_plugin("libtiff")) {
    const fs::path tif = dir / "picture.tif";
    imio::imwrite(tif, pixels);
    std::cout << "converted to " << tif.filename().string() << " (" << fs::file_size(tif) << " bytes, read back "
              << (imio::imread(tif) == rgb ? "identical" : "different (unexpected)") << ")\n";
  } else {
    std::cout << "no libtiff plugin in this build: TIFF conversion skipped\n";
  }

  fs::remove_all(dir);
  std::cout << "read_inspect_convert finished\n";
  return 0;
}
