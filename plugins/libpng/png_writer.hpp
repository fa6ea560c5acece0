// PNG and APNG writing (spec §5.1.6): arrays → libpng, several frames → APNG
// with acTL/fcTL/fdAT assembled here.
#pragma once

#include <imio/plugin.hpp>

#include <span>
#include <vector>

namespace imio::png {

/// What the write calls of one handle gave: imageio's pillow plugin collects
/// the frames of every call and encodes them when the handle closes (spec
/// §5.1.6 "Buffering"), one frame as a PNG, several as an APNG, the kwargs
/// of all calls merged with later calls winning.
class PendingPng {
 public:
  /// Validates the call completely (shapes, dtypes, `mode`, every kwarg)
  /// and keeps a copy of its frames. `list`: each array is one frame.
  /// Throws ArgumentError; nothing is kept then.
  void add(std::span<const NDArray> images, bool list, const Kwargs& kwargs, const Request& request);

  /// Encodes everything to request.sink() (nothing when no frame came).
  void flush(Request& request);

 private:
  struct Frame {
    Bytes pixels;
    std::size_t height = 0, width = 0;
    int channels = 1;
    DType dtype = DType::uint8;
    bool gray_palette = false;  ///< mode="P": the samples are indices into Pillow's gray ramp
  };
  std::vector<Frame> frames_;
  Kwargs merged_;
};

}  // namespace imio::png
