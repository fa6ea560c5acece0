#include "exr_scan.hpp"

#include <imio/checked_math.hpp>
#include <imio/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string_view>

namespace imio::exr {
namespace {

// The version field's flags (OpenEXR file layout, "Version Field").
constexpr std::uint32_t kTiledFlag = 0x200;
constexpr std::uint32_t kLongNamesFlag = 0x400;
constexpr std::uint32_t kNonImageFlag = 0x800;
constexpr std::uint32_t kMultipartFlag = 0x1000;

// Scanlines per chunk of each compression (OpenEXR: "Scan Line Blocks").
std::optional<std::uint64_t> lines_per_chunk(std::uint8_t compression) {
  constexpr std::uint64_t lines[] = {1, 1, 1, 16, 32, 16, 32, 32, 32, 256};
  if (compression >= std::size(lines)) return std::nullopt;
  return lines[compression];
}

class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> data) : data_(data) {}
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }

  // A NUL-terminated name of at most `max` characters.
  std::string_view name(std::size_t max, std::string_view what) {
    const auto* begin = reinterpret_cast<const char*>(data_.data()) + pos_;
    const std::size_t limit = std::min(remaining(), max + 1);
    const void* nul = std::memchr(begin, 0, limit);
    if (nul == nullptr) {
      if (limit == remaining()) truncated(what);
      throw DecodeError(fmt::format("the header is damaged: {} at offset {} is longer than {} characters", what, pos_, max));
    }
    const std::size_t n = static_cast<std::size_t>(static_cast<const char*>(nul) - begin);
    pos_ += n + 1;
    return {begin, n};
  }
  std::int32_t i32(std::string_view what) {
    std::uint32_t v = u32(what);
    std::int32_t s;
    std::memcpy(&s, &v, 4);
    return s;
  }
  std::uint32_t u32(std::string_view what) {
    if (remaining() < 4) truncated(what);
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(data_[pos_ + static_cast<std::size_t>(i)]);
    pos_ += 4;
    return v;
  }
  std::uint8_t u8(std::string_view what) {
    if (remaining() < 1) truncated(what);
    return std::to_integer<std::uint8_t>(data_[pos_++]);
  }
  bool peek_nul() const { return remaining() > 0 && data_[pos_] == std::byte{0}; }
  void skip(std::size_t n) { pos_ += n; }

  [[noreturn]] void truncated(std::string_view what) const {
    throw DecodeError(fmt::format("the file is truncated: it ends at byte {} inside the header ({})", data_.size(), what));
  }

 private:
  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
};

struct RawPart {
  std::optional<std::array<std::int32_t, 4>> data_window;
  std::optional<std::uint8_t> compression;
  std::size_t channels = 0;
  std::uint64_t bytes_per_pixel = 0;  // of every full-resolution channel
  std::optional<std::uint32_t> tile_x, tile_y;
  std::uint8_t tile_mode = 0;
  std::string type;
  std::optional<std::int32_t> chunk_count;  // multi-part headers state it
};

void read_channel_list(Cursor value, std::size_t size, RawPart& part) {
  while (value.pos() < size) {
    if (value.peek_nul()) return;  // the list's terminating NUL
    value.name(255, "a channel name");
    const std::int32_t type = value.i32("a channel's pixel type");
    if (value.remaining() < 4) value.truncated("a channel");
    value.skip(4);  // pLinear and three reserved bytes
    const std::int32_t xs = value.i32("a channel's x sampling");
    const std::int32_t ys = value.i32("a channel's y sampling");
    if (type < 0 || type > 2) throw DecodeError(fmt::format("the header is damaged: a channel has pixel type {}", type));
    if (xs < 1 || ys < 1) throw DecodeError(fmt::format("the header is damaged: a channel has sampling {}x{}", xs, ys));
    ++part.channels;
    part.bytes_per_pixel += type == 1 ? 2 : 4;
  }
}

void read_attribute(std::string_view name, std::string_view type, Cursor value, std::size_t size, RawPart& part) {
  if (name == "dataWindow" && type == "box2i" && size == 16) {
    part.data_window = std::array<std::int32_t, 4>{value.i32(name), value.i32(name), value.i32(name), value.i32(name)};
  } else if (name == "compression" && type == "compression" && size == 1) {
    part.compression = value.u8(name);
  } else if (name == "channels" && type == "chlist") {
    read_channel_list(value, size, part);
  } else if (name == "tiles" && type == "tiledesc" && size == 9) {
    part.tile_x = value.u32(name);
    part.tile_y = value.u32(name);
    part.tile_mode = value.u8(name);
  } else if (name == "chunkCount" && type == "int" && size == 4) {
    part.chunk_count = value.i32(name);
  }
}

// Levels of one axis of a tiled part (OpenEXR "Tiles": round down or up).
std::uint64_t level_count(std::uint64_t size, bool round_up) {
  std::uint64_t levels = 1;
  while ((std::uint64_t{1} << (levels - 1)) < size) ++levels;  // ceil(log2(size)) + 1
  if (!round_up && (std::uint64_t{1} << (levels - 1)) > size) --levels;  // floor(log2(size)) + 1
  return levels;
}

std::uint64_t level_size(std::uint64_t size, std::uint64_t level, bool round_up) {
  const std::uint64_t d = std::uint64_t{1} << level;
  const std::uint64_t s = round_up ? (size + d - 1) / d : size / d;
  return std::max<std::uint64_t>(s, 1);
}

std::uint64_t tile_chunks(const ScannedPart& p, std::uint64_t tx, std::uint64_t ty, std::uint8_t mode) {
  const std::uint8_t level_mode = mode & 0x0f;
  const bool round_up = (mode >> 4) == 1;
  const auto w = static_cast<std::uint64_t>(p.width), h = static_cast<std::uint64_t>(p.height);
  auto tiles = [&](std::uint64_t lx, std::uint64_t ly) {
    return ((level_size(w, lx, round_up) + tx - 1) / tx) * ((level_size(h, ly, round_up) + ty - 1) / ty);
  };
  if (level_mode == 0) return tiles(0, 0);
  std::uint64_t n = 0;
  if (level_mode == 1) {
    const std::uint64_t levels = level_count(std::max(w, h), round_up);
    for (std::uint64_t l = 0; l < levels; ++l) n += tiles(l, l);
    return n;
  }
  if (level_mode != 2) throw DecodeError(fmt::format("the header is damaged: unknown tile level mode {}", level_mode));
  const std::uint64_t lx = level_count(w, round_up), ly = level_count(h, round_up);
  for (std::uint64_t y = 0; y < ly; ++y) {
    for (std::uint64_t x = 0; x < lx; ++x) n += tiles(x, y);
  }
  return n;
}

ScannedPart check_part(const RawPart& raw, bool tiled_file, bool deep_file, std::size_t index, const Limits& limits) {
  const std::string where = fmt::format("part {}", index);
  if (!raw.data_window) throw DecodeError(fmt::format("the header of {} has no dataWindow", where));
  const auto [xmin, ymin, xmax, ymax] = *raw.data_window;
  ScannedPart p;
  p.width = std::int64_t{xmax} - xmin + 1;
  p.height = std::int64_t{ymax} - ymin + 1;
  if (p.width < 1 || p.height < 1) {
    throw DecodeError(fmt::format("the header of {} is damaged: its data window ({}, {}) – ({}, {}) is empty", where, xmin, ymin, xmax, ymax));
  }
  const std::uint64_t pixels = static_cast<std::uint64_t>(p.width) * static_cast<std::uint64_t>(p.height);
  if (pixels > limits.max_pixels) {
    throw LimitError(fmt::format("{} has a data window of {} x {} pixels, above the limit of {} pixels (Limits::max_pixels)", where,
                                 p.width, p.height, limits.max_pixels));
  }
  if (raw.channels == 0) throw DecodeError(fmt::format("the header of {} has no channels", where));
  p.channels = raw.channels;
  p.deep = deep_file || raw.type.starts_with("deep");
  p.tiled = raw.type.empty() ? tiled_file : (raw.type == "tiledimage" || raw.type == "deeptile");
  const std::uint8_t compression = raw.compression.value_or(0);
  const auto lines = lines_per_chunk(compression);
  if (!lines) throw DecodeError(fmt::format("the header of {} names an unknown compression ({})", where, compression));
  const std::uint64_t line_bytes = static_cast<std::uint64_t>(p.width) * raw.bytes_per_pixel;
  if (p.tiled) {
    if (!raw.tile_x || !raw.tile_y) throw DecodeError(fmt::format("the header of tiled {} has no tile description", where));
    const std::uint64_t tx = *raw.tile_x, ty = *raw.tile_y;
    if (tx < 1 || ty < 1 || tx > 0x7fffffff || ty > 0x7fffffff) {
      throw DecodeError(fmt::format("the header of {} is damaged: tiles of {} x {} pixels", where, tx, ty));
    }
    const std::uint64_t tile_bytes = std::min<std::uint64_t>(tx, static_cast<std::uint64_t>(p.width)) *
                                     std::min<std::uint64_t>(ty, static_cast<std::uint64_t>(p.height)) * raw.bytes_per_pixel;
    if (tile_bytes > limits.max_bytes || tx * ty > limits.max_pixels) {
      throw LimitError(fmt::format("{} has tiles of {} x {} pixels, above the limits (Limits::max_pixels, max_bytes)", where, tx, ty));
    }
    // OpenEXR sizes its tile buffers (one per thread) by the whole tile,
    // whatever the data window: a tile far larger than the image is a
    // damaged header, not a writer's choice (8 x 15597576 on 17 x 20).
    const std::uint64_t whole_tile_bytes = tx * ty * raw.bytes_per_pixel;
    if (whole_tile_bytes > (std::uint64_t{64} << 20) &&
        (tx > 2 * static_cast<std::uint64_t>(p.width) || ty > 2 * static_cast<std::uint64_t>(p.height))) {
      throw DecodeError(fmt::format("the header of {} is damaged: tiles of {} x {} pixels for a data window of {} x {}", where, tx, ty,
                                    p.width, p.height));
    }
    p.chunks = tile_chunks(p, tx, ty, raw.tile_mode);
  } else {
    const std::uint64_t chunk_lines = std::min<std::uint64_t>(*lines, static_cast<std::uint64_t>(p.height));
    const auto chunk_bytes = checked_mul(line_bytes, chunk_lines);
    if (!chunk_bytes || *chunk_bytes > limits.max_bytes) {
      throw LimitError(fmt::format("{} has chunks of {} lines of {} bytes, above the limit of {} bytes (Limits::max_bytes)", where,
                                   chunk_lines, line_bytes, limits.max_bytes));
    }
    p.chunks = (static_cast<std::uint64_t>(p.height) + *lines - 1) / *lines;
  }
  // OpenEXR sizes the part's offset table by chunkCount when it is stated.
  if (raw.chunk_count && (*raw.chunk_count < 0 || static_cast<std::uint64_t>(*raw.chunk_count) != p.chunks)) {
    throw DecodeError(fmt::format("the header of {} is damaged: chunkCount {} does not match its data window ({} chunks)", where,
                                  *raw.chunk_count, p.chunks));
  }
  return p;
}

}  // namespace

bool has_magic(std::span<const std::byte> head) noexcept {
  return head.size() >= 4 && head[0] == std::byte{0x76} && head[1] == std::byte{0x2f} && head[2] == std::byte{0x31} &&
         head[3] == std::byte{0x01};
}

Scan scan_headers(std::span<const std::byte> file, const Limits& limits) {
  Cursor c(file);
  if (!has_magic(file)) throw DecodeError("not an OpenEXR file (no magic number)");
  c.skip(4);
  const std::uint32_t version = c.u32("the version field");
  if ((version & 0xff) != 2) throw DecodeError(fmt::format("OpenEXR file format version {} is not supported (only 2)", version & 0xff));
  const std::size_t max_name = (version & kLongNamesFlag) != 0 ? 255 : 31;
  Scan scan;
  scan.multipart = (version & kMultipartFlag) != 0;
  const bool tiled_file = !scan.multipart && (version & kTiledFlag) != 0;
  const bool deep_file = !scan.multipart && (version & kNonImageFlag) != 0;
  std::vector<RawPart> raws;
  while (true) {
    if (scan.multipart && c.peek_nul()) {  // the empty header that ends the list
      c.skip(1);
      break;
    }
    RawPart raw;
    while (true) {
      const std::string_view name = c.name(max_name, "an attribute name");
      if (name.empty()) break;
      const std::string_view type = c.name(max_name, "an attribute type");
      const std::int32_t size = c.i32("an attribute size");
      if (size < 0 || static_cast<std::size_t>(size) > c.remaining()) {
        if (size >= 0) c.truncated(fmt::format("attribute '{}' of {} bytes", name, size));
        throw DecodeError(fmt::format("the header is damaged: attribute '{}' has size {}", name, size));
      }
      const auto n = static_cast<std::size_t>(size);
      read_attribute(name, type, Cursor(file.subspan(c.pos(), n)), n, raw);
      if (name == "type" && type == "string") raw.type.assign(reinterpret_cast<const char*>(file.data()) + c.pos(), n);
      c.skip(n);
    }
    raws.push_back(std::move(raw));
    if (!scan.multipart) break;
    if (raws.size() > limits.max_frames) {
      throw LimitError(fmt::format("the file has more than {} parts (Limits::max_frames)", limits.max_frames));
    }
  }
  if (raws.empty()) throw DecodeError("the file has no part");
  std::uint64_t chunks = 0;
  for (std::size_t k = 0; k < raws.size(); ++k) {
    scan.parts.push_back(check_part(raws[k], tiled_file, deep_file, k, limits));
    chunks += scan.parts.back().chunks;
  }
  // Every chunk has an 8-byte entry in the offset tables (and a header of
  // its own after them): a file shorter than its tables is truncated.
  const std::uint64_t table_bytes = chunks * 8;
  if (table_bytes > c.remaining()) {
    throw DecodeError(fmt::format("the file is truncated: its offset tables list {} chunks ({} bytes), {} bytes follow the header", chunks,
                                  table_bytes, c.remaining()));
  }
  return scan;
}

}  // namespace imio::exr
