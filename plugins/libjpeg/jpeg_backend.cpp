// libjpeg plumbing: the error manager, the progress guard and the RAII
// wrappers. See jpeg_backend.hpp for the setjmp rules.
#include "jpeg_backend.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <jerror.h>

#include <imio/error.hpp>
#include <imio/plugin.hpp>

namespace imio::libjpeg {
namespace {

constexpr std::string_view kPlugin = "libjpeg";
constexpr std::size_t kOutputBuffer = std::size_t{1} << 18;  // 256 KiB per sink write
// A progressive or multi-scan file with more scans than this is hostile
// (libjpeg-turbo's own fuzzers use a similar cap): it could take minutes.
constexpr int kMaxScans = 1000;

ErrorState& state_of(j_common_ptr cinfo) noexcept { return *reinterpret_cast<ErrorState*>(cinfo->err); }

[[noreturn]] void error_exit(j_common_ptr cinfo) noexcept {
  ErrorState& s = state_of(cinfo);
  s.code = cinfo->err->msg_code;
  (*cinfo->err->format_message)(cinfo, s.message);
  std::longjmp(s.jump, 1);
}

// Warnings that mean pixel data were lost or invented: libjpeg would pad the
// image with gray or garbage and return it. By default (strict=true) imio
// makes them errors. Pillow 9.4 (so imageio) raises only for the end of the
// file ("image file is truncated"); for the others it returns libjpeg's
// pixels silently (an incomplete progressive scan, a bad Huffman code): a
// documented difference. strict=false returns libjpeg's pixels for all of
// them, with a warning. Other warnings (extraneous bytes before a marker, an
// odd progression) leave the pixels intact and only warn.
bool loses_data(int code) noexcept {
  switch (code) {
    case JWRN_JPEG_EOF:       // premature end of file: the rest is gray
    case JWRN_HIT_MARKER:     // premature end of a data segment
    case JWRN_HUFF_BAD_CODE:  // corrupt entropy-coded data
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:    // lost restart markers: rows are skipped
    case JWRN_NOT_SEQUENTIAL:
      return true;
    default:
      return false;
  }
}

void emit_message(j_common_ptr cinfo, int level) noexcept {
  if (level >= 0) return;  // trace messages
  ErrorState& s = state_of(cinfo);
  const bool lost = loses_data(cinfo->err->msg_code);
  if (lost && s.strict) {
    s.from_warning = true;
    error_exit(cinfo);
  }
  // Like libjpeg's default, pass on only the first few warnings of an image.
  if (s.mute || ++s.warnings > 3) return;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  if (lost) {
    warn(kPlugin, fmt::format("{}; the pixels libjpeg decoded are returned (strict=false)", text));
  } else {
    warn(kPlugin, text);
  }
}

void output_message(j_common_ptr cinfo) noexcept {
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  warn(kPlugin, text);
}

void progress_monitor(j_common_ptr cinfo) noexcept {
  if (!cinfo->is_decompressor) return;
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    ErrorState& s = state_of(cinfo);
    s.code = -1;
    std::snprintf(s.message, sizeof s.message, "more than %d scans (a hostile progressive file)", kMaxScans);
    std::longjmp(s.jump, 1);
  }
}

}  // namespace

jpeg_error_mgr* install_error_manager(ErrorState& state) noexcept {
  jpeg_error_mgr* mgr = jpeg_std_error(&state.mgr);
  mgr->error_exit = error_exit;
  mgr->emit_message = emit_message;
  mgr->output_message = output_message;
  return mgr;
}

std::string library_name() {
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
  constexpr int v = LIBJPEG_TURBO_VERSION_NUMBER;  // 2001005 is 2.1.5
  return fmt::format("libjpeg-turbo {}.{}.{}", v / 1000000, v / 1000 % 1000, v % 1000);
#else
  return "libjpeg";
#endif
}

std::string describe_failure(const ErrorState& s) {
  std::string text = s.message[0] != '\0' ? std::string(s.message) : std::string("unknown libjpeg error");
  // libjpeg-turbo 3.0 (ChangeLog, 3.0 beta2 items 5 and 6) decodes lossless
  // (SOF3) JPEG, and 12-bit and 16-bit data through the new
  // jpeg12_/jpeg16_read_scanlines(); imio reads 8-bit samples only. Before
  // 3.0 the library refuses both, which the texts say.
#if defined(LIBJPEG_TURBO_VERSION_NUMBER) && LIBJPEG_TURBO_VERSION_NUMBER >= 3000000
  constexpr bool kDecodesLossless = true;
#else
  constexpr bool kDecodesLossless = false;
#endif
  switch (s.code) {
    case JERR_BAD_PRECISION:
      text += kDecodesLossless
                  ? fmt::format(" (12-bit and 16-bit JPEG: imio reads 8-bit samples only, through {}'s 8-bit API)",
                                library_name())
                  : fmt::format(" (12-bit and 16-bit JPEG: {}, which imio uses, decodes 8-bit data only)", library_name());
      break;
    case JERR_SOF_UNSUPPORTED:
      text += fmt::format(" ({} JPEG: {}, which imio uses, cannot decode it)",
                          kDecodesLossless ? "hierarchical" : "lossless or hierarchical", library_name());
      break;
    case JWRN_JPEG_EOF:
      text = "image file is truncated (" + text + ")";
      break;
    default:
      if (s.from_warning) text = "corrupt JPEG data, pixels would be lost (" + text + ")";
      break;
  }
  return text;
}

// ---------------------------------------------------------------- decompressor

Decompressor::Decompressor(const unsigned char* data, std::size_t size, std::uint64_t max_memory) {
  create(max_memory);
  jpeg_decompress_struct* c = &cinfo_;
  const unsigned long n = static_cast<unsigned long>(size);
  if (!guarded(err_, [c, data, n] { jpeg_mem_src(c, data, n); })) fail();
  memory_source_ = true;
}

bool Decompressor::restart(const unsigned char* data, std::size_t size, std::uint64_t max_memory) noexcept {
  if (!created_ || !memory_source_ || failed_) return false;
  err_ = ErrorState{};
  cinfo_.err = install_error_manager(err_);
  jpeg_decompress_struct* c = &cinfo_;
  const long limit = static_cast<long>(std::min<std::uint64_t>(max_memory, static_cast<std::uint64_t>(LONG_MAX)));
  const unsigned long n = static_cast<unsigned long>(size);
  // jpeg_mem_src reuses the source manager it allocated the first time.
  return guarded(err_, [c, limit, data, n] {
    c->mem->max_memory_to_use = limit;
    jpeg_mem_src(c, data, n);
  });
}

bool Decompressor::abort() noexcept {
  if (!created_ || !memory_source_ || failed_) return false;
  jpeg_decompress_struct* c = &cinfo_;
  return guarded(err_, [c] { jpeg_abort_decompress(c); });
}

namespace {

// The decompressors a thread keeps between files: one per reader alive at
// once on the thread, a few at most.
constexpr std::size_t kKeptDecompressors = 4;

std::vector<std::unique_ptr<Decompressor>>& kept_decompressors() {
  thread_local std::vector<std::unique_ptr<Decompressor>> kept;
  return kept;
}

}  // namespace

ReusedDecompressor::ReusedDecompressor(const unsigned char* data, std::size_t size, std::uint64_t max_memory) {
  std::vector<std::unique_ptr<Decompressor>>& kept = kept_decompressors();
  while (!kept.empty()) {
    std::unique_ptr<Decompressor> d = std::move(kept.back());
    kept.pop_back();
    if (d->restart(data, size, max_memory)) {
      d_ = std::move(d);
      return;
    }
  }
  d_ = std::make_unique<Decompressor>(data, size, max_memory);
}

ReusedDecompressor::~ReusedDecompressor() {
  if (!d_ || !d_->abort()) return;
  try {
    std::vector<std::unique_ptr<Decompressor>>& kept = kept_decompressors();
    if (kept.size() < kKeptDecompressors) kept.push_back(std::move(d_));
  } catch (...) {  // no room to keep it: it is destroyed
  }
}

Decompressor::Decompressor(std::span<const unsigned char> head, std::span<const unsigned char> tail,
                           std::uint64_t max_memory, unsigned first_restart) {
  create(max_memory);
  pieces_.mgr.init_source = init_source;
  pieces_.mgr.fill_input_buffer = fill_input_buffer;
  pieces_.mgr.skip_input_data = skip_input_data;
  pieces_.mgr.resync_to_restart = resync_to_restart;
  pieces_.mgr.term_source = term_source;
  pieces_.head = head;
  pieces_.tail = tail;
  pieces_.first_restart = first_restart & 7u;
  cinfo_.src = &pieces_.mgr;
}

void Decompressor::create(std::uint64_t max_memory) {
  cinfo_.err = install_error_manager(err_);
  progress_.progress_monitor = progress_monitor;
  jpeg_decompress_struct* c = &cinfo_;
  const long limit = static_cast<long>(std::min<std::uint64_t>(max_memory, static_cast<std::uint64_t>(LONG_MAX)));
  jpeg_progress_mgr* p = &progress_;
  bool* created = &created_;
  if (!guarded(err_, [c, limit, p, created] {
        jpeg_create_decompress(c);
        *created = true;
        c->mem->max_memory_to_use = limit;
        c->progress = p;
      })) {
    fail();
  }
}

void Decompressor::init_source(j_decompress_ptr cinfo) noexcept {
  auto* s = reinterpret_cast<TwoPieces*>(cinfo->src);
  s->mgr.next_input_byte = s->head.data();
  s->mgr.bytes_in_buffer = s->head.size();
  s->tail_given = false;
}

// The tail after the head; then, as jpeg_mem_src does at the end of its
// buffer, a warning (premature end of file) and a fake EOI marker.
boolean Decompressor::fill_input_buffer(j_decompress_ptr cinfo) noexcept {
  static const JOCTET kEoi[2] = {0xFF, JPEG_EOI};
  auto* s = reinterpret_cast<TwoPieces*>(cinfo->src);
  if (!s->tail_given && !s->tail.empty()) {
    s->tail_given = true;
    s->mgr.next_input_byte = s->tail.data();
    s->mgr.bytes_in_buffer = s->tail.size();
    return TRUE;
  }
  s->tail_given = true;
  WARNMS(cinfo, JWRN_JPEG_EOF);
  s->mgr.next_input_byte = kEoi;
  s->mgr.bytes_in_buffer = 2;
  return TRUE;
}

void Decompressor::skip_input_data(j_decompress_ptr cinfo, long n) noexcept {
  if (n <= 0) return;
  jpeg_source_mgr* src = cinfo->src;
  auto left = static_cast<std::size_t>(n);
  while (left > src->bytes_in_buffer) {
    left -= src->bytes_in_buffer;
    (*src->fill_input_buffer)(cinfo);
  }
  src->next_input_byte += left;
  src->bytes_in_buffer -= left;
}

// libjpeg counts restart markers from RST0 at the start of the scan and calls
// this when the next one bears another number (jdmarker.c). A stream entered
// at interval k meets the file's markers, numbered from k mod 8 (T.81
// §B.2.1): the expected one, shifted by that much, is the normal case.
boolean Decompressor::resync_to_restart(j_decompress_ptr cinfo, int desired) noexcept {
  const auto* s = reinterpret_cast<const TwoPieces*>(cinfo->src);
  const auto shifted = static_cast<int>((static_cast<unsigned>(desired) + s->first_restart) & 7u);
  if (s->first_restart != 0 && cinfo->unread_marker == JPEG_RST0 + shifted) {
    cinfo->unread_marker = 0;
    return TRUE;
  }
  return jpeg_resync_to_restart(cinfo, desired);
}

void Decompressor::term_source(j_decompress_ptr) noexcept {}

Decompressor::~Decompressor() {
  if (created_) jpeg_destroy_decompress(&cinfo_);
}

void Decompressor::fail() const {
  failed_ = true;
  throw DecodeError(describe_failure(err_));
}

void Decompressor::read_header(bool repeat) {
  jpeg_decompress_struct* c = &cinfo_;
  err_.mute = repeat;
  int result = 0;
  int* rc = &result;
  if (!guarded(err_, [c, rc] {
        *rc = jpeg_read_header(c, TRUE);
      })) {
    fail();
  }
  err_.mute = false;
  if (result != JPEG_HEADER_OK) throw DecodeError("the JPEG stream holds tables only (an abbreviated stream without an image)");
}

void Decompressor::configure(J_COLOR_SPACE out, unsigned scale_denom) {
  jpeg_decompress_struct* c = &cinfo_;
  if (!guarded(err_, [c, out, scale_denom] {
        c->out_color_space = out;
        c->scale_num = 1;
        c->scale_denom = scale_denom;
        c->dct_method = JDCT_ISLOW;
        c->do_fancy_upsampling = TRUE;
        jpeg_calc_output_dimensions(c);
      })) {
    fail();
  }
}

void Decompressor::start() {
  jpeg_decompress_struct* c = &cinfo_;
  if (!guarded(err_, [c] { jpeg_start_decompress(c); })) fail();
}

void Decompressor::crop_columns(unsigned* xoffset, unsigned* width) {
  jpeg_decompress_struct* c = &cinfo_;
  JDIMENSION x = *xoffset, w = *width;
  JDIMENSION* px = &x;
  JDIMENSION* pw = &w;
  if (!guarded(err_, [c, px, pw] { jpeg_crop_scanline(c, px, pw); })) fail();
  *xoffset = x;
  *width = w;
}

void Decompressor::skip_rows(unsigned n) {
  jpeg_decompress_struct* c = &cinfo_;
  JDIMENSION skipped = 0;
  JDIMENSION* s = &skipped;
  if (!guarded(err_, [c, n, s] { *s = jpeg_skip_scanlines(c, n); })) fail();
  if (skipped != n) throw DecodeError("libjpeg skipped fewer rows than asked (suspended on complete data)");
}

unsigned Decompressor::read_rows(unsigned char** rows, unsigned n) {
  jpeg_decompress_struct* c = &cinfo_;
  JDIMENSION got = 0;
  JDIMENSION* g = &got;
  // jpeg_read_scanlines returns one iMCU row's worth at most (one or two
  // rows with fancy upsampling): ask again within the one setjmp.
  if (!guarded(err_, [c, rows, n, g] {
        while (*g < n && c->output_scanline < c->output_height) {
          const JDIMENSION more = jpeg_read_scanlines(c, rows + *g, n - *g);
          if (more == 0) return;
          *g += more;
        }
      })) {
    fail();
  }
  if (got == 0) throw DecodeError("libjpeg returned no rows (suspended on complete data)");
  return got;
}

void Decompressor::read_all_rows(unsigned char** rows) {
  jpeg_decompress_struct* c = &cinfo_;
  bool stalled = false;
  bool* st = &stalled;
  if (!guarded(err_, [c, rows, st] {
        while (c->output_scanline < c->output_height) {
          const JDIMENSION done = c->output_scanline;
          if (jpeg_read_scanlines(c, rows + done, c->output_height - done) == 0) {
            *st = true;
            return;
          }
        }
      })) {
    fail();
  }
  if (stalled) throw DecodeError("libjpeg returned no rows (suspended on complete data)");
}

void Decompressor::finish() {
  jpeg_decompress_struct* c = &cinfo_;
  if (!guarded(err_, [c] { jpeg_finish_decompress(c); })) fail();
}

// ---------------------------------------------------------------- compressor

Compressor::Compressor(WriteFn write, void* context) : write_(write), context_(context) {
  buffer_ = static_cast<unsigned char*>(std::malloc(kOutputBuffer));
  if (buffer_ == nullptr) throw EncodeError("out of memory for the JPEG output buffer");
  cinfo_.err = install_error_manager(err_);
  dest_.mgr.init_destination = init_destination;
  dest_.mgr.empty_output_buffer = empty_output_buffer;
  dest_.mgr.term_destination = term_destination;
  dest_.self = this;
  jpeg_compress_struct* c = &cinfo_;
  jpeg_destination_mgr* d = &dest_.mgr;
  bool* created = &created_;
  run([c, d, created] {
    jpeg_create_compress(c);
    *created = true;
    c->dest = d;
  });
}

Compressor::~Compressor() {
  if (created_) jpeg_destroy_compress(&cinfo_);
  std::free(buffer_);
}

void Compressor::fail() {
  if (sink_error_) std::rethrow_exception(std::exchange(sink_error_, nullptr));
  throw EncodeError(describe_failure(err_));
}

void Compressor::init_destination(j_compress_ptr cinfo) noexcept {
  auto* d = reinterpret_cast<Destination*>(cinfo->dest);
  d->mgr.next_output_byte = d->self->buffer_;
  d->mgr.free_in_buffer = kOutputBuffer;
}

bool Compressor::flush(std::size_t n) noexcept {
  try {
    write_(context_, buffer_, n);
    return true;
  } catch (...) {
    sink_error_ = std::current_exception();
    return false;
  }
}

// A sink failure is carried out of libjpeg as an error (longjmp back into
// guarded()) and rethrown by fail(); the try block above has ended by then.
boolean Compressor::empty_output_buffer(j_compress_ptr cinfo) noexcept {
  auto* d = reinterpret_cast<Destination*>(cinfo->dest);
  if (!d->self->flush(kOutputBuffer)) {
    std::snprintf(d->self->err_.message, sizeof d->self->err_.message, "writing the output failed");
    std::longjmp(d->self->err_.jump, 1);
  }
  d->mgr.next_output_byte = d->self->buffer_;
  d->mgr.free_in_buffer = kOutputBuffer;
  return TRUE;
}

void Compressor::term_destination(j_compress_ptr cinfo) noexcept {
  auto* d = reinterpret_cast<Destination*>(cinfo->dest);
  const std::size_t n = kOutputBuffer - d->mgr.free_in_buffer;
  if (n > 0 && !d->self->flush(n)) {
    std::snprintf(d->self->err_.message, sizeof d->self->err_.message, "writing the output failed");
    std::longjmp(d->self->err_.jump, 1);
  }
}

}  // namespace imio::libjpeg
