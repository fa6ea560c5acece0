// imio — ImageResource: "a thing that holds images", as the caller named it.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace imio {

/// What a call reads from or writes to. Mirrors imageio's ImageResource.
///
/// Implicitly constructible from
/// - a string (`const char*`, `std::string`, `std::string_view`): a path, or
///   `"<bytes>"` (write target: imwrite returns the encoded bytes),
///   `"imageio:NAME"` (a standard image), `http://` / `https://` URLs,
///   `file://` URIs, `~/…`, and `…/archive.zip/member`;
/// - `std::filesystem::path`: always a filesystem path (Unicode-safe);
/// - encoded data in memory (read only): `std::span<const std::byte>` and
///   `const Bytes&` are referenced, not copied — the memory must outlive
///   the call, the ImageFile or the FrameRange; `Bytes&&` is moved in and
///   owned;
/// - caller-owned streams: `std::istream&` (read) and `std::ostream&`
///   (write), `std::iostream&` (either). imio never closes them. Reads
///   start at the stream's position; afterwards a seekable stream is back
///   there, a non-seekable one has been consumed. A write leaves the stream
///   after the written data.
///
/// Cheap to copy (owned bytes are shared).
class IMIO_EXPORT ImageResource {
 public:
  /// Which constructor made the resource: `text` (a string — path, "<bytes>"
  /// or URI, interpreted when a call resolves it), `path`
  /// (std::filesystem::path), `memory` (encoded data), `istream`, `ostream`,
  /// `iostream` (a caller's stream).
  enum class Kind : std::uint8_t { text, path, memory, istream, ostream, iostream };

  /// A path or URI as text (nullptr reads as the empty string).
  ImageResource(const char* uri);
  /// A path or URI as text.
  ImageResource(std::string uri);
  /// A path or URI as text (copied).
  ImageResource(std::string_view uri);
  /// A filesystem path, never interpreted as a URI.
  ImageResource(const std::filesystem::path& path);
  /// Encoded data, referenced: the memory must outlive the call, ImageFile or FrameRange.
  ImageResource(std::span<const std::byte> data) noexcept;
  /// Encoded data, referenced (not copied): `data` must outlive the call,
  /// ImageFile or FrameRange.
  ImageResource(const Bytes& data) noexcept;
  /// Encoded data, moved in and owned (shared between copies of the resource).
  ImageResource(Bytes&& data);
  /// A caller's input stream, read from its current position; never closed.
  ImageResource(std::istream& in) noexcept;
  /// A caller's output stream, written at its current position; never closed.
  ImageResource(std::ostream& out) noexcept;
  /// A stream that can do both (std::stringstream, std::fstream): read as an
  /// istream by reads, written as an ostream by writes.
  ImageResource(std::iostream& io) noexcept;

  /// Which constructor made the resource.
  Kind kind() const noexcept { return kind_; }
  /// The string as given (Kind::text).
  const std::string& text() const noexcept { return text_; }
  /// The path as given (Kind::path).
  const std::filesystem::path& path() const noexcept { return path_; }
  /// The encoded data (Kind::memory).
  std::span<const std::byte> memory() const noexcept { return memory_; }
  /// The caller's input stream (Kind::istream, Kind::iostream), else nullptr.
  std::istream* istream() const noexcept { return in_; }
  /// The caller's output stream (Kind::ostream, Kind::iostream), else nullptr.
  std::ostream* ostream() const noexcept { return out_; }

  /// The text used in messages: the path or URI as given, "<bytes>" for
  /// memory, "<stream>" for streams.
  std::string describe() const;

 private:
  Kind kind_;
  std::string text_{};
  std::filesystem::path path_{};
  std::span<const std::byte> memory_{};
  std::shared_ptr<const Bytes> owned_{};
  std::istream* in_ = nullptr;
  std::ostream* out_ = nullptr;
};

/// Progress of a download: the bytes received so far and the expected total
/// (0 while unknown). It may throw to cancel the download: the exception
/// propagates and nothing is left in the cache.
using DownloadProgress = std::function<void(std::uint64_t received, std::uint64_t total)>;

/// Installs the process-wide progress callback of the standard-image
/// downloads that reading `"imageio:NAME"` starts (none by default: imio
/// never prints). Returns the previous one. Thread-safe.
IMIO_EXPORT DownloadProgress set_download_progress_handler(DownloadProgress handler);

/// The local file of imageio's standard image `name` (`"chelsea.png"`,
/// case-insensitive), downloaded first into imio's cache folder when no
/// folder holds it (see docs/resources.md: IMIO_STANDARD_IMAGES_URL,
/// IMIO_NO_INTERNET). `progress`, else the process-wide handler, follows
/// the download. ArgumentError for an unknown name; FileNotFoundError when
/// the file is missing and downloads are disabled or not built in; IOError
/// when the download fails.
IMIO_EXPORT std::filesystem::path standard_image_path(std::string_view name, const DownloadProgress& progress = {});

}  // namespace imio
