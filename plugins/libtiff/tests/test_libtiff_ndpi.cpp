// Hamamatsu NDPI slides, against tifffile's NDPI layout (_series_ndpi):
// the generic series of kind `ndpi` with the pyramid named `Baseline` (or
// by its SlideLabel tag), the macro image and the map named `Macro` and
// `Map`. tifffile cannot write NDPI, so the test lays the files out itself:
// tifffile writes ordinary pages with the NDPI tags as extratags, and the
// IFDs are laid out again either as classic TIFF or as NDPI does (8-byte
// IFD offsets, each entry's high 32 bits after its IFD), which tifffile
// reads in its 64-bit NDPI mode when the name ends in `.ndpi`. tifffile
// without imagecodecs cannot decode JPEG: the JPEG pages' pixels come from
// Pillow decoding the page's one JPEG stream. Malformed tags, a file over
// 4 GiB, a JPEG page wider than 65535 pixels and CaptureMode 6 are checked
// too.
#include <imio/imio.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "oracle_compare.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"
#include "tiff_series_oracle.hpp"
#include "tiff_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Shape;
using imio_test::contains;
using imio_test::message_of;

imio::ReadOptions tiff(imio::Kwargs kwargs = {}, imio::Index index = {}) {
  return {.index = index, .plugin = "libtiff", .kwargs = std::move(kwargs)};
}

// Python: write(path, ndpi, pages, label=None, patch=None) lays out an NDPI
// slide; decode(tif, level) is save_series' decoder for JPEG pages.
const char* const kWriteNdpi = R"(
import sys, os, io, struct, numpy, tifffile
from PIL import Image
d = sys.argv[1]
rng = numpy.random.default_rng(5)
y, x = numpy.mgrid[0:512, 0:384]
a = numpy.stack([x * 255 // 383, y * 255 // 511, (x + y) % 256], -1)
a = (a + rng.integers(0, 16, a.shape)).clip(0, 255).astype('uint8')
b = a[::-1].copy()

def tags(mag, label=None):
    t = [(271, 's', 0, 'Hamamatsu', True), (65420, 'I', 1, 1, True)]
    if mag is not None:
        t.append((65421, 'f', 1, mag, True) if isinstance(mag, float) else (65421, 's', 0, mag, True))
    if label is not None:
        t.append((65427, 's', 0, label, True) if isinstance(label, str) else (65427, 'I', 1, label, True))
    return t

# (image, magnification, JPEG?): a pyramid (JPEG, JPEG, uncompressed, JPEG),
# the macro image and the map, in a scanner's order.
SLIDE = [(a, 20.0, True), (a[::2, ::2], 20.0, True), (a[::4, ::4], 20.0, False), (a[::8, ::8], 20.0, True),
         (a[:100, :300], -1.0, True), (a[:40, :50, 0], -2.0, False)]
# Two focal planes, each with its pyramid: a Z axis.
ZSTACK = [(a, 40.0, True), (a[::2, ::2], 40.0, True), (b, 40.0, True), (b[::2, ::2], 40.0, True),
          (a[:100, :300], -1.0, True)]

def write(path, ndpi, pages, label=None, patch=None):
    # tifffile writes the pages uncompressed, one strip each (it cannot write
    # JPEG without imagecodecs); relayout() points the JPEG pages at a JPEG
    # stream from Pillow, as NDPI stores its images.
    plain = path + '.plain'
    with tifffile.TiffWriter(plain) as t:
        for im, mag, jpeg in pages:
            t.write(im, photometric='rgb' if im.ndim == 3 else 'minisblack', rowsperstrip=im.shape[0],
                    metadata=None, extratags=tags(mag, label if isinstance(mag, float) and mag > 0 else None))
    streams = {}
    for k, (im, mag, jpeg) in enumerate(pages):
        if jpeg:
            out = io.BytesIO()
            Image.fromarray(im).save(out, 'JPEG', quality=90)
            streams[k] = out.getvalue()
    relayout(plain, path, ndpi, streams, patch)
    os.remove(plain)

def entry(tag, typ, count, value):
    return struct.pack('<HHI', tag, typ, count) + value.ljust(4, b'\0')

def relayout(src, dst, ndpi, streams, patch):
    # The pages' IFDs again at the end of the file: classic TIFF, or as NDPI
    # lays them out (an 8-byte first-IFD offset in the header, 8-byte
    # next-IFD offsets, each entry's high 32 bits after the IFD). Values and
    # pixels stay where tifffile wrote them; the old IFDs are dead bytes.
    data = bytearray(open(src, 'rb').read())
    ifds = []
    off = struct.unpack_from('<I', data, 4)[0]
    while off:
        n = struct.unpack_from('<H', data, off)[0]
        ifds.append([bytes(data[off + 2 + 12 * i: off + 14 + 12 * i]) for i in range(n)])
        off = struct.unpack_from('<I', data, off + 2 + 12 * n)[0]
    for k, stream in streams.items():
        if len(data) % 2: data += b'\0'
        at = len(data)
        data += stream
        new = {259: entry(259, 3, 1, struct.pack('<H', 7)), 262: entry(262, 3, 1, struct.pack('<H', 6)),
               273: entry(273, 4, 1, struct.pack('<I', at)), 279: entry(279, 4, 1, struct.pack('<I', len(stream)))}
        ifds[k] = [new.get(struct.unpack_from('<H', e)[0], e) for e in ifds[k]]
    if patch: ifds = [patch(k, ents) for k, ents in enumerate(ifds)]
    if len(data) % 2: data += b'\0'
    pos, p = [], len(data)
    for ents in ifds:
        pos.append(p)
        p += 2 + 12 * len(ents) + (8 + 4 * len(ents) if ndpi else 4)
    for k, ents in enumerate(ifds):
        nxt = pos[k + 1] if k + 1 < len(ifds) else 0
        data += struct.pack('<H', len(ents)) + b''.join(ents)
        data += struct.pack('<Q', nxt) + b'\0' * (4 * len(ents)) if ndpi else struct.pack('<I', nxt)
    if ndpi:
        data[4:12] = struct.pack('<Q', pos[0])
    else:
        data[4:8] = struct.pack('<I', pos[0])
    open(dst, 'wb').write(data)

def decode(tif, level):
    out = []
    for page in level.pages:
        if page.keyframe.compression == 7:
            tif.filehandle.seek(page.dataoffsets[0])
            out.append(numpy.asarray(Image.open(io.BytesIO(tif.filehandle.read(page.databytecounts[0])))))
        else:
            out.append(page.asarray())
    return numpy.stack(out).reshape(level.shape)

def path(name):
    return os.path.join(d, name)
)";

std::string run(const imio_test::TempDir& dir, const std::string& script) {
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(kWriteNdpi) + std::string(imio_test::kSaveTifffileSeries) + script, log);
  INFO(log);
  REQUIRE(rc == 0);
  return log;
}

}  // namespace

TEST_CASE("libtiff: NDPI slides follow tifffile's NDPI series, names and levels", "[libtiff][ndpi][level]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  run(dir, R"(
write(path('slide.ndpi'), True, SLIDE)
write(path('labelled.tif'), False, SLIDE, label='slide 7')
write(path('zstack.ndpi'), True, ZSTACK)
with open(path('slide.ndpi'), 'rb') as f:
    open(path('slide_ndpi.tif'), 'wb').write(f.read())
for name in ('slide.ndpi', 'labelled.tif', 'zstack.ndpi', 'slide_ndpi.tif'):
    save_series(path(name), decode)
with tifffile.TiffFile(path('slide.ndpi')) as tif:
    assert tif.tiff.is_ndpi  # tifffile's 64-bit NDPI mode: the oracle reads the layout as NDPI
with tifffile.TiffFile(path('zstack.ndpi')) as tif:
    assert tif.series[0].axes == 'ZYXS', tif.series[0].axes
)");
  imio_test::WarningCapture warnings;
  // tifffile's layout pinned first, so the test fails if its grouping changes.
  CHECK(imio_test::check_series_like_tifffile(dir / "slide.ndpi") == std::vector<int>{4, 1, 1});
  CHECK(imio_test::check_series_like_tifffile(dir / "labelled.tif") == std::vector<int>{4, 1, 1});
  CHECK(imio_test::check_series_like_tifffile(dir / "zstack.ndpi") == std::vector<int>{2, 1});
  // The NDPI layout read as classic TIFF (its high offset bits are zero) is the same file.
  CHECK(imio_test::check_series_like_tifffile(dir / "slide_ndpi.tif") == std::vector<int>{4, 1, 1});
  CHECK(warnings.messages() == std::vector<std::string>{});
  CHECK(imio_test::series_names(dir / "slide.ndpi") == std::vector<std::string>{"ndpi:Baseline", "ndpi:Macro", "ndpi:Map"});
  CHECK(imio_test::series_names(dir / "labelled.tif") == std::vector<std::string>{"ndpi:slide 7", "ndpi:Macro", "ndpi:Map"});
  CHECK(imio::improps(dir / "zstack.ndpi", tiff({{"level", 1}})).shape == Shape{2, 256, 192, 3});

  const imio::Metadata meta = imio::immeta(dir / "slide.ndpi", {.plugin = "libtiff"});
  CHECK(meta.get<bool>("is_ndpi"));
  CHECK_FALSE(meta.get<bool>("is_svs"));
  // From memory (no name, no extension): the same series.
  const imio::Bytes bytes = imio_test::read_file(dir / "slide.ndpi");
  CHECK(imio::imread(bytes, tiff({{"level", 3}})) == imio::imread(dir / "slide.ndpi.0.3.npy"));
  CHECK(imio::imread(bytes, tiff({}, 2)) == imio::imread(dir / "slide.ndpi.2.0.npy"));
  // A region of a JPEG level decodes only its strip, and equals the level sliced.
  const imio::NDArray level1 = imio::imread(dir / "slide.ndpi.0.1.npy");  // (256, 192, 3)
  const imio::NDArray box = imio::imread(dir / "slide.ndpi", tiff({{"level", 1}, {"crop", imio::Value{8, 16, 108, 66}}}));
  REQUIRE(box.shape() == Shape{50, 100, 3});
  bool same = true;
  for (std::size_t y = 0; y < 50; ++y) {
    same = same && std::equal(box.bytes() + y * 300, box.bytes() + (y + 1) * 300, level1.bytes() + ((16 + y) * 192 + 8) * 3);
  }
  CHECK(same);
}

TEST_CASE("libtiff: malformed NDPI tags name nothing, as tifffile; missing pages leave what is there", "[libtiff][ndpi]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  run(dir, R"(
# Magnification as text: no Macro name. Only a macro image and the map: no pyramid.
write(path('textmag.ndpi'), True, [(a, 20.0, True), (a[::2, ::2], 20.0, True), (a[:100, :300], '-1', True)])
write(path('nopyramid.ndpi'), True, SLIDE[4:])
# Make missing (only the NDPI FileFormat tag): not NDPI, generic series.
def no_make(k, ents):
    return [e for e in ents if struct.unpack_from('<H', e)[0] != 271]
write(path('nomake.ndpi'), True, SLIDE, patch=no_make)
for name in ('textmag.ndpi', 'nopyramid.ndpi', 'nomake.ndpi'):
    save_series(path(name), decode)
# The slide label as a number: tifffile names the series by the number itself.
write(path('numlabel.ndpi'), True, SLIDE, label=7)
with tifffile.TiffFile(path('numlabel.ndpi')) as tif:
    assert tif.series[0].name == 7, tif.series[0].name
)");
  imio_test::WarningCapture warnings;
  CHECK(imio_test::check_series_like_tifffile(dir / "textmag.ndpi") == std::vector<int>{2, 1});
  CHECK(imio_test::check_series_like_tifffile(dir / "nopyramid.ndpi") == std::vector<int>{1, 1});
  CHECK(imio_test::check_series_like_tifffile(dir / "nomake.ndpi") == std::vector<int>{4, 1, 1});
  CHECK(imio_test::series_names(dir / "textmag.ndpi") == std::vector<std::string>{"ndpi:Baseline", "ndpi:"});
  CHECK(imio_test::series_names(dir / "nopyramid.ndpi") == std::vector<std::string>{"ndpi:Macro", "ndpi:Map"});
  CHECK(imio_test::series_names(dir / "nomake.ndpi") == std::vector<std::string>{"generic:", "generic:", "generic:"});
  CHECK_FALSE(imio::immeta(dir / "nomake.ndpi", {.plugin = "libtiff"}).get<bool>("is_ndpi"));
  // A difference: a label that is no text names the pyramid `Baseline`.
  CHECK(imio_test::series_names(dir / "numlabel.ndpi") == std::vector<std::string>{"ndpi:Baseline", "ndpi:Macro", "ndpi:Map"});
  CHECK(warnings.messages() == std::vector<std::string>{});

  // Cut anywhere: a clear imio error or what the cut file holds, never a crash.
  const imio::Bytes whole = imio_test::read_file(dir / "textmag.ndpi");
  for (std::size_t keep = 0; keep < whole.size(); keep += whole.size() / 97 + 1) {
    const imio::Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep));
    INFO("first " << keep << " bytes");
    try {
      for (int k = 0; k < 2; ++k) (void)imio::imread(cut, tiff({{"level", k}}));
    } catch (const imio::Error&) {
    }
  }
}

TEST_CASE("libtiff: NDPI files over 4 GiB, JPEG pages over 65535 pixels and CaptureMode 6 are clear errors",
          "[libtiff][ndpi]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  run(dir, R"(
# A JPEG page whose width JPEG cannot state (NDPI decodes such pages by their McuStarts).
def wide(k, ents):
    return [entry(256, 4, 1, struct.pack('<I', 70000)) if k == 0 and struct.unpack_from('<H', e)[0] == 256 else e
            for e in ents]
write(path('wide.ndpi'), True, SLIDE, patch=wide)
write(path('big.ndpi'), True, SLIDE)
# CaptureMode 6 on the first page (its largest tag: appended in order).
def capture(k, ents):
    return ents + [entry(65441, 4, 1, struct.pack('<I', 6))] if k == 0 else ents
write(path('gray16.ndpi'), True, SLIDE, patch=capture)
)");
  // CaptureMode 6: the pyramid's JPEG pages hold 16-bit gray; the macro image reads.
  const fs::path gray16 = dir / "gray16.ndpi";
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(gray16, tiff({{"level", 2}})); }), "CaptureMode 6"));
  CHECK(imio::imread(gray16, tiff({}, 1)).shape() == Shape{100, 300, 3});
  const fs::path wide = dir / "wide.ndpi";
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(wide, tiff()); }), "65535"));
  CHECK(imio::improps(wide, tiff()).shape == Shape{512, 70000, 3});  // described, not decoded
  CHECK(imio::imread(wide, tiff({}, 1)).shape() == Shape{256, 192, 3});  // the other pages still read
  // Over 4 GiB (sparse: the tail is a hole): libtiff would follow the low
  // 32 bits of the 64-bit offsets.
  const fs::path big = dir / "big.ndpi";
  fs::resize_file(big, (std::uint64_t{1} << 32) + 4096);
  const std::string message = message_of<imio::DecodeError>([&] { imio::imread(big, tiff()); });
  CHECK(contains(message, "4 GiB"));
  CHECK(contains(message, "big.ndpi"));
  CHECK_THROWS_AS(imio::imread(big, tiff({}, 2)), imio::DecodeError);
  CHECK(imio::improps(big, tiff({{"level", 1}})).shape == Shape{256, 192, 3});
  CHECK(imio::immeta(big, {.plugin = "libtiff"}).get<bool>("is_ndpi"));
}
