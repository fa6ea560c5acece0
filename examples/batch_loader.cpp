// A data loader's three ways to read many files (docs/many-files.md).
//
//   imio_batch_loader
//
// Makes a folder of 64 small PNGs (one of them damaged), then:
//  1. imread_many: all files on a thread pool, results in input order, the
//     damaged file reported at its index while the others are read;
//  2. stack=true with out=: every image decoded straight into its slot of
//     one batch the program allocated once and reuses for each batch;
//  3. imread_stream: one file at a time in order, at most 8 decoded ahead.
#include <imio/imio.hpp>
#include <imio/many.hpp>
#include <imio/registry.hpp>  // has_plugin

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>
#include <unistd.h>  // getpid

namespace fs = std::filesystem;

int main() {
  if (!imio::has_plugin("libpng")) {
    std::cout << "this build has no PNG plugin\nbatch_loader finished\n";
    return 0;
  }
  const fs::path dir = fs::temp_directory_path() / ("imio-batch-loader-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<imio::ImageResource> files;
  for (int i = 0; i < 64; ++i) {
    imio::NDArray img({32, 32, 3}, imio::DType::uint8);
    for (auto& v : img.values<std::uint8_t>()) v = static_cast<std::uint8_t>(i * 4);
    const fs::path p = dir / ("img" + std::to_string(i) + ".png");
    imio::imwrite(p, img);
    files.emplace_back(p);
  }
  std::ofstream(dir / "img13.png", std::ios::binary | std::ios::trunc) << "\x89PNG\r\n\x1a\n broken";

  // 1. Separate arrays, per-item errors.
  const imio::ManyResult all = imio::imread_many(files, {.threads = 4});
  std::size_t ok = 0;
  for (std::size_t i = 0; i < all.items.size(); ++i) {
    if (all.items[i].ok()) {
      ++ok;
    } else {
      std::cout << "item " << i << " failed: " << all.items[i].message << "\n";
    }
  }
  std::cout << ok << " of " << files.size() << " read\n";

  // 2. One batch, allocated once, filled in place batch after batch.
  imio::NDArray batch = imio::NDArray::uninitialized({16, 32, 32, 3}, imio::DType::uint8);
  for (std::size_t start = 0; start < files.size(); start += 16) {
    const std::span<const imio::ImageResource> chunk(files.data() + start, 16);
    const imio::ManyResult r = imio::imread_many(chunk, {.stack = true, .out = batch});
    std::cout << "batch at " << start << ": first pixel of slot 1 = " << int(batch.at<std::uint8_t>(1, 0, 0, 0))
              << (r.all_ok() ? "" : " (a damaged file: its slot is zero)") << "\n";
  }

  // 3. Streaming: bounded memory, input order.
  std::size_t streamed = 0;
  for (imio::ItemResult& item : imio::imread_stream(files, {.threads = 2, .prefetch = 8})) {
    if (item.ok()) streamed += item.image.nbytes();
  }
  std::cout << streamed << " bytes streamed\n";

  fs::remove_all(dir);
  std::cout << "batch_loader finished\n";
}
