// The only file that includes png.h. libpng reports errors by longjmp; each
// setjmp lives in a small function below that touches only C objects, and
// its failure becomes a C++ exception in the caller (STYLE.md, Errors).
#include "png_codec.hpp"

#include <cstring>
#include <exception>

#include <fmt/format.h>
#include <png.h>
#include <zlib.h>

#include "png_idat.hpp"

namespace imio::png {
namespace {

// ---------------------------------------------------------------- shared C callbacks

struct ErrorSlot {
  char message[512] = {};
};

void copy_message(ErrorSlot* slot, const char* msg) {
  std::strncpy(slot->message, msg ? msg : "unknown libpng error", sizeof slot->message - 1);
}

extern "C" void on_error(png_structp png, png_const_charp msg) {
  copy_message(static_cast<ErrorSlot*>(png_get_error_ptr(png)), msg);
  png_longjmp(png, 1);
}

extern "C" void on_warning(png_structp, png_const_charp msg) { imio::warn("libpng", msg ? msg : ""); }

// ---------------------------------------------------------------- reading

struct ReadCtx {
  ErrorSlot error;
  const std::byte* data = nullptr;
  std::size_t size = 0, pos = 0;
};

extern "C" void read_memory(png_structp png, png_bytep out, size_t n) {
  auto* ctx = static_cast<ReadCtx*>(png_get_io_ptr(png));
  if (n > ctx->size - ctx->pos) png_error(png, "unexpected end of data (image file is truncated)");
  std::memcpy(out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

class ReadStruct {
 public:
  explicit ReadStruct(ReadCtx& ctx) {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx.error, on_error, on_warning);
    if (png_ != nullptr) info_ = png_create_info_struct(png_);
    if (png_ == nullptr || info_ == nullptr) {
      png_destroy_read_struct(png_ ? &png_ : nullptr, nullptr, nullptr);
      throw std::bad_alloc();
    }
    png_set_read_fn(png_, &ctx, read_memory);
  }
  ~ReadStruct() { png_destroy_read_struct(&png_, &info_, nullptr); }
  ReadStruct(const ReadStruct&) = delete;
  ReadStruct& operator=(const ReadStruct&) = delete;
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

// Step 1: header and transforms. Returns libpng's row size, 0 on error.
size_t begin_read(png_structp png, png_infop info) {
  if (setjmp(png_jmpbuf(png))) return 0;
  // Every chunk check is imio's: all CRC errors are errors (Pillow raises
  // on any bad CRC), ancillary chunks are not parsed by libpng at all, and
  // sizes are bounded by imio's Limits instead of libpng's defaults.
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
  png_set_user_limits(png, 0x7fffffffU, 0x7fffffffU);
  png_read_info(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (depth < 8) png_set_packing(png);
  if (depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return png_get_rowbytes(png, info);
}

// Step 2: every row (all Adam7 passes).
bool read_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  return true;
}

// Step 2 one row at a time (a non-interlaced image), into `row`.
bool read_one_row(png_structp png, png_bytep row) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_row(png, row, nullptr);
  return true;
}

[[noreturn]] void fail(const ReadCtx& ctx) {
  throw DecodeError(fmt::format("libpng: {}", ctx.error.message));
}

// Pillow's L for 2- and 4-bit gray: v × 85, v × 17 (spec §5.1.4), applied
// to each row as the decoder finishes it, before the sink behind sees it.
class ScaledGray final : public RowSink {
 public:
  ScaledGray(RowSink& inner, std::size_t row_bytes, int bit_depth)
      : inner_(inner), row_bytes_(row_bytes), factor_(bit_depth == 2 ? 85u : 17u) {}
  std::byte* row(std::size_t y) override { return inner_.row(y); }
  void done(std::size_t n) override {
    for (; scaled_ < n; ++scaled_) {
      std::byte* p = inner_.row(scaled_);
      for (std::size_t i = 0; i < row_bytes_; ++i) p[i] = static_cast<std::byte>(static_cast<unsigned>(p[i]) * factor_);
    }
    inner_.done(n);
  }
  void restart() override {
    scaled_ = 0;
    inner_.restart();
  }
  bool rows_stay() const override { return inner_.rows_stay(); }

 private:
  RowSink& inner_;
  std::size_t row_bytes_, scaled_ = 0;
  unsigned factor_;
};

// libpng decodes every row of the image (its checks cover all of them);
// the region's rows go to the sink. Rows pass one at a time through a row
// buffer, except for an interlaced image, whose passes need every row at
// once: straight into the sink's rows when it covers the image and they
// stay, else into a buffer of the whole image.
void libpng_rows(png_structp png, const ReadCtx& ctx, const RawLayout& layout, int interlace, const Region& region,
                 RowSink& sink) {
  const std::size_t row_bytes = layout.row_bytes();
  const std::size_t px = static_cast<std::size_t>(layout.channels * layout.sample_bytes);
  const std::size_t first = region.left * px, count = region.width() * px;
  if (interlace != 0) {
    const bool direct = region.covers(layout) && sink.rows_stay();
    std::vector<std::byte> full(direct ? 0 : layout.total_bytes());
    std::vector<png_bytep> rows(layout.height);
    for (std::size_t y = 0; y < layout.height; ++y) {
      rows[y] = reinterpret_cast<png_bytep>(direct ? sink.row(y) : full.data() + y * row_bytes);
    }
    if (!read_rows(png, rows.data())) fail(ctx);
    if (direct) return;
    for (std::size_t y = region.top; y < region.bottom; ++y) {
      std::memcpy(sink.row(y - region.top), full.data() + y * row_bytes + first, count);
      sink.done(y - region.top + 1);
    }
    return;
  }
  std::vector<std::byte> one(row_bytes);
  for (std::size_t y = 0; y < layout.height; ++y) {
    const bool inside = y >= region.top && y < region.bottom;
    // A row of the whole width in the region goes straight to the sink.
    std::byte* target = inside && count == row_bytes ? sink.row(y - region.top) : one.data();
    if (!read_one_row(png, reinterpret_cast<png_bytep>(target))) fail(ctx);
    if (!inside) continue;
    if (target == one.data()) std::memcpy(sink.row(y - region.top), one.data() + first, count);
    sink.done(y - region.top + 1);
  }
}

// ---------------------------------------------------------------- writing

struct WriteCtx {
  ErrorSlot error;
  const std::function<void(const std::byte*, std::size_t)>* out = nullptr;
  std::exception_ptr thrown;
};

// The sink's exception is caught here and libpng is stopped with png_error
// outside the handler, so no exception ever crosses libpng's C frames.
extern "C" void write_callback(png_structp png, png_bytep data, size_t n) {
  auto* ctx = static_cast<WriteCtx*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    (*ctx->out)(reinterpret_cast<const std::byte*>(data), n);
  } catch (...) {
    ctx->thrown = std::current_exception();
    ok = false;
  }
  if (!ok) png_error(png, "the output failed");
}

extern "C" void flush_callback(png_structp) {}

class WriteStruct {
 public:
  explicit WriteStruct(WriteCtx& ctx) {
    png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx.error, on_error, on_warning);
    if (png_ != nullptr) info_ = png_create_info_struct(png_);
    if (png_ == nullptr || info_ == nullptr) {
      png_destroy_write_struct(png_ ? &png_ : nullptr, nullptr);
      throw std::bad_alloc();
    }
    png_set_write_fn(png_, &ctx, write_callback, flush_callback);
  }
  ~WriteStruct() { png_destroy_write_struct(&png_, &info_); }
  WriteStruct(const WriteStruct&) = delete;
  WriteStruct& operator=(const WriteStruct&) = delete;
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

// Plain-C view of an EncodeJob for the setjmp functions.
struct CJob {
  const EncodeJob* job;
  png_colorp palette;
  int palette_n;
  png_bytep trns_alpha;
  int trns_n;
  png_color_16 trns_color;
  int has_trns;
  png_textp text;
  int text_n;
  const std::byte* iccp;  // a complete iCCP chunk body
  size_t iccp_n;
};

bool write_header(png_structp png, png_infop info, const CJob* c) {
  if (setjmp(png_jmpbuf(png))) return false;
  const EncodeJob& j = *c->job;
  png_set_IHDR(png, info, j.width, j.height, j.bit_depth, j.color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, j.compress_level);
  if (c->palette_n > 0) png_set_PLTE(png, info, c->palette, c->palette_n);
  if (c->has_trns) png_set_tRNS(png, info, c->trns_alpha, c->trns_n, &c->trns_color);
  if (j.phys_per_meter) png_set_pHYs(png, info, j.phys_per_meter->first, j.phys_per_meter->second, PNG_RESOLUTION_METER);
  if (j.exif) png_set_eXIf_1(png, info, static_cast<png_uint_32>(j.exif->size()), reinterpret_cast<png_bytep>(const_cast<std::byte*>(j.exif->data())));
  if (c->text_n > 0) png_set_text(png, info, c->text, c->text_n);
  // iCCP is written as given (Pillow does not validate profiles; libpng's
  // png_set_iCCP would reject what it cannot parse). It precedes PLTE.
  png_write_info_before_PLTE(png, info);
  if (c->iccp_n > 0) png_write_chunk(png, reinterpret_cast<png_const_bytep>("iCCP"), reinterpret_cast<png_const_bytep>(c->iccp), c->iccp_n);
  png_write_info(png, info);
  // libpng 1.6 writes eXIf in png_write_info and again in png_write_end
  // (it never marks it written): once, before IDAT, is the place.
  if (j.exif) png_free_data(png, info, PNG_FREE_EXIF, -1);
  if (j.bit_depth < 8) png_set_packing(png);
  if (j.bit_depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  return true;
}

bool write_rows(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

[[noreturn]] void fail(const WriteCtx& ctx) {
  if (ctx.thrown) std::rethrow_exception(ctx.thrown);
  throw EncodeError(fmt::format("libpng: {}", ctx.error.message));
}

// "ICC Profile", NUL, method 0, the zlib-compressed profile (PNG 1.2 §4.2.2.4).
Bytes iccp_body(const Bytes& profile) {
  static constexpr char kName[] = "ICC Profile";
  uLongf n = compressBound(static_cast<uLong>(profile.size()));
  Bytes out(sizeof kName + 1 + n);
  std::memcpy(out.data(), kName, sizeof kName);  // with its NUL
  out[sizeof kName] = std::byte{0};
  if (compress2(reinterpret_cast<Bytef*>(out.data() + sizeof kName + 1), &n,
                reinterpret_cast<const Bytef*>(profile.data()), static_cast<uLong>(profile.size()), Z_BEST_COMPRESSION) != Z_OK) {
    throw EncodeError("cannot compress the ICC profile");
  }
  out.resize(sizeof kName + 1 + n);
  return out;
}

}  // namespace

RawLayout raw_layout(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type) {
  RawLayout l{width, height, 1, bit_depth == 16 ? 2 : 1};
  switch (color_type) {
    case 2: l.channels = 3; break;
    case 4: l.channels = 2; break;
    case 6: l.channels = 4; break;
    default: l.channels = 1;
  }
  return l;
}

void decode(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type, std::byte* dst) {
  decode(png, layout, bit_depth, color_type, whole_region(layout), dst);
}

void decode(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type,
            const Region& region, std::byte* dst, bool bounded_memory) {
  BlockSink sink(dst, region.layout(layout).row_bytes());
  decode(png, layout, bit_depth, color_type, region, sink, bounded_memory);
}

void decode(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type,
            const Region& region, RowSink& out, bool bounded_memory) {
  ReadCtx ctx;
  ctx.data = png.data();
  ctx.size = png.size();
  ReadStruct rs(ctx);
  const size_t row_bytes = begin_read(rs.png(), rs.info());
  if (row_bytes == 0) fail(ctx);
  if (row_bytes != layout.row_bytes() || png_get_image_height(rs.png(), rs.info()) != layout.height) {
    throw DecodeError(fmt::format("libpng decodes rows of {} bytes, expected {}", row_bytes, layout.row_bytes()));
  }
  const RawLayout part = region.layout(layout);
  const bool scaled = color_type == 0 && (bit_depth == 2 || bit_depth == 4);
  ScaledGray gray(out, part.row_bytes(), bit_depth);
  RowSink& sink = scaled ? static_cast<RowSink&>(gray) : out;
  // libpng has read the header and every chunk before IDAT (with their
  // checks and warnings); the image data go to imio's decoder when it can
  // take them, else libpng carries on from the first IDAT.
  const int interlace = png_get_interlace_type(rs.png(), rs.info());
  if (!idat_decoder_enabled() || !decode_idat(png, layout, bit_depth, color_type, interlace, region, sink, bounded_memory)) {
    sink.restart();
    libpng_rows(rs.png(), ctx, layout, interlace, region, sink);
  }
  sink.done(part.height);
}

void encode(const EncodeJob& job, const std::function<void(const std::byte*, std::size_t)>& out) {
  WriteCtx ctx;
  ctx.out = &out;
  WriteStruct ws(ctx);

  std::vector<png_color> palette;
  for (std::size_t i = 0; i + 2 < job.palette.size(); i += 3) {
    palette.push_back(png_color{job.palette[i], job.palette[i + 1], job.palette[i + 2]});
  }
  std::vector<png_byte> alphas;
  Bytes iccp;
  if (job.icc_profile) iccp = iccp_body(*job.icc_profile);
  CJob c{&job, palette.data(), static_cast<int>(palette.size()), nullptr, 0, png_color_16{}, 0, nullptr, 0, iccp.data(), iccp.size()};
  if (job.trns) {
    c.has_trns = 1;
    const auto& t = *job.trns;
    if (job.color_type == 3) {
      for (const std::uint16_t a : t) alphas.push_back(static_cast<png_byte>(a));
      c.trns_alpha = alphas.data();
      c.trns_n = static_cast<int>(alphas.size());
    } else if (job.color_type == 0) {
      c.trns_color.gray = t.at(0);
    } else {
      c.trns_color.red = t.at(0);
      c.trns_color.green = t.at(1);
      c.trns_color.blue = t.at(2);
    }
  }
  std::vector<png_text> text(job.text.size());
  for (std::size_t i = 0; i < job.text.size(); ++i) {
    png_text& t = text[i];
    t = png_text{};
    t.compression = job.text[i].utf8 ? PNG_ITXT_COMPRESSION_NONE : PNG_TEXT_COMPRESSION_NONE;
    t.key = const_cast<char*>(job.text[i].key.c_str());
    t.text = const_cast<char*>(job.text[i].value.c_str());
    if (job.text[i].utf8) {
      t.itxt_length = job.text[i].value.size();
    } else {
      t.text_length = job.text[i].value.size();
    }
  }
  c.text = text.data();
  c.text_n = static_cast<int>(text.size());

  if (!write_header(ws.png(), ws.info(), &c)) fail(ctx);
  if (job.before_idat) job.before_idat();
  std::vector<png_bytep> rows(job.height);
  for (std::size_t y = 0; y < job.height; ++y) {
    rows[y] = reinterpret_cast<png_bytep>(const_cast<std::byte*>(job.pixels + y * job.row_bytes));
  }
  if (!write_rows(ws.png(), ws.info(), rows.data())) fail(ctx);
}

std::string libpng_version() { return fmt::format("libpng {} ({} for IDAT)", png_get_libpng_ver(nullptr), idat_inflater()); }

}  // namespace imio::png
