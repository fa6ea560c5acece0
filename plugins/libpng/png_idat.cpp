// The image data of a non-interlaced PNG, decoded without libpng. libpng
// inflates row by row through a small window and unfilters one byte at a
// time; here the zlib stream is inflated either in one call into a buffer
// of the whole image (libdeflate's whole-buffer inflate is about twice as
// fast as zlib's streaming one; the thread keeps buffers up to 4 MiB) or,
// for regions that end early and under imread_into for images larger than
// the kept buffer, by zlib a batch of rows at a time into a window of at
// most 256 KiB, the IDAT chunks fed one by one: no memory in proportion to
// the image, and the rows below a region are never inflated.
// Each row is unfiltered a pixel at a time (png_filters.cpp) and only the
// region's columns are laid out.
//
// Every check libpng makes on the image data is made here too, and any
// failure hands the file back to libpng rather than reporting it: the IDAT
// CRCs (PNG_CRC_ERROR_QUIT), the zlib header and Adler-32, the exact
// decompressed size, nothing after the stream, the filter types. The
// header, the chunks before IDAT and their warnings stay libpng's
// (png_codec.cpp reads them with png_read_info first).
#include "png_idat.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <imio/ndarray.hpp>
#include <imio/packed_samples.hpp>
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
// image is a third of the decode); larger ones (a window for rows above
// 2 MiB) come from the core's allocator. Slot 0: the joined IDAT data,
// slot 1: the inflated rows (all of them, or the streaming window).
constexpr std::size_t kKeep = std::size_t{4} << 20;

class Scratch {
 public:
  std::uint8_t* get(int slot, std::size_t n) {
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
  if (in.size() < 2) return false;
  std::size_t used = 0;
  // With no actual_out pointer, fewer bytes than out_size is a failure
  // (LIBDEFLATE_SHORT_OUTPUT), as is a stream that would write more.
  const libdeflate_result r = libdeflate_zlib_decompress_ex(d, in.data(), in.size(), out, out_size, &used, nullptr);
  return r == LIBDEFLATE_SUCCESS && used == in.size();
}

const char* inflater_name() noexcept { return "libdeflate " LIBDEFLATE_VERSION_STRING; }
#else
const char* inflater_name() noexcept { return "zlib " ZLIB_VERSION; }
#endif

// zlib's inflate state, kept by the thread and reset for each image:
// creating one allocates its 32 KiB window.
z_stream* kept_inflater() {
  struct Kept {
    z_stream z{};
    bool ok = false;
    Kept() { ok = inflateInit(&z) == Z_OK; }
    ~Kept() {
      if (ok) inflateEnd(&z);
    }
    Kept(const Kept&) = delete;
    Kept& operator=(const Kept&) = delete;
  };
  thread_local Kept kept;
  if (!kept.ok || inflateReset(&kept.z) != Z_OK) return nullptr;
  return &kept.z;
}

// The IDAT chunks' zlib stream inflated piece by piece, the chunks fed to
// zlib one by one as it asks for input (no joined copy).
class ChunkStream {
 public:
  ChunkStream(const std::vector<std::span<const std::byte>>& parts, z_stream* z) : parts_(parts), z_(z) {
    z_->next_in = nullptr;
    z_->avail_in = 0;
  }

  // Inflates exactly `n` bytes (n < 4 GiB) into `out`; false when the
  // stream is corrupt or ends before.
  bool read(std::uint8_t* out, std::size_t n) {
    z_->next_out = out;
    z_->avail_out = static_cast<uInt>(n);
    while (z_->avail_out > 0) {
      if (z_->avail_in == 0 && !feed()) return false;
      const int rc = inflate(z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        ended_ = true;
        return z_->avail_out == 0;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    }
    return true;
  }

  // After the last row: the stream ends there (its Adler-32 checked by
  // zlib), with no byte after it in this or any later IDAT chunk.
  bool finish() {
    if (!ended_) {
      std::uint8_t extra = 0;
      z_->next_out = &extra;
      z_->avail_out = 1;
      for (;;) {
        if (z_->avail_in == 0 && !feed()) return false;
        const int rc = inflate(z_, Z_NO_FLUSH);
        if (z_->avail_out == 0) return false;  // more data than the image holds
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      }
    }
    if (z_->avail_in != 0) return false;
    for (; next_ < parts_.size(); ++next_) {
      if (!parts_[next_].empty()) return false;
    }
    return true;
  }

 private:
  bool feed() {
    while (next_ < parts_.size() && parts_[next_].empty()) ++next_;
    if (next_ == parts_.size()) return false;
    z_->next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(parts_[next_].data()));
    z_->avail_in = static_cast<uInt>(parts_[next_].size());  // chunks hold below 2**31 bytes
    ++next_;
    return true;
  }

  const std::vector<std::span<const std::byte>>& parts_;
  z_stream* z_;
  std::size_t next_ = 0;
  bool ended_ = false;
};

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

// One image's rows: how they are stored and which part of each is laid out.
struct Rows {
  std::size_t stored = 0;  // bytes of one filtered row, without its filter byte
  std::size_t stride = 0;  // stored + 1
  int bpp = 1;             // §9.2: bytes per complete pixel, at least 1
  int depth = 8;
  std::size_t first = 0, count = 0;  // the region's columns: bytes (8/16-bit) or samples (1/2/4-bit)
  bool whole_width = false;

  // Lays out the region's columns of the reconstructed row `row`.
  void emit(const std::uint8_t* row, std::uint8_t* out) const {
    if (depth == 8) {
      std::memcpy(out, row + first, count);
    } else if (depth == 16) {
      to_native16(row + first, out, count);
    } else {
      unpack_samples(row, out, first, count, static_cast<unsigned>(depth));  // libpng's png_set_packing
    }
  }
};

#ifdef IMIO_PNG_LIBDEFLATE
// The row above the first one: zeros, kept by the thread.
const std::uint8_t* zero_row(std::size_t n) {
  thread_local std::vector<std::uint8_t> zeros;
  if (zeros.size() < n) zeros.resize(n, 0);
  return zeros.data();
}

// The rows of the whole inflated stream `filtered`, unfiltered down to the
// region's last one.
bool unfilter_all(std::uint8_t* filtered, const Rows& g, const Region& r, RowSink& sink) {
  const std::uint8_t* prev = zero_row(g.stored);
  for (std::size_t y = 0; y < r.bottom; ++y) {
    std::uint8_t* row = filtered + y * g.stride;
    if (y >= r.top && g.depth == 8 && g.whole_width) {
      // Straight into the result: copied, then unfiltered against the row
      // above, which the sink keeps until this one is done.
      auto* o = reinterpret_cast<std::uint8_t*>(sink.row(y - r.top));
      std::memcpy(o, row + 1, g.stored);
      if (!unfilter_row(row[0], o, prev, g.stored, g.bpp)) return false;
      prev = o;
      sink.done(y - r.top);
      continue;
    }
    if (!unfilter_row(row[0], row + 1, prev, g.stored, g.bpp)) return false;
    if (y >= r.top) {
      g.emit(row + 1, reinterpret_cast<std::uint8_t*>(sink.row(y - r.top)));
      sink.done(y - r.top + 1);
    }
    prev = row + 1;
  }
  return true;
}

#endif

// Rows of at most this many bytes are inflated per zlib call: the window
// stays in the L2 cache while it is unfiltered and laid out.
constexpr std::size_t kWindow = std::size_t{256} << 10;

// The stream inflated a batch of rows at a time into a window whose slot 0
// holds the reconstructed row above the batch; inflating stops after the
// region's last row.
bool stream_rows(const std::vector<std::span<const std::byte>>& parts, const Rows& g, const Region& r,
                 std::size_t height, RowSink& sink, Scratch& scratch) {
  z_stream* z = kept_inflater();
  if (z == nullptr) return false;
  ChunkStream in(parts, z);
  const std::size_t batch = std::clamp<std::size_t>(kWindow / g.stride, 1, r.bottom);
  std::uint8_t* window = scratch.get(1, (batch + 1) * g.stride);
  std::memset(window, 0, g.stride);
  for (std::size_t y = 0; y < r.bottom;) {
    const std::size_t n = std::min(batch, r.bottom - y);
    if (!in.read(window + g.stride, n * g.stride)) return false;
    for (std::size_t i = 1; i <= n; ++i, ++y) {
      std::uint8_t* row = window + i * g.stride;
      if (!unfilter_row(row[0], row + 1, window + (i - 1) * g.stride + 1, g.stored, g.bpp)) return false;
      if (y >= r.top) {
        g.emit(row + 1, reinterpret_cast<std::uint8_t*>(sink.row(y - r.top)));
        sink.done(y - r.top + 1);
      }
    }
    std::memcpy(window + 1, window + n * g.stride + 1, g.stored);
  }
  return r.bottom < height || in.finish();
}

#ifdef IMIO_PNG_LIBDEFLATE
// Which inflate: IMIO_PNG_IDAT_PATH=whole|stream forces one (the tests
// compare both with libpng; the benchmarks time both).
enum class Path { choose, whole, stream };
Path forced_path() {
  const char* v = std::getenv("IMIO_PNG_IDAT_PATH");
  if (v == nullptr) return Path::choose;
  if (std::strcmp(v, "whole") == 0) return Path::whole;
  if (std::strcmp(v, "stream") == 0) return Path::stream;
  return Path::choose;
}
#endif

}  // namespace

// `bounded_memory` matters only with libdeflate: without it every image streams.
bool decode_idat(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type, int interlace,
                 const Region& region, RowSink& sink, [[maybe_unused]] bool bounded_memory) {
  if (interlace != 0 || layout.width == 0 || layout.height == 0) return false;
  if (region.left >= region.right || region.top >= region.bottom || region.right > layout.width ||
      region.bottom > layout.height) {
    return false;
  }
  const auto parts = idat_data(png);
  if (parts.empty() || parts.front().empty()) return false;
  const int channels = color_type == 3 ? 1 : layout.channels;
  const std::size_t samples = std::size_t{layout.width} * static_cast<std::size_t>(channels);
  Rows g;
  g.stored = (samples * static_cast<std::size_t>(bit_depth) + 7) / 8;
  g.stride = g.stored + 1;
  g.bpp = std::max(1, channels * bit_depth / 8);
  g.depth = bit_depth;
  const std::size_t pixel_samples = static_cast<std::size_t>(channels);
  if (bit_depth >= 8) {
    const std::size_t px = pixel_samples * static_cast<std::size_t>(bit_depth / 8);
    g.first = region.left * px;
    g.count = region.width() * px;
  } else {
    g.first = region.left * pixel_samples;
    g.count = region.width() * pixel_samples;
  }
  g.whole_width = region.left == 0 && region.right == layout.width;
  const std::size_t height = layout.height, total = g.stride * height;
  // A stream declaring a window below 32 KiB goes to libpng unless the
  // whole image fits in it (window_fits).
  if (!window_fits(parts.front()[0], total)) return false;
  Scratch scratch;
#ifdef IMIO_PNG_LIBDEFLATE
  // libdeflate inflates about twice as fast as zlib but only whole streams,
  // into a buffer of the whole image: it takes every image unless the region
  // ends in the upper half, whose rows zlib inflates alone in less time.
  // Under imread_into (`bounded_memory`) images whose rows do not fit the
  // kept buffer stream instead, so that nothing in proportion to the image
  // is allocated, at about 1.8× the time (12 MP RGB: 0.96× libpng's time
  // instead of 0.50×; bench_libpng).
  Path path = forced_path();
  if (path == Path::choose) {
    std::size_t compressed = 0;
    for (const auto& p : parts) compressed += p.size();
    const bool fits_kept = total <= kKeep && (parts.size() == 1 || compressed <= kKeep);
    path = (!bounded_memory || fits_kept) && region.bottom * 2 > height ? Path::whole : Path::stream;
  }
  if (path == Path::whole) {
    std::uint8_t* filtered = scratch.get(1, total);
    if (!inflate_all(parts, filtered, total, scratch)) return false;
    return unfilter_all(filtered, g, region, sink);
  }
#endif
  if (g.stride > 0xffffffffu) return false;  // zlib counts output in 32 bits
  return stream_rows(parts, g, region, height, sink, scratch);
}

bool idat_decoder_enabled() noexcept {
  const char* v = std::getenv("IMIO_PNG_LIBPNG_ONLY");
  return v == nullptr || *v == '\0';
}

const char* idat_inflater() noexcept { return inflater_name(); }

}  // namespace imio::png
