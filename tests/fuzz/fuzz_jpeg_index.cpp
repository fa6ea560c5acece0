// Differential fuzzing of the JPEG entropy index's split walk
// (plugins/libjpeg/jpeg_entropy_index.hpp, compiled in): for any bytes
// libjpeg reads a header from, an index walked by this thread alone and one
// walked by three threads in parts of 64 bits (parts that start out of step
// with the codes, restart on codes the tables lack and fall in step) cut the
// same stream, or none, for the same boxes. A difference aborts; a crash or
// a sanitizer report fails as in every target.
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>

#include <jpeglib.h>

#include "jpeg_entropy_index.hpp"

namespace {

using imio::libjpeg::ColumnEntry;
using imio::libjpeg::EntropyIndex;

// libjpeg's errors end the input: its default handler would exit().
struct Failure {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
};
[[noreturn]] void fail(j_common_ptr info) { std::longjmp(reinterpret_cast<Failure*>(info->err)->jump, 1); }
void quiet(j_common_ptr, int) {}

// No libjpeg call here (nothing to longjmp over).
void compare(const jpeg_decompress_struct& info, std::span<const std::byte> file, std::size_t scan_start) {
  std::optional<EntropyIndex> one = EntropyIndex::create(info, file, scan_start);
  std::optional<EntropyIndex> split = EntropyIndex::create(info, file, scan_start);
  if (one.has_value() != split.has_value()) std::abort();
  if (!one) return;
  const std::uint64_t w = info.image_width, h = info.image_height;
  const imio::PixelBox boxes[] = {{w / 4, h / 3, w / 2 + 1, h * 2 / 3 + 1}, {w - 1, h - 1, w, h}, {0, 0, w, h / 8 + 1}};
  for (const imio::PixelBox& box : boxes) {
    const std::optional<ColumnEntry> a = one->columns(box);
    const std::optional<ColumnEntry> b = split->columns(box, {.workers = 3, .part_bits = 64});
    if (a.has_value() != b.has_value()) std::abort();
    if (a && (a->stream != b->stream || a->left != b->left || a->top != b->top)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  jpeg_decompress_struct info{};
  Failure failure{};
  info.err = jpeg_std_error(&failure.manager);
  failure.manager.error_exit = fail;
  failure.manager.emit_message = quiet;
  jpeg_create_decompress(&info);
  if (setjmp(failure.jump) == 0) {
    jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
    if (jpeg_read_header(&info, TRUE) == JPEG_HEADER_OK &&
        std::uint64_t{info.image_width} * info.image_height <= (std::uint64_t{1} << 26)) {
      const auto scan_start = static_cast<std::size_t>(info.src->next_input_byte - data);
      compare(info, std::as_bytes(std::span(data, size)), scan_start);
    }
  }
  jpeg_destroy_decompress(&info);
  return 0;
}
