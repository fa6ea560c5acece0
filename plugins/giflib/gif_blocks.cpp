#include "gif_blocks.hpp"

#include <cstring>

#include <fmt/format.h>

namespace imio::giflib {

bool ColorTable::is_gray_ramp() const noexcept {
  for (std::size_t i = 0; i < count(); ++i) {
    if (rgb[3 * i] != i || rgb[3 * i + 1] != i || rgb[3 * i + 2] != i) return false;
  }
  return true;
}

Value ColorTable::distinct_colors() const {
  Value::List out;
  std::vector<std::uint32_t> seen;
  for (std::size_t i = 0; i < count(); ++i) {
    const std::uint32_t key = (std::uint32_t{rgb[3 * i]} << 16) | (std::uint32_t{rgb[3 * i + 1]} << 8) | rgb[3 * i + 2];
    bool dup = false;
    for (const auto k : seen) dup = dup || k == key;
    if (dup) continue;
    seen.push_back(key);
    out.push_back(Value::List{Value(rgb[3 * i]), Value(rgb[3 * i + 1]), Value(rgb[3 * i + 2])});
  }
  return Value(std::move(out));
}

bool has_gif_signature(std::span<const std::byte> first) noexcept {
  return first.size() >= 6 && (std::memcmp(first.data(), "GIF87a", 6) == 0 || std::memcmp(first.data(), "GIF89a", 6) == 0);
}

BlockWalker::BlockWalker(ByteSource& source) : source_(source), buf_(1 << 16) {
  source_.seek(0);
  std::uint8_t lsd[13];
  if (read(lsd, sizeof lsd) != sizeof lsd) {
    throw DecodeError("truncated GIF: the logical screen descriptor needs 13 bytes");
  }
  std::memcpy(screen_.version.data(), lsd, 6);
  screen_.width = static_cast<std::uint16_t>(lsd[6] | lsd[7] << 8);
  screen_.height = static_cast<std::uint16_t>(lsd[8] | lsd[9] << 8);
  if (lsd[10] & 0x80) {
    screen_.background = lsd[11];
    screen_.global = read_table((lsd[10] & 7) + 1, "global colour table");
  }
}

int BlockWalker::byte() {
  if (pos_ == end_) {
    end_ = source_.read(buf_.data(), buf_.size());
    pos_ = 0;
    if (end_ == 0) return -1;
  }
  return buf_[pos_++];
}

std::size_t BlockWalker::read(std::uint8_t* dst, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    if (pos_ == end_) {
      end_ = source_.read(buf_.data(), buf_.size());
      pos_ = 0;
      if (end_ == 0) break;
    }
    const std::size_t k = std::min(n - got, end_ - pos_);
    std::memcpy(dst + got, buf_.data() + pos_, k);
    pos_ += k;
    got += k;
  }
  return got;
}

ColorTable BlockWalker::read_table(int bits, const char* what) {
  ColorTable t;
  t.rgb.resize(std::size_t{3} << bits);
  if (read(t.rgb.data(), t.rgb.size()) != t.rgb.size()) {
    throw DecodeError(fmt::format("truncated GIF: the {} of {} entries is cut short", what, 1 << bits));
  }
  return t;
}

bool BlockWalker::skip_sub_blocks(Bytes* collect, bool with_lengths) {
  std::uint8_t data[255];
  for (;;) {
    const int n = byte();
    if (n < 0) return false;
    if (n == 0) return true;
    const std::size_t got = read(data, static_cast<std::size_t>(n));
    if (collect) {
      if (with_lengths) collect->push_back(static_cast<std::byte>(n));
      const auto* p = reinterpret_cast<const std::byte*>(data);
      collect->insert(collect->end(), p, p + got);
    }
    if (got != static_cast<std::size_t>(n)) return false;
  }
}

std::optional<FrameInfo> BlockWalker::next() {
  if (done_) return std::nullopt;
  FrameInfo f;
  for (;;) {
    const int kind = byte();
    if (kind < 0 || kind == 0x3B) {  // end of data or trailer
      done_ = true;
      return std::nullopt;
    }
    if (kind == 0x21) {  // extension introducer (GIF89a §23–26)
      const int label = byte();
      if (label < 0) {
        done_ = true;
        return std::nullopt;
      }
      // The first sub-block is parsed here, the rest skipped.
      const int n = byte();
      if (n < 0) {
        done_ = true;
        return std::nullopt;
      }
      std::uint8_t first[255];
      const std::size_t got = read(first, static_cast<std::size_t>(n));
      if (got != static_cast<std::size_t>(n)) {
        done_ = true;
        return std::nullopt;
      }
      bool complete = n == 0 ? true : false;
      if (label == 0xF9 && n >= 4) {
        f.has_gce = true;
        f.disposal = (first[0] >> 2) & 7;
        f.delay_cs = first[1] | first[2] << 8;
        if (first[0] & 1) f.transparency = first[3];  // a later GCE without the flag keeps it (as Pillow)
      } else if (label == 0xFE && n > 0) {
        Bytes text(reinterpret_cast<const std::byte*>(first), reinterpret_cast<const std::byte*>(first) + n);
        complete = skip_sub_blocks(&text);
        if (f.comment) {
          f.comment->push_back(std::byte{'\n'});
          f.comment->insert(f.comment->end(), text.begin(), text.end());
        } else {
          f.comment = std::move(text);
        }
        if (!complete) {
          done_ = true;
          return std::nullopt;
        }
        continue;
      } else if (label == 0xFF && n == 11 && std::memcmp(first, "XMP DataXMP", 11) == 0) {
        Bytes raw;
        complete = skip_sub_blocks(&raw, /*with_lengths=*/true);
        if (!f.xmp) f.xmp = std::move(raw);
        if (!complete) {
          done_ = true;
          return std::nullopt;
        }
        continue;
      } else if (label == 0xFF && n >= 11 &&
                 (std::memcmp(first, "NETSCAPE2.0", 11) == 0 || std::memcmp(first, "ANIMEXTS1.0", 11) == 0)) {
        // Pillow reads loop only for NETSCAPE2.0; ANIMEXTS1.0 is the same block under another name.
        const bool netscape = std::memcmp(first, "NETSCAPE2.0", 11) == 0;
        const int m = byte();
        if (m < 0) {
          done_ = true;
          return std::nullopt;
        }
        if (m == 0) {
          complete = true;
        } else {
          std::uint8_t sub[255];
          if (read(sub, static_cast<std::size_t>(m)) != static_cast<std::size_t>(m)) {
            done_ = true;
            return std::nullopt;
          }
          if (netscape && m >= 3 && sub[0] == 1) f.loop = sub[1] | sub[2] << 8;
        }
      }
      if (!complete && !skip_sub_blocks(nullptr)) {
        done_ = true;
        return std::nullopt;
      }
      continue;
    }
    if (kind == 0x2C) {  // image descriptor (GIF89a §20)
      std::uint8_t d[9];
      if (read(d, sizeof d) != sizeof d) throw DecodeError("truncated GIF: an image descriptor is cut short");
      f.left = static_cast<std::uint16_t>(d[0] | d[1] << 8);
      f.top = static_cast<std::uint16_t>(d[2] | d[3] << 8);
      f.width = static_cast<std::uint16_t>(d[4] | d[5] << 8);
      f.height = static_cast<std::uint16_t>(d[6] | d[7] << 8);
      f.interlaced = (d[8] & 0x40) != 0;
      if (d[8] & 0x80) f.local = read_table((d[8] & 7) + 1, "local colour table");
      const int code_size = byte();
      if (code_size < 0) throw DecodeError("truncated GIF: the LZW minimum code size of an image is missing");
      // Checked here too so that improps, immeta and imread agree (D11).
      if (code_size > 8) throw DecodeError(lzw_code_size_error(frames_seen_, code_size));
      ++frames_seen_;
      // Image data cut short still make a frame; decoding it reports the damage.
      if (!skip_sub_blocks(nullptr)) done_ = data_cut_ = true;
      return f;
    }
    // giflib refuses anything else between blocks; so does imio, in every call.
    throw DecodeError(fmt::format("wrong record type 0x{:02X} between GIF blocks", kind));
  }
}

std::string lzw_code_size_error(std::size_t frame, int bits) {
  return fmt::format(
      "frame {} has an LZW minimum code size of {} bits; GIF89a §22 allows 2 to 8 and giflib, which imio uses, "
      "cannot decode more (Pillow can)",
      frame, bits);
}

}  // namespace imio::giflib
