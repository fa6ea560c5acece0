// imread_into of PNGs that need a conversion — palette images (1, 2, 4 and
// 8-bit indices, with and without tRNS) and every `mode` — decodes into the
// caller's array without a working copy of the image: no array (aligned
// operator new, as NDArray allocates) and no plain buffer of more than a
// quarter of the result. The pixels equal imread's and Pillow's (files
// written by Pillow at test time, Pillow's convert() as the oracle), also
// for Adam7-interlaced palette files (PngSuite, libpng decodes them) and
// through libpng alone (IMIO_PNG_LIBPNG_ONLY). A cut-off or damaged palette
// file fails under imread_into with an imio error naming the resource, the
// plugin and the reason.
#include <imio/imio.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::NDArray;

// The files Pillow writes (640 × 480: a working copy would be far above the
// bound) and the modes each is read in; "" is the default read.
struct Sample {
  const char* file;
  std::vector<const char*> modes;
};

const std::vector<Sample>& samples() {
  static const std::vector<Sample> all{
      {"p1.png", {"", "RGB", "RGBA", "L", "LA", "P"}},      {"p2.png", {"", "RGB", "RGBA", "L", "LA", "P"}},
      {"p4.png", {"", "RGB", "RGBA", "L", "LA", "P"}},      {"p8.png", {"", "RGB", "RGBA", "L", "LA", "P"}},
      {"p1t.png", {"", "RGBA", "LA"}},                      {"p2t.png", {"", "RGBA", "LA"}},
      {"p4t.png", {"", "RGBA", "LA"}},                      {"p8t.png", {"", "RGB", "RGBA", "L", "LA"}},
      {"l.png", {"RGB", "RGBA", "LA", "P"}},                {"la.png", {"L", "RGB", "RGBA"}},
      {"rgb.png", {"L", "LA", "RGBA"}},                     {"rgba.png", {"L", "LA", "RGB"}},
      {"i16.png", {"L", "LA", "RGB", "RGBA"}},             {"bilevel.png", {"L", "LA", "RGB", "RGBA"}},
      {"rgbt.png", {"RGBA", "LA"}},
  };
  return all;
}

// Writes the samples into `dir` and, for each file and mode, Pillow's
// array as raw bytes (`<file>.<mode>`; palette default: RGB, tRNS not
// applied). Files with a name in `extra` (PngSuite copies) get expected
// arrays only.
constexpr const char* kWriter = R"(
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
h, w = 480, 640
y, x = np.mgrid[0:h, 0:w]
noise = np.random.default_rng(5).integers(0, 7, (h, w))
def palette_image(colors):
    idx = ((x * 7 + y * 3 + noise) % colors).astype(np.uint8)
    im = Image.fromarray(idx, 'L').convert('P')
    im.putpalette([(i * 53 + k * 101) % 256 for i in range(colors) for k in range(3)])
    return im
for bits in (1, 2, 4, 8):
    im = palette_image(1 << bits)
    im.save(f'{d}/p{bits}.png')
    alphas = bytes((i * 37 + 11) % 256 for i in range(min(1 << bits, 200)))
    im.save(f'{d}/p{bits}t.png', transparency=alphas)
gray = ((x + y * 2 + noise) % 256).astype(np.uint8)
Image.fromarray(gray, 'L').save(f'{d}/l.png')
Image.fromarray(np.dstack([gray, 255 - gray]), 'LA').save(f'{d}/la.png')
rgb = np.dstack([gray, (x % 256).astype(np.uint8), (y % 256).astype(np.uint8)])
Image.fromarray(rgb, 'RGB').save(f'{d}/rgb.png')
Image.fromarray(rgb, 'RGB').save(f'{d}/rgbt.png', transparency=(int(rgb[0, 0, 0]), int(rgb[0, 0, 1]), int(rgb[0, 0, 2])))
Image.fromarray(np.dstack([rgb, gray[::-1]]), 'RGBA').save(f'{d}/rgba.png')
Image.fromarray((x * 90 + y * 7 + noise).astype(np.int32) % 65536, 'I').save(f'{d}/i16.png')
Image.fromarray(((x + y + noise) % 3 == 0)).save(f'{d}/bilevel.png')
for line in open(f'{d}/cases.txt'):
    name, mode = line.rstrip('\n').split(' ', 1)
    im = Image.open(f'{d}/{name}')
    want = mode if mode else ('RGB' if im.mode == 'P' else im.mode)
    a = np.asarray(im.convert(want) if want != im.mode else im)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    open(f'{d}/{name}.{mode}', 'wb').write(a.tobytes())
)";

// Adam7-interlaced palette files of PngSuite (libpng decodes them).
const std::vector<std::string> kInterlaced{"basi3p01.png", "basi3p02.png", "basi3p04.png", "basi3p08.png"};

imio::ReadOptions png_mode(const std::string& mode) {
  imio::ReadOptions o{.plugin = "libpng"};
  if (!mode.empty()) o.kwargs.emplace_back("mode", mode);
  return o;
}

// Sets IMIO_PNG_LIBPNG_ONLY while it lives.
class LibpngOnly {
 public:
  explicit LibpngOnly(bool on) {
    if (on) ::setenv("IMIO_PNG_LIBPNG_ONLY", "1", 1);
  }
  ~LibpngOnly() { ::unsetenv("IMIO_PNG_LIBPNG_ONLY"); }
  LibpngOnly(const LibpngOnly&) = delete;
  LibpngOnly& operator=(const LibpngOnly&) = delete;
};

// Pillow's bytes for a bool array are 0/255 (the script's choice); imio's
// bool is 0/1.
bool equals_pillow(const NDArray& a, const imio::Bytes& want) {
  if (a.nbytes() != want.size()) return false;
  if (a.dtype() != imio::DType::bool_) return std::memcmp(a.bytes(), want.data(), want.size()) == 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if ((a.data<bool>()[i] ? std::byte{255} : std::byte{0}) != want[i]) return false;
  }
  return true;
}

// One imread_into of `path` in `mode`, counted, against imread and Pillow.
void check_into(const fs::path& path, const std::string& mode, const imio::Bytes& pillow) {
  const imio::ReadOptions options = png_mode(mode);
  const NDArray expected = imio::imread(path, options);
  NDArray out(expected.shape(), expected.dtype());
  imio::imread_into(path, out, options);  // the thread's kept buffers and inflate state
  std::memset(out.bytes(), 0xA5, out.nbytes());
  std::size_t arrays = 0, largest = 0;
  {
    imio_test::LargeAllocations counter(1);
    imio_test::PlainAllocations plain;
    imio::imread_into(path, out, options);
    arrays = counter.count();
    largest = plain.largest();
  }
  INFO("largest plain allocation " << largest << " bytes; result " << out.nbytes() << " bytes");
  CHECK(arrays == 0);
  CHECK(largest <= out.nbytes() / 4);
  CHECK(out == expected);
  CHECK(equals_pillow(out, pillow));
}

}  // namespace

TEST_CASE("libpng: imread_into of palette images and mode conversions makes no working copy of the image",
          "[libpng][read_into][pillow]") {
  if (!imio_test::python_has("PIL") || !imio_test::python_has("numpy")) {
    WARN("Pillow or numpy not available: skipped");
    return;
  }
  imio_test::TempDir dir;
  std::string cases;
  for (const Sample& s : samples()) {
    for (const char* m : s.modes) cases += std::string(s.file) + " " + m + "\n";
  }
  std::vector<std::string> interlaced;
  for (const std::string& name : kInterlaced) {
    const fs::path p = imio_test::corpus_file("pngsuite/" + name);
    if (p.empty()) continue;
    fs::copy_file(p, dir / name);
    interlaced.push_back(name);
    for (const char* m : {"", "RGBA", "L"}) cases += name + " " + m + "\n";
  }
  if (interlaced.empty()) WARN("PngSuite absent: interlaced palette files not checked");
  imio_test::write_file(dir / "cases.txt", imio_test::to_bytes(cases));
  std::string log;
  INFO(log);
  REQUIRE(imio_test::run_python(dir, kWriter, log) == 0);
  for (const bool libpng_only : {false, true}) {
    LibpngOnly use(libpng_only);
    for (const Sample& s : samples()) {
      for (const std::string mode : s.modes) {
        INFO(s.file << " mode '" << mode << "'" << (libpng_only ? " through libpng" : ""));
        check_into(dir / s.file, mode, imio_test::read_file(dir / (std::string(s.file) + "." + mode)));
      }
    }
  }
  // PngSuite's files are 32 × 32: only the counts and pixels, not the bound.
  for (const std::string& name : interlaced) {
    for (const std::string mode : {"", "RGBA", "L"}) {
      INFO(name << " mode '" << mode << "'");
      const imio::ReadOptions options = png_mode(mode);
      const NDArray expected = imio::imread(dir / name, options);
      NDArray out(expected.shape(), expected.dtype());
      std::size_t arrays = 0;
      {
        imio_test::LargeAllocations counter(1);
        imio::imread_into(dir / name, out, options);
        arrays = counter.count();
      }
      CHECK(arrays == 0);
      CHECK(out == expected);
      CHECK(equals_pillow(out, imio_test::read_file(dir / (name + "." + mode))));
    }
  }
}

TEST_CASE("libpng: a cut-off or damaged palette PNG under imread_into fails naming resource, plugin and reason",
          "[libpng][read_into]") {
  imio_test::TempDir dir;
  NDArray idx({97, 131}, imio::DType::uint8);
  for (std::size_t i = 0; i < idx.size(); ++i) idx.data<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 7) % 251);
  const imio::Bytes file = imio::imwrite("<bytes>", idx, {.extension = ".png", .kwargs = {{"mode", "P"}}}).value();
  const NDArray whole = imio::imread(file, png_mode("RGBA"));
  struct Damage {
    const char* name;
    imio::Bytes data;
  };
  std::vector<Damage> damaged;
  damaged.push_back({"cut in the image data", imio::Bytes(file.begin(), file.begin() + static_cast<long>(file.size() * 2 / 3))});
  imio::Bytes flipped = file;
  // The last IDAT's CRC: the 4 bytes before IEND's 12.
  REQUIRE(std::memcmp(file.data() + file.size() - 8, "IEND", 4) == 0);
  flipped[flipped.size() - 13] ^= std::byte{0x5A};
  damaged.push_back({"a damaged IDAT CRC", flipped});
  for (const bool libpng_only : {false, true}) {
    LibpngOnly use(libpng_only);
    for (const Damage& d : damaged) {
      for (const char* mode : {"", "RGBA", "L"}) {
        INFO(d.name << " mode '" << mode << "'" << (libpng_only ? " through libpng" : ""));
        const fs::path path = dir / "damaged.png";
        imio_test::write_file(path, d.data);
        const imio::ReadOptions options = png_mode(mode);
        NDArray out(imio::improps(file, options).shape, imio::DType::uint8);
        const std::string message = imio_test::message_of<imio::DecodeError>([&] { imio::imread_into(path, out, options); });
        INFO(message);
        CHECK(imio_test::contains(message, "damaged.png"));
        CHECK(imio_test::contains(message, "libpng"));
        CHECK((imio_test::contains(message, "truncated") || imio_test::contains(message, "CRC") ||
               imio_test::contains(message, "cut off")));
      }
    }
  }
  CHECK(whole.shape()[2] == 4);
}
