// imio — Request: one call's resource as a plugin factory receives it.
// For plugin authors (<imio/plugin.hpp> includes it).
#pragma once

#include <imio/byte_source.hpp>
#include <imio/export.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/resource.hpp>
#include <imio/row_target.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace imio {

namespace detail {
struct CoreAccess;
}  // namespace detail

/// One call's resource, resolved: what a plugin factory receives.
///
/// The Request opens the resource lazily, rewinds it between candidate
/// plugins, and for writes to a path collects the output in a temporary
/// sibling that is renamed over the target only when the write completes.
/// Only the core creates requests.
class IMIO_EXPORT Request {
 public:
  /// Takes over another request's state.
  Request(Request&&) noexcept;
  /// Takes over another request's state.
  Request& operator=(Request&&) noexcept;
  ~Request();

  /// The resource as the caller passed it.
  const ImageResource& resource() const noexcept;
  /// Whether this request reads or writes.
  IoMode mode() const noexcept;
  /// The extension, lower case with its dot (".png"): `extension=` when
  /// given, else derived from the file name or URL path; empty when unknown.
  const std::string& extension() const noexcept;
  /// The plugin the caller named (`plugin=`, canonical name or alias, as
  /// given); empty when the plugin is being chosen by extension or signature.
  const std::string& requested_plugin() const noexcept;
  /// The resource as messages name it (absolute path, URL, "<bytes>", "<stream>").
  const std::string& describe() const noexcept;
  /// The URL when the resource is an http(s) URL, else empty. The body is
  /// fetched (by libcurl, into memory or a temporary file) only when
  /// source() or first_bytes() is first called, so a plugin whose backend
  /// opens URLs itself (FFmpeg) can pass this to it and never download
  /// through imio. A plugin chosen by extension is offered such a request
  /// before any signature test reads the body (docs/resources.md).
  const std::string& url() const noexcept;

  /// The data to decode (read mode). Opened on first use.
  ByteSource& source();
  /// Up to `n` first bytes, without moving source()'s position.
  std::span<const std::byte> first_bytes(std::size_t n);
  /// Read mode: the file's path when the resource is a real local file
  /// (for backends that want a name). Write mode: a path the plugin may
  /// write to instead of sink() when the target is a local file (the
  /// temporary sibling that becomes the target on success).
  std::optional<std::filesystem::path> local_path();

  /// Where to write (write mode). Opened on first use.
  ByteSink& sink();

  /// The effective limits of this call (no zero fields).
  const Limits& limits() const noexcept;
  /// Throws LimitError when one image of width × height × planes exceeds max_pixels.
  void check_pixels(std::uint64_t width, std::uint64_t height, std::uint64_t planes = 1) const;
  /// Throws LimitError when `n` images exceed max_frames.
  void check_frames(std::uint64_t n) const;
  /// Throws LimitError when `n` bytes exceed max_bytes.
  void check_bytes(std::uint64_t n) const;
  /// The byte size of an array of `shape` and `dtype`, after checking it
  /// against max_bytes (overflow-safe: a product that overflows is a
  /// LimitError too). For plugins that place arrays in memory of their own
  /// (a batch buffer, a recycled frame) but must honour the limits as
  /// allocate() does.
  std::uint64_t check_array(const Shape& shape, DType dtype) const;
  /// An array for the decoder to fill, after check_array(). Its contents are
  /// unspecified unless `zeroed`.
  NDArray allocate(const Shape& shape, DType dtype, bool zeroed = false) const;
  /// The caller's row-padded memory, for a plugin that writes its result
  /// row by row: present only under read_into with a strided target whose
  /// axes after the first are C-contiguous and whose first-axis stride is at
  /// least one row (or negative), of exactly `shape` and `dtype`, not yet
  /// handed out (once per call, after check_array()). A contiguous target
  /// is allocate()'s, never this. Having filled every row, the plugin
  /// returns rows_written(); should it return another array instead, the
  /// core copies that array into the target.
  ///
  /// The rows lie wherever the caller's view puts them, on no particular
  /// alignment (unlike allocate()'s 64 bytes): ask for them only when the
  /// backend's pixels do not depend on the address they are written to
  /// (libjpeg-turbo and libwebp choose SIMD code by CPU, not by address).
  std::optional<RowTarget> row_target(const Shape& shape, DType dtype) const;
  /// The array a plugin returns after filling every row of row_target():
  /// a stand-in of the target's shape and dtype that the core recognises and
  /// does not copy. It is not a view of the rows: nothing may read through
  /// it. Error (a plugin defect) when `rows` is not this call's row target.
  NDArray rows_written(const RowTarget& rows) const;
  /// True while this call decodes into contiguous memory its caller gave
  /// (imread_into, ImageFile::read_into): allocate() of the result's shape
  /// returns that memory, and the caller asked for a decode that allocates
  /// nothing (false under a row-padded target: see row_target()). A
  /// plugin with a faster path that needs working memory in proportion to
  /// the image (a whole-buffer inflate) takes it only when this is false.
  bool fills_caller_memory() const noexcept;
  /// As allocate(), for an array the plugin fills piece by piece over a long
  /// decode, in order, perhaps not to its end (a video's frames as they
  /// decode, into a stack sized by a count the container may overstate).
  /// Fresh memory comes in 4 KiB pages, never as transparent huge pages
  /// (which a VM reporting free memory to its host faults in at several
  /// times the cost); prefault() maps each piece just before it is written.
  /// Under read_into it is the caller's memory, as with allocate().
  NDArray allocate_gradually(const Shape& shape, DType dtype) const;
  /// Maps the pages of `n` bytes at `data` for writing in one system call
  /// (Linux MADV_POPULATE_WRITE) instead of one page fault per 4 KiB page;
  /// a no-op where the system has no such call. For the piece of an
  /// allocate_gradually() array about to be written.
  static void prefault(std::byte* data, std::size_t n) noexcept;

 private:
  friend struct detail::CoreAccess;
  struct Impl;
  explicit Request(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imio
