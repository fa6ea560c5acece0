// imio — ImageFile (the imopen handle) and FrameRange (what imiter returns).
#pragma once

#include <imio/export.hpp>
#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/properties.hpp>
#include <imio/resource.hpp>
#include <imio/strided_view.hpp>

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <typeinfo>

namespace imio {

class Plugin;
class FrameRange;
namespace detail {
struct CoreAccess;
}  // namespace detail

/// An open resource with the plugin that serves it: what imopen() returns.
/// Mirrors the plugin instance of imageio's `imopen`.
///
/// Move-only RAII handle. Calls after close() throw IOError. For writers the
/// file is complete after close() or destruction; the destructor never
/// throws (use close() to see write errors), and a handle destroyed while an
/// exception unwinds the stack discards what was written instead of
/// completing it.
///
/// Thread-safety: one ImageFile is used by one thread at a time.
class IMIO_EXPORT ImageFile {
 public:
  /// Takes over another handle, which is left closed.
  ImageFile(ImageFile&&) noexcept;
  /// Closes this handle as the destructor would (errors are discarded), then
  /// takes over `other`, which is left closed.
  ImageFile& operator=(ImageFile&&) noexcept;
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;
  ~ImageFile();

  // Every method takes its call struct (`file.read({.index = 2, .kwargs =
  // {{"mode", "L"}}})`) or the plugin kwargs alone (`file.read({{"mode",
  // "L"}})`), as the six functions do (see <imio/imio.hpp>).

  /// Plugin::read; mirrors `plugin.read(index=…, **kwargs)`.
  NDArray read(const ReadCall& call = {});
  /// read({.kwargs = kwargs}).
  template <class = void>
  NDArray read(std::initializer_list<Kwarg> kwargs) {
    return read(ReadCall{.kwargs = Kwargs(kwargs)});
  }
  /// Plugin::iter as a lazy range that borrows this handle (which must
  /// outlive the range). Mirrors `plugin.iter(**kwargs)`.
  FrameRange iter(const IterCall& call = {});
  /// iter({.kwargs = kwargs}).
  template <class = void>
  FrameRange iter(std::initializer_list<Kwarg> kwargs);  // defined below FrameRange
  /// Writes one ndimage (or a batch, as the plugin decides); mirrors `plugin.write(image, **kwargs)`.
  void write(const NDArray& image, const WriteCall& call = {});
  /// write(image, {.kwargs = kwargs}).
  template <class = void>
  void write(const NDArray& image, std::initializer_list<Kwarg> kwargs) {
    write(image, WriteCall{.kwargs = Kwargs(kwargs)});
  }
  /// Writes a list of ndimages.
  void write(std::span<const NDArray> images, const WriteCall& call = {});
  /// write(images, {.kwargs = kwargs}).
  template <class = void>
  void write(std::span<const NDArray> images, std::initializer_list<Kwarg> kwargs) {
    write(images, WriteCall{.kwargs = Kwargs(kwargs)});
  }
  /// read(call) into the caller's memory instead of a new array (no
  /// imageio counterpart; numpy's `out=`). `out` must have the shape and
  /// dtype properties(call) gives, else ArgumentError naming both, before
  /// anything is decoded. Plugins that decode straight into their result
  /// array write into `out` directly (when `out` is 64-byte aligned); others
  /// decode as read() does and the result is copied into `out` once
  /// (docs/many-files.md lists which). On an error after decoding started,
  /// `out` may be partly overwritten.
  void read_into(ArrayView out, const ReadCall& call = {});
  /// read_into(out, {.kwargs = kwargs}).
  template <class = void>
  void read_into(ArrayView out, std::initializer_list<Kwarg> kwargs) {
    read_into(out, ReadCall{.kwargs = Kwargs(kwargs)});
  }
  /// read_into for memory that is not one C-contiguous block: a region of
  /// a larger image, one plane of a planar buffer, a flipped view. A view
  /// that is contiguous after all is read_into(ArrayView)'s case. A
  /// row-padded view (every axis after the first C-contiguous, rows apart or
  /// backwards) is written row by row in place by the plugins that can
  /// (Request::row_target: libjpeg, libwebp, npy; docs/many-files.md); otherwise
  /// the image is decoded as read() does and copied into `out` once (one
  /// allocation). The same ArgumentError as read_into when the shape or
  /// dtype differ, before anything is decoded.
  void read_into(const StridedArrayView& out, const ReadCall& call = {});
  /// Plugin::properties; mirrors `plugin.properties(index=…, **kwargs)`.
  ImageProperties properties(const PropCall& call = {});
  /// properties({.kwargs = kwargs}).
  template <class = void>
  ImageProperties properties(std::initializer_list<Kwarg> kwargs) {
    return properties(PropCall{.kwargs = Kwargs(kwargs)});
  }
  /// Plugin::metadata; mirrors `plugin.metadata(index=…, exclude_applied=…, **kwargs)`.
  Metadata metadata(const MetaCall& call = {});
  /// metadata({.kwargs = kwargs}).
  template <class = void>
  Metadata metadata(std::initializer_list<Kwarg> kwargs) {
    return metadata(MetaCall{.kwargs = Kwargs(kwargs)});
  }

  /// Closes the plugin and the resource. For writers this completes the
  /// file (atomically renamed into place for paths) and, when the target is
  /// "<bytes>", returns the encoded bytes. Closing twice is a no-op that
  /// returns nullopt. Throws what the plugin or the final write throws; the
  /// target is then left as it was before.
  std::optional<Bytes> close();
  /// Whether close() was called (or the handle was moved from).
  bool closed() const noexcept;

  /// Whether the handle reads or writes.
  IoMode mode() const;
  /// The canonical name of the plugin serving the resource ("libpng", …).
  const std::string& plugin_name() const;
  /// The plugin instance, for backend-specific extras.
  Plugin& plugin();
  /// The plugin as its concrete class; ArgumentError when it is another.
  template <class T>
  T& plugin_as() {
    if (auto* p = dynamic_cast<T*>(&plugin())) return *p;
    throw_wrong_plugin(typeid(T).name());
  }
  /// The resource as the messages name it.
  std::string describe() const;

  struct State;

 private:
  friend class FrameRange;
  friend struct detail::CoreAccess;
  /// Takes ownership of an opened state (a raw pointer: no <memory> here).
  explicit ImageFile(State* state) noexcept;
  [[noreturn]] void throw_wrong_plugin(const char* wanted) const;
  /// read_into once `out` is known to match; true when the plugin decoded
  /// straight into it, false when the result was copied.
  bool decode_into(ArrayView out, const ReadCall& call);
  /// The same for a view that is not contiguous: its rows are offered to
  /// the plugin (Request::row_target) when they are row-padded; a result the
  /// plugin did not write in place is copied into `out`.
  void decode_rows_into(const StridedArrayView& out, const ReadCall& call);
  void finish_on_destruction() noexcept;
  State& open_state(const char* operation) const;
  State& open_state(const char* operation, IoMode needed) const;
  State* state_ = nullptr;
};

/// A lazy input range of NDArray, one decoded image per step; what imiter()
/// returns. Mirrors imageio's `imiter` generator.
///
/// Nothing is opened until begin(): a missing file throws there. The
/// iterator yields the current image by reference; advancing decodes the
/// next one into a fresh array, so memory stays at one image plus decoder
/// state. The resource stays open until the range is destroyed or exhausted.
/// begin() may be called once; it is an input range.
class IMIO_EXPORT FrameRange {
 public:
  class iterator;
  /// What end() returns: iteration ends when the iterator compares equal to it.
  using sentinel = std::default_sentinel_t;
  struct Source;

  /// Takes over another range (and its open resource).
  FrameRange(FrameRange&&) noexcept;
  /// Releases this range's resource and takes over another range.
  FrameRange& operator=(FrameRange&&) noexcept;
  FrameRange(const FrameRange&) = delete;
  FrameRange& operator=(const FrameRange&) = delete;
  ~FrameRange();

  /// Opens the resource (on the first call) and decodes the first image.
  iterator begin();
  /// The end sentinel.
  sentinel end() const noexcept { return {}; }


 private:
  friend class iterator;
  friend class ImageFile;
  friend struct detail::CoreAccess;
  /// Takes ownership of `source`.
  explicit FrameRange(Source* source) noexcept;
  /// Decodes the next image; false at the end.
  bool advance();
  NDArray& current() noexcept;

  Source* source_ = nullptr;
};

/// The input iterator of a FrameRange (std::input_iterator). Dereferencing
/// gives the current image; the image may be moved out (`auto img =
/// std::move(*it);`) since advancing replaces it with a fresh array.
class IMIO_EXPORT FrameRange::iterator {
 public:
  using value_type = NDArray;                         ///< one decoded image
  using difference_type = std::ptrdiff_t;             ///< required by std::input_iterator
  using reference = NDArray&;                         ///< what operator* returns
  using iterator_concept = std::input_iterator_tag;  ///< single pass

  /// An iterator equal to the end sentinel.
  iterator() noexcept = default;
  /// The current image. Only valid before the end.
  NDArray& operator*() const noexcept { return range_->current(); }
  /// Member access to the current image. Only valid before the end.
  NDArray* operator->() const noexcept { return &range_->current(); }
  /// Decodes the next image (or reaches the end). Throws what the plugin
  /// throws (DecodeError, LimitError, …); after that the range yields
  /// nothing more.
  iterator& operator++() {
    if (!range_->advance()) range_ = nullptr;
    return *this;
  }
  /// Same as the prefix form (an input iterator has no useful copy to return).
  void operator++(int) { ++*this; }
  /// True at the end of the range.
  friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.range_ == nullptr; }

 private:
  friend class FrameRange;
  explicit iterator(FrameRange* range) noexcept : range_(range) {}
  FrameRange* range_ = nullptr;
};

template <class>
FrameRange ImageFile::iter(std::initializer_list<Kwarg> kwargs) {
  return iter(IterCall{.kwargs = Kwargs(kwargs)});
}

}  // namespace imio
