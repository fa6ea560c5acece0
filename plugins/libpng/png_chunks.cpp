// PNG chunk list walking (PNG 1.2 §5.3 chunk layout, APNG 1.0 for
// acTL/fcTL/fdAT) and the info keys imageio's pillow plugin reports
// (spec §5.1.8).
#include "png_chunks.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <zlib.h>

namespace imio::png {
namespace {

constexpr std::uint32_t kIHDR = tag("IHDR"), kPLTE = tag("PLTE"), kIDAT = tag("IDAT"), kIEND = tag("IEND"),
                        ktRNS = tag("tRNS"), kgAMA = tag("gAMA"), ksRGB = tag("sRGB"), kcHRM = tag("cHRM"),
                        kpHYs = tag("pHYs"), kiCCP = tag("iCCP"), keXIf = tag("eXIf"), ktEXt = tag("tEXt"),
                        kzTXt = tag("zTXt"), kiTXt = tag("iTXt"), kacTL = tag("acTL"), kfcTL = tag("fcTL"),
                        kfdAT = tag("fdAT");

// Pillow refuses text that inflates beyond ImageFile.SAFEBLOCK (1 MiB).
constexpr std::size_t kMaxInflated = 1 << 20;

std::string type_name(std::uint32_t t) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((t >> (24 - 8 * i)) & 0xff);
    s[static_cast<std::size_t>(i)] = (c >= 32 && c < 127) ? c : '?';
  }
  return s;
}

std::string latin1_to_utf8(std::span<const std::byte> s) {
  std::string out;
  out.reserve(s.size());
  for (const std::byte b : s) {
    const auto c = static_cast<unsigned char>(b);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

// zlib inflate with a ceiling; nullopt when the stream is broken or too large.
std::optional<Bytes> inflate_bounded(std::span<const std::byte> in, std::size_t limit) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return std::nullopt;
  Bytes out(std::min<std::size_t>(limit, std::max<std::size_t>(in.size() * 4, 1024)));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  std::size_t produced = 0;
  while (rc == Z_OK) {
    if (produced == out.size()) {
      if (out.size() >= limit) break;
      out.resize(std::min(limit, out.size() * 2));
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&z, Z_NO_FLUSH);
    produced = out.size() - z.avail_out;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

std::span<const std::byte> until_nul(std::span<const std::byte> s, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < s.size() && s[pos] != std::byte{0}) ++pos;
  auto part = s.subspan(start, pos - start);
  if (pos < s.size()) ++pos;  // the NUL
  return part;
}

// Reads `n` bytes at `at` into `out`, growing it as the data arrive: a
// length field from the file is never allocated ahead of the bytes that back
// it (a non-seekable stream cannot say how many will come). Returns the
// number of bytes read.
std::size_t read_growing(ByteSource& source, std::uint64_t at, std::size_t n, Bytes& out) {
  constexpr std::size_t kStep = std::size_t{1} << 20;
  out.clear();
  source.seek(at);
  while (out.size() < n) {
    const std::size_t old = out.size();
    const std::size_t want = std::min(kStep, n - old);
    out.resize(old + want);
    const std::size_t got = source.read(out.data() + old, want);
    out.resize(old + got);
    if (got < want) break;
  }
  return out.size();
}

class Scanner {
 public:
  Scanner(ByteSource& source, std::uint64_t max_bytes) : source_(source), size_(source.size()), max_bytes_(max_bytes) {}

  Chunks run() {
    check_signature();
    std::uint64_t pos = 8;
    bool seen_iend = false;
    while (!seen_iend) {
      std::byte head[8];
      source_.seek(pos);
      const std::size_t got = source_.read(head, 8);
      if (got == 0 && !c_.idat.empty()) {
        // Pillow accepts a file that ends cleanly after its image data.
        warn("libpng", "the PNG file ends without an IEND chunk");
        break;
      }
      if (got < 8) throw DecodeError("truncated PNG file: a chunk header is cut off (image file is truncated)");
      const std::uint32_t length = be32(head), type = be32(head + 4);
      if (length > 0x7fffffffu) throw DecodeError(fmt::format("invalid PNG chunk length {} of {}", length, type_name(type)));
      if (pos == 8 && type != kIHDR) throw DecodeError("invalid PNG file: the first chunk is not IHDR");
      const std::uint64_t data_at = pos + 8, next = data_at + length + 4;
      if (size_ && next > *size_ && type == kIDAT && have_ihdr_) {
        // The image data are cut off: what the header says stays readable
        // (improps), decoding and metadata fail (Pillow loads to find eXIf).
        c_.truncated = true;
        image_data(type, ChunkRef{data_at, static_cast<std::uint32_t>(std::min<std::uint64_t>(length, *size_ - data_at))});
        break;
      }
      if (size_ && next > *size_) {
        throw DecodeError(fmt::format("truncated PNG file: the {} chunk at byte {} runs past the end of the data "
                                      "(image file is truncated)",
                                      type_name(type), pos));
      }
      if (type == kIDAT || type == kfdAT) {
        image_data(type, ChunkRef{data_at, length});
      } else {
        Bytes data = read_checked(type, data_at, length);
        seen_iend = type == kIEND;
        chunk(type, data);
      }
      pos = next;
    }
    finish();
    return std::move(c_);
  }

 private:
  void check_signature() {
    std::byte sig[8];
    source_.seek(0);
    if (source_.read(sig, 8) != 8 || !has_signature(sig)) {
      throw DecodeError("not a PNG file: the 8-byte PNG signature is damaged");
    }
  }

  Bytes read_checked(std::uint32_t type, std::uint64_t at, std::uint32_t length) {
    if (length + std::uint64_t{4} > max_bytes_) {
      throw LimitError(fmt::format("the {} chunk holds {} bytes, more than Limits::max_bytes ({})", type_name(type),
                                   length, max_bytes_));
    }
    Bytes data;
    if (read_growing(source_, at, length + std::size_t{4}, data) != length + std::size_t{4}) {
      throw DecodeError(fmt::format("truncated PNG file: the {} chunk is cut off (image file is truncated)", type_name(type)));
    }
    const std::uint32_t stored = be32(data.data() + length);
    data.resize(length);
    if (crc(type, data) != stored) {
      throw DecodeError(fmt::format("CRC mismatch in the {} chunk (file is corrupt)", type_name(type)));
    }
    return data;
  }

  void image_data(std::uint32_t type, ChunkRef ref) {
    if (type == kIDAT) {
      if (!c_.idat.empty() && !idat_open_) throw DecodeError("invalid PNG file: IDAT chunks are not consecutive");
      if (c_.idat.empty()) first_idat();
      c_.idat.push_back(ref);
      idat_open_ = true;
      return;
    }
    idat_open_ = false;
    if (!c_.animated || beyond_count_) return;  // fdAT without acTL, or of a frame past acTL's count: ignored
    if (c_.frames.empty() || c_.frames.back().uses_idat || ref.length < 4) {
      throw DecodeError("invalid APNG file: an fdAT chunk without its fcTL");
    }
    std::byte seq[4];
    source_.seek(ref.offset);
    if (source_.read(seq, 4) != 4) throw DecodeError("truncated PNG file: an fdAT chunk is cut off (image file is truncated)");
    check_sequence("fdAT", be32(seq));
    c_.frames.back().data.push_back(ref);
  }

  // APNG 1.0 §4: fcTL and fdAT share one sequence starting at 0 with no gaps,
  // repeats or reordering; Pillow raises "APNG contains frame sequence
  // errors" otherwise, and a decoder must not play chunks out of order.
  void check_sequence(const char* chunk, std::uint32_t seq) {
    if (seq != next_sequence_) {
      throw DecodeError(fmt::format("APNG contains frame sequence errors: {} has sequence number {}, {} expected",
                                    chunk, seq, next_sequence_));
    }
    ++next_sequence_;
  }

  void first_idat() {
    if (!have_ihdr_) throw DecodeError("invalid PNG file: IDAT before IHDR");
    if (c_.ihdr.color_type == 3 && c_.palette.empty()) throw DecodeError("invalid PNG file: a palette image without PLTE");
    if (c_.animated) {
      if (!c_.frames.empty()) c_.frames.back().uses_idat = true;
      c_.hidden_default = c_.frames.empty();
    }
  }

  void chunk(std::uint32_t type, std::span<const std::byte> d) {
    idat_open_ = false;
    const bool before_idat = c_.idat.empty();
    switch (type) {
      case kIHDR: return ihdr(d);
      case kPLTE:
        if (before_idat) palette(d);
        return;
      case ktRNS:
        if (before_idat) trns(d);
        return;
      case kgAMA:
        if (d.size() == 4 && before_idat) {
          c_.gamma = be32(d.data()) / 100000.0;
          c_.info.set("gamma", *c_.gamma);
        }
        return;
      case ksRGB:
        if (d.size() == 1 && before_idat) c_.info.set("srgb", static_cast<std::int64_t>(d[0]));
        return;
      case kcHRM:
        if (d.size() == 32 && before_idat) {
          Value::List v;
          for (int i = 0; i < 8; ++i) v.emplace_back(be32(d.data() + 4 * i) / 100000.0);
          c_.info.set("chromaticity", Value(std::move(v)));
        }
        return;
      case kpHYs:
        if (d.size() == 9 && before_idat) phys(d);
        return;
      case kiCCP:
        if (before_idat && !c_.info.contains("icc_profile")) iccp(d);
        return;
      case keXIf:
        if (!c_.exif) {
          c_.exif = Bytes(d.begin(), d.end());
          // Pillow keeps it with the "Exif\0\0" prefix of a JPEG APP1 segment.
          if (before_idat) {
            Bytes v{std::byte{'E'}, std::byte{'x'}, std::byte{'i'}, std::byte{'f'}, std::byte{0}, std::byte{0}};
            v.insert(v.end(), d.begin(), d.end());
            c_.info.set("exif", std::move(v));
          }
        }
        return;
      case ktEXt:
      case kzTXt:
      case kiTXt:
        if (before_idat) text(type, d);
        return;
      case kacTL:
        if (before_idat && d.size() == 8 && !apng_refused_) actl(d);
        return;
      case kfcTL:
        if (c_.animated) fctl(d);
        return;
      default:
        return;
    }
  }

  void ihdr(std::span<const std::byte> d) {
    if (have_ihdr_ || d.size() != 13) throw DecodeError("invalid PNG file: bad or repeated IHDR chunk");
    Header& h = c_.ihdr;
    h.width = be32(d.data());
    h.height = be32(d.data() + 4);
    h.bit_depth = static_cast<int>(d[8]);
    h.color_type = static_cast<int>(d[9]);
    h.interlace = static_cast<int>(d[12]);
    if (h.interlace == 1) c_.info.set("interlace", std::int64_t{1});
    const int bd = h.bit_depth;
    bool ok = h.width > 0 && h.height > 0 && h.width <= 0x7fffffffu && h.height <= 0x7fffffffu && h.interlace <= 1 &&
              d[10] == std::byte{0} && d[11] == std::byte{0};
    switch (h.color_type) {
      case 0: ok = ok && (bd == 1 || bd == 2 || bd == 4 || bd == 8 || bd == 16); break;
      case 3: ok = ok && (bd == 1 || bd == 2 || bd == 4 || bd == 8); break;
      case 2: case 4: case 6: ok = ok && (bd == 8 || bd == 16); break;
      default: ok = false;
    }
    if (!ok) {
      throw DecodeError(fmt::format("invalid IHDR: {}x{}, bit depth {}, colour type {}, interlace {}", h.width, h.height,
                                    bd, h.color_type, h.interlace));
    }
    have_ihdr_ = true;
  }

  void palette(std::span<const std::byte> d) {
    if (d.size() % 3 != 0 || d.empty() || d.size() > 768) throw DecodeError("invalid PLTE chunk length");
    c_.palette.clear();
    for (std::size_t i = 0; i + 2 < d.size(); i += 3) {
      c_.palette.push_back({std::uint8_t(d[i]), std::uint8_t(d[i + 1]), std::uint8_t(d[i + 2])});
    }
    c_.frame_chunks.emplace_back(kPLTE, Bytes(d.begin(), d.end()));
  }

  // Pillow's chunk_tRNS: palette → the index when exactly one entry is 0
  // and all others 255, else the raw bytes; gray → int; RGB → (r, g, b).
  void trns(std::span<const std::byte> d) {
    c_.trns = Bytes(d.begin(), d.end());
    const int ct = c_.ihdr.color_type;
    if (ct == 3) {
      std::size_t zeros = 0, zero_at = 0, other = 0;
      for (std::size_t i = 0; i < d.size(); ++i) {
        if (d[i] == std::byte{0}) {
          ++zeros;
          zero_at = i;
        } else if (d[i] != std::byte{0xff}) {
          ++other;
        }
      }
      if (zeros == 1 && other == 0) {
        c_.info.set("transparency", static_cast<std::int64_t>(zero_at));
      } else if (!(zeros == 0 && other == 0)) {
        c_.info.set("transparency", Bytes(d.begin(), d.end()));
      }
    } else if (ct == 0 && d.size() >= 2) {
      c_.info.set("transparency", static_cast<std::int64_t>(be16(d.data())));
    } else if (ct == 2 && d.size() >= 6) {
      c_.info.set("transparency", Value{std::int64_t{be16(d.data())}, std::int64_t{be16(d.data() + 2)},
                                        std::int64_t{be16(d.data() + 4)}});
    }
  }

  void phys(std::span<const std::byte> d) {
    const double px = be32(d.data()), py = be32(d.data() + 4);
    if (d[8] == std::byte{1}) {
      c_.info.set("dpi", Value{px * 0.0254, py * 0.0254});
    } else {
      c_.info.set("aspect", Value{static_cast<std::int64_t>(px), static_cast<std::int64_t>(py)});
    }
  }

  // Pillow sets icc_profile to None when the profile does not inflate.
  void iccp(std::span<const std::byte> d) {
    std::size_t pos = 0;
    until_nul(d, pos);
    if (pos + 1 > d.size()) return;
    auto profile = inflate_bounded(d.subspan(pos + 1), std::size_t{64} << 20);
    if (!profile) warn("libpng", "the iCCP profile does not decompress; icc_profile is None");
    c_.info.set("icc_profile", profile ? Value(std::move(*profile)) : Value());
  }

  void text(std::uint32_t type, std::span<const std::byte> d) {
    std::size_t pos = 0;
    const std::string key = latin1_to_utf8(until_nul(d, pos));
    if (key.empty()) return;
    if (type == ktEXt) {
      c_.info.set(key, latin1_to_utf8(d.subspan(pos)));
      return;
    }
    if (type == kzTXt) {
      if (pos >= d.size()) return;
      auto v = inflate_bounded(d.subspan(pos + 1), kMaxInflated);
      if (!v) return warn("libpng", fmt::format("the zTXt chunk '{}' does not decompress; skipped", key));
      c_.info.set(key, latin1_to_utf8(*v));
      return;
    }
    // iTXt: flag, method, language\0, translated keyword\0, UTF-8 text
    if (pos + 2 > d.size()) return;
    const bool compressed = d[pos] != std::byte{0};
    pos += 2;
    until_nul(d, pos);
    until_nul(d, pos);
    auto body = d.subspan(std::min(pos, d.size()));
    if (compressed) {
      auto v = inflate_bounded(body, kMaxInflated);
      if (!v) return warn("libpng", fmt::format("the iTXt chunk '{}' does not decompress; skipped", key));
      c_.info.set(key, std::string(reinterpret_cast<const char*>(v->data()), v->size()));
    } else {
      c_.info.set(key, std::string(reinterpret_cast<const char*>(body.data()), body.size()));
    }
  }

  // An invalid animation control leaves the file a plain PNG: Pillow 9.4
  // (and so imageio) warns "Invalid APNG, will use default PNG image if
  // possible" for a second acTL and for a frame count of 0 or above 2^31.
  void actl(std::span<const std::byte> d) {
    const std::uint32_t frames = be32(d.data());
    if (c_.animated) return refuse_apng("a second acTL chunk");
    if (frames == 0 || frames > 0x80000000u) {
      return refuse_apng(fmt::format("the acTL chunk announces {} frames (APNG needs 1 to 2^31)", frames));
    }
    c_.animated = true;
    c_.num_frames = frames;
    c_.num_plays = be32(d.data() + 4);
    c_.info.set("loop", static_cast<std::int64_t>(c_.num_plays));
  }

  void refuse_apng(const std::string& why) {
    warn("libpng", fmt::format("invalid APNG: {}; the default PNG image is used", why));
    apng_refused_ = true;
    c_.animated = false;
    c_.num_frames = c_.num_plays = 0;
    c_.frames.clear();
    c_.hidden_default = false;
    c_.info.erase("loop");
  }

  void fctl(std::span<const std::byte> d) {
    if (d.size() != 26) throw DecodeError("invalid APNG fcTL chunk length");
    FrameControl f;
    f.sequence = be32(d.data());
    f.width = be32(d.data() + 4);
    f.height = be32(d.data() + 8);
    f.x = be32(d.data() + 12);
    f.y = be32(d.data() + 16);
    f.delay_num = be16(d.data() + 20);
    f.delay_den = be16(d.data() + 22);
    f.dispose_op = static_cast<std::uint8_t>(d[24]);
    f.blend_op = static_cast<std::uint8_t>(d[25]);
    const std::uint64_t right = std::uint64_t{f.x} + f.width, bottom = std::uint64_t{f.y} + f.height;
    if (f.width == 0 || f.height == 0 || right > c_.ihdr.width || bottom > c_.ihdr.height || f.dispose_op > 2 ||
        f.blend_op > 1) {
      throw DecodeError(fmt::format("APNG contains invalid frames: fcTL {}x{} at ({}, {}) on a {}x{} canvas", f.width,
                                    f.height, f.x, f.y, c_.ihdr.width, c_.ihdr.height));
    }
    if (!c_.frames.empty() && c_.frames.back().data.empty() && !c_.frames.back().uses_idat) {
      throw DecodeError("invalid APNG file: an fcTL without image data");
    }
    if (c_.frames.size() >= c_.num_frames) {
      beyond_count_ = true;  // beyond acTL's count: ignored, as Pillow
      return;
    }
    check_sequence("fcTL", f.sequence);
    c_.frames.push_back(std::move(f));
  }

  void finish() {
    if (!have_ihdr_) throw DecodeError("invalid PNG file: no IHDR chunk");
    if (c_.idat.empty()) throw DecodeError("invalid PNG file: no IDAT chunk");
    if (!c_.animated) return;
    if (!c_.frames.empty() && c_.frames.back().data.empty() && !c_.frames.back().uses_idat) c_.frames.pop_back();
    if (c_.frames.empty()) {
      c_.animated = false;
      return;
    }
    // Pillow 9.4 fails ("Truncated File Read") seeking a frame acTL announces
    // but the file does not hold; imio refuses the file up front so improps,
    // imread and imiter agree (D11).
    if (c_.frames.size() < c_.num_frames) {
      throw DecodeError(fmt::format("invalid APNG file: acTL announces {} frames, the file holds {}", c_.num_frames,
                                    c_.frames.size()));
    }
  }

  ByteSource& source_;
  std::optional<std::uint64_t> size_;
  std::uint64_t max_bytes_;
  Chunks c_;
  bool have_ihdr_ = false, idat_open_ = false;
  bool apng_refused_ = false;   // an invalid acTL made the file a plain PNG
  bool beyond_count_ = false;   // in the chunks of a frame past acTL's count
  std::uint32_t next_sequence_ = 0;
};

}  // namespace

bool has_signature(std::span<const std::byte> first) noexcept {
  return first.size() >= 8 && std::memcmp(first.data(), kSignature.data(), 8) == 0;
}

bool looks_like_damaged_png(std::span<const std::byte> first) noexcept {
  if (first.size() < 16) return false;
  int png = 0;
  for (std::size_t i = 1; i < 4; ++i) {
    const auto c = static_cast<unsigned char>(first[i]) | 0x20;
    png += c == "png"[i - 1];
  }
  bool ihdr = false;
  for (std::size_t i = 8; i + 4 <= first.size() && i < 20; ++i) ihdr = ihdr || std::memcmp(first.data() + i, "IHDR", 4) == 0;
  return png >= 2 && ihdr;
}

std::uint32_t crc(std::uint32_t type, std::span<const std::byte> data) noexcept {
  std::byte t[4];
  put_be32(t, type);
  uLong c = crc32(0L, reinterpret_cast<const Bytef*>(t), 4);
  // zlib takes uInt lengths; chunks are below 2**31 bytes.
  // (zlib returns its initial value for a null buffer: skip empty data)
  if (!data.empty()) c = crc32(c, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
  return static_cast<std::uint32_t>(c);
}

std::uint32_t be32(const std::byte* p) noexcept {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}
std::uint16_t be16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>((std::uint32_t(p[0]) << 8) | std::uint32_t(p[1]));
}
void put_be32(std::byte* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (24 - 8 * i));
}
void put_be16(std::byte* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

Chunks scan(ByteSource& source, std::uint64_t max_bytes) { return Scanner(source, max_bytes).run(); }

void append_chunk(Bytes& out, std::uint32_t type, std::span<const std::byte> data) {
  std::byte head[8];
  put_be32(head, static_cast<std::uint32_t>(data.size()));
  put_be32(head + 4, type);
  out.insert(out.end(), head, head + 8);
  out.insert(out.end(), data.begin(), data.end());
  std::byte c[4];
  put_be32(c, crc(type, data));
  out.insert(out.end(), c, c + 4);
}

}  // namespace imio::png
