#include "gif_lzw.hpp"

#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>

namespace imio::giflib {
namespace {

constexpr std::uint32_t kMaxCodes = 4096;  // 12-bit codes (GIF89a Appendix F)

inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// A string already in the output, copied forward to `dst` (never overlapping
// it: the source ends at or before dst). Short strings, the common case, are
// one 16-byte load and store when 16 bytes of the output remain; the bytes
// written past `n` are overwritten by the next codes.
inline void copy_string(std::uint8_t* dst, const std::uint8_t* src, std::size_t n, std::size_t room) noexcept {
  if (n <= 16 && room >= 16) {
    std::uint8_t chunk[16];
    std::memcpy(chunk, src, 16);
    std::memcpy(dst, chunk, 16);
  } else {
    std::memcpy(dst, src, n);
  }
}

}  // namespace

bool lzw_decode(int min_code_size, const std::uint8_t* data, std::size_t size, std::uint8_t* out, std::size_t count) noexcept {
  // GIF89a allows 2..8; giflib decodes 0 and 1 by its own rules, so those stay with it.
  if (min_code_size < 2 || min_code_size > 8 || count >= (std::uint64_t{1} << 32)) return false;
  const std::uint32_t clear = 1u << min_code_size;
  const std::uint32_t first_free = clear + 2;  // clear + 1 is end-of-information
  // Entry c >= first_free: its string is out[start[c], start[c] + length[c]).
  std::array<std::uint32_t, kMaxCodes> start;
  std::array<std::uint16_t, kMaxCodes> length;

  std::uint64_t bits = 0;  // unread bits, least significant first
  unsigned nbits = 0;
  std::size_t loaded = 0;  // bytes of data moved into `bits` so far
  unsigned width = static_cast<unsigned>(min_code_size) + 1;
  std::uint32_t next = first_free;  // the entry the next code defines
  std::uint32_t next_wider = 1u << width;
  bool has_prev = false;  // false at the start and after a clear code
  std::size_t prev_start = 0, prev_length = 0;
  std::size_t o = 0;
  while (o < count) {
    if (nbits < width) {
      // Past the data: not enough bits for this code (see the check after the loop).
      if (loaded > size) return false;
      bits |= load_le64(data + loaded) << nbits;
      loaded += (63 - nbits) >> 3;
      nbits |= 56;
    }
    const std::uint32_t c = static_cast<std::uint32_t>(bits) & ((1u << width) - 1);
    bits >>= width;
    nbits -= width;
    std::size_t string_length;  // this code's whole string
    std::size_t n;              // the part of it the frame still takes
    if (c < clear) {
      out[o] = static_cast<std::uint8_t>(c);
      string_length = n = 1;
    } else if (c >= first_free && c < next) {
      string_length = length[c];
      const std::size_t room = count - o;
      n = string_length < room ? string_length : room;  // the frame may end inside this string
      copy_string(out + o, out + start[c], n, room);
    } else if (c == clear) {
      width = static_cast<unsigned>(min_code_size) + 1;
      next = first_free;
      next_wider = 1u << width;
      has_prev = false;
      continue;
    } else if (c == next && has_prev && next < kMaxCodes) {
      // KwKwK: the entry this code defines, the previous string plus its own
      // first byte; it starts where the previous string did and overlaps the
      // output, so it is copied forward a byte at a time.
      string_length = prev_length + 1;
      n = string_length < count - o ? string_length : count - o;
      const std::uint8_t* src = out + prev_start;
      for (std::size_t i = 0; i < n; ++i) out[o + i] = src[i];
    } else {
      return false;  // end-of-information before the frame is full, or a code not yet defined
    }
    if (has_prev && next < kMaxCodes) {
      // The new entry: the previous string and the first byte of this one,
      // which follows it in the output. A full table stays as it is until a
      // clear code (the "deferred clear").
      start[next] = static_cast<std::uint32_t>(prev_start);
      length[next] = static_cast<std::uint16_t>(prev_length + 1);
      if (++next == next_wider && width < 12) {
        ++width;
        next_wider <<= 1;
      }
    }
    has_prev = true;
    prev_start = o;
    prev_length = string_length;
    o += n;
  }
  // The last codes must have come from the data, not from the padding.
  return 8 * loaded - nbits <= 8 * size;
}

bool own_lzw_enabled() noexcept {
  const char* v = std::getenv("IMIO_GIF_GIFLIB_ONLY");
  return v == nullptr || *v == '\0';
}

}  // namespace imio::giflib
