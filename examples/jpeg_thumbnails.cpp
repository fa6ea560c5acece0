// JPEG thumbnails with libjpeg's DCT scaling.
//
//   imio_jpeg_thumbnails
//
// A JPEG decoder can produce a 1/2, 1/4 or 1/8 size image directly from the
// compressed data, skipping most of the work of a full decode. The libjpeg
// plugin exposes this as the read kwarg `scale` (0.5, 0.25, 0.125, or
// "1/2", "1/4", "1/8"); the result is ceil(W/n) x ceil(H/n). This program
// makes a folder of JPEGs, then reads each at 1/4 size and saves the
// thumbnail as PNG.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>  // imio::plugins(): which formats this build has

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>
#include <unistd.h>  // getpid

namespace fs = std::filesystem;

bool has_plugin(const std::string& name) {
  const auto all = imio::plugins();
  return std::any_of(all.begin(), all.end(), [&](const imio::PluginInfo& p) { return p.name == name; });
}

int main() {
  if (!has_plugin("libjpeg") || !has_plugin("libpng")) {
    std::cout << "this build lacks the libjpeg or libpng plugin\njpeg_thumbnails finished (skipped)\n";
    return 0;
  }
  const fs::path photos = fs::temp_directory_path() / ("imio-photos-" + std::to_string(::getpid()));
  const fs::path thumbs = photos / "thumbs";
  fs::create_directories(thumbs);

  // 1. A folder of "photos": (480, 640, 3) RGB images with stripes of different widths.
  for (std::size_t k = 1; k <= 4; ++k) {
    imio::NDArray photo({480, 640, 3}, imio::DType::uint8);
    for (std::size_t y = 0; y < 480; ++y) {
      for (std::size_t x = 0; x < 640; ++x) {
        const bool stripe = (x / (16 * k)) % 2 == 0;
        photo.at<std::uint8_t>(y, x, 0) = stripe ? 220 : 30;
        photo.at<std::uint8_t>(y, x, 1) = static_cast<std::uint8_t>(y / 2);
        photo.at<std::uint8_t>(y, x, 2) = static_cast<std::uint8_t>(60 * k);
      }
    }
    imio::imwrite(photos / ("photo" + std::to_string(k) + ".jpg"), photo, {.kwargs = {{"quality", 85}}});
  }

  // 2. Thumbnails: every .jpg of the folder, decoded at 1/4 size.
  // (Sorted: a directory's order is unspecified.)
  std::vector<fs::path> jpegs;
  for (const fs::directory_entry& entry : fs::directory_iterator(photos)) {
    if (entry.path().extension() == ".jpg") jpegs.push_back(entry.path());
  }
  std::sort(jpegs.begin(), jpegs.end());
  std::size_t made = 0;
  for (const fs::path& jpeg : jpegs) {
    // improps knows the scaled size before any pixel is decoded.
    const imio::ImageProperties p = imio::improps(jpeg, {.kwargs = {{"scale", 0.25}}});
    const imio::NDArray thumb = imio::imread(jpeg, {.kwargs = {{"scale", 0.25}}});
    const fs::path out = thumbs / jpeg.filename().replace_extension(".png");
    imio::imwrite(out, thumb);
    std::cout << jpeg.filename().string() << " (" << fs::file_size(jpeg) << " bytes) -> "
              << out.filename().string() << ": " << thumb.shape()[1] << " x " << thumb.shape()[0]
              << " (improps said " << p.shape[1] << " x " << p.shape[0] << ")\n";
    ++made;
  }
  fs::remove_all(photos);
  std::cout << made << " thumbnails\n" << (made == 4 ? "jpeg_thumbnails finished\n" : "");
  return made == 4 ? 0 : 1;
}
