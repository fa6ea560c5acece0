// OpenJPEG's handles behind RAII, its messages routed (never printed), and
// streams over memory: the codec, the stream and the image each have one
// owner; OpenJPEG's error messages become the reason of an imio exception,
// its warnings go to imio::warn("openjpeg", …), its info is dropped. The
// handlers are per codec, so concurrent decodes do not share state.
#pragma once

#include <openjpeg.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace imio::openjpeg {

/// "OpenJPEG 2.5.0".
std::string openjpeg_version();

/// The messages of one codec.
struct Messages {
  std::vector<std::string> errors;
  /// The errors joined, or `fallback` when OpenJPEG said nothing.
  std::string text(std::string_view fallback) const;
};

struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};
using CodecPtr = std::unique_ptr<opj_codec_t, CodecDeleter>;
using StreamPtr = std::unique_ptr<opj_stream_t, StreamDeleter>;
using ImagePtr = std::unique_ptr<opj_image_t, ImageDeleter>;

/// A decompressor or compressor whose messages go to `messages` (which must outlive it).
CodecPtr make_decoder(OPJ_CODEC_FORMAT format, Messages& messages);
CodecPtr make_encoder(OPJ_CODEC_FORMAT format, Messages& messages);

/// The worker threads for `requested` (0: one per CPU core); 1 when OpenJPEG was built without threads.
int thread_count(int requested);

/// Where a memory input stream is (OpenJPEG reads through callbacks).
struct MemoryInput {
  std::span<const std::byte> data;
  std::size_t pos = 0;
};

/// An input stream over `in` (which must outlive it).
StreamPtr make_input_stream(MemoryInput& in);

/// A growing output buffer with a position (OpenJPEG seeks back to patch lengths).
struct MemoryOutput {
  std::vector<std::byte> data;
  std::size_t pos = 0;
};

/// An output stream into `out` (which must outlive it).
StreamPtr make_output_stream(MemoryOutput& out);

}  // namespace imio::openjpeg
