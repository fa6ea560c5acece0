// Pixel decoding: uncompressed strips straight from the source into the
// output (one read per contiguous run, merged across pages), everything
// else through libtiff on a small thread pool, one TIFF handle per thread.
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tiff_ifd.hpp"
#include "tiff_pages.hpp"

namespace imio::tiff {

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

/// Checks a read of `pages` before anything is allocated: the request's
/// limits first (a hostile size is a LimitError before anything else), then
/// check_decodable. Returns the bytes the pages decode to.
std::uint64_t check_read(const Request& request, std::span<const Page* const> pages);

/// Decodes `pages` into `out`, one page after the other (page.nbytes() each),
/// native byte order. `threads` bounds the decoding threads (0 = automatic).
void decode_pages(Request& request, const Structure& st, std::span<const Page* const> pages, std::byte* out,
                  unsigned threads = 0);

}  // namespace imio::tiff
