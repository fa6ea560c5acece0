// The dicom plugin against pydicom (Debian python3-pydicom 2.3) and GDCM's
// command-line tools (libgdcm-tools): files pydicom writes, converted by
// gdcmconv into other transfer syntaxes, read as pydicom's pixel_array (for
// the syntaxes pydicom cannot decode here, JPEG lossless, JPEG-LS and JPEG
// 2000, as pydicom's pixel_array of what `gdcmconv --raw` makes of them).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "stderr_capture.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::read_file;
using imio_test::run_python;
using imio_test::StderrCapture;
using imio_test::to_string;
using imio_test::write_file;

bool oracle_available() {
  return imio_test::python_has("pydicom") && imio_test::python_has("numpy") &&
         std::system("gdcmconv --version >/dev/null 2>&1") == 0;
}

#define REQUIRE_ORACLE()                                                              \
  if (!oracle_available()) {                                                          \
    WARN("skipped: no pydicom in " << imio_test::python() << " or no gdcmconv");      \
    return;                                                                           \
  }

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool same_bytes(const NDArray& a, const Bytes& b) {
  return a.nbytes() == b.size() && std::memcmp(a.bytes(), b.data(), b.size()) == 0;
}

// The common part of the generator scripts: a pydicom data set around an
// array, saved; `expect` writes pydicom's pixel_array beside it.
constexpr std::string_view kPrelude = R"PY(
import os, sys, subprocess
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
out = sys.argv[1]
rng = np.random.default_rng(5)
lines = []

def base(arr, pi, rescale=None, frames=False, sop='1.2.840.10008.5.1.4.1.1.7', bits=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SOPClassUID = sop
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = 'Doe^Jane'
    ds.PatientID = 'imio-24'
    ds.Modality = 'OT'
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PixelSpacing = [0.5, 0.25]
    a = np.asarray(arr)
    shp = a.shape[1:] if frames else a.shape
    if frames:
        ds.NumberOfFrames = a.shape[0]
    ds.Rows, ds.Columns = shp[0], shp[1]
    ds.SamplesPerPixel = 3 if len(shp) == 3 else 1
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = pi
    ds.BitsAllocated = a.dtype.itemsize * 8
    ds.BitsStored = bits or a.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if a.dtype.kind == 'i' else 0
    if rescale:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.PixelData = np.ascontiguousarray(a).tobytes()
    return ds

def save(name, ds):
    path = os.path.join(out, name + '.dcm')
    ds.save_as(path, write_like_original=False)
    return path

def write_raw(name, a):
    a = np.ascontiguousarray(a)
    a = a.astype(a.dtype.newbyteorder('<'))
    open(os.path.join(out, name + '.raw'), 'wb').write(a.tobytes())
    lines.append(' '.join([name, a.dtype.name] + [str(s) for s in a.shape]))

def expect(name, path):
    write_raw(name, pydicom.dcmread(path).pixel_array)

def conv(src, name, *args):
    path = os.path.join(out, name + '.dcm')
    r = subprocess.run(['gdcmconv', '--quiet'] + list(args) + [src, path], capture_output=True)
    if r.returncode != 0:
        print('gdcmconv', ' '.join(args), src, 'failed')
        return None
    return path

def done():
    open(os.path.join(out, 'manifest.txt'), 'w').write('\n'.join(lines) + '\n')
)PY";

// Runs prelude + script; each manifest line: name, dtype, shape.
std::vector<std::vector<std::string>> generate(const imio_test::TempDir& dir, std::string_view script) {
  std::string log;
  const std::string all = std::string(kPrelude) + std::string(script) + "\ndone()\n";
  const int status = run_python(dir, all, log);
  INFO(log);
  REQUIRE(status == 0);
  std::ifstream manifest(dir / "manifest.txt");
  std::vector<std::vector<std::string>> out;
  for (std::string line; std::getline(manifest, line);) {
    auto w = words(line);
    if (w.size() >= 3) out.push_back(std::move(w));
  }
  return out;
}

Shape shape_of(const std::vector<std::string>& w) {
  Shape s;
  for (std::size_t i = 2; i < w.size(); ++i) s.push_back(std::stoull(w[i]));
  return s;
}

}  // namespace

TEST_CASE("dicom: seven transfer syntaxes read as pydicom's pixel_array", "[dicom][pydicom]") {
  REQUIRE_ORACLE();
  imio_test::TempDir dir;
  const auto cases = generate(dir, R"PY(
u8 = rng.integers(0, 256, size=(48, 40), dtype=np.uint8)
i16 = rng.integers(-2000, 3000, size=(5, 32, 24), dtype=np.int16)
u16 = rng.integers(0, 65536, size=(40, 36), dtype=np.uint16)
rgb = rng.integers(0, 256, size=(30, 20, 3), dtype=np.uint8)
rgbm = rng.integers(0, 256, size=(3, 16, 12, 3), dtype=np.uint8)
srcs = {
    'u8': save('u8', base(u8, 'MONOCHROME2')),
    'i16': save('i16', base(i16, 'MONOCHROME2', frames=True, sop='1.2.840.10008.5.1.4.1.1.7.3')),
    'u16': save('u16', base(u16, 'MONOCHROME2')),
    'rgb': save('rgb', base(rgb, 'RGB')),
    'rgbm': save('rgbm', base(rgbm, 'RGB', frames=True, sop='1.2.840.10008.5.1.4.1.1.7.4')),
}
for k, p in srcs.items():
    expect(k, p)
    expect(k + '_implicit', conv(p, k + '_implicit', '-M'))
    expect(k + '_deflated', conv(p, k + '_deflated', '--deflated'))
    expect(k + '_rle', conv(p, k + '_rle', '--rle'))
    for ts, flag in (('jpegll', '--jpeg'), ('jpegls', '--jpegls'), ('j2k', '--j2k')):
        c = conv(p, k + '_' + ts, flag)
        if c:
            expect(k + '_' + ts, conv(c, k + '_' + ts + '_raw', '--raw'))
)PY");
  // gdcmconv makes no JPEG 2000 of the 3-frame RGB: 34 of 35
  CHECK(cases.size() >= 30);
  std::set<std::string> syntaxes;
  for (const auto& w : cases) {
    INFO(w[0]);
    const fs::path path = dir / (w[0] + ".dcm");
    const Shape shape = shape_of(w);
    const DType dtype = imio::dtype_from_name(w[1]);
    const Bytes expected = read_file(dir / (w[0] + ".raw"));
    const NDArray a = imio::imread(path);
    CHECK(a.dtype() == dtype);
    CHECK(a.shape() == shape);
    CHECK(same_bytes(a, expected));
    const imio::ImageProperties props = imio::improps(path);
    CHECK(props.shape == shape);
    CHECK(props.dtype == dtype);
    CHECK(props.spacing == std::vector<double>{0.5, 0.25});
    syntaxes.insert(imio::immeta(path).get<std::string>("TransferSyntaxUID"));
    const bool multi = w[0].starts_with("i16") || w[0].starts_with("rgbm");
    if (multi) {
      // every frame by index and by imiter, equal to the stack
      const std::size_t n = shape[0];
      const std::size_t frame = a.nbytes() / n;
      std::size_t k = 0;
      for (const NDArray& f : imio::imiter(path)) {
        REQUIRE(k < n);
        CHECK(std::memcmp(f.bytes(), a.bytes() + k * frame, frame) == 0);
        ++k;
      }
      CHECK(k == n);
      const NDArray last = imio::imread(path, {.index = n - 1});
      CHECK(std::memcmp(last.bytes(), a.bytes() + (n - 1) * frame, frame) == 0);
      CHECK_THROWS_AS(imio::imread(path, {.index = n}), imio::IndexError);
    } else {
      CHECK(imio::imread(path, {.index = imio::all}).shape() == imio::with_batch_axis(shape));
      CHECK_THROWS_AS(imio::imread(path, {.index = 1}), imio::IndexError);
    }
    CHECK(imio::imread(read_file(path)) == a);  // from memory, no extension
  }
  // explicit and implicit little endian, deflate, RLE, JPEG lossless, JPEG-LS, JPEG 2000
  CHECK(syntaxes.size() == 7);
}

TEST_CASE("dicom: RLE Lossless frames equal pydicom's decode, padding ignored, short segments refused",
          "[dicom][pydicom][rle]") {
  REQUIRE_ORACLE();
  imio_test::TempDir dir;
  // Encoded by pydicom (not GDCM, which imio no longer decodes RLE with):
  // 6 segments of 16-bit RGB, 4 of 32-bit gray, replicate runs longer than
  // a run's 128 bytes, a segment with bytes past the frame (pydicom warns
  // and ignores them), a segment cut short (pydicom raises).
  const auto cases = generate(dir, R"PY(
import warnings
from pydicom.encaps import encapsulate
from pydicom.pixel_data_handlers.rle_handler import rle_encode_frame
from pydicom.uid import RLELossless
def rle(name, arr, pi, frames=False, tail=b'', cut=0):
    ds = base(arr, pi, frames=frames, sop='1.2.840.10008.5.1.4.1.1.7.3' if frames else '1.2.840.10008.5.1.4.1.1.7')
    encoded = [rle_encode_frame(f) for f in (arr if frames else arr[None])]
    encoded = [e[:len(e) - cut] + tail for e in encoded]
    ds.PixelData = encapsulate(encoded)
    ds['PixelData'].is_undefined_length = True
    ds['PixelData'].VR = 'OB'
    ds.file_meta.TransferSyntaxUID = RLELossless
    return save(name, ds)
rgb16 = rng.integers(0, 65536, size=(3, 17, 13, 3), dtype=np.uint16)
expect('rle_rgb16', rle('rle_rgb16', rgb16, 'RGB', frames=True))
u32 = rng.integers(0, 2**32, size=(9, 11), dtype=np.uint32)
expect('rle_u32', rle('rle_u32', u32, 'MONOCHROME2'))
runs = np.repeat(rng.integers(0, 256, size=12, dtype=np.uint8), 300)[:37 * 91].reshape(37, 91)
expect('rle_runs', rle('rle_runs', runs, 'MONOCHROME2'))
u8 = rng.integers(0, 256, size=(21, 19), dtype=np.uint8)
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    expect('rle_padded', rle('rle_padded', u8, 'MONOCHROME2', tail=b'\x01\xaa\xbb\x80'))
rle('rle_short', u8, 'MONOCHROME2', cut=2)
# 3 samples of 64 bits would need 24 segments; the header holds 15 offsets
ds = base(np.zeros((2, 2, 3), dtype=np.uint64), 'RGB')
ds.PixelData = encapsulate([(24).to_bytes(4, 'little') + (64).to_bytes(4, 'little') + bytes(62)])
ds['PixelData'].is_undefined_length = True
ds['PixelData'].VR = 'OB'
ds.file_meta.TransferSyntaxUID = RLELossless
save('rle_24_segments', ds)
try:
    pydicom.dcmread(os.path.join(out, 'rle_short.dcm')).pixel_array
    print('pydicom read the short segment')
    sys.exit(1)
except ValueError:
    pass
)PY");
  REQUIRE(cases.size() == 4);
  for (const auto& w : cases) {
    INFO(w[0]);
    const fs::path path = dir / (w[0] + ".dcm");
    const NDArray a = imio::imread(path);
    CHECK(a.dtype() == imio::dtype_from_name(w[1]));
    CHECK(a.shape() == shape_of(w));
    CHECK(same_bytes(a, read_file(dir / (w[0] + ".raw"))));
    CHECK(imio::immeta(path).get<std::string>("TransferSyntaxUID") == "1.2.840.10008.1.2.5");
  }
  const NDArray stack = imio::imread(dir / "rle_rgb16.dcm");
  std::size_t k = 0;
  for (const NDArray& f : imio::imiter(dir / "rle_rgb16.dcm")) {
    REQUIRE(k < 3);
    CHECK(std::memcmp(f.bytes(), stack.bytes() + k * f.nbytes(), f.nbytes()) == 0);
    ++k;
  }
  CHECK(k == 3);
  const std::string short_segment =
      imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(dir / "rle_short.dcm"); });
  CHECK(contains(short_segment, "damaged RLE frame 0: segment 0 decodes to"));
  CHECK(contains(short_segment, "of the 399 bytes"));
  CHECK(contains(short_segment, "rle_short.dcm"));
  CHECK(contains(short_segment, "dicom"));
  const std::string too_many =
      imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(dir / "rle_24_segments.dcm"); });
  CHECK(contains(too_many, "would need 24 segments; the format holds at most 15"));
}

TEST_CASE("dicom: rescale, MONOCHROME1, palette colour, YBR and lossy JPEG as pydicom", "[dicom][pydicom]") {
  REQUIRE_ORACLE();
  imio_test::TempDir dir;
  const auto cases = generate(dir, R"PY(
from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space, apply_modality_lut
# CT-like: 12 bits stored, slope 1, intercept -1024 (imageio: int16)
ct = rng.integers(0, 4096, size=(20, 24), dtype=np.uint16)
ds = base(ct, 'MONOCHROME2', rescale=(1, -1024), bits=12, sop='1.2.840.10008.5.1.4.1.1.2')
p = save('ct', ds)
write_raw('ct', apply_modality_lut(pydicom.dcmread(p).pixel_array, pydicom.dcmread(p)).astype(np.int16))
expect('ct_stored', p)
# fractional slope: float32
pet = rng.integers(0, 30000, size=(10, 12), dtype=np.int16)
p = save('frac', base(pet, 'MONOCHROME2', rescale=(0.25, 3.5)))
d = pydicom.dcmread(p)
write_raw('frac', apply_modality_lut(d.pixel_array, d).astype(np.float32))
# integer slope 2 on signed 16 bits: int32
p = save('slope2', base(pet, 'MONOCHROME2', rescale=(2, -5)))
d = pydicom.dcmread(p)
write_raw('slope2', apply_modality_lut(d.pixel_array, d).astype(np.int32))
# MONOCHROME1: stored values (inverted on request)
m1 = rng.integers(0, 256, size=(9, 11), dtype=np.uint8)
p = save('mono1', base(m1, 'MONOCHROME1'))
expect('mono1', p)
write_raw('mono1_inverted', 255 - pydicom.dcmread(p).pixel_array)
# PALETTE COLOR, 16-bit tables
idx = rng.integers(0, 256, size=(12, 14), dtype=np.uint8)
ds = base(idx, 'PALETTE COLOR')
for c, k in (('Red', 3), ('Green', 5), ('Blue', 7)):
    setattr(ds, c + 'PaletteColorLookupTableDescriptor', [256, 0, 16])
    lut = ((np.arange(256) * k * 37) % 65536).astype('<u2')
    setattr(ds, c + 'PaletteColorLookupTableData', lut.tobytes())
p = save('palette', ds)
d = pydicom.dcmread(p)
write_raw('palette', apply_color_lut(d.pixel_array, d))
expect('palette_indices', p)
# PALETTE COLOR, 8-bit tables (one byte per entry), first mapped value 10
ds = base(idx, 'PALETTE COLOR')
for c, k in (('Red', 3), ('Green', 5), ('Blue', 7)):
    setattr(ds, c + 'PaletteColorLookupTableDescriptor', [200, 10, 8])
    setattr(ds, c + 'PaletteColorLookupTableData', ((np.arange(200) * k) % 256).astype(np.uint8).tobytes())
p = save('palette8', ds)
d = pydicom.dcmread(p)
write_raw('palette8', apply_color_lut(d.pixel_array, d))
# PALETTE COLOR, segmented 16-bit tables: discrete, linear and indirect
# segments (PS3.3 C.7.9.2), and an alpha table (RGBA)
ds = base(idx, 'PALETTE COLOR')
segs = {'Red': [0, 3, 100, 200, 300, 1, 100, 60000, 1, 153, 0],
        'Green': [0, 1, 5000, 1, 255, 40000],
        'Blue': [0, 2, 7, 9, 1, 50, 1000, 2, 2, 0, 0, 1, 152, 65535],
        'Alpha': [0, 1, 65535, 1, 255, 0]}
for c, words in segs.items():
    setattr(ds, c + 'PaletteColorLookupTableDescriptor', [256, 0, 16])
    ds.add_new(pydicom.datadict.tag_for_keyword('Segmented' + c + 'PaletteColorLookupTableData'), 'OW',
               np.array(words, '<u2').tobytes())
p = save('palette_segmented', ds)
d = pydicom.dcmread(p)
write_raw('palette_segmented', apply_color_lut(d.pixel_array, d))
segs['Red'] = [7, 3, 1, 2, 3]  # an unknown segment type
for c, words in segs.items():
    ds['Segmented' + c + 'PaletteColorLookupTableData'].value = np.array(words, '<u2').tobytes()
save('palette_bad', ds)
# YBR_FULL, uncompressed: RGB
ybr = rng.integers(0, 256, size=(10, 8, 3), dtype=np.uint8)
p = save('ybr', base(ybr, 'YBR_FULL'))
write_raw('ybr', convert_color_space(pydicom.dcmread(p).pixel_array, 'YBR_FULL', 'RGB'))
# lossy JPEG baseline of RGB and gray, decoded by pydicom through Pillow
yy, xx = np.mgrid[0:64, 0:48]
smooth = np.stack([(yy * 3) % 256, (xx * 5) % 256, ((yy + xx) * 2) % 256], -1).astype(np.uint8)
c = conv(save('smooth', base(smooth, 'RGB')), 'jpeg_rgb', '--jpeg', '--lossy', '-q', '90')
expect('jpeg_rgb', c)
c = conv(save('smooth_gray', base(smooth[..., 0].copy(), 'MONOCHROME2')), 'jpeg_gray', '--jpeg', '--lossy', '-q', '90')
expect('jpeg_gray', c)
)PY");
  std::map<std::string, std::vector<std::string>> by_name;
  for (const auto& w : cases) by_name[w[0]] = w;
  REQUIRE(by_name.size() == 13);
  const auto expect = [&](const std::string& name, const std::string& file, const imio::Kwargs& kwargs = {}) {
    INFO(name);
    const auto& w = by_name.at(name);
    const fs::path path = dir / (file + ".dcm");
    const NDArray a = imio::imread(path, {.kwargs = kwargs});
    CHECK(a.dtype() == imio::dtype_from_name(w[1]));
    CHECK(a.shape() == shape_of(w));
    CHECK(same_bytes(a, read_file(dir / (name + ".raw"))));
    const imio::ImageProperties props = imio::improps(path, {.kwargs = kwargs});
    CHECK(props.shape == a.shape());
    CHECK(props.dtype == a.dtype());
  };
  expect("ct", "ct");
  expect("ct_stored", "ct", {{"rescale", false}});
  expect("frac", "frac");
  expect("slope2", "slope2");
  expect("mono1", "mono1");
  expect("mono1_inverted", "mono1", {{"invert_monochrome1", true}});
  expect("palette", "palette");
  expect("palette_indices", "palette", {{"apply_palette", false}});
  expect("palette8", "palette8");
  expect("palette_segmented", "palette_segmented");
  // damaged tables: the colours are refused, the indices still read
  const std::string bad = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(dir / "palette_bad.dcm"); });
  CHECK(contains(bad, "unknown segment type 7"));
  CHECK(contains(bad, "apply_palette=false"));
  CHECK(imio::imread(dir / "palette_bad.dcm", {.kwargs = {{"apply_palette", false}}}).shape() == imio::Shape{12, 14});
  expect("ybr", "ybr");
  // lossy JPEG: GDCM's libjpeg and Pillow's libjpeg-turbo may round the
  // inverse DCT differently; within 2 levels
  for (const std::string name : {"jpeg_rgb", "jpeg_gray"}) {
    INFO(name);
    const auto& w = by_name.at(name);
    const NDArray a = imio::imread(dir / (name + ".dcm"));
    REQUIRE(a.shape() == shape_of(w));
    REQUIRE(a.dtype() == DType::uint8);
    const Bytes b = read_file(dir / (name + ".raw"));
    int worst = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      worst = std::max(worst, std::abs(int(a.bytes()[i]) - int(b[i])));
    }
    CHECK(worst <= 2);
  }
}

TEST_CASE("dicom: data elements as metadata, spacing in improps", "[dicom][pydicom]") {
  REQUIRE_ORACLE();
  imio_test::TempDir dir;
  (void)generate(dir, R"PY(
ds = base(rng.integers(0, 256, size=(4, 6), dtype=np.uint8), 'MONOCHROME2')
ds.ImageType = ['ORIGINAL', 'PRIMARY']
ds.InstanceNumber = 7
ds.SliceThickness = '1.25'
ds.Rows = 4
item = Dataset()
item.CodeValue = 'T-A0100'
item.CodingSchemeDesignator = 'SRT'
item.CodeMeaning = 'Brain'
ds.AnatomicRegionSequence = Sequence([item])
block = ds.private_block(0x0029, 'IMIO TEST', create=True)
block.add_new(0x10, 'LO', 'private value')
# elements after the Pixel Data: imio reads uncompressed pixels from the
# file itself, and GDCM skips that value but must go on past it
after = ds.private_block(0x7FE1, 'IMIO AFTER', create=True)
after.add_new(0x01, 'LO', 'after the pixels')
save('meta', ds)
)PY");
  const fs::path path = dir / "meta.dcm";
  const imio::Metadata m = imio::immeta(path);
  CHECK(m.get<std::string>("PatientName") == "Doe^Jane");
  CHECK(m.get<std::string>("Modality") == "OT");
  CHECK(m.get<std::int64_t>("Rows") == 4);
  CHECK(m.get<std::int64_t>("InstanceNumber") == 7);
  CHECK(m.get<double>("SliceThickness") == 1.25);
  CHECK(m.at("PixelSpacing") == imio::Value(imio::Value::List{0.5, 0.25}));
  CHECK(m.at("ImageType") == imio::Value(imio::Value::List{"ORIGINAL", "PRIMARY"}));
  CHECK(m.get<std::string>("TransferSyntaxUID") == "1.2.840.10008.1.2.1");
  const auto seq = m.get<imio::Value::List>("AnatomicRegionSequence");
  REQUIRE(seq.size() == 1);
  CHECK(seq[0].get<imio::Dict>().get<std::string>("CodeMeaning") == "Brain");
  CHECK(m.get<std::string>("(0029,0010)") == "IMIO TEST");
  CHECK(m.get<std::string>("(0029,1010)") == "private value");
  CHECK(m.get<std::string>("(7FE1,0010)") == "IMIO AFTER");
  CHECK(m.get<std::string>("(7FE1,1001)") == "after the pixels");
  CHECK_FALSE(m.contains("PixelData"));
  CHECK(imio::improps(path).spacing == std::vector<double>{0.5, 0.25});
}

TEST_CASE("dicom: selection by extension, signature and imageio's name", "[dicom]") {
  REQUIRE_ORACLE();
  imio_test::TempDir dir;
  (void)generate(dir, R"PY(
save('sel', base(rng.integers(0, 256, size=(4, 6), dtype=np.uint8), 'MONOCHROME2'))
)PY");
  const Bytes data = read_file(dir / "sel.dcm");
  const NDArray a = imio::imread(dir / "sel.dcm");
  CHECK(imio::imread(data) == a);
  write_file(dir / "noext", data);
  CHECK(imio::imread(dir / "noext") == a);
  CHECK(imio::imread(data, {.plugin = "DICOM"}) == a);
  CHECK(imio::imread(data, {.plugin = "dicom", .kwargs = {{"progress", false}}}) == a);
  CHECK_THROWS_AS(imio::imwrite(dir / "out.dcm", a), imio::Error);
}

TEST_CASE("dicom: a file that ends after its file meta group is a DecodeError, not GDCM's assertion", "[dicom]") {
  // fuzz_dicom's find: GDCM 3.0 aborts reading the next tag at the end.
  const std::string meta("\x02\x00\x10\x00UI\x14\x00" "1.2.840.10008.1.2.1\x00", 28);
  const imio::Bytes data = imio_test::to_bytes(meta);
  CHECK_THROWS_AS(imio::imread(data, {.extension = ".dcm"}), imio::DecodeError);
  CHECK_THROWS_AS(imio::improps(data, {.extension = ".dcm"}), imio::DecodeError);
  CHECK_THROWS_AS(imio::imread(imio_test::to_bytes(std::string("\x02\x00\x00\x00PN\x01\x00\x00", 9)),
                               {.extension = ".dcm"}),
                  imio::Error);
}

TEST_CASE("dicom: damaged files are imio errors within a second, silently", "[dicom][pydicom]") {
  REQUIRE_ORACLE();
  imio_test::TempDir dir;
  (void)generate(dir, R"PY(
i16 = rng.integers(-2000, 3000, size=(4, 32, 24), dtype=np.int16)
p = save('multi', base(i16, 'MONOCHROME2', frames=True, sop='1.2.840.10008.5.1.4.1.1.7.3'))
for ts, flag in (('jpegll', '--jpeg'), ('jpegls', '--jpegls'), ('j2k', '--j2k'), ('rle', '--rle'), ('deflated', '--deflated')):
    conv(p, 'multi_' + ts, flag)
# no pixel data (a structured report-like object)
ds = base(np.zeros((2, 2), np.uint8), 'MONOCHROME2')
del ds.PixelData
save('nopixels', ds)
# an absurd frame count
ds = base(np.zeros((8, 8), np.uint8), 'MONOCHROME2', sop='1.2.840.10008.5.1.4.1.1.7.2')
ds.NumberOfFrames = 2000000000
save('frames', ds)
)PY");
  StderrCapture err(dir / "stderr.txt");
  const auto refused = [&](const Bytes& data, const std::string& what) {
    INFO(what);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(imio::imread(data, {.extension = ".dcm"}), imio::Error);
    CHECK_THROWS_AS(imio::imread(data, {.index = imio::all, .extension = ".dcm"}), imio::Error);
    CHECK_THROWS_AS(
        [&] {
          for (const NDArray& f : imio::imiter(data, {.extension = ".dcm"})) (void)f;
        }(),
        imio::Error);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(3.0));
  };
  const std::string no_pixels =
      imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(dir / "nopixels.dcm"); });
  CHECK(contains(no_pixels, "no Pixel Data"));
  CHECK(contains(no_pixels, "dicom"));
  CHECK(contains(no_pixels, "nopixels.dcm"));
  refused(read_file(dir / "frames.dcm"), "NumberOfFrames 2000000000");
  int cut_files = 0;
  std::vector<Bytes> codec_damage;
  std::vector<std::size_t> codec_damage_at;
  std::vector<std::string> codec_damage_name;
  for (const std::string name : {"multi", "multi_jpegll", "multi_jpegls", "multi_j2k", "multi_rle", "multi_deflated"}) {
    if (!fs::exists(dir / (name + ".dcm"))) continue;
    const Bytes file = read_file(dir / (name + ".dcm"));
    // cut anywhere after the preamble
    for (std::size_t n = 140; n < file.size(); n += std::max<std::size_t>(1, file.size() / 41)) {
      refused(Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n)),
              name + " cut to " + std::to_string(n) + " bytes");
    }
    ++cut_files;
    // lying lengths: every 4-byte field up to the Pixel Data set to
    // 0xFFFFFFF0 in turn: caught by the length walk, silently
    static constexpr unsigned char kPixelData[] = {0xE0, 0x7F, 0x10, 0x00};
    const auto pixels = std::search(file.begin(), file.end(), reinterpret_cast<const std::byte*>(kPixelData),
                                    reinterpret_cast<const std::byte*>(kPixelData) + 4);
    const auto pixel_at = static_cast<std::size_t>(pixels - file.begin());
    for (std::size_t at = 132; at + 4 <= pixel_at + 12 && at + 4 <= file.size(); at += 2) {
      Bytes bad = file;
      std::memset(bad.data() + at, 0xF0, 1);
      std::memset(bad.data() + at + 1, 0xFF, 3);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        (void)imio::imread(bad, {.index = imio::all, .extension = ".dcm"});
      } catch (const imio::Error&) {
      }
      CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
    }
    // damage inside the compressed frames: an error (or the codec's
    // reading of it), in time, never a crash, nothing on stderr (GDCM's
    // bundled libjpeg prints "Corrupt JPEG data" warnings unless silenced)
    codec_damage.push_back(file);
    codec_damage_at.push_back(pixel_at);
    codec_damage_name.push_back(name);
  }
  CHECK(err.text().empty());
  for (std::size_t i = 0; i < codec_damage.size(); ++i) {
    INFO(codec_damage_name[i]);
    const Bytes& file = codec_damage[i];
    StderrCapture quiet(dir / ("stderr_" + codec_damage_name[i] + ".txt"));
    for (std::size_t at = codec_damage_at[i] + 12; at + 4 <= file.size(); at += std::max<std::size_t>(2, file.size() / 200)) {
      Bytes bad = file;
      std::memset(bad.data() + at, 0xF0, 1);
      std::memset(bad.data() + at + 1, 0xFF, 3);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        (void)imio::imread(bad, {.index = imio::all, .extension = ".dcm"});
      } catch (const imio::Error&) {
      }
      CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
    }
    CHECK(quiet.text().empty());
  }
  CHECK(cut_files == 6);
}
