// RAII wrappers around libjpeg's decompressor and compressor, with an error
// manager that never prints and never lets a longjmp cross a C++ frame that
// holds resources: every libjpeg call runs inside guarded(), a tiny function
// whose only local state is the setjmp point (STYLE: setjmp confinement).
#pragma once

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <type_traits>

#include <jpeglib.h>

namespace imio::libjpeg {

/// Error state shared by the callbacks (plain C data: safe to longjmp over).
struct ErrorState {
  jpeg_error_mgr mgr{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
  int code = 0;           ///< libjpeg message code of the failure
  bool from_warning = false;  ///< the failure is a warning promoted to an error
  int warnings = 0;       ///< warnings passed on to imio::warn
  bool mute = false;      ///< drop warnings (a header read the second time)
  bool strict = true;     ///< corrupt-data warnings are errors (the `strict` kwarg)
};

/// The library and its version, "libjpeg-turbo 2.1.5" (jconfig.h's
/// LIBJPEG_TURBO_VERSION_NUMBER), or "libjpeg" when it is not libjpeg-turbo.
std::string library_name();

/// Installs imio's error manager into `state` and returns it for cinfo.err.
jpeg_error_mgr* install_error_manager(ErrorState& state) noexcept;

/// Runs `f` (libjpeg calls only) with the setjmp point of `state`; false
/// when libjpeg reported an error. `f` must hold nothing with a destructor.
template <class F>
bool guarded(ErrorState& state, F&& f) noexcept {
  static_assert(std::is_trivially_destructible_v<std::remove_cvref_t<F>>);
  if (setjmp(state.jump) != 0) return false;
  f();
  return true;
}

/// The failure as a sentence, with a hint for what libjpeg-turbo 2.1 cannot do.
std::string describe_failure(const ErrorState& state);

/// A decompressor over a memory block that outlives it.
class Decompressor {
 public:
  Decompressor(const unsigned char* data, std::size_t size, std::uint64_t max_memory);
  /// A decompressor over a stream in two pieces that outlive it: `head`
  /// (markers up to the scan's data) then `tail` (entropy-coded data to the
  /// end), served one after the other without joining them.
  /// `first_restart`: the number (0–7) of the first RST marker in `tail`,
  /// where libjpeg expects RST0 (a stream entered at a restart interval,
  /// jpeg_restart.hpp): markers are accepted with their numbers shifted by it.
  Decompressor(std::span<const unsigned char> head, std::span<const unsigned char> tail, std::uint64_t max_memory,
               unsigned first_restart = 0);
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  /// Reads the header (markers are not saved: see jpeg_markers.cpp).
  /// `repeat`: the header was read before, its warnings were already passed on.
  void read_header(bool repeat = false);
  /// `strict=false`: libjpeg's corrupt-data warnings (see loses_data in
  /// jpeg_backend.cpp) are passed on as warnings and the pixels libjpeg
  /// produced are kept, instead of a DecodeError.
  void set_strict(bool strict) noexcept { err_.strict = strict; }
  /// Sets the output colour space and DCT scale and computes output_width/height.
  void configure(J_COLOR_SPACE out, unsigned scale_denom);
  void start();
  /// Decodes only the columns [*xoffset, *xoffset + *width) of the output
  /// (jpeg_crop_scanline, after start()): libjpeg moves *xoffset left to an
  /// iMCU boundary and widens *width to match; output_width becomes *width.
  void crop_columns(unsigned* xoffset, unsigned* width);
  /// Skips `n` output rows without colour conversion or upsampling
  /// (jpeg_skip_scanlines; whole iMCU rows are entropy-decoded only).
  void skip_rows(unsigned n);
  /// Reads up to `n` rows into `rows` from output_scanline on (fewer only at
  /// the image's end); returns rows read.
  unsigned read_rows(unsigned char** rows, unsigned n);
  /// Reads all remaining rows (one setjmp for the whole image).
  void read_all_rows(unsigned char** rows);
  void finish();

  jpeg_decompress_struct& info() noexcept { return cinfo_; }
  [[noreturn]] void fail() const;

  /// Warnings passed on so far count from zero again (a header read by one
  /// call, the pixels by another: each gets libjpeg's first few warnings).
  void reset_warning_count() noexcept { err_.warnings = 0; }

 private:
  friend class ReusedDecompressor;
  void create(std::uint64_t max_memory);
  /// Back to the state of a new decompressor over `data` (after
  /// jpeg_abort_decompress; see ReusedDecompressor). False when libjpeg failed.
  bool restart(const unsigned char* data, std::size_t size, std::uint64_t max_memory) noexcept;
  /// jpeg_abort_decompress: the image's memory freed, the object ready for
  /// the next file. False when it cannot be reused (it failed, or the abort did).
  bool abort() noexcept;

  // The two-piece source (jpeg_source_mgr first: libjpeg sees only that).
  struct TwoPieces {
    jpeg_source_mgr mgr;
    std::span<const unsigned char> head, tail;
    bool tail_given;
    unsigned first_restart;
  };
  static void init_source(j_decompress_ptr cinfo) noexcept;
  static boolean fill_input_buffer(j_decompress_ptr cinfo) noexcept;
  static void skip_input_data(j_decompress_ptr cinfo, long n) noexcept;
  static boolean resync_to_restart(j_decompress_ptr cinfo, int desired) noexcept;
  static void term_source(j_decompress_ptr cinfo) noexcept;

  jpeg_decompress_struct cinfo_{};
  ErrorState err_{};
  jpeg_progress_mgr progress_{};
  TwoPieces pieces_{};
  bool created_ = false;
  bool memory_source_ = false;  // jpeg_mem_src, not the two pieces: restart() may reuse it
  mutable bool failed_ = false;  // fail() was called: the object is not reused
};

/// A decompressor over a memory block that outlives it, kept by the thread
/// for its next file instead of destroyed (issue #26 item 5). For a small
/// image, jpeg_create_decompress and jpeg_destroy_decompress (the memory
/// manager, the permanent pool, the marker reader and input controller)
/// cost a sizeable part of the decode; jpeg_abort_decompress (libjpeg.txt,
/// "Really raw data" and "Abbreviated datastreams": the object is reusable
/// for another image) returns it to the state a new one has, and TurboJPEG
/// keeps one per handle the same way. One that failed is destroyed, not kept.
class ReusedDecompressor {
 public:
  ReusedDecompressor(const unsigned char* data, std::size_t size, std::uint64_t max_memory);
  ~ReusedDecompressor();
  ReusedDecompressor(ReusedDecompressor&& other) noexcept = default;
  ReusedDecompressor& operator=(ReusedDecompressor&&) = delete;
  ReusedDecompressor(const ReusedDecompressor&) = delete;
  ReusedDecompressor& operator=(const ReusedDecompressor&) = delete;

  Decompressor& operator*() const noexcept { return *d_; }
  Decompressor* operator->() const noexcept { return d_.get(); }

 private:
  std::unique_ptr<Decompressor> d_;
};

/// A compressor writing through a callback into a large buffer.
class Compressor {
 public:
  /// `write` receives each full buffer; it may throw (the exception is
  /// carried across libjpeg and rethrown).
  using WriteFn = void (*)(void* context, const unsigned char* data, std::size_t n);
  Compressor(WriteFn write, void* context);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  jpeg_compress_struct& info() noexcept { return cinfo_; }
  /// Runs libjpeg calls in `f` guarded; rethrows a sink error or throws EncodeError.
  template <class F>
  void run(F&& f) {
    if (!guarded(err_, std::forward<F>(f))) fail();
  }

 private:
  [[noreturn]] void fail();
  static void init_destination(j_compress_ptr cinfo) noexcept;
  static boolean empty_output_buffer(j_compress_ptr cinfo) noexcept;
  static void term_destination(j_compress_ptr cinfo) noexcept;
  bool flush(std::size_t n) noexcept;

  jpeg_compress_struct cinfo_{};
  ErrorState err_{};
  struct Destination {
    jpeg_destination_mgr mgr;
    Compressor* self;
  } dest_{};
  WriteFn write_;
  void* context_;
  std::exception_ptr sink_error_;
  unsigned char* buffer_ = nullptr;
  bool created_ = false;
};

}  // namespace imio::libjpeg
