// Standard-image downloads (spec §2.8) from the loopback server into imio's cache.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
#include <imio/standard_images.hpp>

#include <filesystem>
#include <stdexcept>

#include "catch.hpp"
#include "fake_plugin.hpp"
#include "loopback_server.hpp"
#include "remote_support.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio_test::contains;
using imio_test::EnvVar;
using imio_test::message_of;
using imio_test::write_file;

namespace {

// Empty local folders, the cache in a temporary folder, downloads allowed
// (ctest forbids them by default) from `base`.
struct Isolated {
  explicit Isolated(const std::string& base)
      : std_dir("IMIO_STANDARD_IMAGES", (dir / "std").string()),
        user_dir("IMAGEIO_USERDIR", (dir / "user").string()),
        cache("XDG_CACHE_HOME", (dir / "cache").string()),
        url("IMIO_STANDARD_IMAGES_URL", base),
        no_internet("IMIO_NO_INTERNET", std::nullopt),
        no_internet_imageio("IMAGEIO_NO_INTERNET", std::nullopt) {}
  fs::path cached(const std::string& name) const { return dir / "cache/imio/images" / name; }
  std::size_t files_in_cache() const {
    std::error_code ec;
    if (!fs::is_directory(dir / "cache/imio/images", ec)) return 0;
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "cache/imio/images")) ++n;
    return n;
  }
  imio_test::TempDir dir;
  EnvVar std_dir, user_dir, cache, url, no_internet, no_internet_imageio;
};

struct Served {
  Served() : server(root.path()) {
    fake::register_fakes();
    write_file(root / "chelsea.png", data);  // FAKE data under a standard image's name
  }
  imio_test::TempDir root;
  imio::Bytes data = fake::encode(1, 6, 7);
  imio_test::LoopbackServer server;
};

}  // namespace

#ifdef IMIO_TEST_HAVE_HTTP

TEST_CASE("download: imageio:NAME is downloaded once, then read from the cache", "[download]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  Isolated env(s.server.url("/files/"));
  CHECK(imio::imread("imageio:chelsea.png").shape() == imio::Shape{6, 7});
  CHECK(fs::is_regular_file(env.cached("chelsea.png")));
  CHECK(imio::imread("imageio:CHELSEA.PNG").shape() == imio::Shape{6, 7});
  CHECK(s.server.count("/files/chelsea.png") == 1);
  CHECK(env.files_in_cache() == 1);  // no .part file left
  CHECK(imio::standard_image_path("chelsea.png") == env.cached("chelsea.png"));
}

TEST_CASE("download: the progress callback follows the download and can cancel it", "[download]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  Isolated env(s.server.url("/files/"));
  // a callback that throws cancels: the exception propagates, nothing is cached
  struct Cancelled : std::runtime_error {
    Cancelled() : std::runtime_error("cancelled") {}
  };
  CHECK_THROWS_AS(imio::standard_image_path("chelsea.png", [](std::uint64_t, std::uint64_t) { throw Cancelled(); }),
                  Cancelled);
  CHECK(env.files_in_cache() == 0);
  std::uint64_t last_received = 0, last_total = 0;
  const fs::path path = imio::standard_image_path("chelsea.png", [&](std::uint64_t received, std::uint64_t total) {
    last_received = received;
    last_total = total;
  });
  CHECK(path == env.cached("chelsea.png"));
  CHECK(last_received == s.data.size());
  CHECK(last_total == s.data.size());
  // the process-wide handler serves imread("imageio:…")
  fs::remove(path);
  std::uint64_t seen = 0;
  auto previous = imio::set_download_progress_handler([&](std::uint64_t received, std::uint64_t) { seen = received; });
  CHECK(imio::imread("imageio:chelsea.png").shape() == imio::Shape{6, 7});
  imio::set_download_progress_handler(previous);
  CHECK(seen == s.data.size());
}

TEST_CASE("download: failures leave nothing in the cache and say what happened", "[download]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  {
    Isolated env(s.server.url("/status/404/"));
    const std::string msg = message_of<imio::IOError>([] { imio::imread("imageio:chelsea.png"); });
    CHECK(contains(msg, "404"));
    CHECK(contains(msg, s.server.url("/status/404/chelsea.png")));
    CHECK(env.files_in_cache() == 0);
  }
  {
    Isolated env(s.server.url("/truncated/"));
    const std::string msg = message_of<imio::IOError>([] { imio::imread("imageio:chelsea.png"); });
    CHECK(contains(msg, "truncated"));
    CHECK(env.files_in_cache() == 0);
    CHECK(s.server.count("/truncated/chelsea.png") == 3);  // transient failures are retried
  }
}

TEST_CASE("download: IMIO_NO_INTERNET / IMAGEIO_NO_INTERNET forbid downloads", "[download]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  for (const char* var : {"IMIO_NO_INTERNET", "IMAGEIO_NO_INTERNET"}) {
    Isolated env(s.server.url("/files/"));
    EnvVar off(var, std::string("yes"));
    const std::string msg = message_of<imio::IOError>([] { imio::imread("imageio:chelsea.png"); });
    CHECK(contains(msg, "IMIO_STANDARD_IMAGES"));  // how to provide the file
    CHECK(contains(msg, "IMIO_NO_INTERNET"));
    CHECK(env.files_in_cache() == 0);
  }
  CHECK(s.server.count("/files/chelsea.png") == 0);
}

#else

TEST_CASE("download: a build without libcurl says how to provide the file", "[download]") {
  fake::register_fakes();
  Isolated env("http://127.0.0.1:9/");
  const std::string msg = message_of<imio::FileNotFoundError>([] { imio::imread("imageio:chelsea.png"); });
  CHECK(contains(msg, "IMIO_STANDARD_IMAGES"));
}

#endif
