// imio's own decoder for the image data of a plain (non-interlaced) PNG:
// the IDAT chunks' CRCs checked, their zlib stream inflated in one piece
// (libdeflate when built with it, else zlib), the rows unfiltered and laid
// out as libpng's transforms would lay them (png_codec.hpp RawLayout).
// It decodes only what it can decode cleanly and otherwise says so, leaving
// the stream to libpng: every damaged file still gets libpng's verdict.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "png_codec.hpp"

namespace imio::png {

/// Decodes the region `region` of the image data of the PNG stream `png`
/// (signature included), in RawLayout's layout before the 2/4-bit gray
/// scaling. Rows below the region are not unfiltered and, where the stream is inflated piece by
/// piece, not inflated either; only the region's columns are laid out.
/// Returns false, with the sink's rows in an unspecified state, when the image is
/// interlaced or the data are not one clean zlib stream of the expected
/// size: an IDAT CRC or the Adler-32 does not match, the stream is corrupt,
/// short, followed by more data, or uses a window larger than its header
/// declares; a row has an unknown filter type. (A cropped decode that stops
/// early sees only the data it inflated; every IDAT CRC is checked.)
/// With `bounded_memory` (imread_into) large images allocate nothing: they
/// are inflated a few rows at a time.
/// Each row of the region goes to `sink` (png_codec.hpp); a false return
/// may follow some done() calls.
bool decode_idat(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type, int interlace,
                 const Region& region, RowSink& sink, bool bounded_memory);

/// False when the environment variable IMIO_PNG_LIBPNG_ONLY is set to a
/// non-empty value: every image then goes through libpng (the tests compare
/// both decoders on the whole corpus with it; docs in the plugin README).
bool idat_decoder_enabled() noexcept;

/// "libdeflate x.y" or "zlib x.y": what inflates in decode_idat.
const char* idat_inflater() noexcept;

}  // namespace imio::png
