// Animations: the same frames as an animated GIF and as an MP4 video.
//
//   imio_animated_gif_and_mp4
//
// A list of frames (a std::span of NDArrays) is written in one imwrite call.
// Format-specific options go in `kwargs`: the GIF's `duration` (ms per
// frame) and `loop` (0 = forever), the MP4's `fps`. Reading back, improps
// with index = imio::all gives the (N, H, W, C) shape without decoding
// pixels, and imiter hands out one frame at a time.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>  // imio::plugins(): which formats this build has

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <span>
#include <string>
#include <vector>
#include <unistd.h>  // getpid

namespace fs = std::filesystem;

bool has_plugin(const std::string& name) {
  const auto all = imio::plugins();
  return std::any_of(all.begin(), all.end(), [&](const imio::PluginInfo& p) { return p.name == name; });
}

// How a file reads back: the stacked shape, then each frame by imiter.
void show(const fs::path& path) {
  const imio::ImageProperties p = imio::improps(path, {.index = imio::all});
  std::cout << "  " << path.filename().string() << " (" << fs::file_size(path) << " bytes): improps(all) shape ("
            << p.shape[0] << ", " << p.shape[1] << ", " << p.shape[2] << ", " << p.shape[3] << ") "
            << imio::name(p.dtype) << "\n  immeta: " << imio::to_json(imio::immeta(path)) << "\n";
  std::size_t n = 0;
  for (const imio::NDArray& frame : imio::imiter(path)) {
    std::cout << (n == 0 ? "  imiter:" : "") << " #" << n << " centre red " << +frame.at<std::uint8_t>(32, 32, 0);
    ++n;
  }
  std::cout << "\n";
}

int main() {
  const bool gif = has_plugin("giflib"), mp4 = has_plugin("ffmpeg");
  if (!gif && !mp4) {
    std::cout << "this build has neither the giflib nor the ffmpeg plugin\nanimated_gif_and_mp4 finished (skipped)\n";
    return 0;
  }
  const fs::path dir = fs::temp_directory_path() / ("imio-anim-" + std::to_string(::getpid()));
  fs::create_directories(dir);

  // Eight (64, 64, 3) uint8 frames that fade from black to red.
  // (Even sizes: H.264 in 4:2:0 needs them.)
  std::vector<imio::NDArray> frames;
  for (std::size_t f = 0; f < 8; ++f) {
    imio::NDArray frame({64, 64, 3}, imio::DType::uint8);  // zero-filled
    for (std::size_t y = 0; y < 64; ++y) {
      for (std::size_t x = 0; x < 64; ++x) frame.at<std::uint8_t>(y, x, 0) = static_cast<std::uint8_t>(f * 32);
    }
    frames.push_back(std::move(frame));
  }
  const std::span<const imio::NDArray> list(frames);

  if (gif) {
    // 100 ms per frame, looping forever. GIF is lossless for few colours.
    imio::imwrite(dir / "frames.gif", list, {.kwargs = {{"duration", 100}, {"loop", 0}}});
    show(dir / "frames.gif");
  } else {
    std::cout << "  no giflib plugin in this build: GIF skipped\n";
  }
  if (mp4) {
    // 12 frames per second; H.264 is lossy, so values come back close, not equal.
    imio::imwrite(dir / "clip.mp4", list, {.kwargs = {{"fps", 12}}});
    show(dir / "clip.mp4");
  } else {
    std::cout << "  no ffmpeg plugin in this build: MP4 skipped\n";
  }
  fs::remove_all(dir);
  std::cout << "animated_gif_and_mp4 finished\n";
  return 0;
}
