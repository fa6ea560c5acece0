// Decoding through libtiff: one handle per thread, each selecting its page's
// directory by offset (TIFFSetSubDirectory), never walking the chain.
#include "tiff_decode.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <limits>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <imio/hardware_threads.hpp>
#include <imio/packed_samples.hpp>
#include <tiffio.h>

#include "tiff_messages.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

// ---------------------------------------------------------------- I/O

// The encoded data, shared by the handles of one decode: memory when the
// source has it contiguously, else the ByteSource behind a mutex.
struct Shared {
  ByteSource* source = nullptr;
  std::optional<std::span<const std::byte>> memory;
  std::uint64_t size = 0;
  std::mutex mutex;

  std::size_t read_at(std::uint64_t pos, void* dst, std::size_t n) {
    if (memory) {
      if (pos >= memory->size()) return 0;
      n = static_cast<std::size_t>(std::min<std::uint64_t>(n, memory->size() - pos));
      std::memcpy(dst, memory->data() + pos, n);
      return n;
    }
    std::lock_guard lock(mutex);
    source->seek(pos);
    return source->read(dst, n);
  }
};

struct Client {
  Shared* shared = nullptr;
  std::uint64_t pos = 0;
  std::string error;
};

extern "C" tmsize_t proc_read(thandle_t h, void* buf, tmsize_t n) {
  auto* c = static_cast<Client*>(h);
  try {
    const std::size_t got = c->shared->read_at(c->pos, buf, static_cast<std::size_t>(n));
    c->pos += got;
    return static_cast<tmsize_t>(got);
  } catch (const std::exception& e) {
    if (c->error.empty()) c->error = e.what();
    return -1;
  }
}

extern "C" tmsize_t proc_write(thandle_t, void*, tmsize_t) { return -1; }

extern "C" toff_t proc_seek(thandle_t h, toff_t off, int whence) {
  auto* c = static_cast<Client*>(h);
  if (whence == SEEK_SET) c->pos = off;
  else if (whence == SEEK_CUR) c->pos += off;
  else c->pos = c->shared->size + off;
  return c->pos;
}

extern "C" int proc_close(thandle_t) { return 0; }
extern "C" toff_t proc_size(thandle_t h) { return static_cast<Client*>(h)->shared->size; }

// Memory-resident data are "mapped": libtiff then decodes from them without a copy.
extern "C" int proc_map(thandle_t h, void** base, toff_t* size) {
  auto* c = static_cast<Client*>(h);
  if (!c->shared->memory) return 0;
  *base = const_cast<std::byte*>(c->shared->memory->data());
  *size = c->shared->memory->size();
  return 1;
}
extern "C" void proc_unmap(thandle_t, void*, toff_t) {}

// One libtiff handle over the shared data.
class Handle {
 public:
  Handle(Shared& shared, const Limits& limits) {
    client_.shared = &shared;
    ErrorScope scope(client_.error);
    TIFFOpenOptions* opts = make_open_options(&client_.error, limits.max_bytes);
    // "h": the header only (every use selects its directory by offset);
    // "c": no strip chopping, so libtiff's strips are the file's (imio's).
    tif_ = TIFFClientOpenExt("tiff", "rhc", &client_, proc_read, proc_write, proc_seek, proc_close, proc_size, proc_map,
                             proc_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (tif_ == nullptr) fail("libtiff cannot open the file");
  }
  ~Handle() {
    if (tif_ != nullptr) {
      ErrorScope scope(client_.error);
      TIFFClose(tif_);
    }
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  TIFF* tif() const noexcept { return tif_; }
  std::string& error() noexcept { return client_.error; }

  void select(const Page& page, std::uint64_t ifd_offset) {
    if (ifd_offset == current_) return;
    current_ = ~std::uint64_t{0};
    if (TIFFSetSubDirectory(tif_, ifd_offset) != 1) fail(fmt::format("cannot read the IFD at offset {}", ifd_offset));
    if (page.jpeg_rgb) TIFFSetField(tif_, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    const bool tiled = TIFFIsTiled(tif_) != 0;
    const std::uint64_t n = tiled ? TIFFNumberOfTiles(tif_) : TIFFNumberOfStrips(tif_);
    if (tiled != page.tiled || n != page.offsets.size()) {
      fail(fmt::format("libtiff sees {} {} in the IFD at offset {}, imio {}", n, tiled ? "tiles" : "strips", ifd_offset,
                       page.offsets.size()));
    }
    current_ = ifd_offset;
    client_.error.clear();  // errors libtiff recovered from while reading the IFD are not the cause of later ones
  }

  [[noreturn]] void fail(std::string_view what) {
    if (client_.error.empty()) throw DecodeError(std::string(what));
    throw DecodeError(fmt::format("{}: {}", what, client_.error));
  }

 private:
  Client client_;
  TIFF* tif_ = nullptr;
  std::uint64_t current_ = ~std::uint64_t{0};
};

// ---------------------------------------------------------------- geometry

std::uint64_t div_up(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// Where strip/tile i lands in the page.
struct Block {
  std::uint32_t plane = 0, y0 = 0, x0 = 0, rows = 0, cols = 0;
  std::uint32_t src_rows = 0, src_cols = 0;  // the decoded block's own size
};

Block block_of(const Page& p, std::size_t i) {
  Block b;
  if (p.tiled) {
    const std::uint64_t across = div_up(p.width, p.tile_width), down = div_up(p.height, p.tile_height);
    const std::uint64_t per_plane = across * down;
    b.plane = static_cast<std::uint32_t>(i / per_plane);
    const std::uint64_t r = i % per_plane;
    b.y0 = static_cast<std::uint32_t>((r / across) * p.tile_height);
    b.x0 = static_cast<std::uint32_t>((r % across) * p.tile_width);
    b.rows = std::min(p.tile_height, p.height - b.y0);
    b.cols = std::min(p.tile_width, p.width - b.x0);
    b.src_rows = p.tile_height;
    b.src_cols = p.tile_width;
  } else {
    const std::uint64_t per_plane = div_up(p.height, p.rows_per_strip);
    b.plane = static_cast<std::uint32_t>(i / per_plane);
    b.y0 = static_cast<std::uint32_t>((i % per_plane) * p.rows_per_strip);
    b.rows = std::min(p.rows_per_strip, p.height - b.y0);
    b.cols = p.width;
    b.src_rows = b.rows;
    b.src_cols = p.width;
  }
  return b;
}

std::uint32_t plane_samples(const Page& p) { return p.planar == 2 ? 1 : p.spp; }

// Byte offset in the output of pixel (plane, y, x) of the page, which holds
// window `w` of it.
std::size_t dest_offset(const Page& p, const Window& w, std::uint32_t plane, std::uint32_t y, std::uint32_t x) {
  const std::size_t item = itemsize(p.dtype);
  if (p.planar == 2) return ((std::size_t{plane} * w.height() + (y - w.y0)) * w.width() + (x - w.x0)) * item;
  return (std::size_t{y - w.y0} * w.width() + (x - w.x0)) * p.spp * item;
}

// The part of block `b` inside window `w` (empty when rows or cols is 0).
struct Clip {
  std::uint32_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
  bool empty() const noexcept { return y0 >= y1 || x0 >= x1; }
};

Clip clip(const Block& b, const Window& w) {
  return {std::max(b.y0, w.y0), std::min(b.y0 + b.rows, w.y1), std::max(b.x0, w.x0), std::min(b.x0 + b.cols, w.x1)};
}

std::size_t src_row_bytes(const Page& p, std::uint32_t cols) {
  return static_cast<std::size_t>(div_up(std::uint64_t{cols} * plane_samples(p) * p.bps, 8));
}

// Unpacks `n` samples of `bps` bits (MSB first), from sample `first` of
// `src` on, into elements of `item` bytes.
void unpack_bits(const std::byte* src, std::byte* dst, std::size_t n, unsigned bps, std::size_t item,
                 std::size_t first = 0) {
  // 1, 2 and 4 bits (bilevel scans, masks, palettes) a byte at a time.
  if (item == 1 && unpack_samples(reinterpret_cast<const std::uint8_t*>(src), reinterpret_cast<std::uint8_t*>(dst),
                                  first, n, bps)) {
    return;
  }
  std::uint64_t bit = std::uint64_t{first} * bps;
  for (std::size_t k = 0; k < n; ++k, bit += bps) {
    std::uint64_t v = 0;
    for (unsigned b = 0; b < bps; ++b) {
      const std::uint64_t at = bit + b;
      v = (v << 1) | ((std::to_integer<unsigned>(src[at >> 3]) >> (7 - (at & 7))) & 1u);
    }
    switch (item) {
      case 1: dst[k] = static_cast<std::byte>(v); break;
      case 2: { const auto x = static_cast<std::uint16_t>(v); std::memcpy(dst + 2 * k, &x, 2); break; }
      case 4: { const auto x = static_cast<std::uint32_t>(v); std::memcpy(dst + 4 * k, &x, 4); break; }
      default: std::memcpy(dst + 8 * k, &v, 8);
    }
  }
}

// Widens `n` samples of `bytes` bytes (24, 40, 48, 56-bit), little-endian as
// libtiff returns them (it swaps the bytes of a big-endian file,
// _TIFFSwab24BitData), into elements of `item` bytes (native little-endian).
void widen_bytes(const std::byte* src, std::byte* dst, std::size_t n, unsigned bytes, std::size_t item) {
  for (std::size_t k = 0; k < n; ++k) {
    std::memset(dst + k * item, 0, item);
    std::memcpy(dst + k * item, src + k * bytes, bytes);
  }
}

// Copies the part of a decoded block inside window `w` into the output.
void place_block(const Page& p, const Block& b, const std::byte* src, std::byte* page_out, const Window& w) {
  const Clip c = clip(b, w);
  if (c.empty()) return;
  const std::size_t row_bytes = src_row_bytes(p, b.src_cols);
  const std::size_t n = std::size_t{c.x1 - c.x0} * plane_samples(p);
  const std::size_t first = std::size_t{c.x0 - b.x0} * plane_samples(p);  // samples left of the window
  const std::size_t item = itemsize(p.dtype);
  for (std::uint32_t y = c.y0; y < c.y1; ++y) {
    std::byte* dst = page_out + dest_offset(p, w, b.plane, y, c.x0);
    const std::byte* row = src + std::size_t{y - b.y0} * row_bytes;
    if (p.bps == 8 * item) {
      std::memcpy(dst, row + first * item, n * item);
    } else if (p.bps % 8 == 0) {
      widen_bytes(row + first * (p.bps / 8u), dst, n, p.bps / 8u, item);
    } else {
      unpack_bits(row, dst, n, p.bps, item, first);
    }
  }
}

// A strip or tile that was never written: GDAL's sparse files store offset 0
// and byte count 0; tifffile reads such a block as zeros, and so does imio.
bool sparse(const Page& p, std::size_t i) { return p.offsets[i] == 0 || p.counts[i] == 0; }

// Zeroes the part of block `b` inside window `w`.
void zero_block(const Page& p, const Block& b, std::byte* page_out, const Window& w) {
  const Clip c = clip(b, w);
  if (c.empty()) return;
  const std::size_t n = std::size_t{c.x1 - c.x0} * plane_samples(p) * itemsize(p.dtype);
  for (std::uint32_t y = c.y0; y < c.y1; ++y) std::memset(page_out + dest_offset(p, w, b.plane, y, c.x0), 0, n);
}

// ---------------------------------------------------------------- uncompressed

bool raw_readable(const Page& p) {
  // Only samples that fill their element (8/16/32/64 bits): 24-bit and the
  // like go through libtiff, which puts their bytes in native order.
  return p.compression == 1 && !p.tiled && p.bps == 8 * itemsize(p.dtype) && p.problem.empty() && !p.jpeg_rgb &&
         !p.ojpeg_rgb;
}

void byteswap(std::byte* data, std::size_t n, std::size_t item) {
  for (std::size_t i = 0; i < n; i += item) std::reverse(data + i, data + i + item);
}

// FillOrder 2 (TIFF 6.0 §FillOrder): the bits of every stored byte are in
// reverse order. libtiff undoes it for what it decodes; the raw path must too.
void reverse_bits(std::byte* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto v = std::to_integer<unsigned>(data[i]);
    v = ((v & 0xF0u) >> 4) | ((v & 0x0Fu) << 4);
    v = ((v & 0xCCu) >> 2) | ((v & 0x33u) << 2);
    v = ((v & 0xAAu) >> 1) | ((v & 0x55u) << 1);
    data[i] = static_cast<std::byte>(v);
  }
}

// Uncompressed strips are the page's bytes in order: they are read where
// they lie, adjacent runs (also across pages) merged into one read. Of a
// window, only its rows are read, and of a narrower window each row's part.
void read_raw(ByteSource& source, bool little, std::span<const Page* const> pages, std::span<std::byte* const> outs,
              const std::optional<Window>& window) {
  struct Run {
    std::uint64_t file;
    std::byte* dst;
    std::size_t len;
  };
  std::vector<Run> runs;
  const auto add = [&runs](std::uint64_t file, std::byte* dst, std::size_t len) {
    if (!runs.empty() && runs.back().file + runs.back().len == file && runs.back().dst + runs.back().len == dst) {
      runs.back().len += len;
    } else {
      runs.push_back({file, dst, len});
    }
  };
  for (std::size_t k = 0; k < pages.size(); ++k) {
    const Page& p = *pages[k];
    const Window w = window.value_or(whole_page(p));
    const std::size_t row_bytes = src_row_bytes(p, p.width);
    const std::size_t pixel = plane_samples(p) * itemsize(p.dtype);
    for (const std::size_t s : blocks_touched(p, w)) {
      const Block b = block_of(p, s);
      if (sparse(p, s)) {
        zero_block(p, b, outs[k], w);
        continue;
      }
      const Clip c = clip(b, w);
      if (c.x0 == 0 && c.x1 == p.width) {
        add(p.offsets[s] + std::uint64_t{c.y0 - b.y0} * row_bytes, outs[k] + dest_offset(p, w, b.plane, c.y0, 0),
            (c.y1 - c.y0) * row_bytes);
        continue;
      }
      for (std::uint32_t y = c.y0; y < c.y1; ++y) {
        add(p.offsets[s] + std::uint64_t{y - b.y0} * row_bytes + std::uint64_t{c.x0} * pixel,
            outs[k] + dest_offset(p, w, b.plane, y, c.x0), (c.x1 - c.x0) * pixel);
      }
    }
  }
  for (const Run& r : runs) {
    source.seek(r.file);
    const std::size_t got = source.read(r.dst, r.len);
    if (got != r.len) {
      throw DecodeError(fmt::format("the file is truncated: {} bytes of pixel data at offset {}, {} present", r.len,
                                    r.file, got));
    }
  }
  for (std::size_t k = 0; k < pages.size(); ++k) {
    const std::size_t n = window ? window_nbytes(*pages[k], *window) : pages[k]->nbytes();
    // Bit order first: it is a property of the stored bytes, before byte order.
    if (pages[k]->fill_order == 2) reverse_bits(outs[k], n);
    const std::size_t item = itemsize(pages[k]->dtype);
    if (!little && item > 1) byteswap(outs[k], n, item);
  }
}

// ---------------------------------------------------------------- through libtiff

// Blocks [begin, end) of `blocks` (the strips or tiles of the page the
// window touches) of one page.
struct Unit {
  const Page* page;
  std::uint64_t ifd_offset;
  std::byte* out;
  Window window;
  const std::vector<std::size_t>* blocks;
  std::size_t begin, end;
};

void decode_unit(Handle& h, const Unit& u, std::vector<std::byte>& scratch) {
  const Page& p = *u.page;
  const Window& w = u.window;
  ErrorScope scope(h.error());
  TIFF* tif = nullptr;
  for (std::size_t k = u.begin; k < u.end; ++k) {
    const std::size_t i = (*u.blocks)[k];
    const Block b = block_of(p, i);
    if (sparse(p, i)) {
      zero_block(p, b, u.out, w);
      continue;
    }
    if (tif == nullptr) {
      h.select(p, u.ifd_offset);
      tif = h.tif();
    }
    const std::size_t want = std::size_t{b.src_rows} * src_row_bytes(p, b.src_cols);
    const auto strile = static_cast<std::uint32_t>(i);
    if (!p.tiled && p.bps == 8 * itemsize(p.dtype) && w.x0 == 0 && w.x1 == p.width && w.y0 <= b.y0 &&
        b.y0 + b.rows <= w.y1) {
      // Whole-width rows, all in the window: decode straight into the output.
      std::byte* dst = u.out + dest_offset(p, w, b.plane, b.y0, 0);
      const tmsize_t got = TIFFReadEncodedStrip(tif, strile, dst, static_cast<tmsize_t>(want));
      if (got < 0) h.fail(fmt::format("cannot decode strip {}", i));
      if (static_cast<std::size_t>(got) < want) {
        std::memset(dst + got, 0, want - static_cast<std::size_t>(got));
        warn(kPlugin, fmt::format("strip {} decodes to {} bytes, {} expected; the rest is zero", i, got, want));
      }
      continue;
    }
    if (scratch.size() < want) scratch.resize(want);
    const tmsize_t got = p.tiled ? TIFFReadEncodedTile(tif, strile, scratch.data(), static_cast<tmsize_t>(want))
                                 : TIFFReadEncodedStrip(tif, strile, scratch.data(), static_cast<tmsize_t>(want));
    if (got < 0) h.fail(fmt::format("cannot decode {} {}", p.tiled ? "tile" : "strip", i));
    place_block(p, b, scratch.data(), u.out, w);
  }
}

// An old-style JPEG YCbCr page through libtiff's RGBA interface, which
// upsamples and converts with the page's YCbCrCoefficients and
// ReferenceBlackWhite (TIFF 6.0 §21) as Pillow's libtiff decoder does.
// The whole page is decoded; a window keeps its part.
void decode_rgba_page(Handle& h, const Page& p, std::uint64_t ifd_offset, std::byte* out, const Window& w) {
  ErrorScope scope(h.error());
  h.select(p, ifd_offset);
  std::vector<std::uint32_t> raster(std::size_t{p.width} * p.height);
  if (TIFFReadRGBAImageOriented(h.tif(), p.width, p.height, raster.data(), ORIENTATION_TOPLEFT, 1) != 1) {
    h.fail("cannot decode the old-style JPEG page");
  }
  std::size_t o = 0;
  for (std::uint32_t y = w.y0; y < w.y1; ++y) {
    for (std::uint32_t x = w.x0; x < w.x1; ++x, o += 3) {
      const std::uint32_t v = raster[std::size_t{y} * p.width + x];
      out[o] = static_cast<std::byte>(TIFFGetR(v));
      out[o + 1] = static_cast<std::byte>(TIFFGetG(v));
      out[o + 2] = static_cast<std::byte>(TIFFGetB(v));
    }
  }
}

void decode_with_libtiff(Request& request, std::vector<Unit> units, unsigned threads) {
  ByteSource& source = request.source();
  Shared shared;
  shared.source = &source;
  shared.memory = source.contiguous();
  shared.size = source.size().value_or(std::numeric_limits<std::uint64_t>::max() / 2);

  std::uint64_t encoded = 0;
  for (const Unit& u : units) {
    for (std::size_t k = u.begin; k < u.end; ++k) encoded += u.page->counts[(*u.blocks)[k]];
  }
  // Threads pay off only for real work; small files decode on the caller's thread.
  unsigned n = threads != 0 ? threads : std::min(hardware_threads(), 8u);
  if (threads == 0 && encoded < (std::uint64_t{1} << 19)) n = 1;
  n = static_cast<unsigned>(std::min<std::size_t>(n, units.size()));

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto work = [&] {
    try {
      Handle h(shared, request.limits());
      std::vector<std::byte> scratch;
      for (std::size_t k = next++; k < units.size() && !stop; k = next++) {
        const Unit& u = units[k];
        if (u.page->ojpeg_rgb) {
          decode_rgba_page(h, *u.page, u.ifd_offset, u.out, u.window);
        } else {
          decode_unit(h, u, scratch);
        }
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
      stop = true;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace

Window whole_page(const Page& page) noexcept { return {0, 0, page.width, page.height}; }

std::size_t window_nbytes(const Page& page, const Window& window) noexcept {
  return std::size_t{window.width()} * window.height() * page.spp * itemsize(page.dtype);
}

Shape window_shape(const Page& page, const Window& window) {
  Shape shape = page.shape;
  const std::size_t y_axis = page.planar == 2 && page.spp > 1 ? 1 : 0;  // (S,H,W) or (H,W[,S])
  shape[y_axis] = window.height();
  shape[y_axis + 1] = window.width();
  return shape;
}

std::vector<std::size_t> blocks_touched(const Page& page, const Window& window) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < page.offsets.size(); ++i) {
    if (!clip(block_of(page, i), window).empty()) out.push_back(i);
  }
  return out;
}

bool codec_available(std::uint16_t compression) { return TIFFIsCODECConfigured(compression) != 0; }

std::string_view compression_name(std::uint16_t c) {
  switch (c) {
    case 1: return "none";
    case 2: return "CCITT RLE";
    case 3: return "CCITT G3";
    case 4: return "CCITT G4";
    case 5: return "LZW";
    case 6: return "old-style JPEG";
    case 7: return "JPEG";
    case 8: case 32946: return "Deflate";
    case 32773: return "PackBits";
    case 32809: return "ThunderScan";
    case 34676: return "SGILog";
    case 34677: return "SGILog24";
    case 34712: return "JPEG 2000";
    case 34887: return "LERC";
    case 34925: return "LZMA";
    case 34933: return "PNG";
    case 34934: return "JPEG XR";
    case 50000: return "ZSTD";
    case 50001: return "WebP";
    case 50002: case 52546: return "JPEG XL";
    default: return "unknown";
  }
}

std::string libtiff_version() {
  // TIFFGetVersion() is a multi-line banner; its first line names the version.
  std::string v = TIFFGetVersion();
  v = v.substr(0, v.find('\n'));
  const auto at = v.find("Version ");
  return at == std::string::npos ? "libtiff" : "libtiff " + v.substr(at + 8);
}

void check_decodable(std::span<const Page* const> pages) {
  check_complete(pages);  // first: a cut file's missing tags make other problems
  for (const Page* p : pages) {
    if (!p->problem.empty()) throw DecodeError(p->problem);
  }
}

void check_complete(std::span<const Page* const> pages) {
  for (const Page* p : pages) {
    if (!p->truncated.empty()) throw DecodeError(p->truncated);
  }
}

std::uint64_t check_read(const Request& request, std::span<const Page* const> pages, const std::optional<Window>& window) {
  std::uint64_t pixels = 0, bytes = 0;
  for (const Page* p : pages) {
    const Window w = window.value_or(whole_page(*p));
    pixels += std::uint64_t{w.width()} * w.height();
    bytes += window_nbytes(*p, w);
  }
  request.check_frames(pages.size());
  request.check_pixels(pixels, 1, pages.empty() ? 1 : pages.front()->spp);
  check_decodable(pages);
  return bytes;
}

void decode_pages(Request& request, const Structure& st, std::span<const Page* const> pages, std::byte* out,
                  unsigned threads, const std::optional<Window>& window) {
  check_decodable(pages);
  for (const Page* p : pages) {
    if (window && (window->x1 > p->width || window->y1 > p->height || window->width() == 0 || window->height() == 0)) {
      throw ArgumentError(fmt::format("the region is not inside a {} x {} page", p->width, p->height));
    }
  }
  std::vector<const Page*> raw_pages;
  std::vector<std::byte*> raw_outs;
  std::vector<Unit> units;
  const unsigned want_threads = threads != 0 ? threads : std::min(hardware_threads(), 8u);
  std::size_t libtiff_pages = 0;
  for (const Page* p : pages) libtiff_pages += raw_readable(*p) ? 0 : 1;
  std::vector<std::vector<std::size_t>> touched;  // per libtiff page; Units point into it
  touched.reserve(libtiff_pages);
  std::byte* dst = out;
  for (const Page* pp : pages) {
    const Page& p = *pp;
    const Window w = window.value_or(whole_page(p));
    if (raw_readable(p)) {
      raw_pages.push_back(&p);
      raw_outs.push_back(dst);
    } else {
      const std::uint64_t ifd_offset = st.ifds[p.ifd].offset;
      touched.push_back(blocks_touched(p, w));
      const std::vector<std::size_t>& blocks = touched.back();
      const std::size_t n = blocks.size();
      // Few pages: split each page's strips/tiles so every thread has work
      // (an RGBA-decoded page is one unit: libtiff converts it whole).
      const std::size_t parts =
          libtiff_pages >= want_threads || p.ojpeg_rgb ? 1 : std::clamp<std::size_t>(n, 1, want_threads);
      for (std::size_t k = 0; k < parts; ++k) {
        units.push_back({&p, ifd_offset, dst, w, &blocks, n * k / parts, n * (k + 1) / parts});
      }
    }
    dst += window_nbytes(p, w);
  }
  if (!raw_pages.empty()) read_raw(request.source(), st.little, raw_pages, raw_outs, window);
  if (!units.empty()) decode_with_libtiff(request, std::move(units), threads);
}

}  // namespace imio::tiff
