// Restart intervals taken as column bands (see jpeg_restart_columns.hpp).
#include "jpeg_restart_columns.hpp"

#include <algorithm>
#include <cstring>

#include "jpeg_restart.hpp"

namespace imio::libjpeg {
namespace {

unsigned at(std::span<const std::byte> f, std::size_t i) { return std::to_integer<unsigned>(f[i]); }

// The offset of the marker (its 0xFF) that ends the entropy-coded data
// begun at `from`, or nullopt when the data run to the end of the file.
// Stuffed zeros (FF 00) and fill bytes (FF FF…) are data (T.81 §B.1.1.5,
// §B.1.1.2); `from` is after the scan's last RST marker, so the marker
// found is the one after the scan.
std::optional<std::size_t> scan_end(std::span<const std::byte> f, std::size_t from) {
  const std::size_t n = f.size();
  std::size_t pos = from;
  while (pos + 1 < n) {
    const void* ff = std::memchr(f.data() + pos, 0xFF, n - pos - 1);
    if (ff == nullptr) return std::nullopt;
    pos = static_cast<std::size_t>(static_cast<const std::byte*>(ff) - f.data());
    const unsigned m = at(f, pos + 1);
    if (m != 0x00 && m != 0xFF) return pos;
    ++pos;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ColumnEntry> restart_columns(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                           std::size_t scan_start, const std::vector<std::size_t>& restarts,
                                           const PixelBox& box) {
  const std::uint64_t interval = info.restart_interval;  // in MCUs (T.81 §B.2.4.4)
  const std::uint64_t width = info.image_width, height = info.image_height;
  if (interval == 0 || restarts.empty() || info.progressive_mode || info.arith_code ||
      info.comps_in_scan != info.num_components || width == 0 || height == 0 || scan_start > file.size() ||
      box.left >= box.right || box.top >= box.bottom || box.right > width || box.bottom > height) {
    return std::nullopt;
  }
  const McuSize mcu = mcu_size(info);
  if (mcu.width == 0 || mcu.height == 0) return std::nullopt;
  const std::uint64_t per_row = (width + mcu.width - 1) / mcu.width;  // MCUs, the last one maybe partial (§A.2.4)
  if (per_row % interval != 0 || per_row / interval < 2) return std::nullopt;
  const std::uint64_t across = per_row / interval;  // intervals per MCU row
  const std::uint64_t rows = (height + mcu.height - 1) / mcu.height;
  // Interval g covers MCU row g / across, columns g % across: only true when
  // every interval is there in order; a damaged file (a lost or extra
  // marker, one from another place) takes the plain path, where libjpeg
  // resynchronises as usual.
  const RestartMarkers found = check_restart_markers(info, file, restarts);
  if (!found.all_there || !found.in_order) return std::nullopt;

  // The band of intervals from the one holding the MCU column left of the
  // box to the one holding the column right of it; the rows from two iMCU
  // rows above the box to two below (the margins fancy upsampling needs:
  // see the header), cut to the image.
  const std::uint64_t first_col = (box.left >= mcu.width ? box.left - mcu.width : 0) / mcu.width / interval;
  const std::uint64_t last_col = std::min(width - 1, box.right - 1 + mcu.width) / mcu.width / interval;
  if (first_col == 0 && last_col == across - 1) return std::nullopt;  // whole rows: nothing to leave out across
  const std::uint64_t margin = 2 * mcu.imcu_height;
  const std::uint64_t first_row = box.top >= margin ? (box.top - margin) / mcu.height : 0;
  const std::uint64_t end_row = std::min(rows, (box.bottom - 1 + margin) / mcu.height + 1);

  const std::optional<std::size_t> sof = sequential_huffman_sof(info, file, scan_start);
  if (!sof) return std::nullopt;
  // The last interval of the scan ends at EOI; another marker there (DNL, a
  // second frame) or none (a cut file) takes the whole-row path.
  std::size_t data_end = file.size();
  if (end_row == rows && last_col == across - 1) {
    const std::optional<std::size_t> end = scan_end(file, restarts.back());
    if (!end || at(file, *end + 1) != 0xD9) return std::nullopt;
    data_end = *end;
  }
  // Interval g's coded data: from the end of the RST marker before it (or
  // the SOS segment) to the start of the marker after it; fill bytes before
  // that marker stay and are still fill bytes before the new one.
  const auto begin_of = [&](std::uint64_t g) { return g == 0 ? scan_start : restarts[g - 1]; };
  const auto end_of = [&](std::uint64_t g) { return g < restarts.size() ? restarts[g] - 2 : data_end; };

  ColumnEntry e;
  e.left = static_cast<std::uint32_t>(first_col * interval * mcu.width);
  e.top = static_cast<std::uint32_t>(first_row * mcu.height);
  // The band's width counts to the image's right edge when it holds the
  // last, maybe partial, MCU column; its height likewise at the bottom.
  const std::uint64_t sub_width = last_col == across - 1 ? width - e.left : (last_col - first_col + 1) * interval * mcu.width;
  const std::uint64_t sub_height = end_row == rows ? height - e.top : (end_row - first_row) * mcu.height;
  std::size_t size = scan_start + 2;
  for (std::uint64_t r = first_row; r < end_row; ++r) {
    for (std::uint64_t c = first_col; c <= last_col; ++c) size += end_of(r * across + c) - begin_of(r * across + c) + 2;
  }
  std::vector<unsigned char>& s = e.stream;
  s = resized_head(file, scan_start, *sof, sub_width, sub_height);  // SOI … SOS: tables, DRI, APP segments
  s.resize(size);
  std::size_t pos = scan_start;
  unsigned markers = 0;
  bool first = true;
  for (std::uint64_t r = first_row; r < end_row; ++r) {
    for (std::uint64_t c = first_col; c <= last_col; ++c) {
      if (!first) {  // between intervals: RST0, RST1, … (§B.2.1)
        s[pos++] = 0xFF;
        s[pos++] = static_cast<unsigned char>(0xD0 + markers++ % 8);
      }
      first = false;
      const std::size_t b = begin_of(r * across + c), n = end_of(r * across + c) - b;
      if (n > 0) std::memcpy(s.data() + pos, file.data() + b, n);
      pos += n;
    }
  }
  s[pos++] = 0xFF;
  s[pos++] = 0xD9;  // EOI
  s.resize(pos);
  return e;
}

}  // namespace imio::libjpeg
