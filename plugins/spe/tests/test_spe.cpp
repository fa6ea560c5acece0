// The spe plugin: SPE 2.x and 3.0 files made here byte by byte, and the
// corpus files whose imageio results are in ../shared (the conformance tool
// replays those; here the plugin's own rules).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::message_of;
using imio_test::write_file;

template <class T>
void put(Bytes& b, std::size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

// An SPE 2.x file: the header fields imageio reads, then `frames` frames
// whose pixel k of frame f is f * 1000 + k (in the dtype's code).
Bytes spe_v2(std::int16_t datatype, std::uint16_t w, std::uint16_t h, std::int32_t declared, std::size_t frames,
             std::size_t itemsize) {
  Bytes b(4100 + frames * w * h * itemsize, std::byte{0});
  put<std::int16_t>(b, 108, datatype);
  put<std::uint16_t>(b, 42, w);
  put<std::uint16_t>(b, 656, h);
  put<std::int32_t>(b, 1446, declared);
  put<float>(b, 1992, 2.5f);
  for (std::size_t f = 0; f < frames; ++f) {
    for (std::size_t k = 0; k < std::size_t{w} * h; ++k) {
      const std::size_t at = 4100 + (f * w * h + k) * itemsize;
      const auto v = static_cast<std::uint32_t>(f * 1000 + k);
      if (datatype == 0) {
        put<float>(b, at, static_cast<float>(v));
      } else if (itemsize == 2) {
        put<std::uint16_t>(b, at, static_cast<std::uint16_t>(v));
      } else {
        put<std::uint32_t>(b, at, v);
      }
    }
  }
  return b;
}

double value_at(const NDArray& a, std::size_t i) {
  switch (a.dtype()) {
    case DType::float32: return a.values<float>()[i];
    case DType::int32: return a.values<std::int32_t>()[i];
    case DType::int16: return a.values<std::int16_t>()[i];
    case DType::uint16: return a.values<std::uint16_t>()[i];
    case DType::uint32: return a.values<std::uint32_t>()[i];
    default: return -1;
  }
}

}  // namespace

TEST_CASE("spe: every SPE data type reads as (N, H, W) in the stored dtype", "[spe]") {
  imio_test::TempDir dir;
  const struct {
    std::int16_t code;
    DType dtype;
    std::size_t size;
  } types[] = {{0, DType::float32, 4}, {1, DType::int32, 4}, {2, DType::int16, 2}, {3, DType::uint16, 2},
               {8, DType::uint32, 4}};
  for (const auto& t : types) {
    INFO("datatype " << t.code);
    const fs::path path = dir / ("t" + std::to_string(t.code) + ".spe");
    write_file(path, spe_v2(t.code, 5, 3, 4, 4, t.size));
    const NDArray all = imio::imread(path);  // index None: every frame, as imageio's SpePlugin
    CHECK(all.shape() == Shape{4, 3, 5});
    CHECK(all.dtype() == t.dtype);
    CHECK(value_at(all, 2 * 15 + 7) == 2007);
    const NDArray one = imio::imread(path, {.index = 3});
    CHECK(one.shape() == Shape{3, 5});
    CHECK(value_at(one, 14) == 3014);
    CHECK(imio::improps(path) ==
          imio::ImageProperties{.shape = {4, 3, 5}, .dtype = t.dtype, .n_images = 4, .is_batch = true});
    CHECK(imio::improps(path, {.index = 1}) == imio::ImageProperties{.shape = {3, 5}, .dtype = t.dtype});
    std::size_t n = 0;
    for (const NDArray& f : imio::imiter(path)) {
      CHECK(value_at(f, 0) == static_cast<double>(n * 1000));
      ++n;
    }
    CHECK(n == 4);
    CHECK_THROWS_AS(imio::imread(path, {.index = 4}), imio::IndexError);
    CHECK_THROWS_AS(imio::improps(path, {.index = 4}), imio::IndexError);  // D11: as imread
  }
}

TEST_CASE("spe: check_filesize counts the frames the data hold", "[spe]") {
  imio_test::TempDir dir;
  const fs::path path = dir / "lying.spe";
  write_file(path, spe_v2(3, 4, 2, 9, 3, 2));  // the header claims 9 frames, the data hold 3
  std::vector<std::string> warnings;
  auto previous = imio::set_warning_handler([&](std::string_view, std::string_view w) { warnings.emplace_back(w); });
  CHECK(imio::imread(path).shape() == Shape{3, 2, 4});
  imio::set_warning_handler(previous);
  REQUIRE_FALSE(warnings.empty());
  CHECK(contains(warnings.front(), "claims there are 9 frames, but there are actually 3"));
  // without the check the header's count stands, and the data are too short
  const auto msg =
      message_of<imio::DecodeError>([&] { imio::imread(path, {.kwargs = {{"check_filesize", false}}}); });
  CHECK(contains(msg, "truncated SPE file"));
  CHECK_THROWS_AS(imio::improps(path, {.kwargs = {{"check_filesize", false}}}), imio::DecodeError);
  // the same through imopen, as imageio takes it
  auto f = imio::imopen(path, "r", {{"check_filesize", false}});
  CHECK_THROWS_AS(f.read(), imio::DecodeError);
  // a header claiming fewer frames than the data hold: the header's count
  write_file(path, spe_v2(3, 4, 2, 2, 3, 2));
  CHECK(imio::imread(path).shape() == Shape{2, 2, 4});
}

TEST_CASE("spe: SPE 3.0 reads its frames and regions from the XML footer", "[spe]") {
  imio_test::TempDir dir;
  // two frames, each a 4x2 region then a 3x3 region of uint16, 8 bytes of
  // per-frame metadata after them (stride 42)
  const std::size_t stride = (8 + 9) * 2 + 8;
  Bytes b(4100 + 2 * stride, std::byte{0});
  put<std::int16_t>(b, 108, 3);
  put<std::uint16_t>(b, 42, 4);
  put<std::uint16_t>(b, 656, 2);
  put<std::int32_t>(b, 1446, 2);
  put<float>(b, 1992, 3.0f);
  for (std::size_t f = 0; f < 2; ++f) {
    for (std::size_t k = 0; k < 17; ++k) put<std::uint16_t>(b, 4100 + f * stride + k * 2, static_cast<std::uint16_t>(f * 100 + k));
  }
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><SpeFormat version=\"3.0\"><DataFormat>"
      "<DataBlock type=\"Frame\" count=\"2\" pixelFormat=\"MonochromeUnsigned16\" size=\"34\" stride=\"42\">"
      "<DataBlock type=\"Region\" count=\"1\" width=\"4\" height=\"2\" size=\"16\" stride=\"16\" />"
      "<DataBlock type=\"Region\" count=\"1\" width=\"3\" height=\"3\" size=\"18\" stride=\"18\" />"
      "</DataBlock></DataFormat><MetaFormat /></SpeFormat>";
  put<std::uint64_t>(b, 678, b.size());
  for (const char c : xml) b.push_back(static_cast<std::byte>(c));
  const fs::path path = dir / "v3.spe";
  write_file(path, b);
  const NDArray r0 = imio::imread(path);
  CHECK(r0.shape() == Shape{2, 2, 4});
  CHECK(r0.values<std::uint16_t>()[8] == 100);
  const NDArray r1 = imio::imread(path, {.kwargs = {{"roi", 1}}});
  CHECK(r1.shape() == Shape{2, 3, 3});
  CHECK(r1.values<std::uint16_t>()[0] == 8);
  CHECK(r1.values<std::uint16_t>()[9] == 108);
  CHECK(imio::improps(path, {.index = 1, .kwargs = {{"roi", 1}}}) ==
        imio::ImageProperties{.shape = {3, 3}, .dtype = DType::uint16});
  CHECK_THROWS_AS(imio::imread(path, {.kwargs = {{"roi", 2}}}), imio::ArgumentError);
  // metadata: the XML footer, as imageio's __xml
  const imio::Metadata meta = imio::immeta(path);
  CHECK(imio_test::to_string(meta.at("__xml").get<Bytes>()) == xml);
}

TEST_CASE("spe: files are read when named .spe or asked for by name", "[spe]") {
  const Bytes file = spe_v2(3, 4, 2, 1, 1, 2);
  CHECK_THROWS_AS(imio::imread(file), imio::NoPluginError);  // no signature
  CHECK(imio::imread(file, {.extension = ".spe"}).shape() == Shape{1, 2, 4});
  CHECK(imio::imread(file, {.plugin = "SPE"}).shape() == Shape{1, 2, 4});  // imageio's name (D1)
  // a .spe name on something that is not SPE: refused, not misread
  Bytes text(5000, std::byte{'x'});
  const auto msg = message_of<imio::NoPluginError>([&] { imio::imread(text, {.extension = ".spe"}); });
  CHECK(contains(msg, "not an SPE file"));
  CHECK_THROWS_AS(imio::imwrite("<bytes>", imio::imread(file, {.extension = ".spe"}), {.extension = ".spe"}),
                  imio::NoPluginError);
}

TEST_CASE("spe: damaged headers are clean errors within a second", "[spe][hostile]") {
  const Bytes good = spe_v2(3, 16, 8, 3, 3, 2);
  // every truncation
  for (std::size_t n = 0; n < good.size(); n += 97) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      imio::imread(cut, {.extension = ".spe", .kwargs = {{"check_filesize", false}}});
      CHECK(n >= 4100 + 3 * 16 * 8 * 2);
    } catch (const imio::Error&) {
    }
  }
  // absurd frame counts and sizes: errors before allocating
  Bytes huge = good;
  put<std::int32_t>(huge, 1446, 2000000000);
  put<std::uint16_t>(huge, 42, 65535);
  put<std::uint16_t>(huge, 656, 65535);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(imio::imread(huge, {.extension = ".spe", .kwargs = {{"check_filesize", false}}}), imio::Error);
  // a frame of 65535 x 65535 uint16 exceeds the default max_bytes: a LimitError before anything is read
  CHECK_THROWS_AS(imio::imread(huge, {.extension = ".spe"}), imio::LimitError);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    Bytes bad = good;
    for (int k = 0; k < 4; ++k) bad[rng() % 2000] = static_cast<std::byte>(rng() & 0xFF);
    try {
      imio::improps(bad, {.extension = ".spe"});
      imio::imread(bad, {.extension = ".spe"});
      imio::immeta(bad, {.extension = ".spe"});
    } catch (const imio::Error&) {
    }
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(5)));
}

TEST_CASE("spe: the corpus files' metadata carry imageio's SDT-control keys", "[spe][corpus]") {
  IMIO_CORPUS_OR_SKIP(path, "scientific/test_v0501_000_.SPE");
  const imio::Metadata meta = imio::immeta(path);
  CHECK(meta.get<std::string>("datetime") == "2023-05-03T15:13:16");
  CHECK(meta.get<bool>("bleach_piezo_active") == false);
  CHECK(meta.get<std::int64_t>("sdt_major_version") == 3);
  CHECK(contains(meta.get<std::string>("modulation_script"), "CHANNEL 1"));
  CHECK_FALSE(meta.contains("comments"));
  const imio::Metadata raw = imio::immeta(path, {.kwargs = {{"sdt_control", false}}});
  CHECK(raw.at("comments").get<imio::Value::List>().size() == 5);
  CHECK(raw.get<std::string>("date") == "03May2023");
  // the deprecated constructor kwarg wins over sdt_control, as in imageio
  CHECK(imio::immeta(path, {.kwargs = {{"sdt_meta", false}}}).contains("comments"));
}
