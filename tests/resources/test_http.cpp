// http(s) resources (spec §2.9) against the loopback server.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>

#include "catch.hpp"
#include "fake_plugin.hpp"
#include "loopback_server.hpp"
#include "remote_support.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio_test::contains;
using imio_test::message_of;
using imio_test::write_file;

#ifdef IMIO_TEST_HAVE_HTTP

namespace {

// A plugin for ".urltest" whose backend "opens URLs itself": its factory
// never touches the source, and its sniff refuses everything, so it is
// accepted only when selection offers it the request before the body.
void register_url_plugin() {
  static std::once_flag once;
  std::call_once(once, [] {
    imio::PluginSpec spec;
    spec.name = "urltest";
    spec.extensions = {{".urltest", 10}};
    spec.sniff = [](std::span<const std::byte>) { return false; };
    spec.factory = [](imio::Request& request, const imio::Kwargs&) -> std::unique_ptr<imio::Plugin> {
      if (request.url().empty()) throw imio::InitializationError("reads URLs only");
      struct UrlPlugin final : imio::Plugin {
        explicit UrlPlugin(std::string url) : url_(std::move(url)) {}
        imio::NDArray read(const imio::Index&, const imio::Kwargs&) override {
          imio::NDArray a({1, url_.size()}, imio::DType::uint8);
          std::memcpy(a.bytes(), url_.data(), url_.size());
          return a;
        }
        std::unique_ptr<imio::FrameSource> iter(const imio::Kwargs&) override { return nullptr; }
        imio::ImageProperties properties(const imio::Index&, const imio::Kwargs&) override { return {}; }
        imio::Metadata metadata(const imio::Index&, bool, const imio::Kwargs&) override { return {}; }
        std::string url_;
      };
      return std::make_unique<UrlPlugin>(request.url());
    };
    imio::register_plugin(std::move(spec));
  });
}

struct Served {
  Served() : server(root.path()) {
    fake::register_fakes();
    write_file(root / "img.fake", data);
    write_file(root / "big.fake", fake::encode(1, 4200, 4200));  // beyond the 16 MiB kept in memory
  }
  imio_test::TempDir root;
  imio::Bytes data = fake::encode(2, 30, 40);
  imio_test::LoopbackServer server;
};

}  // namespace

TEST_CASE("http: a URL reads like the local file", "[http]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start (python3 missing?)");
  const auto expected = imio::imread(s.data, {.index = imio::all});
  CHECK(imio::imread(s.server.url("/files/img.fake"), {.index = imio::all}) == expected);
  CHECK(imio::improps(s.server.url("/files/img.fake")).shape == imio::Shape{2, 30, 40});
  std::size_t frames = 0;
  for (const auto& f : imio::imiter(s.server.url("/files/img.fake"))) frames += f.shape()[0] == 30 ? 1 : 0;
  CHECK(frames == 2);
  CHECK(imio::ImageResource(s.server.url("/files/img.fake")).describe() == s.server.url("/files/img.fake"));
  // a body larger than the memory threshold goes through a temporary file
  CHECK(imio::imread(s.server.url("/files/big.fake")).shape() == imio::Shape{4200, 4200});
  // the body arrives without Content-Length
  CHECK(imio::imread(s.server.url("/nolength/img.fake"), {.index = imio::all}) == expected);
}

TEST_CASE("http: every plugin's format over http equals the local read", "[http]") {
  const fs::path corpus = imio_test::corpus_dir();
  if (corpus.empty()) IMIO_TEST_SKIP("../shared/corpus is absent");
  imio_test::TempDir extra;
  // npy has no corpus file: one is written beside nothing else, served from
  // its own server below.
  imio::NDArray small({3, 4}, imio::DType::uint16);
  small.at<std::uint16_t>(1, 2) = 513;
  imio::imwrite(extra / "small.npy", small);
  struct Case {
    const char* plugin;
    const char* file;  // below the corpus folder
  };
  // The video goes through FFmpeg's own http client (Request::url()), all
  // others through imio's libcurl download.
  const Case cases[] = {
      {"libpng", "standard/chelsea.png"},         {"libjpeg", "standard/bricks.jpg"},
      {"giflib", "standard/newtonscradle.gif"},   {"libtiff", "standard/multipage_rgb.tif"},
      {"ffmpeg", "standard/realshort.mp4"},       {"ffmpeg", "standard/scribble_P_RGB.bmp"},
      {"libraw", "raw/imageio/Nikon_uncompressed.nef"},
  };
  imio_test::LoopbackServer server(corpus);
  if (!server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  std::size_t checked = 0;
  for (const Case& c : cases) {
    if (!imio_test::has_plugin(c.plugin)) continue;
    INFO(c.file);
    const fs::path local = corpus / c.file;
    const std::string url = server.url(std::string("/files/") + c.file);
    CHECK(imio::imread(url, {.index = imio::all}) == imio::imread(local, {.index = imio::all}));
    CHECK(imio::improps(url).shape == imio::improps(local).shape);
    CHECK(imio::immeta(url) == imio::immeta(local));
    ++checked;
  }
  imio_test::LoopbackServer npy_server(extra.path());
  if (npy_server.ok()) {
    CHECK(imio::imread(npy_server.url("/files/small.npy")) == small);
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("http: the extension comes from the URL path, not the query", "[http]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  auto file = imio::imopen(s.server.url("/files/img.fake?x=1&y=.png#frag.jpg"), "r");
  CHECK(file.plugin_name() == "fake");
  CHECK(file.read({.index = 0}).shape() == imio::Shape{30, 40});
}

TEST_CASE("http: a plugin chosen by extension gets the URL before the body is fetched", "[http]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  register_url_plugin();
  const std::string url = s.server.url("/files/movie.urltest");
  const auto out = imio::imread(url);
  CHECK(imio_test::to_string(std::span<const std::byte>(out.bytes(), out.nbytes())) == url);
  CHECK(s.server.count("/files/movie.urltest") == 0);
  // other plugins fetch the body through source(), once per call
  auto file = imio::imopen(s.server.url("/files/img.fake"), "r");
  CHECK(s.server.count("/files/img.fake") == 1);  // fake's factory reads the header
  CHECK(file.read({.index = 1}).shape() == imio::Shape{30, 40});
  CHECK(file.read({.index = 0}).shape() == imio::Shape{30, 40});
  CHECK(s.server.count("/files/img.fake") == 1);
}

TEST_CASE("http: redirects are followed, loops are not", "[http]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  CHECK(imio::imread(s.server.url("/redirect/3/img.fake")).shape() == imio::Shape{2, 30, 40});
  CHECK(s.server.count("/redirect/1/img.fake") == 1);
  const std::string msg = message_of<imio::IOError>([&] { imio::imread(s.server.url("/loop/img.fake")); });
  CHECK(contains(msg, "redirects"));
}

TEST_CASE("http: HTTP errors are IOErrors with the status", "[http]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  const std::string missing = message_of<imio::FileNotFoundError>([&] { imio::imread(s.server.url("/files/none.fake")); });
  CHECK(contains(missing, "404"));
  CHECK(contains(missing, s.server.url("/files/none.fake")));
  const std::string server_error = message_of<imio::IOError>([&] { imio::imread(s.server.url("/status/500/x.fake")); });
  CHECK(contains(server_error, "500"));
  CHECK_THROWS_AS(imio::imread(s.server.url("/status/403/x.fake")), imio::IOError);
}

TEST_CASE("http: truncated bodies, stalls and refused connections are IOErrors", "[http]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  CHECK(contains(message_of<imio::IOError>([&] { imio::imread(s.server.url("/truncated/img.fake")); }), "truncated"));
  imio_test::EnvVar timeout("IMIO_REQUEST_TIMEOUT", std::string("1"));
  const auto start = std::chrono::steady_clock::now();
  CHECK(contains(message_of<imio::IOError>([&] { imio::imread(s.server.url("/slow/img.fake")); }), "timed out"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(10)));
  // nothing listens on port 9 of the loopback interface
  CHECK_THROWS_AS(imio::imread("http://127.0.0.1:9/x.fake"), imio::IOError);
}

TEST_CASE("http: bodies beyond Limits::max_bytes are a LimitError", "[http]") {
  Served s;
  if (!s.server.ok()) IMIO_TEST_SKIP("the loopback server did not start");
  // announced by Content-Length: refused before the body
  CHECK_THROWS_AS(imio::imread(s.server.url("/files/img.fake"), {.limits = {.max_bytes = 1000}}), imio::LimitError);
  // no length announced: stopped while arriving
  CHECK_THROWS_AS(imio::imread(s.server.url("/nolength/img.fake"), {.limits = {.max_bytes = 1000}}), imio::LimitError);
}

TEST_CASE("http: URLs are read-only", "[http]") {
  Served s;
  imio::NDArray img({2, 2}, imio::DType::uint8);
  const std::string msg = message_of<imio::IOError>([&] { imio::imwrite(s.server.url("/files/w.fake"), img); });
  CHECK(contains(msg, "read-only"));
  CHECK_THROWS_AS(imio::imopen("https://127.0.0.1:9/w.fake", "w"), imio::IOError);
}

#else

TEST_CASE("http: a build without libcurl says so", "[http]") {
  fake::register_fakes();
  const std::string msg = message_of<imio::IOError>([] { imio::imread("http://127.0.0.1:9/x.fake"); });
  CHECK(contains(msg, "IMIO_WITH_HTTP"));
}

#endif
