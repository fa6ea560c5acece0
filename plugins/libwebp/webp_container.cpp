#include "webp_container.hpp"

#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/mux.h>

namespace imio::webp {
namespace {

std::uint32_t le24(const std::byte* p) {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16);
}
std::uint32_t le32(const std::byte* p) { return le24(p) | (std::uint32_t(p[3]) << 24); }

std::string fourcc(const std::byte* p) {
  std::string s(reinterpret_cast<const char*>(p), 4);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return s;
}

struct DemuxDeleter {
  void operator()(WebPDemuxer* d) const noexcept { WebPDemuxDelete(d); }
};
using DemuxPtr = std::unique_ptr<WebPDemuxer, DemuxDeleter>;

// The frame iterator, released on every path.
class FrameIterator {
 public:
  explicit FrameIterator(const WebPDemuxer* dmux) { ok_ = WebPDemuxGetFrame(dmux, 1, &it_) != 0; }
  ~FrameIterator() { WebPDemuxReleaseIterator(&it_); }
  FrameIterator(const FrameIterator&) = delete;
  FrameIterator& operator=(const FrameIterator&) = delete;
  bool ok() const { return ok_; }
  const WebPIterator& get() const { return it_; }
  bool next() { return ok_ = WebPDemuxNextFrame(&it_) != 0; }

 private:
  WebPIterator it_{};
  bool ok_ = false;
};

std::optional<Bytes> first_chunk(const WebPDemuxer* dmux, const char (&id)[5]) {
  WebPChunkIterator it{};
  std::optional<Bytes> out;
  if (WebPDemuxGetChunk(dmux, id, 1, &it)) {
    const auto* p = reinterpret_cast<const std::byte*>(it.chunk.bytes);
    out.emplace(p, p + it.chunk.size);
  }
  WebPDemuxReleaseChunkIterator(&it);
  return out;
}

// The demuxer says only "parse error"; this walk of the top-level chunks
// names the commonest reasons (WebP Container Specification: RIFF header,
// chunks of fourcc + little-endian size + payload padded to even length,
// VP8X canvas, ANMF frame rectangles).
std::string diagnose(std::span<const std::byte> file) {
  const std::uint64_t riff_end = std::min<std::uint64_t>(8 + std::uint64_t{le32(file.data() + 4)}, file.size());
  std::uint64_t canvas_w = 0, canvas_h = 0;
  std::size_t frame = 0;
  for (std::uint64_t pos = 12; pos + 8 <= riff_end;) {
    const std::byte* h = file.data() + pos;
    const std::uint64_t size = le32(h + 4);
    const std::string id = fourcc(h);
    if (pos + 8 + size > riff_end) {
      return fmt::format("the '{}' chunk at byte {} announces {} bytes of data, but only {} remain in the RIFF data "
                         "(truncated file or corrupt chunk size)",
                         id, pos, size, riff_end - pos - 8);
    }
    if (id == "VP8X" && size >= 10) {
      canvas_w = 1 + std::uint64_t{le24(h + 12)};
      canvas_h = 1 + std::uint64_t{le24(h + 15)};
    }
    if (id == "ANMF" && size >= 16) {
      const std::uint64_t x = 2 * std::uint64_t{le24(h + 8)}, y = 2 * std::uint64_t{le24(h + 11)};
      const std::uint64_t w = 1 + std::uint64_t{le24(h + 14)}, fh = 1 + std::uint64_t{le24(h + 17)};
      if (canvas_w != 0 && (x + w > canvas_w || y + fh > canvas_h)) {
        return fmt::format("frame {} ({}x{} at {},{}) lies outside the {}x{} canvas", frame, w, fh, x, y, canvas_w, canvas_h);
      }
      ++frame;
    }
    pos += 8 + size + (size & 1);
  }
  WebPBitstreamFeatures f;
  const VP8StatusCode status = WebPGetFeatures(reinterpret_cast<const uint8_t*>(file.data()), file.size(), &f);
  if (status == VP8_STATUS_OK && (f.width <= 0 || f.height <= 0)) return "the image has a zero-sized canvas";
  if (status == VP8_STATUS_NOT_ENOUGH_DATA) return "the image header is cut off (truncated file)";
  return "libwebp's demuxer refuses the chunk layout (missing or misplaced image chunks, a zero-sized canvas or "
         "frame, frame sizes that do not match their bitstreams, or an invalid VP8X/ANIM/ANMF chunk)";
}

}  // namespace

bool has_signature(std::span<const std::byte> first) noexcept {
  return first.size() >= 12 && std::memcmp(first.data(), "RIFF", 4) == 0 && std::memcmp(first.data() + 8, "WEBP", 4) == 0;
}

Container parse(std::span<const std::byte> file, const Request& request) {
  if (!has_signature(file)) throw DecodeError("not a WebP file (no RIFF/WEBP header)");
  const std::uint64_t riff_size = le32(file.data() + 4);
  if (riff_size + 8 > file.size()) {
    throw DecodeError(fmt::format("the file is truncated: its RIFF header announces {} bytes, the file has {}",
                                  riff_size + 8, file.size()));
  }
  WebPData data{reinterpret_cast<const uint8_t*>(file.data()), file.size()};
  WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
  DemuxPtr dmux(WebPDemuxPartial(&data, &state));
  if (!dmux || state != WEBP_DEMUX_DONE) {
    if (state == WEBP_DEMUX_PARSING_HEADER || state == WEBP_DEMUX_PARSED_HEADER) {
      throw DecodeError(fmt::format("the file is truncated: {}", diagnose(file)));
    }
    throw DecodeError(fmt::format("invalid WebP file: {}", diagnose(file)));
  }
  const WebPDemuxer* d = dmux.get();
  Container c;
  c.canvas_width = WebPDemuxGetI(d, WEBP_FF_CANVAS_WIDTH);
  c.canvas_height = WebPDemuxGetI(d, WEBP_FF_CANVAS_HEIGHT);
  if (c.canvas_width == 0 || c.canvas_height == 0) {
    throw DecodeError(fmt::format("the canvas is {}x{} pixels: nothing to decode", c.canvas_width, c.canvas_height));
  }
  request.check_pixels(c.canvas_width, c.canvas_height);
  const std::uint32_t n = WebPDemuxGetI(d, WEBP_FF_FRAME_COUNT);
  if (n == 0) throw DecodeError("the file holds no image");
  request.check_frames(n);
  c.flags = WebPDemuxGetI(d, WEBP_FF_FORMAT_FLAGS);
  c.animated = (c.flags & ANIMATION_FLAG) != 0;
  c.loop_count = WebPDemuxGetI(d, WEBP_FF_LOOP_COUNT);
  c.bgcolor = WebPDemuxGetI(d, WEBP_FF_BACKGROUND_COLOR);

  // Pillow's mode (its _webp.c): RGBA unless WebPGetFeatures succeeds and
  // reports no alpha (for an animation: the VP8X ALPHA flag).
  WebPBitstreamFeatures features;
  c.has_alpha = WebPGetFeatures(data.bytes, data.size, &features) != VP8_STATUS_OK || features.has_alpha != 0;

  c.frames.reserve(n);
  for (FrameIterator it(d); it.ok(); it.next()) {
    const WebPIterator& f = it.get();
    FrameInfo info;
    info.x = static_cast<std::uint32_t>(f.x_offset);
    info.y = static_cast<std::uint32_t>(f.y_offset);
    info.width = static_cast<std::uint32_t>(f.width);
    info.height = static_cast<std::uint32_t>(f.height);
    info.duration = f.duration;
    info.dispose_background = f.dispose_method == WEBP_MUX_DISPOSE_BACKGROUND;
    info.blend = f.blend_method == WEBP_MUX_BLEND;
    info.has_alpha = f.has_alpha != 0;
    WebPBitstreamFeatures ff;
    if (WebPGetFeatures(f.fragment.bytes, f.fragment.size, &ff) == VP8_STATUS_OK && ff.format != 0) {
      info.lossless = ff.format == 2;
    }
    c.frames.push_back(info);
    if (c.frames.size() == n) break;
  }
  if (c.frames.size() != n) {
    throw DecodeError(fmt::format("the demuxer counts {} frames but lists {}", n, c.frames.size()));
  }
  c.icc = first_chunk(d, "ICCP");
  c.exif = first_chunk(d, "EXIF");
  c.xmp = first_chunk(d, "XMP ");
  return c;
}

std::string libwebp_version() {
  const auto v = [](int x) { return fmt::format("{}.{}.{}", (x >> 16) & 0xff, (x >> 8) & 0xff, x & 0xff); };
  return fmt::format("libwebp {} (demux {}, mux {})", v(WebPGetDecoderVersion()), v(WebPGetDemuxVersion()),
                     v(WebPGetMuxVersion()));
}

}  // namespace imio::webp
