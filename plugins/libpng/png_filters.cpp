// Filter reconstruction (ISO/IEC 15948 §9.2–9.4). Sub, Average and Paeth
// depend on the reconstructed byte one pixel to the left, so a row cannot
// be vectorised along its length; with SSE2 one whole pixel (2–8 bytes)
// is reconstructed per step instead of one byte, which is what makes the
// Paeth rows of photographs several times cheaper than a byte loop.
#include "png_filters.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace imio::png {
namespace {

// §9.4: the neighbour closest to a + b − c, ties in the order a, b, c.
inline std::uint8_t paeth(int a, int b, int c) noexcept {
  const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
  const int ab = pa <= pb ? a : b;
  const int pab = pa <= pb ? pa : pb;
  return static_cast<std::uint8_t>(pab <= pc ? ab : c);
}

void unfilter_bytes(std::uint8_t filter, std::uint8_t* row, const std::uint8_t* prev, std::size_t n, std::size_t bpp) noexcept {
  switch (filter) {
    case 1:
      for (std::size_t i = bpp; i < n; ++i) row[i] = static_cast<std::uint8_t>(row[i] + row[i - bpp]);
      break;
    case 3:
      for (std::size_t i = 0; i < n && i < bpp; ++i) row[i] = static_cast<std::uint8_t>(row[i] + (prev[i] >> 1));
      for (std::size_t i = bpp; i < n; ++i) row[i] = static_cast<std::uint8_t>(row[i] + ((row[i - bpp] + prev[i]) >> 1));
      break;
    case 4:
      for (std::size_t i = 0; i < n && i < bpp; ++i) row[i] = static_cast<std::uint8_t>(row[i] + prev[i]);
      for (std::size_t i = bpp; i < n; ++i) row[i] = static_cast<std::uint8_t>(row[i] + paeth(row[i - bpp], prev[i], prev[i - bpp]));
      break;
    default: break;
  }
}

#if defined(__SSE2__) && defined(__x86_64__)
#define IMIO_PNG_SSE2_FILTERS 1
// One pixel of BPP bytes in the low bytes of a register. `wide` loads may
// read up to 2·BPP bytes (one 4- or 8-byte load, never a byte-wise copy
// through the stack, which would stall store forwarding); the row's last
// pixel is loaded exactly.
template <int BPP>
inline __m128i load_pixel(const std::uint8_t* p, bool wide) noexcept {
  if constexpr (BPP > 4) {
    if (wide || BPP == 8) return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    std::uint64_t v = 0;
    std::memcpy(&v, p, BPP);
    return _mm_cvtsi64_si128(static_cast<long long>(v));
  } else {
    std::uint32_t v = 0;
    if (wide || BPP == 4) {
      std::memcpy(&v, p, 4);
    } else {
      std::memcpy(&v, p, BPP);
    }
    return _mm_cvtsi32_si128(static_cast<int>(v));
  }
}

template <int BPP>
inline void store_pixel(std::uint8_t* p, __m128i v) noexcept {
  if constexpr (BPP > 4) {
    const auto t = static_cast<std::uint64_t>(_mm_cvtsi128_si64(v));
    std::memcpy(p, &t, BPP);
  } else {
    const auto t = static_cast<std::uint32_t>(_mm_cvtsi128_si32(v));
    std::memcpy(p, &t, BPP);
  }
}

inline __m128i abs16(__m128i x) noexcept { return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x)); }

inline __m128i select(__m128i mask, __m128i yes, __m128i no) noexcept {
  return _mm_or_si128(_mm_and_si128(mask, yes), _mm_andnot_si128(mask, no));
}

// Whole pixels per step; row_bytes is a multiple of BPP (depth ≥ 8).
template <int BPP>
void unfilter_pixels(std::uint8_t filter, std::uint8_t* row, const std::uint8_t* prev, std::size_t n) noexcept {
  const __m128i zero = _mm_setzero_si128();
  switch (filter) {
    case 1: {
      __m128i a = zero;
      for (std::size_t i = 0; i < n; i += BPP) {
        a = _mm_add_epi8(load_pixel<BPP>(row + i, i + BPP < n), a);
        store_pixel<BPP>(row + i, a);
      }
      break;
    }
    case 3: {
      // floor((a + b) / 2) from the rounding-up byte average.
      const __m128i one = _mm_set1_epi8(1);
      __m128i a = zero;
      for (std::size_t i = 0; i < n; i += BPP) {
        const bool wide = i + BPP < n;
        const __m128i b = load_pixel<BPP>(prev + i, wide);
        const __m128i avg = _mm_sub_epi8(_mm_avg_epu8(a, b), _mm_and_si128(_mm_xor_si128(a, b), one));
        a = _mm_add_epi8(load_pixel<BPP>(row + i, wide), avg);
        store_pixel<BPP>(row + i, a);
      }
      break;
    }
    case 4: {
      // 16-bit lanes: pa = |b − c|, pb = |a − c|, pc = |a + b − 2c|.
      const __m128i low_bytes = _mm_set1_epi16(0xff);
      __m128i a = zero, c = zero;
      for (std::size_t i = 0; i < n; i += BPP) {
        const bool wide = i + BPP < n;
        const __m128i b = _mm_unpacklo_epi8(load_pixel<BPP>(prev + i, wide), zero);
        const __m128i bc = _mm_sub_epi16(b, c), ac = _mm_sub_epi16(a, c);
        const __m128i pa = abs16(bc), pb = abs16(ac), pc = abs16(_mm_add_epi16(bc, ac));
        const __m128i b_or_c = select(_mm_cmpgt_epi16(pb, pc), c, b);
        const __m128i pred = select(_mm_cmpgt_epi16(pa, _mm_min_epi16(pb, pc)), b_or_c, a);
        // Added in 16-bit lanes and cut to 8 bits: the next pixel's `a`
        // without a pack and an unpack on the dependency chain.
        a = _mm_and_si128(_mm_add_epi16(_mm_unpacklo_epi8(load_pixel<BPP>(row + i, wide), zero), pred), low_bytes);
        store_pixel<BPP>(row + i, _mm_packus_epi16(a, a));
        c = b;
      }
      break;
    }
    default: break;
  }
}
#endif

}  // namespace

bool unfilter_row(std::uint8_t filter, std::uint8_t* row, const std::uint8_t* prev, std::size_t row_bytes, int bpp) noexcept {
  if (filter > 4) return false;
  if (filter == 0) return true;
  if (filter == 2) {
    for (std::size_t i = 0; i < row_bytes; ++i) row[i] = static_cast<std::uint8_t>(row[i] + prev[i]);
    return true;
  }
#ifdef IMIO_PNG_SSE2_FILTERS
  switch (bpp) {
    case 2: unfilter_pixels<2>(filter, row, prev, row_bytes); return true;
    case 3: unfilter_pixels<3>(filter, row, prev, row_bytes); return true;
    case 4: unfilter_pixels<4>(filter, row, prev, row_bytes); return true;
    case 6: unfilter_pixels<6>(filter, row, prev, row_bytes); return true;
    case 8: unfilter_pixels<8>(filter, row, prev, row_bytes); return true;
    default: break;
  }
#endif
  unfilter_bytes(filter, row, prev, row_bytes, static_cast<std::size_t>(bpp));
  return true;
}

}  // namespace imio::png
