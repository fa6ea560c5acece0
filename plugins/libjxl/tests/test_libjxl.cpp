// The libjxl plugin. Every JPEG XL file is made here, at test time, by cjxl
// (Debian's libjxl-tools) from PNG, APNG, PFM and JPEG files imio writes,
// or by imio itself; every read is compared with djxl's decoding of the
// same file (the same library: exact for lossless and, by the tolerance
// stated below, for lossy files) and, for 8-bit files, with the ffmpeg
// CLI's. Every write is read back by djxl. JPEG recompression is checked
// byte for byte in both directions against cjxl and djxl.
#include <imio/imio.hpp>
#include <imio/exif.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
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
using imio_test::StderrCapture;
using imio_test::read_file;
using imio_test::to_bytes;
using imio_test::to_string;
using imio_test::write_file;

bool have_tool(const char* name) { return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0; }
bool tools_available() { return have_tool("cjxl") && have_tool("djxl"); }

// Runs `cmd` through the shell, its output in `log`; returns the exit status.
int shell(const fs::path& dir, const std::string& cmd, std::string& log) {
  const fs::path out = dir / "shell.log";
  const int status = std::system((cmd + " > \"" + out.string() + "\" 2>&1").c_str());
  log = to_string(read_file(out));
  return status;
}
std::string q(const fs::path& p) { return "\"" + p.string() + "\""; }

// A smooth picture with a little noise (codes like a photograph); 16-bit
// samples span the whole range. c = 1 gives (H, W).
NDArray photo(std::size_t h, std::size_t w, std::size_t c, unsigned seed, DType dtype = DType::uint8) {
  NDArray a(c == 1 ? Shape{h, w} : Shape{h, w, c}, dtype);
  std::uint32_t x = seed * 2654435761u + 7;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      for (std::size_t k = 0; k < c; ++k) {
        x = x * 1664525u + 1013904223u;
        const double base = k == 0 ? double(i) / w : k == 1 ? double(y) / h : k == 2 ? double(i + y) / (w + h) : 0.3 + 0.7 * double((i / 5 + y / 3) % 4) / 3;
        const double v = std::min(1.0, base + double(x >> 28) / 255.0);
        const std::size_t at = (y * w + i) * c + k;
        switch (dtype) {
          case DType::uint8: a.data<std::uint8_t>()[at] = static_cast<std::uint8_t>(std::lround(v * 255)); break;
          case DType::uint16: a.data<std::uint16_t>()[at] = static_cast<std::uint16_t>(std::lround(v * 65535)); break;
          case DType::float16: a.data<imio::float16>()[at] = imio::float16::from_double(v * 1.5 - 0.1); break;
          default: a.data<float>()[at] = static_cast<float>(v * 1.5 - 0.1); break;  // beyond 0…1, as HDR has it
        }
      }
    }
  }
  return a;
}

double value_at(const NDArray& a, std::size_t i) {
  switch (a.dtype()) {
    case DType::uint8: return a.data<std::uint8_t>()[i];
    case DType::uint16: return a.data<std::uint16_t>()[i];
    case DType::float16: return a.data<imio::float16>()[i].to_float();
    case DType::float32: return a.data<float>()[i];
    default: FAIL("unexpected dtype"); return 0;
  }
}

double max_abs_diff(const NDArray& a, const NDArray& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(value_at(a, i) - value_at(b, i)));
  return worst;
}

double psnr(const NDArray& a, const NDArray& b, double peak) {
  REQUIRE(a.shape() == b.shape());
  double se = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = value_at(a, i) - value_at(b, i);
    se += d * d;
  }
  const double mse = se / double(a.size());
  return mse == 0 ? 99.0 : 10 * std::log10(peak * peak / mse);
}

// PFM (Portable Float Map): "PF" colour / "Pf" gray, little-endian (negative
// scale), rows bottom to top. cjxl reads it, djxl writes it.
void write_pfm(const fs::path& p, const NDArray& a) {
  const std::size_t h = a.shape()[0], w = a.shape()[1], c = a.ndim() == 2 ? 1 : a.shape()[2];
  const std::string head = std::string(c == 3 ? "PF" : "Pf") + "\n" + std::to_string(w) + " " + std::to_string(h) + "\n-1.0\n";
  Bytes out = to_bytes(head);
  const std::size_t row = w * c * 4;
  for (std::size_t y = h; y-- > 0;) {
    const auto* src = a.bytes() + y * row;
    out.insert(out.end(), src, src + row);
  }
  write_file(p, out);
}

NDArray read_pfm(const fs::path& p) {
  const Bytes b = read_file(p);
  const std::string text = to_string(std::span<const std::byte>(b.data(), std::min<std::size_t>(b.size(), 64)));
  std::size_t pos = 0;
  const auto token = [&] {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    return text.substr(start, pos - start);
  };
  const std::string magic = token();
  const std::size_t w = std::stoul(token()), h = std::stoul(token());
  const double scale = std::stod(token());
  ++pos;  // the single whitespace before the samples
  const std::size_t c = magic == "PF" ? 3 : 1;
  NDArray a(c == 3 ? Shape{h, w, 3} : Shape{h, w}, DType::float32);
  const std::size_t row = w * c * 4;
  REQUIRE(b.size() == pos + h * row);
  for (std::size_t y = 0; y < h; ++y) std::memcpy(a.bytes() + y * row, b.data() + pos + (h - 1 - y) * row, row);
  // a positive scale: big-endian samples (djxl 0.7 writes them so)
  if (scale > 0) {
    for (std::size_t i = 0; i < a.nbytes(); i += 4) std::reverse(a.bytes() + i, a.bytes() + i + 4);
  }
  return a;
}


NDArray bytes_array(const Bytes& b) {
  NDArray a({b.size()}, DType::uint8);
  std::memcpy(a.bytes(), b.data(), b.size());
  return a;
}
Bytes array_bytes(const NDArray& a) { return Bytes(a.bytes(), a.bytes() + a.nbytes()); }

// ---------------------------------------------------------------- the fixtures

struct Fixture {
  std::string file;  // <file> in the fixture folder, djxl's decoding in <file>.png / .pfm / .apng
  std::string source;
  Shape shape;
  DType dtype;
  bool lossless;
};

struct Fixtures {
  imio_test::TempDir dir;
  bool ok = false;
  std::string log;
  std::vector<Fixture> files;
};

// cjxl makes every file from sources imio writes (PNG, APNG) or this test
// writes (PFM); djxl decodes each.
Fixtures& fixtures() {
  static Fixtures f;
  static bool made = false;
  if (made || !tools_available()) return f;
  made = true;
  const fs::path& d = f.dir.path();
  imio::imwrite(d / "rgb.png", photo(48, 64, 3, 1));
  imio::imwrite(d / "rgba.png", photo(48, 64, 4, 2));
  imio::imwrite(d / "gray.png", photo(48, 64, 1, 3));
  imio::imwrite(d / "graya.png", photo(48, 64, 2, 4));
  imio::imwrite(d / "rgb16.png", photo(48, 64, 3, 5, DType::uint16));
  // No 16-bit RGBA through cjxl: Debian's cjxl 0.7 stores a 16-bit PNG's
  // alpha with 8 bits (jxlinfo -v: "bits_per_sample: 8"), which its own
  // djxl then refuses to write ("Alpha bit depth does not match image bit
  // depth"). imio's own 16-bit RGBA files are checked against djxl below.
  imio::imwrite(d / "gray16.png", photo(48, 64, 1, 7, DType::uint16));
  write_pfm(d / "float.pfm", photo(48, 64, 3, 8, DType::float32));
  write_pfm(d / "grayf.pfm", photo(48, 64, 1, 9, DType::float32));
  std::vector<NDArray> frames;
  for (unsigned k = 0; k < 5; ++k) frames.push_back(photo(48, 64, 3, 20 + k));
  imio::imwrite(d / "anim.png", std::span<const NDArray>(frames), {.kwargs = {{"duration", Value{40, 80, 120, 40, 200}}, {"loop", 3}}});
  std::vector<NDArray> aframes;
  for (unsigned k = 0; k < 3; ++k) aframes.push_back(photo(32, 40, 4, 30 + k));
  imio::imwrite(d / "anima.png", std::span<const NDArray>(aframes), {.kwargs = {{"duration", 50}}});
  struct Make {
    Fixture fx;
    std::string args;
    std::string out_ext;  // djxl's output
  };
  const std::vector<Make> makes = {
      {{"rgb_ll.jxl", "rgb.png", {48, 64, 3}, DType::uint8, true}, "-d 0", ".png"},
      {{"rgba_ll.jxl", "rgba.png", {48, 64, 4}, DType::uint8, true}, "-d 0", ".png"},
      {{"gray_ll.jxl", "gray.png", {48, 64}, DType::uint8, true}, "-d 0", ".png"},
      {{"graya_ll.jxl", "graya.png", {48, 64, 2}, DType::uint8, true}, "-d 0", ".png"},
      {{"rgb16_ll.jxl", "rgb16.png", {48, 64, 3}, DType::uint16, true}, "-d 0", ".png"},
      {{"gray16_ll.jxl", "gray16.png", {48, 64}, DType::uint16, true}, "-d 0", ".png"},
      {{"rgb_e1.jxl", "rgb.png", {48, 64, 3}, DType::uint8, true}, "-d 0 -e 1", ".png"},
      {{"rgb_e9.jxl", "rgb.png", {48, 64, 3}, DType::uint8, true}, "-d 0 -e 9", ".png"},
      {{"float_ll.jxl", "float.pfm", {48, 64, 3}, DType::float32, true}, "-d 0", ".pfm"},
      {{"grayf_ll.jxl", "grayf.pfm", {48, 64}, DType::float32, true}, "-d 0", ".pfm"},
      {{"rgb_d1.jxl", "rgb.png", {48, 64, 3}, DType::uint8, false}, "-d 1", ".png"},
      {{"rgb_q50.jxl", "rgb.png", {48, 64, 3}, DType::uint8, false}, "-q 50", ".png"},
      {{"rgba_d2.jxl", "rgba.png", {48, 64, 4}, DType::uint8, false}, "-d 2", ".png"},
      {{"gray_d1.jxl", "gray.png", {48, 64}, DType::uint8, false}, "-d 1", ".png"},
      {{"rgb16_d1.jxl", "rgb16.png", {48, 64, 3}, DType::uint16, false}, "-d 1", ".png"},
      {{"float_d1.jxl", "float.pfm", {48, 64, 3}, DType::float32, false}, "-d 1", ".pfm"},
      {{"rgb_progressive.jxl", "rgb.png", {48, 64, 3}, DType::uint8, false}, "-d 1 -p", ".png"},
      {{"rgb_modular.jxl", "rgb.png", {48, 64, 3}, DType::uint8, false}, "-d 1 -m 1", ".png"},
      {{"anim.jxl", "anim.png", {5, 48, 64, 3}, DType::uint8, true}, "-d 0", ".apng"},
      {{"anim_lossy.jxl", "anim.png", {5, 48, 64, 3}, DType::uint8, false}, "-d 1", ".apng"},
      {{"anima.jxl", "anima.png", {3, 32, 40, 4}, DType::uint8, true}, "-d 0", ".apng"},
  };
  for (const Make& m : makes) {
    std::string log;
    const fs::path out = d / m.fx.file;
    if (shell(d, "cjxl " + q(d / m.fx.source) + " " + q(out) + " " + m.args + " --quiet", log) != 0) {
      f.log += "cjxl " + m.fx.file + ": " + log;
      return f;
    }
    if (shell(d, "djxl " + q(out) + " " + q(d / (m.fx.file + m.out_ext)) + " --quiet", log) != 0) {
      f.log += "djxl " + m.fx.file + ": " + log;
      return f;
    }
    f.files.push_back(m.fx);
  }
  f.ok = true;
  return f;
}

#define REQUIRE_FIXTURES(var)                                            \
  Fixtures& var = fixtures();                                            \
  if (!tools_available()) {                                              \
    WARN("cjxl/djxl (Debian: libjxl-tools) absent: skipped");            \
    return;                                                              \
  }                                                                      \
  INFO(var.log);                                                         \
  REQUIRE(var.ok)

// djxl's decoding of fixture `file`: every frame for an animation.
NDArray djxl_of(const Fixtures& f, const Fixture& fx) {
  const fs::path base = f.dir / fx.file;
  if (fs::exists(base.string() + ".pfm")) return read_pfm(base.string() + ".pfm");
  if (fs::exists(base.string() + ".apng")) return imio::imread(base.string() + ".apng", {.index = imio::all});
  return imio::imread(base.string() + ".png");
}

const Fixture& fixture(const Fixtures& f, const std::string& file) {
  for (const Fixture& fx : f.files) {
    if (fx.file == file) return fx;
  }
  FAIL("no fixture " << file);
  return f.files.front();
}

// The ffmpeg CLI's decoding (FFmpeg's libjxl wrapper) as raw samples.
std::optional<NDArray> ffmpeg_decode(const fs::path& file, const Shape& shape, const char* pix_fmt) {
  if (!have_tool("ffmpeg")) return std::nullopt;
  const fs::path raw = file.string() + ".raw";
  std::string log;
  if (shell(file.parent_path(), "ffmpeg -v error -y -i " + q(file) + " -frames:v 1 -f rawvideo -pix_fmt " + pix_fmt + " " + q(raw), log) != 0) {
    return std::nullopt;
  }
  const Bytes b = read_file(raw);
  NDArray a(shape, DType::uint8);
  if (b.size() != a.nbytes()) return std::nullopt;
  std::memcpy(a.bytes(), b.data(), b.size());
  return a;
}

}  // namespace

// ---------------------------------------------------------------- reading

TEST_CASE("lossless files made by cjxl read exactly as djxl decodes them, in the file's channels and sample type") {
  REQUIRE_FIXTURES(f);
  for (const Fixture& fx : f.files) {
    if (!fx.lossless) continue;
    INFO(fx.file);
    const fs::path p = f.dir / fx.file;
    CHECK(imio::imopen(p, "r").plugin_name() == "libjxl");
    const bool anim = fx.shape.size() == 4;
    const NDArray got = imio::imread(p, {.index = anim ? imio::Index(imio::all) : imio::Index()});
    CHECK(got.shape() == fx.shape);
    CHECK(got.dtype() == fx.dtype);
    const NDArray theirs = djxl_of(f, fx);
    CHECK(got == theirs);
    // and lossless means lossless: the source comes back
    if (!anim) {
      const fs::path src = f.dir / fx.source;
      const NDArray source = src.extension() == ".pfm" ? read_pfm(src) : imio::imread(src);
      CHECK(got == source);
    }
  }
}

TEST_CASE("lossy files agree with djxl within one step of the sample type") {
  REQUIRE_FIXTURES(f);
  // djxl 0.7 asks libjxl for float samples and rounds them itself for its
  // PNG (and writes float PFM); imio asks libjxl for the array's type: the
  // same decoded values, rounded by another routine. Measured: identical,
  // or one step apart (1/255, 1/65535) in a few samples; floats within 1e-6.
  for (const Fixture& fx : f.files) {
    if (fx.lossless) continue;
    INFO(fx.file);
    const fs::path p = f.dir / fx.file;
    const bool anim = fx.shape.size() == 4;
    const NDArray got = imio::imread(p, {.index = anim ? imio::Index(imio::all) : imio::Index()});
    REQUIRE(got.shape() == fx.shape);
    CHECK(got.dtype() == fx.dtype);
    const NDArray theirs = djxl_of(f, fx);
    const double worst = max_abs_diff(got, theirs);
    INFO("largest difference " << worst);
    CHECK(worst <= (fx.dtype == DType::float32 ? 1e-6 : 1.0));
    // and close to the source (distance 1 ≈ visually lossless)
    if (!anim && fx.dtype == DType::uint8) {
      const NDArray source = imio::imread(f.dir / fx.source);
      // measured: 32.9 dB for cjxl -m 1 -d 1 (modular)
      CHECK(psnr(got, source, 255) >= (fx.file == "rgb_q50.jxl" ? 28.0 : 32.0));
    }
  }
}

TEST_CASE("the ffmpeg CLI (FFmpeg's libjxl decoder) reads 8-bit files as imio does") {
  REQUIRE_FIXTURES(f);
  if (!have_tool("ffmpeg")) {
    WARN("ffmpeg absent: skipped");
    return;
  }
  for (const char* name : {"rgb_ll.jxl", "rgba_ll.jxl", "gray_ll.jxl", "rgb_e9.jxl", "rgb_d1.jxl", "rgb_modular.jxl"}) {
    INFO(name);
    const NDArray ours = imio::imread(f.dir / name);
    const char* pix = ours.ndim() == 2 ? "gray" : ours.shape()[2] == 4 ? "rgba" : "rgb24";
    const auto theirs = ffmpeg_decode(f.dir / name, ours.shape(), pix);
    REQUIRE(theirs);
    // FFmpeg asks libjxl for 8-bit samples too: the same routine, exact.
    CHECK(*theirs == ours);
  }
}

TEST_CASE("animations: index, imio::all and imiter give djxl's frames; timing and loop from the image header") {
  REQUIRE_FIXTURES(f);
  for (const char* name : {"anim.jxl", "anim_lossy.jxl", "anima.jxl"}) {
    INFO(name);
    const fs::path p = f.dir / name;
    const Fixture& fx = fixture(f, name);
    const NDArray theirs = djxl_of(f, fx);
    const std::size_t n = fx.shape[0];
    const NDArray all = imio::imread(p, {.index = imio::all});
    CHECK(imio::improps(p, {.index = imio::all}).shape == all.shape());
    CHECK(imio::improps(p, {.index = imio::all}).n_images == n);
    const double tolerance = fx.lossless ? 0 : 1;
    for (std::size_t k = 0; k < n; ++k) {
      INFO("frame " << k);
      const NDArray one = imio::imread(p, {.index = k});
      CHECK(one == NDArray(all[k].copy()));
      CHECK(max_abs_diff(one, NDArray(theirs[k].copy())) <= tolerance);
    }
    // index omitted: frame 0, (H, W, C)
    CHECK(imio::imread(p) == NDArray(all[0].copy()));
    CHECK(imio::improps(p).shape == Shape(fx.shape.begin() + 1, fx.shape.end()));
    REQUIRE_THROWS_AS(imio::imread(p, {.index = n}), imio::IndexError);
    REQUIRE_THROWS_AS(imio::improps(p, {.index = n}), imio::IndexError);
    std::size_t k = 0;
    for (const NDArray& frame : imio::imiter(p)) {
      CHECK(frame == NDArray(all[k].copy()));
      ++k;
    }
    CHECK(k == n);
  }
  // APNG delays 40, 80, 120, 40, 200 ms as cjxl stored them; cjxl 0.7
  // drops the APNG's 3 plays (its header says 0 = forever; the loop count
  // of imio's own animations is checked against djxl's APNG below)
  const fs::path p = f.dir / "anim.jxl";
  const imio::Metadata m0 = imio::immeta(p);
  CHECK(m0.get<bool>("animated"));
  CHECK(m0.get<std::int64_t>("loop") == 0);
  CHECK(m0.get<std::int64_t>("n_images") == 5);
  const double durations[] = {40, 80, 120, 40, 200};
  double start = 0;
  for (std::size_t k = 0; k < 5; ++k) {
    const imio::Metadata m = imio::immeta(p, {.index = k});
    CHECK(m.get<double>("duration") == Approx(durations[k]));
    CHECK(m.get<double>("timestamp") == Approx(start));
    start += durations[k];
  }
  CHECK(imio::immeta(p, {.index = imio::all}).get<double>("duration") == Approx(40));  // D13: frame 0's
  std::string log;
  REQUIRE(shell(f.dir.path(), "jxlinfo " + q(p), log) == 0);
  CHECK(contains(log, "duration: 40.0 ms"));
}

TEST_CASE("dtype converts: integers normalised into floats, floats clamped and scaled into integers") {
  REQUIRE_FIXTURES(f);
  const NDArray u8 = imio::imread(f.dir / "rgb_ll.jxl");
  const NDArray f32 = imio::imread(f.dir / "rgb_ll.jxl", {.kwargs = {{"dtype", "float32"}}});
  const NDArray u16 = imio::imread(f.dir / "rgb_ll.jxl", {.kwargs = {{"dtype", "uint16"}}});
  const NDArray f16 = imio::imread(f.dir / "rgb_ll.jxl", {.kwargs = {{"dtype", "float16"}}});
  REQUIRE(f32.dtype() == DType::float32);
  REQUIRE(f16.dtype() == DType::float16);
  bool ok = true;
  for (std::size_t i = 0; i < u8.size(); ++i) {
    const double v = u8.data<std::uint8_t>()[i];
    ok = ok && std::abs(f32.data<float>()[i] - v / 255) < 1e-6;
    ok = ok && u16.data<std::uint16_t>()[i] == v * 257;
    ok = ok && std::abs(f16.data<imio::float16>()[i].to_float() - v / 255) < 1e-3;
  }
  CHECK(ok);
  // 16-bit file to uint8: libjxl's rounding of v / 257
  const NDArray wide = imio::imread(f.dir / "rgb16_ll.jxl");
  const NDArray narrow = imio::imread(f.dir / "rgb16_ll.jxl", {.kwargs = {{"dtype", "uint8"}}});
  CHECK(narrow.dtype() == DType::uint8);
  double worst = 0;
  for (std::size_t i = 0; i < wide.size(); ++i) worst = std::max(worst, std::abs(narrow.data<std::uint8_t>()[i] - wide.data<std::uint16_t>()[i] / 257.0));
  CHECK(worst <= 0.5 + 1e-9);
  // float file (values beyond 0…1) to uint8: clamped
  const NDArray fl = imio::imread(f.dir / "float_ll.jxl");
  const NDArray fl8 = imio::imread(f.dir / "float_ll.jxl", {.kwargs = {{"dtype", "uint8"}}});
  worst = 0;
  for (std::size_t i = 0; i < fl.size(); ++i) {
    worst = std::max(worst, std::abs(fl8.data<std::uint8_t>()[i] - std::clamp(double(fl.data<float>()[i]), 0.0, 1.0) * 255));
  }
  CHECK(worst <= 0.5 + 1e-4);  // libjxl converts in float: 0.5000072 measured
  for (const char* dt : {"uint8", "uint16", "float16", "float32"}) {
    for (const imio::Index index : {imio::Index(), imio::Index(0), imio::Index(imio::all)}) {
      const imio::ReadOptions o{.index = index, .kwargs = {{"dtype", dt}}};
      const NDArray a = imio::imread(f.dir / "anima.jxl", o);
      const auto props = imio::improps(f.dir / "anima.jxl", o);
      CHECK(props.shape == a.shape());
      CHECK(props.dtype == a.dtype());
    }
  }
}

TEST_CASE("immeta: bit depth, sample format, channels, colour, animation, boxes") {
  REQUIRE_FIXTURES(f);
  const imio::Metadata rgb = imio::immeta(f.dir / "rgb_ll.jxl");
  CHECK(rgb.get<std::string>("mode") == "RGB");
  CHECK(rgb.get<std::int64_t>("bit_depth") == 8);
  CHECK(rgb.get<std::string>("sample_format") == "int");
  CHECK_FALSE(rgb.get<bool>("has_alpha"));
  CHECK_FALSE(rgb.get<bool>("animated"));
  CHECK(rgb.get<bool>("uses_original_profile"));  // lossless
  CHECK_FALSE(imio::immeta(f.dir / "rgb_d1.jxl").get<bool>("uses_original_profile"));  // XYB
  CHECK(rgb.at("shape") == Value(Value::List{64, 48}));
  CHECK(rgb.get<bool>("jpeg_reconstruction") == false);
  const imio::Dict color = rgb.get<imio::Dict>("color_encoding");
  CHECK(color.get<std::string>("color_space") == "RGB");
  CHECK(color.get<std::string>("transfer_function") == "sRGB");
  CHECK(color.get<std::string>("primaries") == "sRGB");
  const imio::Metadata rgba = imio::immeta(
      *imio::imwrite("<bytes>", photo(16, 24, 4, 6, DType::uint16), {.extension = ".jxl", .kwargs = {{"lossless", true}}}), {.extension = ".jxl"});
  CHECK(rgba.get<std::string>("mode") == "RGBA");
  CHECK(rgba.get<std::int64_t>("bit_depth") == 16);
  CHECK(rgba.get<std::int64_t>("alpha_bits") == 16);
  const auto extra = rgba.at("extra_channels").get<Value::List>();
  REQUIRE(extra.size() == 1);
  CHECK(extra[0].get<imio::Dict>().get<std::string>("type") == "alpha");
  const imio::Metadata fl = imio::immeta(f.dir / "float_ll.jxl");
  CHECK(fl.get<std::string>("sample_format") == "float");
  CHECK(fl.get<std::int64_t>("bit_depth") == 32);
  CHECK(fl.get<std::int64_t>("exponent_bits") == 8);
  CHECK(imio::immeta(f.dir / "graya_ll.jxl").get<std::string>("mode") == "LA");
  CHECK(imio::immeta(f.dir / "gray_ll.jxl").get<imio::Dict>("color_encoding").get<std::string>("color_space") == "gray");
}

TEST_CASE("unknown kwargs and bad values are ArgumentErrors; selection by extension, signature and alias") {
  REQUIRE(imio::has_plugin("libjxl"));
  const Bytes b = *imio::imwrite("<bytes>", photo(16, 24, 3, 9), {.extension = ".jxl", .kwargs = {{"lossless", true}}});
  for (const imio::Kwargs& bad : {imio::Kwargs{{"pilmode", "L"}}, imio::Kwargs{{"dtype", "int32"}}, imio::Kwargs{{"thread_count", -1}},
                                  imio::Kwargs{{"rotate", "yes"}}}) {
    REQUIRE_THROWS_AS(imio::imread(b, {.kwargs = bad}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::improps(b, {.kwargs = bad}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::immeta(b, {.kwargs = bad}), imio::ArgumentError);
  }
  imio_test::TempDir dir;
  write_file(dir / "x.jxl", b);
  write_file(dir / "x", b);
  write_file(dir / "x.png", b);  // a lying extension: libpng refuses, the signature finds libjxl
  for (const char* name : {"x.jxl", "x", "x.png"}) {
    INFO(name);
    CHECK(imio::imopen(dir / name, "r").plugin_name() == "libjxl");
    CHECK(imio::imread(dir / name) == imio::imread(b));
  }
  CHECK(imio::imopen(dir / "x.jxl", "r", {.plugin = "pillow"}).plugin_name() == "libjxl");
  // the container form is found by its signature box as well
  const Bytes boxed = *imio::imwrite("<bytes>", photo(16, 24, 3, 9), {.extension = ".jxl", .kwargs = {{"lossless", true}, {"xmp", "<x/>"}}});
  REQUIRE(boxed.size() > 12);
  CHECK(boxed[3] == std::byte{0x0c});
  write_file(dir / "boxed", boxed);
  CHECK(imio::imopen(dir / "boxed", "r").plugin_name() == "libjxl");
  CHECK(imio::imread(dir / "boxed") == imio::imread(b));
  // FFmpeg stays a fallback for .jxl when named (8-bit RGB through rgb24)
  if (imio::has_plugin("ffmpeg")) CHECK(imio::imread(dir / "x.jxl", {.plugin = "ffmpeg"}) == imio::imread(b));
  // a file that is no JPEG XL, named .jxl: every candidate refuses
  write_file(dir / "not.jxl", to_bytes("this is not an image at all"));
  REQUIRE_THROWS_AS(imio::imread(dir / "not.jxl"), imio::NoPluginError);
}

// ---------------------------------------------------------------- writing

TEST_CASE("imio's lossless files are read back exactly by djxl and by imio, for every layout and sample type") {
  if (!tools_available()) {
    WARN("libjxl-tools absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  for (const DType dt : {DType::uint8, DType::uint16, DType::float32}) {
    for (const std::size_t c : {1u, 2u, 3u, 4u}) {
      const NDArray src = photo(23, 37, c, static_cast<unsigned>(c * 10 + static_cast<unsigned>(dt)), dt);
      INFO(name(dt) << " channels " << c);
      const fs::path p = dir / "ll.jxl";
      imio::imwrite(p, src, {.kwargs = {{"lossless", true}}});
      const NDArray back = imio::imread(p);
      CHECK(back.dtype() == dt);
      CHECK(back == src);
      const imio::Metadata m = imio::immeta(p);
      CHECK(m.get<std::int64_t>("bit_depth") == (dt == DType::uint8 ? 8 : dt == DType::uint16 ? 16 : 32));
      std::string log;
      // djxl: PNG for integers (gray+alpha too), PFM for float (no alpha in PFM: RGB and gray only)
      if (dt == DType::float32) {
        if (c == 2 || c == 4) continue;
        REQUIRE(shell(dir.path(), "djxl " + q(p) + " " + q(dir / "ll.pfm") + " --quiet", log) == 0);
        CHECK(read_pfm(dir / "ll.pfm") == src);
      } else {
        REQUIRE(shell(dir.path(), "djxl " + q(p) + " " + q(dir / "ll.png") + " --quiet", log) == 0);
        CHECK(imio::imread(dir / "ll.png") == src);
      }
    }
  }
  // float16 keeps every half value
  const NDArray half = photo(16, 20, 3, 77, DType::float16);
  CHECK(imio::imread(*imio::imwrite("<bytes>", half, {.extension = ".jxl", .kwargs = {{"lossless", true}}}), {.kwargs = {{"dtype", "float16"}}}) ==
        half);
}

TEST_CASE("lossy writes: distance, quality as cjxl maps it, effort; djxl decodes them as imio does") {
  if (!tools_available()) {
    WARN("libjxl-tools absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  const NDArray src = photo(64, 96, 3, 40);
  struct Case {
    imio::Kwargs kw;
    double min_psnr;
  };
  const std::vector<Case> cases = {
      // a little below what libjxl 0.7 reaches on this noisy picture
      {{}, 33}, {{{"distance", 0.5}}, 35}, {{{"distance", 3.0}}, 28}, {{{"quality", 95}}, 34}, {{{"quality", 60}, {"effort", 3}}, 28},
  };
  std::size_t previous = 0;
  for (const Case& c : cases) {
    const fs::path p = dir / "lossy.jxl";
    imio::imwrite(p, src, {.kwargs = c.kw});
    const NDArray back = imio::imread(p);
    INFO("case " << &c - cases.data());
    CHECK(psnr(back, src, 255) >= c.min_psnr);
    std::string log;
    REQUIRE(shell(dir.path(), "djxl " + q(p) + " " + q(dir / "lossy.png") + " --quiet", log) == 0);
    CHECK(max_abs_diff(imio::imread(dir / "lossy.png"), back) <= 1);
    (void)previous;
  }
  // quality maps to distance as cjxl's -q: quality 90 is distance 1, 100 is lossless
  const auto bytes_of = [&](imio::Kwargs kw) { return *imio::imwrite("<bytes>", src, {.extension = ".jxl", .kwargs = std::move(kw)}); };
  CHECK(bytes_of({{"quality", 90}}) == bytes_of({{"distance", 1.0}}));
  CHECK(bytes_of({{"quality", 50}}) == bytes_of({{"distance", 4.6}}));
  CHECK(bytes_of({{"quality", 20}}) == bytes_of({{"distance", 7.4}}));
  CHECK(bytes_of({{"quality", 100}}) == bytes_of({{"lossless", true}}));
  CHECK(imio::imread(bytes_of({{"distance", 0}})) == src);
  // and cjxl agrees: its -q 75 and -d 2.35 give the same file
  imio::imwrite(dir / "src.png", src);
  std::string log;
  REQUIRE(shell(dir.path(), "cjxl " + q(dir / "src.png") + " " + q(dir / "q.jxl") + " -q 75 --quiet", log) == 0);
  REQUIRE(shell(dir.path(), "cjxl " + q(dir / "src.png") + " " + q(dir / "d.jxl") + " -d 2.35 --quiet", log) == 0);
  CHECK(read_file(dir / "q.jxl") == read_file(dir / "d.jxl"));
  // more effort, smaller lossless file
  CHECK(bytes_of({{"lossless", true}, {"effort", 9}}).size() < bytes_of({{"lossless", true}, {"effort", 1}}).size());
  // 16-bit lossy keeps 16-bit samples
  const NDArray wide = photo(32, 48, 4, 41, DType::uint16);
  const NDArray wide_back = imio::imread(*imio::imwrite("<bytes>", wide, {.extension = ".jxl", .kwargs = {{"distance", 0.5}}}));
  CHECK(wide_back.dtype() == DType::uint16);
  CHECK(psnr(wide_back, wide, 65535) >= 36);  // measured: 36.7 dB
}

TEST_CASE("animations are written with their durations and loop count; djxl gives the frames back") {
  if (!tools_available()) {
    WARN("libjxl-tools absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  std::vector<NDArray> frames;
  for (unsigned k = 0; k < 4; ++k) frames.push_back(photo(30, 40, 4, 50 + k));
  const fs::path p = dir / "anim.jxl";
  imio::imwrite(p, std::span<const NDArray>(frames), {.kwargs = {{"lossless", true}, {"duration", Value{10, 20, 30.5, 1000}}, {"loop", 2}}});
  const NDArray all = imio::imread(p, {.index = imio::all});
  REQUIRE(all.shape() == Shape{4, 30, 40, 4});
  for (std::size_t k = 0; k < 4; ++k) CHECK(NDArray(all[k].copy()) == frames[k]);
  CHECK(imio::immeta(p).get<std::int64_t>("loop") == 2);
  CHECK(imio::immeta(p, {.index = 2}).get<double>("duration") == Approx(31));  // whole ms (ticks of 1 ms)
  CHECK(imio::immeta(p, {.index = 3}).get<double>("duration") == Approx(1000));
  CHECK(imio::immeta(p, {.index = 3}).get<double>("tps") == Approx(1000));
  std::string log;
  REQUIRE(shell(dir.path(), "djxl " + q(p) + " " + q(dir / "anim.apng") + " --quiet", log) == 0);
  CHECK(imio::imread(dir / "anim.apng", {.index = imio::all}) == all);
  // djxl's APNG keeps the loop count: acTL's num_plays
  const Bytes apng = read_file(dir / "anim.apng");
  const std::string text = to_string(apng);
  const std::size_t actl = text.find("acTL");
  REQUIRE(actl != std::string::npos);
  REQUIRE(actl + 12 <= apng.size());
  std::uint32_t plays = 0;
  for (std::size_t i = 0; i < 4; ++i) plays = (plays << 8) | std::to_integer<std::uint32_t>(apng[actl + 8 + i]);
  CHECK(plays == 2);
  // a 4-D array is a batch; several write calls on one handle make one file
  NDArray batch({3, 8, 8, 3}, DType::uint8);
  for (std::size_t i = 0; i < batch.size(); ++i) batch.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i * 7);
  imio::imwrite(dir / "batch.jxl", batch, {.kwargs = {{"lossless", true}}});
  CHECK(imio::imread(dir / "batch.jxl", {.index = imio::all}) == batch);
  {
    auto file = imio::imopen(dir / "calls.jxl", "w");
    file.write(frames[0], {{"lossless", true}, {"duration", 70}});
    file.write(frames[1]);
    file.close();
  }
  CHECK(imio::improps(dir / "calls.jxl", {.index = imio::all}).n_images == 2u);
  CHECK(imio::immeta(dir / "calls.jxl", {.index = 1}).get<double>("duration") == Approx(70));
}

TEST_CASE("orientation is written to the image header; reads apply it unless rotate=false, as djxl does") {
  if (!tools_available()) {
    WARN("libjxl-tools absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  const NDArray src = photo(20, 32, 3, 60);
  for (int o = 1; o <= 8; ++o) {
    INFO("orientation " << o);
    const fs::path p = dir / "o.jxl";
    imio::imwrite(p, src, {.kwargs = {{"lossless", true}, {"orientation", o}}});
    const NDArray shown = imio::imread(p);
    CHECK(shown == imio::apply_orientation(src.copy(), o));
    CHECK(imio::improps(p).shape == shown.shape());
    CHECK(imio::imread(p, {.kwargs = {{"rotate", false}}}) == src);
    CHECK(imio::improps(p, {.kwargs = {{"rotate", false}}}).shape == src.shape());
    std::string log;
    REQUIRE(shell(dir.path(), "djxl " + q(p) + " " + q(dir / "o.png") + " --quiet", log) == 0);
    CHECK(imio::imread(dir / "o.png") == shown);
    // D17: the Orientation is listed unless the read it describes applies it
    CHECK_FALSE(imio::immeta(p).contains("Orientation"));
    CHECK(imio::immeta(p, {.exclude_applied = false}).get<std::int64_t>("Orientation") == o);
    CHECK(imio::immeta(p, {.kwargs = {{"rotate", false}}}).get<std::int64_t>("Orientation") == o);
    // the normalised entry (docs/metadata.md): the header's, hidden with Orientation
    CHECK_FALSE(imio::immeta(p).contains("orientation"));
    CHECK(imio::immeta(p, {.kwargs = {{"rotate", false}}}).get<std::int64_t>("orientation") == o);
  }
}

TEST_CASE("ICC, EXIF and XMP are written as the codestream's profile and the Exif/xml boxes; djxl and jxlinfo see them") {
  if (!tools_available()) {
    WARN("libjxl-tools absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  const Bytes exif_bytes = to_bytes(std::string(
      "MM\0*\0\0\0\x08\0\x02\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\x01\x0f\0\x02\0\0\0\x05\0\0\0\x26\0\0\0\0imio\0", 43));
  Bytes app1 = to_bytes(std::string("Exif\0\0", 6));
  app1.insert(app1.end(), exif_bytes.begin(), exif_bytes.end());
  const std::string xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
  // an ICC profile libjxl accepts: the one it writes for sRGB, taken from djxl
  const NDArray src = photo(16, 24, 3, 70);
  const fs::path plain = dir / "plain.jxl";
  imio::imwrite(plain, src, {.kwargs = {{"lossless", true}}});
  std::string log;
  REQUIRE(shell(dir.path(), "djxl " + q(plain) + " " + q(dir / "plain.png") + " --icc_out=" + q(dir / "srgb.icc") + " --quiet", log) == 0);
  const Bytes icc = read_file(dir / "srgb.icc");
  REQUIRE(icc.size() > 100);
  const fs::path p = dir / "meta.jxl";
  imio::imwrite(p, src, {.kwargs = {{"lossless", true}, {"icc_profile", icc}, {"exif", app1}, {"xmp", xmp}}});
  CHECK(imio::imread(p, {.kwargs = {{"rotate", false}}}) == src);
  const imio::Metadata m = imio::immeta(p);
  CHECK(m.get<Bytes>("icc_profile") == icc);
  CHECK_FALSE(m.contains("color_encoding"));
  CHECK(m.get<Bytes>("exif") == exif_bytes);
  CHECK(to_string(m.get<Bytes>("xmp")) == xmp);
  CHECK(m.get<std::string>("Make") == "imio");  // the EXIF tags, parsed by imio's reader
  // the normalised entries (docs/metadata.md): every IFD, the profile's
  // description; the orientation is the codestream's, which the writer set
  // from the EXIF Orientation (6: reconcile_orientation)
  CHECK(m.at("exif_tags").ref<imio::Dict>().at("IFD0").ref<imio::Dict>().get<std::string>("Make") == "imio");
  CHECK_FALSE(m.get<std::string>("icc_description").empty());
  CHECK(imio::immeta(p, {.kwargs = {{"rotate", false}}}).get<std::int64_t>("orientation") == 6);
  CHECK(m.get<bool>("container"));
  const auto boxes = m.at("boxes").get<Value::List>();
  CHECK(std::find(boxes.begin(), boxes.end(), Value("Exif")) != boxes.end());
  CHECK(std::find(boxes.begin(), boxes.end(), Value("xml ")) != boxes.end());
  // One orientation (docs/metadata.md, "Writing"): without an `orientation`
  // kwarg, the EXIF's (6) is written into the codestream too
  CHECK(imio::immeta(p, {.exclude_applied = false}).get<std::int64_t>("Orientation") == 6);
  CHECK(imio::imread(p).shape() == imio::Shape{24, 16, 3});
  REQUIRE(shell(dir.path(), "djxl " + q(p) + " " + q(dir / "meta.png") + " --orig_icc_out=" + q(dir / "meta.icc") + " --quiet", log) == 0);
  CHECK(read_file(dir / "meta.icc") == icc);
  CHECK(imio::imread(dir / "meta.png") == imio::apply_orientation(src.copy(), 6));
  REQUIRE(shell(dir.path(), "jxlinfo " + q(p), log) == 0);
  CHECK(contains(log, "Exif"));
  CHECK(contains(log, "xml "));
}

TEST_CASE("bad writes are ArgumentErrors before the target is touched") {
  imio_test::TempDir dir;
  const fs::path keep = dir / "keep.jxl";
  write_file(keep, to_bytes("previous"));
  const auto refused = [&](const NDArray& a, imio::Kwargs kw = {}) {
    REQUIRE_THROWS_AS(imio::imwrite(keep, a, {.kwargs = std::move(kw)}), imio::ArgumentError);
  };
  refused(NDArray({4, 4, 3}, DType::int16));
  refused(NDArray({4, 4, 3}, DType::float64));
  refused(NDArray({4, 4, 5, 6, 7}, DType::uint8));
  refused(NDArray({0, 4, 3}, DType::uint8));
  refused(photo(8, 8, 3, 1), {{"quality", 101}});
  refused(photo(8, 8, 3, 1), {{"distance", 26}});
  refused(photo(8, 8, 3, 1), {{"quality", 90}, {"distance", 1.0}});
  refused(photo(8, 8, 3, 1), {{"lossless", true}, {"distance", 2.0}});
  refused(photo(8, 8, 3, 1), {{"effort", 10}});
  refused(photo(8, 8, 3, 1), {{"orientation", 9}});
  refused(photo(8, 8, 3, 1), {{"qualty", 3}});
  refused(photo(8, 8, 3, 1), {{"duration", "long"}});
  refused(photo(8, 8, 3, 1), {{"from_jpeg", true}});          // not a 1-D uint8 JPEG
  refused(bytes_array(to_bytes("GIF89a...")), {{"from_jpeg", true}});  // not a JPEG
  NDArray nan = photo(8, 8, 3, 2, DType::float32);
  nan.data<float>()[5] = std::nanf("");
  refused(nan);
  std::vector<NDArray> mixed;
  mixed.push_back(photo(8, 8, 3, 3));
  mixed.push_back(photo(8, 9, 3, 4));
  REQUIRE_THROWS_AS(imio::imwrite(keep, std::span<const NDArray>(mixed)), imio::ArgumentError);
  // a list of durations that does not match the frames fails at close, before the file is replaced
  std::vector<NDArray> two;
  two.push_back(photo(8, 8, 3, 5));
  two.push_back(photo(8, 8, 3, 6));
  REQUIRE_THROWS_AS(imio::imwrite(keep, std::span<const NDArray>(two), {.kwargs = {{"duration", Value{1, 2, 3}}}}), imio::ArgumentError);
  CHECK(to_string(read_file(keep)) == "previous");
  std::vector<fs::path> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.push_back(e.path());
  CHECK(left.size() == 1);  // no temporary file left behind
  const std::string msg = imio_test::message_of<imio::ArgumentError>([&] { imio::imwrite(keep, photo(8, 8, 3, 1), {.kwargs = {{"quality", 90}, {"distance", 1.0}}}); });
  CHECK(contains(msg, "libjxl"));
  CHECK(contains(msg, "quality"));
}

// ---------------------------------------------------------------- JPEG recompression

namespace {

// A JPEG file imio writes (libjpeg-turbo), with EXIF and a comment.
Bytes some_jpeg(unsigned seed, bool progressive = false) {
  const Bytes exif = to_bytes(std::string("Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x0f\0\x02\0\0\0\x05\0\0\0\x1a\0\0\0\0imio\0", 37));
  return *imio::imwrite("<bytes>", photo(120, 160, 3, seed), {.extension = ".jpg",
                                                               .kwargs = {{"quality", 85}, {"exif", exif}, {"comment", "made by imio"},
                                                                          {"progressive", progressive}}});
}

}  // namespace

TEST_CASE("JPEG -> JPEG XL -> JPEG is byte-identical through imio, cjxl and djxl in every combination") {
  if (!tools_available()) {
    WARN("libjxl-tools absent: skipped");
    return;
  }
  if (!imio::has_plugin("libjpeg")) {
    WARN("the libjpeg plugin is not built: skipped");
    return;
  }
  imio_test::TempDir dir;
  for (const bool progressive : {false, true}) {
    INFO("progressive " << progressive);
    const Bytes jpeg = some_jpeg(80 + (progressive ? 1 : 0), progressive);
    write_file(dir / "a.jpg", jpeg);
    std::string log;
    // imio writes, djxl reconstructs
    imio::imwrite(dir / "imio.jxl", bytes_array(jpeg), {.kwargs = {{"from_jpeg", true}}});
    REQUIRE(shell(dir.path(), "djxl " + q(dir / "imio.jxl") + " " + q(dir / "back.jpg") + " --quiet", log) == 0);
    CHECK(read_file(dir / "back.jpg") == jpeg);
    // cjxl writes, imio reconstructs
    REQUIRE(shell(dir.path(), "cjxl " + q(dir / "a.jpg") + " " + q(dir / "cjxl.jxl") + " --quiet", log) == 0);
    CHECK(imio::immeta(dir / "cjxl.jxl").get<bool>("jpeg_reconstruction"));
    const NDArray rebuilt = imio::imread(dir / "cjxl.jxl", {.kwargs = {{"jpeg_reconstruction", true}}});
    CHECK(rebuilt.dtype() == DType::uint8);
    CHECK(array_bytes(rebuilt) == jpeg);
    CHECK(imio::improps(dir / "cjxl.jxl", {.kwargs = {{"jpeg_reconstruction", true}}}).shape == Shape{jpeg.size()});
    // imio both ways
    CHECK(array_bytes(imio::imread(dir / "imio.jxl", {.kwargs = {{"jpeg_reconstruction", true}}})) == jpeg);
    // cjxl and imio make the same file at the same effort
    CHECK(read_file(dir / "imio.jxl") == read_file(dir / "cjxl.jxl"));
    // smaller than the JPEG (about 20 % for photographs)
    const double ratio = double(fs::file_size(dir / "imio.jxl")) / double(jpeg.size());
    INFO("jxl/jpeg size ratio " << ratio);
    CHECK(ratio < 0.95);
    // the pixels: the JPEG's DCT coefficients decoded by libjxl, close to libjpeg's decoding
    const NDArray pixels = imio::imread(dir / "imio.jxl");
    CHECK(psnr(pixels, imio::imread(dir / "a.jpg"), 255) >= 40);
    // the JPEG's EXIF is kept as an Exif box
    CHECK(imio::immeta(dir / "imio.jxl").get<std::string>("Make") == "imio");
  }
}

TEST_CASE("JPEG reconstruction: files without a jbrd box and damaged ones are refused clearly") {
  const Bytes plain = *imio::imwrite("<bytes>", photo(16, 24, 3, 90), {.extension = ".jxl"});
  const std::string msg = imio_test::message_of<imio::ArgumentError>([&] { (void)imio::imread(plain, {.kwargs = {{"jpeg_reconstruction", true}}}); });
  CHECK(contains(msg, "jbrd"));
  REQUIRE_THROWS_AS(imio::improps(plain, {.kwargs = {{"jpeg_reconstruction", true}}}), imio::ArgumentError);
  CHECK_FALSE(imio::immeta(plain).get<bool>("jpeg_reconstruction"));
  if (!imio::has_plugin("libjpeg")) return;
  const Bytes jxl = *imio::imwrite("<bytes>", bytes_array(some_jpeg(91)), {.extension = ".jxl", .kwargs = {{"from_jpeg", true}}});
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  for (std::size_t n = 40; n < jxl.size(); n += std::max<std::size_t>(1, jxl.size() / 37)) {
    INFO("cut to " << n << " of " << jxl.size());
    const Bytes cut(jxl.begin(), jxl.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      const NDArray j = imio::imread(cut, {.kwargs = {{"jpeg_reconstruction", true}}});
      FAIL("a cut file gave " << j.size() << " bytes of JPEG");
    } catch (const imio::DecodeError&) {
    } catch (const imio::ArgumentError&) {  // cut before the jbrd box
    }
  }
  CHECK(err.text().empty());
  // from_jpeg takes only effort and thread_count
  REQUIRE_THROWS_AS(imio::imwrite("<bytes>", bytes_array(some_jpeg(92)), {.extension = ".jxl", .kwargs = {{"from_jpeg", true}, {"lossless", true}}}),
                    imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite("<bytes>", bytes_array(some_jpeg(92)), {.extension = ".jxl", .kwargs = {{"from_jpeg", true}, {"distance", 2}}}),
                    imio::ArgumentError);
}

// ---------------------------------------------------------------- damaged and hostile input

namespace {

// Every call an imio error of type E within a second, nothing on stderr.
template <class E>
void refused_everywhere(const Bytes& data, const std::string& what, imio::Limits limits = {}) {
  INFO(what);
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_THROWS_AS(imio::imread(data, {.extension = ".jxl", .limits = limits}), E);
  REQUIRE_THROWS_AS(imio::imread(data, {.index = imio::all, .extension = ".jxl", .limits = limits}), E);
  REQUIRE_THROWS_AS(imio::improps(data, {.extension = ".jxl", .limits = limits}), E);
  REQUIRE_THROWS_AS(
      [&] {
        for (const NDArray& fr : imio::imiter(data, {.extension = ".jxl", .limits = limits})) (void)fr;
      }(),
      E);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(err.text().empty());
  CHECK(s < imio_test::time_bound(4.0));  // four calls, each well under a second
}

// A bit writer for hand-made codestream headers (ISO/IEC 18181-1: fields
// are packed least significant bit first).
struct Bits {
  Bytes out;
  std::size_t bit = 0;
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i, ++bit) {
      if (bit / 8 >= out.size()) out.push_back(std::byte{0});
      if ((v >> i) & 1) out[bit / 8] |= std::byte(1u << (bit % 8));
    }
  }
  // U32(Bits(9)+1, Bits(13)+1, Bits(18)+1, Bits(30)+1): the SizeHeader's dimension
  void dimension(std::uint32_t v) {
    put(3, 2);
    put(v - 1, 30);
  }
};

// A codestream whose header declares `w` × `h` pixels (SizeHeader not
// small, ratio 0), default image metadata, and nothing after it.
Bytes header_only(std::uint32_t w, std::uint32_t h) {
  Bits b;
  b.put(0xff, 8);
  b.put(0x0a, 8);
  b.put(0, 1);  // small = false
  b.dimension(h);
  b.put(0, 3);  // ratio 0: xsize follows
  b.dimension(w);
  b.put(1, 1);  // ImageMetadata all_default
  b.put(1, 1);  // CustomTransformData all_default
  for (int i = 0; i < 8; ++i) b.put(0, 8);
  return b.out;
}

}  // namespace

TEST_CASE("truncated files raise DecodeError at every length, promptly and silently") {
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  std::vector<NDArray> frames;
  for (unsigned k = 0; k < 3; ++k) frames.push_back(photo(40, 56, 4, 100 + k));
  const Bytes files[] = {
      *imio::imwrite("<bytes>", photo(64, 80, 3, 98), {.extension = ".jxl"}),
      *imio::imwrite("<bytes>", photo(64, 80, 4, 99, DType::uint16), {.extension = ".jxl", .kwargs = {{"lossless", true}, {"xmp", "<x/>"}}}),
      *imio::imwrite("<bytes>", std::span<const NDArray>(frames), {.extension = ".jxl"}),
  };
  std::size_t props_refused = 0, cuts = 0;
  for (const Bytes& file : files) {
    for (std::size_t n = 1; n < file.size(); n += std::max<std::size_t>(1, file.size() / 97)) {
      INFO("cut to " << n << " of " << file.size() << " bytes");
      const Bytes cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
      const auto t0 = std::chrono::steady_clock::now();
      std::string msg;
      try {
        (void)imio::imread(cut, {.index = imio::all, .extension = ".jxl"});
        FAIL("a file cut to " << n << " bytes was read");
      } catch (const imio::DecodeError& e) {
        msg = e.what();
      } catch (const imio::NoPluginError& e) {
        CHECK(n < 12);  // too short for the signature: nothing claims it
        msg = "libjxl <bytes>";
      }
      CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
      CHECK(contains(msg, "libjxl"));
      CHECK(contains(msg, "<bytes>"));
      ++cuts;
      try {
        (void)imio::improps(cut, {.extension = ".jxl"});
      } catch (const imio::Error&) {
        ++props_refused;
      }
    }
  }
  // improps reads the headers only: a cut in the headers, in a container's
  // boxes or before the last frame is found, a cut inside the last frame's
  // pixel data only by the read (see the README).
  INFO(props_refused << " of " << cuts << " cut files refused by improps");
  CHECK(props_refused > 0);
  CHECK(err.text().empty());
}

TEST_CASE("hostile headers: absurd dimensions, frame and layer counts beyond the Limits") {
  SECTION("2^30 x 2^30 pixels") { refused_everywhere<imio::LimitError>(header_only(1u << 30, 1u << 30), "2^30 x 2^30"); }
  SECTION("20000 x 20000 pixels, above max_pixels (2^28)") {
    refused_everywhere<imio::LimitError>(header_only(20000, 20000), "20000 x 20000");
    CHECK(contains(imio_test::message_of<imio::LimitError>([&] { (void)imio::improps(header_only(20000, 20000), {.extension = ".jxl"}); }), "libjxl"));
  }
  SECTION("16000 x 16000 pixels within the Limits, and no pixel data") {
    refused_everywhere<imio::DecodeError>(header_only(16000, 16000), "16000 x 16000 header only");
  }
  SECTION("smaller Limits are honoured") {
    const Bytes plain = *imio::imwrite("<bytes>", photo(64, 64, 3, 110), {.extension = ".jxl"});
    refused_everywhere<imio::LimitError>(plain, "max_pixels 1000", {.max_pixels = 1000});
    // max_bytes bounds allocations: the reads' arrays, not improps (which allocates none)
    REQUIRE_THROWS_AS(imio::imread(plain, {.extension = ".jxl", .limits = {.max_bytes = 100}}), imio::LimitError);
    REQUIRE_THROWS_AS(imio::imread(plain, {.index = imio::all, .extension = ".jxl", .limits = {.max_bytes = 100}}), imio::LimitError);
    CHECK(imio::improps(plain, {.extension = ".jxl", .limits = {.max_bytes = 100}}).shape == Shape{64, 64, 3});
  }
  SECTION("more frames than max_frames") {
    std::vector<NDArray> frames;
    for (unsigned k = 0; k < 300; ++k) frames.push_back(photo(2, 2, 3, k));
    const Bytes many = *imio::imwrite("<bytes>", std::span<const NDArray>(frames), {.extension = ".jxl", .kwargs = {{"effort", 1}}});
    CHECK(imio::improps(many, {.index = imio::all, .extension = ".jxl"}).n_images == 300u);
    refused_everywhere<imio::LimitError>(many, "300 frames, max_frames 100", {.max_frames = 100});
    CHECK(contains(imio_test::message_of<imio::LimitError>([&] { (void)imio::imread(many, {.extension = ".jxl", .limits = {.max_frames = 100}}); }),
                   "max_frames"));
  }
}

TEST_CASE("random damage never crashes, hangs or prints") {
  std::vector<NDArray> frames;
  for (unsigned k = 0; k < 3; ++k) frames.push_back(photo(24, 32, 3, 120 + k));
  const Bytes seeds[] = {
      *imio::imwrite("<bytes>", photo(40, 48, 3, 111), {.extension = ".jxl"}),
      *imio::imwrite("<bytes>", photo(40, 48, 4, 112), {.extension = ".jxl", .kwargs = {{"lossless", true}}}),
      *imio::imwrite("<bytes>", photo(40, 48, 1, 113, DType::uint16), {.extension = ".jxl", .kwargs = {{"lossless", true}, {"exif", to_bytes(std::string_view("MM\0*\0\0\0\x08\0\0", 10))}}}),
      *imio::imwrite("<bytes>", photo(24, 32, 3, 114, DType::float32), {.extension = ".jxl", .kwargs = {{"distance", 2.0}}}),
      *imio::imwrite("<bytes>", std::span<const NDArray>(frames), {.extension = ".jxl", .kwargs = {{"effort", 3}}}),
  };
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  // NoPluginError: the signature itself flipped.
  const auto run = imio_test::random_damage<imio::DecodeError, imio::LimitError, imio::NoPluginError>(
      seeds, imio_test::damage_rounds("IMIO_JXL_FUZZ_ROUNDS", 150), 2, 2022, [](const Bytes& b) {
        const NDArray a = imio::imread(b, {.index = imio::all, .extension = ".jxl"});
        CHECK(a.size() > 0);
        CHECK(imio::improps(b, {.index = imio::all, .extension = ".jxl"}).shape == a.shape());
        (void)imio::immeta(b, {.extension = ".jxl"});
      });
  INFO(run.summary());
  const std::string printed = err.text();
  INFO(printed.substr(0, 600));
  CHECK(printed.empty());
  CHECK(run.refused > 0);
  CHECK(run.slowest < imio_test::time_bound(1.0));
}

TEST_CASE("libjxl's messages are muted, nobody else's") {
  // Debian's libjxl prints "./lib/jxl/decode.cc:…: invalid signature"-style
  // lines for damaged data; imio mutes them in libjxl's own PLT only: the
  // program's fprintf, and glibc's for every other library, still print.
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  Bytes bad = *imio::imwrite("<bytes>", photo(16, 16, 3, 140), {.extension = ".jxl"});
  for (std::size_t i = 8; i < bad.size(); ++i) bad[i] = std::byte{0x5a};
  REQUIRE_THROWS_AS(imio::imread(bad, {.extension = ".jxl"}), imio::DecodeError);
  std::fprintf(stderr, "still mine %d\n", 1);
  std::fputs("and this\n", stderr);
  CHECK(err.text() == "still mine 1\nand this\n");
}

TEST_CASE("thread_count: one thread and many decode and encode the same bytes") {
  const NDArray src = photo(300, 400, 3, 130);
  const Bytes one = *imio::imwrite("<bytes>", src, {.extension = ".jxl", .kwargs = {{"thread_count", 1}}});
  const Bytes four = *imio::imwrite("<bytes>", src, {.extension = ".jxl", .kwargs = {{"thread_count", 4}}});
  CHECK(one == four);
  CHECK(imio::imread(one, {.kwargs = {{"thread_count", 1}}}) == imio::imread(one, {.kwargs = {{"thread_count", 3}}}));
  CHECK(imio::imread(one) == imio::imread(one, {.kwargs = {{"thread_count", 1}}}));
}
