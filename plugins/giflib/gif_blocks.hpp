// The GIF block structure, walked without LZW decoding: the logical screen,
// the global colour table and, per frame, the extensions before its image
// descriptor. improps counts frames and immeta reads extensions from here,
// so neither ever decodes pixels (DECISIONS D11).
#pragma once

#include <imio/plugin.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imio::giflib {

/// A colour table as stored: `count` RGB entries (2 … 256).
struct ColorTable {
  std::vector<std::uint8_t> rgb;  // 3 * count bytes
  std::size_t count() const noexcept { return rgb.size() / 3; }
  /// Pillow's test for a table it does not need: entry i is (i, i, i) for
  /// every entry (GifImagePlugin._is_palette_needed), which makes the image "L".
  bool is_gray_ramp() const noexcept;
  /// The distinct colours in table order (Pillow's ImagePalette.colors).
  Value distinct_colors() const;
};

/// The DecodeError text for frame `frame`'s LZW minimum code size `bits`
/// above 8 (GIF89a §22 allows 2 to 8; giflib 5.2.1 cannot decode more).
std::string lzw_code_size_error(std::size_t frame, int bits);

/// Logical screen descriptor (GIF89a §18) and the global colour table (§19).
struct Screen {
  std::array<std::uint8_t, 6> version{};
  std::uint16_t width = 0, height = 0;
  std::uint8_t background = 0;
  std::optional<ColorTable> global;
};

/// Everything before and in one image descriptor (GIF89a §20, §23).
struct FrameInfo {
  std::uint16_t left = 0, top = 0, width = 0, height = 0;
  bool interlaced = false;
  std::optional<ColorTable> local;
  bool has_gce = false;
  int disposal = 0;  // GCE bits 2–4
  int delay_cs = 0;  // hundredths of a second
  std::optional<std::uint8_t> transparency;
  std::optional<Bytes> comment;  // several comment extensions joined with '\n' (as Pillow)
  std::optional<int> loop;       // NETSCAPE2.0 / ANIMEXTS1.0 sub-block 1
  /// The first "XMP DataXMP" application extension's data, sub-block length
  /// bytes included: XMP Part 3 §1.1.2 stores the packet unsplit, so the
  /// lengths are its own bytes, and ends it with a 258-byte magic trailer.
  std::optional<Bytes> xmp;
};

/// Walks a GIF from the first byte of the source. Where a frame ends early it
/// follows Pillow's reading: the end of the data between blocks or inside an
/// extension ends the sequence; a cut image descriptor or colour table is a
/// DecodeError; cut image data still count as a frame (decoding it fails).
class BlockWalker {
 public:
  explicit BlockWalker(ByteSource& source);
  const Screen& screen() const noexcept { return screen_; }
  /// The next frame's extensions and descriptor, skipping its image data;
  /// nullopt after the last frame.
  std::optional<FrameInfo> next();
  /// Whether the image data of the last frame next() returned are cut short
  /// (decoding that frame fails: the file is truncated).
  bool data_cut() const noexcept { return data_cut_; }

 private:
  int byte();  // -1 at the end
  std::size_t read(std::uint8_t* dst, std::size_t n);
  bool skip_sub_blocks(Bytes* collect, bool with_lengths = false);  // false when the data end inside
  ColorTable read_table(int bits, const char* what);

  ByteSource& source_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool done_ = false;
  bool data_cut_ = false;
  std::size_t frames_seen_ = 0;
  Screen screen_;
};

/// Parses only the screen (for the signature check and properties).
bool has_gif_signature(std::span<const std::byte> first) noexcept;

}  // namespace imio::giflib
