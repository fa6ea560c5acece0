// TIFFs of the real world that imio used to misread (issue #19): old-style
// JPEG, FillOrder 2, BitsPerSample listing more values than samples, sparse
// strips and tiles, and the corpus's smallest valid TIFF. Every file is made
// here with tifffile/tiffcp or read from ../shared/corpus, and every result
// is compared with tifffile or Pillow.
#include <imio/imio.hpp>

#include <chrono>
#include <cstdlib>
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
using imio_test::max_abs_diff;

bool oracle_available() { return imio_test::python_has("numpy, tifffile, PIL"); }

// Runs `script` (argv[1] = the folder); a test failure with its log otherwise.
void make_files(const imio_test::TempDir& dir, const std::string& script) {
  std::string log;
  const int rc = imio_test::run_python(dir, script, log);
  INFO(log);
  REQUIRE(rc == 0);
}

NDArray ref(const imio_test::TempDir& dir, const std::string& name) { return imio::imread(dir / name); }

}  // namespace

TEST_CASE("an old-style JPEG TIFF decodes to Pillow's RGB photo") {
  const fs::path liz = imio_test::corpus_file("tiff/image-tiff/libtiffpic/smallliz.tif");
  const fs::path zack = imio_test::corpus_file("tiff/image-tiff/libtiffpic/zackthecat.tif");
  if (liz.empty() || zack.empty() || !oracle_available()) {
    WARN("skipped: the corpus's old-style JPEG TIFFs or Python with Pillow are not available");
    return;
  }
  imio_test::TempDir dir;
  // Pillow decodes these through libtiff's RGBA interface. The no-SPP copy
  // renames SamplesPerPixel (277) to the unassigned tag 276 in place, so the
  // IFD stays sorted and only the tag is missing.
  make_files(dir, R"(
import sys, os, shutil, numpy, tifffile
from PIL import Image
d = sys.argv[1]
liz, zack = )" + std::string("'") + liz.string() + "', '" + zack.string() + R"('
numpy.save(os.path.join(d, 'liz.npy'), numpy.asarray(Image.open(liz).convert('RGB')))
numpy.save(os.path.join(d, 'zack.npy'), numpy.asarray(Image.open(zack).convert('RGB')))
data = bytearray(open(liz, 'rb').read())
with tifffile.TiffFile(liz) as t:
    tag = t.pages[0].tags['SamplesPerPixel']
    at = tag.offset
bo = '<' if data[:2] == b'II' else '>'
import struct
assert struct.unpack(bo + 'H', data[at:at + 2])[0] == 277
data[at:at + 2] = struct.pack(bo + 'H', 276)
open(os.path.join(d, 'liz_no_spp.tif'), 'wb').write(data)
)");
  // Both go through the same libtiff YCbCr→RGB conversion: exact is expected;
  // the stated tolerance allows one JPEG rounding step (IDCT/upsampling).
  constexpr double kJpegTolerance = 2;
  for (const auto& [file, npy] : {std::pair{liz, "liz.npy"}, std::pair{zack, "zack.npy"}}) {
    INFO(file.string());
    const NDArray got = imio::imread(file, {.plugin = "libtiff"});
    const NDArray want = ref(dir, npy);
    REQUIRE(got.shape() == want.shape());
    CHECK(max_abs_diff(got, want) <= kJpegTolerance);
    CHECK(imio::improps(file, {.plugin = "libtiff"}).shape == got.shape());
  }
  // Without SamplesPerPixel: still (H, W, 3), as libtiff and tifffile assume for OJPEG.
  const NDArray no_spp = imio::imread(dir / "liz_no_spp.tif", {.plugin = "libtiff"});
  REQUIRE(no_spp.shape() == imio::Shape{160, 160, 3});
  CHECK(max_abs_diff(no_spp, ref(dir, "liz.npy")) <= kJpegTolerance);
  CHECK(imio::improps(dir / "liz_no_spp.tif", {.plugin = "libtiff"}).shape == no_spp.shape());
}

TEST_CASE("FillOrder 2 on uncompressed 8- and 16-bit TIFFs reverses the bits of each byte") {
  if (!oracle_available() || std::system("command -v tiffcp >/dev/null 2>&1") != 0) {
    WARN("skipped: tiffcp (libtiff-tools) or Python with tifffile is not available");
    return;
  }
  imio_test::TempDir dir;
  make_files(dir, R"(
import sys, os, subprocess, numpy, tifffile
from PIL import Image
d = sys.argv[1]
p = lambda n: os.path.join(d, n)
rgb = (numpy.arange(37 * 29 * 3).reshape(37, 29, 3) * 7 % 256).astype(numpy.uint8)
gray16 = (numpy.arange(37 * 29).reshape(37, 29) * 997 % 65536).astype(numpy.uint16)
tifffile.imwrite(p('u8.tif'), rgb, photometric='rgb', rowsperstrip=8)
tifffile.imwrite(p('u16.tif'), gray16, rowsperstrip=8)
tifffile.imwrite(p('u16be.tif'), gray16, byteorder='>', rowsperstrip=8)
for n in ('u8', 'u16', 'u16be'):
    subprocess.run(['tiffcp', '-f', 'lsb2msb', p(n + '.tif'), p(n + '_lsb.tif')], check=True)
    # the independent readers agree with the array written
    want = tifffile.imread(p(n + '.tif'))
    assert (tifffile.imread(p(n + '_lsb.tif')) == want).all()
    assert (numpy.asarray(Image.open(p(n + '_lsb.tif'))) == want).all() or n != 'u8'
    numpy.save(p(n + '.npy'), want.astype(want.dtype.newbyteorder('=')))
)");
  for (const char* name : {"u8", "u16", "u16be"}) {
    INFO(name);
    const NDArray got = imio::imread(dir / (std::string(name) + "_lsb.tif"), {.plugin = "libtiff"});
    CHECK(got == ref(dir, std::string(name) + ".npy"));
  }
}

TEST_CASE("BitsPerSample with more values than SamplesPerPixel reads the first SamplesPerPixel") {
  if (!oracle_available()) {
    WARN("skipped: Python with tifffile and Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  // A hand-made RGB TIFF whose BitsPerSample lists 8,8,8,1 for three samples
  // (as some scanners write), and the same with SampleFormat 1,1,1,3.
  make_files(dir, R"(
import sys, os, struct, numpy, tifffile
from PIL import Image
d = sys.argv[1]
h, w = 5, 7
pix = (numpy.arange(h * w * 3).reshape(h, w, 3) * 11 % 256).astype(numpy.uint8)
def tiff(extra_format):
    base = 8
    tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 4, None), (259, 3, 1, 1), (262, 3, 1, 2),
            (273, 4, 1, None), (277, 3, 1, 3), (278, 3, 1, h), (279, 4, 1, h * w * 3)]
    if extra_format:
        tags.append((339, 3, 4, None))
    ifd_size = 2 + 12 * len(tags) + 4
    bps_at = base + ifd_size
    fmt_at = bps_at + 8
    pix_at = fmt_at + 8
    out = bytearray(b'II*\x00' + struct.pack('<I', base))
    out += struct.pack('<H', len(tags))
    for tag, typ, count, value in tags:
        if tag == 258: value = bps_at
        if tag == 339: value = fmt_at
        if tag == 273: value = pix_at
        if typ == 3 and count == 1:
            out += struct.pack('<HHIHH', tag, typ, count, value, 0)
        else:
            out += struct.pack('<HHII', tag, typ, count, value)
    out += struct.pack('<I', 0)
    out += struct.pack('<4H', 8, 8, 8, 1)
    out += struct.pack('<4H', 1, 1, 1, 3)
    out += pix.tobytes()
    return bytes(out)
for name, fmt in (('bps', False), ('bps_fmt', True)):
    open(os.path.join(d, name + '.tif'), 'wb').write(tiff(fmt))
    a = tifffile.imread(os.path.join(d, name + '.tif'))
    assert (a == pix).all()
    if not fmt:  # Pillow refuses the mixed SampleFormat list
        assert (numpy.asarray(Image.open(os.path.join(d, name + '.tif'))) == pix).all()
numpy.save(os.path.join(d, 'pix.npy'), pix)
)");
  for (const char* name : {"bps.tif", "bps_fmt.tif"}) {
    INFO(name);
    CHECK(imio::imread(dir / name, {.plugin = "libtiff"}) == ref(dir, "pix.npy"));
  }
  CHECK(imio::imread(dir / "bps.tif", {.plugin = "pillow"}) == ref(dir, "pix.npy"));
}

TEST_CASE("sparse strips and tiles (offset 0, byte count 0) read as zeros, as tifffile does") {
  if (!oracle_available()) {
    WARN("skipped: Python with tifffile is not available");
    return;
  }
  imio_test::TempDir dir;
  // GDAL's convention for blocks never written: offset 0 and byte count 0.
  make_files(dir, R"(
import sys, os, struct, numpy, tifffile
d = sys.argv[1]
p = lambda n: os.path.join(d, n)
a = (numpy.arange(40 * 48).reshape(40, 48) * 37 % 65536).astype(numpy.uint16)
tifffile.imwrite(p('raw_strips.tif'), a, rowsperstrip=8)
tifffile.imwrite(p('zip_strips.tif'), a, rowsperstrip=8, compression='zlib')
tifffile.imwrite(p('zip_tiles.tif'), a, tile=(16, 16), compression='zlib')
def sparsify(name, offsets_tag, counts_tag, which):
    data = bytearray(open(p(name), 'rb').read())
    with tifffile.TiffFile(p(name)) as t:
        tags = t.pages[0].tags
        off, cnt = tags[offsets_tag], tags[counts_tag]
        size = {3: 2, 4: 4, 16: 8}[off.dtype]
        code = {2: 'H', 4: 'I', 8: 'Q'}[size]
        for tag in (off, cnt):
            s = {3: 2, 4: 4, 16: 8}[tag.dtype]
            c = {2: 'H', 4: 'I', 8: 'Q'}[s]
            base = tag.valueoffset
            for i in which:
                data[base + i * s: base + (i + 1) * s] = struct.pack('<' + c, 0)
    out = 'sparse_' + name
    open(p(out), 'wb').write(data)
    want = tifffile.imread(p(out))
    assert (want == 0).any()
    numpy.save(p(out[:-4] + '.npy'), want)
sparsify('raw_strips.tif', 'StripOffsets', 'StripByteCounts', [1, 4])
sparsify('zip_strips.tif', 'StripOffsets', 'StripByteCounts', [0, 2])
sparsify('zip_tiles.tif', 'TileOffsets', 'TileByteCounts', [1, 5])
)");
  for (const char* name : {"sparse_raw_strips", "sparse_zip_strips", "sparse_zip_tiles"}) {
    INFO(name);
    const NDArray got = imio::imread(dir / (std::string(name) + ".tif"), {.plugin = "libtiff"});
    CHECK(got == ref(dir, std::string(name) + ".npy"));
  }
}

TEST_CASE("the corpus's smallest valid TIFF reads as tifffile reads it") {
  IMIO_CORPUS_OR_SKIP(file, "minimal/small/tiff.tif");
  if (!oracle_available()) {
    WARN("skipped: Python with tifffile is not available");
    return;
  }
  imio_test::TempDir dir;
  make_files(dir, R"(
import sys, os, numpy, tifffile
numpy.save(os.path.join(sys.argv[1], 'want.npy'), tifffile.imread(')" + file.string() + R"('))
)");
  // One 1-bit pixel, no StripByteCounts, its strip at offset 0: tifffile gives [[False]].
  const NDArray got = imio::imread(file);
  CHECK(got == ref(dir, "want.npy"));
  CHECK(imio::improps(file).shape == got.shape());
}

TEST_CASE("a tag count from a non-seekable stream is not allocated ahead of the data") {
  // 166 bytes whose IFD has a tag of ~8 GiB of values (issue #19): read from
  // a stream that cannot seek or tell its size, only the bytes that arrive
  // may be allocated.
  IMIO_CORPUS_OR_SKIP(file, "corrupt/image-tiff/divide_by_zero/id_000012_sig_06_src_000140_000054_op_splice_rep_2");
  const auto start = std::chrono::steady_clock::now();
  imio_test::NonSeekableStream in(imio_test::read_file(file));
  try {
    imio::improps(in, {.plugin = "libtiff"});
  } catch (const imio::Error&) {
    // a clear imio error is fine; what matters is the time and memory
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < imio_test::time_bound(1.0));
}
