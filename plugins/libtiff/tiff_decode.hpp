// Pixel decoding: uncompressed strips straight from the source into the
// output (one read per contiguous run, merged across pages), everything
// else through libtiff on a small thread pool, one TIFF handle per thread.
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <optional>
#include <vector>
#include <span>
#include <string>
#include <string_view>

#include "tiff_ifd.hpp"
#include "tiff_pages.hpp"

namespace imio::tiff {

/// A region of a page: columns [x0, x1) and rows [y0, y1), every sample
/// (the `crop` kwarg). Decoding a window touches only the strips and tiles
/// it intersects.
struct Window {
  std::uint32_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  std::uint32_t width() const noexcept { return x1 - x0; }
  std::uint32_t height() const noexcept { return y1 - y0; }
};

/// The whole page as a window.
Window whole_page(const Page& page) noexcept;
/// The bytes `window` of `page` decodes to.
std::size_t window_nbytes(const Page& page, const Window& window) noexcept;
/// The shape of `window` of `page`: page.shape with its height and width replaced.
Shape window_shape(const Page& page, const Window& window);
/// The strips or tiles of `page` that `window` intersects, in file order.
std::vector<std::size_t> blocks_touched(const Page& page, const Window& window);

/// Whether this libtiff decodes `compression`.
bool codec_available(std::uint16_t compression);
/// A name for messages ("LZW", "JPEG 2000", …), or "unknown".
std::string_view compression_name(std::uint16_t compression);
/// "libtiff 4.5.0".
std::string libtiff_version();

/// Throws DecodeError naming the first page that cannot be decoded.
void check_decodable(std::span<const Page* const> pages);

/// Throws DecodeError naming the first page whose data the file does not
/// hold (it is truncated): what properties can tell without decoding.
void check_complete(std::span<const Page* const> pages);

/// Checks a read of `pages` (of `window` of each, when given) before
/// anything is allocated: the request's limits first (a hostile size is a
/// LimitError before anything else), then check_decodable. Returns the bytes
/// the pages decode to.
std::uint64_t check_read(const Request& request, std::span<const Page* const> pages,
                         const std::optional<Window>& window = std::nullopt);

/// Decodes `pages` into `out`, one page after the other (page.nbytes() each,
/// or window_nbytes with a window, which every page must contain), native
/// byte order. `threads` bounds the decoding threads (0 = automatic).
void decode_pages(Request& request, const Structure& st, std::span<const Page* const> pages, std::byte* out,
                  unsigned threads = 0, const std::optional<Window>& window = std::nullopt);

}  // namespace imio::tiff
