// The libheif plugin. Every HEIC and AVIF file is made here, at test time,
// by heif-enc (Debian's libheif-examples) from PNGs imio writes, or by imio
// itself; every read is compared with heif-convert's PNG of the same file
// (the same decoders: exact) and, for AVIF, with the ffmpeg CLI (another
// YCbCr → RGB conversion: within a stated tolerance). Every write is read
// back by heif-convert (pixels, EXIF and XMP) and checked by heif-info.
#include <imio/imio.hpp>
#include <imio/exif.hpp>
#include <imio/plugin.hpp>


#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "stderr_capture.hpp"
#include "test_util.hpp"
#include "random_damage.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::contains;
using imio_test::read_file;
using imio_test::to_bytes;
using imio_test::to_string;
using imio_test::write_file;

bool have_tool(const char* name) { return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0; }
bool tools_available() { return have_tool("heif-enc") && have_tool("heif-convert") && have_tool("heif-info"); }

// Runs `cmd` through the shell, its output in `log`; returns the exit status.
int shell(const fs::path& dir, const std::string& cmd, std::string& log) {
  const fs::path out = dir / "shell.log";
  const int status = std::system((cmd + " > \"" + out.string() + "\" 2>&1").c_str());
  log = to_string(read_file(out));
  return status;
}
std::string q(const fs::path& p) { return "\"" + p.string() + "\""; }

// A smooth picture with a little noise (codes like a photograph); 16-bit
// samples span the whole range.
NDArray photo(std::size_t h, std::size_t w, std::size_t c, unsigned seed, DType dtype = DType::uint8) {
  NDArray a({h, w, c}, dtype);
  std::uint32_t x = seed * 2654435761u + 7;
  const std::uint32_t top = dtype == DType::uint8 ? 255 : 65535;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      for (std::size_t k = 0; k < c; ++k) {
        x = x * 1664525u + 1013904223u;
        const double base = k == 0 ? double(i) / w : k == 1 ? double(y) / h : k == 2 ? double(i + y) / (w + h) : 0.3 + 0.7 * double((i / 5 + y / 3) % 4) / 3;
        const double v = std::min(1.0, base + double(x >> 28) / 255.0);
        const auto s = static_cast<std::uint32_t>(std::lround(v * top));
        if (dtype == DType::uint8) a.data<std::uint8_t>()[(y * w + i) * c + k] = static_cast<std::uint8_t>(s);
        else a.data<std::uint16_t>()[(y * w + i) * c + k] = static_cast<std::uint16_t>(s);
      }
    }
  }
  return a;
}

// Samples shifted left by `bits` (a native 10/12-bit read as heif-convert's 16-bit PNG has it).
NDArray shifted(const NDArray& a, int bits) {
  NDArray out = a.copy();
  for (std::size_t i = 0; i < out.size(); ++i) out.data<std::uint16_t>()[i] = static_cast<std::uint16_t>(a.data<std::uint16_t>()[i] << bits);
  return out;
}

double psnr(const NDArray& a, const NDArray& b, double peak) {
  REQUIRE(a.shape() == b.shape());
  double se = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = a.dtype() == DType::uint8 ? double(a.data<std::uint8_t>()[i]) - b.data<std::uint8_t>()[i]
                                               : double(a.data<std::uint16_t>()[i]) - b.data<std::uint16_t>()[i];
    se += d * d;
  }
  const double mse = se / double(a.size());
  return mse == 0 ? 99.0 : 10 * std::log10(peak * peak / mse);
}

using imio_test::StderrCapture;

// ---------------------------------------------------------------- the fixtures

struct Fixture {
  std::string name;     // <name>.heic / .avif in the fixture folder
  std::string file;
  int bits = 8;
  bool alpha = false;
};

struct Fixtures {
  imio_test::TempDir dir;
  bool ok = false;
  std::string log;
  std::vector<Fixture> files;
};

// heif-enc makes every file from PNGs imio writes; heif-convert decodes
// each to <file>.png (collections: <file>-1.png, <file>-2.png, …).
Fixtures& fixtures() {
  static Fixtures f;
  static bool made = false;
  if (made || !tools_available()) return f;
  made = true;
  const fs::path& d = f.dir.path();
  imio::imwrite(d / "rgb.png", photo(48, 64, 3, 1));
  imio::imwrite(d / "rgb2.png", photo(48, 64, 3, 2));
  imio::imwrite(d / "rgba.png", photo(48, 64, 4, 3));
  imio::imwrite(d / "rgb16.png", photo(48, 64, 3, 4, DType::uint16));
  imio::imwrite(d / "rgba16.png", photo(48, 64, 4, 5, DType::uint16));
  imio::imwrite(d / "wide.png", photo(40, 64, 3, 6));
  struct Make {
    Fixture fx;
    std::string args;
  };
  const std::vector<Make> makes = {
      {{"heic_rgb", "heic_rgb.heic", 8, false}, "-q 70 rgb.png"},
      {{"heic_rgba", "heic_rgba.heic", 8, true}, "-q 80 rgba.png"},
      {{"avif_rgb", "avif_rgb.avif", 8, false}, "-q 70 rgb.png"},
      {{"avif_rgba", "avif_rgba.avif", 8, true}, "-q 80 rgba.png"},
      {{"heic_10", "heic_10.heic", 10, false}, "-b 10 rgb16.png"},
      {{"heic_10a", "heic_10a.heic", 10, true}, "-b 10 rgba16.png"},
      // libheif 1.15 + libaom 3.6 code 10-bit AVIF only as 4:2:2 (see the README)
      {{"avif_10", "avif_10.avif", 10, false}, "-b 10 -p chroma=422 rgb16.png"},
      {{"heic_12", "heic_12.heic", 12, false}, "-b 12 rgb16.png"},
      {{"avif_12", "avif_12.avif", 12, false}, "-b 12 rgb16.png"},
      {{"heic_444", "heic_444.heic", 8, false}, "-p chroma=444 rgb.png"},
      {{"avif_422", "avif_422.avif", 8, false}, "-p chroma=422 rgb.png"},
      {{"heic_lossless", "heic_lossless.heic", 8, false}, "-L -p chroma=444 --matrix_coefficients=0 rgb.png"},
      {{"avif_lossless", "avif_lossless.avif", 8, false}, "-L -p chroma=444 --matrix_coefficients=0 rgb.png"},
      {{"heic_thumb", "heic_thumb.heic", 8, false}, "-t 16 rgb.png"},
      {{"heic_two", "heic_two.heic", 8, false}, "rgb.png rgb2.png"},
      {{"heic_mixed", "heic_mixed.heic", 8, false}, "rgb.png wide.png"},
  };
  for (const Make& m : makes) {
    std::string log;
    const fs::path out = d / m.fx.file;
    if (shell(d, "cd " + q(d) + " && heif-enc " + m.args + " -o " + q(out), log) != 0) {
      f.log += "heif-enc " + m.args + ": " + log;
      return f;
    }
    if (shell(d, "heif-convert --quiet " + q(out) + " " + q(d / (m.fx.file + ".png")), log) != 0) {
      f.log += "heif-convert " + m.fx.file + ": " + log;
      return f;
    }
    f.files.push_back(m.fx);
  }
  f.ok = true;
  return f;
}

#define REQUIRE_FIXTURES(var)                                                      \
  Fixtures& var = fixtures();                                                      \
  if (!tools_available()) {                                                        \
    WARN("heif-enc/heif-convert (Debian: libheif-examples) absent: skipped");      \
    return;                                                                        \
  }                                                                                \
  INFO(var.log);                                                                   \
  REQUIRE(var.ok)

// heif-convert's PNG of `file` (image `k` of a collection, 1-based names).
NDArray converted(const Fixtures& f, const std::string& file, int k = 0) {
  const fs::path single = f.dir / (file + ".png");
  if (k == 0 && fs::exists(single)) return imio::imread(single);
  const std::string stem = file + ".png";
  return imio::imread(f.dir / (stem.substr(0, stem.size() - 4) + "-" + std::to_string(k + 1) + ".png"));
}

// The ffmpeg CLI's RGB24 decoding of an AVIF file (FFmpeg 5.1: the mov
// demuxer's primary item, libdav1d or libaom, swscale's BT.601 conversion).
std::optional<NDArray> ffmpeg_rgb(const fs::path& file, std::size_t h, std::size_t w) {
  if (!have_tool("ffmpeg")) return std::nullopt;
  const fs::path raw = file.string() + ".rgb";
  std::string log;
  if (shell(file.parent_path(), "ffmpeg -v error -y -i " + q(file) + " -f rawvideo -pix_fmt rgb24 " + q(raw), log) != 0) return std::nullopt;
  const Bytes b = read_file(raw);
  if (b.size() != h * w * 3) return std::nullopt;
  NDArray a({h, w, 3}, DType::uint8);
  std::memcpy(a.bytes(), b.data(), b.size());
  return a;
}

}  // namespace

// ---------------------------------------------------------------- reading

TEST_CASE("HEIC and AVIF made by heif-enc read exactly as heif-convert decodes them") {
  REQUIRE_FIXTURES(f);
  for (const Fixture& fx : f.files) {
    if (fx.name == "heic_mixed" || fx.name == "heic_two") continue;
    INFO(fx.file);
    const fs::path p = f.dir / fx.file;
    const NDArray png = converted(f, fx.file);
    const NDArray got = imio::imread(p);
    CHECK(imio::imopen(p, "r").plugin_name() == "libheif");
    REQUIRE(got.shape() == Shape{48, 64, fx.alpha ? 4u : 3u});
    if (fx.bits == 8) {
      CHECK(got.dtype() == DType::uint8);
      CHECK(got == png);
    } else {
      // native: the stored 10/12-bit values; heif-convert's 16-bit PNG has them shifted left
      CHECK(got.dtype() == DType::uint16);
      const std::uint16_t top = *std::max_element(got.data<std::uint16_t>(), got.data<std::uint16_t>() + got.size());
      CHECK(top < (1u << fx.bits));
      CHECK(shifted(got, 16 - fx.bits) == png);
      CHECK(imio::imread(p, {.kwargs = {{"high_bit_depth", "scaled"}}}) == png);
      const NDArray eight = imio::imread(p, {.kwargs = {{"high_bit_depth", "8bit"}}});
      CHECK(eight.dtype() == DType::uint8);
      CHECK(eight.shape() == got.shape());
      // libheif's 8-bit conversion keeps the top bits (within rounding)
      int worst = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst, std::abs(int(eight.data<std::uint8_t>()[i]) - int(got.data<std::uint16_t>()[i] >> (fx.bits - 8))));
      }
      CHECK(worst <= 1);
    }
    const imio::Metadata m = imio::immeta(p);
    CHECK(m.get<std::int64_t>("bit_depth") == fx.bits);
    CHECK(m.get<bool>("has_alpha") == fx.alpha);
    CHECK(m.get<std::string>("format") == (fx.file.ends_with(".avif") ? "AVIF" : "HEIC"));
    CHECK(m.get<std::string>("mode") == (fx.alpha ? "RGBA" : "RGB"));
  }
}

TEST_CASE("heif-enc 1.15's lossless files: RGB coded with the identity matrix, but the nclx box says otherwise") {
  REQUIRE_FIXTURES(f);
  // heif-enc 1.15 -L -p chroma=444 --matrix_coefficients=0 codes the RGB
  // samples with the identity matrix, but the file's nclx box says BT.601
  // (AVIF: matrix 6) or is left out (HEIC: libheif's macOS workaround), so
  // every reader, heif-convert included, converts them as YCbCr: the pixels
  // equal heif-convert's (the first test) but not the source. imio's own
  // lossless writes record matrix 0 and come back exactly (the write tests).
  const NDArray src = imio::imread(f.dir / "rgb.png");
  CHECK(imio::immeta(f.dir / "avif_lossless.avif").get<std::int64_t>("matrix_coefficients") == 6);
  CHECK_FALSE(imio::immeta(f.dir / "heic_lossless.heic").contains("matrix_coefficients"));
  CHECK(imio::immeta(f.dir / "heic_lossless.heic").get<std::string>("chroma") == "444");
  CHECK(imio::imread(f.dir / "heic_lossless.heic") != src);
  CHECK(imio::imread(f.dir / "avif_lossless.avif") != src);
}

TEST_CASE("AVIF: dav1d (the default) and libaom decode the same pixels (AV1 decoding is exact)") {
  REQUIRE_FIXTURES(f);
  std::size_t compared = 0;
  for (const Fixture& fx : f.files) {
    if (!fx.file.ends_with(".avif")) continue;
    INFO(fx.file);
    const fs::path p = f.dir / fx.file;
    const NDArray by_default = imio::imread(p);
    CHECK(imio::imread(p, {.kwargs = {{"av1_decoder", "dav1d"}}}) == by_default);
    CHECK(imio::imread(p, {.kwargs = {{"av1_decoder", "aom"}}}) == by_default);
    ++compared;
  }
  CHECK(compared > 0);
}

TEST_CASE("AVIF files agree with the ffmpeg CLI's decoding within the conversion's rounding") {
  REQUIRE_FIXTURES(f);
  if (!have_tool("ffmpeg")) {
    WARN("ffmpeg absent: skipped");
    return;
  }
  // FFmpeg decodes the same AV1 data (dav1d) but converts YCbCr → RGB with
  // swscale: its own rounding and chroma upsampling. Tolerance: PSNR ≥ 35 dB
  // against libheif's RGB, and a mean absolute difference under 2.
  for (const char* name : {"avif_rgb.avif", "avif_rgba.avif", "avif_422.avif"}) {
    INFO(name);
    const NDArray ours = imio::imread(f.dir / name, {.kwargs = {{"mode", "RGB"}}});
    const auto theirs = ffmpeg_rgb(f.dir / name, 48, 64);
    REQUIRE(theirs);
    CHECK(psnr(ours, *theirs, 255) >= 35.0);
    double sum = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) sum += std::abs(int(ours.data<std::uint8_t>()[i]) - int(theirs->data<std::uint8_t>()[i]));
    CHECK(sum / double(ours.size()) < 2.0);
  }
}

TEST_CASE("mode converts as Pillow does; improps equals imread without decoding") {
  REQUIRE_FIXTURES(f);
  for (const char* name : {"heic_rgb.heic", "heic_rgba.heic", "avif_10.avif", "heic_10a.heic"}) {
    const fs::path p = f.dir / name;
    const NDArray native = imio::imread(p);
    for (const char* mode : {"", "RGB", "RGBA", "L"}) {
      for (const char* depth : {"native", "scaled", "8bit"}) {
        for (const bool transform : {true, false}) {
          INFO(name << " mode " << mode << " " << depth << " transform " << transform);
          imio::Kwargs kw{{"high_bit_depth", depth}, {"apply_transformations", transform}};
          if (*mode) kw.emplace_back("mode", mode);
          for (const imio::Index index : {imio::Index(), imio::Index(0), imio::Index(imio::all)}) {
            const NDArray a = imio::imread(p, {.index = index, .kwargs = kw});
            const auto props = imio::improps(p, {.index = index, .kwargs = kw});
            CHECK(props.shape == a.shape());
            CHECK(props.dtype == a.dtype());
            CHECK(props.is_batch == index.is_all());
          }
        }
      }
    }
    // RGB drops alpha, RGBA adds an opaque one, L is Pillow's luma
    const NDArray rgb = imio::imread(p, {.kwargs = {{"mode", "RGB"}}});
    const NDArray rgba = imio::imread(p, {.kwargs = {{"mode", "RGBA"}}});
    const NDArray l = imio::imread(p, {.kwargs = {{"mode", "L"}}});
    const std::size_t n = rgb.size() / 3;
    const bool wide = rgb.dtype() == DType::uint16;
    const auto at = [&](const NDArray& a, std::size_t i) -> std::uint32_t {
      return wide ? a.data<std::uint16_t>()[i] : a.data<std::uint8_t>()[i];
    };
    const std::uint32_t opaque = wide ? 1023 : 255;
    bool ok = true;
    for (std::size_t i = 0; i < n && ok; ++i) {
      for (std::size_t c = 0; c < 3; ++c) ok = ok && at(rgb, i * 3 + c) == at(rgba, i * 4 + c);
      if (native.shape()[2] == 3) ok = ok && at(rgba, i * 4 + 3) == opaque;
      const std::uint64_t y = (std::uint64_t{at(rgb, i * 3)} * 19595 + std::uint64_t{at(rgb, i * 3 + 1)} * 38470 +
                               std::uint64_t{at(rgb, i * 3 + 2)} * 7471 + 0x8000) >> 16;
      ok = ok && at(l, i) == y;
    }
    CHECK(ok);
  }
}

TEST_CASE("collections: index over the top-level images, imio::all stacks equal shapes only, imiter yields each") {
  REQUIRE_FIXTURES(f);
  const fs::path two = f.dir / "heic_two.heic";
  CHECK(imio::imread(two) == converted(f, "heic_two.heic", 0));  // the primary (the first heif-enc wrote)
  CHECK(imio::imread(two, {.index = 1}) == converted(f, "heic_two.heic", 1));
  const NDArray all = imio::imread(two, {.index = imio::all});
  REQUIRE(all.shape() == Shape{2, 48, 64, 3});
  CHECK(NDArray(all[1].copy()) == converted(f, "heic_two.heic", 1));
  CHECK(imio::improps(two, {.index = imio::all}).n_images == 2u);
  CHECK(imio::immeta(two).get<std::int64_t>("n_images") == 2);
  REQUIRE_THROWS_AS(imio::imread(two, {.index = 2}), imio::IndexError);
  std::size_t k = 0;
  for (const NDArray& im : imio::imiter(two)) CHECK(im == converted(f, "heic_two.heic", static_cast<int>(k++)));
  CHECK(k == 2);

  const fs::path mixed = f.dir / "heic_mixed.heic";
  CHECK(imio::imread(mixed, {.index = 1}).shape() == Shape{40, 64, 3});
  const std::string msg = imio_test::message_of<imio::ArgumentError>([&] { (void)imio::imread(mixed, {.index = imio::all}); });
  CHECK(contains(msg, "(48, 64, 3)"));
  CHECK(contains(msg, "(40, 64, 3)"));
  REQUIRE_THROWS_AS(imio::improps(mixed, {.index = imio::all}), imio::ArgumentError);
  k = 0;
  for (const NDArray& im : imio::imiter(mixed)) CHECK(im == converted(f, "heic_mixed.heic", static_cast<int>(k++)));
  CHECK(k == 2);
}

TEST_CASE("immeta: brands, chroma, thumbnails, colour information") {
  REQUIRE_FIXTURES(f);
  const imio::Metadata heic = imio::immeta(f.dir / "heic_thumb.heic");
  CHECK(heic.get<std::string>("brand") == "heic");
  CHECK(heic.get<std::int64_t>("thumbnails") == 1);
  CHECK(heic.get<std::int64_t>("depth_images") == 0);
  CHECK(heic.get<std::string>("chroma") == "420");
  CHECK(heic.at("shape") == Value(Value::List{64, 48}));
  const imio::Metadata avif = imio::immeta(f.dir / "avif_rgb.avif");
  CHECK(avif.get<std::string>("brand") == "avif");
  CHECK(avif.get<std::string>("format") == "AVIF");
  CHECK(avif.contains("color_primaries"));
  CHECK(avif.get<bool>("full_range"));
  CHECK(imio::immeta(f.dir / "avif_422.avif").get<std::string>("chroma") == "422");
  CHECK(imio::immeta(f.dir / "heic_444.heic").get<std::string>("chroma") == "444");
  CHECK(imio::immeta(f.dir / "avif_12.avif").get<std::int64_t>("bit_depth") == 12);
  CHECK(imio::immeta(f.dir / "heic_rgba.heic").get<std::int64_t>("auxiliary_images") >= 1);
}

TEST_CASE("unknown kwargs and modes are ArgumentErrors; selection by extension, alias and signature") {
  REQUIRE(imio::has_plugin("libheif"));
  const Bytes b = *imio::imwrite("<bytes>", photo(16, 24, 3, 9), {.extension = ".heic"});
  for (const imio::Kwargs& bad : {imio::Kwargs{{"pilmode", "L"}}, imio::Kwargs{{"mode", "CMYK"}}, imio::Kwargs{{"high_bit_depth", "9"}}}) {
    REQUIRE_THROWS_AS(imio::imread(b, {.kwargs = bad}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::improps(b, {.kwargs = bad}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::immeta(b, {.kwargs = bad}), imio::ArgumentError);
  }
  CHECK(imio::imread(b, {.kwargs = {{"apply_gamma", true}, {"writeable_output", false}}}).shape() == Shape{16, 24, 3});
  imio_test::TempDir dir;
  const Bytes avif = *imio::imwrite("<bytes>", photo(16, 24, 3, 9), {.extension = ".avif"});
  write_file(dir / "x.heic", b);
  write_file(dir / "x", b);
  write_file(dir / "x.png", avif);  // a lying extension: FFmpeg (second for .png) leaves HEIF images to libheif
  write_file(dir / "y.avif", avif);
  write_file(dir / "z.hif", b);
  for (const char* name : {"x.heic", "x", "x.png", "y.avif", "z.hif"}) {
    INFO(name);
    CHECK(imio::imopen(dir / name, "r").plugin_name() == "libheif");
  }
  CHECK(imio::imopen(dir / "x.heic", "r", {.plugin = "pillow"}).plugin_name() == "libheif");
  // The ffmpeg plugin, when built, stays a fallback for AVIF when named.
  if (imio::has_plugin("ffmpeg")) CHECK(imio::imread(dir / "y.avif", {.plugin = "ffmpeg"}).shape().back() == 3u);
}

// ---------------------------------------------------------------- writing

TEST_CASE("imio's HEIC and AVIF files are read back by heif-convert as imio reads them") {
  if (!tools_available()) {
    WARN("libheif-examples absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  struct Case {
    std::string file;
    NDArray image;
    imio::Kwargs kw;
    double min_psnr;  // against the source; 99: exact
  };
  std::vector<Case> cases;
  cases.push_back({"rgb.heic", photo(48, 64, 3, 1), {{"quality", 90}}, 36});
  cases.push_back({"rgba.heic", photo(48, 64, 4, 2), {{"quality", 90}}, 34});
  cases.push_back({"rgb.avif", photo(48, 64, 3, 3), {{"quality", 90}}, 34});
  cases.push_back({"rgba.avif", photo(48, 64, 4, 4), {}, 30});
  cases.push_back({"lossless.heic", photo(48, 64, 3, 5), {{"lossless", true}}, 99});
  cases.push_back({"lossless.avif", photo(48, 64, 4, 6), {{"lossless", true}}, 99});
  cases.push_back({"odd.heic", photo(23, 37, 3, 7), {{"quality", 90}}, 34});
  cases.push_back({"odd.avif", photo(23, 37, 3, 8), {{"quality", 90}}, 34});
  cases.push_back({"c444.heic", photo(48, 64, 3, 9), {{"chroma", "444"}, {"quality", 90}}, 36});
  cases.push_back({"c422.avif", photo(48, 64, 3, 10), {{"chroma", "422"}, {"quality", 90}}, 34});
  cases.push_back({"av1.heif", photo(48, 64, 3, 11), {{"codec", "av1"}, {"quality", 90}}, 34});
  for (const Case& c : cases) {
    INFO(c.file);
    const fs::path p = dir / c.file;
    imio::imwrite(p, c.image, {.kwargs = c.kw});
    const NDArray back = imio::imread(p);
    REQUIRE(back.shape() == c.image.shape());
    std::string log;
    REQUIRE(shell(dir.path(), "heif-convert --quiet " + q(p) + " " + q(dir / (c.file + ".png")), log) == 0);
    CHECK(imio::imread(dir / (c.file + ".png")) == back);
    if (c.min_psnr >= 99) CHECK(back == c.image);
    else CHECK(psnr(back, c.image, 255) >= c.min_psnr);
    REQUIRE(shell(dir.path(), "heif-info " + q(p), log) == 0);
    CHECK(contains(log, c.file.ends_with(".avif") || c.file == "av1.heif" ? "image/avif" : "image/heic"));
  }
}

TEST_CASE("10- and 12-bit writes from uint16 samples, gray, and refusals before the target is touched") {
  if (!tools_available()) {
    WARN("libheif-examples absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  NDArray ten = photo(48, 64, 3, 20, DType::uint16);
  for (std::size_t i = 0; i < ten.size(); ++i) ten.data<std::uint16_t>()[i] >>= 6;  // 0…1023
  NDArray twelve = photo(48, 64, 4, 21, DType::uint16);
  for (std::size_t i = 0; i < twelve.size(); ++i) twelve.data<std::uint16_t>()[i] >>= 4;  // 0…4095
  struct Case {
    std::string file;
    const NDArray* image;
    imio::Kwargs kw;
    int bits;
  };
  const std::vector<Case> cases = {
      {"ten.heic", &ten, {{"quality", 95}}, 10},
      {"ten.avif", &ten, {{"quality", 95}, {"chroma", "422"}}, 10},
      {"twelve.heic", &twelve, {{"bit_depth", 12}, {"quality", 95}}, 12},
      {"twelve.avif", &twelve, {{"bit_depth", 12}, {"quality", 95}}, 12},
      {"ten_lossless.heic", &ten, {{"lossless", true}}, 10},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const fs::path p = dir / c.file;
    imio::imwrite(p, *c.image, {.kwargs = c.kw});
    const NDArray back = imio::imread(p);
    REQUIRE(back.dtype() == DType::uint16);
    REQUIRE(back.shape() == c.image->shape());
    CHECK(imio::immeta(p).get<std::int64_t>("bit_depth") == c.bits);
    std::string log;
    REQUIRE(shell(dir.path(), "heif-convert --quiet " + q(p) + " " + q(dir / (c.file + ".png")), log) == 0);
    CHECK(imio::imread(dir / (c.file + ".png")) == shifted(back, 16 - c.bits));
    if (c.file.find("lossless") != std::string::npos) CHECK(back == *c.image);
    else CHECK(psnr(back, *c.image, double((1 << c.bits) - 1)) >= 35.0);
  }
  // gray and gray+alpha: coded 4:0:0, read as RGB(A) with R = G = B
  NDArray gray({30, 40}, DType::uint8);
  for (std::size_t i = 0; i < gray.size(); ++i) gray.data<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 7) % 251);
  for (const char* ext : {".heic", ".avif"}) {
    INFO(ext);
    const Bytes b = *imio::imwrite("<bytes>", gray, {.extension = ext, .kwargs = {{"lossless", true}}});
    const NDArray back = imio::imread(b, {.kwargs = {{"mode", "RGB"}}});
    REQUIRE(back.shape() == Shape{30, 40, 3});
    bool same = true;
    for (std::size_t i = 0; i < gray.size(); ++i) {
      for (std::size_t c = 0; c < 3; ++c) same = same && back.data<std::uint8_t>()[i * 3 + c] == gray.data<std::uint8_t>()[i];
    }
    CHECK(same);
    CHECK(imio::immeta(b).get<std::string>("chroma") == "monochrome");
  }

  const fs::path keep = dir / "keep.heic";
  write_file(keep, to_bytes("previous"));
  const auto refused = [&](const NDArray& a, imio::Kwargs kw = {}, const fs::path& target = {}) {
    const fs::path t = target.empty() ? keep : target;
    REQUIRE_THROWS_AS(imio::imwrite(t, a, {.kwargs = std::move(kw)}), imio::ArgumentError);
  };
  refused(NDArray({4, 4, 3}, DType::float32));
  refused(NDArray({4, 4, 5, 6, 7}, DType::uint8));
  refused(photo(8, 8, 3, 1), {{"quality", 101}});
  refused(photo(8, 8, 3, 1), {{"chroma", "411"}});
  refused(photo(8, 8, 3, 1), {{"lossless", true}, {"chroma", "420"}});
  refused(photo(8, 8, 3, 1), {{"bit_depth", 10}});  // uint8 is 8-bit
  refused(photo(8, 8, 3, 1, DType::uint16));       // 16-bit values above 1023 for the default 10 bits
  refused(photo(8, 8, 3, 1), {{"primary_index", 1}});
  refused(photo(8, 8, 3, 1), {{"qualty", 3}});
  refused(photo(8, 8, 3, 1), {{"orientation", 9}});
  CHECK(to_string(read_file(keep)) == "previous");
  const std::string msg = imio_test::message_of<imio::ArgumentError>([&] { imio::imwrite(keep, photo(8, 8, 3, 1, DType::uint16)); });
  CHECK(contains(msg, "libheif"));
  CHECK(contains(msg, "bit_depth"));
}

TEST_CASE("orientation is written as irot/imir; reads apply it unless apply_transformations=false") {
  if (!tools_available()) {
    WARN("libheif-examples absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  const NDArray src = photo(20, 32, 3, 30);
  for (int o = 1; o <= 8; ++o) {
    INFO("orientation " << o);
    const fs::path p = dir / ("o" + std::to_string(o) + ".heic");
    imio::imwrite(p, src, {.kwargs = {{"lossless", true}, {"orientation", o}}});
    const NDArray shown = imio::imread(p);
    CHECK(shown == imio::apply_orientation(src.copy(), o));
    CHECK(imio::improps(p).shape == shown.shape());
    CHECK(imio::imread(p, {.kwargs = {{"apply_transformations", false}}}) == src);
    CHECK(imio::improps(p, {.kwargs = {{"apply_transformations", false}}}).shape == src.shape());
    std::string log;
    REQUIRE(shell(dir.path(), "heif-convert --quiet " + q(p) + " " + q(dir / "o.png"), log) == 0);
    CHECK(imio::imread(dir / "o.png") == shown);
    const auto t = imio::immeta(p).at("transformations").get<Value::List>();
    CHECK(t.empty() == (o == 1));
    // the normalised orientation irot/imir amount to (docs/metadata.md): what
    // libheif's decoding applies to the stored image; hidden when applied (D17)
    const imio::Metadata stored = imio::immeta(p, {.kwargs = {{"apply_transformations", false}}});
    CHECK(stored.get<std::int64_t>("orientation") == o);
    CHECK(imio::apply_orientation(imio::imread(p, {.kwargs = {{"apply_transformations", false}}}), o) == shown);
    CHECK_FALSE(imio::immeta(p).contains("orientation"));
  }
}

TEST_CASE("ICC, EXIF and XMP are written and read back, also by heif-convert; collections with a primary index") {
  if (!tools_available()) {
    WARN("libheif-examples absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  const Bytes exif_bytes = to_bytes(std::string(
      "MM\0*\0\0\0\x08\0\x02\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\x01\x0f\0\x02\0\0\0\x05\0\0\0\x26\0\0\0\0imio\0", 43));
  Bytes app1 = to_bytes(std::string("Exif\0\0", 6));
  app1.insert(app1.end(), exif_bytes.begin(), exif_bytes.end());
  // the smallest well-formed ICC profile (header: size, 'acsp'; no tags):
  // immeta reads its description, and a malformed one is a DecodeError
  Bytes icc(132);
  icc[3] = std::byte{132};
  std::memcpy(icc.data() + 36, "acsp", 4);
  const std::string xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
  for (const char* ext : {".heic", ".avif"}) {
    INFO(ext);
    const fs::path p = dir / (std::string("meta") + ext);
    imio::imwrite(p, photo(16, 24, 3, 40), {.kwargs = {{"icc_profile", icc}, {"exif", app1}, {"xmp", xmp}}});
    const imio::Metadata m = imio::immeta(p);
    CHECK(m.get<Bytes>("icc_profile") == icc);
    CHECK(m.get<Bytes>("exif") == exif_bytes);
    CHECK(to_string(m.get<Bytes>("xmp")) == xmp);
    CHECK(m.get<std::string>("Make") == "imio");
    // the normalised entries (docs/metadata.md): every IFD of the Exif item;
    // the orientation is irot/imir's, which the writer made from the EXIF
    // Orientation (6: reconcile_orientation)
    CHECK(m.at("exif_tags").ref<imio::Dict>().at("IFD0").ref<imio::Dict>().get<std::int64_t>("Orientation") == 6);
    CHECK(m.get<std::string>("icc_description").empty());  // a profile without tags
    CHECK(imio::immeta(p, {.kwargs = {{"apply_transformations", false}}}).get<std::int64_t>("orientation") == 6);
    // The EXIF Orientation (6) describes what irot/imir do in HEIF: hidden when the read applies them (D17)
    CHECK_FALSE(m.contains("Orientation"));
    CHECK(imio::immeta(p, {.exclude_applied = false}).get<std::int64_t>("Orientation") == 6);
    CHECK(imio::immeta(p, {.kwargs = {{"apply_transformations", false}}}).get<std::int64_t>("Orientation") == 6);
    std::string log;
    REQUIRE(shell(dir.path(), "heif-convert --quiet --with-exif --with-xmp " + q(p) + " " + q(dir / "meta.png"), log) == 0);
    const Bytes exif_out = read_file(dir / "meta.exif");
    CHECK(std::search(exif_out.begin(), exif_out.end(), exif_bytes.begin(), exif_bytes.end()) != exif_out.end());
    CHECK(to_string(read_file(dir / "meta.xmp")) == xmp);
    REQUIRE(shell(dir.path(), "heif-info " + q(p), log) == 0);
    CHECK(contains(log, "color profile: prof"));
  }
  // several images: a collection; primary_index chooses the primary
  std::vector<NDArray> images;
  images.push_back(photo(16, 24, 3, 41));
  images.push_back(photo(16, 24, 3, 42));
  images.push_back(photo(10, 12, 3, 43));
  const fs::path c = dir / "coll.heic";
  imio::imwrite(c, images, {.kwargs = {{"lossless", true}, {"primary_index", 1}}});
  CHECK(imio::imread(c) == images[1]);
  for (std::size_t k = 0; k < 3; ++k) CHECK(imio::imread(c, {.index = k}) == images[k]);
  CHECK(imio::immeta(c).get<std::int64_t>("primary_index") == 1);
  std::string log;
  REQUIRE(shell(dir.path(), "heif-info " + q(c), log) == 0);
  CHECK(contains(log, "(id=") );
  // one handle, several write calls: one file
  {
    auto file = imio::imopen(dir / "calls.avif", "w");
    file.write(images[0], {{"lossless", true}});
    file.write(images[2]);
    file.close();
  }
  CHECK(imio::improps(dir / "calls.avif", {.index = 1}).shape == Shape{10, 12, 3});
  CHECK(imio::imread(dir / "calls.avif", {.index = 1}) == images[2]);
}

// ---------------------------------------------------------------- damaged and hostile input

namespace {

std::uint32_t be32(const Bytes& b, std::size_t at) {
  return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) | (std::uint32_t(b[at + 2]) << 8) | std::uint32_t(b[at + 3]);
}
void put_be32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>(v >> (24 - 8 * i));
}
std::size_t find_bytes(const Bytes& b, const char* what, std::size_t from) {
  const std::size_t n = std::strlen(what);
  for (std::size_t pos = from; pos + n <= b.size(); ++pos) {
    if (std::memcmp(b.data() + pos, what, n) == 0) return pos;
  }
  return std::string::npos;
}
// The offset of the first box of type `type` at any depth (a byte search
// for the type after a plausible size; the test files are small).
std::size_t box_at(const Bytes& b, const char* type) {
  for (std::size_t pos = 4; pos + 4 <= b.size(); ++pos) {
    if (std::memcmp(b.data() + pos, type, 4) == 0) {
      const std::uint32_t size = be32(b, pos - 4);
      if (size >= 8 && pos - 4 + size <= b.size()) return pos - 4;
    }
  }
  FAIL("no box " << type);
  return 0;
}

// Every call an imio error within a second, nothing on stderr.
template <class E>
void refused_everywhere(const Bytes& data, const std::string& what, const char* ext = ".heic") {
  INFO(what);
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  const auto t0 = std::chrono::steady_clock::now();
  std::string first;
  REQUIRE_THROWS_AS(imio::imread(data, {.extension = ext}), E);
  REQUIRE_THROWS_AS(imio::imread(data, {.index = imio::all, .extension = ext}), E);
  REQUIRE_THROWS_AS(imio::improps(data, {.extension = ext}), E);
  REQUIRE_THROWS_AS(imio::immeta(data, {.extension = ext}), E);
  REQUIRE_THROWS_AS(
      [&] {
        for (const NDArray& fr : imio::imiter(data, {.extension = ext})) (void)fr;
      }(),
      E);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(err.text().empty());
  CHECK(s < imio_test::time_bound(5.0));  // five calls, each well under a second
}

Bytes twelve_bit_heic() {
  NDArray a = photo(24, 40, 3, 53, DType::uint16);
  for (std::size_t i = 0; i < a.size(); ++i) a.data<std::uint16_t>()[i] >>= 4;
  return *imio::imwrite("<bytes>", a, {.extension = ".heic", .kwargs = {{"bit_depth", 12}, {"quality", 60}}});
}

Bytes small_heic(bool alpha = false) {
  return *imio::imwrite("<bytes>", photo(32, 48, alpha ? 4 : 3, 50), {.extension = ".heic"});
}

}  // namespace

TEST_CASE("truncated files raise DecodeError at every length, promptly and silently") {
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  for (const Bytes& file : {small_heic(true), *imio::imwrite("<bytes>", photo(32, 48, 4, 51), {.extension = ".avif"})}) {
    for (std::size_t n = 12; n < file.size(); n += std::max<std::size_t>(1, file.size() / 97)) {
      INFO("cut to " << n << " of " << file.size() << " bytes");
      const Bytes cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
      const auto t0 = std::chrono::steady_clock::now();
      const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(cut, {.extension = ".heic"}); });
      CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
      CHECK(contains(msg, "libheif"));
      CHECK(contains(msg, "<bytes>"));
    }
  }
  CHECK(err.text().empty());
}

TEST_CASE("hostile files: absurd sizes, reference loops, box sizes") {
  const Bytes plain = small_heic();
  // imio's (libheif 1.15's) HEIC: a 1x1 grid (the output size) over one
  // coded tile, its descriptor in the idat box; every ispe is patched.
  const auto set_ispe = [](Bytes& b, std::uint32_t w, std::uint32_t h) {
    for (std::size_t pos = 0; (pos = find_bytes(b, "ispe", pos)) != std::string::npos; pos += 4) {
      put_be32(b, pos + 8, w);
      put_be32(b, pos + 12, h);
    }
  };
  SECTION("an image size beyond libheif's limit and imio's") {
    Bytes b = plain;
    set_ispe(b, 1'000'000'000, 1'000'000'000);
    refused_everywhere<imio::LimitError>(b, "ispe 1e9 x 1e9");
  }
  SECTION("an image size within libheif's per-side limit but above max_pixels") {
    Bytes b = plain;
    set_ispe(b, 30000, 30000);
    refused_everywhere<imio::LimitError>(b, "ispe 30000 x 30000");
    const std::string msg = imio_test::message_of<imio::LimitError>([&] { (void)imio::improps(b, {.extension = ".heic"}); });
    CHECK(contains(msg, "libheif"));
  }
  SECTION("smaller Limits are honoured") {
    REQUIRE_THROWS_AS(imio::imread(plain, {.extension = ".heic", .limits = {.max_pixels = 1000}}), imio::LimitError);
    REQUIRE_THROWS_AS(imio::imread(plain, {.extension = ".heic", .limits = {.max_bytes = 1000}}), imio::LimitError);
  }
  SECTION("an alpha image that is its own master (auxl loop)") {
    Bytes b = small_heic(true);
    const std::size_t iref = box_at(b, "iref");
    const std::size_t auxl = box_at(b, "auxl");
    REQUIRE(auxl > iref);
    // auxl (v0 iref: 16-bit ids): from, count, to → to := from
    b[auxl + 12] = b[auxl + 8];
    b[auxl + 13] = b[auxl + 9];
    refused_everywhere<imio::DecodeError>(b, "auxl self-reference");
  }
  SECTION("a derived image among its own inputs (dimg loop)") {
    Bytes b = small_heic(true);
    const std::size_t auxl = box_at(b, "auxl");
    std::memcpy(b.data() + auxl + 4, "dimg", 4);
    b[auxl + 12] = b[auxl + 8];
    b[auxl + 13] = b[auxl + 9];
    refused_everywhere<imio::DecodeError>(b, "dimg self-reference");
    const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(b, {.extension = ".heic"}); });
    CHECK(contains(msg, "loop"));
  }
  SECTION("a grid whose tile reference is gone") {
    Bytes b = plain;
    std::memcpy(b.data() + box_at(b, "dimg") + 4, "xxxx", 4);
    refused_everywhere<imio::DecodeError>(b, "no dimg");
  }
  SECTION("a grid declaring 256 x 256 tiles over one") {
    Bytes b = plain;
    const std::size_t idat = box_at(b, "idat");
    b[idat + 10] = std::byte{255};
    b[idat + 11] = std::byte{255};
    refused_everywhere<imio::DecodeError>(b, "grid 256x256 tiles");
    CHECK(contains(imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(b, {.extension = ".heic"}); }), "256x256 tiles"));
  }
  SECTION("a grid of 65535 x 65535 pixels") {
    Bytes b = plain;
    const std::size_t idat = box_at(b, "idat");
    for (std::size_t i = 12; i < 16; ++i) b[idat + i] = std::byte{0xff};
    refused_everywhere<imio::LimitError>(b, "grid 65535x65535");
  }
  SECTION("a box size past the end of its parent") {
    Bytes b = plain;
    put_be32(b, box_at(b, "iinf"), 0x7ffffff0);
    refused_everywhere<imio::DecodeError>(b, "iinf size");
    const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(b, {.extension = ".heic"}); });
    CHECK(contains(msg, "truncated"));
  }
}

TEST_CASE("a damaged HEVC sequence parameter set is refused before libde265 prints about it") {
  // Every bit of the SPS in the hvcC box flipped in turn: libde265 prints
  // "SPS error: ..." on stderr for some of these (CB alignment, transform
  // sizes and depths); the plugin checks the SPS first (hevc_sps.cpp).
  const Bytes seed = small_heic();
  const std::size_t hvcc = box_at(seed, "hvcC") + 8;
  std::size_t at = hvcc + 23, sps = 0, sps_length = 0;
  for (std::uint32_t arrays = std::to_integer<std::uint32_t>(seed[hvcc + 22]), a = 0; a < arrays; ++a) {
    const auto type = std::to_integer<std::uint32_t>(seed[at]) & 0x3F;
    const std::size_t count = std::to_integer<std::size_t>(seed[at + 1]) << 8 | std::to_integer<std::size_t>(seed[at + 2]);
    at += 3;
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t n = std::to_integer<std::size_t>(seed[at]) << 8 | std::to_integer<std::size_t>(seed[at + 1]);
      if (type == 33) sps = at + 2, sps_length = n;
      at += 2 + n;
    }
  }
  REQUIRE(sps_length > 10);
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  std::size_t by_check = 0, decoded = 0;
  for (std::size_t byte = sps + 2; byte < sps + sps_length; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = seed;
      b[byte] ^= static_cast<std::byte>(1 << bit);
      try {
        (void)imio::imread(b, {.extension = ".heic"});
        ++decoded;
      } catch (const imio::Error& e) {
        if (contains(e.what(), "sequence parameter set")) ++by_check;
      }
    }
  }
  INFO(by_check << " refused by the SPS check, " << decoded << " decoded");
  const std::string printed = err.text();
  INFO(printed.substr(0, 600));
  CHECK(printed.empty());
  CHECK(by_check > 0);
}

TEST_CASE("random damage never crashes, hangs or prints") {
  const Bytes seeds[] = {small_heic(true), *imio::imwrite("<bytes>", photo(32, 48, 4, 52), {.extension = ".avif"}),
                         twelve_bit_heic()};
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  // ArgumentError: collections of different shapes after a flipped size.
  const auto run = imio_test::random_damage<imio::DecodeError, imio::LimitError, imio::ArgumentError>(
      seeds, imio_test::damage_rounds("IMIO_HEIF_FUZZ_ROUNDS", 120), 12, 4242, [](const Bytes& b) {
        const NDArray a = imio::imread(b, {.index = imio::all, .extension = ".heic"});
        CHECK(a.size() > 0);
        CHECK(imio::improps(b, {.index = imio::all, .extension = ".heic"}).shape == a.shape());
        (void)imio::immeta(b, {.extension = ".heic"});
        // The default AV1 decoder is dav1d, kept quiet by imio; libaom is
        // silent by itself, and checks an alpha image before dav1d sees it.
        (void)imio::imread(b, {.index = imio::all, .extension = ".heic", .kwargs = {{"av1_decoder", "aom"}}});
      });
  INFO(run.summary());
  const std::string printed = err.text();
  INFO(printed.substr(0, 600));
  CHECK(printed.empty());
  CHECK(run.refused > 0);
  CHECK(run.slowest < imio_test::time_bound(1.0));
}
