// Pillow as the second reader of the libjpeg crop tests: Image.crop(box) of
// the same files, in one Python run.
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "crop_box.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace imio_test {

/// Pillow's `Image.open(file).crop(box).tobytes()` for every file and box:
/// result[i][k] for files[i] and boxes[k]. An empty result when Python
/// fails, its output in `log`.
inline std::vector<std::vector<imio::Bytes>> pillow_crops(const TempDir& dir, const std::vector<imio::Bytes>& files,
                                                          const std::vector<Box>& boxes, std::string& log) {
  std::string script = "import sys\nfrom PIL import Image\nd = sys.argv[1]\nboxes = " + python_boxes(boxes);
  script += "\nfor n in range(" + std::to_string(files.size()) +
            "):\n    im = Image.open('%s/s%d.jpg' % (d, n))\n    im.load()\n"
            "    for i, b in enumerate(boxes):\n        open('%s/s%d.%d' % (d, n, i), 'wb').write(im.crop(b).tobytes())\n";
  for (std::size_t i = 0; i < files.size(); ++i) write_file(dir / ("s" + std::to_string(i) + ".jpg"), files[i]);
  if (run_python(dir, script, log) != 0) return {};
  std::vector<std::vector<imio::Bytes>> out(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    for (std::size_t k = 0; k < boxes.size(); ++k) {
      out[i].push_back(read_file(dir / ("s" + std::to_string(i) + "." + std::to_string(k))));
    }
  }
  return out;
}

/// Checks `read(files[i], box)` against Pillow's crop of every file and box
/// (pillow_crops), byte for byte; `names[i]` labels the failures.
inline void check_pillow_crops(const TempDir& dir, const std::vector<std::string>& names,
                               const std::vector<imio::Bytes>& files, const std::vector<Box>& boxes,
                               const std::function<imio::NDArray(const imio::Bytes&, const Box&)>& read) {
  std::string log;
  const auto want = pillow_crops(dir, files, boxes, log);
  INFO(log);
  REQUIRE(want.size() == files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    for (std::size_t k = 0; k < boxes.size(); ++k) {
      INFO(names[i] << " crop " << box_text(boxes[k]));
      const imio::NDArray got = read(files[i], boxes[k]);
      REQUIRE(got.nbytes() == want[i][k].size());
      CHECK(std::memcmp(got.bytes(), want[i][k].data(), want[i][k].size()) == 0);
    }
  }
}

}  // namespace imio_test
