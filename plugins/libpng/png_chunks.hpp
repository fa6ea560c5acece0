// The PNG chunk layer: walks the chunk list of a PNG/APNG file without
// inflating image data, checks CRCs, and keeps what imio reports (IHDR,
// PLTE, tRNS, the metadata chunks, acTL/fcTL and where IDAT/fdAT lie).
#pragma once

#include <imio/plugin.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace imio::png {

inline constexpr std::array<unsigned char, 8> kSignature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

bool has_signature(std::span<const std::byte> first) noexcept;
/// A file that starts like a PNG whose signature got damaged (PngSuite xs*,
/// xcr*, xlf*): the factory accepts it so that the read fails as a DecodeError.
bool looks_like_damaged_png(std::span<const std::byte> first) noexcept;

std::uint32_t crc(std::uint32_t type, std::span<const std::byte> data) noexcept;
std::uint32_t be32(const std::byte* p) noexcept;
std::uint16_t be16(const std::byte* p) noexcept;
void put_be32(std::byte* p, std::uint32_t v) noexcept;
/// Appends one chunk (length, type, data, CRC) to `out`.
void append_chunk(Bytes& out, std::uint32_t type, std::span<const std::byte> data);
void put_be16(std::byte* p, std::uint16_t v) noexcept;
constexpr std::uint32_t tag(const char (&s)[5]) {
  return (std::uint32_t(std::uint8_t(s[0])) << 24) | (std::uint32_t(std::uint8_t(s[1])) << 16) |
         (std::uint32_t(std::uint8_t(s[2])) << 8) | std::uint32_t(std::uint8_t(s[3]));
}

struct Header {  // IHDR
  std::uint32_t width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
};

/// Where one chunk's data lie in the file.
struct ChunkRef {
  std::uint64_t offset = 0;  ///< of the data (after length and type)
  std::uint32_t length = 0;
};

/// fcTL (APNG 1.0 §fcTL), with the image data chunks that follow it.
struct FrameControl {
  std::uint32_t sequence = 0, width = 0, height = 0, x = 0, y = 0;
  std::uint16_t delay_num = 0, delay_den = 0;
  std::uint8_t dispose_op = 0, blend_op = 0;
  bool uses_idat = false;           ///< this frame's data are the IDAT chunks
  std::vector<ChunkRef> data;       ///< fdAT chunks (sequence number included)
  double duration_ms() const { return double(delay_num) / double(delay_den == 0 ? 100 : delay_den) * 1000.0; }
};

/// Everything read from the chunk list.
struct Chunks {
  Header ihdr;
  std::vector<std::array<std::uint8_t, 3>> palette;  // PLTE
  std::optional<Bytes> trns;
  std::vector<ChunkRef> idat;
  /// Chunks before the first IDAT that a frame stream must repeat (PLTE).
  std::vector<std::pair<std::uint32_t, Bytes>> frame_chunks;
  Metadata info;            ///< Pillow's info keys, in file order
  std::optional<double> gamma;
  std::optional<Bytes> exif;  ///< eXIf data (TIFF structure), wherever it is
  // APNG
  bool animated = false;  ///< acTL before IDAT
  std::uint32_t num_frames = 0, num_plays = 0;
  std::vector<FrameControl> frames;
  bool hidden_default = false;  ///< IDAT is not the first animation frame
  bool truncated = false;       ///< the file ends inside the image data

  /// Pillow's frame count: acTL frames, plus the default image when hidden.
  std::size_t n_images() const { return animated ? frames.size() + (hidden_default ? 1 : 0) : 1; }
};

/// Walks every chunk from the signature to IEND (image data are skipped,
/// not inflated). Throws DecodeError on a bad signature, a bad CRC of any
/// chunk read, a chunk running past the end, a missing IHDR/IDAT or an
/// invalid IHDR/fcTL, or an APNG frame sequence error (APNG 1.0 §4).
/// A chunk larger than `max_bytes` is a LimitError; chunk data are read as
/// they arrive, never allocated ahead from the length field. An invalid acTL
/// (a second one, 0 or more than 2^31 frames) leaves a plain PNG, with a
/// warning, as Pillow does.
Chunks scan(ByteSource& source, std::uint64_t max_bytes);

}  // namespace imio::png
