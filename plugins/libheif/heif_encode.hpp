// The HEIF writer: the images of every write call on one handle, checked
// before anything is written, encoded by libheif (x265 for HEIC, aom for
// AVIF) into one file at close. The only write-side file that includes
// <libheif/heif.h>.
#pragma once

#include <imio/kwargs.hpp>
#include <imio/ndarray.hpp>
#include <imio/request.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::heif {

enum class Codec { hevc, av1 };

/// What the write kwargs ask for (plugin.json's `write` method).
struct EncodeOptions {
  Codec codec = Codec::hevc;
  std::optional<int> quality;       ///< None: the encoder's default
  bool lossless = false;
  std::optional<std::string> chroma;  ///< "420", "422", "444"; None: 420 (444 when lossless)
  std::optional<int> bit_depth;     ///< 8, 10, 12; None: 8 for uint8, 10 for uint16
  std::optional<int> primary_index;
  std::optional<int> orientation;   ///< 1…8, written as irot/imir
  std::optional<Bytes> icc_profile, exif, xmp;
};

/// The images of every write call, encoded at flush().
class PendingHeif {
 public:
  /// Adds one call's images (`list`: the caller passed several) after
  /// checking them and the kwargs; throws ArgumentError before anything is
  /// kept.
  void add(std::span<const NDArray> images, bool list, const Kwargs& kwargs, const Request& request);
  /// Encodes everything into `request`'s sink.
  void flush(Request& request);

 private:
  std::vector<NDArray> images_;
  Kwargs kwargs_;  ///< merged, later calls winning
};

/// "x265 … / aom …", for the benchmark and the README.
std::string encoder_name(Codec codec);

}  // namespace imio::heif
