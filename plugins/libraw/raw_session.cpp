// LibRaw behind imio's error model. LibRaw reports problems three ways:
// return codes, the data/memory error callbacks (whose defaults print to
// stderr), and silently short reads of a truncated file. All three end up
// as imio exceptions here; nothing is printed.
#include "raw_session.hpp"
#include "raw_exif.hpp"

#include <libraw/libraw.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace imio::libraw {
namespace {

// What LibRaw reported through its callbacks during one step.
struct ErrorLog {
  std::string first;
  void clear() { first.clear(); }
};

// LibRaw 0.22 widens the offset of its data error callback (data_callback in
// libraw_types.h) from int to INT64.
#if LIBRAW_VERSION >= LIBRAW_MAKE_VERSION(0, 22, 0)
using DataErrorOffset = INT64;
#else
using DataErrorOffset = int;
#endif

void on_data_error(void* data, const char* /*file*/, const DataErrorOffset offset) {
  auto* log = static_cast<ErrorLog*>(data);
  if (!log->first.empty()) return;
  log->first = offset < 0 ? std::string("unexpected end of data")
                          : fmt::format("data corrupted at byte offset {}", offset);
}

// LibRaw 0.21 removed the memory error callback, set_memerror_handler() and
// the constructor flag that turned it off (Changelog, 0.21-Beta1): running
// out of memory is reported by the return code alone (LIBRAW_UNSUFFICIENT_MEMORY).
#if LIBRAW_VERSION < LIBRAW_MAKE_VERSION(0, 21, 0)
void on_memory_error(void* data, const char* /*file*/, const char* where) {
  auto* log = static_cast<ErrorLog*>(data);
  if (!log->first.empty()) return;
  log->first = fmt::format("out of memory in {}", where != nullptr ? where : "LibRaw");
}
#endif

// LibRaw's memory stream, counting what the decoder takes. LibRaw 0.20
// decodes some pixel-stripped files (ExifTool's test stubs) without any
// error; the traces are a decoder asking for bytes the file does not have,
// or taking far fewer bytes than any codec needs for the pixel count.
class GuardedStream final : public LibRaw_buffer_datastream {
 public:
  explicit GuardedStream(std::span<const std::byte> data)
      : LibRaw_buffer_datastream(const_cast<std::byte*>(data.data()), data.size()) {}
  bool watching = false;
  bool overran = false;
  std::uint64_t taken = 0;
  // Identification (open_datastream) reads through here; a hostile file can
  // make LibRaw 0.20 loop billions of times over reads past the end (the
  // meta directory of parse_phase_one trusts a 32-bit entry count). Every
  // call counts; past the budget the read throws LibRaw's own I/O
  // exception, which open_datastream turns into an error code.
  std::uint64_t calls = 0, budget = 0;  // 0: no budget
  bool exhausted = false;
  void spend() {
    if (budget != 0 && ++calls > budget) {
      exhausted = true;
      throw LIBRAW_EXCEPTION_IO_CORRUPT;
    }
  }
  int seek(INT64 o, int whence) override {
    spend();
    return LibRaw_buffer_datastream::seek(o, whence);
  }
  int read(void* ptr, size_t size, size_t count) override {
    spend();
    const int got = LibRaw_buffer_datastream::read(ptr, size, count);
    if (watching) {
      if (size != 0 && count != 0 && static_cast<size_t>(got) < count) overran = true;
      taken += static_cast<std::uint64_t>(got) * size;
    }
    return got;
  }
  // Reading single bytes past the end is no trace: some real files end that
  // way (Kodak's RADC).
  int get_char() override {
    spend();
    const int c = LibRaw_buffer_datastream::get_char();
    if (watching && c >= 0) ++taken;
    return c;
  }
};

// Decoders that read through libjpeg's or JasPer's own source over the
// buffer, bypassing the stream's read(): their byte count says nothing.
bool counts_its_input(LibRaw& p) {
  libraw_decoder_info_t info{};
  if (p.get_decoder_info(&info) != LIBRAW_SUCCESS || info.decoder_name == nullptr) return false;
  const std::string_view name = info.decoder_name;
  return name.find("jpeg") == std::string_view::npos && name.find("lossy") == std::string_view::npos &&
         name.find("redcine") == std::string_view::npos;
}

// The stream-call budget of identification: a fixed part and a part per byte.
constexpr std::uint64_t kIdentifyCalls = 1'000'000;
constexpr std::uint64_t kIdentifyCallsPerByte = 4;

// The least any codec LibRaw knows spends: 1/8 bit per pixel (Kodak's RADC,
// the most compact of the corpus, spends 1.5).
constexpr std::uint64_t kMinPixelsPerByte = 64;

// LibRaw's default cap on one allocation. The macro's name has changed once
// (LIBRAW_MAX_ALLOC_MB up to 0.19); imio has not read the 0.21/0.22 headers
// for it, so it does without the macro rather than fail to compile.
#ifdef LIBRAW_MAX_ALLOC_MB_DEFAULT
constexpr std::uint64_t kLibRawMaxAllocMb = LIBRAW_MAX_ALLOC_MB_DEFAULT;
#else
constexpr std::uint64_t kLibRawMaxAllocMb = 2048;  // 0.20's value of LIBRAW_MAX_ALLOC_MB_DEFAULT
#endif

// A processor that never prints: its callbacks write into `log`.
std::unique_ptr<LibRaw> make_processor(ErrorLog& log, const Limits& limits) {
#if LIBRAW_VERSION >= LIBRAW_MAKE_VERSION(0, 21, 0)
  // 0.21 spells the flag right (LIBRAW_OPTIONS_, Changelog 2021-10-11) and
  // has no memory error callback to silence (see on_memory_error).
  auto p = std::make_unique<LibRaw>(LIBRAW_OPTIONS_NO_DATAERR_CALLBACK);
  p->set_dataerror_handler(&on_data_error, &log);
  // 0.21 moves the decode-time parameters, max_raw_memory_mb among them,
  // from imgdata.params to imgdata.rawparams (Changelog, snapshot 202101).
  unsigned& max_raw_memory_mb = p->imgdata.rawparams.max_raw_memory_mb;
#else
  auto p = std::make_unique<LibRaw>(LIBRAW_OPIONS_NO_MEMERR_CALLBACK | LIBRAW_OPIONS_NO_DATAERR_CALLBACK);
  p->set_dataerror_handler(&on_data_error, &log);
  p->set_memerror_handler(&on_memory_error, &log);
  unsigned& max_raw_memory_mb = p->imgdata.params.max_raw_memory_mb;
#endif
  // LibRaw's own cap on the raw buffer, kept within imio's byte limit.
  const std::uint64_t mb = std::max<std::uint64_t>(1, limits.max_bytes >> 20);
  max_raw_memory_mb = static_cast<unsigned>(std::min<std::uint64_t>(mb, kLibRawMaxAllocMb));
  return p;
}

std::string reason(int rc, const ErrorLog& log) {
  std::string text = libraw_strerror(rc);
  if (!log.first.empty()) text += fmt::format(" ({})", log.first);
  return text;
}

[[noreturn]] void fail(std::string_view step, int rc, const ErrorLog& log) {
  const std::string why = fmt::format("LibRaw cannot {}: {}", step, reason(rc, log));
  switch (rc) {
    case LIBRAW_TOO_BIG:
    case LIBRAW_MEMPOOL_OVERFLOW:
    case LIBRAW_UNSUFFICIENT_MEMORY:
      throw LimitError(why);
    default:
      throw DecodeError(why);
  }
}

std::size_t dim(unsigned v) { return static_cast<std::size_t>(v); }

}  // namespace

struct RawSession::Impl {
  std::span<const std::byte> data;
  Limits limits;
  ErrorLog log;
  GuardedStream stream;               // outlives `processor` (declared first)
  std::unique_ptr<LibRaw> processor;
  ExifCollector exif;  // the EXIF entries LibRaw hands over while identifying
  bool unpacked = false;

  Impl(std::span<const std::byte> d, const Limits& l) : data(d), limits(l), stream(d) {}

  // Identification again, after LibRaw 0.20 recycled everything (a failed
  // unpack_thumb does): the handle stays usable for reads and metadata.
  void reidentify() {
    unpacked = false;
    stream.calls = 0;
    stream.exhausted = false;
    stream.budget = kIdentifyCalls + kIdentifyCallsPerByte * data.size();
    processor->recycle();
    stream.seek(0, SEEK_SET);  // identification reads from where the stream is
    (void)processor->open_datastream(&stream);  // it succeeded once on the same data
    stream.budget = 0;
    log.clear();
  }

  // LibRaw's steps after open must not have reported anything either.
  void check(std::string_view step, int rc) {
    if (rc != LIBRAW_SUCCESS) fail(step, rc, log);
    if (!log.first.empty()) throw DecodeError(fmt::format("LibRaw cannot {}: {}", step, log.first));
  }

  void unpack(const Request& request) {
    if (unpacked) return;
    const libraw_image_sizes_t& s = processor->imgdata.sizes;
    const libraw_iparams_t& id = processor->imgdata.idata;
    const std::uint64_t planes = (id.filters != 0 || id.colors == 1) ? 1 : 4;
    request.check_pixels(dim(s.raw_width), dim(s.raw_height));
    request.check_bytes(std::uint64_t{s.raw_width} * s.raw_height * planes * sizeof(ushort));
    log.clear();
    stream.watching = true;
    stream.taken = 0;
    const int rc = processor->unpack();
    stream.watching = false;
    check("unpack the raw data", rc);
    if (stream.overran) {
      throw DecodeError("the raw data end early: the file is truncated or its pixel data were stripped");
    }
    const std::uint64_t pixels = std::uint64_t{s.raw_width} * s.raw_height;
    if (stream.taken * kMinPixelsPerByte < pixels && counts_its_input(*processor)) {
      throw DecodeError(fmt::format("LibRaw decoded {}x{} pixels from only {} bytes: the pixel data were stripped",
                                    s.raw_width, s.raw_height, stream.taken));
    }
    unpacked = true;
  }
};

RawSession::RawSession(std::span<const std::byte> data, const Limits& limits)
    : impl_(std::make_unique<Impl>(data, limits)) {
  Impl& m = *impl_;
  m.processor = make_processor(m.log, limits);
  if (!m.stream.valid()) throw InitializationError("LibRaw cannot read empty data");
  // Identifying a real file takes a few thousand stream calls (a 60 MB IIQ
  // or CR3 far below a million); the budget grows with the size for safety.
  m.stream.budget = kIdentifyCalls + kIdentifyCallsPerByte * data.size();
  m.processor->set_exifparser_handler(&ExifCollector::callback, &m.exif);
  const int rc = m.processor->open_datastream(&m.stream);
  m.exif.seal();
  m.stream.budget = 0;
  if (m.stream.exhausted) {
    throw InitializationError(fmt::format("LibRaw's identification made more than {} reads of {} bytes (a hostile "
                                          "file; LibRaw 0.20 would loop for minutes)",
                                          kIdentifyCalls + kIdentifyCallsPerByte * data.size(), data.size()));
  }
  if (rc == LIBRAW_FILE_UNSUPPORTED || rc == LIBRAW_IO_ERROR || rc == LIBRAW_REQUEST_FOR_NONEXISTENT_IMAGE) {
    // spec §5.4.1: rawpy refuses what LibRaw does not recognise.
    throw InitializationError(fmt::format("LibRaw does not recognise the data: {}", reason(rc, m.log)));
  }
  if (rc != LIBRAW_SUCCESS) fail("open the file", rc, m.log);
  const libraw_image_sizes_t& s = m.processor->imgdata.rawdata.sizes;
  if (s.width == 0 || s.height == 0) throw InitializationError("LibRaw finds no image in the data");
  // Complaints while identifying (a maker note that ends early) do not make
  // the file unreadable; the pixel data are judged by unpack().
  if (!m.log.first.empty()) warn(kPlugin, fmt::format("LibRaw, identifying the file: {}", m.log.first));
  m.log.clear();
}

RawSession::~RawSession() = default;

const LibRaw& RawSession::processor() const noexcept { return *impl_->processor; }

Bytes RawSession::exif_block() const { return impl_->exif.block(); }

void RawSession::unpack(const Request& request) { impl_->unpack(request); }

NDArray RawSession::develop(const DevelopOptions& options, const Request& request) {
  Impl& m = *impl_;
  m.unpack(request);
  // Checked before LibRaw allocates anything for the development.
  const Shape expected = developed_shape(options);
  request.check_pixels(expected[1], expected[0]);
  // dcraw_process works on four 16-bit planes of the (half-size) image.
  const libraw_image_sizes_t& s = m.processor->imgdata.rawdata.sizes;
  request.check_bytes(std::uint64_t{s.width} * s.height * 4 * sizeof(ushort));
  apply_options(options, *m.processor);
  m.log.clear();
  m.check("develop the image", m.processor->dcraw_process());
  int width = 0, height = 0, colors = 0, bps = 0;
  m.processor->get_mem_image_format(&width, &height, &colors, &bps);
  const Shape shape{static_cast<std::size_t>(height), static_cast<std::size_t>(width),
                    static_cast<std::size_t>(colors)};
  NDArray out = request.allocate(shape, bps == 16 ? DType::uint16 : DType::uint8);
  const int stride = width * colors * (bps / 8);
  const int rc = m.processor->copy_mem_image(out.bytes(), stride, 0);
  m.processor->free_image();
  m.check("copy the developed image", rc);
  return out;
}

Shape RawSession::developed_shape(const DevelopOptions& options) const {
  const Impl& m = *impl_;
  // LibRaw computes the output size (half size, pixel aspect, Fuji
  // rotation, flip) without unpacking in adjust_sizes_info_only(), but that
  // rewrites the processor's size record: ask a second processor, opened
  // on the same bytes (identification only).
  ErrorLog log;
  GuardedStream stream(m.data);
  std::unique_ptr<LibRaw> probe = make_processor(log, m.limits);
  probe->imgdata.params.half_size = options.half_size ? 1 : 0;
  probe->imgdata.params.user_flip = options.user_flip;
  int rc = probe->open_datastream(&stream);
  if (rc == LIBRAW_SUCCESS) rc = probe->adjust_sizes_info_only();
  if (rc != LIBRAW_SUCCESS) fail("compute the image size", rc, log);
  const libraw_iparams_t& id = probe->imgdata.idata;
  // dcraw's channel count: half_size with four_color_rgb keeps the two
  // greens apart; any fourth colour is folded away by a colour-space
  // conversion (every output_color but raw).
  int colors = id.colors;
  if (id.filters > 1000 && colors == 3 && options.four_color_rgb && options.half_size) colors = 4;
  if (colors == 4 && options.output_color != 0) colors = 3;
  return {dim(probe->imgdata.sizes.iheight), dim(probe->imgdata.sizes.iwidth), static_cast<std::size_t>(colors)};
}

Shape RawSession::raw_shape() const {
  // rawdata's copies: development rewrites imgdata.sizes and idata.
  const libraw_rawdata_t& raw = impl_->processor->imgdata.rawdata;
  const Shape plane{dim(raw.sizes.height), dim(raw.sizes.width)};
  if (raw.iparams.filters != 0 || raw.iparams.colors == 1) return plane;
  return {plane[0], plane[1], static_cast<std::size_t>(raw.iparams.colors)};
}

NDArray RawSession::raw_visible(const Request& request) {
  Impl& m = *impl_;
  m.unpack(request);
  const Shape shape = raw_shape();
  const libraw_rawdata_t& raw = m.processor->imgdata.rawdata;
  const libraw_image_sizes_t& s = raw.sizes;
  const std::size_t channels = shape.size() == 3 ? shape[2] : 1;
  const ushort* base = nullptr;
  std::size_t stored = 1;  // values per pixel in LibRaw's buffer
  if (raw.raw_image != nullptr && channels == 1) {
    base = raw.raw_image;
  } else if (raw.color4_image != nullptr && channels <= 4) {
    base = raw.color4_image[0];
    stored = 4;
  } else if (raw.color3_image != nullptr && channels <= 3) {
    base = raw.color3_image[0];
    stored = 3;
  } else {
    throw DecodeError("LibRaw holds this file's sensor data in a layout raw=true does not support (floating point)");
  }
  NDArray out = request.allocate(shape, DType::uint16);
  auto* dst = out.data<std::uint16_t>();
  const std::size_t pitch = s.raw_pitch / sizeof(ushort);  // values per row
  for (std::size_t y = 0; y < shape[0]; ++y) {
    const ushort* row = base + (y + s.top_margin) * pitch + dim(s.left_margin) * stored;
    if (stored == channels) {
      std::memcpy(dst, row, shape[1] * channels * sizeof(ushort));
      dst += shape[1] * channels;
    } else {
      for (std::size_t x = 0; x < shape[1]; ++x) {
        for (std::size_t c = 0; c < channels; ++c) *dst++ = row[x * stored + c];
      }
    }
  }
  return out;
}

Thumbnail RawSession::thumbnail() {
  Impl& m = *impl_;
  m.log.clear();
  // A thumbnail that runs past the data is refused before LibRaw reads it:
  // LibRaw 0.20's unpack_thumb reads a JPEG preview's header through
  // libjpeg with libjpeg's default message handler, which prints "Premature
  // end of JPEG file" on stderr when the data end inside it.
  const std::int64_t offset = m.processor->get_internal_data_pointer()->internal_data.toffset;
  const std::int64_t length = m.processor->imgdata.thumbnail.tlength;
  const auto size = static_cast<std::int64_t>(m.data.size());
  if (offset > 0 && length > 0 && (offset >= size || length > size - offset)) {
    throw DecodeError(fmt::format("truncated file: the embedded thumbnail of {} bytes at byte {} runs past the end "
                                  "({} bytes)",
                                  length, offset, size));
  }
  const int rc = m.processor->unpack_thumb();
  if (rc != LIBRAW_SUCCESS) {
    const ErrorLog log = m.log;
    m.reidentify();
    if (rc == LIBRAW_NO_THUMBNAIL) throw DecodeError("the file has no embedded thumbnail");
    fail("unpack the thumbnail", rc, log);
  }
  m.check("unpack the thumbnail", rc);
  const libraw_thumbnail_t& t = m.processor->imgdata.thumbnail;
  Thumbnail out;
  out.width = t.twidth;
  out.height = t.theight;
  out.colors = t.tcolors > 0 ? static_cast<std::size_t>(t.tcolors) : 0;
  // (An explicit size_t: braces must not narrow, whatever width LibRaw gives tlength.)
  out.data = {reinterpret_cast<const std::byte*>(t.thumb), t.thumb != nullptr ? static_cast<std::size_t>(t.tlength) : 0};
  switch (t.tformat) {
    case LIBRAW_THUMBNAIL_JPEG: out.format = Thumbnail::Format::jpeg; out.format_name = "jpeg"; break;
    case LIBRAW_THUMBNAIL_BITMAP: out.format = Thumbnail::Format::bitmap; out.format_name = "bitmap"; break;
    case LIBRAW_THUMBNAIL_BITMAP16: out.format = Thumbnail::Format::bitmap16; out.format_name = "bitmap16"; break;
    case LIBRAW_THUMBNAIL_LAYER: out.format_name = "layer"; break;
    case LIBRAW_THUMBNAIL_ROLLEI: out.format_name = "rollei"; break;
    default: out.format_name = "unknown"; break;
  }
  return out;
}

}  // namespace imio::libraw
