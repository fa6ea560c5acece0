// bench_dicom: a 500-frame 256 x 256 int16 DICOM file (uncompressed, and RLE
// when gdcmconv is on PATH), made by pydicom, read whole by imio and by
// pydicom (`dcmread(path).pixel_array`, timed by Python's perf_counter in a
// subprocess per turn), the methods taking turns; then imio's imiter.
//   bench_dicom [runs]
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string python() { return IMIO_BENCH_PYTHON; }

// pydicom's time for one read of `path` in ms (< 0: no python3 with pydicom).
double pydicom_ms(const fs::path& path) {
  if (python().empty()) return -1;
  const std::string cmd = "\"" + python() +
                          "\" -c \"import sys, time\nimport pydicom, numpy as np\n"
                          "t = time.perf_counter()\nd = np.ascontiguousarray(pydicom.dcmread(sys.argv[1]).pixel_array)\n"
                          "print((time.perf_counter() - t) * 1000)\" \"" +
                          path.string() + "\" 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  double ms = -1;
  if (std::fscanf(pipe, "%lf", &ms) != 1) ms = -1;
  return ::pclose(pipe) == 0 ? ms : -1;
}

bool make_files(const fs::path& dir) {
  const std::string script =
      "import sys, numpy as np\n"
      "from pydicom.dataset import FileDataset, FileMetaDataset\n"
      "from pydicom.uid import ExplicitVRLittleEndian, generate_uid\n"
      "meta = FileMetaDataset()\n"
      "meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7.3'\n"
      "meta.MediaStorageSOPInstanceUID = generate_uid()\n"
      "meta.TransferSyntaxUID = ExplicitVRLittleEndian\n"
      "ds = FileDataset(None, {}, file_meta=meta, preamble=b'\\0' * 128)\n"
      "ds.SOPClassUID = meta.MediaStorageSOPClassUID\n"
      "ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID\n"
      "yy, xx = np.mgrid[0:256, 0:256]\n"
      "a = np.stack([((yy * k + xx) % 4000 - 1000) for k in range(500)]).astype(np.int16)\n"
      "ds.NumberOfFrames = 500; ds.Rows = 256; ds.Columns = 256; ds.SamplesPerPixel = 1\n"
      "ds.PhotometricInterpretation = 'MONOCHROME2'; ds.BitsAllocated = 16; ds.BitsStored = 16\n"
      "ds.HighBit = 15; ds.PixelRepresentation = 1\n"
      "ds.is_little_endian = True; ds.is_implicit_VR = False\n"
      "ds.PixelData = a.tobytes()\n"
      "ds.save_as(sys.argv[1], write_like_original=False)\n";
  const fs::path py = dir / "make.py";
  std::FILE* f = std::fopen(py.c_str(), "w");
  if (f == nullptr) return false;
  std::fputs(script.c_str(), f);
  std::fclose(f);
  const std::string raw = (dir / "frames500.dcm").string();
  if (std::system(("\"" + python() + "\" \"" + py.string() + "\" \"" + raw + "\"").c_str()) != 0) return false;
  (void)std::system(("gdcmconv --quiet --rle \"" + raw + "\" \"" + (dir / "frames500_rle.dcm").string() + "\" 2>/dev/null").c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const fs::path dir = fs::temp_directory_path() / "imio_bench_dicom";
  fs::create_directories(dir);
  if (!make_files(dir)) {
    std::printf("bench_dicom: no python3 with pydicom and numpy to make the file\n");
    return 0;
  }
  std::printf("%-34s %10s %10s %8s\n", "file (500 x 256 x 256 int16)", "imio ms", "pydicom ms", "ratio");
  for (const auto& [label, name] : {std::pair{"explicit VR little endian", "frames500.dcm"},
                                    std::pair{"RLE lossless", "frames500_rle.dcm"}}) {
    const fs::path path = dir / name;
    if (!fs::exists(path)) continue;
    const auto best = imio_bench::turns_best_ms(
        runs, {{"imio", imio_bench::wall([&] { (void)imio::imread(path); })}, {"pydicom", [&] { return pydicom_ms(path); }}});
    if (best[1] < 0) {
      std::printf("%-34s %10.1f %10s\n", label, best[0], "(failed)");
    } else {
      std::printf("%-34s %10.1f %10.1f %7.1fx\n", label, best[0], best[1], best[1] / best[0]);
    }
    const auto it = imio_bench::turns_best_ms(runs, {{"imiter", imio_bench::wall([&] {
                                                        for (const imio::NDArray& f : imio::imiter(path)) (void)f;
                                                      })}});
    std::printf("%-34s %10.1f\n", (std::string(label) + ", imiter").c_str(), it[0]);
  }
  fs::remove_all(dir);
  return 0;
}
