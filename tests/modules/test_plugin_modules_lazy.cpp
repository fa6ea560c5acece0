// Start-up paid by use: a process that reads a PNG loads libpng's module and
// no other (issue 26); FFmpeg's, LibRaw's, GDCM's… libraries stay unmapped.
#include <imio/imio.hpp>
#include <imio/registry.hpp>

#include <fstream>
#include <string>

#include "catch.hpp"
#include "modules_test_util.hpp"
#include "test_paths.hpp"

namespace {

bool maps(const std::string& maps, const std::string& library) { return maps.find(library) != std::string::npos; }

}  // namespace

TEST_CASE("a PNG read in a fresh process loads libpng's module and no other plugin's") {
  imio_test::TempDir dir;
  const auto path = dir / "gray.png";
  {
    const imio::Bytes png = imio_test::tiny_png();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  }
  // The registry knows every plugin from its descriptor, without its module.
  REQUIRE(imio::has_plugin("libpng"));
  const std::string before = imio_test::mapped_files();
  CHECK_FALSE(maps(before, "imio_libpng"));

  const imio::NDArray image = imio::imread(path);
  REQUIRE(image.shape() == imio::Shape{1, 1});
  CHECK(image.at<std::uint8_t>(0, 0) == 127);

  const std::string after = imio_test::mapped_files();
  CHECK(maps(after, "imio_libpng"));
  for (const char* other : {"imio_ffmpeg", "imio_libraw", "imio_dicom", "imio_libheif", "imio_libjxl", "imio_openexr",
                            "libavcodec", "libavformat", "libraw", "libgdcm", "libheif", "libjxl", "libOpenEXR"}) {
    INFO(other);
    CHECK_FALSE(maps(after, other));
  }

  // plugins() names every backend: it loads the modules.
  bool ffmpeg_listed = false;
  for (const imio::PluginInfo& info : imio::plugins()) {
    INFO(info.name << ": " << info.backend);
    CHECK_FALSE(info.backend.empty());
    CHECK(info.backend.find("module not loaded") == std::string::npos);
    ffmpeg_listed = ffmpeg_listed || info.name == "ffmpeg";
  }
  if (ffmpeg_listed) CHECK(maps(imio_test::mapped_files(), "imio_ffmpeg"));
}
