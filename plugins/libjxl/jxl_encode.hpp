// The JPEG XL writer: the frames of every write call on one handle, checked
// before anything is written, encoded by libjxl into one file at close (one
// frame: a still image; several: an animation); or a JPEG file's bytes
// recompressed losslessly. The only write-side file that includes
// <jxl/encode.h>.
#pragma once

#include <imio/kwargs.hpp>
#include <imio/ndarray.hpp>
#include <imio/request.hpp>

#include <span>
#include <vector>

namespace imio::jxl {

/// cjxl's mapping of `-q` to a Butteraugli distance (libjxl 0.7's cjxl:
/// 100 → 0, i.e. lossless; 30 … 100 linear to 6.4 … 0.1; below 30 growing
/// exponentially).
double distance_from_quality(double quality);

/// The frames of every write call, encoded at flush().
class PendingJxl {
 public:
  /// Adds one call's images (`list`: the caller passed several) after
  /// checking them and the kwargs; throws ArgumentError before anything is
  /// kept.
  void add(std::span<const NDArray> images, bool list, const Kwargs& kwargs, const Request& request);
  /// Encodes everything into `request`'s sink.
  void flush(Request& request);

 private:
  std::vector<NDArray> frames_;
  Kwargs kwargs_;  ///< merged, later calls winning
  bool from_jpeg_ = false;
};

}  // namespace imio::jxl
