// The libpng plugin's `crop`: every cropped read equals the same box of the
// whole decode — imio's own and Pillow's Image.crop — for every bit depth
// and colour type, palette and interlaced files, `mode`, `rotate` and APNG
// frames, through both inflate paths of imio's decoder (libdeflate on the
// whole stream, zlib a batch of rows at a time: IMIO_PNG_IDAT_PATH) and
// through libpng (IMIO_PNG_LIBPNG_ONLY); improps and imread_into agree; bad
// boxes are ArgumentErrors naming the plugin and the resource.
#include <imio/imio.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "catch.hpp"
#include "crop_box.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::Box;
using imio_test::box_text;
using imio_test::box_value;
using imio_test::boxes;
using imio_test::check_crops;
using imio_test::contains;
using imio_test::cut;
using imio_test::message_of;

imio::ReadOptions png(imio::Kwargs kwargs = {}, imio::Index index = {}) {
  return {.index = index, .plugin = "libpng", .kwargs = std::move(kwargs)};
}

imio::IterOptions png_iter(imio::Kwargs kwargs) { return {.plugin = "libpng", .kwargs = std::move(kwargs)}; }

bool same_pixels(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

// The decoders a read can take: imio's with its choice of inflate, imio's
// forced to one inflate path, libpng alone.
struct Decoder {
  const char* name;
  const char* idat_path;  // IMIO_PNG_IDAT_PATH, or nullptr
  bool libpng_only;
};
const Decoder kDecoders[] = {{"imio", nullptr, false},
                             {"imio whole inflate", "whole", false},
                             {"imio streaming inflate", "stream", false},
                             {"libpng", nullptr, true}};

// Sets the environment for one decoder while it lives.
class UseDecoder {
 public:
  explicit UseDecoder(const Decoder& d) {
    if (d.idat_path != nullptr) ::setenv("IMIO_PNG_IDAT_PATH", d.idat_path, 1);
    if (d.libpng_only) ::setenv("IMIO_PNG_LIBPNG_ONLY", "1", 1);
  }
  ~UseDecoder() {
    ::unsetenv("IMIO_PNG_IDAT_PATH");
    ::unsetenv("IMIO_PNG_LIBPNG_ONLY");
  }
  UseDecoder(const UseDecoder&) = delete;
  UseDecoder& operator=(const UseDecoder&) = delete;
};

// A gradient with noise: every filter type gets used.
NDArray texture(std::size_t h, std::size_t w, std::size_t c, DType dtype, unsigned seed) {
  Shape shape{h, w};
  if (c > 1) shape.push_back(c);
  NDArray a(shape, dtype);
  std::mt19937 rng(seed);
  for (std::size_t i = 0, n = h * w * c; i < n; ++i) {
    const std::size_t y = i / (w * c), x = (i / c) % w, k = i % c;
    const std::uint32_t v = static_cast<std::uint32_t>(x * 150 / w + y * 90 / h + k * 40 + rng() % 24);
    if (dtype == DType::uint16) {
      a.data<std::uint16_t>()[i] = static_cast<std::uint16_t>(v * 257 + rng() % 200);
    } else if (dtype == DType::bool_) {
      a.data<bool>()[i] = (v & 8) != 0;
    } else {
      a.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(v & 0xFF);
    }
  }
  return a;
}

struct Sample {
  std::string name;
  Bytes data;
  bool pillow = true;  // Pillow's array is imio's (8 bits and below, 16-bit gray)
};

Bytes png_bytes(const NDArray& a, imio::Kwargs kwargs = {}) {
  return imio::imwrite("<bytes>", a, {.extension = ".png", .kwargs = std::move(kwargs)}).value();
}

// 203 × 117 (odd sizes: packed rows end inside a byte), every layout the
// writer makes, and a tall image whose rows take several inflate batches.
std::vector<Sample> samples() {
  std::vector<Sample> out;
  out.push_back({"gray 1-bit", png_bytes(texture(117, 203, 1, DType::bool_, 1))});
  out.push_back({"gray 8", png_bytes(texture(117, 203, 1, DType::uint8, 2))});
  out.push_back({"gray 16", png_bytes(texture(117, 203, 1, DType::uint16, 3))});
  out.push_back({"gray+alpha 8", png_bytes(texture(117, 203, 2, DType::uint8, 4))});
  out.push_back({"gray+alpha 16", png_bytes(texture(117, 203, 2, DType::uint16, 5)), false});
  out.push_back({"RGB 8", png_bytes(texture(117, 203, 3, DType::uint8, 6))});
  out.push_back({"RGB 16", png_bytes(texture(117, 203, 3, DType::uint16, 7)), false});
  out.push_back({"RGBA 8", png_bytes(texture(117, 203, 4, DType::uint8, 8))});
  out.push_back({"RGBA 16", png_bytes(texture(117, 203, 4, DType::uint16, 9)), false});
  out.push_back({"palette 8-bit", png_bytes(texture(117, 203, 1, DType::uint8, 10), {{"mode", "P"}})});
  for (const int bits : {1, 2, 4}) {
    out.push_back({"palette " + std::to_string(bits) + "-bit",
                   png_bytes(texture(117, 203, 3, DType::uint8, 11), {{"bits", bits}})});
  }
  out.push_back({"RGB 8, 1100 rows", png_bytes(texture(1100, 301, 3, DType::uint8, 12))});
  // PngSuite: 2/4-bit gray, and Adam7-interlaced files (libpng decodes them whole).
  for (const char* name : {"basn0g02.png", "basn0g04.png", "basn3p02.png", "basi0g01.png", "basi0g04.png",
                           "basi2c08.png", "basi2c16.png", "basi3p04.png", "basi4a08.png", "basi6a16.png"}) {
    const fs::path p = imio_test::corpus_file(std::string("pngsuite/") + name);
    if (p.empty()) continue;
    const bool deep = std::string(name).find("16") != std::string::npos;
    out.push_back({name, imio_test::read_file(p), !deep});
  }
  return out;
}

// "Exif\0\0"-less little-endian TIFF block whose IFD0 holds only Orientation.
Bytes exif_orientation(int orientation) {
  const unsigned char b[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0,
                             static_cast<unsigned char>(orientation), 0, 0, 0, 0, 0, 0, 0};
  Bytes out(sizeof b);
  std::memcpy(out.data(), b, sizeof b);
  return out;
}

// Every PNG of the corpus's png/ and pngsuite/ folders.
std::vector<fs::path> corpus_pngs() {
  std::vector<fs::path> out;
  for (const char* sub : {"png", "pngsuite"}) {
    const fs::path root = imio_test::corpus_file(sub);
    if (root.empty() || !fs::is_directory(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.is_regular_file() && (e.path().extension() == ".png" || e.path().extension() == ".apng")) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("libpng: a crop equals the same box of the whole decode, through every decoder, and improps gives its shape",
          "[libpng][crop]") {
  const std::vector<Sample> all = samples();
  REQUIRE(all.size() >= 14);
  for (const Decoder& d : kDecoders) {
    UseDecoder use(d);
    for (const Sample& s : all) {
      for (const char* mode : {"", "RGBA", "L"}) {
        imio::Kwargs base;
        if (*mode != '\0') base.emplace_back("mode", mode);
        NDArray whole;
        try {
          whole = imio::imread(s.data, png(base));
        } catch (const imio::ArgumentError&) {
          continue;  // a mode this file cannot be read in
        }
        const std::size_t h = whole.shape()[0], w = whole.shape()[1];
        check_crops(
            whole, boxes(w, h, 7, 12), base, std::string(d.name) + ": " + s.name + " mode '" + mode + "'",
            [&](const imio::Kwargs& kw) { return imio::imread(s.data, png(kw)); },
            [&](const imio::Kwargs& kw) { return imio::improps(s.data, png(kw)).shape; });
      }
    }
  }
}

TEST_CASE("libpng: crops of every corpus PNG equal the same box of its whole decode", "[libpng][crop][corpus]") {
  const std::vector<fs::path> files = corpus_pngs();
  if (files.empty()) {
    WARN("corpus absent: test skipped");
    return;
  }
  std::size_t compared = 0;
  for (const fs::path& p : files) {
    for (const Decoder& d : kDecoders) {
      UseDecoder use(d);
      NDArray whole;
      try {
        whole = imio::imread(p, png({}, 0));
      } catch (const imio::Error&) {
        continue;  // the damaged files of the corpus: their whole read fails
      }
      const std::size_t h = whole.shape()[0], w = whole.shape()[1];
      for (const Box& b : boxes(w, h, static_cast<unsigned>(compared), 3)) {
        INFO(d.name << ": " << p.string() << " crop " << box_text(b));
        REQUIRE(same_pixels(imio::imread(p, png({{"crop", box_value(b)}}, 0)), cut(whole, b)));
      }
      ++compared;
    }
  }
  CHECK(compared >= 100);
}

TEST_CASE("libpng: a crop equals Pillow's Image.crop of the same box", "[libpng][crop][pillow]") {
  if (!imio_test::python_has("PIL.Image") || !imio_test::python_has("numpy")) {
    WARN("Pillow or numpy not available: Pillow comparison skipped");
    return;
  }
  imio_test::TempDir dir;
  const std::vector<Box> list = boxes(32, 32, 5, 6);  // inside the smallest sample (PngSuite's 32 × 32)
  std::vector<Sample> all = samples();
  std::erase_if(all, [](const Sample& s) { return !s.pillow; });
  std::string script = "import sys\nimport numpy\nfrom PIL import Image\nd = sys.argv[1]\nboxes = " + imio_test::python_boxes(list);
  // imio's layouts: palette → RGB without tRNS (imageio), 1-bit → bool as 0/1
  // (Pillow's array of a mode-1 image holds 255), 16-bit gray → uint16.
  script += "\nfor n in range(" + std::to_string(all.size()) +
            "):\n    im = Image.open('%s/s%d.png' % (d, n))\n    im.load()\n"
            "    if im.mode == 'P':\n        im = im.convert('RGB')\n"
            "    for i, b in enumerate(boxes):\n        a = numpy.asarray(im.crop(b))\n"
            "        if im.mode == '1':\n            a = (numpy.asarray(im.crop(b).convert('L')) > 0).astype('u1')\n"
            "        if im.mode in ('I', 'I;16'):\n            a = a.astype('<u2')\n"
            "        open('%s/s%d.%d' % (d, n, i), 'wb').write(a.tobytes())\n";
  for (std::size_t i = 0; i < all.size(); ++i) imio_test::write_file(dir / ("s" + std::to_string(i) + ".png"), all[i].data);
  std::string log;
  const int rc = imio_test::run_python(dir, script, log);
  INFO(log);
  REQUIRE(rc == 0);
  for (const Decoder& d : kDecoders) {
    UseDecoder use(d);
    for (std::size_t i = 0; i < all.size(); ++i) {
      for (std::size_t k = 0; k < list.size(); ++k) {
        INFO(d.name << ": " << all[i].name << " crop " << box_text(list[k]));
        const NDArray got = imio::imread(all[i].data, png({{"crop", box_value(list[k])}}));
        const Bytes want = imio_test::read_file(dir / ("s" + std::to_string(i) + "." + std::to_string(k)));
        REQUIRE(got.nbytes() == want.size());
        CHECK(std::memcmp(got.bytes(), want.data(), want.size()) == 0);
      }
    }
  }
}

TEST_CASE("libpng: with rotate, the box is in the upright image's pixels", "[libpng][crop]") {
  const NDArray rgb = texture(117, 203, 3, DType::uint8, 13);
  for (int orientation = 1; orientation <= 8; ++orientation) {
    const Bytes file = png_bytes(rgb, {{"exif", exif_orientation(orientation)}});
    const NDArray upright = imio::imread(file, png({{"rotate", true}}));
    const std::size_t h = upright.shape()[0], w = upright.shape()[1];
    for (const Box& b : boxes(w, h, 17, 6)) {
      INFO("orientation " << orientation << " crop " << box_text(b));
      const imio::Kwargs kw{{"rotate", true}, {"crop", box_value(b)}};
      const NDArray got = imio::imread(file, png(kw));
      REQUIRE(same_pixels(got, cut(upright, b)));
      CHECK(imio::improps(file, png(kw)).shape == got.shape());
    }
    // Without rotate the box is in the stored image's pixels.
    const Box b{3, 5, 40, 17};
    CHECK(same_pixels(imio::imread(file, png({{"crop", box_value(b)}})), cut(imio::imread(file, png()), b)));
  }
}

TEST_CASE("libpng: APNG frames are cut alike, one by index or all of them", "[libpng][crop][apng]") {
  std::vector<NDArray> frames;
  for (unsigned k = 0; k < 3; ++k) frames.push_back(texture(61, 90, 4, DType::uint8, 20 + k));
  const Bytes file = imio::imwrite("<bytes>", std::span<const NDArray>(frames), {.extension = ".png"}).value();
  const Box b{11, 7, 70, 50};
  const NDArray all = imio::imread(file, png({}, imio::all));
  REQUIRE(all.shape() == Shape{3, 61, 90, 4});
  const imio::Kwargs kw{{"crop", box_value(b)}};
  const NDArray got = imio::imread(file, png(kw, imio::all));
  CHECK(same_pixels(got, cut(all, b, 1)));
  CHECK(imio::improps(file, png(kw, imio::all)).shape == got.shape());
  for (int k = 0; k < 3; ++k) {
    INFO("frame " << k);
    CHECK(same_pixels(imio::imread(file, png(kw, k)), cut(imio::imread(file, png({}, k)), b)));
  }
  std::size_t k = 0;
  for (const NDArray& frame : imio::imiter(file, png_iter(kw))) {
    CHECK(same_pixels(frame, cut(imio::imread(file, png({}, static_cast<int>(k))), b)));
    ++k;
  }
  CHECK(k == 3);
  // With mode the frames are converted after the cut.
  const NDArray rgb_all = imio::imread(file, png({{"mode", "RGB"}}, imio::all));
  CHECK(same_pixels(imio::imread(file, png({{"mode", "RGB"}, {"crop", box_value(b)}}, imio::all)), cut(rgb_all, b, 1)));
}

TEST_CASE("libpng: imread_into takes the cropped shape and decodes in place", "[libpng][crop]") {
  for (const DType dtype : {DType::uint8, DType::uint16}) {
    const Bytes file = png_bytes(texture(117, 203, 3, dtype, 30));
    const Box b{33, 20, 150, 101};
    const imio::Kwargs kw{{"crop", box_value(b)}};
    const imio::ImageProperties props = imio::improps(file, png(kw));
    REQUIRE(props.shape == Shape{81, 117, 3});
    NDArray out(props.shape, props.dtype);
    const std::byte* before = out.bytes();
    imio::imread_into(file, out, png(kw));
    CHECK(out.bytes() == before);
    CHECK(same_pixels(out, cut(imio::imread(file, png()), b)));
    NDArray wrong(Shape{117, 203, 3}, dtype);
    CHECK_THROWS_AS(imio::imread_into(file, wrong, png(kw)), imio::ArgumentError);
    CHECK(imio::improps(file, png(kw, imio::all)).shape == Shape{1, 81, 117, 3});
    CHECK(same_pixels(imio::imread(file, png(kw, imio::all)).reshaped(Shape{81, 117, 3}), out));
    for (const NDArray& frame : imio::imiter(file, png_iter(kw))) CHECK(same_pixels(frame, out));
  }
}

TEST_CASE("libpng: a box outside the image, empty, negative or not four integers is an ArgumentError", "[libpng][crop]") {
  imio_test::TempDir dir;
  const fs::path path = dir / "region-check.png";
  imio::imwrite(path, texture(117, 203, 3, DType::uint8, 40));
  const std::vector<Value> bad{Value{0, 0, 204, 10},   Value{0, 0, 10, 118},    Value{10, 10, 10, 20},
                               Value{10, 20, 20, 20},  Value{30, 0, 20, 10},    Value{-1, 0, 10, 10},
                               Value{0, 0, 10},        Value{0, 0, 10, 10, 1},  Value{0, 0, 1.5, 10},
                               Value{"0", 0, 10, 10},  Value{true, 0, 10, 10},  Value("0,0,10,10"),
                               Value(12)};
  for (const Value& v : bad) {
    INFO("crop=" << v.repr());
    for (const char* method : {"read", "properties", "iter"}) {
      INFO(method);
      const std::string message = message_of<imio::ArgumentError>([&] {
        if (std::string(method) == "read") {
          imio::imread(path, png({{"crop", v}}));
        } else if (std::string(method) == "properties") {
          imio::improps(path, png({{"crop", v}}));
        } else {
          for (const NDArray& f : imio::imiter(path, png_iter({{"crop", v}}))) CHECK(f.nbytes() > 0);
        }
      });
      CHECK(contains(message, "libpng"));
      CHECK(contains(message, "region-check.png"));
      CHECK(contains(message, "crop"));
    }
  }
  // With rotate the bounds are the upright image's: 117 wide, 203 high for Orientation 6.
  const Bytes turned = png_bytes(texture(117, 203, 3, DType::uint8, 41), {{"exif", exif_orientation(6)}});
  CHECK(imio::imread(turned, png({{"rotate", true}, {"crop", Value{0, 0, 117, 203}}})).shape() == Shape{203, 117, 3});
  CHECK_THROWS_AS(imio::imread(turned, png({{"rotate", true}, {"crop", Value{0, 0, 203, 117}}})), imio::ArgumentError);
  // None is the whole image.
  CHECK(imio::imread(turned, png({{"crop", Value()}})).shape() == Shape{117, 203, 3});
}

TEST_CASE("libpng: a cropped read of damaged image data is libpng's DecodeError", "[libpng][crop]") {
  Bytes file = png_bytes(texture(117, 203, 3, DType::uint8, 50));
  // A flipped byte in the first IDAT's data: its CRC no longer matches.
  std::size_t pos = 8;
  while (pos + 8 < file.size() && std::memcmp(file.data() + pos + 4, "IDAT", 4) != 0) {
    pos += 12 + ((std::size_t(file[pos]) << 24) | (std::size_t(file[pos + 1]) << 16) | (std::size_t(file[pos + 2]) << 8) |
                 std::size_t(file[pos + 3]));
  }
  REQUIRE(pos + 8 < file.size());
  file[pos + 8 + 40] ^= std::byte{0x55};
  const imio::Kwargs kw{{"crop", Value{0, 0, 10, 2}}};
  CHECK_THROWS_AS(imio::imread(file, png(kw)), imio::DecodeError);
  CHECK_THROWS_AS(imio::imread(file, png()), imio::DecodeError);
}
