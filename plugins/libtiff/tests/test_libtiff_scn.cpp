// Leica SCN slides, against tifffile's SCN layout (_series_scn): the first
// page's XML names each image's pages by resolution, channel and focal
// plane. tifffile writes the pages and the XML as their description (it
// cannot write SCN otherwise); bright-field (RGB, three resolutions, a macro
// image without a name) and fluorescence (two channels per resolution,
// pages of a resolution interleaved) are compared series by series, level
// by level. XML that gives no series imio can read falls back to generic
// series with a warning.
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

const char* const kWriteScn = R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
rng = numpy.random.default_rng(9)
a = rng.integers(0, 256, (512, 384, 3), dtype='uint8')
f = rng.integers(0, 65536, (2, 128, 96), dtype='uint16')

def path(name):
    return os.path.join(d, name)

def scn(images):
    # images: [(name or None, [(r, c, z, ifd, (sizex, sizey)), ...], extra image attributes)]
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<scn xmlns="http://www.leica-microsystems.com/scn/2010/10/01">',
           '<collection name="test" uuid="urn:uuid:1" sizeX="1000" sizeY="1000"><barcode>123</barcode>']
    for name, dims, extra in images:
        out.append('<image%s%s><creationDate>2023-01-01</creationDate><pixels sizeX="%d" sizeY="%d">'
                   % ('' if name is None else ' name="%s"' % name, extra, dims[0][4][0], dims[0][4][1]))
        for r, c, z, ifd, (sx, sy) in dims:
            out.append('<dimension sizeX="%d" sizeY="%d" r="%d" c="%d" z="%d" ifd="%d"/>' % (sx, sy, r, c, z, ifd))
        out.append('</pixels></image>')
    out.append('</collection></scn>\n')
    return ''.join(out)

def write(name, pages, xml):
    with tifffile.TiffWriter(path(name)) as t:
        for k, (im, kw) in enumerate(pages):
            t.write(im, description=xml if k == 0 else None, metadata=None, **kw)

rgb = dict(photometric='rgb', tile=(64, 64))
BRIGHT = [(a, rgb), (a[::2, ::2], rgb), (a[::4, ::4], rgb), (a[:100, :300], dict(photometric='rgb'))]
bright = scn([('Slide 1', [(r, 0, 0, r, (384 >> r, 512 >> r)) for r in range(3)], ''),
              (None, [(0, 0, 0, 3, (300, 100))], '')])
write('bright.scn.tif', BRIGHT, bright)
gray = dict(photometric='minisblack')
FLUO = [(f[0], gray), (f[1], gray), (f[0, ::2, ::2], gray), (f[1, ::2, ::2], gray), (a[:100, :300], dict(photometric='rgb'))]
fluo = scn([('Fluo', [(0, 0, 0, 0, (96, 128)), (0, 1, 0, 1, (96, 128)), (1, 1, 0, 3, (48, 64)), (1, 0, 0, 2, (48, 64))], ''),
            ('Macro', [(0, 0, 0, 4, (300, 100))], '')])
write('fluo.scn.tif', FLUO, fluo)
)";

}  // namespace

TEST_CASE("libtiff: Leica SCN slides follow tifffile's SCN series, names and levels", "[libtiff][scn][level]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(kWriteScn) + std::string(imio_test::kSaveTifffileSeries) + R"(
for name in ('bright.scn.tif', 'fluo.scn.tif'):
    save_series(path(name))
with tifffile.TiffFile(path('fluo.scn.tif')) as tif:
    assert tif.series[0].kind == 'scn' and tif.series[0].axes == 'CYX', (tif.series[0].kind, tif.series[0].axes)
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  imio_test::WarningCapture warnings;
  // tifffile's layout pinned first, so the test fails if its grouping changes.
  CHECK(imio_test::check_series_like_tifffile(dir / "bright.scn.tif") == std::vector<int>{3, 1});
  CHECK(imio_test::check_series_like_tifffile(dir / "fluo.scn.tif") == std::vector<int>{2, 1});
  CHECK(warnings.messages() == std::vector<std::string>{});
  CHECK(imio_test::series_names(dir / "bright.scn.tif") == std::vector<std::string>{"scn:Slide 1", "scn:Unknown"});
  CHECK(imio_test::series_names(dir / "fluo.scn.tif") == std::vector<std::string>{"scn:Fluo", "scn:Macro"});
  CHECK(imio::improps(dir / "fluo.scn.tif", {.plugin = "libtiff", .kwargs = {{"level", 1}}}).shape == Shape{2, 64, 48});
  CHECK(imio::immeta(dir / "fluo.scn.tif", {.plugin = "libtiff"}).get<bool>("is_scn"));
}

TEST_CASE("libtiff: SCN XML that gives no series leaves generic series, with a warning", "[libtiff][scn]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(kWriteScn) + R"(
dims = [(r, 0, 0, r, (384 >> r, 512 >> r)) for r in range(3)]
write('pastend.scn.tif', BRIGHT, scn([('s', dims[:2] + [(2, 0, 0, 9, (96, 128))], '')]))
write('missing.scn.tif', FLUO, scn([('s', [(0, 0, 0, 0, (96, 128)), (0, 1, 0, 1, (96, 128)), (1, 1, 0, 3, (48, 64))], '')]))
write('zstack.scn.tif', BRIGHT, scn([('s', dims, ' sizeZ="2"')]))
write('noifd.scn.tif', BRIGHT, scn([('s', dims, '')]).replace('ifd="1"', ''))
write('badint.scn.tif', BRIGHT, scn([('s', dims, '')]).replace('r="1"', 'r="one"'))
write('broken.scn.tif', BRIGHT, bright.replace('</collection>', ''))
write('empty.scn.tif', BRIGHT, '<scn></scn>')
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  for (const char* name : {"pastend", "missing", "zstack", "noifd", "badint", "broken", "empty"}) {
    INFO(name);
    imio_test::WarningCapture warnings;
    const fs::path path = dir / (std::string(name) + ".scn.tif");
    // Generic series: the pages as tifffile groups them without the XML.
    const auto names = imio_test::series_names(path);
    REQUIRE_FALSE(names.empty());
    for (const std::string& n : names) CHECK(n == "generic:");
    CHECK(imio::imread(path, {.plugin = "libtiff"}).shape() == (std::string(name) == "missing" ? Shape{2, 128, 96} : Shape{512, 384, 3}));
    CHECK(warnings.any_contains("SCN"));
  }
}
