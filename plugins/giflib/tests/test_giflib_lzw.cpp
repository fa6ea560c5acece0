// The plugin's own LZW decoder (gif_lzw.cpp) against the expected pixels of
// streams generated here code by code, against giflib's DGifGetLine (which
// the environment variable IMIO_GIF_GIFLIB_ONLY forces) and against Pillow:
// every minimum code size 2..8, clear codes, the KwKwK code, a table that
// fills up without a clear code ("deferred clear"), interlaced frames and
// frames smaller than the screen, sub-blocks of every size; damaged streams
// and every GIF of the corpus give the same outcome with both decoders.
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
#include "gif_lzw.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::NDArray;
using imio::giflib::kLzwPadding;
using imio::giflib::lzw_decode;

// ------------------------------------------------------------ a stream generator

struct GenOptions {
  int min_code_size = 8;
  std::size_t pixels = 1000;
  std::uint32_t seed = 1;
  bool clear_when_full = true;  // false: keep the full table (deferred clear)
  bool initial_clear = true;
  bool end_code = true;
  std::size_t clear_every = 0;  // codes between clear codes (0: only when full, if clear_when_full)
  int literal_percent = 30;
  int kwkwk_percent = 5;
  std::size_t extra_codes = 0;  // codes after the last pixel (a decoder ignores them)
};

struct Generated {
  std::vector<std::uint8_t> data;    // the LZW codes, packed least significant bit first
  std::vector<std::uint8_t> pixels;  // what they decode to, `pixels` of them
  bool full_table_code_4095 = false;  // code 4095 sent while the table was full
  bool kwkwk = false;
};

// Picks codes at random (literals, defined entries, the next free entry) and
// follows them with a plain string table, the way GIF89a Appendix F
// describes the decoder; the widths are the decoder's.
Generated generate(const GenOptions& o) {
  const std::uint32_t clear = 1u << o.min_code_size, first_free = clear + 2;
  std::mt19937 rng(o.seed);
  std::vector<std::vector<std::uint8_t>> strings(4096);
  Generated g;
  std::uint64_t acc = 0;
  unsigned nacc = 0;
  unsigned width = 0;
  std::uint32_t next = 0;
  bool has_prev = false;
  std::vector<std::uint8_t> prev;
  auto put = [&](std::uint32_t code) {
    acc |= std::uint64_t{code} << nacc;
    nacc += width;
    while (nacc >= 8) {
      g.data.push_back(static_cast<std::uint8_t>(acc));
      acc >>= 8;
      nacc -= 8;
    }
  };
  auto reset = [&] {
    width = static_cast<unsigned>(o.min_code_size) + 1;
    next = first_free;
    has_prev = false;
  };
  reset();
  if (o.initial_clear) put(clear);
  std::size_t since_clear = 0, extra = 0;
  std::vector<std::uint8_t> out;
  while (out.size() < o.pixels || extra < o.extra_codes) {
    if (out.size() >= o.pixels) ++extra;
    if ((o.clear_every != 0 && since_clear >= o.clear_every) || (o.clear_when_full && next == 4096)) {
      put(clear);
      reset();
      since_clear = 0;
    }
    std::uint32_t c;
    std::vector<std::uint8_t> s;
    const int r = static_cast<int>(rng() % 100);
    if (!has_prev || r < o.literal_percent || (next == first_free && r >= o.literal_percent + o.kwkwk_percent)) {
      c = rng() % clear;
      s = {static_cast<std::uint8_t>(c)};
    } else if (r < o.literal_percent + o.kwkwk_percent && next < 4096) {
      c = next;
      s = prev;
      s.push_back(prev[0]);
      g.kwkwk = true;
    } else {
      // Mostly recent entries (long strings), sometimes any.
      const std::uint32_t span = next - first_free;
      c = rng() % 4 == 0 ? first_free + rng() % span : next - 1 - rng() % std::min<std::uint32_t>(span, 64);
      if (next == 4096 && rng() % 8 == 0) c = 4095;
      s = strings[c];
      if (next == 4096 && c == 4095) g.full_table_code_4095 = true;
    }
    put(c);
    if (has_prev && next < 4096) {
      strings[next] = prev;
      strings[next].push_back(s[0]);
      if (++next == (1u << width) && width < 12) ++width;
    }
    has_prev = true;
    prev = s;
    out.insert(out.end(), s.begin(), s.end());
    ++since_clear;
  }
  if (o.end_code) put(clear + 1);
  if (nacc > 0) g.data.push_back(static_cast<std::uint8_t>(acc));
  out.resize(o.pixels);
  g.pixels = std::move(out);
  return g;
}

std::vector<std::uint8_t> decode(int mcs, const std::vector<std::uint8_t>& data, std::size_t count, bool* ok) {
  std::vector<std::uint8_t> in(data);
  in.resize(data.size() + kLzwPadding, 0xA5);  // the padding's value must not matter
  std::vector<std::uint8_t> out(count);
  *ok = lzw_decode(mcs, in.data(), data.size(), out.data(), count);
  return out;
}

// ------------------------------------------------------------ GIF files

struct Frame {
  std::uint16_t left = 0, top = 0, width = 0, height = 0;
  bool interlaced = false;
  int min_code_size = 8;
  std::vector<std::uint8_t> data;
  std::size_t block = 255;  // sub-block size
};

// GIF89a with a global colour table of 2^bits colours (no gray ramp) and the frames.
Bytes make_gif(std::uint16_t w, std::uint16_t h, int bits, const std::vector<Frame>& frames) {
  std::vector<std::uint8_t> o = {'G', 'I', 'F', '8', '9', 'a'};
  auto u16 = [&](std::uint16_t v) {
    o.push_back(static_cast<std::uint8_t>(v));
    o.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  u16(w);
  u16(h);
  o.push_back(static_cast<std::uint8_t>(0xF0 | (bits - 1)));
  o.push_back(0);
  o.push_back(0);
  for (int i = 0; i < (1 << bits); ++i) {
    o.push_back(static_cast<std::uint8_t>(i * 37 + 5));
    o.push_back(static_cast<std::uint8_t>(255 - i));
    o.push_back(static_cast<std::uint8_t>(i * 11));
  }
  for (const Frame& f : frames) {
    o.push_back(0x2C);
    u16(f.left);
    u16(f.top);
    u16(f.width);
    u16(f.height);
    o.push_back(f.interlaced ? 0x40 : 0);
    o.push_back(static_cast<std::uint8_t>(f.min_code_size));
    for (std::size_t i = 0; i < f.data.size(); i += f.block) {
      const std::size_t n = std::min(f.block, f.data.size() - i);
      o.push_back(static_cast<std::uint8_t>(n));
      o.insert(o.end(), f.data.begin() + static_cast<std::ptrdiff_t>(i), f.data.begin() + static_cast<std::ptrdiff_t>(i + n));
    }
    o.push_back(0);
  }
  o.push_back(0x3B);
  Bytes b(o.size());
  std::memcpy(b.data(), o.data(), o.size());
  return b;
}

// Rows of an interlaced image in stream order → row-major (GIF89a Appendix E).
std::vector<std::uint8_t> deinterlace(const std::vector<std::uint8_t>& stream, std::size_t w, std::size_t h) {
  std::vector<std::uint8_t> out(w * h);
  std::size_t r = 0;
  for (std::size_t pass = 0; pass < 4; ++pass) {
    const std::size_t start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    for (std::size_t y = start[pass]; y < h; y += step[pass]) std::memcpy(out.data() + y * w, stream.data() + (r++) * w, w);
  }
  return out;
}

// What one read gives: the frames, or the exception's type and text.
struct Outcome {
  NDArray array;
  std::string error;
  std::size_t yielded = 0;  // frames imiter gave before its end or error
};

Outcome read_with(const imio::ImageResource& resource, bool giflib_only, const char* mode) {
  if (giflib_only) {
    ::setenv("IMIO_GIF_GIFLIB_ONLY", "1", 1);
  } else {
    ::unsetenv("IMIO_GIF_GIFLIB_ONLY");
  }
  Outcome o;
  imio::Kwargs kw;
  if (mode != nullptr) kw = {{"mode", mode}};
  try {
    o.array = imio::imread(resource, {.plugin = "giflib", .kwargs = kw});
  } catch (const imio::DecodeError& e) {
    o.error = std::string("DecodeError: ") + e.what();
  } catch (const imio::LimitError& e) {
    o.error = std::string("LimitError: ") + e.what();
  } catch (const imio::Error& e) {
    o.error = std::string("Error: ") + e.what();
  }
  try {
    for (const NDArray& f : imio::imiter(resource, {.plugin = "giflib", .kwargs = kw})) {
      (void)f;
      ++o.yielded;
    }
  } catch (const imio::Error&) {
  }
  ::unsetenv("IMIO_GIF_GIFLIB_ONLY");
  return o;
}

bool same(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

void check_same_outcome(const imio::ImageResource& resource, const char* mode = "P") {
  const Outcome own = read_with(resource, false, mode);
  const Outcome lib = read_with(resource, true, mode);
  CHECK(own.error == lib.error);
  CHECK(own.yielded == lib.yielded);
  if (own.error.empty() && lib.error.empty()) CHECK(same(own.array, lib.array));
}

// Frame 0 read in mode "P": the screen's indices, 0 where the frame is not.
std::vector<std::uint8_t> screen_of(std::size_t sw, std::size_t sh, const Frame& f, const std::vector<std::uint8_t>& rows) {
  std::vector<std::uint8_t> s(sw * sh, 0);
  for (std::size_t y = 0; y < f.height; ++y) std::memcpy(s.data() + (f.top + y) * sw + f.left, rows.data() + y * f.width, f.width);
  return s;
}

NDArray frame0_indices(const Bytes& gif, bool giflib_only) {
  if (giflib_only) ::setenv("IMIO_GIF_GIFLIB_ONLY", "1", 1);
  NDArray a = imio::imread(gif, {.index = 0, .kwargs = {{"mode", "P"}}});
  ::unsetenv("IMIO_GIF_GIFLIB_ONLY");
  return a;
}

bool equals(const NDArray& a, const std::vector<std::uint8_t>& v) {
  return a.nbytes() == v.size() && std::memcmp(a.bytes(), v.data(), v.size()) == 0;
}

bool pillow_available() { return imio_test::python_has("numpy, PIL"); }

// Pillow's indices of frame 0 of every file `names` in `dir`, as raw bytes `<name>.idx`.
void pillow_indices(const imio_test::TempDir& dir, const std::vector<std::string>& names) {
  std::string script = "import sys, os\nfrom PIL import Image\nd = sys.argv[1]\nfor n in [";
  for (const auto& n : names) script += "'" + n + "', ";
  script += "]:\n    im = Image.open(os.path.join(d, n))\n    im.load()\n"
            "    open(os.path.join(d, n + '.idx'), 'wb').write(im.tobytes())\n";
  std::string log;
  const int rc = imio_test::run_python(dir, script, log);
  INFO(log);
  REQUIRE(rc == 0);
}

}  // namespace

// ------------------------------------------------------------ the decoder itself

TEST_CASE("gif_lzw: generated streams decode to their pixels for every minimum code size", "[giflib][lzw]") {
  for (int mcs = 2; mcs <= 8; ++mcs) {
    for (std::uint32_t seed = 1; seed <= 4; ++seed) {
      GenOptions o;
      o.min_code_size = mcs;
      o.seed = seed * 7 + static_cast<std::uint32_t>(mcs);
      o.pixels = 20000 + seed * 3001;
      o.clear_when_full = seed % 2 == 1;
      o.initial_clear = seed != 2;
      o.end_code = seed != 3;
      o.extra_codes = seed == 4 ? 17 : 0;
      o.clear_every = seed == 3 ? 300 : 0;
      const Generated g = generate(o);
      INFO("min code size " << mcs << " seed " << seed);
      CHECK(g.kwkwk);
      bool ok = false;
      const auto px = decode(mcs, g.data, o.pixels, &ok);
      CHECK(ok);
      CHECK(px == g.pixels);
    }
  }
}

TEST_CASE("gif_lzw: a full table is kept until a clear code (deferred clear), code 4095 included", "[giflib][lzw]") {
  GenOptions o;
  o.min_code_size = 4;
  o.clear_when_full = false;
  o.pixels = 200000;
  o.literal_percent = 60;
  const Generated g = generate(o);
  REQUIRE(g.full_table_code_4095);
  bool ok = false;
  CHECK(decode(4, g.data, o.pixels, &ok) == g.pixels);
  CHECK(ok);
}

TEST_CASE("gif_lzw: irregular streams are refused, never read past the data", "[giflib][lzw]") {
  GenOptions o;
  o.min_code_size = 5;
  o.pixels = 3000;
  const Generated g = generate(o);
  bool ok = true;
  // Every cut short of the pixels: refused (the last code cannot come from the padding).
  for (std::size_t n = 0; n + 2 < g.data.size(); n += 13) {
    std::vector<std::uint8_t> cut(g.data.begin(), g.data.begin() + static_cast<std::ptrdiff_t>(n));
    (void)decode(5, cut, o.pixels, &ok);
    CHECK_FALSE(ok);
  }
  // Without an end code (nor a first clear code): accepted.
  GenOptions exact = o;
  exact.end_code = false;
  exact.initial_clear = false;
  const Generated e = generate(exact);
  (void)decode(5, e.data, e.pixels.size(), &ok);
  CHECK(ok);
  // The end-of-information code before the frame is full.
  (void)decode(5, g.data, o.pixels * 4, &ok);
  CHECK_FALSE(ok);
  // A code above the next free entry right after the clear code: 6 bits, clear = 32, first free 34.
  const std::vector<std::uint8_t> undefined = {32 | ((40 & 3) << 6), 40 >> 2, 0};
  (void)decode(5, undefined, 2, &ok);
  CHECK_FALSE(ok);
  // A first code that is an entry (KwKwK needs a previous code).
  const std::vector<std::uint8_t> first_entry = {32 | ((34 & 3) << 6), 34 >> 2, 0};
  (void)decode(5, first_entry, 2, &ok);
  CHECK_FALSE(ok);
  // Minimum code sizes GIF89a does not allow are left to giflib.
  for (int mcs : {0, 1, 9, 12}) {
    (void)decode(mcs, g.data, 10, &ok);
    CHECK_FALSE(ok);
  }
  // Random bytes: refused or decoded, never out of bounds (the sanitizer build checks).
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::vector<std::uint8_t> junk(rng() % 600);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    (void)decode(2 + i % 7, junk, 1 + rng() % 5000, &ok);
  }
}

// ------------------------------------------------------------ whole files

TEST_CASE("giflib: frames of every minimum code size, interlaced or smaller than the screen, decode alike with both decoders and Pillow",
          "[giflib][lzw][pillow]") {
  imio_test::TempDir dir;
  struct Case {
    std::string name;
    Bytes gif;
    std::vector<std::uint8_t> expected;  // the screen's indices
  };
  std::vector<Case> cases;
  for (int mcs = 2; mcs <= 8; ++mcs) {
    for (int variant = 0; variant < 3; ++variant) {
      Frame f;
      f.min_code_size = mcs;
      f.interlaced = variant == 1;
      f.width = static_cast<std::uint16_t>(variant == 2 ? 37 : 61);
      f.height = static_cast<std::uint16_t>(variant == 2 ? 23 : 45);
      f.left = static_cast<std::uint16_t>(variant == 2 ? 9 : 0);
      f.top = static_cast<std::uint16_t>(variant == 2 ? 13 : 0);
      f.block = variant == 0 ? 255 : variant == 1 ? 1 : 100;
      GenOptions o;
      o.min_code_size = mcs;
      o.pixels = std::size_t{f.width} * f.height;
      o.seed = static_cast<std::uint32_t>(mcs * 10 + variant);
      const Generated g = generate(o);
      f.data = g.data;
      const auto rows = f.interlaced ? deinterlace(g.pixels, f.width, f.height) : g.pixels;
      cases.push_back({"mcs" + std::to_string(mcs) + "_v" + std::to_string(variant) + ".gif", make_gif(61, 45, mcs, {f}),
                       screen_of(61, 45, f, rows)});
    }
  }
  // A table that fills up and stays full, with code 4095 sent afterwards.
  {
    Frame f;
    f.min_code_size = 8;
    f.width = 400;
    f.height = 300;
    GenOptions o;
    o.pixels = 400 * 300;
    o.clear_when_full = false;
    o.literal_percent = 70;
    o.seed = 99;
    const Generated g = generate(o);
    REQUIRE(g.full_table_code_4095);
    f.data = g.data;
    cases.push_back({"deferred_clear.gif", make_gif(400, 300, 8, {f}), g.pixels});
  }
  std::vector<std::string> names;
  for (const Case& c : cases) {
    imio_test::write_file(dir.path() / c.name, c.gif);
    names.push_back(c.name);
  }
  const bool pil = pillow_available();
  if (pil) pillow_indices(dir, names);
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(equals(frame0_indices(c.gif, false), c.expected));
    if (pil) {
      const Bytes ref = imio_test::read_file(dir.path() / (c.name + ".idx"));
      CHECK(std::memcmp(ref.data(), c.expected.data(), std::min(ref.size(), c.expected.size())) == 0);
      CHECK(ref.size() == c.expected.size());
    }
    CHECK(equals(frame0_indices(c.gif, true), c.expected));
  }
  if (!pil) WARN("Pillow not available: checked against the generated pixels and giflib only");
}

TEST_CASE("giflib: damaged image data give the same error or pixels with both decoders", "[giflib][lzw]") {
  // Three frames, the middle one interlaced, with sub-blocks of 50 bytes.
  std::vector<Frame> frames;
  for (int i = 0; i < 3; ++i) {
    Frame f;
    f.min_code_size = 6;
    f.width = 40;
    f.height = 30;
    f.interlaced = i == 1;
    f.block = 50;
    GenOptions o;
    o.min_code_size = 6;
    o.pixels = 1200;
    o.seed = static_cast<std::uint32_t>(i + 40);
    f.data = generate(o).data;
    frames.push_back(f);
  }
  const Bytes good = make_gif(40, 30, 6, frames);
  check_same_outcome(good);
  // Every prefix: the frames before the cut, then giflib's error.
  for (std::size_t n = 0; n < good.size(); n += 5) {
    INFO("prefix " << n);
    check_same_outcome(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  // Bytes changed in the image data: giflib's verdict or its pixels.
  std::mt19937 rng(3);
  for (int i = 0; i < 150; ++i) {
    Bytes bad = good;
    const std::size_t at = 13 + 192 + rng() % (good.size() - 13 - 192 - 1);
    bad[at] = static_cast<std::byte>(rng());
    INFO("byte " << at);
    check_same_outcome(bad);
  }
}

TEST_CASE("giflib: every GIF of the corpus decodes alike with both decoders", "[giflib][lzw]") {
  const fs::path root = imio_test::corpus_dir();
  if (root.empty()) {
    WARN("skipped: the corpus is not available");
    return;
  }
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.file_size() > (64u << 20)) continue;
    const Bytes head = imio_test::read_file(e.path());
    if (head.size() < 6 || std::memcmp(head.data(), "GIF8", 4) != 0) continue;
    ++files;
    INFO(e.path().string());
    check_same_outcome(e.path(), "P");
    check_same_outcome(e.path(), nullptr);
  }
  CHECK(files > 20);
}

TEST_CASE("giflib: GIFs written by Pillow and by imio with every palette size read alike with both decoders",
          "[giflib][lzw][pillow]") {
  // imio's writer: palettes of 2..256 colours give minimum code sizes 2..8.
  for (std::size_t colours : {2u, 4u, 5u, 16u, 33u, 128u, 256u}) {
    NDArray a({3, 50, 70, 3}, imio::DType::uint8);
    auto* p = a.data<std::uint8_t>();
    for (std::size_t i = 0; i < a.size() / 3; ++i) {
      const std::size_t k = (i * 7 + i / 70 * 3) % colours;
      p[3 * i] = static_cast<std::uint8_t>(k * 255 / colours);
      p[3 * i + 1] = static_cast<std::uint8_t>(k % 7 * 30);
      p[3 * i + 2] = static_cast<std::uint8_t>(k % 3 * 100);
    }
    const auto gif = imio::imwrite("<bytes>", a, {.extension = ".gif"});
    REQUIRE(gif.has_value());
    INFO("imio, " << colours << " colours");
    CHECK(imio::imread(*gif) == a);
    check_same_outcome(*gif);
  }
  if (!pillow_available()) {
    WARN("skipped the Pillow-written files: no Pillow");
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir,
                                       "import sys, os\nimport numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n"
                                       "rng = np.random.default_rng(1)\n"
                                       "for bits in range(1, 9):\n"
                                       "    n = 1 << bits\n"
                                       "    a = (np.add.outer(np.arange(90) // 3, np.arange(120) // 5) % n).astype(np.uint8)\n"
                                       "    a[40:60, 30:90] = rng.integers(0, n, (20, 60))\n"
                                       "    im = Image.fromarray(a, 'P')\n"
                                       "    im.putpalette([(i * 37) % 256 for i in range(3 * n)])\n"
                                       "    for il in (0, 1):\n"
                                       "        name = os.path.join(d, 'pil%d_%d.gif' % (bits, il))\n"
                                       "        im.save(name, interlace=il, optimize=False)\n"
                                       "        open(name + '.idx', 'wb').write(Image.open(name).tobytes())\n",
                                       log);
  INFO(log);
  REQUIRE(rc == 0);
  for (int bits = 1; bits <= 8; ++bits) {
    for (int il = 0; il < 2; ++il) {
      const fs::path name = dir.path() / ("pil" + std::to_string(bits) + "_" + std::to_string(il) + ".gif");
      INFO(name.string());
      const Bytes gif = imio_test::read_file(name);
      const Bytes ref = imio_test::read_file(name.string() + ".idx");
      const NDArray own = frame0_indices(gif, false);
      REQUIRE(own.nbytes() == ref.size());
      CHECK(std::memcmp(own.bytes(), ref.data(), ref.size()) == 0);
      check_same_outcome(gif);
    }
  }
}
