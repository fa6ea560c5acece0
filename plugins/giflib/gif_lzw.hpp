// The plugin's own LZW decoder for a frame's image data (GIF89a §22,
// Appendix F). giflib's DGifGetLine walks every code's prefix chain onto a
// stack and pops it byte by byte, which is most of the time a GIF read takes;
// here a table entry is the place in the output where its string was already
// written (an entry is the previous code's string plus one byte, and that is
// exactly what follows the previous code in the output), so a code is one
// copy out of the frame's own pixels, LZ77-style.
//
// The decoder only accepts regular streams and says false on anything else
// (a code above the next free entry, an end-of-information code or the end of
// the data before the frame is full, a minimum code size outside 2..8): the
// caller then lets giflib decode the frame, so damaged files keep giflib's
// verdict and pixels.
#pragma once

#include <cstddef>
#include <cstdint>

namespace imio::giflib {

/// Bytes that must be readable (any value) after the end of the data given
/// to lzw_decode: the bit reader loads 8 bytes at a time.
inline constexpr std::size_t kLzwPadding = 8;

/// Decodes `count` pixels from the concatenated image data sub-blocks
/// `data[0, size)` (length bytes removed) with LZW minimum code size
/// `min_code_size` into `out`. Codes after the frame is full are ignored (as
/// giflib ignores them). True when the stream was regular and `out` holds
/// every pixel; false otherwise (`out` then holds garbage). `count` must be
/// below 2^32.
bool lzw_decode(int min_code_size, const std::uint8_t* data, std::size_t size, std::uint8_t* out, std::size_t count) noexcept;

/// False when the environment variable IMIO_GIF_GIFLIB_ONLY is set to a
/// non-empty value: every frame is then decoded by giflib's DGifGetLine
/// (to compare both decoders, or to rule this one out).
bool own_lzw_enabled() noexcept;

}  // namespace imio::giflib
