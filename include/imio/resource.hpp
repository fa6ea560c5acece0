// imio — ImageResource: "a thing that holds images", as the caller named it.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

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
  /// A filesystem path (std::filesystem::path), never interpreted as a URI.
  /// A template so that this header needs no \<filesystem\>: it accepts the
  /// types with std::filesystem::path's interface.
  template <class Path>
    requires requires(const Path& p) {
      typename Path::value_type;
      p.native();
      p.u8string();
      p.has_root_directory();
    }
  ImageResource(const Path& path) : ImageResource(PathText{native_text(path)}) {}
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
  /// The path as given (Kind::path), in the system's encoding (the
  /// std::filesystem::path's native() string; UTF-8 where that is not char).
  const std::string& path() const noexcept { return path_; }
  /// The encoded data (Kind::memory).
  std::span<const std::byte> memory() const noexcept { return memory_; }
  /// The caller's input stream (Kind::istream, Kind::iostream), else nullptr.
  std::istream* istream() const noexcept { return in_; }
  /// The caller's output stream (Kind::ostream, Kind::iostream), else nullptr.
  std::ostream* ostream() const noexcept { return out_; }

  /// The text used in messages: the path or URI as given, "<bytes>" for
  /// memory, "<stream>" for streams.
  std::string describe() const;

  /// Shares owned bytes with `other` (no copy of the data).
  ImageResource(const ImageResource& other);
  /// Takes `other`'s contents; `other` is left holding no data.
  ImageResource(ImageResource&& other) noexcept;
  /// Shares owned bytes with `other` (no copy of the data).
  ImageResource& operator=(const ImageResource& other);
  /// Takes `other`'s contents; `other` is left holding no data.
  ImageResource& operator=(ImageResource&& other) noexcept;
  ~ImageResource();

 private:
  struct PathText {
    std::string native;
  };
  explicit ImageResource(PathText path);
  template <class Path>
  static std::string native_text(const Path& path) {
    if constexpr (std::is_same_v<typename Path::value_type, char>) {
      return std::string(path.native());
    } else {
      const auto utf8 = path.u8string();
      return std::string(utf8.begin(), utf8.end());
    }
  }
  // Bytes&& moved in, shared by copies (reference-counted; resource.cpp).
  struct Owned;
  void release() noexcept;

  Kind kind_;
  std::string text_{};
  std::string path_{};
  std::span<const std::byte> memory_{};
  Owned* owned_ = nullptr;
  std::istream* in_ = nullptr;
  std::ostream* out_ = nullptr;
};

}  // namespace imio
