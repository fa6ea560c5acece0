// imio — the libtiff plugin's extras on an imopen handle: what imageio's
// tifffile plugin offers beyond read/iter/properties/metadata (spec §1.7
// "plugin-specific extras", §5.3.3). Installed only when imio is built with
// the libtiff plugin (IMIO_WITH_LIBTIFF).
//
//   auto file = imio::imopen("stack.tif", "r");
//   auto& tiff = file.plugin_as<imio::plugin::LibTiff>();
//   auto pages = tiff.iter_pages();            // every page of the file, in order
//   while (auto page = pages->next()) use(*page);
//
// The namespace is imio::plugin (singular): imio::plugins() is the function
// listing the registered plugins, and a namespace cannot share its name.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/plugin.hpp>
#include <imio/value.hpp>

#include <memory>

namespace imio::plugin {

/// The libtiff plugin's read handle as a type:
/// `file.plugin_as<imio::plugin::LibTiff>()` on an ImageFile that imopen()
/// gave for reading a TIFF with the plugin's tifffile semantics (the default,
/// or `plugin="libtiff"`/`"tifffile"`). Mirrors the extra method of imageio's
/// `TifffilePlugin`. Write handles and reads through the `pillow` alias are
/// not this class: plugin_as<LibTiff>() on them throws ArgumentError.
///
/// The FrameSource iter_pages() returns borrows the handle: use it before the
/// ImageFile is closed, moved from or destroyed. Errors are imio exceptions
/// (IndexError, ArgumentError, DecodeError, LimitError) with the reason.
///
/// Thread-safety: as ImageFile, one thread at a time per handle.
class IMIO_EXPORT LibTiff : public Plugin {
 public:
  /// Defined in the library: its vtable and typeinfo live there, so the
  /// dynamic_cast of plugin_as() works across the shared library's boundary.
  ~LibTiff() override;

  /// The pages of the file one at a time (imageio's `iter_pages(index=ALL,
  /// **kwargs)`, spec §5.3.3): `imio::all` (the default) or none → every
  /// page of the file in file order; an integer k → the pages of series k. Each page is
  /// decoded when next() reaches it, in the page's own shape and dtype
  /// ((H,W), (H,W,S) contiguous, (S,H,W) planar), exactly as
  /// `read(index=all, page=p)` returns page p.
  /// @param index  imio::all (or none), or a series number
  /// @param kwargs `maxworkers` (decoding threads, 0 = automatic); any other
  ///               key is an ArgumentError
  /// @throws IndexError for a series beyond the last or a negative one;
  ///         ArgumentError for unknown kwargs.
  ///         next() throws DecodeError / LimitError for a page that cannot
  ///         be decoded within the handle's limits.
  virtual std::unique_ptr<FrameSource> iter_pages(const Index& index = Index(all), const Kwargs& kwargs = {}) = 0;
};

}  // namespace imio::plugin
