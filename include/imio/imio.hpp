// imio — imageio's v3 API for C++20: the six functions.
//
//   #include <imio/imio.hpp>
//   auto img = imio::imread("chelsea.png");             // (300,451,3) uint8
//   imio::imwrite("out.npy", img);
//
// Every function is safe to call from many threads at once (on different
// resources, or on the same read-only file). Errors are the exceptions of
// <imio/error.hpp>.
#pragma once

#include <imio/error.hpp>
#include <imio/export.hpp>
#include <imio/image_file.hpp>
#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/properties.hpp>
#include <imio/resource.hpp>
#include <imio/version.hpp>

#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

/// imageio's v3 API for C++20: the six functions imread, imwrite, imiter,
/// improps, immeta and imopen, the types they take and return, and the
/// plugin contract (<imio/plugin.hpp>).
namespace imio {

/// Reads one ndimage, or all of them stacked. Mirrors `imageio.v3.imread`.
///
/// @param resource what to read (path, bytes, stream, "imageio:NAME", …)
/// @param options  index (none = the plugin's default: GIF/APNG/video give
///                 all frames, TIFF the first series, other formats the
///                 first image), plugin, extension, kwargs for the plugin's
///                 read, limits
/// @returns an owned C-contiguous array, `[N,] H, W [, C]`
/// @throws FileNotFoundError, IOError, NoPluginError, ArgumentError
///         (unknown kwarg…), IndexError, DecodeError, LimitError
IMIO_EXPORT NDArray imread(const ImageResource& resource, const ReadOptions& options = {});

/// Reads as imread(resource, options) does, into the caller's memory (numpy's
/// `out=`; no imageio counterpart). `out` is an NDArray or a view of one (a
/// slot of a batch: `batch[i]`), C-contiguous, with exactly the shape and
/// dtype improps(resource, options) gives.
///
/// Plugins that decode straight into their result array (PNG, JPEG, TIFF,
/// npy and most others, see docs/many-files.md) write into `out` without
/// allocating a result when `out` is 64-byte aligned (every NDArray is);
/// the others decode as imread does and copy the result into `out` once.
/// On an error after decoding started, `out` may be partly overwritten (as
/// with OpenCV's and numpy's `out=`).
///
/// @throws ArgumentError naming both when `out`'s shape or dtype differs
///         from improps' (`out` is then untouched), and what imread throws
IMIO_EXPORT void imread_into(const ImageResource& resource, ArrayView out, const ReadOptions& options = {});

/// imread into memory with any strides (StridedArrayView): a region of a
/// larger image, a plane of a planar buffer, an OpenCV `Mat` ROI. A view
/// that is C-contiguous reads as the ArrayView overload (no allocation).
/// A row-padded view — every axis after the first C-contiguous, the row
/// stride larger than a row or negative (a flipped image) — is written in
/// place, row by row, by the plugins that decode rows (libjpeg, libwebp, npy:
/// no image-sized allocation, no copy; docs/many-files.md lists them).
/// Otherwise, and for the reads those plugins cannot do in place (a rotated
/// or converted result), the image is decoded as imread does and copied
/// into `out` once. The memory between the rows is never written.
///
/// @throws ArgumentError naming both when `out`'s shape or dtype differs
///         from improps' (`out` is then untouched), and what imread throws
IMIO_EXPORT void imread_into(const ImageResource& resource, const StridedArrayView& out, const ReadOptions& options = {});

/// Writes one ndimage (or a batch, as the plugin decides). Mirrors
/// `imageio.v3.imwrite`. A path target is written atomically: a temporary
/// sibling renamed on success; on failure the previous file is untouched.
///
/// @returns the encoded bytes when the target is "<bytes>", else nullopt
/// @throws FileNotFoundError (missing parent folder), IOError,
///         NoPluginError (no writer for the extension), ArgumentError,
///         EncodeError, LimitError
IMIO_EXPORT std::optional<Bytes> imwrite(const ImageResource& resource, const NDArray& image,
                                         const WriteOptions& options = {});
/// Writes a list of ndimages (an animation, a multi-page file, …); shapes may
/// differ where the format allows. Mirrors `imwrite(uri, [a, b, …])`.
IMIO_EXPORT std::optional<Bytes> imwrite(const ImageResource& resource, std::span<const NDArray> images,
                                         const WriteOptions& options = {});

/// A lazy range over the ndimages, one decoded at a time (constant memory).
/// Mirrors `imageio.v3.imiter`. Nothing is opened until begin(): errors
/// about the resource are thrown there. Memory resources must outlive the range.
IMIO_EXPORT FrameRange imiter(const ImageResource& resource, const IterOptions& options = {});

/// Shape, dtype and count of what imread(resource, options) returns, without
/// decoding pixels. Mirrors `imageio.v3.improps` (DECISIONS D11: always
/// equal to imread's shape and dtype).
IMIO_EXPORT ImageProperties improps(const ImageResource& resource, const ReadOptions& options = {});

/// Format-specific metadata. Mirrors `imageio.v3.immeta`.
IMIO_EXPORT Metadata immeta(const ImageResource& resource, const MetaOptions& options = {});

/// Opens a resource for reading ("r") or writing ("w"); also accepts
/// imageio's legacy modes "ri", "rI", "rv", "rV", "r?", "wi", "wI", "wv",
/// "wV", "w?". Mirrors `imageio.v3.imopen`. `options.kwargs` go to the
/// plugin's factory.
/// @throws ArgumentError for another io_mode, and what imread/imwrite throw
///         about the resource
IMIO_EXPORT ImageFile imopen(const ImageResource& resource, std::string_view io_mode,
                             const OpenOptions& options = {});

// The kwargs shorthand: the plugin kwargs alone, as Python's keyword
// arguments read (`imwrite("a.jpg", img, {{"quality", 90}})`). Each is the
// call with `{.kwargs = kwargs}`. They are templates only so that overload
// resolution prefers the options structs for designated initializers
// (`{.index = 2}`) on every compiler (g++ 12 also tries a designated list
// against std::initializer_list); `{}` is the same call either way.

/// imread(resource, {.kwargs = kwargs}).
template <class = void>
NDArray imread(const ImageResource& resource, std::initializer_list<Kwarg> kwargs) {
  return imread(resource, ReadOptions{.kwargs = Kwargs(kwargs)});
}
/// imread_into(resource, out, {.kwargs = kwargs}).
template <class = void>
void imread_into(const ImageResource& resource, ArrayView out, std::initializer_list<Kwarg> kwargs) {
  imread_into(resource, out, ReadOptions{.kwargs = Kwargs(kwargs)});
}
/// imwrite(resource, image, {.kwargs = kwargs}).
template <class = void>
std::optional<Bytes> imwrite(const ImageResource& resource, const NDArray& image, std::initializer_list<Kwarg> kwargs) {
  return imwrite(resource, image, WriteOptions{.kwargs = Kwargs(kwargs)});
}
/// imwrite(resource, images, {.kwargs = kwargs}).
template <class = void>
std::optional<Bytes> imwrite(const ImageResource& resource, std::span<const NDArray> images,
                             std::initializer_list<Kwarg> kwargs) {
  return imwrite(resource, images, WriteOptions{.kwargs = Kwargs(kwargs)});
}
/// imiter(resource, {.kwargs = kwargs}).
template <class = void>
FrameRange imiter(const ImageResource& resource, std::initializer_list<Kwarg> kwargs) {
  return imiter(resource, IterOptions{.kwargs = Kwargs(kwargs)});
}
/// improps(resource, {.kwargs = kwargs}).
template <class = void>
ImageProperties improps(const ImageResource& resource, std::initializer_list<Kwarg> kwargs) {
  return improps(resource, ReadOptions{.kwargs = Kwargs(kwargs)});
}
/// immeta(resource, {.kwargs = kwargs}).
template <class = void>
Metadata immeta(const ImageResource& resource, std::initializer_list<Kwarg> kwargs) {
  return immeta(resource, MetaOptions{.kwargs = Kwargs(kwargs)});
}
/// imopen(resource, io_mode, {.kwargs = kwargs}): the factory's kwargs.
template <class = void>
ImageFile imopen(const ImageResource& resource, std::string_view io_mode, std::initializer_list<Kwarg> kwargs) {
  return imopen(resource, io_mode, OpenOptions{.kwargs = Kwargs(kwargs)});
}

}  // namespace imio
