// Video frames, one at a time: process a video in constant memory.
//
//   imio_video_frames
//
// imread(video) decodes every frame into one (N, H, W, 3) array: fine for a
// short clip, too big for a long one. imiter instead decodes a frame only
// when the loop asks for the next one and keeps no reference to it, so
// memory stays at one frame (plus the decoder's own buffers) however long
// the video is. Here we make a short MP4, then compute each frame's mean
// brightness and the running mean over all frames seen so far.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>  // imio::plugins(): which formats this build has

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>  // getpid

namespace fs = std::filesystem;

int main() {
  const auto all = imio::plugins();
  if (std::none_of(all.begin(), all.end(), [](const imio::PluginInfo& p) { return p.name == "ffmpeg"; })) {
    std::cout << "this build has no ffmpeg plugin\nvideo_frames finished (skipped)\n";
    return 0;
  }
  const fs::path video = fs::temp_directory_path() / ("imio-video-" + std::to_string(::getpid()) + ".mp4");

  // 1. Make the video: 30 gray-ish (72, 96, 3) frames getting brighter.
  // Writing one frame at a time through an imopen handle also keeps memory flat.
  {
    imio::ImageFile out = imio::imopen(video, "w");
    for (std::size_t f = 0; f < 30; ++f) {
      imio::NDArray frame({72, 96, 3}, imio::DType::uint8);
      std::fill_n(frame.data<std::uint8_t>(), frame.size(), static_cast<std::uint8_t>(40 + 6 * f));
      // is_batch = false: this array is one frame, not a stack of 72 frames.
      out.write(frame, {{"fps", 25}, {"is_batch", false}});  // each write appends
    }
    out.close();  // flushes the encoder and writes the MP4 trailer
  }
  std::cout << "wrote " << video.filename().string() << " (" << fs::file_size(video) << " bytes)\n";

  // 2. Read it back frame by frame. `frame` is the only decoded frame alive;
  // it is freed when the next iteration begins.
  double running = 0.0;
  std::size_t n = 0;
  for (const imio::NDArray& frame : imio::imiter(video)) {
    const std::uint8_t* px = frame.data<std::uint8_t>();
    double sum = 0.0;
    for (std::size_t i = 0; i < frame.size(); ++i) sum += px[i];
    const double mean = sum / static_cast<double>(frame.size());
    ++n;
    running += (mean - running) / static_cast<double>(n);  // incremental mean: no list of frames needed
    if (n % 5 == 0) {
      std::printf("frame %2zu: mean %6.2f, running mean %6.2f\n", n - 1, mean, running);
    }
  }
  std::cout << n << " frames read, one at a time\n";
  fs::remove(video);
  std::cout << "video_frames finished\n";
  return n == 30 ? 0 : 1;
}
