// D11 on damaged video (issue #19 classes 11 and 17): improps' frame count
// is what imread returns, also when the container's index or its packets
// say otherwise. The damaged files come from ../shared/corpus; the
// trailing-access-unit file is made here with the ffmpeg tool.
#include <imio/imio.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "catch.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

// improps and imread agree: both succeed with the same shape, or both raise.
void check_agree(const fs::path& file) {
  INFO(file.string());
  imio::NDArray frames;
  try {
    frames = imio::imread(file);
  } catch (const imio::DecodeError&) {
    CHECK_THROWS_AS(imio::improps(file), imio::DecodeError);
    return;
  }
  const imio::ImageProperties p = imio::improps(file);
  CHECK(p.shape == frames.shape());
  REQUIRE(p.n_images.has_value());
  CHECK(*p.n_images == frames.shape()[0]);
  std::size_t n = 0;
  for (const imio::NDArray& f : imio::imiter(file)) {
    (void)f;
    ++n;
  }
  CHECK(n == frames.shape()[0]);
}

}  // namespace

TEST_CASE("ffmpeg: improps counts the frames imread returns in cut and damaged videos (D11)") {
  // fixture.mov: its index states 25 frames, 5 decode; video_truncated.mp4:
  // 12 listed, 6 present.
  for (const char* rel : {"video/file-type/fixture.mov", "synthetic/video_truncated.mp4"}) {
    const fs::path file = imio_test::corpus_file(rel);
    if (file.empty()) {
      WARN("skipped: corpus file " << rel << " is not available");
      continue;
    }
    check_agree(file);
  }
}

TEST_CASE("ffmpeg: a last access unit without a picture does not count as a frame (D11)") {
  if (std::system("command -v ffmpeg >/dev/null 2>&1") != 0) {
    WARN("skipped: the ffmpeg tool is not available");
    return;
  }
  imio_test::TempDir dir;
  const fs::path plain = dir / "v.h264";
  const std::string make = "ffmpeg -loglevel error -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 12 -c:v libx264 "
                           "-pix_fmt yuv420p -f h264 \"" + plain.string() + "\"";
  if (std::system(make.c_str()) != 0) {
    WARN("skipped: this ffmpeg cannot encode H.264");
    return;
  }
  // An access unit delimiter and an SEI after the last picture: one more
  // packet for the demuxer, no picture for the decoder.
  imio::Bytes data = imio_test::read_file(plain);
  const unsigned char tail[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x06, 0x05, 0x01, 0x00, 0x80};
  for (unsigned char c : tail) data.push_back(static_cast<std::byte>(c));
  const fs::path file = dir / "v_tail.h264";
  imio_test::write_file(file, data);
  check_agree(plain);
  check_agree(file);
}
