// One LibRaw processor over one resource's bytes: opening (identify),
// unpacking, development, the visible sensor data and the embedded
// thumbnail, with LibRaw's error codes and callbacks turned into imio
// errors (LibRaw never prints).
#pragma once

#include <imio/plugin.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "raw_options.hpp"

namespace imio::libraw {

/// The embedded preview as LibRaw stores it.
struct Thumbnail {
  enum class Format { jpeg, bitmap, bitmap16, other };
  Format format = Format::other;
  std::string format_name;  ///< "jpeg", "bitmap", "bitmap16", "layer", "rollei", "unknown"
  std::size_t width = 0, height = 0, colors = 0;
  std::span<const std::byte> data;  ///< valid while the session lives
};

class RawSession {
 public:
  /// Opens (identifies) `data`, which must outlive the session. Throws
  /// InitializationError when LibRaw does not recognise the data (unsupported
  /// format, I/O error on a truncated head: spec §5.4.1), DecodeError or
  /// LimitError otherwise.
  RawSession(std::span<const std::byte> data, const Limits& limits);
  ~RawSession();
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  /// The processor, for metadata (read-only use).
  const LibRaw& processor() const noexcept;
  /// IFD0, the Exif, GPS and interoperability IFDs as LibRaw read them while
  /// identifying, as one TIFF-structured EXIF block (ExifCollector); empty
  /// when it read none.
  Bytes exif_block() const;

  /// Reads (unpacks) the raw sensor data once, without developing them:
  /// DecodeError when the file does not hold them (truncated or stripped).
  void unpack(const Request& request);

  /// The developed image (rawpy's postprocess()); `(H, W, C)`.
  NDArray develop(const DevelopOptions& options, const Request& request);
  /// Shape and dtype develop() returns, from the header alone.
  Shape developed_shape(const DevelopOptions& options) const;

  /// The visible sensor data, uint16 `(H, W)` (Bayer or monochrome), or
  /// `(H, W, C)` for sensors that record whole pixels.
  NDArray raw_visible(const Request& request);
  Shape raw_shape() const;

  /// The embedded preview; DecodeError when there is none.
  Thumbnail thumbnail();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imio::libraw
