// Security (issue #19 class 12): a resource never reaches another resource.
// Bytes (or a file) holding an HLS playlist or an ffconcat list that names a
// local video by absolute path, file:// URL or relative path, or an http URL,
// must not make FFmpeg read that video or open a connection. Each route is
// checked with inotify on the video (no open at all) and a loopback listener
// (no connection). The video is made here with the ffmpeg tool.
#include <imio/imio.hpp>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include "catch.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

// Reports whether anyone opened `file` since construction.
class OpenWatch {
 public:
  explicit OpenWatch(const fs::path& file) : fd_(inotify_init1(IN_NONBLOCK)) {
    if (fd_ >= 0) inotify_add_watch(fd_, file.c_str(), IN_OPEN | IN_ACCESS);
  }
  ~OpenWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool opened() const {
    alignas(inotify_event) char buf[4096];
    return ::read(fd_, buf, sizeof buf) > 0;
  }

 private:
  int fd_;
};

// A TCP listener on 127.0.0.1 that never accepts during the call: the
// kernel still completes a client's handshake, so accept() afterwards tells
// whether anyone connected.
class Listener {
 public:
  Listener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return port_; }
  bool connected() const {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c >= 0) ::close(c);
    return c >= 0;
  }

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace

TEST_CASE("ffmpeg: playlists and concat lists never make imio read a local file or open a connection") {
  if (std::system("command -v ffmpeg >/dev/null 2>&1") != 0) {
    WARN("skipped: the ffmpeg tool is not available");
    return;
  }
  imio_test::TempDir dir;
  const fs::path secret = dir / "secret.ts";
  const std::string make = "ffmpeg -loglevel error -f lavfi -i testsrc=size=32x24:rate=5 -frames:v 5 -c:v mpeg4 -f mpegts \"" +
                           secret.string() + "\"";
  REQUIRE(std::system(make.c_str()) == 0);
  // The video itself is readable: the routes below would return its frames.
  REQUIRE(imio::imread(secret).shape() == imio::Shape{5, 24, 32, 3});

  Listener listener;
  REQUIRE(listener.port() > 0);
  const std::string http = "http://127.0.0.1:" + std::to_string(listener.port()) + "/segment.ts";
  const std::string hls_head = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n";
  const std::string hls_tail = "\n#EXT-X-ENDLIST\n";
  struct Route {
    std::string name, text, file_name;
  };
  const std::vector<Route> routes = {
      {"HLS, absolute path", hls_head + secret.string() + hls_tail, "list.m3u8"},
      {"HLS, file:// URL", hls_head + "file://" + secret.string() + hls_tail, "list.m3u8"},
      {"HLS, relative path", hls_head + "secret.ts" + hls_tail, "list.m3u8"},
      {"HLS, http URL", hls_head + http + hls_tail, "list.m3u8"},
      {"ffconcat, absolute path", "ffconcat version 1.0\nfile '" + secret.string() + "'\n", "list.ffconcat"},
      {"ffconcat, file:// URL", "ffconcat version 1.0\nfile 'file://" + secret.string() + "'\n", "list.ffconcat"},
      {"ffconcat, relative path", "ffconcat version 1.0\nfile 'secret.ts'\n", "list.ffconcat"},
      {"ffconcat, http URL", "ffconcat version 1.0\nfile '" + http + "'\n", "list.ffconcat"},
  };
  for (const Route& r : routes) {
    INFO(r.name);
    const imio::Bytes bytes = imio_test::to_bytes(r.text);
    const fs::path file = dir / r.file_name;
    imio_test::write_file(file, bytes);
    OpenWatch watch(secret);
    REQUIRE(watch.ok());
    // In memory with no plugin named, as a file (relative entries resolve
    // beside it), and with the ffmpeg plugin named explicitly.
    CHECK_THROWS_AS(imio::imread(bytes), imio::Error);
    CHECK_THROWS_AS(imio::imread(file), imio::Error);
    CHECK_THROWS_AS(imio::imread(file, {.plugin = "ffmpeg"}), imio::Error);
    CHECK_THROWS_AS(imio::improps(bytes), imio::Error);
    CHECK_FALSE(watch.opened());
    CHECK_FALSE(listener.connected());
  }
  // Naming a demuxer that follows nested inputs is refused too.
  CHECK_THROWS_AS(imio::imread(dir / "list.m3u8", {.plugin = "ffmpeg", .kwargs = {{"format", "hls"}}}), imio::Error);
  CHECK_THROWS_AS(imio::imread(dir / "list.ffconcat", {.plugin = "ffmpeg", .kwargs = {{"format", "concat"}}}),
                  imio::Error);
}
