// `imio` for everyday work (issue #17 items 5 and 7): frames in any format,
// streamed conversions, Limits on the command line, a progress line on
// terminals only, and messages that help.
#include <imio/imio.hpp>
#include <imio/registry.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "plugins_built.hpp"
#include "run_program.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::ProgramResult;
using imio_test::run_imio;
using imio_test::TempDir;

namespace {

/// `n` frames of h×w RGB with a handful of colours (exact through GIF's palette).
NDArray frames(std::size_t n, std::size_t h, std::size_t w) {
  NDArray a({n, h, w, 3}, DType::uint8);
  std::byte* p = a.bytes();
  for (std::size_t f = 0; f < n; ++f) {
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        for (std::size_t c = 0; c < 3; ++c) {
          const std::size_t level = ((x / 4 + y / 4 + f) % 4) * 60 + c * 10;
          *p++ = static_cast<std::byte>(level);
        }
      }
    }
  }
  return a;
}

NDArray frame_of(const NDArray& batch, std::size_t k) {
  const Shape s(batch.shape().begin() + 1, batch.shape().end());
  NDArray out(s, batch.dtype());
  const std::size_t n = out.nbytes();
  std::copy_n(batch.bytes() + k * n, n, out.bytes());
  return out;
}

void check_ok(const ProgramResult& r) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());  // not a terminal: no progress line
}

}  // namespace

TEST_CASE("imio iter --write-extension .png writes each frame as OUTDIR/00000.png, …") {
  if (!imio_test::plugins_built({"giflib", "libpng"})) return;
  TempDir tmp;
  imio::imwrite(tmp / "anim.gif", frames(4, 24, 32));
  const NDArray want = imio::imread(tmp / "anim.gif");  // what the frames read as
  const ProgramResult r = run_imio({"iter", (tmp / "anim.gif").string(), (tmp / "out").string(), "--write-extension", ".png"});
  check_ok(r);
  CHECK(r.out == "4\n");
  for (std::size_t k = 0; k < 4; ++k) {
    const fs::path f = tmp / "out" / ("0000" + std::to_string(k) + ".png");
    REQUIRE(fs::exists(f));
    CHECK(imio::imread(f) == frame_of(want, k));
  }
  CHECK_FALSE(fs::exists(tmp / "out" / "00000.npy"));
  // --write-kw reaches the writer; an unknown one is the writer's ArgumentError.
  const ProgramResult bad = run_imio({"iter", (tmp / "anim.gif").string(), (tmp / "bad").string(), "--write-extension",
                                      ".png", "--write-kw", "frobnicate=1"});
  CHECK(bad.status == 1);
  CHECK(contains(bad.err, "imio: ArgumentError: "));
}

TEST_CASE("imio convert of an animation to GIF streams the frames and writes what imwrite writes") {
  if (!imio_test::plugins_built({"giflib"})) return;
  TempDir tmp;
  imio::imwrite(tmp / "anim.gif", frames(5, 24, 32), {.kwargs = {{"duration", 40}, {"loop", 0}}});
  const ProgramResult r = run_imio({"convert", (tmp / "anim.gif").string(), (tmp / "out.gif").string(), "--write-kw",
                                    "duration=40"});
  check_ok(r);
  imio::imwrite(tmp / "ref.gif", imio::imread(tmp / "anim.gif"), {.kwargs = {{"duration", 40}}});
  CHECK(imio_test::read_file(tmp / "out.gif") == imio_test::read_file(tmp / "ref.gif"));
  // A per-frame list needs every frame in one call: such a conversion is not streamed, and works.
  const ProgramResult list = run_imio({"convert", (tmp / "anim.gif").string(), (tmp / "list.gif").string(), "--write-kw",
                                       "duration=[10,20,30,40,50]"});
  check_ok(list);
  CHECK(imio::improps(tmp / "list.gif").n_images == 5);
}

TEST_CASE("imio convert of one image writes the bytes imwrite(imread) writes") {
  if (!imio_test::plugins_built({"libpng", "libjpeg"})) return;
  TempDir tmp;
  imio::imwrite(tmp / "a.png", frame_of(frames(1, 30, 40), 0));
  for (const char* ext : {".png", ".jpg", ".npy"}) {
    INFO(ext);
    const fs::path out = tmp / (std::string("out") + ext);
    check_ok(run_imio({"convert", (tmp / "a.png").string(), out.string()}));
    const fs::path ref = tmp / (std::string("ref") + ext);
    imio::imwrite(ref, imio::imread(tmp / "a.png"));
    CHECK(imio_test::read_file(out) == imio_test::read_file(ref));
  }
  // An animation to a still format: the batch is refused as before (JPEG holds one image).
  if (!imio_test::plugins_built({"giflib"})) return;
  imio::imwrite(tmp / "anim.gif", frames(3, 8, 8));
  const ProgramResult r = run_imio({"convert", (tmp / "anim.gif").string(), (tmp / "x.jpg").string()});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "imio: ArgumentError: "));
  CHECK_FALSE(contains(r.err, "(D"));  // no internal decision ids in messages
  CHECK_FALSE(fs::exists(tmp / "x.jpg"));
}

TEST_CASE("imio convert of a video to GIF and to another container streams every frame") {
  if (!imio_test::plugins_built({"ffmpeg", "giflib"})) return;
  TempDir tmp;
  try {
    imio::imwrite(tmp / "in.mkv", frames(12, 48, 64), {.kwargs = {{"fps", 10}}});
  } catch (const imio::Error& e) {
    WARN("skipped: this FFmpeg cannot write .mkv: " << e.what());
    return;
  }
  const auto n = imio::improps(tmp / "in.mkv").n_images;
  REQUIRE(n == std::optional<std::size_t>(12));
  check_ok(run_imio({"convert", (tmp / "in.mkv").string(), (tmp / "out.gif").string()}));
  CHECK(imio::improps(tmp / "out.gif").shape == Shape{12, 48, 64, 3});
  check_ok(run_imio({"convert", (tmp / "in.mkv").string(), (tmp / "out.avi").string()}));
  CHECK(imio::improps(tmp / "out.avi").n_images == n);
}

TEST_CASE("--max-pixels, --max-frames and --max-bytes reach the library as the call's Limits") {
  if (!imio_test::plugins_built({"giflib", "npy"})) return;
  TempDir tmp;
  imio::imwrite(tmp / "anim.gif", frames(5, 24, 32));
  const auto limit_error = [](const ProgramResult& r) {
    INFO("stderr: " << r.err);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "imio: LimitError: "));
  };
  limit_error(run_imio({"convert", (tmp / "anim.gif").string(), (tmp / "a.npy").string(), "--max-frames", "2"}));
  CHECK_FALSE(fs::exists(tmp / "a.npy"));
  limit_error(run_imio({"convert", (tmp / "anim.gif").string(), (tmp / "a.npy").string(), "--max-bytes", "1000"}));
  limit_error(run_imio({"iter", (tmp / "anim.gif").string(), (tmp / "f").string(), "--max-pixels", "100"}));
  limit_error(run_imio({"props", (tmp / "anim.gif").string(), "--max-pixels", "100"}));
  // Raised bounds let the same calls through.
  check_ok(run_imio({"convert", (tmp / "anim.gif").string(), (tmp / "a.npy").string(), "--max-frames", "5",
                     "--max-bytes", "11520", "--max-pixels", "3072"}));
  CHECK(imio::imread(tmp / "a.npy").shape() == Shape{5, 24, 32, 3});
}

TEST_CASE("a long conversion draws a progress line on a terminal, and nothing on a pipe") {
  if (!imio_test::plugins_built({"giflib"})) return;
  const std::string script = "/usr/bin/script";
  if (!fs::exists(script)) {
    WARN("skipped: util-linux's script (a pseudo-terminal) is not available");
    return;
  }
  TempDir tmp;
  imio::imwrite(tmp / "anim.gif", frames(6, 24, 32));
  // script runs the command on a pseudo-terminal: stderr is a TTY there.
  const std::string command = std::string(IMIO_CLI_PATH) + " convert " + (tmp / "anim.gif").string() + " " +
                              (tmp / "out.gif").string();
  const ProgramResult tty = imio_test::run_program(script, {"-qec", command, "/dev/null"});
  INFO("through script: " << tty.out);
  CHECK(tty.status == 0);
  CHECK(contains(tty.out, "\rframe 1/6"));
  CHECK(imio::improps(tmp / "out.gif").n_images == 6);
  // The same on a pipe: nothing on stderr.
  check_ok(run_imio({"convert", (tmp / "anim.gif").string(), (tmp / "pipe.gif").string()}));
  check_ok(run_imio({"iter", (tmp / "anim.gif").string(), (tmp / "frames").string()}));
}

TEST_CASE("an unknown write extension lists each writer and what it writes, in a few lines") {
  if (!imio_test::plugins_built({"npy"})) return;
  TempDir tmp;
  imio::imwrite(tmp / "a.npy", NDArray({2, 3}, DType::uint8));
  const ProgramResult r = run_imio({"convert", (tmp / "a.npy").string(), (tmp / "out.xyz").string()});
  INFO("stderr: " << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.err, "imio: NoPluginError: "));
  CHECK(contains(r.err, "no plugin writes .xyz files; the plugins that write: "));
  for (const imio::PluginInfo& p : imio::plugins()) {
    if (p.can_write) CHECK(contains(r.err, p.name + " ("));
  }
  CHECK(contains(r.err, "npy (.npy, .npz)"));
  if (imio::has_plugin("ffmpeg")) CHECK(contains(r.err, "the video containers and image formats FFmpeg has a muxer for"));
  CHECK_FALSE(contains(r.err, "writable extensions"));
  CHECK(r.err.size() < 700);  // not every extension of every muxer
  CHECK_FALSE(fs::exists(tmp / "out.xyz"));
}

TEST_CASE("reading a folder says that no plugin reads folders, and suggests none") {
  TempDir tmp;
  const ProgramResult r = run_imio({"props", tmp.path().string()});
  INFO("stderr: " << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.err, "imio: IOError: "));
  CHECK(contains(r.err, "no imio plugin reads folders: pass one of its files"));
  CHECK_FALSE(contains(r.err, "plugin="));
}
