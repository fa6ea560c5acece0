// Damaged JPEGs and the `strict` kwarg (issue #19 class 7), and empty
// metadata given to the writer (class 16). The damaged files are made here
// with cjpeg from a gradient, then cut; djpeg (libjpeg-turbo-progs) and
// Pillow 9.4 are the oracles: Pillow returns libjpeg's pixels for an
// incomplete progressive scan and raises for a truncated file; djpeg decodes
// both, and strict=false must give exactly djpeg's pixels.
#include <imio/imio.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "catch.hpp"
#include "oracle_compare.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::NDArray;

bool tools_available() {
  return imio_test::python_has("numpy, PIL") && std::system("command -v cjpeg >/dev/null 2>&1") == 0 &&
         std::system("command -v djpeg >/dev/null 2>&1") == 0;
}

// progressive_cut.jpg: a progressive JPEG whose 6th scan is cut short and
// followed by EOI (libjpeg: "premature end of data segment");
// truncated.jpg: a baseline JPEG cut at 60 % (no EOI: "premature end of
// JPEG file"). Each <name>.npy holds djpeg's pixels; <name>.pillow says
// what Pillow does ("ok" when its pixels equal djpeg's, else "error").
constexpr const char* kMakeFiles = R"(
import sys, os, io, subprocess, warnings, numpy
from PIL import Image
d = sys.argv[1]
p = lambda n: os.path.join(d, n)
y, x = numpy.mgrid[0:96, 0:128]
rgb = numpy.stack([x * 2, y * 2, (x + y) % 256], -1).astype(numpy.uint8)
open(p('src.ppm'), 'wb').write(b'P6 128 96 255\n' + rgb.tobytes())
subprocess.run(['cjpeg', '-progressive', '-outfile', p('prog.jpg'), p('src.ppm')], check=True)
subprocess.run(['cjpeg', '-outfile', p('base.jpg'), p('src.ppm')], check=True)
prog = open(p('prog.jpg'), 'rb').read()
sos = [i for i in range(len(prog) - 1) if prog[i] == 0xFF and prog[i + 1] == 0xDA]
assert len(sos) >= 8, len(sos)
cut = prog[:sos[5] + 40] + b'\xff\xd9'
base = open(p('base.jpg'), 'rb').read()
files = {'progressive_cut': cut, 'truncated': base[:len(base) * 6 // 10]}
for name, data in files.items():
    open(p(name + '.jpg'), 'wb').write(data)
    r = subprocess.run(['djpeg', '-outfile', p(name + '.ppm'), p(name + '.jpg')], capture_output=True)
    assert b'Corrupt' in r.stderr or b'Premature' in r.stderr, r.stderr
    want = numpy.asarray(Image.open(p(name + '.ppm')))
    numpy.save(p(name + '.npy'), want)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            got = numpy.asarray(Image.open(io.BytesIO(data)).convert('RGB'))
            verdict = 'ok' if (got == want).all() else 'different'
        except Exception:
            verdict = 'error'
    open(p(name + '.pillow'), 'w').write(verdict)
)";

std::string text_of(const fs::path& p) { return imio_test::to_string(imio_test::read_file(p)); }

}  // namespace

TEST_CASE("libjpeg: damaged data is a DecodeError by default and libjpeg's pixels with strict=false") {
  if (!tools_available()) {
    WARN("skipped: cjpeg/djpeg (libjpeg-turbo-progs) or Python with Pillow are not available");
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakeFiles, log) == 0);
  INFO(log);
  // What imageio does with them: Pillow returns the incomplete progressive
  // scan exactly as djpeg decodes it, and raises for the truncated file.
  REQUIRE(text_of(dir / "progressive_cut.pillow") == "ok");
  REQUIRE(text_of(dir / "truncated.pillow") == "error");

  const fs::path cut = dir / "progressive_cut.jpg";
  const fs::path truncated = dir / "truncated.jpg";
  CHECK(imio_test::contains(imio_test::message_of<imio::DecodeError>([&] { imio::imread(cut); }), "corrupt JPEG data"));
  CHECK(imio_test::contains(imio_test::message_of<imio::DecodeError>([&] { imio::imread(truncated); }), "truncated"));
  CHECK_THROWS_AS(imio::imread(cut, {.kwargs = {{"strict", true}}}), imio::DecodeError);

  for (const auto& [file, npy] : {std::pair{cut, "progressive_cut.npy"}, std::pair{truncated, "truncated.npy"}}) {
    INFO(file.string());
    imio_test::WarningCapture warnings;
    const NDArray got = imio::imread(file, {.kwargs = {{"strict", false}}});
    CHECK(got == imio::imread(dir / npy));  // exactly djpeg's pixels
    CHECK(warnings.any_contains("strict=false"));
    CHECK(imio::improps(file, {.kwargs = {{"strict", false}}}).shape == got.shape());
    int frames = 0;
    for (const NDArray& f : imio::imiter(file, {.kwargs = {{"strict", false}}})) {
      CHECK(f == got);
      ++frames;
    }
    CHECK(frames == 1);
  }
  CHECK_THROWS_AS(imio::imread(cut, {.kwargs = {{"strict", "no"}}}), imio::ArgumentError);
}

TEST_CASE("libjpeg: empty comment, icc_profile and exif are written as absent") {
  NDArray image({8, 8, 3}, imio::DType::uint8);
  for (std::size_t i = 0; i < image.nbytes(); ++i) image.bytes()[i] = static_cast<std::byte>(i * 5);
  // As strings and as bytes: an empty std::string or Bytes has no buffer
  // (a null pointer for memcpy, which UBSan reports).
  for (const char* key : {"comment", "icc_profile", "exif"}) {
    for (const imio::Value& empty : {imio::Value(std::string()), imio::Value(imio::Bytes{})}) {
      INFO(key);
      const auto jpg = imio::imwrite("<bytes>", image, {.extension = ".jpg", .kwargs = {{key, empty}}});
      REQUIRE(jpg.has_value());
      const imio::Metadata meta = imio::immeta(*jpg);
      CHECK_FALSE(meta.contains(key));
      CHECK(imio::imread(*jpg).shape() == image.shape());
    }
  }
}
