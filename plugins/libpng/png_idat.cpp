// The image data of a non-interlaced PNG, decoded without libpng. libpng
// inflates row by row through a small window and unfilters one byte at a
// time; here the whole zlib stream is inflated in one call (libdeflate's
// whole-buffer inflate is about twice as fast as zlib's streaming one) and
// each row is unfiltered a pixel at a time (png_filters.cpp).
//
// Every check libpng makes on the image data is made here too, and any
// failure hands the file back to libpng rather than reporting it: the IDAT
// CRCs (PNG_CRC_ERROR_QUIT), the zlib header and Adler-32, the exact
// decompressed size, nothing after the stream, the filter types. The
// header, the chunks before IDAT and their warnings stay libpng's
// (png_codec.cpp reads them with png_read_info first).
#include "png_idat.hpp"

#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <imio/ndarray.hpp>
#include <zlib.h>

#ifdef IMIO_PNG_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "png_chunks.hpp"
#include "png_filters.hpp"

namespace imio::png {
namespace {

constexpr std::uint32_t kIDAT = tag("IDAT");

// Working memory: up to 4 MiB per buffer is kept by the thread between
// decodes (a fresh buffer costs a page fault per 4 KiB, which for a 512×512
// image is a third of the decode); larger ones come from the core's
// allocator, which backs them with huge pages. Slot 0: the joined IDAT
// data, slot 1: the inflated rows.
class Scratch {
 public:
  std::uint8_t* get(int slot, std::size_t n) {
    constexpr std::size_t kKeep = std::size_t{4} << 20;
    if (n > kKeep) {
      large_[slot] = NDArray::uninitialized({n}, DType::uint8);
      return reinterpret_cast<std::uint8_t*>(large_[slot].bytes());
    }
    thread_local std::array<std::vector<std::uint8_t>, 2> kept;
    std::vector<std::uint8_t>& v = kept[static_cast<std::size_t>(slot)];
    if (v.size() < n) v.resize(n);
    return v.data();
  }

 private:
  std::array<NDArray, 2> large_;
};

// A chunk's CRC over its type and data (PNG 1.2 §3.4); libdeflate's is
// several times faster than zlib 1.2's.
std::uint32_t idat_crc(const std::byte* type_and_data, std::size_t n) {
#ifdef IMIO_PNG_LIBDEFLATE
  return libdeflate_crc32(0, type_and_data, n);
#else
  return static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(type_and_data), n));
#endif
}

// The IDAT chunks' data in file order, each CRC checked. Empty when a chunk
// runs past the end, a CRC does not match or there is no IDAT.
std::vector<std::span<const std::byte>> idat_data(std::span<const std::byte> png) {
  std::vector<std::span<const std::byte>> out;
  std::size_t pos = 8;
  while (pos + 12 <= png.size()) {
    const std::uint32_t length = be32(png.data() + pos), type = be32(png.data() + pos + 4);
    if (length > png.size() - pos - 12) return {};
    if (type == kIDAT) {
      const std::span<const std::byte> data = png.subspan(pos + 8, length);
      if (idat_crc(png.data() + pos + 4, length + 4) != be32(png.data() + pos + 8 + length)) return {};
      out.push_back(data);
    } else if (!out.empty()) {
      break;  // IDATs are consecutive (the chunk walk refuses a file where they are not)
    }
    pos += 12 + std::size_t{length};
  }
  return out;
}

// ISO/IEC 15948 §10.1: a zlib stream may declare a window smaller than 32K
// (CINFO < 7; libpng's writer does so for small images), and zlib refuses a
// distance beyond it only when it is not in the output of the same inflate
// call: libdeflate always allows 32K, and zlib inflating the whole image in
// one call would too. So the one-piece inflate is used only where no
// distance can exceed the declared window: the whole output fits in it.
bool window_fits(std::byte cmf, std::size_t out_size) {
  const unsigned cinfo = static_cast<unsigned>(cmf) >> 4;
  return cinfo >= 7 || out_size <= (std::size_t{1} << (cinfo + 8));
}

#ifdef IMIO_PNG_LIBDEFLATE
struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};

// One decompressor per thread, kept: allocating it costs more than
// inflating a small image.
libdeflate_decompressor* decompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorFree> kept(libdeflate_alloc_decompressor());
  return kept.get();
}

bool inflate_all(const std::vector<std::span<const std::byte>>& parts, std::uint8_t* out, std::size_t out_size,
                 Scratch& scratch) {
  libdeflate_decompressor* d = decompressor();
  if (d == nullptr) return false;
  std::span<const std::byte> in = parts.front();
  if (parts.size() > 1) {
    std::size_t total = 0;
    for (const auto& p : parts) total += p.size();
    auto* joined = reinterpret_cast<std::byte*>(scratch.get(0, total));
    std::size_t at = 0;
    for (const auto& p : parts) {
      if (!p.empty()) std::memcpy(joined + at, p.data(), p.size());
      at += p.size();
    }
    in = std::span<const std::byte>(joined, total);
  }
  if (in.size() < 2 || !window_fits(in[0], out_size)) return false;
  std::size_t used = 0;
  // With no actual_out pointer, fewer bytes than out_size is a failure
  // (LIBDEFLATE_SHORT_OUTPUT), as is a stream that would write more.
  const libdeflate_result r = libdeflate_zlib_decompress_ex(d, in.data(), in.size(), out, out_size, &used, nullptr);
  return r == LIBDEFLATE_SUCCESS && used == in.size();
}

const char* inflater_name() noexcept { return "libdeflate " LIBDEFLATE_VERSION_STRING; }
#else
struct Inflater {
  z_stream z{};
  bool ok = false;
  Inflater() { ok = inflateInit(&z) == Z_OK; }
  ~Inflater() {
    if (ok) inflateEnd(&z);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

// zlib's streaming inflate over the chunks, into the whole output at once
// (no row-sized output window as in libpng).
bool inflate_all(const std::vector<std::span<const std::byte>>& parts, std::uint8_t* out, std::size_t out_size,
                 Scratch&) {
  if (out_size > 0xffffffffu || parts.front().empty() || !window_fits(parts.front()[0], out_size)) return false;
  Inflater inf;
  if (!inf.ok) return false;
  inf.z.next_out = out;
  inf.z.avail_out = static_cast<uInt>(out_size);
  int rc = Z_OK;
  std::size_t k = 0;
  for (; k < parts.size() && rc == Z_OK; ++k) {
    if (parts[k].size() > 0xffffffffu) return false;
    inf.z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(parts[k].data()));
    inf.z.avail_in = static_cast<uInt>(parts[k].size());
    rc = inflate(&inf.z, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR) rc = Z_OK;  // this chunk is used up: the next one continues
  }
  if (rc != Z_STREAM_END || inf.z.avail_out != 0 || inf.z.avail_in != 0) return false;
  for (; k < parts.size(); ++k) {
    if (!parts[k].empty()) return false;  // data after the stream's end
  }
  return true;
}

const char* inflater_name() noexcept { return "zlib " ZLIB_VERSION; }
#endif

// libpng's png_set_packing: one byte per sample, the value as stored.
void unpack(const std::uint8_t* row, std::uint8_t* out, std::size_t samples, int depth) {
  const unsigned mask = (1u << depth) - 1u;
  const int per_byte = 8 / depth;
  for (std::size_t i = 0; i < samples; ++i) {
    const int shift = 8 - depth * (1 + static_cast<int>(i % static_cast<std::size_t>(per_byte)));
    out[i] = static_cast<std::uint8_t>((row[i / static_cast<std::size_t>(per_byte)] >> shift) & mask);
  }
}

// libpng's png_set_swap on a little-endian machine: native uint16.
void to_native16(const std::uint8_t* row, std::uint8_t* out, std::size_t bytes) {
  if constexpr (std::endian::native == std::endian::big) {
    std::memcpy(out, row, bytes);
  } else {
    for (std::size_t i = 0; i + 1 < bytes; i += 2) {
      out[i] = row[i + 1];
      out[i + 1] = row[i];
    }
  }
}

}  // namespace

bool decode_idat(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type, int interlace,
                 std::byte* dst) {
  if (interlace != 0 || layout.width == 0 || layout.height == 0) return false;
  const auto parts = idat_data(png);
  if (parts.empty()) return false;
  const int channels = color_type == 3 ? 1 : layout.channels;
  const std::size_t samples = std::size_t{layout.width} * static_cast<std::size_t>(channels);
  const std::size_t stored = (samples * static_cast<std::size_t>(bit_depth) + 7) / 8;  // bytes of one filtered row
  const std::size_t stride = stored + 1, height = layout.height;
  Scratch scratch;
  std::uint8_t* filtered = scratch.get(1, stride * height);
  if (!inflate_all(parts, filtered, stride * height, scratch)) return false;

  const int bpp = std::max(1, channels * bit_depth / 8);  // §9.2: bytes per complete pixel, at least 1
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  const std::size_t out_row = layout.row_bytes();
  std::vector<std::uint8_t> zeros(stored, 0);
  if (bit_depth == 8) {
    // Straight into the result: the row is copied, then unfiltered against the result's row above.
    const std::uint8_t* prev = zeros.data();
    for (std::size_t y = 0; y < height; ++y) {
      const std::uint8_t* row = filtered + y * stride;
      std::uint8_t* o = out + y * out_row;
      std::memcpy(o, row + 1, stored);
      if (!unfilter_row(row[0], o, prev, stored, bpp)) return false;
      prev = o;
    }
    return true;
  }
  // 16-bit and packed rows: unfiltered in place, then laid out.
  const std::uint8_t* prev = zeros.data();
  for (std::size_t y = 0; y < height; ++y) {
    std::uint8_t* row = filtered + y * stride;
    if (!unfilter_row(row[0], row + 1, prev, stored, bpp)) return false;
    if (bit_depth == 16) {
      to_native16(row + 1, out + y * out_row, stored);
    } else {
      unpack(row + 1, out + y * out_row, samples, bit_depth);
    }
    prev = row + 1;
  }
  return true;
}

bool idat_decoder_enabled() noexcept {
  const char* v = std::getenv("IMIO_PNG_LIBPNG_ONLY");
  return v == nullptr || *v == '\0';
}

const char* idat_inflater() noexcept { return inflater_name(); }

}  // namespace imio::png
