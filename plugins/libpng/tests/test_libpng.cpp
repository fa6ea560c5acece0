// The libpng plugin: PngSuite against libpng's simplified API, the APNG
// corpus against Pillow, written files read back by Pillow, and damaged
// input failing cleanly.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "python_oracle.hpp"
#include "test_util.hpp"

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

std::uint32_t be32(const std::byte* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

// The file with its colour-space chunks replaced by gAMA 1/2.2, so that the
// simplified API takes every file as sRGB-encoded and returns the stored
// samples (it would take a 16-bit file without gAMA as linear).
Bytes as_srgb(const Bytes& png) {
  Bytes out(png.begin(), png.begin() + 8);
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const std::uint32_t len = be32(png.data() + pos);
    const std::string type(reinterpret_cast<const char*>(png.data() + pos + 4), 4);
    const std::size_t end = std::min(png.size(), pos + 12 + len);
    if (type != "gAMA" && type != "cHRM" && type != "sRGB" && type != "iCCP") out.insert(out.end(), png.begin() + pos, png.begin() + end);
    if (type == "IHDR") {
      const unsigned char gama[] = {0, 0, 0, 4, 'g', 'A', 'M', 'A', 0, 0, 0xb1, 0x8f};
      std::byte chunk[16];
      std::memcpy(chunk, gama, 12);
      const std::uint32_t c = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(chunk + 4), 8));
      for (int i = 0; i < 4; ++i) chunk[12 + i] = static_cast<std::byte>(c >> (24 - 8 * i));
      out.insert(out.end(), chunk, chunk + 16);
    }
    pos = end;
  }
  return out;
}

// libpng's simplified API: 8-bit gray+alpha or RGBA, never composited.
std::vector<std::uint8_t> simplified(const Bytes& file, bool gray, std::uint32_t& w, std::uint32_t& h) {
  const Bytes png = as_srgb(file);
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_memory(&image, png.data(), png.size()) != 0);
  image.format = gray ? PNG_FORMAT_GA : PNG_FORMAT_RGBA;
  std::vector<std::uint8_t> buf(PNG_IMAGE_SIZE(image));
  REQUIRE(png_image_finish_read(&image, nullptr, buf.data(), 0, nullptr) != 0);
  w = image.width;
  h = image.height;
  return buf;
}

// libpng's classic API with only the layout transforms (packing, byte
// order): the oracle for interlaced 16-bit files, where this libpng's
// simplified API returns different rows. Returns the rows or null.
png_bytepp classic_rows(png_structp png, png_infop info, FILE* f) {
  if (setjmp(png_jmpbuf(png))) return nullptr;
  png_init_io(png, f);
  png_read_png(png, info, PNG_TRANSFORM_PACKING | PNG_TRANSFORM_SWAP_ENDIAN, nullptr);
  return png_get_rows(png, info);
}

std::vector<std::uint16_t> classic(const fs::path& path) {
  std::vector<std::uint16_t> out;
  FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_bytepp rows = classic_rows(png, info, f);
  if (rows != nullptr) {
    const std::size_t h = png_get_image_height(png, info), n = png_get_rowbytes(png, info) / 2;
    for (std::size_t y = 0; y < h; ++y) {
      const auto* r = reinterpret_cast<const std::uint16_t*>(rows[y]);
      out.insert(out.end(), r, r + n);
    }
  }
  png_destroy_read_struct(&png, &info, nullptr);
  std::fclose(f);
  return out;
}

using imio_test::python;
using imio_test::run_python;
bool pillow_available() { return imio_test::python_has("PIL, numpy"); }

NDArray make(Shape shape, DType dtype, unsigned seed) {
  NDArray a(std::move(shape), dtype);
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < a.nbytes(); ++i) {
    x = x * 1664525u + 1013904223u;
    a.bytes()[i] = static_cast<std::byte>(x >> 24);
  }
  if (dtype == DType::bool_) {
    for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>(static_cast<unsigned>(a.bytes()[i]) & 1);
  }
  return a;
}

std::vector<fs::path> pngsuite(bool invalid) {
  std::vector<fs::path> out;
  const fs::path dir = imio_test::corpus_dir() / "pngsuite";
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".png") continue;
    if ((name[0] == 'x') == invalid) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("every valid PngSuite image decodes to libpng's own pixels") {
  const auto files = pngsuite(false);
  if (files.empty()) {
    WARN("corpus/pngsuite absent: skipped");
    return;
  }
  CHECK(files.size() == 161);
  for (const fs::path& path : files) {
    INFO(path.filename().string());
    const Bytes file = read_file(path);
    const NDArray a = imio::imread(path);
    const int color_type = static_cast<int>(file[25]), depth = static_cast<int>(file[24]);
    const bool gray = color_type == 0 || color_type == 4;
    if (depth == 16 && file[28] == std::byte{1}) {
      const auto ref = classic(path);
      REQUIRE(ref.size() == a.size());
      CHECK(std::equal(ref.begin(), ref.end(), a.data<std::uint16_t>()));
      continue;
    }
    std::uint32_t w = 0, h = 0;
    const auto ref = simplified(file, gray, w, h);
    REQUIRE(a.shape()[0] == h);
    REQUIRE(a.shape()[1] == w);
    const std::size_t n = std::size_t{w} * h, ref_ch = gray ? 2 : 4;
    // imio's channels: gray 1, GA 2, RGB and palette 3, RGBA 4 (D14: uint16 for 16-bit).
    const std::size_t ch = a.ndim() == 2 ? 1 : a.shape()[2];
    const std::size_t compare = color_type == 4 ? 2 : color_type == 6 ? 4 : ch;  // alpha only where imio has it
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < compare; ++c) {
        int got = 0;
        if (a.dtype() == DType::bool_) {
          got = a.data<bool>()[i] ? 255 : 0;
        } else if (a.dtype() == DType::uint16) {
          got = a.data<std::uint16_t>()[i * ch + c];
        } else {
          got = a.data<std::uint8_t>()[i * ch + c];
        }
        const int want = ref[i * ref_ch + (ch == 1 || (ch == 2 && c == 0) ? (c == 0 ? 0 : 1) : c)];
        if (depth == 16) {
          // the simplified API rounds 16 → 8 bits; imio keeps all 16 (D14)
          if (std::abs(((got * 255 + 32767) / 65535) - want) > 1) ++bad;
        } else if (got != want) {
          ++bad;
        }
      }
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("the PngSuite x* files raise DecodeError") {
  const auto files = pngsuite(true);
  if (files.empty()) {
    WARN("corpus/pngsuite absent: skipped");
    return;
  }
  CHECK(files.size() == 14);
  for (const fs::path& path : files) {
    INFO(path.filename().string());
    REQUIRE_THROWS_AS(imio::imread(path, {.plugin = "libpng"}), imio::DecodeError);
  }
}

TEST_CASE("malformed PNGs from the corpus fail with an imio error") {
  const fs::path root = imio_test::corpus_dir();
  if (root.empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(root / "png/image-png/bugfixes")) {
    if (e.path().filename().string().rfind("x_", 0) == 0) files.push_back(e.path());
  }
  for (const auto& e : fs::directory_iterator(root / "corrupt/image-png")) files.push_back(e.path());
  files.push_back(root / "corrupt/small/png-truncated.png");
  files.push_back(root / "corrupt/file-type/fixture-corrupt.png");
  files.push_back(root / "png/image-png/bugfixes/issue_430.png");  // bad iCCP CRC: Pillow refuses it too
  for (const fs::path& path : files) {
    INFO(path.string());
    bool refused = false;
    try {
      (void)imio::imread(path, {.plugin = "libpng"});
    } catch (const imio::DecodeError&) {
      refused = true;
    } catch (const imio::LimitError&) {
      refused = true;
    }
    CHECK(refused);
  }
}

TEST_CASE("APNG files decode with their frame counts and sizes") {
  const fs::path png = imio_test::corpus_dir() / "png";
  if (!fs::is_directory(png)) {
    WARN("corpus/png absent: skipped");
    return;
  }
  struct Case {
    const char* file;
    Shape shape;
  };
  const Case cases[] = {
      {"image-png/animated/basic_f20.png", {20, 100, 100, 4}}, {"libvips/apng-16bit.png", {2, 4, 4, 4}},
      {"libvips/apng-blend-over.png", {2, 4, 4, 4}},           {"libvips/apng-dispose-background.png", {3, 4, 4, 4}},
      {"libvips/apng-dispose-previous.png", {3, 4, 4, 4}},     {"libvips/apng-hidden-frame.png", {3, 4, 4, 4}},
      {"libvips/apng-opaque.png", {2, 4, 4, 3}},               {"libvips/cogs-apng.png", {5, 77, 85, 3}},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const NDArray a = imio::imread(png / c.file);
    CHECK(a.shape() == c.shape);
    const auto props = imio::improps(png / c.file);
    CHECK(props.shape == c.shape);
    CHECK(props.n_images == c.shape[0]);
    std::size_t frames = 0;
    for (const NDArray& f : imio::imiter(png / c.file)) {
      CHECK(f.shape() == Shape(c.shape.begin() + 1, c.shape.end()));
      ++frames;
    }
    CHECK(frames == c.shape[0]);
  }
}

TEST_CASE("APNG frames are composited as Pillow composites them") {
  const fs::path png = imio_test::corpus_dir() / "png";
  if (!fs::is_directory(png) || !pillow_available()) {
    WARN("corpus/png or Pillow absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  const char* files[] = {"image-png/animated/basic_f20.png", "libvips/apng-blend-over.png",
                         "libvips/apng-dispose-background.png", "libvips/apng-dispose-previous.png",
                         "libvips/apng-hidden-frame.png", "libvips/apng-opaque.png", "libvips/cogs-apng.png",
                         "libvips/apng-16bit.png"};
  std::string script = "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n";
  for (std::size_t i = 0; i < std::size(files); ++i) {
    script += "im = Image.open('" + (png / files[i]).string() + "')\nfr = []\nfor k in range(im.n_frames):\n"
              "    im.seek(k); fr.append(np.asarray(im.convert('RGBA')))\n"
              "np.save(d + '/" + std::to_string(i) + ".npy', np.stack(fr))\n";
  }
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  for (std::size_t i = 0; i < std::size(files); ++i) {
    INFO(files[i]);
    const NDArray want = imio::imread(dir / (std::to_string(i) + ".npy"));
    const NDArray got = imio::imread(png / files[i], {.kwargs = {{"mode", "RGBA"}}});
    REQUIRE(got.shape() == want.shape());
    // with mode=, 16-bit frames are composited from their high bytes, as Pillow does
    CHECK(got == want);
    if (!contains(files[i], "16bit")) continue;
    // D14 (no mode): composited at 16 bits; "over" rounds at 16 bits, so a
    // high byte can differ by 1 from Pillow's 8-bit composite
    const NDArray deep = imio::imread(png / files[i]);
    REQUIRE(deep.dtype() == DType::uint16);
    REQUIRE(deep.size() == want.size());
    std::size_t off_by_one = 0;
    for (std::size_t k = 0; k < deep.size(); ++k) {
      const int d = std::abs(int(deep.data<std::uint16_t>()[k] >> 8) - int(want.data<std::uint8_t>()[k]));
      CHECK(d <= 1);
      off_by_one += d == 1 ? 1 : 0;
    }
    CHECK(off_by_one < deep.size() / 4);
  }
}

TEST_CASE("written PNGs read back identically, also in Pillow") {
  struct Layout {
    Shape shape;
    DType dtype;
  };
  const Layout layouts[] = {{{17, 23}, DType::bool_},       {{17, 23}, DType::uint8},     {{17, 23, 2}, DType::uint8},
                            {{17, 23, 3}, DType::uint8},    {{17, 23, 4}, DType::uint8},  {{17, 23}, DType::uint16},
                            {{17, 23, 2}, DType::uint16},   {{17, 23, 3}, DType::uint16}, {{17, 23, 4}, DType::uint16}};
  imio_test::TempDir dir;
  std::string script = "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n";
  for (std::size_t i = 0; i < std::size(layouts); ++i) {
    const NDArray a = make(layouts[i].shape, layouts[i].dtype, static_cast<unsigned>(i));
    const fs::path p = dir / (std::to_string(i) + ".png");
    imio::imwrite(p, a);
    CHECK(imio::imread(p) == a);
    const auto props = imio::improps(p);
    CHECK(props.shape == a.shape());
    CHECK(props.dtype == a.dtype());
    // Pillow keeps 8 bits of 16-bit colour and makes 16-bit gray+alpha RGBA:
    // the script saves what Pillow has, the check below maps imio's array.
    script += "im = Image.open(d + '/" + std::to_string(i) + ".png'); a = np.asarray(im)\n"
              "np.save(d + '/" + std::to_string(i) + ".npy', a.astype(np.uint16) if a.dtype == np.int32 else a)\n";
  }
  if (!pillow_available()) {
    WARN("Pillow absent: the independent check is skipped");
    return;
  }
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  for (std::size_t i = 0; i < std::size(layouts); ++i) {
    INFO(i);
    const NDArray a = make(layouts[i].shape, layouts[i].dtype, static_cast<unsigned>(i));
    const NDArray p = imio::imread(dir / (std::to_string(i) + ".npy"));
    if (layouts[i].dtype != DType::uint16 || a.ndim() == 2) {
      CHECK(p == a);
      continue;
    }
    const std::size_t ch = a.shape()[2], pch = p.shape()[2], n = 17 * 23;
    std::size_t bad = 0;
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t c = 0; c < pch; ++c) {
        const std::size_t src = ch == 2 ? (c == 3 ? 1 : 0) : c;
        if (p.data<std::uint8_t>()[k * pch + c] != (a.data<std::uint16_t>()[k * ch + src] >> 8)) ++bad;
      }
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("a batch is written as an APNG that Pillow plays back") {
  const NDArray frames = make({4, 9, 7, 3}, DType::uint8, 7);
  imio_test::TempDir dir;
  const fs::path p = dir / "anim.png";
  imio::imwrite(p, frames, {.kwargs = {{"duration", Value::List{100, 200, 300, 400}}, {"loop", 2}}});
  CHECK(imio::imread(p) == frames);
  const auto meta = imio::immeta(p, {.index = 2});
  CHECK(meta.get<double>("duration") == 300.0);
  CHECK(meta.get<std::int64_t>("loop") == 2);
  for (std::size_t k = 0; k < 4; ++k) {  // every frame is stored whole (Pillow would crop to the change)
    CHECK(imio::immeta(p, {.index = k}).at("bbox") == Value(Value::List{0, 0, 7, 9}));
  }
  if (!pillow_available()) {
    WARN("Pillow absent: the independent check is skipped");
    return;
  }
  std::string log;
  REQUIRE(run_python(dir,
                     "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n"
                     "im = Image.open(d + '/anim.png')\nfr = []\n"
                     "for k in range(im.n_frames):\n    im.seek(k); fr.append(np.asarray(im.convert('RGB')))\n"
                     "np.save(d + '/anim.npy', np.stack(fr))\nprint(im.info['loop'])\n",
                     log) == 0);
  CHECK(imio::imread(dir / "anim.npy") == frames);
  CHECK(contains(log, "2"));
}

TEST_CASE("writer options reach the file") {
  const NDArray a = make({5, 6, 3}, DType::uint8, 3);
  // the smallest well-formed ICC profile (header: size, 'acsp'; no tags):
  // immeta reads its description, and a malformed one is a DecodeError
  Bytes icc(132);
  icc[3] = std::byte{132};
  std::memcpy(icc.data() + 36, "acsp", 4);
  imio::Dict text{{"Title", "imio"}, {"Autor", "Zoë"}};
  const auto bytes = imio::imwrite("<bytes>", a,
                                   {.extension = ".png",
                                    .kwargs = {{"dpi", Value::List{300, 150}},
                                               {"icc_profile", icc},
                                               {"text", text},
                                               {"transparency", Value::List{1, 2, 3}},
                                               {"compress_level", 9}}});
  REQUIRE(bytes);
  const auto meta = imio::immeta(*bytes);
  const auto dpi = meta.get<Value::List>("dpi");
  CHECK(std::abs(dpi[0].get<double>() - 300.0) < 0.02);
  CHECK(std::abs(dpi[1].get<double>() - 150.0) < 0.02);
  CHECK(meta.get<Bytes>("icc_profile") == icc);
  CHECK(meta.get<std::string>("Title") == "imio");
  CHECK(meta.get<std::string>("Autor") == "Zoë");
  CHECK(meta.at("transparency") == Value(Value::List{1, 2, 3}));
  CHECK(imio::imread(*bytes) == a);
}

// A smooth RGB gradient with a few thousand colours.
NDArray gradient(std::size_t h, std::size_t w) {
  NDArray a({h, w, 3}, DType::uint8);
  auto* p = a.data<std::uint8_t>();
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t x = 0; x < w; ++x) {
      p[3 * (y * w + x)] = static_cast<std::uint8_t>(x * 255 / (w - 1));
      p[3 * (y * w + x) + 1] = static_cast<std::uint8_t>(y * 255 / (h - 1));
      p[3 * (y * w + x) + 2] = static_cast<std::uint8_t>((x + y) * 127 / (w + h));
    }
  }
  return a;
}

TEST_CASE("bits quantizes as Pillow's median cut") {
  if (!pillow_available()) {
    WARN("Pillow absent: skipped");
    return;
  }
  struct Case {
    std::string name;
    NDArray image;
    int bits;
  };
  std::vector<Case> cases;
  for (const int bits : {1, 2, 3, 4, 6, 8}) cases.push_back({"random", make({40, 50, 3}, DType::uint8, 11), bits});
  for (const int bits : {1, 4, 8}) cases.push_back({"gradient", gradient(60, 90), bits});
  for (const int bits : {2, 5, 8}) cases.push_back({"gray", make({33, 47}, DType::uint8, 12), bits});
  cases.push_back({"many colours (the histogram is coarsened)", make({300, 300, 3}, DType::uint8, 13), 8});
  const fs::path chelsea = imio_test::corpus_dir() / "standard" / "chelsea.png";
  if (fs::exists(chelsea)) {
    for (const int bits : {3, 8}) cases.push_back({"chelsea", imio::imread(chelsea), bits});
  }
  imio_test::TempDir dir;
  std::string script = "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string k = std::to_string(i);
    imio::imwrite(dir / (k + ".npy"), cases[i].image);
    imio::imwrite(dir / (k + ".png"), cases[i].image, {.kwargs = {{"bits", cases[i].bits}}});
    script += "Image.fromarray(np.load(d + '/" + k + ".npy')).quantize(colors=2**" + std::to_string(cases[i].bits) +
              ").save(d + '/" + k + "-pil.png', bits=" + std::to_string(cases[i].bits) + ")\n" +
              "np.save(d + '/" + k + "-back.npy', np.asarray(Image.open(d + '/" + k + ".png').convert('RGB')))\n";
  }
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].name << ", bits=" << cases[i].bits);
    const std::string k = std::to_string(i);
    const Bytes mine = read_file(dir / (k + ".png")), theirs = read_file(dir / (k + "-pil.png"));
    CHECK(mine[24] == theirs[24]);  // bit depth
    CHECK(mine[25] == std::byte{3});
    const NDArray mine_px = imio::imread(dir / (k + ".png"));
    CHECK(mine_px == imio::imread(dir / (k + "-pil.png")));
    CHECK(mine_px == imio::imread(dir / (k + "-back.npy")));  // Pillow reads imio's file the same
  }
}

TEST_CASE("bits keeps an image with few colours exactly, RGBA included") {
  NDArray a({8, 8, 4}, DType::uint8);
  for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>((i / 4) % 4 * 60 + (i % 4 == 3 ? 15 : 0));
  const auto bytes = imio::imwrite("<bytes>", a, {.extension = ".png", .kwargs = {{"bits", 2}}});
  REQUIRE(bytes);
  CHECK(static_cast<int>((*bytes)[24]) == 2);  // IHDR bit depth
  CHECK(static_cast<int>((*bytes)[25]) == 3);  // palette
  CHECK(imio::imread(*bytes, {.kwargs = {{"mode", "RGBA"}}}) == a);
  // More colours than 2**bits: at most 2**bits remain.
  const NDArray many = make({16, 16, 4}, DType::uint8, 4);
  const NDArray back = imio::imread(*imio::imwrite("<bytes>", many, {.extension = ".png", .kwargs = {{"bits", 3}}}),
                                    {.kwargs = {{"mode", "RGBA"}}});
  std::set<std::uint32_t> colours;
  for (std::size_t i = 0; i < 256; ++i) {
    std::uint32_t c = 0;
    std::memcpy(&c, back.data<std::uint8_t>() + 4 * i, 4);
    colours.insert(c);
  }
  CHECK(colours.size() <= 8);
  CHECK(colours.size() > 1);
}

TEST_CASE("bits: the layouts Pillow cannot quantize are ArgumentErrors") {
  for (const auto& a : {make({4, 4, 2}, DType::uint8, 1), make({4, 4}, DType::uint16, 1), make({4, 4}, DType::bool_, 1)}) {
    REQUIRE_THROWS_AS(imio::imwrite("<bytes>", a, {.extension = ".png", .kwargs = {{"bits", 2}}}), imio::ArgumentError);
  }
  REQUIRE_THROWS_AS(imio::imwrite("<bytes>", make({4, 4}, DType::uint8, 1), {.extension = ".png", .kwargs = {{"bits", 9}}}),
                    imio::ArgumentError);
}

TEST_CASE("several write calls on one handle make one APNG (spec 5.1.6 Buffering)") {
  imio_test::TempDir dir;
  const fs::path p = dir / "calls.png";
  const NDArray f0 = make({9, 7, 3}, DType::uint8, 1), f1 = make({9, 7, 3}, DType::uint8, 2),
                f23 = make({2, 9, 7, 3}, DType::uint8, 3);
  {
    auto file = imio::imopen(p, "w");
    file.write(f0, {{"loop", 3}, {"duration", 50}});
    file.write(f1);
    // a frame of another size is refused at its call; the others stay
    REQUIRE_THROWS_AS(file.write(make({9, 8, 3}, DType::uint8, 4)), imio::ArgumentError);
    REQUIRE_THROWS_AS(file.write(make({9, 7, 3}, DType::uint16, 4)), imio::ArgumentError);
    file.write(f23, {{"duration", Value::List{10, 20, 30, 40}}});  // later calls override, key by key
    file.close();
  }
  const NDArray back = imio::imread(p);
  REQUIRE(back.shape() == Shape{4, 9, 7, 3});
  const std::size_t frame = 9 * 7 * 3;
  CHECK(std::memcmp(back.bytes(), f0.bytes(), frame) == 0);
  CHECK(std::memcmp(back.bytes() + frame, f1.bytes(), frame) == 0);
  CHECK(std::memcmp(back.bytes() + 2 * frame, f23.bytes(), 2 * frame) == 0);
  CHECK(imio::immeta(p, {.index = 3}).get<double>("duration") == 40.0);
  CHECK(imio::immeta(p, {.index = 0}).get<std::int64_t>("loop") == 3);
  // one write call: a plain PNG
  auto one = imio::imopen("<bytes>", "w", {.extension = ".png"});
  one.write(f0);
  const auto bytes = one.close();
  REQUIRE(bytes);
  CHECK(imio::imread(*bytes) == f0);
  CHECK_FALSE(imio::improps(*bytes).is_batch);
}

TEST_CASE("a per-frame list that does not fit the frame count fails at close, before the target") {
  imio_test::TempDir dir;
  const fs::path p = dir / "keep.png";
  write_file(p, to_bytes("previous"));
  auto file = imio::imopen(p, "w");
  file.write(make({2, 5, 5, 3}, DType::uint8, 1), {{"duration", Value::List{10, 20, 30}}});
  REQUIRE_THROWS_AS(file.close(), imio::ArgumentError);
  CHECK(to_string(read_file(p)) == "previous");
}

TEST_CASE("write mode= describes the array; imio does not convert") {
  const NDArray gray = make({5, 6}, DType::uint8, 1);
  // P: the samples index Pillow's default gray-ramp palette
  const auto pal = imio::imwrite("<bytes>", gray, {.extension = ".png", .kwargs = {{"mode", "P"}}});
  REQUIRE(pal);
  CHECK(static_cast<int>((*pal)[25]) == 3);
  CHECK(imio::imread(*pal, {.kwargs = {{"mode", "P"}}}) == gray);
  CHECK(imio::imread(*pal, {.kwargs = {{"mode", "L"}}}) == gray);
  for (const char* mode : {"L", "RGB"}) {
    const NDArray a = std::string(mode) == "L" ? make({5, 6}, DType::uint8, 2) : make({5, 6, 3}, DType::uint8, 2);
    CHECK(imio::imread(*imio::imwrite("<bytes>", a, {.extension = ".png", .kwargs = {{"mode", mode}}})) == a);
  }
  CHECK(imio::imread(*imio::imwrite("<bytes>", make({5, 6}, DType::bool_, 1), {.extension = ".png", .kwargs = {{"mode", "1"}}})) ==
        make({5, 6}, DType::bool_, 1));
  CHECK(imio::imread(*imio::imwrite("<bytes>", make({5, 6}, DType::uint16, 1), {.extension = ".png", .kwargs = {{"mode", "I;16"}}})) ==
        make({5, 6}, DType::uint16, 1));
  // spec 5.1.6 rule 3: a single-band mode makes (N, H, W) a batch even when W is 3
  const NDArray frames = make({2, 4, 3}, DType::uint8, 3);
  const auto batch = imio::imwrite("<bytes>", frames, {.extension = ".png", .kwargs = {{"mode", "L"}}});
  CHECK(imio::imread(*batch) == frames);
  // what imageio would reinterpret as garbage is refused
  const imio::WriteOptions as_1{.extension = ".png", .kwargs = {{"mode", "1"}}};
  REQUIRE_THROWS_AS(imio::imwrite("<bytes>", gray, as_1), imio::ArgumentError);
  const imio::WriteOptions as_p{.extension = ".png", .kwargs = {{"mode", "P"}}};
  // (H, W, 3) with mode P is a batch of H palette frames (rule 3); with a batch axis it is RGB data
  CHECK(imio::imread(*imio::imwrite("<bytes>", make({5, 6, 3}, DType::uint8, 1), as_p)).shape() == Shape{5, 6, 3, 3});
  REQUIRE_THROWS_AS(imio::imwrite("<bytes>", make({2, 5, 6, 3}, DType::uint8, 1), as_p), imio::ArgumentError);
  const imio::WriteOptions as_cmyk{.extension = ".png", .kwargs = {{"mode", "CMYK"}}};
  REQUIRE_THROWS_AS(imio::imwrite("<bytes>", make({5, 6, 4}, DType::uint8, 1), as_cmyk), imio::ArgumentError);
  if (!pillow_available()) {
    WARN("Pillow absent: the independent check is skipped");
    return;
  }
  imio_test::TempDir dir;
  write_file(dir / "p.png", *pal);
  std::string log;
  REQUIRE(run_python(dir,
                     "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n"
                     "im = Image.open(d + '/p.png')\nprint(im.mode)\nnp.save(d + '/p.npy', np.asarray(im))\n",
                     log) == 0);
  CHECK(contains(log, "P"));
  CHECK(imio::imread(dir / "p.npy") == gray);
}

TEST_CASE("transparency on a palette image marks an index, as Pillow writes it") {
  const NDArray gray = make({5, 6}, DType::uint8, 1);
  const auto png = imio::imwrite("<bytes>", gray, {.extension = ".png", .kwargs = {{"mode", "P"}, {"transparency", 7}}});
  REQUIRE(png);
  const NDArray rgba = imio::imread(*png, {.kwargs = {{"mode", "RGBA"}}});
  for (std::size_t i = 0; i < 30; ++i) {
    const std::uint8_t v = gray.data<std::uint8_t>()[i];
    CHECK(rgba.data<std::uint8_t>()[4 * i + 3] == (v == 7 ? 0 : 255));
  }
}

TEST_CASE("writes that cannot be PNG fail before the target is touched") {
  imio_test::TempDir dir;
  const fs::path p = dir / "keep.png";
  write_file(p, to_bytes("previous"));
  REQUIRE_THROWS_AS(imio::imwrite(p, NDArray({4, 4, 1}, DType::uint8)), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(p, NDArray({4, 4}, DType::float32)), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(p, NDArray({4, 4}, DType::int16)), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(p, NDArray({4, 4, 3}, DType::uint8), {.kwargs = {{"qualty", 3}}}), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(p, NDArray({4, 4, 3}, DType::uint8), {.kwargs = {{"compress_level", 12}}}),
                    imio::ArgumentError);
  CHECK(to_string(read_file(p)) == "previous");
}

TEST_CASE("unknown read kwargs are ArgumentErrors in every method") {
  const NDArray a = make({3, 3}, DType::uint8, 1);
  const auto bytes = *imio::imwrite("<bytes>", a, {.extension = ".png"});
  const imio::Kwargs bad{{"pilmode", "L"}};
  REQUIRE_THROWS_AS(imio::imread(bytes, {.kwargs = bad}), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::improps(bytes, {.kwargs = bad}), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::immeta(bytes, {.kwargs = bad}), imio::ArgumentError);
  REQUIRE_THROWS_AS([&] {
    for (const NDArray& f : imio::imiter(bytes, {.kwargs = bad})) (void)f;
  }(), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imread(bytes, {.kwargs = {{"mode", "CMYK"}}}), imio::ArgumentError);
}

TEST_CASE("improps equals imread for every mode and index") {
  const fs::path dir = imio_test::corpus_dir() / "synthetic";
  if (!fs::is_directory(dir)) {
    WARN("corpus/synthetic absent: skipped");
    return;
  }
  for (const char* f : {"png_gray1.png", "png_gray16.png", "png_gray_alpha16.png", "png_palette_trns.png", "png_apng.png",
                        "png_rgba16.png"}) {
    for (const char* mode : {"", "L", "LA", "RGB", "RGBA"}) {
      for (const imio::Index index : {imio::Index(), imio::Index(0), imio::Index(imio::all)}) {
        INFO(f << " mode " << mode << " index " << index.repr());
        imio::Kwargs kw;
        if (*mode) kw = {{"mode", mode}};
        const NDArray a = imio::imread(dir / f, {.index = index, .kwargs = kw});
        const auto p = imio::improps(dir / f, {.index = index, .kwargs = kw});
        CHECK(p.shape == a.shape());
        CHECK(p.dtype == a.dtype());
      }
    }
  }
}

TEST_CASE("bad CRCs, truncation and hostile sizes fail promptly") {
  const NDArray a = make({16, 16, 3}, DType::uint8, 2);
  const Bytes good = *imio::imwrite("<bytes>", a, {.extension = ".png"});
  SECTION("a flipped bit in IDAT") {
    Bytes b = good;
    b[b.size() - 20] ^= std::byte{1};
    REQUIRE_THROWS_AS(imio::imread(b), imio::DecodeError);
  }
  SECTION("a flipped bit in IHDR") {
    Bytes b = good;
    b[17] ^= std::byte{1};
    REQUIRE_THROWS_AS(imio::imread(b), imio::DecodeError);
  }
  SECTION("cut inside IDAT") {
    const Bytes b(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
    REQUIRE_THROWS_AS(imio::imread(b), imio::DecodeError);
  }
  SECTION("an IHDR of 2**31-1 squared pixels") {
    Bytes b = good;
    for (int i = 16; i < 24; ++i) b[static_cast<std::size_t>(i)] = std::byte{0x7f};
    for (int i : {17, 18, 19, 21, 22, 23}) b[static_cast<std::size_t>(i)] = std::byte{0xff};
    // fix the IHDR CRC so that the size check, not the CRC, refuses it
    const std::uint32_t c = static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(b.data() + 12), 17));
    for (int i = 0; i < 4; ++i) b[29 + static_cast<std::size_t>(i)] = static_cast<std::byte>(c >> (24 - 8 * i));
    REQUIRE_THROWS_AS(imio::imread(b), imio::LimitError);
  }
}

TEST_CASE("metadata: pHYs, gamma, text and the D17 Orientation rule") {
  const fs::path std_dir = imio_test::corpus_dir() / "standard";
  if (!fs::is_directory(std_dir)) {
    WARN("corpus/standard absent: skipped");
    return;
  }
  const auto meta = imio::immeta(std_dir / "kodim03.png");
  CHECK(std::abs(meta.get<double>("gamma") - 0.45455) < 1e-9);
  CHECK(meta.get<std::string>("source") == "Kodak PCD0992");
  CHECK(meta.get<std::string>("mode") == "RGB");
  // D17: an eXIf Orientation is shown unless rotate=true applies it
  NDArray a = make({4, 6, 3}, DType::uint8, 5);
  const unsigned char exif[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
  const Bytes exif_bytes(reinterpret_cast<const std::byte*>(exif), reinterpret_cast<const std::byte*>(exif) + sizeof exif);
  const Bytes png = *imio::imwrite("<bytes>", a, {.extension = ".png", .kwargs = {{"exif", exif_bytes}}});
  CHECK(imio::immeta(png).get<std::int64_t>("Orientation") == 6);
  CHECK_FALSE(imio::immeta(png, {.kwargs = {{"rotate", true}}}).contains("Orientation"));
  CHECK(imio::imread(png, {.kwargs = {{"rotate", true}}}).shape() == Shape{6, 4, 3});
  CHECK(imio::improps(png, {.kwargs = {{"rotate", true}}}).shape == Shape{6, 4, 3});
}
