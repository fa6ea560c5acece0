// OpenJPEG's handles, messages and memory streams: see j2k_codec.hpp.
#include "j2k_codec.hpp"

#include <imio/error.hpp>
#include <imio/warnings.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

namespace imio::openjpeg {
namespace {

// OpenJPEG's messages end with a newline.
std::string trimmed(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

void on_error(const char* msg, void* user) {
  auto* m = static_cast<Messages*>(user);
  std::string s = trimmed(msg);
  // A message repeated (per tile, per code-block) says nothing new.
  if (!s.empty() && m->errors.size() < 8 && std::find(m->errors.begin(), m->errors.end(), s) == m->errors.end()) m->errors.push_back(std::move(s));
}

void on_warning(const char* msg, void*) {
  const std::string s = trimmed(msg);
  if (!s.empty()) warn("openjpeg", s);
}

void on_info(const char*, void*) {}

void route(opj_codec_t* codec, Messages& messages) {
  opj_set_info_handler(codec, on_info, &messages);
  opj_set_warning_handler(codec, on_warning, &messages);
  opj_set_error_handler(codec, on_error, &messages);
}

OPJ_SIZE_T read_fn(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* in = static_cast<MemoryInput*>(user);
  const std::size_t left = in->data.size() - in->pos;
  if (left == 0) return static_cast<OPJ_SIZE_T>(-1);
  const std::size_t k = std::min<std::size_t>(n, left);
  std::memcpy(buffer, in->data.data() + in->pos, k);
  in->pos += k;
  return k;
}

OPJ_OFF_T skip_fn(OPJ_OFF_T n, void* user) {
  auto* in = static_cast<MemoryInput*>(user);
  if (n < 0) {
    const auto back = static_cast<std::size_t>(-n);
    if (back > in->pos) return -1;
    in->pos -= back;
    return n;
  }
  const std::size_t left = in->data.size() - in->pos;
  if (left == 0) return -1;
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), left);
  in->pos += k;
  return static_cast<OPJ_OFF_T>(k);
}

OPJ_BOOL seek_fn(OPJ_OFF_T pos, void* user) {
  auto* in = static_cast<MemoryInput*>(user);
  if (pos < 0 || static_cast<std::uint64_t>(pos) > in->data.size()) return OPJ_FALSE;
  in->pos = static_cast<std::size_t>(pos);
  return OPJ_TRUE;
}

OPJ_SIZE_T write_fn(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* out = static_cast<MemoryOutput*>(user);
  const auto* src = static_cast<const std::byte*>(buffer);
  if (out->pos + n > out->data.size()) out->data.resize(out->pos + n);
  std::memcpy(out->data.data() + out->pos, src, n);
  out->pos += n;
  return n;
}

OPJ_OFF_T out_skip_fn(OPJ_OFF_T n, void* user) {
  auto* out = static_cast<MemoryOutput*>(user);
  if (n < 0 && static_cast<std::size_t>(-n) > out->pos) return -1;
  out->pos = static_cast<std::size_t>(static_cast<OPJ_OFF_T>(out->pos) + n);
  if (out->pos > out->data.size()) out->data.resize(out->pos);
  return n;
}

OPJ_BOOL out_seek_fn(OPJ_OFF_T pos, void* user) {
  auto* out = static_cast<MemoryOutput*>(user);
  if (pos < 0) return OPJ_FALSE;
  out->pos = static_cast<std::size_t>(pos);
  if (out->pos > out->data.size()) out->data.resize(out->pos);
  return OPJ_TRUE;
}

// OpenJPEG copies through a buffer of this size (its default, 1 MiB).
constexpr OPJ_SIZE_T kStreamBuffer = OPJ_J2K_STREAM_CHUNK_SIZE;

}  // namespace

std::string openjpeg_version() { return std::string("OpenJPEG ") + opj_version(); }

std::string Messages::text(std::string_view fallback) const {
  if (errors.empty()) return std::string(fallback);
  std::string s;
  for (const std::string& e : errors) s += (s.empty() ? "" : "; ") + e;
  return s;
}

CodecPtr make_decoder(OPJ_CODEC_FORMAT format, Messages& messages) {
  CodecPtr codec(opj_create_decompress(format));
  if (!codec) throw Error("OpenJPEG could not create a decoder");
  route(codec.get(), messages);
  return codec;
}

CodecPtr make_encoder(OPJ_CODEC_FORMAT format, Messages& messages) {
  CodecPtr codec(opj_create_compress(format));
  if (!codec) throw Error("OpenJPEG could not create an encoder");
  route(codec.get(), messages);
  return codec;
}

int thread_count(int requested) {
  if (!opj_has_thread_support()) return 1;
  if (requested > 0) return requested;
  return std::max(1, opj_get_num_cpus());
}

StreamPtr make_input_stream(MemoryInput& in) {
  StreamPtr s(opj_stream_create(std::min<OPJ_SIZE_T>(kStreamBuffer, std::max<std::size_t>(in.data.size(), 1)), OPJ_TRUE));
  if (!s) throw Error("OpenJPEG could not create a stream");
  opj_stream_set_read_function(s.get(), read_fn);
  opj_stream_set_skip_function(s.get(), skip_fn);
  opj_stream_set_seek_function(s.get(), seek_fn);
  opj_stream_set_user_data(s.get(), &in, nullptr);
  opj_stream_set_user_data_length(s.get(), in.data.size());
  return s;
}

StreamPtr make_output_stream(MemoryOutput& out) {
  StreamPtr s(opj_stream_create(kStreamBuffer, OPJ_FALSE));
  if (!s) throw Error("OpenJPEG could not create a stream");
  opj_stream_set_write_function(s.get(), write_fn);
  opj_stream_set_skip_function(s.get(), out_skip_fn);
  opj_stream_set_seek_function(s.get(), out_seek_fn);
  opj_stream_set_user_data(s.get(), &out, nullptr);
  return s;
}

}  // namespace imio::openjpeg
