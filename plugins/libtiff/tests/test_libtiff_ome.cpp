// OME-TIFF series from the first page's OME-XML, against tifffile: files
// tifffile writes (5-D, RGB contiguous and planar, several images, SubIFD
// pyramids) and hand-written OME-XML (another dimension order, TiffData
// placing pages out of order, a modulo annotation, a file UUID learnt from a
// TiffData and used by a later Image). Where the XML gives no
// series for this file (broken XML, BinaryOnly, planes in other files, a
// hostile document) the pages are generic series, as tifffile's own
// fallback, with a warning.
#include <imio/imio.hpp>

#include <chrono>
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

const char* const kWriteFiles = R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
rng = numpy.random.default_rng(11)
def path(name):
    return os.path.join(d, name)

tifffile.imwrite(path('tzcyx.ome.tif'), rng.integers(0, 65536, (2, 3, 4, 5, 6), dtype='uint16'),
                 ome=True, metadata={'axes': 'TZCYX'})
tifffile.imwrite(path('planar.ome.tif'), rng.integers(0, 256, (2, 3, 16, 12), dtype='uint8'), ome=True,
                 photometric='rgb', planarconfig='separate', metadata={'axes': 'ZSYX'})
with tifffile.TiffWriter(path('images.ome.tif'), ome=True) as t:
    t.write(rng.integers(0, 256, (3, 8, 9, 3), dtype='uint8'), photometric='rgb', metadata={'axes': 'ZYXS'})
    t.write(rng.random((2, 7, 5), dtype='float32'), metadata={'axes': 'CYX'})
    base = rng.integers(0, 256, (2, 64, 64), dtype='uint8')
    t.write(base, metadata={'axes': 'CYX'}, subifds=2, tile=(16, 16))
    t.write(base[:, ::2, ::2], subfiletype=1, tile=(16, 16))
    t.write(base[:, ::4, ::4], subfiletype=1, tile=(16, 16))

# Hand-written OME-XML: DimensionOrder XYZCT (C slowest but T), pages stored
# C-major but mapped plane by plane with FirstZ/FirstC, and a modulo
# annotation splitting T (6) into 2 x 3.
head = ('<?xml version="1.0" encoding="UTF-8"?><!-- written by a test -->'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:1234">')
planes = rng.integers(0, 256, (2 * 3, 10, 11), dtype='uint8')  # stored order: c0z0 c0z1 c0z2 c1z0 ...
tiffdata = ''.join('<TiffData IFD="%d" FirstZ="%d" FirstC="%d" PlaneCount="1"/>' % (c * 3 + z, z, c)
                   for c in range(2) for z in range(3))
xml = (head + '<Image ID="Image:0" Name="mapped"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" '
       'SizeX="11" SizeY="10" SizeZ="3" SizeC="2" SizeT="1">' + tiffdata + '</Pixels></Image></OME>')
with tifffile.TiffWriter(path('mapped.ome.tif')) as t:
    for k, p in enumerate(planes):
        t.write(p, description=xml if k == 0 else None, metadata=None)
modulo = ('<StructuredAnnotations><XMLAnnotation ID="Annotation:Modulo:0" '
          'Namespace="openmicroscopy.org/omero/dimension/modulo"><Value>'
          '<Modulo namespace="http://www.openmicroscopy.org/Schemas/Additions/2011-09">'
          '<ModuloAlongT Type="lifetime" Unit="ns" Start="0" End="2" Step="1"/></Modulo></Value>'
          '</XMLAnnotation></StructuredAnnotations>')
xml = (head + '<Image ID="Image:0"><AnnotationRef ID="Annotation:Modulo:0"/><Pixels ID="Pixels:0" '
       'DimensionOrder="XYZTC" Type="uint16" SizeX="4" SizeY="5" SizeZ="1" SizeC="1" SizeT="6">'
       '<TiffData IFD="0" PlaneCount="6"/></Pixels></Image>' + modulo + '</OME>')
# No UUID on the root: the first TiffData names this file and so gives its
# UUID, which the second Image's TiffData then uses without a FileName.
images = ''.join('<Image ID="Image:%d"><Pixels ID="Pixels:%d" DimensionOrder="XYZCT" Type="uint8" SizeX="5" '
                 'SizeY="4" SizeZ="2" SizeC="1" SizeT="1"><TiffData IFD="%d" PlaneCount="2"><UUID%s>urn:uuid:5678'
                 '</UUID></TiffData></Pixels></Image>' % (k, k, 2 * k, ' FileName="uuid.ome.tif"' if k == 0 else '')
                 for k in range(2))
uuid_xml = '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">' + images + '</OME>'
with tifffile.TiffWriter(path('uuid.ome.tif')) as t:
    for k, p in enumerate(rng.integers(0, 256, (4, 4, 5), dtype='uint8')):
        t.write(p, description=uuid_xml if k == 0 else None, metadata=None)
with tifffile.TiffWriter(path('modulo.ome.tif')) as t:
    for k, p in enumerate(rng.integers(0, 65536, (6, 5, 4), dtype='uint16')):
        t.write(p, description=xml if k == 0 else None, metadata=None)
)";

}  // namespace

TEST_CASE("libtiff: OME-TIFF series follow the OME-XML, as tifffile's", "[libtiff][ome]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(kWriteFiles) + std::string(imio_test::kSaveTifffileSeries) + R"(
for name in ('tzcyx', 'planar', 'images', 'mapped', 'modulo', 'uuid'):
    save_series(path(name + '.ome.tif'))
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  // tifffile's layouts first, so a change in its reading shows here.
  CHECK(imio::improps(dir / "tzcyx.ome.tif.0.0.npy").shape == Shape{2, 3, 4, 5, 6});
  CHECK(imio::improps(dir / "planar.ome.tif.0.0.npy").shape == Shape{2, 3, 16, 12});
  CHECK(imio::improps(dir / "mapped.ome.tif.0.0.npy").shape == Shape{2, 3, 10, 11});
  CHECK(imio::improps(dir / "modulo.ome.tif.0.0.npy").shape == Shape{2, 3, 5, 4});
  imio_test::WarningCapture warnings;
  for (const char* name : {"tzcyx", "planar", "mapped", "modulo"}) {
    CHECK(imio_test::check_series_like_tifffile(dir / (std::string(name) + ".ome.tif")) == std::vector<int>{1});
  }
  CHECK(imio_test::check_series_like_tifffile(dir / "images.ome.tif") == std::vector<int>{1, 1, 3});
  CHECK(imio_test::check_series_like_tifffile(dir / "uuid.ome.tif") == std::vector<int>{1, 1});
  CHECK(warnings.messages().empty());
  // OME series through bytes as well (no file name to match: these carry no UUIDs per plane).
  const imio::Bytes bytes = imio_test::read_file(dir / "tzcyx.ome.tif");
  CHECK(imio::imread(bytes, {.plugin = "libtiff"}) == imio::imread(dir / "tzcyx.ome.tif.0.0.npy"));
}

TEST_CASE("libtiff: OME-XML that gives no series here leaves generic series, as tifffile", "[libtiff][ome]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
def path(name):
    return os.path.join(d, name)
planes = numpy.arange(4 * 6 * 7, dtype='uint8').reshape(4, 6, 7)
def write(name, xml):
    with tifffile.TiffWriter(path(name)) as t:
        for k, p in enumerate(planes):
            t.write(p, description=xml if k == 0 else None, metadata=None)
pixels = ('<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" SizeX="7" SizeY="6" '
          'SizeZ="2" SizeC="2" SizeT="1">%s</Pixels></Image>')
ns = '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:aaaa">'
write('broken.ome.tif', ns + pixels % '<TiffData IFD="0" PlaneCount="4">' + '</OME>')
write('binaryonly.ome.tif', ns + '<BinaryOnly MetadataFile="x.companion.ome" UUID="urn:uuid:bbbb"/></OME>')
write('otherfile.ome.tif', ns + pixels % ('<TiffData IFD="0" PlaneCount="4"><UUID FileName="other.ome.tif">'
                                          'urn:uuid:cccc</UUID></TiffData>') + '</OME>')
write('deep.ome.tif', '<a>' * 100000 + '</a>' * 100000 + '<OME>')
# Sizes and counts no file holds (tifffile would build a list of 2e9 planes).
write('huge.ome.tif', ns + '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" '
      'SizeX="7" SizeY="6" SizeZ="1" SizeC="1" SizeT="2000000000"><TiffData IFD="0" FirstT="1999999999" '
      'PlaneCount="4000000000"/></Pixels></Image></OME>')
)") + std::string(imio_test::kSaveTifffileSeries) + R"(
for name in ('broken', 'binaryonly', 'deep'):
    save_series(path(name + '.ome.tif'))
with tifffile.TiffFile(path('otherfile.ome.tif'), _multifile=False) as tif:
    assert [s.kind for s in tif.series] == ['generic'], [s.kind for s in tif.series]
    numpy.save(path('otherfile.npy'), tif.series[0].asarray())
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  for (const char* name : {"broken", "binaryonly", "deep"}) {
    INFO(name);
    imio_test::WarningCapture warnings;
    const auto start = std::chrono::steady_clock::now();
    CHECK(imio_test::check_series_like_tifffile(dir / (std::string(name) + ".ome.tif")) == std::vector<int>{1});
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(imio::improps(dir / (std::string(name) + ".ome.tif")).shape == Shape{4, 6, 7});
    if (std::string(name) != "binaryonly") CHECK(warnings.any_contains("OME-XML"));
  }
  {
    imio_test::WarningCapture warnings;
    const auto start = std::chrono::steady_clock::now();
    CHECK(imio::improps(dir / "huge.ome.tif", {.plugin = "libtiff"}).shape == Shape{4, 6, 7});
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(warnings.any_contains("OME-XML"));
  }
  // Planes in another file: imageio's tifffile would open it; imio reads one
  // resource, so the file's own pages, grouped as tifffile does without it.
  imio_test::WarningCapture warnings;
  CHECK(imio::imread(dir / "otherfile.ome.tif", {.plugin = "libtiff"}) == imio::imread(dir / "otherfile.npy"));
  CHECK(warnings.any_contains("other files"));
}
