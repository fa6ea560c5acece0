// imio's own IDAT decoder (png_idat.cpp: whole-stream or batched inflate,
// pixel-wise unfiltering) against libpng's row-by-row decode, which the environment
// variable IMIO_PNG_LIBPNG_ONLY forces, on every PNG of the corpus; and
// both against Pillow.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;

// Every .png/.apng below the corpus, malformed folders included.
std::vector<fs::path> corpus_pngs() {
  std::vector<fs::path> out;
  const fs::path root = imio_test::corpus_dir();
  if (root.empty()) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".png" || ext == ".apng") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What one read gives: the array, or the exception's type and text; and the warnings.
struct Outcome {
  NDArray array;
  std::string error;
  std::vector<std::string> warnings;
};

// The inflate imio's decoder is forced to (IMIO_PNG_IDAT_PATH: "whole" is
// libdeflate's on the whole stream, "stream" zlib's a batch of rows at a
// time), empty for its own choice.
std::string g_idat_path;

Outcome read_with(const imio::ImageResource& resource, bool libpng_only, const imio::Index& index = {}) {
  if (libpng_only) {
    ::setenv("IMIO_PNG_LIBPNG_ONLY", "1", 1);
  } else {
    ::unsetenv("IMIO_PNG_LIBPNG_ONLY");
  }
  if (g_idat_path.empty()) {
    ::unsetenv("IMIO_PNG_IDAT_PATH");
  } else {
    ::setenv("IMIO_PNG_IDAT_PATH", g_idat_path.c_str(), 1);
  }
  Outcome o;
  auto previous = imio::set_warning_handler(
      [&o](std::string_view source, std::string_view message) { o.warnings.emplace_back(std::string(source) + ": " + std::string(message)); });
  try {
    o.array = imio::imread(resource, {.index = index, .plugin = "libpng"});
  } catch (const imio::DecodeError& e) {
    o.error = std::string("DecodeError: ") + e.what();
  } catch (const imio::LimitError& e) {
    o.error = std::string("LimitError: ") + e.what();
  } catch (const imio::Error& e) {
    o.error = std::string("Error: ") + e.what();
  }
  imio::set_warning_handler(std::move(previous));
  ::unsetenv("IMIO_PNG_LIBPNG_ONLY");
  ::unsetenv("IMIO_PNG_IDAT_PATH");
  return o;
}

bool same(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

void put_be32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>(v >> (24 - 8 * i));
}

// Offset of the first IDAT chunk's length field.
std::size_t first_idat(const Bytes& png) {
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const std::uint32_t len = (std::uint32_t(png[pos]) << 24) | (std::uint32_t(png[pos + 1]) << 16) |
                              (std::uint32_t(png[pos + 2]) << 8) | std::uint32_t(png[pos + 3]);
    if (std::memcmp(png.data() + pos + 4, "IDAT", 4) == 0) return pos;
    pos += 12 + len;
  }
  FAIL("no IDAT");
  return 0;
}

std::uint32_t idat_length(const Bytes& png, std::size_t at) {
  return (std::uint32_t(png[at]) << 24) | (std::uint32_t(png[at + 1]) << 16) | (std::uint32_t(png[at + 2]) << 8) |
         std::uint32_t(png[at + 3]);
}

void fix_crc(Bytes& png, std::size_t at) {
  const std::uint32_t len = idat_length(png, at);
  put_be32(png, at + 8 + len,
           static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4)));
}

// A zlib stream (level 9) of the image's rows, each with filter type 0 but
// row 5 with `bad_filter` (0: none bad); `repeat`: every row is the first.
Bytes zlib_rows(const NDArray& img, std::uint8_t bad_filter, bool repeat) {
  const std::size_t h = img.shape()[0], row = img.shape()[1] * 3;
  Bytes raw;
  for (std::size_t y = 0; y < h; ++y) {
    raw.push_back(std::byte{y == 5 ? bad_filter : std::uint8_t{0}});
    const std::byte* src = img.bytes() + (repeat ? 0 : y) * row;
    raw.insert(raw.end(), src, src + row);
  }
  uLongf n = compressBound(static_cast<uLong>(raw.size()));
  Bytes z(n);
  REQUIRE(compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()),
                    static_cast<uLong>(raw.size()), 9) == Z_OK);
  z.resize(n);
  return z;
}

// `good` up to its first IDAT (at `at`), then one IDAT holding `z`, and IEND.
Bytes with_idat(const Bytes& good, std::size_t at, const Bytes& z) {
  Bytes file(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(at));
  Bytes chunk(12 + z.size());
  put_be32(chunk, 0, static_cast<std::uint32_t>(z.size()));
  std::memcpy(chunk.data() + 4, "IDAT", 4);
  std::memcpy(chunk.data() + 8, z.data(), z.size());
  fix_crc(chunk, 0);
  file.insert(file.end(), chunk.begin(), chunk.end());
  const unsigned char iend[] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  file.insert(file.end(), reinterpret_cast<const std::byte*>(iend), reinterpret_cast<const std::byte*>(iend) + 12);
  return file;
}

}  // namespace

TEST_CASE("every corpus PNG reads the same through imio's IDAT decoder and through libpng") {
  g_idat_path = GENERATE(as<std::string>{}, "", "whole", "stream");
  INFO("IMIO_PNG_IDAT_PATH=" << g_idat_path);
  const auto files = corpus_pngs();
  if (files.empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  CHECK(files.size() >= 290);
  std::size_t decoded = 0, refused = 0;
  for (const fs::path& path : files) {
    INFO(path.string());
    const Outcome fast = read_with(path, false), slow = read_with(path, true);
    CHECK(fast.error == slow.error);
    CHECK(fast.warnings == slow.warnings);
    if (fast.error.empty() && slow.error.empty()) {
      CHECK(same(fast.array, slow.array));
      ++decoded;
    } else {
      ++refused;
    }
  }
  CHECK(decoded >= 250);
  CHECK(refused >= 20);
}

TEST_CASE("damaged image data get libpng's verdict, never silent pixels") {
  g_idat_path = GENERATE(as<std::string>{}, "", "whole", "stream");
  INFO("IMIO_PNG_IDAT_PATH=" << g_idat_path);
  const fs::path chelsea = imio_test::corpus_file("standard/chelsea.png");
  if (chelsea.empty()) {
    WARN("corpus/standard absent: skipped");
    return;
  }
  const Bytes good = imio_test::read_file(chelsea);
  const std::size_t at = first_idat(good);
  const std::uint32_t len = idat_length(good, at);

  SECTION("an IDAT CRC mismatch is a DecodeError naming it") {
    Bytes bad = good;
    bad[at + 8 + len / 2] ^= std::byte{0x10};  // data changed, CRC kept
    const Outcome fast = read_with(bad, false), slow = read_with(bad, true);
    CHECK(imio_test::contains(fast.error, "DecodeError"));
    CHECK(imio_test::contains(fast.error, "CRC"));
    CHECK(fast.error == slow.error);
  }
  SECTION("corrupt deflate data with a matching CRC is a DecodeError") {
    Bytes bad = good;
    for (std::size_t i = 0; i < 64; ++i) bad[at + 8 + 100 + i] = std::byte{0xff};
    fix_crc(bad, at);
    const Outcome fast = read_with(bad, false), slow = read_with(bad, true);
    CHECK(imio_test::contains(fast.error, "DecodeError"));
    CHECK(fast.error == slow.error);
  }
  SECTION("a wrong Adler-32 is libpng's DecodeError") {
    // chelsea's stream ends in the last IDAT; its last 4 bytes are the Adler-32.
    Bytes bad = good;
    std::size_t last = at;
    for (std::size_t pos = at; std::memcmp(bad.data() + pos + 4, "IDAT", 4) == 0; pos += 12 + idat_length(bad, pos)) last = pos;
    bad[last + 8 + idat_length(bad, last) - 1] ^= std::byte{1};
    fix_crc(bad, last);
    const Outcome fast = read_with(bad, false), slow = read_with(bad, true);
    CHECK(fast.error == slow.error);
    CHECK(fast.warnings == slow.warnings);
    CHECK(imio_test::contains(fast.error, "DecodeError"));  // libpng 1.6: "IDAT: incorrect data check"
  }
  SECTION("an unknown filter type is libpng's DecodeError") {
    const Bytes file = with_idat(good, at, zlib_rows(imio::imread(chelsea), 7, false));
    const Outcome fast = read_with(file, false), slow = read_with(file, true);
    CHECK(imio_test::contains(fast.error, "DecodeError"));
    CHECK(fast.error == slow.error);
  }
  SECTION("a stream declaring a smaller window than its distances reach reads as libpng reads it") {
    // Every row repeats the one above: matches 1354 bytes back, while the
    // header is patched to declare a 256-byte window (CINFO 0).
    Bytes z = zlib_rows(imio::imread(chelsea), 0, true);
    REQUIRE(static_cast<unsigned>(z[0]) == 0x78);
    z[0] = std::byte{0x08};
    unsigned flg = static_cast<unsigned>(z[1]) & 0xe0u;
    flg |= 31u - ((0x08u * 256u + flg) % 31u);
    z[1] = static_cast<std::byte>(flg & 0xffu);
    const Bytes file = with_idat(good, at, z);
    const Outcome fast = read_with(file, false), slow = read_with(file, true);
    CHECK(fast.error == slow.error);
    CHECK(fast.warnings == slow.warnings);
    if (fast.error.empty()) CHECK(same(fast.array, slow.array));
  }
}

TEST_CASE("imio's IDAT decoder gives Pillow's pixels on the corpus") {
  g_idat_path.clear();
  if (!imio_test::python_has("PIL, numpy")) {
    WARN("Pillow absent: skipped");
    return;
  }
  const auto files = corpus_pngs();
  if (files.empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  {
    std::ofstream list(dir / "files.txt");
    for (const fs::path& f : files) list << f.string() << '\n';
  }
  // Frame 0 as imio returns it by default (D14): palette → RGB without
  // tRNS; 16-bit gray as Pillow's I; 16-bit colour and gray+alpha as
  // Pillow's 8-bit view (the high bytes), compared with imio's uint16 >> 8.
  std::string log;
  REQUIRE(imio_test::run_python(dir, R"(import sys, os
import numpy as np
from PIL import Image
d = sys.argv[1]
for i, p in enumerate(open(os.path.join(d, 'files.txt')).read().splitlines()):
    try:
        im = Image.open(p)
        im.load()
        a = np.asarray(im.convert('RGB') if im.mode == 'P' else im)
    except Exception:
        continue
    np.save(os.path.join(d, '%d.npy' % i), a)
)", log) == 0);
  INFO(log);
  std::size_t compared = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path npy = dir / (std::to_string(i) + ".npy");
    if (!fs::exists(npy)) continue;
    const Outcome o = read_with(files[i], false, 0);
    if (!o.error.empty()) continue;  // Pillow reads a few files imio refuses (tests in test_libpng.cpp)
    INFO(files[i].string());
    const NDArray want = imio::imread(npy);
    const NDArray& got = o.array;
    // Pillow opens 16-bit gray+alpha as RGBA: (v, v, v, a) for imio's (v, a).
    const bool ga_as_rgba = got.ndim() == 3 && got.shape()[2] == 2 && want.ndim() == 3 && want.shape()[2] == 4;
    REQUIRE(got.size() * (ga_as_rgba ? 2 : 1) == want.size());
    std::size_t bad = 0;
    for (std::size_t k = 0; k < want.size(); ++k) {
      std::int64_t g = 0, w = 0;
      const std::size_t j = ga_as_rgba ? (k / 4) * 2 + (k % 4 == 3 ? 1 : 0) : k;
      switch (got.dtype()) {
        case DType::bool_: g = got.data<bool>()[j]; break;
        case DType::uint16: g = got.data<std::uint16_t>()[j]; break;
        default: g = got.data<std::uint8_t>()[j];
      }
      switch (want.dtype()) {
        case DType::bool_: w = want.data<bool>()[k]; break;
        case DType::int32: w = want.data<std::int32_t>()[k]; break;
        case DType::uint16: w = want.data<std::uint16_t>()[k]; break;
        default: w = want.data<std::uint8_t>()[k];
      }
      if (got.dtype() == DType::uint16 && want.dtype() == DType::uint8) g >>= 8;
      if (g != w) ++bad;
    }
    CHECK(bad == 0);
    ++compared;
  }
  CHECK(compared >= 200);
}
