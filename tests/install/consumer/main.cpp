// The install test's consumer: links the installed imio and uses it.
//
//   consumer <folder>   writes <folder>/consumer.npy, reads it back, checks
//                       the error classes cross the library boundary; with
//                       the ffmpeg plugin, writes <folder>/consumer.mp4
//                       through imio::plugin::FFmpeg (plugin_as's
//                       dynamic_cast across the library boundary).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
// Installed only when imio has the ffmpeg plugin.
#if __has_include(<imio/plugins/ffmpeg.hpp>)
#include <imio/plugins/ffmpeg.hpp>
#define IMIO_CONSUMER_FFMPEG 1
#endif

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string_view>

#ifndef IMIO_CONSUMER_EXPECTED_VERSION
#error "build with -DIMIO_CONSUMER_EXPECTED_VERSION=\"x.y.z\""
#endif

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", what);
  return 1;
}

bool has_plugin(std::string_view name) {
  const auto all = imio::plugins();
  return std::any_of(all.begin(), all.end(), [&](const imio::PluginInfo& p) { return p.name == name; });
}

// A plugin's public class: its typeinfo is exported from imio, so the
// dynamic_cast of plugin_as() finds the plugin's (hidden) classes.
int check_ffmpeg_extras(const std::filesystem::path& folder) {
#ifdef IMIO_CONSUMER_FFMPEG
  const std::filesystem::path path = folder / "consumer.mp4";
  {
    auto file = imio::imopen(path, "w");
    auto& ff = file.plugin_as<imio::plugin::FFmpeg>();
    ff.init_video_stream("mpeg4", {.fps = 10});
    ff.container_metadata()["title"] = "consumer";
    const imio::NDArray frame({16, 16, 3}, imio::DType::uint8);
    for (int i = 0; i < 3; ++i) ff.write_frame(frame);
    file.close();
  }
  if (imio::improps(path).n_images != std::optional<std::size_t>(3)) return fail("the FFmpeg extras wrote another frame count");
  auto file = imio::imopen(path, "r");
  if (file.plugin_as<imio::plugin::FFmpeg>().container_metadata()["title"] != "consumer") {
    return fail("the title tag written through the FFmpeg extras is missing");
  }
  std::printf("consumer: plugin_as<imio::plugin::FFmpeg>() works across the library boundary\n");
#else
  (void)folder;
  if (has_plugin("ffmpeg")) return fail("imio has the ffmpeg plugin but <imio/plugins/ffmpeg.hpp> is not installed");
#endif
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer <folder>\n");
    return 2;
  }
  const std::filesystem::path folder = argv[1];
  std::printf("consumer: imio %s, %zu plugin(s)\n", imio::version_string, imio::plugins().size());
  if (std::string_view(imio::version_string) != IMIO_CONSUMER_EXPECTED_VERSION) {
    return fail("the header's version differs from the package's");
  }

  // Exceptions thrown inside the library are caught by their class here.
  try {
    (void)imio::imread(folder / "no-such-file.npy");
    return fail("reading a missing file did not throw");
  } catch (const imio::FileNotFoundError& e) {
    std::printf("consumer: FileNotFoundError as expected: %s\n", e.what());
  }

  imio::NDArray image({4, 5, 3}, imio::DType::uint8);
  auto px = image.values<std::uint8_t>();
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i * 7);

  if (check_ffmpeg_extras(folder) != 0) return 1;

  const std::filesystem::path path = folder / "consumer.npy";
  if (!has_plugin("npy")) {
    try {
      imio::imwrite(path, image);
      return fail("writing .npy without the npy plugin did not throw");
    } catch (const imio::NoPluginError& e) {
      std::printf("consumer: this imio has no npy plugin; NoPluginError as expected: %s\n", e.what());
    }
    std::printf("consumer: ok\n");
    return 0;
  }

  imio::imwrite(path, image);
  const imio::NDArray back = imio::imread(path);
  if (!(back == image)) return fail("the .npy round trip changed the array");
  const imio::ImageProperties props = imio::improps(path);
  if (props.shape != image.shape() || props.dtype != imio::DType::uint8) return fail("improps differs from imread");
  try {
    (void)imio::imread(path, {.index = -1});
    return fail("a negative index did not throw");
  } catch (const imio::IndexError& e) {
    std::printf("consumer: IndexError as expected: %s\n", e.what());
  }
  std::printf("consumer: wrote and read back %s (4x5x3 uint8)\nconsumer: ok\n", path.string().c_str());
  return 0;
}
