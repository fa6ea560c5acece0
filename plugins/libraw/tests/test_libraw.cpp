// The libraw plugin: default development against dcraw_emu with rawpy's
// defaults (spec §5.4.2), kwargs, raw=true against unprocessed_raw,
// thumbnails against simple_dcraw -e, improps = imread (D11), metadata
// (spec §5.4.5), index rules (D9), refused writes, bad input, limits, and
// nothing printed on stderr.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>


#include "catch.hpp"
#include "test_paths.hpp"
#include "stderr_capture.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::Kwargs;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::message_of;
using imio_test::read_file;
using imio_test::TempDir;

fs::path raw_dir() {
  const fs::path root = imio_test::corpus_dir();
  return root.empty() ? fs::path() : root / "raw";
}

#define SKIP_WITHOUT_CORPUS()                                                             \
  if (raw_dir().empty() || !fs::exists(raw_dir())) {                                      \
    WARN("corpus folder ../shared/corpus/raw absent: test skipped");                      \
    return;                                                                               \
  }

bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

#define SKIP_WITHOUT_TOOL(name)                                                           \
  if (!have_tool(name)) {                                                                 \
    WARN(name << " (Debian's libraw-bin) not installed: comparison skipped");            \
    return;                                                                               \
  }

struct RealRaw {
  const char* path;  // under raw/
  std::size_t height, width;
};
// SOURCES.md of corpus/raw: the decodable files and their sizes.
const RealRaw kReal[] = {{"imageio/Blackmagic.dng", 2176, 4128},
                         {"imageio/Nikon_uncompressed.nef", 593, 869},
                         {"rawpy/RAW_KODAK_DC50.KDC", 512, 768}};
const char* const kSmall[] = {"imageio/Nikon_uncompressed.nef", "rawpy/RAW_KODAK_DC50.KDC"};

imio::ReadOptions raw_opts(Kwargs kwargs = {}, imio::Index index = {}) {
  return {.index = index, .plugin = "libraw", .kwargs = std::move(kwargs)};
}

// A binary PNM (P5/P6, maxval 255 or 65535 big-endian) as an NDArray.
NDArray read_pnm(const fs::path& p) {
  const Bytes b = read_file(p);
  std::size_t pos = 0;
  auto token = [&] {
    while (pos < b.size() && std::isspace(static_cast<unsigned char>(b[pos]))) ++pos;
    std::string t;
    while (pos < b.size() && !std::isspace(static_cast<unsigned char>(b[pos]))) t += static_cast<char>(b[pos++]);
    return t;
  };
  const std::string magic = token();
  REQUIRE((magic == "P5" || magic == "P6"));
  const std::size_t w = std::stoul(token()), h = std::stoul(token()), maxval = std::stoul(token());
  ++pos;  // the single whitespace before the samples
  const std::size_t c = magic == "P6" ? 3 : 1;
  const Shape shape = c == 1 ? Shape{h, w} : Shape{h, w, c};
  NDArray out(shape, maxval > 255 ? DType::uint16 : DType::uint8);
  REQUIRE(b.size() - pos >= out.nbytes());
  if (maxval <= 255) {
    std::memcpy(out.bytes(), b.data() + pos, out.nbytes());
  } else {
    auto* d = out.data<std::uint16_t>();
    for (std::size_t i = 0; i < out.size(); ++i) {
      d[i] = static_cast<std::uint16_t>((std::to_integer<unsigned>(b[pos + 2 * i]) << 8) |
                                        std::to_integer<unsigned>(b[pos + 2 * i + 1]));
    }
  }
  return out;
}

bool same_pixels(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

std::size_t count_different(const NDArray& a, const NDArray& b) {
  const std::size_t size = a.nbytes();  // once, and raw pointers: the sanitizer build runs this at -O0
  if (size != b.nbytes()) return SIZE_MAX;
  const std::byte* x = a.bytes();
  const std::byte* y = b.bytes();
  std::size_t n = 0;
  for (std::size_t i = 0; i < size; ++i) n += x[i] != y[i];
  return n;
}

// dcraw_emu's development of `file` with `flags` (its PPM output).
NDArray dcraw_emu(const fs::path& file, const std::string& flags, const TempDir& dir) {
  const fs::path out = dir / "dcraw_emu.ppm";
  const std::string cmd = "dcraw_emu " + flags + " -Z \"" + out.string() + "\" \"" + file.string() + "\" >\"" +
                          (dir / "log").string() + "\" 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return read_pnm(out);
}

// Runs `f` with file descriptor 2 redirected; returns what was written to it.
template <class F>
std::string stderr_of(F&& f) {
  TempDir dir;
  return imio_test::stderr_of(dir / "stderr.txt", std::forward<F>(f));
}

std::string show(const Kwargs& k) {
  std::string out;
  for (const auto& [key, value] : k) out += key + "=" + imio::to_json(value) + " ";
  return out;
}

std::vector<fs::path> bad_files() {
  std::vector<fs::path> out;
  for (const char* sub : {"exiftool", "file-type"}) {
    for (const auto& e : fs::directory_iterator(raw_dir() / sub)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("libraw: the real RAWs develop to their sizes as (H,W,3) uint8", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  for (const RealRaw& r : kReal) {
    INFO(r.path);
    const NDArray a = imio::imread(raw_dir() / r.path, raw_opts());
    CHECK(a.shape() == Shape{r.height, r.width, 3});
    CHECK(a.dtype() == DType::uint8);
  }
}

TEST_CASE("libraw: default development equals dcraw_emu with rawpy's defaults", "[libraw][oracle]") {
  SKIP_WITHOUT_CORPUS();
  SKIP_WITHOUT_TOOL("dcraw_emu");
  TempDir dir;
  for (const RealRaw& r : kReal) {
    INFO(r.path);
    // rawpy's defaults are LibRaw's, except gamma given as (2.222, 4.5),
    // which dcraw_emu -g takes in the same form.
    const NDArray expected = dcraw_emu(raw_dir() / r.path, "-g 2.222 4.5", dir);
    const NDArray a = imio::imread(raw_dir() / r.path);  // by extension (D6)
    REQUIRE(a.shape() == expected.shape());
    CHECK(count_different(a, expected) == 0);
  }
}

TEST_CASE("libraw: kwargs develop as the matching dcraw_emu flags", "[libraw][oracle]") {
  SKIP_WITHOUT_CORPUS();
  SKIP_WITHOUT_TOOL("dcraw_emu");
  struct Case {
    Kwargs kwargs;
    std::string flags;
  };
  const std::vector<Case> cases = {
      {{{"half_size", true}}, "-g 2.222 4.5 -h"},
      {{{"output_bps", 16}}, "-g 2.222 4.5 -6"},
      {{{"user_flip", 6}}, "-g 2.222 4.5 -t 6"},
      {{{"user_flip", 5}, {"half_size", true}}, "-g 2.222 4.5 -t 5 -h"},
      {{{"use_camera_wb", true}}, "-g 2.222 4.5 -w"},
      {{{"no_auto_bright", true}, {"bright", 2.0}}, "-g 2.222 4.5 -W -b 2"},
      {{{"demosaic_algorithm", "LINEAR"}}, "-g 2.222 4.5 -q 0"},
      {{{"demosaic_algorithm", "vng"}, {"output_color", "Adobe"}}, "-g 2.222 4.5 -q 1 -o 2"},
      {{{"gamma", imio::Value{1, 1}}, {"output_bps", 16}, {"no_auto_bright", true}}, "-4"},
      {{{"highlight_mode", "Blend"}, {"user_black", 0}}, "-g 2.222 4.5 -H 2 -k 0"},
      {{{"output_color", "raw"}, {"four_color_rgb", true}, {"half_size", true}}, "-g 2.222 4.5 -o 0 -f -h"},
  };
  TempDir dir;
  for (const char* file : kSmall) {
    for (const Case& c : cases) {
      INFO(file << " dcraw_emu " << c.flags);
      const NDArray a = imio::imread(raw_dir() / file, raw_opts(c.kwargs));
      // A 4-colour result (output_color raw + four_color_rgb + half_size on
      // a Bayer sensor) is written by dcraw_emu in a form read_pnm lacks.
      if (a.shape().size() == 3 && a.shape()[2] == 4) continue;
      const NDArray expected = dcraw_emu(raw_dir() / file, c.flags, dir);
      REQUIRE(a.shape() == expected.shape());
      CHECK(a.dtype() == expected.dtype());
      CHECK(count_different(a, expected) == 0);
    }
  }
}

TEST_CASE("libraw: improps equals imread's shape and dtype (D11)", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const std::vector<Kwargs> combos = {
      {},
      {{"half_size", true}},
      {{"user_flip", 6}},
      {{"user_flip", 5}, {"half_size", true}},
      {{"user_flip", 3}},
      {{"output_bps", 16}},
      {{"output_color", "raw"}},
      {{"four_color_rgb", true}},
      {{"output_color", "raw"}, {"four_color_rgb", true}, {"half_size", true}},
      {{"output_color", "XYZ"}, {"four_color_rgb", true}, {"half_size", true}},
      {{"noise_thr", 100.0}},
      {{"chromatic_aberration", imio::Value{1.001, 0.999}}},
      {{"raw", true}},
      {{"thumbnail", true}},
  };
  for (const char* file : kSmall) {
    for (const Kwargs& k : combos) {
      INFO(file << " kwargs " << show(k));
      for (const imio::Index index : {imio::Index{}, imio::Index{imio::all}}) {
        const imio::ImageProperties p = imio::improps(raw_dir() / file, raw_opts(k, index));
        const NDArray a = imio::imread(raw_dir() / file, raw_opts(k, index));
        CHECK(p.shape == a.shape());
        CHECK(p.dtype == a.dtype());
        CHECK(p.is_batch == index.is_all());
      }
    }
  }
  // The large DNG: default and half size.
  for (const Kwargs& k : {Kwargs{}, Kwargs{{"half_size", true}}, Kwargs{{"raw", true}}}) {
    const fs::path f = raw_dir() / "imageio/Blackmagic.dng";
    const NDArray a = imio::imread(f, raw_opts(k));
    const imio::ImageProperties p = imio::improps(f, raw_opts(k));
    CHECK(p.shape == a.shape());
    CHECK(p.dtype == a.dtype());
  }
  CHECK(imio::improps(raw_dir() / "imageio/Blackmagic.dng", raw_opts({{"half_size", true}})).shape ==
        Shape{1088, 2064, 3});
}

TEST_CASE("libraw: index rules (D9)", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const fs::path f = raw_dir() / "rawpy/RAW_KODAK_DC50.KDC";
  const NDArray one = imio::imread(f, raw_opts({}, 0));
  const NDArray batch = imio::imread(f, raw_opts({}, imio::all));
  CHECK(batch.shape() == Shape{1, 512, 768, 3});
  CHECK(std::memcmp(one.bytes(), batch.bytes(), one.nbytes()) == 0);
  const std::string msg = message_of<imio::IndexError>([&] { imio::imread(f, raw_opts({}, 1)); });
  CHECK(contains(msg, "index 1"));
  CHECK_THROWS_AS(imio::improps(f, raw_opts({}, 3)), imio::IndexError);
  CHECK_THROWS_AS(imio::immeta(f, {.index = 2, .plugin = "libraw"}), imio::IndexError);
  const imio::ImageProperties p = imio::improps(f, raw_opts({}, imio::all));
  CHECK(p.n_images == std::optional<std::size_t>(1));
  // imiter yields the one developed image.
  std::size_t n = 0;
  for (const NDArray& a : imio::imiter(f, {.plugin = "rawpy"})) {
    CHECK(same_pixels(a, one));
    ++n;
  }
  CHECK(n == 1);
}

TEST_CASE("libraw: one handle develops again with other kwargs", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const fs::path f = raw_dir() / "rawpy/RAW_KODAK_DC50.KDC";
  imio::ImageFile file = imio::imopen(f, "r", {.plugin = "libraw"});
  const NDArray first = file.read();
  CHECK(file.read({.kwargs = {{"half_size", true}}}).shape() == Shape{256, 384, 3});
  CHECK(file.read({.kwargs = {{"raw", true}}}).shape() == Shape{512, 768});
  CHECK(same_pixels(file.read(), first));
  CHECK(same_pixels(first, imio::imread(f)));
  // Metadata describe the file, not the last development.
  (void)file.read({.kwargs = {{"half_size", true}}});
  CHECK(file.metadata().get<std::int64_t>("width") == 768);
  CHECK(file.properties({.kwargs = {{"raw", true}}}).shape == Shape{512, 768});
}

TEST_CASE("libraw: memory and stream resources read like the file", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const fs::path f = raw_dir() / "imageio/Nikon_uncompressed.nef";
  const NDArray from_path = imio::imread(f);
  const Bytes data = read_file(f);
  CHECK(same_pixels(imio::imread(data, {.extension = ".nef"}), from_path));
  // Without an extension the first plugin in registration order that
  // accepts the data reads it: a NEF is also a TIFF, so with libtiff built
  // that is libtiff (as tifffile before rawpy in imageio); plugin= pins LibRaw.
  CHECK(same_pixels(imio::imread(data, {.plugin = "libraw"}), from_path));
  std::istringstream stream(imio_test::to_string(data));
  CHECK(same_pixels(imio::imread(stream, raw_opts()), from_path));
}

TEST_CASE("libraw: raw=true gives the visible sensor data (unprocessed_raw)", "[libraw][oracle]") {
  SKIP_WITHOUT_CORPUS();
  SKIP_WITHOUT_TOOL("unprocessed_raw");
  TempDir dir;
  for (const char* file : {"rawpy/RAW_KODAK_DC50.KDC", "imageio/Blackmagic.dng"}) {
    INFO(file);
    const fs::path copy = dir / fs::path(file).filename().string();
    fs::copy_file(raw_dir() / file, copy);
    REQUIRE(std::system(("cd \"" + dir.path().string() + "\" && unprocessed_raw -q \"" + copy.string() +
                         "\" >/dev/null 2>&1")
                            .c_str()) == 0);
    const NDArray expected = read_pnm(copy.string() + ".pgm");
    const NDArray a = imio::imread(raw_dir() / file, raw_opts({{"raw", true}}));
    CHECK(a.dtype() == DType::uint16);
    REQUIRE(a.shape() == expected.shape());
    CHECK(count_different(a, expected) == 0);
  }
  // A film scanner records whole RGB pixels: (H, W, 3).
  const NDArray scan = imio::imread(raw_dir() / "imageio/Nikon_uncompressed.nef", raw_opts({{"raw", true}}));
  CHECK(scan.shape() == Shape{593, 869, 3});
}

TEST_CASE("libraw: thumbnail=true decodes the embedded preview (simple_dcraw -e)", "[libraw][oracle]") {
  SKIP_WITHOUT_CORPUS();
  SKIP_WITHOUT_TOOL("simple_dcraw");
  TempDir dir;
  // Bitmaps (Kodak, Nikon) and JPEG previews (the Panasonic and Fujifilm
  // stubs keep theirs), the latter decoded through imio's JPEG plugin.
  for (const char* file : {"rawpy/RAW_KODAK_DC50.KDC", "imageio/Nikon_uncompressed.nef", "exiftool/Panasonic.rw2",
                           "exiftool/FujiFilm.raf"}) {
    INFO(file);
    const fs::path copy = dir / fs::path(file).filename().string();
    fs::copy_file(raw_dir() / file, copy);
    REQUIRE(std::system(("cd \"" + dir.path().string() + "\" && simple_dcraw -e \"" + copy.string() +
                         "\" >/dev/null 2>&1")
                            .c_str()) == 0);
    NDArray expected;
    if (fs::exists(copy.string() + ".thumb.jpg")) {
      if (imio::has_plugin("libjpeg")) expected = imio::imread(fs::path(copy.string() + ".thumb.jpg"), {.plugin = "libjpeg"});
    } else {
      expected = read_pnm(copy.string() + ".thumb.ppm");
    }
    if (fs::exists(copy.string() + ".thumb.jpg") && !imio::has_plugin("libjpeg")) {
      // The dependency on libjpeg is named when a build lacks it.
      CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(raw_dir() / file, raw_opts({{"thumbnail", true}})); }),
                     "no libjpeg plugin"));
      continue;
    }
    const NDArray a = imio::imread(raw_dir() / file, raw_opts({{"thumbnail", true}}));
    REQUIRE(a.shape() == expected.shape());
    CHECK(count_different(a, expected) == 0);
    const imio::ImageProperties p = imio::improps(raw_dir() / file, raw_opts({{"thumbnail", true}}));
    CHECK(p.shape == a.shape());
  }
  const std::string msg = message_of<imio::DecodeError>(
      [&] { imio::imread(raw_dir() / "imageio/Blackmagic.dng", raw_opts({{"thumbnail", true}})); });
  CHECK(contains(msg, "no embedded thumbnail"));
}

TEST_CASE("libraw: metadata has rawpy's keys and the shooting information", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const fs::path nef = raw_dir() / "imageio/Nikon_uncompressed.nef";
  const imio::Metadata m = imio::immeta(nef, {.plugin = "rawpy"});
  CHECK(m.get<std::int64_t>("width") == 869);
  CHECK(m.get<std::int64_t>("height") == 593);
  CHECK(m.get<double>("pixel_aspect") == 1.0);
  CHECK(m.get<std::string>("make") == "Nikon");
  CHECK(m.get<std::string>("model") == "COOLSCAN IV ED");
  CHECK(m.get<std::string>("thumbnail_format") == "bitmap");
  CHECK(m.get<std::int64_t>("thumbnail_width") == 320);
  CHECK(!m.contains("black_level_per_channel"));  // applied by development
  CHECK(!m.contains("flip"));

  const imio::Metadata all = imio::immeta(nef, {.plugin = "libraw", .exclude_applied = false});
  for (const char* key : {"black_level_per_channel", "camera_white_level_per_channel", "color_desc", "color_matrix",
                          "daylight_whitebalance", "camera_whitebalance", "dtype", "flip", "num_colors",
                          "tone_curve", "width", "height", "raw_width", "raw_height", "raw_shape", "iwidth",
                          "iheight", "pixel_aspect", "white_level", "raw_pattern"}) {
    INFO(key);
    CHECK(all.contains(key));
  }
  CHECK(all.get<std::int64_t>("num_colors") == 3);
  CHECK(all.at("raw_pattern").is_none());  // a scanner has no CFA
  CHECK(all.get<std::string>("dtype") == "uint16");
  CHECK(all.at("tone_curve").ref<imio::Value::List>().size() == 65536);

  const fs::path kdc = raw_dir() / "rawpy/RAW_KODAK_DC50.KDC";
  const imio::Metadata k = imio::immeta(kdc, {.plugin = "libraw", .exclude_applied = false});
  // Values as raw-identify -v prints them for this file.
  CHECK(k.get<double>("iso") == Approx(84));
  CHECK(k.get<double>("aperture") == Approx(6.2));
  CHECK(k.get<double>("focal_length") == Approx(37));
  CHECK(1 / k.get<double>("shutter") == Approx(229.9).epsilon(0.001));
  CHECK(k.get<std::int64_t>("timestamp") > 0);
  const Bytes desc = k.get<Bytes>("color_desc");
  CHECK(imio_test::to_string(desc) == "RGBG");
  const auto& pattern = k.at("raw_pattern").ref<imio::Value::List>();
  REQUIRE(pattern.size() == 2);
  // "Filter pattern: GRBG…" (raw-identify): G=1, R=0, B=2, G=3.
  CHECK(pattern[0] == imio::Value{1, 0});
  CHECK(pattern[1] == imio::Value{2, 3});
  CHECK_THROWS_AS(imio::immeta(kdc, {.plugin = "libraw", .kwargs = {{"half_size", true}}}), imio::ArgumentError);
}

TEST_CASE("libraw: kwargs are checked", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const fs::path f = raw_dir() / "rawpy/RAW_KODAK_DC50.KDC";
  auto bad = [&](Kwargs k, const char* part) {
    INFO(show(k));
    const std::string msg = message_of<imio::ArgumentError>([&] { imio::imread(f, raw_opts(k)); });
    CHECK(contains(msg, part));
  };
  bad({{"no_such_option", 1}}, "no_such_option");
  bad({{"output_bps", 12}}, "output_bps");
  bad({{"demosaic_algorithm", "AMAZE"}}, "demosaic_algorithm");
  bad({{"raw", true}, {"half_size", true}}, "half_size");
  bad({{"thumbnail", true}, {"raw", true}}, "thumbnail");
  bad({{"user_wb", imio::Value{1, 2}}}, "user_wb");
  bad({{"gamma", imio::Value{0, 1}}}, "gamma");
  bad({{"half_size", "yes"}}, "half_size");
  CHECK_THROWS_AS(imio::imopen(f, "r", {.plugin = "libraw", .kwargs = {{"x", 1}}}), imio::ArgumentError);
  // Enum members by value work as by name.
  CHECK(same_pixels(imio::imread(f, raw_opts({{"fbdd_noise_reduction", 1}})),
                    imio::imread(f, raw_opts({{"fbdd_noise_reduction", "Light"}}))));
}

TEST_CASE("libraw: writing is refused (never a TIFF named .dng)", "[libraw]") {
  TempDir dir;
  const NDArray img(Shape{4, 4, 3}, DType::uint8);
  CHECK_THROWS_AS(imio::imwrite(dir / "out.dng", img), imio::NoPluginError);
  CHECK_THROWS_AS(imio::imwrite(dir / "out.nef", img, {.plugin = "libraw"}), imio::NoPluginError);
  CHECK(!fs::exists(dir / "out.dng"));
  CHECK(!fs::exists(dir / "out.nef"));
}

TEST_CASE("libraw: stubs, truncated heads and non-RAW data raise imio errors, silently", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  std::string printed = stderr_of([] {
    for (const fs::path& f : bad_files()) {
      INFO(f.string());
      // Without plugin= another plugin may read what LibRaw refuses (a CR2
      // stub's IFD0 is a valid TIFF, an X3F stub's embedded JPEG is a frame
      // for FFmpeg): only silence and imio errors are required then.
      try {
        (void)imio::imread(f);
      } catch (const imio::Error&) {
      }
      for (const char* plugin : {"libraw"}) {
        try {
          (void)imio::imread(f, {.plugin = plugin});
          FAIL("read without error");
        } catch (const imio::NoPluginError&) {
          // LibRaw does not recognise it (unsupported, I/O error on a head).
        } catch (const imio::DecodeError& e) {
          // Recognised, but its pixel data are stripped or cut.
          CHECK(contains(e.what(), "libraw"));
        }
        // improps unpacks (without developing) to agree with imread (D11):
        // a stub raises there too. immeta answers from the header.
        CHECK_THROWS_AS(imio::improps(f, {.plugin = plugin}), imio::Error);
        try {
          (void)imio::immeta(f, {.plugin = plugin, .exclude_applied = false});
        } catch (const imio::NoPluginError&) {
        }
      }
    }
    CHECK_THROWS_AS(imio::imread(imio_test::to_bytes("definitely not a raw file"), {.plugin = "libraw"}),
                    imio::NoPluginError);
    CHECK_THROWS_AS(imio::imread(Bytes{}, {.plugin = "libraw"}), imio::NoPluginError);
  });
  CHECK(printed.empty());
  // The ExifTool DNG stub "decodes" in LibRaw without an error; imio notices
  // that LibRaw took 2 bytes for 8 million pixels.
  const std::string msg =
      message_of<imio::DecodeError>([] { imio::imread(raw_dir() / "exiftool/DNG.dng"); });
  CHECK(contains(msg, "stripped"));
  CHECK(contains(message_of<imio::DecodeError>([] { imio::imread(raw_dir() / "exiftool/Nikon.nef"); }),
                 "data corrupted"));
}

TEST_CASE("libraw: truncations of a real RAW raise imio errors", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const Bytes full = read_file(raw_dir() / "rawpy/RAW_KODAK_DC50.KDC");
  const std::string printed = stderr_of([&] {
    for (std::size_t n : {std::size_t{16}, std::size_t{1000}, full.size() / 2, full.size() - 100}) {
      INFO(n << " bytes");
      const Bytes head(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_THROWS_AS(imio::imread(head, {.plugin = "libraw"}), imio::Error);
    }
  });
  CHECK(printed.empty());
}

TEST_CASE("libraw: a JPEG preview cut by the file's end is refused silently (immeta, thumbnail=true)", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  // LibRaw 0.20 reads such a preview's header with libjpeg's default
  // message handler, which printed "Premature end of JPEG file"; every
  // tenth of the file is tried, the preview ends inside half of them.
  const Bytes full = read_file(raw_dir() / "exiftool/Panasonic.rw2");
  std::size_t cut_previews = 0;
  const std::string printed = stderr_of([&] {
    for (std::size_t tenth = 1; tenth < 10; ++tenth) {
      INFO(tenth << "/10 of the file");
      const Bytes head(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(full.size() * tenth / 10));
      try {
        const imio::Metadata m = imio::immeta(head, {.plugin = "libraw"});
        CHECK(m.contains("width"));
      } catch (const imio::DecodeError&) {
      }
      try {
        (void)imio::imread(head, {.plugin = "libraw", .kwargs = {{"thumbnail", true}}});
      } catch (const imio::DecodeError& e) {
        if (contains(e.what(), "embedded thumbnail") && contains(e.what(), "runs past the end")) ++cut_previews;
      }
    }
  });
  CHECK(printed.empty());
  CHECK(cut_previews >= 4);
}

TEST_CASE("libraw: limits are checked before LibRaw allocates", "[libraw]") {
  SKIP_WITHOUT_CORPUS();
  const fs::path f = raw_dir() / "imageio/Blackmagic.dng";
  imio::ReadOptions o = raw_opts();
  o.limits.max_pixels = 1'000'000;
  CHECK(contains(message_of<imio::LimitError>([&] { imio::imread(f, o); }), "pixels"));
  o.limits = {.max_bytes = 4'000'000};
  CHECK_THROWS_AS(imio::imread(f, o), imio::LimitError);
  o.kwargs = {{"raw", true}};
  CHECK_THROWS_AS(imio::imread(f, o), imio::LimitError);
  // max_pixels bounds the sensor data too: half_size still unpacks them all.
  imio::ReadOptions half = raw_opts({{"half_size", true}});
  half.limits.max_pixels = 4'000'000;
  CHECK_THROWS_AS(imio::imread(f, half), imio::LimitError);
  half.limits.max_pixels = 9'000'000;
  CHECK(imio::imread(f, half).shape() == Shape{1088, 2064, 3});
}

TEST_CASE("libraw: the plugin is registered with its alias and backend", "[libraw]") {
  bool found = false;
  for (const imio::PluginInfo& p : imio::plugins()) {
    if (p.name != "libraw") continue;
    found = true;
    CHECK(p.can_read);
    CHECK(!p.can_write);
    CHECK(std::find(p.aliases.begin(), p.aliases.end(), "rawpy") != p.aliases.end());
    CHECK(contains(p.backend, "LibRaw"));
    CHECK(std::find(p.extensions.begin(), p.extensions.end(), ".dng") != p.extensions.end());
  }
  CHECK(found);
}
