// WebP writing (spec §5.1.6 with Pillow's WebP keywords): the frames of
// every write call on one handle, encoded when the handle closes.
#pragma once

#include <imio/plugin.hpp>

#include <span>
#include <vector>

namespace imio::webp {

/// What the write calls of one handle gave: imageio's pillow plugin
/// collects the frames of every call and encodes them at close (spec §5.1.6
/// "Buffering"): one frame as a still WebP, several as an animation, the
/// kwargs of all calls merged with later calls winning.
class PendingWebP {
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
    int channels = 3;
    bool bilevel = false;
  };
  std::vector<Frame> frames_;
  Kwargs merged_;
};

}  // namespace imio::webp
