// imio — the plugin contract: everything a format backend needs from the
// core, and nothing an application needs. Application code includes
// <imio/imio.hpp>; plugin authors add this header.
#pragma once

#include <imio/export.hpp>
#include <imio/image_file.hpp>
#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/properties.hpp>
#include <imio/resource.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imio {

// ---------------------------------------------------------------- bytes in and out

/// Random-access reader over the encoded data of a resource.
///
/// Position 0 is the first byte of the resource (for a caller's istream: the
/// position it had when the call began). Every source is seekable: data of
/// non-seekable streams are buffered as they are read.
class IMIO_EXPORT ByteSource {
 public:
  virtual ~ByteSource();
  /// Reads up to `n` bytes at the current position; fewer only at the end.
  /// Throws IOError on an operating-system failure.
  virtual std::size_t read(void* dst, std::size_t n) = 0;
  /// Moves to absolute position `pos` (beyond the end is allowed; reads then return 0).
  virtual void seek(std::uint64_t pos) = 0;
  /// The current absolute position.
  virtual std::uint64_t tell() const = 0;
  /// Total size when known without reading everything.
  virtual std::optional<std::uint64_t> size() const = 0;
  /// The whole data as one view when already in memory or memory-mapped.
  virtual std::optional<std::span<const std::byte>> contiguous() const { return std::nullopt; }

  /// Reads exactly `n` bytes or throws DecodeError ("unexpected end of data").
  void read_exact(void* dst, std::size_t n);
  /// Reads everything from the current position to the end (bounded by max_bytes).
  Bytes read_all(std::uint64_t max_bytes);
};

/// Sequential writer with seek, over the target of a write request.
class IMIO_EXPORT ByteSink {
 public:
  virtual ~ByteSink();
  /// Writes all `n` bytes or throws IOError (disk full, stream failure).
  virtual void write(const void* src, std::size_t n) = 0;
  /// Moves to absolute position `pos`; IOError when the target cannot seek.
  virtual void seek(std::uint64_t pos) = 0;
  /// The current absolute position (bytes from the start of the output).
  virtual std::uint64_t tell() const = 0;
};

// ---------------------------------------------------------------- the request


/// One call's resource, resolved: what a plugin factory receives.
///
/// The Request opens the resource lazily, rewinds it between candidate
/// plugins, and for writes to a path collects the output in a temporary
/// sibling that is renamed over the target only when the write completes.
class IMIO_EXPORT Request {
 public:
  struct Impl;
  /// For the core: wraps the resolved state of one call. Plugins never
  /// construct a Request; they receive one in PluginSpec::factory.
  explicit Request(std::unique_ptr<Impl> impl) noexcept;
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
  /// A writer may accept a target without extension when it was named.
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

  /// For the core: the internal state (its type is private to the library).
  Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------- kwargs

/// Takes typed kwargs by name and, at finish(), rejects whatever was not
/// taken with an ArgumentError naming the plugin, the method, the offending
/// keys and the accepted ones (DECISIONS D10). A key given twice is an
/// ArgumentError at construction.
///
///   KwargReader kw(kwargs, "libpng", "read");
///   auto mode   = kw.take<std::string>("mode");          // std::optional
///   bool rotate = kw.take<bool>("rotate", false);         // with a default
///   kw.finish();
class IMIO_EXPORT KwargReader {
 public:
  /// Starts reading `kwargs` for `plugin`'s `method` (both named in error
  /// messages). `kwargs` must outlive the reader. ArgumentError when a key is
  /// given twice.
  KwargReader(const Kwargs& kwargs, std::string_view plugin, std::string_view method);

  /// The value of `key` as T (bool, integers, double, std::string, Bytes,
  /// Value::List, Dict or Value), or nullopt when absent; a value of another
  /// type (or none) is an ArgumentError naming the key and both types.
  template <class T>
  std::optional<T> take(std::string_view key) {
    const Value* v = find(key);
    if (v == nullptr) return std::nullopt;
    try {
      return v->template get<T>();
    } catch (const ArgumentError& e) {
      throw_bad_type(key, e.reason());
    }
  }
  /// The value of `key` as T, or `fallback` when absent; a value of another
  /// type is an ArgumentError, as for take(key).
  template <class T>
  T take(std::string_view key, T fallback) {
    auto v = take<T>(key);
    return v ? std::move(*v) : std::move(fallback);
  }
  /// Marks `key` as accepted and returns its raw value, or nullptr.
  const Value* find(std::string_view key);
  /// An ArgumentError naming plugin, method and key, with `reason`.
  [[noreturn]] void fail(std::string_view key, std::string_view reason) const;
  /// Throws ArgumentError when a kwarg was not taken.
  void finish() const;

 private:
  [[noreturn]] void throw_bad_type(std::string_view key, std::string_view reason) const;
  const Kwargs& kwargs_;
  std::string plugin_, method_;
  std::vector<std::string> accepted_;
  std::vector<bool> taken_;
};

// ---------------------------------------------------------------- plugins

/// Yields the ndimages of a resource one at a time (Plugin::iter).
class IMIO_EXPORT FrameSource {
 public:
  virtual ~FrameSource();
  /// The next ndimage, or nullopt at the end.
  virtual std::optional<NDArray> next() = 0;
};

/// One open resource served by one backend. The core calls one method at a
/// time, and never after close(). The Request the factory received outlives
/// the plugin.
///
/// `index` reaching a plugin is never negative (the core rejects those).
/// Errors thrown with a reason only get the plugin, operation and resource
/// added by the core.
class IMIO_EXPORT Plugin {
 public:
  virtual ~Plugin();
  /// One ndimage, or all stacked for imio::all; `index` none = the plugin's default.
  virtual NDArray read(const Index& index, const Kwargs& kwargs) = 0;
  /// The ndimages in file order.
  virtual std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) = 0;
  /// Properties of what read(index, kwargs) would return, without decoding pixels.
  virtual ImageProperties properties(const Index& index, const Kwargs& kwargs) = 0;
  /// Format-specific metadata of the image(s) at `index` (none = the
  /// plugin's default). With `exclude_applied`, entries the read applies to
  /// the pixels (e.g. Orientation when the read rotates) are left out
  /// (DECISIONS D17).
  virtual Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) = 0;
  /// Writes one ndimage (a batch axis is the plugin's business). The default
  /// throws IOError: read-only plugin.
  virtual void write(const NDArray& image, const Kwargs& kwargs);
  /// Writes a list of ndimages. The default throws IOError: read-only plugin.
  virtual void write(std::span<const NDArray> images, const Kwargs& kwargs);
  /// Flushes and releases the backend. Called once, before the core
  /// completes the write (so errors thrown here abort the write).
  virtual void close() {}
};

/// Where a plugin stands in one extension's candidate list: lower priority
/// is tried first. Built-in plugins take their places from imio's extension
/// table (priority 10, 20, 30, … in table order).
struct ExtensionPriority {
  std::string extension;  ///< lower case, with the dot
  int priority = 100;     ///< lower is tried first; the default, 100, comes after every built-in plugin
};

/// A plugin's descriptor.
struct PluginSpec {
  /// Canonical name: "libpng", "npy", …
  std::string name;
  /// imageio's names that select it ("pillow", "pyav", …).
  std::vector<std::string> aliases{};
  /// The extensions it serves. Built-in plugins may leave it empty: the
  /// registry fills it from imio's extension table.
  std::vector<ExtensionPriority> extensions{};
  bool can_read = true;    ///< whether the factory accepts read requests
  bool can_write = false;  ///< whether the factory accepts write requests
  /// Cheap signature test on the first bytes; when set and false, the
  /// plugin is not tried for a read in the fallback phase (no extension
  /// match). Empty: always tried.
  std::function<bool(std::span<const std::byte> first_bytes)> sniff{};
  /// How many first bytes sniff wants.
  std::size_t sniff_bytes = 16;
  /// Opens the request (read or write) or refuses it by throwing
  /// InitializationError with the reason. `kwargs` are imopen's; the
  /// factory rejects unknown ones with ArgumentError.
  std::function<std::unique_ptr<Plugin>(Request& request, const Kwargs& kwargs)> factory{};
  /// The backend and its version, e.g. "libpng 1.6.39".
  std::string backend{};
};

/// A registered plugin, as plugins() lists it.
struct PluginInfo {
  std::string name;                     ///< canonical name ("libpng")
  std::vector<std::string> aliases;     ///< imageio names that select it ("pillow", …)
  std::vector<std::string> extensions;  ///< extensions it serves, lower case with the dot
  bool can_read = false;                ///< it reads
  bool can_write = false;               ///< it writes
  std::string backend;                  ///< backend and version ("libpng 1.6.39"); may be empty
};

/// Adds a plugin at run time, after the built-ins in the fallback order.
/// ArgumentError when the name or an alias is already a plugin name, or the
/// spec has no factory. Thread-safe.
IMIO_EXPORT void register_plugin(PluginSpec spec);
/// The registered plugins in fallback (registration) order. Thread-safe.
IMIO_EXPORT std::vector<PluginInfo> plugins();

// ---------------------------------------------------------------- shared helpers

/// The EXIF tags of IFD0, named and typed as imageio (Pillow's getexif())
/// gives them: ASCII → str (trailing NUL dropped, Latin-1), RATIONAL →
/// float (NaN for a zero denominator), SHORT/LONG/signed → int,
/// BYTE/UNDEFINED → bytes, several values → a list; ExifOffset and GPSInfo
/// stay offsets (sub-IFDs are not expanded); tags without a known name are
/// dropped. `exif` is a TIFF-structured block, with or without the
/// "Exif\0\0" prefix of a JPEG APP1 segment. Entries that point outside the
/// block are skipped; a block whose header is unusable gives an empty map.
/// Never throws DecodeError: EXIF is advisory.
IMIO_EXPORT Metadata read_exif(std::span<const std::byte> exif);
/// The EXIF Orientation (1…8) of the block, or 0 when absent or invalid.
IMIO_EXPORT int exif_orientation(std::span<const std::byte> exif) noexcept;
/// The shape after apply_orientation: orientations 5–8 swap the axes
/// `height_axis` and `height_axis + 1`.
IMIO_EXPORT Shape oriented_shape(const Shape& shape, int orientation, std::size_t height_axis = 0);
/// Makes an image upright for its EXIF orientation (spec §5.1.7: 2 mirror
/// left-right, 3 rotate 180°, 4 mirror top-bottom, 5 transpose, 6 rotate
/// 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise; others
/// unchanged). Acts on the spatial axes `height_axis`, `height_axis + 1`
/// only, whatever follows them (DECISIONS D18).
IMIO_EXPORT NDArray apply_orientation(NDArray image, int orientation, std::size_t height_axis = 0);

/// Receives warnings: the source ("libpng", "core", …) and the text.
using WarningHandler = std::function<void(std::string_view source, std::string_view message)>;
/// Installs the process-wide warning handler (an empty one discards warnings,
/// the default: imio never prints). Returns the previous handler. The handler
/// may be called from any thread, also concurrently. Thread-safe.
IMIO_EXPORT WarningHandler set_warning_handler(WarningHandler handler);
/// Sends a warning to the installed handler. Thread-safe; never throws.
IMIO_EXPORT void warn(std::string_view source, std::string_view message) noexcept;

}  // namespace imio
