// Memory and streams: images that never touch a file.
//
//   imio_memory_and_streams
//
// imwrite to "<bytes>" returns the encoded file as imio::Bytes; imread takes
// those bytes back (as Bytes or as a std::span over someone else's buffer),
// and reads from a std::istream or writes to a std::ostream. Without a
// file name, the format comes from the `extension` option (when writing)
// or from the data's signature (when reading).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>  // imio::plugins(): which formats this build has

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>
#include <string>

// The first of PNG and NumPy .npy that this build can write.
std::optional<std::string> pick_extension() {
  for (const std::string ext : {".png", ".npy"}) {
    for (const imio::PluginInfo& p : imio::plugins()) {
      if (p.can_write && std::find(p.extensions.begin(), p.extensions.end(), ext) != p.extensions.end()) return ext;
    }
  }
  return std::nullopt;
}

int main() {
  const std::optional<std::string> ext = pick_extension();
  if (!ext) {
    std::cout << "this build writes neither .png nor .npy\nmemory_and_streams finished (skipped)\n";
    return 0;
  }
  // A (32, 48) uint8 checkerboard of 8-pixel squares.
  imio::NDArray board({32, 48}, imio::DType::uint8);
  for (std::size_t y = 0; y < 32; ++y) {
    for (std::size_t x = 0; x < 48; ++x) board.at<std::uint8_t>(y, x) = ((y / 8 + x / 8) % 2) ? 255 : 0;
  }

  // 1. Encode to memory: "<bytes>" returns the file's bytes.
  const imio::Bytes encoded = *imio::imwrite("<bytes>", board, {.extension = *ext});
  std::cout << "imwrite(\"<bytes>\", {.extension = \"" << *ext << "\"}): " << encoded.size() << " bytes\n";

  // 2. Decode from memory: Bytes, or a span (no copy of the caller's buffer).
  const imio::NDArray from_bytes = imio::imread(encoded);
  const std::span<const std::byte> view(encoded.data(), encoded.size());
  const imio::NDArray from_span = imio::imread(view);
  std::cout << "imread(Bytes) " << (from_bytes == board ? "==" : "!=") << " original, imread(span) "
            << (from_span == board ? "==" : "!=") << " original\n";

  // 3. Streams: anything that is a std::istream / std::ostream (files, sockets, …).
  std::ostringstream out(std::ios::binary);
  imio::imwrite(out, board, {.extension = *ext});  // the stream holds the encoded file now
  std::cout << "imwrite(std::ostringstream): " << out.str().size() << " bytes\n";
  std::istringstream in(out.str(), std::ios::binary);
  const imio::NDArray from_stream = imio::imread(in);  // format found by its signature
  const imio::ImageProperties p = imio::improps(encoded);
  std::cout << "imread(std::istringstream) " << (from_stream == board ? "==" : "!=") << " original; improps of the"
            << " bytes: (" << p.shape[0] << ", " << p.shape[1] << ") " << imio::name(p.dtype) << "\n";

  const bool ok = from_bytes == board && from_span == board && from_stream == board;
  std::cout << (ok ? "memory_and_streams finished\n" : "round trip failed\n");
  return ok ? 0 : 1;
}
