// imio — ImageProperties: what improps() returns.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <vector>

namespace imio {

/// Standardized properties of an ndimage, known without decoding pixels.
/// Mirrors imageio's `ImageProperties`. imio's contract (DECISIONS D11):
/// improps(uri, opts) always equals the shape and dtype of imread(uri, opts).
struct ImageProperties {
  /// Shape of the array the corresponding read returns.
  Shape shape{};
  /// Element type of the array the corresponding read returns.
  DType dtype = DType::uint8;
  /// Number of ndimages; set when the result is a stack (index imio::all,
  /// or a plugin default that reads every frame, as for GIF and APNG).
  std::optional<std::size_t> n_images{};
  /// True when the first axis of `shape` is a batch axis made by stacking.
  bool is_batch = false;
  /// Pixel spacing per axis, where the format states it.
  std::optional<std::vector<double>> spacing{};

  /// Member-wise equality.
  bool operator==(const ImageProperties&) const = default;
};

/// One line, as imageio prints its ImageProperties:
/// `ImageProperties(shape=(300, 451, 3), dtype=uint8, n_images=None, is_batch=False, spacing=None)`.
IMIO_EXPORT std::ostream& operator<<(std::ostream& out, const ImageProperties& props);

}  // namespace imio
