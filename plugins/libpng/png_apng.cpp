// APNG compositing. Reference points: APNG 1.0 §fcTL (dispose_op,
// blend_op) and Pillow 9.4 PngImagePlugin._seek/load_end, which imageio uses.
#include "png_apng.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace imio::png {
namespace {

// Pillow's DIV255 rounding of a × b / 255.
inline std::uint32_t div255(std::uint32_t a) {
  const std::uint32_t t = a + 128;
  return ((t >> 8) + t) >> 8;
}

}  // namespace

// Pillow opens 16-bit colour PNGs as 8-bit RGB/RGBA (the high byte) and
// composites those; 16-bit gray stays 32-bit "I" in Pillow, so it is never
// narrowed.
FrameDecoder::FrameDecoder(const Chunks& chunks, std::span<const std::byte> file, bool pillow_view)
    : chunks_(chunks),
      file_(file),
      narrow_(pillow_view && chunks.ihdr.bit_depth == 16 && chunks.ihdr.color_type != 0),
      canvas_layout_(raw_layout(chunks.ihdr.width, chunks.ihdr.height, narrow_ ? 8 : chunks.ihdr.bit_depth,
                                chunks.ihdr.color_type)) {}

namespace {

// Native-endian uint16 samples → their high bytes, in place.
void keep_high_bytes(std::vector<std::byte>& buf) {
  const std::size_t n = buf.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t v;
    std::memcpy(&v, buf.data() + 2 * i, 2);
    buf[i] = static_cast<std::byte>(v >> 8);
  }
  buf.resize(n);
}

}  // namespace

// The IDAT image that is not part of the animation (Pillow's frame 0).
void FrameDecoder::decode_default(std::byte* dst) const {
  const Header& h = chunks_.ihdr;
  if (!narrow_) {
    decode(file_, canvas_layout_, h.bit_depth, h.color_type, dst);
    return;
  }
  std::vector<std::byte> deep(raw_layout(h.width, h.height, h.bit_depth, h.color_type).total_bytes());
  decode(file_, raw_layout(h.width, h.height, h.bit_depth, h.color_type), h.bit_depth, h.color_type, deep.data());
  keep_high_bytes(deep);
  std::memcpy(dst, deep.data(), deep.size());
}

const FrameControl* FrameDecoder::control(std::size_t k) const {
  if (!chunks_.animated) return nullptr;
  if (chunks_.hidden_default) return k == 0 ? nullptr : &chunks_.frames[k - 1];
  return &chunks_.frames[k];
}

// An fdAT frame is decoded by libpng as a standalone PNG: IHDR with the
// frame's size, PLTE, and the fdAT payloads (sequence number dropped) as IDAT.
void FrameDecoder::decode_region(const FrameControl& fc, std::vector<std::byte>& out) const {
  const Header& h = chunks_.ihdr;
  const RawLayout layout = raw_layout(fc.width, fc.height, h.bit_depth, h.color_type);
  out.resize(layout.total_bytes());
  if (fc.uses_idat) {
    if (fc.width != h.width || fc.height != h.height || fc.x != 0 || fc.y != 0) {
      throw DecodeError("invalid APNG file: the first frame's fcTL does not cover the IDAT image");
    }
    decode(file_, layout, h.bit_depth, h.color_type, out.data());
    if (narrow_) keep_high_bytes(out);
    return;
  }
  Bytes stream(kSignature.size());
  std::memcpy(stream.data(), kSignature.data(), kSignature.size());
  std::byte ihdr[13];
  put_be32(ihdr, fc.width);
  put_be32(ihdr + 4, fc.height);
  ihdr[8] = static_cast<std::byte>(h.bit_depth);
  ihdr[9] = static_cast<std::byte>(h.color_type);
  ihdr[10] = ihdr[11] = std::byte{0};
  ihdr[12] = static_cast<std::byte>(h.interlace);
  append_chunk(stream, tag("IHDR"), ihdr);
  for (const auto& [type, data] : chunks_.frame_chunks) append_chunk(stream, type, data);
  for (const ChunkRef& ref : fc.data) {
    if (ref.offset + ref.length + 4 > file_.size()) throw DecodeError("truncated APNG file: an fdAT chunk is cut off");
    const auto data = file_.subspan(ref.offset, ref.length);
    if (crc(tag("fdAT"), data) != be32(file_.data() + ref.offset + ref.length)) {
      throw DecodeError("CRC mismatch in an fdAT chunk (file is corrupt)");
    }
    append_chunk(stream, tag("IDAT"), data.subspan(4));
  }
  append_chunk(stream, tag("IEND"), {});
  decode(stream, layout, h.bit_depth, h.color_type, out.data());
  if (narrow_) keep_high_bytes(out);
}

void FrameDecoder::save_region(const FrameControl& fc, std::vector<std::byte>& out) const {
  const std::size_t px = static_cast<std::size_t>(canvas_layout_.channels * canvas_layout_.sample_bytes);
  const std::size_t row = fc.width * px;
  out.resize(row * fc.height);
  for (std::size_t y = 0; y < fc.height; ++y) {
    std::memcpy(out.data() + y * row, canvas_.data() + (fc.y + y) * canvas_layout_.row_bytes() + fc.x * px, row);
  }
}

// Blend "over" is Pillow's paste(frame, bbox, mask=frame as RGBA): every
// sample, alpha included, becomes dst + (src − dst) × a / 255. The mask is
// the alpha channel for LA/RGBA, the tRNS colour for RGB, opaque otherwise.
void FrameDecoder::paste(const FrameControl& fc, const std::byte* src, bool over) {
  const RawLayout& L = canvas_layout_;
  const int ch = L.channels;
  const std::size_t px = static_cast<std::size_t>(ch * L.sample_bytes), row = fc.width * px;
  const bool has_alpha = ch == 2 || ch == 4;
  const bool rgb_key = ch == 3 && chunks_.trns && chunks_.trns->size() >= 6;
  if (!over || (!has_alpha && !rgb_key)) {
    for (std::size_t y = 0; y < fc.height; ++y) {
      std::memcpy(canvas_.data() + (fc.y + y) * L.row_bytes() + fc.x * px, src + y * row, row);
    }
    return;
  }
  const bool deep = L.sample_bytes == 2;
  const std::uint32_t full = deep ? 65535u : 255u;
  std::uint32_t key[3] = {};
  if (rgb_key) {
    for (int k = 0; k < 3; ++k) key[k] = be16(chunks_.trns->data() + 2 * k);
  }
  auto get = [deep](const std::byte* p, int k) -> std::uint32_t {
    if (deep) {
      std::uint16_t v;
      std::memcpy(&v, p + 2 * k, 2);
      return v;
    }
    return static_cast<std::uint8_t>(p[k]);
  };
  auto put = [deep](std::byte* p, int k, std::uint32_t v) {
    if (deep) {
      const auto s = static_cast<std::uint16_t>(v);
      std::memcpy(p + 2 * k, &s, 2);
    } else {
      p[k] = static_cast<std::byte>(v);
    }
  };
  for (std::size_t y = 0; y < fc.height; ++y) {
    std::byte* d = canvas_.data() + (fc.y + y) * L.row_bytes() + fc.x * px;
    const std::byte* s = src + y * row;
    for (std::size_t x = 0; x < fc.width; ++x, d += px, s += px) {
      std::uint32_t m = full;
      if (has_alpha) {
        m = get(s, ch - 1);
      } else if (get(s, 0) == key[0] && get(s, 1) == key[1] && get(s, 2) == key[2]) {
        m = 0;
      }
      if (m == full) {
        std::memcpy(d, s, px);
        continue;
      }
      for (int k = 0; k < ch; ++k) {
        const std::uint32_t a = get(d, k), b = get(s, k);
        const std::uint32_t v = deep ? static_cast<std::uint32_t>((std::uint64_t{a} * (full - m) + std::uint64_t{b} * m + 32767) / 65535)
                                     : div255(a * (full - m) + b * m);
        put(d, k, v);
      }
    }
  }
}

const std::byte* FrameDecoder::next() {
  const std::size_t k = next_++;
  const FrameControl* fc = control(k);
  if (k == 0) {
    canvas_.assign(canvas_layout_.total_bytes(), std::byte{0});
    if (fc == nullptr) {
      decode_default(canvas_.data());
    } else {
      decode_region(*fc, frame_);
      paste(*fc, frame_.data(), false);
    }
  } else {
    if (has_dispose_) {
      paste(*dispose_extent_, dispose_.data(), false);
      has_dispose_ = false;
    }
    decode_region(*fc, frame_);
    std::vector<std::byte> before;
    if (fc->dispose_op == 2) save_region(*fc, before);  // "previous": the canvas before this frame
    paste(*fc, frame_.data(), fc->blend_op == 1);
    if (fc->dispose_op == 2) dispose_.swap(before);
  }
  if (fc != nullptr) {
    // Pillow: a first frame that disposes to "previous" disposes to background.
    const int op = (k == 0 && fc->dispose_op == 2) ? 1 : fc->dispose_op;
    if (op == 1) {
      const std::size_t px = static_cast<std::size_t>(canvas_layout_.channels * canvas_layout_.sample_bytes);
      dispose_.assign(fc->width * px * fc->height, std::byte{0});
    }
    has_dispose_ = op != 0;
    dispose_extent_ = fc;
  }
  return canvas_.data();
}

}  // namespace imio::png
