// libheif's reading side behind RAII: a context over the file's bytes with
// imio's Limits, the top-level images, decoding one into an NDArray, and
// the metadata libheif knows. The only read-side file that includes
// <libheif/heif.h>.
#pragma once

#include "heif_boxes.hpp"

#include <imio/ndarray.hpp>
#include <imio/request.hpp>
#include <imio/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct heif_context;
struct heif_image_handle;

namespace imio::heif {

/// "libheif 1.15.1".
std::string libheif_version();

/// "HEIC", "AVIF" or "HEIF" (another coding), from libheif's MIME type of the file.
std::string format_of(std::span<const std::byte> file);

/// How the pixels of an image reach the array.
enum class Layout { rgb, rgba, gray };

/// How samples of more than 8 bits are returned.
enum class Depth {
  native,  ///< uint16 holding the stored values (0 … 2^bits − 1)
  scaled,  ///< uint16 shifted left to fill 16 bits (pillow-heif's, heif-convert's PNG)
  eight,   ///< uint8 by libheif's conversion (convert_hdr_to_8bit)
};

/// One top-level image as libheif describes it, without decoding.
struct ImageInfo {
  std::uint32_t id = 0;
  bool primary = false;
  std::uint32_t width = 0, height = 0;            ///< displayed (transformations applied)
  std::uint32_t ispe_width = 0, ispe_height = 0;  ///< stored
  bool has_alpha = false;
  bool premultiplied_alpha = false;
  int bits = 8;  ///< luma bits per sample
  int chroma_bits = 8;
  int thumbnails = 0;
  int depth_images = 0;
  int auxiliary_images = 0;
  bool av1 = false;  ///< AV1-coded (decoded by libaom, see heif_decode.cpp)
};

/// Owns a heif_context read from memory that outlives it.
class Context {
 public:
  /// Reads the file's structure (no pixels). Sizes beyond `request`'s
  /// Limits are refused by libheif's own limit before it allocates.
  /// The stored and displayed sizes come from `boxes` (ispe and the
  /// transformations, as ISO/IEC 23008-12 defines them) when it has them.
  Context(std::span<const std::byte> file, const Container& boxes, const Request& request);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// The top-level images in file order.
  const std::vector<ImageInfo>& images() const { return images_; }
  /// The position of the primary image in images().
  std::size_t primary_index() const { return primary_; }

  /// Decodes image `k` into a new array of `shape`/`dtype` (as shape_of
  /// says), checked against the Limits first.
  NDArray decode(std::size_t k, Layout layout, Depth depth, bool transform, const Request& request) const;
  /// Decodes image `k` into `dst` (exactly shape_of's bytes).
  void decode_into(std::size_t k, Layout layout, Depth depth, bool transform, std::byte* dst) const;

  /// Which AV1 decoder the next decodes use: "aom", "dav1d", or nullopt
  /// for dav1d where its messages are kept off stderr, else aom.
  void set_av1_decoder(std::optional<std::string> name) { av1_decoder_ = std::move(name); }

  /// The metadata libheif knows of image `k`: nclx, ICC, EXIF, XMP.
  void metadata(std::size_t k, Dict& out) const;

 private:
  struct Decoded;
  Decoded decode_raw(std::size_t k, Layout layout, Depth depth, bool transform) const;
  void read_structure(std::span<const std::byte> file, const Container& boxes, const Request& request);
  void release() noexcept;
  heif_context* ctx_ = nullptr;
  std::vector<ImageInfo> images_;
  std::vector<heif_image_handle*> handles_;
  std::size_t primary_ = 0;
  std::optional<std::string> av1_decoder_;
};

/// The array shape of image `info` read with `layout` (transformations
/// applied or not) and its dtype.
Shape shape_of(const ImageInfo& info, Layout layout, bool transform);
DType dtype_of(const ImageInfo& info, Depth depth);

}  // namespace imio::heif
