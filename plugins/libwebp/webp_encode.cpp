#include "webp_encode.hpp"

#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <webp/encode.h>
#include <webp/mux.h>

namespace imio::webp {
namespace {

std::string encode_error(WebPEncodingError e) {
  switch (e) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "libwebp ran out of memory";
    case VP8_ENC_ERROR_INVALID_CONFIGURATION: return "libwebp: invalid encoder configuration";
    case VP8_ENC_ERROR_BAD_DIMENSION: return fmt::format("libwebp: the image exceeds WebP's {} pixels per side", WEBP_MAX_DIMENSION);
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "libwebp: the first partition exceeds 512 KiB (try a lower quality)";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW: return "libwebp: a partition exceeds 16 MiB";
    case VP8_ENC_ERROR_FILE_TOO_BIG: return "libwebp: the file would exceed 4 GiB";
    default: return fmt::format("libwebp: encoding failed (error {})", static_cast<int>(e));
  }
}

std::string mux_error(WebPMuxError e) {
  switch (e) {
    case WEBP_MUX_MEMORY_ERROR: return "out of memory";
    case WEBP_MUX_INVALID_ARGUMENT: return "invalid argument";
    case WEBP_MUX_BAD_DATA: return "bad data";
    case WEBP_MUX_NOT_ENOUGH_DATA: return "not enough data";
    default: return fmt::format("error {}", static_cast<int>(e));
  }
}

Bytes to_bytes(const uint8_t* p, std::size_t n) {
  const auto* b = reinterpret_cast<const std::byte*>(p);
  return Bytes(b, b + n);
}

WebPData view(const Bytes& b) { return WebPData{reinterpret_cast<const uint8_t*>(b.data()), b.size()}; }

// ---------------------------------------------------------------- RAII for libwebp's objects

class Picture {
 public:
  explicit Picture(const FrameView& f) {
    if (!WebPPictureInit(&pic_)) throw Error("libwebp: the library's encoder ABI does not match its headers");
    pic_.width = static_cast<int>(f.width);
    pic_.height = static_cast<int>(f.height);
    pic_.use_argb = 1;  // as Pillow: ARGB in, libwebp converts for lossy coding
    const std::size_t n = f.width * f.height;
    const auto* src = reinterpret_cast<const uint8_t*>(f.data);
    const int w = static_cast<int>(f.width);
    int ok = 0;
    if (f.channels == 3 && !f.bilevel) {
      ok = WebPPictureImportRGB(&pic_, src, w * 3);
    } else if (f.channels == 4) {
      ok = WebPPictureImportRGBA(&pic_, src, w * 4);
    } else if (f.channels == 2) {  // gray + alpha: Pillow stores LA as RGBA
      std::vector<uint8_t> rgba(n * 4);
      for (std::size_t i = 0; i < n; ++i) {
        rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = src[2 * i];
        rgba[4 * i + 3] = src[2 * i + 1];
      }
      ok = WebPPictureImportRGBA(&pic_, rgba.data(), w * 4);
    } else {  // gray, or bool as 0/255: stored as RGB
      std::vector<uint8_t> rgb(n * 3);
      for (std::size_t i = 0; i < n; ++i) {
        const uint8_t v = f.bilevel ? (src[i] ? 255 : 0) : src[i];
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
      }
      ok = WebPPictureImportRGB(&pic_, rgb.data(), w * 3);
    }
    if (!ok) {
      WebPPictureFree(&pic_);
      throw EncodeError(encode_error(pic_.error_code == VP8_ENC_OK ? VP8_ENC_ERROR_OUT_OF_MEMORY : pic_.error_code));
    }
  }
  ~Picture() { WebPPictureFree(&pic_); }
  Picture(const Picture&) = delete;
  Picture& operator=(const Picture&) = delete;
  WebPPicture* get() { return &pic_; }

 private:
  WebPPicture pic_{};
};

struct MemoryWriter {
  WebPMemoryWriter w{};
  MemoryWriter() { WebPMemoryWriterInit(&w); }
  ~MemoryWriter() { WebPMemoryWriterClear(&w); }
  MemoryWriter(const MemoryWriter&) = delete;
  MemoryWriter& operator=(const MemoryWriter&) = delete;
};

struct OwnedData {
  WebPData d{};
  OwnedData() { WebPDataInit(&d); }
  ~OwnedData() { WebPDataClear(&d); }
  OwnedData(const OwnedData&) = delete;
  OwnedData& operator=(const OwnedData&) = delete;
};

struct MuxDelete {
  void operator()(WebPMux* m) const noexcept { WebPMuxDelete(m); }
};
struct AnimEncoderDelete {
  void operator()(WebPAnimEncoder* e) const noexcept { WebPAnimEncoderDelete(e); }
};

// Pillow's config: WebPConfigInit (no preset), then its keywords.
WebPConfig config_of(const EncodeOptions& o) {
  WebPConfig c;
  if (!WebPConfigInit(&c)) throw Error("libwebp: the library's encoder ABI does not match its headers");
  c.lossless = o.lossless ? 1 : 0;
  c.quality = o.quality;
  c.alpha_quality = o.alpha_quality;
  c.method = o.method;
  c.exact = o.exact ? 1 : 0;
  if (!WebPValidateConfig(&c)) throw EncodeError("libwebp refuses the encoder configuration");
  return c;
}

// The ICCP, EXIF and XMP chunks, through WebPMux (which sets the VP8X flags).
Bytes with_chunks(Bytes image, const EncodeOptions& o) {
  const bool any = (o.icc && !o.icc->empty()) || (o.exif && !o.exif->empty()) || (o.xmp && !o.xmp->empty());
  if (!any) return image;
  const WebPData in = view(image);
  std::unique_ptr<WebPMux, MuxDelete> mux(WebPMuxCreate(&in, 0));
  if (!mux) throw EncodeError("libwebp's muxer cannot read the encoded image");
  const auto set = [&](const char (&id)[5], const std::optional<Bytes>& payload) {
    if (!payload || payload->empty()) return;
    const WebPData d = view(*payload);
    const WebPMuxError e = WebPMuxSetChunk(mux.get(), id, &d, 0);
    if (e != WEBP_MUX_OK) throw EncodeError(fmt::format("libwebp's muxer cannot add the {} chunk: {}", id, mux_error(e)));
  };
  set("ICCP", o.icc);
  set("EXIF", o.exif);
  set("XMP ", o.xmp);
  OwnedData out;
  const WebPMuxError e = WebPMuxAssemble(mux.get(), &out.d);
  if (e != WEBP_MUX_OK) throw EncodeError(fmt::format("libwebp's muxer cannot assemble the file: {}", mux_error(e)));
  return to_bytes(out.d.bytes, out.d.size);
}

}  // namespace

Bytes encode_still(const FrameView& frame, const EncodeOptions& o) {
  const WebPConfig config = config_of(o);
  Picture pic(frame);
  MemoryWriter writer;
  pic.get()->writer = WebPMemoryWrite;
  pic.get()->custom_ptr = &writer.w;
  if (!WebPEncode(&config, pic.get())) throw EncodeError(encode_error(pic.get()->error_code));
  return with_chunks(to_bytes(writer.w.mem, writer.w.size), o);
}

Bytes encode_animation(std::span<const FrameView> frames, const EncodeOptions& o) {
  WebPAnimEncoderOptions eo;
  if (!WebPAnimEncoderOptionsInit(&eo)) throw Error("libwebp: the mux library's ABI does not match its headers");
  eo.anim_params.bgcolor = o.bgcolor;
  eo.anim_params.loop_count = o.loop;
  eo.minimize_size = o.minimize_size ? 1 : 0;
  eo.kmin = o.kmin;
  eo.kmax = o.kmax;
  eo.allow_mixed = o.allow_mixed ? 1 : 0;
  eo.verbose = 0;  // libwebp would print its warnings to stderr
  const FrameView& first = frames.front();
  std::unique_ptr<WebPAnimEncoder, AnimEncoderDelete> enc(
      WebPAnimEncoderNew(static_cast<int>(first.width), static_cast<int>(first.height), &eo));
  if (!enc) throw EncodeError("libwebp cannot create its animation encoder (invalid options or out of memory)");
  const WebPConfig config = config_of(o);
  std::int64_t timestamp = 0;
  for (std::size_t k = 0; k < frames.size(); ++k) {
    Picture pic(frames[k]);
    if (!WebPAnimEncoderAdd(enc.get(), pic.get(), static_cast<int>(timestamp), &config)) {
      throw EncodeError(fmt::format("frame {}: libwebp: {}", k, WebPAnimEncoderGetError(enc.get())));
    }
    timestamp += o.durations.empty() ? 0 : o.durations[k];
  }
  // The last frame's duration: a NULL frame at the end time (WebPAnimEncoderAdd).
  if (!WebPAnimEncoderAdd(enc.get(), nullptr, static_cast<int>(timestamp), nullptr)) {
    throw EncodeError(fmt::format("libwebp: {}", WebPAnimEncoderGetError(enc.get())));
  }
  OwnedData out;
  if (!WebPAnimEncoderAssemble(enc.get(), &out.d)) {
    throw EncodeError(fmt::format("libwebp cannot assemble the animation: {}", WebPAnimEncoderGetError(enc.get())));
  }
  return with_chunks(to_bytes(out.d.bytes, out.d.size), o);
}

}  // namespace imio::webp
