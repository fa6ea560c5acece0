// Invalid APNGs and hostile chunk lengths (issue #19 classes 5, 6, 13): an
// APNG whose sequence numbers are wrong is refused, an invalid acTL leaves
// the default image (with a warning), as Pillow 9.4 does; a chunk length is
// never allocated ahead of the data. The APNGs are written by Pillow and
// then edited chunk by chunk; Pillow's verdict on each is asserted too.
#include <imio/imio.hpp>

#include <chrono>
#include <cstring>
#include <cstdint>
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

bool pillow_available() { return imio_test::python_has("numpy, PIL"); }

// Writes a 3-frame APNG (8x8, frames 10, 100, 200 gray RGB) with Pillow and
// the variants below, each with Pillow's verdict in <name>.verdict: "error",
// or the number of frames Pillow plays (their pixels in <name>.npy).
constexpr const char* kMakeApngs = R"(
import sys, os, io, struct, zlib, warnings, numpy
from PIL import Image, ImageSequence
d = sys.argv[1]
def chunks(b):
    pos, out = 8, []
    while pos < len(b):
        n, = struct.unpack('>I', b[pos:pos + 4])
        out.append([b[pos + 4:pos + 8], b[pos + 8:pos + 8 + n]])
        pos += 12 + n
    return out
def build(cs):
    o = bytearray(b'\x89PNG\r\n\x1a\n')
    for t, data in cs:
        o += struct.pack('>I', len(data)) + t + data + struct.pack('>I', zlib.crc32(t + data) & 0xffffffff)
    return bytes(o)
frames = [Image.fromarray(numpy.full((8, 8, 3), v, numpy.uint8)) for v in (10, 100, 200)]
b = io.BytesIO()
frames[0].save(b, format='PNG', save_all=True, append_images=frames[1:])
base = chunks(b.getvalue())
kinds = [t for t, _ in base]
assert kinds == [b'IHDR', b'acTL', b'fcTL', b'IDAT', b'fcTL', b'fdAT', b'fcTL', b'fdAT', b'IEND'], kinds
def with_seq(index, seq):
    cs = [list(c) for c in base]
    cs[index][1] = struct.pack('>I', seq) + cs[index][1][4:]
    return cs
def with_actl(n):
    cs = [list(c) for c in base]
    cs[1][1] = struct.pack('>II', n, 0)
    return cs
dup = [list(c) for c in base]
dup.insert(2, list(base[1]))
variants = {
    'valid': base,
    'second_actl': dup,
    'fctl0_starts_at_1': with_seq(2, 1),
    'fctl1_skips': with_seq(4, 2),
    'fctl1_repeats': with_seq(4, 0),
    'fdat1_skips': with_seq(5, 3),
    'fdat1_backwards': with_seq(5, 0),
    'last_fdat_wrong': with_seq(7, 9),
    'actl_5_frames': with_actl(5),
    'actl_0_frames': with_actl(0),
    'actl_2147483649_frames': with_actl(2147483649),
}
for name, cs in variants.items():
    data = build(cs)
    open(os.path.join(d, name + '.png'), 'wb').write(data)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            im = Image.open(io.BytesIO(data))
            got = numpy.stack([numpy.asarray(f.convert('RGB')) for f in ImageSequence.Iterator(im)])
            verdict = str(len(got))
            numpy.save(os.path.join(d, name + '.npy'), got)
        except Exception:
            verdict = 'error'
    open(os.path.join(d, name + '.verdict'), 'w').write(verdict)
)";

std::string verdict(const imio_test::TempDir& dir, const std::string& name) {
  return imio_test::to_string(imio_test::read_file(dir / (name + ".verdict")));
}

}  // namespace

TEST_CASE("APNG frame sequence errors are a DecodeError, never frames played out of order") {
  if (!pillow_available()) {
    WARN("skipped: Python with Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakeApngs, log) == 0);
  INFO(log);
  // The valid file is the control: three frames, as Pillow plays them.
  REQUIRE(verdict(dir, "valid") == "3");
  CHECK(imio::imread(dir / "valid.png") == imio::imread(dir / "valid.npy"));
  for (const char* name : {"fctl0_starts_at_1", "fctl1_skips", "fctl1_repeats", "fdat1_skips", "fdat1_backwards",
                           "last_fdat_wrong", "actl_5_frames"}) {
    INFO(name);
    REQUIRE(verdict(dir, name) == "error");  // Pillow refuses it too
    const fs::path file = dir / (std::string(name) + ".png");
    const std::string what = imio_test::message_of<imio::DecodeError>([&] { imio::imread(file); });
    CHECK(imio_test::contains(what, "libpng"));
    CHECK(imio_test::contains(what, "APNG"));
    CHECK_THROWS_AS(imio::improps(file), imio::DecodeError);
    CHECK_THROWS_AS(imio::imread(file, {.index = 0}), imio::DecodeError);
  }
}

TEST_CASE("an invalid acTL (a second one, 0 or more than 2^31 frames) gives the default image and a warning") {
  if (!pillow_available()) {
    WARN("skipped: Python with Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakeApngs, log) == 0);
  INFO(log);
  for (const char* name : {"second_actl", "actl_0_frames", "actl_2147483649_frames"}) {
    INFO(name);
    REQUIRE(verdict(dir, name) == "1");  // Pillow: the default image only
    const fs::path file = dir / (std::string(name) + ".png");
    imio_test::WarningCapture warnings;
    const NDArray got = imio::imread(file);
    const NDArray want = imio::imread(dir / (std::string(name) + ".npy"));  // (1, 8, 8, 3)
    // Not an APNG any more: one image, (H, W, 3), pixels of the IDAT image.
    REQUIRE(got.shape() == imio::Shape{8, 8, 3});
    CHECK(std::memcmp(got.bytes(), want.bytes(), got.nbytes()) == 0);
    CHECK(imio::improps(file).shape == got.shape());
    CHECK(warnings.any_contains("invalid APNG"));
  }
  imio_test::WarningCapture warnings;
  imio::imread(dir / "actl_2147483649_frames.png");
  CHECK(warnings.any_contains("2147483649 frames"));
  CHECK_FALSE(warnings.any_contains("zero frames"));
}

TEST_CASE("a huge PNG chunk length from a non-seekable stream is not allocated ahead of the data") {
  // The signature, an IHDR, then a tEXt chunk whose length field says
  // 0x7ffffff0 bytes, followed by a few: 46 bytes of input in all.
  imio::Bytes data = imio_test::to_bytes(std::string("\x89PNG\r\n\x1a\n", 8));
  auto put32 = [&](std::uint32_t v) {
    for (int i = 3; i >= 0; --i) data.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
  };
  put32(13);
  const std::string ihdr = std::string("IHDR") + std::string("\0\0\0\x08\0\0\0\x08\x08\x02\0\0\0", 13);
  data.insert(data.end(), reinterpret_cast<const std::byte*>(ihdr.data()),
              reinterpret_cast<const std::byte*>(ihdr.data()) + ihdr.size());
  put32(0x4b6d29dcu);  // CRC of the IHDR above
  put32(0x7ffffff0u);
  const std::string text("tEXtkey\0value", 13);
  data.insert(data.end(), reinterpret_cast<const std::byte*>(text.data()),
              reinterpret_cast<const std::byte*>(text.data()) + text.size());
  const auto start = std::chrono::steady_clock::now();
  imio_test::NonSeekableStream in(data);
  CHECK_THROWS_AS(imio::imread(in, {.plugin = "libpng"}), imio::DecodeError);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < imio_test::time_bound(1.0));
  // Above Limits::max_bytes it is a LimitError, whatever the stream holds.
  imio_test::NonSeekableStream again(data);
  CHECK_THROWS_AS(imio::imread(again, {.plugin = "libpng", .limits = {.max_bytes = 1 << 20}}), imio::LimitError);
}
