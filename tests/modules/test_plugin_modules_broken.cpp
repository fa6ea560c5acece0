// A plugin module that does not load is an imio error naming the plugin,
// the module's path and the loader's reason, never an abort; IMIO_PLUGIN_PATH
// is searched before the folder beside libimio.
#include <imio/imio.hpp>
#include <imio/registry.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "catch.hpp"
#include "modules_test_util.hpp"
#include "test_paths.hpp"

TEST_CASE("a module that does not load gives an IOError naming the plugin, the path and dlerror") {
  imio_test::TempDir dir;
  const auto bogus = dir / "imio_libpng.so";
  std::ofstream(bogus) << "this is not a shared object, only text long enough to have an ELF header's size\n";
  REQUIRE(::setenv("IMIO_PLUGIN_PATH", ("/nonexistent-imio-folder:" + dir.path().string()).c_str(), 1) == 0);

  const auto png = dir / "gray.png";
  {
    const imio::Bytes bytes = imio_test::tiny_png();
    std::ofstream(png, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {  // the failure is kept, and reported again
    INFO("attempt " << attempt);
    try {
      (void)imio::imread(png);
      FAIL("the read succeeded");
    } catch (const imio::IOError& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(e.plugin() == "libpng");
      CHECK(e.operation() == "load");
      CHECK(what.find(bogus.string()) != std::string::npos);
      CHECK(what.find("invalid ELF header") != std::string::npos);
      CHECK(what.find("IMIO_PLUGIN_PATH") != std::string::npos);
    }
  }

  // The other plugins' modules come from the folder beside libimio.
  if (imio::has_plugin("npy")) {
    imio::NDArray a({2, 3}, imio::DType::uint8);
    imio::imwrite(dir / "a.npy", a);
    CHECK(imio::imread(dir / "a.npy") == a);
  }
}
