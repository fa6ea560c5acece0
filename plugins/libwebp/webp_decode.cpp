#include "webp_decode.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <webp/decode.h>
#include <webp/demux.h>

namespace imio::webp {
namespace {

std::string status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "libwebp ran out of memory";
    case VP8_STATUS_INVALID_PARAM: return "libwebp: the bitstream does not fit the canvas (invalid parameter)";
    case VP8_STATUS_BITSTREAM_ERROR: return "libwebp: corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "libwebp: unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "libwebp: the image data are cut off (truncated file)";
    default: return fmt::format("libwebp: decoding failed (status {})", static_cast<int>(status));
  }
}

// A frame's bitstream decoded on its own (no larger than the checked canvas).
VP8StatusCode decode_alone(const WebPData& fragment) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return VP8_STATUS_INVALID_PARAM;
  config.output.colorspace = MODE_RGBA;
  const VP8StatusCode status = WebPDecode(fragment.bytes, fragment.size, &config);
  WebPFreeDecBuffer(&config.output);
  return status;
}

// Why frame k did not decode (failure path only).
std::string frame_failure(WebPAnimDecoder* dec, std::size_t k) {
  WebPIterator it{};
  std::string reason = "its data do not decode";
  if (WebPDemuxGetFrame(WebPAnimDecoderGetDemuxer(dec), static_cast<int>(k + 1), &it)) {
    const VP8StatusCode status = decode_alone(it.fragment);
    if (status != VP8_STATUS_OK) reason = status_text(status);
  }
  WebPDemuxReleaseIterator(&it);
  return fmt::format("frame {}: {}", k, reason);
}

struct DemuxDelete {
  void operator()(WebPDemuxer* d) const noexcept { WebPDemuxDelete(d); }
};

// Pillow's RGB → L (ITU-R 601-2 luma in 16-bit fixed point).
inline std::uint8_t luma(const std::uint8_t* p) {
  return static_cast<std::uint8_t>((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 0x8000u) >> 16);
}

}  // namespace

void decode_still(std::span<const std::byte> file, std::uint32_t width, std::uint32_t height, int out_channels,
                  std::byte* dst) {
  const std::size_t row_bytes = std::size_t{width} * static_cast<std::size_t>(out_channels);
  decode_still_rows(file, width, height, out_channels,
                    RowTarget(dst, static_cast<std::ptrdiff_t>(row_bytes), height, row_bytes));
}

void decode_still_rows(std::span<const std::byte> file, std::uint32_t width, std::uint32_t height, int out_channels,
                       const RowTarget& rows) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) throw Error("libwebp: the library's decoder ABI does not match its headers");
  config.output.colorspace = out_channels == 4 ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = reinterpret_cast<uint8_t*>(rows.first_row());
  config.output.u.RGBA.stride = static_cast<int>(rows.stride());
  // libwebp checks |stride| × (height - 1) + one row against the size, and
  // writes only the row bytes of each row (never the gaps between rows).
  const std::size_t span = height == 0 ? 0 : static_cast<std::size_t>(std::abs(rows.stride())) * (height - 1);
  config.output.u.RGBA.size = span + std::size_t{width} * static_cast<std::size_t>(out_channels);
  const VP8StatusCode status = WebPDecode(reinterpret_cast<const uint8_t*>(file.data()), file.size(), &config);
  WebPFreeDecBuffer(&config.output);
  if (status != VP8_STATUS_OK) throw DecodeError(status_text(status));
}

void check_frame_bitstreams(std::span<const std::byte> file, std::size_t last) {
  const WebPData data{reinterpret_cast<const uint8_t*>(file.data()), file.size()};
  std::unique_ptr<WebPDemuxer, DemuxDelete> dmux(WebPDemux(&data));
  if (!dmux) throw DecodeError("libwebp's demuxer refuses the file");
  for (std::size_t k = 0; k <= last; ++k) {
    WebPIterator it{};
    VP8StatusCode status = VP8_STATUS_BITSTREAM_ERROR;
    if (WebPDemuxGetFrame(dmux.get(), static_cast<int>(k + 1), &it)) status = decode_alone(it.fragment);
    WebPDemuxReleaseIterator(&it);
    if (status != VP8_STATUS_OK) throw DecodeError(fmt::format("frame {}: {}", k, status_text(status)));
  }
}

void convert_rgba(const std::uint8_t* rgba, std::size_t pixels, Layout layout, std::byte* dst) {
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  switch (layout) {
    case Layout::rgba:
      std::memcpy(out, rgba, pixels * 4);
      break;
    case Layout::rgb:
      for (std::size_t i = 0; i < pixels; ++i) {
        out[3 * i] = rgba[4 * i];
        out[3 * i + 1] = rgba[4 * i + 1];
        out[3 * i + 2] = rgba[4 * i + 2];
      }
      break;
    case Layout::gray:
      for (std::size_t i = 0; i < pixels; ++i) out[i] = luma(rgba + 4 * i);
      break;
  }
}

void convert_rgb(const std::uint8_t* rgb, std::size_t pixels, Layout layout, std::byte* dst) {
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  switch (layout) {
    case Layout::rgb:
      std::memcpy(out, rgb, pixels * 3);
      break;
    case Layout::rgba:
      for (std::size_t i = 0; i < pixels; ++i) {
        std::memcpy(out + 4 * i, rgb + 3 * i, 3);
        out[4 * i + 3] = 255;
      }
      break;
    case Layout::gray:
      for (std::size_t i = 0; i < pixels; ++i) out[i] = luma(rgb + 3 * i);
      break;
  }
}

void AnimDecoder::Delete::operator()(WebPAnimDecoder* d) const noexcept { WebPAnimDecoderDelete(d); }

AnimDecoder::AnimDecoder(std::span<const std::byte> file) : file_(file) {
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) throw Error("libwebp: the demux library's ABI does not match its headers");
  options.color_mode = MODE_RGBA;  // Pillow passes no options: MODE_RGBA, no threads
  options.use_threads = 0;
  const WebPData data{reinterpret_cast<const uint8_t*>(file.data()), file.size()};
  dec_.reset(WebPAnimDecoderNew(&data, &options));
  if (!dec_) throw DecodeError("libwebp's WebPAnimDecoder refuses the file (invalid container, or out of memory)");
}

const std::uint8_t* AnimDecoder::next() {
  uint8_t* canvas = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderHasMoreFrames(dec_.get())) {
    throw DecodeError(fmt::format("frame {}: the animation ends after {} frames", decoded_, decoded_));
  }
  if (!WebPAnimDecoderGetNext(dec_.get(), &canvas, &timestamp) || canvas == nullptr) {
    throw DecodeError(frame_failure(dec_.get(), decoded_));
  }
  ++decoded_;
  return canvas;
}

}  // namespace imio::webp
