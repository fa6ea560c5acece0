#include "gif_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>

#include <fmt/format.h>
#include <gif_lib.h>

#include "gif_lzw.hpp"

namespace imio::giflib {
namespace {

// giflib calls back into C++ through this; exceptions must not cross giflib,
// so a failing read is remembered and rethrown once giflib has returned.
struct InputContext {
  ByteSource* source = nullptr;
  std::exception_ptr error;
  int last_size = 0;  // the size and first byte of the last complete read, for
  int last_byte = -1; // telling giflib's refusals apart (see lzw_code_size_error)
};

int read_input(GifFileType* gif, GifByteType* dst, int n) {
  auto* ctx = static_cast<InputContext*>(gif->UserData);
  if (ctx->error || n <= 0) return 0;
  try {
    const int got = static_cast<int>(ctx->source->read(dst, static_cast<std::size_t>(n)));
    ctx->last_size = got == n ? n : 0;
    ctx->last_byte = got > 0 ? dst[0] : -1;
    return got;
  } catch (...) {
    ctx->error = std::current_exception();
    return 0;
  }
}

ColorTable table_of(const ColorMapObject* map) {
  ColorTable t;
  t.rgb.reserve(static_cast<std::size_t>(map->ColorCount) * 3);
  for (int i = 0; i < map->ColorCount; ++i) {
    t.rgb.push_back(map->Colors[i].Red);
    t.rgb.push_back(map->Colors[i].Green);
    t.rgb.push_back(map->Colors[i].Blue);
  }
  return t;
}

// Rows of an interlaced image arrive in four passes (GIF89a Appendix E).
constexpr int kPassStart[4] = {0, 4, 2, 1};
constexpr int kPassStep[4] = {8, 8, 4, 2};

}  // namespace

void Decoder::Closer::operator()(GifFileType* gif) const noexcept {
  delete static_cast<InputContext*>(gif->UserData);
  int err = 0;
  DGifCloseFile(gif, &err);
}

Decoder::Decoder(Request& request) : request_(request), own_lzw_(own_lzw_enabled()) {
  ByteSource& source = request.source();
  source.seek(0);
  auto ctx = std::make_unique<InputContext>();
  ctx->source = &source;
  int err = 0;
  GifFileType* gif = DGifOpen(ctx.get(), read_input, &err);
  if (gif == nullptr) {
    if (ctx->error) std::rethrow_exception(ctx->error);
    throw DecodeError(fmt::format("giflib cannot open the GIF: {}", GifErrorString(err) ? GifErrorString(err) : "unknown error"));
  }
  ctx.release();
  gif_.reset(gif);
  screen_.width = static_cast<std::uint16_t>(gif->SWidth);
  screen_.height = static_cast<std::uint16_t>(gif->SHeight);
  screen_.background = static_cast<std::uint8_t>(gif->SBackGroundColor);
  if (gif->SColorMap) screen_.global = table_of(gif->SColorMap);
}

Decoder::~Decoder() = default;

void Decoder::fail(const char* what) const {
  auto* ctx = static_cast<InputContext*>(gif_->UserData);
  if (ctx->error) std::rethrow_exception(ctx->error);
  const char* reason = GifErrorString(gif_->Error);
  throw DecodeError(fmt::format("giflib failed {} of frame {}: {}", what, frames_, reason ? reason : "unknown error"));
}

void Decoder::read_extension(FrameInfo& info) {
  GifFileType* gif = gif_.get();
  int code = 0;
  GifByteType* block = nullptr;
  if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) {
    done_ = true;  // cut inside an extension: the sequence ends there (as Pillow)
    return;
  }
  bool first = true;
  bool netscape = false;
  while (block != nullptr) {
    const int n = block[0];
    const GifByteType* d = block + 1;
    if (first && code == GRAPHICS_EXT_FUNC_CODE && n >= 4) {
      info.has_gce = true;
      info.disposal = (d[0] >> 2) & 7;
      info.delay_cs = d[1] | d[2] << 8;
      if (d[0] & 1) info.transparency = d[3];
    } else if (code == COMMENT_EXT_FUNC_CODE) {
      if (first && info.comment) info.comment->push_back(std::byte{'\n'});
      if (!info.comment) info.comment.emplace();
      info.comment->insert(info.comment->end(), reinterpret_cast<const std::byte*>(d), reinterpret_cast<const std::byte*>(d) + n);
    } else if (first && code == APPLICATION_EXT_FUNC_CODE && n >= 11) {
      netscape = std::memcmp(d, "NETSCAPE2.0", 11) == 0;
    } else if (netscape && n >= 3 && d[0] == 1) {
      info.loop = d[1] | d[2] << 8;
      netscape = false;
    }
    first = false;
    if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) {
      done_ = true;
      return;
    }
  }
}

bool Decoder::next(RawFrame& frame) {
  GifFileType* gif = gif_.get();
  frame.info = FrameInfo{};
  while (!done_) {
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) {
      auto* ctx = static_cast<InputContext*>(gif->UserData);
      if (ctx->error) std::rethrow_exception(ctx->error);
      if (gif->Error == D_GIF_ERR_READ_FAILED) break;  // the data end between blocks: no more frames
      fail("reading a record type");
    }
    if (type == TERMINATE_RECORD_TYPE) break;
    if (type == EXTENSION_RECORD_TYPE) {
      read_extension(frame.info);
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) fail("reading a record type");
    request_.check_frames(frames_ + 1);
    // giflib reads no further than it needs, so this is just after the image separator.
    const std::uint64_t image_start = request_.source().tell();
    if (DGifGetImageDesc(gif) == GIF_ERROR) {
      // giflib 5.2.1 reports an LZW minimum code size above 8 as a failed
      // read; its last read was then that one byte, complete.
      auto* ctx = static_cast<InputContext*>(gif->UserData);
      if (!ctx->error && gif->Error == D_GIF_ERR_READ_FAILED && ctx->last_size == 1 && ctx->last_byte > 8) {
        throw DecodeError(lzw_code_size_error(frames_, ctx->last_byte));
      }
      fail("reading the image descriptor");
    }
    const GifImageDesc& desc = gif->Image;
    FrameInfo& info = frame.info;
    info.left = static_cast<std::uint16_t>(desc.Left);
    info.top = static_cast<std::uint16_t>(desc.Top);
    info.width = static_cast<std::uint16_t>(desc.Width);
    info.height = static_cast<std::uint16_t>(desc.Height);
    info.interlaced = desc.Interlace;
    if (desc.ColorMap) info.local = table_of(desc.ColorMap);
    const std::size_t w = info.width, h = info.height;
    request_.check_pixels(w, h);
    // Only the part on the screen is kept (frames reaching outside are clipped).
    const std::size_t sw = screen_.width, sh = screen_.height;
    const std::size_t cw = info.left < sw ? std::min(w, sw - info.left) : 0;
    const std::size_t ch = info.top < sh ? std::min(h, sh - info.top) : 0;
    frame.stride = cw;
    frame.indices.resize(cw * ch);
    row_.resize(w);
    auto line = [&](std::size_t y) {
      // Rows on the screen and not clipped are decoded in place; others go
      // through row_ (a frame wholly off the screen keeps nothing).
      const bool in_place = y < ch && cw == w;
      std::uint8_t* dst = in_place ? frame.indices.data() + y * cw : row_.data();
      if (DGifGetLine(gif, dst, static_cast<int>(w)) == GIF_ERROR) fail("decoding");
      if (!in_place && y < ch && cw > 0) std::memcpy(frame.indices.data() + y * cw, row_.data(), cw);
    };
    if (w == 0 || h == 0) {
      // No pixels to decode: skip the image data sub-blocks.
      int code_size = 0;
      GifByteType* block = nullptr;
      if (DGifGetCode(gif, &code_size, &block) == GIF_ERROR) fail("skipping the image data");
      while (block != nullptr) {
        if (DGifGetCodeNext(gif, &block) == GIF_ERROR) fail("skipping the image data");
      }
    } else if (own_lzw_ && cw == w && ch == h && decode_own(frame, image_start)) {
      // Decoded by gif_lzw. A frame reaching outside the screen is left to
      // giflib, row by row, so that its size never costs more than the screen.
    } else if (info.interlaced) {
      for (int pass = 0; pass < 4; ++pass) {
        for (std::size_t y = static_cast<std::size_t>(kPassStart[pass]); y < h; y += static_cast<std::size_t>(kPassStep[pass])) line(y);
      }
    } else if (cw == w && ch == h && w * h <= static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      // A whole frame on the screen: one call decodes it (as DGifSlurp does), not one per row.
      if (DGifGetLine(gif, frame.indices.data(), static_cast<int>(w * h)) == GIF_ERROR) fail("decoding");
    } else {
      for (std::size_t y = 0; y < h; ++y) line(y);
    }
    ++frames_;
    return true;
  }
  done_ = true;
  return false;
}

bool Decoder::decode_own(RawFrame& frame, std::uint64_t image_start) {
  GifFileType* gif = gif_.get();
  auto* ctx = static_cast<InputContext*>(gif->UserData);
  // The sub-blocks through giflib, which keeps its record state right for
  // what follows (and counts nothing of the LZW state it does not use).
  int code_size = 0;
  GifByteType* block = nullptr;
  data_.clear();
  bool complete = DGifGetCode(gif, &code_size, &block) != GIF_ERROR;
  while (complete && block != nullptr) {
    data_.insert(data_.end(), block + 1, block + 1 + block[0]);
    complete = DGifGetCodeNext(gif, &block) != GIF_ERROR;
  }
  if (ctx->error) std::rethrow_exception(ctx->error);
  if (complete) {
    const std::size_t size = data_.size();
    data_.resize(size + kLzwPadding);
    const FrameInfo& info = frame.info;
    const std::size_t w = info.width, h = info.height;
    std::uint8_t* dst = frame.indices.data();
    if (info.interlaced) {
      rows_.resize(w * h);
      dst = rows_.data();
    }
    if (lzw_decode(code_size, data_.data(), size, dst, w * h)) {
      if (info.interlaced) {
        const std::uint8_t* src = rows_.data();
        for (int pass = 0; pass < 4; ++pass) {
          for (std::size_t y = static_cast<std::size_t>(kPassStart[pass]); y < h; y += static_cast<std::size_t>(kPassStep[pass])) {
            std::memcpy(frame.indices.data() + y * w, src, w);
            src += w;
          }
        }
      }
      return true;
    }
  }
  // Not a regular stream, or cut short: giflib reads the frame again from its
  // descriptor and gives its own pixels or verdict, as without this decoder.
  request_.source().seek(image_start);
  if (DGifGetImageDesc(gif) == GIF_ERROR) fail("reading the image descriptor");
  return false;
}

}  // namespace imio::giflib
